//! After gather: copies that race (first-of, hedged), a pipeline with a channel, and
//! runs that stop early, on Ctrl-C or `--stop-after`. Counts, limits and outcomes;
//! where time matters, loose ratios.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{run, scenario, summary, total};
use fanout::measure::Outcome;
use fanout::strategy::backpressure::Channel;
use fanout::strategy::replicas::HedgeAfter;
use fanout::{RunSummary, Strategy};

#[test]
fn first_of_sends_every_copy_keeps_one_answer_and_the_losers_are_abandoned() {
    let mut s = scenario(Strategy::AsyncFirstOf, 40, "uniform:20ms..200ms");
    s.client.replicas = 3;
    s.client.limit = 40;
    let output = run(&s);
    let summary = fanout::RunSummary::from_output(&output);
    assert_eq!(summary.ok(), 40, "{:?}", summary.outcomes);
    assert_eq!(summary.server.received, 120, "three copies of each");
    let copies = summary.copies.expect("first-of reports its copies");
    assert_eq!(copies.copies_sent, 80);
    // Every loser was cut mid-request, unless it answered in the same moment.
    let abandoned = copies.abandoned_at_server.unwrap();
    assert!((70..=80).contains(&abandoned), "{copies:?}");
    // Each copy drew its own delay: the answer is the least of three draws.
    for sample in &output.measurements.samples {
        let least = (0..3).map(|c| s.copy_delay(sample.seq, c)).min().unwrap();
        assert!(sample.latency() >= least, "{sample:?}");
        assert!(
            sample.latency() < least * 2 + Duration::from_millis(50),
            "{sample:?}"
        );
    }
    let mut copies_seen: Vec<u32> = output.ledger.entries.iter().map(|e| e.copy).collect();
    copies_seen.sort();
    copies_seen.dedup();
    assert_eq!(copies_seen, [0, 1, 2]);
}

#[test]
fn hedged_copies_go_only_to_late_requests_and_the_first_copies_keep_their_draws() {
    // Delays spread over 5..300 ms: a fixed hedge after 60 ms goes to the late ones only.
    let mut s = scenario(Strategy::AsyncHedged, 30, "uniform:5ms..300ms");
    s.client.hedge_after = HedgeAfter::Fixed(Duration::from_millis(60));
    s.client.limit = 30;
    let output = run(&s);
    let summary = fanout::RunSummary::from_output(&output);
    assert_eq!(summary.ok(), 30);
    let copies = summary.copies.unwrap();
    let late = (0..30)
        .filter(|seq| s.delay(*seq) > Duration::from_millis(70))
        .count() as u64;
    let early = (0..30)
        .filter(|seq| s.delay(*seq) < Duration::from_millis(50))
        .count() as u64;
    // Hedged: at least the clearly late, at most all but the clearly early.
    assert!(copies.copies_sent >= late, "{copies:?}, {late} late");
    assert!(
        copies.copies_sent <= 30 - early,
        "{copies:?}, {early} early"
    );
    assert_eq!(summary.server.received, 30 + copies.copies_sent);
    // The first copies drew what an unhedged run draws.
    for entry in output.ledger.entries.iter().filter(|e| e.copy == 0) {
        let seq = entry.seq.unwrap();
        assert_eq!(entry.delay_us, s.delay(seq).as_micros() as u64);
    }
}

#[test]
fn a_bounded_channel_holds_at_most_its_capacity_and_an_unbounded_one_takes_every_body() {
    let pipeline = |channel: Channel| {
        let mut s = scenario(Strategy::AsyncPipeline, 60, "1ms");
        s.client.channel = channel;
        s.client.limit = 4;
        s.client.consumers = 1;
        s.client.work = Duration::from_millis(5);
        summary(&s)
    };
    let bounded = pipeline(Channel::Bounded(4));
    let figures = bounded
        .pipeline
        .clone()
        .expect("the pipeline reports its channel");
    assert_eq!(bounded.ok(), 60);
    assert_eq!(figures.consumed, 60, "every body is consumed");
    assert!(figures.peak_queued <= 4, "{figures:?}");
    assert!(figures.peak_fetching <= 4, "{figures:?}");
    assert_eq!(figures.expected_bodies(), Some(9));
    let unbounded = pipeline(Channel::Unbounded);
    let figures = unbounded.pipeline.unwrap();
    assert_eq!(figures.consumed, 60);
    // Fetches take about 2 ms, a consumer 5: the queue grows far past 4.
    assert!(figures.peak_queued > 12, "{figures:?}");
    assert_eq!(figures.expected_bodies(), None);
}

#[test]
fn stop_after_stops_sending_lets_the_grace_run_and_accounts_for_every_request() {
    let mut s = scenario(Strategy::AsyncSemaphore, 200, "50ms");
    s.client.limit = 5;
    s.client.stop = fanout::strategy::stop::StopPolicy {
        after: Some(Duration::from_millis(300)),
        grace: Duration::from_millis(500),
    };
    let summary = summary(&s);
    assert_eq!(total(&summary), 200);
    let stop = summary.stopped.expect("it stopped");
    assert_eq!(stop.finished + stop.never_sent + stop.cut, 200);
    // 50 ms answers finish within a 500 ms grace: nothing to cut.
    assert_eq!(stop.cut, 0, "{stop:?}");
    assert!(stop.never_sent > 100, "{stop:?}");
    assert_eq!(summary.server.received, 200 - stop.never_sent);
}

#[test]
fn a_grace_shorter_than_the_answers_cuts_what_is_in_flight() {
    let mut s = scenario(Strategy::AsyncConcurrent, 50, "2s");
    s.client.stop = fanout::strategy::stop::StopPolicy {
        after: Some(Duration::from_millis(200)),
        grace: Duration::from_millis(100),
    };
    let summary = summary(&s);
    let stop = summary.stopped.unwrap();
    assert_eq!(stop.cut, 50, "{stop:?}");
    assert_eq!(summary.count(Outcome::Cancelled), 50);
    assert!(
        summary.wall_ms < 1500.0,
        "cut, not waited for: {}",
        summary.wall_ms
    );
}

/// Sends SIGINT to a `fanout run --json` after `after`, and checks that its JSON
/// parses and every request ended as exactly one outcome, the server's ledger agreeing.
fn interrupt_after(after: Duration) {
    let child = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args([
            "run",
            "-s",
            "async-semaphore",
            "--limit",
            "20",
            "-n",
            "400",
            "--delay",
            "uniform:50ms..400ms",
            "--grace",
            "200ms",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    std::thread::sleep(after);
    // SAFETY: kill(2) on our own child's pid, which has not been waited for yet.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let output = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let summary: RunSummary = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("the JSON parses ({e}): {stderr}"));
    assert_eq!(total(&summary), 400, "{:?}", summary.outcomes);
    let stop = summary.stopped.expect("the run says it was stopped");
    assert_eq!(stop.finished + stop.never_sent + stop.cut, 400);
    // Every request sent reached the server, and nothing else did.
    assert_eq!(summary.server.received, 400 - stop.never_sent, "{stop:?}");
}

#[test]
fn ctrl_c_mid_run_loses_no_request() {
    // Before the run starts (calibrating), early in it, and late in it.
    for after_ms in [400, 1_500, 2_500] {
        interrupt_after(Duration::from_millis(after_ms));
    }
}
