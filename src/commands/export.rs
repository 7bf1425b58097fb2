//! `fanout export`: the scenario as a Locust file or a k6 script ([`crate::export`]).

use crate::cli::ExportArgs;
use crate::error::Error;
use crate::export;

/// Writes the script to `--out`, or prints it.
pub fn export(args: &ExportArgs) -> Result<(), Error> {
    let scenario = super::scenario(&args.scenario, args.strategy)?;
    let plan = export::plan(&scenario, args.load_engine, &args.url)?;
    let script = export::render(&plan);
    match &args.out_file {
        Some(path) => {
            std::fs::write(path, script)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            eprintln!(
                "wrote {} ({} for {}, n = {})",
                path.display(),
                args.load_engine.name(),
                args.strategy.name(),
                plan.n
            );
        }
        None => print!("{script}"),
    }
    Ok(())
}
