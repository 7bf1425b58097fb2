//! The mock API: a local HTTP server on 127.0.0.1 whose endpoints answer after a
//! seeded delay, and which keeps a [`ledger`] of everything it served.
//!
//! Every command that needs a server starts a fresh one ([`MockApi::start`]) and stops
//! it when the handle drops, so one run's ledger never grows into the next and no user
//! ever sets anything up. It can run in two places ([`Placement`]):
//!
//! - **in-process**, on a runtime of its own, on threads of its own. The client's
//!   runtime and the server's never share a worker, so a client that blocks its
//!   threads cannot stall the server's timers. Tests and benches use this.
//! - **in a child process** (`fanout serve --control stdio`), which the CLI uses by
//!   default: a client and server in one process hold two file descriptors per
//!   connection, which stops a 10,000-request run at this machine's limit of 20,000,
//!   and the kernel schedules two processes more fairly than one. The parent asks the
//!   child for its ledger over stdin/stdout, so asking adds no connection to the count.
//!
//! Two engines can answer ([`Engine`]): fanout's own (`http.rs`) and wiremock
//! (`wiremock_engine.rs`); [`engine`] says what each serves and measures.
//!
//! Both engines serve behind the profile's emulated [`network`] (round trips, jitter,
//! bandwidth), applied to each connection by `link.rs`. With `--tls`
//! ([`ServerConfig::tls`]), fanout's engine serves HTTPS on a certificate made at start
//! ([`tls`]), its handshake passing through that link; [`MockApi::ca_certificate`] is
//! what its clients must trust. [`ServerConfig::tls_resumption`] says whether a client
//! may resume a session, and [`ServerConfig::keep_alive`] whether an HTTP/1.1
//! connection outlives its first answer: off, every request opens a connection, which
//! is how a run shows what resumption saves.
//!
//! Read in order: [`latency`], [`profile`], [`network`], [`fault`], [`ledger`] and
//! [`aggregate`], [`engine`], then `link.rs` (the emulated network), `http.rs` (the
//! handler) and [`tls`].

pub mod aggregate;
mod attempts;
mod child;
pub mod engine;
pub mod fault;
mod http;
pub mod latency;
pub mod ledger;
mod link;
pub mod network;
pub mod profile;
pub mod stall;
pub mod tls;
mod wiremock_engine;

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use aggregate::AggregateSummary;
pub use child::serve_control_stdio;
pub use engine::{Engine, Figure};
use ledger::{Ledger, LedgerMode, LedgerRecord};
use profile::Profile;
use tls::{CaCertificate, ServerTls, SessionResumption, TlsVersion};

use crate::error::Error;

/// HTTP/2's cap on concurrent streams per connection, hyper's default: past it, an
/// HTTP/2 client queues requests on its single connection and they go out in waves.
pub const DEFAULT_H2_MAX_STREAMS: u32 = 200;

/// What the mock API serves and how it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerConfig {
    /// The endpoints.
    pub profile: Profile,
    /// Seeds every latency draw.
    pub seed: u64,
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Worker threads of the server's own runtime.
    pub workers: usize,
    /// HTTP/2 streams allowed at once on one connection (fanout's engine).
    pub h2_max_streams: u32,
    /// Which HTTP server answers.
    #[serde(default)]
    pub engine: Engine,
    /// Whether the ledger keeps every entry (bounded runs) or aggregates (`serve`).
    #[serde(default)]
    pub ledger: LedgerMode,
    /// HTTPS with only this TLS version offered (`--tls`); `None`: plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsVersion>,
    /// Whether a TLS client may resume an earlier session (`--tls-resumption`).
    #[serde(default, skip_serializing_if = "SessionResumption::is_on")]
    pub tls_resumption: SessionResumption,
    /// Whether an HTTP/1.1 connection stays open after an answer
    /// (`--server-keep-alive`; HTTP/2 keeps its one connection either way).
    #[serde(default, skip_serializing_if = "KeepAlive::is_on")]
    pub keep_alive: KeepAlive,
}

/// Whether the mock API keeps an HTTP/1.1 connection open for the client's next
/// request (`--server-keep-alive`, on by default, as HTTP/1.1 has it). Off, it answers
/// with `Connection: close` and closes (hyper's `keep_alive(false)`), as a server
/// tuned against idle connections does: every request then opens a connection, and a
/// shared client resumes its TLS session on each one while a per-request client
/// cannot. Only fanout's engine can turn it off.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum KeepAlive {
    /// Connections stay open between requests.
    #[default]
    On,
    /// Each connection closes after its first answer.
    Off,
}

impl KeepAlive {
    /// True for the default, which the JSON leaves out.
    pub fn is_on(&self) -> bool {
        *self == KeepAlive::On
    }
}

impl ServerConfig {
    /// Refuses a config no server should start from: a broken profile, one the engine
    /// cannot serve, no workers or more than a run may ask for, no HTTP/2 streams.
    pub fn validate(&self) -> Result<(), Error> {
        self.profile.validate().map_err(Error::InvalidScenario)?;
        self.engine
            .serves(&self.profile)
            .map_err(Error::InvalidScenario)?;
        self.engine
            .serves_tls(self.tls)
            .map_err(Error::InvalidScenario)?;
        self.engine
            .serves_keep_alive(self.keep_alive)
            .map_err(Error::InvalidScenario)?;
        if !(1..=crate::scenario::MAX_THREADS).contains(&self.workers) || self.h2_max_streams == 0 {
            return Err(Error::InvalidScenario(format!(
                "the server needs 1 to {} workers and at least one HTTP/2 stream",
                crate::scenario::MAX_THREADS
            )));
        }
        Ok(())
    }

    /// A config on a free port with two workers and hyper's stream limit.
    pub fn new(profile: Profile, seed: u64) -> ServerConfig {
        ServerConfig {
            profile,
            seed,
            port: 0,
            workers: 2,
            h2_max_streams: DEFAULT_H2_MAX_STREAMS,
            engine: Engine::Fanout,
            ledger: LedgerMode::Recording,
            tls: None,
            tls_resumption: SessionResumption::On,
            keep_alive: KeepAlive::On,
        }
    }
}

/// Where the mock API runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On its own runtime and threads inside this process.
    InProcess,
    /// In a child process started from this executable (`fanout serve --control stdio`).
    Child {
        /// The fanout executable to start (`std::env::current_exe`, or the one a
        /// test builds).
        fanout_exe: PathBuf,
    },
}

impl Placement {
    /// Which kind of placement this is, without the child's executable.
    pub fn kind(&self) -> PlacementKind {
        match self {
            Placement::InProcess => PlacementKind::InProcess,
            Placement::Child { .. } => PlacementKind::ChildProcess,
        }
    }

    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// Where the server a run measured was, as a run's output records it: one of the two
/// [`Placement`]s fanout starts the mock API in, or a server it did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlacementKind {
    /// [`Placement::InProcess`].
    InProcess,
    /// [`Placement::Child`].
    ChildProcess,
    /// A mock API that was already up ([`crate::run::run_on`]): who started it, and
    /// where, is the caller's business.
    External,
    /// No mock API: the scenario's `--target`, a real server ([`crate::pipeline::run_target`]).
    Target,
}

impl PlacementKind {
    /// The name the reports and the JSON's `server_placement` use.
    pub fn name(self) -> &'static str {
        match self {
            PlacementKind::InProcess => "in-process",
            PlacementKind::ChildProcess => "child-process",
            PlacementKind::External => "external",
            PlacementKind::Target => "target",
        }
    }
}

/// A running mock API. Dropping it stops the server.
pub struct MockApi {
    url: String,
    /// The CA its certificate chains to, when it serves HTTPS.
    ca: Option<CaCertificate>,
    inner: Inner,
}

enum Inner {
    /// Boxed: its runtime handle, ledger and TLS make it four times the other's size.
    InProcess(Box<InProcessServer>),
    Child(child::ChildServer),
}

impl MockApi {
    /// Starts a fresh server and waits until it accepts connections. Installs ring as
    /// the process's rustls provider first, so a program that starts a mock API can
    /// build reqwest clients of its own next ([`crate::strategy::trust`] says why).
    pub fn start(config: &ServerConfig, placement: &Placement) -> Result<MockApi, Error> {
        crate::strategy::trust::install_crypto_provider();
        config.validate()?;
        match placement {
            Placement::InProcess => {
                let server = InProcessServer::start(config)?;
                Ok(MockApi {
                    url: server.url(),
                    ca: server.tls.as_ref().map(|tls| tls.ca().clone()),
                    inner: Inner::InProcess(Box::new(server)),
                })
            }
            Placement::Child { fanout_exe } => {
                let (server, url, ca) = child::ChildServer::start(fanout_exe, config)?;
                Ok(MockApi {
                    url,
                    ca,
                    inner: Inner::Child(server),
                })
            }
        }
    }

    /// The base URL, `http://127.0.0.1:PORT` (`https://` with TLS), without a trailing
    /// slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA certificate a client must trust to talk to this server over TLS (made
    /// when it started); `None` for a plain-HTTP server.
    pub fn ca_certificate(&self) -> Option<&CaCertificate> {
        self.ca.as_ref()
    }

    /// A copy of the ledger: every request served so far and the connection count.
    /// An error for a server whose ledger aggregates (it keeps no entries).
    pub fn ledger(&mut self) -> Result<LedgerRecord, Error> {
        match &mut self.inner {
            Inner::InProcess(server) => server.ledger.snapshot().ok_or_else(|| {
                Error::Internal("this server aggregates its ledger and keeps no entries".into())
            }),
            Inner::Child(server) => server.ledger(),
        }
    }

    /// What the server served so far, as running figures (what `fanout serve` prints).
    pub fn aggregate_summary(&mut self) -> Result<AggregateSummary, Error> {
        match &mut self.inner {
            Inner::InProcess(server) => Ok(server.ledger.aggregate_summary()),
            Inner::Child(server) => Ok(server.ledger()?.aggregate_summary()),
        }
    }
}

/// A server on its own runtime in this process.
struct InProcessServer {
    addr: std::net::SocketAddr,
    ledger: Arc<Ledger>,
    /// The certificate and acceptor, when it serves HTTPS.
    tls: Option<ServerTls>,
    running: Running,
}

/// What keeps the server alive; dropping it stops the server.
enum Running {
    Fanout {
        /// Dropping the sender tells the accept loop and every connection to stop.
        shutdown: Option<watch::Sender<()>>,
        thread: Option<JoinHandle<()>>,
    },
    Wiremock(#[allow(dead_code)] wiremock_engine::WiremockServer),
}

impl InProcessServer {
    fn start(config: &ServerConfig) -> Result<InProcessServer, Error> {
        // Checked here too, not only in `MockApi::start`: a `serve --control stdio`
        // child starts from a config that arrived on its stdin.
        config.validate()?;
        match config.engine {
            Engine::Fanout => Self::start_fanout(config),
            Engine::Wiremock => {
                let ledger = Arc::new(Ledger::new(config.ledger, false));
                let server = wiremock_engine::start(config, ledger.clone())?;
                Ok(InProcessServer {
                    addr: server.addr,
                    ledger,
                    tls: None,
                    running: Running::Wiremock(server),
                })
            }
        }
    }

    /// `http://127.0.0.1:PORT`, or `https://` when it serves TLS.
    fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    fn start_fanout(config: &ServerConfig) -> Result<InProcessServer, Error> {
        let tls = config
            .tls
            .map(|version| ServerTls::new(version, config.tls_resumption))
            .transpose()?;
        let acceptor = tls.as_ref().map(|tls| tls.acceptor().clone());
        let ledger = Arc::new(Ledger::new(config.ledger, true));
        let (shutdown, shutdown_rx) = watch::channel(());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let state = Arc::new(http::ServerState::new(
            config.profile.clone(),
            config.seed,
            ledger.clone(),
        ));
        let (port, workers) = (config.port, config.workers.max(1));
        let settings = http::ConnectionSettings {
            h2_max_streams: config.h2_max_streams,
            keep_alive: config.keep_alive,
        };
        let thread = std::thread::Builder::new()
            .name("fanout-mock-api".to_string())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .thread_name("fanout-mock-api-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(Error::io("building the server runtime", e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let listener = match http::bind(port) {
                        Ok(listener) => listener,
                        Err(e) => {
                            let _ = ready_tx.send(Err(bind_error(port, e)));
                            return;
                        }
                    };
                    let addr = listener
                        .local_addr()
                        .expect("a bound listener has an address");
                    let _ = ready_tx.send(Ok(addr));
                    http::serve(listener, state, shutdown_rx, settings, acceptor).await;
                });
            })
            .map_err(|e| Error::io("starting the server thread", e))?;
        let addr = ready_rx
            .recv()
            .map_err(|_| Error::Server("the server thread stopped while starting".to_string()))??;
        Ok(InProcessServer {
            addr,
            ledger,
            tls,
            running: Running::Fanout {
                shutdown: Some(shutdown),
                thread: Some(thread),
            },
        })
    }
}

impl Drop for InProcessServer {
    fn drop(&mut self) {
        if let Running::Fanout { shutdown, thread } = &mut self.running {
            drop(shutdown.take());
            if let Some(thread) = thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// Turns a bind failure into the error a user can act on.
pub(crate) fn bind_error(port: u16, error: std::io::Error) -> Error {
    if error.kind() == std::io::ErrorKind::AddrInUse {
        Error::PortInUse { port }
    } else {
        Error::io(format!("binding 127.0.0.1:{port}"), error)
    }
}
