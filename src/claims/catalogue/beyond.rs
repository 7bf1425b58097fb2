//! Beyond the tutorials: what the tutorials' code does not show, measured the same way
//! and judged by the same kind of rule. These rows are not claims of a document; each
//! states a lesson that load-testing tools learned, with its arithmetic.
//!
//! - `B-omission`: a closed loop hides a server stall that an open loop shows
//!   (coordinated omission; [`crate::claims::behaviour::omission()`]).
//!
//! Read next: [`crate::model::open_loop`], the arithmetic behind the row.

use std::time::Duration;

use super::builders::{scenario, single, trial};
use crate::claims::behaviour;
use crate::claims::trial::TrialKey;
use crate::claims::{Claim, Context, Document, Trial};
use crate::server::stall::Stall;
use crate::strategy::Strategy;

/// The rows, in order.
pub fn claims() -> Vec<Claim> {
    vec![OMISSION]
}

/// The stalled server both loops meet, at time scale 1: answers after 50 ms, frozen
/// for 2 s from 1 s after the first request.
pub const STALL: Stall = Stall {
    at_ms: 1000,
    for_ms: 2000,
};
/// The open loop's rate at time scale 1, per second; the run lasts `N / RATE`.
pub const RATE: f64 = 200.0;
/// Requests in each loop: 10 s of arrivals at `RATE`.
pub const N: u64 = 2000;
/// The closed loop's slots: `RATE` × the 50 ms delay, the same nominal rate.
pub const CLOSED_SLOTS: usize = 10;

const OMISSION: Claim = Claim {
    id: "B-omission",
    document: Document::Beyond,
    section: "coordinated omission",
    says: "against a server that freezes for S in a run of T, a closed loop's p99 looks healthy, while an open loop at the same rate shows the stall: about S/T of its requests wait, on average, S/2 longer",
    figure: "2 s stall in 10 s: 20 % of requests, +1 s each",
    plan: omission_trials,
    judge: |ctx, runs| behaviour::omission(runs, &STALL.scaled(ctx.time_scale)),
};

/// The same seeded, stalled server met by `async-semaphore` (closed) and
/// `async-arrival-rate` (open), at one nominal rate.
fn omission_trials(ctx: &Context) -> Vec<Trial> {
    let mut profile = single("50ms", ctx);
    profile.stall = Some(STALL.scaled(ctx.time_scale));
    let rate = RATE / ctx.time_scale;
    let mut closed = scenario(profile.clone(), N, Strategy::AsyncSemaphore, ctx);
    closed.client.limit = CLOSED_SLOTS;
    let mut open = scenario(profile, N, Strategy::AsyncArrivalRate, ctx);
    open.client.rate = rate;
    // Room for every request the stall holds: rate × (stall + delay), twice over.
    let held = rate * (STALL.length() + Duration::from_millis(50)).as_secs_f64() * ctx.time_scale;
    open.client.max_in_flight = (2.0 * held).ceil() as usize;
    // The report counts its arrivals in windows of this: 20 of them in the run.
    open.client.rate_window = Duration::from_secs_f64(0.5 * ctx.time_scale);
    vec![
        trial(TrialKey::Strategy(Strategy::AsyncSemaphore), closed),
        trial(TrialKey::Strategy(Strategy::AsyncArrivalRate), open),
    ]
}
