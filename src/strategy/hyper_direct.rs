//! `async-hyper`: the same requests as `async-semaphore`, sent on hyper's own
//! connection API with no reqwest in between. Written by hand on purpose: it is the
//! lesson, what reqwest's conveniences cost, measured.
//!
//! reqwest is hyper plus conveniences: a connection pool shared by every task and keyed
//! by host (hyper-util's legacy client, whose checkout queues each waiter on the host's
//! one list), redirect and retry policies, a header map and a URL-to-URI conversion per
//! request, and large boxed futures. This strategy keeps only what a load tool keeps
//! (oha is built this way): `--limit` workers, each owning at most one connection,
//! each taking the next request off a shared counter and sending it on its own
//! connection with `hyper::client::conn::http1`, reconnecting when the server closed
//! it. No pool, no lock between workers. The schedule is `async-semaphore`'s (at most
//! `--limit` in flight, a request starts when a slot frees), so the model is the same
//! and the two side by side (`fanout compare --strategies async-semaphore,async-hyper`,
//! the `strategies` bench) differ only by the client.
//!
//! Measured on this project's 2-core machine, each against a fresh mock API, five
//! rounds alternating with oha 1.16 (which is built this way) on a `fanout serve`:
//! 10,000 requests at once at 500 ms took 1.22–1.50 s here, 1.52–1.70 s with
//! `async-concurrent` (reqwest) and 1.58–1.90 s with oha; at zero delay with 50 in
//! flight, 1.08–1.16 × oha's requests per second, `async-semaphore` 0.85–1.08 × (in
//! `fanout peers` runs, where the rows run one after another rather than alternating,
//! both at 0.97 × once, 1.07 and 0.89 × another time: the machine's noise is about
//! ±15 %, so compare the two over several runs). A
//! profile of the 10,000 (`perf record`) put the difference in the client's own CPU:
//! reqwest's run spent about 330 ms more in user space and 240 ms more in the kernel
//! for the same requests, spread over its layers (the connector chain, hyper-util's
//! pool, whose waiters list each checkout scans when it is dropped, and the request
//! and response wrappers) rather than in one hot spot. The model of both is the
//! calibration's, which probes with reqwest: `async-hyper` beats the limit it gives.
//!
//! What it gives up: HTTP/2 (`--http 2` is refused before anything is sent), redirects
//! (none are followed anyway), proxies, cookies, decompression, and connection reuse
//! across workers: a worker whose request failed opens a new connection for its next
//! (a request the server's close kept from being sent at all goes again on a new one,
//! once, as reqwest's pool resends it).
//! The pace of a `--target` run, the retries, the timeouts and the deadline are
//! [`Fetcher::fetch_with`]'s, shared with every reqwest strategy. Over TLS it uses
//! tokio-rustls on ring with a root store of exactly the mock API's CA, as the other
//! clients do; one `ClientConfig` for the run (so one session cache: a shared client
//! resumes), a new one per connection with `--client per-request` (so it does not).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::asynchronous::{Exchange, Fetcher};
use super::request::PlannedRequest;
use super::retry::{self, Attempt};
use super::trust::{self, TrustedCa};
use super::{ClientOptions, ClientReuse};
use crate::measure::{Outcome, Sample};
use crate::server::tls::CaCertificate;

/// Runs every request on `--limit` workers, each with a connection of its own; one
/// sample per request, in submission order.
pub(super) async fn run(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    options: &ClientOptions,
) -> Vec<Sample> {
    let n = requests.len();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let tls = Tls::new(options);
    let workers: Vec<_> = (0..options.limit.min(n).max(1))
        .map(|_| {
            let (fetcher, requests, next) = (fetcher.clone(), requests.clone(), next.clone());
            let mut worker = Worker {
                tls: tls.clone(),
                connection: None,
                reuse: options.reuse,
            };
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(index) else {
                        break done;
                    };
                    done.push((index, fetcher.fetch_with(request, &mut worker).await));
                }
            })
        })
        .collect();
    let mut samples: Vec<Option<Sample>> = vec![None; n];
    for worker in workers {
        // A worker that died loses its samples: their requests count as cancelled below.
        for (index, sample) in worker.await.unwrap_or_default() {
            samples[index] = Some(sample);
        }
    }
    samples
        .into_iter()
        .zip(requests.iter())
        .map(|(sample, request)| sample.unwrap_or_else(|| fetcher.cancelled(request, None)))
        .collect()
}

/// The TLS side of the run's connections, when the mock API serves TLS.
#[derive(Clone)]
struct Tls {
    /// The one CA every connection trusts.
    ca: TrustedCa,
    /// The run's one config (one session cache), for a shared client.
    shared: Option<TlsConnector>,
}

impl Tls {
    fn new(options: &ClientOptions) -> Tls {
        Tls {
            ca: options.trusted_ca.clone(),
            shared: (options.reuse == ClientReuse::Shared)
                .then(|| connector(options.trusted_ca.as_deref())),
        }
    }

    /// The connector for the next connection: the run's, or a new one (an empty session
    /// cache) for `--client per-request`.
    fn connector(&self) -> TlsConnector {
        self.shared
            .clone()
            .unwrap_or_else(|| connector(self.ca.as_deref()))
    }
}

/// A rustls connector trusting exactly `ca`, offering `http/1.1` by ALPN
/// ([`trust::rustls_client_config`]).
fn connector(ca: Option<&CaCertificate>) -> TlsConnector {
    TlsConnector::from(Arc::new(trust::rustls_client_config(ca, &[b"http/1.1"])))
}

/// One worker: at most one connection, kept open between its requests.
struct Worker {
    tls: Tls,
    connection: Option<SendRequest<Full<Bytes>>>,
    reuse: ClientReuse,
}

impl Exchange for Worker {
    async fn attempt(&mut self, request: &PlannedRequest, timeout: Option<Duration>) -> Attempt {
        let attempt = match timeout {
            Some(timeout) => tokio::time::timeout(timeout, self.exchange(request))
                .await
                .unwrap_or(failed(Outcome::Timeout, None)),
            None => self.exchange(request).await,
        };
        // A connection cut mid-exchange (a timeout, an error) is in no state to reuse.
        if (attempt.outcome != Outcome::Ok && attempt.status.is_none())
            || self.reuse == ClientReuse::PerRequest
        {
            self.connection = None;
        }
        attempt
    }
}

impl Worker {
    /// One request on this worker's connection (opened first if it has none or the
    /// server closed it), read to its last body byte.
    async fn exchange(&mut self, request: &PlannedRequest) -> Attempt {
        let reused = self.connection.is_some();
        match self.send(request).await {
            // The server closed a kept-alive connection before the request went out
            // (hyper says "canceled": nothing was sent), as a pool would find it: the
            // request goes again on a new connection, once, as reqwest's pool does.
            Err(error) if reused && error.is_canceled() => {
                self.connection = None;
                match self.send(request).await {
                    Ok(attempt) => attempt,
                    Err(error) => failed(classify(&error), None),
                }
            }
            Ok(attempt) => attempt,
            Err(error) => failed(classify(&error), None),
        }
    }

    /// [`Worker::exchange`]'s one try: `Err` when hyper could not send the request or
    /// read the answer's head.
    async fn send(&mut self, request: &PlannedRequest) -> Result<Attempt, hyper::Error> {
        let uri = request.url.uri();
        let sender = match self.ready(uri).await {
            Ok(sender) => sender,
            Err(outcome) => return Ok(failed(outcome, None)),
        };
        let body = request.body.clone().map(Bytes::from).unwrap_or_default();
        let mut builder = http::Request::builder()
            .method(request.method.clone())
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()));
        if let Some(authority) = uri.authority() {
            builder = builder.header(http::header::HOST, authority.as_str());
        }
        if request.body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let Ok(message) = builder.body(Full::new(body)) else {
            return Ok(failed(Outcome::Dropped, None));
        };
        let response = sender.send_request(message).await?;
        let status = response.status().as_u16();
        let retry_after = retry::retry_after_of(response.headers());
        Ok(match response.into_body().collect().await {
            Ok(body) => Attempt {
                outcome: Outcome::from_status(status),
                status: Some(status),
                bytes: body.to_bytes().len() as u64,
                retry_after,
            },
            Err(error) => {
                self.connection = None;
                failed(classify(&error), Some(status))
            }
        })
    }

    /// The worker's connection, ready for a request: the open one when the server kept
    /// it, else a new one.
    async fn ready(&mut self, uri: &http::Uri) -> Result<&mut SendRequest<Full<Bytes>>, Outcome> {
        let reusable = match &mut self.connection {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        if !reusable {
            self.connection = Some(self.connect(uri).await?);
        }
        Ok(self.connection.as_mut().expect("a connection was just set"))
    }

    /// A new connection to `uri`'s host: TCP (no Nagle delay), TLS for `https`, then
    /// hyper's HTTP/1.1 handshake, its connection driven by a task of its own.
    async fn connect(&self, uri: &http::Uri) -> Result<SendRequest<Full<Bytes>>, Outcome> {
        let https = uri.scheme_str() == Some("https");
        let host = uri.host().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|_| Outcome::Connect)?;
        let _ = stream.set_nodelay(true);
        if !https {
            return handshake(stream).await;
        }
        let name = ServerName::try_from(host.to_string()).map_err(|_| Outcome::Tls)?;
        let stream = self
            .tls
            .connector()
            .connect(name, stream)
            .await
            .map_err(|e| {
                if trust::is_tls_failure(&e) {
                    Outcome::Tls
                } else {
                    Outcome::Connect
                }
            })?;
        handshake(stream).await
    }
}

/// hyper's HTTP/1.1 handshake on `io`; the connection runs on a task until the worker
/// drops its sender or the server closes it.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, Outcome>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|_| Outcome::Connect)?;
    tokio::spawn(async move {
        // How it ended shows in the exchange that used it.
        let _ = connection.await;
    });
    Ok(sender)
}

/// An attempt that got no usable answer.
fn failed(outcome: Outcome, status: Option<u16>) -> Attempt {
    Attempt {
        outcome,
        status,
        bytes: 0,
        retry_after: None,
    }
}

/// Sorts a hyper error: a rustls error in its chain is `tls`, anything else (the server
/// closed the connection, a malformed answer) `dropped`, as for reqwest.
fn classify(error: &hyper::Error) -> Outcome {
    if trust::is_tls_failure(error) {
        Outcome::Tls
    } else {
        Outcome::Dropped
    }
}
