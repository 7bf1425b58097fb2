//! # fanout
//!
//! What do you gain by making many HTTP calls concurrently instead of one after another,
//! and what does it cost? fanout answers with measurements: paired sync (`ureq`) and
//! async (`reqwest` on tokio) clients make the same requests to a local mock API whose
//! delays are seeded, and every figure is checked against the server's own record.
//!
//! # Layout
//!
//! Data flows one way: scenario, run, measurements, summary, report.
//!
//! - [`server`]: the mock API on 127.0.0.1: endpoints and latency profiles, the
//!   [ledger](server::ledger), the server's record of every request and connection,
//!   the emulated [network](server::network) every connection passes through (round
//!   trips, jitter, bandwidth), and [TLS](server::tls) on a certificate made at start.
//! - [`scenario`]: what one run is: endpoints, request count, strategy, client options,
//!   seed, deadline; refused early when it cannot run.
//! - [`strategy`]: the closed set of ways to make the requests, sync and async.
//! - [`pipeline`]: the whole sequence of one measured run, in order: checks,
//!   calibration, a fresh server, the run, the footprint, the ledger.
//! - [`run`](mod@run): the one place where client, server and clock meet.
//! - [`measure`]: one sample per request, outcomes, percentiles.
//! - [`output`]: a run's raw result: scenario, samples, ledger, calibration, footprint.
//! - [`model`]: the wall time a run should take, from the seeded delays and the link's
//!   round trips, with overheads measured by [`calibrate`]'s short probes.
//! - [`claims`]: the tutorials' claims as data, each with a verdict rule.
//! - [`sweep`]: one scenario over a range of n, of a limit or of the round-trip
//!   time, and its knee.
//! - [`peers`]: the tutorials' Python clients run against the same mock API.
//! - [`export`] and [`distributed`]: a scenario as a Locust file or a k6 script, run
//!   on the engine's worker processes against the mock API and joined with its
//!   ledger; and what a fan-out past one machine would need.
//! - [`news`]: chapter 7's news aggregator (async and sync), its mock sources and
//!   its SQLite store.
//! - [`summary`]: samples and ledger joined into the figures reports print.
//! - [`attribution`]: each request's time split into client, network and server
//!   phases, and the side that was slow.
//! - [`report`]: tables (and JSON) from summaries; never touches a client or a clock.
//! - [`duration`]: durations as people read them, for tables, reports and examples.
//! - [`redact`]: API keys in query strings never reach a screen or a report.
//! - [`fdlimit`]: file descriptors, checked before a run rather than failing mid-way.
//! - [`footprint`]: the client process's peak memory and threads during a run.
//! - [`cli`] and [`commands`]: the command line and what each command does.
//! - [`error`]: why a run could not happen (request failures are outcomes, not errors).
//! - [`bounded`]: child processes with a time limit.
//! - [`walkthrough`]: numbered steps for the book's examples (`--step` pauses).
//!
//! A first read: `scenario.rs`, `strategy/mod.rs`, `pipeline.rs`, then `run.rs`.

// A `pub` item that no one outside its module tree can reach says `pub(crate)` or
// `pub(super)`, so `pub` always means "part of the library's API". (Tests, examples
// and benches are not held to it: their helpers are `pub` to their own files.)
#![warn(unreachable_pub)]

pub mod after_gather;
pub mod attribution;
pub mod bounded;
pub mod calibrate;
pub mod claims;
pub mod cli;
pub mod commands;
pub mod distributed;
pub mod duration;
pub mod error;
pub mod export;
pub mod fdlimit;
pub mod footprint;
pub mod measure;
pub mod model;
pub mod news;
pub mod open_loop;
pub mod output;
pub mod own_process;
pub mod peers;
pub mod pipeline;
pub mod redact;
pub mod report;
pub mod run;
pub mod scenario;
pub mod server;
pub mod strategy;
pub mod summary;
pub mod sweep;
pub mod walkthrough;

pub use error::Error;
pub use measure::{Measurements, Outcome, Sample};
pub use output::RunOutput;
pub use pipeline::run_fresh;
pub use run::run_on;
pub use scenario::Scenario;
pub use server::{MockApi, Placement, ServerConfig};
pub use strategy::{ClientOptions, ClientReuse, HttpVersion, Strategy};
pub use summary::RunSummary;
