//! The sync aggregator: the same sources with ureq, one request after another.
//!
//! It is the program the async version replaces: the sources are asked in turn, and
//! Hacker News's stories one by one, so the time is the sum of every wait. Kept beside
//! [`super::fetch`] so the two can be timed on the same mock API.
//!
//! Its one agent keeps the connection it opened: the first request pays the set-up (a
//! TCP handshake and, over HTTPS, a TLS one) and every later request reuses it, as a
//! `requests.Session` would. A script calling `requests.get` each time would pay the
//! set-up on every call instead.

use std::time::{Duration, Instant};

use governor::DefaultDirectRateLimiter;
use governor::clock::{Clock, DefaultClock};

use super::log::RequestLog;
use super::wire::{GuardianAnswer, HackerNewsItem, NewsApiAnswer, parse, stories};
use super::{Article, Digest, Shape, Source, SourceError, SourceReport};
use crate::server::tls::CaCertificate;
use crate::strategy::trust;

/// Fetches news sources one request at a time with one ureq agent.
#[derive(Debug, Clone)]
pub struct BlockingAggregator {
    agent: ureq::Agent,
    timeout: Duration,
    log: Option<RequestLog>,
}

impl BlockingAggregator {
    /// One agent for every source; each request gives up after `timeout`.
    pub fn new(timeout: Duration) -> BlockingAggregator {
        BlockingAggregator::with_tls(timeout, ureq::tls::TlsConfig::default())
    }

    /// The aggregator for sources on fanout's mock API: when it serves HTTPS, trusting
    /// exactly its `ca` and nothing else (`None` over plain HTTP).
    pub fn on_mock(timeout: Duration, ca: Option<&CaCertificate>) -> BlockingAggregator {
        BlockingAggregator::with_tls(timeout, trust::ureq_tls(ca))
    }

    fn with_tls(timeout: Duration, tls: ureq::tls::TlsConfig) -> BlockingAggregator {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(timeout))
            .tls_config(tls)
            .build()
            .into();
        BlockingAggregator {
            agent,
            timeout,
            log: None,
        }
    }

    /// Records every request in `log` (for measured runs).
    pub fn with_log(mut self, log: RequestLog) -> BlockingAggregator {
        self.log = Some(log);
        self
    }

    // ANCHOR: aggregate_blocking
    /// Every source in turn.
    pub fn aggregate(&self, sources: &[Source]) -> Digest {
        let started = Instant::now();
        let reports = sources.iter().map(|s| self.source(s, started)).collect();
        Digest {
            reports,
            elapsed: started.elapsed(),
        }
    }
    // ANCHOR_END: aggregate_blocking

    fn source(&self, source: &Source, started: Instant) -> SourceReport {
        let limiter = source.rate_limiter();
        let limiter = limiter.as_ref();
        let (result, requests) = match source.shape {
            Shape::NewsApi => (
                self.get_json::<NewsApiAnswer>(&source.list_url(), limiter)
                    .map(|a| a.into_articles(&source.name)),
                1,
            ),
            Shape::Guardian => (
                self.get_json::<GuardianAnswer>(&source.list_url(), limiter)
                    .map(|a| a.into_articles(&source.name)),
                1,
            ),
            Shape::HackerNews => self.hacker_news(source, limiter),
        };
        SourceReport::new(source, result, requests, started)
    }

    fn hacker_news(
        &self,
        source: &Source,
        limiter: Option<&DefaultDirectRateLimiter>,
    ) -> (Result<Vec<Article>, SourceError>, usize) {
        let ids = match self.get_json::<Vec<u64>>(&source.list_url(), limiter) {
            Ok(ids) => ids,
            Err(error) => return (Err(error), 1),
        };
        let wanted = &ids[..ids.len().min(source.stories)];
        let items: Vec<_> = wanted
            .iter()
            .map(|&id| self.get_json::<HackerNewsItem>(&source.item_url(id), limiter))
            .collect();
        let requests = 1 + items.len();
        (stories(items, &source.name), requests)
    }

    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        limiter: Option<&DefaultDirectRateLimiter>,
    ) -> Result<T, SourceError> {
        if let Some(limiter) = limiter {
            while let Err(not_until) = limiter.check() {
                std::thread::sleep(not_until.wait_time_from(DefaultClock::default().now()));
            }
        }
        let started = self.log.as_ref().map(RequestLog::now);
        let answer = self.exchange(url);
        if let (Some(log), Some(started)) = (&self.log, started) {
            log.record(url, started, &answer);
        }
        parse(&answer?)
    }

    fn exchange(&self, url: &str) -> Result<Vec<u8>, SourceError> {
        let mut response = self.agent.get(url).call().map_err(|e| match e {
            ureq::Error::Timeout(_) => SourceError::Timeout(self.timeout),
            other => SourceError::Connection(other.to_string()),
        })?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(SourceError::Status(status));
        }
        response
            .body_mut()
            .read_to_vec()
            .map_err(|e| SourceError::Connection(e.to_string()))
    }
}
