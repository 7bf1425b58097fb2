//! An open loop's figures: how late its starts were, and its latency read from the
//! intended start, beside what the model predicts for both.
//!
//! A closed loop's latency runs from the moment a request was sent. For an open loop
//! that hides the wait of a request that could not be sent on time (the cap was full,
//! or the client was busy): the user it stands for arrived at the intended start. So
//! [`OpenLoopFigures::from_intended_ms`] reads every sample from its intended start,
//! as wrk2, k6 and oha's `--latency-correction` do, and the summary keeps the send-side
//! figure ([`RunSummary::latency_ms`](crate::summary::RunSummary::latency_ms)) beside
//! it.

use serde::{Deserialize, Serialize};

use crate::measure::{Outcome, Percentiles, Sample, percentiles_ms};
use crate::model::Prediction;
use crate::scenario::Scenario;
use crate::strategy::{Strategy, arrival};

/// What an open loop measured, beside its model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenLoopFigures {
    /// The schedule: `200/s`, or the ramp `0..200/s:10s`.
    pub schedule: String,
    /// The cap on requests in flight.
    pub max_in_flight: usize,
    /// Requests that started more than [`arrival::LATE_SLACK`] after their intended
    /// start (the cap was full or the client was behind), or never started.
    pub late: u64,
    /// Latency from the intended start, of requests that ended on their own: what a
    /// user arriving on schedule waited.
    pub from_intended_ms: Percentiles,
    /// The model's latency from the intended start.
    pub predicted_from_intended_ms: Percentiles,
}

impl OpenLoopFigures {
    /// The figures of `samples` against `prediction`, for an open loop's run of
    /// `scenario`; `None` for a closed loop.
    pub fn of(
        scenario: &Scenario,
        samples: &[Sample],
        prediction: &Prediction,
    ) -> Option<OpenLoopFigures> {
        if scenario.strategy != Strategy::AsyncArrivalRate {
            return None;
        }
        let late = samples
            .iter()
            .filter(|s| {
                let intended = s.intended.unwrap_or(s.start);
                s.attempts == 0 || arrival::is_late(intended, s.start)
            })
            .count() as u64;
        let from_intended = samples
            .iter()
            .filter(|s| s.outcome != Outcome::Cancelled)
            .map(|s| s.latency_from_intended().as_micros() as u64);
        let predicted = prediction
            .ends_ms
            .iter()
            .zip(&prediction.intended_ms)
            .map(|(end, intended)| ((end - intended).max(0.0) * 1e3) as u64);
        Some(OpenLoopFigures {
            schedule: scenario.client.arrivals().describe(),
            max_in_flight: scenario.client.max_in_flight,
            late,
            from_intended_ms: percentiles_ms(from_intended),
            predicted_from_intended_ms: percentiles_ms(predicted),
        })
    }
}

/// The model's latency per request, end minus start (for an open loop, from the
/// actual start), as percentiles.
pub fn predicted_latency_ms(prediction: &Prediction) -> Percentiles {
    let latencies = prediction
        .ends_ms
        .iter()
        .zip(&prediction.starts_ms)
        .map(|(end, start)| ((end - start).max(0.0) * 1e3) as u64);
    percentiles_ms(latencies)
}
