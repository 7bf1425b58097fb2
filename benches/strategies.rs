//! `cargo bench`: every strategy on one time-scaled scenario, 10 requests answered after
//! 20 ms each, against one mock API started outside the measured loop.
//!
//! What to expect: the sequential strategies near 10 × 20 ms = 200 ms, the concurrent
//! ones near the slowest single request (20 ms), the limited ones (limit 5) near two
//! waves (40 ms). The pitfalls "work" 5 ms per task first: blocking the runtime's one
//! thread adds 10 × 5 ms, the async sleep only 5 ms. `pitfall-never-awaited` sends
//! nothing and measures the cost of building and dropping ten futures. At 500 per
//! second, GCRA spaces the ten 2 ms apart (about 38 ms); the naive sliding window lets
//! all ten through at once (20 ms). `async-first-of` sends two copies of each, both
//! 20 ms, so it takes the limited ones' two waves for twice the requests;
//! `async-hedged` (after the run's p95) has not seen the 20 answers a percentile needs
//! before its ten are done, so it hedges nothing and matches them; `async-pipeline`'s
//! one consumer spends the 5 ms work on each body, so about 10 × 5 ms after the first
//! fetch. Criterion reports each as a time per batch of 10 requests.
//!
//! Each strategy goes to the runner its [`Family`] names: the async ones run on the
//! bench's own runtime (so runtime start-up is not measured), the sync and pitfall ones
//! through [`strategy::execute`], which gives them the threads or the current-thread
//! runtime they need. `cargo bench --bench strategies -- --test` runs each once.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fanout::server::profile::Profile;
use fanout::strategy::{self, Family, RunClock};
use fanout::{MockApi, Placement, Scenario, ServerConfig, Strategy};

const N: u64 = 10;
const DELAY: &str = "20ms";
const LIMIT: usize = 5;
const WORK: Duration = Duration::from_millis(5);
/// The rate-limited strategies' promise: GCRA spaces 10 requests 2 ms apart; the naive
/// sliding window (1 s wide, so 500 calls a window) lets all 10 through at once.
const RATE: f64 = 500.0;

fn strategies(c: &mut Criterion) {
    let profile = Profile::single(DELAY.parse().expect("a valid delay"));
    let server = MockApi::start(
        &ServerConfig::new(profile.clone(), 1),
        &Placement::InProcess,
    )
    .expect("the mock API starts");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let mut group = c.benchmark_group(format!("{N} requests x {DELAY}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));

    for strategy in Strategy::ALL {
        let mut scenario = Scenario::new(profile.clone(), N, strategy);
        scenario.client.limit = LIMIT;
        scenario.client.threads = LIMIT;
        scenario.client.work = WORK;
        scenario.client.rate = RATE;
        let label = label(&scenario);
        let requests = || {
            scenario
                .requests(server.url())
                .expect("the bench's URLs are valid")
        };
        let clock = || RunClock::start(Duration::from_secs(30), Arc::new(AtomicU64::new(0)));
        let check = |(samples, _): (Vec<fanout::Sample>, RunClock)| {
            assert_eq!(
                samples.len() as u64,
                N,
                "{strategy}: one sample per request"
            );
        };
        match strategy.family() {
            Family::Async(strategy) => group.bench_function(&label, |b| {
                b.to_async(&runtime).iter(|| async {
                    check(
                        strategy::run_async(strategy, requests(), &scenario.client, clock())
                            .await
                            .expect("the run completes"),
                    )
                })
            }),
            Family::Sync(_) | Family::Pitfall(_) => group.bench_function(&label, |b| {
                b.iter(|| {
                    check(
                        strategy::execute(strategy, requests(), &scenario.client, clock())
                            .expect("the run completes"),
                    )
                })
            }),
        };
    }
    group.finish();
}

/// The strategy's name with the knob that shapes its time.
fn label(scenario: &Scenario) -> String {
    let (strategy, options) = (scenario.strategy, &scenario.client);
    if let Some(limit) = strategy.limit(options) {
        format!("{strategy} (limit {limit})")
    } else if let Some(threads) = strategy.threads(options) {
        format!("{strategy} ({threads} threads)")
    } else if let Some(rate) = strategy.rate(options) {
        format!("{strategy} ({rate}/s)")
    } else if let Some(work) = strategy.work(options) {
        format!("{strategy} ({} ms work)", work.as_millis())
    } else {
        strategy.to_string()
    }
}

criterion_group!(benches, strategies);
criterion_main!(benches);
