//! Stopping a run before its end, gracefully: on Ctrl-C, or `--stop-after T`.
//!
//! A fan-out that is told to stop has three kinds of request: those not yet sent,
//! those in flight, and those done. A graceful stop treats each its own way:
//!
//! 1. **Stop starting.** From the stop on, nothing new is sent: no request, no retry,
//!    no hedge. A request that had not been sent ends as `cancelled` with no attempt
//!    ([`Sample::attempts`] 0).
//! 2. **Let the in-flight finish, for a while.** Those already sent get `--grace` to
//!    answer, and end as whatever they end as.
//! 3. **Cut the rest.** When the grace is over (or at a second Ctrl-C), every future
//!    still waiting is dropped: its connection is closed, the server's ledger records
//!    the request as abandoned, and it ends as `cancelled` with its attempts counted.
//!
//! So every request still ends as exactly one outcome, and the summary of the partial
//! run is printed as usual (its JSON parses). The async strategies obey all three
//! steps through the fetcher they share (`asynchronous.rs`); the sync ones stop
//! starting, but a blocking `ureq` call cannot be interrupted, so their in-flight
//! requests end on their own (bounded by `--timeout` and the deadline), which is the lesson of chapter
//! 3 seen from the other side.
//!
//! The cut is a [`CancellationToken`] (tokio-util's), the stop a flag: both are set by
//! a watcher thread that looks every few milliseconds at the clock and at the count of
//! Ctrl-C presses [`install_ctrl_c`] keeps for the whole process.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

#[cfg(doc)]
use crate::measure::Sample;

/// How often the watcher looks at the clock and the Ctrl-C count.
const WATCH_EVERY: Duration = Duration::from_millis(5);

/// The grace period when `--grace` is not given.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(1);

/// Ctrl-C presses since [`install_ctrl_c`], for the whole process.
static INTERRUPTS: AtomicU32 = AtomicU32::new(0);

/// Makes Ctrl-C (SIGINT) stop runs gracefully instead of killing the process: each
/// press is counted, and a run's watcher reads the count. Called once by the commands
/// that run scenarios; later calls do nothing. Without a runtime of its own to lean
/// on, it waits for the signal on a small thread.
pub fn install_ctrl_c() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let listening = std::thread::Builder::new()
            .name("fanout-ctrl-c".to_string())
            .spawn(|| {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                runtime.block_on(async {
                    while tokio::signal::ctrl_c().await.is_ok() {
                        INTERRUPTS.fetch_add(1, Ordering::SeqCst);
                    }
                });
            });
        // Without the thread, Ctrl-C keeps its default: the process ends at once.
        drop(listening);
    });
}

/// True once Ctrl-C has been pressed in this process.
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// `--stop-after`.
    StopAfter,
}

/// When a run stops early, and how long its in-flight requests may take to finish.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StopPolicy {
    /// Stop this long after the run's start (`--stop-after`); `None`: only on Ctrl-C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Duration>,
    /// How long requests in flight at the stop may take before they are cut.
    pub grace: Duration,
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy {
            after: None,
            grace: DEFAULT_GRACE,
        }
    }
}

/// What a stopped run records: why, when, and when the rest was cut.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StopRecord {
    /// Ctrl-C or `--stop-after`.
    pub reason: StopReason,
    /// When nothing new was sent any more, ms from the run's start.
    pub stopped_at_ms: f64,
    /// When what was still in flight was cut, ms from the run's start; `None` when
    /// everything finished within the grace.
    pub cut_at_ms: Option<f64>,
    /// The grace period allowed, ms.
    pub grace_ms: f64,
}

/// One run's stop: shared by its clock's clones, set by its watcher.
#[derive(Debug, Clone)]
pub struct RunStop {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    policy: StopPolicy,
    stopping: AtomicBool,
    cut: CancellationToken,
    /// The run's start, as the clock last restarted it.
    started: Mutex<Instant>,
    /// The stop, µs after the start (`u64::MAX`: not stopped).
    stopped_at_us: AtomicU64,
    cut_at_us: AtomicU64,
    reason: Mutex<Option<StopReason>>,
    finished: AtomicBool,
}

impl RunStop {
    /// A run's stop under `policy`; its watcher starts with [`RunStop::watch`].
    pub fn new(policy: StopPolicy) -> RunStop {
        RunStop {
            inner: Arc::new(Inner {
                policy,
                stopping: AtomicBool::new(false),
                cut: CancellationToken::new(),
                started: Mutex::new(Instant::now()),
                stopped_at_us: AtomicU64::new(u64::MAX),
                cut_at_us: AtomicU64::new(u64::MAX),
                reason: Mutex::new(None),
                finished: AtomicBool::new(false),
            }),
        }
    }

    /// Counts `--stop-after` from `t0` (the clock's restart, once set-up is done).
    pub(super) fn started_at(&self, t0: Instant) {
        *self.inner.started.lock().unwrap_or_else(|p| p.into_inner()) = t0;
    }

    /// True once the run is stopping: nothing new may be sent.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// Resolves when the requests still in flight are to be cut.
    pub fn cut(&self) -> tokio_util::sync::WaitForCancellationFuture<'_> {
        self.inner.cut.cancelled()
    }

    /// True once the rest has been cut.
    pub fn is_cut(&self) -> bool {
        self.inner.cut.is_cancelled()
    }

    /// Starts the watcher thread; it ends when the returned guard is dropped.
    pub fn watch(&self) -> WatchGuard {
        let stop = self.clone();
        let thread = std::thread::Builder::new()
            .name("fanout-stop".to_string())
            .spawn(move || stop.watch_loop())
            .ok();
        WatchGuard {
            stop: self.clone(),
            thread,
        }
    }

    fn watch_loop(&self) {
        let inner = &self.inner;
        let mut stopped_at: Option<(Instant, u32)> = None;
        while !inner.finished.load(Ordering::Acquire) {
            std::thread::sleep(WATCH_EVERY);
            // Every press in this process counts: one during calibration, before the
            // measured run began, stops that run at its start.
            let presses = INTERRUPTS.load(Ordering::SeqCst);
            let started = *inner.started.lock().unwrap_or_else(|p| p.into_inner());
            match stopped_at {
                None => {
                    let reason = if presses > 0 {
                        Some(StopReason::Interrupt)
                    } else {
                        inner
                            .policy
                            .after
                            .filter(|after| started.elapsed() >= *after)
                            .map(|_| StopReason::StopAfter)
                    };
                    if let Some(reason) = reason {
                        *inner.reason.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason);
                        let at = started.elapsed().as_micros() as u64;
                        inner.stopped_at_us.store(at, Ordering::Release);
                        inner.stopping.store(true, Ordering::Release);
                        stopped_at = Some((Instant::now(), presses));
                    }
                }
                Some((when, presses_then)) => {
                    // A further Ctrl-C cuts at once; otherwise the grace runs out.
                    if !inner.cut.is_cancelled()
                        && (presses > presses_then || when.elapsed() >= inner.policy.grace)
                    {
                        let at = started.elapsed().as_micros() as u64;
                        inner.cut_at_us.store(at, Ordering::Release);
                        inner.cut.cancel();
                    }
                }
            }
        }
    }

    /// What the run records of its stop; `None` when it was not stopped.
    pub fn record(&self) -> Option<StopRecord> {
        let inner = &self.inner;
        let reason = (*inner.reason.lock().unwrap_or_else(|p| p.into_inner()))?;
        let ms = |us: u64| (us != u64::MAX).then(|| us as f64 / 1e3);
        Some(StopRecord {
            reason,
            stopped_at_ms: ms(inner.stopped_at_us.load(Ordering::Acquire)).unwrap_or(0.0),
            cut_at_ms: ms(inner.cut_at_us.load(Ordering::Acquire)),
            grace_ms: inner.policy.grace.as_secs_f64() * 1e3,
        })
    }
}

/// Ends a run's watcher when dropped.
pub struct WatchGuard {
    stop: RunStop,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.stop.inner.finished.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_after_stops_then_cuts_after_the_grace() {
        let stop = RunStop::new(StopPolicy {
            after: Some(Duration::from_millis(30)),
            grace: Duration::from_millis(60),
        });
        stop.started_at(Instant::now());
        let _watching = stop.watch();
        assert!(!stop.is_stopping());
        let begun = Instant::now();
        while !stop.is_cut() && begun.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(2));
        }
        let record = stop.record().expect("it stopped");
        assert_eq!(record.reason, StopReason::StopAfter);
        let cut = record.cut_at_ms.expect("it was cut");
        // Loose: the watcher looks every 5 ms on a shared machine.
        assert!(record.stopped_at_ms >= 30.0, "{record:?}");
        assert!(cut >= record.stopped_at_ms + 60.0, "{record:?}");
    }

    #[test]
    fn a_run_without_a_stop_records_none() {
        let stop = RunStop::new(StopPolicy::default());
        let watching = stop.watch();
        std::thread::sleep(Duration::from_millis(20));
        drop(watching);
        assert!(!stop.is_stopping());
        assert_eq!(stop.record(), None);
    }
}
