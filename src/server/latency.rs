//! Latency distributions: how long the mock API waits before it answers.
//!
//! A distribution is written the way the CLI and profile files take it:
//!
//! | text                     | meaning                                          |
//! |--------------------------|--------------------------------------------------|
//! | `500ms`, `1s`, `1.5s`    | always exactly that long                         |
//! | `uniform:100ms..900ms`   | uniformly between the two bounds                 |
//! | `lognormal:200ms..2s`    | log-normal with median 200 ms and p99 2 s        |
//!
//! Draws are *seeded per request*: the delay of request `seq` at endpoint `e` is a pure
//! function of `(seed, e, seq)`, so the model (and a rerun) knows exactly which delay
//! each request will be given, whatever order the requests arrive in.
//!
//! Read next: [`crate::server::profile`], which attaches a distribution to an endpoint.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use rand::SeedableRng;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest duration accepted anywhere: a day.
const MAX_SECONDS: f64 = 86_400.0;

/// The z-score of the 99th percentile of a standard normal distribution.
const Z_P99: f64 = 2.326_347_874_040_841;

/// How long the server waits before answering a request.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Latency {
    /// Every request waits exactly this long.
    Fixed(Duration),
    /// Uniform between `low` and `high` (inclusive).
    Uniform {
        /// The shortest delay.
        low: Duration,
        /// The longest delay.
        high: Duration,
    },
    /// Log-normal, described by the two figures people quote: the median and the p99.
    LogNormal {
        /// Half the requests wait less than this.
        median: Duration,
        /// 99 in 100 wait less than this.
        p99: Duration,
    },
}

impl Latency {
    /// The delay given to request `seq` of endpoint `endpoint` in a run seeded with `seed`.
    pub fn draw(&self, seed: u64, endpoint: usize, seq: u64) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform { low, high } => {
                let u = unit_draw(seed, endpoint, seq);
                low + (high - low).mul_f64(u)
            }
            Latency::LogNormal { median, p99 } => {
                let mu = median.as_secs_f64().ln();
                let sigma = (p99.as_secs_f64().ln() - mu) / Z_P99;
                let mut rng = request_rng(seed, endpoint, seq);
                let dist = rand_distr::LogNormal::new(mu, sigma)
                    .expect("sigma is finite and non-negative: checked when parsed");
                Duration::from_secs_f64(dist.sample(&mut rng).min(MAX_SECONDS))
            }
        }
    }

    /// An upper bound used for deadlines: the delay itself, the upper bound, or 3 × p99.
    pub fn generous_max(&self) -> Duration {
        match *self {
            Latency::Fixed(d) => d,
            Latency::Uniform { high, .. } => high,
            Latency::LogNormal { p99, .. } => p99 * 3,
        }
    }

    /// The same distribution with every duration multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> Latency {
        match *self {
            Latency::Fixed(d) => Latency::Fixed(d.mul_f64(factor)),
            Latency::Uniform { low, high } => Latency::Uniform {
                low: low.mul_f64(factor),
                high: high.mul_f64(factor),
            },
            Latency::LogNormal { median, p99 } => Latency::LogNormal {
                median: median.mul_f64(factor),
                p99: p99.mul_f64(factor),
            },
        }
    }
}

/// The seed a copy of a request draws from: copy 0 (the request itself) draws from
/// the run's seed, so a hedged run's first copies get exactly the delays of the same
/// run unhedged; copy `c > 0` (a hedge, a replica: `&copy=c` in its query) draws from
/// a seed of its own, independent of the first copy's.
pub fn copy_seed(seed: u64, copy: u32) -> u64 {
    if copy == 0 {
        seed
    } else {
        seed ^ splitmix64(0xc0b1_0000_0000 + u64::from(copy))
    }
}

/// A random number generator private to one request, so draws don't depend on arrival order.
fn request_rng(seed: u64, endpoint: usize, seq: u64) -> StdRng {
    let mixed = splitmix64(seed ^ splitmix64(endpoint as u64 ^ splitmix64(seq)));
    StdRng::seed_from_u64(mixed)
}

/// A uniform draw in `[0, 1]` for one request.
pub(crate) fn unit_draw(seed: u64, endpoint: usize, seq: u64) -> f64 {
    use rand::RngExt;
    request_rng(seed, endpoint, seq).random_range(0.0..=1.0)
}

/// Sebastiano Vigna's splitmix64 finaliser: spreads nearby integers over all 64 bits.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Parses one duration: a number followed by `us`, `ms`, `s` or `m` (`250ms`, `1.5s`).
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    let text = text.trim();
    let bad = |why: &str| Error::InvalidDuration {
        text: text.to_string(),
        why: why.to_string(),
    };
    // The unit is the trailing run of letters, so `1e3ms` reads as 1e3 and `ms`.
    let split = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphabetic())
        .last()
        .map(|(i, _)| i)
        .ok_or_else(|| bad("it has no unit (write 500ms, 1s, 2m)"))?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| bad("the number before the unit does not parse"))?;
    if value.is_sign_negative() {
        return Err(bad("a duration cannot be negative"));
    }
    if !value.is_finite() {
        return Err(bad("the number is not finite"));
    }
    let seconds = match unit {
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" | "min" => value * 60.0,
        _ => return Err(bad("the unit must be one of us, ms, s, m")),
    };
    if seconds > MAX_SECONDS {
        return Err(bad("it is longer than a day"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| bad("it is too large"))
}

/// Formats a duration compactly for display: `500ms`, `1.5s`, `120us`.
pub fn format_duration(d: Duration) -> String {
    let micros = d.as_micros();
    if micros == 0 {
        "0ms".to_string()
    } else if micros.is_multiple_of(1_000_000) {
        format!("{}s", micros / 1_000_000)
    } else if micros >= 1_000_000 {
        format!("{}s", trim_float(d.as_secs_f64()))
    } else if micros.is_multiple_of(1000) {
        format!("{}ms", micros / 1000)
    } else if micros >= 1000 {
        format!("{}ms", trim_float(micros as f64 / 1e3))
    } else {
        format!("{micros}us")
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn parse_range(text: &str, whole: &str) -> Result<(Duration, Duration), Error> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| Error::InvalidDuration {
            text: whole.to_string(),
            why: "a range is written LOW..HIGH, e.g. uniform:100ms..900ms".to_string(),
        })?;
    let (low, high) = (parse_duration(a)?, parse_duration(b)?);
    if low > high {
        return Err(Error::InvalidDuration {
            text: whole.to_string(),
            why: "the first bound is larger than the second".to_string(),
        });
    }
    Ok((low, high))
}

impl FromStr for Latency {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if let Some(range) = text.strip_prefix("uniform:") {
            let (low, high) = parse_range(range, text)?;
            return Ok(Latency::Uniform { low, high });
        }
        if let Some(range) = text.strip_prefix("lognormal:") {
            let (median, p99) = parse_range(range, text)?;
            if median.is_zero() {
                return Err(Error::InvalidDuration {
                    text: text.to_string(),
                    why: "a log-normal median must be above zero".to_string(),
                });
            }
            return Ok(Latency::LogNormal { median, p99 });
        }
        if let Some((kind, _)) = text.split_once(':') {
            return Err(Error::InvalidDuration {
                text: text.to_string(),
                why: format!("unknown distribution '{kind}' (use uniform: or lognormal:)"),
            });
        }
        parse_duration(text).map(Latency::Fixed)
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Latency::Fixed(d) => write!(f, "{}", format_duration(d)),
            Latency::Uniform { low, high } => write!(
                f,
                "uniform:{}..{}",
                format_duration(low),
                format_duration(high)
            ),
            Latency::LogNormal { median, p99 } => write!(
                f,
                "lognormal:{}..{}",
                format_duration(median),
                format_duration(p99)
            ),
        }
    }
}

impl TryFrom<String> for Latency {
    type Error = Error;
    fn try_from(text: String) -> Result<Self, Error> {
        text.parse()
    }
}

impl From<Latency> for String {
    fn from(latency: Latency) -> String {
        latency.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_is_the_trailing_letters() {
        assert_eq!(parse_duration("1e3ms").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("250µs").unwrap(), Duration::from_micros(250));
        assert_eq!(
            parse_duration("1.5 s").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("ms").is_err());
    }

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(
            "500ms".parse::<Latency>().unwrap(),
            Latency::Fixed(Duration::from_millis(500))
        );
        assert_eq!(
            "1.5s".parse::<Latency>().unwrap(),
            Latency::Fixed(Duration::from_millis(1500))
        );
        assert_eq!(
            "uniform:100ms..900ms".parse::<Latency>().unwrap(),
            Latency::Uniform {
                low: Duration::from_millis(100),
                high: Duration::from_millis(900)
            }
        );
        assert!(matches!(
            "lognormal:200ms..2s".parse::<Latency>().unwrap(),
            Latency::LogNormal { .. }
        ));
    }

    #[test]
    fn rejects_bad_durations_with_a_reason() {
        for bad in [
            "-1s",
            "500",
            "5 parsecs",
            "uniform:1s",
            "uniform:2s..1s",
            "zipf:1s..2s",
        ] {
            let err = bad.parse::<Latency>().unwrap_err().to_string();
            assert!(err.contains(bad.trim()), "{bad}: {err}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "500ms",
            "2s",
            "uniform:100ms..900ms",
            "lognormal:200ms..2s",
            "1.5s",
        ] {
            assert_eq!(text.parse::<Latency>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn draws_depend_on_the_request_not_the_call_order() {
        let latency: Latency = "uniform:0ms..1s".parse().unwrap();
        let forward: Vec<_> = (0..50).map(|seq| latency.draw(7, 0, seq)).collect();
        let backward: Vec<_> = (0..50).rev().map(|seq| latency.draw(7, 0, seq)).collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        assert_ne!(latency.draw(7, 0, 1), latency.draw(8, 0, 1));
        assert!(forward.iter().all(|d| *d <= Duration::from_secs(1)));
    }

    #[test]
    fn lognormal_median_and_p99_come_out_near_the_requested_figures() {
        let latency: Latency = "lognormal:200ms..2s".parse().unwrap();
        let mut draws: Vec<_> = (0..20_000).map(|seq| latency.draw(1, 0, seq)).collect();
        draws.sort();
        let median = draws[10_000].as_secs_f64();
        let p99 = draws[19_800].as_secs_f64();
        assert!((median / 0.2 - 1.0).abs() < 0.05, "median {median}");
        assert!((p99 / 2.0 - 1.0).abs() < 0.15, "p99 {p99}");
    }
}
