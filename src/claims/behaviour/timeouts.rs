//! Rules about timeouts: each library's default against a hanging endpoint, and a
//! per-request timeout inside a bounded batch.
//!
//! Read next: [`super::pacing`].

use crate::claims::rules::{MODEL_TOLERANCE, missing, near, secs};
use crate::claims::trial::{Library, TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};
use crate::measure::Outcome;

/// When each timeout trial's one request ended, and how.
fn ended(runs: &[Ran], key: TrialKey) -> Option<(Outcome, f64)> {
    let run = find(runs, key)?;
    let sample = run.output.measurements.samples.first()?;
    Some((sample.outcome, sample.end.as_secs_f64() * 1e3))
}

/// The timeout trial of `library`, with its default or an explicit timeout.
fn timeout(library: Library, explicit: bool) -> TrialKey {
    TrialKey::Timeout { library, explicit }
}

/// Each client's default timeout against a hanging endpoint, then an explicit one.
/// The document says the sync client (requests) waits forever and the async one
/// (httpx) gives up after 5 s.
pub fn timeout_defaults(runs: &[Ran], deadline_ms: f64, explicit_ms: f64) -> Judgement {
    let describe = |label: TrialKey| match ended(runs, label) {
        Some((Outcome::Cancelled, at)) => (
            true,
            format!(
                "{label}: no answer and no timeout, cut at the run's deadline {}",
                secs(at)
            ),
        ),
        Some((outcome, at)) => (
            false,
            format!("{label}: {} after {}", outcome.name(), secs(at)),
        ),
        None => (false, format!("{label}: did not run")),
    };
    let (ureq_waits, ureq_text) = describe(timeout(Library::Ureq, false));
    let (reqwest_waits, reqwest_text) = describe(timeout(Library::Reqwest, false));
    let fires_at_explicit = |key: TrialKey| {
        matches!(
            ended(runs, key),
            Some((Outcome::Timeout, at)) if near(at, explicit_ms, MODEL_TOLERANCE)
        )
    };
    let with_timeout = [Library::Ureq, Library::Reqwest].map(|library| timeout(library, true));
    let explicit_ok = with_timeout.into_iter().all(fires_at_explicit);
    let explicit: Vec<String> = with_timeout
        .iter()
        .map(|&label| match ended(runs, label) {
            Some((outcome, at)) => format!(
                "{label} {}: {} at {}",
                secs(explicit_ms),
                outcome.name(),
                secs(at)
            ),
            None => format!("{label}: did not run"),
        })
        .collect();
    // The document's pair: the sync client waits, the async one stops by itself at 5 s
    // (scaled); only a timeout near that time is evidence of it.
    let async_stops_itself = fires_at_explicit(timeout(Library::Reqwest, false));
    let verdict = match (explicit_ok, ureq_waits && async_stops_itself) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        (false, _) => Verdict::Refuted,
    };
    Judgement {
        verdict,
        reason: format!(
            "{ureq_text}; {reqwest_text} (unlike httpx, reqwest sets no default timeout); {}",
            explicit.join("; ")
        ),
        measured: format!(
            "defaults: ureq {}, reqwest {}",
            if ureq_waits { "none" } else { "fires" },
            if reqwest_waits { "none" } else { "fires" }
        ),
        predicted: format!(
            "explicit {} fires, run cut at {}",
            secs(explicit_ms),
            secs(deadline_ms)
        ),
        speedup: None,
    }
}

/// A per-request timeout inside a bounded batch: the hanging request times out at its
/// timeout, the batch ends then (well inside its bound), the fast answers are kept.
pub fn timeout_in_batch(runs: &[Ran], timeout_ms: f64, bound_ms: f64) -> Judgement {
    let Some(run) = find(runs, TrialKey::Batch) else {
        return missing("batch");
    };
    let samples = &run.output.measurements.samples;
    let timed_out: Vec<f64> = samples
        .iter()
        .filter(|s| s.outcome == Outcome::Timeout)
        .map(|s| s.end.as_secs_f64() * 1e3)
        .collect();
    let kept = samples.iter().filter(|s| s.outcome == Outcome::Ok).count();
    let wall = run.summary.wall_ms;
    let slow_fired = timed_out.len() == 1 && near(timed_out[0], timeout_ms, MODEL_TOLERANCE);
    let verdict = if slow_fired && kept == samples.len() - 1 && wall < bound_ms {
        Verdict::Reproduced
    } else if wall < bound_ms {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    Judgement {
        verdict,
        reason: format!(
            "the hanging request ended as timeout at {} (timeout {}), the batch took {} (bound {}), and {kept} of {} fast answers were kept",
            timed_out.first().map_or("-".to_string(), |t| secs(*t)),
            secs(timeout_ms),
            secs(wall),
            secs(bound_ms),
            samples.len().saturating_sub(1)
        ),
        measured: format!("{kept} ok + {} timeout, {}", timed_out.len(), secs(wall)),
        predicted: format!(
            "{} ok + 1 timeout, {}",
            samples.len().saturating_sub(1),
            secs(timeout_ms)
        ),
        speedup: None,
    }
}
