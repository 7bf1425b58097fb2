//! The ledger: the mock API's own record of everything it served.
//!
//! Client-side timings say how long a request *seemed* to take; the ledger says what the
//! server actually saw: when each request arrived, which delay it was given, when its
//! answer left, with which status, and on which TCP connection. Every figure fanout
//! reports about the server (requests received, peak in-flight, the busiest one-second
//! window, connections opened) is derived from these entries, never counted twice.
//!
//! That holds for bounded runs, whose ledger records every entry. The long-lived
//! `fanout serve` aggregates instead ([`LedgerMode`], [`super::aggregate`]): the same
//! figures, folded in as requests finish, in memory that stays flat.
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

use super::aggregate::{Aggregate, AggregateSummary};
use super::fault::FaultKind;
use super::tls::Handshake;

/// One request, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The client's request number (the `seq` query parameter), when it sent one.
    pub seq: Option<u64>,
    /// Which copy of request `seq` this was (the `copy` query parameter): 0 for the
    /// request itself, 1, 2, … for the hedges and replicas a strategy sent beside it.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub copy: u32,
    /// Index of the endpoint that answered, `None` when no endpoint matched.
    pub endpoint: Option<u16>,
    /// Which accepted TCP connection carried it (0, 1, 2, … in accept order); `None`
    /// when the engine cannot tell (wiremock).
    pub connection: Option<u64>,
    /// When the request's head and body had been read, µs since the Unix epoch.
    pub arrival_us: u64,
    /// The delay the server chose for it, in µs.
    pub delay_us: u64,
    /// How long a server-wide stall held the answer beyond its delay, µs
    /// ([`crate::server::stall`]); 0 when none did.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stalled_us: u64,
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

fn is_zero_u32(value: &u32) -> bool {
    *value == 0
}

impl LedgerEntry {
    /// How long the server meant to hold it: its delay, and the stall's hold.
    pub fn held_us(&self) -> u64 {
        self.delay_us + self.stalled_us
    }
}

/// One accepted connection, as the server saw it: the set-up phases a request
/// waterfall draws before the first request (times in µs since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEntry {
    /// The connection's number, as [`LedgerEntry::connection`] names it.
    pub id: u64,
    /// When the kernel handed the connection to the accept loop (its TCP handshake
    /// done at loopback speed).
    pub accepted_us: u64,
    /// When the client's first bytes reached the server through the emulated link;
    /// `None` on loopback, where nothing holds them (they follow the accept at once),
    /// and for a connection that never sent any.
    pub first_byte_us: Option<u64>,
    /// When the TLS handshake finished; `None` over plain HTTP.
    pub tls_done_us: Option<u64>,
    /// The protocol negotiated (ALPN over TLS, e.g. `h2`); `None` when none was.
    pub protocol: Option<String>,
    /// Whether the TLS handshake resumed an earlier session; `None` over plain HTTP and
    /// in ledgers written before it was recorded.
    #[serde(default)]
    pub resumed: Option<bool>,
}

/// A copy of the ledger taken after a run: every entry plus the connection count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerRecord {
    /// Every request the server received, in the order they finished.
    pub entries: Vec<LedgerEntry>,
    /// TCP connections accepted since the server started; `None` when the engine
    /// cannot count them (wiremock).
    pub connections: Option<u64>,
    /// Every connection accepted, in accept order (empty when the engine cannot see
    /// them).
    #[serde(default)]
    pub connection_entries: Vec<ConnectionEntry>,
    /// Connections whose TLS handshake failed, timed out or was abandoned half-way:
    /// they carried no request, so no entry counts them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tls_failed: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// What a ledger keeps: the one decision between a bounded run and a server that may
/// run for hours. The handler writes the same way in both; only what is kept differs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LedgerMode {
    /// Every entry, for the whole server's life: what `run`, `compare`, `claims` and
    /// `sweep` need, since their figures join the ledger request by request. They start
    /// a fresh server per run, so this is bounded by one run's requests.
    #[default]
    Recording,
    /// Running figures only ([`Aggregate`]), in memory that does not grow with the
    /// requests: for `fanout serve`, which any client may load for as long as it likes.
    Aggregating,
}

/// The live ledger, shared by every connection task of one server.
#[derive(Debug)]
pub struct Ledger {
    /// What is kept. One short lock per request either way: a request writes its entry
    /// once, after its answer is ready, so the lock is never held across an await.
    kept: Kept,
    /// Connections accepted, counted in the accept loop (wiremock has no hook for this,
    /// which is why fanout accepts connections itself).
    connections: AtomicU64,
    /// One entry per accepted connection, for a recording ledger only: a server that
    /// aggregates (`serve`) may accept connections for hours, and keeps none of them.
    /// Its own lock: connections open while requests finish.
    connection_entries: Option<Mutex<Vec<ConnectionEntry>>>,
    /// The most requests admitted at once, raised by the handler as it admits them
    /// (entries are written when requests finish, too late to tell what overlapped).
    peak_in_flight: AtomicU64,
    /// False for engines that accept connections and hold requests out of fanout's
    /// sight (wiremock): no connection count, no live peak in flight.
    own_engine: bool,
    /// TLS handshakes that did not finish (failed, timed out, abandoned half-way).
    tls_failed: AtomicU64,
}

#[derive(Debug)]
enum Kept {
    Entries(Mutex<Vec<LedgerEntry>>),
    /// Boxed: the histograms' headers make it ten times the size of the other.
    Aggregate(Box<Mutex<Aggregate>>),
}

impl Ledger {
    /// An empty ledger that keeps what `mode` says. `own_engine`: fanout's accept loop
    /// and handler serve, so connections and requests in flight are in sight.
    pub fn new(mode: LedgerMode, own_engine: bool) -> Ledger {
        let kept = match mode {
            LedgerMode::Recording => Kept::Entries(Mutex::default()),
            LedgerMode::Aggregating => Kept::Aggregate(Box::default()),
        };
        Ledger {
            connection_entries: (mode == LedgerMode::Recording).then(Mutex::default),
            kept,
            connections: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            own_engine,
            tls_failed: AtomicU64::new(0),
        }
    }

    /// What this ledger keeps.
    pub fn mode(&self) -> LedgerMode {
        match self.kept {
            Kept::Entries(_) => LedgerMode::Recording,
            Kept::Aggregate(_) => LedgerMode::Aggregating,
        }
    }

    /// Counts one accepted connection and returns its number. A recording ledger
    /// notes when, under the same lock that numbers it, so entry `id` sits at index `id`.
    pub fn connection_opened(&self) -> u64 {
        let Some(entries) = &self.connection_entries else {
            return self.connections.fetch_add(1, Ordering::Relaxed);
        };
        let mut entries = lock(entries);
        let id = self.connections.fetch_add(1, Ordering::Relaxed);
        entries.push(ConnectionEntry {
            id,
            accepted_us: now_us(),
            first_byte_us: None,
            tls_done_us: None,
            protocol: None,
            resumed: None,
        });
        id
    }

    /// Changes what the ledger knows of connection `id` (its first byte, its TLS
    /// handshake); nothing for an aggregating ledger, which keeps no connections.
    pub fn update_connection(&self, id: u64, change: impl FnOnce(&mut ConnectionEntry)) {
        let Some(entries) = &self.connection_entries else {
            return;
        };
        let mut entries = lock(entries);
        if let Some(entry) = usize::try_from(id).ok().and_then(|i| entries.get_mut(i)) {
            change(entry);
        }
    }

    /// Notes that connection `id` finished its TLS handshake at `tls_done_us`, and what
    /// the handshake negotiated.
    pub fn connection_tls_done(&self, id: u64, tls_done_us: u64, handshake: Handshake) {
        self.update_connection(id, |entry| {
            entry.tls_done_us = Some(tls_done_us);
            entry.protocol = Some(handshake.protocol.to_string());
            entry.resumed = Some(handshake.resumed);
        });
    }

    /// Counts one TLS handshake that did not finish.
    pub fn tls_handshake_failed(&self) {
        self.tls_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// TLS handshakes that did not finish so far.
    pub fn tls_failed(&self) -> u64 {
        self.tls_failed.load(Ordering::Relaxed)
    }

    /// Notes that `now` requests are held at once. Read first: once the peak is
    /// reached, requests only read the shared line instead of all writing it.
    pub fn in_flight(&self, now: u64) {
        if now > self.peak_in_flight.load(Ordering::Relaxed) {
            self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        }
    }

    /// Records one finished (or abandoned) request.
    pub fn record(&self, entry: LedgerEntry) {
        match &self.kept {
            Kept::Entries(entries) => lock(entries).push(entry),
            Kept::Aggregate(aggregate) => lock(aggregate).add(&entry),
        }
    }

    /// A copy of every entry recorded so far; `None` for an aggregating ledger, which
    /// keeps none.
    pub fn snapshot(&self) -> Option<LedgerRecord> {
        let Kept::Entries(entries) = &self.kept else {
            return None;
        };
        Some(LedgerRecord {
            entries: lock(entries).clone(),
            connections: self.connection_count(),
            connection_entries: self
                .connection_entries
                .as_ref()
                .filter(|_| self.own_engine)
                .map(|c| lock(c).clone())
                .unwrap_or_default(),
            tls_failed: self.tls_failed(),
        })
    }

    /// The running figures: from the aggregate, or from a recording ledger's entries.
    pub fn aggregate_summary(&self) -> AggregateSummary {
        let Kept::Aggregate(aggregate) = &self.kept else {
            return self.snapshot().unwrap_or_default().aggregate_summary();
        };
        AggregateSummary {
            connections: self.connection_count(),
            peak_in_flight: self
                .own_engine
                .then(|| self.peak_in_flight.load(Ordering::Relaxed)),
            tls_failed: self.tls_failed(),
            ..lock(aggregate).summary()
        }
    }

    fn connection_count(&self) -> Option<u64> {
        self.own_engine
            .then(|| self.connections.load(Ordering::Relaxed))
    }
}

/// A lock that a panicking holder did not spoil: every write leaves the data whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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
    /// Of those, the ones whose TLS handshake resumed an earlier session (`null` over
    /// plain HTTP).
    #[serde(default)]
    pub resumed_connections: Option<u64>,
    /// Time between the first and the last arrival, in ms: how long the client took to
    /// get every request to the server.
    pub arrival_spread_ms: f64,
    /// The 99th percentile of time spent beyond the injected delay (reading, routing,
    /// timer lag, writing), in ms. When this grows, the server is the bottleneck.
    pub overhead_p99_ms: f64,
    /// Requests whose answer a server-wide stall held ([`crate::server::stall`]).
    #[serde(default)]
    pub stalled: u64,
}

impl LedgerRecord {
    /// The entries of requests `0..k` (by their `seq`), and the connections they came
    /// on: what the server saw of a sequential run's first `k` requests
    /// ([`crate::output::RunOutput::first_requests`]). The connection count is theirs
    /// when the engine counts connections.
    pub fn first_requests(&self, k: u64) -> LedgerRecord {
        let entries: Vec<LedgerEntry> = self
            .entries
            .iter()
            .filter(|e| e.seq.is_some_and(|seq| seq < k))
            .copied()
            .collect();
        let used: std::collections::BTreeSet<u64> =
            entries.iter().filter_map(|e| e.connection).collect();
        LedgerRecord {
            connections: self.connections.map(|_| used.len() as u64),
            connection_entries: self
                .connection_entries
                .iter()
                .filter(|c| used.contains(&c.id))
                .cloned()
                .collect(),
            tls_failed: 0,
            entries,
        }
    }

    /// Derives the server-side figures.
    pub fn summary(&self) -> ServerSummary {
        let entries = &self.entries;
        let arrivals: Vec<u64> = sorted(entries.iter().map(|e| e.arrival_us));
        let overheads: Vec<u64> = sorted(
            entries
                .iter()
                .filter(|e| e.status.is_some())
                .map(|e| (e.finish_us - e.arrival_us).saturating_sub(e.held_us())),
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
            resumed_connections: self.resumed_connections(),
            arrival_spread_ms: spread,
            overhead_p99_ms: percentile(&overheads, 0.99) as f64 / 1e3,
            stalled: entries.iter().filter(|e| e.stalled_us > 0).count() as u64,
        }
    }
}

impl LedgerRecord {
    /// The first request's arrival, µs since the Unix epoch (0 for none): where a run
    /// whose client kept no wall clock of its own (a peer, a load tool) starts.
    pub fn first_arrival_us(&self) -> u64 {
        self.entries.iter().map(|e| e.arrival_us).min().unwrap_or(0)
    }

    /// Connections whose handshake was resumed; `None` when none had a TLS handshake.
    pub fn resumed_connections(&self) -> Option<u64> {
        let handshakes = self.connection_entries.iter().filter_map(|c| c.resumed);
        let (mut any, mut resumed) = (false, 0);
        for was_resumed in handshakes {
            any = true;
            resumed += u64::from(was_resumed);
        }
        any.then_some(resumed)
    }

    /// The figures an aggregating ledger would have kept of these entries, with the
    /// exact peak in flight.
    pub fn aggregate_summary(&self) -> AggregateSummary {
        let mut aggregate = Aggregate::default();
        self.entries.iter().for_each(|e| aggregate.add(e));
        AggregateSummary {
            connections: self.connections,
            peak_in_flight: Some(peak_in_flight(&self.entries)),
            tls_failed: self.tls_failed,
            ..aggregate.summary()
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
            copy: 0,
            endpoint: Some(0),
            connection: Some(0),
            arrival_us: arrival_ms * 1000,
            delay_us: 0,
            stalled_us: 0,
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
            ..LedgerRecord::default()
        };
        let summary = record.summary();
        assert_eq!(summary.received, 2);
        assert_eq!(summary.abandoned, 1);
        assert_eq!(summary.connections, Some(2));
        assert_eq!(summary.overhead_p99_ms, 20.0);
    }
}
