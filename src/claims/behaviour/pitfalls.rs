//! Rules about the pitfalls: a blocking sleep inside async code, and futures never
//! awaited.

use crate::claims::rules::{missing, near, pct, secs, summary};
use crate::claims::trial::TrialKey;
use crate::claims::{Judgement, Ran, Verdict};

/// A blocking sleep in every task against an async one, on one thread.
pub fn blocking_sleep(runs: &[Ran], work_ms: f64) -> Judgement {
    let (Some(blocking), Some(fine)) = (
        summary(runs, TrialKey::BlockingSleep),
        summary(runs, TrialKey::AsyncSleep),
    ) else {
        return missing("blocking sleep or async sleep");
    };
    let n = blocking.n as f64;
    let serial = n * work_ms + blocking.delays_ms.max;
    let overlapped = work_ms + fine.delays_ms.max;
    let blocked = near(blocking.wall_ms, serial, 0.15);
    let overlaps = near(fine.wall_ms, overlapped, 0.25);
    let verdict = match (blocked, overlaps) {
        (true, true) => Verdict::Reproduced,
        (true, false) | (false, true) => Verdict::Qualified,
        (false, false) => Verdict::Refuted,
    };
    Judgement {
        verdict,
        reason: format!(
            "{} tasks each working {} first: with std::thread::sleep the run took {} ≈ n × work + delay = {} ({}); with tokio::time::sleep {} ≈ work + delay = {} ({})",
            blocking.n,
            secs(work_ms),
            secs(blocking.wall_ms),
            secs(serial),
            pct(blocking.wall_ms, serial),
            secs(fine.wall_ms),
            secs(overlapped),
            pct(fine.wall_ms, overlapped)
        ),
        measured: format!("{} vs {}", secs(blocking.wall_ms), secs(fine.wall_ms)),
        predicted: format!("{} vs {}", secs(serial), secs(overlapped)),
        speedup: None,
    }
}

/// Futures built and never awaited: the server must see nothing.
pub fn never_awaited(runs: &[Ran]) -> Judgement {
    let Some(run) = summary(runs, TrialKey::NeverAwaited) else {
        return missing("never awaited");
    };
    let received = run.server.received;
    let verdict = if received == 0 {
        Verdict::Reproduced
    } else {
        Verdict::Refuted
    };
    Judgement {
        verdict,
        reason: format!(
            "{} request futures were built and dropped unawaited; the server received {received} (Rust futures are lazy: nothing is sent until polled) and every request is accounted as cancelled",
            run.n
        ),
        measured: format!("{received} received"),
        predicted: "0 received".to_string(),
        speedup: None,
    }
}
