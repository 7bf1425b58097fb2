//! The peers report: fanout's strategies, the tutorials' Python clients and the load
//! tools (oha, wrk) on the same scenarios, one table, the verdicts ("fanout is no
//! slower than the fastest Python peer", fanout's client against oha's and wrk's), and
//! charts (latency percentiles; a timeline of the fastest and slowest clients).

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

/// Whose client a row ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClientKind {
    /// One of fanout's strategies.
    Fanout,
    /// A Python peer (`peers/python/`).
    Python,
    /// A load tool (oha, wrk).
    LoadTool,
}

/// One client's run.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// `fanout async-concurrent`, `python aiohttp (no limit)`, `oha -c 50`, ...
    pub label: String,
    /// Whose client it is.
    pub kind: ClientKind,
    /// `rust`, the Python library and version, or the tool's version.
    pub library: String,
    /// Which scenario it ran: rows of one scenario share it (the index of the
    /// scenario's first row), so the report compares only rows of the same scenario.
    #[serde(skip)]
    pub scenario: usize,
    /// The figures.
    pub summary: RunSummary,
    /// The raw run, for charts.
    #[serde(skip)]
    pub output: RunOutput,
}

impl Row {
    fn is_rust(&self) -> bool {
        self.kind == ClientKind::Fanout
    }

    fn is_python(&self) -> bool {
        self.kind == ClientKind::Python
    }

    /// fanout's own run of `strategy` at this row's n.
    fn is_fanout(&self, strategy: Strategy) -> bool {
        self.is_rust() && self.summary.strategy == strategy
    }

    /// The tutorials' promise for this client's pattern: the model without overheads.
    fn promise_ms(&self) -> f64 {
        model::predict_scenario(&self.output.scenario, &Calibration::default()).wall_ms
    }

    /// The figures both tables print after the label (and the library): n, wall,
    /// req/s, promise, eff, p50, p99, ok, failures, conns, peak.
    fn figures(&self) -> [String; 11] {
        let s = &self.summary;
        [
            s.n.to_string(),
            human_ms(s.wall_ms),
            format!("{:.0}", s.throughput_rps),
            human_ms(self.promise_ms()),
            // At zero delay the pattern promises nothing to be measured against.
            if self.promise_ms() < 0.001 {
                "-".to_string()
            } else {
                format!(
                    "{:.2}",
                    self.promise_ms() / s.wall_ms.max(f64::MIN_POSITIVE)
                )
            },
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
        right("req/s"),
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
        "\nreq/s = n / wall; promise = the pattern's wall with no overheads (the slowest delay, waves of the limit, or the sum, plus the emulated network's round trips); eff = promise / wall; conns and peak are the server's own count"
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
        .filter(|r| r.is_python() && r.summary.n == n && r.summary.ok() == n)
        .min_by(|a, b| a.summary.wall_ms.total_cmp(&b.summary.wall_ms));
    let Some(fastest) = fastest else {
        return format!("no Python peer answered all {n} requests: nothing to compare");
    };
    let (f, p) = (fanout.summary.wall_ms, fastest.summary.wall_ms);
    let held = f <= p;
    format!(
        "**{}**: at n = {n}, fanout async-concurrent took {} and the fastest Python peer, {} ({}), took {}: fanout {} by {:.2}x ({})",
        if held {
            "fanout is no slower than the fastest Python peer"
        } else {
            "fanout is slower than the fastest Python peer"
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

/// fanout's client against the load tools, one line per comparison that ran: in each
/// scenario, fanout's strategy of the tool's schedule, and
/// `async-hyper` where it ran, against the tool, by requests per second (n / wall: at
/// the same n, the inverse ratio of the walls; wrk's n is what it counted).
pub fn tool_verdicts(rows: &[Row]) -> Vec<String> {
    let mut lines = Vec::new();
    for tool in rows.iter().filter(|r| r.kind == ClientKind::LoadTool) {
        let schedule = tool.output.scenario.strategy;
        let rate = tool.summary.throughput_rps.max(f64::MIN_POSITIVE);
        for fanout in rows.iter().filter(|r| {
            r.scenario == tool.scenario
                && (r.is_fanout(schedule) || r.is_fanout(Strategy::AsyncHyper))
        }) {
            lines.push(format!(
                "{} made {} requests in {} ({:.0} req/s), {} made {} in {} ({:.0} req/s): fanout did {:.2} x its requests per second",
                fanout.label,
                fanout.summary.n,
                human_ms(fanout.summary.wall_ms),
                fanout.summary.throughput_rps,
                tool.label,
                tool.summary.n,
                human_ms(tool.summary.wall_ms),
                tool.summary.throughput_rps,
                fanout.summary.throughput_rps / rate
            ));
        }
    }
    lines
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
        let fastest_python = same.iter().find(|r| r.is_python());
        let slowest_python = same.iter().rev().find(|r| r.is_python());
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
    writeln!(
        md,
        "# fanout against the tutorials' Python clients and the load tools\n"
    )?;
    writeln!(
        md,
        "The tutorials' own patterns, written fresh in Python (`peers/python/`: `requests`, `httpx` with `gather`, a `TaskGroup` and a semaphore, `aiohttp` with a `TCPConnector` limit, and the newer `httpx2` and `niquests`), and the load tools a user would reach for instead (`oha`, `wrk`, when installed), run against the same mock API as fanout's strategies, a fresh server each, and measured the same way: the client's record of each request joined with the server's ledger.\n"
    )?;
    writeln!(md, "{}\n", verdict(rows))?;
    for line in tool_verdicts(rows) {
        writeln!(md, "- {line}")?;
    }
    writeln!(md)?;
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
            "req/s",
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
        "\n*req/s* = n / wall. *Promise* is the pattern's wall with no overheads (the slowest delay, waves of the limit, or the sum of the delays, plus the emulated network's round trips and handshakes); *eff* = promise / wall. *conns* and *server peak* are the server's own count.\n"
    )?;
    if let Some(legend) = not_measured_legend(rows.iter().map(|r| &r.summary)) {
        writeln!(md, "{legend}.\n")?;
    }
    for (name, _) in files {
        writeln!(md, "![{name}]({name})\n")?;
    }
    Ok(())
}
