//! The model: what a run *should* take, computed from the delays the server will give.
//!
//! Because every delay is a seeded draw per request ([`crate::server::latency`]), the
//! model knows each request's delay before the run. From them:
//!
//! - **sequential**: the sum of the delays, plus one per-request overhead each;
//! - **unbounded concurrent**: the largest delay, plus one overhead;
//! - **limited to k** (semaphore, `buffer_unordered`, a pool of k threads): list
//!   scheduling in submission order: each request takes the slot that frees first.
//!
//! Two costs are calibrated before each run by short probes on the same machine
//! ([`Calibration`]): the per-request overhead of one exchange on an open connection
//! (`per_request_ms`), and the time a burst needs per fresh connection
//! (`connect_ms`): when k requests start at once over HTTP/1.1, the k-th reaches the
//! server only after k connection set-ups. The model charges that cost to each slot's
//! first request; it is what turns "as fast as the slowest request" into "the slowest
//! request plus n connection set-ups" at large n.
//!
//! Read next: [`crate::summary`], where the prediction meets the measurement as
//! `predicted_ms` and `efficiency`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::strategy::Strategy;

/// Costs measured by short probes before a run, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// One request and its answer on an already open connection (or with a new client,
    /// for `--client per-request`), server delay zero. It includes the server timer's
    /// rounding up to its next millisecond tick, which every delayed answer pays too.
    pub per_request_ms: f64,
    /// What opening the first connection adds to the first request.
    pub first_connection_ms: f64,
    /// The time each fresh connection in a burst costs: the k-th of a burst reaches the
    /// server after about k times this.
    pub connect_ms: f64,
    /// Fresh connections per second a burst of requests at a zero-delay endpoint
    /// achieves on this machine (client and server sharing it): the pace at which an
    /// all-at-once run can get its requests to the server. 0 when not probed.
    #[serde(default)]
    pub connection_rate_per_s: f64,
}

/// How a strategy schedules its requests, as far as the model is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// One at a time.
    Sequential,
    /// At most `slots` at once, in submission order.
    Limited {
        /// How many may be in flight.
        slots: usize,
    },
    /// One request every `interval_ms`, in submission order, as a correct rate
    /// limiter admits them.
    Paced {
        /// The gap between admissions, in milliseconds.
        interval_ms: f64,
    },
}

/// The model's answer for one scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// How requests are scheduled.
    pub schedule: Schedule,
    /// Predicted wall time, ms.
    pub wall_ms: f64,
    /// Predicted start of each request at the server, ms, in `seq` order.
    pub starts_ms: Vec<f64>,
    /// Predicted end of each request, ms, in `seq` order.
    pub ends_ms: Vec<f64>,
}

impl Prediction {
    /// The most requests the model has in flight at once.
    pub fn peak_in_flight(&self) -> u64 {
        self.in_flight_steps()
            .iter()
            .map(|(_, level)| *level)
            .max()
            .unwrap_or(0)
    }

    /// The in-flight profile as a step function: from each time on, that many requests.
    pub fn in_flight_steps(&self) -> Vec<(f64, u64)> {
        let mut events: Vec<(f64, i64)> = self
            .starts_ms
            .iter()
            .map(|s| (*s, 1))
            .chain(self.ends_ms.iter().map(|e| (*e, -1)))
            .collect();
        // At equal times, ends first: a request that ends as another starts frees its slot.
        events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut level = 0i64;
        let mut steps: Vec<(f64, u64)> = Vec::with_capacity(events.len());
        for (time, change) in events {
            level += change;
            match steps.last_mut() {
                Some(last) if last.0 == time => last.1 = level as u64,
                _ => steps.push((time, level as u64)),
            }
        }
        steps
    }
}

/// The schedule a strategy follows for a scenario.
pub fn schedule_of(scenario: &Scenario) -> Schedule {
    let n = usize::try_from(scenario.n).unwrap_or(usize::MAX);
    match scenario.strategy {
        Strategy::SyncSequential | Strategy::AsyncSequential => Schedule::Sequential,
        Strategy::AsyncRatelimited | Strategy::AsyncNaiveRatelimited => Schedule::Paced {
            // The GCRA limiter's interval, headroom included (see `strategy::ratelimit`).
            interval_ms: 1000.0 * crate::strategy::ratelimit::HEADROOM / scenario.client.rate,
        },
        Strategy::SyncThreads
        | Strategy::AsyncConcurrent
        | Strategy::AsyncFailfast
        | Strategy::AsyncSemaphore
        | Strategy::AsyncBuffered
        | Strategy::PitfallBlockingSleep
        | Strategy::PitfallAsyncSleep
        | Strategy::PitfallNeverAwaited => {
            let mut slots = scenario.strategy.concurrency(n, &scenario.client).max(1);
            if scenario.shares_one_connection() {
                // One connection: the server's stream limit caps the slots.
                slots = slots.min(crate::server::DEFAULT_H2_MAX_STREAMS as usize);
            }
            Schedule::Limited { slots }
        }
    }
}

/// The delay each request of the scenario will be given, ms, in `seq` order.
pub fn delays_ms(scenario: &Scenario) -> Vec<f64> {
    let endpoints = &scenario.profile.endpoints;
    (0..scenario.n)
        .map(|seq| {
            let index = (seq % endpoints.len() as u64) as usize;
            let delay = endpoints[index].latency.draw(scenario.seed, index, seq);
            delay.as_secs_f64() * 1e3
        })
        .collect()
}

/// Predicts the scenario's wall time and schedule.
pub fn predict_scenario(scenario: &Scenario, calibration: &Calibration) -> Prediction {
    let fresh_connections = if scenario.shares_one_connection() {
        1
    } else {
        usize::MAX
    };
    predict(
        schedule_of(scenario),
        &delays_ms(scenario),
        calibration,
        fresh_connections,
    )
}

/// List scheduling of `delays` (ms, in submission order) on the schedule's slots.
/// Slot j (from 0) is ready after j + 1 connection set-ups in a burst (at most
/// `fresh_connections` of them are charged: HTTP/2 opens one), and never before the
/// first connection is open; every request costs its delay plus the per-request overhead.
pub fn predict(
    schedule: Schedule,
    delays: &[f64],
    calibration: &Calibration,
    fresh_connections: usize,
) -> Prediction {
    let slots = match schedule {
        Schedule::Sequential => 1,
        Schedule::Limited { slots } => slots.clamp(1, delays.len().max(1)),
        Schedule::Paced { interval_ms } => {
            return paced(schedule, interval_ms, delays, calibration);
        }
    };
    // Free times in integer nanoseconds, so the heap orders them exactly.
    let to_ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
    let mut free: BinaryHeap<Reverse<(u64, usize)>> = (0..slots)
        .map(|j| {
            let setups = (j + 1).min(fresh_connections);
            let ready =
                (setups as f64 * calibration.connect_ms).max(calibration.first_connection_ms);
            Reverse((to_ns(ready), j))
        })
        .collect();
    let mut starts = Vec::with_capacity(delays.len());
    let mut ends = Vec::with_capacity(delays.len());
    // The first `slots` requests each open their own slot (all start at once, each
    // opening its connection); the rest wait for whichever slot frees first.
    let mut opening: Vec<Reverse<(u64, usize)>> = free.drain().collect();
    opening.sort_by_key(|Reverse((_, slot))| std::cmp::Reverse(*slot));
    for delay in delays {
        let Reverse((free_at, slot)) = match opening.pop() {
            Some(own) => own,
            None => free.pop().expect("every slot is back in the heap"),
        };
        let start = free_at as f64 / 1e6;
        let end = start + calibration.per_request_ms + delay;
        starts.push(start);
        ends.push(end);
        free.push(Reverse((to_ns(end), slot)));
    }
    let wall_ms = ends.iter().copied().fold(0.0, f64::max);
    Prediction {
        schedule,
        wall_ms,
        starts_ms: starts,
        ends_ms: ends,
    }
}

/// Request i starts at i intervals (after the first connection), whatever else is in
/// flight: a rate limiter paces starts, not completions.
fn paced(
    schedule: Schedule,
    interval_ms: f64,
    delays: &[f64],
    calibration: &Calibration,
) -> Prediction {
    let starts: Vec<f64> = (0..delays.len())
        .map(|i| calibration.first_connection_ms + i as f64 * interval_ms)
        .collect();
    let ends: Vec<f64> = starts
        .iter()
        .zip(delays)
        .map(|(start, delay)| start + calibration.per_request_ms + delay)
        .collect();
    let wall_ms = ends.iter().copied().fold(0.0, f64::max);
    Prediction {
        schedule,
        wall_ms,
        starts_ms: starts,
        ends_ms: ends,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FREE: Calibration = Calibration {
        per_request_ms: 0.0,
        first_connection_ms: 0.0,
        connect_ms: 0.0,
        connection_rate_per_s: 0.0,
    };

    #[test]
    fn sequential_is_the_sum_and_unbounded_the_max() {
        let delays = [300.0, 100.0, 200.0];
        let seq = predict(Schedule::Sequential, &delays, &FREE, usize::MAX);
        assert_eq!(seq.wall_ms, 600.0);
        assert_eq!(seq.starts_ms, vec![0.0, 300.0, 400.0]);
        assert_eq!(seq.peak_in_flight(), 1);
        let all = predict(Schedule::Limited { slots: 3 }, &delays, &FREE, usize::MAX);
        assert_eq!(all.wall_ms, 300.0);
        assert_eq!(all.peak_in_flight(), 3);
    }

    #[test]
    fn list_scheduling_takes_the_slot_that_frees_first() {
        // Two slots: 5 and 1 start at 0; 1 ends first, so 4 starts at 1 and ends at 5;
        // then 2 takes the slot free at 5 (either: both free at 5), ending at 7.
        let delays = [5.0, 1.0, 4.0, 2.0];
        let p = predict(Schedule::Limited { slots: 2 }, &delays, &FREE, usize::MAX);
        assert_eq!(p.starts_ms, vec![0.0, 0.0, 1.0, 5.0]);
        assert_eq!(p.ends_ms, vec![5.0, 1.0, 5.0, 7.0]);
        assert_eq!(p.wall_ms, 7.0);
        assert_eq!(p.peak_in_flight(), 2);
    }

    #[test]
    fn ten_requests_on_five_slots_take_two_waves() {
        let p = predict(
            Schedule::Limited { slots: 5 },
            &[100.0; 10],
            &FREE,
            usize::MAX,
        );
        assert_eq!(p.wall_ms, 200.0);
        assert_eq!(
            p.in_flight_steps(),
            vec![(0.0, 5), (100.0, 5), (200.0, 0)],
            "the second wave starts as the first ends"
        );
    }

    #[test]
    fn overheads_add_per_request_and_per_fresh_connection() {
        let calibration = Calibration {
            per_request_ms: 1.0,
            first_connection_ms: 0.25,
            connect_ms: 0.5,
            connection_rate_per_s: 0.0,
        };
        let seq = predict(Schedule::Sequential, &[10.0; 4], &calibration, usize::MAX);
        assert_eq!(seq.wall_ms, 44.5, "one set-up, then four exchanges");
        // Four fresh connections in a burst: the last starts after 4 × 0.5 ms.
        let burst = predict(
            Schedule::Limited { slots: 4 },
            &[10.0; 4],
            &calibration,
            usize::MAX,
        );
        assert_eq!(burst.wall_ms, 13.0);
        // Over one HTTP/2 connection, every request waits for that one set-up only.
        let h2 = predict(Schedule::Limited { slots: 4 }, &[10.0; 4], &calibration, 1);
        assert_eq!(h2.wall_ms, 11.5);
        // A lone sequential client pays the first connection only.
        let lone = Calibration {
            connect_ms: 0.0,
            ..calibration
        };
        let seq = predict(Schedule::Sequential, &[10.0; 2], &lone, usize::MAX);
        assert_eq!(seq.wall_ms, 22.25);
    }

    #[test]
    fn a_rate_paces_starts_not_completions() {
        let p = predict(
            Schedule::Paced { interval_ms: 100.0 },
            &[250.0; 5],
            &FREE,
            usize::MAX,
        );
        assert_eq!(p.starts_ms, vec![0.0, 100.0, 200.0, 300.0, 400.0]);
        assert_eq!(p.wall_ms, 650.0);
        assert_eq!(p.peak_in_flight(), 3);
    }

    #[test]
    fn empty_scenarios_predict_nothing() {
        let p = predict(Schedule::Limited { slots: 3 }, &[], &FREE, usize::MAX);
        assert_eq!(p.wall_ms, 0.0);
        assert_eq!(p.peak_in_flight(), 0);
    }
}

#[cfg(test)]
mod burst_tests {
    use super::*;

    #[test]
    fn a_burst_starts_every_request_at_its_own_connection_time() {
        // Four requests at once, 1 ms per fresh connection, 2 ms delays: request 0 is
        // done at 3 ms, before request 3's connection is ready at 4 ms, yet request 3
        // still starts on its own connection, as a client spawning all four does.
        let calibration = Calibration {
            per_request_ms: 0.0,
            first_connection_ms: 0.0,
            connect_ms: 1.0,
            connection_rate_per_s: 0.0,
        };
        let p = predict(
            Schedule::Limited { slots: 4 },
            &[2.0; 4],
            &calibration,
            usize::MAX,
        );
        assert_eq!(p.starts_ms, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(p.wall_ms, 6.0);
    }
}
