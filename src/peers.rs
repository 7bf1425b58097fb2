//! Peers: the tutorials' own client patterns, in Python (`peers/python/`), run against
//! the same mock API as fanout's strategies and measured the same way.
//!
//! Each peer is a small program that makes `n` requests to `GET {url}/items?seq=i` and
//! prints one JSON object: its library, its wall time and one `[seq, start_ms, end_ms,
//! status, outcome]` row per request. Here that record becomes [`Sample`]s, the server's
//! ledger is read as for any run, and the two together give a [`RunSummary`](crate::summary::RunSummary) like every
//! other: the same wall, the same outcomes, the same server-side counts. A peer's model
//! is its pattern's schedule (all at once, a limit, one after another) with no overheads,
//! the tutorials' promise: its efficiency says what the client itself cost.
//!
//! Over TLS (`fanout peers --tls 1.3`) the peer's mock API serves HTTPS on a CA made
//! at its start; the CA certificate goes to a temporary file, removed when the peer is
//! done, whose path the peer gets as `--cafile`: it trusts exactly that certificate
//! (an `ssl.SSLContext(cafile=...)` for httpx and aiohttp, `verify=` for requests),
//! never the system's store. The network travels in the scenario's profile, so the
//! peer's connections pay the same emulated round trips as fanout's own.
//!
//! The peers run from a virtual environment with pinned versions that
//! `peers/python/setup.sh` creates; where Python is missing, the set-up says so and
//! the peers are skipped. The load tools (`oha`, `wrk`) are peers too, in
//! [`load_tools`]; `fanout peers --peers` picks among all of them by [`PeerName`].

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::measure::{Measurements, Outcome, Sample};
use crate::model::Calibration;
use crate::output::RunOutput;
use crate::scenario::Scenario;
use crate::server::tls::CaCertificate;
use crate::server::{MockApi, Placement};
use crate::strategy::Strategy;

pub mod load_tools;

/// The shortest deadline a peer gets.
const PEER_DEADLINE_FLOOR: Duration = Duration::from_secs(120);

/// The peers `fanout peers --peers` can pick, by the client they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum PeerName {
    /// aiohttp's `ClientSession` (Python).
    Aiohttp,
    /// httpx 0.28, the tutorials' client (Python).
    Httpx,
    /// httpx2, httpx's maintained fork with a rewritten pool (Python).
    Httpx2,
    /// niquests, HTTP/2 by default (Python).
    Niquests,
    /// requests, one after another (Python).
    Requests,
    /// The `oha` load tool (Rust), when on `PATH`.
    Oha,
    /// The `wrk` load tool (C), when on `PATH`.
    Wrk,
}

/// One Python peer and the pattern it stands for.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The client it runs, for `--peers`.
    pub name: PeerName,
    /// Its name in tables.
    pub label: &'static str,
    /// The script, in `peers/python/`.
    pub script: &'static str,
    /// Extra arguments (a pool size, say).
    pub args: &'static [&'static str],
    /// fanout's strategy with the same schedule, for the model.
    pub schedule: Strategy,
    /// Whether the peer takes the scenario's `--limit`.
    pub limited: bool,
}

/// The peers that fetch everything at once or under a limit.
pub const CONCURRENT: [Peer; 8] = [
    Peer {
        name: PeerName::Aiohttp,
        label: "python aiohttp (no limit)",
        script: "aiohttp_connector.py",
        args: &["--limit", "0"],
        schedule: Strategy::AsyncConcurrent,
        limited: false,
    },
    Peer {
        name: PeerName::Aiohttp,
        label: "python aiohttp TCPConnector(limit)",
        script: "aiohttp_connector.py",
        args: &[],
        schedule: Strategy::AsyncSemaphore,
        limited: true,
    },
    Peer {
        name: PeerName::Httpx,
        label: "python httpx gather (default pool: 100)",
        script: "httpx_gather.py",
        args: &["--max-connections", "100", "--max-keepalive", "20"],
        schedule: Strategy::AsyncSemaphore,
        limited: false,
    },
    Peer {
        name: PeerName::Httpx,
        label: "python httpx gather (no pool limit)",
        script: "httpx_gather.py",
        args: &[],
        schedule: Strategy::AsyncConcurrent,
        limited: false,
    },
    Peer {
        name: PeerName::Httpx,
        label: "python httpx TaskGroup",
        script: "httpx_taskgroup.py",
        args: &[],
        schedule: Strategy::AsyncConcurrent,
        limited: false,
    },
    Peer {
        name: PeerName::Httpx,
        label: "python httpx Semaphore(limit)",
        script: "httpx_semaphore.py",
        args: &[],
        schedule: Strategy::AsyncSemaphore,
        limited: true,
    },
    Peer {
        name: PeerName::Httpx2,
        label: "python httpx2 gather (no pool limit)",
        script: "httpx_gather.py",
        args: &["--library", "httpx2"],
        schedule: Strategy::AsyncConcurrent,
        limited: false,
    },
    Peer {
        name: PeerName::Niquests,
        label: "python niquests gather",
        script: "niquests_gather.py",
        args: &[],
        schedule: Strategy::AsyncConcurrent,
        limited: false,
    },
];

/// The peer that fetches one after another.
pub const SEQUENTIAL: [Peer; 1] = [Peer {
    name: PeerName::Requests,
    label: "python requests (Session)",
    script: "requests_sequential.py",
    args: &[],
    schedule: Strategy::SyncSequential,
    limited: false,
}];

/// Where the peers and their environment are.
#[derive(Debug, Clone)]
pub struct Python {
    /// `peers/python/`.
    pub scripts: PathBuf,
    /// The virtual environment's interpreter.
    pub interpreter: PathBuf,
}

/// Why the peers cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetUpError {
    /// Python, a recent enough Python, or its packages are not available here (the
    /// set-up exits 3): the peers are skipped, and the set-up's line says why.
    Skipped(String),
    /// The set-up broke in a way it did not expect: a bug to report, not a skip.
    Failed(String),
}

/// The longest the set-up may take (creating the environment, installing packages).
const SET_UP_LIMIT: Duration = Duration::from_secs(600);

impl Python {
    /// Runs `peers/python/setup.sh` under `root` (creating the virtual environment the
    /// first time); `Err(Skipped)` when Python or the packages are not available.
    pub fn set_up(root: &Path) -> Result<Python, SetUpError> {
        let scripts = root.join("peers/python");
        let setup = scripts.join("setup.sh");
        if !setup.is_file() {
            return Err(SetUpError::Skipped(format!(
                "{} not found",
                setup.display()
            )));
        }
        let mut command = Command::new("bash");
        command.arg(&setup).current_dir(root);
        let output = crate::bounded::output_within(&mut command, SET_UP_LIMIT, "the peers' set-up")
            .map_err(|e| SetUpError::Failed(e.to_string()))?;
        let said = || {
            let stderr = String::from_utf8_lossy(&output.stderr);
            stderr
                .trim()
                .lines()
                .last()
                .unwrap_or("set-up failed")
                .to_string()
        };
        match output.status.code() {
            Some(0) => {}
            // The set-up's own word for "Python cannot run the peers here".
            Some(3) => return Err(SetUpError::Skipped(said())),
            _ => return Err(SetUpError::Failed(said())),
        }
        let venv =
            std::env::var("FANOUT_PEERS_VENV").unwrap_or_else(|_| "target/peers-venv".to_string());
        let venv = if Path::new(&venv).is_absolute() {
            PathBuf::from(venv)
        } else {
            root.join(venv)
        };
        Ok(Python {
            scripts,
            interpreter: venv.join("bin/python"),
        })
    }
}

/// One peer's printed record, as far as fanout reads it.
#[derive(Debug, Clone, Deserialize)]
pub struct PeerRecord {
    /// The peer's own name.
    pub peer: String,
    /// Its HTTP library and version.
    pub library: String,
    /// The Python version.
    pub python: String,
    /// `[seq, start_ms, end_ms, status, outcome]` per request.
    pub samples: Vec<(u64, f64, f64, Option<u16>, String)>,
    /// The run's start on the wall clock, µs since the Unix epoch.
    #[serde(default)]
    pub started_unix_us: Option<u64>,
}

/// A peer after it ran: the run fanout measured from what it printed.
#[derive(Debug, Clone)]
pub struct PeerRun {
    /// The table's label.
    pub label: String,
    /// Its client and version (`httpx 0.28.1, Python 3.11.7`, `oha 1.16.0`).
    pub library: String,
    /// The raw figures; the report derives the summary from them.
    pub output: RunOutput,
    /// The peer's own latency percentiles, for a peer that reports no per-request
    /// times (wrk); `None` when the samples give them.
    pub latency_ms: Option<crate::measure::Percentiles>,
}

/// Runs `peer` against a fresh mock API for `scenario` (its profile, n, limit, seed).
pub fn run(
    python: &Python,
    peer: &Peer,
    scenario: &Scenario,
    placement: &Placement,
) -> Result<PeerRun, Error> {
    let mut server = MockApi::start(&scenario.server_config(), placement)?;
    // Held until the peer has run: the file is removed when this drops.
    let ca_file = server.ca_certificate().map(write_ca_file).transpose()?;
    let mut modelled = scenario.clone();
    modelled.strategy = peer.schedule;
    if !peer.limited && peer.schedule == Strategy::AsyncSemaphore {
        // httpx's default pool: 100 connections, whatever the scenario's limit.
        modelled.client.limit = 100;
    }
    // The pattern's own bound, but never under two minutes: some Python clients spend
    // tens of seconds of CPU on a thousand requests, and that cost is what is measured.
    let deadline = modelled.deadline().max(PEER_DEADLINE_FLOOR);
    let mut command = Command::new(&python.interpreter);
    command
        .arg(python.scripts.join(peer.script))
        .args(["--url", server.url(), "-n", &scenario.n.to_string()])
        .args(["--deadline", &format!("{:.3}", deadline.as_secs_f64())])
        .args(peer.args);
    if peer.limited {
        command.args(["--limit", &scenario.client.limit.to_string()]);
    }
    if let Some(ca_file) = &ca_file {
        command.arg("--cafile").arg(ca_file.path());
    }
    // The peer stops itself at its deadline; a peer that does not is stopped here.
    let limit = deadline.saturating_add(Duration::from_secs(30));
    let what = format!("the peer {}", peer.script);
    let output = crate::bounded::output_within(&mut command, limit, &what)?;
    if !output.status.success() {
        return Err(Error::Child {
            what,
            why: format!("failed: {}", String::from_utf8_lossy(&output.stderr).trim()),
        });
    }
    let record: PeerRecord = serde_json::from_slice(&output.stdout).map_err(|e| Error::Child {
        what: format!("the peer {}", peer.script),
        why: format!("what it printed does not parse: {e}"),
    })?;
    let ledger = server.ledger()?;
    let output = RunOutput {
        measurements: measurements(&record, scenario.n, &ledger)?,
        scenario: modelled,
        ledger,
        placement: placement.kind(),
        calibration: Calibration::default(),
        footprint: None,
    };
    Ok(PeerRun {
        label: peer.label.to_string(),
        library: format!("{}, Python {}", record.library, record.python),
        output,
        latency_ms: None,
    })
}

/// The CA certificate in a temporary PEM file of its own, for a peer's `--cafile`.
pub(crate) fn write_ca_file(ca: &CaCertificate) -> Result<tempfile::NamedTempFile, Error> {
    temporary_file(
        "fanout-peer-ca-",
        ".pem",
        ca.pem().as_bytes(),
        "writing the mock API's CA certificate for a peer",
    )
}

/// `contents` in a temporary file named `{prefix}…{suffix}`, removed when it drops.
pub(crate) fn temporary_file(
    prefix: &str,
    suffix: &str,
    contents: &[u8],
    what: &str,
) -> Result<tempfile::NamedTempFile, Error> {
    let failed = |e| Error::io(what, e);
    let mut file = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(suffix)
        .tempfile()
        .map_err(failed)?;
    file.write_all(contents).map_err(failed)?;
    file.flush().map_err(failed)?;
    Ok(file)
}

/// The peer's rows as samples, every request of `0..n` exactly once.
fn measurements(
    record: &PeerRecord,
    n: u64,
    ledger: &crate::server::ledger::LedgerRecord,
) -> Result<Measurements, Error> {
    let ms = |v: f64| Duration::try_from_secs_f64(v.max(0.0) / 1e3).unwrap_or(Duration::MAX);
    let mut samples = Vec::with_capacity(record.samples.len());
    for (seq, start, end, status, outcome) in &record.samples {
        let outcome = Outcome::from_name(outcome).ok_or_else(|| Error::Child {
            what: format!("the peer {}", record.peer),
            why: format!("it reported an unknown outcome '{outcome}'"),
        })?;
        samples.push(Sample {
            seq: *seq,
            endpoint: 0,
            start: ms(*start),
            end: ms(*end),
            outcome,
            status: *status,
            bytes: 0,
            attempts: u32::from(outcome != Outcome::Cancelled),
            intended: None,
            copies: 0,
        });
    }
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    // Without the peer's own wall-clock start, the first arrival stands in for it.
    let started = record
        .started_unix_us
        .unwrap_or_else(|| ledger.first_arrival_us());
    let measurements = Measurements::new(samples, wall, started);
    measurements
        .check_accounting(n)
        .map_err(|why| Error::Child {
            what: format!("the peer {}", record.peer),
            why: format!("its requests do not add up: {why}"),
        })?;
    Ok(measurements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ledger::LedgerRecord;

    fn record(rows: Vec<(u64, f64, f64, Option<u16>, &str)>) -> PeerRecord {
        PeerRecord {
            peer: "python-test".to_string(),
            library: "test 1.0".to_string(),
            python: "3.11".to_string(),
            samples: rows
                .into_iter()
                .map(|(seq, start, end, status, outcome)| {
                    (seq, start, end, status, outcome.to_string())
                })
                .collect(),
            started_unix_us: Some(1_000_000),
        }
    }

    #[test]
    fn a_peer_record_becomes_samples_with_every_request_once() {
        let rows = vec![
            (0, 0.0, 10.5, Some(200), "ok"),
            (1, 0.2, 30.0, None, "timeout"),
        ];
        let m = measurements(&record(rows), 2, &LedgerRecord::default()).unwrap();
        assert_eq!(m.samples.len(), 2);
        assert_eq!(m.wall, Duration::from_micros(30_000));
        assert_eq!(m.samples[1].outcome, Outcome::Timeout);
        assert_eq!(m.started_unix_us, 1_000_000);
    }

    #[test]
    fn a_record_missing_a_request_or_naming_no_outcome_is_refused() {
        let short = record(vec![(0, 0.0, 1.0, Some(200), "ok")]);
        assert!(measurements(&short, 2, &LedgerRecord::default()).is_err());
        let odd = record(vec![(0, 0.0, 1.0, Some(200), "fine")]);
        let why = measurements(&odd, 1, &LedgerRecord::default()).unwrap_err();
        assert!(why.to_string().contains("unknown outcome"));
    }
}
