//! `fanout run`: one strategy, one fresh server, one report; with `--out`, the run's
//! waterfall and timeline charts.

use std::io::Write;

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
    let progress = Progress::start(args.strategy.name(), scenario.n, !args.scenario.json);
    let output = match scenario.target {
        Some(_) => run_target(&scenario, progress.completed.clone())?,
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
    printed.map_err(|e| Error::io("writing the report", e))
}

/// Rows the waterfall draws: enough to see the first connections open and the reused
/// ones follow, few enough that every row stays readable.
const WATERFALL_ROWS: usize = 50;

/// Writes `waterfall.svg` and `timeline.svg` for one run into `dir`.
fn write_charts(dir: &std::path::Path, output: &crate::RunOutput) -> Result<(), Error> {
    let label = output.scenario.strategy.name();
    let rows = chart_data::waterfall_rows(output, WATERFALL_ROWS);
    let total = output.measurements.samples.len();
    let title = format!("{label}: where each request's time went");
    let waterfall = charts::waterfall(&title, &rows, total);
    let title = format!("{label}: requests over time");
    let timeline = charts::timeline(&title, &[chart_data::timeline_run(label, output)]);
    for (name, svg) in [("waterfall.svg", waterfall), ("timeline.svg", timeline)] {
        let svg = svg.map_err(|e| Error::Report(e.to_string()))?;
        out_dir::write(dir, name, svg)?;
    }
    Ok(())
}
