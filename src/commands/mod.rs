//! The commands behind the CLI, one file each. Each takes its parsed arguments, calls
//! the library (scenario, run, summary) and hands plain results to a printer.

mod claims;
mod compare;
mod progress;
mod run;
mod serve;

pub use claims::claims;
pub use compare::compare;
pub use run::run;
pub use serve::serve;

use crate::cli::{ScenarioArgs, ServerPlacement};
use crate::error::Error;
use crate::scenario::{ClientOptions, Scenario};
use crate::server::Placement;
use crate::server::profile::Profile;
use crate::strategy::Strategy;

/// Builds the scenario the flags describe, for `strategy`.
fn scenario(args: &ScenarioArgs, strategy: Strategy) -> Result<Scenario, Error> {
    let profile = match &args.profile {
        Some(path) => Profile::from_file(path)?,
        None => Profile::single(args.delay),
    };
    let scenario = Scenario {
        profile,
        n: args.n,
        strategy,
        client: ClientOptions {
            limit: args.limit,
            threads: args.threads,
            reuse: args.client,
            http: args.http,
            runtime_workers: args.workers,
        },
        seed: args.seed,
        deadline: args.deadline,
        server_workers: args.server_workers,
        engine: args.engine,
    };
    scenario.validate()?;
    Ok(scenario)
}

/// Where the mock API should run.
fn placement(args: &ScenarioArgs) -> Result<Placement, Error> {
    placement_of(args.server)
}

fn placement_of(server: ServerPlacement) -> Result<Placement, Error> {
    Ok(match server {
        ServerPlacement::InProcess => Placement::InProcess,
        ServerPlacement::Child => Placement::Child {
            fanout_exe: std::env::current_exe()
                .map_err(|e| Error::io("finding the fanout executable", e))?,
        },
    })
}
