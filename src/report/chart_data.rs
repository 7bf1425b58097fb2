//! From a run's raw output to the plain series the charts take. Every point comes from a
//! sample or a ledger entry; nothing is measured here.

use std::collections::HashMap;

use crate::output::RunOutput;
use crate::server::ledger::LedgerEntry;

use super::charts::{
    InFlightSeries, LatencyRow, PhaseBar, RateSeries, TimelineBar, TimelineRun, WaterfallPhase,
    WaterfallRow, WaterfallSpan,
};
use crate::strategy::HttpVersion;

/// One lane per request, in `seq` order, from the client's samples.
pub fn timeline_run(label: &str, output: &RunOutput) -> TimelineRun {
    let bars = output
        .measurements
        .samples
        .iter()
        .enumerate()
        .map(|(lane, s)| TimelineBar {
            lane,
            start_ms: s.start.as_secs_f64() * 1e3,
            end_ms: s.end.as_secs_f64() * 1e3,
            outcome: s.outcome.name().to_string(),
        })
        .collect();
    TimelineRun {
        label: label.to_string(),
        bars,
    }
}

/// The server's in-flight count over time, from the ledger, on the run's clock (ms).
pub fn in_flight_series(label: &str, output: &RunOutput) -> InFlightSeries {
    let started = output.measurements.started_unix_us;
    let at = |us: u64| us.saturating_sub(started) as f64 / 1e3;
    let mut events: Vec<(f64, i64)> = output
        .ledger
        .entries
        .iter()
        .flat_map(|e: &LedgerEntry| [(at(e.arrival_us), 1), (at(e.finish_us), -1)])
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut level = 0i64;
    let mut steps: Vec<(f64, u64)> = vec![(0.0, 0)];
    for (time, change) in events {
        level += change;
        match steps.last_mut() {
            Some(last) if last.0 == time => last.1 = level.max(0) as u64,
            _ => steps.push((time, level.max(0) as u64)),
        }
    }
    InFlightSeries {
        label: label.to_string(),
        steps,
    }
}

/// Arrivals at the server per window of `window_us` from the run's start.
pub fn rate_series(label: &str, output: &RunOutput, window_us: u64) -> RateSeries {
    let started = output.measurements.started_unix_us;
    let window_us = window_us.max(1);
    let mut counts: Vec<u64> = Vec::new();
    for entry in &output.ledger.entries {
        let second = (entry.arrival_us.saturating_sub(started) / window_us) as usize;
        if counts.len() <= second {
            counts.resize(second + 1, 0);
        }
        counts[second] += 1;
    }
    RateSeries {
        label: label.to_string(),
        windows: counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (i as f64 * window_us as f64 / 1e3, c))
            .collect(),
    }
}

/// The latency percentiles of one run.
pub fn latency_row(label: &str, output: &RunOutput) -> LatencyRow {
    let p = output.measurements.latency();
    LatencyRow {
        strategy: label.to_string(),
        p50: p.p50,
        p90: p.p90,
        p99: p.p99,
        max: p.max,
    }
}

/// The last request's phases, from a summary's attribution.
pub fn phase_bar(label: &str, summary: &crate::summary::RunSummary) -> PhaseBar {
    let c = &summary.attribution.critical;
    PhaseBar {
        label: label.to_string(),
        phases: [
            c.start_ms,
            c.send_lag_ms,
            c.delay_ms,
            c.server_ms,
            c.receive_ms,
        ],
        over_network: summary.attribution.over_network,
    }
}

/// The waterfall's rows: the first `max_rows` requests by client start, each split into
/// phases on the run's clock.
///
/// Samples and ledger entries are joined on `seq` as [`crate::attribution`] joins them
/// (the last answered attempt), and a request's connection comes from
/// [`LedgerEntry::connection`]. Only the first request the server saw on a connection
/// shows its set-up: queued until the accept, TCP until the first byte, TLS until the
/// handshake finished. A later request on an HTTP/1.1 connection is queued until the
/// answer before it on that connection reached the client (one request at a time per
/// connection); over HTTP/2 it goes straight out. A request the server has no record of
/// is one span from its start to its end. Every boundary is kept in order (clamped), so
/// a phase is never drawn backwards when two clocks disagree by a few microseconds.
pub fn waterfall_rows(output: &RunOutput, max_rows: usize) -> Vec<WaterfallRow> {
    let epoch = output.measurements.started_unix_us;
    let on_run_clock = |us: u64| (us as f64 - epoch as f64) / 1e3;
    let answered = crate::attribution::last_answered(&output.ledger);
    // Each connection's requests in arrival order: the first pays the set-up, the others
    // wait for the one before them (HTTP/1.1).
    let mut per_connection: HashMap<u64, Vec<&LedgerEntry>> = HashMap::new();
    for entry in answered.values() {
        if let Some(connection) = entry.connection {
            per_connection.entry(connection).or_default().push(entry);
        }
    }
    for entries in per_connection.values_mut() {
        entries.sort_by_key(|e| e.arrival_us);
    }
    let ends_ms: HashMap<u64, f64> = output
        .measurements
        .samples
        .iter()
        .map(|s| (s.seq, s.end.as_secs_f64() * 1e3))
        .collect();
    let one_at_a_time = output.scenario.client.http == HttpVersion::Http1;
    let mut samples: Vec<_> = output.measurements.samples.iter().collect();
    samples.sort_by_key(|s| (s.start, s.seq));
    samples
        .into_iter()
        .take(max_rows)
        .map(|sample| {
            let start = sample.start.as_secs_f64() * 1e3;
            let end = sample.end.as_secs_f64() * 1e3;
            let entry = answered
                .get(&sample.seq)
                .filter(|_| crate::attribution::splits_into_phases(sample));
            let Some(entry) = entry else {
                let span = WaterfallSpan {
                    phase: WaterfallPhase::Unmatched,
                    start_ms: start,
                    end_ms: end,
                };
                return WaterfallRow {
                    seq: sample.seq,
                    spans: vec![span],
                };
            };
            let siblings = entry
                .connection
                .and_then(|c| per_connection.get(&c))
                .map_or(&[][..], Vec::as_slice);
            let place = siblings.iter().position(|e| e.seq == entry.seq);
            let connection = entry
                .connection
                .and_then(|c| usize::try_from(c).ok())
                .and_then(|c| output.ledger.connection_entries.get(c))
                .filter(|c| Some(c.id) == entry.connection);
            // (phase, when it ends); each phase starts where the one before it ended.
            let mut marks: Vec<(WaterfallPhase, f64)> = Vec::new();
            match (place, connection) {
                (Some(0), Some(conn)) => {
                    marks.push((WaterfallPhase::Queued, on_run_clock(conn.accepted_us)));
                    if let Some(first) = conn.first_byte_us {
                        marks.push((WaterfallPhase::Connect, on_run_clock(first)));
                    }
                    if let Some(done) = conn.tls_done_us {
                        marks.push((WaterfallPhase::Tls, on_run_clock(done)));
                    }
                }
                (Some(i), _) if i > 0 && one_at_a_time => {
                    let before = siblings[i - 1].seq.and_then(|s| ends_ms.get(&s));
                    if let Some(&free) = before {
                        marks.push((WaterfallPhase::Queued, free));
                    }
                }
                _ => {}
            }
            marks.push((WaterfallPhase::Send, on_run_clock(entry.arrival_us)));
            marks.push((WaterfallPhase::Server, on_run_clock(entry.finish_us)));
            marks.push((WaterfallPhase::Receive, end));
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
            WaterfallRow {
                seq: sample.seq,
                spans,
            }
        })
        .collect()
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
        }
    }

    fn entry(seq: u64, connection: u64, arrival_ms: u64) -> LedgerEntry {
        LedgerEntry {
            seq: Some(seq),
            endpoint: Some(0),
            connection: Some(connection),
            arrival_us: EPOCH + arrival_ms * 1000,
            delay_us: 50_000,
            finish_us: EPOCH + (arrival_ms + 50) * 1000,
            status: Some(200),
            request_bytes: 0,
            fault: None,
        }
    }

    fn connection(id: u64, tls: bool) -> ConnectionEntry {
        ConnectionEntry {
            id,
            accepted_us: EPOCH + 1000,
            first_byte_us: Some(EPOCH + 61_000),
            tls_done_us: tls.then_some(EPOCH + 101_000),
            protocol: None,
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
                connection_entries: vec![connection(0, true), connection(1, false)],
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
}
