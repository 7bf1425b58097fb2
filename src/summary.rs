//! The summary of one run: the client's measurements and the server's ledger joined
//! into the flat figures every report prints (table, JSON, charts).
//!
//! Nothing here is measured: every field is derived from a [`RunOutput`]. The JSON
//! printed by `fanout run --json` is this struct, field for field; the README documents
//! the schema.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::after_gather::{CopyFigures, StopFigures};
use crate::attribution::Attribution;
use crate::footprint::Footprint;
use crate::measure::{Outcome, Percentiles, percentiles_ms};
use crate::model::{self, Calibration};
use crate::open_loop::OpenLoopFigures;
use crate::output::RunOutput;
use crate::server::Engine;
use crate::server::ledger::ServerSummary;
use crate::strategy::backpressure::PipelineFigures;
use crate::strategy::{self, ClientReuse, HttpVersion, Strategy};

/// One run, in figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The strategy's name.
    pub strategy: Strategy,
    /// Requests asked for.
    pub n: u64,
    /// The endpoints and their latencies, e.g. `items=500ms`, and the emulated network
    /// when it is not loopback: `items=500ms over continent (rtt 40ms)`.
    pub profile: String,
    /// The concurrency limit, for the strategies that take one.
    pub limit: Option<usize>,
    /// The promised rate (requests per second), for the rate-limited strategies.
    pub rate: Option<f64>,
    /// OS threads, for `sync-threads`.
    pub threads: Option<usize>,
    /// `shared` or `per-request`.
    pub client: ClientReuse,
    /// `1.1` or `2`.
    pub http: HttpVersion,
    /// How the client ran: OS threads, or the tokio runtime's flavour and workers.
    pub execution: String,
    /// Where the mock API ran.
    pub server_placement: String,
    /// Worker threads of the mock API's runtime.
    pub server_workers: usize,
    /// The HTTP server behind the mock API (`fanout` or `wiremock`).
    pub server_engine: Engine,
    /// Seed of the server's latency draws.
    pub seed: u64,
    /// From the first request's start to the last one's end, in ms.
    pub wall_ms: f64,
    /// The model's wall time for this scenario, in ms.
    pub predicted_ms: f64,
    /// `predicted_ms / wall_ms`: 1.0 when the run took exactly what the model says;
    /// below 1 when something the model leaves out cost time. `None` for runs the
    /// model does not describe: requests cancelled, timed out, refused, dropped,
    /// retried or refused with 429 by a server-wide limit, or the pitfall strategies
    /// (whose client-side work the model leaves out).
    pub efficiency: Option<f64>,
    /// The overheads the model used, measured by short probes before the run.
    pub calibration: Calibration,
    /// Finished requests per second of wall time.
    pub throughput_rps: f64,
    /// How requests ended: outcome to count, outcomes that did not happen left out; the
    /// counts sum to `n`. In JSON the keys are the outcomes' names, alphabetically.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// Client-side latency of requests that ended on their own, from each one's send.
    pub latency_ms: Percentiles,
    /// The model's latency per request, from its send: what `latency_ms` should be.
    #[serde(default)]
    pub predicted_latency_ms: Percentiles,
    /// For an open loop (`async-arrival-rate`): late starts, and latency from the
    /// intended start, measured and modelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_loop: Option<OpenLoopFigures>,
    /// Client start to server arrival, per request: how long the request took to get
    /// to the server (queueing in the client, connection set-up, the send itself). Over
    /// an emulated network it is mostly the network's, and reports call it *network
    /// out* ([`crate::attribution::Leg`]).
    pub send_lag_ms: Percentiles,
    /// The sum and the largest of the delays the server gave, in ms: the walls of a
    /// perfectly sequential and a perfectly concurrent run.
    pub delays_ms: DelayTotals,
    /// What the server saw.
    pub server: ServerSummary,
    /// Milestones of the run, in ms from its start, client and server on one clock.
    pub milestones_ms: Milestones,
    /// The client process's peak memory and threads during the run (Linux; `None`
    /// elsewhere). Includes the mock API's share when it ran in-process.
    pub client_footprint: Option<Footprint>,
    /// For runs with every request in flight at once and the connection rate probed:
    /// the wall against the slowest delay and against the calibrated limit.
    pub calibrated_limit: Option<CalibratedLimit>,
    /// Where the time went: the last request's phases, each phase's percentiles over
    /// all requests, and the side that was slow.
    pub attribution: Attribution,
    /// For `async-first-of` and `async-hedged`: the copies sent, and the extra load the
    /// server received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies: Option<CopyFigures>,
    /// For `async-pipeline`: what the channel between fetchers and consumers did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineFigures>,
    /// For a run stopped early (Ctrl-C, `--stop-after`): when, and how its requests
    /// ended: finished, never sent, or cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopFigures>,
}

/// How close an all-at-once run came to what is possible. "As fast as the slowest
/// request" ignores that every request needs its own connection; the machine opens
/// them at a measured rate, so n requests cannot all reach the server before
/// `n / rate` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibratedLimit {
    /// The slowest delay, ms: the wall the tutorials promise.
    pub delay_ms: f64,
    /// Fresh connections per second, from the zero-delay probe of this run.
    pub connection_rate_per_s: f64,
    /// What the emulated link adds to a request on a fresh connection: its set-up round
    /// trips and one more, ms (zero on loopback, and then left out of the JSON).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub network_ms: f64,
    /// `delay_ms + network_ms + n / connection_rate_per_s`, ms.
    pub limit_ms: f64,
    /// `delay_ms / wall_ms`.
    pub efficiency_vs_delay: f64,
    /// `limit_ms / wall_ms`.
    pub efficiency_vs_limit: f64,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

impl CalibratedLimit {
    fn of(output: &RunOutput, delay_ms: f64, wall_ms: f64) -> Option<CalibratedLimit> {
        let scenario = &output.scenario;
        let rate = output.calibration.connection_rate_per_s;
        if !scenario.opens_a_connection_per_request() || rate <= 0.0 || wall_ms <= 0.0 {
            return None;
        }
        // Every request here opens a connection: it waits the link's set-up, one round
        // trip and its answer's bytes over the bandwidth (all zero on loopback) besides
        // its delay.
        let link = crate::model::LinkCosts::of(scenario);
        let largest_body = scenario
            .profile
            .endpoints
            .iter()
            .map(|e| e.body_bytes)
            .max();
        let network_ms = link.exchange_ms(crate::model::Setup::Full)
            + largest_body.map_or(0.0, |bytes| link.transfer_ms(bytes));
        let limit_ms = delay_ms + network_ms + scenario.n as f64 / rate * 1e3;
        Some(CalibratedLimit {
            delay_ms,
            network_ms,
            connection_rate_per_s: rate,
            limit_ms,
            efficiency_vs_delay: delay_ms / wall_ms,
            efficiency_vs_limit: limit_ms / wall_ms,
        })
    }
}

/// Where the wall time went: the moments that bound each phase of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Milestones {
    /// The client began its last request (after any permit wait).
    pub last_start: f64,
    /// The first request reached the server.
    pub first_arrival: f64,
    /// The last request reached the server.
    pub last_arrival: f64,
    /// The server sent its last answer.
    pub last_answer: f64,
    /// The client finished reading its last answer: the wall time.
    pub last_end: f64,
}

/// The delays the server actually gave in one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct DelayTotals {
    /// Sum of every delay given.
    pub sum: f64,
    /// The largest delay given.
    pub max: f64,
}

impl RunSummary {
    /// Joins the client's samples with the server's ledger.
    pub fn from_output(output: &RunOutput) -> RunSummary {
        let scenario = &output.scenario;
        let m = &output.measurements;
        let strategy = scenario.strategy;
        let mut profile = scenario
            .profile
            .endpoints
            .iter()
            .map(|e| format!("{}={}", e.name, e.latency))
            .collect::<Vec<_>>()
            .join(",");
        if !scenario.profile.network.is_loopback() {
            profile = format!("{profile} over {}", scenario.profile.network);
        }
        let entries = &output.ledger.entries;
        let prediction = model::predict_scenario(scenario, &output.calibration);
        let wall_ms = m.wall.as_secs_f64() * 1e3;
        let delays = DelayTotals {
            // `+ 0.0` turns the empty sum's -0.0 into 0.0.
            sum: entries.iter().map(|e| e.delay_us as f64).sum::<f64>() / 1e3 + 0.0,
            max: entries.iter().map(|e| e.delay_us).max().unwrap_or(0) as f64 / 1e3,
        };
        RunSummary {
            strategy,
            n: scenario.n,
            profile,
            limit: strategy.limit(&scenario.client),
            rate: strategy.rate(&scenario.client),
            threads: strategy.threads(&scenario.client),
            client: scenario.client.reuse,
            http: scenario.client.http,
            execution: strategy::execution_model(strategy, &scenario.client),
            server_placement: output.placement.name().to_string(),
            server_workers: scenario.server_workers,
            server_engine: scenario.engine,
            seed: scenario.seed,
            wall_ms,
            predicted_ms: prediction.wall_ms,
            efficiency: (wall_ms > 0.0 && modelled(output)).then(|| prediction.wall_ms / wall_ms),
            calibration: output.calibration,
            throughput_rps: m.throughput(),
            outcomes: m.outcomes(),
            latency_ms: m.latency(),
            predicted_latency_ms: crate::open_loop::predicted_latency_ms(&prediction),
            open_loop: OpenLoopFigures::of(scenario, &m.samples, &prediction),
            send_lag_ms: send_lag(output),
            delays_ms: delays,
            server: output.ledger.summary(),
            milestones_ms: milestones(output),
            client_footprint: output.footprint,
            calibrated_limit: CalibratedLimit::of(output, delays.max, wall_ms),
            attribution: Attribution::of(output, prediction.wall_ms),
            copies: CopyFigures::of(output),
            pipeline: m.notes.pipeline.clone(),
            stopped: StopFigures::of(m.stop, &m.samples),
        }
    }

    /// Requests that ended `ok`.
    pub fn ok(&self) -> u64 {
        self.count(Outcome::Ok)
    }

    /// Requests that ended as `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }
}

/// Per request: server arrival minus client start, joined on `seq`.
fn send_lag(output: &RunOutput) -> Percentiles {
    let m = &output.measurements;
    let starts: HashMap<u64, u64> = m
        .samples
        .iter()
        .map(|s| (s.seq, m.started_unix_us + s.start.as_micros() as u64))
        .collect();
    // A request's first copy: a hedge or replica leaves later on purpose.
    let lags = output
        .ledger
        .entries
        .iter()
        .filter(|e| e.copy == 0)
        .filter_map(|entry| {
            let start = starts.get(&entry.seq?)?;
            Some(entry.arrival_us.saturating_sub(*start))
        });
    percentiles_ms(lags)
}

/// The run's milestones on the client's clock (the ledger's epoch times shifted by the
/// run's start).
fn milestones(output: &RunOutput) -> Milestones {
    let m = &output.measurements;
    let since_start = |us: u64| us.saturating_sub(m.started_unix_us) as f64 / 1e3;
    let entries = &output.ledger.entries;
    let server = |pick: fn(&crate::server::ledger::LedgerEntry) -> u64, max: bool| {
        let values = entries.iter().map(pick);
        let value = if max { values.max() } else { values.min() };
        value.map_or(0.0, since_start)
    };
    Milestones {
        last_start: m
            .samples
            .iter()
            .map(|s| s.start)
            .max()
            .unwrap_or_default()
            .as_secs_f64()
            * 1e3,
        first_arrival: server(|e| e.arrival_us, false),
        last_arrival: server(|e| e.arrival_us, true),
        last_answer: server(|e| e.finish_us, true),
        last_end: m.wall.as_secs_f64() * 1e3,
    }
}

/// True when the model describes the run: every request was sent once and answered
/// after its delay (any status), by a strategy whose schedule the model knows.
fn modelled(output: &RunOutput) -> bool {
    use crate::server::fault::FaultKind;
    // The pipeline's pace is its consumers', which the list-scheduling model leaves out.
    let pitfall = output.scenario.strategy.is_pitfall()
        || output.scenario.strategy == Strategy::AsyncPipeline;
    let samples_plain = output.measurements.samples.iter().all(|s| {
        s.attempts <= 1
            && !matches!(
                s.outcome,
                Outcome::Cancelled
                    | Outcome::Timeout
                    | Outcome::Connect
                    | Outcome::Tls
                    | Outcome::Dropped
            )
    });
    let served_plain = output
        .ledger
        .entries
        .iter()
        .all(|e| matches!(e.fault, None | Some(FaultKind::Status)));
    let mock_api = output.scenario.target.is_none();
    !pitfall && samples_plain && served_plain && mock_api
}
