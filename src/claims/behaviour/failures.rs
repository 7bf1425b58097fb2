//! Rules about failures: fail-fast against collect-all, one failing source among
//! several, every error classified as its kind, and retry chains with backoff.
//!
//! Read next: [`super::timeouts`].

use crate::claims::rules::{MODEL_TOLERANCE, missing, near, pct, secs, summary};
use crate::claims::trial::{TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};
use crate::measure::Outcome;

/// Fail-fast against collect-all on an endpoint that always fails.
pub fn fail_fast(runs: &[Ran], limit: u64) -> Judgement {
    let (Some(ff), Some(all)) = (
        summary(runs, TrialKey::FailFast),
        summary(runs, TrialKey::CollectAll),
    ) else {
        return missing("fail-fast or collect-all");
    };
    let slack = 2;
    let stopped = ff.server.received <= limit + slack;
    let verdict = if stopped && all.server.received == all.n {
        Verdict::Reproduced
    } else if stopped {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    let cancelled = ff.count(Outcome::Cancelled);
    Judgement {
        verdict,
        reason: format!(
            "after the first 401, fail-fast let the server see {} of {} requests (limit {limit}) and cancelled {cancelled}; collect-all sent all {}",
            ff.server.received, ff.n, all.server.received
        ),
        measured: format!("{} vs {} received", ff.server.received, all.server.received),
        predicted: format!("≤ {} vs {}", limit + slack, all.n),
        speedup: None,
    }
}

/// One failing source among several: the others still answer, and no slower.
pub fn partial_failure(runs: &[Ran]) -> Judgement {
    let (Some(ok), Some(failing)) = (
        summary(runs, TrialKey::AllSucceed),
        summary(runs, TrialKey::OneFails),
    ) else {
        return missing("all succeed or one fails");
    };
    let successes = failing.ok();
    let errors = failing.n - successes;
    let unchanged = near(failing.wall_ms, ok.wall_ms, MODEL_TOLERANCE);
    let verdict = if successes == failing.n - 1 && errors == 1 && unchanged {
        Verdict::Reproduced
    } else if successes > 0 {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    let kinds: Vec<String> = failing
        .outcomes
        .iter()
        .filter(|(k, _)| **k != Outcome::Ok)
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    Judgement {
        verdict,
        reason: format!(
            "with one source failing, {successes} of {} still answered and the failure was classified ({}); wall {} against {} when all succeed ({})",
            failing.n,
            kinds.join(", "),
            secs(failing.wall_ms),
            secs(ok.wall_ms),
            pct(failing.wall_ms, ok.wall_ms)
        ),
        measured: format!(
            "{successes} ok + {errors} failed, {}",
            secs(failing.wall_ms)
        ),
        predicted: format!(
            "{} ok + 1 failed, {}",
            failing.n - 1,
            secs(failing.predicted_ms)
        ),
        speedup: None,
    }
}

/// Each failing endpoint's request ends as the outcome named for it, for every trial.
pub fn classified(runs: &[Ran], expected: &[Outcome]) -> Judgement {
    let mut wrong = Vec::new();
    let mut seen = Vec::new();
    for run in runs {
        for sample in &run.output.measurements.samples {
            let want = expected[sample.endpoint as usize % expected.len()];
            if sample.outcome != want {
                wrong.push(format!(
                    "{}: {} instead of {}",
                    run.key,
                    sample.outcome.name(),
                    want.name()
                ));
            }
        }
        let kinds: Vec<String> = run
            .summary
            .outcomes
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        seen.push(format!("{}: {}", run.key, kinds.join(", ")));
    }
    let total: u64 = runs.iter().map(|r| r.summary.n).sum();
    let verdict = if wrong.is_empty() {
        Verdict::Reproduced
    } else if (wrong.len() as u64) < total {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    let names: Vec<&str> = expected.iter().map(|o| o.name()).collect();
    Judgement {
        verdict,
        reason: if wrong.is_empty() {
            format!(
                "every request ended as its kind, none lost, nothing panicked; {}",
                seen.join("; ")
            )
        } else {
            format!("misclassified: {}", wrong.join("; "))
        },
        measured: format!(
            "{} of {} as expected",
            runs.iter().map(|r| r.summary.n).sum::<u64>() - wrong.len() as u64,
            runs.iter().map(|r| r.summary.n).sum::<u64>()
        ),
        predicted: names.join(", "),
        speedup: None,
    }
}

/// Retry chains: each wait inside its backoff bounds, and m chains at once taking about
/// as long as one.
pub fn retry_chains(runs: &[Ran], base_ms: f64, delay_ms: f64, failures: u32) -> Judgement {
    let Some(many) = find(runs, TrialKey::TenChains) else {
        return missing("10 chains at once");
    };
    let one_wall = summary(runs, TrialKey::OneChain).map_or(0.0, |s| s.wall_ms);
    // Waits seen by the server: from one attempt's answer to the next attempt's arrival.
    let mut by_seq: std::collections::BTreeMap<u64, Vec<(u64, u64)>> = Default::default();
    for e in &many.output.ledger.entries {
        if let Some(seq) = e.seq {
            by_seq
                .entry(seq)
                .or_default()
                .push((e.arrival_us, e.finish_us));
        }
    }
    let slack_ms = 5.0;
    let mut outside = 0;
    let mut waits = 0;
    for attempts in by_seq.values_mut() {
        attempts.sort_unstable();
        for (k, pair) in attempts.windows(2).enumerate() {
            let wait_ms = pair[1].0.saturating_sub(pair[0].1) as f64 / 1e3;
            let low = base_ms * f64::from(1u32 << k);
            waits += 1;
            if wait_ms < low - slack_ms || wait_ms > 2.0 * low + slack_ms {
                outside += 1;
            }
        }
    }
    let all_ok = many.summary.ok() == many.summary.n;
    let waits_total_max: f64 = (0..failures)
        .map(|k| 2.0 * base_ms * f64::from(1u32 << k))
        .sum();
    let one_chain_max = f64::from(failures + 1) * (delay_ms + 5.0) + waits_total_max + slack_ms;
    let not_m = many.summary.wall_ms <= one_chain_max;
    let verdict = match (outside == 0 && waits > 0, all_ok && not_m) {
        (true, true) => Verdict::Reproduced,
        (_, true) => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    Judgement {
        verdict,
        reason: format!(
            "{} chains of {} failures then success: {} of {waits} waits inside [base × 2^k, 2 × base × 2^k] (base {}), {} of {} succeeded; all chains together took {} against {} for one chain (one chain at most {})",
            many.summary.n,
            failures,
            waits - outside,
            secs(base_ms),
            many.summary.ok(),
            many.summary.n,
            secs(many.summary.wall_ms),
            secs(one_wall),
            secs(one_chain_max)
        ),
        measured: format!(
            "{} for {} chains, {}/{waits} waits in bounds",
            secs(many.summary.wall_ms),
            many.summary.n,
            waits - outside
        ),
        predicted: format!("≤ {} (one chain)", secs(one_chain_max)),
        speedup: None,
    }
}
