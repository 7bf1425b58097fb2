//! The claims report: the verdict table for the terminal, and `reports/README.md` with
//! every claim's charts, from [`ClaimResult`]s and plain settings.
//!
//! Chart files are named after the claim (`D0-fig1-timeline.svg`); the speedup chart
//! and the scaling chart gather several claims. Which charts a claim gets follows from
//! its trials: a timeline always; server in-flight over time when a limit is involved;
//! latency percentiles when it compares several trials; the scaling chart for the
//! scaling claim.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::chart_data::{in_flight_series, latency_row, rate_series, timeline_run};
use super::charts::{self, ChartError, ScalingPoint, ScalingSeries, SpeedupGroup};
use crate::claims::behaviour::scaling_points;
use crate::claims::{ClaimResult, Verdict};
use crate::strategy::Strategy;

/// How and where the report's runs happened, for its header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSettings {
    /// Delays were multiplied by this.
    pub time_scale: f64,
    /// The seed of the delay draws.
    pub seed: u64,
    /// Where the mock API ran.
    pub placement: String,
    /// CPUs, OS and kernel.
    pub machine: String,
    /// When the run started (UTC).
    pub date: String,
    /// How long the whole catalogue took, seconds.
    pub total_s: f64,
    /// The command that regenerates the report.
    pub command: String,
}

/// One SVG file of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File name inside the report directory.
    pub name: String,
    /// Its caption.
    pub caption: String,
    /// The claim it belongs to, or `None` for the summary charts.
    pub claim: Option<&'static str>,
    /// The SVG document.
    pub svg: String,
}

/// The verdict table for the terminal.
pub fn write_table(out: &mut impl Write, results: &[ClaimResult]) -> io::Result<()> {
    let header = ["id", "document", "model", "measured", "verdict"];
    let rows: Vec<[String; 5]> = results
        .iter()
        .map(|r| {
            [
                r.claim.id.to_string(),
                r.claim.figure.to_string(),
                r.judgement.predicted.clone(),
                r.judgement.measured.clone(),
                r.judgement.verdict.name().to_string(),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        writeln!(out, "{}", line(&cells))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", tally(results))
}

/// `12 reproduced, 5 qualified, 0 refuted, 13 pending`, then `, 3 not measured` when
/// the engine left some claims unjudged.
pub fn tally(results: &[ClaimResult]) -> String {
    let count = |v: Verdict| results.iter().filter(|r| r.judgement.verdict == v).count();
    let mut tally = format!(
        "{} reproduced, {} qualified, {} refuted, {} pending",
        count(Verdict::Reproduced),
        count(Verdict::Qualified),
        count(Verdict::Refuted),
        count(Verdict::Pending)
    );
    let not_measured = count(Verdict::NotMeasured);
    if not_measured > 0 {
        let _ = write!(tally, ", {not_measured} {}", Verdict::NotMeasured.name());
    }
    tally
}

/// One claim for `--json`.
#[derive(Debug, Serialize)]
pub struct ClaimJson<'a> {
    pub id: &'a str,
    pub verdict: Verdict,
    pub reason: &'a str,
    pub document: &'a str,
    pub measured: &'a str,
    pub predicted: &'a str,
}

/// The claims as the JSON rows `fanout claims --json` prints.
pub fn json_rows(results: &[ClaimResult]) -> Vec<ClaimJson<'_>> {
    results
        .iter()
        .map(|r| ClaimJson {
            id: r.claim.id,
            verdict: r.judgement.verdict,
            reason: &r.judgement.reason,
            document: r.claim.figure,
            measured: &r.judgement.measured,
            predicted: &r.judgement.predicted,
        })
        .collect()
}

/// Every chart of the report.
pub fn charts(results: &[ClaimResult]) -> Result<Vec<ChartFile>, ChartError> {
    let mut files = Vec::new();
    let groups: Vec<SpeedupGroup> = results
        .iter()
        .filter(|r| scaling_points(&r.runs).is_empty())
        .filter_map(|r| {
            let s = r.judgement.speedup?;
            Some(SpeedupGroup {
                label: r.claim.id.to_string(),
                document: s.document,
                model: s.model,
                measured: s.measured,
            })
        })
        .collect();
    if !groups.is_empty() {
        files.push(ChartFile {
            name: "speedups.svg".to_string(),
            caption: "Speedup per claim: the document's figure, the model's, the measured"
                .to_string(),
            claim: None,
            svg: charts::speedup_bars("Speedup: document, model, measured", &groups)?,
        });
    }
    for result in results.iter().filter(|r| !r.runs.is_empty()) {
        let id = result.claim.id;
        if !scaling_points(&result.runs).is_empty() {
            files.push(ChartFile {
                name: format!("{id}-scaling.svg"),
                caption: "Wall time and speedup against n, measured and modelled".to_string(),
                claim: Some(id),
                svg: charts::scaling(&format!("{id}: speedup against n"), &scaling_series(result))?,
            });
            continue;
        }
        let lanes: Vec<_> = result
            .runs
            .iter()
            .map(|r| timeline_run(&r.label, &r.output))
            .collect();
        files.push(ChartFile {
            name: format!("{id}-timeline.svg"),
            caption: "One bar per request, from its start to its end, coloured by outcome"
                .to_string(),
            claim: Some(id),
            svg: charts::timeline(&format!("{id}: requests over time"), &lanes)?,
        });
        let limit = result.runs.iter().find_map(|r| r.summary.limit);
        if limit.is_some()
            || result
                .runs
                .iter()
                .any(|r| r.summary.http == crate::HttpVersion::Http2)
        {
            let series: Vec<_> = result
                .runs
                .iter()
                .map(|r| in_flight_series(&r.label, &r.output))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-in-flight.svg"),
                caption: "Requests the server held at once, from its ledger".to_string(),
                claim: Some(id),
                svg: charts::in_flight(
                    &format!("{id}: in flight at the server"),
                    &series,
                    limit.map(|l| l as u64),
                )?,
            });
        }
        let paced = result.runs.iter().any(|r| {
            r.summary.rate.is_some() || r.output.scenario.profile.limits.max_per_second.is_some()
        });
        if paced {
            // The server's own window when it enforces a limit (that is the promise the
            // chart checks); otherwise the rate-limited run's window.
            let server_limit = result
                .runs
                .iter()
                .map(|r| &r.output.scenario.profile.limits)
                .find(|limits| limits.max_per_second.is_some());
            let rate_window = result
                .runs
                .iter()
                .find(|r| r.summary.rate.is_some())
                .map(|r| r.output.scenario.client.rate_window.as_micros() as u64);
            let window_us = match (server_limit, rate_window) {
                (Some(limits), _) => limits.window_us(),
                (None, Some(window)) => window,
                (None, None) => 1_000_000,
            };
            let promised = result
                .runs
                .iter()
                .find_map(|r| r.output.scenario.profile.limits.max_per_second)
                .map(f64::from)
                .or_else(|| {
                    result
                        .runs
                        .iter()
                        .find_map(|r| r.summary.rate)
                        .map(|rate| rate * window_us as f64 / 1e6)
                });
            let series: Vec<_> = result
                .runs
                .iter()
                .map(|r| rate_series(&r.label, &r.output, window_us))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-per-window.svg"),
                caption: format!(
                    "Arrivals at the server per {} window, with the promised count",
                    crate::duration::ms(window_us as f64 / 1e3)
                ),
                claim: Some(id),
                svg: charts::requests_per_window_of(
                    &format!("{id}: arrivals per window at the server"),
                    &series,
                    promised,
                    window_us as f64 / 1e6,
                )?,
            });
        }
        if result.runs.len() >= 2 {
            let rows: Vec<_> = result
                .runs
                .iter()
                .map(|r| latency_row(&r.label, &r.output))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-latency.svg"),
                caption: "Client-side latency percentiles per trial".to_string(),
                claim: Some(id),
                svg: charts::latency_percentiles(&format!("{id}: latency percentiles"), &rows)?,
            });
        }
    }
    Ok(files)
}

fn scaling_series(result: &ClaimResult) -> Vec<ScalingSeries> {
    let mut points = Vec::new();
    for ran in result
        .runs
        .iter()
        .filter(|r| r.summary.strategy == Strategy::AsyncConcurrent)
    {
        let n_label = ran.label.trim_end_matches(" concurrent");
        let Some(seq) = result
            .runs
            .iter()
            .find(|r| r.label == format!("{n_label} sequential"))
        else {
            continue;
        };
        points.push(ScalingPoint {
            n: ran.summary.n,
            measured_ms: ran.summary.wall_ms,
            model_ms: ran.summary.predicted_ms,
            baseline_ms: seq.summary.wall_ms,
        });
    }
    let sequential: Vec<ScalingPoint> = result
        .runs
        .iter()
        .filter(|r| r.summary.strategy == Strategy::SyncSequential)
        .map(|r| ScalingPoint {
            n: r.summary.n,
            measured_ms: r.summary.wall_ms,
            model_ms: r.summary.predicted_ms,
            baseline_ms: r.summary.wall_ms,
        })
        .collect();
    vec![
        ScalingSeries {
            strategy: "sync-sequential".to_string(),
            points: sequential,
        },
        ScalingSeries {
            strategy: "async-concurrent".to_string(),
            points,
        },
    ]
}

/// `reports/README.md`: settings, the verdict table, then each claim with its charts.
pub fn markdown(results: &[ClaimResult], settings: &ReportSettings, files: &[ChartFile]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# fanout claims report\n");
    let _ = writeln!(
        md,
        "Every performance claim of the three tutorials, tested against fanout's local mock API. \
         Verdicts are computed from the figures measured in this run; nothing is written in advance.\n"
    );
    let _ = writeln!(md, "**{}**\n", tally(results));
    let _ = writeln!(md, "| setting | value |\n|---|---|");
    let _ = writeln!(
        md,
        "| time scale | {} (every delay multiplied by it) |",
        settings.time_scale
    );
    let _ = writeln!(md, "| seed | {} |", settings.seed);
    let _ = writeln!(md, "| mock API | {} |", settings.placement);
    let _ = writeln!(md, "| machine | {} |", settings.machine);
    let _ = writeln!(md, "| run on | {} |", settings.date);
    let _ = writeln!(md, "| catalogue took | {:.1} s |", settings.total_s);
    let _ = writeln!(
        md,
        "\nRegenerate with `{}` (`--time-scale 1` for the documents' own seconds).\n",
        settings.command
    );
    let _ = writeln!(
        md,
        "| id | the document says | model | measured | verdict |\n|---|---|---|---|---|"
    );
    for r in results {
        let _ = writeln!(
            md,
            "| [{id}](#{anchor}) | {} | {} | {} | **{}** |",
            escape(r.claim.figure),
            escape(&r.judgement.predicted),
            escape(&r.judgement.measured),
            r.judgement.verdict.name(),
            id = r.claim.id,
            anchor = r.claim.id.to_lowercase(),
        );
    }
    for file in files.iter().filter(|f| f.claim.is_none()) {
        let _ = writeln!(md, "\n![{}]({})", file.caption, file.name);
    }
    for r in results {
        let _ = writeln!(md, "\n## {}\n", r.claim.id);
        let _ = writeln!(
            md,
            "*{}, {}.* {}. Document's figure: {}.\n",
            r.claim.document.title(),
            r.claim.section,
            capitalise(r.claim.says),
            r.claim.figure
        );
        let _ = writeln!(
            md,
            "**{}**: {}.\n",
            r.judgement.verdict.name(),
            r.judgement.reason
        );
        if !r.runs.is_empty() {
            let _ = writeln!(
                md,
                "| trial | strategy | n | wall | model | efficiency | peak | conns |\n|---|---|---|---|---|---|---|---|"
            );
            for ran in &r.runs {
                let s = &ran.summary;
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {:.1} ms | {:.1} ms | {} | {} | {} |",
                    ran.label,
                    s.strategy,
                    s.n,
                    s.wall_ms,
                    s.predicted_ms,
                    s.efficiency
                        .map_or("n/a".to_string(), |e| format!("{e:.2}")),
                    s.server.peak_in_flight,
                    super::table::count_or_short(s.server.connections)
                );
            }
            let summaries = r.runs.iter().map(|ran| &ran.summary);
            if let Some(legend) = super::table::not_measured_legend(summaries) {
                let _ = writeln!(md, "\n{legend}.");
            }
        }
        for file in files.iter().filter(|f| f.claim == Some(r.claim.id)) {
            let _ = writeln!(md, "\n![{}]({})", file.caption, file.name);
        }
    }
    md
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
