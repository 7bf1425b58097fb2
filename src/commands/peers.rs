//! `fanout peers`: the Python peers and fanout's strategies on the same two scenarios
//! (everything at once, and one after another), a fresh mock API each, one table.
//!
//! Both scenarios carry the flags' network and TLS, so every row, Rust or Python, pays
//! the same round trips and handshakes and the figures stay comparable: with
//! `--network continent --tls 1.3` a fresh connection costs three round trips for
//! reqwest, ureq, httpx, aiohttp and requests alike.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::progress::Progress;
use super::run_info::{Stopwatch, shell_quote};
use crate::cli::{ConnectionArgs, PeersArgs};
use crate::error::Error;
use crate::peers::{self, Python};
use crate::pipeline::run_fresh;
use crate::report::out_dir;
use crate::report::peers_report::{self, Row};
use crate::scenario::Scenario;
use crate::server::latency::{Latency, format_duration};
use crate::server::network::{Bandwidth, Network};
use crate::server::profile::Profile;
use crate::server::tls::TlsVersion;
use crate::strategy::Strategy;
use crate::summary::RunSummary;

#[derive(Serialize)]
struct Runs<'a> {
    runs: &'a [Row],
}

/// Sets the peers up, runs both scenarios, prints (and with `--out` writes) the result.
pub fn peers(args: &PeersArgs) -> Result<(), Error> {
    let concurrent = scenario(args.n, args.delay, args);
    let sequential = scenario(args.sequential_n, args.sequential_delay, args);
    concurrent.validate()?;
    sequential.validate()?;
    let placement = super::placement_of(crate::cli::ServerPlacement::Child)?;
    crate::pipeline::ensure_descriptors(&concurrent, &placement)?;
    if let Some(dir) = &args.out {
        out_dir::prepare(dir)?;
    }
    let python = match Python::set_up(&repository_root()) {
        Ok(python) => python,
        Err(peers::SetUpError::Skipped(why)) => {
            eprintln!("Python peers skipped: {why}");
            return Ok(());
        }
        Err(peers::SetUpError::Failed(why)) => {
            return Err(Error::Child {
                what: "the Python peers' set-up".to_string(),
                why,
            });
        }
    };
    if !args.json {
        eprintln!("{}", link_line(&concurrent));
    }
    let stopwatch = Stopwatch::start();
    let mut rows = Vec::new();
    for (scenario, rust, python_peers) in [
        (
            &concurrent,
            &[
                Strategy::AsyncConcurrent,
                Strategy::AsyncSemaphore,
                Strategy::SyncThreads,
            ][..],
            &peers::CONCURRENT[..],
        ),
        (
            &sequential,
            &[Strategy::SyncSequential, Strategy::AsyncSequential][..],
            &peers::SEQUENTIAL[..],
        ),
    ] {
        for strategy in rust {
            let mut scenario = scenario.clone();
            scenario.strategy = *strategy;
            let progress = Progress::start(strategy.name(), scenario.n, !args.json);
            let output = run_fresh(&scenario, &placement, progress.completed.clone())?;
            drop(progress);
            rows.push(Row::new(format!("fanout {strategy}"), "rust", output));
        }
        for peer in python_peers {
            if !args.json {
                eprintln!("{} (n={}) ...", peer.label, scenario.n);
            }
            let run = peers::run(&python, peer, scenario, &placement)?;
            let library = format!("{}, Python {}", run.record.library, run.record.python);
            rows.push(Row::new(run.label, &library, run.output));
        }
    }
    let total_s = stopwatch.took_s();
    if let Some(dir) = &args.out {
        write_report(dir, &rows, args, &stopwatch, total_s)?;
    }
    let mut out = std::io::stdout().lock();
    let printed = if args.json {
        serde_json::to_writer(&mut out, &Runs { runs: &rows })
            .map_err(std::io::Error::from)
            .and_then(|_| writeln!(out))
    } else {
        peers_report::write_table(&mut out, &rows)
            .and_then(|_| writeln!(out, "\n{}", peers_report::verdict(&rows).replace("**", "")))
    };
    printed.map_err(|e| Error::io("writing the report", e))
}

/// `n` requests to one endpoint answering after `delay`, behind the flags' network.
fn scenario(n: u64, delay: Latency, args: &PeersArgs) -> Scenario {
    let mut profile = Profile::single(delay);
    profile.network = args.network.apply(profile.network);
    let mut scenario = Scenario::new(profile, n, Strategy::AsyncConcurrent);
    scenario.seed = args.seed;
    scenario.engine = args.engine;
    scenario.tls = args.tls;
    scenario.tls_resumption = args.connections.tls_resumption();
    scenario.server_keep_alive = args.connections.server_keep_alive;
    scenario.client.limit = args.limit;
    scenario.client.threads = args.limit.min(crate::scenario::MAX_THREADS);
    scenario
}

/// What every row's connections pass through: `network: loopback, plain HTTP`.
fn link_line(scenario: &Scenario) -> String {
    let tls = scenario
        .tls
        .map_or("plain HTTP".to_string(), |tls| tls.to_string());
    let mut line = format!("network: {}, {tls}", scenario.profile.network);
    if !scenario.tls_resumption.is_on() {
        line.push_str(", TLS resumption off");
    }
    if !scenario.server_keep_alive.is_on() {
        line.push_str(", server keep-alive off");
    }
    line
}

/// The flags that give `network`, `tls` and the connection settings again, for the
/// report's command line: ` --network continent --tls 1.3`, or nothing for plain
/// loopback with the defaults.
fn link_flags(network: &Network, tls: Option<TlsVersion>, connections: &ConnectionArgs) -> String {
    let mut flags = String::new();
    if !network.is_loopback() {
        match network.preset() {
            Some(preset) => flags.push_str(&format!(" --network {}", preset.name())),
            None => {
                flags.push_str(&format!(" --rtt {}", format_duration(network.rtt)));
                if !network.jitter.is_zero() {
                    flags.push_str(&format!(" --jitter {}", format_duration(network.jitter)));
                }
                if network.bandwidth != Bandwidth::Unlimited {
                    flags.push_str(&format!(" --bandwidth {}", network.bandwidth));
                }
            }
        }
    }
    if let Some(tls) = tls {
        flags.push_str(&format!(" --tls {}", tls.name()));
    }
    if !connections.tls_resumption().is_on() {
        flags.push_str(" --tls-resumption off");
    }
    if !connections.server_keep_alive.is_on() {
        flags.push_str(" --server-keep-alive off");
    }
    flags
}

/// The repository the peers live in: the working directory when it holds them, else
/// the one this binary was built from.
fn repository_root() -> PathBuf {
    let here = PathBuf::from(".");
    if here.join("peers/python/setup.sh").is_file() {
        here
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }
}

fn write_report(
    dir: &std::path::Path,
    rows: &[Row],
    args: &PeersArgs,
    stopwatch: &Stopwatch,
    total_s: f64,
) -> Result<(), Error> {
    let files = peers_report::charts(rows).map_err(|e| Error::Report(e.to_string()))?;
    for (name, svg) in &files {
        out_dir::write(dir, name, svg)?;
    }
    let run = stopwatch.info(
        total_s,
        format!(
            "cargo run --release -- peers -n {} --delay {} --limit {} --sequential-n {} --sequential-delay {} --seed {}{}{} --out {}",
            args.n,
            args.delay,
            args.limit,
            args.sequential_n,
            args.sequential_delay,
            args.seed,
            super::claims::engine_flag(args.engine),
            link_flags(
                &args.network.apply(Network::default()),
                args.tls,
                &args.connections
            ),
            shell_quote(&dir.display().to_string())
        ),
    );
    out_dir::write(dir, "README.md", peers_report::markdown(rows, &run, &files)).map(drop)
}

impl Row {
    fn new(label: String, library: &str, output: crate::output::RunOutput) -> Row {
        Row {
            label,
            library: library.to_string(),
            summary: RunSummary::from_output(&output),
            output,
        }
    }
}
