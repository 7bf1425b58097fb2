//! Chapter 10: reading the reports. Regenerates the claims report for two quick claims
//! into a temporary directory, with the same library calls `fanout claims` makes, then
//! reads back what it wrote: the verdict row, the figures behind it (measured against
//! the model, the client's view against the server's ledger) and the chart files.
//!
//! - D1-first3: three calls, one slow; a speed claim (timeline, latency percentiles and
//!   a bar in the speedup chart);
//! - D0-sem5: ten calls behind a semaphore of five; a limit claim (timeline and the
//!   server's in-flight count against the limit).
//!
//! ```sh
//! cargo run --release --example ch10_reading_the_reports            # all steps
//! cargo run --release --example ch10_reading_the_reports -- --step  # pause between steps
//! ```
//!
//! The command-line equivalent is
//! `cargo run --release -- claims --only D1-first3,D0-sem5 --out DIR`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use fanout::claims::catalogue::catalogue;
use fanout::claims::{Claim, ClaimResult, Context, evaluate};
use fanout::report::claims_report::{self, ChartFile, ReportSettings};
use fanout::report::run_info::RunInfo;
use fanout::walkthrough::Steps;
use fanout::{Placement, RunSummary, Strategy};

/// The claims to regenerate: both run in well under a second at time scale 0.1.
const CLAIMS: [&str; 2] = ["D1-first3", "D0-sem5"];
/// Every delay multiplied by this, as `fanout claims` does by default.
const TIME_SCALE: f64 = 0.1;

// ANCHOR: select
/// The catalogue's rows with these ids, in the order given.
fn select(ids: &[&str]) -> anyhow::Result<Vec<Claim>> {
    let all = catalogue();
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|claim| claim.id == *id)
                .copied()
                .with_context(|| format!("no claim {id} in the catalogue"))
        })
        .collect()
}
// ANCHOR_END: select

// ANCHOR: write
/// Writes the charts and README.md into `dir`, as `fanout claims --out DIR` does.
fn write_report(dir: &Path, results: &[ClaimResult]) -> anyhow::Result<Vec<ChartFile>> {
    let charts = claims_report::charts(results)?;
    let settings = ReportSettings {
        time_scale: TIME_SCALE,
        seed: 1,
        placement: "in-process (fanout's engine)".to_string(),
        run: RunInfo {
            machine: format!("{} CPUs", std::thread::available_parallelism()?.get()),
            date: "(not recorded by this example)".to_string(),
            took_s: 0.0,
            command: format!(
                "cargo run --release -- claims --only {} --out DIR",
                CLAIMS.join(",")
            ),
        },
    };
    std::fs::create_dir_all(dir)?;
    for chart in &charts {
        std::fs::write(dir.join(&chart.name), &chart.svg)?;
    }
    let readme = claims_report::markdown(results, &settings, &charts);
    std::fs::write(dir.join("README.md"), readme)?;
    Ok(charts)
}
// ANCHOR_END: write

// ANCHOR: evaluate
/// Runs each claim's trials, each against a fresh mock API, and applies its rule.
fn run_claims(claims: &[Claim]) -> anyhow::Result<Vec<ClaimResult>> {
    let context = Context::new(TIME_SCALE, 1);
    let mut results = Vec::new();
    for claim in claims {
        let result = evaluate(claim, &context, &Placement::InProcess)?;
        println!(
            "  {:<10} {}: {}",
            claim.id,
            result.judgement.verdict.name(),
            result.judgement.reason
        );
        results.push(result);
    }
    Ok(results)
}
// ANCHOR_END: evaluate

// ANCHOR: figures
/// Each trial's wall against the model's, and the speedups behind a speed verdict.
fn print_figures(results: &[ClaimResult]) {
    for result in results {
        for ran in &result.runs {
            let s = &ran.summary;
            // Efficiency is the model's wall over the measured one: 1.00 means the run
            // took exactly what the delays and the calibrated overheads predict.
            println!(
                "  {:<10} {:<11} wall {:>6.1} ms, model {:>6.1} ms, efficiency {} ({:.1} / {:.1})",
                result.claim.id,
                ran.key,
                s.wall_ms,
                s.predicted_ms,
                s.efficiency
                    .map_or("n/a".to_string(), |e| format!("{e:.2}")),
                s.predicted_ms,
                s.wall_ms,
            );
            println!("  {:<22} the delays alone: {}", "", delays_alone(s));
        }
        if let Some(speedup) = result.judgement.speedup {
            println!(
                "  {:<10} speedup: document {}, model {:.2}x, measured {:.2}x",
                result.claim.id,
                speedup
                    .document
                    .map_or("n/a".to_string(), |d| format!("{d:.2}x")),
                speedup.model,
                speedup.measured
            );
        }
    }
}
// ANCHOR_END: figures

// ANCHOR: ledger
/// What the client counted next to what the server's ledger recorded.
fn print_ledgers(results: &[ClaimResult]) {
    for result in results {
        for ran in &result.runs {
            let (s, server, m) = (
                &ran.summary,
                &ran.summary.server,
                &ran.summary.milestones_ms,
            );
            println!(
                "  {:<10} {:<11} client: {} ok of {}; server: received {}, at most {} at once, \
                 {} connection(s)",
                result.claim.id,
                ran.key,
                s.ok(),
                s.n,
                server.received,
                server.peak_in_flight,
                server
                    .connections
                    .map_or("?".to_string(), |c| c.to_string()),
            );
            println!(
                "  {:<22} arrivals at {:.1}..{:.1} ms, last answer sent at {:.1} ms, \
                 read by the client at {:.1} ms",
                "", m.first_arrival, m.last_arrival, m.last_answer, m.last_end
            );
        }
    }
}
// ANCHOR_END: ledger

/// What a run's wall would be if requests cost nothing but the server's delays.
fn delays_alone(s: &RunSummary) -> String {
    let (sum, max) = (s.delays_ms.sum, s.delays_ms.max);
    match (s.strategy, s.limit) {
        (Strategy::SyncSequential | Strategy::AsyncSequential, _) => {
            format!("one after another, their sum {sum:.1} ms")
        }
        (_, Some(limit)) => {
            let waves = s.n.div_ceil(limit.max(1) as u64);
            format!(
                "{waves} waves of {limit} x the slowest {max:.1} ms = {:.1} ms",
                waves as f64 * max
            )
        }
        _ => format!("all at once, the slowest {max:.1} ms"),
    }
}

/// The cells of the verdict-table row of `id` in a report's README.md.
fn verdict_row(readme: &str, id: &str) -> Option<Vec<String>> {
    let line = readme
        .lines()
        .find(|l| l.starts_with(&format!("| [{id}]")))?;
    Some(
        line.trim_matches('|')
            .split(" | ")
            .map(|cell| cell.trim().trim_matches('*').to_string())
            .collect(),
    )
}

/// A fresh, empty directory for the report, under the system's temporary directory.
fn report_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join("fanout-ch10-report");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context("clearing the old report")?;
    }
    Ok(dir)
}

fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();

    steps.next("pick two claims from the catalogue");
    let claims = select(&CLAIMS)?;
    for claim in &claims {
        println!(
            "  {:<10} {}, {}: {} (document's figure: {})",
            claim.id,
            claim.document.title(),
            claim.section,
            claim.says,
            claim.figure
        );
    }

    steps.next("run their trials, each against a fresh mock API, and judge them");
    let results = run_claims(&claims)?;

    steps.next("the figures behind each verdict: measured against the model");
    print_figures(&results);

    steps.next("the client's view against the server's ledger");
    print_ledgers(&results);
    let sem5 = results
        .iter()
        .find(|r| r.claim.id == "D0-sem5")
        .and_then(|r| r.runs.first());
    if let Some(ran) = sem5 {
        let limit = ran.summary.limit.unwrap_or(0);
        println!(
            "  D0-sem5 peak in flight {} against the limit {limit}; {} requests in waves of \
             {limit} need {} waves",
            ran.summary.server.peak_in_flight,
            ran.summary.n,
            ran.summary.n.div_ceil(limit.max(1) as u64)
        );
    }

    steps.next("write the report into a temporary directory");
    let dir = report_dir()?;
    let charts = write_report(&dir, &results)?;
    println!("  {}", dir.join("README.md").display());
    for chart in &charts {
        println!(
            "  {:<24} {:>6} bytes  {}",
            chart.name,
            chart.svg.len(),
            chart.caption
        );
    }

    steps.next("read the report back");
    let readme = std::fs::read_to_string(dir.join("README.md"))?;
    let tally = readme
        .lines()
        .find(|l| l.starts_with("**"))
        .unwrap_or("")
        .trim_matches('*');
    println!("  tally: {tally}");
    for id in CLAIMS {
        let Some(cells) = verdict_row(&readme, id) else {
            bail!("{id} has no row in the report");
        };
        // id | the document says | model | measured | verdict
        println!(
            "  {id:<10} document {:<22} model {:<24} measured {:<24} -> {}",
            cells[1], cells[2], cells[3], cells[4]
        );
    }
    let embedded = readme.matches("![").count();
    println!(
        "  README.md embeds {embedded} charts; {} SVG files are in {}",
        std::fs::read_dir(&dir)?
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "svg"))
            .count(),
        dir.display()
    );
    Ok(())
}
