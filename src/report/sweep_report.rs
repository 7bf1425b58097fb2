//! The sweep report: a table of every point, the knee named per strategy with the
//! side that paid for it, and the chart (`sweep.svg`) beside it.

use std::fmt;

use super::charts::{SweepPoint, SweepSeries};
use super::columns::{Align, Table, render};
use super::run_info::{Header, RunInfo};
use super::table::{human_ms, ms_if_measured};
use crate::attribution::Leg;
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
    /// The machine, the date, how long the sweep took, the command.
    pub run: RunInfo,
}

/// The chart's series: one per [`Point::series`] (a strategy, or a strategy under a
/// client setup), in the order they ran.
pub fn series(points: &[Point]) -> Vec<SweepSeries> {
    let mut out: Vec<SweepSeries> = Vec::new();
    for point in points {
        let label = point.series.clone();
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
            .filter(|p| p.series == s.label)
            .cloned()
            .collect();
        s.knee = sweep::knee(&mine).map(|v| v as f64);
    }
    out
}

/// One line per series (from [`series`]): where its knee is and what paid for it.
pub fn knees(points: &[Point], series: &[SweepSeries], over: &str) -> Vec<String> {
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
                .find(|p| p.series == s.label && p.value as f64 == knee)
                .expect("the knee is one of the points");
            let summary = &at.summary;
            let a = &summary.attribution;
            format!(
                "**{}**: knee at {} = {}: promise {}, wall {} (efficiency {:.2}); the model with this run's calibrated costs said {} ({}), so the fall {} expected; p99 {} {}, server beyond delay {}, {} {}: {}",
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
                a.leg(Leg::Out),
                human_ms(a.send_lag_ms.p99),
                ms_if_measured(summary, Figure::AnswerTimes, a.server_ms.p99, NOT_MEASURED),
                a.leg(Leg::Back),
                ms_if_measured(summary, Figure::AnswerTimes, a.receive_ms.p99, NOT_MEASURED),
                a.describe_bottleneck()
            )
        })
        .collect()
}

/// The report's markdown; `series` is [`series`] of the same points, computed once by
/// the caller, which also draws them.
pub fn markdown(points: &[Point], series: &[SweepSeries], settings: &SweepSettings) -> String {
    render(|md| write_markdown(md, points, series, settings))
}

/// [`markdown`], written to any `fmt::Write`.
pub fn write_markdown(
    md: &mut impl fmt::Write,
    points: &[Point],
    series: &[SweepSeries],
    settings: &SweepSettings,
) -> fmt::Result {
    writeln!(md, "# fanout sweep over {}\n", settings.over)?;
    writeln!(
        md,
        "Each point is a fresh run on a fresh mock API ({}). *Promise* is the tutorials' formula with no overheads (the slowest delay when everything is in flight at once); *model* adds the costs this run's probes measured; *limit* is the slowest delay plus n divided by the fresh-connection rate a zero-delay probe measured. The knee is the first point from which promise / wall stays below {}.\n",
        settings.profile,
        sweep::KNEE
    )?;
    if settings.over == "rtt" {
        writeln!(
            md,
            "Over rtt the swept value is the emulated network's round trip, in ms (0 is loopback). Promise and model both charge what the network charges: a fresh connection's TCP handshake (one round trip) and TLS (one more for 1.3, two for 1.2), and one round trip per request; a setup that opens fewer connections pays fewer handshakes.\n"
        )?;
    }
    let header = Header {
        settings: &[],
        took: "sweep took",
        regenerate_note: "",
    };
    settings.run.write_markdown(md, &header)?;
    let chart_alt = match settings.over.as_str() {
        "rtt" => {
            "Wall time against the round trip per series, the model dashed, and measured over model"
        }
        _ => "Wall time, efficiency, throughput and the client's peak memory across the sweep",
    };
    writeln!(md, "![{chart_alt}](sweep.svg)\n")?;
    writeln!(
        md,
        "Where each point's time went: the request that ended last (it sets the wall), split into the client's start, the {}, the injected delay, the server's time beyond it, and the {} (see `src/attribution.rs`).\n",
        Leg::Out.name_for(over_network(points)),
        Leg::Back.name_for(over_network(points)),
    )?;
    writeln!(md, "![The last request's phases per point](phases.svg)\n")?;
    if series.len() > 1 {
        writeln!(md, "## Each series at each point\n")?;
        writeln!(
            md,
            "Measured wall, with the model's in brackets; the last column is the slowest series' wall over the fastest one's at that point: what the better setup saves.\n"
        )?;
        write!(
            md,
            "{}",
            side_by_side(points, series, &settings.over).markdown()
        )?;
        writeln!(md)?;
    }
    writeln!(md, "## Knees\n")?;
    for line in knees(points, series, &settings.over) {
        writeln!(md, "- {line}")?;
    }
    writeln!(md, "\n## Every point\n")?;
    write!(md, "{}", points_table(points, &settings.over).markdown())?;
    if let Some(legend) = super::table::not_measured_legend(points.iter().map(|p| &p.summary)) {
        writeln!(md, "\n{legend}.")?;
    }
    Ok(())
}

/// Whether each point ran over an emulated network, for naming the legs.
fn over_network(points: &[Point]) -> impl Iterator<Item = bool> + '_ {
    points.iter().map(|p| p.summary.attribution.over_network)
}

/// One row per point, every figure the sweep has for it.
fn points_table(points: &[Point], over: &str) -> Table {
    let headers = [
        "series",
        over,
        "wall",
        "model",
        "promise",
        "eff (model)",
        "eff (promise)",
        "limit",
        "wall / limit",
        "req/s",
        "conns",
        "peak RSS",
        "peak threads",
        "slow side",
    ];
    let mut table = Table::new(headers.map(|h| (h, Align::Left)));
    for p in points {
        let s = &p.summary;
        let limit = s.calibrated_limit;
        let footprint = s.client_footprint;
        table.row([
            p.series.clone(),
            p.value.to_string(),
            human_ms(s.wall_ms),
            human_ms(s.predicted_ms),
            human_ms(p.promise_ms),
            s.efficiency
                .map_or("n/a".to_string(), |e| format!("{e:.2}")),
            format!("{:.2}", p.efficiency_vs_promise),
            limit.map_or("-".to_string(), |l| human_ms(l.limit_ms)),
            limit.map_or("-".to_string(), |l| {
                format!("{:.2}x", 1.0 / l.efficiency_vs_limit)
            }),
            format!("{:.0}", s.throughput_rps),
            super::table::count_or_short(s.server.connections),
            footprint.map_or("-".to_string(), |f| format!("{:.1} MiB", f.peak_rss_mib)),
            footprint.map_or("-".to_string(), |f| f.peak_threads.to_string()),
            s.attribution.bottleneck_name().to_string(),
        ]);
    }
    table
}

/// One row per swept value, one column per series: measured wall (model), and the
/// slowest series' wall over the fastest one's at that value.
fn side_by_side(points: &[Point], series: &[SweepSeries], over: &str) -> Table {
    let mut headers: Vec<(String, Align)> = vec![(over.to_string(), Align::Right)];
    headers.extend(series.iter().map(|s| (s.label.clone(), Align::Left)));
    headers.push(("slowest / fastest".to_string(), Align::Right));
    let mut table = Table::new(headers);
    let mut values: Vec<u64> = points.iter().map(|p| p.value).collect();
    values.sort_unstable();
    values.dedup();
    for value in values {
        let at = |label: &str| {
            points
                .iter()
                .find(|p| p.value == value && p.series == label)
        };
        let mut row = vec![value.to_string()];
        row.extend(series.iter().map(|s| {
            at(&s.label).map_or("-".to_string(), |p| {
                format!(
                    "{} ({})",
                    human_ms(p.summary.wall_ms),
                    human_ms(p.summary.predicted_ms)
                )
            })
        }));
        let walls: Vec<f64> = series
            .iter()
            .filter_map(|s| at(&s.label))
            .map(|p| p.summary.wall_ms)
            .collect();
        let fastest = walls.iter().copied().fold(f64::INFINITY, f64::min);
        let slowest = walls.iter().copied().fold(0.0, f64::max);
        row.push(if fastest.is_finite() && fastest > 0.0 {
            format!("{:.2}x", slowest / fastest)
        } else {
            "-".to_string()
        });
        table.row(row);
    }
    table
}
