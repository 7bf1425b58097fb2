//! A [`Scenario`]: everything that defines one run, checked before anything is sent.
//!
//! A scenario names the endpoints (a [`Profile`]), how many requests to make, which
//! [`Strategy`] makes them and with which client options, the seed of the server's
//! delays, and a deadline past which nothing is allowed to keep running.
//!
//! Read next: [`crate::run`], which turns a scenario into measurements.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::server::profile::Profile;
use crate::server::tls::{SessionResumption, TlsVersion};
use crate::server::{Engine, KeepAlive, ServerConfig};
use crate::strategy::request::{PlannedRequest, RequestUrl};
use crate::strategy::{ClientOptions, ClientReuse, HttpVersion, Strategy};

/// The most requests one run may ask for. Every request is planned (its parsed URL),
/// spawned and sampled before the run ends, about 3 KB each at the peak: a million is
/// about 3 GB, within this project's 24 GB machines with room for the server.
pub const MAX_REQUESTS: u64 = 1_000_000;
/// The largest concurrency limit.
pub const MAX_LIMIT: usize = 1_000_000;
/// The slowest and fastest rates (`--rate`, requests per second) a run may ask for:
/// one request every 100 s, and a million a second (a microsecond apart, as fine as the
/// limiters' clocks go).
pub const RATE_RANGE: std::ops::RangeInclusive<f64> = 0.01..=1_000_000.0;
/// The most copies of one request `async-first-of` may send (`--replicas`).
pub const MAX_REPLICAS: usize = 16;
/// The most OS threads (sync pool, runtime workers) a run may ask for.
pub const MAX_THREADS: usize = 4096;

/// Slack added to every computed deadline: room for start-up and a slow machine.
const DEADLINE_SLACK: Duration = Duration::from_secs(30);

/// One run's definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The endpoints; request `seq` goes to endpoint `seq % endpoints.len()`.
    pub profile: Profile,
    /// How many requests.
    pub n: u64,
    /// Which implementation makes them.
    pub strategy: Strategy,
    /// The client's settings.
    pub client: ClientOptions,
    /// Seeds the server's latency draws.
    pub seed: u64,
    /// The whole run ends by then; unfinished requests count as cancelled. `None`
    /// picks a generous bound from the profile's slowest delay (see [`Scenario::deadline`]).
    pub deadline: Option<Duration>,
    /// Worker threads of the mock API's own runtime.
    pub server_workers: usize,
    /// The HTTP server behind the mock API.
    pub engine: Engine,
    /// A server the user owns, named with `--target`: every request goes to this URL,
    /// as given, instead of to the mock API.
    pub target: Option<String>,
    /// The mock API serves HTTPS offering only this TLS version (`--tls`); `None`:
    /// plain HTTP. Left out of the JSON when off, so plain runs read as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsVersion>,
    /// Whether the mock API lets a client resume a TLS session (`--tls-resumption`).
    #[serde(default, skip_serializing_if = "SessionResumption::is_on")]
    pub tls_resumption: SessionResumption,
    /// Whether the mock API keeps an HTTP/1.1 connection open after an answer
    /// (`--server-keep-alive`); off, every request opens a connection.
    #[serde(default, skip_serializing_if = "KeepAlive::is_on")]
    pub server_keep_alive: KeepAlive,
}

impl Scenario {
    /// A scenario with default client options and no explicit deadline.
    pub fn new(profile: Profile, n: u64, strategy: Strategy) -> Scenario {
        Scenario {
            profile,
            n,
            strategy,
            client: ClientOptions::default(),
            seed: 1,
            deadline: None,
            server_workers: 2,
            engine: Engine::Fanout,
            target: None,
            tls: None,
            tls_resumption: SessionResumption::On,
            server_keep_alive: KeepAlive::On,
        }
    }

    /// Refuses scenarios that cannot run, naming the value at fault.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |why: &str| Err(Error::InvalidScenario(why.to_string()));
        if self.n == 0 {
            return bad("the request count (-n) must be at least 1");
        }
        if self.n > MAX_REQUESTS {
            return Err(Error::InvalidScenario(format!(
                "the request count (-n) must be at most {MAX_REQUESTS}"
            )));
        }
        if self.client.limit > MAX_LIMIT
            || self.client.threads > MAX_THREADS
            || self.client.runtime_workers > MAX_THREADS
            || self.server_workers > MAX_THREADS
        {
            return Err(Error::InvalidScenario(format!(
                "--limit may be at most {MAX_LIMIT}, --threads, --workers and --server-workers at most {MAX_THREADS}"
            )));
        }
        if self.client.limit == 0 {
            return bad("--limit must be at least 1");
        }
        if self.client.threads == 0 {
            return bad("--threads must be at least 1");
        }
        if self.client.runtime_workers == 0 {
            return bad("--workers must be at least 1");
        }
        if self.strategy.is_sync() && self.client.http == HttpVersion::Http2 {
            return bad(if self.tls.is_some() {
                "HTTP/2 (--http 2) needs an async strategy: ureq speaks HTTP/1.1 only, over TLS too (it offers no h2 by ALPN)"
            } else {
                "HTTP/2 (--http 2) needs an async strategy: ureq speaks HTTP/1.1 only"
            });
        }
        if self.strategy == Strategy::AsyncHyper && self.client.http == HttpVersion::Http2 {
            return bad(
                "async-hyper speaks HTTP/1.1 only (hyper's http1 connections, one per worker): use --http 1, or async-semaphore for HTTP/2",
            );
        }
        let rates = [Some(self.client.rate), self.client.pace];
        if rates
            .into_iter()
            .flatten()
            .any(|r| !RATE_RANGE.contains(&r))
        {
            return Err(Error::InvalidScenario(format!(
                "--rate must be between {} and {} requests per second",
                RATE_RANGE.start(),
                RATE_RANGE.end()
            )));
        }
        if self.strategy == Strategy::AsyncArrivalRate {
            self.client
                .arrivals()
                .check_attainable(self.client.max_in_flight, self.mean_delay())
                .map_err(Error::InvalidScenario)?;
        }
        if self.client.rate_window.is_zero() {
            return bad("the rate window must be above zero");
        }
        if self.server_workers == 0 {
            return bad("--server-workers must be at least 1");
        }
        if self.deadline.is_some_and(|d| d.is_zero()) {
            return bad("--deadline must be above zero");
        }
        if let (Some(stall), Some(deadline)) = (self.profile.stall, self.deadline)
            && stall.start() >= deadline
        {
            return Err(Error::InvalidScenario(format!(
                "--stall {} starts at or past the --deadline of {}: nothing would meet it",
                stall.describe(),
                crate::duration::steady(deadline)
            )));
        }
        // The profile, the engine and the TLS the mock API is asked for, as the server
        // itself checks them.
        self.server_config().validate()?;
        if self.tls.is_some() && self.target.is_some() {
            return bad("--tls sets up the mock API's TLS; a --target server is not the mock API");
        }
        if self.server_keep_alive == KeepAlive::Off && self.target.is_some() {
            return bad(
                "--server-keep-alive sets the mock API's keep-alive; a --target server is not the mock API",
            );
        }
        // One URL per endpoint, parsed as the clients will parse every one of them.
        let plan = RequestPlan::new(self, URL_CHECK_BASE)?;
        let first_of_each = self.n.min(self.profile.endpoints.len() as u64);
        (0..first_of_each).try_for_each(|seq| plan.request(seq).map(|_| ()))
    }

    /// The mock API this scenario runs against: its endpoints, seed, server workers,
    /// engine, TLS and keep-alive. Every server a run starts (its own, the calibration
    /// probes', a peer's, the news trial's) is built from this, so they all use the
    /// run's engine.
    pub fn server_config(&self) -> ServerConfig {
        ServerConfig {
            workers: self.server_workers,
            engine: self.engine,
            tls: self.tls,
            tls_resumption: self.tls_resumption,
            keep_alive: self.server_keep_alive,
            ..ServerConfig::new(self.profile.clone(), self.seed)
        }
    }

    /// The slowest one request can take with no queueing: the profile's slowest delay
    /// (generously), plus the emulated network's cost for its body and the TLS
    /// handshake's round trips.
    pub fn slowest_request(&self) -> Duration {
        let network = &self.profile.network;
        let tls_round_trips = self.tls.map_or(0, |tls| tls.handshake_round_trips());
        self.profile
            .endpoints
            .iter()
            .map(|e| {
                e.latency.generous_max()
                    + network.generous_request_cost(e.body_bytes)
                    + network.rtt * tls_round_trips
            })
            .max()
            .unwrap_or_default()
    }

    /// The run's deadline: the one given, or twice the time the slowest possible delays
    /// (with what the network may add to each request) would take at this strategy's
    /// concurrency, plus 30 s of slack.
    pub fn deadline(&self) -> Duration {
        self.deadline.unwrap_or_else(|| {
            let slowest = self.slowest_request();
            let waves = self.n.div_ceil(self.concurrency() as u64);
            let waves = u32::try_from(waves).unwrap_or(u32::MAX);
            // Each request may wait for every retry, with the jitter at its largest.
            let backoff = (0..self.client.retries.min(20))
                .map(|k| self.client.backoff.saturating_mul(2 << k))
                .fold(Duration::ZERO, Duration::saturating_add);
            let per_wave = (slowest * 2)
                .saturating_mul(self.client.retries.saturating_add(1))
                .saturating_add(backoff);
            let mut allowed = per_wave.saturating_mul(waves);
            let n = u32::try_from(self.n).unwrap_or(u32::MAX);
            if let Some(pace) = self.client.pace {
                let pacing = Duration::try_from_secs_f64(2.0 * self.n as f64 / pace)
                    .unwrap_or(Duration::MAX);
                allowed = allowed.saturating_add(pacing);
            }
            if self.strategy == Strategy::AsyncArrivalRate {
                // The schedule's own span (a ramp's is longer than n / rate), twice.
                let span = self.client.arrivals().span(self.n);
                allowed = allowed.saturating_add(span.saturating_mul(2));
            } else if let Some(rate) = self.strategy.rate(&self.client) {
                let pacing = Duration::try_from_secs_f64(2.0 * self.n as f64 / rate)
                    .unwrap_or(Duration::MAX);
                allowed = allowed.saturating_add(pacing);
            }
            if let Some(work) = self.strategy.work(&self.client) {
                allowed = allowed.saturating_add(work.saturating_mul(n));
            }
            if let Some(stall) = self.profile.stall {
                // Every request may be held until the stall ends.
                allowed = allowed.saturating_add(stall.end());
            }
            allowed.saturating_add(DEADLINE_SLACK)
        })
    }

    /// The mean of the delays the server will give (of the first 10,000 requests, for
    /// a larger run): what an open loop's answers take on average, before overheads.
    pub fn mean_delay(&self) -> Duration {
        let count = self.n.min(10_000);
        let total: Duration = (0..count).map(|seq| self.delay(seq)).sum();
        total / u32::try_from(count.max(1)).unwrap_or(1)
    }

    /// The delay the server will give request `seq`: its endpoint's seeded draw (a
    /// run sends request `seq` to endpoint `seq % endpoints`).
    pub fn delay(&self, seq: u64) -> Duration {
        self.copy_delay(seq, 0)
    }

    /// The delay the server will give copy `copy` of request `seq` (a hedge, a
    /// replica; copy 0 is the request itself): a draw of its own
    /// ([`crate::server::latency::copy_seed`]).
    pub fn copy_delay(&self, seq: u64, copy: u32) -> Duration {
        let endpoints = &self.profile.endpoints;
        let index = (seq % endpoints.len() as u64) as usize;
        let seed = crate::server::latency::copy_seed(self.seed, copy);
        endpoints[index].latency.draw(seed, index, seq)
    }

    /// The most requests this scenario's strategy keeps in flight at once.
    pub fn concurrency(&self) -> usize {
        let n = usize::try_from(self.n).unwrap_or(usize::MAX);
        self.strategy.concurrency(n, &self.client).max(1)
    }

    /// True when the requests cross the mock API's emulated network: not loopback, and
    /// not a `--target`, whose network fanout does not know.
    pub fn emulates_network(&self) -> bool {
        self.target.is_none() && !self.profile.network.is_loopback()
    }

    /// True when every request shares one TCP connection: HTTP/2 over one shared
    /// client, its requests streams of that connection. Otherwise each request in
    /// flight holds a connection of its own (HTTP/1.1 sends one request at a time per
    /// connection, and a client per request opens its own). The one place that says so:
    /// the descriptor check, the model, the calibration and the summary all ask here.
    pub fn shares_one_connection(&self) -> bool {
        self.client.http == HttpVersion::Http2 && self.client.reuse == ClientReuse::Shared
    }

    /// True for runs with every request in flight at once, each on a connection of its
    /// own: a fresh connection per request, the runs the connection-rate probe describes.
    pub fn opens_a_connection_per_request(&self) -> bool {
        self.concurrency() as u64 >= self.n && !self.shares_one_connection()
    }

    /// The most TCP connections the client may hold open at once.
    pub fn max_client_connections(&self) -> usize {
        if self.shares_one_connection() {
            1
        } else {
            self.concurrency()
        }
    }

    /// The requests, in submission order, against a server at `base_url`. Requests to
    /// an endpoint marked `refused` go to a port where nothing listens. Refused when a
    /// URL or method cannot be sent (see [`RequestUrl::parse`]); [`Scenario::validate`]
    /// finds that out before anything is sent.
    pub fn requests(&self, base_url: &str) -> Result<Vec<PlannedRequest>, Error> {
        let plan = RequestPlan::new(self, base_url)?;
        (0..self.n).map(|seq| plan.request(seq)).collect()
    }
}

/// What every request of a scenario shares, parsed once: the base URLs, the target,
/// each endpoint's method.
struct RequestPlan<'a> {
    scenario: &'a Scenario,
    base_url: &'a str,
    /// Where requests to a `refused` endpoint go: a port nothing listens on.
    refused_base: Option<String>,
    target: Option<RequestUrl>,
    methods: Vec<http::Method>,
}

impl<'a> RequestPlan<'a> {
    fn new(scenario: &'a Scenario, base_url: &'a str) -> Result<RequestPlan<'a>, Error> {
        let endpoints = &scenario.profile.endpoints;
        let methods = endpoints
            .iter()
            .map(|e| {
                http::Method::from_bytes(e.method.as_bytes()).map_err(|_| {
                    Error::InvalidScenario(format!(
                        "endpoint '{}': '{}' is not an HTTP method",
                        e.name, e.method
                    ))
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let target = scenario
            .target
            .as_deref()
            .map(|url| RequestUrl::parse(url).map_err(|why| invalid_url("--target", why)))
            .transpose()?;
        Ok(RequestPlan {
            scenario,
            base_url,
            refused_base: endpoints
                .iter()
                .any(|e| e.fault.refused)
                .then(closed_port_url),
            target,
            methods,
        })
    }

    /// Request `seq`: its endpoint is `seq % endpoints`.
    fn request(&self, seq: u64) -> Result<PlannedRequest, Error> {
        let endpoints = &self.scenario.profile.endpoints;
        let index = (seq % endpoints.len() as u64) as usize;
        let endpoint = &endpoints[index];
        let base = match (&self.refused_base, endpoint.fault.refused) {
            (Some(closed), true) => closed.as_str(),
            _ => self.base_url,
        };
        let url = match &self.target {
            Some(target) => target.clone(),
            None => {
                let path = endpoint.request_path();
                let text = match &endpoint.query {
                    Some(query) => format!("{base}{path}?{query}&seq={seq}"),
                    None => format!("{base}{path}?seq={seq}"),
                };
                RequestUrl::parse(&text)
                    .map_err(|why| invalid_url(&format!("endpoint '{}'", endpoint.name), why))?
            }
        };
        Ok(PlannedRequest {
            seq,
            endpoint: index as u16,
            method: self.methods[index].clone(),
            url,
            body: matches!(endpoint.method.as_str(), "POST" | "PUT" | "PATCH")
                .then(|| json_body(seq, &endpoint.name)),
        })
    }
}

/// The base URL [`Scenario::validate`] builds the scenario's URLs on to check them.
const URL_CHECK_BASE: &str = "http://127.0.0.1:1";

/// The error for a URL that cannot be sent; `why` already shows it redacted.
fn invalid_url(whose: &str, why: String) -> Error {
    Error::InvalidScenario(format!("{whose}: {why}"))
}

/// The JSON a request that carries a body sends: a small post, numbered.
fn json_body(seq: u64, endpoint: &str) -> String {
    serde_json::json!({
        "seq": seq,
        "title": format!("post {seq} to {endpoint}"),
        "body": "sent by fanout",
        "userId": seq % 10 + 1,
    })
    .to_string()
}

/// `http://127.0.0.1:PORT` for a port that was free a moment ago and has nothing
/// listening: connecting to it is refused.
fn closed_port_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9);
    format!("http://127.0.0.1:{port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(strategy: Strategy) -> Scenario {
        Scenario::new(Profile::single("100ms".parse().unwrap()), 10, strategy)
    }

    #[test]
    fn requests_spread_over_endpoints_and_carry_seq() {
        let requests = scenario(Strategy::AsyncConcurrent)
            .requests("http://127.0.0.1:9")
            .unwrap();
        assert_eq!(requests.len(), 10);
        assert_eq!(requests[3].url.as_str(), "http://127.0.0.1:9/items?seq=3");
    }

    #[test]
    fn refuses_zero_counts_and_http2_for_sync() {
        let mut s = scenario(Strategy::SyncSequential);
        s.n = 0;
        assert!(s.validate().unwrap_err().to_string().contains("-n"));
        let mut s = scenario(Strategy::AsyncSemaphore);
        s.client.limit = 0;
        assert!(s.validate().unwrap_err().to_string().contains("--limit"));
        let mut s = scenario(Strategy::SyncThreads);
        s.client.http = HttpVersion::Http2;
        assert!(s.validate().unwrap_err().to_string().contains("HTTP/2"));
    }

    #[test]
    fn default_deadline_covers_the_slowest_schedule() {
        // 10 sequential requests of 100 ms: 2 × 1 s + 30 s.
        let s = scenario(Strategy::AsyncSequential);
        assert_eq!(s.deadline(), Duration::from_secs(32));
        let s = scenario(Strategy::AsyncConcurrent);
        assert_eq!(s.deadline(), Duration::from_millis(30_200));
    }
}
