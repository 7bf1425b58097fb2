//! TLS on the mock API: a certificate made at start, a rustls acceptor that offers one
//! protocol version, and ALPN, so a client meets what a real HTTPS API would show it.
//!
//! Why it matters: on the internet a new connection costs a TLS handshake on top of the
//! TCP one (one more round trip with TLS 1.3, two with TLS 1.2) and the handshake's
//! CPU on both sides (key exchange, a signature, its check). On plain loopback none of
//! that is paid, so what a shared client or HTTP/2 saves is lost in noise.
//!
//! The pieces, in the order a connection meets them:
//!
//! - [`ServerTls::new`] makes a private certificate authority and a leaf certificate for
//!   `localhost` and `127.0.0.1` signed by it, with `rcgen`, every time a server starts.
//!   No key is ever in the repository, on disk or in a message: the keys live in this
//!   process's memory only, and the CA's is dropped as soon as the leaf is signed. A CA
//!   plus a leaf (rather than one self-signed leaf) is what real APIs present, and it is
//!   what strict verifiers accept as a trust anchor: Python 3.13's `ssl` and OpenSSL
//!   want a CA certificate (basic constraints) in a CA file, and webpki wants the end
//!   entity *not* to be a CA. Clients get the CA's certificate ([`CaCertificate`]).
//! - The acceptor offers only the version asked for (`--tls 1.3` or `1.2`), with ring
//!   as rustls' crypto provider, the one C crypto library in the build.
//! - ALPN offers `h2` then `http/1.1`, in the server's order of preference: a client
//!   that offers both (reqwest with `--http 2`) gets HTTP/2, one that offers only
//!   `http/1.1` or no ALPN at all (ureq) gets HTTP/1.1, as on a real API.
//! - [`accept`] runs the handshake on any stream (a TCP stream, or the emulated link
//!   wrapped around one), bounded by [`HANDSHAKE_TIMEOUT`], and says which protocol
//!   was negotiated. The accept loop (`http.rs`) counts a handshake that fails or is
//!   abandoned half-way in the ledger and serves HTTP on the ones that finish.
//!
//! Session resumption, server side (`--tls-resumption on|off`, [`SessionResumption`]):
//! on (the default) keeps rustls' default server config, a stateful session cache of
//! 256 sessions and no ticketer, so TLS 1.2 clients resume by session id and TLS 1.3
//! clients by the (stateful) tickets the server sends after each handshake, in memory
//! that stays bounded however long `serve` runs. Off keeps no session and sends no
//! ticket ([`rustls::server::NoServerSessionStorage`], zero TLS 1.3 tickets), so every
//! handshake is a full one. The switch is the server's, not the clients', on purpose:
//! it then applies to every client of the mock API, fanout's own, the Python peers, curl
//! and anything else pointed at `fanout serve`, as a real server's setting does; a
//! client without a session to offer is already one flag away (`--client per-request`).
//! A resumed TLS 1.2 handshake (abbreviated: the server's Finished follows its Hello)
//! takes one round trip instead of two; a resumed TLS 1.3 one (PSK with a fresh key
//! exchange, no 0-RTT) keeps its one round trip and skips the certificate and its
//! signature: CPU only. [`accept`] says which kind each handshake was.
//!
//! Read next: [`crate::strategy::trust`], the clients' side.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::network::Network;
use crate::error::Error;

/// A handshake not done by then is given up: a client that connects and says nothing
/// (or stops half-way) never holds a server task for longer.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The ALPN protocols the server offers, in its order of preference.
pub const ALPN_OFFERED: [&str; 2] = ["h2", "http/1.1"];

/// What HTTP runs over a TLS connection that negotiated no ALPN protocol: HTTP/1.1,
/// as RFC 7301 leaves it to the default (ureq sends no ALPN).
pub const PROTOCOL_WITHOUT_ALPN: &str = "http/1.1";

/// The TLS version the mock API offers (`--tls 1.3|1.2`); it offers no other, so a
/// client that cannot speak it fails its handshake, as against a real server so set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
pub enum TlsVersion {
    /// TLS 1.3: one round trip of handshake before the request can go.
    #[value(name = "1.3")]
    #[serde(rename = "1.3")]
    Tls13,
    /// TLS 1.2: two round trips of handshake.
    #[value(name = "1.2")]
    #[serde(rename = "1.2")]
    Tls12,
}

impl TlsVersion {
    /// `1.3` or `1.2`, as the flag takes it.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls13 => "1.3",
            TlsVersion::Tls12 => "1.2",
        }
    }

    /// The round trips its full handshake adds before the first request can be sent.
    pub fn handshake_round_trips(self) -> u32 {
        match self {
            TlsVersion::Tls13 => 1,
            TlsVersion::Tls12 => 2,
        }
    }

    /// The round trips a resumed handshake adds: one for both (TLS 1.2's abbreviated
    /// handshake saves one; TLS 1.3's saves only the certificate's CPU).
    pub fn resumed_round_trips(self) -> u32 {
        1
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls13 => &rustls::version::TLS13,
            TlsVersion::Tls12 => &rustls::version::TLS12,
        }
    }
}

impl std::fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS {}", self.name())
    }
}

/// Whether the mock API lets a client resume an earlier TLS session
/// (`--tls-resumption`, on by default, as rustls and most servers have it).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum SessionResumption {
    /// A session cache and TLS 1.3 tickets: a client that has a session resumes it.
    #[default]
    On,
    /// No cache, no tickets: every handshake is a full one.
    Off,
}

impl SessionResumption {
    /// True for the default, which the JSON leaves out.
    pub fn is_on(&self) -> bool {
        *self == SessionResumption::On
    }
}

/// The certificate of the mock API's private CA: what a client must trust, and all it
/// must trust. Public by nature (it holds no key), so it may be printed, written to a
/// file and sent between processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaCertificate {
    der: Vec<u8>,
    pem: String,
}

impl CaCertificate {
    /// The certificate in DER, for root stores built in code.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate in PEM, for files (`curl --cacert`, Python's `verify=`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Reads a PEM certificate (the child server's Hello carries one).
    pub fn from_pem(pem: &str) -> Result<CaCertificate, Error> {
        use rustls::pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| {
            Error::Server(format!("the server's CA certificate did not parse: {e}"))
        })?;
        Ok(CaCertificate {
            der: der.to_vec(),
            pem: pem.to_string(),
        })
    }
}

/// The server side of TLS: the acceptor and the CA its certificate chains to.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
    ca: CaCertificate,
    version: TlsVersion,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key: only what a client could see anyway.
        f.debug_struct("ServerTls")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Makes a fresh CA and leaf certificate and an acceptor offering only `version`,
    /// which keeps sessions for resumption or not.
    pub fn new(version: TlsVersion, resumption: SessionResumption) -> Result<ServerTls, Error> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            Error::Server(format!("setting up TLS: {what}: {e}"))
        };
        let (ca, leaf_der, leaf_key) =
            make_certificates().map_err(|e| failed("making the certificate", &e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version.rustls()])
            .map_err(|e| failed("choosing the version", &e))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf_der], leaf_key)
            .map_err(|e| failed("loading the certificate", &e))?;
        config.alpn_protocols = ALPN_OFFERED.iter().map(|p| p.as_bytes().to_vec()).collect();
        if resumption == SessionResumption::Off {
            config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
            config.send_tls13_tickets = 0;
        }
        Ok(ServerTls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca,
            version,
        })
    }

    /// The CA certificate clients must trust.
    pub fn ca(&self) -> &CaCertificate {
        &self.ca
    }

    /// The acceptor [`accept`] handshakes with.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// A CA certificate, and a leaf for `localhost` and `127.0.0.1` signed by it with its
/// private key (in memory only). The CA's key is dropped on return.
fn make_certificates() -> Result<
    (
        CaCertificate,
        CertificateDer<'static>,
        PrivateKeyDer<'static>,
    ),
    rcgen::Error,
> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "fanout mock API CA (made at start)");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.use_authority_key_identifier_extension = true;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate()?;
    let leaf = leaf_params.signed_by(&leaf_key, &issuer)?;

    let ca = CaCertificate {
        der: ca_cert.der().to_vec(),
        pem: ca_cert.pem(),
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    Ok((ca, leaf.der().clone(), key))
}

/// Why a handshake did not finish.
#[derive(Debug)]
pub enum HandshakeFailed {
    /// The client said something that is not TLS, or failed it (an unknown CA alert,
    /// a version the server does not offer), or closed half-way.
    Failed(std::io::Error),
    /// Nothing finished within [`HANDSHAKE_TIMEOUT`].
    TimedOut,
}

/// How long a handshake may take behind `network`: [`HANDSHAKE_TIMEOUT`] of the
/// machine's own time, plus the round trips the link holds its messages for (the
/// ClientHello 1.5 round trips after the accept, TLS 1.2's Finished 3.5), each with the
/// jitter at its widest. Without it, `--rtt 5s --tls 1.3` would time every handshake
/// out.
pub fn handshake_timeout(network: &Network) -> Duration {
    HANDSHAKE_TIMEOUT.saturating_add((network.rtt + network.jitter).saturating_mul(4))
}

/// A finished handshake, as the ledger notes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The protocol ALPN chose (`h2` or `http/1.1`; [`PROTOCOL_WITHOUT_ALPN`] when the
    /// client offered none).
    pub protocol: &'static str,
    /// True when the client resumed an earlier session (rustls' `handshake_kind`).
    pub resumed: bool,
}

/// Runs the server's side of a TLS handshake on `stream`, within `timeout` (see
/// [`handshake_timeout`]): the TLS stream to serve HTTP on, and what the handshake
/// negotiated ([`Handshake`]). Generic over the stream so
/// it runs on a plain TCP stream and on an emulated link alike; the caller also races
/// it against the server's shutdown.
pub async fn accept<S>(
    stream: S,
    acceptor: &TlsAcceptor,
    timeout: Duration,
) -> Result<(TlsStream<S>, Handshake), HandshakeFailed>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream = tokio::time::timeout(timeout, acceptor.accept(stream))
        .await
        .map_err(|_| HandshakeFailed::TimedOut)?
        .map_err(HandshakeFailed::Failed)?;
    let connection = stream.get_ref().1;
    let protocol = match connection.alpn_protocol() {
        Some(b"h2") => "h2",
        _ => PROTOCOL_WITHOUT_ALPN,
    };
    let resumed = connection.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
    Ok((stream, Handshake { protocol, resumed }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_server_gets_a_ca_certificate_and_no_key_shows_in_debug() {
        let tls = ServerTls::new(TlsVersion::Tls13, SessionResumption::On).unwrap();
        assert!(tls.ca().pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let again = CaCertificate::from_pem(tls.ca().pem()).unwrap();
        assert_eq!(again.der(), tls.ca().der());
        assert!(!format!("{tls:?}").contains("PRIVATE"));
        // Every start makes its own.
        let other = ServerTls::new(TlsVersion::Tls12, SessionResumption::Off).unwrap();
        assert_ne!(other.ca().der(), tls.ca().der());
    }
}
