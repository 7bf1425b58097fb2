//! `cargo bench --bench tutorials`: the tutorials' speedup claims, run at a small time
//! scale (every delay × 0.05) against an in-process mock API, printed as a table: the
//! document's figure, the model's and the measured speedup, and the verdict. `cargo
//! bench` runs it after the criterion benches (targets run in name order).
//!
//! This is not a criterion bench: each claim is one experiment with its own verdict
//! rule, so it prints results rather than statistics. The full catalogue, with
//! charts, is `cargo run --release -- claims`.
//!
//! Arguments: a word selects claims whose id contains it; `--test` (what criterion's
//! benches take for "run each once", and what CI passes) runs two speedup claims at
//! time scale 0.01, so a broken claim run fails CI in seconds.

use fanout::Placement;
use fanout::claims::catalogue::catalogue;
use fanout::claims::{Context, evaluate};

/// Delays are multiplied by this.
const TIME_SCALE: f64 = 0.05;
/// The quick mode's claims and time scale.
const QUICK_CLAIMS: [&str; 2] = ["D0-fig1", "D2-bench20"];
const QUICK_TIME_SCALE: f64 = 0.01;

fn main() {
    // `cargo bench` passes `--bench`; words select claims by id.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--test");
    let mut filter: Vec<String> = args.into_iter().filter(|a| !a.starts_with('-')).collect();
    if quick && filter.is_empty() {
        filter = QUICK_CLAIMS.iter().map(|id| id.to_string()).collect();
    }
    let time_scale = if quick { QUICK_TIME_SCALE } else { TIME_SCALE };
    let context = Context::new(time_scale, 1);
    println!("speedup claims at time scale {time_scale} (in-process mock API)\n");
    println!(
        "{:<12} {:>10} {:>8} {:>9}  {:<11} reason",
        "claim", "document", "model", "measured", "verdict"
    );
    let mut printed = 0;
    for claim in catalogue() {
        if !filter.is_empty() && !filter.iter().any(|f| claim.id.contains(f.as_str())) {
            continue;
        }
        let result = match evaluate(&claim, &context, &Placement::InProcess) {
            Ok(result) => result,
            Err(error) => {
                eprintln!("{}: {error}", claim.id);
                std::process::exit(1);
            }
        };
        let Some(speedup) = result.judgement.speedup else {
            continue;
        };
        let document = speedup
            .document
            .map_or("-".to_string(), |d| format!("{d:.1}x"));
        println!(
            "{:<12} {:>10} {:>7.1}x {:>8.1}x  {:<11} {}",
            claim.id,
            document,
            speedup.model,
            speedup.measured,
            result.judgement.verdict.name(),
            result.judgement.reason
        );
        printed += 1;
    }
    if printed == 0 {
        eprintln!("no speedup claim matched {filter:?}");
        std::process::exit(1);
    }
}
