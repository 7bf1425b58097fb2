//! From a run's raw output to the plain series the charts take. Every point comes from a
//! sample or a ledger entry; nothing is measured here. The waterfall's rows, which join
//! the two, are in `chart_data/waterfall.rs` ([`waterfall_rows`]).

mod waterfall;

pub use waterfall::{WATERFALL_ROWS, waterfall_group, waterfall_rows, why_no_waterfall};

use crate::output::RunOutput;
use crate::server::ledger::LedgerEntry;

use super::charts::{InFlightSeries, LatencyRow, PhaseBar, RateSeries, TimelineBar, TimelineRun};

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

/// `async-pipeline`'s bodies queued in its channel over time, if the run has them.
pub fn queue_series(label: &str, output: &RunOutput) -> Option<InFlightSeries> {
    let pipeline = output.measurements.notes.pipeline.as_ref()?;
    Some(InFlightSeries {
        label: label.to_string(),
        steps: pipeline.depth.clone(),
    })
}

/// A chart of the queue of every pipeline run among `outputs` (labelled), with the
/// bounded channel's capacity as its reference line; `None` when none is a pipeline.
pub fn queue_chart(
    title: &str,
    runs: &[(String, &RunOutput)],
) -> Option<Result<String, crate::report::charts::ChartError>> {
    let series: Vec<InFlightSeries> = runs
        .iter()
        .filter_map(|(label, output)| queue_series(label, output))
        .collect();
    if series.is_empty() {
        return None;
    }
    let capacity = runs
        .iter()
        .find_map(|(_, o)| match o.scenario.client.channel {
            crate::strategy::backpressure::Channel::Bounded(c) => {
                Some((c as u64, format!("capacity {c}")))
            }
            crate::strategy::backpressure::Channel::Unbounded => None,
        });
    Some(crate::report::charts::counts_over_time(
        title,
        &series,
        capacity,
        "bodies queued in the channel",
    ))
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
    percentiles_row(label, &output.measurements.latency())
}

/// A row of the latency chart from percentiles already computed (an open loop's
/// latency from its intended starts).
pub fn percentiles_row(label: &str, p: &crate::measure::Percentiles) -> LatencyRow {
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
