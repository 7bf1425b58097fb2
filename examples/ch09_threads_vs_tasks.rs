//! Chapter 9: threads against async tasks. The same fan-out, 500 requests to an
//! endpoint that answers after 300 ms, made once with one OS thread per request
//! (blocking `ureq`) and once with one tokio task per request (`reqwest`). Both finish
//! in about the delay; what differs is what they cost the process.
//!
//! Memory is measured honestly: each variant runs in a fresh child process (this
//! example starts itself again with a hidden `--variant` argument), so one variant's
//! allocations never flatter or burden another's. Each child reads its own peak
//! resident memory (`VmHWM`), peak address space (`VmPeak`), thread count (`Threads`,
//! sampled while it runs) and context switches from `/proc`, and reports them to the
//! parent as one JSON line. The mock API runs in the parent (a fresh one per variant),
//! so a child holds nothing but its client. Without `/proc` (not Linux), only times
//! are printed.
//!
//! Two control variants separate what a thread costs from what its HTTP client costs:
//! `bare-threads` (one thread per request that only sleeps for the delay) and
//! `threads-16k` (ureq with 16 KiB I/O buffers instead of its default 128 KiB).
//!
//! ```sh
//! cargo run --release --example ch09_threads_vs_tasks            # all steps
//! cargo run --release --example ch09_threads_vs_tasks -- --step  # pause between steps
//! cargo run --release --example ch09_threads_vs_tasks -- -n 2000 # a larger fan-out
//! ```

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use fanout::fdlimit::{self, BASE_DESCRIPTORS};
use fanout::server::latency::Latency;
use fanout::server::profile::Profile;
use fanout::walkthrough::Steps;
use fanout::{MockApi, Placement, walkthrough};

/// The server's delay for every request.
const DELAY: Duration = Duration::from_millis(300);
/// Requests per variant, unless `-n` says otherwise.
const DEFAULT_N: usize = 500;
/// Each phase of a request (connect, wait for the answer, read the body) gives up
/// after this; a child that outlives `CHILD_DEADLINE` is killed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const CHILD_DEADLINE: Duration = Duration::from_secs(20);
/// How often a child samples its own thread count.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// std's default stack for spawned threads (`RUST_MIN_STACK` changes it).
const DEFAULT_STACK: u64 = 2 * 1024 * 1024;

/// The variants, in the order the table lists them, with what each one is.
const VARIANTS: [(&str, &str); 5] = [
    ("idle", "the child process doing nothing: the floor"),
    (
        "bare-threads",
        "one OS thread per request that only sleeps 300 ms",
    ),
    (
        "threads",
        "one OS thread per request, ureq with its defaults",
    ),
    (
        "threads-16k",
        "the same with ureq's I/O buffers cut to 16 KiB",
    ),
    ("tasks", "one tokio task per request, reqwest"),
];

/// What one child process measured about itself. The `/proc` figures are `None`
/// where there is no `/proc`.
#[derive(Debug, Serialize, Deserialize)]
struct Report {
    variant: String,
    n: usize,
    /// First request started to last one finished.
    wall_ms: f64,
    /// Requests that came back 200 with their body read.
    ok: usize,
    /// `VmHWM`: the most memory that was ever resident, KiB.
    peak_rss_kib: Option<u64>,
    /// `VmPeak`: the largest the address space ever was, KiB.
    peak_virtual_kib: Option<u64>,
    /// The most threads seen at once (the main thread and the sampler included).
    peak_threads: Option<u64>,
    /// Voluntary plus involuntary context switches of the threads that did the work.
    context_switches: Option<u64>,
}

// ANCHOR: proc_status
/// One field of a `/proc/.../status` file, e.g. `VmHWM:  14336 kB`, as its number:
/// KiB for memory, a count for the rest. `None` without `/proc`.
fn status_field(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(&format!("{field}:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A figure of this whole process: `process("VmHWM")` is its peak resident memory.
fn process(field: &str) -> Option<u64> {
    status_field("/proc/self/status", field)
}

/// The context switches of one thread so far: each time the kernel took the CPU
/// away from it, because it blocked (voluntary) or its time slice ran out.
fn context_switches(status: &str) -> Option<u64> {
    Some(
        status_field(status, "voluntary_ctxt_switches")?
            + status_field(status, "nonvoluntary_ctxt_switches")?,
    )
}
// ANCHOR_END: proc_status

/// Samples `Threads` every few milliseconds on a thread of its own, named `sampler`
/// so the context-switch count can leave it out.
struct ThreadSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ThreadSampler {
    fn start() -> anyhow::Result<ThreadSampler> {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (stopped, seen) = (stop.clone(), peak.clone());
        let thread = std::thread::Builder::new()
            .name("sampler".to_string())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    if let Some(threads) = process("Threads") {
                        seen.fetch_max(threads, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })?;
        Ok(ThreadSampler {
            stop,
            peak,
            thread: Some(thread),
        })
    }

    /// Stops sampling; the most threads seen, `None` without `/proc`.
    fn finish(mut self) -> Option<u64> {
        // One last sample, so a run shorter than the period is seen too.
        if let Some(threads) = process("Threads") {
            self.peak.fetch_max(threads, Ordering::Relaxed);
        }
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        Some(self.peak.load(Ordering::Relaxed)).filter(|&p| p > 0)
    }
}

/// A `ureq` agent whose every request is bounded. The timeouts are per phase on
/// purpose: with `timeout_global`, ureq 3 resolves each host name on a thread of its
/// own (so the lookup can be abandoned), which would add a second thread per request.
fn agent(buffer: Option<usize>) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_connect(Some(REQUEST_TIMEOUT))
        .timeout_recv_response(Some(REQUEST_TIMEOUT))
        .timeout_recv_body(Some(REQUEST_TIMEOUT));
    if let Some(bytes) = buffer {
        config = config.input_buffer_size(bytes).output_buffer_size(bytes);
    }
    config.build().into()
}

// ANCHOR: threads
/// One OS thread per request, each blocking in `ureq` until its answer is read.
/// Returns how many came back 200, and the context switches of those threads.
fn with_threads(agent: &ureq::Agent, url: &str, n: usize) -> (u64, Option<u64>) {
    let ok = AtomicU64::new(0);
    let switches = AtomicU64::new(0);
    let no_proc = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for seq in 0..n {
            let (ok, switches, no_proc) = (&ok, &switches, &no_proc);
            scope.spawn(move || {
                let answer = agent.get(format!("{url}?seq={seq}")).call();
                if let Ok(mut response) = answer
                    && response.body_mut().read_to_vec().is_ok()
                {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                // The thread's counters vanish when it ends: read them now.
                match context_switches("/proc/thread-self/status") {
                    Some(count) => _ = switches.fetch_add(count, Ordering::Relaxed),
                    None => no_proc.store(true, Ordering::Relaxed),
                }
            });
        }
    }); // the scope joins every thread before it returns
    let switches = (!no_proc.into_inner()).then(|| switches.into_inner());
    (ok.into_inner(), switches)
}
// ANCHOR_END: threads

// ANCHOR: tasks
/// One tokio task per request, all sharing one `reqwest::Client` (one connection
/// pool). Returns how many came back 200.
async fn with_tasks(client: &reqwest::Client, url: &str, n: usize) -> u64 {
    let mut tasks = tokio::task::JoinSet::new();
    for seq in 0..n {
        let request = client.get(format!("{url}?seq={seq}"));
        tasks.spawn(async move {
            let response = request.send().await?.error_for_status()?;
            response.bytes().await.map(|_| ())
        });
    }
    let mut ok = 0;
    while let Some(joined) = tasks.join_next().await {
        if matches!(joined, Ok(Ok(()))) {
            ok += 1;
        }
    }
    ok
}
// ANCHOR_END: tasks

// ANCHOR: runtime
/// tokio's multi-threaded runtime with its defaults: one worker thread per CPU.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}
// ANCHOR_END: runtime

/// Context switches of every live thread of this process but the sampler, `None`
/// without `/proc`. Call it before the runtime shuts its workers down.
fn live_threads_context_switches() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if name.trim() != "sampler" {
            total += context_switches(task.path().join("status").to_str()?)?;
        }
    }
    Some(total)
}

/// The child's side: run one variant, measure it, print one JSON line.
fn child(variant: &str, url: &str, n: usize) -> anyhow::Result<()> {
    // A child never calls Steps::from_args, which installs ring as rustls' provider for
    // the parent: without one, building the "tasks" variant's reqwest client panics.
    fanout::strategy::trust::install_crypto_provider();
    let sampler = ThreadSampler::start()?;
    let (wall, ok, switches) = match variant {
        "idle" => (Duration::ZERO, 0, None),
        "bare-threads" => {
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..n {
                    scope.spawn(|| std::thread::sleep(DELAY));
                }
            });
            (started.elapsed(), 0, None)
        }
        "threads" | "threads-16k" => {
            let agent = agent((variant == "threads-16k").then_some(16 * 1024));
            let started = Instant::now();
            let (ok, switches) = with_threads(&agent, url, n);
            (started.elapsed(), ok, switches)
        }
        "tasks" => {
            let runtime = runtime()?;
            let client = reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(REQUEST_TIMEOUT)
                .timeout(REQUEST_TIMEOUT)
                .build()?;
            runtime.block_on(async {
                let started = Instant::now();
                let ok = with_tasks(&client, url, n).await;
                (started.elapsed(), ok, live_threads_context_switches())
            })
        }
        other => bail!("unknown variant {other}"),
    };
    let peak_threads = sampler.finish();
    let report = Report {
        variant: variant.to_string(),
        n,
        wall_ms: wall.as_secs_f64() * 1e3,
        ok: ok as usize,
        peak_rss_kib: process("VmHWM"),
        peak_virtual_kib: process("VmPeak"),
        peak_threads,
        context_switches: switches,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

// ANCHOR: reexec
/// Runs one variant in a fresh copy of this program and reads back its one-line
/// report. The child is killed if it outlives `CHILD_DEADLINE`.
fn run_in_child(variant: &str, url: &str, n: usize) -> anyhow::Result<Report> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = Command::new(exe)
        .args(["--variant", variant, "--url", url, "-n", &n.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting the child process")?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > CHILD_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the {variant} child took longer than {CHILD_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?; // one short line: the pipe held it
    }
    if !status.success() {
        bail!("the {variant} child failed ({status})");
    }
    serde_json::from_str(out.trim()).context("reading the child's report")
}
// ANCHOR_END: reexec

/// One variant in its own process against a fresh mock API, with the server's own
/// count of how far apart the requests arrived.
fn measure(variant: &str, n: usize) -> anyhow::Result<(Report, f64)> {
    let profile = Profile::single(Latency::Fixed(DELAY));
    let mut server = MockApi::start(
        &walkthrough::server_config(profile, 1)?,
        &Placement::InProcess,
    )?;
    let report = run_in_child(variant, &format!("{}/items", server.url()), n)?;
    let spread_ms = server.ledger()?.summary().arrival_spread_ms;
    Ok((report, spread_ms))
}

/// The value after `flag` on the command line.
fn arg_after(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).cloned()
}

/// Checks the descriptor limit for `n` connections and returns the n that fits.
fn fitting(n: usize) -> anyhow::Result<usize> {
    // A connection holds one descriptor in the child (client), one here (server).
    match fdlimit::ensure(n as u64 + BASE_DESCRIPTORS) {
        Ok(limit) => {
            println!(
                "  file descriptors: {n} connections need {n} + {BASE_DESCRIPTORS}, limit {limit}"
            );
            Ok(n)
        }
        Err(fanout::Error::TooFewFileDescriptors { soft, hard, .. }) => {
            let fits = soft.saturating_sub(BASE_DESCRIPTORS) as usize;
            if fits < 10 {
                bail!(
                    "only {soft} file descriptors allowed (hard limit {hard}): raise `ulimit -n`"
                );
            }
            println!(
                "  file descriptors: {n} connections need {}, the limit is {soft} (hard {hard}): \
                 running n = {fits} instead; raise `ulimit -n` for more",
                n as u64 + BASE_DESCRIPTORS
            );
            Ok(fits)
        }
        Err(other) => Err(other.into()),
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_string(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn count(value: Option<u64>) -> String {
    value.map_or("n/a".to_string(), |v| v.to_string())
}

fn main() -> anyhow::Result<()> {
    let n: usize = match arg_after("-n") {
        Some(text) => text.parse().context("-n takes a whole number")?,
        None => DEFAULT_N,
    };
    if let Some(variant) = arg_after("--variant") {
        let url = arg_after("--url").context("--variant needs --url")?;
        return child(&variant, &url, n);
    }
    let mut steps = Steps::from_args();

    steps.next("check what this machine lets us measure");
    let has_proc = std::path::Path::new("/proc/self/status").exists();
    if has_proc {
        println!("  /proc/self/status is here: memory, threads and switches will be measured");
    } else {
        println!("  no /proc/self/status (not Linux): only wall times will be printed");
    }
    let n = fitting(n)?;
    let cpus = std::thread::available_parallelism().map_or(1, |c| c.get());
    let stack_kib = std::env::var("RUST_MIN_STACK")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(DEFAULT_STACK)
        / 1024;
    println!("  {cpus} CPUs; every spawned thread reserves a {stack_kib} KiB stack");

    let mut reports = Vec::new();
    for (variant, what) in VARIANTS {
        steps.next(&format!("{variant}: {what}"));
        let (report, spread_ms) = measure(variant, n)?;
        match variant {
            "idle" => println!("  peak RSS {}", mib(report.peak_rss_kib)),
            "bare-threads" => println!(
                "  {n} threads slept in {:.0} ms (the sleep is {:.0} ms)",
                report.wall_ms,
                DELAY.as_secs_f64() * 1e3
            ),
            _ => println!(
                "  {}/{n} ok in {:.0} ms (the delay is {:.0} ms); the server saw the last \
                 request arrive {spread_ms:.0} ms after the first",
                report.ok,
                report.wall_ms,
                DELAY.as_secs_f64() * 1e3
            ),
        }
        reports.push(report);
    }

    steps.next("compare, each variant measured in its own process");
    println!(
        "  {:<12} {:>7} {:>10} {:>12} {:>8} {:>9} {:>8}",
        "variant", "wall", "peak RSS", "peak virtual", "threads", "switches", "ok"
    );
    for r in &reports {
        let made_requests = !matches!(r.variant.as_str(), "idle" | "bare-threads");
        let wall = match r.variant.as_str() {
            "idle" => "-".to_string(),
            _ => format!("{:.0} ms", r.wall_ms),
        };
        let ok = match made_requests {
            true => format!("{}/{}", r.ok, r.n),
            false => "-".to_string(),
        };
        println!(
            "  {:<12} {wall:>7} {:>10} {:>12} {:>8} {:>9} {ok:>8}",
            r.variant,
            mib(r.peak_rss_kib),
            mib(r.peak_virtual_kib),
            count(r.peak_threads),
            count(r.context_switches),
        );
    }
    if !has_proc {
        return Ok(());
    }
    let get = |name: &str| reports.iter().find(|r| r.variant == name);
    let (Some(idle), Some(tasks)) = (get("idle"), get("tasks")) else {
        return Ok(());
    };
    println!(
        "  threads: one per request is {} with main and sampler; tasks need {} \
         (a worker per CPU, main, sampler)",
        n + 2,
        cpus + 2
    );
    let floor = idle.peak_rss_kib.unwrap_or(0);
    println!("  resident memory above the idle child, per request:");
    for r in reports.iter().filter(|r| r.variant != "idle") {
        if let Some(peak) = r.peak_rss_kib {
            let per = peak.saturating_sub(floor) as f64 / n as f64;
            println!("    {:<12} {per:>6.1} KiB", r.variant);
        }
    }
    if let (Some(bare), Some(idle_virtual)) = (get("bare-threads"), idle.peak_virtual_kib) {
        let grown = bare
            .peak_virtual_kib
            .unwrap_or(0)
            .saturating_sub(idle_virtual);
        println!(
            "  address space the bare threads added: {} (their stacks alone: {n} x {stack_kib} KiB = {})",
            mib(Some(grown)),
            mib(Some(n as u64 * stack_kib))
        );
    }
    if let (Some(threads), Some(a)) = (
        get("threads").and_then(|r| r.context_switches),
        tasks.context_switches,
    ) {
        println!(
            "  context switches per request: {:.1} with threads, {:.2} with tasks",
            threads as f64 / n as f64,
            a as f64 / n as f64
        );
    }
    Ok(())
}
