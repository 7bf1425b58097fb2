//! `cargo bench`: the strategies on one time-scaled scenario, 10 requests answered after
//! 20 ms each, against one mock API started outside the measured loop.
//!
//! What to expect: the sequential strategies near 10 × 20 ms = 200 ms, the concurrent
//! ones near the slowest single request (20 ms), the limited ones (limit 5) near two
//! waves (40 ms). Criterion reports each as a time per batch of 10 requests.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fanout::server::profile::Profile;
use fanout::strategy::{self, RunClock};
use fanout::{MockApi, Placement, Scenario, ServerConfig, Strategy};

const N: u64 = 10;
const DELAY: &str = "20ms";
const LIMIT: usize = 5;

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
        let label = match strategy {
            Strategy::AsyncSemaphore | Strategy::AsyncBuffered | Strategy::AsyncFailfast => {
                format!("{strategy} (limit {LIMIT})")
            }
            Strategy::SyncThreads => format!("{strategy} ({LIMIT} threads)"),
            _ => strategy.to_string(),
        };
        let clock = || RunClock::start(Duration::from_secs(30), Arc::new(AtomicU64::new(0)));
        if strategy.is_sync() {
            group.bench_function(&label, |b| {
                b.iter(|| {
                    let requests = scenario.requests(server.url());
                    strategy::execute(strategy, requests, &scenario.client, clock())
                        .expect("the run completes")
                })
            });
        } else {
            group.bench_function(&label, |b| {
                b.to_async(&runtime).iter(|| async {
                    let requests = scenario.requests(server.url());
                    strategy::run_async(strategy, requests, &scenario.client, clock())
                        .await
                        .expect("the run completes")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, strategies);
criterion_main!(benches);
