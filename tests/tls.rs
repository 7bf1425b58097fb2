//! TLS on the mock API, end to end: both clients succeed over TLS 1.3 and 1.2 and the
//! server's ledger sees the negotiated protocol; a client that does not trust the
//! certificate ends every request as `tls`; a handshake abandoned half-way is counted;
//! a shared client resumes its session on later connections when the server allows it.
//! No timing is asserted.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use fanout::server::KeepAlive;
use fanout::server::ledger::LedgerRecord;
use fanout::server::tls::{SessionResumption, TlsVersion};
use fanout::strategy::RunClock;
use fanout::{ClientReuse, HttpVersion, MockApi, Outcome, Placement, Scenario, Strategy};

/// A small TLS scenario: `n` requests answered after 2 ms.
fn tls_scenario(strategy: Strategy, version: TlsVersion, http: HttpVersion) -> Scenario {
    let mut scenario = common::scenario(strategy, 12, "2ms");
    scenario.tls = Some(version);
    scenario.client.http = http;
    scenario.client.threads = 4;
    scenario
}

/// Runs `scenario` against a fresh server at `placement` (no calibration: only what the
/// server saw matters here).
fn run_on_fresh(scenario: &Scenario, placement: &Placement) -> fanout::RunOutput {
    let mut server = MockApi::start(&scenario.server_config(), placement).expect("starts");
    assert!(
        server.url().starts_with("https://127.0.0.1:"),
        "{}",
        server.url()
    );
    assert!(server.ca_certificate().is_some());
    fanout::run_on(scenario, &mut server, Arc::new(AtomicU64::new(0))).expect("runs")
}

/// Every request ended as exactly one outcome, each seq once.
fn assert_each_request_once(samples: &[fanout::Sample], n: u64) {
    let mut seqs: Vec<u64> = samples.iter().map(|s| s.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..n).collect::<Vec<_>>());
}

/// Every request of the run was answered.
fn all_ok(output: &fanout::RunOutput) -> bool {
    output
        .measurements
        .samples
        .iter()
        .all(|s| s.outcome == Outcome::Ok)
}

fn protocols(ledger: &LedgerRecord) -> Vec<&str> {
    ledger
        .connection_entries
        .iter()
        .map(|c| c.protocol.as_deref().unwrap_or("none"))
        .collect()
}

#[test]
fn both_clients_succeed_over_tls_1_3_and_1_2_and_the_server_sees_the_protocol() {
    let cases = [
        (Strategy::AsyncConcurrent, HttpVersion::Http1, "http/1.1"),
        (Strategy::AsyncConcurrent, HttpVersion::Http2, "h2"),
        (Strategy::SyncThreads, HttpVersion::Http1, "http/1.1"),
        (Strategy::SyncSequential, HttpVersion::Http1, "http/1.1"),
    ];
    for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
        for (strategy, http, protocol) in cases {
            let scenario = tls_scenario(strategy, version, http);
            let output = run_on_fresh(&scenario, &Placement::InProcess);
            let samples = &output.measurements.samples;
            assert_each_request_once(samples, scenario.n);
            assert!(
                samples.iter().all(|s| s.outcome == Outcome::Ok),
                "{version} {strategy} {http:?}: {samples:?}"
            );
            let ledger = &output.ledger;
            assert_eq!(ledger.tls_failed, 0);
            assert!(!ledger.connection_entries.is_empty());
            assert!(
                ledger
                    .connection_entries
                    .iter()
                    .all(|c| c.tls_done_us.is_some()),
                "every connection finished its handshake"
            );
            assert!(
                protocols(ledger).iter().all(|p| *p == protocol),
                "{version} {strategy} {http:?}: {:?}",
                protocols(ledger)
            );
            for connection in &ledger.connection_entries {
                assert!(connection.tls_done_us.unwrap() >= connection.accepted_us);
            }
            if http == HttpVersion::Http2 {
                // One shared client, one connection (two if hyper's pool races).
                assert!(ledger.connections.unwrap() <= 2, "{:?}", ledger.connections);
            }
        }
    }
}

/// Which connections the server saw resumed, in order, when a server with keep-alive
/// off (a connection per request) answers 4 requests one after another.
fn resumed_per_connection(
    strategy: Strategy,
    version: TlsVersion,
    reuse: ClientReuse,
    resumption: SessionResumption,
) -> Vec<Option<bool>> {
    let mut scenario = tls_scenario(strategy, version, HttpVersion::Http1);
    scenario.n = 4;
    scenario.client.reuse = reuse;
    scenario.tls_resumption = resumption;
    scenario.server_keep_alive = KeepAlive::Off;
    let output = run_on_fresh(&scenario, &Placement::InProcess);
    assert!(all_ok(&output));
    assert_eq!(
        output.ledger.connections,
        Some(4),
        "one connection per request"
    );
    output
        .ledger
        .connection_entries
        .iter()
        .map(|c| c.resumed)
        .collect()
}

#[test]
fn reqwest_shared_resumes_its_session_on_later_connections_only_when_the_server_allows() {
    let first_only_full = vec![Some(false), Some(true), Some(true), Some(true)];
    let all_full = vec![Some(false); 4];
    let strategy = Strategy::AsyncSequential;
    for version in [TlsVersion::Tls13, TlsVersion::Tls12] {
        let case = |reuse, resumption| resumed_per_connection(strategy, version, reuse, resumption);
        let on = case(ClientReuse::Shared, SessionResumption::On);
        assert_eq!(on, first_only_full, "{version}, resumption on");
        let off = case(ClientReuse::Shared, SessionResumption::Off);
        assert_eq!(off, all_full, "{version}, resumption off");
        let per_request = case(ClientReuse::PerRequest, SessionResumption::On);
        assert_eq!(per_request, all_full, "{version}, a new client each time");
        // ureq, as fanout drives it, never resumes (see the last test).
        let sync = resumed_per_connection(
            Strategy::SyncSequential,
            version,
            ClientReuse::Shared,
            SessionResumption::On,
        );
        assert_eq!(sync, all_full, "{version}, ureq");
    }
}

#[test]
fn a_child_server_sends_its_certificate_to_the_parent() {
    let placement = Placement::Child {
        fanout_exe: env!("CARGO_BIN_EXE_fanout").into(),
    };
    for strategy in [Strategy::AsyncConcurrent, Strategy::SyncSequential] {
        let scenario = tls_scenario(strategy, TlsVersion::Tls13, HttpVersion::Http1);
        let output = run_on_fresh(&scenario, &placement);
        assert!(
            output
                .measurements
                .samples
                .iter()
                .all(|s| s.outcome == Outcome::Ok),
            "{strategy}"
        );
        assert!(!output.ledger.connection_entries.is_empty());
    }
}

#[test]
fn a_client_that_does_not_trust_the_certificate_ends_every_request_as_tls() {
    for strategy in [
        Strategy::AsyncConcurrent,
        Strategy::AsyncSequential,
        Strategy::SyncSequential,
        Strategy::SyncThreads,
    ] {
        let scenario = tls_scenario(strategy, TlsVersion::Tls13, HttpVersion::Http1);
        let mut server =
            MockApi::start(&scenario.server_config(), &Placement::InProcess).expect("starts");
        let requests = scenario.requests(server.url()).unwrap();
        // The scenario's own client options: they trust no certificate at all.
        assert!(scenario.client.trusted_ca.is_none());
        let clock = RunClock::start(Duration::from_secs(20), Default::default());
        let (samples, _) =
            fanout::strategy::execute(strategy, requests, &scenario.client, clock).unwrap();
        assert_each_request_once(&samples, scenario.n);
        assert!(
            samples.iter().all(|s| s.outcome == Outcome::Tls),
            "{strategy}: {:?}",
            samples.iter().map(|s| s.outcome).collect::<Vec<_>>()
        );
        let ledger = wait_for_failed_handshakes(&mut server, 1);
        assert!(ledger.entries.is_empty(), "no request got through");
        assert!(
            ledger
                .connection_entries
                .iter()
                .all(|c| c.tls_done_us.is_none() && c.protocol.is_none()),
            "no handshake finished"
        );
    }
}

#[test]
fn a_handshake_abandoned_half_way_is_counted_and_never_holds_the_server() {
    let scenario = tls_scenario(
        Strategy::AsyncSequential,
        TlsVersion::Tls12,
        HttpVersion::Http1,
    );
    let mut server =
        MockApi::start(&scenario.server_config(), &Placement::InProcess).expect("starts");
    let addr = server.url().trim_start_matches("https://").to_string();
    // Garbage where a ClientHello should be.
    let mut garbage = std::net::TcpStream::connect(&addr).unwrap();
    garbage
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // The start of a handshake record (type 22, TLS 1.0 framing, 200 bytes) and then
    // the client goes away.
    let mut half = std::net::TcpStream::connect(&addr).unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00])
        .unwrap();
    drop(half);
    let ledger = wait_for_failed_handshakes(&mut server, 2);
    assert_eq!(ledger.tls_failed, 2);
    assert!(ledger.entries.is_empty());
    drop(garbage);
    // The server still serves a client that trusts it.
    let output = fanout::run_on(&scenario, &mut server, Arc::new(AtomicU64::new(0))).unwrap();
    assert!(all_ok(&output));
}

/// The ledger once it has counted at least `count` failed handshakes (the server
/// notices a closed connection a moment after the client moved on), within 10 s.
fn wait_for_failed_handshakes(server: &mut MockApi, count: u64) -> LedgerRecord {
    let started = Instant::now();
    loop {
        let ledger = server.ledger().unwrap();
        if ledger.tls_failed >= count || started.elapsed() > Duration::from_secs(10) {
            assert!(ledger.tls_failed >= count, "{} failed", ledger.tls_failed);
            return ledger;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What ureq itself does, as fanout found it (ureq 3.5): an agent caches one rustls
/// config, so one session cache, but only a request on the agent's own settings fills
/// that cache. A request with settings of its own (`configure_request`, which fanout
/// needs for the run's deadline) reuses the cached config when there is one and
/// otherwise builds one for itself, with an empty session cache. So an agent whose
/// requests all carry their own settings never resumes; once one plain request has
/// filled the cache, they all do.
#[test]
fn ureq_resumes_only_after_a_request_on_the_agents_own_settings() {
    let mut config = fanout::ServerConfig::new(
        fanout::server::profile::Profile::single(common::latency("1ms")),
        1,
    );
    config.tls = Some(TlsVersion::Tls12);
    config.keep_alive = KeepAlive::Off;
    let mut server = MockApi::start(&config, &Placement::InProcess).expect("starts");
    let ca = server.ca_certificate().expect("a CA").der().to_vec();
    let agent = || -> ureq::Agent {
        let roots = vec![ureq::tls::Certificate::from_der(&ca).to_owned()];
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .unversioned_rustls_crypto_provider(provider)
            .build();
        ureq::Agent::config_builder()
            .tls_config(tls)
            .proxy(None)
            .build()
            .into()
    };
    let url = format!("{}/items", server.url());
    let with_own_settings = |agent: &ureq::Agent| {
        let request = ureq::http::Request::get(&url).body(()).expect("a request");
        let own = agent
            .configure_request(request)
            .timeout_global(Some(Duration::from_secs(5)))
            .build();
        agent.run(own).expect("an answer");
    };
    let requests_only = agent();
    (0..3).for_each(|_| with_own_settings(&requests_only));
    let plain_first = agent();
    plain_first.get(&url).call().expect("an answer");
    (0..2).for_each(|_| with_own_settings(&plain_first));
    let resumed: Vec<Option<bool>> = server
        .ledger()
        .expect("the ledger")
        .connection_entries
        .iter()
        .map(|c| c.resumed)
        .collect();
    let (requests_only, plain_first) = resumed.split_at(3);
    assert_eq!(requests_only, [Some(false); 3]);
    assert_eq!(plain_first, [Some(false), Some(true), Some(true)]);
}
