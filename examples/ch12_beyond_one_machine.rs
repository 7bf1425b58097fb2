//! Chapter 12: beyond one machine. What a fan-out needs past what one machine holds,
//! worked out from costs measured here, and the same scenario handed to a load engine:
//!
//! 1. the scenario as a Locust file and a k6 script: what maps exactly and what does
//!    not (the header `fanout export` writes);
//! 2. three costs measured on this machine with fanout's own client and mock API: the
//!    memory of one request in flight, the CPU of a new client and connection (with a
//!    TLS 1.3 handshake) against a kept-alive one, and the requests a second this
//!    machine serves at zero delay;
//! 3. those costs and the kernel's limits turned into what 10^4, 10^5 and 10^6 calls
//!    at once would need, resource by resource, with the one that binds first.
//!
//! No load engine is needed here; `fanout distributed` runs them (chapter 12).
//!
//! ```sh
//! cargo run --release --example ch12_beyond_one_machine            # all steps
//! cargo run --release --example ch12_beyond_one_machine -- --step  # pause between steps
//! ```

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use fanout::distributed::on_paper::{self, Costs, Machine};
use fanout::distributed::processes::own_cpu_s;
use fanout::export::{self, LoadEngine};
use fanout::footprint::Footprint;
use fanout::server::KeepAlive;
use fanout::server::latency::Latency;
use fanout::server::profile::Profile;
use fanout::server::tls::{SessionResumption, TlsVersion};
use fanout::walkthrough::Steps;
use fanout::{MockApi, Placement, RunSummary, Scenario, Strategy};

/// The delay each of the n calls at once is held for, on paper.
const DELAY: Duration = Duration::from_millis(500);

/// The window all n calls start in, on paper: their handshakes must fit in it.
const START_WINDOW: Duration = Duration::from_secs(1);

fn scenario(strategy: Strategy, n: u64, delay: Duration) -> Scenario {
    Scenario::new(Profile::single(Latency::Fixed(delay)), n, strategy)
}

/// Runs `scenario` on a fresh in-process mock API; returns its summary, its
/// footprint and the CPU seconds this process spent on it (client and server).
fn measured(scenario: &Scenario) -> anyhow::Result<(RunSummary, Option<Footprint>, f64)> {
    let mut server = MockApi::start(&scenario.server_config(), &Placement::InProcess)?;
    let before = own_cpu_s();
    let (output, footprint) =
        Footprint::measure(|| fanout::run_on(scenario, &mut server, Arc::new(AtomicU64::new(0))));
    let cpu = own_cpu_s() - before;
    Ok((RunSummary::from_output(&output?), footprint, cpu))
}

fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();

    steps.next("the same scenario, written for two load engines");
    let mut limited = scenario(Strategy::AsyncSemaphore, 2000, Duration::from_millis(50));
    limited.client.limit = 50;
    for engine in [LoadEngine::Locust, LoadEngine::K6] {
        let plan = export::plan(&limited, engine, "http://127.0.0.1:8080")?;
        println!("  {}: {:?}", engine.name(), plan.pace);
        for line in plan.header_lines().iter().skip(3) {
            println!("    {line}");
        }
    }
    for strategy in [Strategy::AsyncHedged, Strategy::AsyncArrivalRate] {
        let why = export::plan(&scenario(strategy, 10, DELAY), LoadEngine::Locust, "")
            .err()
            .map_or("exported".to_string(), |e| e.to_string());
        println!("  {why}");
    }

    steps.next("three costs, measured on this machine");
    let n_at_once = 2000;
    let at_once = scenario(
        Strategy::AsyncConcurrent,
        n_at_once,
        Duration::from_millis(300),
    );
    let (_, footprint, _) = measured(&at_once)?;
    let mib_per_request = footprint.map_or(0.05, |f| {
        (f.peak_rss_mib - f.rss_before_mib).max(0.0) / n_at_once as f64
    });
    println!(
        "  memory: {n_at_once} requests in flight at once took {:.1} MiB more: {:.1} KiB each, client and server",
        mib_per_request * n_at_once as f64,
        mib_per_request * 1024.0
    );
    // ANCHOR: costs
    // One shared client throughout; the server closes each connection after its
    // answer (so every request connects again) and keeps no TLS sessions (so every
    // handshake is a full one).
    let per_request = |keep_alive: KeepAlive, tls: Option<TlsVersion>| {
        let mut s = scenario(Strategy::AsyncSemaphore, 600, Duration::ZERO);
        s.client.limit = 10;
        s.server_keep_alive = keep_alive;
        s.tls = tls;
        s.tls_resumption = SessionResumption::Off;
        measured(&s).map(|(summary, _, cpu)| (cpu * 1e3 / 600.0, summary.throughput_rps))
    };
    let (kept_ms, kept_rps) = per_request(KeepAlive::On, None)?;
    let (tcp_ms, _) = per_request(KeepAlive::Off, None)?;
    let (tls_ms, _) = per_request(KeepAlive::Off, Some(TlsVersion::Tls13))?;
    println!(
        "  CPU per request, client and server: {kept_ms:.3} ms on a kept-alive connection, {tcp_ms:.3} ms on a new TCP connection, {tls_ms:.3} ms with a full TLS 1.3 handshake on it"
    );
    let handshake_cpu_ms = (tls_ms - kept_ms).max(0.0);
    // ANCHOR_END: costs
    let mut throughput = scenario(Strategy::AsyncSemaphore, 5000, Duration::ZERO);
    throughput.client.limit = 50;
    let (summary, _, _) = measured(&throughput)?;
    let server_requests_per_s = summary.throughput_rps.max(kept_rps);
    println!(
        "  serving: {:.0} requests a second at zero delay, 50 in flight, with the client on the same cores (a floor on the server's own capacity)",
        server_requests_per_s
    );

    steps.next("n calls at once, on paper");
    let machine = Machine::here();
    println!(
        "  this machine: {} descriptors a process, {} source ports per source address, {} cores, {:.0} GiB",
        machine.descriptors,
        machine.ephemeral_ports,
        machine.cores,
        machine.memory_mib / 1024.0
    );
    let costs = Costs {
        mib_per_request,
        handshake_cpu_ms,
        server_requests_per_s,
    };
    println!(
        "  each call held {} ms, all started within {} s (TLS 1.3, a new connection each)",
        DELAY.as_millis(),
        START_WINDOW.as_secs()
    );
    // ANCHOR: needs
    for n in [10_000u64, 100_000, 1_000_000] {
        let needs = on_paper::needs(n, DELAY, START_WINDOW, &machine, &costs);
        println!(
            "  n = {n}: binds first: {} ({} {})",
            needs[0].resource, needs[0].units, needs[0].unit
        );
        for need in &needs {
            println!(
                "    {:<50} {:>12.0} -> {:>5} {}",
                need.resource, need.needed, need.units, need.unit
            );
        }
    }
    // ANCHOR_END: needs
    Ok(())
}
