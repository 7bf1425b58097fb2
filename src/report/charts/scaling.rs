//! How wall time and speedup grow with the number of requests, on log-log axes: the
//! measured points against the model's prediction, one colour per strategy.

use std::ops::Range;

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame::{self, Area, MUTED};
use super::legend::{LegendEntry, Mark};
use super::scale;

/// One run size of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingPoint {
    /// Number of requests.
    pub n: u64,
    /// Wall time measured, ms.
    pub measured_ms: f64,
    /// Wall time the model predicts, ms.
    pub model_ms: f64,
    /// Wall time of the baseline (usually sequential) at the same n, ms.
    pub baseline_ms: f64,
}

/// One strategy across run sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingSeries {
    /// Names the series in the legend.
    pub strategy: String,
    /// One point per n, in any order.
    pub points: Vec<ScalingPoint>,
}

/// The x axis of a run-size chart.
const N_DESC: &str = "n, requests per run (log)";

/// Speedups that get a labelled reference line when the axis reaches them.
const REFERENCES: [f64; 2] = [10.0, 100.0];

/// `(n, value)` for the points where both are positive and finite, sorted by n.
fn curve(points: &[ScalingPoint], value: impl Fn(&ScalingPoint) -> f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = points
        .iter()
        .filter_map(|p| Some((scale::positive(p.n as f64)?, scale::positive(value(p))?)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Baseline over measured: how many times faster than the baseline.
fn speedup(p: &ScalingPoint) -> f64 {
    p.baseline_ms / p.measured_ms
}

/// Draws two panels side by side. Left: wall time (ms) against n, log-log; measured as
/// points joined by a line, the model as a dashed line of the same colour. Right: speedup
/// (baseline_ms / measured_ms) against n, log-log, with dashed reference lines at 10x and
/// 100x (each drawn when the axis reaches it; the axis always reaches 10x). Points with
/// n = 0 or a value that is not positive and finite are skipped.
pub fn scaling(title: &str, series: &[ScalingSeries]) -> Result<String, ChartError> {
    let mut legend: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            LegendEntry::new(s.strategy.clone(), frame::series_colour(i), Mark::LinePoint)
        })
        .collect();
    if !series.is_empty() {
        legend.push(LegendEntry::new("measured", MUTED, Mark::LinePoint));
        legend.push(LegendEntry::new("model", MUTED, Mark::Dashed));
    }
    let measured: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.measured_ms))
        .collect();
    let model: Vec<_> = series
        .iter()
        .map(|s| curve(&s.points, |p| p.model_ms))
        .collect();
    let speedups: Vec<_> = series.iter().map(|s| curve(&s.points, speedup)).collect();
    let all = |curves: &[Vec<(f64, f64)>]| curves.iter().flatten().copied().collect::<Vec<_>>();
    let (measured_all, model_all, speedup_all) = (all(&measured), all(&model), all(&speedups));

    let ns = measured_all
        .iter()
        .chain(&model_all)
        .chain(&speedup_all)
        .map(|p| p.0);
    let x = scale::log_range(ns);
    let wall_y = scale::log_range(measured_all.iter().chain(&model_all).map(|p| p.1));
    let speed_values = speedup_all.iter().map(|p| p.1);
    let high = speed_values.clone().fold(0.0, f64::max);
    let mut anchors = vec![1.0, 10.0];
    if high > 10.0 {
        anchors.push(100.0);
    }
    let speed_y = scale::log_range(speed_values.chain(anchors));
    let empty = measured_all.is_empty() && model_all.is_empty() && speedup_all.is_empty();

    frame::render((frame::WIDTH, frame::HEIGHT), title, &legend, |area| {
        let (w, _) = area.dim_in_pixel();
        let (left, right) = area.split_horizontally(w / 2);
        let wall = Panel {
            title: "wall time",
            y_desc: "wall time (ms, log)",
            x_desc: N_DESC,
            x: x.clone(),
        };
        let mut chart = wall.chart(&left, wall_y.clone(), |v| scale::fmt_num(*v))?;
        for (i, (m, p)) in measured.iter().zip(&model).enumerate() {
            let colour = frame::series_colour(i);
            draw_measured(&mut chart, m, colour)?;
            if p.len() > 1 {
                let dashes = DashedLineSeries::new(p.clone(), 7, 5, colour.stroke_width(2));
                chart.draw_series(dashes)?;
            }
        }
        if empty {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        let fast = Panel {
            title: "speedup over the baseline",
            y_desc: "speedup (x, log)",
            x_desc: N_DESC,
            x,
        };
        let y_top = speed_y.end;
        let mut chart = fast.chart(&right, speed_y, |v| format!("{}x", scale::fmt_num(*v)))?;
        for r in REFERENCES.into_iter().filter(|r| *r <= y_top) {
            frame::reference_line(&mut chart, r, &format!("{r}x"))?;
        }
        for (i, s) in speedups.iter().enumerate() {
            draw_measured(&mut chart, s, frame::series_colour(i))?;
        }
        Ok(())
    })
}

/// A log-log chart with a log x axis of n.
pub(super) type LogLog = Cartesian2d<LogCoord<f64>, LogCoord<f64>>;

/// One log-log panel: its subtitle, axis descriptions and x range (shared with the
/// sweep chart).
pub(super) struct Panel<'a> {
    pub title: &'a str,
    pub y_desc: &'a str,
    pub x_desc: &'a str,
    pub x: Range<f64>,
}

impl Panel<'_> {
    /// The panel's axes, grid and subtitle, ready for series.
    pub(super) fn chart<'c, 'b>(
        &self,
        area: &Area<'b>,
        y: Range<f64>,
        y_fmt: impl Fn(&f64) -> String,
    ) -> Result<ChartContext<'c, SVGBackend<'b>, LogLog>, ChartError> {
        let axes = frame::Axes {
            subtitle: Some(self.title),
            ..frame::Axes::PANEL
        };
        let mut chart = axes.build(area, self.x.clone().log_scale(), y.log_scale())?;
        let x_fmt = |v: &f64| scale::fmt_num(*v);
        frame::mesh(&mut chart)
            .x_labels(5)
            .y_labels(5)
            .max_light_lines(10)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .draw()?;
        Ok(chart)
    }
}

/// Measured values: a solid line through the points, and a dot on each.
pub(super) fn draw_measured(
    chart: &mut ChartContext<'_, SVGBackend<'_>, LogLog>,
    points: &[(f64, f64)],
    colour: RGBColor,
) -> Result<(), ChartError> {
    chart.draw_series(LineSeries::new(points.to_vec(), colour.stroke_width(2)))?;
    chart.draw_series(points.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
    Ok(())
}
