//! What every report's header says about its run ([`RunInfo`]): gathered here, where the
//! clock may be read, for `claims`, `sweep` and `peers` alike.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::report::run_info::RunInfo;

/// A run being timed for its report: when it started, by the clock and the calendar.
#[derive(Debug)]
pub(super) struct Stopwatch {
    started: Instant,
    date: String,
}

impl Stopwatch {
    /// Starts timing now.
    pub(super) fn start() -> Stopwatch {
        Stopwatch {
            started: Instant::now(),
            date: utc_now(),
        }
    }

    /// Seconds since [`Stopwatch::start`].
    pub(super) fn took_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The header of a run that started at [`Stopwatch::start`] and took `took_s`.
    pub(super) fn info(&self, took_s: f64, command: String) -> RunInfo {
        RunInfo {
            machine: machine(),
            date: self.date.clone(),
            took_s,
            command,
        }
    }
}

/// CPUs, OS and kernel, for the report's header.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_else(|_| "unknown kernel".to_string());
    format!(
        "{cpus} CPUs, {} {} ({kernel})",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The current UTC date and time, `2026-11-22 02:30 UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    // `2026-11-22T02:30:00Z` without its seconds.
    let rfc3339 = crate::news::unix_to_rfc3339(secs);
    format!("{} {} UTC", &rfc3339[..10], &rfc3339[11..16])
}

/// `cargo run --release -- ARGS`, each argument quoted as a POSIX shell needs it, so
/// that the "Regenerate with" line pastes back into a shell as it was typed.
pub(super) fn regenerate_command<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> String {
    let mut line = "cargo run --release --".to_string();
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg.as_ref()));
    }
    line
}

/// `arg` as one shell word: as it is when it holds only characters no shell treats
/// specially, otherwise in single quotes (a quote inside becomes `'\''`).
pub(super) fn shell_quote(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_arguments_stay_as_they_are() {
        assert_eq!(
            regenerate_command(["sweep", "--over", "n", "--range", "1..100", "--out", "r/x"]),
            "cargo run --release -- sweep --over n --range 1..100 --out r/x"
        );
    }

    #[test]
    fn spaces_quotes_and_metacharacters_are_quoted() {
        assert_eq!(shell_quote("my reports"), "'my reports'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("a;rm -rf"), "'a;rm -rf'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
