//! `fanout run`: one strategy, one fresh server, one report; with `--out`, the run's
//! waterfall and timeline charts.

use std::io::Write;
use std::path::Path;

use super::progress::Progress;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::pipeline::{run_fresh, run_target};
use crate::report::{chart_data, charts, out_dir, table};
use crate::summary::RunSummary;

/// Runs the scenario and prints its summary (a table, or JSON with `--json`).
pub fn run(args: &RunArgs) -> Result<(), Error> {
    let scenario = super::scenario(&args.scenario, args.strategy)?;
    if let Some(dir) = &args.out {
        out_dir::prepare(dir)?;
    }
    let placement = super::placement(&args.scenario)?;
    crate::strategy::stop::install_ctrl_c();
    let progress = Progress::start(args.strategy.name(), scenario.n, !args.scenario.json);
    let output = match scenario.target {
        Some(_) => run_target(&scenario, &placement, progress.completed.clone())?,
        None => run_fresh(&scenario, &placement, progress.completed.clone())?,
    };
    drop(progress);
    let summary = RunSummary::from_output(&output);
    if let Some(dir) = &args.out {
        write_charts(dir, &output)?;
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.scenario.json {
        serde_json::to_writer(&mut out, &summary)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        table::write_run(&mut out, &summary)
    };
    printed.map_err(|e| Error::io("writing the report", e))?;
    super::interrupted_after_report()
}

/// Writes `waterfall.svg` and `timeline.svg` for one run into `dir`.
fn write_charts(dir: &Path, output: &crate::RunOutput) -> Result<(), Error> {
    let label = output.scenario.strategy.name();
    write_waterfall(dir, "waterfall.svg", output)?;
    let title = format!("{label}: requests over time");
    let timeline = charts::timeline(&title, &[chart_data::timeline_run(label, output)]);
    let timeline = timeline.map_err(|e| Error::Report(e.to_string()))?;
    out_dir::write(dir, "timeline.svg", timeline)?;
    let title = format!("{label}: bodies queued in the channel");
    if let Some(queue) = chart_data::queue_chart(&title, &[(label.to_string(), output)]) {
        let queue = queue.map_err(|e| Error::Report(e.to_string()))?;
        out_dir::write(dir, "queue.svg", queue)?;
    }
    Ok(())
}

/// Writes one run's waterfall (its first [`chart_data::WATERFALL_ROWS`] requests) to
/// `dir/name`, or says on stderr why there is none: a run whose server kept no ledger
/// to join (a `--target`, wiremock) would draw only guesses.
pub(super) fn write_waterfall(
    dir: &Path,
    name: &str,
    output: &crate::RunOutput,
) -> Result<(), Error> {
    let label = output.scenario.strategy.name();
    if let Some(why) = chart_data::why_no_waterfall(output) {
        eprintln!("{label}: no {name}: {why}");
        return Ok(());
    }
    let group = chart_data::waterfall_group(label, output, chart_data::WATERFALL_ROWS);
    let title = format!("{label}: where each request's time went");
    let svg = charts::waterfall(&title, &[group]).map_err(|e| Error::Report(e.to_string()))?;
    out_dir::write(dir, name, svg).map(drop)
}
