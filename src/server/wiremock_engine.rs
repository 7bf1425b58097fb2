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
//! - abandoned requests: no, they look answered;
//! - faults and server-wide limits: not served (the endpoint's plain status only).
//!
//! wiremock serves on one current-thread runtime of its own and keeps every matched
//! request in memory for the server's life; fanout starts a fresh server per run, so
//! that memory is bounded by one run's requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::ServerConfig;
use super::http::{body_json, padding, seq_of};
use super::ledger::{Ledger, LedgerEntry, now_us};
use super::profile::Endpoint;
use crate::error::Error;

/// A running wiremock server and the runtime that started it.
pub(super) struct WiremockServer {
    pub addr: std::net::SocketAddr,
    /// Dropping the server stops it (it is not from wiremock's pool).
    server: Option<MockServer>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for WiremockServer {
    fn drop(&mut self) {
        drop(self.server.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Answers for one endpoint and writes the ledger.
struct LedgerResponder {
    index: usize,
    endpoint: Endpoint,
    seed: u64,
    padding: String,
    ledger: Arc<Ledger>,
    /// Requests without a `seq` so far: the nth of them draws the nth delay.
    unnumbered: AtomicU64,
}

impl Respond for LedgerResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let arrival_us = now_us();
        let seq = seq_of(request.url.query());
        let key = seq.unwrap_or_else(|| {
            super::http::UNNUMBERED_KEYS + self.unnumbered.fetch_add(1, Ordering::Relaxed)
        });
        let delay = self.endpoint.latency.draw(self.seed, self.index, key);
        let delay_us = delay.as_micros() as u64;
        self.ledger.record(LedgerEntry {
            seq,
            endpoint: Some(self.index as u16),
            connection: None,
            arrival_us,
            delay_us,
            finish_us: arrival_us + delay_us,
            status: Some(self.endpoint.status),
            request_bytes: request.body.len() as u64,
            fault: None,
        });
        let body = self
            .endpoint
            .fixed_body(request.url.path())
            .unwrap_or_else(|| body_json(&self.endpoint, seq, delay, &self.padding));
        ResponseTemplate::new(self.endpoint.status)
            .set_body_raw(body, "application/json")
            .set_delay(delay)
    }
}

/// Starts wiremock on 127.0.0.1:`config.port` with one mock per endpoint.
pub(super) fn start(config: &ServerConfig, ledger: Arc<Ledger>) -> Result<WiremockServer, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the wiremock start-up runtime", e))?;
    let server = runtime.block_on(async {
        // The same deep backlog as fanout's engine, so a burst of connects is not
        // dropped by the kernel before wiremock ever sees it.
        let listener = super::http::bind(config.port)
            .and_then(|l| l.into_std())
            .map_err(|e| super::bind_error(config.port, e))?;
        let server = MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        for (index, endpoint) in config.profile.endpoints.iter().enumerate() {
            let responder = LedgerResponder {
                index,
                endpoint: endpoint.clone(),
                seed: config.seed,
                padding: padding(endpoint),
                ledger: ledger.clone(),
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
        Ok::<_, Error>(server)
    })?;
    Ok(WiremockServer {
        addr: *server.address(),
        server: Some(server),
        runtime: Some(runtime),
    })
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
