//! Grouped bars over named groups, shared by [`super::speedup_bars`] and
//! [`super::latency_percentiles`]: one group per label along x, the same slots in every
//! group (a missing value leaves its slot empty, so a colour keeps its place), a linear y
//! axis from zero.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::ChartError;
use super::frame::{self, Area, SMALL_PX, TEXT, TICK_PX};
use super::scale;

/// One group of bars: its label and one value per slot (`None` leaves the slot empty).
pub(super) struct Group {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

/// How to draw the groups.
pub(super) struct Style<'s> {
    /// One colour per slot.
    pub colours: &'s [RGBColor],
    /// Description of the y axis, with its unit.
    pub y_desc: &'s str,
    /// When set, each bar gets its value printed above it, formatted by this.
    pub value_label: Option<fn(f64) -> String>,
}

/// Share of a group's width taken by its bars.
const GROUP_FILL: f64 = 0.8;

/// A value a bar can show: finite and not negative.
fn drawable(v: Option<f64>) -> Option<f64> {
    v.and_then(scale::finite).filter(|v| *v >= 0.0)
}

/// Draws the groups into `area`: axes, bars, and (if asked) value labels.
pub(super) fn draw(area: &Area<'_>, groups: &[Group], style: &Style<'_>) -> Result<(), ChartError> {
    let n = groups.len().max(1);
    let slots = style.colours.len().max(1);
    let max = groups
        .iter()
        .flat_map(|g| g.values.iter().copied().filter_map(drawable))
        .fold(0.0, f64::max);
    let headroom = if style.value_label.is_some() {
        0.15
    } else {
        0.08
    };
    let centres: Vec<f64> = (0..groups.len()).map(|i| i as f64 + 0.5).collect();

    let axes = frame::Axes {
        bottom: 8,
        x_labels: 30,
        ..frame::Axes::PLOT
    };
    let mut chart = axes.build(
        area,
        scale::Ticks::new(0.0..n as f64, centres),
        0.0..scale::linear_top(max, headroom),
    )?;
    let (xs, _) = chart.plotting_area().get_pixel_range();
    let group_px = (xs.end - xs.start) / n as i32;
    let labels: Vec<String> = groups
        .iter()
        .map(|g| frame::fit(&g.label, group_px - 6, TICK_PX))
        .collect();
    let x_fmt = |v: &f64| {
        labels
            .get(v.floor().max(0.0) as usize)
            .cloned()
            .unwrap_or_default()
    };
    let y_fmt = |v: &f64| scale::fmt_num(*v);
    frame::mesh(&mut chart)
        .disable_x_mesh()
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(style.y_desc)
        .draw()?;
    if groups.is_empty() {
        return frame::no_data(&chart.plotting_area().strip_coord_spec());
    }

    let screen = chart.plotting_area().use_screen_coord();
    let slot = GROUP_FILL / slots as f64;
    for (i, group) in groups.iter().enumerate() {
        for (j, value) in group.values.iter().enumerate().take(slots) {
            let Some(v) = drawable(*value) else { continue };
            let left = i as f64 + (1.0 - GROUP_FILL) / 2.0 + j as f64 * slot;
            let (x0, x1) = (left + slot * 0.06, left + slot * 0.94);
            let rect = frame::bar_px(&chart, (x0, 0.0), (x1, v));
            let colour = style.colours.get(j).copied().unwrap_or(frame::GREY);
            screen.draw(&Rectangle::new(rect, colour.filled()))?;
            if let Some(label) = style.value_label {
                let text = label(v);
                let [(l, top), (r, _)] = rect;
                let fits = f64::from(r - l) / (0.6 * text.chars().count().max(1) as f64);
                let px = fits.clamp(7.0, SMALL_PX);
                let style = frame::text(px, false, TEXT, HPos::Center, VPos::Bottom);
                screen.draw(&Text::new(text, ((l + r) / 2, top - 3), style))?;
            }
        }
    }
    Ok(())
}
