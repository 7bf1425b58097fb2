//! The request waterfall, as a browser's devtools draw one: one row per request, in the
//! order they started, each split into the phases its time went to: waiting on the
//! client, the TCP handshake, TLS, the request on its way, the server, the answer on its
//! way back.
//!
//! Where the timeline (`timeline.rs`) shows *when* requests ran, the waterfall shows
//! *why* each took as long as it did: on loopback every row is almost all server; one
//! round trip away, a fresh connection's row opens with an orange handshake and a purple
//! TLS band, and a reused connection's row does not. The rows come from the client's
//! samples and the server's ledger, joined in `report/chart_data.rs`; this file only
//! draws them.

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame::{self, BLUE, GREEN, GREY, ORANGE, PANEL, PURPLE, SKY, VERMILLION};
use super::legend::{LegendEntry, Mark};
use super::scale;

/// One phase of a request's life, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaterfallPhase {
    /// From the client's start until its connection was accepted (a fresh connection) or
    /// the connection was free again (HTTP/1.1 on a busy pool): waiting on the client.
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

    /// The legend's name for it.
    pub fn name(self) -> &'static str {
        match self {
            WaterfallPhase::Queued => "queued on the client",
            WaterfallPhase::Connect => "TCP connect",
            WaterfallPhase::Tls => "TLS",
            WaterfallPhase::Send => "request sent",
            WaterfallPhase::Server => "server",
            WaterfallPhase::Receive => "answer back",
            WaterfallPhase::Unmatched => "no server record",
        }
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

/// Rows above which the canvas stops growing and rows get thinner.
const TALL_ROWS: usize = 60;
/// Height of one row while the canvas grows, px.
const ROW_PX: u32 = 9;

/// A span with usable times: both finite, the end not before the start.
fn usable(span: &WaterfallSpan) -> Option<(f64, f64)> {
    let (s, e) = (scale::finite(span.start_ms)?, scale::finite(span.end_ms)?);
    Some((s, e.max(s)))
}

/// Draws one row per request, the first on top, every span a bar in its phase's colour
/// over a shared time axis in ms. `total` is how many requests the run made: when it is
/// more than `rows.len()`, the axis says the rows are the first of them. Spans with a
/// non-finite time are skipped; a short one is drawn at least 1 px wide, so leave out
/// the phases a request did not go through (a reused connection's handshakes).
pub fn waterfall(title: &str, rows: &[WaterfallRow], total: usize) -> Result<String, ChartError> {
    let spans = || rows.iter().flat_map(|r| &r.spans).filter_map(usable);
    let t_min = spans().map(|(s, _)| s).fold(0.0, f64::min);
    let t_max = spans().map(|(_, e)| e).fold(0.0, f64::max);
    let t_top = scale::time_top(t_min, t_max);
    let legend: Vec<LegendEntry> = WaterfallPhase::ALL
        .iter()
        .filter(|phase| {
            rows.iter()
                .flat_map(|r| &r.spans)
                .any(|s| s.phase == **phase)
        })
        .map(|phase| LegendEntry::new(phase.name(), phase.colour(), Mark::Bar))
        .collect();
    let grown = rows.len().min(TALL_ROWS) as u32;
    let height = frame::HEIGHT.max(200 + grown * ROW_PX);
    let y_desc = if total > rows.len() {
        format!("first {} of {total} requests, by start", rows.len())
    } else {
        format!("{} requests, by start", rows.len())
    };

    frame::render((frame::WIDTH, height), title, &legend, |area| {
        let chart = frame::time_lanes(area, t_min, t_top, &y_desc)?;
        if rows.is_empty() {
            return frame::no_data(&chart.plotting_area().strip_coord_spec());
        }
        let screen = chart.plotting_area().use_screen_coord();
        let (_, ys) = chart.plotting_area().get_pixel_range();
        let row_h = f64::from(ys.end - ys.start) / rows.len() as f64;
        let thickness = (row_h * 0.7).clamp(1.0, 16.0);
        for (i, row) in rows.iter().enumerate() {
            let mid = f64::from(ys.start) + (i as f64 + 0.5) * row_h;
            let y0 = (mid - thickness / 2.0).floor() as i32;
            let y1 = ((mid + thickness / 2.0).floor() as i32).max(y0 + 1);
            if i % 2 == 1 && row_h >= 4.0 {
                // Every other row shaded, so a long row can be followed across.
                let (xs, _) = chart.plotting_area().get_pixel_range();
                let band_top = (f64::from(ys.start) + i as f64 * row_h).floor() as i32;
                let band = [(xs.start + 1, band_top), (xs.end, band_top + row_h as i32)];
                screen.draw(&Rectangle::new(band, PANEL.mix(0.6).filled()))?;
            }
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
    })
}
