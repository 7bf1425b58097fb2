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
    /// The busiest client process's CPU, as a share of one core.
    busiest_core_share: Option<f64>,
    /// The run's summary: wall, model, efficiency, latency at the server, and the
    /// server's figures (peak in flight, connections, busiest second).
    summary: RunSummary,
}

/// The JSON `--json` prints.
#[derive(Debug, Serialize)]
struct Report {
    engine: export::LoadEngine,
    workers: usize,
    strategy: &'static str,
    n: u64,
    rows: Vec<Row>,
    /// The engine's wall over the model of fanout's own run (calibrated with fanout's
    /// overheads), when it ran.
    engine_wall_over_fanout_model: Option<f64>,
}

/// Runs the engine (and fanout's own strategy, unless `--engine-only`) and reports.
pub fn distributed(args: &DistributedArgs) -> Result<(), Error> {
    let scenario = super::scenario(&args.scenario, args.strategy)?;
    if scenario.target.is_some() {
        return Err(Error::InvalidScenario(
            "distributed runs against fanout serve, whose ledger checks the engine; export the scenario to run it on a target".to_string(),
        ));
    }
    // Refused before anything is installed or started.
    export::plan(&scenario, args.load_engine, "http://127.0.0.1:8080")?;
    let root = super::peers::repository_root();
    let tools = EngineTools::set_up(&root, args.load_engine)?;
    let fanout_exe =
        std::env::current_exe().map_err(|e| Error::io("finding the fanout executable", e))?;
    let kept = args.out.clone();
    let temporary = tempfile::Builder::new()
        .prefix("fanout-distributed-")
        .tempdir()
        .map_err(|e| Error::io("creating a working directory", e))?;
    let dir: PathBuf = match &kept {
        Some(out) => {
            std::fs::create_dir_all(out).map_err(|e| Error::OutputDir {
                path: out.clone(),
                why: e.to_string(),
            })?;
            out.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    eprintln!(
        "{} with {} workers: {} requests ({}) against fanout serve ...",
        args.load_engine.name(),
        args.processes,
        scenario.n,
        scenario.strategy.name()
    );
    let engine_run = distributed::run(
        &tools,
        args.load_engine,
        args.processes,
        &scenario,
        &fanout_exe,
        &dir,
    )?;
    let mut rows = vec![engine_row(&engine_run)];
    if !args.engine_only {
        eprintln!(
            "fanout {} on the same scenario ...",
            scenario.strategy.name()
        );
        let placement = super::placement(&args.scenario)?;
        let cpu_before = own_cpu_s();
        let output =
            crate::pipeline::run_fresh(&scenario, &placement, Arc::new(AtomicU64::new(0)))?;
        rows.push(fanout_row(&output, own_cpu_s() - cpu_before));
    }
    let engine_wall_over_fanout_model = rows
        .get(1)
        .map(|fanout| rows[0].summary.wall_ms / fanout.summary.predicted_ms.max(1e-9));
    let report = Report {
        engine: args.load_engine,
        workers: args.processes,
        strategy: scenario.strategy.name(),
        n: scenario.n,
        rows,
        engine_wall_over_fanout_model,
    };
    let table = table(&report, &engine_run);
    if args.scenario.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("a report always serialises")
        );
    } else {
        print!("{table}");
    }
    if let Some(out) = &kept {
        write_readme(out, &report, &table, &command_line())?;
        eprintln!("wrote {}", out.join("README.md").display());
    }
    Ok(())
}

fn engine_row(run: &EngineRun) -> Row {
    Row {
        label: format!("{}, {} workers", run.engine.name(), run.workers),
        client: run.version.clone(),
        sent: run.counts.sent,
        failed: run.counts.failed,
        ledger: run.ledger_check(),
        cpu_s: run.cpu_s(),
        busiest_core_share: Some(run.busiest_core_share()),
        summary: RunSummary::from_output(&run.output),
    }
}

fn fanout_row(output: &RunOutput, cpu_s: f64) -> Row {
    let samples = &output.measurements.samples;
    let scenario = &output.scenario;
    Row {
        label: format!("fanout {}", scenario.strategy.name()),
        client: format!("fanout {}", env!("CARGO_PKG_VERSION")),
        sent: samples.iter().map(|s| u64::from(s.attempts)).sum(),
        failed: samples
            .iter()
            .filter(|s| s.outcome != crate::measure::Outcome::Ok)
            .count() as u64,
        ledger: distributed::check_ledger(&output.ledger, scenario.n, scenario.client.retries),
        cpu_s,
        busiest_core_share: None,
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

/// This process's CPU time so far, user plus system, in seconds.
fn own_cpu_s() -> f64 {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct, and
    // getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The table, with the engine's processes under it.
fn table(report: &Report, engine: &EngineRun) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:>7} {:>8} {:>7} {:>5} {:>6} {:>6} {:>7} {:>9} {:>9} {:>6} {:>7}",
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
        "w/m",
        "cpu s"
    );
    for row in &report.rows {
        let s = &row.summary;
        let _ = writeln!(
            out,
            "{:<26} {:>7} {:>8} {:>7} {:>5} {:>6} {:>6} {:>7} {:>9} {:>9} {:>6} {:>7.2}",
            row.label,
            row.sent,
            row.ledger.received,
            row.ledger.missing,
            row.ledger.duplicated,
            s.server.peak_in_flight,
            crate::server::engine::count_or_short(s.server.connections),
            s.server.max_per_second,
            crate::duration::ms(s.wall_ms),
            crate::duration::ms(s.predicted_ms),
            s.efficiency
                .map_or("n/a".to_string(), |e| format!("{:.2}", 1.0 / e)),
            row.cpu_s,
        );
    }
    let lost = report.rows[0].sent as i64 - report.rows[0].ledger.received as i64;
    let _ = writeln!(
        out,
        "{}: sent {} and the server received {} ({}); {} failed by its own count",
        report.rows[0].label,
        report.rows[0].sent,
        report.rows[0].ledger.received,
        match lost {
            0 => "none lost".to_string(),
            l if l > 0 => format!("{l} lost on the way"),
            l => format!("{} more than it counted", -l),
        },
        report.rows[0].failed
    );
    if let (Some(ratio), Some(fanout)) = (report.engine_wall_over_fanout_model, report.rows.get(1))
    {
        let _ = writeln!(
            out,
            "{}: wall {}, {ratio:.2} x the model of {} ({}), whose own wall was {}",
            report.rows[0].label,
            crate::duration::ms(report.rows[0].summary.wall_ms),
            fanout.label,
            crate::duration::ms(fanout.summary.predicted_ms),
            crate::duration::ms(fanout.summary.wall_ms),
        );
    }
    for p in &engine.processes {
        let _ = writeln!(
            out,
            "  {:<18} cpu {:>6.2} s over {:>6.2} s ({:.0} % of a core)",
            p.role,
            p.cpu_s,
            p.wall_s,
            100.0 * p.cpu_s / p.wall_s.max(1e-6)
        );
    }
    out
}

fn write_readme(out: &Path, report: &Report, table: &str, command: &str) -> Result<(), Error> {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "# {} with {} workers against fanout serve\n\nMade by `fanout distributed {command}`. The engine's script is `{}`; each process's output is in its `.log`.\n",
        report.engine.name(),
        report.workers,
        report.engine.file_name()
    );
    let _ = writeln!(
        text,
        "Columns: what the client says it sent; what the server's ledger received, the request numbers it never saw and the ones it saw twice; the most requests the server held at once, the connections it accepted, the most arrivals in one second; the wall from the first arrival to the last answer at the server, the model's, their ratio; the client's CPU seconds.\n\n```\n{table}```"
    );
    let path = out.join("README.md");
    std::fs::write(&path, text).map_err(|e| Error::io(format!("writing {}", path.display()), e))
}
