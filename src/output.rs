//! The raw result of one run, before anything is derived from it: the scenario, the
//! client's samples ([`crate::measure`]), the server's ledger, the calibration probes'
//! figures and the client's footprint. [`crate::run`] makes it, [`crate::pipeline`]
//! completes it, and [`crate::summary`], [`crate::attribution`] and the reports read
//! it; none of them writes it back.

use crate::footprint::Footprint;
use crate::measure::Measurements;
use crate::model::Calibration;
use crate::scenario::Scenario;
use crate::server::ledger::LedgerRecord;

/// Everything one run produced: the scenario, the client's samples, the server's ledger.
#[derive(Debug, Clone)]
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
