//! The claims report's charts: which ones each claim gets, drawn from its trials' own
//! measurements, each named after the claim (`D0-fig1-timeline.svg`).
//!
//! Which charts a claim gets follows from its trials: a timeline always; server
//! in-flight over time when a limit or HTTP/2 is involved; arrivals per window when
//! something is paced; latency percentiles when it compares several trials; the
//! scaling chart for the scaling claim; and, over the internet-like link, a request
//! waterfall for trials that differ only in how they hold connections (a shared client
//! against one per request, HTTP/1.1 against HTTP/2), where it shows what each trial
//! paid in handshakes. The speedup chart gathers several claims.
//!
//! `claims_report.rs` embeds the files under their claims; read it next.

use super::chart_data::{
    in_flight_series, latency_row, percentiles_row, queue_chart, rate_series, timeline_run,
    waterfall_group, why_no_waterfall,
};
use super::charts::{self, ChartError, ScalingPoint, ScalingSeries, SpeedupGroup};
use crate::claims::behaviour::scaling_points;
use crate::claims::trial::{self, Mode, TrialKey};
use crate::claims::{ClaimResult, Ran, Setting};
use crate::output::RunOutput;
use crate::strategy::Strategy;

/// One SVG file of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartFile {
    /// File name inside the report directory.
    pub name: String,
    /// Its caption.
    pub caption: String,
    /// The row it belongs to ([`ClaimResult::slug`]), or `None` for the summary charts.
    pub claim: Option<String>,
    /// The SVG document.
    pub svg: String,
}

/// Rows one claim's waterfall draws, shared among its trials: with two trials each
/// shows its first 30 requests, enough to see the connections open.
const CLAIM_WATERFALL_ROWS: usize = 60;

/// Every chart of the report.
pub fn charts(results: &[ClaimResult]) -> Result<Vec<ChartFile>, ChartError> {
    let mut files = Vec::new();
    let groups: Vec<SpeedupGroup> = results
        .iter()
        .filter(|r| scaling_points(&r.runs).is_empty())
        .filter_map(|r| {
            let s = r.judgement.speedup?;
            Some(SpeedupGroup {
                label: r.label(),
                document: s.document,
                model: s.model,
                measured: s.measured,
            })
        })
        .collect();
    if !groups.is_empty() {
        files.push(ChartFile {
            name: "speedups.svg".to_string(),
            caption: "Speedup per claim: the document's figure, the model's, the measured"
                .to_string(),
            claim: None,
            svg: charts::speedup_bars("Speedup: document, model, measured", &groups)?,
        });
    }
    for result in results.iter().filter(|r| !r.runs.is_empty()) {
        claim_charts(result, &mut files)?;
    }
    Ok(files)
}

/// One claim's charts, appended to `files`.
fn claim_charts(result: &ClaimResult, files: &mut Vec<ChartFile>) -> Result<(), ChartError> {
    let id = result.slug();
    let title = result.label();
    let file = |suffix: &str, caption: String, svg: String| ChartFile {
        name: format!("{id}-{suffix}.svg"),
        caption,
        claim: Some(id.clone()),
        svg,
    };
    if !scaling_points(&result.runs).is_empty() {
        let svg = charts::scaling(
            &format!("{title}: speedup against n"),
            &scaling_series(result),
        )?;
        let caption = "Wall time and speedup against n, measured and modelled";
        files.push(file("scaling", caption.to_string(), svg));
        return Ok(());
    }
    let lanes: Vec<_> = result
        .runs
        .iter()
        .map(|r| timeline_run(&r.label(), &r.output))
        .collect();
    let svg = charts::timeline(&format!("{title}: requests over time"), &lanes)?;
    let caption = "One bar per request, from its start to its end, coloured by outcome";
    files.push(file("timeline", caption.to_string(), svg));
    if let Some(svg) = in_flight_chart(result, &title)? {
        let caption = "Requests the server held at once, from its ledger";
        files.push(file("in-flight", caption.to_string(), svg));
    }
    let labelled: Vec<(String, &RunOutput)> =
        result.runs.iter().map(|r| (r.label(), &r.output)).collect();
    if let Some(svg) = queue_chart(&format!("{title}: bodies queued"), &labelled) {
        let caption =
            "Bodies waiting in the channel between fetchers and consumers, sampled every 10 ms";
        files.push(file("queue", caption.to_string(), svg?));
    }
    if let Some((caption, svg)) = per_window_chart(result, &title)? {
        files.push(file("per-window", caption, svg));
    }
    if result.runs.len() >= 2 {
        let mut rows = Vec::new();
        for r in &result.runs {
            match &r.summary.open_loop {
                // An open loop's latency two ways: from each send, and from each
                // intended start (what a user arriving on schedule waited).
                Some(open) => {
                    rows.push(latency_row(&format!("{} from send", r.label()), &r.output));
                    rows.push(percentiles_row(
                        &format!("{} from intended start", r.label()),
                        &open.from_intended_ms,
                    ));
                }
                None => rows.push(latency_row(&r.label(), &r.output)),
            }
        }
        let svg = charts::latency_percentiles(&format!("{title}: latency percentiles"), &rows)?;
        let caption = "Client-side latency percentiles per trial (an open loop's both from each send and from each intended start)";
        files.push(file("latency", caption.to_string(), svg));
    }
    let compared = waterfall_comparisons(result);
    let one = compared.len() == 1;
    for runs in compared {
        let strategy = runs[0].summary.strategy.name();
        let suffix = if one {
            "waterfall".to_string()
        } else {
            format!("waterfall-{strategy}")
        };
        let (caption, svg) = waterfall_chart(&runs, &title, strategy)?;
        files.push(file(&suffix, caption, svg));
    }
    Ok(())
}

/// Server in-flight over time, when a limit or HTTP/2 is involved.
fn in_flight_chart(result: &ClaimResult, title: &str) -> Result<Option<String>, ChartError> {
    let limit = result.runs.iter().find_map(|r| r.summary.limit);
    let http2 = result
        .runs
        .iter()
        .any(|r| r.summary.http == crate::HttpVersion::Http2);
    if limit.is_none() && !http2 {
        return Ok(None);
    }
    let series: Vec<_> = result
        .runs
        .iter()
        .map(|r| in_flight_series(&r.label(), &r.output))
        .collect();
    let title = format!("{title}: in flight at the server");
    charts::in_flight(&title, &series, limit.map(|l| l as u64)).map(Some)
}

/// Arrivals at the server per window, with the promised count, when something is
/// paced: the caption and the SVG.
fn per_window_chart(
    result: &ClaimResult,
    title: &str,
) -> Result<Option<(String, String)>, ChartError> {
    let paced = result.runs.iter().any(|r| {
        r.summary.rate.is_some() || r.output.scenario.profile.limits.max_per_second.is_some()
    });
    if !paced {
        return Ok(None);
    }
    // The server's own window when it enforces a limit (that is the promise the chart
    // checks); otherwise the rate-limited run's window.
    let server_limit = result
        .runs
        .iter()
        .map(|r| &r.output.scenario.profile.limits)
        .find(|limits| limits.max_per_second.is_some());
    let rate_window = result
        .runs
        .iter()
        .find(|r| r.summary.rate.is_some())
        .map(|r| r.output.scenario.client.rate_window.as_micros() as u64);
    let window_us = match (server_limit, rate_window) {
        (Some(limits), _) => limits.window_us(),
        (None, Some(window)) => window,
        (None, None) => 1_000_000,
    };
    let promised = result
        .runs
        .iter()
        .find_map(|r| r.output.scenario.profile.limits.max_per_second)
        .map(f64::from)
        .or_else(|| {
            result
                .runs
                .iter()
                .find_map(|r| r.summary.rate)
                .map(|rate| rate * window_us as f64 / 1e6)
        });
    let series: Vec<_> = result
        .runs
        .iter()
        .map(|r| rate_series(&r.label(), &r.output, window_us))
        .collect();
    let caption = format!(
        "Arrivals at the server per {} window, with the promised count",
        crate::duration::ms(window_us as f64 / 1e3)
    );
    let svg = charts::requests_per_window_of(
        &format!("{title}: arrivals per window at the server"),
        &series,
        promised,
        window_us as f64 / 1e6,
    )?;
    Ok(Some((caption, svg)))
}

/// The trials a waterfall compares, a set per strategy: over the internet-like link
/// only (on loopback a handshake costs nothing to see), and only trials of one strategy
/// that differ in how they hold connections: a shared client or one per request,
/// HTTP/1.1 or HTTP/2. Trials whose server kept no ledger to join are left out.
fn waterfall_comparisons(result: &ClaimResult) -> Vec<Vec<&Ran>> {
    if result.setting == Setting::Loopback {
        return Vec::new();
    }
    let mut by_strategy: Vec<Vec<&Ran>> = Vec::new();
    for ran in result
        .runs
        .iter()
        .filter(|r| why_no_waterfall(&r.output).is_none())
    {
        let strategy = ran.summary.strategy;
        match by_strategy
            .iter_mut()
            .find(|runs| runs[0].summary.strategy == strategy)
        {
            Some(runs) => runs.push(ran),
            None => by_strategy.push(vec![ran]),
        }
    }
    let connections = |r: &Ran| {
        (
            r.output.scenario.client.reuse,
            r.output.scenario.client.http,
        )
    };
    by_strategy.retain(|runs| runs.iter().any(|r| connections(r) != connections(runs[0])));
    by_strategy
}

/// One strategy's trials as one waterfall, a block each: the caption and the SVG.
fn waterfall_chart(
    runs: &[&Ran],
    title: &str,
    strategy: &str,
) -> Result<(String, String), ChartError> {
    let per_trial = (CLAIM_WATERFALL_ROWS / runs.len().max(1)).max(1);
    let groups: Vec<_> = runs
        .iter()
        .map(|r| waterfall_group(&r.label(), &r.output, per_trial))
        .collect();
    let caption = format!(
        "{strategy}: each request split into waiting for a connection, TCP, TLS, the way \
         out, the server and the way back, a block per trial: a fresh connection pays its \
         handshakes before the request goes, a reused one does not"
    );
    let svg = charts::waterfall(&format!("{title}: where each request's time went"), &groups)?;
    Ok((caption, svg))
}

fn scaling_series(result: &ClaimResult) -> Vec<ScalingSeries> {
    let mut points = Vec::new();
    for ran in &result.runs {
        let TrialKey::Scaling {
            n,
            mode: Mode::Concurrent,
        } = ran.key
        else {
            continue;
        };
        let sequential = TrialKey::Scaling {
            n,
            mode: Mode::Sequential,
        };
        let Some(seq) = trial::find(&result.runs, sequential) else {
            continue;
        };
        points.push(ScalingPoint {
            n: ran.summary.n,
            measured_ms: ran.summary.wall_ms,
            model_ms: ran.summary.predicted_ms,
            baseline_ms: seq.summary.wall_ms,
        });
    }
    let sequential: Vec<ScalingPoint> = result
        .runs
        .iter()
        .filter(|r| r.summary.strategy == Strategy::SyncSequential)
        .map(|r| ScalingPoint {
            n: r.summary.n,
            measured_ms: r.summary.wall_ms,
            model_ms: r.summary.predicted_ms,
            baseline_ms: r.summary.wall_ms,
        })
        .collect();
    vec![
        ScalingSeries {
            strategy: "sync-sequential".to_string(),
            points: sequential,
        },
        ScalingSeries {
            strategy: "async-concurrent".to_string(),
            points,
        },
    ]
}
