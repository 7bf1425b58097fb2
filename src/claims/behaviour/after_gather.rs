//! After gather: the rules of the "beyond the tutorials" rows about racing copies and
//! channels.
//!
//! - [`hedging`]: hedging after the 95th percentile cuts the tail for a few percent
//!   more requests. Reproduced when the hedged run's p99 is at most
//!   [`HEDGE_P99_RATIO`] and its p99.9 at most [`HEDGE_P999_RATIO`] of the unhedged
//!   run's (same seed, so the same first copies), the server received at most
//!   [`HEDGE_EXTRA`] more requests than n, and the model's p99 and p99.9 are within
//!   [`TAIL_MODEL_TOLERANCE`] of the measured; qualified when the tail is cut but a
//!   bound is missed; refuted when it is not cut.
//! - [`first_of`]: the first answer of K copies comes after the least of K draws.
//!   Reproduced when the wall and the p50 are within [`FIRST_OF_TOLERANCE`] of the
//!   model's (the least draw per request, list-scheduled), qualified within three times
//!   that, refuted beyond.
//! - [`backpressure`]: a bounded channel keeps the client's memory flat, an unbounded
//!   one grows with n. Reproduced when the bounded run's peak RSS is within
//!   [`MEMORY_TOLERANCE`] of its RSS before the run plus the bodies the design allows
//!   it to hold, and the unbounded run's growth rises with n (at least 1.5 times from
//!   n to 2n) and is at least four times the bounded run's; qualified when only the
//!   growth holds; refuted otherwise.
//!
//! Read next: [`crate::strategy::replicas`], [`crate::strategy::backpressure`].

use crate::claims::rules::{missing, near, pct, secs};
use crate::claims::trial::{TrialKey, find};
use crate::claims::{Judgement, Ran, Verdict};
use crate::strategy::Strategy;

/// The hedged p99 over the unhedged one, at most (the target; the
/// distribution alone gives about 0.6 at p95).
pub const HEDGE_P99_RATIO: f64 = 0.65;
/// The hedged p99.9 over the unhedged one, at most.
pub const HEDGE_P999_RATIO: f64 = 0.40;
/// The extra requests at the server, as a fraction of n, at most.
pub const HEDGE_EXTRA: f64 = 0.07;
/// How far the measured tail may be from the model's.
pub const TAIL_MODEL_TOLERANCE: f64 = 0.15;
/// How far first-of's wall and p50 may be from the model's.
pub const FIRST_OF_TOLERANCE: f64 = 0.05;
/// How far the bounded channel's peak memory may be from the design's.
pub const MEMORY_TOLERANCE: f64 = 0.20;

/// Hedged against unhedged, on the same seeded delays.
pub fn hedging(runs: &[Ran]) -> Judgement {
    let (Some(plain), Some(hedged)) = (
        find(runs, TrialKey::Strategy(Strategy::AsyncSemaphore)),
        find(runs, TrialKey::Strategy(Strategy::AsyncHedged)),
    ) else {
        return missing("unhedged or hedged run");
    };
    let (p, h) = (&plain.summary, &hedged.summary);
    let r99 = h.latency_ms.p99 / p.latency_ms.p99.max(1e-9);
    let r999 = h.latency_ms.p999 / p.latency_ms.p999.max(1e-9);
    let extra = h.copies.and_then(|c| c.extra_fraction).unwrap_or(f64::NAN);
    let model = &h.predicted_latency_ms;
    let modelled = near(h.latency_ms.p99, model.p99, TAIL_MODEL_TOLERANCE)
        && near(h.latency_ms.p999, model.p999, TAIL_MODEL_TOLERANCE);
    let within = r99 <= HEDGE_P99_RATIO && r999 <= HEDGE_P999_RATIO && extra <= HEDGE_EXTRA;
    let verdict = match (r99 < 1.0 && r999 < 1.0, within && modelled) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        (false, _) => Verdict::Refuted,
    };
    Judgement {
        verdict,
        reason: format!(
            "n = {}, {} in flight: hedged after {} the p99 went from {} to {} ({r99:.2} x, bound {HEDGE_P99_RATIO}) and the p99.9 from {} to {} ({r999:.2} x, bound {HEDGE_P999_RATIO}), for {:.1} % more requests at the server (bound {:.0} %); the model's hedged p99 {} ({}) and p99.9 {} ({})",
            h.n,
            h.limit.unwrap_or(0),
            hedged.output.scenario.client.hedge_after,
            secs(p.latency_ms.p99),
            secs(h.latency_ms.p99),
            secs(p.latency_ms.p999),
            secs(h.latency_ms.p999),
            extra * 100.0,
            HEDGE_EXTRA * 100.0,
            secs(model.p99),
            pct(h.latency_ms.p99, model.p99),
            secs(model.p999),
            pct(h.latency_ms.p999, model.p999),
        ),
        measured: format!(
            "p99 {r99:.2} x, p99.9 {r999:.2} x, +{:.1} % requests",
            extra * 100.0
        ),
        predicted: format!(
            "p99 {:.2} x, p99.9 {:.2} x",
            model.p99 / p.latency_ms.p99.max(1e-9),
            model.p999 / p.latency_ms.p999.max(1e-9)
        ),
        speedup: None,
    }
}

/// First-of-K against the least of K draws.
pub fn first_of(runs: &[Ran]) -> Judgement {
    let Some(run) = find(runs, TrialKey::Strategy(Strategy::AsyncFirstOf)) else {
        return missing("first-of run");
    };
    let s = &run.summary;
    let replicas = run.output.scenario.client.replicas;
    let worst = (s.wall_ms / s.predicted_ms - 1.0)
        .abs()
        .max((s.latency_ms.p50 / s.predicted_latency_ms.p50 - 1.0).abs());
    let verdict = if worst <= FIRST_OF_TOLERANCE {
        Verdict::Reproduced
    } else if worst <= 3.0 * FIRST_OF_TOLERANCE {
        Verdict::Qualified
    } else {
        Verdict::Refuted
    };
    let received = s.copies.and_then(|c| c.received_at_server).unwrap_or(0);
    let abandoned = s.copies.and_then(|c| c.abandoned_at_server).unwrap_or(0);
    Judgement {
        verdict,
        reason: format!(
            "{} requests as {replicas} copies each, {} in flight: wall {} against the model's {} ({}), p50 {} against {} ({}); the server received {received} requests and {abandoned} of the losers were cut mid-request",
            s.n,
            s.limit.unwrap_or(0),
            secs(s.wall_ms),
            secs(s.predicted_ms),
            pct(s.wall_ms, s.predicted_ms),
            secs(s.latency_ms.p50),
            secs(s.predicted_latency_ms.p50),
            pct(s.latency_ms.p50, s.predicted_latency_ms.p50),
        ),
        measured: format!("wall {}, p50 {}", secs(s.wall_ms), secs(s.latency_ms.p50)),
        predicted: format!(
            "{}, {}",
            secs(s.predicted_ms),
            secs(s.predicted_latency_ms.p50)
        ),
        speedup: None,
    }
}

/// A figure the trials ran without: pending, naming it.
fn unmeasured(what: &str) -> Judgement {
    Judgement {
        verdict: Verdict::Pending,
        reason: format!("{what} was not measured"),
        measured: "-".to_string(),
        predicted: "-".to_string(),
        speedup: None,
    }
}

/// A run's peak RSS growth, MiB, and its RSS before, MiB.
fn growth(run: &Ran) -> Option<(f64, f64)> {
    let f = run.summary.client_footprint?;
    Some((f.peak_rss_mib - f.rss_before_mib, f.rss_before_mib))
}

/// A bounded channel's memory against the design; an unbounded one's against n.
pub fn backpressure(runs: &[Ran], n: u64) -> Judgement {
    let key = |bounded, n| TrialKey::Channel { bounded, n };
    let (Some(bounded), Some(half), Some(whole)) = (
        find(runs, key(true, n)),
        find(runs, key(false, n / 2)),
        find(runs, key(false, n)),
    ) else {
        return missing("bounded or unbounded pipeline");
    };
    let (Some((b_growth, b_before)), Some((h_growth, _)), Some((w_growth, _))) =
        (growth(bounded), growth(half), growth(whole))
    else {
        return unmeasured("the client's memory (read from /proc, on Linux only)");
    };
    let Some(figures) = &bounded.summary.pipeline else {
        return unmeasured("the bounded pipeline's channel");
    };
    let held = figures.expected_bodies().unwrap_or(0);
    let body_mib = figures.body_bytes as f64 / (1 << 20) as f64;
    let design_mib = held as f64 * body_mib;
    let peak = b_before + b_growth;
    let flat = near(peak, b_before + design_mib, MEMORY_TOLERANCE);
    let grows = w_growth >= 1.5 * h_growth && w_growth >= 4.0 * b_growth.max(1.0);
    let verdict = match (grows, flat) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        (false, _) => Verdict::Refuted,
    };
    let queued = |run: &Ran| run.summary.pipeline.as_ref().map_or(0, |p| p.peak_queued);
    Judgement {
        verdict,
        reason: format!(
            "bodies of {body_mib:.2} MiB, {} fetchers, {} consumer(s) at {} each: the bounded channel ({}) peaked at {} queued and {peak:.1} MiB, against {b_before:.1} MiB before plus {held} bodies by design = {:.1} MiB ({}); unbounded, {} queued and +{h_growth:.0} MiB at n = {}, {} queued and +{w_growth:.0} MiB at n = {n}",
            figures.fetchers,
            figures.consumers,
            secs(figures.work_ms),
            figures.channel,
            figures.peak_queued,
            b_before + design_mib,
            pct(peak, b_before + design_mib),
            queued(half),
            n / 2,
            queued(whole),
        ),
        measured: format!(
            "+{b_growth:.0} MiB bounded; +{h_growth:.0} and +{w_growth:.0} MiB unbounded"
        ),
        predicted: format!("+{design_mib:.0} MiB bounded; growing with n unbounded"),
        speedup: None,
    }
}
