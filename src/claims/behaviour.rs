//! Verdict rules about behaviour rather than speed: connections, failures, order, and
//! how the speedup grows with n.

use super::rules::{MODEL_TOLERANCE, connections, missing, near, pct, secs, trial};
use super::{Judgement, Ran, Speedups, Verdict};
use crate::measure::Outcome;
use crate::server::DEFAULT_H2_MAX_STREAMS;

/// HTTP/1.1 against HTTP/2 at the same concurrency: connections, and waves past the
/// server's stream limit.
pub fn http2_one_connection(runs: &[Ran]) -> Judgement {
    let (Some(h1), Some(h2)) = (trial(runs, "HTTP/1.1"), trial(runs, "HTTP/2")) else {
        return missing("HTTP/1.1 or HTTP/2");
    };
    let (c1, c2) = match (connections(h1), connections(h2)) {
        (Ok(c1), Ok(c2)) => (c1, c2),
        (Err(not_measured), _) | (_, Err(not_measured)) => return not_measured,
    };
    let waves = h2.n.div_ceil(u64::from(DEFAULT_H2_MAX_STREAMS));
    let measured_waves = h2.wall_ms / h2.delays_ms.max.max(f64::MIN_POSITIVE);
    // hyper may open a second connection when many requests race the first one's
    // handshake: still multiplexing, so only HTTP/2 needing a tenth of HTTP/1.1's
    // connections or more contradicts the claim.
    let verdict = if c2 == 0 || c2 * 10 > c1 || (c1 as f64) < 0.9 * h1.n as f64 {
        Verdict::Refuted
    } else if waves > 1 || c2 > 1 {
        Verdict::Qualified
    } else {
        Verdict::Reproduced
    };
    Judgement {
        verdict,
        reason: format!(
            "HTTP/2 used {c2} connection for {} requests, HTTP/1.1 {c1}; the server allows {} streams per connection, so HTTP/2 ran in {waves} waves ({} = {measured_waves:.1} × the delay) against HTTP/1.1's {}",
            h2.n,
            DEFAULT_H2_MAX_STREAMS,
            secs(h2.wall_ms),
            secs(h1.wall_ms)
        ),
        measured: format!(
            "{c2} vs {c1} connections, {} vs {}",
            secs(h2.wall_ms),
            secs(h1.wall_ms)
        ),
        predicted: format!(
            "1 vs {} connections, {} vs {}",
            h1.n,
            secs(h2.predicted_ms),
            secs(h1.predicted_ms)
        ),
        speedup: None,
    }
}

/// One shared client against a new client per request: connections and cost.
pub fn client_reuse(runs: &[Ran]) -> Judgement {
    let (Some(shared), Some(fresh)) = (
        trial(runs, "sequential, shared client"),
        trial(runs, "sequential, client per request"),
    ) else {
        return missing("sequential shared or per-request");
    };
    let per_request =
        |s: &crate::summary::RunSummary| (s.wall_ms - s.delays_ms.sum).max(0.0) / s.n as f64;
    let (cost_shared, cost_fresh) = (per_request(shared), per_request(fresh));
    let (c_shared, c_fresh) = match (connections(shared), connections(fresh)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(not_measured), _) | (_, Err(not_measured)) => return not_measured,
    };
    let more_connections = c_fresh >= fresh.n && c_shared * 5 <= c_fresh;
    // A tenth of a millisecond per request is well above this machine's noise on a
    // 20-request mean, and below what one loopback connection set-up costs.
    let costs_more = cost_fresh - cost_shared > 0.1;
    let verdict = match (more_connections, costs_more) {
        (true, true) => Verdict::Reproduced,
        (true, false) => Verdict::Qualified,
        _ => Verdict::Refuted,
    };
    let concurrent = match (
        trial(runs, "concurrent, shared client"),
        trial(runs, "concurrent, client per request"),
    ) {
        (Some(a), Some(b)) => format!(
            "; concurrent: {} vs {} connections, {} vs {}",
            crate::server::engine::count_or_not_measured(a.server.connections),
            crate::server::engine::count_or_not_measured(b.server.connections),
            secs(a.wall_ms),
            secs(b.wall_ms)
        ),
        _ => String::new(),
    };
    Judgement {
        verdict,
        reason: format!(
            "sequential: a shared client opened {c_shared} connection(s) and cost {cost_shared:.2} ms per request beyond the delay; a client per request opened {c_fresh} and cost {cost_fresh:.2} ms{concurrent}"
        ),
        measured: format!(
            "{c_shared} vs {c_fresh} conns, {cost_shared:.2} vs {cost_fresh:.2} ms/req"
        ),
        predicted: format!("1 vs {} conns", fresh.n),
        speedup: None,
    }
}

/// Fail-fast against collect-all on an endpoint that always fails.
pub fn fail_fast(runs: &[Ran], limit: u64) -> Judgement {
    let (Some(ff), Some(all)) = (trial(runs, "fail-fast"), trial(runs, "collect-all")) else {
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
    let (Some(ok), Some(failing)) = (trial(runs, "all succeed"), trial(runs, "one fails")) else {
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

/// Results in completion order: the order of the answers is the order of the delays.
pub fn completion_order(runs: &[Ran]) -> Judgement {
    let Some(run) = runs.iter().find(|r| r.label == "as completed") else {
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

/// Speedup against n: where 10x and 100x hold. Trials are labelled `n=N sequential`
/// and `n=N concurrent`.
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
        .filter(|r| r.label.ends_with(" sequential"))
        .filter_map(|seq| {
            let n_label = seq.label.trim_end_matches(" sequential");
            let conc = trial(runs, &format!("{n_label} concurrent"))?;
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

/// When each timeout trial's one request ended, and how.
fn ended(runs: &[Ran], label: &str) -> Option<(Outcome, f64)> {
    let run = runs.iter().find(|r| r.label == label)?;
    let sample = run.output.measurements.samples.first()?;
    Some((sample.outcome, sample.end.as_secs_f64() * 1e3))
}

/// Each client's default timeout against a hanging endpoint, then an explicit one.
/// The document says the sync client (requests) waits forever and the async one
/// (httpx) gives up after 5 s.
pub fn timeout_defaults(runs: &[Ran], deadline_ms: f64, explicit_ms: f64) -> Judgement {
    let describe = |label: &str| match ended(runs, label) {
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
    let (ureq_waits, ureq_text) = describe("ureq default");
    let (reqwest_waits, reqwest_text) = describe("reqwest default");
    let fired = |label: &str| matches!(ended(runs, label), Some((Outcome::Timeout, at)) if near(at, explicit_ms, MODEL_TOLERANCE));
    let explicit_ok = fired("ureq with timeout") && fired("reqwest with timeout");
    let explicit: Vec<String> = ["ureq with timeout", "reqwest with timeout"]
        .iter()
        .map(|label| match ended(runs, label) {
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
    let async_stops_itself = matches!(
        ended(runs, "reqwest default"),
        Some((Outcome::Timeout, at)) if near(at, explicit_ms, MODEL_TOLERANCE)
    );
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
    let Some(run) = runs.iter().find(|r| r.label == "batch") else {
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
                    run.label,
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
        seen.push(format!("{}: {}", run.label, kinds.join(", ")));
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
        runs.iter()
            .find(|r| r.label == "sliding window (as written)"),
        runs.iter().find(|r| r.label == "GCRA (governor)"),
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
        trial(runs, "all at once"),
        trial(runs, "paced under the limit"),
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

/// Retry chains: each wait inside its backoff bounds, and m chains at once taking about
/// as long as one.
pub fn retry_chains(runs: &[Ran], base_ms: f64, delay_ms: f64, failures: u32) -> Judgement {
    let Some(many) = runs.iter().find(|r| r.label == "10 chains at once") else {
        return missing("10 chains at once");
    };
    let one_wall = trial(runs, "one chain").map_or(0.0, |s| s.wall_ms);
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

/// JSON POSTs sent at once: every one created (201), every body received, together in
/// about the slowest one's time.
pub fn posts_created(runs: &[Ran]) -> Judgement {
    let Some(run) = runs.iter().find(|r| r.label == "POSTs at once") else {
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

/// A blocking sleep in every task against an async one, on one thread.
pub fn blocking_sleep(runs: &[Ran], work_ms: f64) -> Judgement {
    let (Some(blocking), Some(fine)) = (trial(runs, "blocking sleep"), trial(runs, "async sleep"))
    else {
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
    let Some(run) = trial(runs, "never awaited") else {
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
