//! The open loop's model, and what a stall does to each kind of loop.
//!
//! **Open loop** (`async-arrival-rate`): request i is meant to start at its intended
//! time t_i from the [`ArrivalSchedule`]. It starts then, unless `max_in_flight`
//! requests are in flight, when it waits for the first of them to end. It takes one
//! exchange, the per-request overhead and its delay, like any request.
//!
//! **The stall** ([`crate::server::stall`]): an answer due inside the window
//! `[at, at + S)` (counted from the first request) leaves at its end. In a closed loop
//! of k slots, only the k requests in flight when the stall begins meet it, and
//! nothing else is sent until it ends; an open loop keeps sending, so every request
//! meant to start during the stall waits for its end.
//!
//! **The arithmetic of coordinated omission.** An open loop at rate R for a run of T
//! with one stall of S sends R·S of its R·T requests into the stall: a share S/T of
//! them. One meant to start s into the stall waits S − s, so on average they wait S/2
//! longer, and the share of requests that waited more than x (for x < S) is
//! (S − x)/T. Its p99 from the intended start is therefore about S − 0.01·T when
//! S/T > 1 %: a 2 s stall in a 10 s run at 200/s puts 400 of 2,000 requests in the
//! stall, adds 1 s to each on average, and leaves a p99 near 1.9 s. The closed loop at
//! the same nominal rate (k = R × delay) has k samples in the stall whatever its
//! length: 10 of 2,000 at 200/s and 50 ms, half a percent, under its p99. Measured
//! from each request's send, the open loop would hide most of it too, since the
//! requests that queued behind a full cap were *sent* late: that is why latency is
//! read from the intended start.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::{Calibration, Connections, LinkCosts, Pool};
use crate::server::stall::Stall;
use crate::strategy::arrival::ArrivalSchedule;

/// Moves `end` (ms from the run's start) to the stall's end when the answer falls due
/// inside it; `origin` is when the first request reached the server.
pub(super) fn stalled(end: f64, origin: f64, stall: Option<&Stall>) -> f64 {
    match stall {
        Some(stall) => {
            let since = std::time::Duration::from_secs_f64((end - origin).max(0.0) / 1e3);
            end + stall.hold(since).as_secs_f64() * 1e3
        }
        None => end,
    }
}

/// The open loop's intended starts, actual starts and ends, ms, in `seq` order.
pub(super) struct OpenLoopTimes {
    pub(super) intended: Vec<f64>,
    pub(super) starts: Vec<f64>,
    pub(super) ends: Vec<f64>,
}

/// Request i starts at its intended time, or when a slot frees if `max_in_flight`
/// are in flight then; a pooled client reuses a connection idle at that moment.
pub(super) fn predict(
    arrivals: &ArrivalSchedule,
    max_in_flight: usize,
    delays: &[f64],
    calibration: &Calibration,
    connections: Connections,
    link: &LinkCosts,
    stall: Option<&Stall>,
) -> OpenLoopTimes {
    let to_ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
    let mut pool = Pool::new(connections, link);
    let mut in_flight: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut times = OpenLoopTimes {
        intended: Vec::with_capacity(delays.len()),
        starts: Vec::with_capacity(delays.len()),
        ends: Vec::with_capacity(delays.len()),
    };
    let mut origin = None;
    for (i, delay) in delays.iter().enumerate() {
        let intended = arrivals.intended(i as u64).as_secs_f64() * 1e3;
        let mut start = intended;
        // Slots that freed by now are free; if the cap is still full, wait for one.
        while in_flight
            .peek()
            .is_some_and(|Reverse(end)| *end <= to_ns(start))
        {
            in_flight.pop();
        }
        if in_flight.len() >= max_in_flight.max(1)
            && let Some(Reverse(free_at)) = in_flight.pop()
        {
            start = start.max(free_at as f64 / 1e6);
        }
        let first = if i == 0 {
            calibration.first_connection_ms
        } else {
            0.0
        };
        let sent = pool.take(start) + first;
        let origin = *origin.get_or_insert(sent);
        let end = stalled(sent + calibration.per_request_ms + delay, origin, stall);
        pool.give_back(end);
        in_flight.push(Reverse(to_ns(end)));
        times.intended.push(intended);
        times.starts.push(start);
        times.ends.push(end);
    }
    times
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::FREE;
    use std::time::Duration;

    #[test]
    fn an_open_loop_sends_on_schedule_and_queues_behind_a_full_cap() {
        let arrivals = ArrivalSchedule::new(100.0, None);
        let link = LinkCosts::default();
        let times = predict(
            &arrivals,
            2,
            &[25.0; 4],
            &FREE,
            Connections::Pooled,
            &link,
            None,
        );
        // Starts every 10 ms; the third finds two in flight until 25 ms.
        assert_eq!(times.intended, [0.0, 10.0, 20.0, 30.0]);
        assert_eq!(times.starts, [0.0, 10.0, 25.0, 35.0]);
        assert_eq!(times.ends, [25.0, 35.0, 50.0, 60.0]);
    }

    #[test]
    fn a_stall_holds_every_answer_due_inside_it_until_its_end() {
        let arrivals = ArrivalSchedule::new(100.0, None);
        let stall = Stall::new(Duration::from_millis(100), Duration::from_millis(20));
        let link = LinkCosts::default();
        let times = predict(
            &arrivals,
            100,
            &[5.0; 20],
            &FREE,
            Connections::Pooled,
            &link,
            Some(&stall),
        );
        // Answers due at 5 and 15 ms leave on time; those due from 25 ms to 115 ms
        // leave at 120 ms; the 13th (sent at 120 ms) is answered at 125 ms.
        assert_eq!(times.ends[1], 15.0);
        assert!(times.ends[2..12].iter().all(|&end| end == 120.0));
        assert_eq!(times.ends[12], 125.0);
    }
}
