//! Arrival schedules: when an open loop means to start each request.
//!
//! A closed loop (every other strategy) starts a request when a slot frees, so a slow
//! server slows the client down with it. An open loop starts request i at its
//! *intended* time, from a schedule fixed before the run, whether or not earlier
//! requests have answered: users arrive when they arrive. That is what k6's
//! `constant-arrival-rate` and `ramping-arrival-rate` executors, wrk2's `-R` and oha's
//! `-q` do.
//!
//! - `--rate 200/s`: request i is meant to start at i / 200 s;
//! - `--ramp 0..200/s:10s`: the rate grows linearly from 0 to 200/s over 10 s, then
//!   stays at 200/s. The count of starts by time t is the area under the rate,
//!   `from·t + (to − from)·t² / 2T`, so request i starts where that area reaches i.
//!
//! A request that could not start on time (the `--max-in-flight` cap was full, or the
//! client was busy) starts as soon as it can and is counted *late*; its latency from
//! the intended start includes the wait, as a user's would.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A start counts as late when it comes more than this after its intended time.
/// tokio's timer ticks in whole milliseconds, so a start one tick late is on time.
pub const LATE_SLACK: Duration = Duration::from_millis(2);

/// The most requests an open loop keeps in flight when `--max-in-flight` is not given.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;

/// A linear ramp of the arrival rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ramp {
    /// Requests per second at the start.
    pub from: f64,
    /// Requests per second at the end, and after it.
    pub to: f64,
    /// How long the ramp takes.
    pub over: Duration,
}

impl Ramp {
    /// `0..200/s:10s`, as the flag is written.
    pub fn describe(&self) -> String {
        format!(
            "{}..{}/s:{}",
            self.from,
            self.to,
            crate::duration::steady(self.over).replace(' ', "")
        )
    }

    /// Refuses a ramp that goes down or never leaves zero.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.from.is_finite() && self.to.is_finite()) || self.from < 0.0 {
            return Err(format!(
                "--ramp {}: rates must be 0 or more",
                self.describe()
            ));
        }
        if self.to < self.from {
            return Err(format!(
                "--ramp {}: its end ({}/s) is below its start ({}/s); a ramp goes up",
                self.describe(),
                self.to,
                self.from
            ));
        }
        if self.to <= 0.0 {
            return Err(format!(
                "--ramp {}: a ramp that ends at 0/s starts nothing",
                self.describe()
            ));
        }
        if self.over.is_zero() {
            return Err(format!(
                "--ramp {}: its length must be above zero",
                self.describe()
            ));
        }
        Ok(())
    }
}

/// When each request of an open loop is meant to start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArrivalSchedule {
    /// The steady rate, requests per second (a ramp's end when there is one).
    pub rate: f64,
    /// The ramp up to `rate`, if any.
    pub ramp: Option<Ramp>,
}

impl ArrivalSchedule {
    /// A constant rate, or the ramp when one is given.
    pub fn new(rate: f64, ramp: Option<Ramp>) -> ArrivalSchedule {
        ArrivalSchedule {
            rate: ramp.map_or(rate, |r| r.to),
            ramp,
        }
    }

    /// When request `i` (from 0) is meant to start, after the run's start.
    pub fn intended(&self, i: u64) -> Duration {
        let i = i as f64;
        let seconds = match self.ramp {
            None => i / self.rate,
            Some(ramp) => {
                let length = ramp.over.as_secs_f64();
                let slope = (ramp.to - ramp.from) / length;
                let during = ramp.from * length + slope * length * length / 2.0;
                if i >= during {
                    length + (i - during) / ramp.to
                } else if slope == 0.0 {
                    i / ramp.from
                } else {
                    // Solve from·t + slope·t²/2 = i for t ≥ 0.
                    (-ramp.from + (ramp.from * ramp.from + 2.0 * slope * i).sqrt()) / slope
                }
            }
        };
        Duration::from_secs_f64(seconds.max(0.0))
    }

    /// When the last of `n` requests is meant to start.
    pub fn span(&self, n: u64) -> Duration {
        self.intended(n.saturating_sub(1))
    }

    /// `200/s`, or the ramp.
    pub fn describe(&self) -> String {
        match self.ramp {
            Some(ramp) => ramp.describe(),
            None => format!("{}/s", self.rate),
        }
    }

    /// Refuses a schedule the cap cannot keep: by Little's law an open loop at rate R
    /// against answers that take `mean_latency` on average holds R × latency requests
    /// in flight, and past `max_in_flight` every later start would be late.
    pub fn check_attainable(
        &self,
        max_in_flight: usize,
        mean_latency: Duration,
    ) -> Result<(), String> {
        if let Some(ramp) = &self.ramp {
            ramp.validate()?;
        }
        let needed = self.rate * mean_latency.as_secs_f64();
        if needed > max_in_flight as f64 {
            return Err(format!(
                "an open loop at {}/s against answers of {:.0} ms on average holds about {:.0} requests in flight, above --max-in-flight {max_in_flight}: raise --max-in-flight or lower the rate",
                self.rate,
                mean_latency.as_secs_f64() * 1e3,
                needed.ceil()
            ));
        }
        Ok(())
    }
}

/// True when a request meant to start at `intended` and started at `start` is late.
pub fn is_late(intended: Duration, start: Duration) -> bool {
    start > intended + LATE_SLACK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constant_rate_spaces_starts_evenly() {
        let schedule = ArrivalSchedule::new(200.0, None);
        assert_eq!(schedule.intended(0), Duration::ZERO);
        assert_eq!(schedule.intended(200), Duration::from_secs(1));
        assert_eq!(schedule.span(2000), Duration::from_secs_f64(1999.0 / 200.0));
    }

    #[test]
    fn a_ramp_starts_as_many_requests_as_the_area_under_its_rate() {
        let ramp = Ramp {
            from: 0.0,
            to: 100.0,
            over: Duration::from_secs(10),
        };
        let schedule = ArrivalSchedule::new(5.0, Some(ramp));
        assert_eq!(schedule.rate, 100.0);
        // 500 requests fit under the ramp (100/s × 10 s / 2): the 500th starts at 10 s,
        // the 125th at 5 s (a quarter of the area), and after it one per 10 ms.
        let secs = |i| schedule.intended(i).as_secs_f64();
        assert!((secs(500) - 10.0).abs() < 1e-9);
        assert!((secs(125) - 5.0).abs() < 1e-9);
        assert!((secs(600) - 11.0).abs() < 1e-9);
        let flat = ArrivalSchedule::new(
            0.0,
            Some(Ramp {
                from: 10.0,
                to: 10.0,
                over: Duration::from_secs(1),
            }),
        );
        assert!((flat.intended(5).as_secs_f64() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn bad_ramps_and_rates_the_cap_cannot_hold_are_refused() {
        let down = Ramp {
            from: 50.0,
            to: 10.0,
            over: Duration::from_secs(1),
        };
        assert!(down.validate().unwrap_err().contains("below its start"));
        let schedule = ArrivalSchedule::new(1000.0, None);
        let refused = schedule
            .check_attainable(10, Duration::from_millis(500))
            .unwrap_err();
        assert!(refused.contains("500 requests in flight"), "{refused}");
        assert!(
            schedule
                .check_attainable(1000, Duration::from_millis(500))
                .is_ok()
        );
        assert!(is_late(Duration::ZERO, Duration::from_millis(3)));
        assert!(!is_late(Duration::ZERO, Duration::from_millis(1)));
    }
}
