//! The verdict rules, shared by the catalogue's rows. Each takes the trials' summaries
//! and returns a [`Judgement`]: a verdict, one plain line saying why, and the figures.
//!
//! Tolerances: a wall "matches the model" within ±10 % (see [`MODEL_TOLERANCE`]); a
//! speedup "matches the document" within ±15 % (see [`SPEEDUP_TOLERANCE`]).

use super::trial::{self, TrialKey};
use super::{Judgement, Ran, Speedups, Verdict};
use crate::server::engine::{Figure, NOT_MEASURED};
use crate::summary::RunSummary;

/// How far a measured wall may be from the model's and still match it.
pub const MODEL_TOLERANCE: f64 = 0.10;
/// How far a measured speedup may be from the document's and still reproduce it.
pub const SPEEDUP_TOLERANCE: f64 = 0.15;

/// Milliseconds as seconds for a reason line: `0.31 s`, `20.0 s`.
pub use crate::duration::secs;

/// How far `value` is above (or below) `reference`, in percent: `+3 %`, `-12 %`.
pub fn pct(value: f64, reference: f64) -> String {
    if reference <= 0.0 {
        return "n/a".to_string();
    }
    format!("{:+.0} %", (value / reference - 1.0) * 100.0)
}

/// A speedup with the two walls it comes from: "9.8x (10.2 s vs 1.04 s)".
pub fn speedup_text(speedup: f64, sequential_ms: f64, concurrent_ms: f64) -> String {
    format!(
        "{speedup:.1}x ({} vs {})",
        secs(sequential_ms),
        secs(concurrent_ms)
    )
}

/// True when `value` is within `tolerance` (relative) of `target`.
pub fn near(value: f64, target: f64, tolerance: f64) -> bool {
    target > 0.0 && (value / target - 1.0).abs() <= tolerance
}

/// A wall against a reference: reproduced within [`MODEL_TOLERANCE`], qualified within
/// `loose` (relative), refuted beyond.
pub fn tiered(wall_ms: f64, reference_ms: f64, loose: f64) -> Verdict {
    if near(wall_ms, reference_ms, MODEL_TOLERANCE) {
        Verdict::Reproduced
    } else if near(wall_ms, reference_ms, loose) {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    }
}

/// True when the run took what the model predicted, within [`MODEL_TOLERANCE`].
pub fn matches_model(s: &RunSummary) -> bool {
    near(s.wall_ms, s.predicted_ms, MODEL_TOLERANCE)
}

/// The summary of the trial keyed `key`.
pub fn summary(runs: &[Ran], key: TrialKey) -> Option<&RunSummary> {
    trial::find(runs, key).map(|r| &r.summary)
}

/// The judgement when a trial the rule needs is missing (a bug in the plan, reported
/// rather than hidden).
pub fn missing(label: &str) -> Judgement {
    Judgement {
        verdict: Verdict::Pending,
        reason: format!("the '{label}' trial did not run"),
        measured: "-".to_string(),
        predicted: "-".to_string(),
        speedup: None,
    }
}

/// A claim that needs a capability fanout does not have yet.
pub fn pending(needs: &str) -> Judgement {
    Judgement {
        verdict: Verdict::Pending,
        reason: format!("needs {needs}"),
        measured: "-".to_string(),
        predicted: "-".to_string(),
        speedup: None,
    }
}

/// The judgement of a rule that needs `figure` from a run whose engine does not give it.
pub fn not_measured(figure: Figure, run: &RunSummary) -> Judgement {
    Judgement {
        verdict: Verdict::NotMeasured,
        reason: format!(
            "the rule is judged on {}: {}",
            figure.name(),
            run.server_engine.why_not_measured(figure)
        ),
        measured: NOT_MEASURED.to_string(),
        predicted: "-".to_string(),
        speedup: None,
    }
}

/// The connections the server of `run` accepted, or, when its engine does not count
/// them, the judgement that says so: a rule judged on connections never reads a null
/// as zero.
pub fn connections(run: &RunSummary) -> Result<u64, Judgement> {
    match run.server.connections {
        Some(count) if run.server_engine.measures(Figure::Connections) => Ok(count),
        _ => Err(not_measured(Figure::Connections, run)),
    }
}

/// Sequential against concurrent, judged on the speedup `target` the document gives
/// and on both walls matching the model (sum of the delays, the slowest delay).
pub fn speedup_near(target: f64, runs: &[Ran]) -> Judgement {
    let (Some(seq), Some(conc)) = (
        summary(runs, TrialKey::Sequential),
        summary(runs, TrialKey::Concurrent),
    ) else {
        return missing("sequential or concurrent");
    };
    let measured = seq.wall_ms / conc.wall_ms;
    let model = seq.predicted_ms / conc.predicted_ms;
    let walls = format!(
        "sequential {} (sum of delays {}, {}), concurrent {} (slowest delay {}, {})",
        secs(seq.wall_ms),
        secs(seq.delays_ms.sum),
        pct(seq.wall_ms, seq.delays_ms.sum),
        secs(conc.wall_ms),
        secs(conc.delays_ms.max),
        pct(conc.wall_ms, conc.delays_ms.max),
    );
    let both_match = matches_model(seq) && matches_model(conc);
    let (verdict, why) = if near(measured, target, SPEEDUP_TOLERANCE) && both_match {
        (
            Verdict::Reproduced,
            format!("{measured:.1}x against the document's {target:.1}x"),
        )
    } else if near(measured, target, SPEEDUP_TOLERANCE) {
        (
            Verdict::Qualified,
            format!("{measured:.1}x as the document says, but a wall is off the model"),
        )
    } else if measured >= 0.5 * target && measured > 1.5 {
        (
            Verdict::Qualified,
            format!(
                "{measured:.1}x, not the document's {target:.1}x; the model says {model:.1}x for these delays"
            ),
        )
    } else {
        (
            Verdict::Refuted,
            format!("{measured:.1}x, far from the document's {target:.1}x"),
        )
    };
    Judgement {
        verdict,
        reason: format!("{why}: {walls}"),
        measured: speedup_text(measured, seq.wall_ms, conc.wall_ms),
        predicted: speedup_text(model, seq.predicted_ms, conc.predicted_ms),
        speedup: Some(Speedups {
            document: Some(target),
            model,
            measured,
        }),
    }
}

/// A concurrent run judged on "as long as the slowest request".
pub fn concurrent_as_slowest(runs: &[Ran]) -> Judgement {
    let Some(conc) = summary(runs, TrialKey::Concurrent) else {
        return missing("concurrent");
    };
    let slowest = conc.delays_ms.max;
    let verdict = tiered(conc.wall_ms, slowest, 0.5);
    Judgement {
        verdict,
        reason: format!(
            "concurrent took {} = the slowest delay {} {}; the {} requests' delays sum to {}",
            secs(conc.wall_ms),
            secs(slowest),
            pct(conc.wall_ms, slowest),
            conc.n,
            secs(conc.delays_ms.sum)
        ),
        measured: secs(conc.wall_ms),
        predicted: secs(conc.predicted_ms),
        speedup: None,
    }
}

/// Both walls against the document's formula: sequential = n × mean, async = max.
/// `document_speedup` is the ratio the document's own figures give.
pub fn formula(runs: &[Ran], document_speedup: f64, async_bound_ms: Option<f64>) -> Judgement {
    let (Some(seq), Some(conc)) = (
        summary(runs, TrialKey::Sequential),
        summary(runs, TrialKey::Concurrent),
    ) else {
        return missing("sequential or concurrent");
    };
    let (sum, max) = (seq.delays_ms.sum, conc.delays_ms.max);
    // The formula plus the calibrated overheads is the model: a wall matches the formula
    // when it matches the model and the overheads are a small part of the model.
    let fits = |s: &RunSummary, formula_ms: f64| {
        matches_model(s) && near(s.predicted_ms, formula_ms, MODEL_TOLERANCE)
    };
    let seq_ok = fits(seq, sum);
    let conc_ok = match async_bound_ms {
        Some(bound) => conc.wall_ms < bound,
        None => fits(conc, max),
    };
    let verdict = match (seq_ok, conc_ok) {
        (true, true) => Verdict::Reproduced,
        (_, true) => Verdict::Qualified,
        (_, false) if conc.wall_ms < seq.wall_ms / 2.0 => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    let bound = async_bound_ms.map_or(String::new(), |b| format!(" (bound {})", secs(b)));
    Judgement {
        verdict,
        reason: format!(
            "sequential {} vs n × mean {} {}; async {} vs the slowest {} {}{bound}",
            secs(seq.wall_ms),
            secs(sum),
            pct(seq.wall_ms, sum),
            secs(conc.wall_ms),
            secs(max),
            pct(conc.wall_ms, max),
        ),
        measured: format!("{} vs {}", secs(seq.wall_ms), secs(conc.wall_ms)),
        predicted: format!("{} vs {}", secs(seq.predicted_ms), secs(conc.predicted_ms)),
        speedup: Some(Speedups {
            document: Some(document_speedup),
            model: seq.predicted_ms / conc.predicted_ms,
            measured: seq.wall_ms / conc.wall_ms,
        }),
    }
}

/// A limited run: the server's peak in-flight must equal the limit, and the wall match
/// the model's waves.
pub fn limit_held(runs: &[Ran], limit: u64) -> Judgement {
    let Some(run) = summary(runs, TrialKey::Limited) else {
        return missing("limited");
    };
    let peak = run.server.peak_in_flight;
    let waves = run.wall_ms / run.delays_ms.max.max(f64::MIN_POSITIVE);
    let verdict = if peak > limit {
        Verdict::Refuted
    } else if peak == limit.min(run.n) && matches_model(run) {
        Verdict::Reproduced
    } else {
        Verdict::Qualified
    };
    Judgement {
        verdict,
        reason: format!(
            "the server never held more than {peak} at once (limit {limit}); {} requests took {} ≈ {waves:.1} × the slowest delay, model {}",
            run.n,
            secs(run.wall_ms),
            secs(run.predicted_ms)
        ),
        measured: format!("peak {peak}, {}", secs(run.wall_ms)),
        predicted: format!("peak {}, {}", limit.min(run.n), secs(run.predicted_ms)),
        speedup: None,
    }
}

/// A sequential run judged against an absolute (time-scaled) figure.
pub fn sequential_about(runs: &[Ran], expected_ms: f64) -> Judgement {
    let Some(seq) = summary(runs, TrialKey::Sequential) else {
        return missing("sequential");
    };
    Judgement {
        verdict: tiered(seq.wall_ms, expected_ms, 0.5),
        reason: format!(
            "sequential took {} against the document's {} (scaled) {}",
            secs(seq.wall_ms),
            secs(expected_ms),
            pct(seq.wall_ms, expected_ms)
        ),
        measured: secs(seq.wall_ms),
        predicted: secs(seq.predicted_ms),
        speedup: None,
    }
}
