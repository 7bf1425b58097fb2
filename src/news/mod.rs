//! The news aggregator of chapter 7: three kinds of news API fetched at once, their
//! answers turned into one [`Article`] type, stored in SQLite without duplicates.
//!
//! The sources are shaped like the real ones (field names and all): NewsAPI's
//! `/v2/top-headlines`, The Guardian's `/search`, and Hacker News, which takes two
//! phases: the list of top story ids, then each story item, fetched concurrently. A
//! [`Source`] names its base URL, so the same code runs against the embedded mock API
//! ([`mock`]) or, pointed elsewhere, the real services.
//!
//! - [`fetch`]: the async aggregator (reqwest): every source at once, each source's
//!   failure kept to itself (graceful degradation), a rate limit per source.
//! - [`blocking`]: the same aggregator with ureq, one request after another, for the
//!   time it takes next to the async one.
//! - [`store`]: the SQLite store (rusqlite) behind `spawn_blocking`; writes are serial.
//! - [`log`]: every request an aggregator makes, as samples, when it is measured.
//! - [`trial`]: the aggregator as a claims trial, measured like any other run.
//! - [`model`]: what an aggregation should take, round trips and connections included.
//!
//! API keys never reach a screen: an [`ApiKey`] prints as `REDACTED`, and URLs are
//! shown through [`crate::redact`]. Nor does a real key reach the mock API: a source on
//! the mock sends [`ApiKey::placeholder`], and [`ApiKey::from_env`] is for the real
//! services only.

pub mod blocking;
pub mod fetch;
pub mod log;
pub mod mock;
pub mod model;
pub mod store;
pub mod trial;
mod wire;

use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;

/// One article, whichever API it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Article {
    /// The source's name (`newsapi`, `guardian`, `hackernews`, …).
    pub source: String,
    /// The headline.
    pub title: String,
    /// Where the article lives; the store ignores a URL it already has.
    pub url: String,
    /// When it was published, as RFC 3339 text, when the API says.
    pub published_at: Option<String>,
}

/// Which API a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// NewsAPI: `GET /v2/top-headlines?country=us&apiKey=…`.
    NewsApi,
    /// The Guardian: `GET /search?api-key=…&page-size=10`.
    Guardian,
    /// Hacker News: `GET /v0/topstories.json`, then `GET /v0/item/{id}.json` per story.
    HackerNews,
}

/// An API key read from the environment. It prints as `REDACTED`, never as itself.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// The key a source on the mock API sends (it accepts any). A run against the mock
    /// never reads the environment, so a real key in `NEWSAPI_KEY` stays on this
    /// machine's environment and off the wire.
    pub fn placeholder() -> ApiKey {
        ApiKey("mock-key".to_string())
    }

    /// The key in environment variable `var`, for a source on the real service;
    /// `None` when it is unset or empty.
    pub fn from_env(var: &str) -> Option<ApiKey> {
        std::env::var(var)
            .ok()
            .map(|key| key.trim().to_string())
            .filter(|key| !key.is_empty())
            .map(ApiKey)
    }

    /// The key itself, for building a request; never print it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(REDACTED)")
    }
}

/// One news source: what it is called, which API it speaks, where it lives.
#[derive(Debug, Clone)]
pub struct Source {
    /// Its name in reports and in the store.
    pub name: String,
    /// The API it speaks.
    pub shape: Shape,
    /// Scheme, host and any path prefix, without a trailing slash.
    pub base_url: String,
    /// Its API key, for the APIs that want one.
    pub key: Option<ApiKey>,
    /// At most this many requests per second to this source (`None`: no limit).
    pub per_second: Option<u32>,
    /// How many stories to fetch, for Hacker News (the tutorial's 10).
    pub stories: usize,
}

impl Source {
    /// The URL of the source's list of articles (the top story ids, for Hacker News).
    pub fn list_url(&self) -> String {
        let key = self.key.as_ref().map(ApiKey::expose).unwrap_or_default();
        match self.shape {
            Shape::NewsApi => format!("{}/v2/top-headlines?country=us&apiKey={key}", self.base_url),
            Shape::Guardian => format!("{}/search?page-size=10&api-key={key}", self.base_url),
            Shape::HackerNews => format!("{}/v0/topstories.json", self.base_url),
        }
    }

    /// The URL of one Hacker News story.
    pub fn item_url(&self, id: u64) -> String {
        format!("{}/v0/item/{id}.json", self.base_url)
    }

    /// The limiter in front of this source's requests, and no other source's: a GCRA
    /// limiter admitting `per_second` requests a second, in bursts of as many
    /// (`None` without a limit).
    pub fn rate_limiter(&self) -> Option<DefaultDirectRateLimiter> {
        let rate = NonZeroU32::new(self.per_second?)?;
        Some(RateLimiter::direct(Quota::per_second(rate)))
    }
}

/// What one source gave: its articles, or why it gave none.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    /// The source's name.
    pub source: String,
    /// Its articles (empty when it failed).
    pub articles: Vec<Article>,
    /// Why it failed, in one line (`None` when it answered).
    pub error: Option<String>,
    /// Requests it took (1, or 1 + stories for Hacker News).
    pub requests: usize,
    /// From the aggregation's start until this source was done.
    pub done_after: Duration,
}

impl SourceReport {
    /// The report of a source that ended with `result` after `requests` requests.
    pub fn new(
        source: &Source,
        result: Result<Vec<Article>, SourceError>,
        requests: usize,
        started: std::time::Instant,
    ) -> SourceReport {
        let (articles, error) = match result {
            Ok(articles) => (articles, None),
            Err(error) => (Vec::new(), Some(error.to_string())),
        };
        SourceReport {
            source: source.name.clone(),
            articles,
            error,
            requests,
            done_after: started.elapsed(),
        }
    }
}

/// The aggregation's result: every source's report, in the order they were given.
#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    /// One report per source.
    pub reports: Vec<SourceReport>,
    /// Wall time of the whole aggregation.
    pub elapsed: Duration,
}

impl Digest {
    /// Every article from the sources that answered.
    pub fn articles(&self) -> Vec<Article> {
        self.reports
            .iter()
            .flat_map(|r| r.articles.iter().cloned())
            .collect()
    }

    /// The names of the sources that failed, with why.
    pub fn failures(&self) -> Vec<(&str, &str)> {
        self.reports
            .iter()
            .filter_map(|r| Some((r.source.as_str(), r.error.as_deref()?)))
            .collect()
    }
}

/// Why one request to a source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// An answer with a status that is not success.
    #[error("HTTP {0}")]
    Status(u16),
    /// The body is not the JSON this API sends.
    #[error("unexpected JSON: {0}")]
    Json(String),
    /// The connection failed or broke.
    #[error("connection: {0}")]
    Connection(String),
}

/// Unix seconds (Hacker News's `time`) as RFC 3339 text in UTC.
pub fn unix_to_rfc3339(seconds: i64) -> String {
    // Days to civil date: Howard Hinnant's algorithm, exact for the proleptic Gregorian
    // calendar, so no date crate is needed for one conversion.
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_seconds_become_dates() {
        assert_eq!(unix_to_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(unix_to_rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(unix_to_rfc3339(1_795_320_000), "2026-11-22T04:00:00Z");
    }

    #[test]
    fn keys_never_print() {
        let key = ApiKey("s3cret".to_string());
        assert_eq!(format!("{key:?}"), "ApiKey(REDACTED)");
        let source = Source {
            name: "newsapi".to_string(),
            shape: Shape::NewsApi,
            base_url: "http://127.0.0.1:1".to_string(),
            key: Some(key),
            per_second: None,
            stories: 10,
        };
        assert!(!format!("{source:?}").contains("s3cret"));
        assert!(!crate::redact::url(&source.list_url()).contains("s3cret"));
    }

    #[test]
    fn an_unset_key_is_none() {
        assert_eq!(ApiKey::from_env("FANOUT_TEST_SURELY_UNSET_KEY"), None);
    }
}
