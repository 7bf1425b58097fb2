//! The mock API in a child process, and the small line protocol that drives it.
//!
//! The parent starts `fanout serve --control stdio` and writes the server's config as
//! one JSON line on its stdin (not on the command line: a profile may carry API keys,
//! and any local user can read another process's arguments). The child starts an
//! in-process server, prints one JSON line (`{"url": "…"}`, `{"tls": {"url": "https://…",
//! "ca_pem": "…"}}` or `{"error": "…"}`), then
//! reads commands from stdin, one per line:
//!
//! - `ledger`: the child prints the ledger as one JSON line;
//! - end of input: the child stops.
//!
//! Talking over stdio instead of HTTP keeps the ledger request out of the ledger.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ledger::{LedgerMode, LedgerRecord};
use super::tls::CaCertificate;
use super::{InProcessServer, ServerConfig};
use crate::error::Error;

/// The child's first line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Hello {
    Url(String),
    /// An HTTPS server: its URL and the certificate of the CA it was made with (the
    /// certificate only: the keys never leave the child).
    Tls {
        url: String,
        ca_pem: String,
    },
    /// The start-up error, and whether it was the user's input.
    Error {
        message: String,
        port_in_use: Option<u16>,
    },
}

/// The parent's handle on a child server.
pub(super) struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl ChildServer {
    /// Starts the child and waits for its Hello: the server, its URL, and its CA
    /// certificate when it serves TLS.
    pub(super) fn start(
        exe: &Path,
        config: &ServerConfig,
    ) -> Result<(ChildServer, String, Option<CaCertificate>), Error> {
        let config_json = serde_json::to_string(config).expect("a config always serialises");
        let mut command = Command::new(exe);
        // A process group of its own: a Ctrl-C at the terminal goes to fanout, which
        // stops its run gracefully, and not to the server its requests are still
        // talking to. It ends with its stdin (see `Drop`).
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .args(["serve", "--control", "stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| Error::io(format!("starting the mock API ({})", exe.display()), e))?;
        let mut stdin = child.stdin.take();
        if let Some(pipe) = stdin.as_mut() {
            writeln!(pipe, "{config_json}")
                .and_then(|_| pipe.flush())
                .map_err(|e| Error::io("sending the mock API its config", e))?;
        }
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut server = ChildServer {
            child,
            stdin,
            stdout,
        };
        let hello: Hello = server.read_line("start-up")?;
        match hello {
            Hello::Url(url) => Ok((server, url, None)),
            Hello::Tls { url, ca_pem } => {
                let ca = CaCertificate::from_pem(&ca_pem)?;
                Ok((server, url, Some(ca)))
            }
            Hello::Error {
                port_in_use: Some(port),
                ..
            } => Err(Error::PortInUse { port }),
            Hello::Error { message, .. } => Err(Error::Server(message)),
        }
    }

    pub(super) fn ledger(&mut self) -> Result<LedgerRecord, Error> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| Error::Server("the child server was already stopped".to_string()))?;
        writeln!(stdin, "ledger")
            .and_then(|_| stdin.flush())
            .map_err(|e| Error::io("asking the child server for its ledger", e))?;
        self.read_line("ledger")
    }

    fn read_line<T: for<'de> Deserialize<'de>>(&mut self, what: &str) -> Result<T, Error> {
        let mut line = String::new();
        let read = self
            .stdout
            .read_line(&mut line)
            .map_err(|e| Error::io(format!("reading the child server's {what}"), e))?;
        if read == 0 {
            return Err(Error::Server(format!(
                "the child server exited before sending its {what}"
            )));
        }
        serde_json::from_str(&line)
            .map_err(|e| Error::Server(format!("the child server's {what} did not parse: {e}")))
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side: read the config from stdin's first line, serve it, and answer
/// ledger requests on stdin until it closes.
pub fn serve_control_stdio() -> Result<(), Error> {
    let config: ServerConfig = crate::bounded::read_json_line("the config from the parent")?;
    let config = &config;
    let stdout = std::io::stdout();
    let say = |line: &str| {
        let mut out = stdout.lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let started = if config.ledger == LedgerMode::Recording {
        InProcessServer::start(config)
    } else {
        // The parent joins the ledger entry by entry: it must get every entry.
        Err(Error::Internal(
            "a child server records every ledger entry; it cannot aggregate".to_string(),
        ))
    };
    let server = match started {
        Ok(server) => server,
        Err(error) => {
            let port_in_use = match error {
                Error::PortInUse { port } => Some(port),
                _ => None,
            };
            let hello = Hello::Error {
                message: error.to_string(),
                port_in_use,
            };
            say(&serde_json::to_string(&hello).expect("serialises"));
            return Err(error);
        }
    };
    let hello = match &server.tls {
        Some(tls) => Hello::Tls {
            url: server.url(),
            ca_pem: tls.ca().pem().to_string(),
        },
        None => Hello::Url(server.url()),
    };
    say(&serde_json::to_string(&hello).expect("serialises"));
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        if line.trim() == "ledger" {
            let record = server.ledger.snapshot().unwrap_or_default();
            say(&serde_json::to_string(&record).expect("serialises"));
        }
    }
    Ok(())
}
