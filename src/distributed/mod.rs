//! `fanout distributed`: the scenario exported ([`crate::export`]) and run by a real
//! load engine split over processes, against `fanout serve`, and checked against the
//! server's ledger.
//!
//! This is how a fan-out goes past one machine without a home-made cluster: Locust's
//! master hands users to workers (one Python process, so one core, each), and k6 runs
//! one process per *execution segment* (a slice of every executor's work; k6-operator
//! runs its pods the same way). On this machine the "machines" are processes, and the
//! question is the same one fanout asks of its own strategies: did every request the
//! engine says it sent reach the server once, did the limit or the rate hold *at the
//! server*, and how close did the wall come to the model?
//!
//! The engine's own figures are not trusted for that: the mock API counts. Each
//! request carries its `seq`, so the ledger gives each one's arrival and answer; those
//! become the run's samples (the server's times, from the first arrival), and the
//! summary, its model and its server-side figures come out as for any run. The
//! engine's own counts (requests sent, failures) and each process's CPU time stand
//! beside them: the first is what the ledger checks, the second says whether the
//! engine kept up.
//!
//! Read next: [`engines`] for the command lines, [`processes`] for the deadline and
//! the CPU times, [`on_paper`] for what a fan-out past one machine would need.

pub mod engines;
pub mod on_paper;
pub mod processes;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::export::{self, LoadEngine, Plan};
use crate::measure::{Measurements, Outcome, Sample};
use crate::model::Calibration;
use crate::output::RunOutput;
use crate::scenario::Scenario;
use crate::server::ledger::{LedgerEntry, LedgerRecord};
use crate::server::{MockApi, Placement};
use engines::{EngineCounts, EngineTools};
use processes::Finished;

/// Time an engine gets beyond the scenario's deadline to start, spawn its users and
/// write its results before it is stopped.
const START_AND_REPORT: Duration = Duration::from_secs(60);

/// One engine's run, joined with the ledger.
#[derive(Debug, Clone)]
pub struct EngineRun {
    /// The engine.
    pub engine: LoadEngine,
    /// Its version line.
    pub version: String,
    /// Worker processes (Locust workers, k6 segments).
    pub workers: usize,
    /// What the engine says it did.
    pub counts: EngineCounts,
    /// Each process's exit code and CPU time.
    pub processes: Vec<Finished>,
    /// The run as fanout measures any: samples from the ledger, the scenario modelled.
    pub output: RunOutput,
    /// The script the engine ran.
    pub script: String,
}

/// How the ledger's entries add up against the scenario's n.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LedgerCheck {
    /// Requests (every attempt) the server received.
    pub received: u64,
    /// Request numbers in `0..n` the server saw at least once.
    pub distinct: u64,
    /// Request numbers never seen: lost, or never sent.
    pub missing: u64,
    /// Request numbers seen more often than their attempts explain (a request counted
    /// twice): with no retries, any second entry.
    pub duplicated: u64,
}

impl EngineRun {
    /// The ledger's count against the scenario.
    pub fn ledger_check(&self) -> LedgerCheck {
        check_ledger(
            &self.output.ledger,
            self.output.scenario.n,
            self.output.scenario.client.retries,
        )
    }

    /// CPU seconds of all the engine's processes.
    pub fn cpu_s(&self) -> f64 {
        self.processes.iter().map(|p| p.cpu_s).sum()
    }

    /// The busiest process's CPU as a share of one core over its own life.
    pub fn busiest_core_share(&self) -> f64 {
        self.processes
            .iter()
            .map(|p| p.cpu_s / p.wall_s.max(1e-6))
            .fold(0.0, f64::max)
    }
}

/// Runs `scenario` on `engine` with `workers` processes against a fresh `fanout serve`
/// (a child process of this one, started from the scenario's profile and seed). The
/// script, the engine's output and its logs go to `dir`.
pub fn run(
    tools: &EngineTools,
    engine: LoadEngine,
    workers: usize,
    scenario: &Scenario,
    fanout_exe: &Path,
    dir: &Path,
) -> Result<EngineRun, Error> {
    if workers == 0 {
        return Err(Error::InvalidScenario(
            "--workers must be at least 1".to_string(),
        ));
    }
    // Refused before any server starts; the real URL goes in once the server is up.
    let plan = export::plan(scenario, engine, "http://127.0.0.1:8080")?;
    check_workers(&plan, workers)?;

    let program = tools.program(engine).ok_or_else(|| Error::EngineMissing {
        engine: engine.name().to_string(),
        why: "its program is not in the engines' environment".to_string(),
        how: format!("install it with `bash {}`", engines::SET_UP),
    })?;
    let placement = Placement::Child {
        fanout_exe: fanout_exe.to_path_buf(),
    };
    crate::pipeline::ensure_descriptors(scenario, &placement)?;
    let mut server = MockApi::start(&scenario.server_config(), &placement)?;
    let url = server.url().to_string();
    // The plan does not depend on the URL: only the script's fallback does.
    let plan = Plan {
        default_url: url.clone(),
        ..plan
    };
    let script = export::render(&plan);
    let script_path = dir.join(engine.file_name());
    std::fs::write(&script_path, &script)
        .map_err(|e| Error::io(format!("writing {}", script_path.display()), e))?;
    let started = match engine {
        LoadEngine::Locust => {
            engines::start_locust(&program, &plan, &script_path, &url, workers, dir)?
        }
        LoadEngine::K6 => engines::start_k6(&program, &script_path, &url, workers, dir)?,
    };
    let what = format!("{} with {workers} workers", engine.name());
    let finished = processes::wait_all(started, plan.deadline + START_AND_REPORT, &what)?;
    if let Some(failed) = finished.iter().find(|p| p.exit_code != Some(0)) {
        return Err(Error::Child {
            what: failed.role.clone(),
            why: format!(
                "exited with {}: {}",
                failed
                    .exit_code
                    .map_or("a signal".to_string(), |c| format!("code {c}")),
                failed.log_tail()
            ),
        });
    }
    let counts = match engine {
        LoadEngine::Locust => engines::locust_counts(dir)?,
        LoadEngine::K6 => engines::k6_counts(dir, workers)?,
    };
    // Abandoned requests are recorded when the server notices the closed connection.
    std::thread::sleep(Duration::from_millis(50));
    let ledger = server.ledger()?;
    drop(server);
    Ok(EngineRun {
        engine,
        version: tools.version(engine),
        workers,
        counts,
        processes: finished,
        output: joined(scenario, &plan, ledger, &placement),
        script,
    })
}

/// Refuses a Locust run with fewer users than workers: each worker makes its share
/// with the users the master gives it, and a worker given none would never make it.
pub fn check_workers(plan: &Plan, workers: usize) -> Result<(), Error> {
    if workers == 0 {
        return Err(Error::InvalidScenario(
            "--workers must be at least 1".to_string(),
        ));
    }
    if let (LoadEngine::Locust, export::Pace::Loops { users } | export::Pace::Paced { users, .. }) =
        (plan.engine, plan.pace)
        && users < workers as u64
    {
        return Err(Error::InvalidScenario(format!(
            "--workers {workers} is more than the {users} Locust users of {}: a worker with no user would never make its share",
            plan.strategy.name()
        )));
    }
    Ok(())
}

/// The engine's run as fanout's: one sample per request number, from the ledger.
fn joined(
    scenario: &Scenario,
    plan: &Plan,
    ledger: LedgerRecord,
    placement: &Placement,
) -> RunOutput {
    let started = ledger.first_arrival_us();
    let samples = samples_by_seq(&ledger, scenario.n, started);
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    let measurements = Measurements::new(samples, wall, started);
    let mut modelled = scenario.clone();
    if let export::Pace::Loops { users } = plan.pace {
        // The engine's users are the schedule's limit (a thread pool of k is k loops).
        modelled.client.limit = usize::try_from(users).unwrap_or(usize::MAX);
        modelled.client.threads = modelled.client.limit;
    }
    RunOutput {
        scenario: modelled,
        measurements,
        ledger,
        placement: placement.kind(),
        calibration: Calibration::default(),
        footprint: None,
    }
}

/// One sample per request number in `0..n`: from its first arrival to its last
/// answer at the server, its outcome the last attempt's status. A number the server
/// never saw ends `cancelled` with no attempt, at the run's end.
pub fn samples_by_seq(ledger: &LedgerRecord, n: u64, started_us: u64) -> Vec<Sample> {
    let mut by_seq: BTreeMap<u64, Vec<&LedgerEntry>> = BTreeMap::new();
    for entry in &ledger.entries {
        if let Some(seq) = entry.seq.filter(|&s| s < n) {
            by_seq.entry(seq).or_default().push(entry);
        }
    }
    let since = |us: u64| Duration::from_micros(us.saturating_sub(started_us));
    let end = ledger
        .entries
        .iter()
        .map(|e| e.finish_us)
        .max()
        .map_or(Duration::ZERO, since);
    (0..n)
        .map(|seq| match by_seq.get(&seq) {
            Some(entries) => {
                let last = entries
                    .iter()
                    .max_by_key(|e| e.arrival_us)
                    .expect("never empty");
                Sample {
                    seq,
                    endpoint: last.endpoint.unwrap_or(0),
                    start: since(entries.iter().map(|e| e.arrival_us).min().unwrap_or(0)),
                    end: since(entries.iter().map(|e| e.finish_us).max().unwrap_or(0)),
                    outcome: last.status.map_or(Outcome::Dropped, Outcome::from_status),
                    status: last.status,
                    bytes: 0,
                    attempts: entries.len() as u32,
                    intended: None,
                    copies: 0,
                }
            }
            None => Sample::cancelled(seq, 0, None, end),
        })
        .collect()
}

/// Counts the ledger's entries against `0..n`.
pub fn check_ledger(ledger: &LedgerRecord, n: u64, retries: u32) -> LedgerCheck {
    let mut per_seq: BTreeMap<u64, u64> = BTreeMap::new();
    for seq in ledger
        .entries
        .iter()
        .filter_map(|e| e.seq)
        .filter(|&s| s < n)
    {
        *per_seq.entry(seq).or_default() += 1;
    }
    let allowed = u64::from(retries) + 1;
    LedgerCheck {
        received: ledger.entries.len() as u64,
        distinct: per_seq.len() as u64,
        missing: n - per_seq.len() as u64,
        duplicated: per_seq.values().filter(|&&c| c > allowed).count() as u64,
    }
}

#[cfg(test)]
mod tests;
