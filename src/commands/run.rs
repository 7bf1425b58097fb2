//! `fanout run`: one strategy, one fresh server, one report.

use std::io::Write;

use super::progress::Progress;
use crate::cli::RunArgs;
use crate::error::Error;
use crate::pipeline::{run_fresh, run_target};
use crate::report::table;
use crate::summary::RunSummary;

/// Runs the scenario and prints its summary (a table, or JSON with `--json`).
pub fn run(args: &RunArgs) -> Result<(), Error> {
    let scenario = super::scenario(&args.scenario, args.strategy)?;
    let placement = super::placement(&args.scenario)?;
    let progress = Progress::start(args.strategy.name(), scenario.n, !args.scenario.json);
    let output = match scenario.target {
        Some(_) => run_target(&scenario, progress.completed.clone())?,
        None => run_fresh(&scenario, &placement, progress.completed.clone())?,
    };
    drop(progress);
    let summary = RunSummary::from_output(&output);
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
