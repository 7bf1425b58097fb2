//! Where the time went: each request's life split into phases, client and server on
//! one clock, so the gap between a measured wall and the model's can be named.
//!
//! A request's time from the run's start to its end is, exactly:
//!
//! ```text
//! start       the client began it (after any permit, rate-limit or spawn wait)
//! + out       until the server had it whole: connection set-up, the send, the
//!             server accepting it
//! + delay     the delay the mock API was told to inject
//! + server    the server's time beyond that delay: timers firing late, a busy runtime
//! + back      from the server handing its answer over until the client has read it
//! ```
//!
//! The two legs, out and back, are named for what fills them ([`Leg::name`]). On
//! loopback a byte crosses in microseconds, so what they hold is the client's and the
//! kernel's own time: *send lag* and *receive*. Over an emulated network
//! (`--network`, `--rtt`) they hold the network's round trips: half a round trip each
//! way, and on a fresh connection the TCP and TLS handshakes before the request can
//! go: *network out* and *network back*. The JSON keeps one spelling for both
//! (`send_lag_ms`, `receive_ms`) and says which it is in `over_network`. The request
//! waterfall (`report/charts/waterfall.rs`) uses the same two names for the same legs.
//!
//! The request that ends last sets the wall, so its phases say where the wall went.
//! Over all requests, the 99th percentile of each phase beyond the delay says which
//! side was slow: a send lag points at the client or the kernel (connection bursts), a
//! server time at the mock API's runtime, a receive time at the client's runtime; over
//! a network, the legs point at the round trips first. When the server's share is the
//! largest and well above a millisecond, the mock API itself is the bottleneck and the
//! run measures it, not the client.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::measure::{Percentiles, Sample, percentiles_ms};
use crate::output::RunOutput;
use crate::server::ledger::{LedgerEntry, LedgerRecord};

/// Below this, no phase is worth naming as a bottleneck: the server's timer alone
/// rounds every delay up to its next millisecond tick, and a busy 2-core machine adds
/// a few more.
const NOTABLE_MS: f64 = 5.0;

/// One leg of a request's trip between client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// From the client's start until the server had the request whole.
    Out,
    /// From the server handing its answer over until the client had read it.
    Back,
}

impl Leg {
    /// Its name: `send lag` and `receive` on loopback, where the client and the kernel
    /// fill it; `network out` and `network back` over an emulated network, where the
    /// round trips (and a fresh connection's handshakes) do.
    pub fn name(self, over_network: bool) -> &'static str {
        match (self, over_network) {
            (Leg::Out, false) => "send lag",
            (Leg::Out, true) => "network out",
            (Leg::Back, false) => "receive",
            (Leg::Back, true) => "network back",
        }
    }

    /// Its short name, for a table column: `lag` and `recv` on loopback, `net out` and
    /// `net back` over an emulated network.
    pub fn short_name(self, over_network: bool) -> &'static str {
        match (self, over_network) {
            (Leg::Out, false) => "lag",
            (Leg::Out, true) => "net out",
            (Leg::Back, false) => "recv",
            (Leg::Back, true) => "net back",
        }
    }

    /// Its name for a chart or table of several runs, each over a network or not
    /// (`over`): the one name when they agree, both (`send lag / network out`) when
    /// they do not. No runs at all read as loopback.
    pub fn name_for(self, over: impl IntoIterator<Item = bool>) -> String {
        let (mut loopback, mut network) = (false, false);
        for over_network in over {
            if over_network {
                network = true;
            } else {
                loopback = true;
            }
        }
        match (loopback, network) {
            (true, true) => format!("{} / {}", self.name(false), self.name(true)),
            (_, network) => self.name(network).to_string(),
        }
    }
}

/// One request's phases, in ms; they add up to its end time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    /// The request's number.
    pub seq: u64,
    /// When the client began it, from the run's start.
    pub start_ms: f64,
    /// Client start to arrival at the server: the out leg ([`Leg::Out`]).
    pub send_lag_ms: f64,
    /// The injected delay, with any stall's hold ([`crate::server::stall`]).
    pub delay_ms: f64,
    /// The server's time beyond the delay.
    pub server_ms: f64,
    /// Server answer to the client's end: the back leg ([`Leg::Back`]).
    pub receive_ms: f64,
}

/// Which side a run's overheads point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    /// Nothing beyond the delays is above 5 ms at the 99th percentile.
    None,
    /// Requests reached the server late: client queueing, connection bursts, or over a
    /// network its round trips and handshakes.
    SendLag,
    /// The mock API held answers past their delays: its runtime is saturated.
    Server,
    /// Answers sat before the client read them: the client's runtime is busy, or over
    /// a network they were on their way back.
    Receive,
}

impl Bottleneck {
    /// A short name for table cells; the legs are named as [`Leg::name`] names them.
    pub fn name(self, over_network: bool) -> &'static str {
        match self {
            Bottleneck::None => "-",
            Bottleneck::SendLag => Leg::Out.name(over_network),
            Bottleneck::Server => "server",
            Bottleneck::Receive => Leg::Back.name(over_network),
        }
    }

    /// Says it in words, for tables.
    pub fn describe(self, over_network: bool) -> &'static str {
        match (self, over_network) {
            (Bottleneck::None, _) => "no overhead above 5 ms",
            (Bottleneck::SendLag, false) => {
                "requests reached the server late (client or connection set-up)"
            }
            (Bottleneck::SendLag, true) => {
                "requests spent longest on the way out: the network's round trips and handshakes"
            }
            (Bottleneck::Server, _) => {
                "the mock API is the bottleneck: it held answers past their delays"
            }
            (Bottleneck::Receive, false) => "answers waited for the client to read them",
            (Bottleneck::Receive, true) => "answers spent longest on the way back over the network",
        }
    }
}

/// A run's time, attributed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The phases of the request that ended last.
    pub critical: Phases,
    /// Measured wall minus the model's wall (negative when the run beat the model).
    pub gap_ms: f64,
    /// The out leg (send lag, or network out) over every request that reached the
    /// server.
    pub send_lag_ms: Percentiles,
    /// Server time beyond the delay over every request.
    pub server_ms: Percentiles,
    /// The back leg (receive, or network back) over every answered request.
    pub receive_ms: Percentiles,
    /// The side with the largest p99.
    pub bottleneck: Bottleneck,
    /// True when the mock API emulated a network (not loopback): the legs are then the
    /// network's, and reports name them so ([`Attribution::leg`]). Absent in JSON from
    /// before it existed, which was loopback's.
    #[serde(default)]
    pub over_network: bool,
}

impl Attribution {
    /// Joins samples and ledger entries on `seq` (the last attempt of a retried
    /// request) and splits each request's time into phases.
    pub fn of(output: &RunOutput, predicted_ms: f64) -> Attribution {
        let phases = phases(output);
        let critical = phases
            .iter()
            .copied()
            .max_by(|a, b| a.end().total_cmp(&b.end()))
            .unwrap_or_default();
        let us = |ms: f64| (ms.max(0.0) * 1e3) as u64;
        let send_lag_ms = percentiles_ms(phases.iter().map(|p| us(p.send_lag_ms)));
        let server_ms = percentiles_ms(phases.iter().map(|p| us(p.server_ms)));
        let receive_ms = percentiles_ms(phases.iter().map(|p| us(p.receive_ms)));
        let sides = [
            (Bottleneck::SendLag, send_lag_ms.p99),
            (Bottleneck::Server, server_ms.p99),
            (Bottleneck::Receive, receive_ms.p99),
        ];
        let (side, worst) = sides
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("three sides");
        Attribution {
            critical,
            gap_ms: output.measurements.wall.as_secs_f64() * 1e3 - predicted_ms,
            send_lag_ms,
            server_ms,
            receive_ms,
            bottleneck: if worst >= NOTABLE_MS {
                side
            } else {
                Bottleneck::None
            },
            over_network: over_network(&output.scenario),
        }
    }

    /// The name of a leg in this run: see [`Leg::name`].
    pub fn leg(&self, leg: Leg) -> &'static str {
        leg.name(self.over_network)
    }

    /// The slow side's short name, in this run's words.
    pub fn bottleneck_name(&self) -> &'static str {
        self.bottleneck.name(self.over_network)
    }

    /// The slow side in words, in this run's words.
    pub fn describe_bottleneck(&self) -> &'static str {
        self.bottleneck.describe(self.over_network)
    }
}

impl Phases {
    /// When the request ended, from the run's start.
    pub fn end(&self) -> f64 {
        self.start_ms + self.send_lag_ms + self.delay_ms + self.server_ms + self.receive_ms
    }
}

/// True when `scenario`'s requests crossed an emulated network (not loopback, not a
/// `--target`, whose network fanout does not know): its legs are then the network's.
pub(crate) fn over_network(scenario: &crate::scenario::Scenario) -> bool {
    scenario.emulates_network()
}

/// The server's entry for each request's last answered attempt, by `seq`: what a
/// client sample is joined with.
pub(crate) fn last_answered(ledger: &LedgerRecord) -> HashMap<u64, &LedgerEntry> {
    let mut last_attempt: HashMap<u64, &LedgerEntry> = HashMap::new();
    for entry in &ledger.entries {
        let Some(seq) = entry.seq else { continue };
        let later = last_attempt
            .get(&seq)
            .is_none_or(|e| e.arrival_us < entry.arrival_us);
        if later && entry.status.is_some() {
            last_attempt.insert(seq, entry);
        }
    }
    last_attempt
}

/// True when a sample's start and end can be split into phases against the server's
/// entry. Not for a request the client never saw answered (a cancelled sample's start
/// is the moment it was cancelled, not when it was sent), nor for a retried one (its
/// start belongs to its first attempt and its ledger entry to its last: the gap between
/// them is backoff, not a phase).
pub(crate) fn splits_into_phases(sample: &Sample) -> bool {
    sample.status.is_some() && sample.attempts <= 1
}

/// Every answered request's phases.
fn phases(output: &RunOutput) -> Vec<Phases> {
    let m = &output.measurements;
    let epoch = m.started_unix_us;
    let last_attempt = last_answered(&output.ledger);
    let ms = |us: i128| us as f64 / 1e3;
    m.samples
        .iter()
        .filter(|sample| splits_into_phases(sample))
        .filter_map(|sample| {
            let entry = last_attempt.get(&sample.seq)?;
            let start = i128::from(epoch) + sample.start.as_micros() as i128;
            let end = i128::from(epoch) + sample.end.as_micros() as i128;
            let (arrival, finish) = (i128::from(entry.arrival_us), i128::from(entry.finish_us));
            // A stall's hold is the server's on purpose, like the delay.
            let delay = i128::from(entry.held_us());
            Some(Phases {
                seq: sample.seq,
                start_ms: sample.start.as_secs_f64() * 1e3,
                send_lag_ms: ms(arrival - start),
                delay_ms: ms(delay),
                server_ms: ms(finish - arrival - delay),
                receive_ms: ms(end - finish),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::measure::{Measurements, Outcome, Sample};
    use crate::model::Calibration;
    use crate::scenario::Scenario;
    use crate::server::ledger::{LedgerEntry, LedgerRecord};
    use crate::server::profile::Profile;
    use crate::strategy::Strategy;

    fn output(server_extra_us: u64) -> RunOutput {
        let epoch = 1_000_000;
        let sample = |seq: u64, end_ms: u64| Sample {
            seq,
            endpoint: 0,
            start: Duration::ZERO,
            end: Duration::from_millis(end_ms),
            outcome: Outcome::Ok,
            status: Some(200),
            bytes: 10,
            attempts: 1,
            intended: None,
            copies: 0,
        };
        let entry = |seq: u64, arrival_us: u64, finish_us: u64| LedgerEntry {
            seq: Some(seq),
            copy: 0,
            endpoint: Some(0),
            connection: Some(seq),
            arrival_us: epoch + arrival_us,
            delay_us: 100_000,
            stalled_us: 0,
            finish_us: epoch + finish_us,
            status: Some(200),
            request_bytes: 0,
            fault: None,
        };
        let finish = 100_500 + server_extra_us;
        RunOutput {
            scenario: Scenario::new(
                Profile::single("100ms".parse().unwrap()),
                2,
                Strategy::AsyncConcurrent,
            ),
            measurements: Measurements::new(
                vec![sample(0, 101), sample(1, 102 + server_extra_us / 1000)],
                Duration::from_millis(102 + server_extra_us / 1000),
                epoch,
            ),
            ledger: LedgerRecord {
                entries: vec![entry(0, 300, 100_400), entry(1, 500, finish)],
                connections: Some(2),
                ..LedgerRecord::default()
            },
            placement: crate::server::PlacementKind::InProcess,
            calibration: Calibration::default(),
            footprint: None,
        }
    }

    #[test]
    fn the_last_request_phases_add_up_to_the_wall() {
        let a = Attribution::of(&output(0), 100.0);
        assert_eq!(a.critical.seq, 1);
        assert!((a.critical.end() - 102.0).abs() < 1e-9, "{:?}", a.critical);
        assert!((a.critical.send_lag_ms - 0.5).abs() < 1e-9);
        assert!((a.critical.delay_ms - 100.0).abs() < 1e-9);
        assert!((a.critical.receive_ms - 1.5).abs() < 1e-9);
        assert!((a.gap_ms - 2.0).abs() < 1e-9);
        // 1.5 ms of receive time is within a timer tick or two: nothing to name.
        assert_eq!(a.bottleneck, Bottleneck::None);
    }

    #[test]
    fn a_server_holding_answers_is_named() {
        let a = Attribution::of(&output(20_000), 100.0);
        assert!(
            (a.critical.server_ms - 20.0).abs() < 1e-9,
            "{:?}",
            a.critical
        );
        assert_eq!(a.bottleneck, Bottleneck::Server);
    }

    #[test]
    fn on_loopback_the_legs_are_the_client_s() {
        let a = Attribution::of(&output(0), 100.0);
        assert!(!a.over_network);
        assert_eq!((a.leg(Leg::Out), a.leg(Leg::Back)), ("send lag", "receive"));
    }

    #[test]
    fn over_a_network_the_legs_are_named_for_it() {
        let mut run = output(0);
        run.scenario.profile.network = crate::server::network::Preset::Continent.network();
        let mut a = Attribution::of(&run, 100.0);
        assert!(a.over_network);
        assert_eq!(
            (a.leg(Leg::Out), a.leg(Leg::Back)),
            ("network out", "network back")
        );
        a.bottleneck = Bottleneck::SendLag;
        assert_eq!(a.bottleneck_name(), "network out");
        assert!(a.describe_bottleneck().contains("round trips"));
    }

    #[test]
    fn runs_that_disagree_get_both_names() {
        assert_eq!(Leg::Out.name_for([true, true]), "network out");
        assert_eq!(Leg::Back.name_for([]), "receive");
        assert_eq!(Leg::Out.name_for([false, true]), "send lag / network out");
    }

    #[test]
    fn json_from_before_the_flag_reads_as_loopback() {
        let a = Attribution::of(&output(0), 100.0);
        let mut json = serde_json::to_value(a).unwrap();
        json.as_object_mut().unwrap().remove("over_network");
        let read: Attribution = serde_json::from_value(json).unwrap();
        assert_eq!(read, a);
    }
}
