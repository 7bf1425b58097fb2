//! Latency percentiles per strategy: how long a typical request took and how long the slow
//! ones did.

use serde::Serialize;

use super::ChartError;
use super::bars::{self, Group};
use super::frame::{self, BLUE, ORANGE, SKY, VERMILLION};
use super::legend::{LegendEntry, Mark};

/// One strategy's request latencies, ms.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyRow {
    /// Names the group on the x axis.
    pub strategy: String,
    /// Median, ms.
    pub p50: f64,
    /// 90th percentile, ms.
    pub p90: f64,
    /// 99th percentile, ms.
    pub p99: f64,
    /// Slowest request, ms.
    pub max: f64,
}

/// The four bars of a group: cool colours for the typical request, warm ones for the tail.
const PERCENTILES: [(&str, plotters::style::RGBColor); 4] = [
    ("p50", SKY),
    ("p90", BLUE),
    ("p99", ORANGE),
    ("max", VERMILLION),
];

/// Draws grouped bars of p50, p90, p99 and max per strategy, on a linear axis in ms from
/// zero. Values that are negative or not finite are skipped.
pub fn latency_percentiles(title: &str, rows: &[LatencyRow]) -> Result<String, ChartError> {
    let legend: Vec<LegendEntry> = PERCENTILES
        .iter()
        .map(|(name, colour)| LegendEntry::new(*name, *colour, Mark::Bar))
        .collect();
    let colours: Vec<_> = PERCENTILES.iter().map(|(_, c)| *c).collect();
    let groups: Vec<Group> = rows
        .iter()
        .map(|r| Group {
            label: r.strategy.clone(),
            values: vec![Some(r.p50), Some(r.p90), Some(r.p99), Some(r.max)],
        })
        .collect();
    let style = bars::Style {
        colours: &colours,
        y_desc: "latency (ms)",
        value_label: None,
    };
    frame::render((frame::WIDTH, frame::HEIGHT), title, &legend, |area| {
        bars::draw(area, &groups, &style)
    })
}
