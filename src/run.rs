//! `run`: the one place where a client, a server and a clock meet. It measures and
//! never formats, and never decides what comes before or after (that sequence is
//! [`crate::pipeline`]'s).
//!
//! [`run_on`] makes a scenario's requests against a mock API that is already up and
//! reads its ledger; [`run_on_target`] makes them against the user's `--target` server,
//! which keeps no ledger. Both measure through one function: plan the requests, start
//! the clock, let the strategy make them, check that every request ended exactly once.
//!
//! Read next: [`crate::measure`] for what comes out, [`crate::summary`] for the figures.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::error::Error;
use crate::measure::{Measurements, Outcome};
use crate::model::Calibration;
use crate::output::RunOutput;
use crate::scenario::Scenario;
use crate::server::ledger::LedgerRecord;
use crate::server::{MockApi, PlacementKind};
use crate::strategy::trust::TrustedCa;
use crate::strategy::{self, ClientOptions, RunClock};

/// How long a run with requests that got no answer, or were retried or sent as
/// copies (an earlier attempt, or a losing copy, may have been abandoned), waits
/// before reading the ledger: long enough for the server to notice the connections
/// the client abandoned and record them. An answer, whatever its status, was
/// recorded before it left.
const LEDGER_SETTLE: Duration = Duration::from_millis(50);

/// Runs `scenario` against a server that is already up. The ledger returned covers
/// everything that server has served, so give each run a fresh server when the
/// server-side figures matter ([`crate::pipeline::run_fresh`] does).
pub fn run_on(
    scenario: &Scenario,
    server: &mut MockApi,
    progress: Arc<AtomicU64>,
) -> Result<RunOutput, Error> {
    scenario.validate()?;
    let trusted_ca = server.ca_certificate().cloned().map(Arc::new);
    let measurements = measure(scenario, server.url(), trusted_ca, progress)?;
    if measurements
        .samples
        .iter()
        .any(|s| s.attempts > 1 || s.copies > 0 || (s.outcome != Outcome::Ok && s.status.is_none()))
    {
        // A request the client abandoned is recorded when the server notices the
        // closed connection, a moment after the client moved on.
        std::thread::sleep(LEDGER_SETTLE);
    }
    let ledger = server.ledger()?;
    Ok(RunOutput {
        scenario: scenario.clone(),
        measurements,
        ledger,
        placement: PlacementKind::External,
        calibration: Calibration::default(),
        footprint: None,
    })
}

/// Runs `scenario` against its `--target` server: no mock API, no ledger; only the
/// client's side is measured. Every attempt is paced (the scenario's `client.pace`)
/// and the run ends by its deadline.
pub fn run_on_target(scenario: &Scenario, progress: Arc<AtomicU64>) -> Result<RunOutput, Error> {
    scenario.validate()?;
    if scenario.target.is_none() || scenario.client.pace.is_none() {
        return Err(Error::InvalidScenario(
            "a run against a target needs the target and a pace".to_string(),
        ));
    }
    let measurements = measure(scenario, "", None, progress)?;
    Ok(RunOutput {
        scenario: scenario.clone(),
        measurements,
        ledger: LedgerRecord::default(),
        placement: PlacementKind::Target,
        calibration: Calibration::default(),
        footprint: None,
    })
}

/// The measuring itself: the requests against `base_url` (ignored for a target), made
/// by the scenario's strategy on a clock that starts once its set-up is done, with
/// clients that trust `trusted_ca` (the server's CA, when it serves TLS) and nothing else.
fn measure(
    scenario: &Scenario,
    base_url: &str,
    trusted_ca: TrustedCa,
    progress: Arc<AtomicU64>,
) -> Result<Measurements, Error> {
    let requests = scenario.requests(base_url)?;
    let clock = RunClock::start(scenario.deadline(), progress)
        .paced(scenario.client.pace)
        .stopping(scenario.client.stop);
    let client = ClientOptions {
        trusted_ca,
        ..scenario.client.clone()
    };
    // Watches for Ctrl-C and --stop-after while the strategy runs.
    let watching = clock.stop().watch();
    let executed = strategy::execute(scenario.strategy, requests, &client, clock);
    drop(watching);
    let (samples, clock) = executed?;
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    let mut measurements = Measurements::new(samples, wall, clock.started_unix_us);
    measurements.stop = clock.stop().record();
    measurements.notes = clock.notes();
    measurements
        .check_accounting(scenario.n)
        .map_err(|why| Error::Internal(format!("request accounting failed: {why}")))?;
    Ok(measurements)
}
