//! The network between a client and the mock API: round-trip time, jitter and
//! bandwidth, as a preset (`--network continent`) or part by part (`--rtt 80ms`).
//!
//! On loopback a new connection costs about 0.1 ms and a request's bytes arrive at
//! once; on the internet a TCP handshake costs a round trip, every request another, and
//! a large body its size over the link's bandwidth. A [`Network`] says how far away the
//! emulated API is; the link (`server/link.rs`) makes every connection of the mock API pay it, for
//! any client, in any language.
//!
//! The same keys work on the command line and in a profile's TOML; flags override the
//! file, part by part:
//!
//! ```toml
//! [network]
//! preset = "continent"   # optional: the figures to start from (loopback by default)
//! rtt = "40ms"           # round-trip time
//! jitter = "2ms"         # spread of each one-way delay (see below)
//! bandwidth = "20mbit"   # per connection, each direction; "unlimited" by default
//! ```
//!
//! Bandwidth units: `kbit`, `mbit`, `gbit` (also written `kbps`, `mbps`, `gbps`, or with
//! `/s`), and bytes per second as `KB/s`, `MB/s`, `GB/s` (capital B); all decimal
//! (1 mbit = 1,000,000 bits per second). Jitter is the width of the window each one-way
//! delay is drawn from, centred on half the round trip: `rtt 60ms, jitter 15ms` holds
//! every chunk between 22.5 and 37.5 ms each way, seeded, and never reorders bytes.
//!
//! The network travels inside the [`Profile`](super::profile::Profile): the profile is
//! what the TOML describes and what every server is started from (a run's own, the
//! child process's JSON, a sweep point's scenario, the Python peers' server), so the
//! network reaches all of them without another field to forget.
//!
//! Read next: `server/link.rs`, which applies it to each accepted connection.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::latency::{format_duration, parse_duration};

/// The longest round trip (and jitter) a network may have: far beyond any real path
/// (a geostationary satellite hop is about 0.6 s), short of a typo's hours.
pub const MAX_RTT: Duration = Duration::from_secs(10);
/// The slowest bandwidth accepted: one kilobit per second.
pub const MIN_BITS_PER_SECOND: u64 = 1_000;

/// The named networks of `--network`, each a round figure from published measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// No network at all: 127.0.0.1, nothing added (the default; connections are not
    /// wrapped, so every figure is today's).
    Loopback,
    /// One switched gigabit LAN: rtt 0.5 ms, 1 gbit (ping on switched Ethernet reads
    /// 0.1 to 0.5 ms).
    Lan,
    /// Across availability zones of one cloud region: rtt 2 ms (Azure documents under
    /// 2 ms between its zones; AWS promises "single-digit milliseconds" and measures 0.5
    /// to 1.5 ms).
    Region,
    /// Across one continent: rtt 40 ms (AWS inter-region tables, cloudping.co: Ireland
    /// to Frankfurt about 25 ms, Virginia to Oregon about 65 ms; WonderNetwork's ping
    /// tables: London to Madrid or Warsaw 30 to 40 ms).
    Continent,
    /// Across an ocean: rtt 80 ms (transatlantic: WonderNetwork New York to London about
    /// 75 ms, AWS Virginia to Ireland 70 to 80 ms).
    Ocean,
    /// A phone on 4G: rtt 60 ms, jitter 15 ms, 10 mbit each way (LTE round trips of 50
    /// to 70 ms and 10 to 20 Mbit/s in Opensignal's and Ookla's national reports).
    Mobile,
}

impl Preset {
    /// Every preset, in order of distance.
    pub const ALL: [Preset; 6] = [
        Preset::Loopback,
        Preset::Lan,
        Preset::Region,
        Preset::Continent,
        Preset::Ocean,
        Preset::Mobile,
    ];

    /// The preset's figures.
    pub fn network(self) -> Network {
        let ms = |ms: f64| Duration::from_secs_f64(ms / 1e3);
        let (rtt, jitter, bandwidth) = match self {
            Preset::Loopback => (Duration::ZERO, Duration::ZERO, Bandwidth::Unlimited),
            Preset::Lan => (
                ms(0.5),
                Duration::ZERO,
                Bandwidth::BitsPerSecond(1_000_000_000),
            ),
            Preset::Region => (ms(2.0), Duration::ZERO, Bandwidth::Unlimited),
            Preset::Continent => (ms(40.0), Duration::ZERO, Bandwidth::Unlimited),
            Preset::Ocean => (ms(80.0), Duration::ZERO, Bandwidth::Unlimited),
            Preset::Mobile => (ms(60.0), ms(15.0), Bandwidth::BitsPerSecond(10_000_000)),
        };
        Network {
            rtt,
            jitter,
            bandwidth,
        }
    }

    /// Its name, as `--network` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Loopback => "loopback",
            Preset::Lan => "lan",
            Preset::Region => "region",
            Preset::Continent => "continent",
            Preset::Ocean => "ocean",
            Preset::Mobile => "mobile",
        }
    }
}

/// How fast one direction of one connection may carry bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Bandwidth {
    /// As fast as loopback: no serialization time.
    #[default]
    Unlimited,
    /// At most this many bits per second.
    BitsPerSecond(u64),
}

impl Bandwidth {
    /// How long `bytes` take to go onto a link this fast.
    pub fn transfer_time(self, bytes: usize) -> Duration {
        match self {
            Bandwidth::Unlimited => Duration::ZERO,
            Bandwidth::BitsPerSecond(bits) => {
                Duration::from_secs_f64(bytes as f64 * 8.0 / bits as f64)
            }
        }
    }
}

impl FromStr for Bandwidth {
    type Err = String;

    fn from_str(text: &str) -> Result<Bandwidth, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("unlimited") {
            return Ok(Bandwidth::Unlimited);
        }
        let split = text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: f64 = number.trim().parse().map_err(|_| {
            format!("'{text}' is not a bandwidth (write 20mbit, 500kbit, 2MB/s or unlimited)")
        })?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!(
                "a bandwidth must be above zero (write 20mbit, or unlimited), not '{text}'"
            ));
        }
        let per_second = unit
            .strip_suffix("/s")
            .or_else(|| unit.strip_suffix("ps"))
            .unwrap_or(unit);
        let bits_per_unit = match per_second {
            "KB" | "kB" => 8e3,
            "MB" => 8e6,
            "GB" => 8e9,
            bits => match bits.to_ascii_lowercase().as_str() {
                "kbit" | "kb" => 1e3,
                "mbit" | "mb" => 1e6,
                "gbit" | "gb" => 1e9,
                _ => {
                    return Err(format!(
                        "unknown bandwidth unit '{unit}' in '{text}': use kbit, mbit, gbit, KB/s, MB/s or GB/s"
                    ));
                }
            },
        };
        let bits = value * bits_per_unit;
        if bits < MIN_BITS_PER_SECOND as f64 {
            return Err(format!("'{text}' is below the slowest bandwidth, 1kbit"));
        }
        if bits > u64::MAX as f64 / 2.0 {
            return Err(format!("'{text}' is too large"));
        }
        Ok(Bandwidth::BitsPerSecond(bits.round() as u64))
    }
}

impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Bandwidth::BitsPerSecond(bits) = *self else {
            return f.write_str("unlimited");
        };
        // The largest unit that shows the figure exactly in three decimals, so that the
        // text (what a child server reads) parses back to the same bits.
        let (value, unit) = match bits {
            b if b >= 1_000_000_000 && b % 1_000_000 == 0 => (b as f64 / 1e9, "gbit"),
            b if b >= 1_000_000 && b % 1_000 == 0 => (b as f64 / 1e6, "mbit"),
            b => (b as f64 / 1e3, "kbit"),
        };
        let value = format!("{value:.3}");
        write!(
            f,
            "{}{unit}",
            value.trim_end_matches('0').trim_end_matches('.')
        )
    }
}

impl TryFrom<String> for Bandwidth {
    type Error = String;
    fn try_from(text: String) -> Result<Bandwidth, String> {
        text.parse()
    }
}

impl From<Bandwidth> for String {
    fn from(bandwidth: Bandwidth) -> String {
        bandwidth.to_string()
    }
}

/// The link between any client and the mock API, the same for every connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "NetworkSpec", into = "NetworkSpec")]
pub struct Network {
    /// The round-trip time: a TCP handshake costs one, each request-and-answer another.
    pub rtt: Duration,
    /// The width of the window each one-way delay is drawn from, centred on `rtt / 2`.
    pub jitter: Duration,
    /// Per connection, in each direction.
    pub bandwidth: Bandwidth,
}

impl Network {
    /// True for the network that adds nothing: connections are then served unwrapped.
    pub fn is_loopback(&self) -> bool {
        self.rtt.is_zero() && self.jitter.is_zero() && self.bandwidth == Bandwidth::Unlimited
    }

    /// The same network with time running `factor` times as fast, as `--time-scale`
    /// scales the delays: round trips and jitter times `factor`, bandwidth divided by it
    /// (a body then takes `factor` times as long to cross).
    pub fn scaled(&self, factor: f64) -> Network {
        let whole_us = |d: Duration| Duration::from_micros((d.as_secs_f64() * factor * 1e6) as u64);
        let bandwidth = match self.bandwidth {
            Bandwidth::Unlimited => Bandwidth::Unlimited,
            Bandwidth::BitsPerSecond(bits) => {
                Bandwidth::BitsPerSecond(((bits as f64 / factor) as u64).max(1))
            }
        };
        Network {
            rtt: whole_us(self.rtt),
            jitter: whole_us(self.jitter),
            bandwidth,
        }
    }

    /// The most one request can cost on this network beyond its delay, generously: a
    /// fresh connection's two round trips with the jitter at its widest both ways, and
    /// `body_bytes` over the bandwidth. Deadlines add it to every request's delay.
    pub fn generous_request_cost(&self, body_bytes: usize) -> Duration {
        (self.rtt * 2 + self.jitter * 2).saturating_add(self.bandwidth.transfer_time(body_bytes))
    }

    /// Refuses a network no link should emulate, naming the part at fault.
    pub fn validate(&self) -> Result<(), String> {
        for (name, value) in [("round-trip time", self.rtt), ("jitter", self.jitter)] {
            if value > MAX_RTT {
                return Err(format!(
                    "the network's {name} {} is above the {} limit",
                    format_duration(value),
                    format_duration(MAX_RTT)
                ));
            }
        }
        Ok(())
    }

    /// The preset this network is exactly, if any.
    pub fn preset(&self) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.network() == *self)
    }
}

impl fmt::Display for Network {
    /// `loopback`, `continent (rtt 40ms)`, `rtt 50ms, jitter 5ms, 20mbit each way`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_loopback() {
            return f.write_str("loopback");
        }
        if let Some(preset) = self.preset() {
            write!(f, "{} (", preset.name())?;
        }
        write!(f, "rtt {}", format_duration(self.rtt))?;
        if !self.jitter.is_zero() {
            write!(f, ", jitter {}", format_duration(self.jitter))?;
        }
        if self.bandwidth != Bandwidth::Unlimited {
            write!(f, ", {} each way", self.bandwidth)?;
        }
        if self.preset().is_some() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A network as a profile's `[network]` table writes it: a preset to start from and
/// the parts that replace its figures. A [`Network`] is written back with every part
/// set and no preset, so it reads back as itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preset: Option<Preset>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rtt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jitter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bandwidth: Option<Bandwidth>,
}

impl TryFrom<NetworkSpec> for Network {
    type Error = String;

    fn try_from(spec: NetworkSpec) -> Result<Network, String> {
        let mut network = spec.preset.unwrap_or(Preset::Loopback).network();
        let duration = |name: &str, text: &str| {
            parse_duration(text).map_err(|e| format!("network {name}: {e}"))
        };
        if let Some(rtt) = &spec.rtt {
            network.rtt = duration("rtt", rtt)?;
        }
        if let Some(jitter) = &spec.jitter {
            network.jitter = duration("jitter", jitter)?;
        }
        if let Some(bandwidth) = spec.bandwidth {
            network.bandwidth = bandwidth;
        }
        network.validate()?;
        Ok(network)
    }
}

impl From<Network> for NetworkSpec {
    fn from(network: Network) -> NetworkSpec {
        NetworkSpec {
            preset: None,
            rtt: Some(format_duration(network.rtt)),
            jitter: Some(format_duration(network.jitter)),
            bandwidth: Some(network.bandwidth),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_reads_bits_and_bytes_and_refuses_nonsense() {
        let bits = |text: &str| match text.parse::<Bandwidth>() {
            Ok(Bandwidth::BitsPerSecond(b)) => b,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(bits("20mbit"), 20_000_000);
        assert_eq!(bits("20 Mbit/s"), 20_000_000);
        assert_eq!(bits("500kbps"), 500_000);
        assert_eq!(bits("1gbit"), 1_000_000_000);
        assert_eq!(bits("2MB/s"), 16_000_000);
        assert_eq!(bits("1.5KB/s"), 12_000);
        assert_eq!("unlimited".parse(), Ok(Bandwidth::Unlimited));
        assert!("0".parse::<Bandwidth>().unwrap_err().contains("above zero"));
        assert!(
            "0mbit"
                .parse::<Bandwidth>()
                .unwrap_err()
                .contains("above zero")
        );
        let parsecs = "10parsecs".parse::<Bandwidth>().unwrap_err();
        assert!(
            parsecs.contains("unknown bandwidth unit 'parsecs'"),
            "{parsecs}"
        );
        assert!("fast".parse::<Bandwidth>().is_err());
        assert!("10bit".parse::<Bandwidth>().is_err());
        assert_eq!(Bandwidth::BitsPerSecond(2_500_000).to_string(), "2.5mbit");
        for bits in [33_333_333, 1_000_001_000, 1_234] {
            let text = Bandwidth::BitsPerSecond(bits).to_string();
            assert_eq!(text.parse(), Ok(Bandwidth::BitsPerSecond(bits)), "{text}");
        }
    }

    #[test]
    fn a_profile_table_starts_from_its_preset_and_round_trips() {
        let network: Network =
            toml::from_str("preset = \"mobile\"\nrtt = \"80ms\"\nbandwidth = \"unlimited\"")
                .unwrap();
        assert_eq!(network.rtt, Duration::from_millis(80));
        assert_eq!(network.jitter, Duration::from_millis(15));
        assert_eq!(network.bandwidth, Bandwidth::Unlimited);
        let json = serde_json::to_string(&network).unwrap();
        assert_eq!(serde_json::from_str::<Network>(&json).unwrap(), network);
        let mobile = Preset::Mobile.network();
        let json = serde_json::to_string(&mobile).unwrap();
        assert_eq!(serde_json::from_str::<Network>(&json).unwrap(), mobile);
        assert!(toml::from_str::<Network>("preset = \"moon\"").is_err());
        assert!(toml::from_str::<Network>("rtt = \"-1ms\"").is_err());
        assert!(toml::from_str::<Network>("rtt = \"11s\"").is_err());
        assert!(toml::from_str::<Network>("latency = \"1ms\"").is_err());
    }

    #[test]
    fn loopback_is_the_default_and_adds_nothing() {
        assert_eq!(Network::default(), Preset::Loopback.network());
        assert!(Network::default().is_loopback());
        assert!(!Preset::Lan.network().is_loopback());
        assert_eq!(Network::default().to_string(), "loopback");
        assert_eq!(
            Preset::Continent.network().to_string(),
            "continent (rtt 40ms)"
        );
        assert_eq!(
            Preset::Mobile.network().to_string(),
            "mobile (rtt 60ms, jitter 15ms, 10mbit each way)"
        );
    }

    #[test]
    fn scaling_shortens_round_trips_and_widens_the_pipe_alike() {
        let scaled = Preset::Mobile.network().scaled(0.1);
        assert_eq!(scaled.rtt, Duration::from_millis(6));
        assert_eq!(scaled.jitter, Duration::from_micros(1500));
        assert_eq!(scaled.bandwidth, Bandwidth::BitsPerSecond(100_000_000));
        // A body's transfer time scales as the round trips do.
        let body = 100_000;
        let before = Preset::Mobile.network().bandwidth.transfer_time(body);
        let after = scaled.bandwidth.transfer_time(body);
        assert!((after.as_secs_f64() / before.as_secs_f64() - 0.1).abs() < 1e-6);
        assert!(Network::default().scaled(0.1).is_loopback());
    }

    #[test]
    fn a_request_may_cost_two_round_trips_and_its_body_on_the_wire() {
        let mobile = Preset::Mobile.network();
        // 2 × 60 ms + 2 × 15 ms, and 125 kB at 10 mbit (100 ms).
        assert_eq!(
            mobile.generous_request_cost(125_000),
            Duration::from_millis(250)
        );
        assert_eq!(
            Network::default().generous_request_cost(1 << 20),
            Duration::ZERO
        );
    }
}
