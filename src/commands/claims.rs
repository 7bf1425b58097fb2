//! `fanout claims`: run the catalogue, print the verdicts, write the report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::run_info::Stopwatch;
use crate::claims::catalogue::catalogue;
use crate::claims::{Claim, ClaimResult, Context, Setting, evaluate};
use crate::cli::ClaimsArgs;
use crate::error::Error;
use crate::report::claims_report::{self, ReportSettings, json_rows};
use crate::report::out_dir;

#[derive(Serialize)]
struct ClaimsJson<'a> {
    claims: Vec<claims_report::ClaimJson<'a>>,
}

/// Runs the selected claims and reports them.
pub fn claims(args: &ClaimsArgs) -> Result<(), Error> {
    let selected = select(&args.only)?;
    let placement = super::placement_of(args.server)?;
    let out_dir = match (&args.out, args.only.is_empty()) {
        (Some(dir), _) => Some(dir.clone()),
        (None, true) => Some(PathBuf::from("reports")),
        (None, false) => None,
    };
    if let Some(dir) = &out_dir {
        out_dir::prepare(dir)?;
    }
    let stopwatch = Stopwatch::start();
    let mut results: Vec<ClaimResult> = Vec::with_capacity(selected.len());
    // Each claim's internet-like row right after its loopback one, so they read side
    // by side.
    let rows = selected.iter().flat_map(|claim| {
        settings(args)
            .into_iter()
            .filter(|setting| setting.applies_to(claim))
            .map(move |setting| (claim, setting))
    });
    for (claim, setting) in rows {
        let context = Context {
            engine: args.engine,
            setting,
            ..Context::new(args.time_scale, args.seed)
        };
        let claim_started = Instant::now();
        let result = evaluate(claim, &context, &placement)?;
        if !args.json {
            eprintln!(
                "{:<28} {:<12} {:>6.1} s",
                result.label(),
                result.judgement.verdict.name(),
                claim_started.elapsed().as_secs_f64()
            );
        }
        results.push(result);
    }
    let total_s = stopwatch.took_s();

    let mut out = std::io::stdout().lock();
    let printed = if args.json {
        serde_json::to_writer(
            &mut out,
            &ClaimsJson {
                claims: json_rows(&results),
            },
        )
        .map_err(std::io::Error::from)
        .and_then(|_| writeln!(out))
    } else {
        claims_report::write_table(&mut out, &results)
    };
    printed.map_err(|e| Error::io("writing the table", e))?;

    if let Some(dir) = out_dir {
        let settings = ReportSettings {
            time_scale: args.time_scale,
            seed: args.seed,
            placement: format!("{} ({})", placement.name(), args.engine.describe()),
            run: stopwatch.info(
                total_s,
                format!(
                    "cargo run --release -- claims --time-scale {}{}{}",
                    args.time_scale,
                    engine_flag(args.engine),
                    if args.loopback_only {
                        " --loopback-only"
                    } else {
                        ""
                    }
                ),
            ),
        };
        write_report(&dir, &results, &settings)?;
        if !args.json {
            eprintln!(
                "report written to {}/README.md ({total_s:.1} s)",
                dir.display()
            );
        }
    }
    Ok(())
}

/// Where the claims run: loopback, and internet-like for the claims that turn on
/// connections, unless `--loopback-only`. wiremock has no TLS, so on it every claim
/// runs on loopback only.
fn settings(args: &ClaimsArgs) -> Vec<Setting> {
    if args.loopback_only || args.engine != crate::server::Engine::Fanout {
        vec![Setting::Loopback]
    } else {
        Setting::ALL.to_vec()
    }
}

/// ` --engine wiremock`, or nothing for the default engine: the flag that reruns a report.
pub(super) fn engine_flag(engine: crate::server::Engine) -> String {
    if engine == crate::server::Engine::default() {
        String::new()
    } else {
        format!(" --engine {engine}")
    }
}

/// The claims named by `--only`, or all of them.
fn select(only: &[String]) -> Result<Vec<Claim>, Error> {
    let all = catalogue();
    if only.is_empty() {
        return Ok(all);
    }
    let mut seen = std::collections::HashSet::new();
    only.iter()
        .filter(|id| seen.insert(id.trim().to_ascii_lowercase()))
        .map(|id| {
            all.iter()
                .find(|c| c.id.eq_ignore_ascii_case(id.trim()))
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|c| c.id).collect();
                    Error::InvalidScenario(format!(
                        "unknown claim id '{id}' (known: {})",
                        known.join(", ")
                    ))
                })
        })
        .collect()
}

/// Writes README.md and every chart into `dir`, replacing the SVGs of an earlier run.
fn write_report(
    dir: &Path,
    results: &[ClaimResult],
    settings: &ReportSettings,
) -> Result<(), Error> {
    let files = claims_report::charts(results).map_err(|e| Error::Report(e.to_string()))?;
    let old =
        std::fs::read_dir(dir).map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
    // Only the charts a claims report writes: named after a claim, or the summary.
    let prefixes: Vec<String> = catalogue().iter().map(|c| format!("{}-", c.id)).collect();
    let ours = |name: &str| {
        name.ends_with(".svg")
            && (name == "speedups.svg" || prefixes.iter().any(|p| name.starts_with(p)))
    };
    for entry in old.flatten() {
        if entry.file_name().to_str().is_some_and(ours) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    for file in &files {
        out_dir::write(dir, &file.name, &file.svg)?;
    }
    let readme = claims_report::markdown(results, settings, &files);
    out_dir::write(dir, "README.md", readme).map(drop)
}
