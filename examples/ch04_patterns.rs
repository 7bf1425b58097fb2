//! Chapter 4: concurrency patterns. The same twenty requests, each answered after
//! 200 ms, made seven ways: all at once with `join_all`, as spawned tasks in a
//! `JoinSet`, five at a time behind a `Semaphore`, five at a time with
//! `buffer_unordered`, paced by a rate limiter, bounded by timeouts, and reported in
//! the order they finish. Every step prints the wall time it predicts next to the one
//! it measured, and what the mock API's own ledger saw: how many requests it held at
//! once, and how many arrived in its busiest second.
//!
//! ```sh
//! cargo run --release --example ch04_patterns            # all steps, about 7 s
//! cargo run --release --example ch04_patterns -- --step  # pause between steps
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use fanout::server::fault::Fault;
use fanout::server::latency::Latency;
use fanout::server::ledger::ServerSummary;
use fanout::server::profile::{Endpoint, Profile};
use fanout::strategy::ratelimit::SlidingWindow;
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, walkthrough};
use futures::StreamExt;
use futures::future::join_all;
use futures::stream::FuturesUnordered;
use governor::{Quota, RateLimiter};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Deserialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Requests per step.
const N: usize = 20;
/// How long the server takes to answer each of them.
const DELAY: Duration = Duration::from_millis(200);
/// Requests in flight at once, for the semaphore and `buffer_unordered`.
const LIMIT: usize = 5;
/// The rate limiters' promise: at most this many requests in any one second.
const RATE: u32 = 8;
/// How much wider than `1 / RATE` the GCRA limiter spaces its requests.
const HEADROOM: f64 = 1.05;
/// The longest one call may take in the timeout step.
const CALL_TIMEOUT: Duration = Duration::from_millis(300);
/// The longest the whole batch may take in the timeout step.
const BATCH_TIMEOUT: Duration = Duration::from_millis(400);
/// The spread of delays in the completion-order step.
const VARIED: (Duration, Duration) = (Duration::from_millis(50), Duration::from_millis(350));
/// Seeds the server's delay draws.
const SEED: u64 = 1;

/// Three endpoints: `/items` (every step), `/hang` (never answers), `/varied`
/// (delays drawn between 50 and 350 ms, for the completion-order step).
fn profile() -> Profile {
    let endpoint = |name: &str, latency: Latency| Endpoint {
        name: name.to_string(),
        path: format!("/{name}"),
        ..Endpoint::catch_all(latency)
    };
    let mut hang = endpoint("hang", Latency::Fixed(DELAY));
    hang.fault = Fault {
        hang: true,
        ..Fault::default()
    };
    let (low, high) = VARIED;
    Profile {
        endpoints: vec![
            endpoint("items", Latency::Fixed(DELAY)),
            hang,
            endpoint("varied", Latency::Uniform { low, high }),
        ],
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

/// The `/varied` endpoint's index in the profile: its delays are drawn with it.
const VARIED_ENDPOINT: usize = 2;

/// What every endpoint answers: who answered, to which request, after which delay.
#[derive(Debug, Deserialize)]
struct Reply {
    seq: u64,
    delay_ms: f64,
}

/// Requests the client has sent and not yet seen answered, and the most at once: the
/// client's side of the figure the server's ledger keeps.
static IN_FLIGHT: Gauge = Gauge::new();

// ANCHOR: fetch
/// Fetches one URL and parses the JSON it answers with.
async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<Reply> {
    let _counted = IN_FLIGHT.enter(); // the client-side in-flight count, for the figures
    let body = client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(serde_json::from_slice(&body)?)
}
// ANCHOR_END: fetch

// ANCHOR: join_all
/// Every request at once: one future each, polled together by `join_all`, results in
/// the order of `urls`.
async fn all_at_once(client: &reqwest::Client, urls: &[String]) -> Vec<anyhow::Result<Reply>> {
    join_all(urls.iter().map(|url| fetch(client, url))).await
}
// ANCHOR_END: join_all

// ANCHOR: joinset
/// Every request as its own task: tasks run on any worker thread, and `join_next`
/// hands results back in the order they finish.
async fn spawned(client: &reqwest::Client, urls: &[String]) -> Vec<anyhow::Result<Reply>> {
    let mut set = JoinSet::new();
    for url in urls {
        let (client, url) = (client.clone(), url.clone());
        set.spawn(async move { fetch(&client, &url).await });
    }
    let mut results = Vec::with_capacity(urls.len());
    while let Some(joined) = set.join_next().await {
        // A task that panicked or was aborted ends as an error, not a crash.
        results.push(joined.map_err(anyhow::Error::from).and_then(|r| r));
    }
    results
}
// ANCHOR_END: joinset

// ANCHOR: semaphore
/// Every request spawned at once, but each waits for one of `limit` permits before it
/// sends: at most `limit` are on the wire, whatever else the program does.
async fn with_semaphore(
    client: &reqwest::Client,
    urls: &[String],
    limit: usize,
) -> Vec<anyhow::Result<Reply>> {
    let permits = Arc::new(Semaphore::new(limit));
    let mut set = JoinSet::new();
    for url in urls {
        let (client, url, permits) = (client.clone(), url.clone(), permits.clone());
        set.spawn(async move {
            let _permit = permits.acquire_owned().await?; // released when dropped
            fetch(&client, &url).await
        });
    }
    let mut results = Vec::with_capacity(urls.len());
    while let Some(joined) = set.join_next().await {
        results.push(joined.map_err(anyhow::Error::from).and_then(|r| r));
    }
    results
}
// ANCHOR_END: semaphore

// ANCHOR: buffer_unordered
/// A stream of request futures of which at most `limit` are polled at once; no tasks,
/// no permits. Results come out as they finish.
async fn buffered(
    client: &reqwest::Client,
    urls: &[String],
    limit: usize,
) -> Vec<anyhow::Result<Reply>> {
    futures::stream::iter(urls)
        .map(|url| fetch(client, url))
        .buffer_unordered(limit)
        .collect()
        .await
}
// ANCHOR_END: buffer_unordered

// ANCHOR: governor
/// Every request at once, each first waiting for the limiter: governor's GCRA lets one
/// through every `HEADROOM / per_second` seconds, never in bursts.
async fn rate_limited(
    client: &reqwest::Client,
    urls: &[String],
    per_second: u32,
) -> anyhow::Result<Vec<anyhow::Result<Reply>>> {
    let interval = Duration::from_secs_f64(HEADROOM / f64::from(per_second));
    // `with_period` allows a burst of one: each request waits a full interval after
    // the previous. (`Quota::per_second(n)` would let a burst of n through first.)
    let quota = Quota::with_period(interval).context("the rate must be above zero")?;
    let limiter = RateLimiter::direct(quota);
    let limiter = &limiter;
    Ok(join_all(urls.iter().map(|url| async move {
        limiter.until_ready().await;
        fetch(client, url).await
    }))
    .await)
}
// ANCHOR_END: governor

/// The same, paced by the book chapter's sliding-window limiter (fanout's port of it,
/// as written): `per_second` calls per one-second window, so it promises.
async fn sliding_window(
    client: &reqwest::Client,
    urls: &[String],
    per_second: u32,
) -> Vec<anyhow::Result<Reply>> {
    let window = SlidingWindow::new(per_second as usize, Duration::from_secs(1));
    let window = &window;
    join_all(urls.iter().map(|url| async move {
        window.acquire().await;
        fetch(client, url).await
    }))
    .await
}

// ANCHOR: call_timeouts
/// A deadline per call: a call that overruns ends as an error, the others keep theirs.
async fn per_call_timeouts(
    client: &reqwest::Client,
    urls: &[String],
    limit: Duration,
) -> Vec<anyhow::Result<Reply>> {
    join_all(urls.iter().map(|url| async move {
        tokio::time::timeout(limit, fetch(client, url))
            .await
            .map_err(|_| anyhow!("no answer within {}", seconds(limit)))?
    }))
    .await
}
// ANCHOR_END: call_timeouts

// ANCHOR: batch_timeout
/// One deadline for the whole batch around `join_all`: when it fires, the batch's
/// future is dropped, and with it every answer it had already collected.
async fn batch_timeout(
    client: &reqwest::Client,
    urls: &[String],
    limit: Duration,
) -> anyhow::Result<Vec<anyhow::Result<Reply>>> {
    tokio::time::timeout(limit, all_at_once(client, urls))
        .await
        .map_err(|_| anyhow!("the batch did not finish within {}", seconds(limit)))
}
// ANCHOR_END: batch_timeout

// ANCHOR: batch_deadline
/// One deadline for the whole batch that keeps what arrived: results are taken as they
/// finish, and at the deadline the unfinished requests are dropped (so cancelled).
async fn batch_deadline(
    client: &reqwest::Client,
    urls: &[String],
    limit: Duration,
) -> Vec<anyhow::Result<Reply>> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut pending: FuturesUnordered<_> = urls.iter().map(|url| fetch(client, url)).collect();
    let mut results = Vec::with_capacity(urls.len());
    while let Ok(Some(result)) = tokio::time::timeout_at(deadline, pending.next()).await {
        results.push(result);
    }
    results.extend((0..pending.len()).map(|_| Err(anyhow!("cut at the batch deadline"))));
    results
}
// ANCHOR_END: batch_deadline

// ANCHOR: progress
/// All at once, each result reported the moment it arrives: `FuturesUnordered` yields
/// futures in the order they complete, and the bar counts them (on a terminal). Returns
/// each result with the time it came in.
async fn as_completed(
    client: &reqwest::Client,
    urls: &[String],
) -> Vec<(Duration, anyhow::Result<Reply>)> {
    let started = Instant::now();
    let bar = ProgressBar::new(urls.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("  {bar:30} {pos}/{len} answered") {
        bar.set_style(style);
    }
    let mut pending: FuturesUnordered<_> = urls.iter().map(|url| fetch(client, url)).collect();
    let mut results = Vec::with_capacity(urls.len());
    while let Some(result) = pending.next().await {
        let at = started.elapsed();
        let line = match &result {
            Ok(reply) => format!("#{:<2} after {:>8}", reply.seq, seconds(at)),
            Err(error) => format!("failed after {}: {error}", seconds(at)),
        };
        bar.inc(1);
        let done = bar.position();
        // Printed above the bar, or plainly when the output is not a terminal.
        bar.suspend(|| println!("  [{done:>2}/{}] {line}", urls.len()));
        results.push((at, result));
    }
    bar.finish_and_clear();
    results
}
// ANCHOR_END: progress

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let client = reqwest::Client::builder().no_proxy().build()?;
    let items: Vec<String> = (0..N).map(|seq| format!("/items?seq={seq}")).collect();
    let waves = N.div_ceil(LIMIT) as u32;
    let in_waves = format!("ceil({N}/{LIMIT}) = {waves} waves × {}", seconds(DELAY));

    steps.next("join_all: every request at once");
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(all_at_once(&client, &run.urls)).await;
    run.report(&results, wall, DELAY, "one delay: all in one wave")
        .await?;

    steps.next("JoinSet: every request a spawned task");
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(spawned(&client, &run.urls)).await;
    run.report(&results, wall, DELAY, "one delay: all in one wave")
        .await?;
    let order: Vec<String> = results
        .iter()
        .flatten()
        .map(|r| r.seq.to_string())
        .collect();
    println!("    they finished in this order: {}", order.join(" "));

    steps.next(&format!("Semaphore: {LIMIT} permits for {N} tasks"));
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(with_semaphore(&client, &run.urls, LIMIT)).await;
    run.report(&results, wall, DELAY * waves, &in_waves).await?;
    run.check_peak(LIMIT);

    steps.next(&format!("buffer_unordered({LIMIT}): a stream, no tasks"));
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(buffered(&client, &run.urls, LIMIT)).await;
    run.report(&results, wall, DELAY * waves, &in_waves).await?;
    run.check_peak(LIMIT);

    steps.next(&format!(
        "rate limits: at most {RATE} a second, by GCRA and by the tutorial's sliding window"
    ));
    let interval = Duration::from_secs_f64(HEADROOM / f64::from(RATE));
    println!("  governor's GCRA, one every {}:", seconds(interval));
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(rate_limited(&client, &run.urls, RATE)).await;
    let why = format!("({N} - 1) × {} + {}", seconds(interval), seconds(DELAY));
    run.report(&results?, wall, interval * (N as u32 - 1) + DELAY, &why)
        .await?;
    run.check_per_second(RATE);
    println!("  the tutorial's sliding window, {RATE} per window of 1 s:");
    let mut run = Run::start(&items)?;
    let (results, wall) = timed(sliding_window(&client, &run.urls, RATE)).await;
    let full_seconds = N.div_ceil(RATE as usize) as u32 - 1;
    let why = format!(
        "if it kept its promise: {full_seconds} s of full windows + {}",
        seconds(DELAY)
    );
    let kept = Duration::from_secs(full_seconds.into()) + DELAY;
    run.report(&results, wall, kept, &why).await?;
    run.check_per_second(RATE);

    steps.next("timeouts: one of the twenty never answers");
    let mut with_hang = items.clone();
    with_hang[N - 1] = format!("/hang?seq={}", N - 1);
    println!("  {} per call, inside join_all:", seconds(CALL_TIMEOUT));
    let mut run = Run::start(&with_hang)?;
    let (results, wall) = timed(per_call_timeouts(&client, &run.urls, CALL_TIMEOUT)).await;
    run.report(&results, wall, CALL_TIMEOUT.max(DELAY), "the call timeout")
        .await?;
    println!(
        "  {} on the whole batch, nothing per call:",
        seconds(BATCH_TIMEOUT)
    );
    let mut run = Run::start(&with_hang)?;
    let (outcome, wall) = timed(batch_timeout(&client, &run.urls, BATCH_TIMEOUT)).await;
    let results = outcome.unwrap_or_else(|error| {
        println!("    {error}: the answers already in went with it");
        Vec::new()
    });
    run.report(&results, wall, BATCH_TIMEOUT, "the batch timeout")
        .await?;
    println!(
        "  a {} batch deadline that keeps what arrived:",
        seconds(BATCH_TIMEOUT)
    );
    let mut run = Run::start(&with_hang)?;
    let (results, wall) = timed(batch_deadline(&client, &run.urls, BATCH_TIMEOUT)).await;
    run.report(&results, wall, BATCH_TIMEOUT, "the batch deadline")
        .await?;

    steps.next("results in completion order, with progress");
    let varied: Vec<String> = (0..N).map(|seq| format!("/varied?seq={seq}")).collect();
    let latency = profile().endpoints[VARIED_ENDPOINT].latency;
    let delays: Vec<Duration> = (0..N as u64)
        .map(|seq| latency.draw(SEED, VARIED_ENDPOINT, seq))
        .collect();
    let shortest = delays.iter().min().copied().unwrap_or_default();
    let longest = delays.iter().max().copied().unwrap_or_default();
    println!(
        "  the server will take {} to {} over these {N}",
        seconds(shortest),
        seconds(longest)
    );
    let mut run = Run::start(&varied)?;
    let (arrivals, wall) = timed(as_completed(&client, &run.urls)).await;
    let (times, results): (Vec<Duration>, Vec<_>) = arrivals.into_iter().unzip();
    run.report(&results, wall, longest, "the longest delay")
        .await?;
    println!(
        "    the first answer came after {} (the shortest delay is {})",
        seconds(times.first().copied().unwrap_or_default()),
        seconds(shortest)
    );
    // How far finishing order strays from delay order: the largest gap between the
    // delays of two answers that came back the wrong way round (0 when none did).
    let finished: Vec<Duration> = results
        .iter()
        .flatten()
        .map(|r| delays[r.seq as usize])
        .collect();
    let worst_swap = (0..finished.len())
        .flat_map(|i| finished[i..].iter().map(move |later| (i, *later)))
        .map(|(i, later)| finished[i].saturating_sub(later))
        .max()
        .unwrap_or_default();
    if worst_swap.is_zero() {
        println!("    they came back exactly in the order of their delays");
    } else {
        println!(
            "    they came back in the order of their delays, but for near-ties: the widest swap was between delays {} apart",
            seconds(worst_swap)
        );
    }
    let confirmed = results
        .iter()
        .flatten()
        .all(|r| (r.delay_ms - delays[r.seq as usize].as_secs_f64() * 1e3).abs() < 0.01);
    if confirmed {
        println!("    (each reply names the delay that was predicted for it)");
    }
    Ok(())
}

/// Runs `future` and measures how long it took.
async fn timed<F: std::future::Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

/// One step's run: a fresh mock API (so its ledger holds only this step's requests),
/// the URLs to call on it, and what its ledger said.
struct Run {
    server: MockApi,
    urls: Vec<String>,
    summary: ServerSummary,
}

impl Run {
    /// Starts a fresh server and resets the client-side count; `paths` are relative.
    fn start(paths: &[String]) -> anyhow::Result<Run> {
        let server = MockApi::start(
            &walkthrough::server_config(profile(), SEED)?,
            &Placement::InProcess,
        )?;
        let urls = paths
            .iter()
            .map(|p| format!("{}{p}", server.url()))
            .collect();
        IN_FLIGHT.reset();
        Ok(Run {
            server,
            urls,
            summary: ServerSummary::default(),
        })
    }

    /// Prints the wall time against the prediction, the outcomes, and both peaks.
    async fn report(
        &mut self,
        results: &[anyhow::Result<Reply>],
        wall: Duration,
        predicted: Duration,
        why: &str,
    ) -> anyhow::Result<()> {
        let ok = results.iter().filter(|r| r.is_ok()).count();
        self.summary = self.settled_ledger().await?;
        println!(
            "    took {} (predicted {}: {why})",
            seconds(wall),
            seconds(predicted)
        );
        println!(
            "    kept {ok} of {} answers; in flight at once: client {}, server {}",
            self.urls.len(),
            IN_FLIGHT.peak(),
            self.summary.peak_in_flight
        );
        println!(
            "    the server received {}, answered {}, saw {} abandoned by the client",
            self.summary.received,
            self.summary.received - self.summary.abandoned,
            self.summary.abandoned
        );
        Ok(())
    }

    /// The ledger's figures once every request this step sent has been recorded: a
    /// request the client dropped is recorded when the server notices, a moment later.
    async fn settled_ledger(&mut self) -> anyhow::Result<ServerSummary> {
        let give_up = Instant::now() + Duration::from_secs(1);
        loop {
            let summary = self.server.ledger()?.summary();
            if summary.received as usize >= self.urls.len() || Instant::now() > give_up {
                return Ok(summary);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn check_peak(&self, limit: usize) {
        println!(
            "    the limit was {limit}: the server's peak {} it",
            if self.summary.peak_in_flight as usize <= limit {
                "kept within"
            } else {
                "went past"
            }
        );
    }

    fn check_per_second(&self, promised: u32) {
        let most = self.summary.max_per_second;
        println!(
            "    busiest second at the server: {most} arrivals (promised at most {promised}: {})",
            if most <= u64::from(promised) {
                "kept"
            } else {
                "broken"
            }
        );
    }
}

/// A count of requests in flight, and the most seen at once.
struct Gauge {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Gauge {
    const fn new() -> Gauge {
        Gauge {
            now: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// Counts one request until the returned guard drops (answered, failed or cancelled).
    fn enter(&self) -> impl Drop + '_ {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Leave(self)
    }

    fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }

    fn reset(&self) {
        self.now.store(0, Ordering::SeqCst);
        self.peak.store(0, Ordering::SeqCst);
    }
}

struct Leave<'a>(&'a Gauge);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}
