//! Where a run's time went, as stacked horizontal bars: one bar per run, the request
//! that ended last split into its phases (see [`crate::attribution`]): the client's
//! start, the out leg, the injected delay, the server's time beyond it, the back leg.
//! The legs are named as attribution names them: send lag and receive on loopback,
//! network out and network back over an emulated network. A bar's length is that
//! request's end, which is the run's wall.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use serde::Serialize;

use super::ChartError;
use super::frame::{self, BLUE, GREY, LABEL_PX, ORANGE, PURPLE, SKY, TEXT, TICK_PX};
use super::legend::{LegendEntry, Mark};
use super::scale;
use crate::attribution::Leg;

/// One run's last request, in ms per phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseBar {
    /// Names the run.
    pub label: String,
    /// `[start, out, delay, server, back]`, ms.
    pub phases: [f64; 5],
    /// True when the run was over an emulated network: its legs are the network's.
    pub over_network: bool,
}

/// The phases' colours, in the order they stack.
const COLOURS: [RGBColor; 5] = [GREY, ORANGE, SKY, PURPLE, BLUE];

/// The phases' names, in the order they stack, the legs named for `bars`' networks.
fn names(bars: &[PhaseBar]) -> [String; 5] {
    let over = || bars.iter().map(|b| b.over_network);
    [
        "client start".to_string(),
        Leg::Out.name_for(over()),
        "injected delay".to_string(),
        "server beyond the delay".to_string(),
        Leg::Back.name_for(over()),
    ]
}

/// Pixels per bar row.
const ROW_PX: u32 = 30;

/// Draws one stacked bar per run; negative or non-finite phases count as zero.
pub fn phases(title: &str, bars: &[PhaseBar]) -> Result<String, ChartError> {
    let legend: Vec<LegendEntry> = names(bars)
        .into_iter()
        .zip(COLOURS)
        .map(|(name, colour)| LegendEntry::new(name, colour, Mark::Bar))
        .collect();
    let clean = |v: f64| scale::finite(v).filter(|v| *v > 0.0).unwrap_or(0.0);
    let longest = bars
        .iter()
        .map(|b| b.phases.iter().copied().map(clean).sum::<f64>())
        .fold(0.0, f64::max);
    let top = scale::linear_top(longest.max(1.0), 0.05);
    let height = 150 + ROW_PX * bars.len().max(1) as u32;
    let label_px = bars
        .iter()
        .map(|b| frame::text_width(&b.label, TICK_PX))
        .max()
        .unwrap_or(40)
        .clamp(40, 320) as u32
        + 12;
    frame::render((frame::WIDTH, height), title, &legend, |area| {
        let rows = bars.len().max(1) as f64;
        let axes = frame::Axes {
            top: 0,
            left: 8,
            x_labels: 40,
            y_labels: label_px,
            ..frame::Axes::PLOT
        };
        let mut chart = axes.build(area, 0.0..top, 0.0..rows)?;
        let names: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let y_fmt = move |v: &f64| {
            let i = (rows - v - 0.5).round();
            names
                .get(i as usize)
                .filter(|_| (rows - v - 0.5 - i).abs() < 0.01)
                .cloned()
                .unwrap_or_default()
        };
        let x_fmt = |v: &f64| scale::fmt_num(*v);
        frame::mesh(&mut chart)
            .disable_y_mesh()
            .y_labels(bars.len().max(1) * 2 + 1)
            .x_labels(8)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .x_desc("ms since the run started")
            .draw()?;
        if bars.is_empty() {
            frame::no_data(&chart.plotting_area().strip_coord_spec())?;
            return Ok(());
        }
        for (i, bar) in bars.iter().enumerate() {
            let y = rows - i as f64 - 0.5;
            let mut at = 0.0;
            for (value, colour) in bar.phases.iter().copied().map(clean).zip(COLOURS) {
                if value > 0.0 {
                    let rect = [(at, y - 0.32), (at + value, y + 0.32)];
                    chart.draw_series([Rectangle::new(rect, colour.filled())])?;
                }
                at += value;
            }
            let style = frame::text(LABEL_PX * 0.8, false, TEXT, HPos::Left, VPos::Center);
            let total = format!(" {}", scale::fmt_num(at));
            chart.draw_series([Text::new(total, (at, y), style)])?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bar_per_run_with_its_total() {
        let bars = vec![
            PhaseBar {
                label: "n=1000".to_string(),
                phases: [7.0, 53.0, 500.0, 1.9, 0.1],
                over_network: false,
            },
            PhaseBar {
                label: "n=10".to_string(),
                phases: [0.0, 1.0, 500.0, 1.0, f64::NAN],
                over_network: false,
            },
        ];
        let svg = phases("where the time went", &bars).unwrap();
        assert!(svg.contains("n=1000") && svg.contains("n=10"));
        assert!(svg.contains(" 562"), "the total is printed");
        assert!(svg.contains("send lag") && !svg.contains("network out"));
    }

    #[test]
    fn over_a_network_the_legs_are_the_network_s() {
        let bars = vec![PhaseBar {
            label: "continent".to_string(),
            phases: [0.0, 120.0, 500.0, 1.0, 20.0],
            over_network: true,
        }];
        let svg = phases("where the time went", &bars).unwrap();
        assert!(svg.contains("network out") && svg.contains("network back"));
        assert!(!svg.contains("send lag"));
    }

    #[test]
    fn no_runs_still_draws() {
        assert!(phases("empty", &[]).unwrap().contains("no data"));
    }
}
