//! The whole sequence of one measured run, in order, in one place (hyperfine's
//! scheduler is the model): check the scenario; check there are file descriptors for
//! every connection it may open, before anything is sent; calibrate the model's
//! overheads with short probes on a server of their own; start a fresh mock API; run,
//! with the client's footprint measured around it; hand back the output with the
//! server's ledger joined.
//!
//! Every command that measures goes through here ([`run_fresh`], or [`run_target`] for
//! a `--target` server); [`crate::run`] is the step in the middle where client, server
//! and clock meet, and [`crate::calibrate`] the step before it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::calibrate::calibrate;
use crate::error::Error;
use crate::fdlimit;
use crate::footprint::Footprint;
use crate::output::RunOutput;
use crate::run;
use crate::scenario::Scenario;
use crate::server::{MockApi, Placement};

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
    let (output, footprint) = Footprint::measure(|| run::run_on(scenario, &mut server, progress));
    let mut output = output?;
    output.placement = placement.kind();
    output.calibration = calibration;
    output.footprint = footprint;
    Ok(output)
}

/// Runs `scenario` against its `--target` server: no mock API, so no model and no
/// ledger; only the client's side is measured. The client is first warmed up as a run
/// on the mock API is, by the same calibration against a mock API on 127.0.0.1 placed
/// as `placement` says (see `warm_up` in this module).
pub fn run_target(
    scenario: &Scenario,
    placement: &Placement,
    progress: Arc<AtomicU64>,
) -> Result<RunOutput, Error> {
    scenario.validate()?;
    fdlimit::ensure(fdlimit::BASE_DESCRIPTORS + scenario.max_client_connections() as u64)?;
    warm_up(scenario, placement)?;
    let (output, footprint) = Footprint::measure(|| run::run_on_target(scenario, progress));
    let mut output = output?;
    output.footprint = footprint;
    Ok(output)
}

/// Warms the client up before a `--target` run, as criterion and hyperfine warm up
/// before they measure: the calibration a run on the mock API makes first, against a
/// mock API of its own on 127.0.0.1 (the target sees none of it), its figures thrown
/// away. Without it the target run met the client cold (an allocator that had not yet
/// grown, a kernel that had not yet set up this many sockets for the process) and took
/// 1.05–1.12 × a run's wall for the same 1,000 requests; with it both paths measure
/// the same client.
fn warm_up(scenario: &Scenario, placement: &Placement) -> Result<(), Error> {
    let mut local = scenario.clone();
    local.target = None;
    local.client.pace = None;
    // Its mock API may share the process (--server in-process): both sides' descriptors.
    ensure_descriptors(&local, placement)?;
    calibrate(&local, placement).map(drop)
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
