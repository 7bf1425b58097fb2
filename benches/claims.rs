//! `cargo bench --bench claims`: the tutorials' speedup claims, run at a small time
//! scale (every delay × 0.05) against an in-process mock API, printed as a table: the
//! document's figure, the model's and the measured speedup, and the verdict.
//!
//! This is not a criterion bench: each claim is one experiment with its own verdict
//! rule, so it prints results rather than statistics. The full catalogue, with
//! charts, is `cargo run --release -- claims`.

use fanout::Placement;
use fanout::claims::catalogue::catalogue;
use fanout::claims::{Context, evaluate};

/// Delays are multiplied by this.
const TIME_SCALE: f64 = 0.05;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects claims by id.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let context = Context::new(TIME_SCALE, 1);
    println!("speedup claims at time scale {TIME_SCALE} (in-process mock API)\n");
    println!(
        "{:<12} {:>10} {:>8} {:>9}  {:<11} reason",
        "claim", "document", "model", "measured", "verdict"
    );
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
    }
}
