//! How the client behaves, whatever the strategy: the strategies' one input besides
//! the requests themselves. A [`crate::Scenario`] holds one; each strategy reads only
//! the knobs it uses (see [`super::Strategy::limit`] and its siblings).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::trust::TrustedCa;
use super::{ClientReuse, HttpVersion};

/// How the client behaves, across strategies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientOptions {
    /// Requests in flight at once for `async-semaphore`, `async-buffered`, `async-failfast`.
    pub limit: usize,
    /// Worker threads for `sync-threads`.
    pub threads: usize,
    /// One client for every call, or a new one per call.
    pub reuse: ClientReuse,
    /// HTTP/1.1, or HTTP/2 with prior knowledge (async strategies only).
    pub http: HttpVersion,
    /// Worker threads of the client's tokio runtime (async strategies).
    pub runtime_workers: usize,
    /// Give up on one request after this long (`None`: the client's own default,
    /// which for both ureq and reqwest is to wait as long as it takes).
    pub timeout: Option<Duration>,
    /// Requests per second, for `async-ratelimited` and `async-naive-ratelimited`.
    pub rate: f64,
    /// The open loop's ramp up to its rate (`--ramp`), for `async-arrival-rate`; without
    /// one it starts at `rate` at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp: Option<super::arrival::Ramp>,
    /// The most requests `async-arrival-rate` keeps in flight (`--max-in-flight`).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Client-side work before each request, for the sleep pitfalls; for
    /// `async-pipeline`, each consumer's work per body.
    pub work: Duration,
    /// Retries after a retryable failure (timeouts, connection errors, 429, 5xx).
    pub retries: u32,
    /// The first retry's wait; each later one doubles, plus jitter.
    pub backoff: Duration,
    /// The window the sliding-window limiter counts in (1 s unless a time-scaled claim
    /// shrinks it with its delays): it admits `rate × window` calls per window.
    pub rate_window: Duration,
    /// Every attempt, whatever the strategy, waits its turn at this many per second
    /// (set for runs against a `--target` server; `None` otherwise).
    pub pace: Option<f64>,
    /// Copies of each request `async-first-of` sends at once (`--replicas`).
    #[serde(default = "default_replicas")]
    pub replicas: usize,
    /// When `async-hedged` sends its second copy (`--hedge-after`).
    #[serde(default = "default_hedge_after")]
    pub hedge_after: super::replicas::HedgeAfter,
    /// The channel between `async-pipeline`'s fetchers and consumers (`--channel`).
    #[serde(default)]
    pub channel: super::backpressure::Channel,
    /// `async-pipeline`'s consumers (`--consumers`); each spends `work` per body.
    #[serde(default = "default_consumers")]
    pub consumers: usize,
    /// When the run stops early (`--stop-after`, Ctrl-C) and the grace it then gives
    /// the requests in flight (`--grace`).
    #[serde(default)]
    pub stop: super::stop::StopPolicy,
    /// The certificate the clients trust: the mock API's CA when it serves TLS, set
    /// where a run meets its server ([`crate::run::run_on`]) from
    /// [`crate::MockApi::ca_certificate`]. Not part of a scenario's JSON: each server
    /// makes its own.
    #[serde(skip)]
    pub trusted_ca: TrustedCa,
}

fn default_replicas() -> usize {
    2
}

fn default_hedge_after() -> super::replicas::HedgeAfter {
    super::replicas::HedgeAfter::DEFAULT
}

fn default_consumers() -> usize {
    1
}

fn default_max_in_flight() -> usize {
    super::arrival::DEFAULT_MAX_IN_FLIGHT
}

impl ClientOptions {
    /// The open loop's schedule: `--ramp` when given, else a constant `--rate`.
    pub fn arrivals(&self) -> super::arrival::ArrivalSchedule {
        super::arrival::ArrivalSchedule::new(self.rate, self.ramp)
    }

    /// Requests per second of the rate-limited strategies when `--rate` is not given.
    pub const DEFAULT_RATE: f64 = 10.0;
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            limit: 10,
            threads: 10,
            reuse: ClientReuse::Shared,
            http: HttpVersion::Http1,
            runtime_workers: 2,
            timeout: None,
            rate: ClientOptions::DEFAULT_RATE,
            ramp: None,
            max_in_flight: super::arrival::DEFAULT_MAX_IN_FLIGHT,
            rate_window: Duration::from_secs(1),
            retries: 0,
            backoff: Duration::from_millis(100),
            work: Duration::from_millis(100),
            pace: None,
            replicas: default_replicas(),
            hedge_after: default_hedge_after(),
            channel: super::backpressure::Channel::default(),
            consumers: default_consumers(),
            stop: super::stop::StopPolicy::default(),
            trusted_ca: None,
        }
    }
}
