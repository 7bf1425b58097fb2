//! Chapter 6: testing async code against a mock API. A small client function (fetch a
//! JSON list, add up one field, with a timeout per attempt and one retry) is tested
//! with `wiremock`: a real HTTP server on 127.0.0.1 that answers what each test mounts,
//! after the delay it sets, and counts what it received.
//!
//! The checks live in plain async functions; `#[tokio::test]` wrappers at the bottom
//! run them under `cargo test`, and `main` runs the same checks as numbered steps and
//! prints what each one measured.
//!
//! ```sh
//! cargo test --release --example ch06_testing                  # the checks as tests
//! cargo run --release --example ch06_testing                   # the same, step by step
//! cargo run --release --example ch06_testing -- --step         # pause between steps
//! ```

use std::future::Future;
use std::time::{Duration, Instant};

use fanout::walkthrough::{Steps, seconds};
use serde::Deserialize;
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ANCHOR: client
/// Why fetching a list failed. Tests compare these, so they derive `PartialEq`.
#[derive(Debug, Clone, PartialEq)]
enum FetchError {
    /// The server answered with this non-success status.
    Status(u16),
    /// An attempt took longer than the policy's timeout.
    Timeout,
    /// The body was not the JSON list we expected.
    Malformed(String),
    /// The request never got an answer: refused, reset, closed.
    Transport(String),
}

impl FetchError {
    /// Worth another try: the next attempt may succeed. A 4xx or a bad body will not.
    fn retryable(&self) -> bool {
        match self {
            FetchError::Timeout | FetchError::Transport(_) => true,
            FetchError::Status(status) => *status >= 500,
            FetchError::Malformed(_) => false,
        }
    }
}

/// How long one attempt may take, how many retries follow a retryable failure, and
/// the wait before the first retry (it doubles for each one after).
#[derive(Debug, Clone, Copy)]
struct Policy {
    timeout: Duration,
    retries: u32,
    backoff: Duration,
}

/// The field we add up; any other field in the items is ignored.
#[derive(Deserialize)]
struct Story {
    points: u64,
}

/// One attempt: GET the list, check the status, parse the body, add up `points`.
async fn fetch_points(client: &reqwest::Client, url: &str) -> Result<u64, FetchError> {
    let transport = |e: reqwest::Error| FetchError::Transport(e.to_string());
    let response = client.get(url).send().await.map_err(transport)?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status().as_u16()));
    }
    let body = response.bytes().await.map_err(transport)?;
    let stories: Vec<Story> =
        serde_json::from_slice(&body).map_err(|e| FetchError::Malformed(e.to_string()))?;
    Ok(stories.iter().map(|s| s.points).sum())
}

/// The function under test: the list's total points, within the policy.
async fn total_points(
    client: &reqwest::Client,
    url: &str,
    policy: &Policy,
) -> Result<u64, FetchError> {
    with_retries(policy, || fetch_points(client, url), tokio::time::sleep).await
}
// ANCHOR_END: client

// ANCHOR: retry
/// Runs `attempt` under the policy's timeout, again after `sleep(wait)` while it fails
/// in a retryable way and retries are left. The waiting is a parameter so that a test
/// can record the waits instead of sitting through them.
async fn with_retries<T, A, AF, S, SF>(
    policy: &Policy,
    mut attempt: A,
    mut sleep: S,
) -> Result<T, FetchError>
where
    A: FnMut() -> AF,
    AF: Future<Output = Result<T, FetchError>>,
    S: FnMut(Duration) -> SF,
    SF: Future<Output = ()>,
{
    let mut wait = policy.backoff;
    for retry in 0..=policy.retries {
        let result = match tokio::time::timeout(policy.timeout, attempt()).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::Timeout),
        };
        match result {
            Err(e) if e.retryable() && retry < policy.retries => {
                sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
    unreachable!("the last pass through the loop returns")
}
// ANCHOR_END: retry

/// The policy the checks use: generous enough for the concurrent check's slowest feed.
const POLICY: Policy = Policy {
    timeout: Duration::from_secs(2),
    retries: 1,
    backoff: Duration::from_millis(20),
};

/// A client for loopback: no proxy, and a bound on the whole request as a backstop.
fn client() -> reqwest::Client {
    // fanout builds reqwest with rustls on ring and no default provider: install it
    // before the first client (the other examples start a fanout mock API, which does).
    fanout::strategy::trust::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client without TLS always builds")
}

/// A list of stories whose `points` are the given numbers.
fn stories(points: &[u64]) -> serde_json::Value {
    let items: Vec<_> = points
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"title": format!("story {i}"), "points": p}))
        .collect();
    json!(items)
}

/// What one check measured, for `main` to print.
struct Checked {
    result: Result<u64, FetchError>,
    /// Requests the mock server received.
    received: usize,
    took: Duration,
}

/// Verifies every `.expect(n)` mounted on `server` (panicking with the mismatch if one
/// fails) and counts what the server received.
async fn verified(server: MockServer, result: Result<u64, FetchError>, took: Duration) -> Checked {
    server.verify().await;
    let received = server.received_requests().await.map_or(0, |r| r.len());
    Checked {
        result,
        received,
        took,
    }
}

/// The points in the first check's list.
const POINTS: [u64; 3] = [3, 4, 5];

// ANCHOR: check_sum
/// The happy path: one GET, the right total.
async fn check_sums_a_list() -> Checked {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/stories"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stories(&POINTS)))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let url = format!("{}/stories", server.uri());
    let result = total_points(&client(), &url, &POLICY).await;

    assert_eq!(result, Ok(POINTS.iter().sum()));
    verified(server, result, started.elapsed()).await
}
// ANCHOR_END: check_sum

/// The delays of the concurrent check's five feeds.
const FEED_DELAYS_MS: [u64; 5] = [300, 200, 400, 250, 350];

// ANCHOR: check_concurrent
/// Five feeds fetched at once take about as long as the slowest, not the sum.
async fn check_fetches_concurrently() -> Checked {
    let server = MockServer::start().await;
    for (i, ms) in FEED_DELAYS_MS.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(format!("/feed/{i}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(stories(&[1]))
                    .set_delay(Duration::from_millis(*ms)),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client();
    let urls: Vec<String> = (0..FEED_DELAYS_MS.len())
        .map(|i| format!("{}/feed/{i}", server.uri()))
        .collect();

    let started = Instant::now();
    let totals =
        futures::future::join_all(urls.iter().map(|url| total_points(&client, url, &POLICY))).await;
    let took = started.elapsed();

    let slowest = Duration::from_millis(*FEED_DELAYS_MS.iter().max().unwrap());
    let sum = Duration::from_millis(FEED_DELAYS_MS.iter().sum());
    assert!(totals.iter().all(|t| *t == Ok(1)), "{totals:?}");
    // Loose bounds: never faster than the slowest feed, well under the sum.
    assert!(took >= slowest, "{took:?} < the slowest delay {slowest:?}");
    assert!(took < sum / 2, "{took:?} is not under half of {sum:?}");
    let all = totals.into_iter().sum::<Result<u64, FetchError>>();
    verified(server, all, took).await
}
// ANCHOR_END: check_concurrent

/// How long the slow endpoint of the timeout check takes to answer.
const SLOW: Duration = Duration::from_millis(500);

/// The timeout check's limit per attempt, well under [`SLOW`].
const SHORT_TIMEOUT: Duration = Duration::from_millis(100);

// ANCHOR: check_timeout
/// A server slower than the timeout: two attempts (the first and its retry), then
/// `Timeout`, long before the server would have answered.
async fn check_times_out_and_retries_once() -> Checked {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/slow"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(stories(&POINTS))
                .set_delay(SLOW),
        )
        .expect(2)
        .mount(&server)
        .await;
    let policy = Policy {
        timeout: SHORT_TIMEOUT,
        ..POLICY
    };

    let started = Instant::now();
    let result = total_points(&client(), &format!("{}/slow", server.uri()), &policy).await;
    let took = started.elapsed();

    assert_eq!(result, Err(FetchError::Timeout));
    assert!(
        took >= policy.timeout * 2,
        "{took:?}: both attempts ran out"
    );
    assert!(
        took < SLOW,
        "{took:?}: the client did not wait for the server"
    );
    verified(server, result, took).await
}
// ANCHOR_END: check_timeout

// ANCHOR: check_errors
/// A 500 once, then the list: the retry turns the failure into a success.
async fn check_retries_a_500() -> Checked {
    let server = MockServer::start().await;
    // Mocks are tried in the order they were mounted; this one answers only once.
    Mock::given(method("GET"))
        .and(path("/stories"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/stories"))
        .respond_with(ResponseTemplate::new(200).set_body_json(stories(&POINTS)))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let url = format!("{}/stories", server.uri());
    let result = total_points(&client(), &url, &POLICY).await;

    assert_eq!(result, Ok(POINTS.iter().sum()));
    verified(server, result, started.elapsed()).await
}

/// An endpoint that always answers `status`: a 5xx is tried `1 + retries` times, a 4xx
/// once, and either way the caller gets `Status`.
async fn check_status_is_an_error(status: u16, attempts: u64) -> Checked {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/stories"))
        .respond_with(ResponseTemplate::new(status))
        .expect(attempts)
        .mount(&server)
        .await;

    let started = Instant::now();
    let url = format!("{}/stories", server.uri());
    let result = total_points(&client(), &url, &POLICY).await;

    assert_eq!(result, Err(FetchError::Status(status)));
    verified(server, result, started.elapsed()).await
}

/// A 200 whose body is cut short: `Malformed`, and not retried.
async fn check_malformed_json_is_an_error() -> Checked {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/stories"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"[{"points": 3}, {"poi"#))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let url = format!("{}/stories", server.uri());
    let result = total_points(&client(), &url, &POLICY).await;

    assert!(
        matches!(result, Err(FetchError::Malformed(_))),
        "{result:?}"
    );
    verified(server, result, started.elapsed()).await
}
// ANCHOR_END: check_errors

/// The schedule check's policy: three retries, 100 ms before the first.
const SCHEDULE: Policy = Policy {
    retries: 3,
    backoff: Duration::from_millis(100),
    ..POLICY
};

/// The timeout for attempts that never finish.
const NEVER_TIMEOUT: Duration = Duration::from_millis(30);

// ANCHOR: check_schedule
/// The backoff schedule without a server and without waiting: the attempts fail on
/// their own, and the "sleep" only writes down how long it was asked to wait.
async fn check_backoff_schedule() -> (Vec<Duration>, u32, Duration) {
    let policy = SCHEDULE;
    let mut attempts = 0;
    let mut waits = Vec::new();

    let started = Instant::now();
    let result: Result<u64, _> = with_retries(
        &policy,
        || {
            attempts += 1;
            async { Err(FetchError::Status(503)) }
        },
        |wait| {
            waits.push(wait);
            async {}
        },
    )
    .await;
    let took = started.elapsed();

    assert_eq!(result, Err(FetchError::Status(503)));
    assert_eq!(attempts, 1 + policy.retries);
    let expected: Vec<Duration> = (0..policy.retries)
        .map(|k| policy.backoff * 2u32.pow(k))
        .collect();
    assert_eq!(waits, expected);
    assert!(took < policy.backoff, "{took:?}: nothing really slept");
    (waits, attempts, took)
}

/// A timeout without a server: an attempt that never finishes is cut at the policy's
/// timeout, retried once, then reported as `Timeout`.
async fn check_timeout_without_a_server() -> (u32, Duration) {
    let policy = Policy {
        timeout: NEVER_TIMEOUT,
        ..POLICY
    };
    let mut attempts = 0;
    let started = Instant::now();
    let result = with_retries(
        &policy,
        || {
            attempts += 1;
            std::future::pending::<Result<u64, FetchError>>()
        },
        tokio::time::sleep,
    )
    .await;
    let took = started.elapsed();

    assert_eq!(result, Err(FetchError::Timeout));
    assert_eq!(attempts, 2);
    assert!(took >= policy.timeout * 2 + policy.backoff, "{took:?}");
    (attempts, took)
}
// ANCHOR_END: check_schedule

/// A result as the steps print it.
fn show(result: &Result<u64, FetchError>) -> String {
    match result {
        Ok(total) => format!("Ok({total})"),
        Err(FetchError::Malformed(why)) => format!("Malformed({why})"),
        Err(e) => format!("{e:?}"),
    }
}

fn ms(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

#[tokio::main]
async fn main() {
    let mut steps = Steps::from_args();
    let total: u64 = POINTS.iter().sum();

    steps.next("the happy path: one GET, the points added up");
    let c = check_sums_a_list().await;
    println!(
        "  {} in {}, {} request (the list's points add up to {total}; .expect(1))",
        show(&c.result),
        seconds(c.took),
        c.received
    );

    let delays: Vec<String> = FEED_DELAYS_MS.iter().map(|d| d.to_string()).collect();
    steps.next(&format!(
        "five feeds at once, delays {} ms",
        delays.join(", ")
    ));
    let c = check_fetches_concurrently().await;
    let slowest = Duration::from_millis(*FEED_DELAYS_MS.iter().max().unwrap());
    let sum = Duration::from_millis(FEED_DELAYS_MS.iter().sum());
    println!(
        "  {} in {}, {} requests (at least the slowest delay {}, and under half the sum {})",
        show(&c.result),
        seconds(c.took),
        c.received,
        seconds(slowest),
        seconds(sum / 2)
    );

    steps.next("a server slower than the timeout");
    let c = check_times_out_and_retries_once().await;
    let timeout = SHORT_TIMEOUT;
    println!(
        "  {} after {}, {} requests (2 attempts of {} + a {} wait = {}; the server needs {})",
        show(&c.result),
        seconds(c.took),
        c.received,
        ms(timeout),
        ms(POLICY.backoff),
        ms(timeout * 2 + POLICY.backoff),
        ms(SLOW)
    );

    steps.next("a 500 once, then the list");
    let c = check_retries_a_500().await;
    println!(
        "  {} in {}, {} requests (the 500, then the retry's {total})",
        show(&c.result),
        seconds(c.took),
        c.received
    );

    steps.next("a 500 every time, a 404, a body cut short");
    let retried = 1 + u64::from(POLICY.retries);
    for (what, c, expected) in [
        ("500", check_status_is_an_error(500, retried).await, retried),
        ("404", check_status_is_an_error(404, 1).await, 1),
        ("bad JSON", check_malformed_json_is_an_error().await, 1),
    ] {
        println!(
            "  {what:>8}: {}, {} request(s) (expected {expected}: only 5xx and timeouts are retried)",
            show(&c.result),
            c.received
        );
    }

    steps.next("the backoff schedule, recorded instead of slept");
    let (waits, attempts, took) = check_backoff_schedule().await;
    let waits: Vec<String> = waits.into_iter().map(ms).collect();
    println!(
        "  {attempts} attempts, waits [{}] ({} doubling), in {} µs of real time",
        waits.join(", "),
        ms(SCHEDULE.backoff),
        took.as_micros()
    );
    let (attempts, took) = check_timeout_without_a_server().await;
    println!(
        "  a future that never ends: Timeout after {attempts} attempts, {} (2 × {} + {} = {})",
        seconds(took),
        ms(NEVER_TIMEOUT),
        ms(POLICY.backoff),
        ms(NEVER_TIMEOUT * 2 + POLICY.backoff)
    );

    steps.next("the same checks as tests");
    println!("  cargo test --release --example ch06_testing");
}

// ANCHOR: tests
#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sums_a_list() {
        check_sums_a_list().await;
    }

    #[tokio::test]
    async fn fetches_concurrently() {
        check_fetches_concurrently().await;
    }

    #[tokio::test]
    async fn times_out_and_retries_once() {
        check_times_out_and_retries_once().await;
    }

    #[tokio::test]
    async fn retries_a_500() {
        check_retries_a_500().await;
    }

    #[tokio::test]
    async fn a_5xx_is_retried_and_a_4xx_is_not() {
        check_status_is_an_error(503, 1 + u64::from(POLICY.retries)).await;
        check_status_is_an_error(404, 1).await;
    }

    #[tokio::test]
    async fn malformed_json_is_an_error() {
        check_malformed_json_is_an_error().await;
    }

    #[tokio::test]
    async fn the_backoff_doubles_without_waiting() {
        check_backoff_schedule().await;
    }

    #[tokio::test]
    async fn a_future_that_never_ends_times_out() {
        check_timeout_without_a_server().await;
    }
}
// ANCHOR_END: tests
