//! `--target URL`: the strategies pointed at a server the user names, instead of the
//! mock API. Refused unless the user says the server is theirs, paced to `--rate`
//! (5 per second unless told otherwise) and bounded by the run's deadline. Only the
//! client's side is measured: there is no ledger, so server figures, the model and
//! efficiency are left out.

use crate::error::Error;
use crate::server::latency::Latency;
use crate::server::profile::{Endpoint, Profile};
use crate::strategy::request::RequestUrl;

/// Requests per second against a target when `--rate` is not given.
pub(super) const DEFAULT_RATE: f64 = 5.0;

/// The URL, once it is certain fanout may and can load it.
pub(super) fn checked(url: &str, owned: bool) -> Result<String, Error> {
    let bad = |why: String| Err(Error::InvalidScenario(why));
    if !owned {
        return bad(format!(
            "--target {} is not fanout's mock API: pass --i-own-this-server to confirm the server is yours to load (at most --rate requests per second, 5 by default)",
            crate::redact::url(url)
        ));
    }
    if url.starts_with("https://") {
        return bad("--target must be an http:// URL: fanout's clients trust no TLS certificate but the mock API's own (--tls)".to_string());
    }
    RequestUrl::parse(url).map_err(|why| Error::InvalidScenario(format!("--target {why}")))?;
    Ok(url.to_string())
}

/// One endpoint standing for the target (its delays are whatever the server does).
pub(super) fn profile() -> Profile {
    let mut endpoint = Endpoint::catch_all(Latency::Fixed(std::time::Duration::ZERO));
    endpoint.name = "target".to_string();
    Profile {
        endpoints: vec![endpoint],
        limits: Default::default(),
        network: Default::default(),
        stall: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_needs_consent_and_plain_http() {
        let refused = checked("http://example.test/api", false)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("--i-own-this-server"), "{refused}");
        let tls = checked("https://example.test/", true)
            .unwrap_err()
            .to_string();
        assert!(tls.contains("TLS"), "{tls}");
        assert!(checked("ftp://example.test/", true).is_err());
        assert!(checked("http:///path", true).is_err());
        assert!(checked("http://user@example.test/", true).is_err());
        assert!(checked("http://127.0.0.1:9/a b", true).is_err());
        assert!(checked("http://127.0.0.1:99999/", true).is_err());
        assert_eq!(
            checked("http://127.0.0.1:8080/items?x=1", true).unwrap(),
            "http://127.0.0.1:8080/items?x=1"
        );
    }

    #[test]
    fn keys_in_a_refused_target_are_not_echoed() {
        let refused = checked("http://api.test/v1?apiKey=s3cret", false).unwrap_err();
        assert!(!refused.to_string().contains("s3cret"));
        for url in [
            "http://user:s3cret@127.0.0.1:9/",
            "http://user:s3cret@127.0.0.1:9/a b",
        ] {
            for owned in [false, true] {
                let refused = checked(url, owned).unwrap_err().to_string();
                assert!(!refused.contains("s3cret"), "{refused}");
            }
        }
    }
}
