//! Rules about rates, counted in the server's own windows: a limiter against its
//! promise, and a burst against a rate-limited server.
//!
//! Read next: [`super::results`].

use crate::claims::rules::{MODEL_TOLERANCE, missing, near, secs, summary};
use crate::claims::trial::{TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};
use crate::measure::Outcome;

/// The most arrivals the server saw in any window of `window_us`.
pub fn busiest_window(run: &Ran, window_us: u64) -> u64 {
    let mut arrivals: Vec<u64> = run
        .output
        .ledger
        .entries
        .iter()
        .map(|e| e.arrival_us)
        .collect();
    arrivals.sort_unstable();
    crate::server::ledger::max_in_window(&arrivals, window_us)
}

/// Each limiter against its promise, counted in the server's own windows.
pub fn limiters_keep_promise(runs: &[Ran], promised: u64, window_us: u64) -> Judgement {
    let (Some(naive), Some(gcra)) = (
        find(runs, TrialKey::SlidingWindow),
        find(runs, TrialKey::Gcra),
    ) else {
        return missing("sliding window or GCRA");
    };
    let (naive_max, gcra_max) = (
        busiest_window(naive, window_us),
        busiest_window(gcra, window_us),
    );
    let window = secs(window_us as f64 / 1e3);
    // The claim is the chapter's limiter's: it stands or falls on its own count. The
    // GCRA count shows what keeping the promise looks like on the same server.
    let verdict = if naive_max <= promised {
        Verdict::Reproduced
    } else {
        Verdict::Refuted
    };
    Judgement {
        verdict,
        reason: format!(
            "promised {promised} per {window}; the server saw at most {naive_max} in one window from the chapter's sliding-window limiter (its queued callers all wake together and record the time they began waiting) and at most {gcra_max} from governor's GCRA; {} requests took {} and {}",
            naive.summary.n,
            secs(naive.summary.wall_ms),
            secs(gcra.summary.wall_ms)
        ),
        measured: format!("max/window: sliding {naive_max}, GCRA {gcra_max}"),
        predicted: format!("≤ {promised}, {}", secs(gcra.summary.predicted_ms)),
        speedup: None,
    }
}

/// Fire everything at a rate-limited server, then pace the client under its limit.
pub fn rate_limited_server(runs: &[Ran]) -> Judgement {
    let (Some(burst), Some(paced)) = (
        summary(runs, TrialKey::AllAtOnce),
        summary(runs, TrialKey::Paced),
    ) else {
        return missing("all at once or paced");
    };
    let rejected = |s: &crate::summary::RunSummary| s.count(Outcome::Http429);
    let (burst_429, paced_429) = (rejected(burst), rejected(paced));
    let verdict = if burst_429 * 10 >= burst.n * 9
        && paced_429 == 0
        && near(paced.wall_ms, paced.predicted_ms, MODEL_TOLERANCE)
    {
        Verdict::Reproduced
    } else if burst_429 > 0 && paced_429 == 0 {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    Judgement {
        verdict,
        reason: format!(
            "{} requests at once earned {burst_429} 429s ({} served); paced just under the server's limit, {} requests earned {paced_429} and took {} (model {})",
            burst.n,
            burst.n - burst_429,
            paced.n,
            secs(paced.wall_ms),
            secs(paced.predicted_ms)
        ),
        measured: format!("{burst_429} vs {paced_429} × 429"),
        predicted: format!("≈ {} vs 0 × 429", burst.n),
        speedup: None,
    }
}
