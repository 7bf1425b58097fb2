//! The legend under a chart's title: a swatch and a label per series, laid out in centred
//! rows, at most four; what does not fit is counted in a "+N more" note.

use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::ChartError;
use super::frame::{Area, LABEL_PX, LEGEND_ROW, TEXT, fit, text, text_width};

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// A filled square (one `<rect>`).
    Bar,
    /// A short line (one `<polyline>`).
    Line,
    /// A short line with a dot (one `<polyline>` and one `<circle>`).
    LinePoint,
    /// A short dashed line.
    Dashed,
    /// No swatch (the "+N more" note of a full legend).
    None,
}

/// One entry of a legend.
#[derive(Debug, Clone)]
pub(super) struct LegendEntry {
    pub label: String,
    pub colour: RGBColor,
    pub mark: Mark,
}

impl LegendEntry {
    pub(super) fn new(label: impl Into<String>, colour: RGBColor, mark: Mark) -> Self {
        Self {
            label: label.into(),
            colour,
            mark,
        }
    }
}

/// Most rows a legend takes; entries beyond them are counted in a "+N more" note.
const MAX_ROWS: usize = 4;

/// Width of a legend entry: swatch, gap, label, space before the next entry.
fn entry_width(entry: &LegendEntry) -> i32 {
    swatch_width(entry) + text_width(&entry.label, LABEL_PX) + 18
}

/// Room taken by the swatch and the gap after it.
fn swatch_width(entry: &LegendEntry) -> i32 {
    if entry.mark == Mark::None { 0 } else { 22 + 6 }
}

/// Width of a row of legend entries.
fn row_width(row: &[LegendEntry]) -> i32 {
    row.iter().map(entry_width).sum()
}

/// Lays the legend out in centred rows from `top`, at most [`MAX_ROWS`] of them;
/// returns the number of rows.
pub(super) fn draw(
    root: &Area<'_>,
    top: i32,
    width: i32,
    legend: &[LegendEntry],
) -> Result<i32, ChartError> {
    let room = width - 40;
    let mut rows: Vec<Vec<LegendEntry>> = Vec::new();
    for entry in legend {
        let mut entry = entry.clone();
        entry.label = fit(&entry.label, room - 46, LABEL_PX);
        match rows.last_mut() {
            Some(row) if row_width(row) + entry_width(&entry) <= room => row.push(entry),
            _ => rows.push(vec![entry]),
        }
    }
    if rows.len() > MAX_ROWS {
        // Full: the last row ends with a note of how many entries were left out.
        let mut hidden: usize = rows.drain(MAX_ROWS..).map(|r| r.len()).sum();
        if let Some(row) = rows.last_mut() {
            let note = |n: usize| LegendEntry::new(format!("+{n} more"), WHITE, Mark::None);
            while row_width(row) + entry_width(&note(hidden)) > room && row.pop().is_some() {
                hidden += 1;
            }
            row.push(note(hidden));
        }
    }
    for (i, row) in rows.iter().enumerate() {
        let total = row_width(row) - 18;
        let mut x = (width - total) / 2;
        let y = top + i as i32 * LEGEND_ROW + LEGEND_ROW / 2;
        for entry in row {
            draw_swatch(root, entry, x, y)?;
            let style = text(LABEL_PX, false, TEXT, HPos::Left, VPos::Center);
            let label_x = x + swatch_width(entry);
            root.draw(&Text::new(entry.label.clone(), (label_x, y), style))?;
            x += entry_width(entry);
        }
    }
    Ok(rows.len() as i32)
}

/// The swatch of one legend entry, 22 px wide, centred on `y`.
fn draw_swatch(root: &Area<'_>, entry: &LegendEntry, x: i32, y: i32) -> Result<(), ChartError> {
    let colour = entry.colour;
    let line = colour.stroke_width(2);
    match entry.mark {
        Mark::Bar => root.draw(&Rectangle::new(
            [(x + 4, y - 7), (x + 18, y + 7)],
            colour.filled(),
        ))?,
        Mark::Line => root.draw(&PathElement::new(vec![(x, y), (x + 22, y)], line))?,
        Mark::LinePoint => {
            root.draw(&PathElement::new(vec![(x, y), (x + 22, y)], line))?;
            root.draw(&Circle::new((x + 11, y), 3, colour.filled()))?;
        }
        Mark::None => {}
        Mark::Dashed => {
            root.draw(&DashedPathElement::new(
                vec![(x, y), (x + 22, y)],
                6,
                4,
                line,
            ))?;
        }
    }
    Ok(())
}
