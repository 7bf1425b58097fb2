//! Chapter 3: from `ureq` to `reqwest`, sync to async.
//!
//! The same fetch written twice: with `ureq`, which blocks its thread until the answer
//! is in (concurrency then means one OS thread per call), and with `reqwest`, whose
//! future hands the thread back while it waits (concurrency means many tasks on a
//! tokio runtime). Then what goes wrong when the two are mixed: `ureq` calls inside
//! async tasks run one after another, because each one holds the runtime's thread, and
//! so does `std::thread::sleep`. The fixes, `tokio::task::spawn_blocking` and
//! `tokio::time::sleep`, are measured next to them.
//!
//! ```sh
//! cargo run --release --example ch03_sync_to_async            # all steps
//! cargo run --release --example ch03_sync_to_async -- --step  # pause between steps
//! ```

use std::collections::HashSet;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use tokio::runtime::Runtime;

use fanout::server::latency::Latency;
use fanout::server::profile::Profile;
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, walkthrough};

/// How many calls each step makes, all to one endpoint that waits `DELAY`.
const N: usize = 5;
const DELAY: Duration = Duration::from_millis(120);
/// The "work" each task does before its call in the last step.
const WORK: Duration = Duration::from_millis(80);
/// The worker threads of the multi-thread runtimes built here.
const WORKERS: usize = 2;
/// No call may wait longer than this, whatever happens.
const TIMEOUT: Duration = Duration::from_secs(5);

// ANCHOR: ureq_fetch
/// A `ureq` agent: a pool of connections, and every call bounded by `TIMEOUT`.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(TIMEOUT))
        .build()
        .new_agent()
}

/// ureq: returns when the whole answer is in; until then this thread does nothing else.
fn fetch_blocking(agent: &ureq::Agent, url: &str) -> Result<usize, ureq::Error> {
    let body = agent.get(url).call()?.body_mut().read_to_vec()?;
    Ok(body.len())
}
// ANCHOR_END: ureq_fetch

// ANCHOR: reqwest_fetch
/// A `reqwest` client: a pool of connections, and every call bounded by `TIMEOUT`.
fn new_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
}

/// reqwest: a future; each `.await` hands the thread back until the socket is ready.
async fn fetch(client: &reqwest::Client, url: &str) -> reqwest::Result<usize> {
    let body = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(body.len())
}
// ANCHOR_END: reqwest_fetch

// ANCHOR: ureq_threads
/// One OS thread per call. The scope returns once every thread has finished, so the
/// threads may borrow `agent` and `urls`. Returns the thread each call ran on.
fn ureq_on_threads(agent: &ureq::Agent, urls: &[String]) -> anyhow::Result<Vec<ThreadId>> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .map(|url| {
                scope.spawn(move || {
                    fetch_blocking(agent, url)?;
                    Ok(std::thread::current().id())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| anyhow!("a fetch thread panicked"))?
            })
            .collect()
    })
}
// ANCHOR_END: ureq_threads

// ANCHOR: runtimes
/// What `#[tokio::main]` builds: a multi-thread runtime. `workers` threads run the
/// tasks (one per core unless told otherwise) and steal work from each other.
fn multi_thread(workers: usize) -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all() // the reactor (sockets) and the timers
        .build()
}

/// What `#[tokio::main(flavor = "current_thread")]` builds: every task runs on the
/// one thread that calls `block_on`.
fn current_thread() -> std::io::Result<Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
// ANCHOR_END: runtimes

// ANCHOR: tasks
/// One task per call; returns the thread each task finished on.
async fn reqwest_in_tasks(
    client: &reqwest::Client,
    urls: &[String],
) -> anyhow::Result<Vec<ThreadId>> {
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                fetch(&client, &url).await?;
                Ok::<_, reqwest::Error>(std::thread::current().id())
            })
        })
        .collect();
    let mut threads = Vec::with_capacity(tasks.len());
    for task in tasks {
        threads.push(task.await??);
    }
    Ok(threads)
}
// ANCHOR_END: tasks

// ANCHOR: blocking_in_tasks
/// The mistake: ureq inside async tasks. Each call holds its worker thread until
/// the answer is in, so no other task can start on that thread meanwhile.
/// Returns when each call started, measured from `t0`.
async fn ureq_in_tasks(
    agent: &ureq::Agent,
    urls: &[String],
    t0: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (agent, url) = (agent.clone(), url.clone());
            tokio::spawn(async move {
                let started = t0.elapsed();
                fetch_blocking(&agent, &url)?; // blocks this worker thread
                Ok::<_, ureq::Error>(started)
            })
        })
        .collect();
    let mut starts = Vec::with_capacity(tasks.len());
    for task in tasks {
        starts.push(task.await??);
    }
    Ok(starts)
}

/// The fix: `spawn_blocking` runs each call on tokio's blocking pool, threads kept
/// apart from the workers for exactly this; the workers stay free.
async fn ureq_on_blocking_pool(
    agent: &ureq::Agent,
    urls: &[String],
    t0: Instant,
) -> anyhow::Result<Vec<Duration>> {
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (agent, url) = (agent.clone(), url.clone());
            tokio::task::spawn_blocking(move || {
                let started = t0.elapsed();
                fetch_blocking(&agent, &url)?;
                Ok::<_, ureq::Error>(started)
            })
        })
        .collect();
    let mut starts = Vec::with_capacity(tasks.len());
    for task in tasks {
        starts.push(task.await??);
    }
    Ok(starts)
}
// ANCHOR_END: blocking_in_tasks

// ANCHOR: sleeps
/// Each task first spends `work` (here, sleeping) and then fetches. With `blocking`
/// the sleep is `std::thread::sleep`, which holds the thread; otherwise
/// `tokio::time::sleep`, which hands it back until the timer fires.
async fn work_then_fetch(
    client: &reqwest::Client,
    urls: &[String],
    work: Duration,
    blocking: bool,
) -> anyhow::Result<()> {
    let tasks: Vec<_> = urls
        .iter()
        .map(|url| {
            let (client, url) = (client.clone(), url.clone());
            tokio::spawn(async move {
                if blocking {
                    std::thread::sleep(work); // no other task runs meanwhile
                } else {
                    tokio::time::sleep(work).await; // the others run meanwhile
                }
                fetch(&client, &url).await
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    Ok(())
}
// ANCHOR_END: sleeps

/// Runs `f` and returns its output and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let output = f();
    (output, started.elapsed())
}

/// How many different threads appear in `ids`.
fn distinct(ids: &[ThreadId]) -> usize {
    ids.iter().collect::<HashSet<_>>().len()
}

/// Start offsets as `0, 121, 242 ms`.
fn offsets(starts: &[Duration]) -> String {
    let mut sorted = starts.to_vec();
    sorted.sort();
    let ms: Vec<String> = sorted
        .iter()
        .map(|d| format!("{:.0}", d.as_secs_f64() * 1e3))
        .collect();
    format!("{} ms", ms.join(", "))
}

fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();

    steps.next("start a local mock API whose endpoint waits before answering");
    let server = MockApi::start(
        &walkthrough::server_config(Profile::single(Latency::Fixed(DELAY)), 1)?,
        &Placement::InProcess,
    )?;
    let urls = vec![format!("{}/items", server.url()); N];
    println!(
        "  {N} calls to {}, each answered after {}",
        urls[0],
        seconds(DELAY)
    );
    let (one_after_another, at_once) = (DELAY * N as u32, DELAY);
    println!(
        "  one after another should take {N} x {} = {}, all at once {}",
        seconds(DELAY),
        seconds(one_after_another),
        seconds(at_once)
    );
    // One agent serves every ureq step. A reqwest client's connections are tasks on
    // the runtime that opened them, so each runtime below gets a client of its own.
    let agent = agent();

    steps.next("ureq, one call after another");
    let (sizes, took) = timed(|| {
        urls.iter()
            .map(|url| fetch_blocking(&agent, url))
            .collect::<Result<Vec<_>, _>>()
    });
    println!(
        "  sizes {:?}, took {} (predicted {})",
        sizes?,
        seconds(took),
        seconds(one_after_another)
    );

    steps.next("ureq, one OS thread per call");
    let (threads, took) = timed(|| ureq_on_threads(&agent, &urls));
    println!(
        "  took {} on {} threads (predicted {} on {N})",
        seconds(took),
        distinct(&threads?),
        seconds(at_once)
    );

    steps.next("reqwest, one task per call, on a multi-thread runtime");
    let (runtime, client) = (multi_thread(WORKERS)?, new_client()?);
    let (threads, took) = timed(|| runtime.block_on(reqwest_in_tasks(&client, &urls)));
    println!(
        "  took {}, tasks finished on {} of the {WORKERS} worker threads (predicted {})",
        seconds(took),
        distinct(&threads?),
        seconds(at_once)
    );

    steps.next("reqwest, one task per call, on a current-thread runtime");
    let (runtime, client) = (current_thread()?, new_client()?);
    let (threads, took) = timed(|| runtime.block_on(reqwest_in_tasks(&client, &urls)));
    println!(
        "  took {} on {} thread: {N} calls in flight at once on one thread (predicted {})",
        seconds(took),
        distinct(&threads?),
        seconds(at_once)
    );

    steps.next("the mistake: ureq inside tasks on a current-thread runtime");
    let (starts, took) = timed(|| runtime.block_on(ureq_in_tasks(&agent, &urls, Instant::now())));
    println!(
        "  took {} (predicted {N} x {} = {}); calls started at {}",
        seconds(took),
        seconds(DELAY),
        seconds(one_after_another),
        offsets(&starts?)
    );

    steps.next("the same mistake on a multi-thread runtime");
    let runtime = multi_thread(WORKERS)?;
    let waves = N.div_ceil(WORKERS) as u32;
    let (starts, took) = timed(|| runtime.block_on(ureq_in_tasks(&agent, &urls, Instant::now())));
    println!(
        "  took {} with {WORKERS} workers (predicted {waves} waves x {} = {}); calls started at {}",
        seconds(took),
        seconds(DELAY),
        seconds(DELAY * waves),
        offsets(&starts?)
    );

    steps.next("the fix: spawn_blocking, on the current-thread runtime");
    let runtime = current_thread()?;
    let (starts, took) =
        timed(|| runtime.block_on(ureq_on_blocking_pool(&agent, &urls, Instant::now())));
    println!(
        "  took {} (predicted {}); calls started at {}",
        seconds(took),
        seconds(at_once),
        offsets(&starts?)
    );

    steps.next("std::thread::sleep against tokio::time::sleep, on the current-thread runtime");
    println!(
        "  each task sleeps {} and then makes its call",
        seconds(WORK)
    );
    let client = new_client()?;
    let (done, took) = timed(|| runtime.block_on(work_then_fetch(&client, &urls, WORK, true)));
    done?;
    println!(
        "  std::thread::sleep: {} (predicted {N} x {} + {} = {})",
        seconds(took),
        seconds(WORK),
        seconds(DELAY),
        seconds(WORK * N as u32 + DELAY)
    );
    let (done, took) = timed(|| runtime.block_on(work_then_fetch(&client, &urls, WORK, false)));
    done?;
    println!(
        "  tokio::time::sleep: {} (predicted {} + {} = {})",
        seconds(took),
        seconds(WORK),
        seconds(DELAY),
        seconds(WORK + DELAY)
    );
    Ok(())
}
