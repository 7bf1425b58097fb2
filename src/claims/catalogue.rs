//! The catalogue: one [`Claim`] per row of the project's claims list, in document order.
//! Figures are the documents'; the words are ours.

use std::time::Duration;

use super::rules::{self, concurrent_as_slowest, formula, limit_held, speedup_near};
use super::trial::{Library, Mode, TrialKey};
use super::{Claim, Context, Document, Trial};
use super::{behaviour, news};
use crate::news::mock::MockSource;
use crate::news::trial::NewsTrial;
use crate::scenario::Scenario;
use crate::server::latency::Latency;
use crate::server::profile::{Endpoint, Profile};
use crate::strategy::{ClientReuse, HttpVersion, Strategy};

/// One endpoint per delay (in seconds at time scale 1), each answering after its delay.
fn endpoints(delays_s: &[f64], ctx: &Context) -> Profile {
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
    }
}

/// One catch-all endpoint with `latency` (written at time scale 1).
fn single(latency: &str, ctx: &Context) -> Profile {
    let latency: Latency = latency.parse().expect("catalogue latencies parse");
    Profile::single(latency.scaled(ctx.time_scale))
}

fn scenario(profile: Profile, n: u64, strategy: Strategy, ctx: &Context) -> Scenario {
    Scenario {
        seed: ctx.seed,
        engine: ctx.engine,
        ..Scenario::new(profile, n, strategy)
    }
}

fn trial(key: TrialKey, scenario: Scenario) -> Trial {
    Trial::Strategy { key, scenario }
}

/// A run of chapter 7's news aggregator over `sources` (delays written at time scale 1).
fn news(
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
    Trial::News {
        key,
        scenario: Scenario {
            engine: ctx.engine,
            ..news.scenario(ctx.seed)
        },
        news,
    }
}

/// The tutorials' comparison: sync one after another against async all at once.
fn pair(profile: Profile, n: u64, ctx: &Context) -> Vec<Trial> {
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

fn limited(profile: Profile, n: u64, limit: usize, ctx: &Context) -> Vec<Trial> {
    let mut s = scenario(profile, n, Strategy::AsyncSemaphore, ctx);
    s.client.limit = limit;
    vec![trial(TrialKey::Limited, s)]
}

/// An endpoint that always answers `status` after `delay_s` (scaled).
fn failing(delay_s: f64, status: u16, ctx: &Context) -> Profile {
    let mut profile = single(&format!("{delay_s}s"), ctx);
    profile.endpoints[0].status = status;
    profile
}

fn reuse_trials(ctx: &Context) -> Vec<Trial> {
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

/// The n values of the scaling claim.
pub const SCALING_NS: [u64; 7] = [1, 3, 10, 30, 100, 300, 1000];

fn scaling_trials(ctx: &Context) -> Vec<Trial> {
    let profile = single("100ms", ctx);
    SCALING_NS
        .iter()
        .flat_map(|&n| {
            [
                trial(
                    TrialKey::Scaling {
                        n,
                        mode: Mode::Sequential,
                    },
                    scenario(profile.clone(), n, Strategy::SyncSequential, ctx),
                ),
                trial(
                    TrialKey::Scaling {
                        n,
                        mode: Mode::Concurrent,
                    },
                    scenario(profile.clone(), n, Strategy::AsyncConcurrent, ctx),
                ),
            ]
        })
        .collect()
}

/// Every claim, in document order.
pub fn catalogue() -> Vec<Claim> {
    use Document::{AiohttpGuide as D2, BookChapter as D1, HttpxTaskGroups as D0};
    vec![
        Claim {
            id: "D0-fig1",
            document: D0,
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
        },
        Claim {
            id: "D0-100",
            document: D0,
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
        },
        Claim {
            id: "D0-timeout",
            document: D0,
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
        },
        Claim {
            id: "D0-h2",
            document: D0,
            section: "from requests to httpx",
            says: "HTTP/2 carries many requests over one connection",
            figure: "one connection",
            plan: |ctx| {
                let profile = single("1s", ctx);
                let h1 = scenario(profile.clone(), 500, Strategy::AsyncConcurrent, ctx);
                let mut h2 = h1.clone();
                h2.client.http = HttpVersion::Http2;
                h2.profile = profile;
                vec![trial(TrialKey::Http1, h1), trial(TrialKey::Http2, h2)]
            },
            judge: |_, runs| behaviour::http2_one_connection(runs),
        },
        Claim {
            id: "D0-reuse",
            document: D0,
            section: "from requests to httpx",
            says: "pass one client into every call instead of building one per call",
            figure: "one client for all calls",
            plan: reuse_trials,
            judge: |_, runs| behaviour::client_reuse(runs),
        },
        Claim {
            id: "D0-failfast",
            document: D0,
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
        },
        Claim {
            id: "D0-sem5",
            document: D0,
            section: "semaphores",
            says: "a semaphore of 5 keeps 10 calls within the server's limits",
            figure: "5 at a time",
            plan: |ctx| limited(single("1s", ctx), 10, 5, ctx),
            judge: |_, runs| limit_held(runs, 5),
        },
        Claim {
            id: "D0-429",
            document: D0,
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
        },
        Claim {
            id: "D1-first3",
            document: D1,
            section: "3, first async function",
            says: "three URLs, one of them slow by 1 s: about 2.5 s one after another, 1.2 s together",
            figure: "2.5 s vs 1.2 s (2.1x)",
            plan: |ctx| pair(endpoints(&[0.6, 1.2, 0.7], ctx), 3, ctx),
            judge: |_, runs| speedup_near(2.5 / 1.2, runs),
        },
        Claim {
            id: "D1-3x500",
            document: D1,
            section: "4, why async matters",
            says: "three sources at about 500 ms each: 1.5 s in turn, 0.5 s together",
            figure: "1.5 s vs 0.5 s (3x)",
            plan: |ctx| pair(single("500ms", ctx), 3, ctx),
            judge: |_, runs| speedup_near(3.0, runs),
        },
        Claim {
            id: "D1-formula",
            document: D1,
            section: "4, performance formula",
            says: "sync time is n times the mean, async time the largest: 10 × 500 ms gives 5 s against 0.5 s",
            figure: "5 s vs 0.5 s (10x)",
            plan: |ctx| pair(single("500ms", ctx), 10, ctx),
            judge: |_, runs| formula(runs, 5.0 / 0.5, None),
        },
        Claim {
            id: "D1-20apis",
            document: D1,
            section: "4, why async matters",
            says: "twenty APIs: about 10 s in turn, under a second together",
            figure: "10 s vs < 1 s",
            plan: |ctx| pair(single("500ms", ctx), 20, ctx),
            judge: |ctx, runs| formula(runs, 10.0 / 0.5, Some(1000.0 * ctx.time_scale)),
        },
        Claim {
            id: "D1-50s",
            document: D1,
            section: "1, the async vision",
            says: "what takes 50 s synchronously finishes in under a second with async",
            figure: "50 s vs < 1 s",
            plan: |ctx| pair(single("500ms", ctx), 100, ctx),
            judge: |ctx, runs| formula(runs, 50.0 / 0.5, Some(1000.0 * ctx.time_scale)),
        },
        Claim {
            id: "D1-sem10",
            document: D1,
            section: "6, concurrency control",
            says: "a hundred tasks behind a semaphore of 10: only ten run at once",
            figure: "10 at a time",
            plan: |ctx| limited(single("500ms", ctx), 100, 10, ctx),
            judge: |_, runs| limit_held(runs, 10),
        },
        Claim {
            id: "D1-ratelimit",
            document: D1,
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
            judge: |ctx, runs| {
                behaviour::limiters_keep_promise(runs, 10, window(ctx).as_micros() as u64)
            },
        },
        Claim {
            id: "D1-timeouts",
            document: D1,
            section: "6, timeouts",
            says: "a 5 s timeout per request and a 10 s bound on the whole batch",
            figure: "5 s per call, 10 s per batch",
            plan: |ctx| {
                let mut profile = endpoints(&[0.5, 0.8, 0.3, 0.5], ctx);
                profile.endpoints[3].fault.hang = true;
                let mut s = scenario(profile, 4, Strategy::AsyncConcurrent, ctx);
                s.client.timeout = Some(Duration::from_secs_f64(5.0 * ctx.time_scale));
                s.deadline = Some(Duration::from_secs_f64(10.0 * ctx.time_scale));
                vec![trial(TrialKey::Limited, s)]
            },
            judge: |ctx, runs| {
                behaviour::timeout_in_batch(
                    runs,
                    5000.0 * ctx.time_scale,
                    10_000.0 * ctx.time_scale,
                )
            },
        },
        Claim {
            id: "D1-progress",
            document: D1,
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
        },
        Claim {
            id: "D1-partial",
            document: D1,
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
        },
        Claim {
            id: "D1-retry",
            document: D1,
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
        },
        Claim {
            id: "D1-blocking",
            document: D1,
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
        },
        Claim {
            id: "D1-noawait",
            document: D1,
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
        },
        Claim {
            id: "D1-news",
            document: D1,
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
        },
        Claim {
            id: "D1-sqlite",
            document: D1,
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
        },
        Claim {
            id: "D1-20in2",
            document: D1,
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
        },
        Claim {
            id: "D2-3x1s",
            document: D2,
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
        },
        Claim {
            id: "D2-10users",
            document: D2,
            section: "example 2",
            says: "ten users fetched concurrently in 0.45 s, against about 10 s at 1 s each in turn",
            figure: "10 s vs 0.45 s",
            plan: |ctx| pair(single("1s", ctx), 10, ctx),
            judge: |_, runs| speedup_near(10.0, runs),
        },
        Claim {
            id: "D2-bench20",
            document: D2,
            section: "benchmark",
            says: "twenty users: 18.45 s sync, 1.23 s async, 15.0x",
            figure: "18.45 s vs 1.23 s (15.0x)",
            plan: |ctx| pair(single("uniform:600ms..1240ms", ctx), 20, ctx),
            judge: |_, runs| speedup_near(15.0, runs),
        },
        Claim {
            id: "D2-10to100x",
            document: D2,
            section: "conclusion",
            says: "async brings 10-100x improvements",
            figure: "10-100x",
            plan: scaling_trials,
            judge: |_, runs| behaviour::scaling(runs),
        },
        Claim {
            id: "D2-session",
            document: D2,
            section: "best practices",
            says: "reuse one session; a new session per request is wasteful",
            figure: "one session",
            plan: reuse_trials,
            judge: |_, runs| behaviour::client_reuse(runs),
        },
        Claim {
            id: "D2-pool",
            document: D2,
            section: "connection pooling",
            says: "a pool of limit=100 and limit_per_host=10 keeps ten connections to one host",
            figure: "10 per host",
            plan: |ctx| limited(single("1s", ctx), 100, 10, ctx),
            judge: |_, runs| limit_held(runs, 10),
        },
        Claim {
            id: "D2-aggregator",
            document: D2,
            section: "real-world example",
            says: "an aggregator with a semaphore of 5 over five URLs",
            figure: "5 URLs, limit 5",
            plan: |ctx| limited(endpoints(&[0.3, 0.5, 0.4, 0.6, 0.2], ctx), 5, 5, ctx),
            judge: |_, runs| limit_held(runs, 5),
        },
        Claim {
            id: "D2-status",
            document: D2,
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
                            Duration::from_secs_f64(10.0 * ctx.time_scale)
                                .max(Duration::from_secs(2)),
                        );
                        trial(TrialKey::Strategy(strategy), s)
                    })
                    .collect()
            },
            judge: |_, runs| {
                use crate::measure::Outcome::{Connect, Http4xx, Http429, Timeout};
                behaviour::classified(runs, &[Http4xx, Http429, Timeout, Connect])
            },
        },
        Claim {
            id: "D2-post",
            document: D2,
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
        },
    ]
}
