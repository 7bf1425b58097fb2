//! The library's error type: every way a scenario can be refused or a run can fail to
//! start, each with a message that names the problem and, where there is one, the fix.
//!
//! Failures of *individual requests* are not errors: they are outcomes, recorded in
//! [`crate::measure::Outcome`] and counted. An [`Error`] means the run as a whole could
//! not happen.

use std::path::PathBuf;

/// Why fanout could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A duration or latency distribution that does not parse.
    #[error("invalid duration '{text}': {why}")]
    InvalidDuration { text: String, why: String },

    /// A scenario value out of range (a zero count, a zero limit, …).
    #[error("invalid scenario: {0}")]
    InvalidScenario(String),

    /// A profile file that cannot be read or does not describe endpoints.
    #[error("profile {path}: {why}")]
    Profile { path: PathBuf, why: String },

    /// The port asked for is taken by another process.
    #[error(
        "port {port} on 127.0.0.1 is already in use: pick another with --port, or 0 for a free one"
    )]
    PortInUse { port: u16 },

    /// The run would need more file descriptors than this process may open.
    #[error(
        "this run needs about {needed} file descriptors but the limit is {soft} (hard limit {hard}); \
         raise it (ulimit -n {needed}), lower the concurrency, or run the mock API in its own process (--server child)"
    )]
    TooFewFileDescriptors { needed: u64, soft: u64, hard: u64 },

    /// The mock API could not be started or stopped cleanly.
    #[error("mock API: {0}")]
    Server(String),

    /// A report directory (`--out`) that cannot be created or written, found before
    /// the run.
    #[error("--out {}: cannot write there ({why})", path.display())]
    OutputDir { path: PathBuf, why: String },

    /// A chart or report that could not be drawn or written.
    #[error("report: {0}")]
    Report(String),

    /// An operating-system failure outside any single request.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Wraps an I/O error with what fanout was doing when it happened.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the error is the user's input (exit code 2) rather than the machine.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Server(_) | Error::Io { .. } | Error::Report(_))
    }
}
