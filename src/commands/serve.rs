//! `fanout serve`: the mock API on its own, so a client in any language can be measured
//! against it. It prints its URL and endpoints, serves until Ctrl-C or `--duration`,
//! and prints what its ledger saw when it stops.

use std::time::Duration;

use crate::cli::ServeArgs;
use crate::duration::ms as human_ms;
use crate::error::Error;
use crate::server::{MockApi, Placement, ServerConfig, serve_control_stdio};

/// Serves until interrupted or out of time.
pub fn serve(args: &ServeArgs) -> Result<(), Error> {
    if args.control.as_deref() == Some("stdio") {
        return serve_control_stdio();
    }
    let profile = super::profile(args.profile.as_deref(), args.delay, &args.faults)?;
    let mut config = ServerConfig::new(profile, args.seed);
    config.port = args.port;
    config.workers = args.workers;
    config.engine = args.engine;
    let mut server = MockApi::start(&config, &Placement::InProcess)?;
    println!("fanout mock API listening on {}", server.url());
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
    let summary = server.ledger()?.summary();
    println!(
        "served {} requests ({} abandoned by their client) {}; peak in-flight {}, busiest second {}",
        summary.received,
        summary.abandoned,
        crate::server::engine::on_connections(summary.connections),
        summary.peak_in_flight,
        summary.max_per_second
    );
    Ok(())
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
