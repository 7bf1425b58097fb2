//! Chapter 2: why concurrency pays, and when it does not.
//!
//! One after another, calls cost the sum of their waits; all at once, the longest wait.
//! This example checks that formula against fanout's embedded mock API, then shows the
//! speedup growing with the number of calls, and the four cases where concurrency buys
//! little or nothing: a single call, client-side CPU work that dominates, a server that
//! serves one request at a time, and a server that allows so many requests per second.
//! Every figure is printed next to what the formula predicts from the delays it set.
//!
//! ```sh
//! cargo run --release --example ch02_why_concurrency_pays            # all steps
//! cargo run --release --example ch02_why_concurrency_pays -- --step  # pause between steps
//! ```

use std::hash::Hasher;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::try_join_all;

use fanout::server::fault::ServerLimits;
use fanout::server::latency::Latency;
use fanout::server::profile::{Endpoint, Profile};
use fanout::strategy::ratelimit::{Gcra, HEADROOM};
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, ServerConfig};

/// Five endpoints and how long each one waits before answering, in ms.
const ENDPOINTS: [(&str, u64); 5] = [
    ("user", 100),
    ("orders", 250),
    ("cart", 60),
    ("reviews", 180),
    ("stock", 110),
];
/// The sweep: how many calls, all to one endpoint that waits `SWEEP_DELAY_MS`.
const SWEEP_N: [usize; 3] = [1, 5, 20];
const SWEEP_DELAY_MS: u64 = 30;
/// The CPU case: this many calls, each answer then costs `WORK_MS` of computing.
const CPU_N: usize = 4;
const CPU_DELAY_MS: u64 = 30;
const WORK_MS: u64 = 60;
/// The busy server: it holds at most `IN_FLIGHT_LIMIT` requests at once.
const BUSY_N: usize = 4;
const BUSY_DELAY_MS: u64 = 80;
const IN_FLIGHT_LIMIT: u32 = 1;
/// The rate-limited server: at most `PER_WINDOW` arrivals in any `WINDOW_MS`.
const RATE_N: usize = 6;
const RATE_DELAY_MS: u64 = 50;
const PER_WINDOW: u32 = 2;
const WINDOW_MS: u64 = 200;
/// No request may wait longer than this, whatever happens.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One endpoint at `/{name}` that answers after `delay`.
fn endpoint(name: &str, delay: Duration) -> Endpoint {
    Endpoint {
        name: name.to_string(),
        path: format!("/{name}"),
        ..Endpoint::catch_all(Latency::Fixed(delay))
    }
}

/// Starts a mock API for `profile` and returns it with one URL per endpoint.
fn start(profile: Profile) -> anyhow::Result<(MockApi, Vec<String>)> {
    let server = MockApi::start(
        &ServerConfig::new(profile.clone(), 1),
        &Placement::InProcess,
    )?;
    let urls = profile
        .endpoints
        .iter()
        .map(|e| format!("{}{}", server.url(), e.request_path()))
        .collect();
    Ok((server, urls))
}

// ANCHOR: formula
/// What the formula predicts from the waits alone: one after another costs their
/// sum, all at once the longest of them.
fn predict(delays: &[Duration]) -> (Duration, Duration) {
    let sum = delays.iter().sum();
    let longest = delays.iter().max().copied().unwrap_or_default();
    (sum, longest)
}
// ANCHOR_END: formula

/// Runs `future` and returns its output and how long it took.
async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

/// Fetches one URL and returns its body.
async fn fetch(client: &reqwest::Client, url: &str) -> reqwest::Result<bytes::Bytes> {
    client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await
}

// ANCHOR: both
/// Each call finishes before the next starts: the waits add up.
async fn one_after_another(client: &reqwest::Client, urls: &[String]) -> reqwest::Result<()> {
    for url in urls {
        fetch(client, url).await?;
    }
    Ok(())
}

/// Every call starts at once: the waits overlap.
async fn all_at_once(client: &reqwest::Client, urls: &[String]) -> reqwest::Result<()> {
    try_join_all(urls.iter().map(|url| fetch(client, url))).await?;
    Ok(())
}
// ANCHOR_END: both

// ANCHOR: crunch
/// Stands in for what a client does with each answer (parsing, scoring, resizing):
/// it keeps one CPU core busy for `work`, hashing the body over and over.
fn crunch(body: &[u8], work: Duration) -> u64 {
    let started = Instant::now();
    let mut hasher = std::hash::DefaultHasher::new();
    while started.elapsed() < work {
        hasher.write(body);
    }
    hasher.finish()
}
// ANCHOR_END: crunch

// ANCHOR: cpu
/// One after another: wait for an answer, work on it, then ask for the next.
async fn fetch_and_work_in_turn(
    client: &reqwest::Client,
    urls: &[String],
    work: Duration,
) -> reqwest::Result<u64> {
    let mut digest = 0;
    for url in urls {
        let body = fetch(client, url).await?;
        digest ^= crunch(&body, work);
    }
    Ok(digest)
}

/// The waits overlap, but the work still runs on this one thread, answer after answer.
async fn fetch_all_then_work(
    client: &reqwest::Client,
    urls: &[String],
    work: Duration,
) -> reqwest::Result<u64> {
    let bodies = try_join_all(urls.iter().map(|url| fetch(client, url))).await?;
    Ok(bodies
        .iter()
        .fold(0, |digest, body| digest ^ crunch(body, work)))
}
// ANCHOR_END: cpu

// ANCHOR: limits
/// One endpoint behind server-wide limits: past them, the mock API answers
/// 429 Too Many Requests at once instead of serving the request.
fn limited(delay: Duration, limits: ServerLimits) -> Profile {
    Profile {
        endpoints: vec![Endpoint::catch_all(Latency::Fixed(delay))],
        limits,
        network: Default::default(),
        stall: None,
    }
}

/// Sends one request and returns the status it was answered with.
async fn status_of(client: &reqwest::Client, url: &str) -> reqwest::Result<u16> {
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
}
// ANCHOR_END: limits

// ANCHOR: within
/// At most `limit` requests in flight at once, in order.
async fn at_most(
    client: &reqwest::Client,
    urls: &[String],
    limit: usize,
) -> reqwest::Result<Vec<u16>> {
    futures::stream::iter(urls.iter().map(|url| status_of(client, url)))
        .buffered(limit)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Every request is started at once, but each first waits for the limiter's
/// permission: at most `per_second` leave in any second.
async fn paced(
    client: &reqwest::Client,
    urls: &[String],
    per_second: f64,
) -> reqwest::Result<Vec<u16>> {
    let limiter = Gcra::new(per_second);
    try_join_all(urls.iter().map(|url| async {
        limiter.acquire().await;
        status_of(client, url).await
    }))
    .await
}
// ANCHOR_END: within

/// How many of `statuses` are 200 and how many 429.
fn tally(statuses: &[u16]) -> String {
    let count = |code| statuses.iter().filter(|s| **s == code).count();
    format!("{} answered 200, {} answered 429", count(200), count(429))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()?;

    steps.next("the formula: five endpoints, five different waits");
    let delays: Vec<Duration> = ENDPOINTS.iter().map(|(_, d)| ms(*d)).collect();
    let endpoints = ENDPOINTS
        .iter()
        .map(|(name, delay)| endpoint(name, ms(*delay)))
        .collect();
    let (_server, urls) = start(Profile {
        endpoints,
        limits: ServerLimits::default(),
        network: Default::default(),
        stall: None,
    })?;
    for (url, delay) in urls.iter().zip(&delays) {
        println!("  {url}  waits {}", seconds(*delay));
    }
    let (sum, longest) = predict(&delays);
    println!(
        "  predicted: one after another {} (the sum), all at once {} (the longest)",
        seconds(sum),
        seconds(longest)
    );

    steps.next("call them one after another");
    let (result, sequential) = timed(one_after_another(&client, &urls)).await;
    result?;
    println!(
        "  took {}, predicted {} (+{:.1} %)",
        seconds(sequential),
        seconds(sum),
        above(sequential, sum)
    );

    steps.next("call them all at once");
    let (result, concurrent) = timed(all_at_once(&client, &urls)).await;
    result?;
    println!(
        "  took {}, predicted {} (+{:.1} %)",
        seconds(concurrent),
        seconds(longest),
        above(concurrent, longest)
    );
    println!(
        "  speedup {:.1}x, predicted sum / longest = {:.1}x",
        ratio(sequential, concurrent),
        ratio(sum, longest)
    );

    steps.next("the speedup grows with the number of calls");
    let delay = ms(SWEEP_DELAY_MS);
    let (_server, urls) = start(Profile::single(Latency::Fixed(delay)))?;
    println!("  every call waits {}", seconds(delay));
    println!("      n   one after another (n x wait)   all at once (one wait)   speedup (n)");
    // ANCHOR: sweep
    for n in SWEEP_N {
        let calls = vec![urls[0].clone(); n];
        let (result, sequential) = timed(one_after_another(&client, &calls)).await;
        result?;
        let (result, concurrent) = timed(all_at_once(&client, &calls)).await;
        result?;
        println!(
            "  {n:>5}   {:>9} ({:>9})          {:>9} ({:>9})     {:>5.1}x ({n}x){}",
            seconds(sequential),
            seconds(delay * n as u32),
            seconds(concurrent),
            seconds(delay),
            ratio(sequential, concurrent),
            if n == 1 { "  nothing to overlap" } else { "" },
        );
    }
    // ANCHOR_END: sweep

    steps.next("when the client's own work dominates");
    let (wait, work) = (ms(CPU_DELAY_MS), ms(WORK_MS));
    let (_server, urls) = start(Profile::single(Latency::Fixed(wait)))?;
    let calls = vec![urls[0].clone(); CPU_N];
    let n = CPU_N as u32;
    println!(
        "  {CPU_N} calls; each waits {} at the server, then costs {} of CPU here",
        seconds(wait),
        seconds(work)
    );
    let (result, sequential) = timed(fetch_and_work_in_turn(&client, &calls, work)).await;
    result?;
    let predicted_sequential = (wait + work) * n;
    println!(
        "  one after another: {}, predicted n x (wait + work) = {}",
        seconds(sequential),
        seconds(predicted_sequential)
    );
    let (result, concurrent) = timed(fetch_all_then_work(&client, &calls, work)).await;
    result?;
    let predicted_concurrent = wait + work * n;
    println!(
        "  all at once:       {}, predicted wait + n x work = {}",
        seconds(concurrent),
        seconds(predicted_concurrent)
    );
    println!(
        "  speedup {:.1}x, predicted {:.1}x (waits alone would give {CPU_N}x)",
        ratio(sequential, concurrent),
        ratio(predicted_sequential, predicted_concurrent)
    );

    steps.next("when the server serves one request at a time");
    let delay = ms(BUSY_DELAY_MS);
    let (_server, urls) = start(limited(
        delay,
        ServerLimits {
            max_in_flight: Some(IN_FLIGHT_LIMIT),
            ..ServerLimits::default()
        },
    ))?;
    let calls = vec![urls[0].clone(); BUSY_N];
    let limit = IN_FLIGHT_LIMIT as usize;
    println!(
        "  {BUSY_N} calls of {} each; the server holds at most {limit} at once",
        seconds(delay)
    );
    let (statuses, took) = timed(try_join_all(calls.iter().map(|u| status_of(&client, u)))).await;
    println!(
        "  all at once, {}: {} (predicted {limit} and {})",
        seconds(took),
        tally(&statuses?),
        BUSY_N - limit
    );
    let (statuses, took) = timed(at_most(&client, &calls, limit)).await;
    let waves = BUSY_N.div_ceil(limit) as u32;
    println!(
        "  {limit} at a time, {}: {} (predicted {waves} x {} = {})",
        seconds(took),
        tally(&statuses?),
        seconds(delay),
        seconds(delay * waves)
    );

    steps.next("when the server allows so many requests per second");
    let delay = ms(RATE_DELAY_MS);
    let window = ms(WINDOW_MS);
    let (_server, urls) = start(limited(
        delay,
        ServerLimits {
            max_per_second: Some(PER_WINDOW),
            window_ms: Some(WINDOW_MS),
            ..ServerLimits::default()
        },
    ))?;
    let calls = vec![urls[0].clone(); RATE_N];
    let rate = f64::from(PER_WINDOW) / window.as_secs_f64();
    println!(
        "  {RATE_N} calls of {} each; the server accepts {PER_WINDOW} per {} ({rate:.0} per second)",
        seconds(delay),
        seconds(window)
    );
    let (statuses, took) = timed(try_join_all(calls.iter().map(|u| status_of(&client, u)))).await;
    println!(
        "  all at once, {}: {} (predicted {PER_WINDOW} and {})",
        seconds(took),
        tally(&statuses?),
        RATE_N - PER_WINDOW as usize
    );
    // The burst's arrivals still count in the server's window: let them leave it.
    tokio::time::sleep(window).await;
    let (statuses, took) = timed(paced(&client, &calls, rate)).await;
    let interval = Duration::from_secs_f64(HEADROOM / rate);
    let predicted = interval * (RATE_N as u32 - 1) + delay;
    println!(
        "  paced at {rate:.0}/s, {}: {} (predicted (n - 1) x {} + {} = {})",
        seconds(took),
        tally(&statuses?),
        seconds(interval),
        seconds(delay),
        seconds(predicted)
    );
    println!(
        "  the waits alone sum to {}: the rate, not the waits, sets the time",
        seconds(delay * RATE_N as u32)
    );
    Ok(())
}

/// How far `measured` is above `predicted`, in percent.
fn above(measured: Duration, predicted: Duration) -> f64 {
    100.0 * (measured.as_secs_f64() / predicted.as_secs_f64() - 1.0)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}
