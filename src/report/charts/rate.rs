//! Requests per 1 s window at the server: whether a rate limit promised to the server was
//! kept.

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame;
use super::legend::{LegendEntry, Mark};
use super::scale;

/// Requests that arrived in each 1 s window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateSeries {
    /// Names the series in the legend.
    pub label: String,
    /// `(window start in ms since the run started, requests that arrived in the window)`.
    pub windows: Vec<(f64, u64)>,
}

/// Length of a window, s.
const WINDOW_S: f64 = 1.0;
/// Share of a window's width taken by its bars.
const WINDOW_FILL: f64 = 0.9;

/// Draws bars of requests per 1 s window against time (s), the series' bars side by side
/// within each window, and a dashed horizontal line labelled "promised R/s" at `rate_limit`
/// when it is given (and finite, not negative). Windows with a non-finite start or no
/// requests draw nothing.
pub fn requests_per_window(
    title: &str,
    series: &[RateSeries],
    rate_limit: Option<f64>,
) -> Result<String, ChartError> {
    requests_per_window_of(title, series, rate_limit, WINDOW_S)
}

/// The same chart for windows of `window_s` seconds (time-scaled runs shrink the
/// tutorials' one-second window with their delays); `promised` is then a count per
/// window.
pub fn requests_per_window_of(
    title: &str,
    series: &[RateSeries],
    promised: Option<f64>,
    window_s: f64,
) -> Result<String, ChartError> {
    let window_s = scale::finite(window_s)
        .filter(|w| *w > 0.0)
        .unwrap_or(WINDOW_S);
    let rate_limit = promised;
    let legend: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendEntry::new(s.label.clone(), frame::series_colour(i), Mark::Bar))
        .collect();
    let rate = rate_limit.and_then(scale::finite).filter(|r| *r >= 0.0);
    let drawn = |s: &RateSeries| -> Vec<(f64, u64)> {
        s.windows
            .iter()
            .filter(|(t, c)| scale::finite(*t).is_some() && *c > 0)
            .map(|(t, c)| (t / 1000.0, *c))
            .collect()
    };
    let windows: Vec<Vec<(f64, u64)>> = series.iter().map(drawn).collect();
    let starts = || windows.iter().flatten().map(|(t, _)| *t);
    let x_min = starts().fold(0.0, f64::min);
    let x_max = starts().fold(x_min, f64::max) + window_s;
    let peak = windows
        .iter()
        .flatten()
        .map(|(_, c)| scale::count(*c))
        .fold(0.0, f64::max);
    let y_top = scale::linear_top(peak.max(rate.unwrap_or(0.0)), 0.12);
    let slot = window_s * WINDOW_FILL / series.len().max(1) as f64;
    let window_text = if window_s == WINDOW_S {
        "1 s".to_string()
    } else {
        format!("{} ms", scale::fmt_num(window_s * 1e3))
    };

    frame::render((frame::WIDTH, frame::HEIGHT), title, &legend, |area| {
        let mut chart = frame::Axes::PLOT.build(area, x_min..x_max, scale::Ticks::counts(y_top))?;
        let fmt = |v: &f64| scale::fmt_num(*v);
        frame::mesh(&mut chart)
            .disable_x_mesh()
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .x_desc("time since the run started (s)")
            .y_desc(format!("requests per {window_text} window"))
            .draw()?;
        let screen = chart.plotting_area().use_screen_coord();
        for (j, s) in windows.iter().enumerate() {
            let colour = frame::series_colour(j).filled();
            for &(start, count) in s {
                let left = start + window_s * (1.0 - WINDOW_FILL) / 2.0 + j as f64 * slot;
                let rect = frame::bar_px(&chart, (left, 0.0), (left + slot, scale::count(count)));
                screen.draw(&Rectangle::new(rect, colour))?;
            }
        }
        if let Some(r) = rate {
            let label = if window_s == WINDOW_S {
                format!("promised {}/s", scale::fmt_num(r))
            } else {
                format!("promised {} per {window_text}", scale::fmt_num(r))
            };
            frame::reference_line(&mut chart, r, &label)?;
        }
        if windows.iter().all(Vec::is_empty) {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        Ok(())
    })
}
