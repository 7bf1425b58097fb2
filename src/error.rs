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
    InvalidDuration {
        /// The text as given.
        text: String,
        /// What is wrong with it.
        why: String,
    },

    /// A scenario value out of range (a zero count, a zero limit, …).
    #[error("invalid scenario: {0}")]
    InvalidScenario(String),

    /// A profile file that cannot be read or does not describe endpoints.
    #[error("profile {path}: {why}")]
    Profile {
        /// The profile file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },

    /// The port asked for is taken by another process.
    #[error(
        "port {port} on 127.0.0.1 is already in use: pick another with --port, or 0 for a free one"
    )]
    PortInUse {
        /// The port asked for.
        port: u16,
    },

    /// The run would need more file descriptors than this process may open.
    #[error(
        "this run needs about {needed} file descriptors but the limit is {soft} (hard limit {hard}); \
         raise it (ulimit -n {needed}), lower the concurrency, or run the mock API in its own process (--server child)"
    )]
    TooFewFileDescriptors {
        /// About how many the run would open.
        needed: u64,
        /// The soft limit now in force.
        soft: u64,
        /// The hard limit the soft one may be raised to.
        hard: u64,
    },

    /// A strategy or option a load engine cannot reproduce faithfully (`fanout export`,
    /// `fanout distributed`).
    #[error("{strategy} cannot be exported to {engine}: {why}")]
    NotExportable {
        /// The strategy asked for.
        strategy: String,
        /// The engine.
        engine: String,
        /// What the engine cannot do.
        why: String,
    },

    /// A load engine that is not installed here, and how to install it.
    #[error("{engine} is not installed here ({why}); {how}")]
    EngineMissing {
        /// The engine.
        engine: String,
        /// What the set-up said.
        why: String,
        /// The command that installs it.
        how: String,
    },

    /// The mock API could not be started, asked for its ledger, or stopped cleanly.
    #[error("mock API: {0}")]
    Server(String),

    /// An HTTP client could not be built (a TLS set-up, a resolver, a pool).
    #[error("HTTP client: {0}")]
    Client(String),

    /// A process fanout started (a sweep point, a Python peer, the peers' set-up)
    /// failed, ran out of time, or printed something that does not parse. `what`
    /// names it ("the sweep point async-unbounded at limit=8").
    #[error("{what}: {why}")]
    Child {
        /// Which process.
        what: String,
        /// How it failed.
        why: String,
    },

    /// The news aggregator's article store (SQLite) failed.
    #[error("article store: {0}")]
    Store(String),

    /// A fanout bug: something fanout guarantees did not hold (a request counted twice,
    /// a ledger asked for entries it does not keep, a parent and child that disagree).
    #[error("internal error, a fanout bug worth reporting: {0}")]
    Internal(String),

    /// A report directory (`--out`) that cannot be created or written, found before
    /// the run.
    #[error("--out {}: cannot write there ({why})", path.display())]
    OutputDir {
        /// The directory as given.
        path: PathBuf,
        /// Why it cannot be written.
        why: String,
    },

    /// A chart or report that could not be drawn or written.
    #[error("report: {0}")]
    Report(String),

    /// Ctrl-C stopped the run: its partial summary was printed, every request
    /// accounted for (exit code 130, the shell's for SIGINT).
    #[error("interrupted by Ctrl-C: the summary above covers the requests made until then")]
    Interrupted,

    /// An operating-system failure outside any single request.
    #[error("{context}: {source}")]
    Io {
        /// What fanout was doing.
        context: String,
        /// The operating system's error.
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

    /// The process's exit code for this error: 2 for bad input, 130 for Ctrl-C, 1
    /// for the rest.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted => 130,
            error if error.is_bad_input() => 2,
            _ => 1,
        }
    }

    /// True when the error is the user's input (exit code 2) rather than the machine
    /// or fanout itself (exit code 1). A positive list: a new variant is not bad input
    /// until it is named here.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidDuration { .. }
                | Error::InvalidScenario(_)
                | Error::Profile { .. }
                | Error::PortInUse { .. }
                | Error::TooFewFileDescriptors { .. }
                | Error::OutputDir { .. }
                | Error::NotExportable { .. }
                | Error::EngineMissing { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_users_input_exits_with_two() {
        let text = || "x".to_string();
        let bad_input = [
            Error::InvalidDuration {
                text: text(),
                why: text(),
            },
            Error::InvalidScenario(text()),
            Error::Profile {
                path: PathBuf::from("p.toml"),
                why: text(),
            },
            Error::PortInUse { port: 8080 },
            Error::TooFewFileDescriptors {
                needed: 2,
                soft: 1,
                hard: 1,
            },
            Error::OutputDir {
                path: PathBuf::from("out"),
                why: text(),
            },
            Error::NotExportable {
                strategy: text(),
                engine: text(),
                why: text(),
            },
            Error::EngineMissing {
                engine: text(),
                why: text(),
                how: text(),
            },
        ];
        let not_input = [
            Error::Server(text()),
            Error::Client(text()),
            Error::Child {
                what: text(),
                why: text(),
            },
            Error::Store(text()),
            Error::Internal(text()),
            Error::Report(text()),
            Error::io("reading", std::io::Error::other("gone")),
        ];
        assert!(bad_input.iter().all(Error::is_bad_input));
        assert!(!not_input.iter().any(Error::is_bad_input));
    }

    #[test]
    fn a_child_error_names_the_child() {
        let error = Error::Child {
            what: "the sweep point async-unbounded at n=10".to_string(),
            why: "failed: boom".to_string(),
        };
        assert_eq!(
            error.to_string(),
            "the sweep point async-unbounded at n=10: failed: boom"
        );
    }
}
