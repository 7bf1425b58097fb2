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
//! Which requests pay the set-up depends on the client and the server
//! ([`Connections`]): a pooled HTTP/1.1 client opens one connection per request in
//! flight at once and reuses them afterwards; an HTTP/2 client opens one for the run; a
//! client built per request, or any HTTP/1.1 client of a server with keep-alive off,
//! opens one every time.
//!
//! And what a set-up costs depends on TLS session resumption ([`Setup`]): a shared
//! reqwest client keeps the sessions of its finished handshakes, so a connection it opens after
//! the first handshake finished resumes one, if the server allows it
//! (`--tls-resumption on`, the default). A resumed TLS 1.2 handshake takes one round
//! trip instead of two; TLS 1.3 takes one either way. A client built per request starts
//! with an empty session cache every time, ureq as fanout drives it never resumes (see
//! [`crate::strategy::trust`]), and the connections of a first burst all
//! start before any handshake finished: both pay full handshakes ([`Sessions`]). The CPU
//! of a set-up (this machine's, TLS's handshake included) is not here: the calibration
//! probes measure it on loopback ([`super::Calibration`]), against a server with the
//! run's resumption and keep-alive.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;
use crate::server::KeepAlive;
use crate::server::network::Bandwidth;
use crate::server::tls::SessionResumption;
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
    /// Round trips a fresh connection waits when its TLS handshake resumes an earlier
    /// session: 1 for TCP plus 1 for TLS 1.2 or 1.3. `None` when no connection of this
    /// client resumes: plain HTTP, loopback, a server that keeps no sessions
    /// (`--tls-resumption off`), a client built per request (a new, empty session
    /// cache each time), or ureq (which fanout's requests keep from resuming: see
    /// [`crate::strategy::trust`]).
    #[serde(default)]
    pub resumed_setup_round_trips: Option<u32>,
    /// Each direction of each connection; an answer takes its size over it to cross.
    pub bandwidth: Bandwidth,
}

impl LinkCosts {
    /// Loopback: nothing to charge.
    pub const LOOPBACK: LinkCosts = LinkCosts {
        rtt_ms: 0.0,
        setup_round_trips: 0,
        resumed_setup_round_trips: None,
        bandwidth: Bandwidth::Unlimited,
    };

    /// The link the scenario's mock API emulates, with its TLS handshake's round trips.
    /// A `--target` is a real server the model knows nothing of: loopback.
    pub fn of(scenario: &Scenario) -> LinkCosts {
        let network = &scenario.profile.network;
        if !scenario.emulates_network() {
            return LinkCosts::LOOPBACK;
        }
        let tls = scenario.tls.map_or(0, |tls| tls.handshake_round_trips());
        // ureq, as fanout drives it, never resumes (see `strategy::trust`).
        let client_resumes = scenario.tls_resumption == SessionResumption::On
            && scenario.client.reuse == ClientReuse::Shared
            && !scenario.strategy.is_sync();
        let resumed_tls = scenario
            .tls
            .filter(|_| client_resumes)
            .map(|tls| tls.resumed_round_trips());
        LinkCosts {
            rtt_ms: network.rtt.as_secs_f64() * 1e3,
            setup_round_trips: 1 + tls,
            resumed_setup_round_trips: resumed_tls.map(|tls| 1 + tls),
            bandwidth: network.bandwidth,
        }
    }

    /// How long an answer with a `body_bytes` body takes to cross the link, ms.
    pub fn transfer_ms(&self, body_bytes: usize) -> f64 {
        let bytes = body_bytes.saturating_add(ANSWER_HEADER_BYTES);
        self.bandwidth.transfer_time(bytes).as_secs_f64() * 1e3
    }

    /// What getting its connection makes a request wait, ms.
    pub fn setup_ms(&self, setup: Setup) -> f64 {
        let round_trips = match setup {
            Setup::Reused => 0,
            Setup::Full => self.setup_round_trips,
            Setup::Resumed => self
                .resumed_setup_round_trips
                .unwrap_or(self.setup_round_trips),
        };
        f64::from(round_trips) * self.rtt_ms
    }

    /// What the network adds to one request: a round trip, and the set-up's round
    /// trips when the request opens its connection.
    pub fn exchange_ms(&self, setup: Setup) -> f64 {
        self.rtt_ms + self.setup_ms(setup)
    }
}

/// How a request gets its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Setup {
    /// An open connection: no set-up.
    Reused,
    /// A new connection with a full TLS handshake (or none, over plain HTTP).
    Full,
    /// A new connection whose TLS handshake resumes a session the client kept.
    Resumed,
}

/// When the client holds a session to resume: from the end of its first full handshake
/// on. Which is why the first burst of connections pays full handshakes and the
/// connections opened later resume.
#[derive(Debug, Default)]
pub(super) struct Sessions {
    /// When the earliest full handshake finished, ms.
    held_from: Option<f64>,
}

impl Sessions {
    /// How a connection opened at `start`, ms, is set up: resumed when the client
    /// resumes at all and an earlier handshake had finished by then, full otherwise.
    pub(super) fn open(&mut self, start: f64, link: &LinkCosts) -> Setup {
        let resumes = link.resumed_setup_round_trips.is_some();
        match self.held_from {
            Some(held_from) if resumes && held_from <= start => Setup::Resumed,
            _ => {
                let done = start + link.setup_ms(Setup::Full);
                self.held_from = Some(self.held_from.map_or(done, |t| t.min(done)));
                Setup::Full
            }
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
    /// A new connection for every request: a new client for each, or a server that
    /// closes each HTTP/1.1 connection after its answer (`--server-keep-alive off`).
    PerRequest,
}

impl Connections {
    /// How the scenario's client opens connections (HTTP/2 keeps its one connection
    /// whatever the server's HTTP/1.1 keep-alive).
    pub fn of(scenario: &Scenario) -> Connections {
        if scenario.shares_one_connection() {
            Connections::One
        } else if scenario.client.reuse == ClientReuse::PerRequest
            || scenario.server_keep_alive == KeepAlive::Off
        {
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
    /// The sessions a new connection may resume.
    sessions: Sessions,
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
            sessions: Sessions::default(),
            opened: 0,
        }
    }

    /// A request leaving at `start`, ms: when its answer would be back if the server
    /// answered at once and the machine cost nothing.
    pub(crate) fn take(&mut self, start: f64) -> f64 {
        let to_ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
        match self.connections {
            Connections::PerRequest => start + self.open_exchange_ms(start),
            Connections::One => {
                if self.shared_open_at.is_none() {
                    self.opened += 1;
                }
                let open_at = *self
                    .shared_open_at
                    .get_or_insert(start + self.link.setup_ms(Setup::Full));
                start.max(open_at) + self.link.rtt_ms
            }
            Connections::Pooled => match self.idle_at.peek() {
                Some(Reverse(idle)) if *idle <= to_ns(start) => {
                    self.idle_at.pop();
                    start + self.link.exchange_ms(Setup::Reused)
                }
                _ => start + self.open_exchange_ms(start),
            },
        }
    }

    /// Connections the requests taken so far opened.
    pub(crate) fn opened(&self) -> u64 {
        self.opened
    }

    /// What the network adds to a request that opens a connection at `start`, ms.
    fn open_exchange_ms(&mut self, start: f64) -> f64 {
        self.opened += 1;
        let setup = self.sessions.open(start, &self.link);
        self.link.exchange_ms(setup)
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
