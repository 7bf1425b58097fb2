//! `fanout peers`: fanout's strategies, the Python peers and the load tools on the
//! same three scenarios, a fresh mock API each, one table:
//!
//! - everything at once (`-n`, `--delay`): fanout's `async-concurrent`,
//!   `async-semaphore` and `sync-threads`, the Python peers that fetch all at once or
//!   under a limit, and oha with one connection per request;
//! - one after another (`--sequential-n`, `--sequential-delay`): fanout's sequential
//!   strategies and `requests`;
//! - throughput (`--throughput-n` at zero delay, `--throughput-in-flight` at once, on
//!   kept-alive connections): fanout's `async-semaphore` and `async-hyper`, oha and
//!   wrk, the job where a client's own cost per request is all there is to see.
//!
//! `--peers` picks which peers run (all by default); a peer whose program is missing
//! is skipped with the line that installs it. Every scenario carries the flags' network and TLS, so every row, Rust or Python, pays
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
use crate::peers::load_tools::{self, LoadTool};
use crate::peers::{self, Peer, PeerName, PeerRun, Python};
use crate::pipeline::run_fresh;
use crate::report::out_dir;
use crate::report::peers_report::{self, ClientKind, Row};
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

/// Sets the peers up, runs the three scenarios, prints (and with `--out` writes) the
/// result.
pub fn peers(args: &PeersArgs) -> Result<(), Error> {
    let concurrent = scenario(args.n, args.delay, args.limit, args);
    let sequential = scenario(args.sequential_n, args.sequential_delay, args.limit, args);
    let in_flight = args.throughput_in_flight;
    let throughput = scenario(
        args.throughput_n,
        Latency::Fixed(std::time::Duration::ZERO),
        in_flight,
        args,
    );
    for scenario in [&concurrent, &sequential, &throughput] {
        scenario.validate()?;
    }
    let placement = super::placement_of(crate::cli::ServerPlacement::Child)?;
    crate::pipeline::ensure_descriptors(&concurrent, &placement)?;
    if let Some(dir) = &args.out {
        out_dir::prepare(dir)?;
    }
    let chosen = |name: PeerName| args.peers.contains(&name);
    let python = set_up_python(args)?;
    let tools: Vec<(LoadTool, PathBuf)> = [
        (PeerName::Oha, LoadTool::Oha),
        (PeerName::Wrk, LoadTool::Wrk),
    ]
    .into_iter()
    .filter(|(name, _)| chosen(*name))
    .filter_map(|(_, tool)| match tool.find() {
        Some(program) => Some((tool, program)),
        None => {
            eprintln!(
                "{} skipped: not found on PATH (install it with: {})",
                tool.program(),
                tool.install_hint()
            );
            None
        }
    })
    .collect();
    if !args.json {
        eprintln!("{}", link_line(&concurrent));
    }
    let stopwatch = Stopwatch::start();
    let mut rows = Vec::new();
    let python_peers = |peers: &'static [Peer]| -> Vec<Peer> {
        match python {
            Some(_) => peers.iter().filter(|p| chosen(p.name)).copied().collect(),
            None => Vec::new(),
        }
    };
    for (scenario, rust, python_peers, schedule) in [
        (
            &concurrent,
            &[
                Strategy::AsyncConcurrent,
                Strategy::AsyncSemaphore,
                Strategy::SyncThreads,
            ][..],
            python_peers(&peers::CONCURRENT),
            Some(Strategy::AsyncConcurrent),
        ),
        (
            &sequential,
            &[Strategy::SyncSequential, Strategy::AsyncSequential][..],
            python_peers(&peers::SEQUENTIAL),
            None,
        ),
        (
            &throughput,
            &[Strategy::AsyncSemaphore, Strategy::AsyncHyper][..],
            Vec::new(),
            Some(Strategy::AsyncSemaphore),
        ),
    ] {
        // This scenario's rows start here.
        let first_row = rows.len();
        for strategy in rust {
            let mut scenario = scenario.clone();
            scenario.strategy = *strategy;
            let progress = Progress::start(strategy.name(), scenario.n, !args.json);
            let output = run_fresh(&scenario, &placement, progress.completed.clone())?;
            drop(progress);
            let label = match strategy {
                Strategy::AsyncSemaphore | Strategy::AsyncHyper => {
                    format!("fanout {strategy} --limit {}", scenario.client.limit)
                }
                _ => format!("fanout {strategy}"),
            };
            rows.push(Row::new(
                label,
                ClientKind::Fanout,
                "rust",
                output,
                first_row,
            ));
        }
        for peer in &python_peers {
            let Some(python) = &python else { break };
            if !args.json {
                eprintln!("{} (n={}) ...", peer.label, scenario.n);
            }
            let run = peers::run(python, peer, scenario, &placement)?;
            rows.push(Row::from_peer(ClientKind::Python, run, first_row));
        }
        let Some(schedule) = schedule else { continue };
        // All at once: oha with as many connections as requests; the throughput
        // scenario: oha and wrk with the scenario's in-flight count.
        let in_flight = if schedule == Strategy::AsyncConcurrent {
            scenario.n as usize
        } else {
            scenario.client.limit
        };
        for (tool, program) in &tools {
            if *tool == LoadTool::Wrk && schedule == Strategy::AsyncConcurrent {
                continue; // wrk keeps its connections open: it has no all-at-once mode
            }
            if !args.json {
                eprintln!("{} -c {in_flight} (n={}) ...", tool.program(), scenario.n);
            }
            let run = match tool {
                LoadTool::Oha => {
                    load_tools::run_oha(program, scenario, in_flight, schedule, &placement)
                }
                LoadTool::Wrk => {
                    // As long as fanout's own rows of this scenario took.
                    let fanout_wall = rows[first_row..]
                        .iter()
                        .filter(|r| r.kind == ClientKind::Fanout)
                        .map(|r| r.output.measurements.wall)
                        .max()
                        .unwrap_or(std::time::Duration::from_secs(1));
                    load_tools::run_wrk(
                        program,
                        scenario,
                        in_flight,
                        fanout_wall,
                        schedule,
                        &placement,
                    )
                }
            };
            // A tool that fails (an old version, a crash) costs its row, not the report.
            match run {
                Ok(run) => rows.push(Row::from_peer(ClientKind::LoadTool, run, first_row)),
                Err(error) => eprintln!("{} skipped: {error}", tool.program()),
            }
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
        peers_report::write_table(&mut out, &rows).and_then(|_| {
            writeln!(out, "\n{}", peers_report::verdict(&rows).replace("**", ""))?;
            peers_report::tool_verdicts(&rows)
                .iter()
                .try_for_each(|line| writeln!(out, "{line}"))
        })
    };
    printed.map_err(|e| Error::io("writing the report", e))
}

/// The Python peers' environment, when any Python peer was asked for and Python can
/// run them here; a skip is said in one line and the other rows still run.
fn set_up_python(args: &PeersArgs) -> Result<Option<Python>, Error> {
    // The Python peers are the ones the two tables list: no second list of names.
    let asked = peers::CONCURRENT
        .iter()
        .chain(&peers::SEQUENTIAL)
        .any(|peer| args.peers.contains(&peer.name));
    if !asked {
        return Ok(None);
    }
    match Python::set_up(&repository_root()) {
        Ok(python) => Ok(Some(python)),
        Err(peers::SetUpError::Skipped(why)) => {
            eprintln!("Python peers skipped: {why}");
            Ok(None)
        }
        Err(peers::SetUpError::Failed(why)) => Err(Error::Child {
            what: "the Python peers' set-up".to_string(),
            why,
        }),
    }
}

/// `n` requests to one endpoint answering after `delay`, at most `limit` at once for
/// the limited patterns, behind the flags' network.
fn scenario(n: u64, delay: Latency, limit: usize, args: &PeersArgs) -> Scenario {
    let mut profile = Profile::single(delay);
    profile.network = args.network.apply(profile.network);
    let mut scenario = Scenario::new(profile, n, Strategy::AsyncConcurrent);
    scenario.seed = args.seed;
    scenario.engine = args.engine;
    scenario.tls = args.tls;
    scenario.tls_resumption = args.connections.tls_resumption();
    scenario.server_keep_alive = args.connections.server_keep_alive;
    scenario.client.limit = limit;
    scenario.client.threads = limit.min(crate::scenario::MAX_THREADS);
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

/// The repository the peers (and the load engines' set-up) live in: the working
/// directory when it holds them, else the one this binary was built from.
pub(super) fn repository_root() -> PathBuf {
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
            "cargo run --release -- peers -n {} --delay {} --limit {} --sequential-n {} --sequential-delay {} --throughput-n {} --throughput-in-flight {} --peers {} --seed {}{}{} --out {}",
            args.n,
            args.delay,
            args.limit,
            args.sequential_n,
            args.sequential_delay,
            args.throughput_n,
            args.throughput_in_flight,
            args
                .peers
                .iter()
                .map(|p| clap::ValueEnum::to_possible_value(p).map_or(String::new(), |v| v.get_name().to_string()))
                .collect::<Vec<_>>()
                .join(","),
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
    /// A row of the scenario whose first row is `rows[scenario]`.
    fn new(
        label: String,
        kind: ClientKind,
        library: &str,
        output: crate::output::RunOutput,
        scenario: usize,
    ) -> Row {
        Row {
            label,
            kind,
            library: library.to_string(),
            scenario,
            summary: RunSummary::from_output(&output),
            output,
        }
    }

    fn from_peer(kind: ClientKind, run: PeerRun, scenario: usize) -> Row {
        Row {
            summary: load_tools::summary_of(&run),
            label: run.label,
            kind,
            library: run.library,
            scenario,
            output: run.output,
        }
    }
}
