//! `run`: a [`Scenario`] in, [`RunOutput`] out. The only place where a client, a server
//! and a clock meet; it measures and never formats.
//!
//! The steps, in order: check the scenario; check there are file descriptors for every
//! connection it may open (before anything is sent); calibrate the model's overheads
//! with short probes; plan the requests; start the clock; let the strategy make them;
//! check that every request ended exactly once; read the server's ledger.
//!
//! Read next: [`crate::summary`], which turns the output into figures.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::calibrate::calibrate;
use crate::error::Error;
use crate::fdlimit;
use crate::footprint::Footprint;
use crate::measure::{Measurements, Outcome};
use crate::model::Calibration;
use crate::scenario::Scenario;
use crate::server::ledger::LedgerRecord;
use crate::server::{MockApi, Placement};
use crate::strategy::{self, RunClock};

/// How long a run with failed requests waits before reading the ledger: long enough
/// for the server to notice the connections the client abandoned and record them.
const LEDGER_SETTLE: Duration = Duration::from_millis(50);

/// Everything one run produced: the scenario, the client's samples, the server's ledger.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// What was run.
    pub scenario: Scenario,
    /// The client's side.
    pub measurements: Measurements,
    /// The server's side.
    pub ledger: LedgerRecord,
    /// Where the server ran (`in-process`, `child-process`).
    pub placement: &'static str,
    /// The overheads measured by short probes before the run (zero when none ran).
    pub calibration: Calibration,
    /// The client process's peak memory and threads during the run, where measured.
    pub footprint: Option<Footprint>,
}

/// Starts a fresh mock API for `scenario`, runs it, and stops the server.
pub fn run_fresh(
    scenario: &Scenario,
    placement: &Placement,
    progress: Arc<AtomicU64>,
) -> Result<RunOutput, Error> {
    scenario.validate()?;
    ensure_descriptors(scenario, placement)?;
    let calibration = calibrate(scenario, placement)?;
    let mut server = MockApi::start(&scenario.server_config(), placement)?;
    let (output, footprint) = Footprint::measure(|| run_on(scenario, &mut server, progress));
    let mut output = output?;
    output.placement = placement.name();
    output.calibration = calibration;
    output.footprint = footprint;
    Ok(output)
}

/// Runs `scenario` against a server that is already up. The ledger returned covers
/// everything that server has served, so give each run a fresh server when the
/// server-side figures matter.
pub fn run_on(
    scenario: &Scenario,
    server: &mut MockApi,
    progress: Arc<AtomicU64>,
) -> Result<RunOutput, Error> {
    scenario.validate()?;
    let requests = scenario.requests(server.url())?;
    let clock = RunClock::start(scenario.deadline(), progress).paced(scenario.client.pace);
    let (samples, clock) = strategy::execute(scenario.strategy, requests, &scenario.client, clock)?;
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    let measurements = Measurements::new(samples, wall, clock.started_unix_us);
    measurements
        .check_accounting(scenario.n)
        .map_err(|why| Error::Server(format!("request accounting failed: {why}")))?;
    if measurements
        .samples
        .iter()
        .any(|s| s.outcome != Outcome::Ok)
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
        placement: "external",
        calibration: Calibration::default(),
        footprint: None,
    })
}

/// Runs `scenario` against its `--target` server: no mock API, no calibration, no
/// ledger; only the client's side is measured. Every attempt is paced (the scenario's
/// `client.pace`) and the run ends by its deadline.
pub fn run_target(scenario: &Scenario, progress: Arc<AtomicU64>) -> Result<RunOutput, Error> {
    scenario.validate()?;
    if scenario.target.is_none() || scenario.client.pace.is_none() {
        return Err(Error::InvalidScenario(
            "a run against a target needs the target and a pace".to_string(),
        ));
    }
    let connections = scenario.max_client_connections() as u64;
    fdlimit::ensure(fdlimit::BASE_DESCRIPTORS + connections)?;
    let requests = scenario.requests("")?;
    let clock = RunClock::start(scenario.deadline(), progress).paced(scenario.client.pace);
    let (executed, footprint) = Footprint::measure(|| {
        strategy::execute(scenario.strategy, requests, &scenario.client, clock)
    });
    let (samples, clock) = executed?;
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    let measurements = Measurements::new(samples, wall, clock.started_unix_us);
    measurements
        .check_accounting(scenario.n)
        .map_err(|why| Error::Server(format!("request accounting failed: {why}")))?;
    Ok(RunOutput {
        scenario: scenario.clone(),
        measurements,
        ledger: LedgerRecord::default(),
        placement: "target",
        calibration: Calibration::default(),
        footprint,
    })
}

/// Checks (and raises, if it can) the descriptor limit for the connections this run
/// may hold: the client's, and the server's too when it shares the process.
pub fn ensure_descriptors(scenario: &Scenario, placement: &Placement) -> Result<u64, Error> {
    let connections = scenario.max_client_connections() as u64;
    let sides = match placement {
        Placement::InProcess => 2,
        Placement::Child { .. } => 1,
    };
    fdlimit::ensure(fdlimit::BASE_DESCRIPTORS + sides * connections)
}
