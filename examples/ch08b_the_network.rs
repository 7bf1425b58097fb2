//! Chapter 8b: the network. What a round trip and a handshake cost, and why a shared
//! client and HTTP/2 matter over the internet and hardly on loopback.
//!
//! The same small workload runs three times: on plain loopback, across a continent
//! (an emulated 40 ms round trip), and across the continent over TLS 1.3. Each time
//! once with one shared client and once with a new client per request, one request
//! after another; then all at once over HTTP/1.1 and over HTTP/2. Every run goes
//! through the library's own pipeline (a fresh mock API, calibration, the run) and is
//! printed next to the model's figure for it.
//!
//! ```sh
//! cargo run --release --example ch08b_the_network            # all steps
//! cargo run --release --example ch08b_the_network -- --step  # pause between steps
//! ```
//!
//! The command-line equivalent of one row is, for example,
//! `cargo run --release -- run -s async-sequential -n 10 --delay 20ms --network continent --tls 1.3 --client per-request`.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use fanout::model::{self, LinkCosts, Setup};
use fanout::server::latency::Latency;
use fanout::server::network::{Network, Preset};
use fanout::server::profile::Profile;
use fanout::server::tls::TlsVersion;
use fanout::walkthrough::{Steps, seconds};
use fanout::{ClientReuse, HttpVersion, Placement, RunSummary, Scenario, Strategy};

/// Requests made one after another in each of the sequential runs.
const N: u64 = 10;
/// What the server waits before it answers each of them.
const DELAY: Duration = Duration::from_millis(20);
/// Requests made all at once in the HTTP/1.1 against HTTP/2 step.
const BURST_N: u64 = 20;

// ANCHOR: links
/// Where the mock API is, as far as the client can tell: how far away, and whether
/// every new connection must first agree on TLS.
#[derive(Debug, Clone, Copy)]
struct Link {
    label: &'static str,
    network: Network,
    tls: Option<TlsVersion>,
}

/// Loopback, a continent away, and a continent away over HTTPS.
fn links() -> [Link; 3] {
    let continent = Preset::Continent.network(); // rtt 40 ms
    [
        Link {
            label: "loopback",
            network: Preset::Loopback.network(),
            tls: None,
        },
        Link {
            label: "continent, plain HTTP",
            network: continent,
            tls: None,
        },
        Link {
            label: "continent, TLS 1.3",
            network: continent,
            tls: Some(TlsVersion::Tls13),
        },
    ]
}
// ANCHOR_END: links

/// How the requests share connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// One reqwest client, so one pool: HTTP/1.1, a connection per request in flight.
    Shared,
    /// A new client for every request, so a new connection (and handshake) each time.
    PerRequest,
    /// One client speaking HTTP/2: every request a stream of one connection.
    Http2,
}

impl Client {
    fn label(self) -> &'static str {
        match self {
            Client::Shared => "shared client",
            Client::PerRequest => "client per request",
            Client::Http2 => "shared client, HTTP/2",
        }
    }
}

// ANCHOR: scenario
/// `n` requests to one endpoint answering after `DELAY`, over `link`, made by
/// `strategy` with `client`: a scenario like any `fanout run` makes from its flags.
fn scenario(link: &Link, client: Client, strategy: Strategy, n: u64) -> Scenario {
    let mut profile = Profile::single(Latency::Fixed(DELAY));
    profile.network = link.network;
    let mut scenario = Scenario::new(profile, n, strategy);
    scenario.tls = link.tls;
    match client {
        Client::Shared => {}
        Client::PerRequest => scenario.client.reuse = ClientReuse::PerRequest,
        Client::Http2 => scenario.client.http = HttpVersion::Http2,
    }
    scenario
}
// ANCHOR_END: scenario

// ANCHOR: measure
/// One run's figures and the model's wall for it.
struct Measured {
    summary: RunSummary,
    model_ms: f64,
}

/// Runs `scenario` as `fanout run` does (a fresh mock API, the calibration probes,
/// the run) and asks the model what it should have taken.
fn measure(scenario: &Scenario) -> anyhow::Result<Measured> {
    let progress = Arc::new(AtomicU64::new(0));
    let output = fanout::run_fresh(scenario, &Placement::InProcess, progress)?;
    let model_ms = model::predict_scenario(&output.scenario, &output.calibration).wall_ms;
    Ok(Measured {
        summary: RunSummary::from_output(&output),
        model_ms,
    })
}
// ANCHOR_END: measure

/// Milliseconds as the examples print a duration.
fn shown(ms: f64) -> String {
    seconds(Duration::from_secs_f64(ms.max(0.0) / 1e3))
}

/// The table's header: one after another, a request's share of the wall means
/// something; all at once, its median latency does.
fn header(sequential: bool) {
    let (per, model_per) = if sequential {
        ("per request", "model / req")
    } else {
        ("latency p50", "")
    };
    let line = format!(
        "    {:<24} {:>5} {:>10} {:>10} {:>13} {:>13}",
        "client", "conns", "wall", "model", per, model_per
    );
    println!("{}", line.trim_end());
}

/// One row: connections the server counted, the wall measured and modelled, and
/// per request (one after another) or the median latency (all at once).
fn row(client: Client, m: &Measured, sequential: bool) {
    let s = &m.summary;
    let n = s.n as f64;
    let conns = s
        .server
        .connections
        .map_or("?".to_string(), |c| c.to_string());
    let (per, model_per) = if sequential {
        (shown(s.wall_ms / n), shown(m.model_ms / n))
    } else {
        (shown(s.latency_ms.p50), String::new())
    };
    let line = format!(
        "    {:<24} {:>5} {:>10} {:>10} {:>13} {:>13}",
        client.label(),
        conns,
        shown(s.wall_ms),
        shown(m.model_ms),
        per,
        model_per,
    );
    println!("{}", line.trim_end());
}

/// The step for one link: `N` requests one after another, with a shared client and
/// with a client per request. Returns both runs, shared first.
fn one_after_another(link: &Link) -> anyhow::Result<(Measured, Measured)> {
    let costs = LinkCosts::of(&scenario(
        link,
        Client::Shared,
        Strategy::AsyncSequential,
        N,
    ));
    let opening = match (costs.setup_round_trips, link.tls) {
        (0, _) => "nothing".to_string(),
        (1, None) => "1 more (TCP)".to_string(),
        (k, Some(tls)) => format!("{k} more (TCP + {tls})"),
        (k, None) => format!("{k} more"),
    };
    println!(
        "  {N} requests one after another, each answered after {}; a round trip is {}, opening a connection costs {opening}",
        seconds(DELAY),
        shown(costs.rtt_ms),
    );
    header(true);
    let mut runs = Vec::new();
    for client in [Client::Shared, Client::PerRequest] {
        let measured = measure(&scenario(link, client, Strategy::AsyncSequential, N))?;
        row(client, &measured, true);
        runs.push(measured);
    }
    let per_request = runs.pop().expect("two runs");
    let shared = runs.pop().expect("two runs");
    Ok((shared, per_request))
}

fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();

    steps.next("what each link charges, before anything is sent");
    // ANCHOR: charges
    for link in links() {
        let costs = LinkCosts::of(&scenario(
            &link,
            Client::Shared,
            Strategy::AsyncSequential,
            1,
        ));
        let fresh = costs.exchange_ms(Setup::Full) + DELAY.as_secs_f64() * 1e3;
        let reused = costs.exchange_ms(Setup::Reused) + DELAY.as_secs_f64() * 1e3;
        println!(
            "  {:<22} a request on a new connection {:>8}, on an open one {:>8}",
            link.label,
            shown(fresh),
            shown(reused)
        );
    }
    // ANCHOR_END: charges
    println!(
        "  (the server's {} delay included; the model adds this machine's own costs, measured by probes)",
        seconds(DELAY)
    );

    let mut fresh_costs = Vec::new();
    for link in links() {
        steps.next(&format!(
            "{}: a shared client against a client per request",
            link.label
        ));
        let (shared, per_request) = one_after_another(&link)?;
        fresh_costs.push((link, shared, per_request));
    }

    steps.next("what one fresh connection cost: the median request, per request minus shared");
    for (link, shared, per_request) in &fresh_costs {
        let measured = per_request.summary.latency_ms.p50 - shared.summary.latency_ms.p50;
        let costs = LinkCosts::of(&scenario(
            link,
            Client::Shared,
            Strategy::AsyncSequential,
            1,
        ));
        println!(
            "  {:<22} {:>9} measured; the link's round trips alone: {} x {} = {}",
            link.label,
            shown(measured),
            costs.setup_round_trips,
            shown(costs.rtt_ms),
            shown(costs.setup_ms(Setup::Full))
        );
    }

    steps.next(&format!(
        "{BURST_N} requests all at once: HTTP/1.1 against HTTP/2"
    ));
    for link in [links()[0], links()[2]] {
        println!("  {}:", link.label);
        header(false);
        for client in [Client::Shared, Client::Http2] {
            let measured = measure(&scenario(&link, client, Strategy::AsyncConcurrent, BURST_N))?;
            row(client, &measured, false);
        }
    }
    println!(
        "  at once, the handshakes overlap: HTTP/2 saves connections (and their handshakes' CPU), not wall"
    );
    Ok(())
}
