//! The same endpoints served by `wiremock::MockServer` itself, for comparison
//! (`--engine wiremock`).
//!
//! fanout's own engine (`http.rs`) exists because a load test needs things wiremock was
//! not built to give: a connection count, a finish time per request, a handler that
//! never takes a global lock. Running the scenario on wiremock too shows what those
//! choices are worth. What this engine can and cannot record:
//!
//! - arrival, delay and status of each request: yes, from a [`Respond`] implementation
//!   that writes the ledger when wiremock asks it for a response;
//! - finish time: only as planned (arrival + delay), since wiremock applies the delay
//!   after the responder returns, out of sight;
//! - connections: no (reported as `null`), wiremock accepts them itself;
//! - abandoned requests: no, they look answered (except a hang, which never is);
//! - faults: the status faults (`error_rate`, `fail_first`) with the same seeded
//!   [`Fault::decide`] as fanout's engine, so both fail the same requests; `hang` as
//!   a delay past any deadline; `retry_after_secs`; `refused` is the client's side;
//!   `drop_rate` cannot be served (wiremock always answers);
//! - server-wide limits: `max_per_second`, answered 429 with `Retry-After` and
//!   `retry-after-ms` from the same [`ArrivalWindow`] as
//!   fanout's engine; `max_in_flight` cannot be served (the responder never learns
//!   when an answer has left).
//!
//! [`super::Engine::serves`] refuses the last two before the server starts.
//!
//! A network other than loopback is emulated by a relay in front of wiremock: it
//! accepts on the port asked for, connects to wiremock, and passes the bytes through
//! the same link as fanout's engine (`link.rs`), so both engines pay the same round
//! trips. It counts nothing: wiremock's ledger still has no connections.
//!
//! wiremock serves on one current-thread runtime of its own and keeps every matched
//! request in memory for the server's life; fanout starts a fresh server per run, so
//! that memory is bounded by one run's requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::ServerConfig;
use super::attempts::Attempts;
use super::fault::{ArrivalWindow, Decision, Fault, FaultKind, RETRY_AFTER_MS, RetryAfter};
use super::http::{body_json, copy_of, padding, seq_of};
use super::latency::copy_seed;
use super::ledger::{Ledger, LedgerEntry, now_us};
use super::link::Link;
use super::profile::Endpoint;
use crate::error::Error;

/// How long a hanging endpoint "waits": past any deadline a run can have, so the
/// client always gives up first.
const HANG: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

/// A running wiremock server and the runtime that started it.
pub(super) struct WiremockServer {
    pub addr: std::net::SocketAddr,
    /// Dropping the server stops it (it is not from wiremock's pool).
    server: Option<MockServer>,
    runtime: Option<tokio::runtime::Runtime>,
    /// The relay that emulates the network in front of wiremock, when there is one;
    /// dropping its runtime drops every connection it holds and their delayed bytes.
    front: Option<Box<tokio::runtime::Runtime>>,
}

impl Drop for WiremockServer {
    fn drop(&mut self) {
        if let Some(front) = self.front.take() {
            front.shutdown_background();
        }
        drop(self.server.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What every endpoint's responder shares: the ledger and the server-wide state.
struct Shared {
    seed: u64,
    ledger: Arc<Ledger>,
    /// `limits.max_per_second`, when the profile sets it.
    rate: Option<ArrivalWindow>,
    /// Attempts per request, for the faults that count them (the same bounded table
    /// as fanout's engine).
    attempts: std::sync::Mutex<Attempts>,
    /// The profile's stall: wiremock holds the answer by lengthening its delay.
    stall: Option<super::stall::StallClock>,
}

/// Answers for one endpoint and writes the ledger.
struct LedgerResponder {
    index: usize,
    endpoint: Endpoint,
    padding: String,
    shared: Arc<Shared>,
    /// Requests without a `seq` so far: the nth of them draws the nth delay.
    unnumbered: AtomicU64,
}

impl Respond for LedgerResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let arrival_us = now_us();
        let seq = seq_of(request.url.query());
        let copy = copy_of(request.url.query());
        let mut entry = LedgerEntry {
            seq,
            copy,
            endpoint: Some(self.index as u16),
            connection: None,
            arrival_us,
            delay_us: 0,
            stalled_us: 0,
            finish_us: arrival_us,
            status: Some(429),
            request_bytes: request.body.len() as u64,
            fault: Some(FaultKind::RateLimited),
        };
        let shared = &self.shared;
        if let Some(Err(wait)) = shared.rate.as_ref().map(|r| r.admit(arrival_us)) {
            shared.ledger.record(entry);
            let wait = RetryAfter::of(wait);
            return ResponseTemplate::new(429)
                .insert_header("retry-after", wait.secs.to_string().as_str())
                .insert_header(RETRY_AFTER_MS, wait.ms.to_string().as_str())
                .set_body_raw(r#"{"error":"too many requests"}"#, "application/json");
        }
        // As in fanout's engine: only admitted requests without a `seq` take a draw.
        let key = seq.unwrap_or_else(|| {
            super::http::UNNUMBERED_KEYS + self.unnumbered.fetch_add(1, Ordering::Relaxed)
        });
        let fault: &Fault = &self.endpoint.fault;
        let attempt = if fault.counts_attempts() {
            shared
                .attempts
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .next(self.index, seq)
        } else {
            0
        };
        let draw_seed = copy_seed(shared.seed, copy);
        let delay = self.endpoint.latency.draw(draw_seed, self.index, key);
        let stalled = shared
            .stall
            .as_ref()
            .map_or(Duration::ZERO, |stall| stall.hold(arrival_us, delay));
        entry.delay_us = delay.as_micros() as u64;
        entry.stalled_us = stalled.as_micros() as u64;
        entry.finish_us = arrival_us + entry.held_us();
        entry.fault = None;
        let (status, wait) = match fault.decide(draw_seed, self.index, key, attempt) {
            Decision::Hang => {
                // Never answered: the ledger says so now, since it will not hear later.
                entry.status = None;
                entry.finish_us = arrival_us;
                entry.fault = Some(FaultKind::Hang);
                (self.endpoint.status, HANG)
            }
            Decision::Fail(status) => {
                entry.fault = Some(FaultKind::Status);
                (status, delay + stalled)
            }
            // `drop_rate` is refused before the server starts (Engine::serves).
            Decision::Answer | Decision::Drop => (self.endpoint.status, delay + stalled),
        };
        if entry.fault != Some(FaultKind::Hang) {
            entry.status = Some(status);
        }
        shared.ledger.record(entry);
        let body = self
            .endpoint
            .fixed_body(request.url.path())
            .unwrap_or_else(|| body_json(&self.endpoint, seq, delay, &self.padding));
        let mut template = ResponseTemplate::new(status)
            .set_body_raw(body, "application/json")
            .set_delay(wait);
        if let (429, Some(seconds)) = (status, fault.retry_after_secs) {
            template = template
                .insert_header("retry-after", seconds.to_string().as_str())
                .insert_header(RETRY_AFTER_MS, (seconds * 1000).to_string().as_str());
        }
        template
    }
}

/// Starts wiremock on 127.0.0.1:`config.port` with one mock per endpoint; behind a
/// relay on that port that emulates the profile's network, when it is not loopback.
///
/// The start-up runs on a thread of its own, so a caller inside a tokio runtime (an
/// example's `#[tokio::main]`) can start one too: blocking on a runtime from inside
/// another panics.
pub(super) fn start(config: &ServerConfig, ledger: Arc<Ledger>) -> Result<WiremockServer, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the wiremock start-up runtime", e))?;
    let link = Link::of(&config.profile.network, config.seed);
    // Behind a relay, wiremock listens on a free port and the relay on the one asked for.
    let wiremock_port = if link.is_some() { 0 } else { config.port };
    let server = std::thread::scope(|scope| {
        scope
            .spawn(|| runtime.block_on(register(config, wiremock_port, ledger)))
            .join()
            .map_err(|_| Error::Server("wiremock's start-up thread panicked".to_string()))
    })??;
    let (addr, front) = match link {
        None => (*server.address(), None),
        Some(link) => {
            let (addr, front) = start_front(config, *server.address(), link)?;
            (addr, Some(Box::new(front)))
        }
    };
    Ok(WiremockServer {
        addr,
        server: Some(server),
        runtime: Some(runtime),
        front,
    })
}

/// The relay in front of wiremock: a runtime of its own (the server's worker count),
/// accepting on `config.port` and relaying each connection to wiremock through `link`.
fn start_front(
    config: &ServerConfig,
    wiremock: std::net::SocketAddr,
    link: Link,
) -> Result<(std::net::SocketAddr, tokio::runtime::Runtime), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .thread_name("fanout-link-front")
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the network relay's runtime", e))?;
    let listener = runtime
        .block_on(async { super::http::bind(config.port) })
        .map_err(|e| super::bind_error(config.port, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("reading the relay's address", e))?;
    runtime.spawn(super::link::front(listener, wiremock, link));
    Ok((addr, runtime))
}

/// Starts the server on `port` and registers one mock per endpoint.
async fn register(
    config: &ServerConfig,
    port: u16,
    ledger: Arc<Ledger>,
) -> Result<MockServer, Error> {
    let mode = ledger.mode();
    // The same deep backlog as fanout's engine, so a burst of connects is not
    // dropped by the kernel before wiremock ever sees it.
    let listener = super::http::bind(port)
        .and_then(|l| l.into_std())
        .map_err(|e| super::bind_error(port, e))?;
    let server = MockServer::builder()
        .listener(listener)
        .disable_request_recording()
        .start()
        .await;
    let shared = Arc::new(Shared {
        seed: config.seed,
        ledger,
        rate: ArrivalWindow::of(&config.profile.limits),
        attempts: std::sync::Mutex::new(Attempts::new(mode)),
        stall: super::stall::StallClock::of(config.profile.stall),
    });
    for (index, endpoint) in config.profile.endpoints.iter().enumerate() {
        let responder = LedgerResponder {
            index,
            endpoint: endpoint.clone(),
            padding: padding(endpoint),
            shared: shared.clone(),
            unnumbered: AtomicU64::new(0),
        };
        let mock = Mock::given(method(endpoint.method.as_str()));
        let mock = if endpoint.path == "*" {
            mock.respond_with(responder).with_priority(10)
        } else if let Some(prefix) = endpoint.path.strip_suffix('*') {
            mock.and(path_regex(format!("^{}.+", regex_escape(prefix))))
                .respond_with(responder)
                .with_priority(5)
        } else {
            mock.and(path(endpoint.path.as_str()))
                .respond_with(responder)
                .with_priority(1)
        };
        server.register(mock).await;
    }
    Ok(server)
}

/// `text` with the characters a regular expression treats specially escaped.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}
