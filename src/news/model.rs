//! The model of an aggregation: when each request leaves, which connection it takes and
//! when its answer is back, from the delays the server drew (its ledger), this
//! machine's calibrated overheads ([`Calibration`]) and the link's round trips
//! ([`LinkCosts`]).
//!
//! - **One after another** (the sync aggregator, one ureq agent): each request leaves
//!   when the one before is back. The agent keeps its connection, so only the first
//!   request pays the set-up (TCP's round trip, and TLS's); every request pays one
//!   round trip, its overhead and its delay. The wall is their sum.
//! - **At once** (the async aggregator, one reqwest client): every source's list leaves
//!   at the start, each opening a connection; Hacker News's stories leave together when
//!   its list is back. A story takes a connection an earlier request left idle (its own
//!   list's, at least) or opens one. The stories that find one skip the handshakes, so
//!   they reach the server first, and the server draws an endpoint's delays in arrival
//!   order: the model hands the idle connections to the stories in the order they
//!   arrived. The wall is the slowest source's chain, plus the CPU of opening the
//!   sources' connections in one burst.
//!
//! On loopback round trips and set-ups cost nothing and both reduce to the delays and
//! the overheads. A continent away they do not: the sync version pays a round trip per
//! call, thirteen in a row, while the async one pays two set-ups and two round trips
//! along Hacker News's chain.
//!
//! Read next: [`crate::claims::news`], where the model meets the measurement.

use super::Shape;
use super::mock::{self, MockSource};
use crate::model::{Calibration, Connections, LinkCosts, Pool};
use crate::server::ledger::LedgerEntry;

/// The model's answer for one aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct Modelled {
    /// The wall time, ms.
    pub wall_ms: f64,
    /// Connections the client opens.
    pub connections: u64,
    /// Per source, the waits along its chain at once, without this machine's
    /// overheads: its list's delay, round trip and set-up, and for Hacker News its last
    /// story's too: the least its chain can take (empty one after another).
    pub chain_ms: Vec<f64>,
}

/// One request, as the model needs it: when the server saw it and how long its answer
/// held the connection (its delay, and its bytes over the link's bandwidth), ms.
#[derive(Debug, Clone, Copy)]
struct Request {
    arrival_us: u64,
    busy_ms: f64,
}

/// One source's requests: its list, and for Hacker News its stories, in arrival order.
#[derive(Debug, Default)]
struct SourceRequests {
    list: Option<Request>,
    stories: Vec<Request>,
}

/// The model of an aggregation over `sources` whose requests the server recorded in
/// `entries`; `concurrent` for the async aggregator. `connections` is
/// [`Connections::Pooled`], or [`Connections::PerRequest`] against a server that closes
/// each connection after its answer.
pub fn predict(
    sources: &[MockSource],
    concurrent: bool,
    entries: &[LedgerEntry],
    calibration: &Calibration,
    link: &LinkCosts,
    connections: Connections,
) -> Modelled {
    let requests = by_source(sources, entries, link);
    let pool = Pool::new(connections, link);
    if concurrent {
        at_once(sources, &requests, calibration, pool)
    } else {
        one_after_another(&requests, calibration, pool)
    }
}

/// The ledger's entries grouped by source, each group in arrival order.
fn by_source(
    sources: &[MockSource],
    entries: &[LedgerEntry],
    link: &LinkCosts,
) -> Vec<SourceRequests> {
    let roles = mock::endpoint_roles(sources);
    let endpoints = mock::profile(sources).endpoints;
    let mut sorted: Vec<&LedgerEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.arrival_us);
    let mut requests: Vec<SourceRequests> = sources.iter().map(|_| Default::default()).collect();
    for entry in sorted {
        let Some(index) = entry.endpoint.map(usize::from) else {
            continue;
        };
        let (Some(&(source, is_story)), Some(endpoint)) = (roles.get(index), endpoints.get(index))
        else {
            continue;
        };
        let bytes = endpoint
            .body
            .as_ref()
            .map_or(endpoint.body_bytes, String::len);
        let request = Request {
            arrival_us: entry.arrival_us,
            busy_ms: entry.delay_us as f64 / 1e3 + link.transfer_ms(bytes),
        };
        let slot = &mut requests[source];
        if is_story {
            slot.stories.push(request);
        } else {
            slot.list = Some(request);
        }
    }
    requests
}

/// The sync aggregator: every request in arrival order, each leaving when the one
/// before is back, on the agent's one kept connection.
fn one_after_another(
    requests: &[SourceRequests],
    calibration: &Calibration,
    mut pool: Pool,
) -> Modelled {
    let mut all: Vec<Request> = requests
        .iter()
        .flat_map(|s| s.list.iter().chain(&s.stories).copied())
        .collect();
    all.sort_by_key(|r| r.arrival_us);
    let mut now = calibration.first_connection_ms;
    for request in all {
        now = pool.take(now) + calibration.per_request_ms + request.busy_ms;
        pool.give_back(now);
    }
    Modelled {
        wall_ms: now,
        connections: pool.opened(),
        chain_ms: Vec::new(),
    }
}

/// The async aggregator: the lists at once, then each Hacker News source's stories at
/// once when its list is back, all on one pool of connections.
fn at_once(
    sources: &[MockSource],
    requests: &[SourceRequests],
    calibration: &Calibration,
    mut pool: Pool,
) -> Modelled {
    // When the answer is back, and the waits on the way: the link's (round trip,
    // set-up) and the server's (delay, bytes).
    let exchange = |pool: &mut Pool, start: f64, r: &Request| {
        let sent = pool.take(start);
        let waits = sent - start + r.busy_ms;
        (sent + calibration.per_request_ms + r.busy_ms, waits)
    };
    let mut chains: Vec<(f64, f64)> = requests
        .iter()
        .map(|s| s.list.map_or((0.0, 0.0), |r| exchange(&mut pool, 0.0, &r)))
        .collect();
    for (&(end, _), source) in chains.iter().zip(requests) {
        if source.list.is_some() {
            pool.give_back(end);
        }
    }
    // The stories leave in the order their lists came back, each finding the
    // connections idle by then; the last story back ends its source's chain.
    let mut phased: Vec<usize> = (0..sources.len())
        .filter(|&i| sources[i].shape == Shape::HackerNews && !requests[i].stories.is_empty())
        .collect();
    phased.sort_by(|&a, &b| chains[a].0.total_cmp(&chains[b].0));
    for i in phased {
        let (start, list_waits) = chains[i];
        let stories: Vec<(f64, f64)> = requests[i]
            .stories
            .iter()
            .map(|r| exchange(&mut pool, start, r))
            .collect();
        for &(end, _) in &stories {
            pool.give_back(end);
        }
        let last = stories
            .into_iter()
            .fold((start, 0.0), |a, b| if b.0 > a.0 { b } else { a });
        chains[i] = (last.0, list_waits + last.1);
    }
    let slowest = chains.iter().map(|c| c.0).fold(0.0, f64::max);
    // Each source's first request opens a connection, in one burst.
    let burst = calibration.first_connection_ms + calibration.connect_ms * sources.len() as f64;
    Modelled {
        wall_ms: slowest + burst,
        connections: pool.opened(),
        chain_ms: chains.into_iter().map(|c| c.1).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RTT_MS: f64 = 10.0;

    /// A 10 ms link whose fresh connections wait TCP's and TLS 1.3's round trips.
    fn link() -> LinkCosts {
        LinkCosts {
            rtt_ms: RTT_MS,
            setup_round_trips: 2,
            ..LinkCosts::LOOPBACK
        }
    }

    /// The classic three's requests: NewsAPI's list, The Guardian's, Hacker News's, then
    /// its ten stories, the first arriving at the server first and the slowest.
    fn entries(guardian_ms: u64) -> Vec<LedgerEntry> {
        let entry = |endpoint: u16, arrival_us: u64, delay_ms: u64| LedgerEntry {
            seq: None,
            copy: 0,
            endpoint: Some(endpoint),
            connection: None,
            arrival_us,
            delay_us: delay_ms * 1000,
            stalled_us: 0,
            finish_us: 0,
            status: Some(200),
            request_bytes: 0,
            fault: None,
        };
        let mut entries = vec![entry(0, 1, 100), entry(1, 2, guardian_ms), entry(2, 3, 20)];
        entries.push(entry(3, 10, 30));
        entries.extend((0..9).map(|i| entry(3, 20 + i, 10)));
        entries
    }

    #[test]
    fn one_after_another_pays_one_set_up_and_a_round_trip_per_request() {
        let calibration = Calibration::default();
        let sources = MockSource::classic_three();
        let delays = 100.0 + 50.0 + 20.0 + 30.0 + 9.0 * 10.0;
        let plain = predict(
            &sources,
            false,
            &entries(50),
            &calibration,
            &LinkCosts::LOOPBACK,
            Connections::Pooled,
        );
        assert_eq!((plain.wall_ms, plain.connections), (delays, 1));
        let far = predict(
            &sources,
            false,
            &entries(50),
            &calibration,
            &link(),
            Connections::Pooled,
        );
        assert_eq!(far.wall_ms, delays + 13.0 * RTT_MS + 2.0 * RTT_MS);
        assert_eq!(far.connections, 1, "one agent keeps one connection");
        // Against a server that closes each connection, every request opens its own.
        let closing = predict(
            &sources,
            false,
            &entries(50),
            &calibration,
            &link(),
            Connections::PerRequest,
        );
        assert_eq!(closing.connections, 13);
        assert_eq!(closing.wall_ms, delays + 13.0 * 3.0 * RTT_MS);
    }

    #[test]
    fn at_once_the_first_stories_take_the_connections_left_idle() {
        let calibration = Calibration::default();
        let sources = MockSource::classic_three();
        // Lists back at 130 (NewsAPI), 80 (The Guardian) and 50 ms (Hacker News): only
        // Hacker News's own connection is idle when its stories leave, so the first
        // story reuses it and nine open their own.
        let modelled = predict(
            &sources,
            true,
            &entries(50),
            &calibration,
            &link(),
            Connections::Pooled,
        );
        assert_eq!(modelled.connections, 3 + 9);
        assert_eq!(modelled.wall_ms, 3.0 * RTT_MS + 100.0, "NewsAPI is slowest");
        assert_eq!(modelled.chain_ms[2], 3.0 * RTT_MS + 20.0 + RTT_MS + 30.0);
        // The Guardian back at 40 ms: its connection is idle too, for the second story.
        let sooner = predict(
            &sources,
            true,
            &entries(10),
            &calibration,
            &link(),
            Connections::Pooled,
        );
        assert_eq!(sooner.connections, 3 + 8);
        // On loopback the chain is the two delays.
        let plain = predict(
            &sources,
            true,
            &entries(50),
            &calibration,
            &LinkCosts::LOOPBACK,
            Connections::Pooled,
        );
        assert_eq!(plain.chain_ms[2], 20.0 + 30.0);
        assert_eq!(plain.wall_ms, 100.0);
    }
}
