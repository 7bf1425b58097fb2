//! Terminal tables for `run` and `compare`.
//!
//! A figure the run's engine does not give ([`crate::server::engine`]) reads "not
//! measured by this engine" on a labelled line, and `n/m` in a narrow table, with the
//! legend under it.

use std::io::{self, Write};

use super::columns::{Align, Table};
use crate::attribution::Leg;
use crate::measure::Outcome;
use crate::server::Figure;
use crate::server::engine::{NOT_MEASURED, NOT_MEASURED_LEGEND, NOT_MEASURED_SHORT};
use crate::summary::RunSummary;

/// Milliseconds the way a person reads them: `512 ms`, `5.01 s` ([`crate::duration::ms`]).
pub use crate::duration::ms as human_ms;

pub use crate::server::engine::{count_or_not_measured, count_or_short};

/// `ms` as [`human_ms`] when the run's engine gives `figure`, else `unmeasured`
/// ([`NOT_MEASURED`], or [`NOT_MEASURED_SHORT`] in a narrow table).
pub fn ms_if_measured(s: &RunSummary, figure: Figure, ms: f64, unmeasured: &str) -> String {
    if s.server_engine.measures(figure) {
        human_ms(ms)
    } else {
        unmeasured.to_string()
    }
}

/// The legend line for a narrow table that printed [`NOT_MEASURED_SHORT`], when one of
/// its runs' engines left a figure out.
pub fn not_measured_legend<'a>(runs: impl IntoIterator<Item = &'a RunSummary>) -> Option<String> {
    let mut runs = runs.into_iter();
    runs.find(|s| !s.server_engine.measures(Figure::Connections))
        .map(|s| {
            format!(
                "{NOT_MEASURED_LEGEND} ({}: connections, server time beyond the delay, receive)",
                s.server_engine
            )
        })
}

/// True for a run against a `--target` server: no ledger, so no model and no
/// server-side figures.
fn against_target(s: &RunSummary) -> bool {
    s.server_placement == crate::server::PlacementKind::Target.name()
}

/// The failures of a run, `-` when there were none: `http_5xx 3, cancelled 2`.
pub fn failures(summary: &RunSummary) -> String {
    let parts: Vec<String> = summary
        .outcomes
        .iter()
        .filter(|(kind, _)| **kind != Outcome::Ok)
        .map(|(kind, count)| format!("{kind} {count}"))
        .collect();
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(", ")
    }
}

/// The wall against the delays, and the model's prediction.
fn write_wall_and_model(out: &mut impl Write, s: &RunSummary) -> io::Result<()> {
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
    )
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
    if against_target(s) {
        writeln!(out, "  wall       {}", human_ms(s.wall_ms))?;
    } else {
        write_wall_and_model(out, s)?;
    }
    writeln!(out, "  throughput {:.1} req/s", s.throughput_rps)?;
    if let Some(f) = &s.client_footprint {
        writeln!(
            out,
            "  client     peak memory {:.1} MiB (+{:.1} MiB during the run), peak threads {}",
            f.peak_rss_mib,
            f.growth_mib(),
            f.peak_threads
        )?;
    }
    if let Some(c) = &s.calibrated_limit {
        writeln!(
            out,
            "  limit      {} = slowest delay {}{} + {} requests / {:.0} fresh connections per s;  wall / delay {:.2}x, wall / limit {:.2}x",
            human_ms(c.limit_ms),
            human_ms(c.delay_ms),
            if c.network_ms > 0.0 {
                format!(" + network {}", human_ms(c.network_ms))
            } else {
                String::new()
            },
            s.n,
            c.connection_rate_per_s,
            1.0 / c.efficiency_vs_delay,
            1.0 / c.efficiency_vs_limit,
        )?;
    }
    writeln!(
        out,
        "  outcomes   ok {}/{}   failures: {}",
        s.ok(),
        s.n,
        failures(s)
    )?;
    let l = &s.latency_ms;
    let model_p99 = if against_target(s) {
        String::new()
    } else {
        format!("   (model p99 {})", human_ms(s.predicted_latency_ms.p99))
    };
    let sent = if s.open_loop.is_some() {
        " from send"
    } else {
        ""
    };
    writeln!(
        out,
        "  latency    p50 {}  p90 {}  p99 {}  max {}{sent}{model_p99}",
        human_ms(l.p50),
        human_ms(l.p90),
        human_ms(l.p99),
        human_ms(l.max)
    )?;
    if let Some(open) = &s.open_loop {
        let i = &open.from_intended_ms;
        writeln!(
            out,
            "             p50 {}  p90 {}  p99 {}  max {} from the intended start   (model p99 {})",
            human_ms(i.p50),
            human_ms(i.p90),
            human_ms(i.p99),
            human_ms(i.max),
            human_ms(open.predicted_from_intended_ms.p99)
        )?;
        writeln!(
            out,
            "  open loop  {}, at most {} in flight: {} of {} starts late",
            open.schedule, open.max_in_flight, open.late, s.n
        )?;
    }
    write_after_gather(out, s)?;
    let v = &s.server;
    if against_target(s) {
        return writeln!(
            out,
            "  server     a --target server: its side is not measured (no ledger, no model)"
        );
    }
    let stalled = match v.stalled {
        0 => String::new(),
        k => format!("  stalled {k}"),
    };
    writeln!(
        out,
        "  server     received {}  peak in-flight {}  busiest second {}  connections {}{}{}  ({}, {})",
        v.received,
        v.peak_in_flight,
        v.max_per_second,
        count_or_not_measured(v.connections),
        v.resumed_connections
            .map_or(String::new(), |k| format!(" ({k} TLS resumed)")),
        stalled,
        s.server_engine,
        s.server_placement
    )?;
    let a = &s.attribution;
    let c = &a.critical;
    let (leg_out, leg_back) = (a.leg(Leg::Out), a.leg(Leg::Back));
    writeln!(
        out,
        "  last one   request {}: start {} + {leg_out} {} + delay {} + server {} + {leg_back} {} = {}",
        c.seq,
        human_ms(c.start_ms),
        human_ms(c.send_lag_ms),
        human_ms(c.delay_ms),
        human_ms(c.server_ms),
        human_ms(c.receive_ms),
        human_ms(c.end())
    )?;
    writeln!(
        out,
        "  overheads  p99 {leg_out} {}  server beyond delay {}  {leg_back} {}  arrival spread {}",
        human_ms(a.send_lag_ms.p99),
        ms_if_measured(s, Figure::AnswerTimes, a.server_ms.p99, NOT_MEASURED),
        ms_if_measured(s, Figure::AnswerTimes, a.receive_ms.p99, NOT_MEASURED),
        human_ms(v.arrival_spread_ms),
    )?;
    writeln!(
        out,
        "  gap        {} {} the model: {}",
        human_ms(a.gap_ms.abs()),
        if a.gap_ms >= 0.0 { "over" } else { "under" },
        a.describe_bottleneck()
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
    // The runs of one compare share their network, so the first one's names the legs.
    let over_network = first.attribution.over_network;
    let (lag, recv) = (
        Leg::Out.short_name(over_network),
        Leg::Back.short_name(over_network),
    );
    let (out_is, back_is) = if over_network {
        (
            " (the network's round trips, and a fresh connection's handshakes)",
            " (its way back over the network)",
        )
    } else {
        ("", "")
    };
    let (lag_p99, recv_p99) = (format!("{lag} p99"), format!("{recv} p99"));
    let right = |h: &str| (h.to_string(), Align::Right);
    let mut table = Table::new([
        ("strategy".to_string(), Align::Left),
        right("wall"),
        right("model"),
        right("eff"),
        right("speedup"),
        right("p50"),
        right("p99"),
        right("ok"),
        ("failures".to_string(), Align::Left),
        right("peak"),
        right("conns"),
        right(&lag_p99),
        right("server+ p99"),
        right(&recv_p99),
    ]);
    for s in runs {
        let a = &s.attribution;
        // A --target server has no ledger and no model: its side reads "not measured".
        let target = against_target(s);
        let server_side = |text: String| match target {
            true => NOT_MEASURED_SHORT.to_string(),
            false => text,
        };
        table.row([
            s.strategy.to_string(),
            human_ms(s.wall_ms),
            server_side(human_ms(s.predicted_ms)),
            efficiency(s),
            format!("{:.2}x", first.wall_ms / s.wall_ms.max(f64::MIN_POSITIVE)),
            human_ms(s.latency_ms.p50),
            human_ms(s.latency_ms.p99),
            format!("{}/{}", s.ok(), s.n),
            failures(s),
            server_side(s.server.peak_in_flight.to_string()),
            count_or_short(s.server.connections),
            server_side(human_ms(a.send_lag_ms.p99)),
            server_side(ms_if_measured(
                s,
                Figure::AnswerTimes,
                a.server_ms.p99,
                NOT_MEASURED_SHORT,
            )),
            server_side(ms_if_measured(
                s,
                Figure::AnswerTimes,
                a.receive_ms.p99,
                NOT_MEASURED_SHORT,
            )),
        ]);
    }
    write!(out, "{table}")?;
    writeln!(out)?;
    for s in runs {
        // What the copies bought: the tail beside the first run's, and what it cost.
        if let Some(c) = &s.copies {
            writeln!(
                out,
                "{}: {} copies beside the {} requests ({:+.1} % at the server); p99 {} and p99.9 {}, against {} and {} for {}",
                s.strategy,
                c.copies_sent,
                s.n,
                c.extra_fraction.unwrap_or(f64::NAN) * 100.0,
                human_ms(s.latency_ms.p99),
                human_ms(s.latency_ms.p999),
                human_ms(first.latency_ms.p99),
                human_ms(first.latency_ms.p999),
                first.strategy
            )?;
        }
    }
    for s in runs {
        if s.attribution.bottleneck == crate::attribution::Bottleneck::Server {
            writeln!(
                out,
                "{}: {}",
                s.strategy,
                s.attribution.describe_bottleneck()
            )?;
        }
    }
    if let Some(legend) = not_measured_legend(runs) {
        writeln!(out, "{legend}")?;
    } else if against_target(first) {
        writeln!(
            out,
            "{NOT_MEASURED_SHORT} = not measured: a --target server keeps no ledger fanout can read, so no model, peak, connections or server-side legs"
        )?;
    }
    writeln!(
        out,
        "speedup = wall of {} / wall; model = the wall the seeded delays and calibrated overheads predict; eff = model / wall; peak and conns are the server's own count; {lag} = client start to server arrival{out_is}, server+ = server time beyond the delay, {recv} = server answer to client end{back_is}",
        first.strategy,
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

/// The lines of the patterns after gather: a stop, the copies, the channel.
fn write_after_gather(out: &mut impl Write, s: &RunSummary) -> std::io::Result<()> {
    if let Some(stop) = &s.stopped {
        let reason = match stop.reason {
            crate::strategy::stop::StopReason::Interrupt => "Ctrl-C",
            crate::strategy::stop::StopReason::StopAfter => "--stop-after",
        };
        let cut = stop
            .cut_at_ms
            .map_or("nothing left to cut".to_string(), |at| {
                format!("the rest cut at {}", human_ms(at))
            });
        writeln!(
            out,
            "  stopped    by {reason} at {} (grace {}, {cut}): {} finished, {} never sent, {} cut",
            human_ms(stop.stopped_at_ms),
            human_ms(stop.grace_ms),
            stop.finished,
            stop.never_sent,
            stop.cut
        )?;
    }
    if let Some(c) = &s.copies {
        let at_server = match (c.received_at_server, c.extra_fraction) {
            (Some(received), Some(extra)) => format!(
                "; the server received {received} ({:+.1} % over n), {} abandoned",
                extra * 100.0,
                c.abandoned_at_server.unwrap_or(0)
            ),
            _ => String::new(),
        };
        writeln!(
            out,
            "  copies     {} sent beside the requests, by {} of {}{at_server}; p99.9 {} (model {})",
            c.copies_sent,
            c.requests_with_copies,
            s.n,
            human_ms(s.latency_ms.p999),
            human_ms(s.predicted_latency_ms.p999)
        )?;
    }
    if let Some(p) = &s.pipeline {
        let bound = p
            .expected_bodies()
            .map_or("no bound but n".to_string(), |k| {
                format!("at most {k} by design")
            });
        writeln!(
            out,
            "  pipeline   channel {}, {} fetchers, {} consumers at {} each: peak {} queued, {} fetching; {} consumed by {}; bodies held {bound}",
            p.channel,
            p.fetchers,
            p.consumers,
            human_ms(p.work_ms),
            p.peak_queued,
            p.peak_fetching,
            p.consumed,
            human_ms(p.drained_ms)
        )?;
    }
    Ok(())
}
