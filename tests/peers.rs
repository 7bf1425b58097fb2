//! `fanout peers` end to end: the Python peers beside fanout's strategies, on a small
//! scenario. Where Python or its packages are not available the command says so and
//! skips; these tests then check that it said so and exited cleanly.

use std::process::Command;

/// Runs `fanout peers` with `args` and `--json`: every run, or `None` when the Python
/// peers were skipped (and the command said so).
fn peers(args: &[&str]) -> Option<Vec<serde_json::Value>> {
    let output = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .arg("peers")
        .args(args)
        .arg("--json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    if output.stdout.is_empty() {
        assert!(stderr.contains("Python peers skipped"), "{stderr}");
        eprintln!("skipped: {stderr}");
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    Some(json["runs"].as_array().unwrap().clone())
}

#[test]
fn the_peers_run_beside_fanout_or_say_why_not() {
    let Some(runs) = peers(&[
        "-n",
        "20",
        "--delay",
        "20ms",
        "--limit",
        "5",
        "--sequential-n",
        "3",
        "--sequential-delay",
        "10ms",
    ]) else {
        return;
    };
    let runs = &runs;
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

#[test]
fn the_peers_trust_the_mock_apis_ca_and_pay_the_same_network() {
    // TLS 1.3 over a 10 ms round trip: every client, Rust or Python, must trust the CA
    // made at the server's start (an untrusted one would end as `tls`), and each
    // pays the handshake's round trips on every connection it opens.
    let rtt_ms = 10.0;
    let Some(runs) = peers(&[
        "-n",
        "6",
        "--delay",
        "10ms",
        "--limit",
        "3",
        "--sequential-n",
        "2",
        "--sequential-delay",
        "5ms",
        "--rtt",
        "10ms",
        "--tls",
        "1.3",
    ]) else {
        return;
    };
    assert_eq!(runs.len(), 5 + 7, "5 fanout strategies and 7 peer runs");
    for run in &runs {
        let summary = &run["summary"];
        let n = summary["n"].as_u64().unwrap();
        assert_eq!(summary["outcomes"]["ok"], n, "{}: {summary}", run["label"]);
        assert_eq!(summary["server"]["received"], n, "{}", run["label"]);
        // A first request on a fresh TLS 1.3 connection waits TCP's round trip, TLS's,
        // and its own: at least 3 RTT, whoever the client (loose: a floor, no ceiling).
        let wall = summary["wall_ms"].as_f64().unwrap();
        assert!(wall >= 3.0 * rtt_ms, "{}: wall {wall} ms", run["label"]);
    }
}
