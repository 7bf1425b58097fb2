//! The request waterfall, as a browser's devtools draw one: one row per request, in the
//! order they started, each split into the phases its time went to: waiting on the
//! client, the TCP handshake, TLS, the request on its way, the server, the answer on its
//! way back.
//!
//! Where the timeline (`timeline.rs`) shows *when* requests ran, the waterfall shows
//! *why* each took as long as it did: on loopback every row is almost all server; one
//! round trip away, a fresh connection's row opens with an orange handshake and a purple
//! TLS band, and a reused connection's row does not. Runs to compare (a shared client
//! and one per request, HTTP/1.1 and HTTP/2) are stacked as groups over one time axis.
//! The two legs are named as [`crate::attribution::Leg`] names them: send lag and
//! receive on loopback, network out and network back over an emulated network. The
//! rows come from the client's samples and the server's ledger, joined in
//! `report/chart_data/waterfall.rs`; this file only draws them.

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame::{self, BLUE, GREEN, GREY, ORANGE, PANEL, PURPLE, SKY, VERMILLION};
use super::legend::{LegendEntry, Mark};
use super::scale;
use crate::attribution::Leg;

/// One phase of a request's life, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaterfallPhase {
    /// From the client's start until its connection was accepted (a fresh connection),
    /// the connection was free again (HTTP/1.1 on a busy pool) or the HTTP/2 connection
    /// it shares was set up: waiting for a connection.
    Queued,
    /// The TCP handshake: from the server's accept until the client's first bytes
    /// arrived through the emulated link (one and a half round trips).
    Connect,
    /// The TLS handshake: from the first bytes until the server finished it.
    Tls,
    /// The request on its way: until the server had it whole.
    Send,
    /// The server's time: the injected delay and whatever it added.
    Server,
    /// The answer on its way back, until the client had read it.
    Receive,
    /// A request the server has no record of (it failed, was cancelled, or went to a
    /// `--target`): only the client's start and end are known.
    Unmatched,
}

impl WaterfallPhase {
    /// Every phase, in drawing and legend order.
    pub const ALL: [WaterfallPhase; 7] = [
        WaterfallPhase::Queued,
        WaterfallPhase::Connect,
        WaterfallPhase::Tls,
        WaterfallPhase::Send,
        WaterfallPhase::Server,
        WaterfallPhase::Receive,
        WaterfallPhase::Unmatched,
    ];

    /// The legend's name for it, in a chart of runs each over a network or not
    /// (`over`): the legs as [`Leg::name_for`] names them.
    pub fn name(self, over: impl IntoIterator<Item = bool>) -> String {
        let fixed = match self {
            WaterfallPhase::Queued => "waiting for a connection",
            WaterfallPhase::Connect => "TCP connect",
            WaterfallPhase::Tls => "TLS",
            WaterfallPhase::Send => return Leg::Out.name_for(over),
            WaterfallPhase::Server => "server",
            WaterfallPhase::Receive => return Leg::Back.name_for(over),
            WaterfallPhase::Unmatched => "no server record",
        };
        fixed.to_string()
    }

    /// Its colour (Okabe-Ito, close to the devtools' own where they have one).
    fn colour(self) -> RGBColor {
        match self {
            WaterfallPhase::Queued => GREY,
            WaterfallPhase::Connect => ORANGE,
            WaterfallPhase::Tls => PURPLE,
            WaterfallPhase::Send => SKY,
            WaterfallPhase::Server => GREEN,
            WaterfallPhase::Receive => BLUE,
            WaterfallPhase::Unmatched => VERMILLION,
        }
    }
}

/// One phase of one request, ms since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WaterfallSpan {
    /// Which phase.
    pub phase: WaterfallPhase,
    /// Its start, ms since the run started.
    pub start_ms: f64,
    /// Its end, ms since the run started.
    pub end_ms: f64,
}

/// One request's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaterfallRow {
    /// The request's number (`seq`).
    pub seq: u64,
    /// Its phases, in order; those it did not go through are left out.
    pub spans: Vec<WaterfallSpan>,
}

/// One run's rows, drawn as one block under its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaterfallGroup {
    /// Names the run, e.g. `sequential, shared client`.
    pub label: String,
    /// Its first requests by start, one row each.
    pub rows: Vec<WaterfallRow>,
    /// How many requests the run made: when more than `rows.len()`, the label says
    /// the rows are the first of them.
    pub total: usize,
    /// True when the run was over an emulated network: its legs are the network's.
    pub over_network: bool,
}

impl WaterfallGroup {
    /// The block's label: `{label}: 10 requests`, or `{label}: first 30 of 500`.
    fn heading(&self) -> String {
        if self.total > self.rows.len() {
            format!(
                "{}: first {} of {} requests",
                self.label,
                self.rows.len(),
                self.total
            )
        } else {
            format!("{}: {} requests", self.label, self.rows.len())
        }
    }
}

/// Rows (over all groups) above which the canvas stops growing and rows get thinner.
const TALL_ROWS: usize = 80;
/// Height of one row while the canvas grows, px.
const ROW_PX: u32 = 9;

/// A span with usable times: both finite, the end not before the start.
fn usable(span: &WaterfallSpan) -> Option<(f64, f64)> {
    let (s, e) = (scale::finite(span.start_ms)?, scale::finite(span.end_ms)?);
    Some((s, e.max(s)))
}

/// Draws one block per group, top to bottom, and in each one row per request (the
/// first on top), every span a bar in its phase's colour over one time axis in ms
/// shared by all groups, so runs compare at a glance. A block's height is its share of
/// the rows. Spans with a non-finite time are skipped; a short one is drawn at least
/// 1 px wide, so leave out the phases a request did not go through (a reused
/// connection's handshakes). The legend lists the phases that occur.
pub fn waterfall(title: &str, groups: &[WaterfallGroup]) -> Result<String, ChartError> {
    let all_spans = || groups.iter().flat_map(|g| &g.rows).flat_map(|r| &r.spans);
    let t_min = all_spans()
        .filter_map(usable)
        .map(|(s, _)| s)
        .fold(0.0, f64::min);
    let t_max = all_spans()
        .filter_map(usable)
        .map(|(_, e)| e)
        .fold(0.0, f64::max);
    let t_top = scale::time_top(t_min, t_max);
    let over = || groups.iter().map(|g| g.over_network);
    let legend: Vec<LegendEntry> = WaterfallPhase::ALL
        .iter()
        .filter(|phase| all_spans().any(|s| s.phase == **phase))
        .map(|phase| LegendEntry::new(phase.name(over()), phase.colour(), Mark::Bar))
        .collect();
    let rows: usize = groups.iter().map(|g| g.rows.len()).sum();
    let grown = rows.min(TALL_ROWS) as u32;
    let height = frame::HEIGHT.max(200 + grown * ROW_PX + frame::blocks_overhead(groups.len()));

    frame::render((frame::WIDTH, height), title, &legend, |area| {
        let chart = frame::time_lanes(area, t_min, t_top, "requests, by start")?;
        if rows == 0 {
            return frame::no_data(&chart.plotting_area().strip_coord_spec());
        }
        let headings: Vec<String> = groups.iter().map(WaterfallGroup::heading).collect();
        let labels: Vec<(&str, usize)> = headings
            .iter()
            .zip(groups)
            .map(|(h, g)| (h.as_str(), g.rows.len().max(1)))
            .collect();
        let blocks = frame::stack_blocks(&chart, &labels)?;
        for (group, block) in groups.iter().zip(blocks) {
            draw_rows(&chart, &group.rows, block)?;
        }
        Ok(())
    })
}

/// One block's rows: every other row shaded, each span a bar.
fn draw_rows(
    chart: &frame::Chart<'_, '_, std::ops::Range<f64>, std::ops::Range<f64>>,
    rows: &[WaterfallRow],
    block: frame::Block,
) -> Result<(), ChartError> {
    let screen = chart.plotting_area().use_screen_coord();
    let (xs, _) = chart.plotting_area().get_pixel_range();
    let row_h = f64::from(block.height) / rows.len().max(1) as f64;
    let thickness = (row_h * 0.7).clamp(1.0, 16.0);
    for (i, row) in rows.iter().enumerate() {
        let row_top = f64::from(block.top) + i as f64 * row_h;
        if i % 2 == 1 && row_h >= 4.0 {
            // Every other row shaded, so a long row can be followed across.
            let band = [
                (xs.start + 1, row_top.floor() as i32),
                (xs.end, (row_top + row_h).floor() as i32),
            ];
            screen.draw(&Rectangle::new(band, PANEL.mix(0.6).filled()))?;
        }
        let mid = row_top + row_h / 2.0;
        let y0 = (mid - thickness / 2.0).floor() as i32;
        let y1 = ((mid + thickness / 2.0).floor() as i32).max(y0 + 1);
        for span in &row.spans {
            let Some((start, end)) = usable(span) else {
                continue;
            };
            let x0 = chart.backend_coord(&(start, 0.0)).0;
            let x1 = chart.backend_coord(&(end, 0.0)).0;
            let style = span.phase.colour().filled();
            screen.draw(&Rectangle::new([(x0, y0), (x1.max(x0 + 1), y1)], style))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(label: &str, phases: &[WaterfallPhase], over_network: bool) -> WaterfallGroup {
        let spans = phases
            .iter()
            .enumerate()
            .map(|(i, phase)| WaterfallSpan {
                phase: *phase,
                start_ms: i as f64 * 10.0,
                end_ms: (i + 1) as f64 * 10.0,
            })
            .collect();
        WaterfallGroup {
            label: label.to_string(),
            rows: vec![WaterfallRow { seq: 0, spans }],
            total: 5,
            over_network,
        }
    }

    #[test]
    fn each_group_is_labelled_and_the_legend_names_the_network() {
        use WaterfallPhase::*;
        let groups = [
            group("shared client", &[Send, Server, Receive], true),
            group(
                "client per request",
                &[Connect, Tls, Send, Server, Receive],
                true,
            ),
        ];
        let svg = waterfall("waterfall", &groups).unwrap();
        assert!(
            svg.contains("shared client: first 1 of 5 requests"),
            "{svg}"
        );
        assert!(svg.contains("client per request: first 1 of 5 requests"));
        for name in ["TCP connect", "TLS", "network out", "network back"] {
            assert!(svg.contains(name), "{name}");
        }
        assert!(!svg.contains("send lag") && !svg.contains("waiting for"));
    }

    #[test]
    fn on_loopback_the_legs_keep_their_names_and_no_rows_say_so() {
        let svg = waterfall("w", &[group("run", &[WaterfallPhase::Send], false)]).unwrap();
        assert!(svg.contains("send lag") && !svg.contains("network"));
        assert!(waterfall("w", &[]).unwrap().contains("no data"));
    }
}
