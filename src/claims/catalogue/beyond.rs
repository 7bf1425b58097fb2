//! Beyond the tutorials: what the tutorials' code does not show, measured the same way
//! and judged by the same kind of rule. These rows are not claims of a document; each
//! states a lesson that load-testing tools learned, with its arithmetic.
//!
//! - `B-omission`: a closed loop hides a server stall that an open loop shows
//!   (coordinated omission; [`crate::claims::behaviour::omission()`]).
//! - `B-hedge`: a hedge after the 95th percentile cuts the tail for about 5 % more
//!   requests (Dean and Barroso, "The Tail at Scale", 2013;
//!   [`crate::claims::behaviour::hedging()`]).
//! - `B-first-of`: the first answer of K replicas comes after the least of K draws
//!   ([`crate::claims::behaviour::first_of()`]).
//! - `B-backpressure`: a bounded channel keeps a slow consumer's client flat in
//!   memory, an unbounded one grows with n ([`crate::claims::behaviour::backpressure()`]).
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
    vec![OMISSION, HEDGE, FIRST_OF, BACKPRESSURE]
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

/// The hedging trials' requests and in-flight limit (the scenario).
pub const HEDGE_N: u64 = 5000;
/// Logical requests in flight in both hedging trials.
pub const HEDGE_LIMIT: usize = 50;
/// The hedging trials run at least at this time scale: at 0.1 the median answer is
/// 5 ms, too close to the runtime's 1 ms timers for a percentile to mean much.
pub const HEDGE_MIN_SCALE: f64 = 0.5;

const HEDGE: Claim = Claim {
    id: "B-hedge",
    document: Document::Beyond,
    section: "hedged requests",
    says: "sending a second copy of a request only once it is slower than the 95th percentile cuts the slowest answers sharply for about 5 % more requests",
    figure: "lognormal 50 ms..800 ms: p99 at most 0.65 x, p99.9 at most 0.4 x, at most 7 % extra",
    plan: hedge_trials,
    judge: |_, runs| behaviour::hedging(runs),
};

/// The same seeded heavy-tailed server met unhedged (`async-semaphore`) and hedged
/// after the run's p95 (`async-hedged`), at one limit: the first copies draw the
/// same delays in both.
fn hedge_trials(ctx: &Context) -> Vec<Trial> {
    let scale = ctx.time_scale.max(HEDGE_MIN_SCALE);
    let latency: crate::server::latency::Latency =
        "lognormal:50ms..800ms".parse().expect("a valid latency");
    let profile = crate::server::profile::Profile::single(latency.scaled(scale));
    [Strategy::AsyncSemaphore, Strategy::AsyncHedged]
        .into_iter()
        .map(|strategy| {
            let mut run = scenario(profile.clone(), HEDGE_N, strategy, ctx);
            run.client.limit = HEDGE_LIMIT;
            run.client.hedge_after = crate::strategy::replicas::HedgeAfter::DEFAULT;
            trial(TrialKey::Strategy(strategy), run)
        })
        .collect()
}

const FIRST_OF: Claim = Claim {
    id: "B-first-of",
    document: Document::Beyond,
    section: "first answer wins",
    says: "asking K replicas at once and taking the first answer makes each request as slow as the fastest of K, for K times the requests",
    figure: "2 replicas, uniform 100 ms..900 ms: wall and p50 within 5 % of the least of two draws",
    plan: first_of_trials,
    judge: |_, runs| behaviour::first_of(runs),
};

/// Two copies of each of 200 requests, 50 requests in flight.
fn first_of_trials(ctx: &Context) -> Vec<Trial> {
    let mut run = scenario(
        single("uniform:100ms..900ms", ctx),
        200,
        Strategy::AsyncFirstOf,
        ctx,
    );
    run.client.replicas = 2;
    run.client.limit = 50;
    vec![trial(TrialKey::Strategy(Strategy::AsyncFirstOf), run)]
}

/// Requests in the bounded pipeline and the larger unbounded one (the smaller has half).
pub const PIPELINE_N: u64 = 400;
/// Each answer's body: large enough that the bodies, not the runtime, are the memory.
pub const PIPELINE_BODY_BYTES: usize = 1 << 20;

const BACKPRESSURE: Claim = Claim {
    id: "B-backpressure",
    document: Document::Beyond,
    section: "pipelines and backpressure",
    says: "between a fast producer and a slow consumer, a bounded channel makes the producer wait and keeps memory flat; an unbounded one queues everything and grows with n",
    figure: "consumer 10 x slower than a fetch, C = 16, 1 MiB bodies: peak memory within 20 % of the bodies the design holds",
    plan: backpressure_trials,
    judge: |_, runs| behaviour::backpressure(runs, PIPELINE_N),
};

/// `async-pipeline`, 4 fetchers and one consumer 10 x slower than a fetch, each in a
/// process of its own: bounded (16) at n, unbounded at n / 2 and n.
fn backpressure_trials(ctx: &Context) -> Vec<Trial> {
    let mut profile = single("2ms", ctx);
    profile.endpoints[0].body_bytes = PIPELINE_BODY_BYTES;
    let pipeline = |channel, n| {
        let mut run = scenario(profile.clone(), n, Strategy::AsyncPipeline, ctx);
        run.client.channel = channel;
        run.client.limit = 4;
        run.client.consumers = 1;
        run.client.work = Duration::from_secs_f64(0.020 * ctx.time_scale);
        run
    };
    use crate::strategy::backpressure::Channel;
    [
        (true, PIPELINE_N, Channel::Bounded(16)),
        (false, PIPELINE_N / 2, Channel::Unbounded),
        (false, PIPELINE_N, Channel::Unbounded),
    ]
    .into_iter()
    .map(|(bounded, n, channel)| Trial::OwnProcess {
        key: TrialKey::Channel { bounded, n },
        scenario: pipeline(channel, n),
    })
    .collect()
}
