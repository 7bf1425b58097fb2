//! Calibration: two probes with a tiny fixed delay, run before each measured run on a
//! fresh mock API of their own, that measure what the model cannot know in advance on
//! this machine:
//!
//! - **per-request overhead**: three clients of the run's family (ureq or reqwest) and
//!   options, one after another, each making 3 requests in turn; the median latency of
//!   the requests after each client's first, minus the probe's delay, is the cost of one
//!   exchange. The probe delay is 1 ms rather than zero because the server's timer
//!   rounds a sleep up to its next millisecond tick, and a zero sleep is rounded
//!   differently from any real delay. The median of the first requests' extra latency
//!   is what opening the first connection costs;
//! - **connection set-up in a burst**: as many requests at once as the run will have
//!   in flight (at most 1,000; not for a rate-paced run, which opens its connections
//!   one interval apart, nor for HTTP/2, which opens one), each on a fresh HTTP/1.1
//!   connection (with the run's client reuse: a client per request costs its
//!   construction too), answered after the run's median delay (capped near the burst's
//!   length); the time until the last of them reached the server, divided by the burst
//!   size, is what each fresh connection in a burst costs (task start-up, connect, TLS,
//!   the first write, and the answers that compete with them). Three bursts, each on a
//!   fresh server as the run's is, after a warm-up burst when the process has made none
//!   this large; the median of the three is kept;
//! - **fresh-connection rate**: three bursts of the same size at a zero-delay endpoint,
//!   each on a fresh server;
//!   connections the server accepted per second of the burst's wall (at zero delay a
//!   shared client reuses some, and those are not fresh), median of three. No run that opens a
//!   connection per request can get its requests answered faster than this, whatever
//!   the delays: `delay + n / rate` is the *calibrated limit* of an all-at-once run
//!   (see [`crate::summary::CalibratedLimit`]).
//!
//! All are measured in the same process placement and on the same engine as the run
//! ([`Scenario::server_config`]), so they carry the same costs (a child-process server,
//! two cores shared by client and server, wiremock's single-threaded runtime). wiremock
//! does not count connections, so on it the rate probe counts every request as fresh.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::error::Error;
use crate::model::Calibration;
use crate::run::run_on;
use crate::scenario::Scenario;
use crate::server::latency::Latency;
use crate::server::{MockApi, Placement, ServerConfig};
use crate::strategy::{HttpVersion, Strategy};

/// Clients the sequential probe builds, one after another.
const PROBE_CLIENTS: usize = 3;
/// Requests each of them makes, one after another.
const REQUESTS_PER_CLIENT: u64 = 3;
/// The largest burst of fresh connections probed.
const MAX_BURST: u64 = 1000;
/// A burst probe's delay is at most this plus [`PROBE_MS_PER_CONNECTION`] (or
/// [`PROBE_MS_PER_TLS_CONNECTION`]) per request:
/// answers later than the burst itself never meet it (a thousand connections open in
/// about a tenth of a second here), so a longer delay would only slow the probe.
const PROBE_DELAY_FLOOR_MS: f64 = 10.0;
/// A generous estimate of one fresh connection's share of a burst, ms: plain TCP.
const PROBE_MS_PER_CONNECTION: f64 = 0.15;
/// The same with a TLS handshake, which takes about 0.3 ms of a burst here. A cap
/// short of the burst would let early answers compete with the later handshakes in
/// the probe when they do not in the run.
const PROBE_MS_PER_TLS_CONNECTION: f64 = 0.5;
/// Bursts probed; their median is kept.
const BURSTS: usize = 3;
/// The probes' server delay.
const PROBE_DELAY: std::time::Duration = std::time::Duration::from_millis(1);

/// Measures the overheads the model needs for `scenario`.
pub fn calibrate(scenario: &Scenario, placement: &Placement) -> Result<Calibration, Error> {
    let profile = scenario.profile.with_latency(Latency::Fixed(PROBE_DELAY));
    // The run's own engine (and workers): the probes measure the server the run meets.
    let config = ServerConfig {
        profile: profile.clone(),
        ..scenario.server_config()
    };
    let mut server = MockApi::start(&config, placement)?;

    let (per_request_ms, first_connection_ms) = sequential_probe(scenario, &profile, &mut server)?;
    drop(server);

    // A rate limiter opens connections one interval apart, never in a burst; HTTP/2
    // opens one connection for the run, whose cost the sequential probe measured.
    let bursts = !scenario.shares_one_connection()
        && !matches!(
            crate::model::schedule_of(scenario),
            crate::model::Schedule::Paced { .. }
        );
    let burst_size = (scenario.concurrency() as u64).min(MAX_BURST);
    let connect_ms = if burst_size < 2 || !bursts {
        0.0
    } else {
        burst_cost(scenario, &config, placement, burst_size)?
    };
    // Only the runs whose calibrated limit it sets pay for the rate probe.
    let connection_rate_per_s = if burst_size < 2 || !scenario.opens_a_connection_per_request() {
        0.0
    } else {
        connection_rate(scenario, &config, placement, burst_size)?
    };
    Ok(Calibration {
        per_request_ms,
        first_connection_ms,
        connect_ms,
        connection_rate_per_s,
    })
}

/// `(per_request_ms, first_connection_ms)`: [`PROBE_CLIENTS`] clients one after
/// another, each making [`REQUESTS_PER_CLIENT`] requests in turn. The median latency of
/// the requests after each client's first, less the delay, is one exchange; the median
/// of what each first request took beyond that is what opening a connection adds. A
/// median of three first requests, not one: a single one swings by milliseconds on a
/// busy machine, and the model charges it to every run.
fn sequential_probe(
    scenario: &Scenario,
    profile: &crate::server::profile::Profile,
    server: &mut MockApi,
) -> Result<(f64, f64), Error> {
    let mut sequential = scenario.clone();
    sequential.profile = profile.clone();
    sequential.client.timeout = None;
    // A probe is short and its own: `--stop-after` is the measured run's.
    sequential.client.stop = crate::strategy::stop::StopPolicy::default();
    sequential.n = REQUESTS_PER_CLIENT;
    sequential.strategy = if scenario.strategy.is_sync() {
        Strategy::SyncSequential
    } else {
        Strategy::AsyncSequential
    };
    sequential.deadline = Some(std::time::Duration::from_secs(30));
    let delay_ms = PROBE_DELAY.as_secs_f64() * 1e3;
    let (mut firsts, mut rest) = (Vec::new(), Vec::new());
    for _ in 0..PROBE_CLIENTS {
        let probe = run_on(&sequential, server, Arc::new(AtomicU64::new(0)))?;
        let latencies = probe
            .measurements
            .samples
            .iter()
            .map(|s| s.latency().as_secs_f64() * 1e3 - delay_ms);
        for (i, latency) in latencies.enumerate() {
            if i == 0 {
                firsts.push(latency)
            } else {
                rest.push(latency)
            }
        }
    }
    let per_request_ms = median(&mut rest).max(0.0);
    let first_ms = median(&mut firsts);
    Ok((per_request_ms, (first_ms - per_request_ms).max(0.0)))
}

/// The middle value (the upper one of an even count); 0 for none.
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// The cost per fresh connection in a burst of `size`: the median over three bursts of
/// (last arrival at the server / size), each on a fresh server, after a warm-up burst
/// when this process has made none this large ([`mark_warm`]).
///
/// Measured on this machine (n = 1,000): the first burst of a process costs 1.3 to 2
/// times the next ones, and the run, which comes after the probes, costs what the next
/// ones do; bursts against one server that has just closed a thousand connections
/// (TLS ones above all) swing by a third, a fresh server per burst does not.
///
/// Answers that come back while connections are still opening compete with them for
/// the CPU, so the burst's server answers after the run's own typical delay (its median
/// draw, capped where answers would come after the burst anyway).
fn burst_cost(
    scenario: &Scenario,
    probe_config: &ServerConfig,
    placement: &Placement,
    size: u64,
) -> Result<f64, Error> {
    let per_connection_ms = match scenario.tls {
        Some(_) => PROBE_MS_PER_TLS_CONNECTION,
        None => PROBE_MS_PER_CONNECTION,
    };
    let median_ms = median(&mut crate::model::delays_ms(scenario))
        .min(PROBE_DELAY_FLOOR_MS + per_connection_ms * size as f64);
    let latency = Latency::Fixed(std::time::Duration::from_secs_f64(median_ms / 1e3));
    let warm_up = usize::from(!mark_warm(size, scenario.tls.is_some()));
    let burst = Burst {
        scenario,
        probe_config,
        placement,
        size,
    };
    burst.median_of(latency, warm_up, |output| {
        let started = output.measurements.started_unix_us;
        let last_arrival = output
            .ledger
            .entries
            .iter()
            .map(|e| e.arrival_us.saturating_sub(started))
            .max()
            .unwrap_or(0);
        last_arrival as f64 / 1e3 / size as f64
    })
}

/// Records that this process makes a burst of `size` (with TLS or not, as `tls`), and
/// says whether it had already made one at least that large. The process's first burst of a size
/// pays for memory the later ones (and the run) reuse, so the burst probe makes it a
/// warm-up it does not count; in a catalogue of many runs only the first of a size is.
fn mark_warm(size: u64, tls: bool) -> bool {
    static WARM: std::sync::Mutex<[u64; 2]> = std::sync::Mutex::new([0, 0]);
    let mut largest = WARM
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let largest = &mut largest[usize::from(tls)];
    let warm = *largest >= size;
    *largest = (*largest).max(size);
    warm
}

/// Fresh connections per second: bursts of `size` requests, each on a new connection,
/// at a zero-delay endpoint; the median of three bursts' `size / wall`, each on a fresh
/// server.
fn connection_rate(
    scenario: &Scenario,
    probe_config: &ServerConfig,
    placement: &Placement,
    size: u64,
) -> Result<f64, Error> {
    let zero = Latency::Fixed(std::time::Duration::ZERO);
    let burst = Burst {
        scenario,
        probe_config,
        placement,
        size,
    };
    burst.median_of(zero, 0, |output| {
        let wall_s = output.measurements.wall.as_secs_f64().max(1e-6);
        // Connections the server accepted, not requests: at zero delay a shared client
        // hands a finished connection to a later request, and a reused connection is
        // not a fresh one. (wiremock cannot count them: then every request counts.)
        let opened = output.ledger.connections.map_or(size, |c| c.max(1));
        opened as f64 / wall_s
    })
}

/// A burst probe: `size` requests at once, each on a fresh HTTP/1.1 connection, with
/// the scenario's client, against a probe server like `probe_config`.
struct Burst<'a> {
    scenario: &'a Scenario,
    probe_config: &'a ServerConfig,
    placement: &'a Placement,
    size: u64,
}

impl Burst<'_> {
    /// The median of `figure` over [`BURSTS`] bursts at a server answering after
    /// `latency`, after `warm_up` bursts it does not count; a fresh server each time, as
    /// the run will meet.
    ///
    /// Over an emulated network the probe's server does not resume TLS sessions: on
    /// loopback a handshake finishes within a millisecond, so later connections of a
    /// probe burst resume (about a fifth of 1,000 here), while the run's burst opens
    /// its connections within one set-up's round trips, before any session exists.
    fn median_of(
        &self,
        latency: Latency,
        warm_up: usize,
        figure: impl Fn(&crate::output::RunOutput) -> f64,
    ) -> Result<f64, Error> {
        let mut config = ServerConfig {
            profile: self.probe_config.profile.with_latency(latency),
            ..self.probe_config.clone()
        };
        if self.scenario.emulates_network() {
            config.tls_resumption = crate::server::tls::SessionResumption::Off;
        }
        let mut burst = self.scenario.clone();
        burst.profile = config.profile.clone();
        burst.n = self.size;
        burst.strategy = Strategy::AsyncConcurrent;
        burst.client.http = HttpVersion::Http1;
        burst.client.timeout = None;
        burst.client.stop = crate::strategy::stop::StopPolicy::default();
        burst.deadline = Some(std::time::Duration::from_secs(30));
        let mut figures = Vec::with_capacity(BURSTS);
        for burst_number in 0..BURSTS + warm_up {
            let mut server = MockApi::start(&config, self.placement)?;
            let output = run_on(&burst, &mut server, Arc::new(AtomicU64::new(0)))?;
            if burst_number >= warm_up {
                figures.push(figure(&output));
            }
        }
        Ok(median(&mut figures))
    }
}
