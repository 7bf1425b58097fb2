//! Every strategy against the mock API: counts, limits and outcomes, checked on both
//! sides (the client's samples and the server's ledger).

mod common;

use common::{connections, failing_scenario, run, scenario, summary, total};
use fanout::{ClientReuse, HttpVersion, Outcome, Strategy};

#[test]
fn every_strategy_accounts_for_every_request() {
    for strategy in Strategy::ALL {
        let mut s = scenario(strategy, 23, "5ms");
        s.client.work = std::time::Duration::from_millis(2);
        s.client.rate = 200.0;
        let s = summary(&s);
        if strategy == Strategy::PitfallNeverAwaited {
            assert_eq!(s.outcomes.get(&Outcome::Cancelled), Some(&23), "{strategy}");
            assert_eq!(
                s.server.received, 0,
                "{strategy}: futures never polled send nothing"
            );
            continue;
        }
        assert_eq!(total(&s), 23, "{strategy}: {:?}", s.outcomes);
        assert_eq!(s.ok(), 23, "{strategy}: {:?}", s.outcomes);
        // The copies of first-of and hedged are requests too.
        let copies = s.copies.map_or(0, |c| c.copies_sent);
        assert_eq!(
            s.server.received,
            23 + copies,
            "{strategy}: the server saw every request"
        );
    }
}

#[test]
fn samples_and_ledger_agree_request_by_request() {
    let output = run(&scenario(
        Strategy::AsyncConcurrent,
        40,
        "uniform:1ms..20ms",
    ));
    let mut seen: Vec<u64> = output.ledger.entries.iter().filter_map(|e| e.seq).collect();
    seen.sort();
    assert_eq!(seen, (0..40).collect::<Vec<_>>());
    for sample in &output.measurements.samples {
        let entry = output
            .ledger
            .entries
            .iter()
            .find(|e| e.seq == Some(sample.seq))
            .unwrap();
        // The client cannot finish before the server's delay has passed.
        assert!(
            sample.latency().as_micros() as u64 >= entry.delay_us,
            "{sample:?} {entry:?}"
        );
    }
}

#[test]
fn semaphore_and_buffered_reach_their_limit_and_never_pass_it() {
    for strategy in [
        Strategy::AsyncSemaphore,
        Strategy::AsyncBuffered,
        Strategy::AsyncFailfast,
    ] {
        let mut s = scenario(strategy, 30, "40ms");
        s.client.limit = 5;
        let s = summary(&s);
        assert_eq!(s.ok(), 30, "{strategy}");
        assert_eq!(s.server.peak_in_flight, 5, "{strategy}: peak at the server");
        // Each slot reuses its connection, except when the next request races hyper
        // handing the previous one back to its pool (see the per-request test below).
        assert!(
            connections(&s) <= 8,
            "{strategy}: {} connections",
            connections(&s)
        );
    }
}

#[test]
fn sync_threads_share_one_pool_sized_to_the_threads() {
    let mut s = scenario(Strategy::SyncThreads, 40, "10ms");
    s.client.threads = 6;
    let s = summary(&s);
    assert_eq!(s.server.peak_in_flight, 6);
    // ureq keeps 3 idle connections per host by default; sized right, each thread
    // keeps its connection and the server sees exactly 6.
    assert_eq!(connections(&s), 6);
}

#[test]
fn concurrent_takes_less_than_half_of_sequential() {
    let sequential = summary(&scenario(Strategy::SyncSequential, 10, "100ms"));
    let concurrent = summary(&scenario(Strategy::AsyncConcurrent, 10, "100ms"));
    assert!(
        concurrent.wall_ms < sequential.wall_ms / 2.0,
        "concurrent {} ms, sequential {} ms",
        concurrent.wall_ms,
        sequential.wall_ms
    );
    assert!(
        sequential.wall_ms >= 1000.0,
        "ten 100 ms requests, one after another"
    );
}

#[test]
fn http2_multiplexes_over_one_connection_and_http1_opens_one_per_request() {
    let mut h1 = scenario(Strategy::AsyncConcurrent, 50, "50ms");
    h1.client.http = HttpVersion::Http1;
    let mut h2 = h1.clone();
    h2.client.http = HttpVersion::Http2;
    let (h1, h2) = (summary(&h1), summary(&h2));
    assert_eq!(h2.ok(), 50);
    // Fifty requests start before the first HTTP/2 connection is up; on a busy machine
    // hyper's pool can race and open a second one before it sees the first. Multiplexed
    // either way: at most two connections, against one per request for HTTP/1.1.
    assert!(connections(&h2) <= 2, "HTTP/2: {}", connections(&h2));
    assert_eq!(h2.server.peak_in_flight, 50);
    assert!(
        connections(&h1) >= 45,
        "HTTP/1.1: {} connections",
        connections(&h1)
    );
}

#[test]
fn a_client_per_request_opens_a_connection_per_request() {
    for strategy in [Strategy::SyncSequential, Strategy::AsyncSequential] {
        let mut per_request = scenario(strategy, 20, "1ms");
        per_request.client.reuse = ClientReuse::PerRequest;
        let shared = scenario(strategy, 20, "1ms");
        let (per_request, shared) = (summary(&per_request), summary(&shared));
        assert_eq!(connections(&per_request), 20, "{strategy}");
        // hyper hands a finished connection back to its pool from the connection's own
        // task, so a request sent right after the previous answer can race it and open
        // a second connection. Far fewer than one per request, either way.
        assert!(
            connections(&shared) <= 2,
            "{strategy}: {}",
            connections(&shared)
        );
    }
}

#[test]
fn failfast_stops_hammering_a_failing_endpoint() {
    let limit = 5;
    let mut failfast = failing_scenario(Strategy::AsyncFailfast, 100, "30ms", 401);
    failfast.client.limit = limit;
    let s = summary(&failfast);
    assert_eq!(total(&s), 100);
    assert!(s.outcomes[&Outcome::Http4xx] >= 1);
    assert!(s.outcomes[&Outcome::Cancelled] >= 90, "{:?}", s.outcomes);
    // The first wave of `limit` requests, plus at most a few that started while the
    // first failure was being noticed.
    assert!(
        s.server.received <= (limit + 2) as u64,
        "server saw {}",
        s.server.received
    );

    let mut collect_all = failing_scenario(Strategy::AsyncSemaphore, 100, "1ms", 401);
    collect_all.client.limit = limit;
    let s = summary(&collect_all);
    assert_eq!(s.server.received, 100);
    assert_eq!(s.outcomes[&Outcome::Http4xx], 100);
}

#[test]
fn the_deadline_ends_a_run_against_a_slow_endpoint() {
    for strategy in [
        Strategy::SyncSequential,
        Strategy::AsyncConcurrent,
        Strategy::AsyncSemaphore,
    ] {
        let mut s = scenario(strategy, 6, "10s");
        s.client.limit = 2;
        s.deadline = Some(std::time::Duration::from_millis(300));
        let output = run(&s);
        assert!(output.measurements.wall.as_secs_f64() < 2.0, "{strategy}");
        let cancelled = output
            .measurements
            .samples
            .iter()
            .filter(|sample| sample.outcome == Outcome::Cancelled)
            .count();
        assert_eq!(cancelled, 6, "{strategy}");
    }
}

#[test]
fn status_classes_are_outcomes_not_errors() {
    for (status, outcome) in [
        (404, Outcome::Http4xx),
        (429, Outcome::Http429),
        (503, Outcome::Http5xx),
    ] {
        for strategy in [Strategy::SyncSequential, Strategy::AsyncConcurrent] {
            let s = summary(&failing_scenario(strategy, 4, "1ms", status));
            assert_eq!(
                s.outcomes[&outcome], 4,
                "{strategy} {status}: {:?}",
                s.outcomes
            );
        }
    }
}

#[test]
fn a_refused_port_is_a_connect_outcome() {
    // Bind and drop a listener: the port is free and nothing answers on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for strategy in [Strategy::SyncSequential, Strategy::AsyncConcurrent] {
        let s = scenario(strategy, 3, "1ms");
        let requests = s.requests(&format!("http://127.0.0.1:{port}")).unwrap();
        let clock = fanout::strategy::RunClock::start(
            std::time::Duration::from_secs(5),
            Default::default(),
        );
        let (samples, _) = fanout::strategy::execute(strategy, requests, &s.client, clock).unwrap();
        assert!(
            samples.iter().all(|x| x.outcome == Outcome::Connect),
            "{strategy}: {samples:?}"
        );
    }
}

#[test]
fn wiremock_serves_the_same_scenarios_without_a_connection_count() {
    use fanout::server::Engine;
    for strategy in [
        Strategy::SyncThreads,
        Strategy::AsyncConcurrent,
        Strategy::AsyncSemaphore,
    ] {
        let mut s = scenario(strategy, 24, "uniform:5ms..30ms");
        s.engine = Engine::Wiremock;
        s.client.limit = 4;
        s.client.threads = 4;
        let s = summary(&s);
        assert_eq!(s.ok(), 24, "{strategy}: {:?}", s.outcomes);
        assert_eq!(s.server.received, 24, "{strategy}");
        assert_eq!(s.server.connections, None, "{strategy}");
    }
}

/// A `--target` run paces every strategy: here against a local mock API standing in for
/// the user's server, which records when each request arrived.
#[test]
fn a_paced_target_run_never_outpaces_its_rate() {
    use fanout::pipeline::run_target;
    use fanout::{MockApi, Placement, ServerConfig};
    let mut server = MockApi::start(
        &ServerConfig::new(
            fanout::server::profile::Profile::single("5ms".parse().unwrap()),
            1,
        ),
        &Placement::InProcess,
    )
    .unwrap();
    for strategy in [Strategy::AsyncConcurrent, Strategy::SyncThreads] {
        let before = server.ledger().unwrap().entries.len();
        let mut scenario = common::scenario(strategy, 8, "5ms");
        scenario.target = Some(format!("{}/items", server.url()));
        scenario.client.pace = Some(20.0);
        let output = run_target(&scenario, &Placement::InProcess, Default::default()).unwrap();
        assert_eq!(
            output.measurements.outcomes().get(&Outcome::Ok),
            Some(&8),
            "{strategy}"
        );
        let mut arrivals: Vec<u64> = server.ledger().unwrap().entries[before..]
            .iter()
            .map(|e| e.arrival_us)
            .collect();
        arrivals.sort();
        assert_eq!(arrivals.len(), 8);
        // 20 per second with 5 % headroom: 52.5 ms apart; allow for timer slack.
        let spread_ms = (arrivals[7] - arrivals[0]) as f64 / 1e3;
        assert!(
            spread_ms >= 7.0 * 45.0,
            "{strategy}: 8 arrivals in {spread_ms} ms"
        );
    }
}

#[test]
fn the_first_requests_of_a_sequential_run_are_a_sequential_run_of_that_many() {
    let output = common::run(&common::scenario(Strategy::SyncSequential, 6, "2ms"));
    let cut = output
        .first_requests(4)
        .expect("a sequential run can be cut");
    assert_eq!(cut.scenario.n, 4);
    assert_eq!(cut.measurements.samples.len(), 4);
    assert!(cut.measurements.check_accounting(4).is_ok());
    assert_eq!(cut.measurements.wall, output.measurements.samples[3].end);
    assert!(cut.measurements.wall < output.measurements.wall);
    assert_eq!(cut.ledger.entries.len(), 4);
    assert!(
        cut.ledger
            .entries
            .iter()
            .all(|e| e.seq.is_some_and(|s| s < 4))
    );
    assert_eq!(cut.ledger.connections, Some(1));
    assert!(
        cut.footprint.is_none(),
        "the whole run's footprint is not the cut's"
    );
    assert!(output.first_requests(7).is_none(), "no more than it made");
    assert!(output.first_requests(0).is_none());
    let concurrent = common::run(&common::scenario(Strategy::AsyncConcurrent, 6, "2ms"));
    assert!(
        concurrent.first_requests(4).is_none(),
        "a concurrent run's first requests overlapped the rest"
    );
}

#[test]
fn a_plan_cuts_its_shorter_sequential_trials_from_the_longest_and_keeps_its_order() {
    use fanout::claims::trial::{Mode, run_plan};
    use fanout::claims::{Trial, TrialKey};
    let key = |n, mode| TrialKey::Scaling { n, mode };
    let longest = scenario(Strategy::SyncSequential, 4, "1ms");
    let mut shorter = longest.clone();
    shorter.n = 2;
    let plan = vec![
        Trial::FirstOf {
            key: key(2, Mode::Sequential),
            of: key(4, Mode::Sequential),
            scenario: shorter.clone(),
        },
        Trial::Strategy {
            key: key(4, Mode::Sequential),
            scenario: longest,
        },
    ];
    let runs = run_plan(plan, &fanout::Placement::InProcess).expect("the plan runs");
    let keys: Vec<TrialKey> = runs.iter().map(|r| r.key).collect();
    assert_eq!(keys, [key(2, Mode::Sequential), key(4, Mode::Sequential)]);
    assert_eq!(runs[0].cut_from, Some(key(4, Mode::Sequential)));
    assert_eq!(runs[0].summary.n, 2);
    assert!(runs[0].summary.wall_ms < runs[1].summary.wall_ms);
    assert_eq!(runs[1].cut_from, None);
    // A concurrent run cannot be cut: its first requests overlapped the rest.
    let bad = vec![
        Trial::Strategy {
            key: key(4, Mode::Concurrent),
            scenario: scenario(Strategy::AsyncConcurrent, 4, "1ms"),
        },
        Trial::FirstOf {
            key: key(2, Mode::Sequential),
            of: key(4, Mode::Concurrent),
            scenario: shorter,
        },
    ];
    let error = run_plan(bad, &fanout::Placement::InProcess).expect_err("refused");
    assert!(
        error.to_string().contains("is not the first 2 requests"),
        "{error}"
    );
}

#[test]
fn a_compare_table_of_a_target_says_its_server_side_was_not_measured() {
    use fanout::pipeline::run_target;
    use fanout::{MockApi, Placement, RunSummary, ServerConfig};
    let server = MockApi::start(
        &ServerConfig::new(
            fanout::server::profile::Profile::single("1ms".parse().unwrap()),
            1,
        ),
        &Placement::InProcess,
    )
    .unwrap();
    let mut scenario = common::scenario(Strategy::AsyncConcurrent, 2, "1ms");
    scenario.target = Some(format!("{}/items", server.url()));
    scenario.client.pace = Some(50.0);
    let summary = RunSummary::from_output(
        &run_target(&scenario, &Placement::InProcess, Default::default()).unwrap(),
    );
    let mut table = Vec::new();
    fanout::report::table::write_compare(&mut table, &[summary]).unwrap();
    let table = String::from_utf8(table).unwrap();
    let row = table
        .lines()
        .find(|l| l.starts_with("async-concurrent"))
        .expect("a row");
    assert!(!row.contains("0.0 ms"), "{row}");
    assert!(row.matches("n/m").count() >= 6, "{row}");
    assert!(
        table.contains("a --target server keeps no ledger"),
        "{table}"
    );
}
