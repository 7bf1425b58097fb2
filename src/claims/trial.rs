//! A claim's trials: what a plan asks for ([`Trial`], named by a [`TrialKey`]), and what
//! came back ([`Ran`]).
//!
//! A plan names each trial by a key and its rule finds the trial by the same key, so
//! the two cannot disagree on a spelling; the label the report prints is derived from
//! the key, in one place ([`TrialKey::label`]). The keys are grouped by the rule that
//! reads them; `tests/claims.rs` checks that every rule finds, in its own claim's
//! plan, every trial it asks for.
//!
//! Read next: [`super::rules`], which look trials up by key.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::calibrate::calibrate;
use crate::error::Error;
use crate::news::trial::{self as news_trial, NewsFigures, NewsTrial};
use crate::output::RunOutput;
use crate::own_process::{self, PointJob};
use crate::pipeline::run_fresh;
use crate::scenario::Scenario;
use crate::server::Placement;
use crate::strategy::{ClientReuse, Strategy};
use crate::summary::RunSummary;

/// Which trial of its claim a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrialKey {
    /// The tutorials' pair, one after another ([`super::rules::speedup_near`],
    /// [`super::rules::formula`], [`super::rules::sequential_about`], the news
    /// aggregator's speedup).
    Sequential,
    /// The tutorials' pair, all at once ([`super::rules::concurrent_as_slowest`] too).
    Concurrent,
    /// A run behind a concurrency limit ([`super::rules::limit_held`]).
    Limited,
    /// One point of the speedup against n: the pair at `n` ([`super::behaviour::scaling()`]).
    Scaling {
        /// Requests in the run.
        n: u64,
        /// Which half of the pair.
        mode: Mode,
    },
    /// A shared client or one per request ([`super::behaviour::client_reuse`]).
    Reuse {
        /// One after another or all at once.
        mode: Mode,
        /// Shared or per request.
        client: ClientReuse,
    },
    /// A hanging endpoint met by one library ([`super::behaviour::timeout_defaults`]).
    Timeout {
        /// The library.
        library: Library,
        /// With a timeout set, or with the library's default.
        explicit: bool,
    },
    /// HTTP/1.1 at a concurrency ([`super::behaviour::http2_one_connection`]).
    Http1,
    /// HTTP/2 at the same concurrency.
    Http2,
    /// A task group that fails on the first error ([`super::behaviour::fail_fast`]).
    FailFast,
    /// Every request collected, failures and all.
    CollectAll,
    /// Everything at once at a rate-limited server
    /// ([`super::behaviour::rate_limited_server`]).
    AllAtOnce,
    /// The client paced just under the server's limit.
    Paced,
    /// The chapter's sliding-window limiter ([`super::behaviour::limiters_keep_promise`]).
    SlidingWindow,
    /// governor's GCRA limiter.
    Gcra,
    /// A bounded batch with a per-request timeout ([`super::behaviour::timeout_in_batch`]).
    Batch,
    /// Results handled as they complete ([`super::behaviour::completion_order`]).
    AsCompleted,
    /// Every source answering ([`super::behaviour::partial_failure`]).
    AllSucceed,
    /// One source failing.
    OneFails,
    /// One retry chain ([`super::behaviour::retry_chains`]).
    OneChain,
    /// Ten retry chains at once.
    TenChains,
    /// A blocking sleep in every task ([`super::behaviour::blocking_sleep`]).
    BlockingSleep,
    /// An async sleep in every task.
    AsyncSleep,
    /// Futures built and never awaited ([`super::behaviour::never_awaited`]).
    NeverAwaited,
    /// JSON POSTs at once ([`super::behaviour::posts_created`]).
    Posts,
    /// A strategy's run, named by the strategy ([`super::behaviour::classified`]).
    Strategy(Strategy),
    /// `async-pipeline` with a bounded channel, or an unbounded one
    /// ([`super::behaviour::after_gather::backpressure`]).
    Channel {
        /// Bounded (its capacity is the scenario's) or unbounded.
        bounded: bool,
        /// Requests in the run: the unbounded channel is run at two sizes.
        n: u64,
    },
    /// The news aggregator, concurrent, saving to SQLite ([`super::news::serial_writes`]).
    Stored,
    /// The news aggregator over twenty sources, one seeded draw of their delays
    /// ([`super::news::twenty_sources`]).
    Seed(u64),
}

/// One half of the tutorials' pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One request after another.
    Sequential,
    /// All at once.
    Concurrent,
}

impl Mode {
    /// The word in a label.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::Concurrent => "concurrent",
        }
    }
}

/// An HTTP library, in the timeout trials' labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Library {
    /// The sync client.
    Ureq,
    /// The async client.
    Reqwest,
}

impl Library {
    /// Its crate's name.
    pub fn name(self) -> &'static str {
        match self {
            Library::Ureq => "ureq",
            Library::Reqwest => "reqwest",
        }
    }
}

impl TrialKey {
    /// The trial's name in the report (`sequential`, `n=100 concurrent`, …).
    pub fn label(self) -> String {
        let fixed = match self {
            TrialKey::Sequential => "sequential",
            TrialKey::Concurrent => "concurrent",
            TrialKey::Limited => "limited",
            TrialKey::Scaling { n, mode } => return format!("n={n} {}", mode.name()),
            TrialKey::Reuse { mode, client } => {
                let client = match client {
                    ClientReuse::Shared => "shared client",
                    ClientReuse::PerRequest => "client per request",
                };
                return format!("{}, {client}", mode.name());
            }
            TrialKey::Timeout { library, explicit } => {
                let how = if explicit { "with timeout" } else { "default" };
                return format!("{} {how}", library.name());
            }
            TrialKey::Http1 => "HTTP/1.1",
            TrialKey::Http2 => "HTTP/2",
            TrialKey::FailFast => "fail-fast",
            TrialKey::CollectAll => "collect-all",
            TrialKey::AllAtOnce => "all at once",
            TrialKey::Paced => "paced under the limit",
            TrialKey::SlidingWindow => "sliding window (as written)",
            TrialKey::Gcra => "GCRA (governor)",
            TrialKey::Batch => "batch",
            TrialKey::AsCompleted => "as completed",
            TrialKey::AllSucceed => "all succeed",
            TrialKey::OneFails => "one fails",
            TrialKey::OneChain => "one chain",
            TrialKey::TenChains => "10 chains at once",
            TrialKey::BlockingSleep => "blocking sleep",
            TrialKey::AsyncSleep => "async sleep",
            TrialKey::NeverAwaited => "never awaited",
            TrialKey::Posts => "POSTs at once",
            TrialKey::Strategy(strategy) => strategy.name(),
            TrialKey::Channel { bounded, n } => {
                let channel = if bounded { "bounded" } else { "unbounded" };
                return format!("{channel} channel, n={n}");
            }
            TrialKey::Stored => "concurrent + store",
            TrialKey::Seed(seed) => return format!("concurrent, seed {seed}"),
        };
        fixed.to_string()
    }
}

impl fmt::Display for TrialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.label())
    }
}

/// One run a claim asks for.
#[derive(Debug, Clone)]
pub enum Trial {
    /// A strategy's run of `scenario`, on a fresh mock API.
    Strategy {
        /// Which trial it is.
        key: TrialKey,
        /// What to run.
        scenario: Scenario,
    },
    /// The first `scenario.n` requests of the plan's sequential trial keyed `of`, which
    /// are the sequential run of that many ([`RunOutput::first_requests`]): measured in
    /// that run, not run again.
    FirstOf {
        /// Which trial it is.
        key: TrialKey,
        /// The longer sequential trial it is cut from, in the same plan.
        of: TrialKey,
        /// The run it stands for.
        scenario: Scenario,
    },
    /// A strategy's run of `scenario` in a fresh process of its own, its allocator
    /// returning freed memory at once ([`crate::own_process`]): for claims about the
    /// client's memory. With an in-process mock API, it runs in this process.
    OwnProcess {
        /// Which trial it is.
        key: TrialKey,
        /// What to run.
        scenario: Scenario,
    },
    /// A run of chapter 7's news aggregator, on a fresh news mock.
    News {
        /// Which trial it is.
        key: TrialKey,
        /// The sources and how to aggregate them.
        news: NewsTrial,
        /// The endpoints and request count the aggregation stands for, for the report.
        scenario: Scenario,
    },
}

impl Trial {
    /// Which trial it is.
    pub fn key(&self) -> TrialKey {
        match self {
            Trial::Strategy { key, .. }
            | Trial::OwnProcess { key, .. }
            | Trial::FirstOf { key, .. }
            | Trial::News { key, .. } => *key,
        }
    }

    /// The scenario it runs, or stands for.
    pub fn scenario(&self) -> &Scenario {
        match self {
            Trial::Strategy { scenario, .. }
            | Trial::OwnProcess { scenario, .. }
            | Trial::FirstOf { scenario, .. }
            | Trial::News { scenario, .. } => scenario,
        }
    }

    /// Runs the trial on a fresh server at `placement` and summarises it; a
    /// [`Trial::FirstOf`] is cut from `earlier`, the trials of its plan already run.
    fn run(self, placement: &Placement, earlier: &[Ran]) -> Result<Ran, Error> {
        match self {
            Trial::FirstOf { key, of, scenario } => {
                let cut = find(earlier, of)
                    .and_then(|source| source.output.first_requests(scenario.n))
                    .filter(|cut| cut.scenario == scenario)
                    .ok_or_else(|| {
                        Error::Internal(format!(
                            "trial {key} is not the first {} requests of a sequential trial {of}",
                            scenario.n
                        ))
                    })?;
                Ok(Ran {
                    key,
                    summary: RunSummary::from_output(&cut),
                    output: cut,
                    news: None,
                    cut_from: Some(of),
                })
            }
            Trial::Strategy { key, scenario } => {
                let output = run_fresh(&scenario, placement, Arc::new(AtomicU64::new(0)))?;
                Ok(Ran {
                    key,
                    summary: RunSummary::from_output(&output),
                    output,
                    news: None,
                    cut_from: None,
                })
            }
            Trial::OwnProcess { key, scenario } => {
                let output = match placement {
                    Placement::Child { fanout_exe } => {
                        let job = PointJob {
                            scenario: scenario.clone(),
                            server: crate::cli::ServerPlacement::Child,
                            whole_output: true,
                        };
                        let what = format!("trial {key} in a process of its own");
                        let env = [own_process::PROMPT_RETURN];
                        let printed = own_process::run_point(fanout_exe, &job, &env, &what)?;
                        own_process::decode::<RunOutput>(&printed, &what)?
                    }
                    Placement::InProcess => {
                        run_fresh(&scenario, placement, Arc::new(AtomicU64::new(0)))?
                    }
                };
                Ok(Ran {
                    key,
                    summary: RunSummary::from_output(&output),
                    output,
                    news: None,
                    cut_from: None,
                })
            }
            Trial::News {
                key,
                news,
                scenario,
            } => {
                scenario.validate()?;
                let calibration = calibrate(&scenario, placement)?;
                let (output, figures) = news_trial::run(&news, &scenario, placement, calibration)?;
                let mut summary = RunSummary::from_output(&output);
                summary.predicted_ms = figures.predicted_ms;
                summary.efficiency = Some(figures.predicted_ms / summary.wall_ms);
                summary.attribution.gap_ms = summary.wall_ms - figures.predicted_ms;
                // Hacker News's two phases make the all-at-once limit meaningless here.
                summary.calibrated_limit = None;
                Ok(Ran {
                    key,
                    summary,
                    output,
                    news: Some(figures),
                    cut_from: None,
                })
            }
        }
    }
}

/// Runs a plan's trials in order, each on a fresh server at `placement`, then cuts
/// its [`Trial::FirstOf`] trials from the runs they name; the runs come back in the
/// plan's order.
pub fn run_plan(plan: Vec<Trial>, placement: &Placement) -> Result<Vec<Ran>, Error> {
    let (cut, measured): (Vec<_>, Vec<_>) = plan
        .into_iter()
        .enumerate()
        .partition(|(_, trial)| matches!(trial, Trial::FirstOf { .. }));
    let mut order = Vec::with_capacity(measured.len());
    let mut ran = Vec::with_capacity(measured.len());
    for (index, trial) in measured {
        ran.push(trial.run(placement, &[])?);
        order.push(index);
    }
    let mut derived = Vec::with_capacity(cut.len());
    for (index, trial) in cut {
        derived.push((index, trial.run(placement, &ran)?));
    }
    let mut runs: Vec<(usize, Ran)> = order.into_iter().zip(ran).chain(derived).collect();
    runs.sort_by_key(|(index, _)| *index);
    Ok(runs.into_iter().map(|(_, ran)| ran).collect())
}

/// A trial after it ran.
#[derive(Debug, Clone)]
pub struct Ran {
    /// Which trial it was.
    pub key: TrialKey,
    /// Its figures.
    pub summary: RunSummary,
    /// Its raw samples and ledger, for the charts.
    pub output: RunOutput,
    /// The news aggregator's own figures, for its trials.
    pub news: Option<NewsFigures>,
    /// The trial it was cut from ([`Trial::FirstOf`]), when it was not run itself.
    pub cut_from: Option<TrialKey>,
}

impl Ran {
    /// The trial's name in the report; a cut trial says what it was cut from
    /// (`n=10 sequential (cut from n=1000 sequential)`).
    pub fn label(&self) -> String {
        match self.cut_from {
            Some(from) => format!("{} (cut from {from})", self.key),
            None => self.key.label(),
        }
    }
}

/// The trial keyed `key`, if it ran.
pub fn find(runs: &[Ran], key: TrialKey) -> Option<&Ran> {
    runs.iter().find(|r| r.key == key)
}
