//! The open loop and the stall, end to end: an open loop sends on schedule through a
//! stall while a closed loop stops; a full cap makes starts late, counted; every
//! request still ends as one outcome; bad schedules and stalls are refused in one line.
//! Times are asserted only as loose ratios of the stall.

mod common;

use std::process::Command;
use std::time::Duration;

use fanout::server::stall::Stall;
use fanout::{RunSummary, Scenario, Strategy};

/// The stall every test meets: 100 ms from 100 ms after the first request.
const STALL: Stall = Stall {
    at_ms: 100,
    for_ms: 100,
};

fn stalled(strategy: Strategy, n: u64) -> Scenario {
    let mut scenario = common::scenario(strategy, n, "5ms");
    scenario.profile.stall = Some(STALL);
    scenario
}

fn all_ok_once(summary: &RunSummary, n: u64) {
    assert_eq!(common::total(summary), n);
    assert_eq!(summary.ok(), n, "{:?}", summary.outcomes);
    assert_eq!(summary.server.received, n);
}

#[test]
fn an_open_loop_keeps_sending_through_a_stall_and_a_closed_loop_stops() {
    let mut open = stalled(Strategy::AsyncArrivalRate, 400);
    open.client.rate = 1000.0;
    let output = common::run(&open);
    let summary = RunSummary::from_output(&output);
    all_ok_once(&summary, 400);
    // Every sample keeps its intended start: request i at i ms.
    for sample in &output.measurements.samples {
        let intended = sample
            .intended
            .expect("an open loop's sample has its intended start");
        assert_eq!(intended, Duration::from_millis(sample.seq));
    }
    // About 100 requests are meant to start during the 100 ms stall, plus the few in
    // flight when it began.
    assert!(
        (70..=140).contains(&summary.server.stalled),
        "{}",
        summary.server.stalled
    );
    let figures = summary.open_loop.expect("an open loop's figures");
    assert!(figures.from_intended_ms.p99 > 50.0, "{figures:?}");

    let mut closed = stalled(Strategy::AsyncSemaphore, 1000);
    closed.client.limit = 5;
    let summary = common::summary(&closed);
    all_ok_once(&summary, 1000);
    // Only the requests in flight when it began meet the stall: under 1 % of them, so
    // the p99 does not see it.
    assert!(summary.server.stalled <= 5, "{}", summary.server.stalled);
    assert!(summary.latency_ms.p99 < 50.0, "{:?}", summary.latency_ms);
    assert!(summary.open_loop.is_none());
}

#[test]
fn a_full_cap_makes_starts_late_and_they_are_counted() {
    let mut open = stalled(Strategy::AsyncArrivalRate, 300);
    open.client.rate = 1000.0;
    open.client.max_in_flight = 10;
    let summary = common::summary(&open);
    all_ok_once(&summary, 300);
    assert!(summary.server.peak_in_flight <= 10);
    let figures = summary.open_loop.expect("an open loop's figures");
    // The stall fills the cap at once, and every start meant for the rest of it waits.
    assert!(figures.late >= 50, "{figures:?}");
    // Waiting for a slot is part of what a user waited: the requests that queued for
    // the cap were sent late, so from their send they look quick.
    assert!(figures.from_intended_ms.p90 >= summary.latency_ms.p90);
    assert!(
        figures.from_intended_ms.p90 > 2.0 * summary.latency_ms.p90,
        "{figures:?} against {:?}",
        summary.latency_ms
    );
}

#[test]
fn a_ramp_starts_slower_than_its_end_rate() {
    let mut open = common::scenario(Strategy::AsyncArrivalRate, 50, "1ms");
    open.client.ramp = Some(fanout::strategy::arrival::Ramp {
        from: 0.0,
        to: 500.0,
        over: Duration::from_millis(100),
    });
    let output = common::run(&open);
    let intended: Vec<Duration> = output
        .measurements
        .samples
        .iter()
        .map(|s| s.intended.expect("intended"))
        .collect();
    // 25 requests fit under the ramp: the 25th starts at 100 ms, then one per 2 ms.
    assert_eq!(intended[25], Duration::from_millis(100));
    assert!(intended[1] > intended[26] - intended[25]);
    assert_eq!(output.measurements.samples.len(), 50);
}

fn refused(args: &[&str], needle: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(args)
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: '{needle}' in {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors = stderr.lines().filter(|l| l.starts_with("error")).count();
    assert_eq!(errors, 1, "{stderr}");
}

#[test]
fn schedules_and_stalls_that_cannot_be_met_are_refused_in_one_line() {
    let open = ["run", "-s", "async-arrival-rate", "-n", "10"];
    let with = |extra: &[&'static str]| [&open[..], extra].concat();
    refused(&with(&["--ramp", "50..10/s:1s"]), "below its start");
    refused(&with(&["--ramp", "fast"]), "FROM..TO/s:LENGTH");
    refused(
        &with(&["--rate", "1000", "--delay", "1s", "--max-in-flight", "10"]),
        "--max-in-flight",
    );
    refused(
        &with(&["--stall", "1s@5s", "--deadline", "2s"]),
        "--deadline",
    );
    refused(&with(&["--stall", "2s"]), "LENGTH@AT");
    refused(&with(&["--max-in-flight", "0"]), "at least 1");
}
