//! The async aggregator: every source at once, and inside Hacker News every story at
//! once, with reqwest on tokio.
//!
//! Each source is one future that cannot fail: its errors end up in its
//! [`SourceReport`], so a source that is down costs the others nothing (graceful
//! degradation). `join_all` waits for all of them; the aggregation takes as long as
//! the slowest source, and Hacker News's two phases add up inside that source: the
//! top-stories list, then the slowest of its stories.
//!
//! One client serves every source, so its pool of connections is shared: a source's
//! request takes a connection some earlier request left idle, or opens one. On fanout's
//! mock API every source lives on one host, so at the start the three lists open three
//! connections, and Hacker News's ten stories, all asked at once, find at most the few
//! left idle by then and open the rest. Over an internet-like link each of those costs
//! the handshakes' round trips ([`crate::news::model`] counts them).

use std::time::{Duration, Instant};

use futures::future::join_all;
use governor::DefaultDirectRateLimiter;

use super::log::RequestLog;
use super::wire::{GuardianAnswer, HackerNewsItem, NewsApiAnswer, parse, stories};
use super::{Article, Digest, Shape, Source, SourceError, SourceReport};
use crate::server::tls::CaCertificate;
use crate::strategy::HttpVersion;
use crate::strategy::trust;

/// Fetches news sources concurrently with one shared reqwest client.
#[derive(Debug, Clone)]
pub struct Aggregator {
    client: reqwest::Client,
    timeout: Duration,
    log: Option<RequestLog>,
}

impl Aggregator {
    /// One client for every source; each request gives up after `timeout`.
    pub fn new(timeout: Duration) -> Result<Aggregator, reqwest::Error> {
        // reqwest needs a rustls provider to build any client (see `strategy::trust`).
        trust::install_crypto_provider();
        let client = reqwest::Client::builder().no_proxy().build()?;
        Ok(Aggregator::with_client(client, timeout))
    }

    /// The aggregator for sources on fanout's mock API: HTTP/1.1 only, as the chapter's
    /// aiohttp speaks, and when the mock API serves HTTPS, trusting exactly its `ca`
    /// and nothing else (`None` over plain HTTP).
    pub fn on_mock(
        timeout: Duration,
        ca: Option<&CaCertificate>,
    ) -> Result<Aggregator, reqwest::Error> {
        let client = trust::reqwest_builder(HttpVersion::Http1, ca).build()?;
        Ok(Aggregator::with_client(client, timeout))
    }

    fn with_client(client: reqwest::Client, timeout: Duration) -> Aggregator {
        Aggregator {
            client,
            timeout,
            log: None,
        }
    }

    /// Records every request in `log` (for measured runs).
    pub fn with_log(mut self, log: RequestLog) -> Aggregator {
        self.log = Some(log);
        self
    }

    // ANCHOR: aggregate
    /// Every source at once; the digest holds one report per source, failed or not.
    pub async fn aggregate(&self, sources: &[Source]) -> Digest {
        let started = Instant::now();
        let reports = join_all(sources.iter().map(|s| self.source(s, started))).await;
        Digest {
            reports,
            elapsed: started.elapsed(),
        }
    }
    // ANCHOR_END: aggregate

    // ANCHOR: source
    /// One source, its failure kept inside its report.
    async fn source(&self, source: &Source, started: Instant) -> SourceReport {
        let limiter = source.rate_limiter();
        let limiter = limiter.as_ref();
        let (result, requests) = match source.shape {
            Shape::NewsApi => {
                let answer = self.get_json::<NewsApiAnswer>(source.list_url(), limiter);
                (answer.await.map(|a| a.into_articles(&source.name)), 1)
            }
            Shape::Guardian => {
                let answer = self.get_json::<GuardianAnswer>(source.list_url(), limiter);
                (answer.await.map(|a| a.into_articles(&source.name)), 1)
            }
            Shape::HackerNews => self.hacker_news(source, limiter).await,
        };
        SourceReport::new(source, result, requests, started)
    }
    // ANCHOR_END: source

    // ANCHOR: hacker_news
    /// Two phases: the top story ids, then the first `stories` items, all at once.
    /// A story that fails is left out; the source fails only if its list does, or
    /// every story does.
    async fn hacker_news(
        &self,
        source: &Source,
        limiter: Option<&DefaultDirectRateLimiter>,
    ) -> (Result<Vec<Article>, SourceError>, usize) {
        let ids = match self.get_json::<Vec<u64>>(source.list_url(), limiter).await {
            Ok(ids) => ids,
            Err(error) => return (Err(error), 1),
        };
        let wanted = &ids[..ids.len().min(source.stories)];
        let items = wanted
            .iter()
            .map(|&id| self.get_json::<HackerNewsItem>(source.item_url(id), limiter));
        let items = join_all(items).await;
        let requests = 1 + items.len();
        (stories(items, &source.name), requests)
    }
    // ANCHOR_END: hacker_news

    /// One GET, bounded by the timeout, its body parsed as `T`.
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: String,
        limiter: Option<&DefaultDirectRateLimiter>,
    ) -> Result<T, SourceError> {
        if let Some(limiter) = limiter {
            limiter.until_ready().await;
        }
        let started = self.log.as_ref().map(RequestLog::now);
        let answer = tokio::time::timeout(self.timeout, self.exchange(&url)).await;
        let answer = answer.unwrap_or(Err(SourceError::Timeout(self.timeout)));
        if let (Some(log), Some(started)) = (&self.log, started) {
            log.record(&url, started, &answer);
        }
        parse(&answer?)
    }

    async fn exchange(&self, url: &str) -> Result<Vec<u8>, SourceError> {
        let connection = |e: reqwest::Error| SourceError::Connection(e.to_string());
        let response = self.client.get(url).send().await.map_err(connection)?;
        let status = response.status();
        if !status.is_success() {
            return Err(SourceError::Status(status.as_u16()));
        }
        Ok(response.bytes().await.map_err(connection)?.to_vec())
    }
}
