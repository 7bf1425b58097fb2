//! Terminal tables for `run` and `compare`.

use std::io::{self, Write};

use crate::summary::RunSummary;

/// Formats milliseconds the way a person reads them: `512 ms`, `5.01 s`.
pub fn human_ms(ms: f64) -> String {
    if ms >= 10_000.0 {
        format!("{:.1} s", ms / 1e3)
    } else if ms >= 1_000.0 {
        format!("{:.2} s", ms / 1e3)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// A count the engine may not know: the number, or `n/a`.
pub fn count_or_na(count: Option<u64>) -> String {
    count.map_or("n/a".to_string(), |c| c.to_string())
}

/// The failures of a run, `-` when there were none: `http_5xx 3, cancelled 2`.
fn failures(summary: &RunSummary) -> String {
    let parts: Vec<String> = summary
        .outcomes
        .iter()
        .filter(|(kind, _)| **kind != "ok")
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// One run, as a short block of labelled lines.
pub fn write_run(out: &mut impl Write, s: &RunSummary) -> io::Result<()> {
    let mut settings = vec![format!("n={}", s.n), format!("profile {}", s.profile)];
    if let Some(limit) = s.limit {
        settings.push(format!("limit {limit}"));
    }
    if let Some(threads) = s.threads {
        settings.push(format!("threads {threads}"));
    }
    writeln!(out, "{}  ({})", s.strategy, settings.join(", "))?;
    writeln!(
        out,
        "  client     {} client, HTTP/{}, {}",
        client_name(s),
        http_name(s),
        s.execution
    )?;
    writeln!(
        out,
        "  wall       {}   (slowest delay {}, sum of delays {})",
        human_ms(s.wall_ms),
        human_ms(s.delays_ms.max),
        human_ms(s.delays_ms.sum)
    )?;
    writeln!(
        out,
        "  model      {}   efficiency {}   (per request {:.2} ms, per fresh connection in a burst {:.3} ms)",
        human_ms(s.predicted_ms),
        efficiency(s),
        s.calibration.per_request_ms,
        s.calibration.connect_ms
    )?;
    writeln!(out, "  throughput {:.1} req/s", s.throughput_rps)?;
    writeln!(
        out,
        "  outcomes   ok {}/{}   failures: {}",
        s.ok(),
        s.n,
        failures(s)
    )?;
    let l = &s.latency_ms;
    writeln!(
        out,
        "  latency    p50 {}  p90 {}  p99 {}  max {}",
        human_ms(l.p50),
        human_ms(l.p90),
        human_ms(l.p99),
        human_ms(l.max)
    )?;
    let v = &s.server;
    writeln!(
        out,
        "  server     received {}  peak in-flight {}  busiest second {}  connections {}  ({}, {})",
        v.received,
        v.peak_in_flight,
        v.max_per_second,
        count_or_na(v.connections),
        s.server_engine,
        s.server_placement
    )?;
    writeln!(
        out,
        "  overheads  send lag p99 {}  arrival spread {}  server beyond delay p99 {}",
        human_ms(s.send_lag_ms.p99),
        human_ms(v.arrival_spread_ms),
        human_ms(v.overhead_p99_ms)
    )
}

/// Several runs of one scenario side by side; speedups are against the first row.
pub fn write_compare(out: &mut impl Write, runs: &[RunSummary]) -> io::Result<()> {
    let Some(first) = runs.first() else {
        return Ok(());
    };
    writeln!(
        out,
        "n={}  profile {}  client {}  HTTP/{}  server {} ({})",
        first.n,
        first.profile,
        client_name(first),
        http_name(first),
        first.server_engine,
        first.server_placement
    )?;
    writeln!(out)?;
    let header = [
        "strategy",
        "wall",
        "model",
        "eff",
        "speedup",
        "p50",
        "p99",
        "ok",
        "failures",
        "peak",
        "conns",
        "send lag p99",
    ];
    let rows: Vec<[String; 12]> = runs
        .iter()
        .map(|s| {
            [
                s.strategy.to_string(),
                human_ms(s.wall_ms),
                human_ms(s.predicted_ms),
                efficiency(s),
                format!("{:.2}x", first.wall_ms / s.wall_ms.max(f64::MIN_POSITIVE)),
                human_ms(s.latency_ms.p50),
                human_ms(s.latency_ms.p99),
                format!("{}/{}", s.ok(), s.n),
                failures(s),
                s.server.peak_in_flight.to_string(),
                count_or_na(s.server.connections),
                human_ms(s.send_lag_ms.p99),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        cells
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                if c == 0 || c == 8 {
                    format!("{cell:<w$}", w = widths[c])
                } else {
                    format!("{cell:>w$}", w = widths[c])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "speedup = wall of {} / wall; model = the wall the seeded delays and calibrated overheads predict; eff = model / wall; peak and conns are the server's own count",
        first.strategy
    )
}

/// `0.98`, or `n/a` for a run cut short.
fn efficiency(s: &RunSummary) -> String {
    s.efficiency
        .map_or("n/a".to_string(), |e| format!("{e:.2}"))
}

fn client_name(s: &RunSummary) -> &'static str {
    match s.client {
        crate::strategy::ClientReuse::Shared => "shared",
        crate::strategy::ClientReuse::PerRequest => "per-request",
    }
}

fn http_name(s: &RunSummary) -> &'static str {
    match s.http {
        crate::strategy::HttpVersion::Http1 => "1.1",
        crate::strategy::HttpVersion::Http2 => "2",
    }
}
