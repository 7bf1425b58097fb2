//! Requests in flight at the server over time: how much concurrency actually reached it,
//! against the limit the client was given.

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame;
use super::legend::{LegendEntry, Mark};
use super::scale;

/// A step function: from `t_ms` on, `count` requests were in flight at the server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InFlightSeries {
    /// Names the series in the legend.
    pub label: String,
    /// `(t_ms, count)`: the count from that time (ms since the run started) on; any order.
    pub steps: Vec<(f64, u64)>,
}

/// The steps with a finite time, in time order.
fn sorted(steps: &[(f64, u64)]) -> Vec<(f64, u64)> {
    let mut out: Vec<(f64, u64)> = steps
        .iter()
        .copied()
        .filter(|(t, _)| scale::finite(*t).is_some())
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The corners of the step line, held flat from the last step to `end`.
fn corners(steps: &[(f64, u64)], end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(steps.len() * 2 + 1);
    let mut previous: Option<f64> = None;
    for &(t, count) in steps {
        if let Some(level) = previous {
            out.push((t, level));
        }
        out.push((t, scale::count(count)));
        previous = Some(scale::count(count));
    }
    if let (Some(&(t, _)), Some(level)) = (steps.last(), previous)
        && end > t
    {
        out.push((end, level));
    }
    out
}

/// Draws one step line per series of requests in flight against time (ms), each held
/// until the last time of any series, and a dashed horizontal line labelled "limit K" at
/// `limit` when given. Steps with a non-finite time are skipped.
pub fn in_flight(
    title: &str,
    series: &[InFlightSeries],
    limit: Option<u64>,
) -> Result<String, ChartError> {
    let limit = limit.map(|k| (k, format!("limit {k}")));
    counts_over_time(title, series, limit, "requests in flight")
}

/// The same step lines for any count over time (`y_desc` names it: a channel's
/// queued bodies, say), with a dashed reference line at `reference` and its label.
pub fn counts_over_time(
    title: &str,
    series: &[InFlightSeries],
    reference: Option<(u64, String)>,
    y_desc: &str,
) -> Result<String, ChartError> {
    let legend: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry::new(s.label.clone(), frame::series_colour(i), Mark::Line))
        .collect();
    let steps: Vec<Vec<(f64, u64)>> = series.iter().map(|s| sorted(&s.steps)).collect();
    let times = || steps.iter().flatten().map(|(t, _)| *t);
    let t_min = times().fold(0.0, f64::min);
    let t_max = times().fold(t_min, f64::max);
    let t_top = scale::time_top(t_min, t_max);
    let peak = steps
        .iter()
        .flatten()
        .map(|(_, c)| *c)
        .chain(reference.as_ref().map(|(k, _)| *k))
        .max()
        .unwrap_or(0);
    let y_top = scale::linear_top(scale::count(peak), 0.12);

    frame::render((frame::WIDTH, frame::HEIGHT), title, &legend, |area| {
        let mut chart = frame::Axes::PLOT.build(area, t_min..t_top, scale::Ticks::counts(y_top))?;
        let fmt = |v: &f64| scale::fmt_num(*v);
        frame::mesh(&mut chart)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .x_desc("time since the run started (ms)")
            .y_desc(y_desc)
            .draw()?;
        if let Some((k, label)) = &reference {
            frame::reference_line(&mut chart, scale::count(*k), label)?;
        }
        for (i, s) in steps.iter().enumerate() {
            let style = frame::series_colour(i).stroke_width(2);
            chart.draw_series(LineSeries::new(corners(s, t_max), style))?;
        }
        if steps.iter().all(Vec::is_empty) {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        Ok(())
    })
}
