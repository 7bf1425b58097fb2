//! The HTTP side of the mock API: an accept loop that counts connections and a handler
//! that routes, waits the drawn delay, answers, and writes the ledger.
//!
//! Why not `wiremock::MockServer` for the load itself? wiremock is the right tool for
//! what it was built for, asserting on a handful of requests in a test, and fanout's
//! tests use it that way. Under load, four of its design choices would measure wiremock
//! instead of the client: every request takes one write lock on the whole mock set;
//! every matched request is kept in memory for the life of the server, even with
//! recording disabled; the server runs on a single current-thread runtime; and it
//! accepts connections itself, with no hook to count them. This module keeps hyper's
//! connection handling (the same `hyper-util` auto builder wiremock uses, so HTTP/1.1
//! and HTTP/2 with prior knowledge both work), owns the accept loop so the ledger can
//! count connections, listens with a deep backlog so a burst of a thousand connects is
//! not dropped and retried a second later, and records one ledger entry per request.
//! `fanout run --engine wiremock` runs the same scenario against wiremock itself,
//! for comparison.
//!
//! With `--tls`, each accepted stream passes [`super::tls::accept`] before hyper sees
//! it (`serve_tls`, the one TLS step of the loop): the handshake is bounded by a timeout
//! and by the server's shutdown, and one that fails is counted in the ledger; one that
//! finishes notes its protocol and whether it was resumed. With `--server-keep-alive
//! off` ([`super::KeepAlive`]) hyper closes each HTTP/1.1 connection after its answer.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::attempts::Attempts;
use super::fault::{ArrivalWindow, Decision, FaultKind, RetryAfter};
use super::latency::copy_seed;
use super::ledger::{Ledger, LedgerEntry, now_us};
use super::link::Link;
use super::profile::Profile;
use super::stall::StallClock;
use super::tls;

/// How many connection attempts the kernel may queue before fanout accepts them. The
/// kernel caps it at `net.core.somaxconn` (4096 on this project's machines).
const LISTEN_BACKLOG: u32 = 8192;

/// Everything a connection task needs, shared read-only (the ledger has its own locks).
pub(crate) struct ServerState {
    pub profile: Profile,
    pub seed: u64,
    pub ledger: Arc<Ledger>,
    /// Padding per endpoint, built once, so an answer costs one small format.
    padding: Vec<String>,
    /// Requests admitted and not yet finished, for `limits.max_in_flight` and the
    /// ledger's peak in flight.
    in_flight: AtomicU64,
    /// Attempts seen per request, for `fault.fail_first`. Only touched by endpoints
    /// that set it; what it remembers follows the ledger's mode (see [`Attempts`]).
    attempts: Mutex<Attempts>,
    /// Arrivals admitted in the last window, for `limits.max_per_second`; `None` when
    /// that limit is not set. Never holds more than the limit.
    recent: Option<ArrivalWindow>,
    /// Requests without a `seq` seen per endpoint: the nth of them draws the nth delay.
    unnumbered: Vec<AtomicU64>,
    /// The profile's stall, with the first arrival that starts its clock.
    stall: Option<StallClock>,
}

/// Where the draw keys of requests without a `seq` start, far above any real seq.
pub(crate) const UNNUMBERED_KEYS: u64 = u64::MAX / 2;

impl ServerState {
    pub(super) fn new(profile: Profile, seed: u64, ledger: Arc<Ledger>) -> ServerState {
        let padding = profile.endpoints.iter().map(padding).collect();
        let unnumbered = profile
            .endpoints
            .iter()
            .map(|_| AtomicU64::new(0))
            .collect();
        let recent = ArrivalWindow::of(&profile.limits);
        let stall = StallClock::of(profile.stall);
        ServerState {
            stall,
            profile,
            seed,
            padding,
            in_flight: AtomicU64::new(0),
            attempts: Mutex::new(Attempts::new(ledger.mode())),
            ledger,
            recent,
            unnumbered,
        }
    }

    /// How long the stall holds an answer to a request arriving at `arrival_us`.
    pub(crate) fn stall_hold(&self, arrival_us: u64, delay: Duration) -> Duration {
        self.stall
            .as_ref()
            .map_or(Duration::ZERO, |stall| stall.hold(arrival_us, delay))
    }

    /// Which attempt (from 0) this is at request `seq` of endpoint `index`.
    fn attempt_number(&self, index: usize, seq: Option<u64>) -> u32 {
        let mut attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts.next(index, seq)
    }

    /// Applies the server-wide limits to a request arriving at `arrival_us`: `Ok`
    /// admits it and holds its in-flight slot until dropped, `Err` names the limit it
    /// is past and when to come back. The slot is taken in one atomic step, so two
    /// arrivals racing for the last slot cannot both get it.
    fn admit(&self, arrival_us: u64) -> Result<Held<'_>, Refusal> {
        let limits = self.profile.limits;
        let max_in_flight = limits.max_in_flight.map_or(u64::MAX, u64::from);
        let before = self
            .in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                (now < max_in_flight).then_some(now + 1)
            })
            .map_err(|_| Refusal {
                kind: FaultKind::Overloaded,
                // A slot frees when a held request finishes, and the server does not
                // know when that will be: a held request may hang, or end early because
                // its client gives up. No figure would be honest, so none is sent and
                // the client's own backoff decides.
                retry_after: None,
            })?;
        let held = Held(&self.in_flight);
        if let Some(window) = &self.recent
            && let Err(wait) = window.admit(arrival_us)
        {
            return Err(Refusal {
                kind: FaultKind::RateLimited,
                retry_after: Some(wait),
            });
        }
        self.ledger.in_flight(before + 1);
        Ok(held)
    }
}

/// A request refused by a server-wide limit.
struct Refusal {
    /// Which limit.
    kind: FaultKind,
    /// How long until the limit would admit it, when the server knows.
    retry_after: Option<Duration>,
}

/// Counts a request in flight for as long as it is held.
struct Held<'a>(&'a AtomicU64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Binds 127.0.0.1:`port` (0 for a free port) with a deep accept backlog. Needs a
/// tokio runtime (the listener registers with its reactor).
pub(crate) fn bind(port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
    socket.listen(LISTEN_BACKLOG)
}

/// How hyper serves each connection: HTTP/2's stream limit, HTTP/1.1's keep-alive.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionSettings {
    pub h2_max_streams: u32,
    pub keep_alive: super::KeepAlive,
}

/// Accepts connections until `shutdown` changes, serving each on its own task, behind
/// the profile's emulated network unless it is loopback ([`super::link`]), and with
/// `tls`, after a TLS handshake through that network ([`serve_tls`]).
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<ServerState>,
    mut shutdown: watch::Receiver<()>,
    settings: ConnectionSettings,
    tls: Option<TlsAcceptor>,
) {
    let link = Link::of(&state.profile.network, state.seed);
    loop {
        let stream = tokio::select! {
            biased;
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // EMFILE and friends: the listener stays usable once descriptors
                    // free up, so back off briefly instead of dying mid-run.
                    eprintln!("fanout mock API: accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let accepted = tokio::time::Instant::now();
        let _ = stream.set_nodelay(true);
        let connection = state.ledger.connection_opened();
        let state = state.clone();
        let mut shutdown = shutdown.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            // Dropping this future (at shutdown) drops the link's delayed bytes too.
            let served = async move {
                let on = Accepted {
                    state,
                    connection,
                    settings,
                    tls,
                };
                match link {
                    None => on.serve(stream).await,
                    Some(link) => {
                        let ledger = on.state.ledger.clone();
                        let first_byte = move || {
                            ledger.update_connection(connection, |c| {
                                c.first_byte_us = Some(now_us());
                            })
                        };
                        let (stream, relay) = link.attach(stream, connection, accepted, first_byte);
                        tokio::join!(on.serve(stream), relay);
                    }
                }
            };
            tokio::select! {
                _ = served => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// What a connection's task carries from the accept loop to its HTTP service.
struct Accepted {
    state: Arc<ServerState>,
    connection: u64,
    settings: ConnectionSettings,
    tls: Option<TlsAcceptor>,
}

impl Accepted {
    /// HTTP on `stream` (a socket, or the server's side of an emulated link), after a
    /// TLS handshake when the server has TLS.
    async fn serve<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self.tls.clone() {
            None => serve_connection(stream, self.state, self.connection, self.settings).await,
            Some(acceptor) => serve_tls(stream, &acceptor, self).await,
        }
    }
}

/// The TLS handshake on an accepted `stream`, then HTTP on the TLS stream. A handshake
/// that fails, times out or is abandoned half-way is counted in the ledger (it carried
/// no request, so nothing else would count it). The caller races it against shutdown.
async fn serve_tls<S>(stream: S, acceptor: &TlsAcceptor, accepted: Accepted)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let ledger = &accepted.state.ledger;
    let timeout = tls::handshake_timeout(&accepted.state.profile.network);
    match tls::accept(stream, acceptor, timeout).await {
        Ok((stream, handshake)) => {
            ledger.connection_tls_done(accepted.connection, now_us(), handshake);
            let Accepted {
                state,
                connection,
                settings,
                ..
            } = accepted;
            serve_connection(stream, state, connection, settings).await
        }
        Err(_) => ledger.tls_handshake_failed(),
    }
}

/// Serves HTTP/1.1 or HTTP/2 (hyper's auto builder reads the preface) on one
/// connection until it closes.
async fn serve_connection<I>(
    io: I,
    state: Arc<ServerState>,
    connection: u64,
    settings: ConnectionSettings,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| answer(state.clone(), connection, request));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(settings.keep_alive == super::KeepAlive::On);
    builder
        .http2()
        .max_concurrent_streams(settings.h2_max_streams);
    // A connection that ends in an error (a client gone mid-request) has nothing left
    // to serve; its requests are in the ledger already.
    let _ = builder.serve_connection(TokioIo::new(io), service).await;
}

/// A ledger entry that writes itself when dropped, so a request whose client went away
/// mid-delay (hyper drops the handler future) is still recorded, as abandoned.
struct PendingEntry<'a> {
    ledger: &'a Ledger,
    entry: LedgerEntry,
    answered: bool,
}

impl Drop for PendingEntry<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.entry.finish_us = now_us();
            self.entry.status = None;
        }
        self.ledger.record(self.entry);
    }
}

async fn answer(
    state: Arc<ServerState>,
    connection: u64,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    // Read the whole request before the clock starts: arrival means "fully received".
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let request_bytes = body.len() as u64;
    let says_json = parts
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let bad_json = says_json && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err();
    let arrival_us = now_us();
    let seq = seq_of(parts.uri.query());
    let copy = copy_of(parts.uri.query());
    let endpoint = state.profile.route(parts.method.as_str(), parts.uri.path());
    let mut pending = PendingEntry {
        ledger: &state.ledger,
        entry: LedgerEntry {
            seq,
            copy,
            endpoint: endpoint.map(|e| e as u16),
            connection: Some(connection),
            arrival_us,
            delay_us: 0,
            stalled_us: 0,
            finish_us: arrival_us,
            status: None,
            request_bytes,
            fault: None,
        },
        answered: false,
    };
    let Some(index) = endpoint else {
        pending.entry.status = Some(404);
        pending.answered = true;
        let body = r#"{"error":"no endpoint answers this method and path"}"#;
        return Ok(json_response(StatusCode::NOT_FOUND, body.to_string(), None));
    };
    if bad_json {
        pending.entry.status = Some(400);
        pending.answered = true;
        let body = r#"{"error":"the request body is not valid JSON"}"#;
        return Ok(json_response(
            StatusCode::BAD_REQUEST,
            body.to_string(),
            None,
        ));
    }
    let held = state.admit(arrival_us);
    if let Err(refusal) = held {
        pending.entry.status = Some(429);
        pending.entry.fault = Some(refusal.kind);
        pending.answered = true;
        let body = r#"{"error":"too many requests"}"#;
        return Ok(json_response(
            StatusCode::TOO_MANY_REQUESTS,
            body.to_string(),
            refusal.retry_after,
        ));
    }
    let _held = held;
    let spec = &state.profile.endpoints[index];
    // Without a seq, draw by arrival order: the nth such request to reach this endpoint
    // gets the nth delay, so a seed gives the same delays run after run.
    let draw_key = seq.unwrap_or_else(|| {
        UNNUMBERED_KEYS + state.unnumbered[index].fetch_add(1, Ordering::Relaxed)
    });
    // A hedge or a replica (`copy` > 0) draws its own delay and fault.
    let draw_seed = copy_seed(state.seed, copy);
    let delay = spec.latency.draw(draw_seed, index, draw_key);
    pending.entry.delay_us = delay.as_micros() as u64;
    let attempt = if spec.fault.counts_attempts() {
        state.attempt_number(index, seq)
    } else {
        0
    };
    let decision = spec.fault.decide(draw_seed, index, draw_key, attempt);
    if decision == Decision::Hang {
        // Held until the client gives up; the guard records it as abandoned.
        pending.entry.fault = Some(FaultKind::Hang);
        std::future::pending::<()>().await;
    }
    let stalled = state.stall_hold(arrival_us, delay);
    pending.entry.stalled_us = stalled.as_micros() as u64;
    tokio::time::sleep(delay + stalled).await;

    let status = match decision {
        Decision::Drop => {
            // Returning an error makes hyper close the connection without an answer;
            // the guard records the request with no status.
            pending.entry.fault = Some(FaultKind::Drop);
            return Err(std::io::Error::other("connection dropped on purpose"));
        }
        Decision::Fail(status) => {
            pending.entry.fault = Some(FaultKind::Status);
            status
        }
        Decision::Answer | Decision::Hang => spec.status,
    };
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let body = spec
        .fixed_body(parts.uri.path())
        .unwrap_or_else(|| body_json(spec, seq, delay, &state.padding[index]));
    pending.entry.status = Some(status.as_u16());
    pending.entry.finish_us = now_us();
    pending.answered = true;
    let retry_after = (status == StatusCode::TOO_MANY_REQUESTS)
        .then_some(spec.fault.retry_after_secs)
        .flatten()
        .map(Duration::from_secs);
    Ok(json_response(status, body, retry_after))
}

/// Filler that brings an endpoint's answer to about `body_bytes`.
pub(crate) fn padding(endpoint: &super::profile::Endpoint) -> String {
    "x".repeat(endpoint.body_bytes.saturating_sub(64))
}

/// The JSON body every endpoint answers with: who answered, for which request, after
/// which delay, padded to the endpoint's size.
pub(crate) fn body_json(
    endpoint: &super::profile::Endpoint,
    seq: Option<u64>,
    delay: Duration,
    padding: &str,
) -> String {
    format!(
        r#"{{"endpoint":"{}","seq":{},"delay_ms":{:.3},"padding":"{}"}}"#,
        endpoint.name,
        seq.map_or("null".to_string(), |s| s.to_string()),
        delay.as_secs_f64() * 1e3,
        padding,
    )
}

fn json_response(
    status: StatusCode,
    body: String,
    retry_after: Option<Duration>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    if let Some(wait) = retry_after.map(RetryAfter::of) {
        headers.insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from(wait.secs),
        );
        headers.insert(
            super::fault::RETRY_AFTER_MS,
            hyper::header::HeaderValue::from(wait.ms),
        );
    }
    response
}

/// The `seq` query parameter: the client's number for this request.
pub(crate) fn seq_of(query: Option<&str>) -> Option<u64> {
    query_number(query, "seq=")
}

/// The `copy` query parameter: which copy of request `seq` this is (0 when absent).
pub(crate) fn copy_of(query: Option<&str>) -> u32 {
    query_number(query, "copy=").unwrap_or(0)
}

/// The number after `key` (`seq=`, `copy=`) among the query's parameters.
fn query_number<T: std::str::FromStr>(query: Option<&str>, key: &str) -> Option<T> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix(key))
        .and_then(|value| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::{copy_of, seq_of};

    #[test]
    fn finds_the_copy_number_or_reads_none_as_the_first() {
        assert_eq!(copy_of(Some("seq=4&copy=2")), 2);
        assert_eq!(copy_of(Some("seq=4")), 0);
        assert_eq!(copy_of(None), 0);
    }

    #[test]
    fn finds_seq_among_other_parameters() {
        assert_eq!(seq_of(Some("seq=42")), Some(42));
        assert_eq!(seq_of(Some("apiKey=abc&seq=7")), Some(7));
        assert_eq!(seq_of(Some("sequence=7")), None);
        assert_eq!(seq_of(None), None);
    }
}
