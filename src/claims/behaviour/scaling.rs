//! The rule of the speedup against n: where 10x and 100x hold.
//!
//! Read next: [`super::pitfalls`].

use crate::claims::rules::{missing, summary};
use crate::claims::trial::{Mode, TrialKey};
use crate::claims::{Judgement, Ran, Speedups, Verdict};

/// Speedup against n: where 10x and 100x hold. Trials are keyed
/// [`TrialKey::Scaling`], a sequential and a concurrent one per n.
pub fn scaling(runs: &[Ran]) -> Judgement {
    let points = scaling_points(runs);
    if points.is_empty() {
        return missing("scaling");
    }
    let range = |threshold: f64| {
        let ns: Vec<u64> = points
            .iter()
            .filter(|p| p.1 >= threshold)
            .map(|p| p.0)
            .collect();
        match (ns.first(), ns.last()) {
            (Some(a), Some(b)) if a == b => Some(format!("n = {a}")),
            (Some(a), Some(b)) => Some(format!("n = {a}..{b}")),
            _ => None,
        }
    };
    let (ten, hundred) = (range(10.0), range(100.0));
    let verdict = match (&ten, &hundred) {
        (Some(_), Some(_)) => Verdict::Reproduced,
        (Some(_), None) => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    let best = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let listed: Vec<String> = points
        .iter()
        .map(|p| format!("{}: {:.1}x", p.0, p.1))
        .collect();
    let (last_n, last_speedup, last_model) = points.last().copied().unwrap_or_default();
    Judgement {
        verdict,
        reason: format!(
            "10x holds for {}, 100x for {}; speedups by n: {}",
            ten.as_deref().unwrap_or("no n measured"),
            hundred.as_deref().unwrap_or("no n measured"),
            listed.join(", ")
        ),
        measured: format!("best {best:.0}x"),
        predicted: format!("{last_model:.0}x at n = {last_n}"),
        speedup: Some(Speedups {
            document: None,
            model: last_model,
            measured: last_speedup,
        }),
    }
}

/// `(n, measured speedup, model speedup)` for every n with both trials, by n.
pub fn scaling_points(runs: &[Ran]) -> Vec<(u64, f64, f64)> {
    let mut points: Vec<(u64, f64, f64)> = runs
        .iter()
        .filter_map(|seq| {
            let TrialKey::Scaling {
                n,
                mode: Mode::Sequential,
            } = seq.key
            else {
                return None;
            };
            let conc = summary(
                runs,
                TrialKey::Scaling {
                    n,
                    mode: Mode::Concurrent,
                },
            )?;
            let s = &seq.summary;
            Some((
                s.n,
                s.wall_ms / conc.wall_ms,
                s.predicted_ms / conc.predicted_ms,
            ))
        })
        .collect();
    points.sort_by_key(|p| p.0);
    points
}
