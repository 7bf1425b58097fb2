//! `fanout compare`: the same scenario under several strategies, a fresh server for
//! each, one table (or `{"runs": [...]}` with `--json`); with `--out`, a waterfall per
//! strategy (`waterfall-STRATEGY.svg`, each on its own time axis, since a sequential
//! run takes n times a concurrent one) and one timeline of them all.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::progress::Progress;
use crate::cli::CompareArgs;
use crate::error::Error;
use crate::output::RunOutput;
use crate::pipeline::{run_fresh, run_target};
use crate::report::{chart_data, charts, out_dir, table};
use crate::summary::RunSummary;

#[derive(Serialize)]
struct Runs<'a> {
    runs: &'a [RunSummary],
}

/// Runs each strategy in turn and prints them side by side.
pub fn compare(args: &CompareArgs) -> Result<(), Error> {
    let scenarios = args
        .strategies
        .iter()
        .map(|strategy| super::scenario(&args.scenario, *strategy))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(dir) = &args.out {
        out_dir::prepare(dir)?;
    }
    let placement = super::placement(&args.scenario)?;
    // Check every scenario's descriptor needs before the first request goes out.
    for scenario in &scenarios {
        crate::pipeline::ensure_descriptors(scenario, &placement)?;
    }
    if scenarios.iter().any(|s| s.target.is_some()) {
        eprintln!(
            "against --target: {} requests per strategy, paced to {} per second",
            args.scenario.n,
            scenarios[0].client.pace.unwrap_or_default()
        );
    }
    crate::strategy::stop::install_ctrl_c();
    let mut summaries = Vec::with_capacity(scenarios.len());
    let mut outputs = Vec::with_capacity(scenarios.len());
    for scenario in &scenarios {
        let progress = Progress::start(scenario.strategy.name(), scenario.n, !args.scenario.json);
        let output = match scenario.target {
            Some(_) => run_target(scenario, &placement, progress.completed.clone())?,
            None => run_fresh(scenario, &placement, progress.completed.clone())?,
        };
        drop(progress);
        summaries.push(RunSummary::from_output(&output));
        outputs.push(output);
        // After Ctrl-C, the strategies not yet run are left out of the report.
        if crate::strategy::stop::interrupted() {
            break;
        }
    }
    if let Some(dir) = &args.out {
        write_charts(dir, &outputs)?;
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.scenario.json {
        serde_json::to_writer(&mut out, &Runs { runs: &summaries })
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        table::write_compare(&mut out, &summaries)
    };
    printed.map_err(|e| Error::io("writing the report", e))?;
    super::interrupted_after_report()
}

/// Writes each strategy's waterfall and the timeline of them all into `dir`.
fn write_charts(dir: &Path, outputs: &[RunOutput]) -> Result<(), Error> {
    for output in outputs {
        let name = format!("waterfall-{}.svg", output.scenario.strategy.name());
        super::run::write_waterfall(dir, &name, output)?;
    }
    let lanes: Vec<_> = outputs
        .iter()
        .map(|o| chart_data::timeline_run(o.scenario.strategy.name(), o))
        .collect();
    let svg = charts::timeline("Requests over time, per strategy", &lanes)
        .map_err(|e| Error::Report(e.to_string()))?;
    out_dir::write(dir, "timeline.svg", svg).map(drop)
}
