//! The peers report: fanout's strategies and the tutorials' Python clients on the same
//! scenarios, one table, the verdict on "fanout is no slower than the fastest peer",
//! and charts (latency percentiles; a timeline of the fastest and slowest clients).

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use super::chart_data::{latency_row, phase_bar, timeline_run};
use super::charts::{self, ChartError};
use super::columns::{Align, Table, render};
use super::run_info::{Header, RunInfo};
use super::table::{count_or_short, failures, human_ms, not_measured_legend};
use crate::model::{self, Calibration};
use crate::output::RunOutput;
use crate::strategy::Strategy;
use crate::summary::RunSummary;

/// One client's run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `fanout async-concurrent`, `python aiohttp (no limit)`, ...
    pub label: String,
    /// `rust`, or the Python library and version.
    pub library: String,
    /// The figures.
    pub summary: RunSummary,
    /// The raw run, for charts.
    #[serde(skip)]
    pub output: RunOutput,
}

impl Row {
    fn is_rust(&self) -> bool {
        self.library == "rust"
    }

    /// The tutorials' promise for this client's pattern: the model without overheads.
    fn promise_ms(&self) -> f64 {
        model::predict_scenario(&self.output.scenario, &Calibration::default()).wall_ms
    }

    /// The figures both tables print after the label (and the library): n, wall,
    /// promise, eff, p50, p99, ok, failures, conns, peak.
    fn figures(&self) -> [String; 10] {
        let s = &self.summary;
        [
            s.n.to_string(),
            human_ms(s.wall_ms),
            human_ms(self.promise_ms()),
            format!(
                "{:.2}",
                self.promise_ms() / s.wall_ms.max(f64::MIN_POSITIVE)
            ),
            human_ms(s.latency_ms.p50),
            human_ms(s.latency_ms.p99),
            format!("{}/{}", s.ok(), s.n),
            failures(s),
            count_or_short(s.server.connections),
            s.server.peak_in_flight.to_string(),
        ]
    }
}

/// The network and TLS every row ran over, for the report's settings table; nothing on
/// plain loopback, so today's reports read as before.
fn link_settings(rows: &[Row]) -> Vec<(&'static str, String)> {
    let Some(first) = rows.first() else {
        return Vec::new();
    };
    let (network, tls) = (
        first.output.scenario.profile.network,
        first.output.scenario.tls,
    );
    if network.is_loopback() && tls.is_none() {
        return Vec::new();
    }
    vec![
        ("network", network.to_string()),
        (
            "TLS",
            tls.map_or("off (plain HTTP)".to_string(), |tls| tls.to_string()),
        ),
    ]
}

/// The terminal table, grouped by scenario (n).
pub fn write_table(out: &mut impl Write, rows: &[Row]) -> io::Result<()> {
    let right = |h| (h, Align::Right);
    let mut table = Table::new([
        ("client", Align::Left),
        right("n"),
        right("wall"),
        right("promise"),
        right("eff"),
        right("p50"),
        right("p99"),
        right("ok"),
        ("failures", Align::Left),
        right("conns"),
        right("peak"),
    ]);
    for r in rows {
        table.row([r.label.clone()].into_iter().chain(r.figures()));
    }
    write!(out, "{table}")?;
    writeln!(
        out,
        "\npromise = the pattern's wall with no overheads (the slowest delay, waves of the limit, or the sum, plus the emulated network's round trips); eff = promise / wall; conns and peak are the server's own count"
    )?;
    match not_measured_legend(rows.iter().map(|r| &r.summary)) {
        Some(legend) => writeln!(out, "{legend}"),
        None => Ok(()),
    }
}

/// fanout's `async-concurrent` against the fastest Python peer of the same scenario.
pub fn verdict(rows: &[Row]) -> String {
    let Some(fanout) = rows
        .iter()
        .find(|r| r.is_rust() && r.summary.strategy == Strategy::AsyncConcurrent)
    else {
        return "no async-concurrent run to compare".to_string();
    };
    let n = fanout.summary.n;
    let fastest = rows
        .iter()
        .filter(|r| !r.is_rust() && r.summary.n == n && r.summary.ok() == n)
        .min_by(|a, b| a.summary.wall_ms.total_cmp(&b.summary.wall_ms));
    let Some(fastest) = fastest else {
        return format!("no Python peer answered all {n} requests: nothing to compare");
    };
    let (f, p) = (fanout.summary.wall_ms, fastest.summary.wall_ms);
    let held = f <= p;
    format!(
        "**{}**: at n = {n}, fanout async-concurrent took {} and the fastest Python peer, {} ({}), took {}: fanout {} by {:.2}x ({})",
        if held {
            "fanout is no slower than the fastest peer"
        } else {
            "fanout is slower than the fastest peer"
        },
        human_ms(f),
        fastest.label,
        fastest.library,
        human_ms(p),
        if held { "faster" } else { "slower" },
        if held { p / f } else { f / p },
        human_ms((p - f).abs()),
    )
}

/// The report's charts: `(file name, svg)`.
pub fn charts(rows: &[Row]) -> Result<Vec<(String, String)>, ChartError> {
    let mut files = Vec::new();
    let latency: Vec<_> = rows
        .iter()
        .map(|r| latency_row(&r.label, &r.output))
        .collect();
    files.push((
        "peers-latency.svg".to_string(),
        charts::latency_percentiles("Latency per client, both scenarios", &latency)?,
    ));
    let bars: Vec<_> = rows
        .iter()
        .map(|r| phase_bar(&r.label, &r.summary))
        .collect();
    files.push((
        "peers-phases.svg".to_string(),
        charts::phases("Where each client's last request spent its time", &bars)?,
    ));
    if let Some(first) = rows.first() {
        let n = first.summary.n;
        let mut same: Vec<&Row> = rows.iter().filter(|r| r.summary.n == n).collect();
        same.sort_by(|a, b| a.summary.wall_ms.total_cmp(&b.summary.wall_ms));
        let mut chosen: Vec<&Row> = Vec::new();
        let fanout = same
            .iter()
            .find(|r| r.is_rust() && r.summary.strategy == Strategy::AsyncConcurrent);
        let fastest_python = same.iter().find(|r| !r.is_rust());
        let slowest_python = same.iter().rev().find(|r| !r.is_rust());
        for row in [fanout, fastest_python, slowest_python]
            .into_iter()
            .flatten()
        {
            if !chosen.iter().any(|c| c.label == row.label) {
                chosen.push(row);
            }
        }
        let runs: Vec<_> = chosen
            .iter()
            .map(|r| timeline_run(&r.label, &r.output))
            .collect();
        files.push((
            "peers-timeline.svg".to_string(),
            charts::timeline(
                &format!("n = {n}: fanout against the fastest and slowest Python peers"),
                &runs,
            )?,
        ));
    }
    Ok(files)
}

/// The report's markdown.
pub fn markdown(rows: &[Row], run: &RunInfo, files: &[(String, String)]) -> String {
    render(|md| write_markdown(md, rows, run, files))
}

/// [`markdown`], written to any `fmt::Write`.
pub fn write_markdown(
    md: &mut impl fmt::Write,
    rows: &[Row],
    run: &RunInfo,
    files: &[(String, String)],
) -> fmt::Result {
    writeln!(md, "# fanout against the tutorials' Python clients\n")?;
    writeln!(
        md,
        "The tutorials' own patterns, written fresh in Python (`peers/python/`: `requests`, `httpx` with `gather`, a `TaskGroup` and a semaphore, `aiohttp` with a `TCPConnector` limit), run against the same mock API as fanout's strategies, a fresh server each, and measured the same way: the client's record of each request joined with the server's ledger.\n"
    )?;
    writeln!(md, "{}\n", verdict(rows))?;
    let settings = link_settings(rows);
    let header = Header {
        settings: &settings,
        took: "took",
        regenerate_note: "",
    };
    run.write_markdown(md, &header)?;
    let mut table = Table::new(
        [
            "client",
            "library",
            "n",
            "wall",
            "promise",
            "eff",
            "p50",
            "p99",
            "ok",
            "failures",
            "conns",
            "server peak",
        ]
        .map(|h| (h, Align::Left)),
    );
    for r in rows {
        table.row(
            [r.label.clone(), r.library.clone()]
                .into_iter()
                .chain(r.figures()),
        );
    }
    write!(md, "{}", table.markdown())?;
    writeln!(
        md,
        "\n*Promise* is the pattern's wall with no overheads (the slowest delay, waves of the limit, or the sum of the delays, plus the emulated network's round trips and handshakes); *eff* = promise / wall. *conns* and *server peak* are the server's own count.\n"
    )?;
    if let Some(legend) = not_measured_legend(rows.iter().map(|r| &r.summary)) {
        writeln!(md, "{legend}.\n")?;
    }
    for (name, _) in files {
        writeln!(md, "![{name}]({name})\n")?;
    }
    Ok(())
}
