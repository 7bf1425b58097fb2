//! The aggregator as a measured run: the same figures as any strategy's (samples, the
//! server's ledger, calibrated overheads), so the claims report can judge it and chart
//! it like the rest.
//!
//! The mock API runs with the scenario's network and TLS, and both aggregators trust
//! exactly its CA, so over an internet-like link they pay its round trips and
//! handshakes as any client does. The model of an aggregation ([`super::model`]), from
//! the delays the ledger recorded: one after another it takes the sum of every delay
//! and round trip; at once it takes the slowest source, where a Hacker News source
//! costs its top-stories delay plus its slowest story (two phases, each a round trip,
//! and each opening connections).

use std::time::Duration;

use serde::Serialize;

use super::blocking::BlockingAggregator;
use super::fetch::Aggregator;
use super::log::RequestLog;
use super::mock::{self, MockSource};
use super::model::{self, Modelled};
use super::store::{self, ArticleStore, Write};
use super::{Digest, Shape};
use crate::error::Error;
use crate::model::{Calibration, Connections, LinkCosts};
use crate::output::RunOutput;
use crate::scenario::Scenario;
use crate::server::ledger::LedgerEntry;
use crate::server::{MockApi, Placement};
use crate::strategy::Strategy;

/// One aggregation to measure.
#[derive(Debug, Clone)]
pub struct NewsTrial {
    /// The mock sources.
    pub sources: Vec<MockSource>,
    /// Async (all at once) or sync (one after another).
    pub concurrent: bool,
    /// Save each source's articles to SQLite, concurrently, after fetching.
    pub store: bool,
    /// Give up on one request after this long.
    pub timeout: Duration,
}

impl NewsTrial {
    /// The requests it makes when nothing fails: one per source, plus the stories of
    /// each Hacker News source.
    pub fn requests(&self) -> u64 {
        self.sources.iter().map(MockSource::requests).sum()
    }

    /// The scenario it stands for in reports.
    pub fn scenario(&self, seed: u64) -> Scenario {
        let strategy = if self.concurrent {
            Strategy::AsyncConcurrent
        } else {
            Strategy::SyncSequential
        };
        let mut scenario = Scenario::new(mock::profile(&self.sources), self.requests(), strategy);
        scenario.seed = seed;
        scenario
    }
}

/// What an aggregation produced besides its samples.
#[derive(Debug, Clone, Serialize)]
pub struct NewsFigures {
    /// Sources asked.
    pub sources: usize,
    /// Sources that failed.
    pub failed: usize,
    /// Articles fetched, duplicates included.
    pub articles: usize,
    /// Rows in the database after the saves (`None` without a store).
    pub stored: Option<u64>,
    /// The saves, when the trial stored.
    pub writes: Vec<Write>,
    /// The model's wall time, from the ledger's delays, the calibration and the link.
    pub predicted_ms: f64,
    /// The connections the model has the client open.
    pub predicted_connections: u64,
    /// For each Hacker News source: (measured time until done, its two phases' waits as
    /// modelled: top delay + slowest story, and the link's round trips and set-ups).
    pub two_phase_ms: Vec<(f64, f64)>,
}

impl NewsFigures {
    /// Writes holding SQLite's lock at the same moment (1 when writes are serial).
    pub fn writes_at_once(&self) -> usize {
        // From the lock to the commit's start, when each surely held it: the clock read
        // after `COMMIT` returns may come after the next save took the lock.
        store::max_overlap(self.writes.iter().map(|w| (w.locked, w.committing)))
    }

    /// Saves waiting or writing at the same moment (above 1 when they contended).
    pub fn saves_at_once(&self) -> usize {
        store::max_overlap(self.writes.iter().map(|w| (w.asked, w.committed)))
    }
}

/// Runs `trial` on a fresh mock API; `calibration` comes from probes run before.
pub fn run(
    trial: &NewsTrial,
    scenario: &Scenario,
    placement: &Placement,
    calibration: Calibration,
) -> Result<(RunOutput, NewsFigures), Error> {
    let mut server = MockApi::start(&scenario.server_config(), placement)?;
    let sources: Vec<_> = trial
        .sources
        .iter()
        .map(|s| s.source_on(server.url()))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the aggregator's runtime", e))?;
    // Removed when it drops, on every path out of this function, early errors included.
    let store_dir = tempfile::Builder::new()
        .prefix("fanout-news-")
        .tempdir()
        .map_err(|e| Error::io("creating the store's directory", e))?;
    let store = trial
        .store
        .then(|| ArticleStore::create(&store_dir.path().join("news.db")))
        .transpose()
        .map_err(|e| Error::Store(e.to_string()))?;
    let log = RequestLog::new(scenario.profile.clone());
    let digest = if trial.concurrent {
        let aggregator = Aggregator::on_mock(trial.timeout, server.ca_certificate())
            .map_err(|e| Error::Client(e.to_string()))?
            .with_log(log.clone());
        runtime.block_on(aggregator.aggregate(&sources))
    } else {
        BlockingAggregator::on_mock(trial.timeout, server.ca_certificate())
            .with_log(log.clone())
            .aggregate(&sources)
    };
    if let Some(store) = &store {
        let saves = digest
            .reports
            .iter()
            .map(|r| store.save(r.articles.clone()));
        for saved in runtime.block_on(futures::future::join_all(saves)) {
            saved.map_err(|e| Error::Store(e.to_string()))?;
        }
    }
    let measurements = log.measurements();
    let ledger = server.ledger()?;
    let stored = store
        .as_ref()
        .map(ArticleStore::count)
        .transpose()
        .map_err(|e| Error::Store(e.to_string()))?;
    let link = LinkCosts::of(scenario);
    let modelled = model::predict(
        &trial.sources,
        trial.concurrent,
        &ledger.entries,
        &calibration,
        &link,
        match scenario.server_keep_alive {
            crate::server::KeepAlive::On => Connections::Pooled,
            crate::server::KeepAlive::Off => Connections::PerRequest,
        },
    );
    let figures = NewsFigures {
        sources: digest.reports.len(),
        failed: digest.failures().len(),
        articles: digest.articles().len(),
        stored,
        writes: store.as_ref().map(ArticleStore::writes).unwrap_or_default(),
        predicted_ms: modelled.wall_ms,
        predicted_connections: modelled.connections,
        two_phase_ms: two_phases(trial, &digest, &modelled),
    };
    let mut scenario = scenario.clone();
    scenario.n = measurements.samples.len() as u64;
    let output = RunOutput {
        scenario,
        measurements,
        ledger,
        placement: placement.kind(),
        calibration,
        footprint: None,
    };
    Ok((output, figures))
}

/// Per source: its list delay and its slowest story delay, in ms, from the server's
/// ledger entries of one aggregation over `sources`.
pub fn source_delays(sources: &[MockSource], entries: &[LedgerEntry]) -> Vec<(f64, f64)> {
    let roles = mock::endpoint_roles(sources);
    let mut delays = vec![(0.0f64, 0.0f64); sources.len()];
    for entry in entries {
        let Some(&(source, is_item)) = entry.endpoint.and_then(|e| roles.get(e as usize)) else {
            continue;
        };
        let ms = entry.delay_us as f64 / 1e3;
        let slot = &mut delays[source];
        if is_item {
            slot.1 = slot.1.max(ms);
        } else {
            slot.0 = slot.0.max(ms);
        }
    }
    delays
}

/// For each Hacker News source: when it was done, against its chain's waits as
/// modelled (top delay + its last story's, and the link's round trips and set-ups).
fn two_phases(trial: &NewsTrial, digest: &Digest, modelled: &Modelled) -> Vec<(f64, f64)> {
    trial
        .sources
        .iter()
        .zip(&digest.reports)
        .zip(&modelled.chain_ms)
        .filter(|((source, _), _)| source.shape == Shape::HackerNews)
        .map(|((_, report), &chain)| (report.done_after.as_secs_f64() * 1e3, chain))
        .collect()
}
