//! A sweep: one strategy (or a few) over a range of n or of a limit, each point a fresh
//! run. Four panels share a log x axis of the swept value: wall time (measured points,
//! the model dashed, the tutorials' promise dotted), efficiency against the promise
//! with the 0.9 line and the knee marked, throughput, and the client's peak memory
//! (threads against tasks, when both are swept).

use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;

use super::ChartError;
use super::frame::{self, Area, MUTED, SMALL_PX};
use super::legend::{LegendEntry, Mark};
use super::scale;
use super::scaling::{Panel, draw_measured};
use crate::sweep::KNEE;

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    /// The swept value (n, or the limit).
    pub x: f64,
    /// Wall time measured, ms.
    pub wall_ms: f64,
    /// Wall time the model predicts with this run's calibrated overheads, ms.
    pub model_ms: f64,
    /// Wall time the tutorials' formula promises (no overheads at all), ms.
    pub promise_ms: f64,
    /// Finished requests per second.
    pub throughput_rps: f64,
    /// The client process's peak resident memory, MiB, where measured.
    pub peak_rss_mib: Option<f64>,
}

/// One strategy across the sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepSeries {
    /// Names the series in the legend.
    pub label: String,
    /// Its points, in any order.
    pub points: Vec<SweepPoint>,
    /// The first swept value from which promise / wall stays below the knee threshold.
    pub knee: Option<f64>,
}

fn curve(points: &[SweepPoint], value: impl Fn(&SweepPoint) -> f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((scale::positive(p.x)?, scale::positive(value(p))?)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// One entry per series in its colour, then how measured and modelled lines are drawn.
pub(super) fn series_legend(series: &[SweepSeries]) -> Vec<LegendEntry> {
    let mut legend: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry::new(s.label.clone(), frame::series_colour(i), Mark::LinePoint))
        .collect();
    if !series.is_empty() {
        legend.push(LegendEntry::new("measured", MUTED, Mark::LinePoint));
        legend.push(LegendEntry::new("model", MUTED, Mark::Dashed));
    }
    legend
}

/// Draws the three panels; `x_desc` names the swept value (`n, requests per run`).
pub fn sweep(title: &str, x_desc: &str, series: &[SweepSeries]) -> Result<String, ChartError> {
    let mut legend = series_legend(series);
    if !series.is_empty() {
        legend.push(LegendEntry::new(
            "promise: no overheads",
            MUTED,
            Mark::Dashed,
        ));
    }
    let walls: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.wall_ms))
        .collect();
    let models: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.model_ms))
        .collect();
    let promises: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.promise_ms))
        .collect();
    let efficiency: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.promise_ms / p.wall_ms))
        .collect();
    let throughput: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.throughput_rps))
        .collect();
    let flat = |c: &[Vec<(f64, f64)>]| c.iter().flatten().copied().collect::<Vec<_>>();
    let (wall_all, model_all, promise_all) = (flat(&walls), flat(&models), flat(&promises));
    let x = scale::log_range(wall_all.iter().map(|p| p.0));
    let wall_y = scale::log_range(
        wall_all
            .iter()
            .chain(&model_all)
            .chain(&promise_all)
            .map(|p| p.1),
    );
    let eff_top = flat(&efficiency)
        .iter()
        .map(|p| p.1)
        .fold(1.1, f64::max)
        .min(2.0);
    let rps_y = scale::log_range(flat(&throughput).iter().map(|p| p.1));
    let memory: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.peak_rss_mib.unwrap_or(f64::NAN)))
        .collect();
    let memory_y = scale::log_range(flat(&memory).iter().map(|p| p.1));
    let empty = wall_all.is_empty();

    frame::render((1100, 2 * frame::HEIGHT), title, &legend, |area| {
        let panels = area.split_evenly((2, 2));
        let fmt = |v: &f64| scale::fmt_num(*v);
        let panel = |title, y_desc| Panel {
            title,
            y_desc,
            x_desc,
            x: x.clone(),
        };
        // Wall time.
        let mut chart = panel("wall time", "wall (ms, log)").chart(&panels[0], wall_y, fmt)?;
        for (i, ((wall, model), promise)) in walls.iter().zip(&models).zip(&promises).enumerate() {
            let colour = frame::series_colour(i);
            chart.draw_series(DashedLineSeries::new(
                promise.clone(),
                2,
                4,
                colour.stroke_width(1),
            ))?;
            chart.draw_series(DashedLineSeries::new(
                model.clone(),
                7,
                5,
                colour.stroke_width(2),
            ))?;
            draw_measured(&mut chart, wall, colour)?;
        }
        if empty {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        // Efficiency against the promise.
        let mut chart = efficiency_panel(&panels[1], x_desc, &x, eff_top)?;
        frame::reference_line(&mut chart, KNEE, &format!("{KNEE}"))?;
        for (i, (points, s)) in efficiency.iter().zip(series).enumerate() {
            let colour = frame::series_colour(i);
            chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?;
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
            if let Some(knee) = s.knee
                && let Some(&(kx, ky)) = points.iter().find(|p| p.0 >= knee)
            {
                // Below and to the left of the point, clear of the 0.9 line above it.
                let style = frame::text(SMALL_PX, true, colour, HPos::Right, VPos::Top);
                chart.draw_series([Circle::new((kx, ky), 7, colour.stroke_width(2))])?;
                let label = format!("knee: {}", scale::fmt_num(kx));
                let tag = EmptyElement::at((kx, ky)) + Text::new(label, (-8, 8), style);
                chart.plotting_area().draw(&tag)?;
            }
        }
        // Throughput.
        let mut chart =
            panel("throughput", "requests per second (log)").chart(&panels[2], rps_y, fmt)?;
        for (i, points) in throughput.iter().enumerate() {
            draw_measured(&mut chart, points, frame::series_colour(i))?;
        }
        // Client memory.
        let title = "client peak memory";
        let mut chart = panel(title, "peak RSS (MiB, log)").chart(&panels[3], memory_y, fmt)?;
        for (i, points) in memory.iter().enumerate() {
            draw_measured(&mut chart, points, frame::series_colour(i))?;
        }
        if memory.iter().all(Vec::is_empty) {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        Ok(())
    })
}

type LogLinear = Cartesian2d<LogCoord<f64>, RangedCoordf64>;

fn efficiency_panel<'c, 'b>(
    area: &Area<'b>,
    x_desc: &str,
    x: &Range<f64>,
    top: f64,
) -> Result<ChartContext<'c, SVGBackend<'b>, LogLinear>, ChartError> {
    let axes = frame::Axes {
        right: 16,
        y_labels: 48,
        subtitle: Some("efficiency: promise / wall"),
        ..frame::Axes::PANEL
    };
    let mut chart = axes.build(area, x.clone().log_scale(), 0.0..top)?;
    let fmt = |v: &f64| scale::fmt_num(*v);
    frame::mesh(&mut chart)
        .x_labels(5)
        .y_labels(6)
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .x_desc(x_desc)
        .y_desc("efficiency")
        .draw()?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, wall_ms: f64) -> SweepPoint {
        SweepPoint {
            x,
            wall_ms,
            model_ms: wall_ms * 0.98,
            promise_ms: 100.0,
            throughput_rps: x / wall_ms * 1e3,
            peak_rss_mib: Some(8.0 + x / 100.0),
        }
    }

    #[test]
    fn draws_three_panels_and_names_the_knee() {
        let series = SweepSeries {
            label: "async-concurrent".to_string(),
            points: vec![
                point(1.0, 101.0),
                point(100.0, 104.0),
                point(10_000.0, 900.0),
            ],
            knee: Some(10_000.0),
        };
        let svg = sweep("sweep", "n, requests per run (log)", &[series]).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("knee: 10000"), "the knee is labelled");
        assert!(svg.contains("throughput") && svg.contains("wall time"));
        assert!(svg.contains("client peak memory"));
    }

    #[test]
    fn no_points_still_draws() {
        let svg = sweep("empty", "n", &[]).unwrap();
        assert!(svg.contains("no data"));
    }
}
