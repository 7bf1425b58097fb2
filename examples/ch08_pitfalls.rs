//! Chapter 8: Rust pitfalls, each shown and measured against fanout's embedded mock
//! API, whose ledger says what the server really received:
//!
//! 1. a blocking call inside async tasks turns concurrency into a sequence;
//! 2. a future that is never awaited sends nothing;
//! 3. every open connection is a file descriptor, and the process has a limit;
//! 4. HTTP/2 puts every request on one connection, up to the server's stream limit;
//! 5. a client per request opens a connection per request.
//!
//! The client side runs on a current-thread runtime: one thread, so a blocked thread
//! is a blocked program, as in Python's event loop. The mock API runs on threads of
//! its own, so the client cannot stall it.
//!
//! ```sh
//! cargo run --release --example ch08_pitfalls            # all steps
//! cargo run --release --example ch08_pitfalls -- --step  # pause between steps
//! ```

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use fanout::server::latency::Latency;
use fanout::server::ledger::{LedgerRecord, now_us};
use fanout::server::profile::Profile;
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, Scenario, ServerConfig, Strategy};

/// A fresh mock API whose every path answers after `delay`, and the URL to call.
/// Each step starts its own, so its ledger holds that step's requests only.
fn start(delay: Duration) -> anyhow::Result<(MockApi, String)> {
    let profile = Profile::single(Latency::Fixed(delay));
    let server = MockApi::start(&ServerConfig::new(profile, 1), &Placement::InProcess)?;
    let url = format!("{}/items", server.url());
    Ok((server, url))
}

/// A client for loopback, with a bound on every request.
fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
}

/// Fetches one URL and returns the size of its body.
async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<usize> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

// ANCHOR: blocking
/// How each task spends its `work` before its request.
#[derive(Debug, Clone, Copy)]
enum Work {
    /// `std::thread::sleep`: holds the runtime's only thread. The pitfall.
    Blocking,
    /// `tokio::time::sleep`: hands the thread back while it waits. The fix for waiting.
    Async,
    /// The blocking call moved to tokio's blocking thread pool. The fix for a call
    /// that has no async version (a file read, a C library, heavy computation).
    SpawnBlocking,
}

/// Spawns `n` tasks that each do their work and then fetch `url`; waits for all.
async fn work_then_fetch(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    work: Duration,
    how: Work,
) -> anyhow::Result<()> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move {
                match how {
                    Work::Blocking => std::thread::sleep(work),
                    Work::Async => tokio::time::sleep(work).await,
                    Work::SpawnBlocking => {
                        tokio::task::spawn_blocking(move || std::thread::sleep(work)).await?
                    }
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
// ANCHOR_END: blocking

/// When the first and the last request reached the server, counted from `t0_us`.
fn arrivals(ledger: &LedgerRecord, t0_us: u64) -> (Duration, Duration) {
    let since = |us: Option<u64>| Duration::from_micros(us.unwrap_or(t0_us).saturating_sub(t0_us));
    let times = || ledger.entries.iter().map(|e| e.arrival_us);
    (since(times().min()), since(times().max()))
}

/// Step 1: the same five tasks, their work done three ways.
async fn blocking(steps: &mut Steps) -> anyhow::Result<()> {
    let (n, work, delay) = (5, Duration::from_millis(100), Duration::from_millis(100));
    steps.next(&format!(
        "block the runtime: {n} tasks, each works {} then calls an endpoint that takes {}",
        seconds(work),
        seconds(delay)
    ));
    for how in [Work::Blocking, Work::Async, Work::SpawnBlocking] {
        let (mut server, url) = start(delay)?;
        let client = client()?;
        let (t0, t0_us) = (Instant::now(), now_us());
        work_then_fetch(&client, &url, n, work, how).await?;
        let took = t0.elapsed();
        let ledger = server.ledger()?;
        // Blocked, no request leaves before every task has done its work.
        let (expected, expected_first) = match how {
            Work::Blocking => (
                format!("n × work + delay = {}", seconds(work * n as u32 + delay)),
                format!("n × work = {}", seconds(work * n as u32)),
            ),
            _ => (
                format!("work + delay = {}", seconds(work + delay)),
                format!("work = {}", seconds(work)),
            ),
        };
        println!(
            "  {:<14} took {:>8} ({expected}); the first request reached the server after {:>8} ({expected_first})",
            format!("{how:?}:"),
            seconds(took),
            seconds(arrivals(&ledger, t0_us).0),
        );
    }
    Ok(())
}

/// Step 2: request futures built and dropped, then the same futures awaited.
async fn never_awaited(steps: &mut Steps) -> anyhow::Result<()> {
    let (n, delay) = (10, Duration::from_millis(50));
    steps.next(&format!("build {n} request futures and never await them"));
    let (mut server, url) = start(delay)?;
    let client = client()?;

    // ANCHOR: never_awaited
    // The pitfall: the futures are built, never polled, and dropped.
    let pending: Vec<_> = (0..n).map(|_| client.get(&url).send()).collect();
    drop(pending);

    // `let _ =` silences rustc's `unused_must_use` warning, and still sends nothing.
    // clippy's `let_underscore_future` lint flags it; it is allowed here to show it.
    #[allow(clippy::let_underscore_future)]
    let _ = client.get(&url).send();
    // ANCHOR_END: never_awaited

    // Anything sent would have arrived and been answered by now.
    tokio::time::sleep(delay * 3).await;
    let ledger = server.ledger()?;
    println!(
        "  the server received {} requests on {} connections (nothing is sent until a future is polled: expected 0)",
        ledger.entries.len(),
        ledger.connections.unwrap_or(0)
    );

    // ANCHOR: awaited
    // The fix: await them (here all at once).
    let sizes = futures::future::join_all((0..n).map(|_| fetch(&client, &url))).await;
    // ANCHOR_END: awaited
    let ok = sizes.iter().filter(|s| s.is_ok()).count();
    println!(
        "  awaited: {ok} answers, the server received {} (expected {n})",
        server.ledger()?.entries.len()
    );
    Ok(())
}

/// Descriptors this process has open now, where the system can tell (Linux).
fn open_descriptors() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

/// Step 3: the limit, what one connection costs, and fanout's check before a run.
async fn descriptors(steps: &mut Steps) -> anyhow::Result<()> {
    steps.next("file descriptors: one per connection, on each side");
    // ANCHOR: rlimit
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    // ANCHOR_END: rlimit
    println!(
        "  this process may open {soft} descriptors (soft limit); it may raise that to {hard} (hard limit)"
    );

    let (n, delay) = (200, Duration::from_millis(300));
    let (_server, url) = start(delay)?;
    let client = client()?;
    // Connections of the steps before close in tasks on this runtime, when they next
    // run: let them, so the count below starts from a quiet process.
    tokio::time::sleep(Duration::from_millis(20)).await;
    if let Some(before) = open_descriptors() {
        let requests = futures::future::join_all((0..n).map(|_| fetch(&client, &url)));
        let count = async {
            // Halfway through the delay every connection is open and waiting.
            tokio::time::sleep(delay / 2).await;
            open_descriptors()
        };
        let (answers, during) = tokio::join!(requests, count);
        let during = during.context("reading /proc/self/fd")?;
        println!(
            "  open descriptors: {before} before, {during} with {n} requests in flight: +{} (2 × {n} = {}: the client's end and the server's, both in this process)",
            during.saturating_sub(before),
            2 * n
        );
        anyhow::ensure!(answers.iter().all(|a| a.is_ok()), "a request failed");
    } else {
        println!("  (this system has no /proc/self/fd to count open descriptors)");
    }

    // ANCHOR: fdcheck
    // What `fanout run -n 30000 --delay 100ms` checks before it sends anything.
    let scenario = Scenario::new(
        Profile::single(Latency::Fixed(Duration::from_millis(100))),
        30_000,
        Strategy::AsyncConcurrent,
    );
    let child = Placement::Child {
        fanout_exe: PathBuf::from("fanout"),
    };
    for placement in [child, Placement::InProcess] {
        let verdict = match fanout::pipeline::ensure_descriptors(&scenario, &placement) {
            Ok(limit) => format!("fits under the limit of {limit}"),
            Err(refused) => format!("refused: {refused}"),
        };
        println!("  30,000 at once, server {}: {verdict}", placement.name());
    }
    // ANCHOR_END: fdcheck
    println!(
        "  (needed: {} spare + 30,000 per side that lives in this process)",
        fanout::fdlimit::BASE_DESCRIPTORS
    );
    Ok(())
}

/// Starts `n` requests at once and waits for all; the wall time.
async fn all_at_once(client: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let answers = futures::future::join_all((0..n).map(|_| fetch(client, url))).await;
    let took = started.elapsed();
    anyhow::ensure!(answers.iter().all(|a| a.is_ok()), "a request failed");
    Ok(took)
}

/// Step 4: the same burst over HTTP/1.1 and over HTTP/2.
async fn http2(steps: &mut Steps) -> anyhow::Result<()> {
    let (n, delay) = (400usize, Duration::from_millis(100));
    let streams = fanout::server::DEFAULT_H2_MAX_STREAMS;
    steps.next(&format!(
        "{n} requests at once over HTTP/1.1 and HTTP/2 (the server allows {streams} streams per connection)"
    ));
    // ANCHOR: http2
    let http1 = client()?;
    let http2 = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .http2_prior_knowledge() // speak HTTP/2 from the first byte, without TLS
        .build()?;
    // ANCHOR_END: http2
    let waves = n.div_ceil(streams as usize);
    for (name, client, expected) in [
        (
            "HTTP/1.1",
            &http1,
            format!("{n} connections, peak {n}, ≈ the delay {}", seconds(delay)),
        ),
        (
            "HTTP/2",
            &http2,
            format!(
                "1 connection, peak {}, {waves} waves ≈ {}",
                n.min(streams as usize),
                seconds(delay * waves as u32)
            ),
        ),
    ] {
        let (mut server, url) = start(delay)?;
        let t0_us = now_us();
        let took = all_at_once(client, &url, n).await?;
        let ledger = server.ledger()?;
        let summary = ledger.summary();
        let (first, last) = arrivals(&ledger, t0_us);
        println!(
            "  {name:<8}: {} connection(s), peak {} in flight at the server, took {} (expected {expected})",
            summary.connections.unwrap_or(0),
            summary.peak_in_flight,
            seconds(took),
        );
        println!(
            "            requests reached the server from {} to {} after the start",
            seconds(first),
            seconds(last)
        );
    }
    Ok(())
}

// ANCHOR: reuse
/// `n` requests one after another, on one shared client or on a new client each time.
async fn one_after_another(url: &str, n: usize, shared: bool) -> anyhow::Result<Duration> {
    let client = client()?;
    let started = Instant::now();
    for _ in 0..n {
        if shared {
            fetch(&client, url).await?;
        } else {
            // The pitfall: a new client is a new connection pool, so a new connection.
            fetch(&self::client()?, url).await?;
        }
    }
    Ok(started.elapsed())
}
// ANCHOR_END: reuse

/// Step 5: one shared client against a client per request.
async fn reuse(steps: &mut Steps) -> anyhow::Result<()> {
    let (n, delay) = (20, Duration::from_millis(20));
    steps.next(&format!(
        "{n} requests one after another: one shared client, or a client per request"
    ));
    for (name, shared) in [("shared client", true), ("client per request", false)] {
        let (mut server, url) = start(delay)?;
        let took = one_after_another(&url, n, shared).await?;
        let connections = server.ledger()?.connections.unwrap_or(0);
        let overhead = took.saturating_sub(delay * n as u32) / n as u32;
        println!(
            "  {name:<18}: {connections:>2} connection(s) (expected {}), {} per request beyond the {} delay",
            if shared { 1 } else { n },
            seconds(overhead),
            seconds(delay)
        );
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let started = Instant::now();
    blocking(&mut steps).await?;
    never_awaited(&mut steps).await?;
    descriptors(&mut steps).await?;
    http2(&mut steps).await?;
    reuse(&mut steps).await?;
    println!("\nall steps took {}", seconds(started.elapsed()));
    Ok(())
}
