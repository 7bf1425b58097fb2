//! Chapter 7: the news aggregator. Three news APIs (shaped like NewsAPI, The Guardian
//! and Hacker News) on fanout's embedded mock API, fetched one after another with ureq
//! and all at once with reqwest, one source failing, a rate limit on one source, and
//! the articles stored in SQLite without duplicates. The library code lives in
//! `src/news/`; this file drives it step by step.
//!
//! ```sh
//! cargo run --release --example ch07_news_aggregator            # all steps
//! cargo run --release --example ch07_news_aggregator -- --step  # pause between steps
//! ```
//!
//! The mock API accepts any key, so its sources send a placeholder: a real key in
//! `NEWSAPI_KEY` is never read, let alone sent to a mock, and no key is ever printed.

use std::time::Duration;

use fanout::news::blocking::BlockingAggregator;
use fanout::news::fetch::Aggregator;
use fanout::news::mock::{self, MockSource};
use fanout::news::store::{ArticleStore, max_overlap};
use fanout::news::trial::source_delays;
use fanout::news::{ApiKey, Digest, Shape, Source};
use fanout::server::fault::Fault;
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, walkthrough};

/// Every request gives up after this long.
const TIMEOUT: Duration = Duration::from_secs(5);

// ANCHOR: sources
/// The three sources on the mock API at `url`, each with a placeholder key.
fn sources_on(url: &str, mocks: &[MockSource]) -> Vec<Source> {
    mocks.iter().map(|mock| mock.source_on(url)).collect()
}

/// The key a source on the real service would send: read from the environment, and
/// only for that service, so a real key never leaves for a mock.
#[allow(dead_code)] // shown in the chapter; this example calls only the mock API
fn real_key(shape: Shape) -> Option<ApiKey> {
    match shape {
        Shape::NewsApi => ApiKey::from_env("NEWSAPI_KEY"),
        Shape::Guardian => ApiKey::from_env("GUARDIAN_KEY"),
        Shape::HackerNews => None,
    }
}
// ANCHOR_END: sources

/// Prints what each source gave.
fn show(digest: &Digest) {
    for report in &digest.reports {
        match &report.error {
            None => println!(
                "  {:<11} {:>2} articles from {:>2} requests, done after {}",
                report.source,
                report.articles.len(),
                report.requests,
                seconds(report.done_after)
            ),
            Some(why) => println!(
                "  {:<11} failed after {}: {why}",
                report.source,
                seconds(report.done_after)
            ),
        }
    }
}

/// The ledger entries the server recorded since `since`.
fn new_entries(
    server: &mut MockApi,
    since: usize,
) -> anyhow::Result<Vec<fanout::server::ledger::LedgerEntry>> {
    Ok(server.ledger()?.entries.split_off(since))
}

fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let runtime = tokio::runtime::Runtime::new()?;

    steps.next("start a mock API with three news sources");
    let mocks = MockSource::classic_three();
    // Each step gets a fresh mock API from this config: the same seed gives every
    // source the same delays, so the steps compare like with like.
    let server_config = walkthrough::server_config(mock::profile(&mocks), 7)?;
    let start = || MockApi::start(&server_config, &Placement::InProcess);
    let mut server = start()?;
    let sources = sources_on(server.url(), &mocks);
    for (source, mock) in sources.iter().zip(&mocks) {
        // The URL with its key shown as REDACTED, never the key itself.
        println!(
            "  {:<11} {}",
            source.name,
            fanout::redact::url(&source.list_url())
        );
        println!("  {:<11} answers after {}", "", mock.latency);
    }

    steps.next("one request after another, with ureq");
    // ANCHOR: sync
    let digest = BlockingAggregator::new(TIMEOUT).aggregate(&sources);
    // ANCHOR_END: sync
    show(&digest);
    let entries = new_entries(&mut server, 0)?;
    let sum_ms: f64 = entries.iter().map(|e| e.delay_us as f64 / 1e3).sum();
    let sync_time = digest.elapsed;
    println!(
        "  took {} for {} requests; the server's delays add up to {:.2} s",
        seconds(sync_time),
        entries.len(),
        sum_ms / 1e3
    );

    steps.next("all at once, with reqwest on tokio (a fresh mock API, the same delays)");
    let mut server = start()?;
    let sources = sources_on(server.url(), &mocks);
    // ANCHOR: async
    let aggregator = Aggregator::new(TIMEOUT)?;
    let digest = runtime.block_on(aggregator.aggregate(&sources));
    // ANCHOR_END: async
    show(&digest);
    let entries = new_entries(&mut server, 0)?;
    let slowest_chain_ms = source_delays(&mocks, &entries)
        .iter()
        .zip(&mocks)
        .map(|(&(list, item), mock)| match mock.shape {
            Shape::HackerNews => list + item,
            Shape::NewsApi | Shape::Guardian => list,
        })
        .fold(0.0, f64::max);
    println!(
        "  took {}; the slowest source's chain (its list, or for Hacker News the list plus its slowest story) is {:.2} s",
        seconds(digest.elapsed),
        slowest_chain_ms / 1e3
    );
    println!(
        "  {:.1}x faster than one after another",
        sync_time.as_secs_f64() / digest.elapsed.as_secs_f64()
    );
    let articles = digest.articles();

    steps.next("The Guardian is down: the others still arrive");
    let mut broken = mocks.clone();
    broken[1].fault = Fault {
        error_rate: 1.0,
        error_status: 503,
        ..Fault::default()
    };
    let broken_server = MockApi::start(
        &walkthrough::server_config(mock::profile(&broken), 7)?,
        &Placement::InProcess,
    )?;
    let digest = runtime.block_on(aggregator.aggregate(&sources_on(broken_server.url(), &broken)));
    show(&digest);
    println!(
        "  {} articles from {} of {} sources in {}",
        digest.articles().len(),
        digest.reports.len() - digest.failures().len(),
        digest.reports.len(),
        seconds(digest.elapsed)
    );

    steps.next("a rate limit on Hacker News: 5 requests per second");
    // ANCHOR: rate_limit
    let mut limited = sources.clone();
    limited[2].per_second = Some(5);
    // ANCHOR_END: rate_limit
    let server = start()?;
    let limited: Vec<Source> = sources_on(server.url(), &mocks)
        .into_iter()
        .zip(&limited)
        .map(|(fresh, wanted)| Source {
            per_second: wanted.per_second,
            ..fresh
        })
        .collect();
    let digest = runtime.block_on(aggregator.aggregate(&limited));
    show(&digest);
    // A burst of `rate` goes at once; each later request waits its turn, 1/rate apart.
    let (requests, rate) = (1 + limited[2].stories, 5);
    println!(
        "  took {}: the limiter let {rate} of Hacker News's {requests} requests go at once \
         and spaced the rest, the last one at least {:.2} s in",
        seconds(digest.elapsed),
        requests.saturating_sub(rate) as f64 / rate as f64
    );

    steps.next("store the articles in SQLite, each source's from its own task");
    let dir = std::env::temp_dir().join(format!("fanout-ch07-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = ArticleStore::create(&dir.join("news.db"))?;
    // ANCHOR: store
    let per_source = articles.chunk_by(|a, b| a.source == b.source);
    let saves = per_source.map(|chunk| store.save(chunk.to_vec()));
    let inserted: Vec<usize> = runtime
        .block_on(futures::future::join_all(saves))
        .into_iter()
        .collect::<Result<_, _>>()?;
    // ANCHOR_END: store
    let writes = store.writes();
    let holding = max_overlap(writes.iter().map(|w| (w.locked, w.committed)));
    let asking = max_overlap(writes.iter().map(|w| (w.asked, w.committed)));
    println!(
        "  {} articles offered, {} stored ({} duplicate by URL ignored)",
        articles.len(),
        store.count()?,
        articles.len() - inserted.iter().sum::<usize>()
    );
    println!(
        "  {} saves at once, {holding} holding SQLite's write lock at once: writes are serial",
        asking
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
