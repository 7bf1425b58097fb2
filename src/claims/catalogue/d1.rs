//! The rows of D1, the book chapter "Asynchronous API Calls" with its news
//! aggregator: one constant per claim, listed in the document's order by [`claims`].
//!
//! Read next: [`super::d2`].

use std::time::Duration;

use super::builders::{endpoints, limited, news, pair, scenario, single, trial, window};
use crate::claims::rules::{formula, limit_held, speedup_near};
use crate::claims::trial::TrialKey;
use crate::claims::{Claim, Context, Document, behaviour, news};
use crate::news::mock::MockSource;
use crate::strategy::Strategy;

/// The document these rows come from.
const DOCUMENT: Document = Document::BookChapter;

/// The rows, in the document's order.
pub fn claims() -> Vec<Claim> {
    vec![
        FIRST_THREE,
        THREE_AT_500MS,
        FORMULA,
        TWENTY_APIS,
        FIFTY_SECONDS,
        SEMAPHORE_10,
        RATE_LIMITER,
        TIMEOUTS,
        AS_COMPLETED,
        PARTIAL_FAILURE,
        RETRIES,
        BLOCKING_SLEEP,
        NEVER_AWAITED,
        NEWS_AGGREGATOR,
        SQLITE_WRITES,
        TWENTY_IN_TWO,
    ]
}

const FIRST_THREE: Claim = Claim {
    id: "D1-first3",
    document: DOCUMENT,
    section: "3, first async function",
    says: "three URLs, one of them slow by 1 s: about 2.5 s one after another, 1.2 s together",
    figure: "2.5 s vs 1.2 s (2.1x)",
    plan: |ctx| pair(endpoints(&[0.6, 1.2, 0.7], ctx), 3, ctx),
    judge: |_, runs| speedup_near(2.5 / 1.2, runs),
};

const THREE_AT_500MS: Claim = Claim {
    id: "D1-3x500",
    document: DOCUMENT,
    section: "4, why async matters",
    says: "three sources at about 500 ms each: 1.5 s in turn, 0.5 s together",
    figure: "1.5 s vs 0.5 s (3x)",
    plan: |ctx| pair(single("500ms", ctx), 3, ctx),
    judge: |_, runs| speedup_near(3.0, runs),
};

const FORMULA: Claim = Claim {
    id: "D1-formula",
    document: DOCUMENT,
    section: "4, performance formula",
    says: "sync time is n times the mean, async time the largest: 10 × 500 ms gives 5 s against 0.5 s",
    figure: "5 s vs 0.5 s (10x)",
    plan: |ctx| pair(single("500ms", ctx), 10, ctx),
    judge: |_, runs| formula(runs, 5.0 / 0.5, None),
};

const TWENTY_APIS: Claim = Claim {
    id: "D1-20apis",
    document: DOCUMENT,
    section: "4, why async matters",
    says: "twenty APIs: about 10 s in turn, under a second together",
    figure: "10 s vs < 1 s",
    plan: |ctx| pair(single("500ms", ctx), 20, ctx),
    judge: |ctx, runs| formula(runs, 10.0 / 0.5, Some(1000.0 * ctx.time_scale)),
};

const FIFTY_SECONDS: Claim = Claim {
    id: "D1-50s",
    document: DOCUMENT,
    section: "1, the async vision",
    says: "what takes 50 s synchronously finishes in under a second with async",
    figure: "50 s vs < 1 s",
    plan: |ctx| pair(single("500ms", ctx), 100, ctx),
    judge: |ctx, runs| formula(runs, 50.0 / 0.5, Some(1000.0 * ctx.time_scale)),
};

const SEMAPHORE_10: Claim = Claim {
    id: "D1-sem10",
    document: DOCUMENT,
    section: "6, concurrency control",
    says: "a hundred tasks behind a semaphore of 10: only ten run at once",
    figure: "10 at a time",
    plan: |ctx| limited(single("500ms", ctx), 100, 10, ctx),
    judge: |_, runs| limit_held(runs, 10),
};

const RATE_LIMITER: Claim = Claim {
    id: "D1-ratelimit",
    document: DOCUMENT,
    section: "6, rate limiting",
    says: "a sliding-window limiter of 10 calls per second spreads 50 URLs so the rate is never exceeded",
    figure: "≤ 10 per second",
    plan: |ctx| {
        let profile = single("200ms", ctx);
        [
            (TrialKey::SlidingWindow, Strategy::AsyncNaiveRatelimited),
            (TrialKey::Gcra, Strategy::AsyncRatelimited),
        ]
        .into_iter()
        .map(|(key, strategy)| {
            let mut s = scenario(profile.clone(), 50, strategy, ctx);
            s.client.rate = 10.0 / window(ctx).as_secs_f64();
            s.client.rate_window = window(ctx);
            trial(key, s)
        })
        .collect()
    },
    judge: |ctx, runs| behaviour::limiters_keep_promise(runs, 10, window(ctx).as_micros() as u64),
};

const TIMEOUTS: Claim = Claim {
    id: "D1-timeouts",
    document: DOCUMENT,
    section: "6, timeouts",
    says: "a 5 s timeout per request and a 10 s bound on the whole batch",
    figure: "5 s per call, 10 s per batch",
    plan: |ctx| {
        let mut profile = endpoints(&[0.5, 0.8, 0.3, 0.5], ctx);
        profile.endpoints[3].fault.hang = true;
        let mut s = scenario(profile, 4, Strategy::AsyncConcurrent, ctx);
        s.client.timeout = Some(Duration::from_secs_f64(5.0 * ctx.time_scale));
        s.deadline = Some(Duration::from_secs_f64(10.0 * ctx.time_scale));
        vec![trial(TrialKey::Batch, s)]
    },
    judge: |ctx, runs| {
        behaviour::timeout_in_batch(runs, 5000.0 * ctx.time_scale, 10_000.0 * ctx.time_scale)
    },
};

const AS_COMPLETED: Claim = Claim {
    id: "D1-progress",
    document: DOCUMENT,
    section: "6, as completed",
    says: "handling results as they complete reports each as soon as it is ready",
    figure: "completion order",
    plan: |ctx| {
        let mut s = scenario(
            endpoints(&[0.9, 0.3, 0.7, 0.1, 0.5], ctx),
            5,
            Strategy::AsyncBuffered,
            ctx,
        );
        s.client.limit = 5;
        vec![trial(TrialKey::AsCompleted, s)]
    },
    judge: |_, runs| behaviour::completion_order(runs),
};

const PARTIAL_FAILURE: Claim = Claim {
    id: "D1-partial",
    document: DOCUMENT,
    section: "7, graceful degradation",
    says: "when one source fails the others still show, and the failure is collected, not raised",
    figure: "2 of 3 sources shown",
    plan: |ctx| {
        let ok = endpoints(&[0.5, 0.5, 0.5], ctx);
        let mut one_fails = ok.clone();
        one_fails.endpoints[1].status = 500;
        vec![
            trial(
                TrialKey::AllSucceed,
                scenario(ok, 3, Strategy::AsyncConcurrent, ctx),
            ),
            trial(
                TrialKey::OneFails,
                scenario(one_fails, 3, Strategy::AsyncConcurrent, ctx),
            ),
        ]
    },
    judge: |_, runs| behaviour::partial_failure(runs),
};

const RETRIES: Claim = Claim {
    id: "D1-retry",
    document: DOCUMENT,
    section: "7, retries",
    says: "exponential backoff with jitter, async so retries do not hold up other requests",
    figure: "2^attempt + U(0,1) s",
    plan: |ctx| {
        let mut profile = single("100ms", ctx);
        profile.endpoints[0].fault.fail_first = 2;
        [(TrialKey::OneChain, 1), (TrialKey::TenChains, 10)]
            .into_iter()
            .map(|(key, n)| {
                let mut s = scenario(profile.clone(), n, Strategy::AsyncConcurrent, ctx);
                s.client.retries = 3;
                s.client.backoff = Duration::from_secs_f64(ctx.time_scale);
                trial(key, s)
            })
            .collect()
    },
    judge: |ctx, runs| {
        behaviour::retry_chains(runs, 1000.0 * ctx.time_scale, 100.0 * ctx.time_scale, 2)
    },
};

const BLOCKING_SLEEP: Claim = Claim {
    id: "D1-blocking",
    document: DOCUMENT,
    section: "5 and 10, pitfalls",
    says: "a blocking sleep inside async code stalls the whole event loop",
    figure: "blocking = sequential",
    plan: |ctx| {
        let profile = single("100ms", ctx);
        [
            (TrialKey::BlockingSleep, Strategy::PitfallBlockingSleep),
            (TrialKey::AsyncSleep, Strategy::PitfallAsyncSleep),
        ]
        .into_iter()
        .map(|(key, strategy)| {
            let mut s = scenario(profile.clone(), 10, strategy, ctx);
            s.client.work = Duration::from_secs_f64(0.5 * ctx.time_scale);
            trial(key, s)
        })
        .collect()
    },
    judge: |ctx, runs| behaviour::blocking_sleep(runs, 500.0 * ctx.time_scale),
};

const NEVER_AWAITED: Claim = Claim {
    id: "D1-noawait",
    document: DOCUMENT,
    section: "4, event loop",
    says: "calling an async function without awaiting it does nothing",
    figure: "0 requests",
    plan: |ctx| {
        vec![trial(
            TrialKey::NeverAwaited,
            scenario(single("100ms", ctx), 10, Strategy::PitfallNeverAwaited, ctx),
        )]
    },
    judge: |_, runs| behaviour::never_awaited(runs),
};

const NEWS_AGGREGATOR: Claim = Claim {
    id: "D1-news",
    document: DOCUMENT,
    section: "9, news aggregator",
    says: "the aggregator fetches three sources in 2.34 s synchronously and 0.51 s async (4-5x)",
    figure: "2.34 s vs 0.51 s",
    plan: |ctx| {
        vec![
            news(
                ctx,
                TrialKey::Sequential,
                MockSource::classic_three(),
                false,
                false,
            ),
            news(
                ctx,
                TrialKey::Concurrent,
                MockSource::classic_three(),
                true,
                false,
            ),
        ]
    },
    judge: |_, runs| news::aggregator_speedup(runs),
};

const SQLITE_WRITES: Claim = Claim {
    id: "D1-sqlite",
    document: DOCUMENT,
    section: "9, storage",
    says: "SQLite writes stay serial even from async code",
    figure: "serial writes",
    plan: |ctx| {
        vec![news(
            ctx,
            TrialKey::Stored,
            MockSource::classic_three(),
            true,
            true,
        )]
    },
    judge: |_, runs| news::serial_writes(runs),
};

const TWENTY_IN_TWO: Claim = Claim {
    id: "D1-20in2",
    document: DOCUMENT,
    section: "1, the async vision",
    says: "async can aggregate twenty sources in under two seconds",
    figure: "20 sources < 2 s",
    plan: |ctx| {
        // The slowest of twenty skewed sources decides: one draw of delays says
        // little, so five seeds each get a fresh aggregation.
        (0..news::TWENTY_SEEDS)
            .map(|k| {
                let seeded = Context {
                    seed: ctx.seed + k,
                    ..*ctx
                };
                let key = TrialKey::Seed(seeded.seed);
                news(&seeded, key, MockSource::twenty(), true, false)
            })
            .collect()
    },
    judge: |ctx, runs| news::twenty_sources(ctx.time_scale, runs),
};
