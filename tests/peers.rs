//! `fanout peers` end to end: the Python peers and the load tools beside fanout's
//! strategies, on small scenarios. Where Python or its packages are not available, or
//! a load tool is not on `PATH`, the command says so and skips those peers; these tests
//! then check that it said so and that fanout's own rows still ran.

use std::process::Command;

/// The Python peers only: the load tools' rows depend on what `PATH` holds.
const PYTHON_PEERS: &str = "aiohttp,httpx,httpx2,niquests,requests";

/// Runs `fanout peers` with `args` and `--json`: every run and what it said on stderr.
fn peers_said(args: &[&str]) -> (Vec<serde_json::Value>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .arg("peers")
        .args(args)
        .arg("--json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    (json["runs"].as_array().unwrap().clone(), stderr)
}

/// [`peers_said`] with the Python peers: the runs, or `None` when the Python peers were
/// skipped (and the command said so, and fanout's own five rows ran all the same).
fn peers(args: &[&str]) -> Option<Vec<serde_json::Value>> {
    let mut args = args.to_vec();
    args.extend(["--peers", PYTHON_PEERS]);
    let (runs, stderr) = peers_said(&args);
    if runs.iter().all(|r| r["kind"] == "fanout") {
        assert!(stderr.contains("Python peers skipped"), "{stderr}");
        assert_eq!(runs.len(), 5 + 2, "{stderr}");
        eprintln!("skipped: {stderr}");
        return None;
    }
    Some(runs)
}

/// Every request of every client reached the server once and ended once.
fn assert_each_request_ended_once(run: &serde_json::Value) {
    let summary = &run["summary"];
    let n = summary["n"].as_u64().unwrap();
    assert_eq!(summary["server"]["received"], n, "{}", run["label"]);
    let ended: u64 = summary["outcomes"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(ended, n, "{}", run["label"]);
}

/// The throughput scenario, kept small.
const SMALL_THROUGHPUT: [&str; 4] = ["--throughput-n", "200", "--throughput-in-flight", "4"];

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
        SMALL_THROUGHPUT[0],
        SMALL_THROUGHPUT[1],
        SMALL_THROUGHPUT[2],
        SMALL_THROUGHPUT[3],
    ]) else {
        return;
    };
    let runs = &runs;
    let python: Vec<&serde_json::Value> = runs.iter().filter(|r| r["kind"] == "python").collect();
    assert_eq!(runs.len(), 7 + 9, "7 fanout strategy runs and 9 peer runs");
    assert_eq!(python.len(), 9);
    for library in ["httpx2 ", "niquests "] {
        assert!(
            python
                .iter()
                .any(|r| r["library"].as_str().unwrap().starts_with(library)),
            "a run on {library}"
        );
    }
    for run in runs {
        assert_each_request_ended_once(run);
    }
    // The limited patterns held their limit at the server.
    let limited = |label: &str| label.ends_with("(limit)") || label.ends_with("--limit 5");
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
        SMALL_THROUGHPUT[0],
        SMALL_THROUGHPUT[1],
        SMALL_THROUGHPUT[2],
        SMALL_THROUGHPUT[3],
    ]) else {
        return;
    };
    assert_eq!(runs.len(), 7 + 9, "7 fanout strategy runs and 9 peer runs");
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

#[test]
fn the_load_tools_run_beside_fanout_when_installed_or_say_how_to_install_them() {
    let (runs, stderr) = peers_said(&[
        "-n",
        "20",
        "--delay",
        "20ms",
        "--sequential-n",
        "2",
        "--sequential-delay",
        "5ms",
        SMALL_THROUGHPUT[0],
        SMALL_THROUGHPUT[1],
        SMALL_THROUGHPUT[2],
        SMALL_THROUGHPUT[3],
        "--peers",
        "oha,wrk",
    ]);
    let tools: Vec<_> = runs.iter().filter(|r| r["kind"] == "load-tool").collect();
    // oha runs in two scenarios, wrk in the throughput one; a missing tool says how to
    // get it.
    let oha = tools
        .iter()
        .filter(|r| r["label"].as_str().unwrap().starts_with("oha"))
        .count();
    let wrk = tools
        .iter()
        .filter(|r| r["label"].as_str().unwrap().starts_with("wrk"))
        .count();
    for (name, runs, expected) in [("oha", oha, 2), ("wrk", wrk, 1)] {
        if runs == 0 {
            assert!(
                stderr.contains(&format!(
                    "{name} skipped: not found on PATH (install it with: "
                )),
                "{stderr}"
            );
        } else {
            assert_eq!(runs, expected, "{name}");
        }
    }
    assert_eq!(runs.len(), 7 + oha + wrk);
    for run in &runs {
        assert_each_request_ended_once(run);
    }
    for run in &tools {
        let summary = &run["summary"];
        let (ok, n) = (
            summary["outcomes"]["ok"].as_u64().unwrap_or(0),
            summary["n"].as_u64().unwrap(),
        );
        if run["label"].as_str().unwrap().starts_with("wrk") {
            // When its time is up wrk closes its connections with a request in flight
            // on some: the server saw those and answered nobody (`dropped`), at most
            // one per connection.
            assert!(ok + 4 >= n, "{}: {ok} of {n} ok", run["label"]);
        } else {
            assert_eq!(ok, n, "{}", run["label"]);
        }
        assert!(
            summary["server"]["peak_in_flight"].as_u64().unwrap() <= 20,
            "{}",
            run["label"]
        );
    }
}
