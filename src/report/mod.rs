//! Reports: plain summaries in, text out. Nothing here touches a client, a server or a
//! clock, and every printer writes to any `io::Write` (markdown to any `fmt::Write`), so
//! tests can snapshot the text.
//!
//! - [`columns`]: the one table writer (aligned text, markdown) every table goes through;
//! - [`run_info`]: the machine, date, time taken and command every report opens with;
//! - [`table`]: the terminal tables of `fanout run` and `fanout compare`;
//! - [`charts`]: SVG charts (timelines, speedups, scaling, latency, load) from plain data;
//! - [`chart_data`]: a run's samples and ledger as chart series;
//! - [`claims_report`]: the claims table and `reports/README.md`, with the charts
//!   [`claims_charts`] draws for each claim;
//! - [`sweep_report`]: a sweep's table, knees and chart;
//! - [`peers_report`]: fanout beside the Python peers;
//! - JSON is [`crate::summary::RunSummary`] serialised as it is (see the README's schema);
//! - [`out_dir`]: a report's directory, checked before the first request is sent.

pub mod chart_data;
pub mod charts;
pub mod claims_charts;
pub mod claims_report;
pub mod columns;
pub mod out_dir;
pub mod peers_report;
pub mod run_info;
pub mod sweep_report;
pub mod table;
