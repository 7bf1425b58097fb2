//! The ledger: the mock API's own record of everything it served.
//!
//! Client-side timings say how long a request *seemed* to take; the ledger says what the
//! server actually saw: when each request arrived, which delay it was given, when its
//! answer left, with which status, and on which TCP connection. Every figure fanout
//! reports about the server (requests received, peak in-flight, the busiest one-second
//! window, connections opened) is derived from these entries, never counted twice.
//!
//! Times are microseconds since the Unix epoch, so a client in another process (or
//! another language) can line its own timestamps up with the server's.
//!
//! Read next: [`crate::server`] for how entries are written, [`crate::measure`] for the
//! client's side of the same requests.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::fault::FaultKind;

/// One request, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The client's request number (the `seq` query parameter), when it sent one.
    pub seq: Option<u64>,
    /// Index of the endpoint that answered, `None` when no endpoint matched.
    pub endpoint: Option<u16>,
    /// Which accepted TCP connection carried it (0, 1, 2, … in accept order); `None`
    /// when the engine cannot tell (wiremock).
    pub connection: Option<u64>,
    /// When the request's head and body had been read, µs since the Unix epoch.
    pub arrival_us: u64,
    /// The delay the server chose for it, in µs.
    pub delay_us: u64,
    /// When the answer was handed to the connection (or the client went away), µs.
    pub finish_us: u64,
    /// The status sent; `None` when no answer went out (the client went away, or the
    /// server dropped the connection on purpose).
    pub status: Option<u16>,
    /// Bytes of request body received (a POST's JSON).
    #[serde(default)]
    pub request_bytes: u64,
    /// The fault the server served this request, if any.
    #[serde(default)]
    pub fault: Option<FaultKind>,
}

/// A copy of the ledger taken after a run: every entry plus the connection count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    /// Every request the server received, in the order they finished.
    pub entries: Vec<LedgerEntry>,
    /// TCP connections accepted since the server started; `None` when the engine
    /// cannot count them (wiremock).
    pub connections: Option<u64>,
}

/// The live ledger, shared by every connection task of one server.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Finished entries. One short lock per request: a request pushes its entry once,
    /// after its answer is ready, so the lock is never held across an await.
    entries: Mutex<Vec<LedgerEntry>>,
    /// Connections accepted, counted in the accept loop (wiremock has no hook for this,
    /// which is why fanout accepts connections itself).
    connections: AtomicU64,
    /// False for engines that accept connections out of fanout's sight.
    counts_connections: bool,
}

impl Ledger {
    /// A ledger for an engine whose accept loop counts connections.
    pub fn counting_connections() -> Ledger {
        Ledger {
            counts_connections: true,
            ..Ledger::default()
        }
    }

    /// Counts one accepted connection and returns its number.
    pub fn connection_opened(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed)
    }

    /// Records one finished (or abandoned) request.
    pub fn record(&self, entry: LedgerEntry) {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(entry);
    }

    /// A copy of everything recorded so far.
    pub fn snapshot(&self) -> LedgerRecord {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        LedgerRecord {
            entries,
            connections: self
                .counts_connections
                .then(|| self.connections.load(Ordering::Relaxed)),
        }
    }
}

/// Microseconds since the Unix epoch, the ledger's clock.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_micros() as u64
}

/// The server-side figures of one run, derived from a [`LedgerRecord`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSummary {
    /// Requests that reached the server.
    pub received: u64,
    /// Requests the client dropped before their answer (cancelled or timed out).
    pub abandoned: u64,
    /// The most requests the server held at the same moment.
    pub peak_in_flight: u64,
    /// The most requests that arrived within any sliding one-second window.
    pub max_per_second: u64,
    /// TCP connections the server accepted (`null` when the engine cannot count them).
    pub connections: Option<u64>,
    /// Time between the first and the last arrival, in ms: how long the client took to
    /// get every request to the server.
    pub arrival_spread_ms: f64,
    /// The 99th percentile of time spent beyond the injected delay (reading, routing,
    /// timer lag, writing), in ms. When this grows, the server is the bottleneck.
    pub overhead_p99_ms: f64,
}

impl LedgerRecord {
    /// Derives the server-side figures.
    pub fn summary(&self) -> ServerSummary {
        let entries = &self.entries;
        let arrivals: Vec<u64> = sorted(entries.iter().map(|e| e.arrival_us));
        let overheads: Vec<u64> = sorted(
            entries
                .iter()
                .filter(|e| e.status.is_some())
                .map(|e| (e.finish_us - e.arrival_us).saturating_sub(e.delay_us)),
        );
        let spread = match (arrivals.first(), arrivals.last()) {
            (Some(first), Some(last)) => (last - first) as f64 / 1e3,
            _ => 0.0,
        };
        ServerSummary {
            received: entries.len() as u64,
            abandoned: entries.iter().filter(|e| e.status.is_none()).count() as u64,
            peak_in_flight: peak_in_flight(entries),
            max_per_second: max_in_window(&arrivals, 1_000_000),
            connections: self.connections,
            arrival_spread_ms: spread,
            overhead_p99_ms: percentile(&overheads, 0.99) as f64 / 1e3,
        }
    }
}

fn sorted(values: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut v: Vec<u64> = values.collect();
    v.sort_unstable();
    v
}

/// The value below which `q` of the sorted values fall (nearest rank).
fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The most requests held at once: a sweep over arrivals (+1) and finishes (−1). A
/// finish and an arrival at the same microsecond did not overlap, so finishes go first.
pub fn peak_in_flight(entries: &[LedgerEntry]) -> u64 {
    let mut events: Vec<(u64, i8)> = Vec::with_capacity(entries.len() * 2);
    for e in entries {
        events.push((e.arrival_us, 1));
        events.push((e.finish_us, -1));
    }
    events.sort_unstable();
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, step) in events {
        now += i64::from(step);
        peak = peak.max(now);
    }
    peak as u64
}

/// The most sorted timestamps inside any window `[t, t + width)`.
pub fn max_in_window(sorted: &[u64], width: u64) -> u64 {
    let mut best = 0;
    let mut first = 0;
    for (last, &t) in sorted.iter().enumerate() {
        while t - sorted[first] >= width {
            first += 1;
        }
        best = best.max(last - first + 1);
    }
    best as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(arrival_ms: u64, finish_ms: u64) -> LedgerEntry {
        LedgerEntry {
            seq: None,
            endpoint: Some(0),
            connection: Some(0),
            arrival_us: arrival_ms * 1000,
            delay_us: 0,
            finish_us: finish_ms * 1000,
            status: Some(200),
            request_bytes: 0,
            fault: None,
        }
    }

    #[test]
    fn peak_counts_overlaps_and_not_touching_ends() {
        let entries = [entry(0, 10), entry(5, 15), entry(10, 20), entry(12, 13)];
        // At 12 ms: the second, third and fourth are open; the first ended at 10.
        assert_eq!(peak_in_flight(&entries), 3);
        assert_eq!(peak_in_flight(&[]), 0);
    }

    #[test]
    fn sliding_window_finds_the_busiest_second() {
        let arrivals = [0, 100, 900, 1000, 1050, 1500, 1999, 2999];
        let us: Vec<u64> = arrivals.iter().map(|ms| ms * 1000).collect();
        // [1000, 2000) holds 1000, 1050, 1500, 1999.
        assert_eq!(max_in_window(&us, 1_000_000), 4);
    }

    #[test]
    fn summary_separates_abandoned_requests_and_overhead() {
        let mut slow = entry(0, 120);
        slow.delay_us = 100_000;
        let mut dropped = entry(0, 50);
        dropped.status = None;
        let record = LedgerRecord {
            entries: vec![slow, dropped],
            connections: Some(2),
        };
        let summary = record.summary();
        assert_eq!(summary.received, 2);
        assert_eq!(summary.abandoned, 1);
        assert_eq!(summary.connections, Some(2));
        assert_eq!(summary.overhead_p99_ms, 20.0);
    }
}
