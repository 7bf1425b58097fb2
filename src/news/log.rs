//! Every request an aggregator makes, as [`Sample`]s on one clock: what turns an
//! aggregation into measurements like any strategy's. The aggregators ([`super::fetch`],
//! [`super::blocking`]) record into a log when given one; [`super::trial`] reads it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::SourceError;
use crate::measure::{Measurements, Outcome, Sample};
use crate::server::profile::Profile;

/// Every request an aggregator makes, as [`Sample`]s on one clock.
#[derive(Debug, Clone)]
pub struct RequestLog {
    inner: Arc<LogInner>,
}

#[derive(Debug)]
struct LogInner {
    started: Instant,
    started_unix_us: u64,
    profile: Profile,
    samples: Mutex<Vec<Sample>>,
}

impl RequestLog {
    /// A log that names endpoints by `profile`'s routes; its clock starts now.
    pub fn new(profile: Profile) -> RequestLog {
        let started_unix_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        RequestLog {
            inner: Arc::new(LogInner {
                started: Instant::now(),
                started_unix_us,
                profile,
                samples: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Time on the log's clock.
    pub fn now(&self) -> Duration {
        self.inner.started.elapsed()
    }

    /// Records one request to `url` that began at `start` and ended now.
    pub fn record(&self, url: &str, start: Duration, answer: &Result<Vec<u8>, SourceError>) {
        let end = self.now();
        let endpoint = self.inner.profile.route("GET", path_of(url)).unwrap_or(0) as u16;
        let (outcome, status, bytes) = match answer {
            Ok(body) => (Outcome::Ok, Some(200), body.len() as u64),
            Err(SourceError::Status(status)) => (Outcome::from_status(*status), Some(*status), 0),
            Err(SourceError::Timeout(_)) => (Outcome::Timeout, None, 0),
            Err(SourceError::Connection(_) | SourceError::Json(_)) => (Outcome::Dropped, None, 0),
        };
        let mut samples = self.inner.samples.lock().unwrap_or_else(|p| p.into_inner());
        let seq = samples.len() as u64;
        samples.push(Sample {
            seq,
            endpoint,
            start,
            end,
            outcome,
            status,
            bytes,
            attempts: 1,
            intended: None,
            copies: 0,
        });
    }

    /// The samples so far, as measurements.
    pub fn measurements(&self) -> Measurements {
        let samples = self
            .inner
            .samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
        Measurements::new(samples, wall, self.inner.started_unix_us)
    }
}

/// The path of an absolute URL, without its query.
fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("/", |i| &after_scheme[i..]);
    path.split('?').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::path_of;

    #[test]
    fn paths_come_out_of_urls() {
        assert_eq!(path_of("http://127.0.0.1:9/a/v2/top?apiKey=x"), "/a/v2/top");
        assert_eq!(path_of("http://127.0.0.1:9"), "/");
    }
}
