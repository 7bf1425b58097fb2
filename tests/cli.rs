//! The real binary: bad input gets one clear line and exit code 2, never a panic; good
//! input prints the documented JSON.

use std::process::{Command, Output};

fn fanout(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Asserts exit code 2 and a single stderr line that mentions `needle`.
fn refused(args: &[&str], needle: &str) {
    let output = fanout(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(
        stderr.contains(needle),
        "{args:?}: expected '{needle}' in: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    assert!(!stderr.contains("backtrace"), "{args:?}: {stderr}");
    let first_lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(first_lines.len(), 1, "{args:?}: one error line: {stderr}");
}

#[test]
fn zero_and_negative_counts_are_refused() {
    refused(&["run", "-n", "0"], "at least 1");
    refused(&["run", "-n", "-5"], "at least 1");
    refused(
        &["run", "--limit", "0", "-s", "async-semaphore"],
        "at least 1",
    );
    refused(&["compare", "--threads", "0"], "at least 1");
    refused(&["run", "-n", "100000000000"], "at most");
    refused(
        &["run", "--limit", "99999999999", "-s", "async-semaphore"],
        "at most",
    );
}

#[test]
fn bad_durations_are_refused_with_the_reason() {
    refused(&["run", "--delay", "soon"], "invalid duration");
    refused(&["run", "--delay", "-5ms"], "negative");
    refused(&["run", "--delay", "uniform:2s..1s"], "first bound");
    refused(&["run", "--deadline", "0s"], "above zero");
    refused(&["run", "--delay", "100000s"], "longer than a day");
}

#[test]
fn bad_networks_are_refused_with_the_reason() {
    refused(&["run", "--rtt", "-1ms"], "negative");
    refused(&["run", "--rtt", "11s"], "above the 10s limit");
    refused(&["run", "--jitter", "soon"], "invalid duration");
    refused(&["run", "--bandwidth", "0"], "above zero");
    refused(
        &["serve", "--bandwidth", "10parsecs"],
        "unknown bandwidth unit",
    );
    refused(&["sweep", "--network", "moon"], "continent");
    refused(&["peers", "--network", "moon"], "possible values");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("far.toml");
    std::fs::write(
        &path,
        "[[endpoint]]\nname='a'\npath='/a'\nlatency='1ms'\n[network]\npreset='moon'\n",
    )
    .unwrap();
    refused(&["run", "--profile", path.to_str().unwrap()], "moon");
}

#[test]
fn unknown_strategy_is_refused() {
    refused(&["run", "--strategy", "async-telepathy"], "async-telepathy");
    refused(&["compare", "--strategies", "sync-sequential,nope"], "nope");
}

#[test]
fn http2_with_a_sync_strategy_is_refused() {
    refused(&["run", "-s", "sync-threads", "--http", "2"], "HTTP/2");
}

#[test]
fn http2_with_the_hyper_direct_strategy_is_refused() {
    refused(
        &["run", "-s", "async-hyper", "--http", "2"],
        "async-hyper speaks HTTP/1.1 only",
    );
}

#[test]
fn an_unknown_peer_is_refused_in_one_line() {
    refused(&["peers", "--peers", "aiohttp,curl"], "curl");
}

#[test]
fn bad_tls_input_is_refused_in_one_line() {
    // The versions offered are named.
    refused(&["run", "--tls", "1.1"], "1.3, 1.2");
    refused(&["serve", "--tls", "1.1"], "1.3, 1.2");
    refused(
        &["run", "--tls", "1.3", "--engine", "wiremock"],
        "wiremock cannot serve --tls 1.3: it has no TLS",
    );
    refused(
        &[
            "serve", "--tls", "1.2", "--engine", "wiremock", "--port", "0",
        ],
        "it has no TLS",
    );
    refused(
        &["run", "--tls", "1.3", "-s", "sync-threads", "--http", "2"],
        "over TLS too",
    );
    refused(&["serve", "--ca-out", "/tmp/x.pem"], "--tls");
    // Resumption and keep-alive take on or off; resumption needs TLS to mean anything.
    refused(
        &["run", "--tls", "1.2", "--tls-resumption", "maybe"],
        "on, off",
    );
    refused(&["run", "--tls-resumption", "off"], "--tls <TLS>");
    refused(
        &["serve", "--tls-resumption", "on", "--port", "0"],
        "--tls <TLS>",
    );
    refused(&["peers", "--tls-resumption", "off"], "--tls <TLS>");
    refused(
        &[
            "run",
            "--target",
            "http://127.0.0.1:9/",
            "--i-own-this-server",
            "--server-keep-alive",
            "off",
        ],
        "not the mock API",
    );
    refused(&["sweep", "--server-keep-alive", "sometimes"], "on, off");
    refused(
        &["run", "--server-keep-alive", "off", "--engine", "wiremock"],
        "wiremock cannot serve --server-keep-alive off",
    );
    // The peers take the same flag, refused the same way before any Python runs.
    refused(&["peers", "--tls", "1.1"], "1.3, 1.2");
    refused(
        &["peers", "--tls", "1.3", "--engine", "wiremock"],
        "it has no TLS",
    );
    refused(&["peers", "--rtt", "-1ms", "--tls", "1.2"], "negative");
}

#[test]
fn broken_profiles_are_refused() {
    let dir = std::env::temp_dir().join(format!("fanout-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        "[[endpoint]]\nname = 'a'\npath = '/a'\nlatency = 'whenever'\n",
    )
    .unwrap();
    refused(
        &["run", "--profile", broken.to_str().unwrap()],
        "broken.toml",
    );
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    refused(&["run", "--profile", empty.to_str().unwrap()], "endpoint");
    refused(
        &["run", "--profile", "/nonexistent/profile.toml"],
        "profile.toml",
    );
}

#[test]
fn a_port_in_use_is_refused() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    refused(
        &["serve", "--port", &port, "--duration", "1s"],
        "already in use",
    );
}

#[test]
fn too_few_file_descriptors_is_refused_before_sending() {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_fanout"));
    command.args([
        "run",
        "-n",
        "1000",
        "--server",
        "in-process",
        "--delay",
        "1ms",
    ]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            rlimit::setrlimit(rlimit::Resource::NOFILE, 256, 256).map_err(std::io::Error::other)
        });
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("file descriptors"), "{stderr}");
    assert!(stderr.contains("256"), "names the limit: {stderr}");
}

#[test]
fn run_json_follows_the_documented_schema() {
    let output = fanout(&[
        "run",
        "-s",
        "async-semaphore",
        "-n",
        "12",
        "--delay",
        "5ms",
        "--limit",
        "4",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["strategy"], "async-semaphore");
    assert_eq!(run["n"], 12);
    assert_eq!(run["limit"], 4);
    assert_eq!(run["outcomes"]["ok"], 12);
    assert!(
        run["wall_ms"].as_f64().unwrap() >= 15.0,
        "three waves of 5 ms"
    );
    for key in ["p50", "p90", "p99", "max"] {
        assert!(
            run["latency_ms"][key].as_f64().unwrap() >= 5.0,
            "latency_ms.{key}"
        );
    }
    assert_eq!(run["server"]["received"], 12);
    assert_eq!(run["server"]["peak_in_flight"], 4);
    assert_eq!(run["server"]["max_per_second"], 12);
    assert!(run["server"]["connections"].as_u64().unwrap() <= 8);
}

#[test]
fn compare_json_lists_one_run_per_strategy() {
    let output = fanout(&[
        "compare",
        "--strategies",
        "sync-sequential,async-concurrent",
        "-n",
        "5",
        "--delay",
        "20ms",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let runs = value["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["strategy"], "sync-sequential");
    assert_eq!(runs[1]["strategy"], "async-concurrent");
    assert!(runs[1]["wall_ms"].as_f64().unwrap() < runs[0]["wall_ms"].as_f64().unwrap());
}

#[test]
fn compare_prints_a_table_with_speedups() {
    let output = fanout(&[
        "compare",
        "--strategies",
        "async-sequential,async-concurrent",
        "-n",
        "4",
        "--delay",
        "20ms",
    ]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("speedup"), "{text}");
    assert!(text.contains("async-concurrent"), "{text}");
    assert!(text.contains("1.00x"), "{text}");
}

#[test]
fn compare_out_writes_a_waterfall_per_strategy_named_for_the_network() {
    let dir = std::env::temp_dir().join(format!("fanout-compare-out-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let output = fanout(&[
        "compare",
        "--strategies",
        "async-sequential,async-concurrent",
        "-n",
        "3",
        "--delay",
        "10ms",
        "--network",
        "lan",
        "--tls",
        "1.3",
        "--out",
        out,
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("net out p99"), "{table}");
    for strategy in ["async-sequential", "async-concurrent"] {
        let svg = std::fs::read_to_string(dir.join(format!("waterfall-{strategy}.svg"))).unwrap();
        for name in ["TCP connect", "TLS", "network out", "network back"] {
            assert!(svg.contains(name), "{strategy}: {name}");
        }
    }
    assert!(dir.join("timeline.svg").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn serve_answers_any_client_and_reports_its_ledger() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args([
            "serve",
            "--port",
            &port.to_string(),
            "--delay",
            "5ms",
            "--duration",
            "2s",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder().proxy(None).build().into();
    let url = format!("http://127.0.0.1:{port}/any/path?seq=3");
    let mut answered = None;
    for _ in 0..100 {
        if let Ok(mut response) = agent.get(&url).call() {
            answered = Some(response.body_mut().read_to_string().unwrap());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let body = answered.expect("serve answers within 2 s");
    assert!(body.contains("\"seq\":3"), "{body}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(&format!("http://127.0.0.1:{port}")), "{text}");
    assert!(text.contains("served 1 requests"), "{text}");
}

#[test]
fn api_keys_in_query_strings_never_reach_the_output() {
    let dir = std::env::temp_dir().join(format!("fanout-secret-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = dir.join("news.toml");
    std::fs::write(
        &profile,
        "[[endpoint]]\nname = 'newsapi'\npath = '/v2/top-headlines'\nquery = 'country=us&apiKey=sekrit-123'\nlatency = '5ms'\n",
    )
    .unwrap();
    let profile = profile.to_str().unwrap();
    for args in [
        vec!["run", "-n", "3", "--profile", profile],
        vec!["run", "-n", "3", "--profile", profile, "--json"],
        vec![
            "compare",
            "--strategies",
            "sync-sequential,async-concurrent",
            "-n",
            "2",
            "--profile",
            profile,
        ],
        vec![
            "serve",
            "--port",
            "0",
            "--profile",
            profile,
            "--duration",
            "200ms",
        ],
    ] {
        let output = fanout(&args);
        assert!(output.status.success(), "{args:?}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            !all.contains("sekrit-123"),
            "{args:?} leaked the key: {all}"
        );
        if args[0] == "serve" {
            assert!(all.contains("apiKey=REDACTED"), "{all}");
        }
    }
}

#[test]
fn a_target_is_refused_without_consent_and_over_tls() {
    refused(
        &[
            "run",
            "-n",
            "3",
            "--target",
            "http://127.0.0.1:9/items?apiKey=s3cret",
        ],
        "--i-own-this-server",
    );
    let output = fanout(&["run", "--target", "http://127.0.0.1:9/?apiKey=s3cret"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("s3cret"));
    refused(
        &[
            "run",
            "--target",
            "https://127.0.0.1:9/",
            "--i-own-this-server",
        ],
        "TLS",
    );
    refused(
        &[
            "sweep",
            "--target",
            "http://127.0.0.1:9/",
            "--i-own-this-server",
        ],
        "mock API only",
    );
    refused(&["run", "--i-own-this-server"], "--target");
}

#[test]
fn sweep_json_names_each_point_and_the_knee() {
    let output = fanout(&[
        "sweep",
        "--range",
        "1..20",
        "--points",
        "3",
        "--delay",
        "20ms",
        "--server",
        "in-process",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sweep: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let values: Vec<u64> = sweep["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["value"].as_u64().unwrap())
        .collect();
    assert_eq!(values, vec![1, 4, 20]);
    for point in sweep["points"].as_array().unwrap() {
        let n = point["value"].as_u64().unwrap();
        assert_eq!(point["summary"]["n"], n);
        assert_eq!(point["summary"]["outcomes"]["ok"], n);
        assert_eq!(point["summary"]["server"]["received"], n);
        assert!(point["efficiency_vs_promise"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(sweep["knees"][0][0], "async-concurrent");
    refused(&["sweep", "--range", "10..1"], "after its end");
    refused(&["sweep", "--points", "0"], "at least 1");
    refused(&["sweep", "--points", "99"], "between 1 and 50");
    refused(&["sweep", "--range", "ten"], "not a range");
}

#[test]
fn an_rtt_sweep_runs_each_client_setup_at_each_round_trip() {
    let output = fanout(&[
        "sweep",
        "--over",
        "rtt",
        "--range",
        "0..20",
        "--points",
        "2",
        "-n",
        "4",
        "--delay",
        "10ms",
        "--strategies",
        "async-semaphore",
        "--limit",
        "2",
        "--clients",
        "shared-h1,per-request-h1,shared-h2",
        "--server",
        "in-process",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sweep: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let points = sweep["points"].as_array().unwrap();
    let seen: Vec<(String, u64)> = points
        .iter()
        .map(|p| {
            let series = p["series"].as_str().unwrap().to_string();
            (series, p["value"].as_u64().unwrap())
        })
        .collect();
    let expected: Vec<(String, u64)> = ["shared-h1", "per-request-h1", "shared-h2"]
        .iter()
        .flat_map(|s| [(s.to_string(), 0), (s.to_string(), 20)])
        .collect();
    assert_eq!(seen, expected);
    for point in points {
        assert_eq!(point["summary"]["outcomes"]["ok"], 4);
    }
    // The server counts what each setup opened: a connection per request, or one in all.
    let connections = |series: &str| {
        points
            .iter()
            .filter(|p| p["series"] == series)
            .map(|p| p["summary"]["server"]["connections"].as_u64().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(connections("per-request-h1"), [4, 4]);
    // hyper's pool waits for its one HTTP/2 connection, but a request that checks out
    // before the first connect has registered can open a second on a busy machine.
    for opened in connections("shared-h2") {
        assert!(
            (1..=2).contains(&opened),
            "HTTP/2 opened {opened} connections"
        );
    }
}

#[test]
fn bad_rtt_sweeps_are_refused_in_one_line() {
    refused(&["sweep", "--over", "rtt", "--range", "-5..10"], "negative");
    refused(
        &["sweep", "--over", "rtt", "--range", "0..20000"],
        "longest round trip",
    );
    refused(&["sweep", "--over", "n", "--range", "0..10"], "at least 1");
    refused(&["sweep", "--clients", "pooled"], "not a client setup");
    refused(
        &[
            "sweep",
            "--over",
            "rtt",
            "--strategies",
            "sync-sequential",
            "--clients",
            "shared-h2",
        ],
        "async strategy",
    );
}

/// Asserts exit code 2, exactly one line on stderr that mentions `needle`, no panic,
/// and `secret` nowhere in stdout or stderr.
fn refused_in_one_line(args: &[&str], needle: &str, secret: &str) {
    let output = fanout(args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: '{needle}' in {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(secret),
            "{args:?}: the secret leaked: {text}"
        );
    }
}

#[test]
fn a_url_one_client_cannot_send_is_refused_for_every_strategy() {
    for strategy in ["sync-sequential", "sync-threads", "async-concurrent"] {
        refused_in_one_line(
            &[
                "run",
                "-s",
                strategy,
                "--target",
                "http://127.0.0.1:9/a b?apiKey=hunter2",
                "--i-own-this-server",
                "-n",
                "1",
            ],
            "percent-encode",
            "hunter2",
        );
    }
    let profile = std::env::temp_dir().join(format!("fanout-space-{}.toml", std::process::id()));
    std::fs::write(
        &profile,
        "[[endpoint]]\nname = \"spaced\"\npath = \"/a b\"\nlatency = \"1ms\"\n",
    )
    .unwrap();
    refused_in_one_line(
        &[
            "run",
            "-s",
            "sync-sequential",
            "--profile",
            profile.to_str().unwrap(),
        ],
        "spaced",
        "hunter2",
    );
    std::fs::remove_file(&profile).unwrap();
}

#[test]
fn credentials_and_impossible_ports_in_a_target_are_refused_unechoed() {
    let with_password = "http://user:hunter2@127.0.0.1:9/";
    for consent in [true, false] {
        let mut args = vec!["run", "-n", "1", "--target", with_password];
        if consent {
            args.push("--i-own-this-server");
        }
        let needle = if consent {
            "password"
        } else {
            "--i-own-this-server"
        };
        refused_in_one_line(&args, needle, "hunter2");
    }
    refused_in_one_line(
        &[
            "compare",
            "-n",
            "1",
            "--target",
            "http://127.0.0.1:99999/",
            "--i-own-this-server",
        ],
        "65535",
        "hunter2",
    );
}

#[test]
fn an_unwritable_out_dir_is_refused_before_anything_runs() {
    // A path under a regular file cannot be a directory, even for root.
    let file = std::env::temp_dir().join(format!("fanout-out-{}", std::process::id()));
    std::fs::write(&file, b"x").unwrap();
    let out = file.join("report");
    let out = out.to_str().unwrap();
    let started = std::time::Instant::now();
    refused_in_one_line(&["claims", "--out", out], "--out", "hunter2");
    refused_in_one_line(
        &["sweep", "--range", "1..10", "--out", out],
        "--out",
        "hunter2",
    );
    refused_in_one_line(&["peers", "--out", out], "--out", "hunter2");
    // Nothing was measured first: the catalogue alone takes most of a minute.
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn odd_inputs_found_by_a_hunt_get_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("fanout-hunt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let hash = write(
        "hash.toml",
        "[[endpoint]]\nname = \"a\"\npath = \"/a#b\"\nlatency = \"1ms\"\n",
    );
    let zero_limit = write(
        "zero.toml",
        "[[endpoint]]\nname = \"a\"\npath = \"/a\"\nlatency = \"1ms\"\n[limits]\nmax_per_second = 0\n",
    );
    let informational = write(
        "status.toml",
        "[[endpoint]]\nname = \"a\"\npath = \"/a\"\nlatency = \"1ms\"\nstatus = 101\n",
    );
    let mut many = String::new();
    for i in 0..2000 {
        many.push_str(&format!(
            "[[endpoint]]\nname = \"e{i}\"\npath = \"/e{i}\"\nlatency = \"1ms\"\n"
        ));
    }
    let many = write("many.toml", &many);
    let cases: [(&[&str], &str); 9] = [
        (&["run", "--profile", &hash], "percent-encode"),
        (&["run", "--profile", &zero_limit], "max_per_second"),
        (&["run", "--profile", &informational], "200-599"),
        (&["run", "--profile", &many], "at most 1024"),
        (
            &["run", "-s", "async-ratelimited", "--rate", "1e-300"],
            "--rate",
        ),
        (
            &["run", "-s", "async-ratelimited", "--rate", "1e10"],
            "--rate",
        ),
        (
            &[
                "run",
                "--target",
                "http://127.0.0.1:9/a\nb?apiKey=hunter2",
                "--i-own-this-server",
            ],
            "\\n",
        ),
        (&["run", "-n", "1000001"], "at most"),
        (
            &[
                "sweep",
                "--strategies",
                "async-ratelimited",
                "--rate",
                "1e-300",
                "--range",
                "1..2",
            ],
            "--rate",
        ),
    ];
    for (args, needle) in cases {
        refused_in_one_line(args, needle, "hunter2");
    }
    let output = fanout(&["serve", "--workers", "99999999", "--duration", "1s"]);
    assert_eq!(output.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_after_gather_input_is_refused_in_one_line() {
    refused(
        &["run", "-s", "async-first-of", "--replicas", "1"],
        "at least 2",
    );
    refused(
        &["run", "-s", "async-first-of", "--replicas", "0"],
        "at least 2",
    );
    refused(
        &["run", "-s", "async-hedged", "--hedge-after", "p0"],
        "above p0",
    );
    refused(
        &["run", "-s", "async-hedged", "--hedge-after", "p100"],
        "below p100",
    );
    refused(
        &["run", "-s", "async-hedged", "--hedge-after", "-5ms"],
        "before its request",
    );
    refused(
        &["run", "-s", "async-hedged", "--hedge-after", "soon"],
        "neither",
    );
    refused(
        &["run", "-s", "async-pipeline", "--channel", "0"],
        "at least 1 body",
    );
    refused(
        &["run", "-s", "async-pipeline", "--consumers", "0"],
        "at least 1",
    );
    refused(&["run", "--stop-after", "0s"], "above zero");
    refused(&["run", "--grace", "-1s"], "negative");
}
