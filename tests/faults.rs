//! The fault matrix: every fault against every strategy ends with each request counted
//! exactly once, as the kinds the fault produces; nothing outlives its deadline; and a
//! property test over random small scenarios, fault mixes and networks checks the
//! accounting.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use fanout::server::fault::Fault;
use fanout::server::network::Network;
use fanout::server::profile::Profile;
use fanout::{MockApi, Outcome, Placement, RunSummary, Scenario, ServerConfig, Strategy};
use proptest::prelude::{ProptestConfig, prop_assert, prop_assert_eq, proptest};

/// Runs `scenario` on a fresh in-process server without calibration probes.
fn run_quick(scenario: &Scenario) -> RunSummary {
    let config = ServerConfig::new(scenario.profile.clone(), scenario.seed);
    let mut server = MockApi::start(&config, &Placement::InProcess).expect("server starts");
    let output = fanout::run_on(scenario, &mut server, Arc::new(AtomicU64::new(0))).expect("run");
    RunSummary::from_output(&output)
}

fn with_fault(strategy: Strategy, n: u64, fault: Fault) -> Scenario {
    let mut profile = Profile::single(common::latency("5ms"));
    profile.endpoints[0].fault = fault;
    let mut s = Scenario::new(profile, n, strategy);
    s.client.limit = 3;
    s.client.threads = 3;
    s.client.rate = 200.0;
    s.client.work = Duration::from_millis(2);
    s.client.timeout = Some(Duration::from_millis(150));
    s.deadline = Some(Duration::from_secs(3));
    s
}

fn kinds(s: &RunSummary) -> Vec<&'static str> {
    s.outcomes.keys().map(|o| o.name()).collect()
}

#[test]
fn every_fault_against_every_strategy_is_fully_accounted() {
    let faults = [
        (
            "error",
            Fault {
                error_rate: 1.0,
                ..Fault::default()
            },
            vec!["http_5xx"],
        ),
        (
            "drop",
            Fault {
                drop_rate: 1.0,
                ..Fault::default()
            },
            vec!["dropped"],
        ),
        (
            "hang",
            Fault {
                hang: true,
                ..Fault::default()
            },
            vec!["timeout"],
        ),
        (
            "refused",
            Fault {
                refused: true,
                ..Fault::default()
            },
            vec!["connect"],
        ),
    ];
    // Futures that are never awaited meet no fault: nothing is sent.
    let sending = Strategy::ALL
        .into_iter()
        .filter(|s| *s != Strategy::PitfallNeverAwaited);
    for strategy in sending {
        for (name, fault, expected) in &faults {
            let s = run_quick(&with_fault(strategy, 6, fault.clone()));
            assert_eq!(
                common::total(&s),
                6,
                "{strategy} × {name}: {:?}",
                s.outcomes
            );
            if strategy == Strategy::AsyncFailfast {
                // The first failure cancels the rest.
                let mut allowed = expected.clone();
                allowed.push("cancelled");
                assert!(
                    kinds(&s).iter().all(|k| allowed.contains(k)),
                    "{strategy} × {name}: {:?}",
                    s.outcomes
                );
            } else {
                assert_eq!(
                    kinds(&s),
                    *expected,
                    "{strategy} × {name}: {:?}",
                    s.outcomes
                );
            }
        }
    }
}

#[test]
fn a_hanging_endpoint_ends_within_the_deadline() {
    for strategy in [
        Strategy::SyncThreads,
        Strategy::AsyncConcurrent,
        Strategy::AsyncBuffered,
    ] {
        let mut s = with_fault(
            strategy,
            8,
            Fault {
                hang: true,
                ..Fault::default()
            },
        );
        s.client.timeout = Some(Duration::from_millis(200));
        s.deadline = Some(Duration::from_secs(2));
        let started = Instant::now();
        let summary = run_quick(&s);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{strategy}: {:?}",
            started.elapsed()
        );
        assert_eq!(common::total(&summary), 8);
        assert!(
            summary.outcomes.contains_key(&Outcome::Timeout),
            "{strategy}: {:?}",
            summary.outcomes
        );
    }
}

#[test]
fn without_a_timeout_the_deadline_cancels_a_hanging_run() {
    let mut s = with_fault(
        Strategy::AsyncConcurrent,
        4,
        Fault {
            hang: true,
            ..Fault::default()
        },
    );
    s.client.timeout = None;
    s.deadline = Some(Duration::from_millis(400));
    let summary = run_quick(&s);
    assert_eq!(summary.outcomes.get(&Outcome::Cancelled), Some(&4));
    assert!(summary.wall_ms < 1500.0, "{}", summary.wall_ms);
}

#[test]
fn gcra_never_exceeds_its_rate_in_any_window_at_the_server() {
    let mut s = Scenario::new(
        Profile::single(common::latency("20ms")),
        20,
        Strategy::AsyncRatelimited,
    );
    s.client.rate = 20.0;
    let config = ServerConfig::new(s.profile.clone(), s.seed);
    let mut server = MockApi::start(&config, &Placement::InProcess).unwrap();
    let output = fanout::run_on(&s, &mut server, Arc::new(AtomicU64::new(0))).unwrap();
    assert_eq!(RunSummary::from_output(&output).ok(), 20);
    let mut arrivals: Vec<u64> = output.ledger.entries.iter().map(|e| e.arrival_us).collect();
    arrivals.sort_unstable();
    // 20 per second is 10 per 500 ms.
    let busiest = fanout::server::ledger::max_in_window(&arrivals, 500_000);
    assert!(busiest <= 10, "{busiest} arrivals in one 500 ms window");
}

#[test]
fn server_limits_answer_429_past_them() {
    let mut profile = Profile::single(common::latency("50ms"));
    profile.limits.max_in_flight = Some(4);
    let s = Scenario::new(profile, 10, Strategy::AsyncConcurrent);
    let summary = run_quick(&s);
    assert_eq!(summary.ok(), 4, "{:?}", summary.outcomes);
    assert_eq!(summary.outcomes.get(&Outcome::Http429), Some(&6));
}

#[test]
fn a_rate_limited_429_says_when_the_window_has_room_and_an_overloaded_one_does_not() {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .build()
        .into();
    let mut profile = Profile::single(common::latency("0ms"));
    profile.limits.max_per_second = Some(2);
    profile.limits.window_ms = Some(200);
    let config = ServerConfig::new(profile, 1);
    let server = MockApi::start(&config, &Placement::InProcess).expect("server starts");
    let url = format!("{}/x", server.url());
    let started = Instant::now();
    for _ in 0..2 {
        assert_eq!(agent.get(&url).call().expect("answers").status(), 200);
    }
    let refused = agent.get(&url).call().expect("answers");
    let elapsed_ms = started.elapsed().as_millis() as u64;
    assert_eq!(refused.status(), 429);
    let header = |name| refused.headers().get(name).and_then(|v| v.to_str().ok());
    assert_eq!(
        header("retry-after"),
        Some("1"),
        "a 200 ms window rounds up to 1 s"
    );
    let wait_ms: u64 = header("retry-after-ms")
        .expect("sent")
        .parse()
        .expect("a number");
    assert!(
        wait_ms <= 200 && wait_ms + elapsed_ms + 1 >= 200,
        "{wait_ms} ms to wait, {elapsed_ms} ms after the first arrival"
    );
    std::thread::sleep(Duration::from_millis(wait_ms));
    assert_eq!(agent.get(&url).call().expect("answers").status(), 200);

    let mut profile = Profile::single(common::latency("300ms"));
    profile.limits.max_in_flight = Some(1);
    let config = ServerConfig::new(profile, 1);
    let server = MockApi::start(&config, &Placement::InProcess).expect("server starts");
    let url = format!("{}/x", server.url());
    std::thread::scope(|scope| {
        let held = scope.spawn(|| agent.get(&url).call().map(|r| r.status()));
        std::thread::sleep(Duration::from_millis(100));
        let refused = agent.get(&url).call().expect("answers");
        assert_eq!(refused.status(), 429);
        assert!(refused.headers().get("retry-after").is_none());
        assert!(refused.headers().get("retry-after-ms").is_none());
        assert_eq!(held.join().expect("joins").expect("answers"), 200);
    });
}

fn any_strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
    proptest::sample::select(fanout::Strategy::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn every_request_ends_exactly_once(
        strategy in any_strategy(),
        n in 1u64..12,
        error_rate in proptest::prop_oneof![proptest::strategy::Just(0.0), 0.0f64..=1.0],
        drop_rate in proptest::prop_oneof![proptest::strategy::Just(0.0), 0.0f64..=0.5],
        hang in proptest::bool::weighted(0.1),
        limit in 1usize..5,
        seed in 0u64..1000,
        rtt_us in proptest::prop_oneof![proptest::strategy::Just(0u64), 200u64..8_000],
        jitter_us in proptest::prop_oneof![proptest::strategy::Just(0u64), 0u64..4_000],
    ) {
        let mut s = with_fault(strategy, n, Fault { error_rate, drop_rate, hang, ..Fault::default() });
        // A small network, or none: every request still ends exactly once behind a link.
        s.profile.network = Network {
            rtt: Duration::from_micros(rtt_us),
            jitter: Duration::from_micros(jitter_us),
            ..Network::default()
        };
        s.client.limit = limit;
        s.client.threads = limit;
        s.seed = seed;
        s.client.timeout = Some(Duration::from_millis(100));
        s.deadline = Some(Duration::from_secs(2));
        let config = ServerConfig::new(s.profile.clone(), s.seed);
        let mut server = MockApi::start(&config, &Placement::InProcess).unwrap();
        let output = fanout::run_on(&s, &mut server, Arc::new(AtomicU64::new(0))).unwrap();
        prop_assert!(output.measurements.check_accounting(n).is_ok());
        let outcomes: u64 = output.measurements.outcomes().values().sum();
        prop_assert_eq!(outcomes, n);
        prop_assert!(output.measurements.wall < Duration::from_secs(3));
        // Without faults every request is answered, except the futures never awaited.
        if !hang && error_rate == 0.0 && drop_rate == 0.0 && strategy != Strategy::PitfallNeverAwaited {
            prop_assert!(output.measurements.samples.iter().all(|x| x.outcome == Outcome::Ok));
        }
    }
}

#[test]
fn retries_stop_at_n_and_never_retry_a_plain_4xx() {
    for strategy in [Strategy::SyncSequential, Strategy::AsyncConcurrent] {
        // Every attempt fails with 503: each request is tried 1 + 3 times, then given up.
        let mut s = with_fault(
            strategy,
            3,
            Fault {
                fail_first: 100,
                ..Fault::default()
            },
        );
        s.client.retries = 3;
        s.client.backoff = Duration::from_millis(5);
        let summary = run_quick(&s);
        assert_eq!(
            summary.outcomes.get(&Outcome::Http5xx),
            Some(&3),
            "{strategy}"
        );
        assert_eq!(
            summary.server.received,
            3 * 4,
            "{strategy}: 1 + 3 attempts each"
        );

        // A 404 is final: one attempt each.
        let mut s = with_fault(strategy, 3, Fault::default());
        s.profile.endpoints[0].status = 404;
        s.client.retries = 3;
        let summary = run_quick(&s);
        assert_eq!(summary.server.received, 3, "{strategy}: 4xx is not retried");
    }
}
