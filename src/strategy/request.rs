//! One request a strategy makes, with its method and URL already parsed.
//!
//! The two clients read URLs differently: `ureq` takes an `http::Uri`, strict about
//! which characters may appear, and `reqwest` a WHATWG `url::Url`, which quietly
//! percent-encodes what the other refuses. A URL one of them accepts and the other
//! rejects used to reach a client at run time (`http://host/a b` panicked the sync
//! strategies while the async ones sent `a%20b`). So a URL is parsed once, by both,
//! before anything is sent: [`RequestUrl::parse`] keeps both parsed forms or says, in
//! one line, why the URL cannot be sent. Neither client parses anything afterwards.

use crate::redact;

/// One request the strategy will make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRequest {
    /// Its number, 0-based.
    pub seq: u64,
    /// The endpoint it targets.
    pub endpoint: u16,
    /// The HTTP method.
    pub method: http::Method,
    /// The full URL, `seq` included as a query parameter.
    pub url: RequestUrl,
    /// A JSON body, for methods that carry one (POST, PUT, PATCH).
    pub body: Option<String>,
}

/// A plain-HTTP URL that both clients accept, parsed by each of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestUrl {
    /// What `ureq` sends.
    uri: http::Uri,
    /// What `reqwest` sends.
    url: reqwest::Url,
}

impl RequestUrl {
    /// Parses `text`, or says why it cannot be sent. The reason never contains a
    /// secret: the URL is shown through [`redact::url`].
    pub fn parse(text: &str) -> Result<RequestUrl, String> {
        let shown = redact::url(text);
        let refuse = |why: &str| Err(format!("'{shown}' {why}"));
        let url = match reqwest::Url::parse(text) {
            Ok(url) => url,
            Err(url::ParseError::InvalidPort) => {
                return refuse("has a port past 65535");
            }
            Err(error) => return refuse(&format!("is not a URL ({error})")),
        };
        // https is the mock API's with --tls; a --target is refused it before this.
        if !matches!(url.scheme(), "http" | "https") {
            return refuse("is not an http:// or https:// URL");
        }
        if !url.username().is_empty() || url.password().is_some() {
            return refuse(
                "carries a user name or password: fanout sends no credentials in URLs (take them out)",
            );
        }
        if url.host_str().is_none_or(str::is_empty) {
            return refuse("has no host");
        }
        let uri = match http::Uri::try_from(text) {
            Ok(uri) => uri,
            Err(error) => {
                return refuse(&format!(
                    "cannot be sent as written ({error}): percent-encode spaces and other special characters, e.g. %20"
                ));
            }
        };
        Ok(RequestUrl { uri, url })
    }

    /// The form `ureq` takes.
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The form `reqwest` takes.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The URL as text (it may hold secrets: show it only through [`redact::url`]).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_clients_get_the_same_valid_url() {
        let url = RequestUrl::parse("http://127.0.0.1:8080/items?seq=3").unwrap();
        assert_eq!(url.uri().to_string(), "http://127.0.0.1:8080/items?seq=3");
        assert_eq!(url.url().as_str(), "http://127.0.0.1:8080/items?seq=3");
    }

    #[test]
    fn refuses_what_a_client_cannot_send() {
        let space = RequestUrl::parse("http://127.0.0.1:9/a b").unwrap_err();
        assert!(space.contains("percent-encode"), "{space}");
        let port = RequestUrl::parse("http://127.0.0.1:99999/").unwrap_err();
        assert!(port.contains("65535"), "{port}");
        assert!(RequestUrl::parse("ftp://127.0.0.1/").is_err());
        assert!(RequestUrl::parse("http:///path").is_err());
        assert!(RequestUrl::parse("not a url").is_err());
    }

    #[test]
    fn credentials_are_refused_and_never_echoed() {
        for text in [
            "http://user:hunter2@127.0.0.1:9/",
            "http://hunter2@127.0.0.1:9/",
            "http://127.0.0.1:9/a b?apiKey=hunter2",
        ] {
            let why = RequestUrl::parse(text).unwrap_err();
            assert!(!why.contains("hunter2"), "{why}");
        }
        let why = RequestUrl::parse("http://user:hunter2@127.0.0.1:9/").unwrap_err();
        assert!(why.contains("user name or password"), "{why}");
    }
}
