//! The raw result of one run, before anything is derived from it: the scenario, the
//! client's samples ([`crate::measure`]), the server's ledger, the calibration probes'
//! figures and the client's footprint. [`crate::run`] makes it, [`crate::pipeline`]
//! completes it, and [`crate::summary`], [`crate::attribution`] and the reports read
//! it; none of them writes it back.
//!
//! One derivation is allowed, because it is exact: the first `k` requests of a
//! sequential run *are* a sequential run of `k` ([`RunOutput::first_requests`]). Nothing
//! a sequential client does depends on how many requests come after the one in hand, and
//! every delay is drawn by request number, so the prefix has the same requests, delays
//! and connection as a run of `k` would. The claims catalogue measures its scaling
//! curve's sequential points that way, from one long run instead of seven.

use crate::footprint::Footprint;
use crate::measure::Measurements;
use crate::model::{Calibration, Schedule, schedule_of};
use crate::scenario::Scenario;
use crate::server::ledger::LedgerRecord;

/// Everything one run produced: the scenario, the client's samples, the server's ledger.
/// It crosses a process boundary as JSON ([`crate::own_process`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunOutput {
    /// What was run.
    pub scenario: Scenario,
    /// The client's side.
    pub measurements: Measurements,
    /// The server's side.
    pub ledger: LedgerRecord,
    /// Where the server ran: in this process, in a child, already up elsewhere, or a
    /// `--target` instead of the mock API.
    pub placement: crate::server::PlacementKind,
    /// The overheads measured by short probes before the run (zero when none ran).
    pub calibration: Calibration,
    /// The client process's peak memory and threads during the run, where measured.
    pub footprint: Option<Footprint>,
}

impl RunOutput {
    /// The run of the first `k` requests, cut from this one: `None` unless this run is
    /// sequential, complete (one sample per request) and has at least `k` requests. Its
    /// wall ends when request `k - 1` ended; its ledger keeps those requests and the
    /// connections they came on; its footprint (the whole run's) is left out.
    pub fn first_requests(&self, k: u64) -> Option<RunOutput> {
        let sequential = schedule_of(&self.scenario) == Schedule::Sequential;
        let complete = self.measurements.check_accounting(self.scenario.n).is_ok();
        if !sequential || !complete || k == 0 || k > self.scenario.n {
            return None;
        }
        let samples = self.measurements.samples[..k as usize].to_vec();
        let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
        let mut scenario = self.scenario.clone();
        scenario.n = k;
        Some(RunOutput {
            scenario,
            measurements: Measurements::new(samples, wall, self.measurements.started_unix_us),
            ledger: self.ledger.first_requests(k),
            placement: self.placement,
            calibration: self.calibration,
            footprint: None,
        })
    }
}
