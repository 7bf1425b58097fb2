//! Chapter 5: errors, retries and partial failure. Three news sources, one of them
//! failing, still make a page; a batch's errors are collected and counted by kind;
//! transient failures are retried with exponential backoff and jitter (`backon`),
//! honouring `Retry-After` and never retrying a 4xx; and a batch that should stop at
//! its first error does, with the server's ledger showing how many requests it was
//! spared. Every fault is the mock API's, seeded, so each run meets the same ones.
//!
//! ```sh
//! cargo run --release --example ch05_errors            # all steps, about 4 s
//! cargo run --release --example ch05_errors -- --step  # pause between steps
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use fanout::server::fault::{Decision, Fault};
use fanout::server::latency::Latency;
use fanout::server::ledger::{LedgerEntry, LedgerRecord};
use fanout::server::profile::{Endpoint, Profile};
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, ServerConfig};
use futures::future::{join_all, try_join_all};
use futures::{StreamExt, TryStreamExt};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Seeds the server's delay and fault draws.
const SEED: u64 = 1;
/// The per-call timeout wherever one is set.
const CALL_TIMEOUT: Duration = Duration::from_millis(400);
/// The first retry's wait; retry k waits between `BASE × 2^k` and twice that.
const BASE: Duration = Duration::from_millis(100);
/// Retries after the first attempt.
const RETRIES: usize = 3;
/// Requests in the fail-fast step, and how many may be in flight.
const FAILFAST_N: usize = 100;
const FAILFAST_LIMIT: usize = 10;

/// The mock API's endpoints, each with its own way of answering or failing.
fn profile() -> Profile {
    let endpoint = |name: &str, ms: u64, fault: Fault| Endpoint {
        name: name.to_string(),
        path: format!("/{name}"),
        fault,
        ..Endpoint::catch_all(Latency::Fixed(Duration::from_millis(ms)))
    };
    let ok = Fault::default;
    let with_status = |status: u16, ms: u64, name: &str| Endpoint {
        status,
        ..endpoint(name, ms, ok())
    };
    Profile {
        endpoints: vec![
            // Three news sources for the partial-failure step.
            endpoint("headlines", 200, ok()),
            endpoint("weather", 300, ok()),
            endpoint(
                "sport",
                250,
                Fault {
                    error_rate: 1.0,
                    error_status: 500,
                    ..ok()
                },
            ),
            endpoint("sport-hangs", 250, Fault { hang: true, ..ok() }),
            // A flaky API: 30 % answered 503, 10 % dropped without an answer.
            endpoint(
                "flaky",
                50,
                Fault {
                    error_rate: 0.3,
                    drop_rate: 0.1,
                    ..ok()
                },
            ),
            // Fails twice with 503, then answers: for retries.
            endpoint(
                "unstable",
                50,
                Fault {
                    fail_first: 2,
                    ..ok()
                },
            ),
            // Says 429 once, with `Retry-After: 1`.
            endpoint(
                "busy",
                50,
                Fault {
                    fail_first: 1,
                    error_status: 429,
                    retry_after_secs: Some(1),
                    ..ok()
                },
            ),
            with_status(404, 50, "missing"),
            with_status(401, 50, "private"),
        ],
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

/// The index of an endpoint in [`profile`], to draw its seeded faults with.
fn endpoint_index(name: &str) -> usize {
    profile()
        .endpoints
        .iter()
        .position(|e| e.name == name)
        .expect("the profile names this endpoint")
}

// ANCHOR: error
/// Why one request failed. Each kind calls for a different reaction: retry it, wait
/// longer, or give up and fix something.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("HTTP {status}")]
    Status {
        status: u16,
        /// The server's `Retry-After`, in seconds, when it sent one.
        retry_after: Option<Duration>,
    },
    #[error("no answer within {}", seconds(*.0))]
    Timeout(Duration),
    #[error("could not connect")]
    Connect(#[source] reqwest::Error),
    #[error("the connection broke: {0}")]
    Broken(#[source] reqwest::Error),
}

impl FetchError {
    /// A short name to count errors by.
    fn kind(&self) -> &'static str {
        match self {
            FetchError::Status { status: 429, .. } => "http_429",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { .. } => "http_4xx",
            FetchError::Timeout(_) => "timeout",
            FetchError::Connect(_) => "connect",
            FetchError::Broken(_) => "broken",
        }
    }

    /// Worth another try: the server was busy or broken, not the request. A 4xx other
    /// than 429 says the request itself is wrong; sending it again changes nothing.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status == 429 || *status >= 500,
            FetchError::Timeout(_) | FetchError::Connect(_) | FetchError::Broken(_) => true,
        }
    }
}
// ANCHOR_END: error

// ANCHOR: fetch
/// Fetches one URL within `CALL_TIMEOUT` and returns its body's size, or why not.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<usize, FetchError> {
    let attempt = async {
        let response = client.get(url).send().await.map_err(classify)?;
        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.trim().parse().ok())
                .map(Duration::from_secs);
            return Err(FetchError::Status {
                status: status.as_u16(),
                retry_after,
            });
        }
        let body = response.bytes().await.map_err(classify)?;
        Ok(body.len())
    };
    tokio::time::timeout(CALL_TIMEOUT, attempt)
        .await
        .map_err(|_| FetchError::Timeout(CALL_TIMEOUT))?
}

/// Sorts a reqwest error into a kind.
fn classify(error: reqwest::Error) -> FetchError {
    if error.is_connect() {
        FetchError::Connect(error)
    } else {
        FetchError::Broken(error)
    }
}
// ANCHOR_END: fetch

// ANCHOR: partial
/// One page from three sources: each section shows its source's answer, or says it
/// is unavailable. A failing source costs its own section, not the page.
async fn front_page(client: &reqwest::Client, sources: &[(&str, String)]) -> Vec<String> {
    let answers = join_all(sources.iter().map(|(_, url)| fetch(client, url))).await;
    sources
        .iter()
        .zip(answers)
        .map(|((name, _), answer)| match answer {
            Ok(bytes) => format!("{name}: {bytes} bytes of stories"),
            Err(error) => format!("{name}: unavailable ({error})"),
        })
        .collect()
}
// ANCHOR_END: partial

// ANCHOR: all_or_nothing
/// The same page, all or nothing: the first error is the only thing you get.
async fn front_page_or_error(
    client: &reqwest::Client,
    sources: &[(&str, String)],
) -> Result<Vec<usize>, FetchError> {
    try_join_all(sources.iter().map(|(_, url)| fetch(client, url))).await
}
// ANCHOR_END: all_or_nothing

// ANCHOR: collect
/// Every request's result, kept: then counted by kind, so one look tells you whether
/// the API is down (all connect), overloaded (429, 5xx) or refusing you (4xx).
async fn count_outcomes(
    client: &reqwest::Client,
    urls: &[String],
) -> BTreeMap<&'static str, usize> {
    let results: Vec<Result<usize, FetchError>> =
        join_all(urls.iter().map(|url| fetch(client, url))).await;
    let mut counts = BTreeMap::new();
    for result in &results {
        let kind = match result {
            Ok(_) => "ok",
            Err(error) => error.kind(),
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts
}
// ANCHOR_END: collect

// ANCHOR: retry
/// `fetch` retried while the failure is transient: up to `RETRIES` more times, waiting
/// `BASE × 2^k` plus up to as much again of random jitter before retry k, or longer
/// when the server's `Retry-After` asks for it.
async fn fetch_with_retries(client: &reqwest::Client, url: &str) -> Result<usize, FetchError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(BASE)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(RETRIES);
    (|| fetch(client, url))
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(FetchError::is_transient)
        .adjust(|error, wait| match error {
            // `wait` is None once the retries are spent: keep it that way.
            FetchError::Status {
                retry_after: Some(asked),
                ..
            } => wait.map(|wait| wait.max(*asked)),
            _ => wait,
        })
        .notify(|error, wait| {
            let path = url.rsplit('/').next().unwrap_or(url);
            println!("    {path}: {error}, retrying in {}", seconds(wait));
        })
        .await
}
// ANCHOR_END: retry

// ANCHOR: failfast_try_join
/// All at once, stop at the first error: `try_join_all` returns it and drops the rest.
async fn stop_at_first_error(client: &reqwest::Client, urls: &[String]) -> Result<(), FetchError> {
    try_join_all(urls.iter().map(|url| fetch(client, url))).await?;
    Ok(())
}
// ANCHOR_END: failfast_try_join

// ANCHOR: failfast_stream
/// At most `limit` at a time, stop at the first error: `try_collect` stops pulling
/// from the stream, so the requests not yet started never are.
async fn stop_at_first_error_limited(
    client: &reqwest::Client,
    urls: &[String],
    limit: usize,
) -> Result<(), FetchError> {
    futures::stream::iter(urls)
        .map(|url| fetch(client, url))
        .buffer_unordered(limit)
        .try_collect::<Vec<usize>>()
        .await?;
    Ok(())
}
// ANCHOR_END: failfast_stream

// ANCHOR: failfast_joinset
/// Spawned tasks behind a semaphore; the first failure closes the semaphore (so no
/// waiting task starts) and aborts every task still running.
async fn abort_on_first_error(
    client: &reqwest::Client,
    urls: &[String],
    limit: usize,
) -> Result<(), FetchError> {
    let permits = Arc::new(Semaphore::new(limit));
    let mut set = JoinSet::new();
    for url in urls {
        let (client, url, permits) = (client.clone(), url.clone(), permits.clone());
        set.spawn(async move {
            let Ok(_permit) = permits.acquire().await else {
                return Ok(0); // closed: a sibling failed, this one never sends
            };
            let result = fetch(&client, &url).await;
            if result.is_err() {
                permits.close(); // before this task's permit goes back
            }
            result
        });
    }
    while let Some(joined) = set.join_next().await {
        if let Ok(Err(error)) = joined {
            set.abort_all();
            return Err(error);
        }
    }
    Ok(())
}
// ANCHOR_END: failfast_joinset

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let client = reqwest::Client::builder().no_proxy().build()?;

    steps.next("partial failure: three sources, one answers 500");
    let server = start()?;
    let base = server.url().to_string();
    let sources = [
        ("headlines", format!("{base}/headlines")),
        ("weather", format!("{base}/weather")),
        ("sport", format!("{base}/sport")),
    ];
    let (page, wall) = timed(front_page(&client, &sources)).await;
    for section in &page {
        println!("    {section}");
    }
    let slowest = delay_of("headlines").max(delay_of("weather"));
    println!(
        "  took {} (predicted {}: the slowest source that answers; sport fails after {})",
        seconds(wall),
        seconds(slowest.max(delay_of("sport"))),
        seconds(delay_of("sport"))
    );
    let (all_or_nothing, wall) = timed(front_page_or_error(&client, &sources)).await;
    println!(
        "  all or nothing instead: {} after {} (predicted {}: the failure)",
        match all_or_nothing {
            Ok(sizes) => format!("{} sections", sizes.len()),
            Err(error) => format!("no page at all, only \"{error}\""),
        },
        seconds(wall),
        seconds(delay_of("sport"))
    );

    steps.next("partial failure: the same page, the sport source never answers");
    let sources = [
        ("headlines", format!("{base}/headlines")),
        ("weather", format!("{base}/weather")),
        ("sport", format!("{base}/sport-hangs")),
    ];
    let (page, wall) = timed(front_page(&client, &sources)).await;
    for section in &page {
        println!("    {section}");
    }
    println!(
        "  took {} (predicted {}: the call timeout, longer than any answer)",
        seconds(wall),
        seconds(CALL_TIMEOUT)
    );
    drop(server);

    steps.next("collecting errors: 24 requests, counted by kind");
    let server = start()?;
    let base = server.url().to_string();
    let flaky: Vec<String> = (0..20)
        .map(|seq| format!("{base}/flaky?seq={seq}"))
        .collect();
    let mut urls = flaky.clone();
    urls.push(format!("{base}/missing?seq=0"));
    urls.push(format!("{base}/missing?seq=1"));
    urls.push(format!("{base}/sport-hangs?seq=0"));
    urls.push(format!("{}/flaky", closed_port_url()?));
    let (counts, wall) = timed(count_outcomes(&client, &urls)).await;
    let expected = expected_counts(flaky.len() as u64);
    println!("  {:<10} {:>8} {:>9}", "kind", "counted", "expected");
    let kinds: std::collections::BTreeSet<&str> =
        counts.keys().chain(expected.keys()).copied().collect();
    for kind in kinds {
        println!(
            "  {kind:<10} {:>8} {:>9}",
            counts.get(kind).copied().unwrap_or(0),
            expected.get(kind).copied().unwrap_or(0)
        );
    }
    println!(
        "  {} results for {} requests, none lost; took {} (predicted {}: the timeout)",
        counts.values().sum::<usize>(),
        urls.len(),
        seconds(wall),
        seconds(CALL_TIMEOUT)
    );
    drop(server);

    steps.next("retries: 10 requests that fail twice with 503, then answer");
    let mut server = start()?;
    let base = server.url().to_string();
    let urls: Vec<String> = (0..10)
        .map(|seq| format!("{base}/unstable?seq={seq}"))
        .collect();
    let (results, wall) = timed(join_all(
        urls.iter().map(|url| fetch_with_retries(&client, url)),
    ))
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let ledger = server.ledger()?;
    let (inside, waits) = waits_within_bounds(&ledger);
    // Each chain: `fail_first` failures, then the answer; retry k waits [2^k, 2^(k+1)) × BASE.
    let failures = profile().endpoints[endpoint_index("unstable")]
        .fault
        .fail_first;
    let attempts = failures + 1;
    let delay = delay_of("unstable");
    let least_wait: Duration = (0..failures).map(|k| BASE * 2u32.pow(k)).sum();
    let (low, high) = (
        delay * attempts + least_wait,
        delay * attempts + least_wait * 2,
    );
    println!(
        "  {ok} of {} succeeded; the server received {} requests ({} × {attempts} attempts)",
        urls.len(),
        ledger.entries.len(),
        urls.len()
    );
    println!(
        "  {inside} of {waits} waits inside [base × 2^k, 2 × base × 2^k) by the server's clock"
    );
    println!(
        "  took {} for all {} chains; one chain takes {} to {} ({attempts} × {} + its {failures} waits)",
        seconds(wall),
        urls.len(),
        seconds(low),
        seconds(high),
        seconds(delay)
    );
    drop(server);

    steps.next("retries: a 404 is never retried, a 429 waits as long as Retry-After says");
    let mut server = start()?;
    let base = server.url().to_string();
    let (missing, wall) = timed(fetch_with_retries(&client, &format!("{base}/missing"))).await;
    println!(
        "  /missing: {} after {}; the server received {} request (expected 1: a 4xx is final)",
        describe(&missing),
        seconds(wall),
        server.ledger()?.entries.len()
    );
    let mut server_busy = start()?;
    let busy_url = format!("{}/busy?seq=0", server_busy.url());
    let (busy, wall) = timed(fetch_with_retries(&client, &busy_url)).await;
    let ledger = server_busy.ledger()?;
    let mut attempts = ledger.entries.clone();
    attempts.sort_by_key(|e| e.arrival_us);
    let gap = match attempts.as_slice() {
        [first, second, ..] => {
            Duration::from_micros(second.arrival_us.saturating_sub(first.finish_us))
        }
        _ => Duration::ZERO,
    };
    let asked = Duration::from_secs(
        profile().endpoints[endpoint_index("busy")]
            .fault
            .retry_after_secs
            .unwrap_or(0),
    );
    println!(
        "  /busy: {} after {} and {} attempts (predicted {}: two answers and the {} Retry-After asked for)",
        describe(&busy),
        seconds(wall),
        attempts.len(),
        seconds(delay_of("busy") * 2 + asked),
        seconds(asked),
    );
    println!(
        "  the retry reached the server {} after the 429 left it; the backoff alone would have waited {} to {}",
        seconds(gap),
        seconds(BASE),
        seconds(BASE * 2)
    );
    drop(server);
    drop(server_busy);

    steps.next(&format!(
        "failing fast: {FAILFAST_N} requests to an endpoint that answers 401"
    ));
    let private: Vec<String> = (0..FAILFAST_N)
        .map(|seq| format!("/private?seq={seq}"))
        .collect();
    let one_answer = delay_of("private");
    let sent_at_once = format!("all {FAILFAST_N} go out before the first 401 comes back");
    let one_wave = format!("the first wave of {FAILFAST_LIMIT}, nothing after it");

    println!("  try_join_all, no limit:");
    let mut run = Failfast::start(&private)?;
    let (result, wall) = timed(stop_at_first_error(&client, &run.urls)).await;
    run.report(&result, wall, one_answer, FAILFAST_N, &sent_at_once)
        .await?;

    println!("  buffer_unordered({FAILFAST_LIMIT}) and try_collect:");
    let mut run = Failfast::start(&private)?;
    let limited = stop_at_first_error_limited(&client, &run.urls, FAILFAST_LIMIT);
    let (result, wall) = timed(limited).await;
    run.report(&result, wall, one_answer, FAILFAST_LIMIT, &one_wave)
        .await?;

    println!("  a JoinSet behind a semaphore of {FAILFAST_LIMIT}, aborted:");
    let mut run = Failfast::start(&private)?;
    let aborted = abort_on_first_error(&client, &run.urls, FAILFAST_LIMIT);
    let (result, wall) = timed(aborted).await;
    run.report(&result, wall, one_answer, FAILFAST_LIMIT, &one_wave)
        .await?;

    println!("  collecting every result instead, {FAILFAST_LIMIT} at a time:");
    let mut run = Failfast::start(&private)?;
    let (errors, wall) = timed(async {
        futures::stream::iter(&run.urls)
            .map(|url| fetch(&client, url))
            .buffer_unordered(FAILFAST_LIMIT)
            .filter(|r| std::future::ready(r.is_err()))
            .count()
            .await
    })
    .await;
    let waves = FAILFAST_N.div_ceil(FAILFAST_LIMIT) as u32;
    println!(
        "    {errors} errors after {} (predicted {}: {waves} waves × {}); the server received {} (expected all {FAILFAST_N})",
        seconds(wall),
        seconds(one_answer * waves),
        seconds(one_answer),
        run.received().await?
    );
    Ok(())
}

/// The delay the profile gives endpoint `name`.
fn delay_of(name: &str) -> Duration {
    profile().endpoints[endpoint_index(name)]
        .latency
        .generous_max()
}

/// A fresh mock API with [`profile`]'s endpoints.
fn start() -> anyhow::Result<MockApi> {
    Ok(MockApi::start(
        &ServerConfig::new(profile(), SEED),
        &Placement::InProcess,
    )?)
}

/// Runs `future` and measures how long it took.
async fn timed<F: std::future::Future>(future: F) -> (F::Output, Duration) {
    let started = Instant::now();
    let output = future.await;
    (output, started.elapsed())
}

/// A URL on a port where nothing listens: connecting is refused.
fn closed_port_url() -> anyhow::Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(format!("http://127.0.0.1:{port}"))
}

/// What the collecting step should count: the flaky endpoint's seeded faults for
/// requests `0..flaky` (first attempts), two 404s, one timeout, one refused connection.
fn expected_counts(flaky: u64) -> BTreeMap<&'static str, usize> {
    let endpoint = endpoint_index("flaky");
    let fault = &profile().endpoints[endpoint].fault;
    let mut counts = BTreeMap::from([("http_4xx", 2), ("timeout", 1), ("connect", 1)]);
    for seq in 0..flaky {
        let kind = match fault.decide(SEED, endpoint, seq, 0) {
            Decision::Answer => "ok",
            Decision::Fail(_) => "http_5xx",
            Decision::Drop => "broken",
            Decision::Hang => "timeout",
        };
        *counts.entry(kind).or_default() += 1;
    }
    counts
}

/// How many of the waits between attempts at the same request, measured from one
/// answer leaving the server to the next attempt arriving, fall inside backon's
/// bounds for retry k: `[BASE × 2^k, 2 × BASE × 2^k)`, with 5 ms for the trip.
fn waits_within_bounds(ledger: &LedgerRecord) -> (usize, usize) {
    let mut by_seq: BTreeMap<u64, Vec<&LedgerEntry>> = BTreeMap::new();
    for entry in &ledger.entries {
        by_seq
            .entry(entry.seq.unwrap_or(u64::MAX))
            .or_default()
            .push(entry);
    }
    let (mut inside, mut waits) = (0, 0);
    for attempts in by_seq.values_mut() {
        attempts.sort_by_key(|e| e.arrival_us);
        for (k, pair) in attempts.windows(2).enumerate() {
            let wait = Duration::from_micros(pair[1].arrival_us.saturating_sub(pair[0].finish_us));
            let low = BASE * 2u32.pow(k as u32);
            let slack = Duration::from_millis(5);
            waits += 1;
            if wait >= low && wait < low * 2 + slack {
                inside += 1;
            }
        }
    }
    (inside, waits)
}

/// A result in a few words.
fn describe(result: &Result<usize, FetchError>) -> String {
    match result {
        Ok(bytes) => format!("ok ({bytes} bytes)"),
        Err(error) => format!("gave up with {error}"),
    }
}

/// One fail-fast run on a fresh server, so its ledger counts only this run.
struct Failfast {
    server: MockApi,
    urls: Vec<String>,
}

impl Failfast {
    fn start(paths: &[String]) -> anyhow::Result<Failfast> {
        let server = start()?;
        let urls = paths
            .iter()
            .map(|p| format!("{}{p}", server.url()))
            .collect();
        Ok(Failfast { server, urls })
    }

    /// Requests the server received, once the ones the client dropped are recorded
    /// (a moment after the drop, when the server notices): read until two readings
    /// 10 ms apart agree, for half a second at most.
    async fn received(&mut self) -> anyhow::Result<String> {
        let give_up = Instant::now() + Duration::from_millis(500);
        let mut last = self.server.ledger()?.summary();
        loop {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let now = self.server.ledger()?.summary();
            if now.received == last.received || Instant::now() > give_up {
                return Ok(format!(
                    "{}, answered {}",
                    now.received,
                    now.received - now.abandoned
                ));
            }
            last = now;
        }
    }

    /// Prints how the run ended against the prediction, and what the server received.
    async fn report(
        &mut self,
        result: &Result<(), FetchError>,
        wall: Duration,
        predicted_wall: Duration,
        predicted_received: usize,
        why: &str,
    ) -> anyhow::Result<()> {
        let outcome = match result {
            Ok(()) => "no error".to_string(),
            Err(error) => format!("stopped at {error}"),
        };
        println!(
            "    {outcome} after {} (predicted {}: one answer)",
            seconds(wall),
            seconds(predicted_wall)
        );
        println!(
            "    the server received {} (expected {predicted_received}: {why})",
            self.received().await?
        );
        Ok(())
    }
}
