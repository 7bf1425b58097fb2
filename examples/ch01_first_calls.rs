//! Chapter 1: your first concurrent calls. Three calls, one of them slow, made one
//! after another and then all at once, against fanout's embedded mock API.
//!
//! ```sh
//! cargo run --release --example ch01_first_calls            # all steps
//! cargo run --release --example ch01_first_calls -- --step  # pause between steps
//! ```

use std::time::{Duration, Instant};

use fanout::server::latency::Latency;
use fanout::server::profile::{Endpoint, Profile};
use fanout::walkthrough::Steps;
use fanout::{MockApi, Placement, walkthrough};

/// Three endpoints shaped like the chapter's: a profile, a slow one, a list of posts.
fn three_endpoints() -> Profile {
    let endpoint = |name: &str, ms: u64| Endpoint {
        name: name.to_string(),
        path: format!("/{name}"),
        ..Endpoint::catch_all(Latency::Fixed(Duration::from_millis(ms)))
    };
    Profile {
        endpoints: vec![
            endpoint("user", 600),
            endpoint("slow", 1200),
            endpoint("posts", 700),
        ],
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

// ANCHOR: fetch
/// Fetches one URL and returns the size of its body.
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
// ANCHOR_END: fetch

// ANCHOR: sequential
/// One call at a time: each `await` finishes before the next call starts.
async fn one_after_another(
    client: &reqwest::Client,
    urls: &[String],
) -> reqwest::Result<Vec<usize>> {
    let mut sizes = Vec::new();
    for url in urls {
        sizes.push(fetch(client, url).await?);
    }
    Ok(sizes)
}
// ANCHOR_END: sequential

// ANCHOR: concurrent
/// All calls at once: the futures are created together and awaited together.
async fn all_at_once(client: &reqwest::Client, urls: &[String]) -> reqwest::Result<Vec<usize>> {
    futures::future::try_join_all(urls.iter().map(|url| fetch(client, url))).await
}
// ANCHOR_END: concurrent

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();

    steps.next("start a local mock API with three endpoints");
    let profile = three_endpoints();
    let server = MockApi::start(
        &walkthrough::server_config(profile.clone(), 1)?,
        &Placement::InProcess,
    )?;
    let urls: Vec<String> = profile
        .endpoints
        .iter()
        .map(|e| format!("{}{}", server.url(), e.path))
        .collect();
    for (endpoint, url) in profile.endpoints.iter().zip(&urls) {
        println!("  {url}  answers after {}", endpoint.latency);
    }
    let client = reqwest::Client::builder().no_proxy().build()?;
    // What the two runs should take, from the delays the endpoints were given.
    let delays: Vec<f64> = profile
        .endpoints
        .iter()
        .map(|e| e.latency.generous_max().as_secs_f64())
        .collect();
    let (sum, slowest) = (
        delays.iter().sum::<f64>(),
        delays.iter().copied().fold(0.0, f64::max),
    );

    steps.next("call them one after another");
    let started = Instant::now();
    let sizes = one_after_another(&client, &urls).await?;
    let sequential = started.elapsed();
    println!(
        "  sizes {sizes:?}, took {:.2} s (the sum of the delays is {sum:.2} s)",
        sequential.as_secs_f64()
    );

    steps.next("call them all at once");
    let started = Instant::now();
    let sizes = all_at_once(&client, &urls).await?;
    let concurrent = started.elapsed();
    println!(
        "  sizes {sizes:?}, took {:.2} s (the slowest delay is {slowest:.2} s)",
        concurrent.as_secs_f64()
    );

    steps.next("compare");
    println!(
        "  {:.2} s against {:.2} s: {:.1}x faster, as fast as the slowest call",
        sequential.as_secs_f64(),
        concurrent.as_secs_f64(),
        sequential.as_secs_f64() / concurrent.as_secs_f64()
    );
    Ok(())
}
