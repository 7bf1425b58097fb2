//! The open loop, `async-arrival-rate`: requests start on a schedule, not when a slot
//! frees.
//!
//! One driver walks the [`ArrivalSchedule`]: it sleeps until request i's intended
//! start, takes one of `--max-in-flight` permits, and spawns the request. It never
//! waits for an answer, only for a permit, so a stalled server does not slow the
//! schedule down until the cap is full; from then on each start waits for a slot and
//! is late. Every sample keeps its intended start beside its actual one
//! ([`Sample::intended`]), and latency is read both ways: from the send (what the
//! client saw) and from the intended start (what a user who arrived then waited).
//!
//! Compare it with `async-semaphore`, the closed loop at the same nominal rate
//! (`--limit` = rate × latency): against a server that freezes, the semaphore's k
//! requests freeze with it and nothing else is sent, so only k samples see the stall.
//! That is coordinated omission; [`crate::model::open_loop`] has the arithmetic.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::arrival::ArrivalSchedule;
use super::asynchronous::{Fetcher, join_in_order};
use super::request::PlannedRequest;
use crate::measure::Sample;

/// Starts each request at its intended time, at most `max_in_flight` at once.
pub(super) async fn arrival_rate(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    schedule: ArrivalSchedule,
    max_in_flight: usize,
) -> Vec<Sample> {
    let permits = Arc::new(Semaphore::new(max_in_flight.max(1)));
    let t0 = tokio::time::Instant::from_std(fetcher.clock().t0);
    let mut tasks = Vec::with_capacity(requests.len());
    for (i, request) in requests.into_iter().enumerate() {
        let intended = schedule.intended(i as u64);
        let ids = (request.seq, request.endpoint);
        let fetcher = fetcher.clone();
        // Past the deadline nothing waits: the rest end as cancelled, each with its
        // intended start.
        let permit = fetcher
            .wait(async {
                tokio::time::sleep_until(t0 + intended).await;
                permits.clone().acquire_owned().await
            })
            .await;
        let task = tokio::spawn(async move {
            let mut sample = match permit {
                Some(Ok(held)) => {
                    let sample = fetcher.fetch(&request).await;
                    drop(held);
                    sample
                }
                _ => fetcher.cancelled(&request, None),
            };
            sample.intended = Some(intended);
            sample
        });
        tasks.push((ids, task));
    }
    join_in_order(&fetcher, tasks).await
}
