//! The rows of D2, the guide to asynchronous HTTP with aiohttp: one constant per
//! claim, listed in the document's order by [`claims`].
//!
//! Read next: [`crate::claims::rules`], the verdict rules.

use std::time::Duration;

use super::builders::{endpoints, limited, pair, reuse_trials, scenario, single, trial};
use crate::claims::rules::{self, limit_held, speedup_near};
use crate::claims::trial::{Mode, TrialKey};
use crate::claims::{Claim, Context, Document, Trial, behaviour};
use crate::strategy::Strategy;

/// The document these rows come from.
const DOCUMENT: Document = Document::AiohttpGuide;

/// The rows, in the document's order.
pub fn claims() -> Vec<Claim> {
    vec![
        THREE_AT_1S,
        TEN_USERS,
        BENCHMARK_20,
        TEN_TO_HUNDRED_X,
        SESSION_REUSE,
        POOL,
        AGGREGATOR,
        ERROR_HANDLING,
        POSTS,
    ]
}

const THREE_AT_1S: Claim = Claim {
    id: "D2-3x1s",
    document: DOCUMENT,
    section: "why async",
    says: "three requests of 1 s each take about 3 s one after another",
    figure: "3 s",
    plan: |ctx| {
        vec![trial(
            TrialKey::Sequential,
            scenario(single("1s", ctx), 3, Strategy::SyncSequential, ctx),
        )]
    },
    judge: |ctx, runs| rules::sequential_about(runs, 3000.0 * ctx.time_scale),
};

const TEN_USERS: Claim = Claim {
    id: "D2-10users",
    document: DOCUMENT,
    section: "example 2",
    says: "ten users fetched concurrently in 0.45 s, against about 10 s at 1 s each in turn",
    figure: "10 s vs 0.45 s",
    plan: |ctx| pair(single("1s", ctx), 10, ctx),
    judge: |_, runs| speedup_near(10.0, runs),
};

const BENCHMARK_20: Claim = Claim {
    id: "D2-bench20",
    document: DOCUMENT,
    section: "benchmark",
    says: "twenty users: 18.45 s sync, 1.23 s async, 15.0x",
    figure: "18.45 s vs 1.23 s (15.0x)",
    plan: |ctx| pair(single("uniform:600ms..1240ms", ctx), 20, ctx),
    judge: |_, runs| speedup_near(15.0, runs),
};

const TEN_TO_HUNDRED_X: Claim = Claim {
    id: "D2-10to100x",
    document: DOCUMENT,
    section: "conclusion",
    says: "async brings 10-100x improvements",
    figure: "10-100x",
    plan: scaling_trials,
    judge: |_, runs| behaviour::scaling(runs),
};

const SESSION_REUSE: Claim = Claim {
    id: "D2-session",
    document: DOCUMENT,
    section: "best practices",
    says: "reuse one session; a new session per request is wasteful",
    figure: "one session",
    plan: reuse_trials,
    judge: |_, runs| behaviour::client_reuse(runs),
};

const POOL: Claim = Claim {
    id: "D2-pool",
    document: DOCUMENT,
    section: "connection pooling",
    says: "a pool of limit=100 and limit_per_host=10 keeps ten connections to one host",
    figure: "10 per host",
    plan: |ctx| limited(single("1s", ctx), 100, 10, ctx),
    judge: |_, runs| limit_held(runs, 10),
};

const AGGREGATOR: Claim = Claim {
    id: "D2-aggregator",
    document: DOCUMENT,
    section: "real-world example",
    says: "an aggregator with a semaphore of 5 over five URLs",
    figure: "5 URLs, limit 5",
    plan: |ctx| limited(endpoints(&[0.3, 0.5, 0.4, 0.6, 0.2], ctx), 5, 5, ctx),
    judge: |_, runs| limit_held(runs, 5),
};

const ERROR_HANDLING: Claim = Claim {
    id: "D2-status",
    document: DOCUMENT,
    section: "error handling",
    says: "handle 404, 429, timeouts and connection errors without crashing",
    figure: "every error handled",
    plan: |ctx| {
        let mut profile = endpoints(&[0.2, 0.2, 0.2, 0.2], ctx);
        profile.endpoints[0].status = 404;
        profile.endpoints[1].status = 429;
        profile.endpoints[1].fault.retry_after_secs = Some(1);
        profile.endpoints[2].fault.hang = true;
        profile.endpoints[3].fault.refused = true;
        [Strategy::SyncSequential, Strategy::AsyncConcurrent]
            .into_iter()
            .map(|strategy| {
                let mut s = scenario(profile.clone(), 4, strategy, ctx);
                s.client.timeout = Some(Duration::from_secs_f64(1.0 * ctx.time_scale));
                s.deadline = Some(
                    Duration::from_secs_f64(10.0 * ctx.time_scale).max(Duration::from_secs(2)),
                );
                trial(TrialKey::Strategy(strategy), s)
            })
            .collect()
    },
    judge: |_, runs| {
        use crate::measure::Outcome::{Connect, Http4xx, Http429, Timeout};
        behaviour::classified(runs, &[Http4xx, Http429, Timeout, Connect])
    },
};

const POSTS: Claim = Claim {
    id: "D2-post",
    document: DOCUMENT,
    section: "example 3",
    says: "three JSON POSTs sent concurrently come back 201",
    figure: "3 × 201",
    plan: |ctx| {
        let mut profile = endpoints(&[0.4, 0.6, 0.5], ctx);
        for endpoint in &mut profile.endpoints {
            endpoint.method = "POST".to_string();
            endpoint.status = 201;
        }
        vec![trial(
            TrialKey::Posts,
            scenario(profile, 3, Strategy::AsyncConcurrent, ctx),
        )]
    },
    judge: |_, runs| behaviour::posts_created(runs),
};

/// The n values of the scaling claim.
pub const SCALING_NS: [u64; 7] = [1, 3, 10, 30, 100, 300, 1000];

/// Each n all at once, and one after another; only the largest sequential run is run:
/// the smaller ones are its first n requests ([`Trial::FirstOf`]), which saves the
/// catalogue 444 sequential requests.
fn scaling_trials(ctx: &Context) -> Vec<Trial> {
    let profile = single("100ms", ctx);
    let sequential = |n| TrialKey::Scaling {
        n,
        mode: Mode::Sequential,
    };
    let longest = SCALING_NS[SCALING_NS.len() - 1];
    SCALING_NS
        .iter()
        .flat_map(|&n| {
            let one_by_one = scenario(profile.clone(), n, Strategy::SyncSequential, ctx);
            let at_once = scenario(profile.clone(), n, Strategy::AsyncConcurrent, ctx);
            let concurrent = TrialKey::Scaling {
                n,
                mode: Mode::Concurrent,
            };
            let one_by_one = if n == longest {
                trial(sequential(n), one_by_one)
            } else {
                Trial::FirstOf {
                    key: sequential(n),
                    of: sequential(longest),
                    scenario: one_by_one,
                }
            };
            [one_by_one, trial(concurrent, at_once)]
        })
        .collect()
}
