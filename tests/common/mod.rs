//! Helpers shared by the integration tests: small scenarios against a fresh in-process
//! mock API, and a path to the real binary.

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use fanout::server::latency::Latency;
use fanout::server::profile::{Endpoint, Profile};
use fanout::{Placement, RunOutput, RunSummary, Scenario, Strategy};

/// A one-endpoint scenario: `n` requests answered after `delay`.
pub fn scenario(strategy: Strategy, n: u64, delay: &str) -> Scenario {
    Scenario::new(Profile::single(latency(delay)), n, strategy)
}

/// A one-endpoint scenario whose endpoint always answers `status`.
pub fn failing_scenario(strategy: Strategy, n: u64, delay: &str, status: u16) -> Scenario {
    let mut endpoint = Endpoint::catch_all(latency(delay));
    endpoint.status = status;
    Scenario::new(
        Profile {
            endpoints: vec![endpoint],
            limits: Default::default(),
            network: Default::default(),
            stall: None,
        },
        n,
        strategy,
    )
}

pub fn latency(text: &str) -> Latency {
    text.parse().expect("test latencies parse")
}

/// Runs `scenario` against a fresh in-process server.
pub fn run(scenario: &Scenario) -> RunOutput {
    fanout::run_fresh(scenario, &Placement::InProcess, Arc::new(AtomicU64::new(0)))
        .expect("the run completes")
}

/// Runs `scenario` and summarises it.
pub fn summary(scenario: &Scenario) -> RunSummary {
    RunSummary::from_output(&run(scenario))
}

/// The outcome counts of a summary summed.
pub fn total(summary: &RunSummary) -> u64 {
    summary.outcomes.values().sum()
}

/// The server's connection count (fanout's engine always has one).
pub fn connections(summary: &RunSummary) -> u64 {
    summary
        .server
        .connections
        .expect("fanout's engine counts connections")
}
