//! The timeline: one lane per request, a bar from its start to its end coloured by its
//! outcome. Runs are stacked (first on top) over one shared time axis, so a sequential
//! staircase and a concurrent wall read side by side.

use plotters::prelude::*;
use serde::Serialize;

use super::ChartError;
use super::frame::{self, BLUE, GREEN, GREY, INK, ORANGE, PURPLE, SKY, VERMILLION, YELLOW};
use super::legend::{LegendEntry, Mark};
use super::scale;

/// One request: its lane, when it started and ended (ms since the run started) and how it
/// ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineBar {
    /// The lane, from 0 at the top of the run's block.
    pub lane: usize,
    /// Start, ms since the run started.
    pub start_ms: f64,
    /// End, ms since the run started.
    pub end_ms: f64,
    /// Outcome name: `ok`, `http_4xx`, `http_429`, `http_5xx`, `timeout`, `connect`,
    /// `dropped`, `cancelled`; anything else is drawn grey.
    pub outcome: String,
}

/// One run's requests, drawn as one block of lanes under `label`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineRun {
    /// Names the block, e.g. `sequential`.
    pub label: String,
    /// One bar per request.
    pub bars: Vec<TimelineBar>,
}

/// Outcomes with a colour of their own, in legend order.
const OUTCOMES: [(&str, RGBColor); 8] = [
    ("ok", BLUE),
    ("http_4xx", PURPLE),
    ("http_429", ORANGE),
    ("http_5xx", VERMILLION),
    ("timeout", YELLOW),
    ("connect", INK),
    ("dropped", SKY),
    ("cancelled", GREEN),
];

/// The colour of an outcome; grey for names not in the list.
fn outcome_colour(outcome: &str) -> RGBColor {
    OUTCOMES
        .iter()
        .find(|(name, _)| *name == outcome)
        .map_or(GREY, |(_, c)| *c)
}

/// Lanes above which bars fill their lane instead of leaving a gap.
const DENSE_LANES: usize = 200;

/// A bar with usable times: start and end finite, end not before start.
fn span(bar: &TimelineBar) -> Option<(f64, f64)> {
    let (s, e) = (scale::finite(bar.start_ms)?, scale::finite(bar.end_ms)?);
    Some((s, e.max(s)))
}

/// The legend: every outcome that occurs, known ones first in their fixed order, then one
/// grey entry for the rest.
fn legend(runs: &[TimelineRun]) -> Vec<LegendEntry> {
    let drawn = || {
        runs.iter()
            .flat_map(|r| &r.bars)
            .filter(|b| span(b).is_some())
    };
    let mut entries: Vec<LegendEntry> = OUTCOMES
        .iter()
        .filter(|(name, _)| drawn().any(|b| b.outcome == *name))
        .map(|(name, colour)| LegendEntry::new(*name, *colour, Mark::Bar))
        .collect();
    let mut others: Vec<&str> = drawn()
        .map(|b| b.outcome.as_str())
        .filter(|o| outcome_colour(o) == GREY)
        .collect();
    others.sort_unstable();
    others.dedup();
    match others.as_slice() {
        [] => {}
        [one] => entries.push(LegendEntry::new(*one, GREY, Mark::Bar)),
        _ => entries.push(LegendEntry::new("other", GREY, Mark::Bar)),
    }
    entries
}

/// Draws one bar per request, one lane per request, runs stacked top to bottom over a
/// shared time axis in ms. Each run gets an equal share of the height under a band with
/// its label; above 200 lanes in a run the bars fill their lanes (at least 1 px each) rather
/// than leaving gaps, and failures are drawn after successes so that none is covered. Bars
/// with a non-finite start or end are skipped; an end before the start is drawn as a 1 px
/// sliver. The legend lists the outcomes that occur.
pub fn timeline(title: &str, runs: &[TimelineRun]) -> Result<String, ChartError> {
    let spans = || runs.iter().flat_map(|r| &r.bars).filter_map(span);
    let t_min = spans().map(|(s, _)| s).fold(0.0, f64::min);
    let t_max = spans().map(|(_, e)| e).fold(0.0, f64::max);
    let t_top = scale::time_top(t_min, t_max);

    frame::render(
        (frame::WIDTH, frame::HEIGHT),
        title,
        &legend(runs),
        |area| {
            let chart = frame::time_lanes(area, t_min, t_top, "requests, one lane each")?;
            if runs.is_empty() {
                return frame::no_data(&chart.plotting_area().strip_coord_spec());
            }

            let screen = chart.plotting_area().use_screen_coord();
            let labels: Vec<(&str, usize)> = runs.iter().map(|r| (r.label.as_str(), 1)).collect();
            let blocks = frame::stack_blocks(&chart, &labels)?;
            for (run, block) in runs.iter().zip(blocks) {
                let (lanes_top, block) = (block.top, block.height);
                let lanes = run
                    .bars
                    .iter()
                    .map(|b| b.lane.saturating_add(1))
                    .max()
                    .unwrap_or(1);
                let lane_h = f64::from(block) / lanes as f64;
                let thickness = if lanes > DENSE_LANES {
                    lane_h
                } else {
                    (lane_h * 0.7).min(16.0)
                };
                // Failures last, so that dense lanes of successes do not cover them.
                let (ok, failed): (Vec<_>, Vec<_>) =
                    run.bars.iter().partition(|b| b.outcome == "ok");
                for bar in ok.into_iter().chain(failed) {
                    let Some((start, end)) = span(bar) else {
                        continue;
                    };
                    let mid = f64::from(lanes_top) + (bar.lane as f64 + 0.5) * lane_h;
                    let y0 = (mid - thickness / 2.0).floor() as i32;
                    let y1 = ((mid + thickness / 2.0).floor() as i32).max(y0 + 1);
                    let x0 = chart.backend_coord(&(start, 0.0)).0;
                    let x1 = chart.backend_coord(&(end, 0.0)).0.max(x0 + 1);
                    let style = outcome_colour(&bar.outcome).filled();
                    screen.draw(&Rectangle::new([(x0, y0), (x1, y1)], style))?;
                }
            }
            Ok(())
        },
    )
}
