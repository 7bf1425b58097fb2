//! Speedups side by side: what the document claims, what the model predicts and what was
//! measured, one group of bars per scenario.

use serde::Serialize;

use super::ChartError;
use super::bars::{self, Group};
use super::frame::{self, BLUE, ORANGE, SKY};
use super::legend::{LegendEntry, Mark};
use super::scale;

/// One scenario's speedups (sequential time over concurrent time, so 6.7 means 6.7x).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpeedupGroup {
    /// Names the group on the x axis, e.g. `n=100`.
    pub label: String,
    /// The speedup the document states, if it states one.
    pub document: Option<f64>,
    /// The speedup the model predicts.
    pub model: f64,
    /// The speedup measured.
    pub measured: f64,
}

/// Draws grouped bars per label: the document's speedup (left out when `None`; the slot and
/// its legend entry disappear when no group has one), the model's and the measured one, each
/// with its value printed above it ("6.7x"). The y axis is linear, in x, from zero; values
/// that are negative or not finite are skipped.
pub fn speedup_bars(title: &str, groups: &[SpeedupGroup]) -> Result<String, ChartError> {
    let with_document = groups.iter().any(|g| g.document.is_some());
    let mut legend = Vec::new();
    let mut colours = Vec::new();
    if with_document {
        legend.push(LegendEntry::new("document", SKY, Mark::Bar));
        colours.push(SKY);
    }
    legend.push(LegendEntry::new("model", ORANGE, Mark::Bar));
    legend.push(LegendEntry::new("measured", BLUE, Mark::Bar));
    colours.extend([ORANGE, BLUE]);

    let rows: Vec<Group> = groups
        .iter()
        .map(|g| {
            let mut values = Vec::new();
            if with_document {
                values.push(g.document);
            }
            values.extend([Some(g.model), Some(g.measured)]);
            Group {
                label: g.label.clone(),
                values,
            }
        })
        .collect();
    let style = bars::Style {
        colours: &colours,
        y_desc: "speedup (x)",
        value_label: Some(scale::fmt_speedup),
    };
    frame::render((frame::WIDTH, frame::HEIGHT), title, &legend, |area| {
        bars::draw(area, &rows, &style)
    })
}
