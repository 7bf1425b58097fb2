//! The rows of D0, the article on async API calls with HTTPX, TaskGroups and
//! semaphores: one constant per claim, listed in the document's order by [`claims`].
//!
//! Read next: [`super::d1`].

use std::time::Duration;

use super::builders::{
    endpoints, failing, limited, pair, reuse_trials, scenario, single, trial, window,
};
use crate::claims::behaviour;
use crate::claims::rules::{concurrent_as_slowest, limit_held, speedup_near};
use crate::claims::trial::{Library, TrialKey};
use crate::claims::{Claim, Context, Document, Trial};
use crate::strategy::{HttpVersion, Strategy};

/// The document these rows come from.
const DOCUMENT: Document = Document::HttpxTaskGroups;

/// The rows, in the document's order.
pub fn claims() -> Vec<Claim> {
    vec![
        FIGURE_1,
        HUNDRED_AS_SLOWEST,
        TIMEOUT_DEFAULTS,
        HTTP2,
        CLIENT_REUSE,
        FAIL_FAST,
        SEMAPHORE_5,
        RATE_LIMITED_SERVER,
    ]
}

const FIGURE_1: Claim = Claim {
    id: "D0-fig1",
    document: DOCUMENT,
    section: "Figure 1",
    says: "ten calls take 20 s one at a time and 3 s at once: as fast as the slowest request",
    figure: "20 s vs 3 s (6.7x)",
    plan: |ctx| {
        pair(
            endpoints(&[3.0, 2.6, 2.4, 2.2, 2.0, 1.9, 1.8, 1.6, 1.4, 1.1], ctx),
            10,
            ctx,
        )
    },
    judge: |_, runs| speedup_near(20.0 / 3.0, runs),
};

const HUNDRED_AS_SLOWEST: Claim = Claim {
    id: "D0-100",
    document: DOCUMENT,
    section: "introduction",
    says: "a hundred requests can take as long as the single slowest one",
    figure: "100 requests ≈ the slowest",
    plan: |ctx| {
        vec![trial(
            TrialKey::Concurrent,
            scenario(
                single("lognormal:1s..3s", ctx),
                100,
                Strategy::AsyncConcurrent,
                ctx,
            ),
        )]
    },
    judge: |_, runs| concurrent_as_slowest(runs),
};

const TIMEOUT_DEFAULTS: Claim = Claim {
    id: "D0-timeout",
    document: DOCUMENT,
    section: "from requests to httpx",
    says: "the sync client waits forever by default, the async one gives up after 5 s",
    figure: "requests: no timeout; httpx: 5 s",
    plan: timeout_trials,
    judge: |ctx, runs| {
        behaviour::timeout_defaults(
            runs,
            timeout_deadline(ctx).as_secs_f64() * 1e3,
            5000.0 * ctx.time_scale,
        )
    },
};

const HTTP2: Claim = Claim {
    id: "D0-h2",
    document: DOCUMENT,
    section: "from requests to httpx",
    says: "HTTP/2 carries many requests over one connection",
    figure: "one connection",
    plan: |ctx| {
        let h1 = scenario(single("1s", ctx), 500, Strategy::AsyncConcurrent, ctx);
        let mut h2 = h1.clone();
        h2.client.http = HttpVersion::Http2;
        vec![trial(TrialKey::Http1, h1), trial(TrialKey::Http2, h2)]
    },
    judge: |_, runs| behaviour::http2_one_connection(runs),
};

const CLIENT_REUSE: Claim = Claim {
    id: "D0-reuse",
    document: DOCUMENT,
    section: "from requests to httpx",
    says: "pass one client into every call instead of building one per call",
    figure: "one client for all calls",
    plan: reuse_trials,
    judge: |_, runs| behaviour::client_reuse(runs),
};

const FAIL_FAST: Claim = Claim {
    id: "D0-failfast",
    document: DOCUMENT,
    section: "TaskGroups",
    says: "a task group fails the batch on the first error, so a 401 on the first call spares the server the other 99",
    figure: "1 failure stops 99 calls",
    plan: |ctx| {
        let profile = failing(0.5, 401, ctx);
        let mut ff = scenario(profile.clone(), 100, Strategy::AsyncFailfast, ctx);
        ff.client.limit = 10;
        let mut all = scenario(profile, 100, Strategy::AsyncSemaphore, ctx);
        all.client.limit = 10;
        vec![
            trial(TrialKey::FailFast, ff),
            trial(TrialKey::CollectAll, all),
        ]
    },
    judge: |_, runs| behaviour::fail_fast(runs, 10),
};

const SEMAPHORE_5: Claim = Claim {
    id: "D0-sem5",
    document: DOCUMENT,
    section: "semaphores",
    says: "a semaphore of 5 keeps 10 calls within the server's limits",
    figure: "5 at a time",
    plan: |ctx| limited(single("1s", ctx), 10, 5, ctx),
    judge: |_, runs| limit_held(runs, 5),
};

const RATE_LIMITED_SERVER: Claim = Claim {
    id: "D0-429",
    document: DOCUMENT,
    section: "semaphores",
    says: "a thousand calls at once against a rate-limited API earn 429s (limits like 20 per second or 100 connections)",
    figure: "1000 at once → 429s",
    plan: |ctx| {
        let mut profile = single("100ms", ctx);
        profile.limits.max_per_second = Some(20);
        profile.limits.window_ms = Some(window(ctx).as_millis().max(1) as u64);
        let burst = scenario(profile.clone(), 1000, Strategy::AsyncConcurrent, ctx);
        let mut paced = scenario(profile, 100, Strategy::AsyncRatelimited, ctx);
        // 5 % under the server's 20 per window: pacing exactly at a limit lets
        // network jitter push one request into the previous window.
        paced.client.rate = 19.0 / window(ctx).as_secs_f64();
        vec![
            trial(TrialKey::AllAtOnce, burst),
            trial(TrialKey::Paced, paced),
        ]
    },
    judge: |_, runs| behaviour::rate_limited_server(runs),
};

/// The run deadline of the timeout-default trials: 10 s at full scale (twice the 5 s
/// the document gives httpx, so a 5 s default would show), never under 1 s.
fn timeout_deadline(ctx: &Context) -> Duration {
    Duration::from_secs_f64(10.0 * ctx.time_scale).max(Duration::from_secs(1))
}

/// A hanging endpoint, met by each client with its default and with a 5 s timeout.
fn timeout_trials(ctx: &Context) -> Vec<Trial> {
    let mut profile = single("100ms", ctx);
    profile.endpoints[0].fault.hang = true;
    let explicit = Duration::from_secs_f64(5.0 * ctx.time_scale);
    let mut trials = Vec::new();
    for (strategy, library) in [
        (Strategy::SyncSequential, Library::Ureq),
        (Strategy::AsyncSequential, Library::Reqwest),
    ] {
        let key = |explicit| TrialKey::Timeout { library, explicit };
        let mut by_default = scenario(profile.clone(), 1, strategy, ctx);
        by_default.deadline = Some(timeout_deadline(ctx));
        trials.push(trial(key(false), by_default.clone()));
        let mut explicit_run = by_default;
        explicit_run.client.timeout = Some(explicit);
        trials.push(trial(key(true), explicit_run));
    }
    trials
}
