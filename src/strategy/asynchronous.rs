//! The async strategies: `reqwest` on a tokio runtime built for the run.
//!
//! Each request is one future, [`Fetcher::fetch`], bounded by the run's deadline. What
//! differs between strategies is only how those futures are driven: awaited in turn,
//! spawned all at once, gated by a semaphore, buffered in a stream, or held in a
//! `JoinSet` that is aborted on the first failure.
//!
//! [`run`] is async so a caller already on a runtime (a criterion bench) can drive it;
//! [`execute`] builds a multi-thread runtime of `--workers` threads and blocks on it.
//!
//! # Where the client's time goes (issue 13, part 4)
//!
//! Measured with the client alone in its process: `fanout serve` in another, and
//! `fanout run --target URL --i-own-this-server --rate 1000000`, under
//! `/usr/bin/time` and `perf record --all-user -g` (2 cores, other builds running; no
//! hardware counters on this machine, so CPU time and cpu-clock samples, ranges over
//! back-to-back repeats):
//!
//! | job | fanout user + sys CPU | oha 1.16 user + sys CPU |
//! |---|---|---|
//! | n = 10,000 at once, 500 ms, fresh connections | 0.73–0.94 s + 1.25–1.56 s | 0.25–0.28 s + 1.35–1.54 s |
//! | 50,000 at zero delay, keep-alive, 50 in flight | 1.02–1.36 s + 1.54–1.91 s | 0.24–0.28 s + 1.04–1.16 s |
//!
//! The kernel's share (connect, writev, close, page faults) is about the same; the
//! difference is user CPU, three to four times oha's, and almost none of it is the
//! harness. Of the client's user-space samples at n = 10,000: glibc malloc and free
//! about 28 % (`_int_malloc` 9 %, `unlink_chunk` 7 %, `_int_free` 4 %, `free` 3 %;
//! oha links jemalloc), hyper-util's connection pool 6 % (`VecDeque::retain` over
//! the waiters of its one host: every checkout that finds no idle connection queues
//! there, 10,000 of them), memmove of reqwest's large boxed futures 4 %, reqwest's
//! and hyper's per-request layers (redirect and retry policies, header maps, URL to
//! URI) most of the rest. fanout's own code (this module's `fetch`, the samples, the
//! clock) is about 1 %; the footprint sampler was 2 % at zero delay (it now reads
//! `/proc/self/stat` every 10 ms), the progress bar draws every 50 ms and is not in
//! the profile, and an unpaced run no longer builds a timeout around a pace it does
//! not have. So reqwest, its pool and the allocator are the remaining cost, and
//! `async-hyper` (`hyper_direct.rs`) shows what reqwest's conveniences cost: the same
//! harness on hyper's own connections beat oha at n = 10,000.
//!
//! The binary now allocates with jemalloc, as oha does (`src/main.rs`). Back to back,
//! n = 10,000 at 500 ms against one `fanout serve`: glibc 1,860 and 2,072 ms, jemalloc
//! 1,690 and 1,742 ms, oha 1,383 and 1,874 ms; `run` with its own mock API, wall over
//! the calibrated limit 1.28 and 1.12 with glibc, 1.10 and 1.06 with jemalloc. With
//! the descriptor table grown before the run (`fdlimit::reserve_table`), five rounds
//! alternating with oha gave `async-concurrent` 0.83–1.02 × oha's wall (median 0.94)
//! and 0.82–1.04 × the calibrated limit.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::ClientOptions;
use super::ratelimit::{Gcra, SlidingWindow};
use super::request::PlannedRequest;
use super::retry::{self, Attempt};
use super::trust::{self, TrustedCa};
use super::{AsyncStrategy, ClientReuse, HttpVersion, RunClock};
use crate::error::Error;
use crate::measure::{Outcome, Sample};

/// Builds the runtime and runs `strategy` on it.
pub(super) fn execute(
    strategy: AsyncStrategy,
    requests: Vec<PlannedRequest>,
    options: &ClientOptions,
    clock: RunClock,
) -> Result<(Vec<Sample>, RunClock), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.runtime_workers)
        .thread_name("fanout-client")
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the client runtime", e))?;
    // The driver runs as a task on a worker, not on this thread: a task spawned from a
    // worker goes to that worker's own queue, one spawned from outside the runtime to
    // the shared injection queue under its lock, and the idle worker is woken for each.
    let options = options.clone();
    runtime.block_on(async move {
        let driver = tokio::spawn(async move { run(strategy, requests, &options, clock).await });
        driver
            .await
            .map_err(|e| Error::Internal(format!("the client's driver task failed: {e}")))?
    })
}

/// Runs an async `strategy` on the current tokio runtime. The clock restarts once the
/// client is built.
pub async fn run(
    strategy: AsyncStrategy,
    requests: Vec<PlannedRequest>,
    options: &ClientOptions,
    clock: RunClock,
) -> Result<(Vec<Sample>, RunClock), Error> {
    let mut fetcher = Fetcher::new(options, clock)?;
    let clock = fetcher.restart_clock();
    let limit = options.limit;
    let samples = match strategy {
        AsyncStrategy::Sequential => sequential(fetcher, requests).await,
        AsyncStrategy::Concurrent => concurrent(fetcher, requests, None).await,
        AsyncStrategy::Semaphore => concurrent(fetcher, requests, Some(limit)).await,
        AsyncStrategy::Buffered => buffered(fetcher, requests, limit).await,
        AsyncStrategy::Hyper => super::hyper_direct::run(fetcher, requests, options).await,
        AsyncStrategy::Failfast => failfast(fetcher, requests, limit).await,
        AsyncStrategy::Ratelimited => {
            let gcra = Arc::new(Gcra::new(options.rate));
            paced(fetcher, requests, move || {
                let gcra = gcra.clone();
                async move { gcra.acquire().await }
            })
            .await
        }
        AsyncStrategy::FirstOf => {
            super::replicas::first_of(fetcher, requests, limit, options.replicas).await
        }
        AsyncStrategy::Hedged => {
            super::replicas::hedged(fetcher, requests, limit, options.hedge_after).await
        }
        AsyncStrategy::Pipeline => {
            let (samples, figures) =
                super::backpressure::pipeline(fetcher, requests, options).await;
            clock.note(|notes| notes.pipeline = Some(figures));
            samples
        }
        AsyncStrategy::ArrivalRate => {
            let schedule = options.arrivals();
            super::open_loop::arrival_rate(fetcher, requests, schedule, options.max_in_flight).await
        }
        AsyncStrategy::NaiveRatelimited => {
            // Below one call a window, the window widens to one call's worth.
            let width = options
                .rate_window
                .max(std::time::Duration::from_secs_f64(1.0 / options.rate));
            let calls = options.rate * width.as_secs_f64();
            let window = Arc::new(SlidingWindow::new(calls.round().max(1.0) as usize, width));
            paced(fetcher, requests, move || {
                let window = window.clone();
                async move { window.acquire().await }
            })
            .await
        }
    };
    Ok((samples, clock))
}

/// Awaits each request before starting the next.
async fn sequential(fetcher: Fetcher, requests: Vec<PlannedRequest>) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(requests.len());
    for request in &requests {
        samples.push(fetcher.fetch(request).await);
    }
    samples
}

/// Spawns every request at once; with `limit`, each first waits for a semaphore permit.
async fn concurrent(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    limit: Option<usize>,
) -> Vec<Sample> {
    let permits = limit.map(|k| Arc::new(Semaphore::new(k)));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (fetcher, permits) = (fetcher.clone(), permits.clone());
            let ids = (request.seq, request.endpoint);
            let task = tokio::spawn(async move {
                let _permit = match permits {
                    Some(permits) => match fetcher.wait(permits.acquire_owned()).await {
                        Some(Ok(permit)) => Some(permit),
                        _ => return fetcher.cancelled(&request, None),
                    },
                    None => None,
                };
                fetcher.fetch(&request).await
            });
            (ids, task)
        })
        .collect();
    join_in_order(&fetcher, tasks).await
}

/// Spawns every request at once; each first waits for `admit` (a rate limiter), within
/// the run's deadline.
async fn paced<F, Fut>(fetcher: Fetcher, requests: Vec<PlannedRequest>, admit: F) -> Vec<Sample>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let (fetcher, wait) = (fetcher.clone(), admit());
            let ids = (request.seq, request.endpoint);
            let task = tokio::spawn(async move {
                if fetcher.wait(wait).await.is_none() {
                    return fetcher.cancelled(&request, None);
                }
                fetcher.fetch(&request).await
            });
            (ids, task)
        })
        .collect();
    join_in_order(&fetcher, tasks).await
}

/// Awaits spawned requests in submission order; a task that died counts as cancelled.
pub(super) async fn join_in_order(
    fetcher: &Fetcher,
    tasks: Vec<((u64, u16), tokio::task::JoinHandle<Sample>)>,
) -> Vec<Sample> {
    let mut samples = Vec::with_capacity(tasks.len());
    for ((seq, endpoint), task) in tasks {
        let sample = task
            .await
            .unwrap_or_else(|_| Sample::cancelled(seq, endpoint, None, fetcher.clock.now()));
        samples.push(sample);
    }
    samples
}

/// A stream of request futures, at most `limit` polled at once, results as they finish.
async fn buffered(fetcher: Fetcher, requests: Vec<PlannedRequest>, limit: usize) -> Vec<Sample> {
    futures::stream::iter(requests)
        .map(|request| {
            let fetcher = fetcher.clone();
            async move { fetcher.fetch(&request).await }
        })
        .buffer_unordered(limit)
        .collect()
        .await
}

/// A `JoinSet` under a semaphore of `limit`; the first request that does not end `ok`
/// closes the semaphore (so nothing queued starts) and aborts every other task, queued
/// or in flight. Aborted requests count as cancelled.
async fn failfast(fetcher: Fetcher, requests: Vec<PlannedRequest>, limit: usize) -> Vec<Sample> {
    let permits = Arc::new(Semaphore::new(limit));
    let mut set = JoinSet::new();
    let mut ids = HashMap::with_capacity(requests.len());
    for request in requests {
        let (fetcher, permits) = (fetcher.clone(), permits.clone());
        let seq_and_endpoint = (request.seq, request.endpoint);
        let handle = set.spawn(async move {
            let Some(Ok(_permit)) = fetcher.wait(permits.clone().acquire_owned()).await else {
                return fetcher.cancelled(&request, None);
            };
            let sample = fetcher.fetch(&request).await;
            if sample.outcome != Outcome::Ok {
                // Close the gate before this task's permit is released: no queued
                // request may start, even before the driver below sees this result.
                permits.close();
            }
            sample
        });
        ids.insert(handle.id(), seq_and_endpoint);
    }
    let mut samples = Vec::with_capacity(ids.len());
    let mut aborted = false;
    while let Some(joined) = set.join_next_with_id().await {
        match joined {
            Ok((_, sample)) => {
                if sample.outcome != Outcome::Ok && !aborted {
                    aborted = true;
                    permits.close();
                    set.abort_all();
                }
                samples.push(sample);
            }
            Err(error) => {
                let (seq, endpoint) = ids[&error.id()];
                samples.push(fetcher.clock.done(Sample::cancelled(
                    seq,
                    endpoint,
                    None,
                    fetcher.clock.now(),
                )));
            }
        }
    }
    samples
}

/// Makes single requests: holds the shared client and the run's clock.
#[derive(Clone)]
pub(super) struct Fetcher {
    shared: reqwest::Client,
    reuse: ClientReuse,
    http: HttpVersion,
    /// The certificate every client (the shared one, and each per-request one) trusts.
    trusted_ca: TrustedCa,
    timeout: Option<std::time::Duration>,
    retries: u32,
    backoff: std::time::Duration,
    clock: RunClock,
}

impl Fetcher {
    /// A fetcher with one shared client built for `options`, on `clock`.
    pub(super) fn new(options: &ClientOptions, clock: RunClock) -> Result<Fetcher, Error> {
        let shared = client(options.http, &options.trusted_ca)
            .map_err(|e| Error::Client(format!("reqwest could not be built: {e}")))?;
        Ok(Fetcher {
            shared,
            reuse: options.reuse,
            http: options.http,
            trusted_ca: options.trusted_ca.clone(),
            timeout: options.timeout,
            retries: options.retries,
            backoff: options.backoff,
            clock,
        })
    }

    /// Starts the run's clock now (set-up is done) and returns it.
    pub(super) fn restart_clock(&mut self) -> RunClock {
        self.clock = self.clock.clone().restarted();
        self.clock.clone()
    }

    /// The run's clock.
    pub(super) fn clock(&self) -> &RunClock {
        &self.clock
    }

    /// The shared client.
    pub(super) fn client(&self) -> &reqwest::Client {
        &self.shared
    }

    /// Waits for `future` unless the deadline, or the cut of a stopping run, comes
    /// first: then `future` is dropped, which cancels it.
    pub(super) async fn wait<F: std::future::Future>(&self, future: F) -> Option<F::Output> {
        let deadline = tokio::time::Instant::from_std(self.clock.deadline);
        tokio::select! {
            biased;
            out = tokio::time::timeout_at(deadline, future) => out.ok(),
            () = self.clock.stop().cut() => None,
        }
    }

    pub(super) fn cancelled(
        &self,
        request: &PlannedRequest,
        start: Option<std::time::Duration>,
    ) -> Sample {
        let sample = Sample::cancelled(request.seq, request.endpoint, start, self.clock.now());
        self.clock.done(sample)
    }

    /// One request, start to last body byte, retried as the options say, ended by the
    /// deadline at the latest: each attempt on the shared (or a per-request) reqwest
    /// client.
    pub(super) async fn fetch(&self, request: &PlannedRequest) -> Sample {
        self.fetch_with(request, &mut ReqwestExchange(self)).await
    }

    /// [`Fetcher::fetch`] with each attempt made by `exchange`: the one place that
    /// decides the pace, the retries, the deadline and the sample, for reqwest and for
    /// the hyper-direct strategy alike.
    pub(super) async fn fetch_with<E: Exchange>(
        &self,
        request: &PlannedRequest,
        exchange: &mut E,
    ) -> Sample {
        let sample = self.attempts_with(request, exchange).await;
        self.clock.done(sample)
    }

    /// One copy of a request on reqwest, as [`Fetcher::fetch`] makes it, but not yet
    /// counted as finished: the strategies that race copies count the one sample they
    /// keep ([`RunClock::count`]).
    pub(super) async fn attempt_all(&self, request: &PlannedRequest) -> Sample {
        self.attempts_with(request, &mut ReqwestExchange(self))
            .await
    }

    /// The attempts of one request, uncounted (see [`Fetcher::fetch_with`]). A run that
    /// is stopping sends nothing new: the request ends as cancelled, never sent.
    async fn attempts_with<E: Exchange>(
        &self,
        request: &PlannedRequest,
        exchange: &mut E,
    ) -> Sample {
        let unsent = || Sample::cancelled(request.seq, request.endpoint, None, self.clock.now());
        if self.clock.remaining().is_zero() || self.clock.is_stopping() {
            return unsent();
        }
        // A paced run's first wait comes before the request starts, like a limiter's.
        if self.clock.is_paced() && self.wait(self.clock.pace()).await.is_none() {
            return unsent();
        }
        let start = self.clock.now();
        let mut waits = retry::waits(self.retries, self.backoff);
        let mut attempts = 0;
        let last = loop {
            attempts += 1;
            let paced_attempt = async {
                if attempts > 1 {
                    self.clock.pace().await;
                }
                exchange.attempt(request, self.timeout).await
            };
            let Some(attempt) = self.wait(paced_attempt).await else {
                let mut sample =
                    Sample::cancelled(request.seq, request.endpoint, Some(start), self.clock.now());
                sample.attempts = attempts;
                return sample;
            };
            // A stopping run makes no new attempt either.
            let next = match self.clock.is_stopping() {
                true => None,
                false => retry::next_wait(&attempt, &mut waits, self.clock.remaining()),
            };
            match next {
                // The backoff ends at the cut too; a run stopped meanwhile sends no retry.
                Some(wait) => {
                    let waited = self.wait(tokio::time::sleep(wait)).await.is_some();
                    if !waited || self.clock.is_stopping() {
                        break attempt;
                    }
                }
                None => break attempt,
            }
        };
        Sample {
            seq: request.seq,
            endpoint: request.endpoint,
            start,
            end: self.clock.now(),
            outcome: last.outcome,
            status: last.status,
            bytes: last.bytes,
            attempts,
            intended: None,
            copies: 0,
        }
    }

    /// One exchange on reqwest, classified.
    async fn attempt(&self, request: &PlannedRequest) -> Attempt {
        self.attempt_keeping(request).await.0
    }

    /// [`Fetcher::fetch`] that keeps the body of the last attempt (empty when none
    /// came): for `async-pipeline`, whose consumers need it.
    pub(super) async fn fetch_keeping(&self, request: &PlannedRequest) -> (Sample, bytes::Bytes) {
        let mut exchange = KeepingExchange {
            fetcher: self,
            body: bytes::Bytes::new(),
        };
        let sample = self.fetch_with(request, &mut exchange).await;
        (sample, exchange.body)
    }

    /// One exchange on reqwest, classified, with the body it read.
    async fn attempt_keeping(&self, request: &PlannedRequest) -> (Attempt, bytes::Bytes) {
        let client = match self.reuse {
            ClientReuse::Shared => Ok(self.shared.clone()),
            ClientReuse::PerRequest => client(self.http, &self.trusted_ca),
        };
        let failed = |outcome, status| {
            let attempt = Attempt {
                outcome,
                status,
                bytes: 0,
                retry_after: None,
            };
            (attempt, bytes::Bytes::new())
        };
        let Ok(client) = client else {
            return failed(Outcome::Connect, None);
        };
        let mut builder = client.request(request.method.clone(), request.url.url().clone());
        if let Some(body) = &request.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        let response = match builder.send().await {
            Ok(response) => response,
            Err(e) => return failed(classify(&e), None),
        };
        let status = response.status().as_u16();
        let retry_after = retry::retry_after_of(response.headers());
        match response.bytes().await {
            Ok(body) => {
                let attempt = Attempt {
                    outcome: Outcome::from_status(status),
                    status: Some(status),
                    bytes: body.len() as u64,
                    retry_after,
                };
                (attempt, body)
            }
            Err(e) => failed(classify(&e), Some(status)),
        }
    }
}

/// How one attempt of a request is made: [`Fetcher::fetch_with`] drives the attempts.
pub(super) trait Exchange {
    /// Sends `request` once and reads its answer, giving up after `timeout`.
    fn attempt(
        &mut self,
        request: &PlannedRequest,
        timeout: Option<std::time::Duration>,
    ) -> impl std::future::Future<Output = Attempt> + Send;
}

/// Attempts on the fetcher's reqwest client (its timeout is reqwest's own).
struct ReqwestExchange<'a>(&'a Fetcher);

impl Exchange for ReqwestExchange<'_> {
    fn attempt(
        &mut self,
        request: &PlannedRequest,
        _timeout: Option<std::time::Duration>,
    ) -> impl std::future::Future<Output = Attempt> + Send {
        self.0.attempt(request)
    }
}

/// Attempts on the fetcher's reqwest client that keep the last body read.
struct KeepingExchange<'a> {
    fetcher: &'a Fetcher,
    body: bytes::Bytes,
}

impl Exchange for KeepingExchange<'_> {
    async fn attempt(
        &mut self,
        request: &PlannedRequest,
        _timeout: Option<std::time::Duration>,
    ) -> Attempt {
        let (attempt, body) = self.fetcher.attempt_keeping(request).await;
        self.body = body;
        attempt
    }
}

/// A reqwest client for loopback, trusting exactly `ca` ([`trust::reqwest_builder`]).
fn client(http: HttpVersion, ca: &TrustedCa) -> reqwest::Result<reqwest::Client> {
    trust::reqwest_builder(http, ca.as_deref()).build()
}

/// Sorts a reqwest error into an outcome: a rustls error anywhere in its chain (a
/// certificate not trusted, a handshake the server failed) is `tls`, before the connect
/// error reqwest reports it as.
fn classify(error: &reqwest::Error) -> Outcome {
    if error.is_timeout() {
        Outcome::Timeout
    } else if trust::is_tls_failure(error) {
        Outcome::Tls
    } else if error.is_connect() {
        Outcome::Connect
    } else {
        Outcome::Dropped
    }
}
