//! The pieces every plan is built from: profiles written at time scale 1 and scaled by
//! the context, scenarios on the context's seed and engine, trials named by their
//! keys, and the plans two documents share (the tutorials' pair, a limited run, client
//! reuse).
//!
//! Read next: [`super::d0`], the first document's rows.

use std::time::Duration;

use super::super::trial::{Mode, TrialKey};
use super::super::{Context, Trial};
use crate::news::mock::MockSource;
use crate::news::trial::NewsTrial;
use crate::scenario::Scenario;
use crate::server::latency::Latency;
use crate::server::profile::{Endpoint, Profile};
use crate::strategy::{ClientReuse, Strategy};

/// One endpoint per delay (in seconds at time scale 1), each answering after its delay.
pub fn endpoints(delays_s: &[f64], ctx: &Context) -> Profile {
    let endpoints = delays_s
        .iter()
        .enumerate()
        .map(|(i, s)| Endpoint {
            name: format!("e{i}"),
            path: format!("/e{i}"),
            ..Endpoint::catch_all(Latency::Fixed(Duration::from_secs_f64(s * ctx.time_scale)))
        })
        .collect();
    Profile {
        endpoints,
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

/// One catch-all endpoint with `latency` (written at time scale 1).
pub fn single(latency: &str, ctx: &Context) -> Profile {
    let latency: Latency = latency.parse().expect("catalogue latencies parse");
    Profile::single(latency.scaled(ctx.time_scale))
}

/// A scenario of `n` requests on the context's seed, engine, network and TLS.
pub fn scenario(mut profile: Profile, n: u64, strategy: Strategy, ctx: &Context) -> Scenario {
    profile.network = ctx.network();
    Scenario {
        seed: ctx.seed,
        engine: ctx.engine,
        tls: ctx.setting.tls(),
        ..Scenario::new(profile, n, strategy)
    }
}

/// A strategy's run, keyed.
pub fn trial(key: TrialKey, scenario: Scenario) -> Trial {
    Trial::Strategy { key, scenario }
}

/// A run of chapter 7's news aggregator over `sources` (delays written at time scale
/// 1), its mock API on the context's engine, network and TLS.
pub fn news(
    ctx: &Context,
    key: TrialKey,
    sources: Vec<MockSource>,
    concurrent: bool,
    store: bool,
) -> Trial {
    let news = NewsTrial {
        sources: sources
            .into_iter()
            .map(|s| s.scaled(ctx.time_scale))
            .collect(),
        concurrent,
        store,
        timeout: Duration::from_secs(5),
    };
    let mut scenario = news.scenario(ctx.seed);
    scenario.profile.network = ctx.network();
    Trial::News {
        key,
        scenario: Scenario {
            engine: ctx.engine,
            tls: ctx.setting.tls(),
            ..scenario
        },
        news,
    }
}

/// The tutorials' comparison: sync one after another against async all at once, keyed
/// [`TrialKey::Sequential`] and [`TrialKey::Concurrent`].
pub fn pair(profile: Profile, n: u64, ctx: &Context) -> Vec<Trial> {
    vec![
        trial(
            TrialKey::Sequential,
            scenario(profile.clone(), n, Strategy::SyncSequential, ctx),
        ),
        trial(
            TrialKey::Concurrent,
            scenario(profile, n, Strategy::AsyncConcurrent, ctx),
        ),
    ]
}

/// One run behind a semaphore of `limit`, keyed [`TrialKey::Limited`].
pub fn limited(profile: Profile, n: u64, limit: usize, ctx: &Context) -> Vec<Trial> {
    let mut s = scenario(profile, n, Strategy::AsyncSemaphore, ctx);
    s.client.limit = limit;
    vec![trial(TrialKey::Limited, s)]
}

/// An endpoint that always answers `status` after `delay_s` (scaled).
pub fn failing(delay_s: f64, status: u16, ctx: &Context) -> Profile {
    let mut profile = single(&format!("{delay_s}s"), ctx);
    profile.endpoints[0].status = status;
    profile
}

/// A shared client against a client per request, one after another and all at once
/// (D0-reuse and D2-session).
pub fn reuse_trials(ctx: &Context) -> Vec<Trial> {
    let profile = single("500ms", ctx);
    let mut trials = Vec::new();
    for (strategy, mode) in [
        (Strategy::AsyncSequential, Mode::Sequential),
        (Strategy::AsyncConcurrent, Mode::Concurrent),
    ] {
        for client in [ClientReuse::Shared, ClientReuse::PerRequest] {
            let mut s = scenario(profile.clone(), 10, strategy, ctx);
            s.client.reuse = client;
            trials.push(trial(TrialKey::Reuse { mode, client }, s));
        }
    }
    trials
}

/// The tutorials' one-second rate window, time-scaled with the delays.
pub fn window(ctx: &Context) -> Duration {
    Duration::from_secs_f64(ctx.time_scale)
}
