//! What the network charges, as the model sees it: round trips, and which requests open
//! a connection.
//!
//! On loopback both are free and the model is what it always was. Over an emulated
//! link of round trip `r`, a request on an open connection waits `r` (its bytes travel
//! half a round trip out, its answer half back), and a request that opens a connection
//! waits the connection's round trips before that: one for TCP's handshake, one more
//! for TLS 1.3's, two more for TLS 1.2's. So a fresh plain request costs `2r + delay`,
//! a reused one `r + delay`, a fresh TLS 1.3 one `3r + delay`.
//!
//! Which requests pay the set-up depends on the client ([`Connections`]): a pooled
//! HTTP/1.1 client opens one connection per request in flight at once and reuses them
//! afterwards; an HTTP/2 client opens one for the run; a client built per request opens
//! one every time. The CPU of a set-up (this machine's, TLS's handshake included) is
//! not here: the calibration probes measure it on loopback ([`super::Calibration`]).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::server::network::Bandwidth;
use crate::strategy::ClientReuse;

/// Bytes of status line and headers an answer carries besides its body, about: what
/// hyper writes for fanout's JSON answers (status, date, content type and length).
pub(super) const ANSWER_HEADER_BYTES: usize = 150;

/// The emulated link's costs, ms: all zero on loopback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct LinkCosts {
    /// One round trip between client and server, the average jitter included.
    pub rtt_ms: f64,
    /// Round trips a fresh connection waits before its first request can leave:
    /// 1 for TCP, plus 1 for TLS 1.3 or 2 for TLS 1.2. 0 on loopback, where the kernel
    /// completes a handshake in microseconds.
    pub setup_round_trips: u32,
    /// Each direction of each connection; an answer takes its size over it to cross.
    pub bandwidth: Bandwidth,
}

impl LinkCosts {
    /// Loopback: nothing to charge.
    pub const LOOPBACK: LinkCosts = LinkCosts {
        rtt_ms: 0.0,
        setup_round_trips: 0,
        bandwidth: Bandwidth::Unlimited,
    };

    /// The link the scenario's mock API emulates, with its TLS handshake's round trips.
    /// A `--target` is a real server the model knows nothing of: loopback.
    pub fn of(scenario: &Scenario) -> LinkCosts {
        let network = &scenario.profile.network;
        if scenario.target.is_some() || network.is_loopback() {
            return LinkCosts::LOOPBACK;
        }
        let tls = scenario.tls.map_or(0, |tls| tls.handshake_round_trips());
        LinkCosts {
            rtt_ms: network.rtt.as_secs_f64() * 1e3,
            setup_round_trips: 1 + tls,
            bandwidth: network.bandwidth,
        }
    }

    /// How long an answer with a `body_bytes` body takes to cross the link, ms.
    pub fn transfer_ms(&self, body_bytes: usize) -> f64 {
        let bytes = body_bytes.saturating_add(ANSWER_HEADER_BYTES);
        self.bandwidth.transfer_time(bytes).as_secs_f64() * 1e3
    }

    /// What opening a connection makes its first request wait, ms.
    pub fn setup_ms(&self) -> f64 {
        f64::from(self.setup_round_trips) * self.rtt_ms
    }

    /// What the network adds to one request: a round trip, and the set-up's round
    /// trips when the request opens its connection.
    pub fn exchange_ms(&self, opens_a_connection: bool) -> f64 {
        self.rtt_ms
            + if opens_a_connection {
                self.setup_ms()
            } else {
                0.0
            }
    }
}

/// Which requests open a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connections {
    /// A pooled HTTP/1.1 client: a request takes an idle connection when there is one
    /// and opens one when there is not, so each slot of a limited schedule opens one.
    Pooled,
    /// One HTTP/2 connection carries every request: the first requests wait for it.
    One,
    /// A new client, so a new connection, for every request.
    PerRequest,
}

impl Connections {
    /// How the scenario's client opens connections.
    pub fn of(scenario: &Scenario) -> Connections {
        if scenario.shares_one_connection() {
            Connections::One
        } else if scenario.client.reuse == ClientReuse::PerRequest {
            Connections::PerRequest
        } else {
            Connections::Pooled
        }
    }

    /// The most connection set-ups whose CPU a burst queues behind: one for HTTP/2,
    /// otherwise one per request started at once.
    pub fn charged_setups(self) -> usize {
        match self {
            Connections::One => 1,
            Connections::Pooled | Connections::PerRequest => usize::MAX,
        }
    }
}

/// The client's connections over time, for schedules whose starts do not follow slots
/// (a rate limiter's, the news aggregator's two phases): each request reuses a
/// connection idle at its start or opens one.
pub(crate) struct Pool {
    connections: Connections,
    link: LinkCosts,
    /// When each open connection is next idle, ns (integers, so the heap orders them).
    idle_at: BinaryHeap<Reverse<u64>>,
    /// When the one HTTP/2 connection is open, ms, once the first request opened it.
    shared_open_at: Option<f64>,
    /// Connections opened so far.
    opened: u64,
}

impl Pool {
    pub(crate) fn new(connections: Connections, link: &LinkCosts) -> Pool {
        Pool {
            connections,
            link: *link,
            idle_at: BinaryHeap::new(),
            shared_open_at: None,
            opened: 0,
        }
    }

    /// A request leaving at `start`, ms: when its answer would be back if the server
    /// answered at once and the machine cost nothing.
    pub(crate) fn take(&mut self, start: f64) -> f64 {
        let to_ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
        let reused = match self.connections {
            Connections::PerRequest => false,
            Connections::One => self.shared_open_at.is_some(),
            Connections::Pooled => {
                let idle =
                    matches!(self.idle_at.peek(), Some(Reverse(idle)) if *idle <= to_ns(start));
                if idle {
                    self.idle_at.pop();
                }
                idle
            }
        };
        self.opened += u64::from(!reused);
        if self.connections == Connections::One {
            let open_at = *self
                .shared_open_at
                .get_or_insert(start + self.link.setup_ms());
            return start.max(open_at) + self.link.rtt_ms;
        }
        start + self.link.exchange_ms(!reused)
    }

    /// Connections the requests taken so far opened.
    pub(crate) fn opened(&self) -> u64 {
        self.opened
    }

    /// The request that took a connection ended at `end`, ms: its connection is idle
    /// from then on (a per-request client's closes instead).
    pub(crate) fn give_back(&mut self, end: f64) {
        if self.connections == Connections::Pooled {
            self.idle_at
                .push(Reverse((end.max(0.0) * 1e6).round() as u64));
        }
    }
}
