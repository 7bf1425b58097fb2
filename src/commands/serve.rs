//! `fanout serve`: the mock API on its own, so a client in any language can be measured
//! against it. It prints its URL and endpoints, serves until Ctrl-C or `--duration`,
//! and prints what its ledger saw when it stops. Its ledger aggregates
//! ([`LedgerMode::Aggregating`]): a client may load it for hours, and its memory stays
//! flat.

use std::io::{self, Write};
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::duration::ms as human_ms;
use crate::error::Error;
use crate::server::aggregate::AggregateSummary;
use crate::server::engine::count_or_not_measured;
use crate::server::ledger::LedgerMode;
use crate::server::{MockApi, Placement, ServerConfig, serve_control_stdio};

/// Serves until interrupted or out of time.
pub fn serve(args: &ServeArgs) -> Result<(), Error> {
    if args.control.as_deref() == Some("stdio") {
        return serve_control_stdio();
    }
    let profile = super::profile(
        args.profile.as_deref(),
        args.delay,
        &args.faults,
        &args.network,
    )?;
    let mut config = ServerConfig::new(profile, args.seed);
    config.port = args.port;
    config.workers = args.workers;
    config.engine = args.engine;
    config.ledger = LedgerMode::Aggregating;
    let mut server = MockApi::start(&config, &Placement::InProcess)?;
    println!("fanout mock API listening on {}", server.url());
    let network = config.profile.network;
    if !network.is_loopback() {
        println!(
            "behind an emulated network, {network}: a request on a new connection costs 2 round trips, on a reused one 1"
        );
    }
    if let Some(note) = config.engine.serve_note() {
        println!("{note}");
    }
    for endpoint in &config.profile.endpoints {
        let path = match (&endpoint.query, endpoint.path.as_str()) {
            (_, "*") => "/<any path>".to_string(),
            (Some(query), path) => crate::redact::url(&format!("{path}?{query}")),
            (None, path) => path.to_string(),
        };
        println!(
            "  {:<6} {}{:<28} {} after {}  ({})",
            endpoint.method,
            server.url(),
            path,
            endpoint.status,
            endpoint.latency,
            endpoint.name
        );
    }
    println!("add ?seq=N to a request to get the same delay for request N on every run");
    match args.duration {
        Some(limit) => println!(
            "serving for {}; Ctrl-C stops it sooner",
            human_ms(ms(limit))
        ),
        None => println!("serving until Ctrl-C"),
    }
    wait_for_stop(args.duration)?;
    let summary = server.aggregate_summary()?;
    write_summary(&mut io::stdout().lock(), &summary)
        .map_err(|e| Error::io("printing the summary", e))
}

/// What the server saw, in three lines: counts, statuses, server time.
fn write_summary(out: &mut impl Write, s: &AggregateSummary) -> io::Result<()> {
    writeln!(
        out,
        "served {} requests ({} abandoned by their client) {}; peak in-flight {}, busiest second {}",
        s.received,
        s.abandoned,
        crate::server::engine::on_connections(s.connections),
        count_or_not_measured(s.peak_in_flight),
        s.max_per_second
    )?;
    if s.statuses.is_empty() {
        return Ok(());
    }
    let statuses: Vec<String> = s
        .statuses
        .iter()
        .map(|(status, count)| format!("{status} × {count}"))
        .collect();
    writeln!(out, "answered {}", statuses.join(", "))?;
    writeln!(
        out,
        "server time p50 {}, p99 {}; beyond the injected delay p50 {}, p99 {}",
        fine_ms(s.server_ms.p50),
        fine_ms(s.server_ms.p99),
        fine_ms(s.overhead_ms.p50),
        fine_ms(s.overhead_ms.p99)
    )
}

/// [`human_ms`], with microseconds below one millisecond (a zero-delay answer takes
/// tens of them).
fn fine_ms(ms: f64) -> String {
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1e3)
    } else {
        human_ms(ms)
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Blocks until Ctrl-C, or until `limit` has passed.
fn wait_for_stop(limit: Option<Duration>) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the signal runtime", e))?;
    runtime.block_on(async {
        let limit = limit.unwrap_or(Duration::from_secs(u32::MAX as u64));
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = tokio::time::sleep(limit) => {}
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_statuses_and_server_time() {
        let mut summary = AggregateSummary {
            received: 12,
            abandoned: 1,
            connections: Some(3),
            peak_in_flight: None,
            max_per_second: 9,
            ..AggregateSummary::default()
        };
        summary.statuses.insert(200, 10);
        summary.statuses.insert(429, 1);
        summary.server_ms.p50 = 0.042;
        summary.server_ms.p99 = 105.3;
        summary.overhead_ms.p50 = 0.04;
        summary.overhead_ms.p99 = 5.3;
        let mut out = Vec::new();
        write_summary(&mut out, &summary).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "served 12 requests (1 abandoned by their client) on 3 connections; peak in-flight not measured by this engine, busiest second 9\n\
             answered 200 × 10, 429 × 1\n\
             server time p50 42 µs, p99 105 ms; beyond the injected delay p50 40 µs, p99 5.3 ms\n"
        );
    }
}
