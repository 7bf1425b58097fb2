//! A load engine's processes (a Locust master and its workers, N k6 processes), each
//! started with its output going to a file, all waited for by one deadline, and each
//! reaped with `wait4(2)` so its CPU time is known: the figure that says whether the
//! engine kept up or was the bottleneck.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::Error;

/// How often the waiting parent looks at its children.
const POLL: Duration = Duration::from_millis(20);

/// One engine process that has ended.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    /// Its role: `master`, `worker 1`, `segment 0/2`.
    pub role: String,
    /// Its exit code (`None`: killed by a signal).
    pub exit_code: Option<i32>,
    /// User plus system CPU time, in seconds.
    pub cpu_s: f64,
    /// From its start to its end, in seconds.
    pub wall_s: f64,
    /// Where its standard output and error went.
    #[serde(skip)]
    pub log: PathBuf,
}

impl Finished {
    /// The last lines of its log, for an error message.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(3)..].join(" | ")
    }
}

/// A running engine process.
pub struct Started {
    role: String,
    child: Child,
    started: Instant,
    log: PathBuf,
    reaped: bool,
}

impl Drop for Started {
    /// A process left behind (its siblings failed to start, a run was refused) is
    /// killed and reaped, never left running.
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = reap(self, true);
        }
    }
}

/// Starts `command` as `role`, its stdout and stderr going to `dir/{file}.log`. It
/// stays in fanout's process group, so a Ctrl-C at the terminal stops the engine with
/// fanout (Locust and k6 both end gracefully on SIGINT); the mock API, in a group of
/// its own, ends when fanout does.
pub fn start(mut command: Command, role: &str, dir: &Path, file: &str) -> Result<Started, Error> {
    let log = dir.join(format!("{file}.log"));
    let out =
        File::create(&log).map_err(|e| Error::io(format!("creating {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::io(format!("opening {}", log.display()), e))?;
    let child = command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::io(format!("starting the {role}"), e))?;
    Ok(Started {
        role: role.to_string(),
        child,
        started: Instant::now(),
        log,
        reaped: false,
    })
}

/// Waits for every process to end, killing all that are left at `limit`; then says
/// which ran out of time. The order of the result is the order of `processes`.
pub fn wait_all(
    processes: Vec<Started>,
    limit: Duration,
    what: &str,
) -> Result<Vec<Finished>, Error> {
    let deadline = Instant::now() + limit;
    let mut running: Vec<Option<Started>> = processes.into_iter().map(Some).collect();
    let mut finished: Vec<Option<Finished>> = running.iter().map(|_| None).collect();
    let mut killed = false;
    while running.iter().any(Option::is_some) {
        let out_of_time = Instant::now() >= deadline;
        for (slot, done) in running.iter_mut().zip(finished.iter_mut()) {
            let Some(process) = slot else { continue };
            if out_of_time {
                let _ = process.child.kill();
                killed = true;
            }
            if let Some(end) = reap(process, out_of_time) {
                *done = Some(end);
                *slot = None;
            }
        }
        if running.iter().any(Option::is_some) {
            std::thread::sleep(POLL);
        }
    }
    let finished: Vec<Finished> = finished.into_iter().flatten().collect();
    if killed {
        return Err(Error::Child {
            what: what.to_string(),
            why: format!("still running after {} s, stopped", limit.as_secs()),
        });
    }
    Ok(finished)
}

/// Reaps the process if it has ended (or waits for it when `block`), with its CPU
/// time from the kernel's accounting.
fn reap(process: &mut Started, block: bool) -> Option<Finished> {
    let pid = process.child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let flags = if block { 0 } else { libc::WNOHANG };
    // SAFETY: `pid` is our own child, not yet reaped (std's Child is never waited on);
    // `status` and `usage` are valid for writes.
    let reaped = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
    if reaped != pid {
        return None;
    }
    process.reaped = true;
    Some(Finished {
        role: process.role.clone(),
        exit_code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        cpu_s: cpu_seconds(&usage),
        wall_s: process.started.elapsed().as_secs_f64(),
        log: process.log.clone(),
    })
}

/// User plus system CPU time in `usage`, in seconds.
fn cpu_seconds(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// This process's CPU time so far (every thread), user plus system, in seconds.
pub fn own_cpu_s() -> f64 {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct, and
    // getrusage only writes to it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    cpu_seconds(&usage)
}

/// A port on 127.0.0.1 that was free a moment ago (for Locust's master).
pub fn free_port() -> Result<u16, Error> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::io("finding a free port on 127.0.0.1", e))
}
