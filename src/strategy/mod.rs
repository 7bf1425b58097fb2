//! The strategies: one closed [`Strategy`] enum, each variant a real implementation of
//! "make these n requests", sync (`ureq` on OS threads) or async (`reqwest` on tokio).
//!
//! | strategy            | how requests are made                                        |
//! |---------------------|--------------------------------------------------------------|
//! | `sync-sequential`   | one after another on the calling thread                      |
//! | `sync-threads`      | a pool of `--threads` OS threads sharing one `ureq` agent     |
//! | `async-sequential`  | awaited one after another                                    |
//! | `async-concurrent`  | all spawned at once and all awaited (the tutorials' gather)  |
//! | `async-failfast`    | a `JoinSet` under `--limit`; the first failure aborts the rest |
//! | `async-semaphore`   | all spawned, each waits for one of `--limit` permits         |
//! | `async-buffered`    | a stream with `buffer_unordered(--limit)`                    |
//! | `async-hyper`       | `--limit` workers on hyper's own connections, no reqwest (see `hyper_direct.rs`) |
//! | `async-ratelimited` | all spawned, each admitted by a GCRA limiter at `--rate`     |
//! | `async-naive-ratelimited` | the same with the book chapter's sliding window, as written |
//! | `async-first-of`    | each request as `--replicas` copies at once; the first answer wins (see `replicas.rs`) |
//! | `async-hedged`      | a second copy once the first is late by `--hedge-after`; the first answer wins |
//! | `async-pipeline`    | `--limit` fetchers feed a `--channel` to `--consumers` that spend `--work` per body (see `backpressure.rs`) |
//! | `async-arrival-rate` | an open loop: each starts at its time on a `--rate` or `--ramp` schedule, answered or not, at most `--max-in-flight` at once |
//! | `pitfall-blocking-sleep` | current-thread runtime; each task blocks it for `--work` |
//! | `pitfall-async-sleep` | the same with an async sleep: the fix                     |
//! | `pitfall-never-awaited` | request futures built and dropped: nothing is sent      |
//!
//! Every strategy but `async-arrival-rate` is a closed loop: a request starts when a
//! slot frees (see `open_loop.rs` for what that hides).
//!
//! Each returns one [`Sample`] per planned request, whatever happens. Read `sync.rs`
//! and `asynchronous.rs` side by side: the same fan-out in both worlds.

pub mod arrival;
mod asynchronous;
pub mod backpressure;
mod hyper_direct;
mod open_loop;
mod options;
mod pitfalls;
pub mod ratelimit;
pub mod replicas;
pub mod request;
pub mod retry;
pub mod stop;
mod sync;
pub mod trust;

pub use asynchronous::run as run_async;
pub use options::ClientOptions;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::measure::Sample;
use request::PlannedRequest;

/// How a run makes its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// ureq, one request after another.
    SyncSequential,
    /// ureq on a pool of `--threads` OS threads sharing one agent.
    SyncThreads,
    /// reqwest, each request awaited before the next starts.
    AsyncSequential,
    /// reqwest, every request spawned at once (gather).
    AsyncConcurrent,
    /// reqwest in a JoinSet under `--limit`; the first failure aborts the rest.
    AsyncFailfast,
    /// reqwest, every request spawned, `--limit` semaphore permits.
    AsyncSemaphore,
    /// reqwest, a stream buffered with `buffer_unordered(--limit)`.
    AsyncBuffered,
    /// hyper directly, no reqwest: `--limit` workers, each on a connection of its own.
    AsyncHyper,
    /// reqwest, every request spawned, admitted by `governor`'s GCRA at `--rate`.
    AsyncRatelimited,
    /// reqwest, every request spawned, admitted by the book chapter's sliding-window
    /// limiter at `--rate`, ported as written.
    AsyncNaiveRatelimited,
    /// reqwest, each request sent as `--replicas` copies at once under `--limit`; the
    /// first answer wins and the rest are cancelled.
    AsyncFirstOf,
    /// reqwest under `--limit`; a second copy is sent once a request is late by
    /// `--hedge-after` (a duration, or the run's percentile so far); first answer wins.
    AsyncHedged,
    /// reqwest, `--limit` fetchers sending bodies into a `--channel` that
    /// `--consumers` drain, spending `--work` on each.
    AsyncPipeline,
    /// reqwest, an open loop: request i starts at its intended time on the `--rate`
    /// (or `--ramp`) schedule whether or not earlier ones answered, at most
    /// `--max-in-flight` at once.
    AsyncArrivalRate,
    /// The pitfall: each task blocks the current-thread runtime with
    /// `std::thread::sleep(--work)` before its request.
    PitfallBlockingSleep,
    /// The fix: each task awaits `tokio::time::sleep(--work)` before its request.
    PitfallAsyncSleep,
    /// The pitfall: request futures built and dropped, never awaited; nothing is sent.
    PitfallNeverAwaited,
}

impl Strategy {
    /// Every strategy, in the order tables list them.
    pub const ALL: [Strategy; 17] = [
        Strategy::SyncSequential,
        Strategy::SyncThreads,
        Strategy::AsyncSequential,
        Strategy::AsyncConcurrent,
        Strategy::AsyncFailfast,
        Strategy::AsyncSemaphore,
        Strategy::AsyncBuffered,
        Strategy::AsyncHyper,
        Strategy::AsyncRatelimited,
        Strategy::AsyncNaiveRatelimited,
        Strategy::AsyncFirstOf,
        Strategy::AsyncHedged,
        Strategy::AsyncPipeline,
        Strategy::AsyncArrivalRate,
        Strategy::PitfallBlockingSleep,
        Strategy::PitfallAsyncSleep,
        Strategy::PitfallNeverAwaited,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::SyncSequential => "sync-sequential",
            Strategy::SyncThreads => "sync-threads",
            Strategy::AsyncSequential => "async-sequential",
            Strategy::AsyncConcurrent => "async-concurrent",
            Strategy::AsyncFailfast => "async-failfast",
            Strategy::AsyncSemaphore => "async-semaphore",
            Strategy::AsyncBuffered => "async-buffered",
            Strategy::AsyncHyper => "async-hyper",
            Strategy::AsyncRatelimited => "async-ratelimited",
            Strategy::AsyncNaiveRatelimited => "async-naive-ratelimited",
            Strategy::AsyncFirstOf => "async-first-of",
            Strategy::AsyncHedged => "async-hedged",
            Strategy::AsyncPipeline => "async-pipeline",
            Strategy::AsyncArrivalRate => "async-arrival-rate",
            Strategy::PitfallBlockingSleep => "pitfall-blocking-sleep",
            Strategy::PitfallAsyncSleep => "pitfall-async-sleep",
            Strategy::PitfallNeverAwaited => "pitfall-never-awaited",
        }
    }

    /// Which runner serves this strategy, with the strategy as that runner's own type.
    /// The one place that decides it: a new variant must be placed here, and no runner
    /// can be handed a strategy of another family.
    pub fn family(self) -> Family {
        match self {
            Strategy::SyncSequential => Family::Sync(SyncStrategy::Sequential),
            Strategy::SyncThreads => Family::Sync(SyncStrategy::Threads),
            Strategy::AsyncSequential => Family::Async(AsyncStrategy::Sequential),
            Strategy::AsyncConcurrent => Family::Async(AsyncStrategy::Concurrent),
            Strategy::AsyncFailfast => Family::Async(AsyncStrategy::Failfast),
            Strategy::AsyncSemaphore => Family::Async(AsyncStrategy::Semaphore),
            Strategy::AsyncBuffered => Family::Async(AsyncStrategy::Buffered),
            Strategy::AsyncHyper => Family::Async(AsyncStrategy::Hyper),
            Strategy::AsyncRatelimited => Family::Async(AsyncStrategy::Ratelimited),
            Strategy::AsyncNaiveRatelimited => Family::Async(AsyncStrategy::NaiveRatelimited),
            Strategy::AsyncFirstOf => Family::Async(AsyncStrategy::FirstOf),
            Strategy::AsyncHedged => Family::Async(AsyncStrategy::Hedged),
            Strategy::AsyncPipeline => Family::Async(AsyncStrategy::Pipeline),
            Strategy::AsyncArrivalRate => Family::Async(AsyncStrategy::ArrivalRate),
            Strategy::PitfallBlockingSleep => Family::Pitfall(PitfallStrategy::BlockingSleep),
            Strategy::PitfallAsyncSleep => Family::Pitfall(PitfallStrategy::AsyncSleep),
            Strategy::PitfallNeverAwaited => Family::Pitfall(PitfallStrategy::NeverAwaited),
        }
    }

    /// True for the `ureq` strategies.
    pub fn is_sync(self) -> bool {
        matches!(self.family(), Family::Sync(_))
    }

    /// True for the pitfalls: runs the model does not describe.
    pub fn is_pitfall(self) -> bool {
        matches!(self.family(), Family::Pitfall(_))
    }

    /// The one option that shapes this strategy's schedule, if any: the decision
    /// behind [`Strategy::limit`], [`Strategy::rate`], [`Strategy::threads`] and
    /// [`Strategy::work`].
    fn knob(self) -> Option<Knob> {
        match self {
            Strategy::SyncThreads => Some(Knob::Threads),
            Strategy::AsyncFailfast
            | Strategy::AsyncSemaphore
            | Strategy::AsyncBuffered
            | Strategy::AsyncHyper
            | Strategy::AsyncFirstOf
            | Strategy::AsyncHedged
            | Strategy::AsyncPipeline => Some(Knob::Limit),
            Strategy::AsyncRatelimited
            | Strategy::AsyncNaiveRatelimited
            | Strategy::AsyncArrivalRate => Some(Knob::Rate),
            Strategy::PitfallBlockingSleep | Strategy::PitfallAsyncSleep => Some(Knob::Work),
            Strategy::SyncSequential
            | Strategy::AsyncSequential
            | Strategy::AsyncConcurrent
            | Strategy::PitfallNeverAwaited => None,
        }
    }

    /// The in-flight limit (`--limit`), for the strategies that obey one.
    pub fn limit(self, options: &ClientOptions) -> Option<usize> {
        (self.knob() == Some(Knob::Limit)).then_some(options.limit)
    }

    /// The promised requests per second (`--rate`), for the rate-limited strategies
    /// and the open loop.
    pub fn rate(self, options: &ClientOptions) -> Option<f64> {
        (self.knob() == Some(Knob::Rate)).then_some(options.rate)
    }

    /// The OS threads (`--threads`), for `sync-threads`.
    pub fn threads(self, options: &ClientOptions) -> Option<usize> {
        (self.knob() == Some(Knob::Threads)).then_some(options.threads)
    }

    /// The client-side work (`--work`): before each request, for the sleep pitfalls;
    /// each consumer's per body, for `async-pipeline`.
    pub fn work(self, options: &ClientOptions) -> Option<Duration> {
        (self.knob() == Some(Knob::Work) || self == Strategy::AsyncPipeline).then_some(options.work)
    }

    /// The most requests this strategy keeps in flight, for `n` requests.
    pub fn concurrency(self, n: usize, options: &ClientOptions) -> usize {
        match self {
            Strategy::SyncSequential | Strategy::AsyncSequential => 1,
            Strategy::SyncThreads => options.threads.min(n),
            Strategy::AsyncConcurrent
            | Strategy::AsyncRatelimited
            | Strategy::AsyncNaiveRatelimited
            | Strategy::PitfallBlockingSleep
            | Strategy::PitfallAsyncSleep => n,
            Strategy::PitfallNeverAwaited => 1,
            Strategy::AsyncArrivalRate => options.max_in_flight.min(n),
            Strategy::AsyncFailfast
            | Strategy::AsyncSemaphore
            | Strategy::AsyncBuffered
            | Strategy::AsyncHyper
            | Strategy::AsyncFirstOf
            | Strategy::AsyncHedged
            | Strategy::AsyncPipeline => options.limit.min(n),
        }
    }
}

/// The option a strategy's schedule turns on (see [`Strategy::knob`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Knob {
    Limit,
    Rate,
    Threads,
    Work,
}

/// The runner a strategy belongs to: `ureq` on OS threads, `reqwest` on a
/// multi-thread runtime, or a pitfall on a current-thread runtime of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `sync.rs`: ureq on the calling thread or a pool of OS threads.
    Sync(SyncStrategy),
    /// `asynchronous.rs`: reqwest on a multi-thread runtime (or the caller's, through
    /// [`run_async`]).
    Async(AsyncStrategy),
    /// `pitfalls.rs`: each builds the current-thread runtime it needs to show its point.
    Pitfall(PitfallStrategy),
}

/// The strategies `sync.rs` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStrategy {
    /// `sync-sequential`.
    Sequential,
    /// `sync-threads`.
    Threads,
}

/// The strategies `asynchronous.rs` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncStrategy {
    /// `async-sequential`.
    Sequential,
    /// `async-concurrent`.
    Concurrent,
    /// `async-failfast`.
    Failfast,
    /// `async-semaphore`.
    Semaphore,
    /// `async-buffered`.
    Buffered,
    /// `async-hyper`.
    Hyper,
    /// `async-ratelimited`.
    Ratelimited,
    /// `async-naive-ratelimited`.
    NaiveRatelimited,
    /// `async-first-of`.
    FirstOf,
    /// `async-hedged`.
    Hedged,
    /// `async-pipeline`.
    Pipeline,
    /// `async-arrival-rate`.
    ArrivalRate,
}

/// The strategies `pitfalls.rs` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PitfallStrategy {
    /// `pitfall-blocking-sleep`.
    BlockingSleep,
    /// `pitfall-async-sleep`.
    AsyncSleep,
    /// `pitfall-never-awaited`.
    NeverAwaited,
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One client for every call, or a fresh one per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum ClientReuse {
    /// One client (one connection pool) for the whole run.
    Shared,
    /// A new client, so a new connection, for every request.
    PerRequest,
}

/// The HTTP version the client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum HttpVersion {
    /// HTTP/1.1: one request at a time per connection.
    #[value(name = "1")]
    #[serde(rename = "1.1")]
    Http1,
    /// HTTP/2 with prior knowledge: many streams over one connection.
    #[value(name = "2")]
    #[serde(rename = "2")]
    Http2,
}

/// What every strategy shares during one run: the clock its samples are measured on,
/// the deadline, and the counter a progress display watches.
///
/// A strategy sets up first (runtime, client, agent, threads) and then calls
/// [`RunClock::restarted`], so set-up costs are not charged to the requests.
#[derive(Debug, Clone)]
pub struct RunClock {
    /// The run's start: sample times are measured from here.
    pub t0: Instant,
    /// The same moment, µs since the Unix epoch: lines samples up with the ledger.
    pub started_unix_us: u64,
    /// Past this instant nothing new starts and everything unfinished is cancelled.
    pub deadline: Instant,
    /// How long after the start the deadline falls.
    allowed: Duration,
    /// Requests finished so far, for a progress display.
    pub completed: Arc<AtomicU64>,
    /// Every attempt of every strategy waits for this limiter first (runs against a
    /// `--target` server, which must never see more than its `--rate`).
    pace: Option<Arc<ratelimit::Gcra>>,
    /// Whether the run has been told to stop early, and when to cut what is left.
    stop: stop::RunStop,
    /// What the strategy measured beside its samples.
    notes: Arc<std::sync::Mutex<StrategyNotes>>,
}

/// What a strategy measures beside its samples, read by [`crate::run`] once it is done.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StrategyNotes {
    /// `async-pipeline`'s channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<backpressure::PipelineFigures>,
}

impl RunClock {
    /// A clock starting now with the deadline `allowed` from now.
    pub fn start(allowed: Duration, completed: Arc<AtomicU64>) -> RunClock {
        let t0 = Instant::now();
        RunClock {
            t0,
            started_unix_us: crate::server::ledger::now_us(),
            // A computed deadline can be astronomically far: cap it at a year.
            deadline: t0
                .checked_add(allowed)
                .unwrap_or(t0 + Duration::from_secs(365 * 86_400)),
            allowed,
            completed,
            pace: None,
            stop: stop::RunStop::new(stop::StopPolicy::default()),
            notes: Arc::default(),
        }
    }

    /// What the strategy noted beside its samples.
    pub fn notes(&self) -> StrategyNotes {
        self.notes.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Notes what the strategy measured beside its samples.
    pub(crate) fn note(&self, change: impl FnOnce(&mut StrategyNotes)) {
        change(&mut self.notes.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// The same clock, stopping early as `policy` says (its watcher is started by
    /// whoever runs the strategy: [`stop::RunStop::watch`]).
    pub fn stopping(mut self, policy: stop::StopPolicy) -> RunClock {
        self.stop = stop::RunStop::new(policy);
        self
    }

    /// The same clock, with every attempt paced to at most `per_second`.
    pub fn paced(mut self, per_second: Option<f64>) -> RunClock {
        self.pace = per_second.map(|rate| Arc::new(ratelimit::Gcra::new(rate)));
        self
    }

    /// The same clock started again now: call it once set-up is done.
    pub fn restarted(self) -> RunClock {
        let (pace, stop, notes) = (self.pace.clone(), self.stop.clone(), self.notes.clone());
        let clock = RunClock {
            pace,
            stop,
            notes,
            ..RunClock::start(self.allowed, self.completed)
        };
        clock.stop.started_at(clock.t0);
        clock
    }

    /// The run's stop.
    pub fn stop(&self) -> &stop::RunStop {
        &self.stop
    }

    /// True once the run is stopping early: nothing new may be sent.
    pub fn is_stopping(&self) -> bool {
        self.stop.is_stopping()
    }

    /// Waits for the pace, if the run has one, from async code.
    pub async fn pace(&self) {
        if let Some(pace) = &self.pace {
            pace.acquire().await;
        }
    }

    /// True when the run has a pace (a `--target` run).
    pub fn is_paced(&self) -> bool {
        self.pace.is_some()
    }

    /// Waits for the pace, if the run has one, on this thread; `false` when the
    /// deadline came first (the request must then end as cancelled).
    pub fn pace_blocking(&self) -> bool {
        match &self.pace {
            Some(pace) => pace.acquire_blocking_until(self.deadline),
            None => true,
        }
    }

    /// Time since the run started.
    pub fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn done(&self, sample: Sample) -> Sample {
        self.completed.fetch_add(1, Ordering::Relaxed);
        sample
    }

    /// Counts `sample` as one finished request (for a progress display) and returns it.
    pub(crate) fn count(&self, sample: Sample) -> Sample {
        self.done(sample)
    }
}

/// Makes every planned request with `strategy`; returns one sample per request and the
/// clock they were measured on (started once the strategy's set-up was done).
pub fn execute(
    strategy: Strategy,
    requests: Vec<PlannedRequest>,
    options: &ClientOptions,
    clock: RunClock,
) -> Result<(Vec<Sample>, RunClock), crate::error::Error> {
    match strategy.family() {
        Family::Sync(SyncStrategy::Sequential) => Ok(sync::sequential(&requests, options, clock)),
        Family::Sync(SyncStrategy::Threads) => Ok(sync::threads(&requests, options, clock)),
        Family::Async(strategy) => asynchronous::execute(strategy, requests, options, clock),
        Family::Pitfall(strategy) => pitfalls::execute(strategy, requests, options, clock),
    }
}

/// How the strategy runs, for reports: threads or the async runtime's shape.
pub fn execution_model(strategy: Strategy, options: &ClientOptions) -> String {
    match strategy.family() {
        Family::Sync(SyncStrategy::Sequential) => "1 OS thread".to_string(),
        Family::Sync(SyncStrategy::Threads) => format!("{} OS threads", options.threads),
        Family::Pitfall(_) => "tokio current-thread".to_string(),
        Family::Async(_) => format!(
            "tokio multi-thread, {} worker{}",
            options.runtime_workers,
            if options.runtime_workers == 1 {
                ""
            } else {
                "s"
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_has_one_name_on_the_command_line_in_json_and_in_reports() {
        use clap::ValueEnum;
        for strategy in Strategy::ALL {
            let clap_name = strategy
                .to_possible_value()
                .map(|v| v.get_name().to_string());
            let serde_name = serde_json::to_value(strategy).unwrap();
            assert_eq!(clap_name.as_deref(), Some(strategy.name()));
            assert_eq!(serde_name, serde_json::json!(strategy.name()));
            assert_eq!(strategy.to_string(), strategy.name());
        }
        assert_eq!(Strategy::value_variants().len(), Strategy::ALL.len());
    }

    #[test]
    fn each_knob_belongs_to_the_strategies_that_use_it() {
        let options = ClientOptions::default();
        let with_limit: Vec<Strategy> = Strategy::ALL
            .into_iter()
            .filter(|s| s.limit(&options).is_some())
            .collect();
        assert_eq!(
            with_limit,
            [
                Strategy::AsyncFailfast,
                Strategy::AsyncSemaphore,
                Strategy::AsyncBuffered,
                Strategy::AsyncHyper,
                Strategy::AsyncFirstOf,
                Strategy::AsyncHedged,
                Strategy::AsyncPipeline,
            ]
        );
        assert_eq!(
            Strategy::SyncThreads.threads(&options),
            Some(options.threads)
        );
        assert_eq!(
            Strategy::AsyncRatelimited.rate(&options),
            Some(options.rate)
        );
        assert_eq!(Strategy::AsyncConcurrent.rate(&options), None);
    }
}
