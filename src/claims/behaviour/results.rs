//! Rules about what comes back: answers in completion order, and JSON POSTs created.
//!
//! Read next: [`scaling`](mod@super::scaling).

use crate::claims::rules::{MODEL_TOLERANCE, missing, near, pct, secs};
use crate::claims::trial::{TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};

/// Results in completion order: the order of the answers is the order of the delays.
pub fn completion_order(runs: &[Ran]) -> Judgement {
    let Some(run) = find(runs, TrialKey::AsCompleted) else {
        return missing("as completed");
    };
    let mut by_end = run.output.measurements.samples.clone();
    by_end.sort_by_key(|s| s.end);
    let delay_of = |seq: u64| {
        run.output
            .ledger
            .entries
            .iter()
            .find(|e| e.seq == Some(seq))
            .map_or(0, |e| e.delay_us)
    };
    let delays_in_completion_order: Vec<u64> = by_end.iter().map(|s| delay_of(s.seq)).collect();
    let in_order = delays_in_completion_order.windows(2).all(|w| w[0] <= w[1]);
    let first_ms = by_end.first().map_or(0.0, |s| s.end.as_secs_f64() * 1e3);
    let smallest_ms = delays_in_completion_order.first().copied().unwrap_or(0) as f64 / 1e3;
    let largest_ms = run.summary.delays_ms.max;
    let first_early = first_ms < (smallest_ms + largest_ms) / 2.0;
    let verdict = match (in_order, first_early) {
        (true, true) => Verdict::Reproduced,
        (false, true) => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    let order: Vec<String> = delays_in_completion_order
        .iter()
        .map(|d| format!("{:.0}", *d as f64 / 1e3))
        .collect();
    Judgement {
        verdict,
        reason: format!(
            "the first answer came at {} (smallest delay {}, largest {}); answers arrived in delay order: {} ms",
            secs(first_ms),
            secs(smallest_ms),
            secs(largest_ms),
            order.join(", ")
        ),
        measured: format!("first at {}", secs(first_ms)),
        predicted: format!("first at {}", secs(smallest_ms)),
        speedup: None,
    }
}

/// JSON POSTs sent at once: every one created (201), every body received, together in
/// about the slowest one's time.
pub fn posts_created(runs: &[Ran]) -> Judgement {
    let Some(run) = find(runs, TrialKey::Posts) else {
        return missing("POSTs at once");
    };
    let samples = &run.output.measurements.samples;
    let created = samples.iter().filter(|s| s.status == Some(201)).count();
    let bodies = run
        .output
        .ledger
        .entries
        .iter()
        .filter(|e| e.request_bytes > 0 && e.status == Some(201))
        .count();
    let wall = run.summary.wall_ms;
    let slowest = run.summary.delays_ms.max;
    let concurrent = near(wall, slowest, MODEL_TOLERANCE);
    let verdict = match (
        created == samples.len() && bodies == samples.len(),
        concurrent,
    ) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    Judgement {
        verdict,
        reason: format!(
            "{created} of {} POSTs came back 201 and the server parsed {bodies} JSON bodies; together they took {} against the slowest answer's {} ({})",
            samples.len(),
            secs(wall),
            secs(slowest),
            pct(wall, slowest)
        ),
        measured: format!("{created} × 201, {}", secs(wall)),
        predicted: format!(
            "{} × 201, {}",
            samples.len(),
            secs(run.summary.predicted_ms)
        ),
        speedup: None,
    }
}
