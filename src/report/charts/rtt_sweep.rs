//! A sweep over the round-trip time: what a connection costs as the API moves away.
//!
//! Where `sweep.rs` draws n or a limit on log axes, a round trip is drawn on linear
//! ones, from 0 (loopback) up: every handshake a setup pays is a fixed number of round
//! trips, so each series is close to a straight line whose slope counts them (a shared
//! HTTP/1.1 pool pays its handshakes once per connection, a client per request once per
//! request, HTTP/2 once in all), and the gap between lines is what reuse and HTTP/2
//! save at that distance. Two panels share the x axis: wall time (measured, and the
//! model dashed), and measured over model, which stays near 1 when the model charges
//! the network right.

use super::frame;
use super::scale;
use super::{ChartError, SweepSeries};
use plotters::prelude::*;

/// The model's and the measured figures of one series, as (rtt, value) curves.
#[derive(Debug, Clone, PartialEq)]
struct Curves {
    wall: Vec<(f64, f64)>,
    model: Vec<(f64, f64)>,
    ratio: Vec<(f64, f64)>,
}

/// One point's rtt, measured wall and modelled wall (either missing when unusable).
type Measured = (f64, Option<f64>, Option<f64>);

fn curves(series: &SweepSeries) -> Curves {
    let mut points: Vec<Measured> = series
        .points
        .iter()
        .filter_map(|p| {
            let x = scale::finite(p.x).filter(|x| *x >= 0.0)?;
            Some((x, scale::finite(p.wall_ms), scale::finite(p.model_ms)))
        })
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pick = |f: fn(&Measured) -> Option<f64>| {
        points
            .iter()
            .filter_map(|p| Some((p.0, f(p)?)))
            .collect::<Vec<_>>()
    };
    Curves {
        wall: pick(|p| p.1),
        model: pick(|p| p.2),
        ratio: pick(|p| match (p.1, p.2) {
            (Some(wall), Some(model)) if model > scale::NARROWEST => Some(wall / model),
            _ => None,
        }),
    }
}

/// Draws wall time against the round trip (ms) per series, the model dashed beside
/// each, and measured / model in a second panel. The series' `x` is the rtt in ms;
/// negative or non-finite values are skipped.
pub fn rtt_sweep(title: &str, series: &[SweepSeries]) -> Result<String, ChartError> {
    let legend = super::sweep::series_legend(series);
    let all: Vec<Curves> = series.iter().map(curves).collect();
    let xs = || {
        all.iter()
            .flat_map(|c| c.wall.iter().chain(&c.model))
            .map(|p| p.0)
    };
    let x_max = xs().fold(0.0, f64::max);
    let x = 0.0..scale::linear_top(x_max, 0.03);
    let y_max = all
        .iter()
        .flat_map(|c| c.wall.iter().chain(&c.model))
        .map(|p| p.1)
        .fold(0.0, f64::max);
    let wall_y = 0.0..scale::linear_top(y_max, 0.08);
    // Zoomed around 1, so a few percent off the model shows, but never past 0.5..2.
    let ratios = || all.iter().flat_map(|c| &c.ratio).map(|p| p.1);
    let ratio_y =
        ratios().fold(0.9, f64::min).max(0.5) - 0.02..ratios().fold(1.1, f64::max).min(2.0) + 0.02;
    let empty = all.iter().all(|c| c.wall.is_empty());
    let x_desc = "round-trip time (ms)";

    frame::render((1100, frame::HEIGHT + 60), title, &legend, |area| {
        let panels = area.split_evenly((1, 2));
        let fmt = |v: &f64| scale::fmt_num(*v);
        let axes = frame::Axes {
            subtitle: Some("wall time"),
            ..frame::Axes::PANEL
        };
        let mut chart = axes.build(&panels[0], x.clone(), wall_y.clone())?;
        frame::mesh(&mut chart)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .x_desc(x_desc)
            .y_desc("wall (ms)")
            .draw()?;
        for (i, c) in all.iter().enumerate() {
            let colour = frame::series_colour(i);
            let dashed = DashedLineSeries::new(c.model.clone(), 7, 5, colour.stroke_width(2));
            chart.draw_series(dashed)?;
            chart.draw_series(LineSeries::new(c.wall.clone(), colour.stroke_width(2)))?;
            chart.draw_series(c.wall.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        }
        if empty {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
        }
        let axes = frame::Axes {
            subtitle: Some("measured / model"),
            y_labels: 48,
            ..frame::Axes::PANEL
        };
        let mut chart = axes.build(&panels[1], x.clone(), ratio_y)?;
        frame::mesh(&mut chart)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .x_desc(x_desc)
            .y_desc("wall / model")
            .draw()?;
        frame::reference_line(&mut chart, 1.0, "model")?;
        for (i, c) in all.iter().enumerate() {
            let colour = frame::series_colour(i);
            chart.draw_series(LineSeries::new(c.ratio.clone(), colour.stroke_width(2)))?;
            chart.draw_series(c.ratio.iter().map(|p| Circle::new(*p, 3, colour.filled())))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::SweepPoint;
    use super::*;

    fn point(rtt: f64, wall_ms: f64) -> SweepPoint {
        SweepPoint {
            x: rtt,
            wall_ms,
            model_ms: wall_ms * 0.97,
            promise_ms: wall_ms * 0.9,
            throughput_rps: 100.0,
            peak_rss_mib: None,
        }
    }

    #[test]
    fn draws_both_panels_with_zero_on_the_axis() {
        let series = |label: &str, per_rtt: f64| SweepSeries {
            label: label.to_string(),
            points: [0.0, 100.0, 200.0]
                .iter()
                .map(|&rtt| point(rtt, 50.0 + per_rtt * rtt))
                .collect(),
            knee: None,
        };
        let svg = rtt_sweep(
            "rtt",
            &[series("shared-h1", 2.0), series("per-request-h1", 3.0)],
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("measured / model") && svg.contains("wall time"));
        assert!(svg.contains("per-request-h1"));
        // Three measured dots per series in each panel, two series; one in each
        // legend entry drawn with a dot (the two series and "measured").
        assert_eq!(svg.matches("<circle").count(), 2 * 2 * 3 + 3);
    }

    #[test]
    fn no_points_still_draws() {
        let svg = rtt_sweep("empty", &[]).unwrap();
        assert!(svg.contains("no data"));
    }
}
