//! The command line, as clap definitions only. `main.rs` turns these into library calls.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::server::Engine;
use crate::server::KeepAlive;
use crate::server::latency::{Latency, parse_duration};
use crate::server::network::{Bandwidth, Network, Preset};
use crate::server::tls::{SessionResumption, TlsVersion};
use crate::strategy::{ClientReuse, HttpVersion, Strategy};
use crate::sweep::{ClientSetup, SweepOver};

mod parse;
use parse::{
    parse_body_bytes, parse_count, parse_count_u32, parse_count_usize, parse_duration_or_zero,
    parse_latency, parse_positive_duration, parse_processes, parse_ramp, parse_rate,
    parse_rate_per_second, parse_replicas, parse_stall, parse_thread_count, parse_time_scale,
};

/// What do many concurrent HTTP calls buy you, and what do they cost? fanout runs paired
/// sync (ureq) and async (reqwest) clients against a local mock API with seeded delays
/// and shows wall time, latency and what the server saw.
#[derive(Debug, Parser)]
#[command(name = "fanout", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one strategy against a fresh mock API and report what happened.
    Run(RunArgs),
    /// Run several strategies on the same scenario (a fresh server each) side by side.
    Compare(CompareArgs),
    /// Serve the mock API on its own, for clients in any language.
    Serve(ServeArgs),
    /// Test every claim of the three tutorials and write the report with its charts.
    Claims(ClaimsArgs),
    /// Run strategies over a range of n or of a limit, a fresh server per point, and
    /// find where "as fast as the slowest request" stops holding.
    Sweep(SweepArgs),
    /// Run the tutorials' own clients (Python: requests, httpx, aiohttp) beside fanout's
    /// strategies on the same mock API; skipped with a message where Python is missing.
    Peers(PeersArgs),
    /// Write the scenario as a Locust file or a k6 script that makes the same requests
    /// (the strategies with no faithful equivalent are refused, with the reason).
    Export(ExportArgs),
    /// Run the scenario on a load engine split over worker processes (Locust's master
    /// and workers, k6's execution segments) against fanout serve, and check what they
    /// sent against the server's ledger, beside fanout's own strategy.
    #[command(
        mut_arg("workers", |a| a.long("client-workers").help("Worker threads of the client's tokio runtime (fanout's own run)")),
        mut_arg("engine", |a| a.long("server-engine"))
    )]
    Distributed(DistributedArgs),
    /// Internal: one point of a sweep, in a process of its own: its scenario arrives as
    /// one JSON line on stdin, its summary leaves as JSON on stdout.
    #[command(hide = true)]
    Point,
}

/// `fanout peers`.
#[derive(Debug, Args)]
pub struct PeersArgs {
    /// Requests in the concurrent scenario.
    #[arg(short = 'n', long = "requests", default_value = "1000", value_parser = parse_count)]
    pub n: u64,
    /// The server's delay in the concurrent scenario.
    #[arg(long, default_value = "500ms", value_parser = parse_latency, allow_hyphen_values = true)]
    pub delay: Latency,
    /// The limit of the limited patterns (semaphores, connector limits, thread pools).
    #[arg(long, default_value = "100", value_parser = parse_count_usize)]
    pub limit: usize,
    /// Requests in the one-after-another scenario.
    #[arg(long, default_value = "10", value_parser = parse_count)]
    pub sequential_n: u64,
    /// The server's delay in the one-after-another scenario.
    #[arg(long, default_value = "100ms", value_parser = parse_latency, allow_hyphen_values = true)]
    pub sequential_delay: Latency,
    /// Requests in the throughput scenario (zero delay, kept-alive connections).
    #[arg(long, default_value = "20000", value_parser = parse_count)]
    pub throughput_n: u64,
    /// Requests in flight at once in the throughput scenario (fanout's --limit, oha's
    /// and wrk's -c).
    #[arg(long, default_value = "50", value_parser = parse_count_usize)]
    pub throughput_in_flight: usize,
    /// The peers to run, comma-separated (default: all of them; oha and wrk run only
    /// when found on PATH).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "aiohttp,httpx,httpx2,niquests,requests,oha,wrk"
    )]
    pub peers: Vec<crate::peers::PeerName>,
    /// Seed of the server's latency draws.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Write README.md and the charts to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print {"runs": [{"label", "summary"}, ...]} instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The HTTP server behind the mock API: fanout's own, or wiremock (which counts no
    /// connections: the conns column then reads n/m, not measured).
    #[arg(long, value_enum, default_value = "fanout")]
    pub engine: Engine,
    /// The emulated network between client and mock API.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Serve every run's mock API over HTTPS offering only this TLS version (default:
    /// plain HTTP). fanout's clients and the Python peers alike trust exactly its CA
    /// certificate, which each peer gets in a temporary file (`--cafile`). Not with
    /// --engine wiremock, which has no TLS.
    #[arg(long, value_enum)]
    pub tls: Option<TlsVersion>,
    /// What the mock API does with a connection after its handshake and its answer.
    #[command(flatten)]
    pub connections: ConnectionArgs,
}

/// `fanout sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The strategies, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "async-concurrent"
    )]
    pub strategies: Vec<Strategy>,
    /// What to vary: the request count, the concurrency limit (--limit; also the
    /// thread count of sync-threads), or the network's round-trip time (ms).
    #[arg(long, value_enum, default_value = "n")]
    pub over: SweepOver,
    /// The swept values, FROM..TO, inclusive: spaced on a log scale for n and limit
    /// (default 1..10000), evenly for rtt, in ms (default 0..200; 0 is loopback).
    #[arg(long, value_parser = parse_range, allow_hyphen_values = true)]
    pub range: Option<SweepRange>,
    /// Client setups to compare, comma-separated, each a series beside every strategy:
    /// shared or per-request, optionally with -h1 or -h2 (e.g.
    /// shared-h1,per-request-h1,shared-h2). Default: the scenario's --client and --http.
    #[arg(long, value_delimiter = ',')]
    pub clients: Vec<ClientSetup>,
    /// How many points in the range (duplicates after rounding are dropped).
    #[arg(long, default_value = "9", value_parser = parse_points)]
    pub points: usize,
    /// Write README.md and sweep.svg to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario to run.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `--range FROM..TO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepRange {
    /// The first value.
    pub from: u64,
    /// The last value.
    pub to: u64,
}

fn parse_range(text: &str) -> Result<SweepRange, String> {
    let (from, to) = text
        .split_once("..")
        .ok_or_else(|| "is not a range (write FROM..TO, e.g. 1..10000)".to_string())?;
    let (from, to) = (parse_bound(from)?, parse_bound(to)?);
    if from > to {
        return Err(format!("starts at {from}, after its end {to}"));
    }
    Ok(SweepRange { from, to })
}

/// A range's bound: a whole number, 0 allowed (a round trip of 0 is loopback; n and
/// limit refuse it once `--over` is known).
fn parse_bound(text: &str) -> Result<u64, String> {
    match text.trim().parse::<i128>() {
        Ok(value) if (0..=i128::from(u64::MAX)).contains(&value) => Ok(value as u64),
        Ok(value) if value < 0 => Err(format!("starts or ends at {value}: it is negative")),
        Ok(_) => Err("is too large".to_string()),
        Err(_) => Err("is not a whole number".to_string()),
    }
}

fn parse_points(text: &str) -> Result<usize, String> {
    match parse_count_usize(text)? {
        points @ 1..=50 => Ok(points),
        _ => Err("must be between 1 and 50".to_string()),
    }
}

/// `fanout claims`.
#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Multiply every delay by this: 0.1 runs the catalogue in under a minute, 1 uses
    /// the documents' own seconds.
    #[arg(long, default_value = "0.1", value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Only these claim ids, comma-separated (e.g. D0-fig1,D1-sem10).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Where to write README.md and the SVG charts. With --only, nothing is written
    /// unless --out is given, so a partial run never replaces the full report.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print {"claims": [...]} instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Seed of the server's delay draws.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Where the mock API runs.
    #[arg(long, value_enum, default_value = "child")]
    pub server: ServerPlacement,
    /// The HTTP server behind every trial's mock API: fanout's own, or wiremock. Claims
    /// judged on a figure wiremock does not give (connections) read "not measured".
    #[arg(long, value_enum, default_value = "fanout")]
    pub engine: Engine,
    /// Skip the internet-like rows: the claims that turn on connections run over
    /// loopback only, not also over `continent` (40 ms round trips at time scale 1)
    /// with TLS 1.3.
    #[arg(long)]
    pub loopback_only: bool,
}

/// `fanout export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The engine to write for.
    #[arg(value_enum)]
    pub load_engine: crate::export::LoadEngine,
    /// The strategy the script reproduces.
    #[arg(long, short = 's', value_enum, default_value = "async-semaphore")]
    pub strategy: Strategy,
    /// Write the script to this file (default: standard output).
    #[arg(long = "out", short = 'o')]
    pub out_file: Option<PathBuf>,
    /// The mock API's URL the script uses unless told another when it runs.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The scenario to export.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `fanout distributed`.
#[derive(Debug, Args)]
pub struct DistributedArgs {
    /// The load engines, comma-separated: locust (required by the tests), k6
    /// (optional). Each runs on a fresh mock API and gets a row of its own.
    #[arg(
        id = "load_engine",
        long = "engine",
        value_enum,
        value_delimiter = ',',
        default_value = "locust"
    )]
    pub load_engines: Vec<crate::export::LoadEngine>,
    /// Worker processes: Locust workers under one master, or k6 processes each with
    /// its own execution segment.
    #[arg(id = "processes", long = "workers", default_value = "2", value_parser = parse_processes, allow_negative_numbers = true)]
    pub processes: usize,
    /// The strategy to reproduce, and to run with fanout's own client beside it.
    #[arg(long, short = 's', value_enum, default_value = "async-semaphore")]
    pub strategy: Strategy,
    /// Run only the engine, not fanout's own strategy beside it.
    #[arg(long)]
    pub engine_only: bool,
    /// Write README.md (the table) and each engine's script and output to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario to run.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `fanout run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The strategy that makes the requests.
    #[arg(long, short = 's', value_enum, default_value = "async-concurrent")]
    pub strategy: Strategy,
    /// Write waterfall.svg (the first 50 requests, each split into queued, TCP, TLS,
    /// sent, server and back) and timeline.svg to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario to run.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// `fanout compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The strategies, comma-separated; speedups are against the first.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sync-sequential,sync-threads,async-sequential,async-concurrent,async-semaphore,async-buffered"
    )]
    pub strategies: Vec<Strategy>,
    /// Write waterfall-STRATEGY.svg per strategy (its first 50 requests, each split
    /// into waiting, TCP, TLS, out, server and back) and timeline.svg (every strategy's
    /// requests over time) to this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The scenario to run.
    #[command(flatten)]
    pub scenario: ScenarioArgs,
}

/// The flags that define a scenario, shared by `run`, `compare` and `sweep`.
#[derive(Debug, Args)]
pub struct ScenarioArgs {
    /// How many requests.
    #[arg(short = 'n', long = "requests", default_value = "50", value_parser = parse_count, allow_negative_numbers = true)]
    pub n: u64,
    /// The server's delay: 500ms, 1s, uniform:100ms..900ms, lognormal:200ms..2s (median..p99).
    #[arg(long, default_value = "100ms", value_parser = parse_latency, allow_hyphen_values = true, conflicts_with = "profile")]
    pub delay: Latency,
    /// A TOML file of endpoints (see the README); requests are spread over them in turn.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// Requests in flight at once, for async-semaphore, async-buffered, async-failfast,
    /// async-hyper.
    #[arg(long, default_value = "10", value_parser = parse_count_usize, allow_negative_numbers = true)]
    pub limit: usize,
    /// Requests per second for async-ratelimited and async-naive-ratelimited: `10` or
    /// `10/s` (default 10); with --target, the pace every strategy keeps (default 5).
    #[arg(long, value_parser = parse_rate_per_second)]
    pub rate: Option<f64>,
    /// The open loop's ramp (async-arrival-rate): `0..200/s:10s` grows the arrival
    /// rate linearly from 0 to 200/s over 10 s, then holds it (replaces --rate).
    #[arg(long, value_parser = parse_ramp)]
    pub ramp: Option<crate::strategy::arrival::Ramp>,
    /// The most requests async-arrival-rate keeps in flight; a start that finds the cap
    /// full waits for a slot and is counted late.
    #[arg(long, default_value = "1000", value_parser = parse_count_usize, allow_negative_numbers = true)]
    pub max_in_flight: usize,
    /// OS threads for sync-threads.
    #[arg(long, default_value = "10", value_parser = parse_count_usize, allow_negative_numbers = true)]
    pub threads: usize,
    /// One client for every call, or a new client (so a new connection) per call.
    #[arg(long, value_enum, default_value = "shared")]
    pub client: ClientReuse,
    /// HTTP/1.1, or HTTP/2 with prior knowledge (async strategies only).
    #[arg(long, value_enum, default_value = "1")]
    pub http: HttpVersion,
    /// Seed of the server's latency draws.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Give up on one request after this long (default: wait as long as it takes, the
    /// default of both ureq and reqwest).
    #[arg(long, value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub timeout: Option<Duration>,
    /// Retry a request this many times after a timeout, a connection error, a 429 or a
    /// 5xx (never another 4xx), waiting --backoff × 2^k plus jitter, or the server's
    /// wait if longer (retry-after-ms when sent, else Retry-After).
    #[arg(long, default_value = "0")]
    pub retries: u32,
    /// The first retry's wait.
    #[arg(long, default_value = "100ms", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub backoff: Duration,
    /// Client-side work before each request, for pitfall-blocking-sleep and
    /// pitfall-async-sleep; each consumer's work per body, for async-pipeline.
    #[arg(long, default_value = "100ms", value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub work: Duration,
    /// Copies of each request async-first-of sends at once (at least 2); the first
    /// answer wins, the rest are cancelled.
    #[arg(long, default_value = "2", value_parser = parse_replicas, allow_negative_numbers = true)]
    pub replicas: usize,
    /// When async-hedged sends a second copy: after a wait (`120ms`) or once the
    /// request is slower than that percentile of the run's answers so far (`p95`).
    #[arg(long, default_value = "p95", allow_hyphen_values = true)]
    pub hedge_after: crate::strategy::replicas::HedgeAfter,
    /// The channel between async-pipeline's fetchers (--limit) and consumers: a
    /// capacity (`16`), or `unbounded`.
    #[arg(long, default_value = "16", allow_hyphen_values = true)]
    pub channel: crate::strategy::backpressure::Channel,
    /// async-pipeline's consumers; each spends --work on every body.
    #[arg(long, default_value = "1", value_parser = parse_thread_count, allow_negative_numbers = true)]
    pub consumers: usize,
    /// Stop the run this long after its start, as Ctrl-C does: nothing new is sent,
    /// requests in flight get --grace to finish, the rest are cancelled.
    #[arg(long, value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub stop_after: Option<Duration>,
    /// How long requests in flight at a stop (Ctrl-C, --stop-after) may take before
    /// they are cut; a second Ctrl-C cuts at once.
    #[arg(long, default_value = "1s", value_parser = parse_duration_or_zero, allow_hyphen_values = true)]
    pub grace: Duration,
    /// The size of every answer's body, in bytes (default 256; a profile file sets
    /// its own per endpoint).
    #[arg(long, value_parser = parse_body_bytes, conflicts_with = "profile")]
    pub body_bytes: Option<usize>,
    /// The faults the mock API injects.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// The emulated network between client and mock API.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// End the whole run by then; unfinished requests count as cancelled.
    #[arg(long, value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub deadline: Option<Duration>,
    /// Worker threads of the client's tokio runtime.
    #[arg(long, default_value = "2", value_parser = parse_count_usize, allow_negative_numbers = true)]
    pub workers: usize,
    /// Worker threads of the mock API's runtime.
    #[arg(long, default_value = "2", value_parser = parse_count_usize, allow_negative_numbers = true)]
    pub server_workers: usize,
    /// The HTTP server behind the mock API: fanout's own, or wiremock for comparison
    /// (no connection count; it cannot serve --drop-rate or --server-max-in-flight).
    #[arg(long, value_enum, default_value = "fanout")]
    pub engine: Engine,
    /// Where the mock API runs: in its own process (default), or inside this one.
    #[arg(long, value_enum, default_value = "child")]
    pub server: ServerPlacement,
    /// Serve the mock API over HTTPS offering only this TLS version (default: plain
    /// HTTP), on a certificate made at start that fanout's clients trust. ALPN offers
    /// h2 and http/1.1. Not with --engine wiremock, which has no TLS.
    #[arg(long, value_enum)]
    pub tls: Option<TlsVersion>,
    /// What the mock API does with a connection after its handshake and its answer.
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Print JSON (one object per run; compare prints {"runs": [...]}) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Send every request to this URL (a server of yours, http:// only) instead of the
    /// mock API, at most --rate per second (default 5). Refused without
    /// --i-own-this-server. Server-side figures are then unknown.
    #[arg(long, conflicts_with = "profile")]
    pub target: Option<String>,
    /// Confirms that the --target server is yours to load.
    #[arg(long, requires = "target")]
    pub i_own_this_server: bool,
}

/// Faults of the one endpoint `--delay` describes, and server-wide limits.
#[derive(Debug, Args)]
pub struct FaultArgs {
    /// Share of requests (0 to 1) answered with --error-status instead.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub error_rate: f64,
    /// The status --error-rate answers with.
    #[arg(long, default_value = "503")]
    pub error_status: u16,
    /// Share of requests (0 to 1) whose connection the server closes without answering.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    pub drop_rate: f64,
    /// The endpoint never answers: the client must give up.
    #[arg(long)]
    pub hang: bool,
    /// The server answers 429 past this many requests in any one second.
    #[arg(long, value_parser = parse_count_u32)]
    pub max_per_second: Option<u32>,
    /// The server answers 429 past this many requests in flight.
    #[arg(long, value_parser = parse_count_u32)]
    pub server_max_in_flight: Option<u32>,
    /// Freeze the whole server: `2s@1s` holds every answer due between 1 s and 3 s
    /// after the first request until 3 s (replaces a profile's `[stall]`).
    #[arg(long, value_parser = parse_stall, value_name = "LENGTH@AT")]
    pub stall: Option<crate::server::stall::Stall>,
}

/// The emulated network between every client and the mock API; each flag replaces
/// that part of the preset, or of the profile file's `[network]`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Network")]
pub struct NetworkArgs {
    /// The network to emulate, from its published round trips (default: loopback, or
    /// the profile file's network table).
    #[arg(long, value_enum)]
    pub network: Option<Preset>,
    /// Round-trip time: a new connection costs one more, each request one (e.g. 80ms).
    #[arg(long, value_parser = parse_network_duration, allow_hyphen_values = true)]
    pub rtt: Option<Duration>,
    /// Width of the window each one-way delay is drawn from, centred on rtt/2; seeded,
    /// and bytes never reorder (e.g. 5ms).
    #[arg(long, value_parser = parse_network_duration, allow_hyphen_values = true)]
    pub jitter: Option<Duration>,
    /// Per connection, each direction: 20mbit, 500kbit, 1gbit, 2MB/s (bytes), or
    /// unlimited.
    #[arg(long, value_parser = parse_bandwidth, allow_hyphen_values = true)]
    pub bandwidth: Option<Bandwidth>,
}

impl NetworkArgs {
    /// `base` (the profile's network) with these flags applied: `--network` replaces it
    /// with a preset, then each part given replaces that part.
    pub fn apply(&self, base: Network) -> Network {
        let mut network = self.network.map_or(base, Preset::network);
        if let Some(rtt) = self.rtt {
            network.rtt = rtt;
        }
        if let Some(jitter) = self.jitter {
            network.jitter = jitter;
        }
        if let Some(bandwidth) = self.bandwidth {
            network.bandwidth = bandwidth;
        }
        network
    }
}

fn parse_network_duration(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration > crate::server::network::MAX_RTT {
        return Err(format!(
            "is above the {} limit",
            crate::server::latency::format_duration(crate::server::network::MAX_RTT)
        ));
    }
    Ok(duration)
}

fn parse_bandwidth(text: &str) -> Result<Bandwidth, String> {
    text.parse()
}

/// What the mock API does with a connection after its handshake and its answer: both
/// are the server's settings, so they apply to every client pointed at it.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connections")]
pub struct ConnectionArgs {
    /// Let a TLS client resume an earlier session (session cache, TLS 1.3 tickets): on
    /// (default) or off, when every handshake is a full one. Needs --tls.
    #[arg(long, value_enum, requires = "tls")]
    pub tls_resumption: Option<SessionResumption>,
    /// Keep an HTTP/1.1 connection open after its answer: on (default) or off, when
    /// every request opens a connection (a shared client then resumes its TLS session
    /// on each). Not with --engine wiremock.
    #[arg(long, value_enum, default_value = "on")]
    pub server_keep_alive: KeepAlive,
}

impl ConnectionArgs {
    /// The resumption asked for, on unless `--tls-resumption off`.
    pub fn tls_resumption(&self) -> SessionResumption {
        self.tls_resumption.unwrap_or_default()
    }
}

/// `--server`; also sent to a sweep's points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerPlacement {
    /// A child process: client and server don't share descriptors or a scheduler slot.
    Child,
    /// Threads of this process, on the server's own runtime.
    InProcess,
}

/// `fanout serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value = "8080")]
    pub port: u16,
    /// Every GET path answers 200 with a small JSON body after this delay.
    #[arg(long, default_value = "100ms", value_parser = parse_latency, allow_hyphen_values = true, conflicts_with = "profile")]
    pub delay: Latency,
    /// A TOML file of endpoints instead of one delay.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    /// The faults the mock API injects.
    #[command(flatten)]
    pub faults: FaultArgs,
    /// The emulated network between client and mock API.
    #[command(flatten)]
    pub network: NetworkArgs,
    /// Stop after this long (default: until Ctrl-C).
    #[arg(long, value_parser = parse_positive_duration, allow_hyphen_values = true)]
    pub duration: Option<Duration>,
    /// Seed of the latency draws.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Worker threads of the server's runtime (at most 4096).
    #[arg(long, default_value = "2", value_parser = parse_thread_count)]
    pub workers: usize,
    /// The HTTP server: fanout's own, or wiremock for comparison. wiremock keeps every
    /// matched request in memory for the life of the server, so its memory grows with
    /// every request: serve for hours on fanout's engine.
    #[arg(long, value_enum, default_value = "fanout")]
    pub engine: Engine,
    /// Serve HTTPS offering only this TLS version, on a certificate made at start; its
    /// CA certificate is written to a file (--ca-out) whose path is printed with the
    /// flags clients need (curl --cacert, Python verify=, SSL_CERT_FILE).
    #[arg(long, value_enum)]
    pub tls: Option<TlsVersion>,
    /// Where --tls writes the CA certificate (PEM; default: a file in a temporary
    /// directory, removed when the server stops). A given path is kept.
    #[arg(long, requires = "tls")]
    pub ca_out: Option<PathBuf>,
    /// What the mock API does with a connection after its handshake and its answer.
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Internal: driven by a parent fanout over stdin/stdout (`stdio`); the config
    /// arrives as the first line on stdin, never on the command line, where any local
    /// user could read a profile's API keys.
    #[arg(long, hide = true)]
    pub control: Option<String>,
}
