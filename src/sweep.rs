//! Sweeps: the same scenario at a range of n, of a limit or of the round-trip time, a
//! fresh mock API per point, to find where "as fast as the slowest request" stops
//! holding, or what a shared client and HTTP/2 save as the API moves away.
//!
//! Each point's *promise* is the tutorials' formula, the model with every overhead set
//! to zero: the slowest delay for an all-at-once run, the sum for a sequential one,
//! the waves of a limit (plus the round trips the network charges). Efficiency against
//! the promise (`promise / wall`) stays near 1 while the waits dominate and falls once
//! the per-request costs (connections, task start-up, the server's own work) add up to
//! a noticeable share; the *knee* is the first swept value from which it stays below
//! [`KNEE`]. The model, with the costs this run calibrated, says whether the fall was
//! expected; the [attribution](crate::attribution) of the run at the knee says which
//! side paid.
//!
//! A sweep's series are its strategies, or, with [`ClientSetup`]s (`--clients`), each
//! strategy under each client configuration: over the round-trip time (`--over rtt`),
//! `shared-h1`, `per-request-h1` and `shared-h2` show what a connection costs at each
//! distance (a handshake per request against one per pool or one in all), which
//! loopback hides.

use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

use crate::model::{self, Calibration};
use crate::scenario::MAX_THREADS;
use crate::strategy::{ClientReuse, HttpVersion, Strategy};
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
    /// The network's round-trip time, in ms (0 is loopback); the points are evenly
    /// spaced, not on a log scale, so that 0 is one of them.
    Rtt,
}

impl SweepOver {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            SweepOver::N => "n",
            SweepOver::Limit => "limit",
            SweepOver::Rtt => "rtt",
        }
    }

    /// The range swept when `--range` is not given.
    pub fn default_range(self) -> (u64, u64) {
        match self {
            SweepOver::N | SweepOver::Limit => (1, 10_000),
            SweepOver::Rtt => (0, 200),
        }
    }

    /// `points` values from `from` to `to`: on a log scale for counts, evenly for a
    /// round trip.
    pub fn points(self, from: u64, to: u64, points: usize) -> Vec<u64> {
        match self {
            SweepOver::N | SweepOver::Limit => log_points(from, to, points),
            SweepOver::Rtt => linear_points(from, to, points),
        }
    }

    /// Whether `from..to` can be swept: counts start at 1, a round trip is at most the
    /// network's [`MAX_RTT`](crate::server::network::MAX_RTT). Says why not.
    pub fn check_range(self, from: u64, to: u64) -> Result<(), String> {
        let max_rtt_ms = crate::server::network::MAX_RTT.as_millis();
        match self {
            SweepOver::N | SweepOver::Limit if from == 0 => Err(format!(
                "--range for --over {} starts at 0: it must be at least 1",
                self.name()
            )),
            SweepOver::Rtt if u128::from(to) > max_rtt_ms => Err(format!(
                "--range for --over rtt is in ms and ends at {to}, above the longest round trip, {max_rtt_ms} ms"
            )),
            _ => Ok(()),
        }
    }
}

/// One client configuration a sweep compares (`--clients shared-h1,per-request-h1`):
/// whether requests share one client (one pool) and which HTTP version it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClientSetup {
    /// One client for every call, or one per call.
    pub reuse: ClientReuse,
    /// HTTP/1.1 or HTTP/2; `None`: the scenario's `--http`.
    pub http: Option<HttpVersion>,
}

impl ClientSetup {
    /// The setup's name, as `--clients` takes it and the series are labelled.
    pub fn name(self) -> String {
        let reuse = match self.reuse {
            ClientReuse::Shared => "shared",
            ClientReuse::PerRequest => "per-request",
        };
        match self.http {
            None => reuse.to_string(),
            Some(HttpVersion::Http1) => format!("{reuse}-h1"),
            Some(HttpVersion::Http2) => format!("{reuse}-h2"),
        }
    }

    /// `base` under this setup.
    pub fn apply(self, base: &crate::Scenario) -> crate::Scenario {
        let mut scenario = base.clone();
        scenario.client.reuse = self.reuse;
        if let Some(http) = self.http {
            scenario.client.http = http;
        }
        scenario
    }
}

impl FromStr for ClientSetup {
    type Err = String;

    /// `shared`, `per-request`, either with `-h1` or `-h2` (`h2` alone is `shared-h2`).
    fn from_str(text: &str) -> Result<ClientSetup, String> {
        let text = text.trim();
        let (reuse, http) = match text {
            "h1" => ("shared", Some(HttpVersion::Http1)),
            "h2" => ("shared", Some(HttpVersion::Http2)),
            _ => match text.rsplit_once('-') {
                Some((reuse, "h1")) => (reuse, Some(HttpVersion::Http1)),
                Some((reuse, "h2")) => (reuse, Some(HttpVersion::Http2)),
                _ => (text, None),
            },
        };
        let reuse = match reuse {
            "shared" => ClientReuse::Shared,
            "per-request" => ClientReuse::PerRequest,
            _ => {
                return Err(format!(
                    "'{text}' is not a client setup: write shared or per-request, optionally with -h1 or -h2 (e.g. shared-h2)"
                ));
            }
        };
        Ok(ClientSetup { reuse, http })
    }
}

/// `points` values from `from` to `to` inclusive, evenly spaced, rounded, duplicates
/// dropped.
pub fn linear_points(from: u64, to: u64, points: usize) -> Vec<u64> {
    if points <= 1 || from == to {
        return vec![to];
    }
    let span = (to - from) as f64;
    let mut values: Vec<u64> = (0..points)
        .map(|i| from + (span * i as f64 / (points - 1) as f64).round() as u64)
        .map(|v| v.clamp(from, to))
        .collect();
    values.dedup();
    values
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

/// The scenario of one point: `base` with n, the limit or the round trip (ms) set to
/// `value`.
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
        SweepOver::Rtt => scenario.profile.network.rtt = Duration::from_millis(value),
    }
    scenario
}

/// One point of a sweep, measured.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// The series it belongs to: its strategy, or its strategy and client setup.
    pub series: String,
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
    pub fn new(
        series: String,
        value: u64,
        scenario: &crate::Scenario,
        summary: RunSummary,
    ) -> Point {
        let promise_ms = model::predict_scenario(scenario, &Calibration::default()).wall_ms;
        Point {
            series,
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
    fn round_trips_are_evenly_spaced_from_zero() {
        assert_eq!(linear_points(0, 200, 5), vec![0, 50, 100, 150, 200]);
        assert_eq!(linear_points(0, 2, 9), vec![0, 1, 2]);
        assert_eq!(SweepOver::Rtt.points(0, 200, 3), vec![0, 100, 200]);
        assert!(SweepOver::Rtt.check_range(0, 10_000).is_ok());
        assert!(SweepOver::Rtt.check_range(0, 10_001).is_err());
        assert!(SweepOver::N.check_range(0, 10).is_err());
        let base = crate::Scenario::new(
            crate::server::profile::Profile::single("10ms".parse().unwrap()),
            5,
            Strategy::AsyncSemaphore,
        );
        let far = at(&base, SweepOver::Rtt, 80);
        assert_eq!(far.profile.network.rtt, Duration::from_millis(80));
        assert_eq!(far.n, 5);
    }

    #[test]
    fn client_setups_read_as_they_are_named() {
        for name in [
            "shared",
            "per-request",
            "shared-h1",
            "per-request-h2",
            "shared-h2",
        ] {
            let setup: ClientSetup = name.parse().unwrap();
            assert_eq!(setup.name(), name);
        }
        let h2: ClientSetup = "h2".parse().unwrap();
        assert_eq!(h2.name(), "shared-h2");
        assert!("pooled".parse::<ClientSetup>().is_err());
        assert!("shared-h3".parse::<ClientSetup>().is_err());
        let base = crate::Scenario::new(
            crate::server::profile::Profile::single("10ms".parse().unwrap()),
            5,
            Strategy::AsyncConcurrent,
        );
        let setup: ClientSetup = "per-request-h2".parse().unwrap();
        let applied = setup.apply(&base);
        assert_eq!(applied.client.reuse, ClientReuse::PerRequest);
        assert_eq!(applied.client.http, HttpVersion::Http2);
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
