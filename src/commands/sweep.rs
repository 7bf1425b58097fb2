//! `fanout sweep`: each strategy at each swept value, a fresh server per point; a
//! table (or JSON), and with `--out` a report with its chart.

use std::io::Write;

use serde::Serialize;

use super::run_info::Stopwatch;
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

/// Sweep-only options, each followed by its value, left out of a point's arguments.
const SWEEP_OPTIONS: [&str; 5] = ["--strategies", "--over", "--range", "--points", "--out"];

/// One point, run in this process (started by [`sweep()`] as `fanout point ...`); prints
/// its summary as JSON.
pub fn point(args: &crate::cli::PointArgs) -> Result<(), Error> {
    let base = super::scenario(&args.scenario, args.strategy)?;
    let scenario = sweep::at(&base, args.over, args.value);
    scenario.validate()?;
    let placement = super::placement(&args.scenario)?;
    let output = run_fresh(&scenario, &placement, Default::default())?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &RunSummary::from_output(&output))
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
        .map_err(|e| Error::io("writing the point", e))
}

/// The scenario flags this sweep was started with: its own arguments without the
/// subcommand and the sweep-only options.
fn scenario_flags() -> Vec<String> {
    let mut flags = Vec::new();
    let mut args = std::env::args().skip_while(|a| a != "sweep").skip(1);
    while let Some(arg) = args.next() {
        let name = arg.split('=').next().unwrap_or_default();
        if SWEEP_OPTIONS.contains(&name) {
            if !arg.contains('=') {
                args.next();
            }
        } else if arg != "--json" {
            flags.push(arg);
        }
    }
    flags
}

/// Runs one point in a fresh `fanout point` process and reads its summary back.
fn run_point(scenario: &crate::Scenario, over: SweepOver, value: u64) -> Result<RunSummary, Error> {
    let strategy = scenario.strategy;
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the fanout executable", e))?;
    let over_name = over.name();
    let mut command = std::process::Command::new(exe);
    command
        .arg("point")
        .args(scenario_flags())
        .args(["--strategy", strategy.name(), "--over", over_name])
        .args(["--value", &value.to_string(), "--json"]);
    // The point's own deadline covers its run; calibration and start-up get a minute.
    let limit = scenario.deadline() + std::time::Duration::from_secs(60);
    let what = format!("the sweep point {strategy} at {over_name}={value}");
    let output = crate::bounded::output_within(&mut command, limit, &what)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Server(format!(
            "the point {strategy} at {over_name}={value} failed: {}",
            stderr.trim()
        )));
    }
    serde_json::from_slice(&output.stdout)
        .map_err(|e| Error::Server(format!("reading the point {strategy} at {value}: {e}")))
}

/// Runs the sweep and reports it.
pub fn sweep(args: &SweepArgs) -> Result<(), Error> {
    if args.scenario.target.is_some() {
        return Err(Error::InvalidScenario(
            "sweep runs against the mock API only: its points would load a --target server far past --rate".to_string(),
        ));
    }
    if let Some(dir) = &args.out {
        crate::report::out_dir::prepare(dir)?;
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
    let over = args.over.name();
    let stopwatch = Stopwatch::start();
    let mut points = Vec::with_capacity(plan.len());
    for (value, scenario) in &plan {
        // Each point in a process of its own: memory a point freed stays resident in
        // the allocator, and would be counted against the next one.
        let summary = run_point(scenario, args.over, *value)?;
        let point = Point::new(*value, scenario, summary);
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
    let total_s = stopwatch.took_s();
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
            run: stopwatch.info(total_s, command_line()),
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
    let bars: Vec<_> = points
        .iter()
        .map(|p| {
            let label = format!("{} {}={}", p.summary.strategy, settings.over, p.value);
            crate::report::chart_data::phase_bar(&label, &p.summary)
        })
        .collect();
    let title = "Where the last request's time went, per point";
    let svg = charts::phases(title, &bars).map_err(|e| Error::Report(e.to_string()))?;
    let chart = dir.join("phases.svg");
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
