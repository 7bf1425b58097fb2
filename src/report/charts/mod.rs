//! Charts: plain data in, SVG text out.
//!
//! Plotting is a layer of its own, apart from measuring and from the tables: every chart is
//! one function that takes plain data defined here (no summaries, no clients, no clocks) and
//! returns a whole SVG document as a `String`. Nothing here reads or writes a file; the
//! caller decides where the text goes. Drawing uses `plotters` with only its SVG backend and
//! no font backend (neither `ttf` nor `ab_glyph`), so no font is ever loaded: labels become
//! SVG `<text>` elements with `font-family="sans-serif"` and the viewer (a browser, GitHub)
//! picks the font. Layout uses a fixed per-character width estimate instead of real glyph
//! metrics, which is why labels get generous room.
//!
//! Every chart is about 800x400 px on a white background, with a title, axes labelled with
//! their units, a legend naming every series (or outcome) drawn, and colours from the
//! Okabe-Ito palette, which stays distinguishable with the common colour-vision
//! deficiencies. Input is never trusted to be tidy: empty input gives a chart that says
//! "no data", and NaN, infinite, absurdly large (beyond 1e15) or (on log axes) non-positive
//! values are skipped.
//!
//! - [`timeline`]: one bar per request, lanes stacked, runs one above the other;
//! - [`speedup_bars`]: speedups per scenario: the document's, the model's, the measured one;
//! - [`scaling`]: wall time and speedup against n, log-log;
//! - [`latency_percentiles`]: p50/p90/p99/max per strategy;
//! - [`in_flight`]: requests in flight at the server over time ([`counts_over_time`]
//!   for any other count, such as a pipeline's queued bodies);
//! - [`requests_per_window`]: requests per 1 s window against a promised rate;
//! - [`sweep`]: wall, efficiency and throughput across a swept n or limit, the knee marked;
//! - [`rtt_sweep`]: wall time against the round trip per client setup, the model beside it;
//! - [`phases`]: where each run's last request spent its time, stacked;
//! - [`waterfall`]: one row per request split into its phases (waiting for a
//!   connection, TCP, TLS, out, server, back), as browser devtools draw one, a group of
//!   rows per run.
//!
//! To read next: `frame.rs` (canvas, title, palette), `legend.rs` and `scale.rs` (axis
//! ranges, number formats), then any one chart file; they all follow the same shape.

mod bars;
mod frame;
mod in_flight;
mod latency;
mod legend;
mod phases;
mod rate;
mod rtt_sweep;
mod scale;
mod scaling;
mod speedup;
mod sweep;
mod timeline;
mod waterfall;

pub use in_flight::{InFlightSeries, counts_over_time, in_flight};
pub use latency::{LatencyRow, latency_percentiles};
pub use phases::{PhaseBar, phases};
pub use rate::{RateSeries, requests_per_window, requests_per_window_of};
pub use rtt_sweep::rtt_sweep;
pub use scaling::{ScalingPoint, ScalingSeries, scaling};
pub use speedup::{SpeedupGroup, speedup_bars};
pub use sweep::{SweepPoint, SweepSeries, sweep};
pub use timeline::{TimelineBar, TimelineRun, timeline};
pub use waterfall::{WaterfallGroup, WaterfallPhase, WaterfallRow, WaterfallSpan, waterfall};

/// Why a chart could not be drawn. Odd data is not an error (it is skipped or clamped);
/// only a failure inside the drawing library is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// `plotters` refused to draw something; the message is its own.
    #[error("could not draw the chart: {0}")]
    Draw(String),
}

impl<E> From<plotters::drawing::DrawingAreaErrorKind<E>> for ChartError
where
    E: std::error::Error + Send + Sync,
{
    fn from(err: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        ChartError::Draw(err.to_string())
    }
}
