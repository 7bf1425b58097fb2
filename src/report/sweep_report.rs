//! The sweep report: a table of every point, the knee named per strategy with the
//! side that paid for it, and the chart (`sweep.svg`) beside it.

use std::fmt::Write;

use super::charts::{SweepPoint, SweepSeries};
use super::table::{human_ms, ms_if_measured};
use crate::server::Figure;
use crate::server::engine::NOT_MEASURED;
use crate::sweep::{self, Point};

/// What a sweep report says about how it was made.
#[derive(Debug, Clone)]
pub struct SweepSettings {
    /// `n` or `limit`.
    pub over: String,
    /// The scenario's endpoints and delays.
    pub profile: String,
    /// CPUs, OS and kernel.
    pub machine: String,
    /// When it ran (UTC).
    pub date: String,
    /// How long the sweep took, seconds.
    pub total_s: f64,
    /// The command that regenerates it.
    pub command: String,
}

/// The chart's series: one per strategy, in the order they ran.
pub fn series(points: &[Point]) -> Vec<SweepSeries> {
    let mut out: Vec<SweepSeries> = Vec::new();
    for point in points {
        let label = point.summary.strategy.to_string();
        let at = match out.iter().position(|s| s.label == label) {
            Some(i) => i,
            None => {
                out.push(SweepSeries {
                    label,
                    points: Vec::new(),
                    knee: None,
                });
                out.len() - 1
            }
        };
        out[at].points.push(SweepPoint {
            x: point.value as f64,
            wall_ms: point.summary.wall_ms,
            model_ms: point.summary.predicted_ms,
            promise_ms: point.promise_ms,
            throughput_rps: point.summary.throughput_rps,
            peak_rss_mib: point.summary.client_footprint.map(|f| f.peak_rss_mib),
        });
    }
    for s in &mut out {
        let mine: Vec<Point> = points
            .iter()
            .filter(|p| p.summary.strategy.to_string() == s.label)
            .cloned()
            .collect();
        s.knee = sweep::knee(&mine).map(|v| v as f64);
    }
    out
}

/// One line per strategy: where its knee is and what paid for it.
pub fn knees(points: &[Point], over: &str) -> Vec<String> {
    let series = series(points);
    series
        .iter()
        .map(|s| {
            let Some(knee) = s.knee else {
                return format!(
                    "**{}**: no knee: efficiency against the promise stayed at or above {} across the sweep",
                    s.label,
                    sweep::KNEE
                );
            };
            let at = points
                .iter()
                .find(|p| p.summary.strategy.to_string() == s.label && p.value as f64 == knee)
                .expect("the knee is one of the points");
            let summary = &at.summary;
            let a = &summary.attribution;
            format!(
                "**{}**: knee at {} = {}: promise {}, wall {} (efficiency {:.2}); the model with this run's calibrated costs said {} ({}), so the fall {} expected; p99 send lag {}, server beyond delay {}, receive {}: {}",
                s.label,
                over,
                knee,
                human_ms(at.promise_ms),
                human_ms(summary.wall_ms),
                at.efficiency_vs_promise,
                human_ms(summary.predicted_ms),
                summary
                    .efficiency
                    .map_or("no efficiency".to_string(), |e| format!("efficiency {e:.2}")),
                if summary.efficiency.is_some_and(|e| e >= 0.9) { "was" } else { "was not fully" },
                human_ms(a.send_lag_ms.p99),
                ms_if_measured(summary, Figure::AnswerTimes, a.server_ms.p99, NOT_MEASURED),
                ms_if_measured(summary, Figure::AnswerTimes, a.receive_ms.p99, NOT_MEASURED),
                a.bottleneck.describe()
            )
        })
        .collect()
}

/// The report's markdown.
pub fn markdown(points: &[Point], settings: &SweepSettings) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# fanout sweep over {}\n", settings.over);
    let _ = writeln!(
        md,
        "Each point is a fresh run on a fresh mock API ({}). *Promise* is the tutorials' formula with no overheads (the slowest delay when everything is in flight at once); *model* adds the costs this run's probes measured; *limit* is the slowest delay plus n divided by the fresh-connection rate a zero-delay probe measured. The knee is the first point from which promise / wall stays below {}.\n",
        settings.profile,
        sweep::KNEE
    );
    let _ = writeln!(md, "| setting | value |\n|---|---|");
    let _ = writeln!(md, "| machine | {} |", settings.machine);
    let _ = writeln!(md, "| run on | {} |", settings.date);
    let _ = writeln!(md, "| sweep took | {:.1} s |", settings.total_s);
    let _ = writeln!(md, "\nRegenerate with `{}`.\n", settings.command);
    let _ = writeln!(
        md,
        "![Wall time, efficiency, throughput and the client's peak memory across the sweep](sweep.svg)\n"
    );
    let _ = writeln!(
        md,
        "Where each point's time went: the request that ended last (it sets the wall), split into the client's start, the send lag, the injected delay, the server's time beyond it, and the receive (see `src/attribution.rs`).\n"
    );
    let _ = writeln!(md, "![The last request's phases per point](phases.svg)\n");
    let _ = writeln!(md, "## Knees\n");
    for line in knees(points, &settings.over) {
        let _ = writeln!(md, "- {line}");
    }
    let _ = writeln!(md, "\n## Every point\n");
    let _ = writeln!(
        md,
        "| strategy | {} | wall | model | promise | eff (model) | eff (promise) | limit | wall / limit | req/s | conns | peak RSS | peak threads | slow side |",
        settings.over
    );
    let _ = writeln!(
        md,
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    );
    for p in points {
        let s = &p.summary;
        let limit = s.calibrated_limit;
        let footprint = s.client_footprint;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {:.0} | {} | {} | {} | {} |",
            s.strategy,
            p.value,
            human_ms(s.wall_ms),
            human_ms(s.predicted_ms),
            human_ms(p.promise_ms),
            s.efficiency
                .map_or("n/a".to_string(), |e| format!("{e:.2}")),
            p.efficiency_vs_promise,
            limit.map_or("-".to_string(), |l| human_ms(l.limit_ms)),
            limit.map_or("-".to_string(), |l| format!(
                "{:.2}x",
                1.0 / l.efficiency_vs_limit
            )),
            s.throughput_rps,
            super::table::count_or_short(s.server.connections),
            footprint.map_or("-".to_string(), |f| format!("{:.1} MiB", f.peak_rss_mib)),
            footprint.map_or("-".to_string(), |f| f.peak_threads.to_string()),
            s.attribution.bottleneck.name(),
        );
    }
    if let Some(legend) = super::table::not_measured_legend(points.iter().map(|p| &p.summary)) {
        let _ = writeln!(md, "\n{legend}.");
    }
    md
}
