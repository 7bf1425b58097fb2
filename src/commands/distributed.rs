//! `fanout distributed`: one scenario on a load engine's worker processes and on
//! fanout's own strategy, each against a fresh `fanout serve`, in one table
//! ([`crate::distributed`] runs the engine; this file prints and writes the report).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::cli::DistributedArgs;
use crate::distributed::engines::EngineTools;
use crate::distributed::processes::Finished;
use crate::distributed::{self, EngineRun, LedgerCheck};
use crate::error::Error;
use crate::export;
use crate::output::RunOutput;
use crate::summary::RunSummary;

/// One row of the table: an engine's run or fanout's own.
#[derive(Debug, Serialize)]
struct Row {
    /// `locust, 2 workers`, `fanout async-semaphore`.
    label: String,
    /// The client and its version.
    client: String,
    /// Requests the client says it sent (every attempt).
    sent: u64,
    /// Of those, the ones it counted as failed.
    failed: u64,
    /// The ledger's count against n.
    ledger: LedgerCheck,
    /// CPU seconds of the client's processes (fanout's: the whole process, with its
    /// calibration probes).
    cpu_s: f64,
    /// An engine's processes: each one's exit code, CPU and wall time.
    processes: Vec<Finished>,
    /// The run's wall over the model of fanout's own run (calibrated with fanout's
    /// overheads), when fanout ran.
    wall_over_fanout_model: Option<f64>,
    /// The run's summary: wall, model, efficiency, latency at the server, and the
    /// server's figures (peak in flight, connections, busiest second).
    summary: RunSummary,
}

/// The JSON `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    workers: usize,
    strategy: &'static str,
    n: u64,
    rows: Vec<Row>,
}

/// Runs each engine, then fanout's own strategy (unless `--engine-only`), each on a
/// fresh mock API, and reports them in one table.
pub fn distributed(args: &DistributedArgs) -> Result<(), Error> {
    let scenario = super::scenario(&args.scenario, args.strategy)?;
    if scenario.target.is_some() {
        return Err(Error::InvalidScenario(
            "distributed runs against fanout serve, whose ledger checks the engine; export the scenario to run it on a target".to_string(),
        ));
    }
    // Refused before anything is installed or started.
    for &engine in &args.load_engines {
        let plan = export::plan(&scenario, engine, "http://127.0.0.1:8080")?;
        distributed::check_workers(&plan, args.processes)?;
    }
    let root = super::peers::repository_root();
    let fanout_exe =
        std::env::current_exe().map_err(|e| Error::io("finding the fanout executable", e))?;
    let temporary = tempfile::Builder::new()
        .prefix("fanout-distributed-")
        .tempdir()
        .map_err(|e| Error::io("creating a working directory", e))?;
    let dir: PathBuf = match &args.out {
        Some(out) => {
            crate::report::out_dir::prepare(out)?;
            out.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    let mut rows = Vec::new();
    for &engine in &args.load_engines {
        let tools = EngineTools::set_up(&root, engine)?;
        eprintln!(
            "{} with {} workers: {} requests ({}) against fanout serve ...",
            engine.name(),
            args.processes,
            scenario.n,
            scenario.strategy.name()
        );
        let run = distributed::run(&tools, engine, args.processes, &scenario, &fanout_exe, &dir)?;
        rows.push(engine_row(run));
    }
    if !args.engine_only {
        eprintln!(
            "fanout {} on the same scenario ...",
            scenario.strategy.name()
        );
        let placement = super::placement(&args.scenario)?;
        let cpu_before = distributed::processes::own_cpu_s();
        let output =
            crate::pipeline::run_fresh(&scenario, &placement, Arc::new(AtomicU64::new(0)))?;
        let mut fanout = fanout_row(&output, distributed::processes::own_cpu_s() - cpu_before);
        let model_ms = fanout.summary.predicted_ms.max(1e-9);
        for row in rows.iter_mut().chain(std::iter::once(&mut fanout)) {
            row.wall_over_fanout_model = Some(row.summary.wall_ms / model_ms);
        }
        rows.push(fanout);
    }
    let report = Report {
        workers: args.processes,
        strategy: scenario.strategy.name(),
        n: scenario.n,
        rows,
    };
    let table = table(&report);
    if args.scenario.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report always serialises")
        );
    } else {
        print!("{table}");
    }
    if let Some(out) = &args.out {
        write_readme(out, &args.load_engines, &report, &table, &command_line())?;
        eprintln!("wrote {}", out.join("README.md").display());
    }
    Ok(())
}

fn engine_row(run: EngineRun) -> Row {
    Row {
        label: format!("{}, {} workers", run.engine.name(), run.workers),
        client: run.version.clone(),
        sent: run.counts.sent,
        failed: run.counts.failed,
        ledger: run.ledger_check(),
        cpu_s: run.cpu_s(),
        wall_over_fanout_model: None,
        summary: RunSummary::from_output(&run.output),
        processes: run.processes,
    }
}

fn fanout_row(output: &RunOutput, cpu_s: f64) -> Row {
    let samples = &output.measurements.samples;
    let scenario = &output.scenario;
    Row {
        label: format!("fanout {}", scenario.strategy.name()),
        client: format!("fanout {}", env!("CARGO_PKG_VERSION")),
        sent: samples.iter().map(|s| u64::from(s.attempts)).sum(),
        // Failed attempts, as the engines count them: every attempt but the ones that
        // ended a request well.
        failed: samples.iter().map(|s| u64::from(s.attempts)).sum::<u64>()
            - samples
                .iter()
                .filter(|s| s.outcome == crate::measure::Outcome::Ok)
                .count() as u64,
        ledger: distributed::check_ledger(&output.ledger, scenario.n, scenario.client.retries),
        cpu_s,
        processes: Vec::new(),
        wall_over_fanout_model: None,
        summary: RunSummary::from_output(output),
    }
}

/// The command's own arguments, each redacted, for the report.
fn command_line() -> String {
    std::env::args()
        .skip(2)
        .map(|a| crate::redact::url(&a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The table, then a line per engine: what it sent against what arrived, and its
/// processes' CPU.
fn table(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>7} {:>8} {:>7} {:>5} {:>6} {:>6} {:>7} {:>9} {:>9} {:>7} {:>7}",
        "client",
        "sent",
        "received",
        "missing",
        "dup",
        "peak",
        "conns",
        "max/s",
        "wall",
        "model",
        "w/model",
        "cpu s"
    );
    let fanout_model_ms = report
        .rows
        .iter()
        .find(|r| r.processes.is_empty())
        .map(|r| r.summary.predicted_ms);
    for row in &report.rows {
        let s = &row.summary;
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>8} {:>7} {:>5} {:>6} {:>6} {:>7} {:>9} {:>9} {:>7} {:>7.2}",
            row.label,
            row.sent,
            row.ledger.received,
            row.ledger.missing,
            row.ledger.duplicated,
            s.server.peak_in_flight,
            crate::server::engine::count_or_short(s.server.connections),
            s.server.max_per_second,
            crate::duration::ms(s.wall_ms),
            crate::duration::ms(fanout_model_ms.unwrap_or(s.predicted_ms)),
            row.wall_over_fanout_model
                .or_else(|| s.efficiency.map(|e| 1.0 / e))
                .map_or("n/a".to_string(), |r| format!("{r:.2}")),
            row.cpu_s,
        );
    }
    if let Some(fanout) = report.rows.iter().find(|r| r.processes.is_empty()) {
        let _ = writeln!(
            out,
            "model: fanout {}'s for every row, {} (its schedule with fanout's own measured overheads); w/model is each wall over it",
            report.strategy,
            crate::duration::ms(fanout.summary.predicted_ms)
        );
    }
    for row in report.rows.iter().filter(|r| !r.processes.is_empty()) {
        let lost = row.sent as i64 - row.ledger.received as i64;
        let _ = writeln!(
            out,
            "{} ({}): sent {}, the server received {} ({}); {} failed by its own count",
            row.label,
            row.client,
            row.sent,
            row.ledger.received,
            match lost {
                0 => "none lost".to_string(),
                l if l > 0 => format!("{l} lost on the way"),
                l => format!("{} more than it counted", -l),
            },
            row.failed
        );
        // Over the process's whole life, start-up included (a Python worker spends
        // most of a second importing Locust and gevent before its first request).
        for p in &row.processes {
            let _ = writeln!(
                out,
                "  {:<18} cpu {:>6.2} s in its life of {:>6.2} s ({:.0} % of a core, start-up included)",
                p.role,
                p.cpu_s,
                p.wall_s,
                100.0 * p.cpu_s / p.wall_s.max(1e-6)
            );
        }
    }
    out
}

fn write_readme(
    out: &Path,
    engines: &[export::LoadEngine],
    report: &Report,
    table: &str,
    command: &str,
) -> Result<(), Error> {
    let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let scripts: Vec<String> = engines
        .iter()
        .map(|e| format!("`{}`", e.file_name()))
        .collect();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# {} with {} workers against fanout serve\n\nMade by `fanout distributed {command}`. The engines' scripts: {}; each process's output is in its `.log`.\n",
        names.join(" and "),
        report.workers,
        scripts.join(", ")
    );
    let _ = writeln!(
        text,
        "Columns: what the client says it sent; what the server's ledger received, the request numbers it never saw and the ones it saw twice; the most requests the server held at once, the connections it accepted, the most arrivals in one second; the wall from the first arrival to the last answer at the server, the model's, their ratio; the client's CPU seconds.\n\n```\n{table}```"
    );
    let path = out.join("README.md");
    std::fs::write(&path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
