//! The claims report: the verdict table for the terminal, and `reports/README.md` with
//! every claim's charts, from [`ClaimResult`]s and plain settings.
//!
//! Which charts a claim gets, and their file names, is [`super::claims_charts`]'s
//! business; this file writes the tables and embeds each claim's charts under it.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

pub use super::claims_charts::{ChartFile, charts};
use super::columns::{Align, Table, render};
use super::run_info::{Header, RunInfo};
use crate::claims::{ClaimResult, Setting, Verdict};

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
        "Every performance claim of the three tutorials, tested against fanout's local mock API, \
         and, under *beyond the tutorials*, lessons their code does not show (B- rows), judged \
         the same way. Verdicts are computed from the figures measured in this run; nothing is \
         written in advance.\n"
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
        if files.iter().any(|f| f.name.contains("-waterfall")) {
            writeln!(
                md,
                "\nWhere such a row compares trials that hold connections differently (a \
                 shared client or one per request, HTTP/1.1 or HTTP/2), its waterfall splits \
                 each request into waiting for a connection, the TCP and TLS handshakes, the \
                 way out, the server and the way back, from the client's times and the \
                 server's ledger: who paid for a handshake, and how often."
            )?;
        }
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
    let figure = match r.claim.document {
        // Not a document's claim: its figure is the arithmetic the row checks.
        crate::claims::Document::Beyond => "The arithmetic",
        _ => "Document's figure",
    };
    writeln!(
        md,
        "*{}, {}.* {}. {figure}: {}.\n",
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
