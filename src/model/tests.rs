//! The model's arithmetic on small hand-checked cases.

use super::*;

const POOLED: Connections = Connections::Pooled;
const LOOPBACK: LinkCosts = LinkCosts::LOOPBACK;

/// No overheads at all: the model's schedule alone.
pub(super) const FREE: Calibration = Calibration {
    per_request_ms: 0.0,
    first_connection_ms: 0.0,
    connect_ms: 0.0,
    connection_rate_per_s: 0.0,
};

#[test]
fn sequential_is_the_sum_and_unbounded_the_max() {
    let delays = [300.0, 100.0, 200.0];
    let seq = predict(Schedule::Sequential, &delays, &FREE, POOLED, &LOOPBACK);
    assert_eq!(seq.wall_ms, 600.0);
    assert_eq!(seq.starts_ms, vec![0.0, 300.0, 400.0]);
    assert_eq!(seq.peak_in_flight(), 1);
    let all = predict(
        Schedule::Limited { slots: 3 },
        &delays,
        &FREE,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(all.wall_ms, 300.0);
    assert_eq!(all.peak_in_flight(), 3);
}

#[test]
fn list_scheduling_takes_the_slot_that_frees_first() {
    // Two slots: 5 and 1 start at 0; 1 ends first, so 4 starts at 1 and ends at 5;
    // then 2 takes the slot free at 5 (either: both free at 5), ending at 7.
    let delays = [5.0, 1.0, 4.0, 2.0];
    let p = predict(
        Schedule::Limited { slots: 2 },
        &delays,
        &FREE,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(p.starts_ms, vec![0.0, 0.0, 1.0, 5.0]);
    assert_eq!(p.ends_ms, vec![5.0, 1.0, 5.0, 7.0]);
    assert_eq!(p.wall_ms, 7.0);
    assert_eq!(p.peak_in_flight(), 2);
}

#[test]
fn ten_requests_on_five_slots_take_two_waves() {
    let p = predict(
        Schedule::Limited { slots: 5 },
        &[100.0; 10],
        &FREE,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(p.wall_ms, 200.0);
    assert_eq!(
        p.in_flight_steps(),
        vec![(0.0, 5), (100.0, 5), (200.0, 0)],
        "the second wave starts as the first ends"
    );
}

#[test]
fn overheads_add_per_request_and_per_fresh_connection() {
    let calibration = Calibration {
        per_request_ms: 1.0,
        first_connection_ms: 0.25,
        connect_ms: 0.5,
        connection_rate_per_s: 0.0,
    };
    let seq = predict(
        Schedule::Sequential,
        &[10.0; 4],
        &calibration,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(seq.wall_ms, 44.5, "one set-up, then four exchanges");
    // Four fresh connections in a burst: the last starts after 4 × 0.5 ms.
    let burst = predict(
        Schedule::Limited { slots: 4 },
        &[10.0; 4],
        &calibration,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(burst.wall_ms, 13.0);
    // Over one HTTP/2 connection, every request waits for that one set-up only.
    let h2 = predict(
        Schedule::Limited { slots: 4 },
        &[10.0; 4],
        &calibration,
        Connections::One,
        &LOOPBACK,
    );
    assert_eq!(h2.wall_ms, 11.5);
    // A lone sequential client pays the first connection only.
    let lone = Calibration {
        connect_ms: 0.0,
        ..calibration
    };
    let seq = predict(Schedule::Sequential, &[10.0; 2], &lone, POOLED, &LOOPBACK);
    assert_eq!(seq.wall_ms, 22.25);
}

#[test]
fn a_rate_paces_starts_not_completions() {
    let p = predict(
        Schedule::Paced { interval_ms: 100.0 },
        &[250.0; 5],
        &FREE,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(p.starts_ms, vec![0.0, 100.0, 200.0, 300.0, 400.0]);
    assert_eq!(p.wall_ms, 650.0);
    assert_eq!(p.peak_in_flight(), 3);
}

#[test]
fn empty_scenarios_predict_nothing() {
    let p = predict(
        Schedule::Limited { slots: 3 },
        &[],
        &FREE,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(p.wall_ms, 0.0);
    assert_eq!(p.peak_in_flight(), 0);
}

#[test]
fn a_burst_starts_every_request_at_its_own_connection_time() {
    // Four requests at once, 1 ms per fresh connection, 2 ms delays: request 0 is
    // done at 3 ms, before request 3's connection is ready at 4 ms, yet request 3
    // still starts on its own connection, as a client spawning all four does.
    let calibration = Calibration {
        per_request_ms: 0.0,
        first_connection_ms: 0.0,
        connect_ms: 1.0,
        connection_rate_per_s: 0.0,
    };
    let p = predict(
        Schedule::Limited { slots: 4 },
        &[2.0; 4],
        &calibration,
        POOLED,
        &LOOPBACK,
    );
    assert_eq!(p.starts_ms, vec![1.0, 2.0, 3.0, 4.0]);
    assert_eq!(p.wall_ms, 6.0);
}

const CONTINENT: LinkCosts = LinkCosts {
    rtt_ms: 40.0,
    setup_round_trips: 2,
    resumed_setup_round_trips: None,
    bandwidth: crate::server::network::Bandwidth::Unlimited,
};

/// TCP + TLS 1.2 at 40 ms, a shared client whose server resumes its sessions: a full
/// set-up is 3 round trips, a resumed one 2.
const TLS12_RESUMING: LinkCosts = LinkCosts {
    setup_round_trips: 3,
    resumed_setup_round_trips: Some(2),
    ..CONTINENT
};

/// The same link with resumption off at the server.
const TLS12_FULL: LinkCosts = LinkCosts {
    resumed_setup_round_trips: None,
    ..TLS12_RESUMING
};

#[test]
fn a_fresh_connection_waits_its_round_trips_and_a_reused_one_does_not() {
    // TCP + TLS 1.3 at 40 ms: the first request costs 3 round trips and its delay,
    // the second reuses the connection: 1 round trip and its delay.
    let seq = predict(Schedule::Sequential, &[10.0; 2], &FREE, POOLED, &CONTINENT);
    assert_eq!(seq.ends_ms, vec![130.0, 180.0]);
    let per_request = predict(
        Schedule::Sequential,
        &[10.0; 2],
        &FREE,
        Connections::PerRequest,
        &CONTINENT,
    );
    assert_eq!(per_request.ends_ms, vec![130.0, 260.0]);
}

#[test]
fn round_trips_overlap_in_a_burst() {
    // Four at once on fresh connections: each waits its own round trips, side by side.
    let burst = predict(
        Schedule::Limited { slots: 4 },
        &[10.0; 4],
        &FREE,
        POOLED,
        &CONTINENT,
    );
    assert_eq!(burst.wall_ms, 130.0);
    // Two slots, four requests: the second wave reuses the first wave's connections.
    let waves = predict(
        Schedule::Limited { slots: 2 },
        &[10.0; 4],
        &FREE,
        POOLED,
        &CONTINENT,
    );
    assert_eq!(waves.wall_ms, 180.0);
    // With 1 ms of CPU per set-up, HTTP/1.1's fourth slot waits for four of them, then
    // its round trips; HTTP/2's one connection is one set-up that everyone waits for.
    let cpu = Calibration {
        connect_ms: 1.0,
        ..FREE
    };
    let h1 = predict(
        Schedule::Limited { slots: 4 },
        &[10.0; 4],
        &cpu,
        POOLED,
        &CONTINENT,
    );
    assert_eq!(h1.wall_ms, 134.0);
    let h2 = predict(
        Schedule::Limited { slots: 4 },
        &[10.0; 4],
        &cpu,
        Connections::One,
        &CONTINENT,
    );
    assert_eq!(h2.wall_ms, 131.0);
}

#[test]
fn a_paced_pool_reuses_an_idle_connection_and_opens_one_when_none_is() {
    // Every 100 ms, 10 ms delays at 40 ms: the first request opens (130 ms), so the
    // second, at 100 ms, finds none idle and opens a second; the third, at 200 ms,
    // reuses the first.
    let p = predict(
        Schedule::Paced { interval_ms: 100.0 },
        &[10.0; 3],
        &FREE,
        POOLED,
        &CONTINENT,
    );
    assert_eq!(p.ends_ms, vec![130.0, 230.0, 250.0]);
    // Over HTTP/2 the second waits for nothing: the one connection is open at 80 ms.
    let h2 = predict(
        Schedule::Paced { interval_ms: 100.0 },
        &[10.0; 3],
        &FREE,
        Connections::One,
        &CONTINENT,
    );
    assert_eq!(h2.ends_ms, vec![130.0, 150.0, 250.0]);
}

#[test]
fn the_link_costs_follow_the_scenarios_network_and_tls() {
    use crate::server::latency::Latency;
    use crate::server::network::Network;
    use crate::server::profile::Profile;
    use crate::server::tls::TlsVersion;
    let mut scenario = Scenario::new(
        Profile::single(Latency::Fixed(std::time::Duration::from_millis(10))),
        4,
        Strategy::AsyncConcurrent,
    );
    assert_eq!(LinkCosts::of(&scenario), LOOPBACK, "the default network");
    scenario.tls = Some(TlsVersion::Tls13);
    assert_eq!(
        LinkCosts::of(&scenario),
        LOOPBACK,
        "TLS on loopback: no round trips"
    );
    scenario.profile.network = Network {
        rtt: std::time::Duration::from_millis(40),
        ..Network::default()
    };
    let costs = LinkCosts::of(&scenario);
    assert_eq!((costs.rtt_ms, costs.setup_round_trips), (40.0, 2));
    scenario.tls = Some(TlsVersion::Tls12);
    assert_eq!(LinkCosts::of(&scenario).setup_round_trips, 3);
    scenario.tls = None;
    assert_eq!(LinkCosts::of(&scenario).setup_round_trips, 1);
    scenario.target = Some("http://127.0.0.1:8000/".to_string());
    assert_eq!(
        LinkCosts::of(&scenario),
        LOOPBACK,
        "a --target is not emulated"
    );
}

#[test]
fn a_connection_opened_after_a_finished_handshake_resumes_it() {
    // A server that closes every connection: each request opens one. The first pays
    // TCP + TLS 1.2 + the request (4 round trips) and its delay; the later ones resume
    // (3 round trips), or with resumption off pay 4 again.
    let each_fresh = |link: &LinkCosts| {
        let p = predict(
            Schedule::Sequential,
            &[10.0; 3],
            &FREE,
            Connections::PerRequest,
            link,
        );
        p.ends_ms
    };
    assert_eq!(each_fresh(&TLS12_RESUMING), vec![170.0, 300.0, 430.0]);
    assert_eq!(each_fresh(&TLS12_FULL), vec![170.0, 340.0, 510.0]);
}

#[test]
fn a_first_burst_has_no_session_to_resume_and_the_next_wave_has() {
    // Three slots, six requests, every request on a new connection: the first three
    // start together before any handshake finished (full), the next three after.
    let burst = predict(
        Schedule::Limited { slots: 3 },
        &[10.0; 6],
        &FREE,
        Connections::PerRequest,
        &TLS12_RESUMING,
    );
    assert_eq!(
        burst.ends_ms,
        vec![170.0, 170.0, 170.0, 300.0, 300.0, 300.0]
    );
}

#[test]
fn a_paced_request_resumes_only_once_a_handshake_has_finished() {
    // Every 100 ms: the first handshake finishes at 120 ms, so the request at 100 ms
    // still pays a full one and the one at 200 ms resumes.
    let p = predict(
        Schedule::Paced { interval_ms: 100.0 },
        &[10.0; 3],
        &FREE,
        Connections::PerRequest,
        &TLS12_RESUMING,
    );
    assert_eq!(p.ends_ms, vec![170.0, 270.0, 330.0]);
}

#[test]
fn only_a_shared_client_of_a_resuming_tls_server_resumes_and_keep_alive_off_opens_every_time() {
    use crate::server::KeepAlive;
    use crate::server::latency::Latency;
    use crate::server::network::Network;
    use crate::server::profile::Profile;
    use crate::server::tls::{SessionResumption, TlsVersion};
    use crate::strategy::ClientReuse;
    let mut scenario = Scenario::new(
        Profile::single(Latency::Fixed(std::time::Duration::from_millis(10))),
        4,
        Strategy::AsyncSequential,
    );
    scenario.profile.network = Network {
        rtt: std::time::Duration::from_millis(40),
        ..Network::default()
    };
    let resumed = |scenario: &Scenario| LinkCosts::of(scenario).resumed_setup_round_trips;
    assert_eq!(resumed(&scenario), None, "plain HTTP has no session");
    scenario.tls = Some(TlsVersion::Tls12);
    assert_eq!(
        resumed(&scenario),
        Some(2),
        "TCP + an abbreviated handshake"
    );
    scenario.tls = Some(TlsVersion::Tls13);
    assert_eq!(
        resumed(&scenario),
        Some(2),
        "TLS 1.3 resumes in one round trip too"
    );
    scenario.strategy = Strategy::SyncSequential;
    assert_eq!(resumed(&scenario), None, "ureq, as fanout drives it");
    scenario.strategy = Strategy::AsyncSequential;
    scenario.client.reuse = ClientReuse::PerRequest;
    assert_eq!(resumed(&scenario), None, "a new client has no session");
    scenario.client.reuse = ClientReuse::Shared;
    scenario.tls_resumption = SessionResumption::Off;
    assert_eq!(resumed(&scenario), None, "the server keeps no session");

    assert_eq!(Connections::of(&scenario), Connections::Pooled);
    scenario.server_keep_alive = KeepAlive::Off;
    assert_eq!(Connections::of(&scenario), Connections::PerRequest);
    scenario.client.http = crate::strategy::HttpVersion::Http2;
    assert_eq!(
        Connections::of(&scenario),
        Connections::One,
        "HTTP/2 keeps its connection"
    );
}
