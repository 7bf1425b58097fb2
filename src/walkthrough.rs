//! Numbered steps for the book's examples (`examples/chNN_*.rs`).
//!
//! Every example prints its steps numbered, so a reader can match what scrolls by with
//! the chapter's text. `--step` on the command line makes it wait for Enter before each
//! step, but only when standard input is a terminal: CI and pipes never block.
//!
//! `--engine wiremock` makes the examples that start their mock API through
//! [`server_config`] run it on `wiremock::MockServer` instead of fanout's own server
//! (the others, whose lessons need a connection count or a dropped connection, keep
//! fanout's).
//!
//! ```no_run
//! let mut steps = fanout::walkthrough::Steps::from_args();
//! steps.next("start a local mock API");
//! steps.next("call it");
//! ```

use std::io::IsTerminal;

use clap::ValueEnum;

use crate::error::Error;
use crate::server::profile::Profile;
use crate::server::{Engine, ServerConfig};

/// Counts and prints the steps of one example.
#[derive(Debug)]
pub struct Steps {
    number: u32,
    pause: bool,
}

impl Steps {
    /// Pauses between steps when the program was started with `--step`. Every example
    /// starts here, so this is also where ring becomes the process's rustls provider,
    /// before the example builds its first reqwest client (which would panic without
    /// one: see [`crate::strategy::trust`]).
    pub fn from_args() -> Steps {
        crate::strategy::trust::install_crypto_provider();
        Steps::new(std::env::args().any(|arg| arg == "--step"))
    }

    /// Pauses between steps when `pause` is set and stdin is a terminal.
    pub fn new(pause: bool) -> Steps {
        Steps {
            number: 0,
            pause: pause && std::io::stdin().is_terminal(),
        }
    }

    /// Starts the next step: waits for Enter when pausing, then prints its title.
    pub fn next(&mut self, title: &str) -> u32 {
        self.number += 1;
        if self.pause {
            println!("\n(press Enter for step {})", self.number);
            let _ = std::io::stdin().read_line(&mut String::new());
        }
        println!("\nStep {}: {title}", self.number);
        self.number
    }
}

/// The engine named by `--engine NAME` (or `--engine=NAME`) on the command line; fanout's
/// own without one.
pub fn engine_from_args() -> Result<Engine, Error> {
    let args: Vec<String> = std::env::args().collect();
    let named = args
        .iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.as_str() {
            "--engine" => Some(args.get(i + 1).cloned().unwrap_or_default()),
            _ => arg.strip_prefix("--engine=").map(str::to_string),
        });
    match named {
        None => Ok(Engine::default()),
        Some(name) => Engine::from_str(&name, true).map_err(|_| {
            Error::InvalidScenario(format!("--engine '{name}': use fanout or wiremock"))
        }),
    }
}

/// An example's mock API: [`ServerConfig::new`] on the engine the command line names.
pub fn server_config(profile: Profile, seed: u64) -> Result<ServerConfig, Error> {
    Ok(ServerConfig {
        engine: engine_from_args()?,
        ..ServerConfig::new(profile, seed)
    })
}

/// A duration as the examples print it: `1.20 s`, or `35.1 ms` below a second.
pub use crate::duration::steady as seconds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_count_from_one_and_never_pause_off_a_terminal() {
        let mut steps = Steps::new(true);
        // Under `cargo test` stdin is not a terminal, so this must not block.
        assert_eq!(steps.next("first"), 1);
        assert_eq!(steps.next("second"), 2);
    }
}
