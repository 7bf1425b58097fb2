//! `fanout peers` end to end: the Python peers beside fanout's strategies, on a small
//! scenario. Where Python or its packages are not available the command says so and
//! skips; this test then checks that it said so and exited cleanly.

use std::process::Command;

#[test]
fn the_peers_run_beside_fanout_or_say_why_not() {
    let output = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["peers", "-n", "20", "--delay", "20ms", "--limit", "5"])
        .args([
            "--sequential-n",
            "3",
            "--sequential-delay",
            "10ms",
            "--json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    if output.stdout.is_empty() {
        assert!(stderr.contains("Python peers skipped"), "{stderr}");
        eprintln!("skipped: {stderr}");
        return;
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = json["runs"].as_array().unwrap();
    let python: Vec<&serde_json::Value> = runs
        .iter()
        .filter(|r| r["library"].as_str().unwrap().contains("Python"))
        .collect();
    assert_eq!(runs.len(), 5 + 7, "5 fanout strategies and 7 peer runs");
    assert_eq!(python.len(), 7);
    for run in runs {
        let summary = &run["summary"];
        let n = summary["n"].as_u64().unwrap();
        // Every request of every client reached the server once and ended once.
        assert_eq!(summary["server"]["received"], n, "{}", run["label"]);
        let ended: u64 = summary["outcomes"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(ended, n, "{}", run["label"]);
    }
    // The limited patterns held their limit at the server.
    let limited = |label: &str| label.ends_with("(limit)") || label.ends_with("async-semaphore");
    for run in runs
        .iter()
        .filter(|r| limited(r["label"].as_str().unwrap()))
    {
        assert!(
            run["summary"]["server"]["peak_in_flight"].as_u64().unwrap() <= 5,
            "{}",
            run["label"]
        );
    }
}
