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
//! The network between client and server ([`LinkCosts`]) is charged on top, from the
//! scenario's link rather than from a probe: every request waits one round trip (its
//! bytes out and its answer back), and a request that opens a connection waits the
//! connection's own round trips first (TCP's handshake, then TLS's). The probes run on
//! loopback, so they measure this machine and nothing of the emulated distance.
//!
//! Read next: [`crate::summary`], where the prediction meets the measurement as
//! `predicted_ms` and `efficiency`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::server::stall::Stall;
use crate::strategy::Strategy;
use crate::strategy::arrival::ArrivalSchedule;

mod link;
pub mod open_loop;
pub(crate) use link::Pool;
use link::Sessions;
pub use link::{Connections, LinkCosts, Setup};

/// Costs measured by short probes before a run, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// One request and its answer on an already open connection (or with a new client,
    /// for `--client per-request`, or a new, resumed connection against a server with
    /// `--server-keep-alive off`), server delay zero. It includes the server timer's
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
    /// An open loop: each request starts at its intended time on the schedule,
    /// answered or not, at most `max_in_flight` at once ([`open_loop`]).
    Open {
        /// When each request is meant to start.
        arrivals: ArrivalSchedule,
        /// The cap on requests in flight.
        max_in_flight: usize,
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
    /// For an open loop, when each request was meant to start, ms, in `seq` order
    /// (empty for the closed loops, whose requests start when a slot frees).
    pub intended_ms: Vec<f64>,
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
        Strategy::AsyncArrivalRate => Schedule::Open {
            arrivals: scenario.client.arrivals(),
            max_in_flight: scenario.client.max_in_flight,
        },
        Strategy::AsyncRatelimited | Strategy::AsyncNaiveRatelimited => Schedule::Paced {
            // The GCRA limiter's interval, headroom included (see `strategy::ratelimit`).
            interval_ms: 1000.0 * crate::strategy::ratelimit::HEADROOM / scenario.client.rate,
        },
        Strategy::SyncThreads
        | Strategy::AsyncConcurrent
        | Strategy::AsyncFailfast
        | Strategy::AsyncSemaphore
        | Strategy::AsyncBuffered
        | Strategy::AsyncHyper
        | Strategy::AsyncFirstOf
        | Strategy::AsyncHedged
        | Strategy::AsyncPipeline
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
    (0..scenario.n)
        .map(|seq| scenario.delay(seq).as_secs_f64() * 1e3)
        .collect()
}

/// How long each request waits for its first answer, ms, in `seq` order: its delay,
/// or for the strategies that send copies, the first of its copies' answers.
///
/// - `async-first-of`: the smallest of its `--replicas` draws.
/// - `async-hedged`: its own draw, or the hedge's wait plus the hedge's draw when that
///   is sooner. The wait of `--hedge-after pNN` is the NNth percentile of the first
///   copies' draws: the percentile the run's own answers settle on
///   ([`crate::strategy::replicas`] says why).
pub fn first_answers_ms(scenario: &Scenario) -> Vec<f64> {
    use crate::strategy::replicas::HedgeAfter;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let own = delays_ms(scenario);
    match scenario.strategy {
        Strategy::AsyncFirstOf => {
            let replicas = scenario.client.replicas.max(1) as u32;
            (0..scenario.n)
                .map(|seq| {
                    (0..replicas)
                        .map(|copy| ms(scenario.copy_delay(seq, copy)))
                        .fold(f64::INFINITY, f64::min)
                })
                .collect()
        }
        Strategy::AsyncHedged => {
            let wait = match scenario.client.hedge_after {
                HedgeAfter::Fixed(wait) => ms(wait),
                HedgeAfter::Percentile(q) => quantile(&own, q / 100.0),
            };
            own.iter()
                .zip(0..)
                .map(|(first, seq)| first.min(wait + ms(scenario.copy_delay(seq, 1))))
                .collect()
        }
        _ => own,
    }
}

/// The value at quantile `q` (0..=1) of `values`, by rank.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0.0)
}

/// Predicts the scenario's wall time and schedule.
pub fn predict_scenario(scenario: &Scenario, calibration: &Calibration) -> Prediction {
    let link = LinkCosts::of(scenario);
    // An answer's bytes over the bandwidth hold its connection as its delay does.
    let endpoints = &scenario.profile.endpoints;
    let busy_ms: Vec<f64> = first_answers_ms(scenario)
        .into_iter()
        .enumerate()
        .map(|(seq, delay)| delay + link.transfer_ms(endpoints[seq % endpoints.len()].body_bytes))
        .collect();
    predict_stalled(
        schedule_of(scenario),
        &busy_ms,
        calibration,
        Connections::of(scenario),
        &link,
        scenario.profile.stall.as_ref(),
    )
}

/// List scheduling of `delays` (ms, in submission order) on the schedule's slots.
///
/// Slot j (from 0) is ready after j + 1 connection set-ups of this machine's CPU in a
/// burst (HTTP/2 opens one, so it charges one), and never before the first connection
/// is open. Every request costs the per-request overhead, one round trip and its delay;
/// a request that opens a connection also waits the connection's round trips
/// ([`LinkCosts::setup_ms`]), fewer when it resumes a TLS session from an earlier
/// handshake ([`Setup::Resumed`]). Round trips overlap; CPU set-ups queue.
pub fn predict(
    schedule: Schedule,
    delays: &[f64],
    calibration: &Calibration,
    connections: Connections,
    link: &LinkCosts,
) -> Prediction {
    predict_stalled(schedule, delays, calibration, connections, link, None)
}

/// [`predict`], against a server that may stall: an answer due inside the stall
/// leaves at its end (see [`open_loop`]), and a closed loop's slot frees only
/// then.
pub fn predict_stalled(
    schedule: Schedule,
    delays: &[f64],
    calibration: &Calibration,
    connections: Connections,
    link: &LinkCosts,
    stall: Option<&Stall>,
) -> Prediction {
    let slots = match schedule {
        Schedule::Sequential => 1,
        Schedule::Limited { slots } => slots.clamp(1, delays.len().max(1)),
        Schedule::Paced { interval_ms } => {
            return paced(
                schedule,
                interval_ms,
                delays,
                calibration,
                connections,
                link,
                stall,
            );
        }
        Schedule::Open {
            arrivals,
            max_in_flight,
        } => {
            let times = open_loop::predict(
                &arrivals,
                max_in_flight,
                delays,
                calibration,
                connections,
                link,
                stall,
            );
            let mut prediction = Prediction::from_times(schedule, times.starts, times.ends);
            prediction.intended_ms = times.intended;
            return prediction;
        }
    };
    let charged_setups = connections.charged_setups();
    // Free times in integer nanoseconds, so the heap orders them exactly.
    let to_ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
    let mut free: BinaryHeap<Reverse<(u64, usize)>> = (0..slots)
        .map(|j| {
            let setups = (j + 1).min(charged_setups);
            let ready =
                (setups as f64 * calibration.connect_ms).max(calibration.first_connection_ms);
            Reverse((to_ns(ready), j))
        })
        .collect();
    let mut opened = vec![false; slots];
    let mut sessions = Sessions::default();
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
        let fresh = connections == Connections::PerRequest || !opened[slot];
        opened[slot] = true;
        let start = free_at as f64 / 1e6;
        let setup = if fresh {
            sessions.open(start, link)
        } else {
            Setup::Reused
        };
        let origin = *starts.first().unwrap_or(&start);
        let end = open_loop::stalled(
            start + link.exchange_ms(setup) + calibration.per_request_ms + delay,
            origin,
            stall,
        );
        starts.push(start);
        ends.push(end);
        free.push(Reverse((to_ns(end), slot)));
    }
    Prediction::from_times(schedule, starts, ends)
}

/// Request i starts at i intervals (after the first connection), whatever else is in
/// flight: a rate limiter paces starts, not completions. A pooled client reuses a
/// connection that is idle when a request starts and opens one otherwise.
fn paced(
    schedule: Schedule,
    interval_ms: f64,
    delays: &[f64],
    calibration: &Calibration,
    connections: Connections,
    link: &LinkCosts,
    stall: Option<&Stall>,
) -> Prediction {
    let mut pool = Pool::new(connections, link);
    let mut starts = Vec::with_capacity(delays.len());
    let mut ends = Vec::with_capacity(delays.len());
    for (i, delay) in delays.iter().enumerate() {
        let start = calibration.first_connection_ms + i as f64 * interval_ms;
        let sent = pool.take(start);
        let origin = *starts.first().unwrap_or(&start);
        let end = open_loop::stalled(sent + calibration.per_request_ms + delay, origin, stall);
        pool.give_back(end);
        starts.push(start);
        ends.push(end);
    }
    Prediction::from_times(schedule, starts, ends)
}

impl Prediction {
    fn from_times(schedule: Schedule, starts_ms: Vec<f64>, ends_ms: Vec<f64>) -> Prediction {
        let wall_ms = ends_ms.iter().copied().fold(0.0, f64::max);
        Prediction {
            schedule,
            wall_ms,
            starts_ms,
            ends_ms,
            intended_ms: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests;
