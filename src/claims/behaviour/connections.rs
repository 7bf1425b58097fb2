//! Rules about connections: HTTP/2's one connection against HTTP/1.1's many, and a
//! shared client against a client per request.
//!
//! Read next: [`super::failures`].

use crate::claims::rules::{connections, missing, secs, summary};
use crate::claims::trial::{Mode, TrialKey};
use crate::claims::{Judgement, Ran, Verdict};
use crate::server::DEFAULT_H2_MAX_STREAMS;
use crate::strategy::ClientReuse;

/// HTTP/1.1 against HTTP/2 at the same concurrency: connections, and waves past the
/// server's stream limit.
pub fn http2_one_connection(runs: &[Ran]) -> Judgement {
    let (Some(h1), Some(h2)) = (
        summary(runs, TrialKey::Http1),
        summary(runs, TrialKey::Http2),
    ) else {
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
        summary(runs, reuse(Mode::Sequential, ClientReuse::Shared)),
        summary(runs, reuse(Mode::Sequential, ClientReuse::PerRequest)),
    ) else {
        return missing("sequential shared or per-request");
    };
    // What each request costs beyond its delay, measured and modelled: on loopback a
    // connection's set-up, over a network its round trips as well.
    let beyond_delay = |wall_ms: f64, s: &crate::summary::RunSummary| {
        (wall_ms - s.delays_ms.sum).max(0.0) / s.n as f64
    };
    let (cost_shared, cost_fresh) = (
        beyond_delay(shared.wall_ms, shared),
        beyond_delay(fresh.wall_ms, fresh),
    );
    let (model_shared, model_fresh) = (
        beyond_delay(shared.predicted_ms, shared),
        beyond_delay(fresh.predicted_ms, fresh),
    );
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
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
        summary(runs, reuse(Mode::Concurrent, ClientReuse::Shared)),
        summary(runs, reuse(Mode::Concurrent, ClientReuse::PerRequest)),
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
            "sequential: a shared client opened {c_shared} connection(s) and cost {cost_shared:.2} ms per request beyond the delay; a client per request opened {c_fresh} and cost {cost_fresh:.2} ms (the model: {model_shared:.2} and {model_fresh:.2}); shared over per-request wall {:.3}, the model's {:.3}{concurrent}",
            ratio(shared.wall_ms, fresh.wall_ms),
            ratio(shared.predicted_ms, fresh.predicted_ms),
        ),
        measured: format!(
            "{c_shared} vs {c_fresh} conns, {cost_shared:.2} vs {cost_fresh:.2} ms/req"
        ),
        predicted: format!(
            "1 vs {} conns, {model_shared:.2} vs {model_fresh:.2} ms/req",
            fresh.n
        ),
        speedup: None,
    }
}

/// The client-reuse trial of `mode` with `client`.
fn reuse(mode: Mode, client: ClientReuse) -> TrialKey {
    TrialKey::Reuse { mode, client }
}
