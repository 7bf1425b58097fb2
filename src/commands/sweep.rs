//! `fanout sweep`: each strategy at each swept value, a fresh server per point; a
//! table (or JSON), and with `--out` a report with its chart.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;

use crate::cli::{SweepArgs, SweepOver};
use crate::error::Error;
use crate::report::sweep_report::{self, SweepSettings};
use crate::report::{charts, table};
use crate::run::run_fresh;
use crate::summary::RunSummary;
use crate::sweep::{self, Point};

#[derive(Serialize)]
struct SweepJson<'a> {
    over: SweepOver,
    knees: Vec<(String, Option<u64>)>,
    points: &'a [Point],
}

/// Runs the sweep and reports it.
pub fn sweep(args: &SweepArgs) -> Result<(), Error> {
    if args.scenario.target.is_some() {
        return Err(Error::InvalidScenario(
            "sweep runs against the mock API only: its points would load a --target server far past --rate".to_string(),
        ));
    }
    let values = sweep::log_points(args.range.from, args.range.to, args.points);
    let placement = super::placement(&args.scenario)?;
    let mut plan = Vec::new();
    for strategy in &args.strategies {
        let base = super::scenario(&args.scenario, *strategy)?;
        for &value in &values {
            let scenario = sweep::at(&base, args.over, value);
            scenario.validate()?;
            crate::run::ensure_descriptors(&scenario, &placement)?;
            plan.push((value, scenario));
        }
    }
    let over = match args.over {
        SweepOver::N => "n",
        SweepOver::Limit => "limit",
    };
    let started = Instant::now();
    let mut points = Vec::with_capacity(plan.len());
    for (value, scenario) in &plan {
        let output = run_fresh(scenario, &placement, Default::default())?;
        let point = Point::new(*value, scenario, RunSummary::from_output(&output));
        if !args.scenario.json {
            eprintln!(
                "{:<18} {over}={value:<7} wall {:>8}  promise {:>8}  efficiency {:.2}",
                scenario.strategy.name(),
                table::human_ms(point.summary.wall_ms),
                table::human_ms(point.promise_ms),
                point.efficiency_vs_promise
            );
        }
        points.push(point);
    }
    let total_s = started.elapsed().as_secs_f64();
    let knees: Vec<(String, Option<u64>)> = sweep_report::series(&points)
        .into_iter()
        .map(|s| (s.label, s.knee.map(|k| k as u64)))
        .collect();
    if let Some(dir) = &args.out {
        let settings = SweepSettings {
            over: over.to_string(),
            profile: points
                .first()
                .map_or(String::new(), |p| p.summary.profile.clone()),
            machine: super::claims::machine(),
            date: super::claims::utc_now(),
            total_s,
            command: command_line(),
        };
        write_report(dir, &points, &settings)?;
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.scenario.json {
        let json = SweepJson {
            over: args.over,
            knees,
            points: &points,
        };
        serde_json::to_writer(&mut out, &json)
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        knees_text(&mut out, &points, over, total_s)
    };
    printed.map_err(|e| Error::io("writing the report", e))
}

fn knees_text(
    out: &mut impl Write,
    points: &[Point],
    over: &str,
    total_s: f64,
) -> std::io::Result<()> {
    writeln!(out, "\n{} points in {total_s:.1} s", points.len())?;
    for line in sweep_report::knees(points, over) {
        writeln!(out, "{}", line.replace("**", ""))?;
    }
    Ok(())
}

fn write_report(
    dir: &std::path::Path,
    points: &[Point],
    settings: &SweepSettings,
) -> Result<(), Error> {
    let x_desc = match settings.over.as_str() {
        "n" => "n, requests per run (log)",
        _ => "limit (log)",
    };
    let title = format!("Sweep over {}: {}", settings.over, settings.profile);
    let svg = charts::sweep(&title, x_desc, &sweep_report::series(points))
        .map_err(|e| Error::Report(e.to_string()))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    let chart = dir.join("sweep.svg");
    std::fs::write(&chart, svg)
        .map_err(|e| Error::io(format!("writing {}", chart.display()), e))?;
    let readme = dir.join("README.md");
    std::fs::write(&readme, sweep_report::markdown(points, settings))
        .map_err(|e| Error::io(format!("writing {}", readme.display()), e))
}

/// The command as typed, for the report's "regenerate with" line.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -- {}", args.join(" "))
}
