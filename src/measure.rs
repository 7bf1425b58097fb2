//! What a run measures: one [`Sample`] per request, raw, and the figures derived from
//! the samples (percentiles, throughput, outcome counts), never recorded twice.
//!
//! Every request a scenario asks for ends as exactly one [`Outcome`]: answered (and
//! classified by status), failed (classified by cause), or cancelled before it could
//! finish. [`Measurements::check_accounting`] enforces it after every run.
//!
//! A run's raw result, [`crate::output::RunOutput`], keeps the samples beside what they
//! are read against.
//!
//! Read next: [`crate::summary`], where samples meet the server's ledger.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// How one request ended. The names are shared by the JSON, the tables and the charts.
///
/// Outcomes order by [`name`](Outcome::name), so a map keyed by outcome (a run's
/// counts, [`RunSummary::outcomes`](crate::summary::RunSummary::outcomes)) lists them
/// alphabetically, as the JSON always has; [`Outcome::ALL`] gives the report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Outcome {
    /// A 1xx, 2xx or 3xx answer.
    #[serde(rename = "ok")]
    Ok,
    /// A 4xx answer other than 429.
    #[serde(rename = "http_4xx")]
    Http4xx,
    /// 429 Too Many Requests.
    #[serde(rename = "http_429")]
    Http429,
    /// A 5xx answer.
    #[serde(rename = "http_5xx")]
    Http5xx,
    /// The client's own timeout fired.
    #[serde(rename = "timeout")]
    Timeout,
    /// The connection could not be made.
    #[serde(rename = "connect")]
    Connect,
    /// The TLS handshake failed: the client does not trust the server's certificate,
    /// or the two share no TLS version.
    #[serde(rename = "tls")]
    Tls,
    /// The connection broke after the request was sent, or the answer was malformed.
    #[serde(rename = "dropped")]
    Dropped,
    /// Never finished: aborted by a failing sibling (fail-fast) or by the run's deadline.
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 9] = [
        Outcome::Ok,
        Outcome::Http4xx,
        Outcome::Http429,
        Outcome::Http5xx,
        Outcome::Timeout,
        Outcome::Connect,
        Outcome::Tls,
        Outcome::Dropped,
        Outcome::Cancelled,
    ];

    /// Classifies an HTTP status.
    pub fn from_status(status: u16) -> Outcome {
        match status {
            429 => Outcome::Http429,
            400..=499 => Outcome::Http4xx,
            500..=599 => Outcome::Http5xx,
            _ => Outcome::Ok,
        }
    }

    /// The outcome a name in JSON or a table stands for.
    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The name used in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Http4xx => "http_4xx",
            Outcome::Http429 => "http_429",
            Outcome::Http5xx => "http_5xx",
            Outcome::Timeout => "timeout",
            Outcome::Connect => "connect",
            Outcome::Tls => "tls",
            Outcome::Dropped => "dropped",
            Outcome::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Ord for Outcome {
    fn cmp(&self, other: &Outcome) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}

impl PartialOrd for Outcome {
    fn partial_cmp(&self, other: &Outcome) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One request as the client saw it. Times are relative to the run's start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The request's number in the scenario, 0-based; also sent as `?seq=`.
    pub seq: u64,
    /// Index of the endpoint it went to.
    pub endpoint: u16,
    /// When the client began the request (after any permit or rate-limit wait).
    pub start: Duration,
    /// When the answer was fully read, the error surfaced, or the request was cancelled.
    pub end: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// Response body bytes read.
    pub bytes: u64,
    /// Attempts made: 1 without retries, 0 when cancelled before the first.
    pub attempts: u32,
    /// When an open loop meant to start it (`async-arrival-rate`); `None` for the
    /// closed loops, whose requests start when a slot frees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended: Option<Duration>,
    /// Copies sent beside the request itself (`async-hedged`'s hedges,
    /// `async-first-of`'s replicas), each one more request at the server; 0 for every
    /// other strategy. The first answer of any copy is the request's answer.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copies: u32,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl Sample {
    /// A request that never finished, cancelled at `at`.
    pub fn cancelled(seq: u64, endpoint: u16, start: Option<Duration>, at: Duration) -> Sample {
        Sample {
            seq,
            endpoint,
            start: start.unwrap_or(at),
            end: at,
            outcome: Outcome::Cancelled,
            status: None,
            bytes: 0,
            attempts: 0,
            intended: None,
            copies: 0,
        }
    }

    /// How long the request took, start to end.
    pub fn latency(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// How long a user who arrived at the intended start waited: from the intended
    /// start to the end (the same as [`Sample::latency`] for a closed loop).
    pub fn latency_from_intended(&self) -> Duration {
        self.end.saturating_sub(self.intended.unwrap_or(self.start))
    }
}

/// Everything one run measured on the client side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    /// One sample per request, in `seq` order.
    pub samples: Vec<Sample>,
    /// From the run's start until its last request ended.
    pub wall: Duration,
    /// The run's start, µs since the Unix epoch: lines samples up with the ledger.
    pub started_unix_us: u64,
    /// When the run was stopped early (Ctrl-C, `--stop-after`); `None` when it ran to
    /// its end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<crate::strategy::stop::StopRecord>,
    /// What the strategy measured beside its samples (`async-pipeline`'s channel).
    #[serde(default)]
    pub notes: crate::strategy::StrategyNotes,
}

/// The percentiles of one latency distribution, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// 90 in 100 are at most this.
    pub p90: f64,
    /// 99 in 100 are at most this.
    pub p99: f64,
    /// 999 in 1,000 are at most this: the tail hedging is meant to cut.
    #[serde(default)]
    pub p999: f64,
    /// The slowest.
    pub max: f64,
    /// The arithmetic mean.
    pub mean: f64,
}

impl Measurements {
    /// Sorts samples by `seq`; [`Measurements::check_accounting`] then checks there is
    /// exactly one per request.
    pub fn new(mut samples: Vec<Sample>, wall: Duration, started_unix_us: u64) -> Measurements {
        samples.sort_by_key(|s| s.seq);
        Measurements {
            samples,
            wall,
            started_unix_us,
            stop: None,
            notes: Default::default(),
        }
    }

    /// Checks that requests `0..n` each have exactly one sample.
    pub fn check_accounting(&self, n: u64) -> Result<(), String> {
        if self.samples.len() as u64 != n {
            return Err(format!("{} samples for {n} requests", self.samples.len()));
        }
        match self
            .samples
            .iter()
            .enumerate()
            .find(|(i, s)| s.seq != *i as u64)
        {
            Some((i, s)) => Err(format!("sample {i} carries seq {}", s.seq)),
            None => Ok(()),
        }
    }

    /// How many requests ended each way; outcomes that did not happen are left out.
    pub fn outcomes(&self) -> BTreeMap<Outcome, u64> {
        let mut counts = BTreeMap::new();
        for sample in &self.samples {
            *counts.entry(sample.outcome).or_insert(0) += 1;
        }
        counts
    }

    /// Latency percentiles over every request that was sent and ended on its own
    /// (cancelled requests have no latency to speak of).
    pub fn latency(&self) -> Percentiles {
        let micros = self
            .samples
            .iter()
            .filter(|s| s.outcome != Outcome::Cancelled)
            .map(|s| s.latency().as_micros() as u64);
        percentiles_ms(micros)
    }

    /// Completed requests per second of wall time.
    pub fn throughput(&self) -> f64 {
        let done = self
            .samples
            .iter()
            .filter(|s| s.outcome != Outcome::Cancelled)
            .count();
        if self.wall.is_zero() {
            0.0
        } else {
            done as f64 / self.wall.as_secs_f64()
        }
    }
}

/// Percentiles, in ms, of values given in µs, through a [`MicrosHistogram`].
pub fn percentiles_ms(micros: impl Iterator<Item = u64>) -> Percentiles {
    let mut histogram = MicrosHistogram::new();
    for value in micros {
        histogram.record(value);
    }
    histogram.percentiles_ms()
}

/// An HdrHistogram of durations in µs (3 significant digits, values from 1 µs to one
/// hour; larger values are clamped): constant memory however many values it holds,
/// which is why the long-lived `fanout serve` aggregates into it instead of keeping
/// every request.
#[derive(Debug, Clone)]
pub struct MicrosHistogram(Histogram<u64>);

impl MicrosHistogram {
    const HOUR_US: u64 = 3_600_000_000;

    /// An empty histogram of one microsecond to an hour, at three significant digits.
    pub fn new() -> MicrosHistogram {
        MicrosHistogram(
            Histogram::<u64>::new_with_bounds(1, Self::HOUR_US, 3)
                .expect("static bounds are valid"),
        )
    }

    /// Counts one duration, clamped into the histogram's range.
    pub fn record(&mut self, micros: u64) {
        self.0.saturating_record(micros.clamp(1, Self::HOUR_US));
    }

    /// How many durations it holds.
    pub fn len(&self) -> u64 {
        self.0.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The duration at quantile `q` (0..=1), µs; 0 when empty.
    pub fn quantile_us(&self, q: f64) -> u64 {
        self.0.value_at_quantile(q)
    }

    /// The percentiles so far, in ms; all zero when nothing was recorded.
    pub fn percentiles_ms(&self) -> Percentiles {
        let histogram = &self.0;
        if histogram.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1e3;
        Percentiles {
            p50: ms(histogram.value_at_quantile(0.50)),
            p90: ms(histogram.value_at_quantile(0.90)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
            mean: histogram.mean() / 1e3,
        }
    }
}

impl Default for MicrosHistogram {
    fn default() -> MicrosHistogram {
        MicrosHistogram::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(seq: u64, start_ms: u64, end_ms: u64, outcome: Outcome) -> Sample {
        Sample {
            seq,
            endpoint: 0,
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(end_ms),
            outcome,
            status: None,
            bytes: 0,
            attempts: 1,
            intended: None,
            copies: 0,
        }
    }

    #[test]
    fn classifies_statuses() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok);
        assert_eq!(Outcome::from_status(201), Outcome::Ok);
        assert_eq!(Outcome::from_status(401), Outcome::Http4xx);
        assert_eq!(Outcome::from_status(429), Outcome::Http429);
        assert_eq!(Outcome::from_status(503), Outcome::Http5xx);
    }

    #[test]
    fn names_match_the_json() {
        for outcome in Outcome::ALL {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.name()));
        }
    }

    #[test]
    fn a_map_of_counts_lists_outcomes_by_name_as_the_json_always_has() {
        let counts: BTreeMap<Outcome, u64> = Outcome::ALL.into_iter().zip(1..).collect();
        assert_eq!(
            serde_json::to_string(&counts).unwrap(),
            r#"{"cancelled":9,"connect":6,"dropped":8,"http_429":3,"http_4xx":2,"http_5xx":4,"ok":1,"timeout":5,"tls":7}"#
        );
        let back: BTreeMap<Outcome, u64> =
            serde_json::from_str(&serde_json::to_string(&counts).unwrap()).unwrap();
        assert_eq!(back, counts);
    }

    #[test]
    fn accounting_catches_missing_and_duplicate_requests() {
        let ok = Measurements::new(
            vec![sample(1, 0, 10, Outcome::Ok), sample(0, 0, 20, Outcome::Ok)],
            Duration::from_millis(20),
            0,
        );
        assert!(ok.check_accounting(2).is_ok());
        assert!(ok.check_accounting(3).is_err());
        let doubled = Measurements::new(
            vec![sample(0, 0, 10, Outcome::Ok), sample(0, 0, 20, Outcome::Ok)],
            Duration::from_millis(20),
            0,
        );
        assert!(doubled.check_accounting(2).is_err());
    }

    #[test]
    fn latency_leaves_out_cancelled_requests() {
        let m = Measurements::new(
            vec![
                sample(0, 0, 100, Outcome::Ok),
                sample(1, 0, 300, Outcome::Http5xx),
                sample(2, 0, 5000, Outcome::Cancelled),
            ],
            Duration::from_millis(300),
            0,
        );
        let latency = m.latency();
        assert!((latency.max - 300.0).abs() < 1.0, "{latency:?}");
        assert_eq!(m.outcomes()[&Outcome::Cancelled], 1);
        assert!((m.throughput() - 2.0 / 0.3).abs() < 0.01);
    }
}
