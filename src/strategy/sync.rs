//! The sync strategies: `ureq` on plain OS threads, never on a tokio worker (a blocking
//! call there would stall every task sharing that worker).
//!
//! A `ureq::Agent` is a connection pool. Its default keeps only 3 idle connections per
//! host, so a pool of 10 threads sharing one agent would close and reopen 7 connections
//! on every round; [`agent`] sizes the pool to the number of threads instead.

use std::io::ErrorKind;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ureq::Agent;

use super::ClientOptions;
use super::RunClock;
use super::request::PlannedRequest;
use super::retry::{self, Attempt};
use super::trust;
use crate::measure::{Outcome, Sample};
use crate::strategy::ClientReuse;

/// An agent that keeps up to `idle` connections alive per host, reports HTTP error
/// statuses as answers, not as errors (fanout classifies them itself), and trusts
/// exactly the run's CA ([`trust::ureq_tls`]).
fn agent(idle: usize, options: &ClientOptions) -> Agent {
    Agent::config_builder()
        .tls_config(trust::ureq_tls(options.trusted_ca.as_deref()))
        .http_status_as_error(false)
        .proxy(None)
        // A redirect is an answer, never followed (see the async client).
        .max_redirects(0)
        .max_idle_connections_per_host(idle)
        .max_idle_connections(idle.max(3))
        .build()
        .new_agent()
}

/// One request after another on this thread.
pub(super) fn sequential(
    requests: &[PlannedRequest],
    options: &ClientOptions,
    clock: RunClock,
) -> (Vec<Sample>, RunClock) {
    let shared = agent(1, options);
    let clock = clock.restarted();
    let samples = requests
        .iter()
        .map(|request| fetch(&shared, request, options, &clock))
        .collect();
    (samples, clock)
}

/// `options.threads` OS threads take requests from a shared counter, in order.
pub(super) fn threads(
    requests: &[PlannedRequest],
    options: &ClientOptions,
    clock: RunClock,
) -> (Vec<Sample>, RunClock) {
    let workers = options.threads.min(requests.len()).max(1);
    let shared = agent(workers, options);
    let next = AtomicUsize::new(0);
    let samples = Mutex::new(Vec::with_capacity(requests.len()));
    // Threads start as they are spawned: start the clock just before the first one.
    let clock = clock.restarted();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut mine = Vec::new();
                while let Some(request) = requests.get(next.fetch_add(1, Ordering::Relaxed)) {
                    mine.push(fetch(&shared, request, options, &clock));
                }
                samples
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .extend(mine);
            });
        }
    });
    let samples = samples
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    (samples, clock)
}

/// Makes one request, bounded by the run's deadline, and classifies how it ended.
fn fetch(
    shared: &Agent,
    request: &PlannedRequest,
    options: &ClientOptions,
    clock: &RunClock,
) -> Sample {
    let (reuse, timeout) = (options.reuse, options.timeout);
    let remaining = clock.remaining();
    // A stopping run sends nothing new; a blocking call already made cannot be cut.
    if remaining.is_zero() || clock.is_stopping() {
        return clock.done(Sample::cancelled(
            request.seq,
            request.endpoint,
            None,
            clock.now(),
        ));
    }
    let fresh;
    let agent = match reuse {
        ClientReuse::Shared => shared,
        ClientReuse::PerRequest => {
            fresh = agent(1, options);
            &fresh
        }
    };
    if !clock.pace_blocking() {
        return clock.done(Sample::cancelled(
            request.seq,
            request.endpoint,
            None,
            clock.now(),
        ));
    }
    let start = clock.now();
    let mut waits = retry::waits(options.retries, options.backoff);
    let mut attempts = 0;
    let last = loop {
        attempts += 1;
        if attempts > 1 && !clock.pace_blocking() {
            let mut sample =
                Sample::cancelled(request.seq, request.endpoint, Some(start), clock.now());
            sample.attempts = attempts - 1;
            return clock.done(sample);
        }
        let attempt = attempt(agent, request, timeout, clock);
        let next = match clock.is_stopping() {
            true => None,
            false => retry::next_wait(&attempt, &mut waits, clock.remaining()),
        };
        match next {
            Some(wait) => std::thread::sleep(wait),
            None => break attempt,
        }
    };
    clock.done(Sample {
        seq: request.seq,
        endpoint: request.endpoint,
        start,
        end: clock.now(),
        outcome: last.outcome,
        status: last.status,
        bytes: last.bytes,
        attempts,
        intended: None,
        copies: 0,
    })
}

/// One exchange, bounded by the request timeout and the run's deadline.
fn attempt(
    agent: &Agent,
    request: &PlannedRequest,
    timeout: Option<std::time::Duration>,
    clock: &RunClock,
) -> Attempt {
    let remaining = clock.remaining();
    let failed = |outcome, status| Attempt {
        outcome,
        status,
        bytes: 0,
        retry_after: None,
    };
    if remaining.is_zero() {
        return failed(Outcome::Cancelled, None);
    }
    // Built from parts that were parsed with the scenario, so nothing here can fail.
    let mut http_request =
        ureq::http::Request::new(request.body.clone().unwrap_or_default().into_bytes());
    *http_request.method_mut() = request.method.clone();
    *http_request.uri_mut() = request.url.uri().clone();
    if request.body.is_some() {
        http_request.headers_mut().insert(
            ureq::http::header::CONTENT_TYPE,
            ureq::http::HeaderValue::from_static("application/json"),
        );
    }
    let limit = timeout.map_or(remaining, |t| t.min(remaining));
    let configured = agent
        .configure_request(http_request)
        .timeout_global(Some(limit))
        .build();
    match agent.run(configured) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let retry_after = retry::retry_after_of(response.headers());
            match response
                .body_mut()
                .with_config()
                .limit(u64::MAX)
                .read_to_vec()
            {
                Ok(body) => Attempt {
                    outcome: Outcome::from_status(status),
                    status: Some(status),
                    bytes: body.len() as u64,
                    retry_after,
                },
                Err(error) => failed(classify(&error, clock), Some(status)),
            }
        }
        Err(error) => failed(classify(&error, clock), None),
    }
}

/// Sorts a ureq error into an outcome. A timeout that fired at the run's deadline
/// counts as cancelled; before it, as the request's own timeout. A rustls error (a
/// certificate not trusted, a failed handshake), as ureq's own variant or inside an
/// I/O error, is `tls`.
fn classify(error: &ureq::Error, clock: &RunClock) -> Outcome {
    match error {
        ureq::Error::Rustls(_) => Outcome::Tls,
        ureq::Error::Io(io) if trust::is_tls_failure(io) => Outcome::Tls,
        ureq::Error::Timeout(_) if clock.remaining().is_zero() => Outcome::Cancelled,
        ureq::Error::Timeout(_) => Outcome::Timeout,
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => Outcome::Connect,
        ureq::Error::Io(io) if io.kind() == ErrorKind::ConnectionRefused => Outcome::Connect,
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut && clock.remaining().is_zero() => {
            Outcome::Cancelled
        }
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => Outcome::Timeout,
        _ => Outcome::Dropped,
    }
}
