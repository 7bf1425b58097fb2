//! The two HTTP servers that can play the mock API, and the one place that says what
//! each of them serves and measures.
//!
//! fanout's own engine (`http.rs`) serves every fault and counts every figure.
//! wiremock (`wiremock_engine.rs`) answers through a responder that sees each request
//! but not the connection under it, nor the moment its answer leaves. So:
//!
//! - [`Engine::measures`] says which [`Figure`]s an engine's ledger can give. A report
//!   prints [`NOT_MEASURED`] (or [`NOT_MEASURED_SHORT`] in a narrow table, with
//!   [`NOT_MEASURED_LEGEND`] under it) where it cannot, and a claim judged on such a
//!   figure gets the verdict `not measured` instead of a verdict computed from a null;
//! - [`Engine::serves`] says whether it can serve a profile's faults and limits; a
//!   scenario it cannot serve is refused before anything starts, in one line.
//!
//! Both serve behind the emulated [`network`](super::network): fanout's engine relays
//! each connection it accepts through the link; wiremock accepts its own, so a relay
//! listens in front of it and relays each connection to it through the same link
//! (only when the network is not loopback). The per-connection ledger (accept, first
//! byte) is fanout's engine's alone.
//!
//! Read next: [`super::fault`] for the faults themselves.

use serde::{Deserialize, Serialize};

use super::profile::Profile;

/// What a report prints for a figure the engine cannot give.
pub const NOT_MEASURED: &str = "not measured by this engine";
/// The same, in a narrow table's cell.
pub const NOT_MEASURED_SHORT: &str = "n/m";
/// The line under a narrow table that used [`NOT_MEASURED_SHORT`].
pub const NOT_MEASURED_LEGEND: &str = "n/m = not measured by this engine";

/// The HTTP server behind the mock API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// fanout's own accept loop on hyper: counts connections, records finish times.
    #[default]
    Fanout,
    /// `wiremock::MockServer`, for comparison: no connection count, planned finishes.
    Wiremock,
}

/// A server-side figure that not every engine can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// TCP connections the server accepted.
    Connections,
    /// When each answer left the server, hence the server's time beyond the delay and
    /// the client's time to receive. (wiremock's ledger holds the planned finish,
    /// arrival + delay, which is still good enough for in-flight counts.)
    AnswerTimes,
    /// Requests whose client went away before the answer.
    Abandoned,
}

impl Figure {
    /// Its name in a reason line.
    pub fn name(self) -> &'static str {
        match self {
            Figure::Connections => "connections",
            Figure::AnswerTimes => "answer times",
            Figure::Abandoned => "abandoned requests",
        }
    }
}

impl Engine {
    /// True when this engine's ledger gives `figure`.
    pub fn measures(self, figure: Figure) -> bool {
        match (self, figure) {
            (Engine::Fanout, _) => true,
            (Engine::Wiremock, Figure::Connections | Figure::AnswerTimes | Figure::Abandoned) => {
                false
            }
        }
    }

    /// Why `figure` is missing, for a reason line: `not measured by this engine
    /// (wiremock accepts connections out of fanout's sight)`.
    pub fn why_not_measured(self, figure: Figure) -> String {
        let why = match figure {
            Figure::Connections => "accepts connections out of fanout's sight",
            Figure::AnswerTimes => "applies the delay after its responder returns",
            Figure::Abandoned => "does not tell its responder when a client goes away",
        };
        format!("{NOT_MEASURED} ({self} {why})")
    }

    /// `Ok` when this engine can serve every fault and limit of `profile`; otherwise the
    /// one line that says what it cannot serve and what to do.
    pub fn serves(self, profile: &Profile) -> Result<(), String> {
        if self == Engine::Fanout {
            return Ok(());
        }
        let cannot = |what: &str, why: &str| {
            Err(format!(
                "{self} cannot serve {what}: {why}; use --engine fanout"
            ))
        };
        if let Some(endpoint) = profile.endpoints.iter().find(|e| e.fault.drop_rate > 0.0) {
            return cannot(
                &format!("drop_rate on endpoint '{}'", endpoint.name),
                "it cannot close a connection without answering",
            );
        }
        if profile.limits.max_in_flight.is_some() {
            return cannot(
                "max_in_flight",
                "it does not tell its responder when an answer has left",
            );
        }
        Ok(())
    }

    /// `Ok` when this engine can serve `tls` (`None`: plain HTTP): wiremock has no TLS.
    pub fn serves_tls(self, tls: Option<super::tls::TlsVersion>) -> Result<(), String> {
        match (self, tls) {
            (Engine::Wiremock, Some(version)) => Err(format!(
                "wiremock cannot serve --tls {}: it has no TLS; use --engine fanout",
                version.name()
            )),
            _ => Ok(()),
        }
    }

    /// Refuses `--server-keep-alive off` on wiremock, which always keeps connections
    /// open.
    pub fn serves_keep_alive(self, keep_alive: super::KeepAlive) -> Result<(), String> {
        match (self, keep_alive) {
            (Engine::Wiremock, super::KeepAlive::Off) => Err(
                "wiremock cannot serve --server-keep-alive off: it keeps every connection open; use --engine fanout"
                    .to_string(),
            ),
            _ => Ok(()),
        }
    }

    /// What an operator of a long-running `fanout serve` should know about this engine.
    pub fn serve_note(self) -> Option<&'static str> {
        match self {
            Engine::Fanout => None,
            Engine::Wiremock => Some(
                "wiremock keeps every matched request in memory for the life of the server: \
                 memory grows with every request served; use --engine fanout to serve for hours",
            ),
        }
    }

    /// How a report names it: `fanout's engine`, `wiremock`.
    pub fn describe(self) -> &'static str {
        match self {
            Engine::Fanout => "fanout's engine",
            Engine::Wiremock => "wiremock",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Engine::Fanout => "fanout",
            Engine::Wiremock => "wiremock",
        })
    }
}

/// A count the engine may not give: the number, or [`NOT_MEASURED`].
pub fn count_or_not_measured(count: Option<u64>) -> String {
    count.map_or(NOT_MEASURED.to_string(), |c| c.to_string())
}

/// `on 12 connections`, or `connections not measured by this engine`, for a sentence.
pub fn on_connections(count: Option<u64>) -> String {
    count.map_or(format!("connections {NOT_MEASURED}"), |c| {
        format!("on {c} connections")
    })
}

/// The same for a narrow table's cell: the number, or [`NOT_MEASURED_SHORT`].
pub fn count_or_short(count: Option<u64>) -> String {
    count.map_or(NOT_MEASURED_SHORT.to_string(), |c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::latency::Latency;

    #[test]
    fn fanout_measures_and_serves_everything_wiremock_refuses_drops_and_in_flight_limits() {
        assert!(Engine::Fanout.measures(Figure::Connections));
        assert!(!Engine::Wiremock.measures(Figure::Connections));
        let mut profile = Profile::single(Latency::Fixed(std::time::Duration::ZERO));
        profile.endpoints[0].fault.error_rate = 0.5;
        profile.endpoints[0].fault.hang = true;
        profile.limits.max_per_second = Some(5);
        assert_eq!(Engine::Wiremock.serves(&profile), Ok(()));
        profile.endpoints[0].fault.drop_rate = 0.1;
        let refused = Engine::Wiremock.serves(&profile).unwrap_err();
        assert!(refused.contains("drop_rate") && refused.contains("--engine fanout"));
        assert_eq!(Engine::Fanout.serves(&profile), Ok(()));
        profile.endpoints[0].fault.drop_rate = 0.0;
        profile.limits.max_in_flight = Some(3);
        assert!(
            Engine::Wiremock
                .serves(&profile)
                .unwrap_err()
                .contains("max_in_flight")
        );
    }
}
