//! What every chart shares: the canvas with its title and legend, text styles, the
//! palette and a few drawing helpers. The legend is in `legend.rs`, numbers and axis
//! ranges in `scale.rs`.
//!
//! Text sizes are given here in CSS pixels as they end up in the SVG; plotters divides the
//! size it is given by 1.24 when it writes `font-size`, so [`text`] multiplies first.

use plotters::chart::{ChartContext, MeshStyle};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartError;
use super::legend::{self, LegendEntry};

/// Canvas width, px.
pub(super) const WIDTH: u32 = 800;
/// Canvas height, px.
pub(super) const HEIGHT: u32 = 400;
/// Height of the band holding the title.
const TITLE_BAND: i32 = 34;
/// Height of one row of the legend.
pub(super) const LEGEND_ROW: i32 = 22;

/// A drawing area in pixels, on the SVG backend.
pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Main text (GitHub's light-theme foreground).
pub(super) const TEXT: RGBColor = RGBColor(0x24, 0x29, 0x2F);
/// Secondary text, axes and reference lines.
pub(super) const MUTED: RGBColor = RGBColor(0x57, 0x60, 0x6A);
/// Background of a block of lanes.
pub(super) const PANEL: RGBColor = RGBColor(0xF3, 0xF5, 0xF7);

/// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
pub(super) const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
pub(super) const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
pub(super) const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
pub(super) const VERMILLION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
pub(super) const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
pub(super) const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
pub(super) const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
pub(super) const INK: RGBColor = RGBColor(0x00, 0x00, 0x00);
/// Anything without a colour of its own.
pub(super) const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);

/// Colours for series told apart only by their order (strategies, runs).
const SERIES: [RGBColor; 8] = [BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, INK, YELLOW];

/// The colour of the `i`-th series.
pub(super) fn series_colour(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// Text sizes, px.
pub(super) const TITLE_PX: f64 = 18.0;
pub(super) const LABEL_PX: f64 = 14.0;
pub(super) const TICK_PX: f64 = 12.0;
pub(super) const SMALL_PX: f64 = 11.0;

/// The size to give plotters for text `px` high in the SVG: it writes `size / 1.24`, so
/// this is `px * 1.24`, nudged by an ulp when that keeps `font-size="12"` from coming out
/// as `12.000000000000002` (the sizes used here all come out exact).
fn plotters_size(px: f64) -> f64 {
    let size = px * 1.24;
    [size, size.next_up(), size.next_down()]
        .into_iter()
        .find(|s| s / 1.24 == px)
        .unwrap_or(size)
}

/// A text style: sans-serif, `px` high in the SVG, anchored at (`h`, `v`).
pub(super) fn text(px: f64, bold: bool, colour: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    let weight = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    TextStyle {
        font: FontDesc::new(FontFamily::SansSerif, plotters_size(px), weight),
        color: colour.to_backend_color(),
        pos: Pos::new(h, v),
    }
}

/// A rough width of `s` in px: no font is loaded, so this errs on the wide side.
pub(super) fn text_width(s: &str, px: f64) -> i32 {
    (s.chars().count() as f64 * px * 0.6).ceil() as i32
}

/// `s`, cut with an ellipsis so that it fits in `max_px`.
pub(super) fn fit(s: &str, max_px: i32, px: f64) -> String {
    if text_width(s, px) <= max_px {
        return s.to_string();
    }
    let keep = ((f64::from(max_px.max(0)) / (px * 0.6)) as usize).saturating_sub(1);
    let mut cut: String = s.chars().take(keep).collect();
    cut.push('…');
    cut
}

/// Draws a whole chart: white canvas, `title` on top, `legend` (if any) under it, and the
/// rest handed to `body`. Returns the SVG document.
pub(super) fn render<F>(
    size: (u32, u32),
    title: &str,
    legend: &[LegendEntry],
    body: F,
) -> Result<String, ChartError>
where
    F: FnOnce(&Area<'_>) -> Result<(), ChartError>,
{
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let width = size.0 as i32;
        let title = fit(title, width - 20, TITLE_PX);
        let style = text(TITLE_PX, true, TEXT, HPos::Center, VPos::Top);
        root.draw(&Text::new(title, (width / 2, 10), style))?;
        let rows = legend::draw(&root, TITLE_BAND, width, legend)?;
        let body_area = root.margin(TITLE_BAND + rows * LEGEND_ROW, 0, 0, 0);
        body(&body_area)?;
        root.present()?;
    }
    Ok(svg)
}

/// Says "no data" in the middle of `area`.
pub(super) fn no_data(area: &Area<'_>) -> Result<(), ChartError> {
    let (w, h) = area.dim_in_pixel();
    let style = text(LABEL_PX, false, MUTED, HPos::Center, VPos::Center);
    area.draw(&Text::new("no data", (w as i32 / 2, h as i32 / 2), style))?;
    Ok(())
}

/// A chart with axes over `X` and `Y`, drawn on the SVG backend.
pub(super) type Chart<'c, 'b, X, Y> = ChartContext<
    'c,
    SVGBackend<'b>,
    Cartesian2d<<X as AsRangedCoord>::CoordDescType, <Y as AsRangedCoord>::CoordDescType>,
>;

/// Where a chart's axes sit in its area: margins and the room left for tick labels, in
/// px, and a subtitle over a panel of a chart with several. Every chart builds its axes
/// through [`Axes::build`]; [`Axes::PLOT`] is the usual set, the others adjust it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Axes<'t> {
    /// Space above the axes.
    pub top: u32,
    /// Space right of the plot, so that the last tick label is not cut.
    pub right: u32,
    /// Space under the x labels.
    pub bottom: u32,
    /// Space left of the y labels.
    pub left: u32,
    /// Height of the x tick labels and the x description.
    pub x_labels: u32,
    /// Width of the y tick labels and the y description.
    pub y_labels: u32,
    /// A bold title over the axes, for one panel of several.
    pub subtitle: Option<&'t str>,
}

impl Axes<'static> {
    /// A single plot with numbered axes on both sides.
    pub(super) const PLOT: Axes<'static> = Axes {
        top: 8,
        right: 24,
        bottom: 6,
        left: 10,
        x_labels: 44,
        y_labels: 64,
        subtitle: None,
    };

    /// One panel of several, under its subtitle (the scaling and sweep charts).
    pub(super) const PANEL: Axes<'static> = Axes {
        top: 0,
        right: 20,
        left: 8,
        x_labels: 42,
        ..Axes::PLOT
    };
}

impl<'t> Axes<'t> {
    /// Axes over `x` and `y` inside `area`, ready for [`mesh`] and series.
    pub(super) fn build<'c, 'b, X, Y>(
        &self,
        area: &Area<'b>,
        x: X,
        y: Y,
    ) -> Result<Chart<'c, 'b, X, Y>, ChartError>
    where
        X: AsRangedCoord,
        Y: AsRangedCoord,
    {
        let mut builder = ChartBuilder::on(area);
        if let Some(subtitle) = self.subtitle {
            builder.caption(
                subtitle,
                text(LABEL_PX, true, TEXT, HPos::Center, VPos::Top),
            );
        }
        let chart = builder
            .margin_top(self.top)
            .margin_right(self.right)
            .margin_bottom(self.bottom)
            .margin_left(self.left)
            .x_label_area_size(self.x_labels)
            .y_label_area_size(self.y_labels)
            .build_cartesian_2d(x, y)?;
        Ok(chart)
    }
}

/// Axes for lanes over time (the timeline's runs, the waterfall's requests): time since
/// the run started along x, from `t_min` to `t_top` ms, and an unnumbered 0..1 along y
/// described by `y_desc`, with the mesh drawn.
pub(super) fn time_lanes<'c, 'b>(
    area: &Area<'b>,
    t_min: f64,
    t_top: f64,
    y_desc: &str,
) -> Result<Chart<'c, 'b, std::ops::Range<f64>, std::ops::Range<f64>>, ChartError> {
    let axes = Axes {
        top: 6,
        y_labels: 28,
        ..Axes::PLOT
    };
    let mut chart = axes.build(area, t_min..t_top, 0.0..1.0)?;
    let fmt = |v: &f64| super::scale::fmt_num(*v);
    mesh(&mut chart)
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&fmt)
        .x_desc("time since the run started (ms)")
        .y_desc(y_desc)
        .draw()?;
    Ok(chart)
}

/// Height of the label band over each block of lanes, px.
const BLOCK_HEADER: i32 = 18;
/// Gap between blocks of lanes, px.
const BLOCK_GAP: i32 = 8;

/// Where one block of lanes went: the top of its lanes (under its label) and their
/// height, in absolute px.
#[derive(Debug, Clone, Copy)]
pub(super) struct Block {
    /// The top of the block's lanes, px.
    pub top: i32,
    /// The height of the block's lanes, px (at least 1).
    pub height: i32,
}

/// Stacks blocks of lanes top to bottom in `chart`'s plotting area (the timeline's runs,
/// the waterfall's groups), one per `(label, weight)`: a white band with the label in
/// bold, then a shaded panel whose height is the block's share of the room by weight
/// (equal weights, equal shares). Returns where each block's lanes are, for the caller
/// to draw into with screen coordinates.
pub(super) fn stack_blocks(
    chart: &Chart<'_, '_, std::ops::Range<f64>, std::ops::Range<f64>>,
    blocks: &[(&str, usize)],
) -> Result<Vec<Block>, ChartError> {
    let screen = chart.plotting_area().use_screen_coord();
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let n = blocks.len().max(1) as i32;
    let room = ys.end - ys.start - n * (BLOCK_HEADER + BLOCK_GAP) + BLOCK_GAP;
    let total = blocks.iter().map(|(_, w)| *w).sum::<usize>().max(1) as i64;
    let mut top = ys.start;
    let mut placed = Vec::with_capacity(blocks.len());
    for (label, weight) in blocks {
        let height = ((i64::from(room) * *weight as i64 / total) as i32).max(1);
        // The grid shows through the lanes, not behind the label or between blocks.
        let band = [
            (xs.start + 1, (top - BLOCK_GAP).max(ys.start)),
            (xs.end, top + BLOCK_HEADER),
        ];
        screen.draw(&Rectangle::new(band, WHITE.filled()))?;
        let label = fit(label, xs.end - xs.start - 8, LABEL_PX);
        let style = text(LABEL_PX, true, TEXT, HPos::Left, VPos::Center);
        screen.draw(&Text::new(
            label,
            (xs.start + 4, top + BLOCK_HEADER / 2),
            style,
        ))?;
        let lanes_top = top + BLOCK_HEADER;
        let panel = [(xs.start, lanes_top), (xs.end, lanes_top + height)];
        screen.draw(&Rectangle::new(panel, PANEL.mix(0.6).filled()))?;
        placed.push(Block {
            top: lanes_top,
            height,
        });
        top = lanes_top + height + BLOCK_GAP;
    }
    Ok(placed)
}

/// The room [`stack_blocks`] takes beside the lanes for `blocks` blocks, px: what a
/// chart that grows with its lanes adds to its height.
pub(super) fn blocks_overhead(blocks: usize) -> u32 {
    blocks as u32 * (BLOCK_HEADER + BLOCK_GAP) as u32
}

/// The shared look of axes, grid and labels; the caller adds descriptions and draws.
pub(super) fn mesh<'a, 'b, X, Y, DB>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
    DB: DrawingBackend,
{
    let mut mesh = chart.configure_mesh();
    mesh.label_style(text(TICK_PX, false, TEXT, HPos::Center, VPos::Center))
        .axis_desc_style(text(LABEL_PX, false, TEXT, HPos::Center, VPos::Center))
        .axis_style(MUTED)
        .max_light_lines(1)
        .bold_line_style(RGBColor(0xD0, 0xD7, 0xDE))
        .light_line_style(RGBColor(0xEE, 0xF1, 0xF4));
    mesh
}

/// The pixel rectangle of the data rectangle (`x0`, `y0`)-(`x1`, `y1`), clamped to the
/// axes and at least 1 px in each direction so that no bar vanishes. Absolute pixels, for
/// `chart.plotting_area().use_screen_coord()`.
pub(super) fn bar_px<DB, X, Y>(
    chart: &ChartContext<'_, DB, Cartesian2d<X, Y>>,
    (x0, y0): (f64, f64),
    (x1, y1): (f64, f64),
) -> [(i32, i32); 2]
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let (xs, ys) = (chart.x_range(), chart.y_range());
    let x = |v: f64| v.clamp(xs.start.min(xs.end), xs.start.max(xs.end));
    let y = |v: f64| v.clamp(ys.start.min(ys.end), ys.start.max(ys.end));
    let a = chart.backend_coord(&(x(x0), y(y0)));
    let b = chart.backend_coord(&(x(x1), y(y1)));
    let (left, right) = (a.0.min(b.0), a.0.max(b.0));
    let (top, bottom) = (a.1.min(b.1), a.1.max(b.1));
    [(left, top), (right.max(left + 1), bottom.max(top + 1))]
}

/// A dashed horizontal reference line across the chart at `y`, with `label` right-aligned
/// just above its right end (on a white backing: one `<rect>`).
pub(super) fn reference_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    y: f64,
    label: &str,
) -> Result<(), ChartError>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let xs = chart.x_range();
    let (left, right) = (xs.start.min(xs.end), xs.start.max(xs.end));
    let style = MUTED.stroke_width(2);
    chart.draw_series(DashedLineSeries::new(
        vec![(left, y), (right, y)],
        8,
        5,
        style,
    ))?;
    // The label sits on a white backing so that bars behind it do not hide it.
    let (w, h) = (text_width(label, SMALL_PX) + 4, SMALL_PX as i32 + 4);
    let backing = Rectangle::new([(-w - 6, -h - 2), (-2, -2)], WHITE.mix(0.85).filled());
    let label_style = text(SMALL_PX, false, MUTED, HPos::Right, VPos::Bottom);
    let tag = EmptyElement::at((right, y))
        + backing
        + Text::new(label.to_string(), (-4, -3), label_style);
    chart.plotting_area().draw(&tag)?;
    Ok(())
}
