//! The figures of the patterns after gather, for a run's summary: what the copies of
//! `async-first-of` and `async-hedged` cost at the server, and how a stopped run's
//! requests ended.
//!
//! Both are derived from a [`RunOutput`], as every summary figure is: the samples say
//! what the client sent and kept, the ledger what the server received.
//!
//! Read next: [`crate::strategy::replicas`], [`crate::strategy::stop`].

use serde::{Deserialize, Serialize};

use crate::measure::{Outcome, Sample};
use crate::output::RunOutput;
use crate::strategy::Strategy;
use crate::strategy::stop::{StopReason, StopRecord};

/// What the copies of one run cost.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CopyFigures {
    /// Copies the client sent beside the requests themselves (hedges, replicas).
    pub copies_sent: u64,
    /// Logical requests that sent at least one copy (for `async-hedged`: were hedged).
    pub requests_with_copies: u64,
    /// Requests the server received, copies included (`None` without a ledger).
    pub received_at_server: Option<u64>,
    /// `received_at_server / n - 1`: the extra load, as a fraction of n.
    pub extra_fraction: Option<f64>,
    /// Requests the server received whose answer went nowhere: the losers the client
    /// dropped mid-request (abandoned).
    pub abandoned_at_server: Option<u64>,
}

impl CopyFigures {
    /// The copies' figures, for the strategies that send copies.
    pub fn of(output: &RunOutput) -> Option<CopyFigures> {
        let strategy = output.scenario.strategy;
        if !matches!(strategy, Strategy::AsyncFirstOf | Strategy::AsyncHedged) {
            return None;
        }
        let samples = &output.measurements.samples;
        // A --target keeps no ledger.
        let entries = &output.ledger.entries;
        let received = output
            .scenario
            .target
            .is_none()
            .then_some(entries.len() as u64);
        let n = output.scenario.n.max(1) as f64;
        Some(CopyFigures {
            copies_sent: samples.iter().map(|s| u64::from(s.copies)).sum(),
            requests_with_copies: samples.iter().filter(|s| s.copies > 0).count() as u64,
            received_at_server: received,
            extra_fraction: received.map(|r| r as f64 / n - 1.0),
            abandoned_at_server: received
                .map(|_| entries.iter().filter(|e| e.status.is_none()).count() as u64),
        })
    }
}

/// How a stopped run's requests ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StopFigures {
    /// Ctrl-C or `--stop-after`.
    pub reason: StopReason,
    /// When nothing new was sent any more, ms from the start.
    pub stopped_at_ms: f64,
    /// When what was left was cut, ms; `None` when the grace was enough.
    pub cut_at_ms: Option<f64>,
    /// The grace allowed, ms.
    pub grace_ms: f64,
    /// Requests that ended on their own (any outcome but `cancelled`).
    pub finished: u64,
    /// Requests cancelled before they were sent.
    pub never_sent: u64,
    /// Requests sent and then cut (cancelled with an attempt made).
    pub cut: u64,
}

impl StopFigures {
    /// The figures of a stopped run; `None` for a run that was not stopped.
    pub fn of(stop: Option<StopRecord>, samples: &[Sample]) -> Option<StopFigures> {
        let stop = stop?;
        let cancelled = |s: &&Sample| s.outcome == Outcome::Cancelled;
        Some(StopFigures {
            reason: stop.reason,
            stopped_at_ms: stop.stopped_at_ms,
            cut_at_ms: stop.cut_at_ms,
            grace_ms: stop.grace_ms,
            finished: samples.iter().filter(|s| !cancelled(s)).count() as u64,
            never_sent: samples
                .iter()
                .filter(cancelled)
                .filter(|s| s.attempts == 0)
                .count() as u64,
            cut: samples
                .iter()
                .filter(cancelled)
                .filter(|s| s.attempts > 0)
                .count() as u64,
        })
    }
}
