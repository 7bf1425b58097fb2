//! The `fanout` binary: parse the command line, call the library, report errors as one
//! line. Exit codes: 0 success, 2 bad input (flags, files, ports, limits), 130 stopped
//! by Ctrl-C (after the partial summary), 1 anything else.

use std::process::ExitCode;

use clap::Parser;
use fanout::cli::{Cli, Command};
use fanout::{commands, fdlimit};

/// jemalloc instead of glibc's malloc, as oha links it: a fan-out allocates and frees
/// many small buffers from many threads at once, where glibc's arenas spent about a
/// quarter of the client's CPU (see `strategy/asynchronous.rs`).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The message with its control characters escaped (a newline or an escape sequence in
/// a URL or path given on the command line), so an error is always one line and never
/// drives the terminal.
fn one_line(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| match c.is_control() {
            true => c.escape_default().collect::<Vec<_>>(),
            false => vec![c],
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = Cli::try_parse().unwrap_or_else(|error| error.exit());
    // Raise the descriptor limit to the hard one first: every later check sees the ceiling.
    let _ = fdlimit::raise_to_hard();
    let result = match &cli.command {
        Command::Run(args) => commands::run(args),
        Command::Compare(args) => commands::compare(args),
        Command::Serve(args) => commands::serve(args),
        Command::Claims(args) => commands::claims(args),
        Command::Sweep(args) => commands::sweep(args),
        Command::Point => commands::point(),
        Command::Peers(args) => commands::peers(args),
        Command::Export(args) => commands::export(args),
        Command::Distributed(args) => commands::distributed(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", one_line(&error.to_string()));
            ExitCode::from(error.exit_code())
        }
    }
}
