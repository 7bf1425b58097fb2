//! The commands behind the CLI, one file each. Each takes its parsed arguments, calls
//! the library (scenario, run, summary) and hands plain results to a printer.

mod claims;
mod compare;
mod distributed;
mod export;
mod peers;
mod progress;
mod run;
mod run_info;
mod serve;
mod sweep;
mod target;

pub use claims::claims;
pub use compare::compare;
pub use distributed::distributed;
pub use export::export;
pub use peers::peers;
pub use run::run;
pub use serve::serve;
pub use sweep::{point, sweep};

use crate::cli::{FaultArgs, NetworkArgs, ScenarioArgs, ServerPlacement};
use crate::error::Error;
use crate::scenario::Scenario;
use crate::server::Placement;
use crate::server::fault::Fault;
use crate::server::profile::Profile;
use crate::strategy::{ClientOptions, Strategy};

/// After a report is printed: `Err(Interrupted)` (exit 130) when Ctrl-C stopped the
/// command, so a script can tell a partial report from a whole one.
fn interrupted_after_report() -> Result<(), Error> {
    match crate::strategy::stop::interrupted() {
        true => Err(Error::Interrupted),
        false => Ok(()),
    }
}

/// Builds the scenario the flags describe, for `strategy`.
fn scenario(args: &ScenarioArgs, strategy: Strategy) -> Result<Scenario, Error> {
    let target = args
        .target
        .as_deref()
        .map(|url| target::checked(url, args.i_own_this_server))
        .transpose()?;
    let profile = match &target {
        Some(_) => target::profile(),
        None => {
            let mut profile = profile(
                args.profile.as_deref(),
                args.delay,
                &args.faults,
                &args.network,
            )?;
            if let Some(bytes) = args.body_bytes {
                profile.endpoints[0].body_bytes = bytes;
            }
            profile
        }
    };
    let default_rate = if target.is_some() {
        target::DEFAULT_RATE
    } else {
        ClientOptions::DEFAULT_RATE
    };
    let rate = args.rate.unwrap_or(default_rate);
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
            timeout: args.timeout,
            rate,
            ramp: args.ramp,
            max_in_flight: args.max_in_flight,
            rate_window: std::time::Duration::from_secs(1),
            retries: args.retries,
            backoff: args.backoff,
            work: args.work,
            pace: target.is_some().then_some(rate),
            replicas: args.replicas,
            hedge_after: args.hedge_after,
            channel: args.channel,
            consumers: args.consumers,
            stop: crate::strategy::stop::StopPolicy {
                after: args.stop_after,
                grace: args.grace,
            },
            trusted_ca: None,
        },
        seed: args.seed,
        deadline: args.deadline,
        server_workers: args.server_workers,
        engine: args.engine,
        target,
        tls: args.tls,
        tls_resumption: args.connections.tls_resumption(),
        server_keep_alive: args.connections.server_keep_alive,
    };
    scenario.validate()?;
    Ok(scenario)
}

/// The endpoints: a profile file, or one catch-all endpoint from `--delay` and the
/// fault flags. Server-wide limits and the network given as flags apply to either.
fn profile(
    file: Option<&std::path::Path>,
    delay: crate::server::latency::Latency,
    faults: &FaultArgs,
    network: &NetworkArgs,
) -> Result<Profile, Error> {
    let mut profile = match file {
        Some(path) => Profile::from_file(path)?,
        None => {
            let mut profile = Profile::single(delay);
            profile.endpoints[0].fault = Fault {
                error_rate: faults.error_rate,
                error_status: faults.error_status,
                drop_rate: faults.drop_rate,
                hang: faults.hang,
                ..Fault::default()
            };
            profile
        }
    };
    if faults.max_per_second.is_some() {
        profile.limits.max_per_second = faults.max_per_second;
    }
    if faults.server_max_in_flight.is_some() {
        profile.limits.max_in_flight = faults.server_max_in_flight;
    }
    if faults.stall.is_some() {
        profile.stall = faults.stall;
    }
    profile.network = network.apply(profile.network);
    profile.validate().map_err(Error::InvalidScenario)?;
    Ok(profile)
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
