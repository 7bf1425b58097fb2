//! Calibration: two zero-delay probes, run before each measured run on a fresh mock API
//! of their own, that measure what the model cannot know in advance on this machine:
//!
//! - **per-request overhead**: 12 requests one after another with the run's client
//!   family (ureq or reqwest) and client options; the median latency is the cost of one
//!   exchange when the server adds no delay;
//! - **connection set-up in a burst**: as many requests at once as the run will have in
//!   flight (at most 200), each on a fresh HTTP/1.1 connection; the time until the last
//!   of them reached the server, divided by the burst size, is what each fresh
//!   connection in a burst costs (task start-up, connect, the first write).
//!
//! Both are measured in the same process placement as the run, so they carry the same
//! costs (a child-process server, two cores shared by client and server).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::error::Error;
use crate::model::Calibration;
use crate::run::run_on;
use crate::scenario::Scenario;
use crate::server::latency::Latency;
use crate::server::{MockApi, Placement, ServerConfig};
use crate::strategy::{ClientReuse, HttpVersion, Strategy};

/// Requests in the sequential probe.
const SEQUENTIAL_PROBE: u64 = 12;
/// The largest burst of fresh connections probed.
const MAX_BURST: u64 = 200;

/// Measures the overheads the model needs for `scenario`.
pub fn calibrate(scenario: &Scenario, placement: &Placement) -> Result<Calibration, Error> {
    let profile = scenario
        .profile
        .with_latency(Latency::Fixed(std::time::Duration::ZERO));
    let config = ServerConfig {
        engine: scenario.engine,
        workers: scenario.server_workers,
        ..ServerConfig::new(profile.clone(), scenario.seed)
    };
    let mut server = MockApi::start(&config, placement)?;
    let quiet = || Arc::new(AtomicU64::new(0));

    let mut sequential = scenario.clone();
    sequential.profile = profile.clone();
    sequential.n = SEQUENTIAL_PROBE;
    sequential.strategy = if scenario.strategy.is_sync() {
        Strategy::SyncSequential
    } else {
        Strategy::AsyncSequential
    };
    sequential.deadline = Some(std::time::Duration::from_secs(30));
    let probe = run_on(&sequential, &mut server, quiet())?;
    let per_request_ms = probe.measurements.latency().p50;

    let burst_size = (scenario.concurrency() as u64).min(MAX_BURST);
    let connect_ms = if burst_size < 2 {
        0.0
    } else {
        let mut burst = sequential.clone();
        burst.n = burst_size;
        burst.strategy = Strategy::AsyncConcurrent;
        burst.client.reuse = ClientReuse::Shared;
        burst.client.http = HttpVersion::Http1;
        let before = server.ledger()?.entries.len();
        let output = run_on(&burst, &mut server, quiet())?;
        let started = output.measurements.started_unix_us;
        let last_arrival = output.ledger.entries[before..]
            .iter()
            .map(|e| e.arrival_us.saturating_sub(started))
            .max()
            .unwrap_or(0);
        last_arrival as f64 / 1e3 / burst_size as f64
    };
    Ok(Calibration {
        per_request_ms,
        connect_ms,
    })
}
