//! `fanout sweep`: each series (a strategy, or a strategy under a client setup) at
//! each swept value, a fresh server per point; a table (or JSON), and with `--out` a
//! report with its charts.

use std::io::Write;

use serde::Serialize;

use super::run_info::Stopwatch;
use crate::Scenario;
use crate::cli::{ServerPlacement, SweepArgs};
use crate::error::Error;
use crate::own_process::{self, PointJob};
use crate::pipeline::run_fresh;
use crate::report::sweep_report::{self, SweepSettings};
use crate::report::{charts, out_dir, table};
use crate::summary::RunSummary;
use crate::sweep::{self, Point, SweepOver};

#[derive(Serialize)]
struct SweepJson<'a> {
    over: SweepOver,
    knees: Vec<(String, Option<u64>)>,
    points: &'a [Point],
}

/// One point, run in this process (started by [`sweep()`] as `fanout point`): reads its
/// job (a `PointJob`) from stdin, runs it, prints its summary as JSON.
pub fn point() -> Result<(), Error> {
    let job: PointJob = crate::bounded::read_json_line("the point's job")?;
    // A Ctrl-C at the terminal reaches the point too: it stops gracefully and reports,
    // and the sweep, which saw the same Ctrl-C, runs no further point.
    crate::strategy::stop::install_ctrl_c();
    job.scenario.validate()?;
    let placement = super::placement_of(job.server)?;
    let output = run_fresh(&job.scenario, &placement, Default::default())?;
    let mut out = std::io::stdout().lock();
    let printed = match job.whole_output {
        true => serde_json::to_writer(&mut out, &output),
        false => serde_json::to_writer(&mut out, &RunSummary::from_output(&output)),
    };
    printed
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
        .map_err(|e| Error::io("writing the point", e))
}

/// Each series' name and base scenario, in the order they run: every strategy, under
/// every `--clients` setup when some are given. A series is named after its strategy,
/// its setup (when one strategy is swept under several setups), or both.
fn series_bases(args: &SweepArgs) -> Result<Vec<(String, Scenario)>, Error> {
    let mut bases = Vec::new();
    for strategy in &args.strategies {
        let base = super::scenario(&args.scenario, *strategy)?;
        if args.clients.is_empty() {
            bases.push((strategy.name().to_string(), base));
            continue;
        }
        for setup in &args.clients {
            let name = match args.strategies.len() {
                1 => setup.name(),
                _ => format!("{strategy} {}", setup.name()),
            };
            bases.push((name, setup.apply(&base)));
        }
    }
    Ok(bases)
}

/// Runs one point in a fresh `fanout point` process and reads its summary back.
fn run_point(
    scenario: &Scenario,
    server: ServerPlacement,
    over: SweepOver,
    value: u64,
) -> Result<RunSummary, Error> {
    let strategy = scenario.strategy;
    let exe = std::env::current_exe().map_err(|e| Error::io("finding the fanout executable", e))?;
    let job = PointJob {
        scenario: scenario.clone(),
        server,
        whole_output: false,
    };
    let what = format!("the sweep point {strategy} at {}={value}", over.name());
    let printed = own_process::run_point(&exe, &job, &[], &what)?;
    own_process::decode(&printed, &what)
}

/// Runs the sweep and reports it.
pub fn sweep(args: &SweepArgs) -> Result<(), Error> {
    if args.scenario.target.is_some() {
        return Err(Error::InvalidScenario(
            "sweep runs against the mock API only: its points would load a --target server far past --rate".to_string(),
        ));
    }
    if let Some(dir) = &args.out {
        out_dir::prepare(dir)?;
    }
    let (from, to) = args
        .range
        .map_or(args.over.default_range(), |r| (r.from, r.to));
    args.over
        .check_range(from, to)
        .map_err(Error::InvalidScenario)?;
    let values = args.over.points(from, to, args.points);
    let placement = super::placement(&args.scenario)?;
    let mut plan = Vec::new();
    for (series, base) in series_bases(args)? {
        for &value in &values {
            let scenario = sweep::at(&base, args.over, value);
            scenario.validate()?;
            crate::pipeline::ensure_descriptors(&scenario, &placement)?;
            plan.push((series.clone(), value, scenario));
        }
    }
    let over = args.over.name();
    crate::strategy::stop::install_ctrl_c();
    let stopwatch = Stopwatch::start();
    let mut points = Vec::with_capacity(plan.len());
    for (series, value, scenario) in plan {
        // Each point in a process of its own: memory a point freed stays resident in
        // the allocator, and would be counted against the next one.
        let summary = run_point(&scenario, args.scenario.server, args.over, value)?;
        let point = Point::new(series, value, &scenario, summary);
        if !args.scenario.json {
            eprintln!(
                "{:<18} {over}={value:<7} wall {:>8}  model {:>8}  promise {:>8}  efficiency {:.2}",
                point.series,
                table::human_ms(point.summary.wall_ms),
                table::human_ms(point.summary.predicted_ms),
                table::human_ms(point.promise_ms),
                point.efficiency_vs_promise
            );
        }
        points.push(point);
        if crate::strategy::stop::interrupted() {
            break;
        }
    }
    let total_s = stopwatch.took_s();
    let series = sweep_report::series(&points);
    let knees: Vec<(String, Option<u64>)> = series
        .iter()
        .map(|s| (s.label.clone(), s.knee.map(|k| k as u64)))
        .collect();
    if let Some(dir) = &args.out {
        let settings = SweepSettings {
            over: over.to_string(),
            profile: points
                .first()
                .map_or(String::new(), |p| p.summary.profile.clone()),
            run: stopwatch.info(total_s, command_line()),
        };
        write_report(dir, &points, &series, &settings)?;
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
        knees_text(&mut out, &points, &series, over, total_s)
    };
    printed.map_err(|e| Error::io("writing the report", e))?;
    super::interrupted_after_report()
}

fn knees_text(
    out: &mut impl Write,
    points: &[Point],
    series: &[charts::SweepSeries],
    over: &str,
    total_s: f64,
) -> std::io::Result<()> {
    writeln!(out, "\n{} points in {total_s:.1} s", points.len())?;
    for line in sweep_report::knees(points, series, over) {
        writeln!(out, "{}", line.replace("**", ""))?;
    }
    Ok(())
}

fn write_report(
    dir: &std::path::Path,
    points: &[Point],
    series: &[charts::SweepSeries],
    settings: &SweepSettings,
) -> Result<(), Error> {
    let title = format!("Sweep over {}: {}", settings.over, settings.profile);
    let svg = match settings.over.as_str() {
        "rtt" => charts::rtt_sweep(&title, series),
        "n" => charts::sweep(&title, "n, requests per run (log)", series),
        _ => charts::sweep(&title, "limit (log)", series),
    }
    .map_err(|e| Error::Report(e.to_string()))?;
    out_dir::write(dir, "sweep.svg", svg)?;
    let bars: Vec<_> = points
        .iter()
        .map(|p| {
            let label = format!("{} {}={}", p.series, settings.over, p.value);
            crate::report::chart_data::phase_bar(&label, &p.summary)
        })
        .collect();
    let title = "Where the last request's time went, per point";
    let svg = charts::phases(title, &bars).map_err(|e| Error::Report(e.to_string()))?;
    out_dir::write(dir, "phases.svg", svg)?;
    out_dir::write(
        dir,
        "README.md",
        sweep_report::markdown(points, series, settings),
    )
    .map(drop)
}

/// The command as typed, quoted for a shell, for the report's "regenerate with" line:
/// shown, never parsed again (the points get their scenario as data, see [`PointJob`]).
fn command_line() -> String {
    super::run_info::regenerate_command(std::env::args().skip(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::profile::Profile;
    use crate::strategy::Strategy;

    #[test]
    fn a_point_gets_the_scenario_it_was_sent() {
        let mut profile = Profile::single("lognormal:20ms..1.5s".parse().unwrap());
        profile.endpoints[0].fault.error_rate = 0.37;
        profile.limits.max_in_flight = Some(40);
        let mut scenario = Scenario::new(profile, 300, Strategy::AsyncRatelimited);
        scenario.client.rate = 12.5;
        scenario.client.timeout = Some(std::time::Duration::from_millis(750));
        scenario.deadline = Some(std::time::Duration::from_secs(90));
        let job = PointJob {
            scenario: scenario.clone(),
            server: ServerPlacement::InProcess,
            whole_output: false,
        };
        let line = serde_json::to_string(&job).unwrap();
        let back: PointJob = serde_json::from_str(&line).unwrap();
        assert_eq!(back.scenario, scenario);
        assert_eq!(back.server, ServerPlacement::InProcess);
    }
}
