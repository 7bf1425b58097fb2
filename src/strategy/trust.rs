//! The clients' side of TLS, in one place: which certificate fanout's clients trust
//! (exactly the mock API's CA, never the system's roots), how reqwest and ureq are told
//! so, and how a TLS failure is told apart from other failures.
//!
//! One crypto library: rustls runs on ring everywhere (the server's acceptor, reqwest,
//! ureq). reqwest is built with `rustls-no-provider`, and then *every* reqwest client,
//! TLS or not, needs a process-wide rustls provider before it is built, or reqwest
//! panics: [`install_crypto_provider`] installs ring once, and fanout calls it before it
//! builds any client (and when it starts a mock API, so a program that starts one can
//! build its own reqwest clients next).
//!
//! Session resumption: what each client does by default, and what fanout measured
//! (`tests/tls.rs`, against a server with keep-alive off, so every request opens a
//! connection). fanout changes neither client's settings; the switch is the server's
//! (`--tls-resumption`, [`crate::server::tls`]).
//! - **reqwest**: each `reqwest::Client` builds one rustls `ClientConfig`, whose
//!   in-memory session cache (256 sessions) resumes TLS 1.3 by ticket and TLS 1.2 by
//!   session id or ticket. So a shared client resumes on every connection it opens after
//!   its first handshake finished; `--client per-request` builds a new client, so a new
//!   cache, and pays a full handshake every time.
//! - **ureq** (3.5): an agent caches one rustls config, so one session cache, but only
//!   a request on the agent's own settings fills that cache. A request given settings of
//!   its own (`configure_request`) reuses the cached config when there is one and
//!   otherwise builds one for itself, with an empty cache. fanout gives every request
//!   its own `timeout_global` (the run's deadline, see `sync.rs`), so its agents never
//!   resume: every ureq connection pays a full handshake, shared agent or not, and the
//!   model charges it so. A plain `agent.get(url).call()` first would fill the cache and
//!   let every later request resume.
//! - **hyper directly** (`async-hyper`): `rustls_client_config`, one for the run with
//!   a shared client, so one session cache and every connection after the first
//!   resumes, as reqwest's; one per connection with `--client per-request`, so none do.
//!
//! Read next: [`crate::server::tls`], the server's side.

use std::sync::Arc;

use crate::server::tls::CaCertificate;

use super::HttpVersion;

/// Installs ring as the process's rustls crypto provider, once; later calls do nothing.
/// Needed before any reqwest client is built (see the module doc). A provider someone
/// installed first stays: it can only be ring, the one this build has.
pub fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The certificate a run's clients trust when the mock API serves TLS: its CA, and
/// nothing else. `None` (the default) trusts nothing, which is right for plain HTTP and
/// makes every handshake with a TLS server fail as `tls`.
pub type TrustedCa = Option<Arc<CaCertificate>>;

/// A reqwest builder for loopback: no proxy lookup, no Nagle delay, redirects not
/// followed; a root store holding exactly `ca` (empty without one: no system root is
/// ever trusted), and with it, TLS.
///
/// `--http 2` is `http2_prior_knowledge` over plain HTTP and over TLS alike. Over TLS
/// it makes reqwest offer only `h2` by ALPN (the server, which offers `h2` and
/// `http/1.1`, picks it), and it tells hyper's pool that the connection will be
/// HTTP/2 before it exists. Offering both and letting the server choose (reqwest's
/// default) was measured first: the pool then cannot know a connection will take many
/// streams until its handshake is done, so a burst of 20 requests opened 20 TLS
/// connections where one would do. `--http 1` offers `http/1.1` only.
pub(crate) fn reqwest_builder(
    http: HttpVersion,
    ca: Option<&CaCertificate>,
) -> reqwest::ClientBuilder {
    install_crypto_provider();
    // Redirects are not followed: a redirect is an answer (its status is the outcome),
    // and a `--target` run must never be sent on to a host nobody vouched for.
    let builder = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_only(ca.and_then(|ca| reqwest::Certificate::from_der(ca.der()).ok()));
    match http {
        HttpVersion::Http1 => builder.http1_only(),
        HttpVersion::Http2 => builder.http2_prior_knowledge(),
    }
}

/// ureq's TLS settings: rustls on ring, a root store holding exactly `ca` (empty
/// without one, so no system root is ever trusted).
pub(crate) fn ureq_tls(ca: Option<&CaCertificate>) -> ureq::tls::TlsConfig {
    let roots: Vec<ureq::tls::Certificate<'static>> = ca
        .map(|ca| ureq::tls::Certificate::from_der(ca.der()).to_owned())
        .into_iter()
        .collect();
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .build()
}

/// A rustls client config on ring for a client fanout drives without reqwest or ureq
/// (`async-hyper`): a root store holding exactly `ca` (empty without one), offering
/// `alpn` by ALPN. A CA certificate that does not parse leaves the store empty, so every
/// handshake fails as `tls`, as it would for reqwest.
pub(crate) fn rustls_client_config(
    ca: Option<&CaCertificate>,
    alpn: &[&[u8]],
) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(ca) = ca {
        let _ = roots.add(rustls::pki_types::CertificateDer::from(ca.der().to_vec()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports rustls' default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

/// True when `error`, or any error it was caused by, is a rustls error: a certificate
/// the client does not trust, an alert from the server, a version neither side shares.
/// Looks inside `std::io::Error`s too (their `source` skips the error they wrap, and
/// both hyper and ureq carry rustls' errors in one).
pub fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = error.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && is_tls_failure(inner)
        {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rustls_error_is_found_inside_io_errors_and_nothing_else_counts() {
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_error);
        assert!(is_tls_failure(&io));
        let wrapped = std::io::Error::other(io);
        assert!(is_tls_failure(&wrapped));
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(!is_tls_failure(&plain));
    }
}
