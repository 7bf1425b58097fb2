//! The waterfall's rows: the client's samples joined with the server's ledger, each
//! request split into the phases `report/charts/waterfall.rs` draws.
//!
//! The client knows when a request started and when its answer was read; the server's
//! ledger knows when each connection was accepted, when its first bytes arrived
//! through the emulated link, when its TLS handshake finished, and when each request
//! arrived and its answer left. Between them every phase has two ends. What the rows
//! teach: on a shared client a connection's set-up (TCP, TLS) is paid by its first
//! request only, and a client per request pays it on every one.

use std::collections::HashMap;

use crate::output::RunOutput;
use crate::report::charts::{WaterfallGroup, WaterfallPhase, WaterfallRow, WaterfallSpan};
use crate::server::Figure;
use crate::server::ledger::{ConnectionEntry, LedgerEntry};
use crate::strategy::HttpVersion;

/// Rows a run's waterfall draws: enough to see the first connections open and the
/// reused ones follow, few enough that every row stays readable.
pub const WATERFALL_ROWS: usize = 50;

/// Why `output` has no waterfall, when it has none: the server's side of the join is
/// missing. `None` when it can be drawn.
pub fn why_no_waterfall(output: &RunOutput) -> Option<&'static str> {
    if output.scenario.target.is_some() {
        Some("a --target server keeps no ledger to join the client's times with")
    } else if !output.scenario.engine.measures(Figure::AnswerTimes) {
        Some("wiremock records neither connections nor when answers left")
    } else {
        None
    }
}

/// One run's block of the waterfall: its first `max_rows` requests under `label`.
pub fn waterfall_group(label: &str, output: &RunOutput, max_rows: usize) -> WaterfallGroup {
    WaterfallGroup {
        label: label.to_string(),
        rows: waterfall_rows(output, max_rows),
        total: output.measurements.samples.len(),
        over_network: crate::attribution::over_network(&output.scenario),
    }
}

/// The waterfall's rows: the first `max_rows` requests by client start, each split into
/// phases on the run's clock.
///
/// Samples and ledger entries are joined on `seq` as [`crate::attribution`] joins them
/// (the last answered attempt), and a request's connection comes from
/// [`LedgerEntry::connection`]. Only the first request the server saw on a connection
/// shows its set-up: waiting until the accept, TCP until the first byte, TLS until the
/// handshake finished. A later request on an HTTP/1.1 connection waits until the
/// answer before it on that connection reached the client (one request at a time per
/// connection); over HTTP/2 it waits only until the connection it shares was set up.
/// A request the server has no record of is one span from its start to its end. Every
/// boundary is kept in order (clamped), so a phase is never drawn backwards when two
/// clocks disagree by a few microseconds.
pub fn waterfall_rows(output: &RunOutput, max_rows: usize) -> Vec<WaterfallRow> {
    let join = Join::of(output);
    let mut samples: Vec<_> = output.measurements.samples.iter().collect();
    samples.sort_by_key(|s| (s.start, s.seq));
    samples
        .into_iter()
        .take(max_rows)
        .map(|sample| {
            let start = sample.start.as_secs_f64() * 1e3;
            let end = sample.end.as_secs_f64() * 1e3;
            let entry = join
                .answered
                .get(&sample.seq)
                .filter(|_| crate::attribution::splits_into_phases(sample));
            let spans = match entry {
                Some(entry) => spans(start, join.marks(entry, end)),
                None => vec![WaterfallSpan {
                    phase: WaterfallPhase::Unmatched,
                    start_ms: start,
                    end_ms: end,
                }],
            };
            WaterfallRow {
                seq: sample.seq,
                spans,
            }
        })
        .collect()
}

/// The ledger, indexed for the join.
struct Join<'a> {
    output: &'a RunOutput,
    /// Each request's last answered attempt, by `seq`.
    answered: HashMap<u64, &'a LedgerEntry>,
    /// Each connection's requests in arrival order: the first pays the set-up, the
    /// others wait for the one before them (HTTP/1.1) or for the set-up (HTTP/2).
    per_connection: HashMap<u64, Vec<&'a LedgerEntry>>,
    /// When each request's answer reached the client, ms on the run's clock.
    ends_ms: HashMap<u64, f64>,
}

impl<'a> Join<'a> {
    fn of(output: &'a RunOutput) -> Join<'a> {
        let answered = crate::attribution::last_answered(&output.ledger);
        let mut per_connection: HashMap<u64, Vec<&LedgerEntry>> = HashMap::new();
        for entry in answered.values() {
            if let Some(connection) = entry.connection {
                per_connection.entry(connection).or_default().push(entry);
            }
        }
        for entries in per_connection.values_mut() {
            entries.sort_by_key(|e| e.arrival_us);
        }
        let ends_ms = output
            .measurements
            .samples
            .iter()
            .map(|s| (s.seq, s.end.as_secs_f64() * 1e3))
            .collect();
        Join {
            output,
            answered,
            per_connection,
            ends_ms,
        }
    }

    /// `us` since the Unix epoch as ms on the run's clock.
    fn on_run_clock(&self, us: u64) -> f64 {
        (us as f64 - self.output.measurements.started_unix_us as f64) / 1e3
    }

    /// The connection `entry` came on, from the ledger's record of connections.
    fn connection(&self, entry: &LedgerEntry) -> Option<&'a ConnectionEntry> {
        let id = entry.connection?;
        // In accept order, so by id; a cut run keeps only some (`first_requests`).
        let connections = &self.output.ledger.connection_entries;
        let at = connections.binary_search_by_key(&id, |c| c.id).ok()?;
        connections.get(at)
    }

    /// Each phase of `entry`'s request with when it ended, in order; each starts where
    /// the one before it ended.
    fn marks(&self, entry: &LedgerEntry, end: f64) -> Vec<(WaterfallPhase, f64)> {
        let siblings = entry
            .connection
            .and_then(|c| self.per_connection.get(&c))
            .map_or(&[][..], Vec::as_slice);
        let place = siblings.iter().position(|e| e.seq == entry.seq);
        let mut marks = match (place, self.connection(entry)) {
            (Some(0), Some(conn)) => self.set_up(conn),
            (Some(i), conn) if i > 0 => self.wait_for_connection(siblings[i - 1], conn),
            _ => Vec::new(),
        };
        marks.push((WaterfallPhase::Send, self.on_run_clock(entry.arrival_us)));
        marks.push((WaterfallPhase::Server, self.on_run_clock(entry.finish_us)));
        marks.push((WaterfallPhase::Receive, end));
        marks
    }

    /// A connection's first request: waiting until the accept, then TCP until the first
    /// byte, then TLS until the handshake finished (the last two as the ledger has them).
    fn set_up(&self, conn: &ConnectionEntry) -> Vec<(WaterfallPhase, f64)> {
        let mut marks = vec![(WaterfallPhase::Queued, self.on_run_clock(conn.accepted_us))];
        if let Some(first) = conn.first_byte_us {
            marks.push((WaterfallPhase::Connect, self.on_run_clock(first)));
        }
        if let Some(done) = conn.tls_done_us {
            marks.push((WaterfallPhase::Tls, self.on_run_clock(done)));
        }
        marks
    }

    /// A later request on a connection: over HTTP/1.1 it waits for the answer before it
    /// (`before`) to reach the client; over HTTP/2 for the connection to be set up.
    fn wait_for_connection(
        &self,
        before: &LedgerEntry,
        conn: Option<&ConnectionEntry>,
    ) -> Vec<(WaterfallPhase, f64)> {
        let free = match self.output.scenario.client.http {
            HttpVersion::Http1 => before.seq.and_then(|s| self.ends_ms.get(&s)).copied(),
            HttpVersion::Http2 => conn
                .and_then(|c| c.tls_done_us.or(c.first_byte_us))
                .map(|us| self.on_run_clock(us)),
        };
        free.map(|at| (WaterfallPhase::Queued, at))
            .into_iter()
            .collect()
    }
}

/// The spans from `start` through each mark, clamped so that none runs backwards and
/// empty ones left out.
fn spans(start: f64, marks: Vec<(WaterfallPhase, f64)>) -> Vec<WaterfallSpan> {
    let mut spans = Vec::with_capacity(marks.len());
    let mut at = start;
    for (phase, until) in marks {
        let until = until.max(at);
        if until > at {
            spans.push(WaterfallSpan {
                phase,
                start_ms: at,
                end_ms: until,
            });
        }
        at = until;
    }
    spans
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::{Measurements, Outcome, Sample};
    use crate::model::Calibration;
    use crate::scenario::Scenario;
    use crate::server::ledger::{ConnectionEntry, LedgerRecord};
    use crate::server::profile::Profile;
    use crate::strategy::Strategy;

    const EPOCH: u64 = 1_000_000;

    fn sample(seq: u64, start_ms: u64, end_ms: u64, status: Option<u16>) -> Sample {
        Sample {
            seq,
            endpoint: 0,
            start: Duration::from_millis(start_ms),
            end: Duration::from_millis(end_ms),
            outcome: if status.is_some() {
                Outcome::Ok
            } else {
                Outcome::Cancelled
            },
            status,
            bytes: 10,
            attempts: 1,
            intended: None,
            copies: 0,
        }
    }

    fn entry(seq: u64, connection: u64, arrival_ms: u64) -> LedgerEntry {
        LedgerEntry {
            seq: Some(seq),
            copy: 0,
            endpoint: Some(0),
            connection: Some(connection),
            arrival_us: EPOCH + arrival_ms * 1000,
            delay_us: 50_000,
            stalled_us: 0,
            finish_us: EPOCH + (arrival_ms + 50) * 1000,
            status: Some(200),
            request_bytes: 0,
            fault: None,
        }
    }

    /// A connection accepted at `accepted_ms`: its first bytes 60 ms later, its TLS
    /// handshake (if any) done 100 ms after the accept.
    fn connection(id: u64, accepted_ms: u64, tls: bool) -> ConnectionEntry {
        let at = |ms: u64| EPOCH + (accepted_ms + ms) * 1000;
        ConnectionEntry {
            id,
            accepted_us: at(0),
            first_byte_us: Some(at(60)),
            tls_done_us: tls.then(|| at(100)),
            protocol: None,
            resumed: tls.then_some(false),
        }
    }

    /// Two requests one after the other on connection 0 (TLS), one on connection 1,
    /// one the server never saw.
    fn output() -> RunOutput {
        let scenario = Scenario::new(
            Profile::single("50ms".parse().unwrap()),
            4,
            Strategy::AsyncSemaphore,
        );
        RunOutput {
            scenario,
            measurements: Measurements::new(
                vec![
                    sample(0, 0, 191, Some(200)),
                    sample(1, 0, 171, Some(200)),
                    sample(2, 150, 291, Some(200)),
                    sample(3, 5, 300, None),
                ],
                Duration::from_millis(300),
                EPOCH,
            ),
            ledger: LedgerRecord {
                entries: vec![entry(0, 0, 121), entry(1, 1, 81), entry(2, 0, 211)],
                connections: Some(2),
                connection_entries: vec![connection(0, 1, true), connection(1, 1, false)],
                ..LedgerRecord::default()
            },
            placement: crate::server::PlacementKind::InProcess,
            calibration: Calibration::default(),
            footprint: None,
        }
    }

    fn phases(row: &WaterfallRow) -> Vec<WaterfallPhase> {
        row.spans.iter().map(|s| s.phase).collect()
    }

    #[test]
    fn only_a_connection_s_first_request_pays_its_set_up() {
        use WaterfallPhase::*;
        let rows = waterfall_rows(&output(), 50);
        let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![0, 1, 3, 2], "by start");
        assert_eq!(
            phases(&rows[0]),
            [Queued, Connect, Tls, Send, Server, Receive]
        );
        assert_eq!(phases(&rows[1]), [Queued, Connect, Send, Server, Receive]);
        assert_eq!(phases(&rows[2]), [Unmatched]);
        // The second request on connection 0 waits (HTTP/1.1) for the first's answer.
        assert_eq!(phases(&rows[3]), [Queued, Send, Server, Receive]);
        assert_eq!(rows[3].spans[0].end_ms, 191.0);
        for row in &rows {
            for pair in row.spans.windows(2) {
                assert_eq!(pair[0].end_ms, pair[1].start_ms, "{row:?}");
            }
        }
        let tls = rows[0].spans[2];
        assert_eq!((tls.start_ms, tls.end_ms), (61.0, 101.0));
    }

    #[test]
    fn the_rows_stop_at_the_limit() {
        assert_eq!(waterfall_rows(&output(), 2).len(), 2);
    }

    /// Three requests one after another over TLS on a 40 ms link, each fresh
    /// connection's set-up 100 ms (TCP, then TLS), each request 20 ms out, 50 ms at the
    /// server and 20 ms back: on one connection (`fresh` false, a shared client) or on
    /// one each (`fresh` true, a client per request).
    fn over_a_link(fresh: bool) -> RunOutput {
        let mut scenario = Scenario::new(
            Profile::single("50ms".parse().unwrap()),
            3,
            Strategy::AsyncSequential,
        );
        scenario.profile.network = crate::server::network::Preset::Continent.network();
        let (mut samples, mut entries, mut connections) = (Vec::new(), Vec::new(), Vec::new());
        let mut at = 0;
        for seq in 0..3 {
            let id = if fresh { seq } else { 0 };
            let mut arrival = at + 20;
            if fresh || seq == 0 {
                connections.push(connection(id, at, true));
                arrival = at + 120;
            }
            entries.push(entry(seq, id, arrival));
            samples.push(sample(seq, at, arrival + 70, Some(200)));
            at = arrival + 70;
        }
        RunOutput {
            scenario,
            measurements: Measurements::new(samples, Duration::from_millis(at), EPOCH),
            ledger: LedgerRecord {
                entries,
                connections: Some(connections.len() as u64),
                connection_entries: connections,
                ..LedgerRecord::default()
            },
            placement: crate::server::PlacementKind::InProcess,
            calibration: Calibration::default(),
            footprint: None,
        }
    }

    fn pays_set_up(row: &WaterfallRow) -> bool {
        use WaterfallPhase::*;
        let phases = phases(row);
        phases.contains(&Connect) && phases.contains(&Tls)
    }

    #[test]
    fn a_shared_client_pays_tcp_and_tls_on_its_connection_s_first_request_only() {
        use WaterfallPhase::*;
        let group = waterfall_group("shared", &over_a_link(false), 50);
        assert!(group.over_network);
        let paid: Vec<bool> = group.rows.iter().map(pays_set_up).collect();
        assert_eq!(paid, [true, false, false]);
        assert_eq!(
            phases(&group.rows[0]),
            [Connect, Tls, Send, Server, Receive],
            "accepted as it started: nothing to wait for"
        );
        assert_eq!(phases(&group.rows[1]), [Send, Server, Receive]);
    }

    #[test]
    fn a_client_per_request_pays_them_on_every_request() {
        let group = waterfall_group("per request", &over_a_link(true), 50);
        assert!(group.rows.iter().all(pays_set_up), "{:?}", group.rows);
        let tls: Vec<f64> = group
            .rows
            .iter()
            .map(|r| r.spans[1].end_ms - r.spans[1].start_ms)
            .collect();
        assert_eq!(tls, [40.0, 40.0, 40.0], "one round trip of TLS 1.3 each");
    }

    #[test]
    fn over_http2_later_requests_wait_for_the_shared_connection_s_set_up() {
        use WaterfallPhase::*;
        let mut run = output();
        run.scenario.client.http = HttpVersion::Http2;
        // seq 2 now starts with seq 0, on the same connection.
        run.measurements.samples[2].start = Duration::ZERO;
        let rows = waterfall_rows(&run, 50);
        assert_eq!(rows[2].seq, 2);
        assert_eq!(
            phases(&rows[0]),
            [Queued, Connect, Tls, Send, Server, Receive]
        );
        // It waits for connection 0's handshake (done at 101 ms), not for seq 0's answer.
        assert_eq!(phases(&rows[2]), [Queued, Send, Server, Receive]);
        assert_eq!(rows[2].spans[0].end_ms, 101.0);
    }

    #[test]
    fn a_run_without_a_ledger_to_join_has_no_waterfall() {
        let mut run = output();
        assert_eq!(why_no_waterfall(&run), None);
        run.scenario.target = Some("http://127.0.0.1:9/".to_string());
        assert!(why_no_waterfall(&run).unwrap().contains("--target"));
    }
}
