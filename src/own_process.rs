//! One run in a fresh process of its own: `fanout point`, fed its job on stdin, its
//! result read back from stdout.
//!
//! Why a process: memory a run frees stays resident in the allocator, and would be
//! counted against the next run of the same process; and a process's peak RSS is its
//! whole life's. A sweep runs each point this way, and so does a claim about memory
//! (`B-backpressure`), whose figure is the client's peak RSS.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cli::ServerPlacement;
use crate::error::Error;
use crate::scenario::Scenario;

/// jemalloc's setting for a run whose figure is its memory: freed pages go back to
/// the system at once, so the peak RSS counts what the client holds, not what the
/// allocator keeps for later (by default jemalloc returns them over about ten seconds:
/// measured here, a pipeline holding 21 MiB of bodies peaked 16 MiB higher with it).
pub const PROMPT_RETURN: (&str, &str) = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0");

/// What a `fanout point` child gets, as one JSON line on its stdin (as `serve
/// --control stdio` gets its config): the scenario and where its mock API runs.
#[derive(Debug, Serialize, Deserialize)]
pub struct PointJob {
    /// What to run.
    pub scenario: Scenario,
    /// Where its mock API runs.
    pub server: ServerPlacement,
    /// Print the whole [`crate::RunOutput`] (samples and ledger), not only its summary.
    #[serde(default)]
    pub whole_output: bool,
}

/// Runs `job` in a fresh `exe point` process with `env` added, and returns what it
/// printed. `what` names the run in errors.
pub fn run_point(
    exe: &Path,
    job: &PointJob,
    env: &[(&str, &str)],
    what: &str,
) -> Result<Vec<u8>, Error> {
    let mut line = serde_json::to_vec(job).expect("a point's job always serialises");
    line.push(b'\n');
    let mut command = std::process::Command::new(exe);
    command.arg("point").envs(env.iter().copied());
    // The point's own deadline covers its run; calibration and start-up get a minute.
    let limit = job
        .scenario
        .deadline()
        .saturating_add(Duration::from_secs(60));
    let output = crate::bounded::output_within_stdin(&mut command, line, limit, what)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Child {
            what: what.to_string(),
            why: format!("failed: {}", stderr.trim()),
        });
    }
    Ok(output.stdout)
}

/// Decodes what a point printed as `T`.
pub fn decode<T: serde::de::DeserializeOwned>(printed: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(printed).map_err(|e| Error::Child {
        what: what.to_string(),
        why: format!("what it printed does not parse: {e}"),
    })
}
