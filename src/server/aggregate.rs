//! The aggregate: what a long-lived `fanout serve` keeps instead of one entry per request.
//!
//! A bounded run (`run`, `compare`, `claims`, `sweep`) keeps every [`LedgerEntry`],
//! because its figures join the client's samples request by request. A server that any
//! client may load for hours cannot: at 18,000 requests a second, ~78 bytes an entry
//! is 5 MB more every minute, for ever. An aggregating ledger folds each entry into
//! figures as it is recorded, in memory that does not grow with the requests:
//!
//! - requests received, abandoned, and answered per status;
//! - HdrHistograms of server time (arrival to answer) and of the overhead beyond the
//!   injected delay ([`MicrosHistogram`], 3 significant digits);
//! - the first and last arrival, for the spread;
//! - the busiest sliding second of arrivals, to the millisecond ([`BusiestSecond`]).
//!
//! The peak in flight cannot be derived from entries that are written when requests
//! finish; the ledger keeps it as a gauge the handler raises ([`super::ledger::Ledger`]).
//!
//! Read next: [`super::ledger`], which decides whether a server records or aggregates.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ledger::LedgerEntry;
use crate::measure::{MicrosHistogram, Percentiles};

/// What `fanout serve` reports when it stops, aggregated while it served.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AggregateSummary {
    /// Requests that reached the server.
    pub received: u64,
    /// Requests the client dropped before their answer (cancelled or timed out).
    pub abandoned: u64,
    /// Requests answered, per status.
    pub statuses: BTreeMap<u16, u64>,
    /// TCP connections the server accepted (`None` when the engine cannot count them).
    pub connections: Option<u64>,
    /// The most requests admitted at the same moment (`None` when the engine holds
    /// requests out of fanout's sight).
    pub peak_in_flight: Option<u64>,
    /// TLS handshakes that did not finish (failed, timed out or abandoned half-way).
    #[serde(skip_serializing_if = "is_zero")]
    pub tls_failed: u64,
    /// The most requests that arrived within any one-second window that starts on a
    /// millisecond (see [`BusiestSecond`]).
    pub max_per_second: u64,
    /// Time between the first and the last arrival, in ms.
    pub arrival_spread_ms: f64,
    /// Server time of answered requests, arrival to answer, in ms.
    pub server_ms: Percentiles,
    /// Server time beyond the injected delay (reading, routing, timer lag, writing), ms.
    pub overhead_ms: Percentiles,
    /// Requests whose answer the profile's stall held.
    #[serde(skip_serializing_if = "is_zero")]
    pub stalled: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// The running figures of an aggregating ledger. One `add` per request, under the
/// ledger's one lock; nothing in it grows with the number of requests.
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    received: u64,
    abandoned: u64,
    /// At most one key per status code a profile can answer with.
    statuses: BTreeMap<u16, u64>,
    server: MicrosHistogram,
    overhead: MicrosHistogram,
    /// First and last arrival seen, µs since the Unix epoch.
    arrivals: Option<(u64, u64)>,
    busiest: BusiestSecond,
    stalled: u64,
}

impl Aggregate {
    /// Folds one finished (or abandoned) request in.
    pub fn add(&mut self, entry: &LedgerEntry) {
        self.received += 1;
        self.stalled += u64::from(entry.stalled_us > 0);
        match entry.status {
            None => self.abandoned += 1,
            Some(status) => {
                *self.statuses.entry(status).or_insert(0) += 1;
                let server_us = entry.finish_us.saturating_sub(entry.arrival_us);
                self.server.record(server_us);
                self.overhead
                    .record(server_us.saturating_sub(entry.held_us()));
            }
        }
        let (first, last) = self
            .arrivals
            .unwrap_or((entry.arrival_us, entry.arrival_us));
        self.arrivals = Some((first.min(entry.arrival_us), last.max(entry.arrival_us)));
        self.busiest.add(entry.arrival_us, entry.finish_us);
    }

    /// The figures so far. The ledger fills in what it counts itself (connections,
    /// peak in flight).
    pub fn summary(&self) -> AggregateSummary {
        AggregateSummary {
            received: self.received,
            abandoned: self.abandoned,
            statuses: self.statuses.clone(),
            connections: None,
            tls_failed: 0,
            peak_in_flight: None,
            max_per_second: self.busiest.max(),
            arrival_spread_ms: self
                .arrivals
                .map_or(0.0, |(first, last)| (last - first) as f64 / 1e3),
            server_ms: self.server.percentiles_ms(),
            overhead_ms: self.overhead.percentiles_ms(),
            stalled: self.stalled,
        }
    }
}

/// The busiest sliding second of arrivals, counted online in constant memory.
///
/// Arrivals are counted per millisecond in a ring. Entries come in when requests
/// finish, so out of arrival order; a millisecond is *settled* (added to the sliding
/// sum of the last 1,000 and compared with the best) only a minute after it
/// (`LAG_MS`), when the requests that arrived in it have almost surely finished. A
/// request held longer than that still counts everywhere else, but not in the busiest
/// second (it is counted in `late`). Windows start on whole milliseconds, so the figure
/// is at most the arrivals of one millisecond below the exact sliding maximum that
/// [`super::ledger::max_in_window`] finds over every entry of a bounded run.
#[derive(Debug, Clone)]
pub struct BusiestSecond {
    /// Arrivals per millisecond, at index `ms % RING_MS`.
    ring: Box<[u32]>,
    /// The first millisecond not settled yet; `None` before the first arrival.
    settled_to: Option<u64>,
    /// Arrivals in the 1,000 ms ending just before `settled_to`.
    window: u64,
    /// Arrivals counted in the ring at or after `settled_to`.
    pending: u64,
    /// The largest `window` so far.
    best: u64,
    /// Arrivals that came in after their millisecond was settled.
    late: u64,
}

impl BusiestSecond {
    const WIDTH_MS: u64 = 1_000;
    /// How long after a millisecond its arrivals are settled.
    const LAG_MS: u64 = 60_000;
    /// Must hold the window and the lag: live counts span `WIDTH_MS + LAG_MS + 1` ms.
    const RING_MS: u64 = 65_536;

    /// Counts one arrival, `now_us` being when its request finished.
    pub fn add(&mut self, arrival_us: u64, now_us: u64) {
        let (arrival, now) = (arrival_us / 1_000, now_us / 1_000);
        let due = now.saturating_sub(Self::LAG_MS);
        // Settle first, so that every live count lies within one ring's span.
        let settled_to = self.settle(due);
        if arrival < settled_to {
            self.late += 1;
            return;
        }
        self.ring[(arrival % Self::RING_MS) as usize] += 1;
        self.pending += 1;
    }

    /// Settles every millisecond before `to` (the first call starts there) and returns
    /// the first millisecond not settled.
    fn settle(&mut self, to: u64) -> u64 {
        let mut ms = *self.settled_to.get_or_insert(to);
        while ms < to {
            if self.pending == 0 && self.window == 0 {
                // The ring is empty: nothing to slide over.
                ms = to;
                break;
            }
            let count = u64::from(self.ring[(ms % Self::RING_MS) as usize]);
            self.window += count;
            self.pending -= count;
            if let Some(leaving) = ms.checked_sub(Self::WIDTH_MS) {
                let slot = &mut self.ring[(leaving % Self::RING_MS) as usize];
                self.window -= u64::from(*slot);
                *slot = 0;
            }
            self.best = self.best.max(self.window);
            ms += 1;
        }
        self.settled_to = Some(ms);
        ms
    }

    /// The most arrivals in one second so far, the unsettled milliseconds included.
    pub fn max(&self) -> u64 {
        let Some(from) = self.settled_to else {
            return 0;
        };
        let mut rest = self.clone();
        rest.settle(from + Self::LAG_MS + 1);
        rest.best
    }

    /// Arrivals that came in too late to be counted in a window.
    pub fn late(&self) -> u64 {
        self.late
    }
}

impl Default for BusiestSecond {
    fn default() -> BusiestSecond {
        BusiestSecond {
            ring: vec![0; Self::RING_MS as usize].into_boxed_slice(),
            settled_to: None,
            window: 0,
            pending: 0,
            best: 0,
            late: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ledger::max_in_window;

    fn entry(arrival_us: u64, finish_us: u64, status: Option<u16>) -> LedgerEntry {
        LedgerEntry {
            seq: None,
            copy: 0,
            endpoint: Some(0),
            connection: Some(0),
            arrival_us,
            delay_us: 0,
            stalled_us: 0,
            finish_us,
            status,
            request_bytes: 0,
            fault: None,
        }
    }

    /// A reproducible spread of arrivals: bursts and gaps, finishing out of order.
    fn arrivals(n: u64) -> Vec<(u64, u64)> {
        let start = 1_700_000_000_000_000u64;
        (0..n)
            .map(|i| {
                let burst = (i / 500) * 1_700_000; // a burst of 500 every 1.7 s
                let within = (i % 500) * (i % 7 + 1) * 300;
                let arrival = start + burst + within;
                (arrival, arrival + (i * 7919 % 900_000))
            })
            .collect()
    }

    #[test]
    fn busiest_second_matches_the_exact_sliding_window_to_a_millisecond() {
        let pairs = arrivals(20_000);
        let mut busiest = BusiestSecond::default();
        let mut by_finish = pairs.clone();
        by_finish.sort_by_key(|&(_, finish)| finish);
        for &(arrival, finish) in &by_finish {
            busiest.add(arrival, finish);
        }
        let mut sorted: Vec<u64> = pairs.iter().map(|p| p.0).collect();
        sorted.sort_unstable();
        let exact = max_in_window(&sorted, 1_000_000);
        let mut per_ms = BTreeMap::new();
        for t in &sorted {
            *per_ms.entry(t / 1_000).or_insert(0u64) += 1;
        }
        let busiest_ms = per_ms.values().copied().max().unwrap_or(0);
        let online = busiest.max();
        assert!(
            online <= exact && online + busiest_ms >= exact,
            "online {online}, exact {exact}"
        );
        assert_eq!(busiest.late(), 0);
    }

    #[test]
    fn a_request_held_past_the_lag_is_late_and_an_idle_gap_is_skipped() {
        let mut busiest = BusiestSecond::default();
        let hour = 3_600_000_000;
        for i in 0..10 {
            busiest.add(1_000 * i, 1_000 * i + 10);
        }
        // An hour later: a request that arrived at the start finishes only now.
        busiest.add(0, hour);
        busiest.add(hour, hour + 5);
        assert_eq!(busiest.late(), 1);
        assert_eq!(busiest.max(), 10);
    }

    #[test]
    fn aggregate_counts_statuses_abandoned_and_server_time() {
        let mut aggregate = Aggregate::default();
        let mut slow = entry(0, 120_000, Some(200));
        slow.delay_us = 100_000;
        aggregate.add(&slow);
        aggregate.add(&entry(10_000, 10_050, Some(429)));
        aggregate.add(&entry(20_000, 70_000, None));
        let summary = aggregate.summary();
        assert_eq!(summary.received, 3);
        assert_eq!(summary.abandoned, 1);
        assert_eq!(summary.statuses, BTreeMap::from([(200, 1), (429, 1)]));
        assert_eq!(summary.max_per_second, 3);
        assert_eq!(summary.arrival_spread_ms, 20.0);
        // 3 significant digits: 120 ms and 50 µs come back within 0.1 %.
        assert!((summary.server_ms.max - 120.0).abs() < 0.2, "{summary:?}");
        assert!((summary.server_ms.p50 - 0.05).abs() < 0.001, "{summary:?}");
        assert!((summary.overhead_ms.max - 20.0).abs() < 0.05, "{summary:?}");
    }
}
