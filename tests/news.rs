//! Chapter 7's news aggregator against the mock API: what it fetches, what survives a
//! failing source, what the store keeps, the counts the server recorded, and what it
//! pays over an emulated network with TLS. Delays are scaled down; times are compared
//! only as loose ratios.

use std::time::Duration;

use fanout::news::Source;
use fanout::news::blocking::BlockingAggregator;
use fanout::news::fetch::Aggregator;
use fanout::news::mock::{self, MockSource, SHARED_STORY_URL};
use fanout::news::store::{ArticleStore, max_overlap};
use fanout::news::trial::{NewsTrial, run};
use fanout::server::fault::Fault;
use fanout::server::network::Network;
use fanout::server::tls::TlsVersion;
use fanout::{MockApi, Outcome, Placement, RunSummary, ServerConfig};

const TIMEOUT: Duration = Duration::from_secs(5);

fn three(scale: f64) -> Vec<MockSource> {
    MockSource::classic_three()
        .into_iter()
        .map(|s| s.scaled(scale))
        .collect()
}

fn serve(mocks: &[MockSource]) -> (MockApi, Vec<Source>) {
    let server = MockApi::start(
        &ServerConfig::new(mock::profile(mocks), 3),
        &Placement::InProcess,
    )
    .unwrap();
    let sources = mocks.iter().map(|m| m.source_on(server.url())).collect();
    (server, sources)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn async_and_sync_fetch_the_same_articles_and_async_overlaps_the_waits() {
    let mocks = three(0.2);
    let (mut server, sources) = serve(&mocks);
    let sync = BlockingAggregator::new(TIMEOUT).aggregate(&sources);
    let asynchronous = runtime().block_on(Aggregator::new(TIMEOUT).unwrap().aggregate(&sources));

    for digest in [&sync, &asynchronous] {
        assert!(digest.failures().is_empty(), "{:?}", digest.failures());
        assert_eq!(digest.articles().len(), 30, "10 per source");
        let requests: Vec<usize> = digest.reports.iter().map(|r| r.requests).collect();
        assert_eq!(
            requests,
            vec![1, 1, 11],
            "Hacker News: the list, then 10 stories"
        );
    }
    let urls = |d: &fanout::news::Digest| {
        let mut urls: Vec<String> = d.articles().into_iter().map(|a| a.url).collect();
        urls.sort();
        urls
    };
    assert_eq!(urls(&sync), urls(&asynchronous));
    let ledger = server.ledger().unwrap();
    assert_eq!(ledger.entries.len(), 26, "13 requests per aggregation");
    assert!(ledger.entries.iter().all(|e| e.status == Some(200)));
    // Sync pays the sum of 13 delays, async the slowest chain: far less than half.
    assert!(
        asynchronous.elapsed.as_secs_f64() < 0.5 * sync.elapsed.as_secs_f64(),
        "async {:?} against sync {:?}",
        asynchronous.elapsed,
        sync.elapsed
    );
}

#[test]
fn a_failing_or_hanging_source_leaves_the_others_standing() {
    let mut mocks = three(0.1);
    mocks[0].fault = Fault {
        hang: true,
        ..Fault::default()
    };
    mocks[1].fault = Fault {
        error_rate: 1.0,
        error_status: 503,
        ..Fault::default()
    };
    let (_server, sources) = serve(&mocks);
    let timeout = Duration::from_millis(300);
    let digest = runtime().block_on(Aggregator::new(timeout).unwrap().aggregate(&sources));
    let failures = digest.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].0 == "newsapi" && failures[0].1.contains("no answer within"));
    assert_eq!(failures[1], ("guardian", "HTTP 503"));
    assert_eq!(
        digest.articles().len(),
        10,
        "Hacker News still gives its 10"
    );
    assert!(
        digest.elapsed < Duration::from_secs(3),
        "bounded by the timeout"
    );

    let sync = BlockingAggregator::new(timeout).aggregate(&sources);
    assert_eq!(sync.failures().len(), 2);
    assert_eq!(sync.articles().len(), 10);
}

#[test]
fn hacker_news_fails_when_every_story_fails() {
    let mocks = three(0.05);
    let mut profile = mock::profile(&mocks);
    let stories = 3; // newsapi, guardian, hackernews-top, hackernews-item
    assert_eq!(profile.endpoints[stories].name, "hackernews-item");
    profile.endpoints[stories].fault = Fault {
        error_rate: 1.0,
        error_status: 500,
        ..Fault::default()
    };
    let mut server = MockApi::start(&ServerConfig::new(profile, 3), &Placement::InProcess).unwrap();
    let sources: Vec<Source> = mocks.iter().map(|m| m.source_on(server.url())).collect();
    let digest = runtime().block_on(Aggregator::new(TIMEOUT).unwrap().aggregate(&sources));
    assert_eq!(digest.failures(), vec![("hackernews", "HTTP 500")]);
    assert_eq!(digest.articles().len(), 20);
    assert_eq!(
        server.ledger().unwrap().entries.len(),
        13,
        "every story was asked for"
    );
}

#[test]
fn a_rate_limit_spaces_one_source_only() {
    let mocks = three(0.05);
    let (_server, mut sources) = serve(&mocks);
    sources[2].per_second = Some(20);
    let digest = runtime().block_on(Aggregator::new(TIMEOUT).unwrap().aggregate(&sources));
    assert!(digest.failures().is_empty());
    // 11 requests at 20/s after a burst of 20: no wait. At 5/s: 6 waits of 200 ms.
    sources[2].per_second = Some(5);
    let limited = runtime().block_on(Aggregator::new(TIMEOUT).unwrap().aggregate(&sources));
    let hn = &limited.reports[2];
    assert!(
        hn.done_after >= Duration::from_millis(1150),
        "{:?}",
        hn.done_after
    );
    assert!(limited.reports[0].done_after < Duration::from_millis(800));
}

#[test]
fn the_store_keeps_each_url_once_and_writes_one_at_a_time() {
    let mocks = three(0.05);
    let (_server, sources) = serve(&mocks);
    let rt = runtime();
    let digest = rt.block_on(Aggregator::new(TIMEOUT).unwrap().aggregate(&sources));
    let dir = std::env::temp_dir().join(format!("fanout-news-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = ArticleStore::create(&dir.join("news.db")).unwrap();
    let saves = digest
        .reports
        .iter()
        .map(|r| store.save(r.articles.clone()));
    let inserted: usize = rt
        .block_on(futures::future::join_all(saves))
        .into_iter()
        .map(Result::unwrap)
        .sum();
    let shared = digest
        .articles()
        .iter()
        .filter(|a| a.url == SHARED_STORY_URL)
        .count();
    assert_eq!(
        shared, 2,
        "NewsAPI and The Guardian both carry the shared story"
    );
    assert_eq!(inserted, 29);
    assert_eq!(store.count().unwrap(), 29);
    // Saving everything again adds nothing.
    assert_eq!(rt.block_on(store.save(digest.articles())).unwrap(), 0);
    let writes = store.writes();
    assert_eq!(writes.len(), 4);
    assert_eq!(
        max_overlap(writes.iter().map(|w| (w.locked, w.committed))),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_measured_trial_accounts_for_every_request() {
    let trial = NewsTrial {
        sources: three(0.05),
        concurrent: true,
        store: true,
        timeout: TIMEOUT,
    };
    let scenario = trial.scenario(1);
    let calibration = Default::default();
    let (output, figures) = run(&trial, &scenario, &Placement::InProcess, calibration).unwrap();
    let summary = RunSummary::from_output(&output);
    assert_eq!(summary.n, 13);
    assert_eq!(summary.outcomes.get(&Outcome::Ok), Some(&13));
    assert_eq!(summary.server.received, 13);
    assert_eq!(
        (figures.sources, figures.failed, figures.articles),
        (3, 0, 30)
    );
    assert_eq!(figures.stored, Some(29));
    assert_eq!(figures.writes_at_once(), 1);
    let (done, chain) = figures.two_phase_ms[0];
    assert!(
        done >= chain,
        "Hacker News cannot finish before its two delays: {done} < {chain}"
    );
    assert!(figures.predicted_ms > 0.0);
}

#[test]
fn sources_on_the_mock_send_the_placeholder_key_never_the_environments() {
    // Whatever NEWSAPI_KEY holds, a source on the mock API sends the placeholder.
    let sources: Vec<Source> = three(1.0)
        .iter()
        .map(|m| m.source_on("http://127.0.0.1:9"))
        .collect();
    let keyed: Vec<&Source> = sources.iter().filter(|s| s.key.is_some()).collect();
    assert_eq!(keyed.len(), 2, "NewsAPI and The Guardian take a key");
    for source in keyed {
        assert!(
            source.list_url().contains("=mock-key"),
            "{}",
            fanout::redact::url(&source.list_url())
        );
    }
}

/// A trial of the classic three at a tenth of their delays, behind a 20 ms round trip
/// with TLS 1.3.
fn over_the_network(concurrent: bool) -> (NewsTrial, fanout::Scenario) {
    let trial = NewsTrial {
        sources: three(0.1),
        concurrent,
        store: false,
        timeout: TIMEOUT,
    };
    let mut scenario = trial.scenario(5);
    scenario.profile.network = Network {
        rtt: Duration::from_millis(20),
        ..Network::default()
    };
    scenario.tls = Some(TlsVersion::Tls13);
    (trial, scenario)
}

#[test]
fn over_tls_and_a_network_both_aggregators_pay_the_round_trips_the_model_charges() {
    for concurrent in [false, true] {
        let (trial, scenario) = over_the_network(concurrent);
        let calibration = Default::default();
        let (output, figures) = run(&trial, &scenario, &Placement::InProcess, calibration).unwrap();
        let summary = RunSummary::from_output(&output);
        assert_eq!(
            summary.outcomes.get(&Outcome::Ok),
            Some(&13),
            "{concurrent}"
        );
        assert!(
            output
                .ledger
                .connection_entries
                .iter()
                .all(|c| c.tls_done_us.is_some())
        );
        let ratio = summary.wall_ms / figures.predicted_ms;
        assert!(
            (0.9..=1.3).contains(&ratio),
            "concurrent {concurrent}: wall {:.1} ms, model {:.1} ms",
            summary.wall_ms,
            figures.predicted_ms
        );
        let opened = output.ledger.connections.unwrap();
        if concurrent {
            // Three lists at once, then ten stories, the first few on idle connections.
            assert!(
                opened.abs_diff(figures.predicted_connections) <= 2,
                "{opened}"
            );
            let (done, chain) = figures.two_phase_ms[0];
            assert!(
                done >= chain,
                "{done} < {chain}: its delays and round trips"
            );
        } else {
            let delays: f64 = output
                .ledger
                .entries
                .iter()
                .map(|e| e.delay_us as f64 / 1e3)
                .sum();
            // Thirteen round trips one after another, and one connection's set-up.
            assert!(
                summary.wall_ms >= delays + 15.0 * 20.0,
                "{}",
                summary.wall_ms
            );
            assert_eq!((opened, figures.predicted_connections), (1, 1));
        }
    }
}

#[test]
fn an_aggregator_that_does_not_trust_the_mocks_certificate_gets_nothing() {
    let (trial, scenario) = over_the_network(false);
    let server = MockApi::start(&scenario.server_config(), &Placement::InProcess).unwrap();
    assert!(server.url().starts_with("https://"));
    let sources: Vec<Source> = trial
        .sources
        .iter()
        .map(|m| m.source_on(server.url()))
        .collect();
    let sync = BlockingAggregator::on_mock(TIMEOUT, None).aggregate(&sources);
    let asynchronous = runtime().block_on(
        Aggregator::on_mock(TIMEOUT, None)
            .unwrap()
            .aggregate(&sources),
    );
    for digest in [sync, asynchronous] {
        let failures = digest.failures();
        assert_eq!(failures.len(), 3, "{failures:?}");
        assert!(
            failures
                .iter()
                .all(|(_, why)| why.starts_with("connection"))
        );
    }
    let trusting = BlockingAggregator::on_mock(TIMEOUT, server.ca_certificate());
    assert!(trusting.aggregate(&sources).failures().is_empty());
}
