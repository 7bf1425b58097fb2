//! The load tools a user would reach for instead of fanout, `oha` and `wrk`, run as
//! peers: the same mock API, the same ledger join, the same table.
//!
//! They are not installed with fanout; each is looked up on `PATH` and skipped, with
//! the line that installs it, when it is not there. Neither is a tutorial's pattern:
//! they are the yardstick for fanout's own client (how fast can a client on this
//! machine be?), so their rows carry the schedule of the fanout strategy they match.
//!
//! - **oha** (Rust, hyper and tokio, as fanout) runs `-n N -c C` and prints one CSV row
//!   per answered request (its start from oha's own start, its duration, its status):
//!   those rows become the samples, so its wall, percentiles and outcomes are computed
//!   as fanout's are. oha lists only answered requests; the rest of `n` (its connection
//!   errors and timeouts, which it counts but does not list) end as `dropped`. Over
//!   TLS it gets `--cacert`, the mock API's CA (oha trusts the system's store as well).
//! - **wrk** (C, one event loop per thread) has no per-request output and no request
//!   count: it runs for whole seconds (`-d`), so it gets about as long as fanout's
//!   own run of the scenario took, and the rows compare by requests per second. A Lua
//!   script prints wrk's own summary as JSON: its duration (the row's wall) and its
//!   latency percentiles. The row's n and outcomes are the server's ledger, one per
//!   request the server answered: when the time is up wrk abandons the requests it
//!   still has in flight, which the server answered but wrk never read, so the ledger
//!   holds up to one per connection more than wrk's own count (the library column
//!   gives both). wrk does not check certificates; over TLS it runs all the same.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use super::PeerRun;
use crate::error::Error;
use crate::measure::{Measurements, Outcome, Percentiles, Sample};
use crate::model::Calibration;
use crate::output::RunOutput;
use crate::scenario::Scenario;
use crate::server::{MockApi, Placement};
use crate::strategy::Strategy;
use crate::summary::RunSummary;

/// A load tool fanout can run as a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadTool {
    /// `oha`, <https://github.com/hatoo/oha>.
    Oha,
    /// `wrk`, <https://github.com/wg/wrk>.
    Wrk,
}

impl LoadTool {
    /// The program's name on `PATH`.
    pub fn program(self) -> &'static str {
        match self {
            LoadTool::Oha => "oha",
            LoadTool::Wrk => "wrk",
        }
    }

    /// How a user installs it, for the line that says it was skipped.
    pub fn install_hint(self) -> &'static str {
        match self {
            LoadTool::Oha => "cargo install oha --locked",
            LoadTool::Wrk => "apt-get install wrk (Debian, Ubuntu) or brew install wrk (macOS)",
        }
    }

    /// The program, when it is on `PATH`.
    pub fn find(self) -> Option<PathBuf> {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(self.program()))
            .find(|candidate| is_executable(candidate))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The version line the program prints of itself (`oha 1.16.0`), for the table.
fn version(program: &Path, flag: &str) -> String {
    let mut command = Command::new(program);
    command.arg(flag);
    let Ok(output) =
        crate::bounded::output_within(&mut command, Duration::from_secs(10), "--version")
    else {
        return "version unknown".to_string();
    };
    // wrk prints its banner on stdout and exits 1 for an unknown flag.
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    text.lines()
        .next()
        .map(|l| l.split(" [").next().unwrap_or(l).trim().to_string())
        .unwrap_or_else(|| "version unknown".to_string())
}

/// Runs `oha -n N -c in_flight` against a fresh mock API for `scenario`.
pub fn run_oha(
    program: &Path,
    scenario: &Scenario,
    in_flight: usize,
    schedule: Strategy,
    placement: &Placement,
) -> Result<PeerRun, Error> {
    let mut server = MockApi::start(&scenario.server_config(), placement)?;
    let ca_file = server
        .ca_certificate()
        .map(super::write_ca_file)
        .transpose()?;
    let deadline = scenario.deadline().max(Duration::from_secs(60));
    let mut command = Command::new(program);
    command
        .args(["-n", &scenario.n.to_string(), "-c", &in_flight.to_string()])
        .args(["--no-tui", "--output-format", "csv"])
        .args(["-t", &format!("{}s", deadline.as_secs())])
        .arg(format!("{}/items", server.url()));
    if let Some(ca_file) = &ca_file {
        command.arg("--cacert").arg(ca_file.path());
    }
    let what = "the peer oha".to_string();
    // oha gives up on a request at the deadline (-t); it is stopped here if it has not
    // ended half a minute after that, as a Python peer is.
    let limit = deadline.saturating_add(Duration::from_secs(30));
    let output = crate::bounded::output_within(&mut command, limit, &what)?;
    if !output.status.success() {
        return Err(Error::Child {
            what,
            why: format!("failed: {}", String::from_utf8_lossy(&output.stderr).trim()),
        });
    }
    let samples = oha_samples(&String::from_utf8_lossy(&output.stdout), scenario.n)
        .map_err(|why| Error::Child { what, why })?;
    let ledger = server.ledger()?;
    let wall = samples.iter().map(|s| s.end).max().unwrap_or_default();
    let started = ledger.first_arrival_us();
    let measurements = Measurements::new(samples, wall, started);
    let output = tool_output(
        scenario,
        schedule,
        in_flight,
        measurements,
        ledger,
        placement,
    );
    Ok(PeerRun {
        label: format!("oha -c {in_flight}"),
        library: version(program, "--version"),
        output,
        latency_ms: None,
    })
}

/// oha's CSV rows as samples, numbered in the order they started; the requests it did
/// not list end as `dropped`. Columns are found by their header's names, so a column
/// oha adds or moves does not shift the others.
fn oha_samples(csv: &str, n: u64) -> Result<Vec<Sample>, String> {
    let secs = |v: &str| {
        v.trim()
            .parse::<f64>()
            .ok()
            .and_then(|v| Duration::try_from_secs_f64(v.max(0.0)).ok())
    };
    let mut lines = csv.lines().skip_while(|l| !l.starts_with("request-start"));
    let header: Vec<&str> = lines.next().ok_or("no CSV header")?.split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(format!("no {name:?} column in {header:?}"))
    };
    let (start_at, duration_at, bytes_at, status_at) = (
        column("request-start")?,
        column("request-duration")?,
        column("bytes")?,
        column("status")?,
    );
    let mut rows = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let field = |at: usize| fields.get(at).copied().unwrap_or("");
        let (Some(start), Some(duration), Ok(status)) = (
            secs(field(start_at)),
            secs(field(duration_at)),
            field(status_at).trim().parse::<u16>(),
        ) else {
            return Err(format!("a CSV row that does not parse: {line:?}"));
        };
        rows.push((
            start,
            duration,
            status,
            field(bytes_at).trim().parse().unwrap_or(0),
        ));
    }
    if rows.len() as u64 > n {
        return Err(format!("it listed {} answers for {n} requests", rows.len()));
    }
    rows.sort_by_key(|r| r.0);
    let last_end = rows.iter().map(|r| r.0 + r.1).max().unwrap_or_default();
    let answered = rows
        .iter()
        .enumerate()
        .map(|(seq, &(start, duration, status, bytes))| Sample {
            seq: seq as u64,
            endpoint: 0,
            start,
            end: start + duration,
            outcome: Outcome::from_status(status),
            status: Some(status),
            bytes,
            attempts: 1,
            intended: None,
            copies: 0,
        });
    let unlisted = (rows.len() as u64..n).map(|seq| Sample {
        seq,
        endpoint: 0,
        start: last_end,
        end: last_end,
        outcome: Outcome::Dropped,
        status: None,
        bytes: 0,
        attempts: 1,
        intended: None,
        copies: 0,
    });
    Ok(answered.chain(unlisted).collect())
}

/// The Lua script that prints wrk's own figures as one JSON line when it is done.
const WRK_SCRIPT: &str = r#"-- fanout's wrk script: done() prints wrk's figures as one JSON line.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
"#;

/// What the script prints.
#[derive(Debug, Deserialize)]
struct WrkSummary {
    requests: u64,
    duration_us: u64,
    errors: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    #[serde(default)]
    p999_us: u64,
    max_us: u64,
    mean_us: f64,
}

/// wrk's threads: two, as the machine's cores, each with half the connections.
const WRK_THREADS: usize = 2;

/// Runs wrk with `connections` connections for `duration` (whole seconds, at least
/// one: wrk counts no other way) against a fresh mock API for `scenario`.
pub fn run_wrk(
    program: &Path,
    scenario: &Scenario,
    connections: usize,
    duration: Duration,
    schedule: Strategy,
    placement: &Placement,
) -> Result<PeerRun, Error> {
    let mut server = MockApi::start(&scenario.server_config(), placement)?;
    let threads = WRK_THREADS.min(connections).max(1);
    let seconds = duration.as_secs_f64().ceil().max(1.0) as u64;
    let script = super::temporary_file(
        "fanout-wrk-",
        ".lua",
        WRK_SCRIPT.as_bytes(),
        "writing wrk's Lua script",
    )?;
    let mut command = Command::new(program);
    command
        .args(["-t", &threads.to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{seconds}s"), "--timeout", "10s"])
        .arg("-s")
        .arg(script.path())
        .arg(format!("{}/items", server.url()));
    let what = "the peer wrk".to_string();
    let limit = Duration::from_secs(seconds + 30);
    let output = crate::bounded::output_within(&mut command, limit, &what)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: WrkSummary = stdout
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| Error::Child {
            what: what.clone(),
            why: format!(
                "it printed no summary: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        })?;
    let ledger = server.ledger()?;
    let started = ledger.first_arrival_us();
    let samples = ledger_samples(&ledger, started);
    let n = samples.len() as u64;
    let wall = Duration::from_micros(summary.duration_us);
    let measurements = Measurements::new(samples, wall, started);
    let mut modelled = scenario.clone();
    modelled.n = n;
    let output = tool_output(
        &modelled,
        schedule,
        connections,
        measurements,
        ledger,
        placement,
    );
    let ms = |us: u64| us as f64 / 1e3;
    Ok(PeerRun {
        label: format!("wrk -c {connections}"),
        library: format!(
            "{}; counted {} answers, {} errors",
            version(program, "--version"),
            summary.requests,
            summary.errors
        ),
        output,
        latency_ms: Some(Percentiles {
            p50: ms(summary.p50_us),
            p90: ms(summary.p90_us),
            p99: ms(summary.p99_us),
            p999: ms(summary.p999_us),
            max: ms(summary.max_us),
            mean: summary.mean_us / 1e3,
        }),
    })
}

/// One sample per request the server answered, its times the server's (from the
/// first arrival), numbered in arrival order.
fn ledger_samples(ledger: &crate::server::ledger::LedgerRecord, started: u64) -> Vec<Sample> {
    let mut entries: Vec<_> = ledger.entries.iter().collect();
    entries.sort_by_key(|e| e.arrival_us);
    entries
        .iter()
        .enumerate()
        .map(|(seq, e)| Sample {
            seq: seq as u64,
            endpoint: e.endpoint.unwrap_or(0),
            start: Duration::from_micros(e.arrival_us.saturating_sub(started)),
            end: Duration::from_micros(e.finish_us.saturating_sub(started)),
            outcome: e.status.map_or(Outcome::Dropped, Outcome::from_status),
            status: e.status,
            bytes: 0,
            attempts: 1,
            intended: None,
            copies: 0,
        })
        .collect()
}

/// A load tool's run as fanout's: the schedule of `schedule` at `in_flight`.
fn tool_output(
    scenario: &Scenario,
    schedule: Strategy,
    in_flight: usize,
    measurements: Measurements,
    ledger: crate::server::ledger::LedgerRecord,
    placement: &Placement,
) -> RunOutput {
    let mut modelled = scenario.clone();
    modelled.strategy = schedule;
    modelled.client.limit = in_flight;
    RunOutput {
        measurements,
        scenario: modelled,
        ledger,
        placement: placement.kind(),
        calibration: Calibration::default(),
        footprint: None,
    }
}

/// The summary of a tool's run: fanout's, with the tool's own latency percentiles where
/// it measured them and fanout could not (wrk).
pub fn summary_of(run: &PeerRun) -> RunSummary {
    let mut summary = RunSummary::from_output(&run.output);
    if let Some(latency) = run.latency_ms {
        summary.latency_ms = latency;
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oha_rows_become_samples_and_unlisted_requests_end_dropped() {
        let csv = "request-start,DNS,DNS+dialup,Response-delay,request-duration,bytes,status\n\
                   0.002,0,0.001,0.5,0.501,20,200\n\
                   0.001,0,0.001,0.5,0.502,20,503\n";
        let samples = oha_samples(csv, 3).unwrap();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].status, Some(503), "numbered by start");
        assert_eq!(samples[0].outcome, Outcome::Http5xx);
        assert_eq!(samples[1].outcome, Outcome::Ok);
        assert_eq!(samples[1].end, Duration::from_micros(503_000));
        assert_eq!(samples[2].outcome, Outcome::Dropped);
    }

    #[test]
    fn oha_output_that_does_not_parse_or_lists_too_many_is_refused() {
        let header = "request-start,DNS,DNS+dialup,Response-delay,request-duration,bytes,status\n";
        assert!(oha_samples(&format!("{header}0.1,0,0,0.1,0.2,20\n"), 1).is_err());
        assert!(
            oha_samples("request-start,bytes\n0.1,20\n", 1).is_err(),
            "no status column"
        );
        assert!(oha_samples(&format!("{header}x,0,0,0.1,0.2,20,200\n"), 1).is_err());
        let two = format!("{header}0.1,0,0,0.1,0.2,20,200\n0.2,0,0,0.1,0.2,20,200\n");
        assert!(oha_samples(&two, 1).is_err());
    }

    #[test]
    fn oha_columns_are_found_by_name() {
        let csv = "request-start,status,bytes,request-duration\n0.5,200,20,0.25\n";
        let samples = oha_samples(csv, 1).unwrap();
        assert_eq!(samples[0].end, Duration::from_millis(750));
        assert_eq!(samples[0].status, Some(200));
    }

    #[test]
    fn wrk_summary_parses() {
        let line = r#"{"requests":10,"duration_us":2000,"errors":0,"p50_us":100,"p90_us":150,"p99_us":200,"max_us":300,"mean_us":110.5}"#;
        let s: WrkSummary = serde_json::from_str(line).unwrap();
        assert_eq!((s.requests, s.p99_us), (10, 200));
    }
}
