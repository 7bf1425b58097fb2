//! Two client-side rate limiters, so the report can show from the server's own windows
//! whether each keeps its promise.
//!
//! - [`Gcra`]: the well-kept way, `governor`'s generic cell rate algorithm: each
//!   request is admitted one emission interval (1/rate) after the previous one. It keeps
//!   5 % headroom below the promised rate: admissions exactly 1/rate apart would put
//!   request 0 and request `rate` a hair under a second apart at the server whenever the
//!   network or a busy machine delays the first one more, and a strict server counts
//!   `rate + 1` in that window.
//! - [`SlidingWindow`]: the book chapter's limiter (document 1, section 6), ported as
//!   written, as the lesson: a shared list of call times; a caller that finds the list
//!   full sleeps until the oldest call leaves the window, drops it, and records the time
//!   it *started* waiting. Every caller that queued behind a full window computes the
//!   same wake-up, wakes with the others, and all go at once: after the first second
//!   the promise no longer holds.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::{Quota, RateLimiter};

/// How much longer than `1 / rate` the GCRA limiter spaces its admissions.
pub const HEADROOM: f64 = 1.05;

/// `governor`'s GCRA limiter at `rate` requests per second, with 5 % headroom.
pub struct Gcra {
    limiter: RateLimiter<
        governor::state::NotKeyed,
        governor::state::InMemoryState,
        governor::clock::DefaultClock,
    >,
}

impl std::fmt::Debug for Gcra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gcra")
    }
}

impl Gcra {
    /// A limiter admitting at most `per_second` requests in any second, one at a time.
    pub fn new(per_second: f64) -> Gcra {
        // Scenarios keep the rate within `scenario::RATE_RANGE`; the clamps only keep a
        // caller outside it from a zero or unrepresentable interval.
        let interval = Duration::try_from_secs_f64(HEADROOM / per_second.max(1e-6))
            .unwrap_or(Duration::MAX)
            .max(Duration::from_nanos(1));
        let quota = Quota::with_period(interval)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN);
        Gcra {
            limiter: RateLimiter::direct(quota),
        }
    }

    /// Waits until this caller may send.
    pub async fn acquire(&self) {
        self.limiter.until_ready().await;
    }

    /// Blocks this thread until its caller may send (for the sync strategies), or
    /// until `deadline`: `false` when the deadline came first.
    pub fn acquire_blocking_until(&self, deadline: Instant) -> bool {
        use governor::clock::{Clock, DefaultClock};
        while let Err(not_until) = self.limiter.check() {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return false;
            }
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            std::thread::sleep(wait.min(remaining));
        }
        true
    }
}

/// The chapter's sliding-window limiter, as written (see the module docs for its flaw).
pub struct SlidingWindow {
    max_calls: usize,
    period: Duration,
    calls: Mutex<Vec<Instant>>,
}

impl SlidingWindow {
    /// At most `max_calls` per `period`, as the chapter intends.
    pub fn new(max_calls: usize, period: Duration) -> SlidingWindow {
        SlidingWindow {
            max_calls: max_calls.max(1),
            period,
            calls: Mutex::new(Vec::new()),
        }
    }

    /// The chapter's `acquire`, step for step.
    pub async fn acquire(&self) {
        let now = Instant::now();
        let wait = {
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            // Remove calls outside the current period.
            calls.retain(|t| now.duration_since(*t) < self.period);
            (calls.len() >= self.max_calls).then(|| self.period - now.duration_since(calls[0]))
        };
        if let Some(sleep) = wait {
            // Wait until the oldest call expires, then drop it...
            tokio::time::sleep(sleep).await;
            let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
            if !calls.is_empty() {
                calls.remove(0);
            }
        }
        // ...and record `now`: the time this caller started waiting, not the time it goes.
        self.calls
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start times of `n` callers that all queue on `acquire` at once.
    async fn admissions(
        n: usize,
        acquire: impl Fn() -> futures::future::BoxFuture<'static, ()>,
    ) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let wait = acquire();
                tokio::spawn(async move {
                    wait.await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap());
        }
        times.sort();
        times
    }

    fn most_in_window(times: &[Duration], window: Duration) -> usize {
        (0..times.len())
            .map(|i| {
                times[i..]
                    .iter()
                    .take_while(|t| **t - times[i] < window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn gcra_spaces_callers_and_the_sliding_window_bunches_them() {
        // A tenth of a second stands in for the second: 10 per 100 ms.
        let window = Duration::from_millis(100);
        let gcra = std::sync::Arc::new(Gcra::new(100.0));
        let times = admissions(30, || {
            let gcra = gcra.clone();
            Box::pin(async move { gcra.acquire().await })
        })
        .await;
        assert!(most_in_window(&times, window) <= 10, "{times:?}");

        let naive = std::sync::Arc::new(SlidingWindow::new(10, window));
        let times = admissions(30, || {
            let naive = naive.clone();
            Box::pin(async move { naive.acquire().await })
        })
        .await;
        // Ten go at once; the twenty that queued all wake together one window later.
        assert!(most_in_window(&times, window) >= 15, "{times:?}");
    }
}
