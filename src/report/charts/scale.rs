//! Numbers and axes: which values can be drawn, axis ranges (linear from zero, log in
//! whole decades, counts in whole numbers) and how numbers are written on a chart.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// A linear `f64` axis with ticks exactly where given (group centres, whole counts) and no
/// light grid lines. (plotters' own `with_key_points` loses the `f64` label formatting.)
pub(super) struct Ticks {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticks {
    /// An axis over `range` with ticks at `ticks`.
    pub(super) fn new(range: Range<f64>, ticks: Vec<f64>) -> Self {
        Self {
            inner: range.into(),
            ticks,
        }
    }

    /// A count axis from 0 to `top`, ticks from [`count_ticks`].
    pub(super) fn counts(top: f64) -> Self {
        Self::new(0.0..top, count_ticks(top))
    }
}

impl Ranged for Ticks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// The largest magnitude drawn (1e15: 31,000 years in ms). Beyond it plotters' tick
/// search can overflow to infinity and never end, so such values are skipped or clamped.
pub(super) const LARGEST: f64 = 1e15;
/// The smallest positive value a log axis shows.
const SMALLEST: f64 = 1e-12;
/// The smallest span an axis is given; narrower data gets a span of 1 instead.
pub(super) const NARROWEST: f64 = 1e-6;

/// A finite number no larger than [`LARGEST`] in magnitude, or nothing.
pub(super) fn finite(v: f64) -> Option<f64> {
    (v.is_finite() && v.abs() <= LARGEST).then_some(v)
}

/// A positive number a log axis can show (from 1e-12 to [`LARGEST`]), or nothing.
pub(super) fn positive(v: f64) -> Option<f64> {
    (v.is_finite() && (SMALLEST..=LARGEST).contains(&v)).then_some(v)
}

/// A count as a value on an axis, clamped to [`LARGEST`].
pub(super) fn count(c: u64) -> f64 {
    (c as f64).min(LARGEST)
}

/// The end of a time axis running from `lo` to `hi`: 2% past `hi`, or `lo + 1` when the
/// data spans (next to) nothing.
pub(super) fn time_top(lo: f64, hi: f64) -> f64 {
    if hi - lo > NARROWEST {
        hi + (hi - lo) * 0.02
    } else {
        lo + 1.0
    }
}

/// The top of a linear axis starting at zero: `max` plus `headroom` (a fraction), or 1.
pub(super) fn linear_top(max: f64, headroom: f64) -> f64 {
    match finite(max).filter(|m| *m > NARROWEST) {
        Some(m) => m * (1.0 + headroom),
        None => 1.0,
    }
}

/// A log axis covering `values` (non-positive and non-finite ones ignored), widened to whole
/// decades; 1..10 when nothing is left.
pub(super) fn log_range(values: impl IntoIterator<Item = f64>) -> Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter_map(positive) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return 1.0..10.0;
    }
    let lo = 10f64.powf(lo.log10().floor().clamp(-12.0, 15.0));
    let hi = 10f64.powf(hi.log10().ceil().clamp(-12.0, 15.0));
    if hi > lo { lo..hi } else { lo..lo * 10.0 }
}

/// A number for a tick or a label, without trailing zeros: `0.25`, `12.5`, `1500`.
pub(super) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "-".to_string();
    }
    let a = v.abs();
    let s = if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        let decimals = (2 - a.log10().floor() as i32).clamp(2, 12) as usize;
        format!("{v:.decimals$}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A speedup as people write it: `0.85x`, `6.7x`, `120x`.
pub(super) fn fmt_speedup(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.2}x")
    } else if v < 100.0 {
        format!("{v:.1}x")
    } else {
        format!("{v:.0}x")
    }
}

/// Tick positions for a count axis from 0 to `top`: whole numbers at a 1-2-5 step, about
/// six of them.
pub(super) fn count_ticks(top: f64) -> Vec<f64> {
    let top = usable_top(top);
    let raw = top / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude)
        .max(1.0)
        .round();
    let count = (top / step).floor() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// `top` made usable as the end of an axis: finite and at least 1, else 1.
fn usable_top(top: f64) -> f64 {
    finite(top).unwrap_or(1.0).clamp(1.0, LARGEST * 2.0)
}
