//! `fanout serve` keeps its memory flat: the real binary, ~200,000 keep-alive requests
//! over 50 connections, and its resident memory read from `/proc` after a warm-up and
//! at the end. A ledger that kept one entry per request (~78 bytes) grew by ~14 MB
//! here; an aggregating one does not grow at all.
//!
//! Linux only (`/proc/PID/status`). It loads both cores for 10–30 s; every wait in it
//! has a deadline, and the server is killed when the test ends, however it ends.
//! `FANOUT_SOAK_EXE=/path/to/fanout` points it at another build (to check that it
//! fails against one that grows).

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 50;
const REQUESTS: u64 = 200_000;
const WARM_UP: u64 = 20_000;
/// The load stops here even if the requests are not all sent; the server itself
/// stops at 60 s.
const LOAD_DEADLINE: Duration = Duration::from_secs(45);
/// Growth allowed between the two samples, in kB.
const GROWTH_KB: u64 = 8 * 1024;

/// Kills the server when dropped, so a failed assertion leaves nothing running.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line")
}

/// Starts `fanout serve` on a free port and returns it with its address.
fn start_server() -> (Server, String) {
    let exe = std::env::var("FANOUT_SOAK_EXE")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_fanout").to_string());
    let mut child = Command::new(exe)
        .args([
            "serve",
            "--delay",
            "0ms",
            "--port",
            "0",
            "--duration",
            "60s",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let server = Server(child);
    let mut first = String::new();
    stdout
        .read_line(&mut first)
        .expect("the server's first line");
    // Keep reading: a server whose stdout closes dies of the broken pipe on its next line.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"));
    (server, url.trim_start_matches("http://").to_string())
}

/// One keep-alive connection sending GETs one after another until `sent` reaches
/// `REQUESTS` or the deadline passes.
fn drive(addr: &str, sent: &AtomicU64, deadline: Instant) {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.set_nodelay(true).expect("nodelay");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let request = format!("GET /soak HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let mut reader = BufReader::new(stream.try_clone().expect("clones"));
    let mut line = String::new();
    let mut body = Vec::new();
    while Instant::now() < deadline && sent.fetch_add(1, Ordering::Relaxed) < REQUESTS {
        stream.write_all(request.as_bytes()).expect("writes");
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).expect("reads a header line");
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().expect("a content length");
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body).expect("reads the body");
    }
}

#[test]
fn serve_memory_stays_flat_under_keep_alive_load() {
    let (server, addr) = start_server();
    let pid = server.0.id();
    let sent = AtomicU64::new(0);
    let deadline = Instant::now() + LOAD_DEADLINE;
    let (warm_kb, warm_sent, end_kb, end_sent) = std::thread::scope(|scope| {
        let drivers: Vec<_> = (0..CONNECTIONS)
            .map(|_| scope.spawn(|| drive(&addr, &sent, deadline)))
            .collect();
        while sent.load(Ordering::Relaxed) < WARM_UP && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let (warm_kb, warm_sent) = (rss_kb(pid), sent.load(Ordering::Relaxed));
        for driver in drivers {
            driver.join().expect("a driver thread");
        }
        let end_sent = sent.load(Ordering::Relaxed).min(REQUESTS);
        (warm_kb, warm_sent, rss_kb(pid), end_sent)
    });
    let measured = end_sent.saturating_sub(warm_sent);
    assert!(
        measured >= REQUESTS / 2,
        "only {measured} requests after the warm-up within {LOAD_DEADLINE:?}"
    );
    let growth_kb = end_kb.saturating_sub(warm_kb);
    let per_request = growth_kb as f64 * 1024.0 / measured as f64;
    eprintln!(
        "VmRSS {warm_kb} kB after {warm_sent} requests, {end_kb} kB after {end_sent}: {per_request:.1} bytes per request"
    );
    assert!(
        growth_kb < GROWTH_KB && per_request < 20.0,
        "the server grew by {growth_kb} kB over {measured} requests ({per_request:.1} bytes each)"
    );
}
