//! Sweeps: the same scenario at a range of n (or of a limit), a fresh mock API per
//! point, to find where "as fast as the slowest request" stops holding.
//!
//! Each point's *promise* is the tutorials' formula, the model with every overhead set
//! to zero: the slowest delay for an all-at-once run, the sum for a sequential one,
//! the waves of a limit. Efficiency against the promise (`promise / wall`) stays near 1
//! while the waits dominate and falls once the per-request costs (connections, task
//! start-up, the server's own work) add up to a noticeable share; the *knee* is the
//! first swept value from which it stays below [`KNEE`]. The model, with the costs this run
//! calibrated, says whether the fall was expected; the [attribution](crate::attribution)
//! of the run at the knee says which side paid.

use serde::Serialize;

use crate::model::{self, Calibration};
use crate::scenario::MAX_THREADS;
use crate::strategy::Strategy;
use crate::summary::RunSummary;

/// Efficiency against the promise below this marks the knee (and the chart draws it).
pub const KNEE: f64 = 0.9;

/// What a sweep varies (`--over`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepOver {
    /// The number of requests; sync-threads gets one thread per request (up to 4096).
    N,
    /// The concurrency limit of async-semaphore, async-buffered, async-failfast, and
    /// the thread count of sync-threads.
    Limit,
}

impl SweepOver {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            SweepOver::N => "n",
            SweepOver::Limit => "limit",
        }
    }
}

/// `points` values from `from` to `to` inclusive, evenly spaced on a log scale, rounded,
/// duplicates dropped.
pub fn log_points(from: u64, to: u64, points: usize) -> Vec<u64> {
    if points <= 1 || from == to {
        return vec![to];
    }
    let (lo, hi) = ((from as f64).ln(), (to as f64).ln());
    let mut values: Vec<u64> = (0..points)
        .map(|i| {
            (lo + (hi - lo) * i as f64 / (points - 1) as f64)
                .exp()
                .round() as u64
        })
        .map(|v| v.clamp(from, to))
        .collect();
    values.dedup();
    values
}

/// The scenario of one point: `base` with n or the limit set to `value`.
pub fn at(base: &crate::Scenario, over: SweepOver, value: u64) -> crate::Scenario {
    let mut scenario = base.clone();
    let as_usize = usize::try_from(value).unwrap_or(usize::MAX);
    match over {
        SweepOver::N => {
            scenario.n = value;
            if scenario.strategy == Strategy::SyncThreads {
                scenario.client.threads = as_usize.min(MAX_THREADS);
            }
        }
        SweepOver::Limit => {
            scenario.client.limit = as_usize;
            scenario.client.threads = as_usize.min(MAX_THREADS);
        }
    }
    scenario
}

/// One point of a sweep, measured.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The swept value.
    pub value: u64,
    /// The formula's wall, without overheads, ms.
    pub promise_ms: f64,
    /// `promise_ms / wall_ms`.
    pub efficiency_vs_promise: f64,
    /// The run's figures.
    pub summary: RunSummary,
}

impl Point {
    /// Joins a run's summary with its promise.
    pub fn new(value: u64, scenario: &crate::Scenario, summary: RunSummary) -> Point {
        let promise_ms = model::predict_scenario(scenario, &Calibration::default()).wall_ms;
        Point {
            value,
            promise_ms,
            efficiency_vs_promise: promise_ms / summary.wall_ms.max(f64::MIN_POSITIVE),
            summary,
        }
    }
}

/// The first value (in increasing order) from which efficiency stays below [`KNEE`]:
/// one noisy point that recovers is not a knee.
pub fn knee(points: &[Point]) -> Option<u64> {
    let pairs: Vec<(u64, f64)> = points
        .iter()
        .map(|p| (p.value, p.efficiency_vs_promise))
        .collect();
    knee_of(&pairs)
}

/// [`knee`] on `(value, efficiency)` pairs.
pub fn knee_of(points: &[(u64, f64)]) -> Option<u64> {
    let mut sorted = points.to_vec();
    sorted.sort_by_key(|p| p.0);
    let stays_low_from = sorted
        .iter()
        .rposition(|p| p.1 >= KNEE)
        .map_or(0, |last_high| last_high + 1);
    sorted.get(stays_low_from).map(|p| p.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_log_spaced_and_distinct() {
        assert_eq!(log_points(1, 10_000, 5), vec![1, 10, 100, 1000, 10_000]);
        assert_eq!(log_points(1, 4, 9), vec![1, 2, 3, 4]);
        assert_eq!(log_points(7, 7, 3), vec![7]);
        assert_eq!(log_points(1, 100, 1), vec![100]);
    }

    #[test]
    fn the_knee_is_where_efficiency_falls_and_stays_below() {
        let curve = [
            (1, 0.99),
            (10, 0.98),
            (100, 0.95),
            (1000, 0.86),
            (10_000, 0.4),
        ];
        assert_eq!(knee_of(&curve), Some(1000));
        // A dip that recovers is noise, not a knee.
        let dip = [
            (1, 0.99),
            (10, 0.85),
            (100, 0.97),
            (1000, 0.8),
            (10_000, 0.5),
        ];
        assert_eq!(knee_of(&dip), Some(1000));
        assert_eq!(knee_of(&[(1, 0.99), (10, 0.95)]), None);
        assert_eq!(knee_of(&[(1, 0.5), (10, 0.4)]), Some(1));
        assert_eq!(knee_of(&[]), None);
    }

    #[test]
    fn sync_threads_get_a_thread_per_request_when_n_is_swept() {
        let base = crate::Scenario::new(
            crate::server::profile::Profile::single("10ms".parse().unwrap()),
            5,
            Strategy::SyncThreads,
        );
        assert_eq!(at(&base, SweepOver::N, 300).client.threads, 300);
        assert_eq!(at(&base, SweepOver::N, 9000).client.threads, MAX_THREADS);
        let limited = at(&base, SweepOver::Limit, 8);
        assert_eq!(
            (limited.n, limited.client.limit, limited.client.threads),
            (5, 8, 8)
        );
    }
}
