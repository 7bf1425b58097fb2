//! The claims report: the verdict table for the terminal, and `reports/README.md` with
//! every claim's charts, from [`ClaimResult`]s and plain settings.
//!
//! Chart files are named after the claim (`D0-fig1-timeline.svg`); the speedup chart
//! and the scaling chart gather several claims. Which charts a claim gets follows from
//! its trials: a timeline always; server in-flight over time when a limit is involved;
//! latency percentiles when it compares several trials; the scaling chart for the
//! scaling claim.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use super::chart_data::{in_flight_series, latency_row, rate_series, timeline_run};
use super::charts::{self, ChartError, ScalingPoint, ScalingSeries, SpeedupGroup};
use super::columns::{Align, Table, render};
use super::run_info::{Header, RunInfo};
use crate::claims::behaviour::scaling_points;
use crate::claims::trial::{self, Mode, TrialKey};
use crate::claims::{ClaimResult, Setting, Verdict};
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
    /// The machine, the date, how long the catalogue took, the command.
    pub run: RunInfo,
}

/// One SVG file of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File name inside the report directory.
    pub name: String,
    /// Its caption.
    pub caption: String,
    /// The row it belongs to ([`ClaimResult::slug`]), or `None` for the summary charts.
    pub claim: Option<String>,
    /// The SVG document.
    pub svg: String,
}

/// The verdict table for the terminal.
pub fn write_table(out: &mut impl Write, results: &[ClaimResult]) -> io::Result<()> {
    let mut table =
        Table::new(["id", "document", "model", "measured", "verdict"].map(|h| (h, Align::Left)));
    for r in results {
        table.row([
            &r.label(),
            r.claim.figure,
            &r.judgement.predicted,
            &r.judgement.measured,
            r.judgement.verdict.name(),
        ]);
    }
    writeln!(out, "{table}")?;
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
        tally.push_str(&format!(", {not_measured} {}", Verdict::NotMeasured.name()));
    }
    tally
}

/// One claim for `--json`.
#[derive(Debug, Serialize)]
pub struct ClaimJson<'a> {
    /// The claim's id in `claims.md` (D0-fig1, …).
    pub id: &'a str,
    /// Where its trials ran: `loopback` or `internet-like`.
    pub setting: Setting,
    /// Reproduced, qualified or refuted, as computed from this run.
    pub verdict: Verdict,
    /// Why, in one sentence with the figures.
    pub reason: &'a str,
    /// Which tutorial made the claim.
    pub document: &'a str,
    /// What this run measured.
    pub measured: &'a str,
    /// What the model predicted.
    pub predicted: &'a str,
}

/// The claims as the JSON rows `fanout claims --json` prints.
pub fn json_rows(results: &[ClaimResult]) -> Vec<ClaimJson<'_>> {
    results
        .iter()
        .map(|r| ClaimJson {
            id: r.claim.id,
            setting: r.setting,
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
                label: r.label(),
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
        let id = result.slug();
        let id = id.as_str();
        let title = result.label();
        if !scaling_points(&result.runs).is_empty() {
            files.push(ChartFile {
                name: format!("{id}-scaling.svg"),
                caption: "Wall time and speedup against n, measured and modelled".to_string(),
                claim: Some(id.to_string()),
                svg: charts::scaling(
                    &format!("{title}: speedup against n"),
                    &scaling_series(result),
                )?,
            });
            continue;
        }
        let lanes: Vec<_> = result
            .runs
            .iter()
            .map(|r| timeline_run(&r.label(), &r.output))
            .collect();
        files.push(ChartFile {
            name: format!("{id}-timeline.svg"),
            caption: "One bar per request, from its start to its end, coloured by outcome"
                .to_string(),
            claim: Some(id.to_string()),
            svg: charts::timeline(&format!("{title}: requests over time"), &lanes)?,
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
                .map(|r| in_flight_series(&r.label(), &r.output))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-in-flight.svg"),
                caption: "Requests the server held at once, from its ledger".to_string(),
                claim: Some(id.to_string()),
                svg: charts::in_flight(
                    &format!("{title}: in flight at the server"),
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
                .map(|r| rate_series(&r.label(), &r.output, window_us))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-per-window.svg"),
                caption: format!(
                    "Arrivals at the server per {} window, with the promised count",
                    crate::duration::ms(window_us as f64 / 1e3)
                ),
                claim: Some(id.to_string()),
                svg: charts::requests_per_window_of(
                    &format!("{title}: arrivals per window at the server"),
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
                .map(|r| latency_row(&r.label(), &r.output))
                .collect();
            files.push(ChartFile {
                name: format!("{id}-latency.svg"),
                caption: "Client-side latency percentiles per trial".to_string(),
                claim: Some(id.to_string()),
                svg: charts::latency_percentiles(&format!("{title}: latency percentiles"), &rows)?,
            });
        }
    }
    Ok(files)
}

fn scaling_series(result: &ClaimResult) -> Vec<ScalingSeries> {
    let mut points = Vec::new();
    for ran in &result.runs {
        let TrialKey::Scaling {
            n,
            mode: Mode::Concurrent,
        } = ran.key
        else {
            continue;
        };
        let sequential = TrialKey::Scaling {
            n,
            mode: Mode::Sequential,
        };
        let Some(seq) = trial::find(&result.runs, sequential) else {
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
    render(|md| write_markdown(md, results, settings, files))
}

/// [`markdown`], written to any `fmt::Write`.
pub fn write_markdown(
    md: &mut impl fmt::Write,
    results: &[ClaimResult],
    settings: &ReportSettings,
    files: &[ChartFile],
) -> fmt::Result {
    writeln!(md, "# fanout claims report\n")?;
    writeln!(
        md,
        "Every performance claim of the three tutorials, tested against fanout's local mock API. \
         Verdicts are computed from the figures measured in this run; nothing is written in advance.\n"
    )?;
    writeln!(md, "**{}**\n", tally(results))?;
    let header = Header {
        settings: &[
            (
                "time scale",
                format!("{} (every delay multiplied by it)", settings.time_scale),
            ),
            ("seed", settings.seed.to_string()),
            ("mock API", settings.placement.clone()),
        ],
        took: "catalogue took",
        regenerate_note: " (`--time-scale 1` for the documents' own seconds)",
    };
    settings.run.write_markdown(md, &header)?;
    let mut verdicts = Table::new(
        ["id", "the document says", "model", "measured", "verdict"].map(|h| (h, Align::Left)),
    );
    for r in results {
        verdicts.row([
            format!("[{}](#{})", r.label(), r.slug().to_lowercase()),
            escape(r.claim.figure),
            escape(&r.judgement.predicted),
            escape(&r.judgement.measured),
            format!("**{}**", r.judgement.verdict.name()),
        ]);
    }
    write!(md, "{}", verdicts.markdown())?;
    if results.iter().any(|r| r.setting != Setting::Loopback) {
        writeln!(
            md,
            "\nRows marked *{}* ran the same trials over {}, its round trips scaled \
             with the delays (×{}): the tutorials' own setting, where a new connection \
             costs a TCP and a TLS round trip. The other rows ran on loopback over plain \
             HTTP, where the kernel completes a handshake at once.",
            Setting::InternetLike.name(),
            Setting::InternetLike.describe(),
            settings.time_scale
        )?;
    }
    write_images(md, files, None)?;
    for r in results {
        write_claim(md, r, files)?;
    }
    Ok(())
}

/// One claim's section: what it says, the verdict, its trials and its charts.
fn write_claim(md: &mut impl fmt::Write, r: &ClaimResult, files: &[ChartFile]) -> fmt::Result {
    writeln!(md, "\n## {}\n", r.label())?;
    writeln!(
        md,
        "*{}, {}.* {}. Document's figure: {}.\n",
        r.claim.document.title(),
        r.claim.section,
        capitalise(r.claim.says),
        r.claim.figure
    )?;
    writeln!(
        md,
        "**{}**: {}.\n",
        r.judgement.verdict.name(),
        r.judgement.reason
    )?;
    if !r.runs.is_empty() {
        let mut trials = Table::new(
            [
                "trial",
                "strategy",
                "n",
                "wall",
                "model",
                "efficiency",
                "peak",
                "conns",
            ]
            .map(|h| (h, Align::Left)),
        );
        for ran in &r.runs {
            let s = &ran.summary;
            trials.row([
                ran.label(),
                s.strategy.to_string(),
                s.n.to_string(),
                format!("{:.1} ms", s.wall_ms),
                format!("{:.1} ms", s.predicted_ms),
                s.efficiency
                    .map_or("n/a".to_string(), |e| format!("{e:.2}")),
                s.server.peak_in_flight.to_string(),
                super::table::count_or_short(s.server.connections),
            ]);
        }
        write!(md, "{}", trials.markdown())?;
        let summaries = r.runs.iter().map(|ran| &ran.summary);
        if let Some(legend) = super::table::not_measured_legend(summaries) {
            writeln!(md, "\n{legend}.")?;
        }
    }
    write_images(md, files, Some(&r.slug()))
}

/// The charts of one claim (or the summary charts, for `None`), one paragraph each.
fn write_images(md: &mut impl fmt::Write, files: &[ChartFile], claim: Option<&str>) -> fmt::Result {
    for file in files.iter().filter(|f| f.claim.as_deref() == claim) {
        writeln!(md, "\n![{}]({})", file.caption, file.name)?;
    }
    Ok(())
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
