//! Coordinated omission: a closed loop and an open loop against one stalled server.
//!
//! The rule reads four figures and their models: each loop's p99 (the closed loop's
//! from each send, the open loop's from each intended start), the share of the open
//! loop's requests the server's ledger says the stall held, and the mean hold of those
//! requests. The lesson holds when the closed loop's p99 stays under a quarter of the
//! stall while the open loop's is over half of it; it is *reproduced* when, besides,
//! both p99s are within [`MODEL_TOLERANCE`] of the model (or above it by at most the
//! tail of the run's own overheads, see [`overhead_tail_ms`]) and the share and the mean hold
//! are within 25 % of the arithmetic (S/T and S/2), and *qualified* otherwise.
//!
//! Read next: [`crate::model::open_loop`].

use crate::claims::rules::{MODEL_TOLERANCE, missing, near, pct, secs};
use crate::claims::trial::{TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};
use crate::server::stall::Stall;
use crate::strategy::Strategy;

/// How far the stalled share and the mean hold may be from the arithmetic.
const ARITHMETIC_TOLERANCE: f64 = 0.25;

/// The stalled requests of a run and their mean hold, ms, from the ledger.
pub fn stalled(run: &Ran) -> (u64, f64) {
    let held: Vec<u64> = run
        .output
        .ledger
        .entries
        .iter()
        .map(|e| e.stalled_us)
        .filter(|us| *us > 0)
        .collect();
    let mean = if held.is_empty() {
        0.0
    } else {
        held.iter().sum::<u64>() as f64 / held.len() as f64 / 1e3
    };
    (held.len() as u64, mean)
}

/// The tail of the run's own overheads, ms: the p99s of its out leg, its server time
/// beyond the delay and its back leg. The model charges each overhead at its mean; a
/// p99 meets their tail too, which on a loaded machine is several milliseconds.
pub fn overhead_tail_ms(run: &Ran) -> f64 {
    let a = &run.summary.attribution;
    a.send_lag_ms.p99 + a.server_ms.p99 + a.receive_ms.p99
}

/// A p99 against its model: within [`MODEL_TOLERANCE`], or above it by no more than
/// the run's own [`overhead_tail_ms`].
fn matches_p99(run: &Ran, p99: f64, model: f64) -> bool {
    near(p99, model, MODEL_TOLERANCE) || (p99 >= model && p99 <= model + overhead_tail_ms(run))
}

/// The closed loop's p99 hides the stall; the open loop's shows it.
pub fn omission(runs: &[Ran], stall: &Stall) -> Judgement {
    let (Some(closed), Some(open)) = (
        find(runs, TrialKey::Strategy(Strategy::AsyncSemaphore)),
        find(runs, TrialKey::Strategy(Strategy::AsyncArrivalRate)),
    ) else {
        return missing("closed or open loop");
    };
    let Some(open_figures) = &open.summary.open_loop else {
        return Judgement {
            verdict: Verdict::Refuted,
            reason: "the open loop's samples carry no intended starts, so its latency from them cannot be read".to_string(),
            measured: "no intended starts".to_string(),
            predicted: String::new(),
            speedup: None,
        };
    };
    let stall_ms = stall.length().as_secs_f64() * 1e3;
    let closed_p99 = closed.summary.latency_ms.p99;
    let closed_model = closed.summary.predicted_latency_ms.p99;
    let open_p99 = open_figures.from_intended_ms.p99;
    let open_model = open_figures.predicted_from_intended_ms.p99;
    // The open loop's span: its schedule's, which the model knows before the run.
    let span_ms = open.summary.milestones_ms.last_start.max(1.0);
    let (held, mean_hold) = stalled(open);
    let share = held as f64 / open.summary.n as f64;
    let expected_share = stall_ms / span_ms;
    let shows = closed_p99 < stall_ms / 4.0 && open_p99 > stall_ms / 2.0;
    let modelled =
        matches_p99(closed, closed_p99, closed_model) && matches_p99(open, open_p99, open_model);
    let arithmetic = near(share, expected_share, ARITHMETIC_TOLERANCE)
        && near(mean_hold, stall_ms / 2.0, ARITHMETIC_TOLERANCE);
    let verdict = match (shows, modelled && arithmetic) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        (false, _) => Verdict::Refuted,
    };
    let (closed_held, _) = stalled(closed);
    Judgement {
        verdict,
        reason: format!(
            "a {} stall: the closed loop ({} slots) had {closed_held} of {} requests in it and a p99 of {} (model {}, {}; overheads' tail {}); the open loop ({}) had {held} in it ({:.0} %, S/T = {:.0} %), each held {} on average (S/2 = {}), and a p99 of {} from the intended start (model {}, {}); {} of its starts were late",
            secs(stall_ms),
            closed.summary.limit.unwrap_or(0),
            closed.summary.n,
            secs(closed_p99),
            secs(closed_model),
            pct(closed_p99, closed_model),
            secs(overhead_tail_ms(closed)),
            open_figures.schedule,
            share * 100.0,
            expected_share * 100.0,
            secs(mean_hold),
            secs(stall_ms / 2.0),
            secs(open_p99),
            secs(open_model),
            pct(open_p99, open_model),
            open_figures.late
        ),
        measured: format!("p99 closed {} vs open {}", secs(closed_p99), secs(open_p99)),
        predicted: format!("{} vs {}", secs(closed_model), secs(open_model)),
        speedup: None,
    }
}
