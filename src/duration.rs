//! Durations as people read them: the one place that decides units and digits, for the
//! terminal tables, the reports' reason lines and the book's examples.
//!
//! Seconds, from a second up, always read the same way: three significant digits
//! (`5.01 s`, `12.3 s`). What differs is what is shown below a second:
//! - [`ms`] picks the unit that reads best (`512 ms`, `4.2 ms`): tables and summaries;
//! - [`secs`] stays in seconds (`0.31 s`, `0.031 s`), so that figures set side by side in
//!   a claim's reason line share a unit;
//! - [`steady`] keeps one decimal of milliseconds (`707.2 ms`, `1.20 s`): the examples'
//!   step-by-step lines, which the book quotes.

use std::time::Duration;

/// Milliseconds in the unit that reads best: `512 ms`, `4.2 ms`, `5.01 s`, `12.3 s`.
pub fn ms(ms: f64) -> String {
    if ms >= 1_000.0 {
        secs(ms)
    } else if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Milliseconds as seconds: `0.031 s`, `0.31 s`, `3.12 s`, `20.0 s`.
pub fn secs(ms: f64) -> String {
    let s = ms / 1e3;
    if ms >= 10_000.0 {
        format!("{s:.1} s")
    } else if ms >= 100.0 {
        format!("{s:.2} s")
    } else {
        format!("{s:.3} s")
    }
}

/// A measured duration with a fixed number of decimals: `35.1 ms`, `707.2 ms`, `1.20 s`,
/// `12.34 s`, so that lines printed one under another line up.
pub fn steady(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_read_in_the_unit_that_reads_best() {
        let cases = [
            (4.24, "4.2 ms"),
            (35.1, "35 ms"),
            (512.4, "512 ms"),
            (5_012.0, "5.01 s"),
            (12_345.0, "12.3 s"),
        ];
        for (value, text) in cases {
            assert_eq!(ms(value), text);
        }
    }

    #[test]
    fn seconds_stay_in_seconds_below_one() {
        let cases = [
            (31.0, "0.031 s"),
            (310.0, "0.31 s"),
            (3_120.0, "3.12 s"),
            (20_000.0, "20.0 s"),
        ];
        for (value, text) in cases {
            assert_eq!(secs(value), text);
        }
    }

    #[test]
    fn steady_keeps_its_decimals() {
        assert_eq!(steady(Duration::from_millis(1200)), "1.20 s");
        assert_eq!(steady(Duration::from_micros(35_100)), "35.1 ms");
        assert_eq!(steady(Duration::from_micros(707_200)), "707.2 ms");
    }
}
