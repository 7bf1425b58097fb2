//! The stall: the whole server freezes for a while, as a server does in a long garbage
//! collection pause, a failover or a lock held too long.
//!
//! `--stall 2s@1s` (or `[stall]` in a profile, `at_ms = 1000`, `for_ms = 2000`) holds
//! every answer that would leave the server between 1 s and 3 s after its first
//! request arrived until 3 s: requests that arrive during the stall, and those that
//! arrived before it but were not answered yet, all get their answer at its end. The
//! stall's clock starts at the first arrival, not when the server started, so a
//! server started long before its run (`fanout serve`, a calibrated run) stalls at the
//! same moment of the run.
//!
//! This is the fault that shows *coordinated omission*: a closed loop (a semaphore of
//! k) stops sending while the server is frozen, so few of its requests see the stall;
//! an open loop keeps sending on schedule, and every user who arrived during the stall
//! waits for its end. See [`crate::model::open_loop`] for the arithmetic.
//!
//! The ledger records, per request, how long the stall held it
//! ([`LedgerEntry::stalled_us`](super::ledger::LedgerEntry::stalled_us)).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// When the server freezes, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stall {
    /// When the freeze starts, in ms after the first request arrived.
    pub at_ms: u64,
    /// How long it lasts, ms.
    pub for_ms: u64,
}

impl Stall {
    /// A stall of `length` starting `at` after the first arrival.
    pub fn new(length: Duration, at: Duration) -> Stall {
        Stall {
            at_ms: at.as_millis() as u64,
            for_ms: length.as_millis() as u64,
        }
    }

    /// When it starts, after the first arrival.
    pub fn start(&self) -> Duration {
        Duration::from_millis(self.at_ms)
    }

    /// How long it lasts.
    pub fn length(&self) -> Duration {
        Duration::from_millis(self.for_ms)
    }

    /// When it ends, after the first arrival.
    pub fn end(&self) -> Duration {
        self.start() + self.length()
    }

    /// Refuses a stall of zero length: it would hold nothing.
    pub fn validate(&self) -> Result<(), String> {
        if self.for_ms == 0 {
            return Err("[stall] for_ms must be at least 1".to_string());
        }
        Ok(())
    }

    /// The same stall with both times multiplied by `factor` (a time-scaled scenario).
    pub fn scaled(&self, factor: f64) -> Stall {
        let scale = |ms: u64| (ms as f64 * factor).round().max(0.0) as u64;
        Stall {
            at_ms: scale(self.at_ms),
            for_ms: scale(self.for_ms).max(1),
        }
    }

    /// How long an answer due `due` after the first arrival is held: until the stall's
    /// end when it falls inside the stall, not at all otherwise.
    pub fn hold(&self, due: Duration) -> Duration {
        if due >= self.start() && due < self.end() {
            self.end() - due
        } else {
            Duration::ZERO
        }
    }

    /// `2s@1s`, as the flag is written.
    pub fn describe(&self) -> String {
        let written = |ms: u64| match ms % 1000 {
            0 => format!("{}s", ms / 1000),
            _ => format!("{ms}ms"),
        };
        format!("{}@{}", written(self.for_ms), written(self.at_ms))
    }
}

/// The server's side of a stall: the first arrival's time, set once, and the stall.
#[derive(Debug)]
pub(crate) struct StallClock {
    stall: Stall,
    /// µs since the Unix epoch of the first arrival; 0 until one arrived.
    first_arrival_us: AtomicU64,
}

impl StallClock {
    /// The clock for `stall`, or `None` when the profile has none.
    pub(crate) fn of(stall: Option<Stall>) -> Option<StallClock> {
        Some(StallClock {
            stall: stall?,
            first_arrival_us: AtomicU64::new(0),
        })
    }

    /// How long the answer to a request arriving at `arrival_us` (epoch µs), due after
    /// `delay`, is held by the stall.
    pub(crate) fn hold(&self, arrival_us: u64, delay: Duration) -> Duration {
        let first = match self.first_arrival_us.compare_exchange(
            0,
            arrival_us,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => arrival_us,
            Err(earlier) => earlier,
        };
        let since_first = Duration::from_micros(arrival_us.saturating_sub(first));
        self.stall.hold(since_first + delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_due_inside_the_stall_waits_for_its_end_and_others_do_not() {
        let stall = Stall::new(Duration::from_secs(2), Duration::from_secs(1));
        let ms = Duration::from_millis;
        assert_eq!(stall.hold(ms(999)), Duration::ZERO);
        assert_eq!(stall.hold(ms(1000)), ms(2000));
        assert_eq!(stall.hold(ms(2500)), ms(500));
        assert_eq!(stall.hold(ms(3000)), Duration::ZERO);
        assert_eq!(stall.describe(), "2s@1s");
        assert_eq!(stall.scaled(0.1), Stall::new(ms(200), ms(100)));
        assert!(Stall::new(Duration::ZERO, ms(5)).validate().is_err());
    }

    #[test]
    fn the_clock_starts_at_the_first_arrival() {
        let clock = StallClock::of(Some(Stall::new(
            Duration::from_millis(100),
            Duration::from_millis(50),
        )))
        .unwrap();
        let t0 = 1_000_000;
        // The first arrival sets the clock: due 10 ms after it, before the stall.
        assert_eq!(clock.hold(t0, Duration::from_millis(10)), Duration::ZERO);
        // 60 ms after the first, due at once: inside the stall, held 90 ms.
        assert_eq!(
            clock.hold(t0 + 60_000, Duration::ZERO),
            Duration::from_millis(90)
        );
        assert!(StallClock::of(None).is_none());
    }
}
