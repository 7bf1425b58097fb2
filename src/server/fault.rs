//! Faults: what an endpoint does wrong on purpose, and the server-wide limits past
//! which it answers 429.
//!
//! Per endpoint, in a profile (`[endpoint.fault]` under its `[[endpoint]]`) or by flag:
//!
//! ```toml
//! [endpoint.fault]
//! error_rate = 0.1        # this share of requests gets `error_status` (503 by default)
//! error_status = 503
//! drop_rate = 0.05        # this share has its connection closed with no answer
//! hang = false            # true: never answer; the client must give up
//! fail_first = 2          # the first 2 attempts at each request fail, the 3rd succeeds
//! refused = false         # true: nothing listens; connecting is refused
//! retry_after_secs = 2    # Retry-After sent with every 429 this endpoint answers
//! ```
//!
//! Server-wide, in a profile's `[limits]` table: `max_per_second` (arrivals in any
//! sliding window, one second unless `window_ms` scales it) and `max_in_flight`
//! (requests held at once); a request past either is answered 429 at once. Past the
//! rate limit, the answer says when the oldest arrival leaves the window
//! ([`RetryAfter`]); past the in-flight limit the server cannot know when a slot will
//! free, and says nothing.
//!
//! Which requests fail is a seeded draw per request and attempt (like the delays), so a
//! rerun or another strategy meets the same failures on the same requests, and a retry
//! draws again. The ledger records
//! which fault each request was served.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::latency::unit_draw;

/// The header beside `Retry-After` that gives the wait in milliseconds. `Retry-After`
/// can only say whole seconds, too coarse for a rate window of 100 ms; Azure services
/// send `retry-after-ms` for the same reason, and clients that know it (fanout's, the
/// Azure SDKs) read it first.
pub const RETRY_AFTER_MS: &str = "retry-after-ms";

/// A wait as the two headers say it, both rounded up, so that a client honouring
/// either never comes back before the server would admit it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter {
    /// `Retry-After`, whole seconds.
    pub secs: u64,
    /// `retry-after-ms`, whole milliseconds.
    pub ms: u64,
}

impl RetryAfter {
    /// The headers for a wait of `wait`.
    pub fn of(wait: std::time::Duration) -> RetryAfter {
        let ms = u64::try_from(wait.as_micros().div_ceil(1_000)).unwrap_or(u64::MAX);
        RetryAfter {
            secs: ms.div_ceil(1_000),
            ms,
        }
    }
}

/// What one endpoint does wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The share of requests (0 to 1) answered with `error_status` instead.
    #[serde(default)]
    pub error_rate: f64,
    /// The status those requests get.
    #[serde(default = "default_error_status")]
    pub error_status: u16,
    /// The share of requests whose connection is closed without an answer.
    #[serde(default)]
    pub drop_rate: f64,
    /// Never answer: the request is held until the client gives up.
    #[serde(default)]
    pub hang: bool,
    /// The first this-many attempts at each request (by `seq`) get `error_status`; the
    /// next one succeeds. For testing retries.
    #[serde(default)]
    pub fail_first: u32,
    /// Nothing listens for this endpoint: connecting is refused.
    #[serde(default)]
    pub refused: bool,
    /// `Retry-After` (seconds) sent with the 429s this endpoint answers as its status,
    /// and the same in `retry-after-ms` (429s from the server-wide limits say their
    /// own, see [`RetryAfter`]).
    #[serde(default)]
    pub retry_after_secs: Option<u64>,
}

fn default_error_status() -> u16 {
    503
}

impl Default for Fault {
    /// No fault: every request is answered with the endpoint's own status.
    fn default() -> Fault {
        Fault {
            error_rate: 0.0,
            error_status: default_error_status(),
            drop_rate: 0.0,
            hang: false,
            fail_first: 0,
            refused: false,
            retry_after_secs: None,
        }
    }
}

/// Server-wide limits; past them the server answers 429 straight away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerLimits {
    /// The most arrivals accepted in any sliding window of `window_ms`.
    #[serde(default)]
    pub max_per_second: Option<u32>,
    /// The window `max_per_second` counts in, ms: 1000 unless a time-scaled scenario
    /// shrinks it with its delays.
    #[serde(default)]
    pub window_ms: Option<u64>,
    /// The most requests held at once.
    #[serde(default)]
    pub max_in_flight: Option<u32>,
}

/// The fault a request was served, as the ledger records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answered the endpoint's `error_status` by the error draw.
    Status,
    /// Held without an answer.
    Hang,
    /// Connection closed without an answer.
    Drop,
    /// Answered 429: past the server's requests-per-second limit.
    RateLimited,
    /// Answered 429: past the server's in-flight limit.
    Overloaded,
}

/// What the server does with one request, decided before its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Answer with the endpoint's own status.
    Answer,
    /// Answer with this error status.
    Fail(u16),
    /// Close the connection after the delay, no answer.
    Drop,
    /// Never answer.
    Hang,
}

impl ServerLimits {
    /// Refuses a limit of zero: a server that answers every request 429 measures
    /// nothing (the command line refuses 0 for the same reason).
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("max_per_second", self.max_per_second.map(u64::from)),
            ("window_ms", self.window_ms),
            ("max_in_flight", self.max_in_flight.map(u64::from)),
        ] {
            if value == Some(0) {
                return Err(format!("[limits] {name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// The rate window in µs.
    pub fn window_us(&self) -> u64 {
        self.window_ms.unwrap_or(1000).clamp(1, 86_400_000) * 1000
    }
}

impl Fault {
    /// Checks the rates and statuses make sense.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error_rate", self.error_rate),
            ("drop_rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} {rate} is not between 0 and 1"));
            }
        }
        if !(200..=599).contains(&self.error_status) {
            return Err(format!(
                "error_status {} is not a final HTTP status (200-599)",
                self.error_status
            ));
        }
        Ok(())
    }

    /// The seeded decision for attempt `attempt` (from 0) at request `seq` of endpoint
    /// `endpoint`.
    pub fn decide(&self, seed: u64, endpoint: usize, seq: u64, attempt: u32) -> Decision {
        if self.hang {
            return Decision::Hang;
        }
        if attempt < self.fail_first {
            return Decision::Fail(self.error_status);
        }
        // Separate streams from the latency draw, so adding a fault keeps the delays; a
        // retry is a new draw, so a transient failure may pass the next time.
        let seed = seed ^ u64::from(attempt).wrapping_mul(0x9e37_79b9);
        if self.drop_rate > 0.0 && unit_draw(seed ^ 0xd209, endpoint, seq) < self.drop_rate {
            return Decision::Drop;
        }
        if self.error_rate > 0.0 && unit_draw(seed ^ 0xe770, endpoint, seq) < self.error_rate {
            return Decision::Fail(self.error_status);
        }
        Decision::Answer
    }

    /// True when the decision depends on which attempt this is.
    pub fn counts_attempts(&self) -> bool {
        self.fail_first > 0 || self.error_rate > 0.0 || self.drop_rate > 0.0
    }

    /// True when the endpoint misbehaves at all.
    pub fn is_set(&self) -> bool {
        *self != Fault::default()
    }
}

/// The arrivals admitted in the last window, for `limits.max_per_second`: both engines
/// count with it, so both refuse the same arrivals and say the same wait.
#[derive(Debug)]
pub(crate) struct ArrivalWindow {
    most: usize,
    width_us: u64,
    admitted: Mutex<VecDeque<u64>>,
}

impl ArrivalWindow {
    /// The window `limits` ask for, or `None` when they set no rate.
    pub(crate) fn of(limits: &ServerLimits) -> Option<ArrivalWindow> {
        Some(ArrivalWindow {
            most: limits.max_per_second? as usize,
            width_us: limits.window_us(),
            admitted: Mutex::new(VecDeque::new()),
        })
    }

    /// `Ok` (and counted) when an arrival at `arrival_us` is within the limit; past
    /// it, how long until a place frees: when the oldest arrival leaves the window.
    pub(crate) fn admit(&self, arrival_us: u64) -> Result<(), std::time::Duration> {
        let mut admitted = self.admitted.lock().unwrap_or_else(|p| p.into_inner());
        while let Some(&oldest) = admitted.front() {
            if arrival_us.saturating_sub(oldest) < self.width_us {
                break;
            }
            admitted.pop_front();
        }
        if admitted.len() >= self.most {
            let oldest = admitted.front().copied().unwrap_or(arrival_us);
            let wait = (oldest + self.width_us).saturating_sub(arrival_us);
            return Err(std::time::Duration::from_micros(wait));
        }
        admitted.push_back(arrival_us);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_both_headers_up() {
        let of = |us| RetryAfter::of(std::time::Duration::from_micros(us));
        // 37.2 ms of a 100 ms window left: 38 ms, and a whole second.
        assert_eq!(of(37_200), RetryAfter { secs: 1, ms: 38 });
        assert_eq!(of(1_000), RetryAfter { secs: 1, ms: 1 });
        assert_eq!(of(1), RetryAfter { secs: 1, ms: 1 });
        assert_eq!(of(1_000_000), RetryAfter { secs: 1, ms: 1_000 });
        assert_eq!(of(1_000_001), RetryAfter { secs: 2, ms: 1_001 });
        assert_eq!(of(0), RetryAfter { secs: 0, ms: 0 });
    }

    #[test]
    fn error_rate_fails_about_that_share_and_the_same_requests_each_time() {
        let fault = Fault {
            error_rate: 0.1,
            ..Fault::default()
        };
        let failed: Vec<u64> = (0..10_000)
            .filter(|seq| fault.decide(3, 0, *seq, 0) == Decision::Fail(503))
            .collect();
        assert!((900..1100).contains(&failed.len()), "{}", failed.len());
        let again: Vec<u64> = (0..10_000)
            .filter(|seq| fault.decide(3, 0, *seq, 0) == Decision::Fail(503))
            .collect();
        assert_eq!(failed, again);
    }

    #[test]
    fn hang_wins_and_rates_are_checked() {
        let fault = Fault {
            hang: true,
            error_rate: 1.0,
            ..Fault::default()
        };
        assert_eq!(fault.decide(1, 0, 0, 0), Decision::Hang);
        let bad = Fault {
            drop_rate: 1.5,
            ..Fault::default()
        };
        assert!(bad.validate().unwrap_err().contains("drop_rate"));
    }

    #[test]
    fn attempts_count_per_request_and_the_window_admits_its_most_then_slides() {
        let limits = ServerLimits {
            max_per_second: Some(2),
            window_ms: Some(10),
            max_in_flight: None,
        };
        let window = ArrivalWindow::of(&limits).unwrap();
        assert!(window.admit(0).is_ok() && window.admit(1_000).is_ok());
        assert_eq!(
            window.admit(9_999),
            Err(std::time::Duration::from_micros(1))
        );
        assert!(window.admit(10_000).is_ok());
        assert!(ArrivalWindow::of(&ServerLimits::default()).is_none());
    }
}
