//! The claims catalogue and its verdict rules, on hand-made measurements: each rule can
//! reproduce, qualify and refute, and the table prints the same way every time.

use std::collections::BTreeMap;
use std::time::Duration;

use fanout::RunOutput;
use fanout::attribution::Attribution;
use fanout::claims::catalogue::catalogue;
use fanout::claims::rules::{limit_held, speedup_near};
use fanout::claims::trial::Mode;
use fanout::claims::{
    ClaimResult, Judgement, Ran, Setting, Speedups, TrialKey, Verdict, behaviour,
};
use fanout::measure::{Measurements, Outcome, Percentiles};
use fanout::model::Calibration;
use fanout::report::claims_report::write_table;
use fanout::server::ledger::{LedgerRecord, ServerSummary};
use fanout::server::profile::Profile;
use fanout::server::{Engine, PlacementKind};
use fanout::summary::{DelayTotals, Milestones};
use fanout::{ClientReuse, HttpVersion, RunSummary, Scenario, Strategy};

/// A run that measured `wall_ms` where the model said `predicted_ms`.
fn ran(key: TrialKey, strategy: Strategy, n: u64, wall_ms: f64, predicted_ms: f64) -> Ran {
    let scenario = Scenario::new(Profile::single("1s".parse().unwrap()), n, strategy);
    let output = RunOutput {
        scenario,
        measurements: Measurements::new(Vec::new(), Duration::from_secs_f64(wall_ms / 1e3), 0),
        ledger: LedgerRecord::default(),
        placement: PlacementKind::InProcess,
        calibration: Calibration::default(),
        footprint: None,
    };
    let mut outcomes = BTreeMap::new();
    outcomes.insert(Outcome::Ok, n);
    let summary = RunSummary {
        strategy,
        n,
        profile: "items=1s".to_string(),
        limit: None,
        rate: None,
        threads: None,
        client: ClientReuse::Shared,
        http: HttpVersion::Http1,
        execution: "test".to_string(),
        server_placement: "in-process".to_string(),
        server_workers: 2,
        server_engine: Engine::Fanout,
        seed: 1,
        wall_ms,
        predicted_ms,
        efficiency: Some(predicted_ms / wall_ms),
        calibration: Calibration::default(),
        throughput_rps: 0.0,
        outcomes,
        latency_ms: Percentiles::default(),
        predicted_latency_ms: Percentiles::default(),
        open_loop: None,
        send_lag_ms: Percentiles::default(),
        delays_ms: DelayTotals { sum: 0.0, max: 0.0 },
        server: ServerSummary {
            received: n,
            connections: Some(n),
            ..ServerSummary::default()
        },
        milestones_ms: Milestones::default(),
        calibrated_limit: None,
        client_footprint: None,
        attribution: Attribution::of(&output, predicted_ms),
        copies: None,
        pipeline: None,
        stopped: None,
    };
    Ran {
        key,
        summary,
        output,
        news: None,
        cut_from: None,
    }
}

fn with_delays(mut r: Ran, sum: f64, max: f64) -> Ran {
    r.summary.delays_ms = DelayTotals { sum, max };
    r
}

#[test]
fn the_catalogue_has_every_row_of_the_claims_list_once() {
    let ids: Vec<&str> = catalogue().iter().map(|c| c.id).collect();
    let expected = [
        "D0-fig1",
        "D0-100",
        "D0-timeout",
        "D0-h2",
        "D0-reuse",
        "D0-failfast",
        "D0-sem5",
        "D0-429",
        "D1-first3",
        "D1-3x500",
        "D1-formula",
        "D1-20apis",
        "D1-50s",
        "D1-sem10",
        "D1-ratelimit",
        "D1-timeouts",
        "D1-progress",
        "D1-partial",
        "D1-retry",
        "D1-blocking",
        "D1-noawait",
        "D1-news",
        "D1-sqlite",
        "D1-20in2",
        "D2-3x1s",
        "D2-10users",
        "D2-bench20",
        "D2-10to100x",
        "D2-session",
        "D2-pool",
        "D2-aggregator",
        "D2-status",
        "D2-post",
        // Beyond the tutorials: not a document's claim, listed after them.
        "B-omission",
        "B-hedge",
        "B-first-of",
        "B-backpressure",
    ];
    assert_eq!(ids, expected);
}

#[test]
fn speedup_rule_reproduces_qualifies_and_refutes() {
    let seq = with_delays(
        ran(
            TrialKey::Sequential,
            Strategy::SyncSequential,
            10,
            2000.0,
            2000.0,
        ),
        2000.0,
        300.0,
    );
    let fast = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            10,
            300.0,
            300.0,
        ),
        2000.0,
        300.0,
    );
    let judged = speedup_near(20.0 / 3.0, &[seq.clone(), fast]);
    assert_eq!(judged.verdict, Verdict::Reproduced, "{}", judged.reason);
    assert!(judged.reason.contains("6.7x"), "{}", judged.reason);

    let slower = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            10,
            500.0,
            300.0,
        ),
        2000.0,
        300.0,
    );
    let judged = speedup_near(20.0 / 3.0, &[seq.clone(), slower]);
    assert_eq!(judged.verdict, Verdict::Qualified, "{}", judged.reason);

    let no_gain = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            10,
            1900.0,
            300.0,
        ),
        2000.0,
        300.0,
    );
    let judged = speedup_near(20.0 / 3.0, &[seq, no_gain]);
    assert_eq!(judged.verdict, Verdict::Refuted, "{}", judged.reason);
}

#[test]
fn limit_rule_refutes_a_limit_the_server_saw_broken() {
    let mut held = with_delays(
        ran(
            TrialKey::Limited,
            Strategy::AsyncSemaphore,
            10,
            200.0,
            200.0,
        ),
        1000.0,
        100.0,
    );
    held.summary.server.peak_in_flight = 5;
    assert_eq!(limit_held(&[held.clone()], 5).verdict, Verdict::Reproduced);
    let mut broken = held;
    broken.summary.server.peak_in_flight = 7;
    let judged = limit_held(&[broken], 5);
    assert_eq!(judged.verdict, Verdict::Refuted);
    assert!(judged.reason.contains("7"), "{}", judged.reason);
}

#[test]
fn failfast_rule_counts_what_the_server_received() {
    let mut ff = ran(
        TrialKey::FailFast,
        Strategy::AsyncFailfast,
        100,
        50.0,
        500.0,
    );
    let all = ran(
        TrialKey::CollectAll,
        Strategy::AsyncSemaphore,
        100,
        500.0,
        500.0,
    );
    ff.summary.server.received = 10;
    assert_eq!(
        behaviour::fail_fast(&[ff.clone(), all.clone()], 10).verdict,
        Verdict::Reproduced
    );
    ff.summary.server.received = 60;
    assert_eq!(
        behaviour::fail_fast(&[ff, all], 10).verdict,
        Verdict::Refuted
    );
}

#[test]
fn http2_rule_qualifies_when_streams_come_in_waves() {
    let h1 = with_delays(
        ran(
            TrialKey::Http1,
            Strategy::AsyncConcurrent,
            500,
            120.0,
            120.0,
        ),
        0.0,
        100.0,
    );
    let mut h2 = with_delays(
        ran(
            TrialKey::Http2,
            Strategy::AsyncConcurrent,
            500,
            300.0,
            300.0,
        ),
        0.0,
        100.0,
    );
    h2.summary.server.connections = Some(1);
    let judged = behaviour::http2_one_connection(&[h1.clone(), h2.clone()]);
    assert_eq!(judged.verdict, Verdict::Qualified);
    assert!(judged.reason.contains("3 waves"), "{}", judged.reason);
    h2.summary.server.connections = Some(4);
    assert_eq!(
        behaviour::http2_one_connection(&[h1.clone(), h2.clone()]).verdict,
        Verdict::Qualified,
        "a few connections for 500 requests still multiplex"
    );
    h2.summary.server.connections = Some(200);
    assert_eq!(
        behaviour::http2_one_connection(&[h1, h2]).verdict,
        Verdict::Refuted
    );
}

#[test]
fn scaling_rule_names_where_10x_and_100x_hold() {
    let mut runs = Vec::new();
    for (n, seq, conc) in [
        (1, 10.0, 10.0),
        (10, 100.0, 10.0),
        (100, 1000.0, 12.0),
        (1000, 10_000.0, 80.0),
    ] {
        runs.push(ran(
            TrialKey::Scaling {
                n,
                mode: Mode::Sequential,
            },
            Strategy::SyncSequential,
            n,
            seq,
            seq,
        ));
        runs.push(ran(
            TrialKey::Scaling {
                n,
                mode: Mode::Concurrent,
            },
            Strategy::AsyncConcurrent,
            n,
            conc,
            conc,
        ));
    }
    let judged = behaviour::scaling(&runs);
    assert_eq!(judged.verdict, Verdict::Reproduced, "{}", judged.reason);
    assert!(
        judged.reason.contains("10x holds for n = 10..1000"),
        "{}",
        judged.reason
    );
    assert!(
        judged.reason.contains("100x for n = 1000"),
        "{}",
        judged.reason
    );
}

#[test]
fn the_claims_table_prints_the_same_way_every_time() {
    let claims = catalogue();
    let judgement = |verdict, measured: &str, predicted: &str, speedup| Judgement {
        verdict,
        reason: "hand-made".to_string(),
        measured: measured.to_string(),
        predicted: predicted.to_string(),
        speedup,
    };
    let results = vec![
        ClaimResult {
            claim: claims[0],
            setting: Setting::Loopback,
            judgement: judgement(
                Verdict::Reproduced,
                "6.6x (2.01 s vs 0.31 s)",
                "6.7x (2.00 s vs 0.30 s)",
                Some(Speedups {
                    document: Some(6.7),
                    model: 6.7,
                    measured: 6.6,
                }),
            ),
            runs: Vec::new(),
        },
        ClaimResult {
            claim: claims[3],
            setting: Setting::InternetLike,
            judgement: judgement(
                Verdict::Qualified,
                "1 vs 500 connections",
                "1 vs 500 connections",
                None,
            ),
            runs: Vec::new(),
        },
        ClaimResult {
            claim: claims[2],
            setting: Setting::Loopback,
            judgement: judgement(Verdict::Pending, "-", "-", None),
            runs: Vec::new(),
        },
    ];
    let mut out = Vec::new();
    write_table(&mut out, &results).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn formula_rule_reads_both_walls_against_sum_and_max() {
    let seq = with_delays(
        ran(
            TrialKey::Sequential,
            Strategy::SyncSequential,
            10,
            5050.0,
            5040.0,
        ),
        5000.0,
        500.0,
    );
    let conc = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            10,
            510.0,
            505.0,
        ),
        5000.0,
        500.0,
    );
    let judged = fanout::claims::rules::formula(&[seq.clone(), conc], 10.0, None);
    assert_eq!(judged.verdict, Verdict::Reproduced, "{}", judged.reason);
    // An async run as slow as the sequential one contradicts the formula outright.
    let stuck = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            10,
            5000.0,
            505.0,
        ),
        5000.0,
        500.0,
    );
    let judged = fanout::claims::rules::formula(&[seq, stuck], 10.0, Some(1000.0));
    assert_eq!(judged.verdict, Verdict::Refuted, "{}", judged.reason);
}

#[test]
fn slowest_request_rule_refutes_a_wall_far_above_the_slowest_delay() {
    let rule = fanout::claims::rules::concurrent_as_slowest;
    let fast = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            100,
            310.0,
            305.0,
        ),
        9000.0,
        300.0,
    );
    assert_eq!(rule(&[fast]).verdict, Verdict::Reproduced);
    let slow = with_delays(
        ran(
            TrialKey::Concurrent,
            Strategy::AsyncConcurrent,
            100,
            900.0,
            305.0,
        ),
        9000.0,
        300.0,
    );
    let judged = rule(&[slow]);
    assert_eq!(judged.verdict, Verdict::Refuted);
    assert!(judged.reason.contains("+200 %"), "{}", judged.reason);
}

#[test]
fn partial_failure_rule_needs_the_others_to_answer_unslowed() {
    let ok = ran(
        TrialKey::AllSucceed,
        Strategy::AsyncConcurrent,
        3,
        52.0,
        52.0,
    );
    let mut one_fails = ran(TrialKey::OneFails, Strategy::AsyncConcurrent, 3, 53.0, 52.0);
    one_fails.summary.outcomes.insert(Outcome::Ok, 2);
    one_fails.summary.outcomes.insert(Outcome::Http5xx, 1);
    let judged = behaviour::partial_failure(&[ok.clone(), one_fails.clone()]);
    assert_eq!(judged.verdict, Verdict::Reproduced, "{}", judged.reason);
    one_fails.summary.outcomes.insert(Outcome::Ok, 0);
    one_fails.summary.outcomes.insert(Outcome::Http5xx, 3);
    assert_eq!(
        behaviour::partial_failure(&[ok, one_fails]).verdict,
        Verdict::Refuted
    );
}

#[test]
fn a_rule_missing_its_trial_says_so_instead_of_guessing() {
    let judged = speedup_near(3.0, &[]);
    assert_eq!(judged.verdict, Verdict::Pending);
    assert!(judged.reason.contains("did not run"), "{}", judged.reason);
}

#[test]
fn the_compare_table_prints_the_same_way_every_time() {
    let seq = ran(
        TrialKey::Sequential,
        Strategy::SyncSequential,
        10,
        1016.0,
        1012.0,
    );
    let mut conc = ran(
        TrialKey::Concurrent,
        Strategy::AsyncConcurrent,
        10,
        104.0,
        103.0,
    );
    conc.summary.server.peak_in_flight = 10;
    conc.summary.outcomes.insert(Outcome::Ok, 9);
    conc.summary.outcomes.insert(Outcome::Http5xx, 1);
    let json = serde_json::to_string(&conc.summary).unwrap();
    assert!(
        json.contains(r#""outcomes":{"http_5xx":1,"ok":9}"#),
        "outcomes keyed by name, alphabetically: {json}"
    );
    let mut out = Vec::new();
    fanout::report::table::write_compare(&mut out, &[seq.summary, conc.summary]).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

fn news_figures(two_phase_ms: (f64, f64), failed: usize) -> fanout::news::trial::NewsFigures {
    fanout::news::trial::NewsFigures {
        sources: 3,
        failed,
        articles: 30,
        stored: None,
        writes: Vec::new(),
        predicted_ms: 0.0,
        predicted_connections: 11,
        two_phase_ms: vec![two_phase_ms],
    }
}

fn news_run(
    key: TrialKey,
    strategy: Strategy,
    wall: f64,
    model: f64,
    figures: fanout::news::trial::NewsFigures,
) -> Ran {
    let mut r = ran(key, strategy, 13, wall, model);
    r.news = Some(figures);
    r
}

#[test]
fn the_news_speedup_is_reproduced_qualified_or_refuted_by_its_figures() {
    use fanout::claims::news::aggregator_speedup;
    let judge = |seq_wall: f64, conc_wall: f64, two_phase: (f64, f64), failed: usize| {
        aggregator_speedup(&[
            news_run(
                TrialKey::Sequential,
                Strategy::SyncSequential,
                seq_wall,
                seq_wall,
                news_figures(two_phase, 0),
            ),
            news_run(
                TrialKey::Concurrent,
                Strategy::AsyncConcurrent,
                conc_wall,
                conc_wall,
                news_figures(two_phase, failed),
            ),
        ])
        .verdict
    };
    // The document's 4.6x, as modelled, Hacker News's two phases adding up.
    assert_eq!(judge(2340.0, 510.0, (505.0, 500.0), 0), Verdict::Reproduced);
    // As modelled, but 3.1x: the model explains a smaller figure.
    assert_eq!(judge(1590.0, 510.0, (505.0, 500.0), 0), Verdict::Qualified);
    // Hacker News finished before its own two delays: impossible, so refuted.
    assert_eq!(judge(2340.0, 510.0, (300.0, 500.0), 0), Verdict::Refuted);
    // A source failed: the run does not show the aggregation the claim is about.
    assert_eq!(judge(2340.0, 510.0, (505.0, 500.0), 1), Verdict::Refuted);
}

#[test]
fn serial_writes_need_saves_that_met_and_one_writer_at_a_time() {
    use fanout::claims::news::serial_writes;
    use fanout::news::store::Write;
    let ms = Duration::from_millis;
    let write = |asked, locked, committed| Write {
        asked: ms(asked),
        locked: ms(locked),
        committing: ms(committed),
        committed: ms(committed),
        rows: 10,
        inserted: 10,
    };
    let judge = |writes: Vec<Write>| {
        let mut figures = news_figures((0.0, 0.0), 0);
        figures.writes = writes;
        figures.stored = Some(29);
        serial_writes(&[news_run(
            TrialKey::Stored,
            Strategy::AsyncConcurrent,
            1.0,
            1.0,
            figures,
        )])
        .verdict
    };
    // Asked together, held one after another.
    assert_eq!(
        judge(vec![write(0, 0, 5), write(0, 5, 9), write(1, 9, 12)]),
        Verdict::Reproduced
    );
    // Never met: serial, but nothing was tested.
    assert_eq!(
        judge(vec![write(0, 0, 5), write(6, 6, 9)]),
        Verdict::Qualified
    );
    // Two held the lock at once.
    assert_eq!(
        judge(vec![write(0, 0, 5), write(1, 2, 9)]),
        Verdict::Refuted
    );
}

#[test]
fn twenty_sources_must_come_back_under_the_scaled_bound_in_every_draw() {
    use fanout::claims::news::twenty_sources;
    let run = |wall: f64, failed: usize| {
        let figures = news_figures((0.0, 0.0), failed);
        news_run(
            TrialKey::Seed(1),
            Strategy::AsyncConcurrent,
            wall,
            wall,
            figures,
        )
    };
    // Five draws: the first given, the other four at 150 ms.
    let judge = |first: Ran| {
        let mut runs = vec![first];
        runs.extend((0..4).map(|_| run(150.0, 0)));
        twenty_sources(0.1, &runs).verdict
    };
    assert_eq!(judge(run(190.0, 0)), Verdict::Reproduced);
    assert_eq!(judge(run(150.0, 2)), Verdict::Qualified);
    assert_eq!(judge(run(250.0, 0)), Verdict::Qualified);
    let all_slow: Vec<Ran> = (0..5).map(|_| run(250.0, 0)).collect();
    assert_eq!(twenty_sources(0.1, &all_slow).verdict, Verdict::Refuted);
    // A draw that did not run is reported, not judged.
    assert_eq!(
        twenty_sources(0.1, &all_slow[..3]).verdict,
        Verdict::Pending
    );
}

#[test]
fn every_rule_finds_the_trials_its_own_plan_makes() {
    use fanout::claims::{Context, Trial};
    let context = Context::new(0.05, 1);
    for claim in catalogue() {
        let plan = (claim.plan)(&context);
        let keys: Vec<TrialKey> = plan.iter().map(Trial::key).collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(
                !keys[..i].contains(key),
                "{}: {key} planned twice",
                claim.id
            );
        }
        // A trial cut from another needs that one in the same plan: sequential, longer,
        // and the same scenario but for its length.
        for trial in &plan {
            let Trial::FirstOf { key, of, scenario } = trial else {
                continue;
            };
            let source = plan
                .iter()
                .find(|t| t.key() == *of && !matches!(t, Trial::FirstOf { .. }))
                .unwrap_or_else(|| panic!("{}: {key} is cut from {of}, not run", claim.id));
            let longer = source.scenario();
            assert!(longer.n > scenario.n, "{}: {key} is not shorter", claim.id);
            assert!(longer.strategy.name().contains("sequential"));
            let same = fanout::Scenario {
                n: longer.n,
                ..scenario.clone()
            };
            assert_eq!(&same, longer, "{}: {key} is another scenario", claim.id);
        }
        let runs: Vec<Ran> = plan
            .iter()
            .map(|trial| {
                let s = trial.scenario();
                let mut run = ran(trial.key(), s.strategy, s.n, 100.0, 100.0);
                if let Trial::News { .. } = trial {
                    let mut figures = news_figures((1.0, 1.0), 0);
                    let ms = Duration::from_millis;
                    figures.writes = vec![fanout::news::store::Write {
                        asked: ms(0),
                        locked: ms(0),
                        committing: ms(1),
                        committed: ms(1),
                        rows: 1,
                        inserted: 1,
                    }];
                    run.news = Some(figures);
                }
                run
            })
            .collect();
        let judged = (claim.judge)(&context, &runs);
        assert!(
            !(judged.verdict == Verdict::Pending && judged.reason.ends_with("trial did not run")),
            "{}: {}",
            claim.id,
            judged.reason
        );
    }
}

#[test]
fn every_claim_run_over_the_network_is_in_the_catalogue_and_runs_on_loopback_too() {
    let claims = catalogue();
    for id in Setting::OVER_THE_NETWORK {
        let claim = claims
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{id} is not in the catalogue"));
        assert!(Setting::InternetLike.applies_to(claim));
        assert!(Setting::Loopback.applies_to(claim));
    }
    let loopback_only = claims
        .iter()
        .filter(|c| !Setting::InternetLike.applies_to(c))
        .count();
    assert_eq!(
        loopback_only,
        claims.len() - Setting::OVER_THE_NETWORK.len()
    );
}

#[test]
fn every_trial_of_an_internet_like_row_runs_over_its_network_and_tls() {
    use fanout::claims::{Context, Trial};
    let context = Context {
        setting: Setting::InternetLike,
        ..Context::new(0.1, 1)
    };
    for claim in catalogue()
        .iter()
        .filter(|c| Setting::InternetLike.applies_to(c))
    {
        for trial in (claim.plan)(&context) {
            let s = trial.scenario();
            let key = Trial::key(&trial);
            assert_eq!(s.profile.network, context.network(), "{} {key}", claim.id);
            assert_eq!(s.tls, Setting::InternetLike.tls(), "{} {key}", claim.id);
        }
    }
}
