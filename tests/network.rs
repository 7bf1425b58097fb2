//! The emulated network: a request on a fresh connection costs about two round trips
//! plus its delay and one on a reused connection about one, for both clients and both
//! engines; bandwidth stretches a large body to about its size over the bandwidth;
//! jitter never reorders bytes; the ledger notes when each connection's first bytes
//! arrived; TLS adds its own round trips to a fresh connection (one for 1.3, two for
//! 1.2) and none to a reused one, and a resumed TLS 1.2 handshake costs one round trip
//! less than a full one. Loose ratios only: the precise figures go to the report.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use fanout::server::ledger::LedgerRecord;
use fanout::server::network::{Bandwidth, Network};
use fanout::server::profile::Profile;
use fanout::server::tls::{SessionResumption, TlsVersion};
use fanout::server::{Engine, KeepAlive};
use fanout::{ClientReuse, MockApi, Placement, RunOutput, Scenario, ServerConfig, Strategy};

const RTT_MS: f64 = 50.0;
const DELAY_MS: f64 = 10.0;

fn network(rtt_ms: f64) -> Network {
    Network {
        rtt: Duration::from_secs_f64(rtt_ms / 1e3),
        ..Network::default()
    }
}

/// `n` requests one after another behind a 50 ms round trip, on a fresh server.
fn sequential(strategy: Strategy, reuse: ClientReuse, engine: Engine, n: u64) -> RunOutput {
    let mut profile = Profile::single(common::latency("10ms"));
    profile.network = network(RTT_MS);
    let mut scenario = Scenario::new(profile, n, strategy);
    scenario.client.reuse = reuse;
    scenario.engine = engine;
    scenario.deadline = Some(Duration::from_secs(20));
    run(&scenario)
}

fn run(scenario: &Scenario) -> RunOutput {
    let mut server = MockApi::start(&scenario.server_config(), &Placement::InProcess)
        .expect("the server starts");
    fanout::run_on(scenario, &mut server, Arc::new(AtomicU64::new(0))).expect("the run")
}

/// Each request's latency in ms, in order.
fn latencies_ms(output: &RunOutput) -> Vec<f64> {
    let mut samples = output.measurements.samples.clone();
    samples.sort_by_key(|s| s.seq);
    samples
        .iter()
        .map(|s| {
            assert_eq!(s.outcome, fanout::Outcome::Ok, "{s:?}");
            s.latency().as_secs_f64() * 1e3
        })
        .collect()
}

fn assert_near(measured_ms: f64, ideal_ms: f64, what: &str) {
    let ratio = measured_ms / ideal_ms;
    assert!(
        (0.8..=1.3).contains(&ratio),
        "{what}: {measured_ms:.1} ms against the ideal {ideal_ms:.1} ms"
    );
}

#[test]
fn a_fresh_connection_costs_two_round_trips_and_a_reused_one_one() {
    for strategy in [Strategy::AsyncSequential, Strategy::SyncSequential] {
        let fresh = sequential(strategy, ClientReuse::PerRequest, Engine::Fanout, 3);
        for ms in latencies_ms(&fresh) {
            assert_near(ms, 2.0 * RTT_MS + DELAY_MS, &format!("{strategy} fresh"));
        }
        let shared = sequential(strategy, ClientReuse::Shared, Engine::Fanout, 4);
        let latencies = latencies_ms(&shared);
        assert_near(latencies[0], 2.0 * RTT_MS + DELAY_MS, "the first, fresh");
        for ms in &latencies[1..] {
            assert_near(*ms, RTT_MS + DELAY_MS, &format!("{strategy} reused"));
        }
        assert_eq!(shared.ledger.connections, Some(1));
    }
}

/// The latencies of `n` TLS 1.2 requests one after another, behind a 50 ms round
/// trip, from a server that closes each connection after its answer: every request
/// opens one, with TCP (1 round trip), TLS 1.2 (2, or 1 resumed) and itself (1).
fn each_on_a_new_tls_1_2_connection(strategy: Strategy, resumption: SessionResumption) -> Vec<f64> {
    let mut profile = Profile::single(common::latency("10ms"));
    profile.network = network(RTT_MS);
    let mut scenario = Scenario::new(profile, 4, strategy);
    scenario.tls = Some(TlsVersion::Tls12);
    scenario.tls_resumption = resumption;
    scenario.server_keep_alive = KeepAlive::Off;
    scenario.deadline = Some(Duration::from_secs(20));
    latencies_ms(&run(&scenario))
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn a_resumed_tls_1_2_connection_costs_one_round_trip_less_than_a_full_one() {
    let on = each_on_a_new_tls_1_2_connection(Strategy::AsyncSequential, SessionResumption::On);
    let off = each_on_a_new_tls_1_2_connection(Strategy::AsyncSequential, SessionResumption::Off);
    for latencies in [&on, &off] {
        assert_near(latencies[0], 4.0 * RTT_MS + DELAY_MS, "the first, full");
    }
    for ms in &on[1..] {
        assert_near(*ms, 3.0 * RTT_MS + DELAY_MS, "resumed");
    }
    for ms in &off[1..] {
        assert_near(*ms, 4.0 * RTT_MS + DELAY_MS, "resumption off");
    }
    let saved = mean(&off[1..]) - mean(&on[1..]);
    assert_near(saved, RTT_MS, "what resumption saves");
    // ureq, as fanout drives it, never resumes (tests/tls.rs says why).
    let ureq = each_on_a_new_tls_1_2_connection(Strategy::SyncSequential, SessionResumption::On);
    for ms in &ureq {
        assert_near(*ms, 4.0 * RTT_MS + DELAY_MS, "ureq");
    }
}

#[test]
fn the_ledger_sees_the_first_bytes_one_and_a_half_round_trips_after_the_accept() {
    let output = sequential(
        Strategy::AsyncSequential,
        ClientReuse::PerRequest,
        Engine::Fanout,
        2,
    );
    let LedgerRecord {
        connection_entries, ..
    } = &output.ledger;
    assert_eq!(connection_entries.len(), 2);
    for (id, entry) in connection_entries.iter().enumerate() {
        assert_eq!(entry.id, id as u64);
        let first = entry.first_byte_us.expect("the client sent its request");
        let waited_ms = (first - entry.accepted_us) as f64 / 1e3;
        assert_near(waited_ms, 1.5 * RTT_MS, "accept to first byte");
        assert_eq!(entry.tls_done_us, None);
    }
}

#[test]
fn wiremock_pays_the_same_round_trips_through_its_relay() {
    let fresh = sequential(
        Strategy::AsyncSequential,
        ClientReuse::PerRequest,
        Engine::Wiremock,
        2,
    );
    for ms in latencies_ms(&fresh) {
        assert_near(ms, 2.0 * RTT_MS + DELAY_MS, "wiremock fresh");
    }
    let shared = sequential(
        Strategy::AsyncSequential,
        ClientReuse::Shared,
        Engine::Wiremock,
        5,
    );
    // Every reused request pays its round trip; their median, not each one, is held to
    // the ideal from above, so one request the shared host's scheduler held up (79 ms
    // against 60 once) does not fail the run.
    let mut reused = latencies_ms(&shared)[1..].to_vec();
    for ms in &reused {
        assert!(
            *ms >= 0.8 * (RTT_MS + DELAY_MS),
            "wiremock reused: {ms:.1} ms"
        );
    }
    reused.sort_by(f64::total_cmp);
    let median = reused[reused.len() / 2];
    assert_near(median, RTT_MS + DELAY_MS, "wiremock reused (median)");
}

#[test]
fn bandwidth_stretches_a_large_body_to_its_size_over_the_bandwidth() {
    let body_bytes = 400_000;
    let mut profile = Profile::single(common::latency("0ms"));
    profile.endpoints[0].body_bytes = body_bytes;
    profile.network = Network {
        bandwidth: Bandwidth::BitsPerSecond(8_000_000),
        ..network(10.0)
    };
    let mut scenario = Scenario::new(profile, 1, Strategy::AsyncSequential);
    scenario.deadline = Some(Duration::from_secs(20));
    let output = run(&scenario);
    let ms = latencies_ms(&output)[0];
    // 400 kB at 1 MB/s: 400 ms on the wire, and two round trips of 10 ms.
    assert_near(
        ms,
        body_bytes as f64 / 1e3 + 20.0,
        "a 400 kB body at 8 mbit",
    );
    assert!(output.measurements.samples[0].bytes > body_bytes as u64 - 100);
}

#[test]
fn jitter_never_reorders_the_bytes_of_a_large_body() {
    let mut profile = Profile::single(common::latency("0ms"));
    profile.endpoints[0].body_bytes = 300_000;
    profile.network = Network {
        jitter: Duration::from_millis(30),
        ..network(10.0)
    };
    let server = MockApi::start(&ServerConfig::new(profile, 5), &Placement::InProcess)
        .expect("the server starts");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    for seq in 0..3 {
        let body = agent
            .get(format!("{}/items?seq={seq}", server.url()))
            .call()
            .and_then(|mut r| r.body_mut().read_to_string())
            .expect("an answer");
        let json: serde_json::Value = serde_json::from_str(&body).expect("intact JSON");
        assert_eq!(json["seq"], seq);
        let padding = json["padding"].as_str().expect("padding");
        assert!(padding.len() > 299_000 && padding.bytes().all(|b| b == b'x'));
    }
}

#[test]
fn stopping_the_server_drops_the_bytes_the_link_still_holds() {
    let mut profile = Profile::single(common::latency("0ms"));
    profile.network = network(6_000.0);
    let server = MockApi::start(&ServerConfig::new(profile, 1), &Placement::InProcess)
        .expect("the server starts");
    let url = format!("{}/items", server.url());
    // The request's first bytes are held for 9 s: the server stops long before.
    let client = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(20)))
            .build()
            .into();
        agent.get(&url).call().is_ok()
    });
    std::thread::sleep(Duration::from_millis(200));
    let stopping = std::time::Instant::now();
    drop(server);
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "the server stops at once"
    );
    assert!(!client.join().expect("the client thread"), "no answer came");
}

#[test]
fn tls_adds_one_round_trip_for_1_3_and_two_for_1_2_to_a_fresh_connection_only() {
    use fanout::server::tls::TlsVersion;
    for (version, rounds) in [(TlsVersion::Tls13, 1.0), (TlsVersion::Tls12, 2.0)] {
        for strategy in [Strategy::AsyncSequential, Strategy::SyncSequential] {
            for (reuse, n) in [(ClientReuse::PerRequest, 2), (ClientReuse::Shared, 3)] {
                let mut profile = Profile::single(common::latency("10ms"));
                profile.network = network(RTT_MS);
                let mut scenario = Scenario::new(profile, n, strategy);
                scenario.client.reuse = reuse;
                scenario.tls = Some(version);
                scenario.deadline = Some(Duration::from_secs(20));
                let output = run(&scenario);
                let fresh = (2.0 + rounds) * RTT_MS + DELAY_MS;
                for (i, ms) in latencies_ms(&output).into_iter().enumerate() {
                    let opens = reuse == ClientReuse::PerRequest || i == 0;
                    let ideal = if opens { fresh } else { RTT_MS + DELAY_MS };
                    assert_near(ms, ideal, &format!("{strategy} {version:?} {reuse:?} #{i}"));
                }
                let handshakes = output.ledger.connection_entries.iter();
                assert!(handshakes.clone().all(|c| c.tls_done_us.is_some()));
                assert_eq!(
                    handshakes.count() as u64,
                    if opens_each(reuse) { n } else { 1 }
                );
            }
        }
    }
}

fn opens_each(reuse: ClientReuse) -> bool {
    reuse == ClientReuse::PerRequest
}
