//! `fanout serve`: the mock API on its own, so a client in any language can be measured
//! against it. It prints its URL and endpoints, serves until Ctrl-C or `--duration`,
//! and prints what its ledger saw when it stops. Its ledger aggregates
//! ([`LedgerMode::Aggregating`]): a client may load it for hours, and its memory stays
//! flat.
//!
//! With `--tls 1.3|1.2` it serves HTTPS on a certificate made at start. Its CA
//! certificate (never a key) goes to a file, `--ca-out PATH` (kept) or one in a
//! temporary directory (removed when the server stops), and the path is printed with
//! what curl, Python and OpenSSL-based clients need to trust it.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::duration::ms as human_ms;
use crate::error::Error;
use crate::server::aggregate::AggregateSummary;
use crate::server::engine::count_or_not_measured;
use crate::server::ledger::LedgerMode;
use crate::server::tls::CaCertificate;
use crate::server::{MockApi, Placement, ServerConfig, serve_control_stdio};

/// Serves until interrupted or out of time.
pub fn serve(args: &ServeArgs) -> Result<(), Error> {
    // Before any connection: a burst of accepts then never waits for the table to grow.
    crate::fdlimit::reserve_for_server();
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
    config.tls = args.tls;
    config.tls_resumption = args.connections.tls_resumption();
    config.keep_alive = args.connections.server_keep_alive;
    let mut server = MockApi::start(&config, &Placement::InProcess)?;
    println!("fanout mock API listening on {}", server.url());
    // Held until the server stops: a temporary directory is removed when it drops.
    let _ca_file = match server.ca_certificate() {
        Some(ca) => Some(write_ca(ca, args.ca_out.as_deref(), &config, server.url())?),
        None => None,
    };
    let network = config.profile.network;
    if !network.is_loopback() {
        let setup = 1 + config.tls.map_or(0, |tls| tls.handshake_round_trips());
        let resumed = match config.tls {
            Some(crate::server::tls::TlsVersion::Tls12)
                if config.tls_resumption == crate::server::tls::SessionResumption::On =>
            {
                format!(" ({} when its TLS session is resumed)", setup)
            }
            _ => String::new(),
        };
        println!(
            "behind an emulated network, {network}: a request on a new connection costs {} round trips{resumed}, on a reused one 1",
            setup + 1
        );
    }
    if config.keep_alive == crate::server::KeepAlive::Off {
        println!("keep-alive off: each HTTP/1.1 connection closes after its answer");
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
    if let Some(stall) = config.profile.stall {
        println!(
            "stall {}: every answer due {} to {} after the first request leaves at {}",
            stall.describe(),
            human_ms(ms(stall.start())),
            human_ms(ms(stall.end())),
            human_ms(ms(stall.end()))
        );
    }
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

/// Where the CA certificate was written; a temporary directory is removed when dropped.
struct CaFile {
    _dir: Option<tempfile::TempDir>,
}

/// Writes the CA certificate to `path` (or a temporary directory) and prints how each
/// kind of client trusts it.
fn write_ca(
    ca: &CaCertificate,
    path: Option<&Path>,
    config: &ServerConfig,
    url: &str,
) -> Result<CaFile, Error> {
    let (dir, path) = match path {
        Some(path) => (None, path.to_path_buf()),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("fanout-serve-")
                .tempdir()
                .map_err(|e| Error::io("making a directory for the CA certificate", e))?;
            let path = dir.path().join("fanout-ca.pem");
            (Some(dir), path)
        }
    };
    std::fs::write(&path, ca.pem()).map_err(|e| {
        Error::InvalidScenario(format!(
            "--ca-out {}: cannot write there ({e})",
            path.display()
        ))
    })?;
    let version = config.tls.map_or(String::new(), |v| v.to_string());
    let kept = if dir.is_some() {
        "removed when the server stops; --ca-out PATH keeps one"
    } else {
        "kept"
    };
    let shown = path.display();
    let first_path = config
        .profile
        .endpoints
        .first()
        .map_or("/", |e| if e.path == "*" { "/" } else { e.path.as_str() });
    let resumption = match config.tls_resumption {
        crate::server::tls::SessionResumption::On => "sessions resume",
        crate::server::tls::SessionResumption::Off => "no session resumes",
    };
    println!("{version} only, {resumption}; ALPN offers h2 and http/1.1");
    println!("CA certificate: {shown} ({kept}); trust it and nothing else:");
    println!("  curl --cacert {shown} {url}{first_path}");
    println!("  python requests: requests.get(url, verify=\"{shown}\")");
    // httpx 0.28 deprecates a path in verify=; it takes an SSLContext.
    println!(
        "  python httpx: httpx.get(url, verify=ssl.create_default_context(cafile=\"{shown}\"))"
    );
    println!("  OpenSSL-based clients: SSL_CERT_FILE={shown}");
    Ok(CaFile { _dir: dir })
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
    if s.stalled > 0 {
        writeln!(out, "{} answers held by the stall", s.stalled)?;
    }
    if s.tls_failed > 0 {
        writeln!(
            out,
            "{} TLS handshakes failed or were abandoned half-way (no request on them)",
            s.tls_failed
        )?;
    }
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
