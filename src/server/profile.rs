//! Profiles: which endpoints the mock API serves and how each one behaves.
//!
//! The one-endpoint case comes from CLI flags (`--delay 500ms`): a catch-all endpoint
//! that answers every GET path. Several endpoints come from a TOML file, one
//! `[[endpoint]]` table each (the tutorials' news sources are the model):
//!
//! ```toml
//! [[endpoint]]
//! name = "newsapi"              # used in tables and charts
//! path = "/v2/top-headlines"    # exact path, "/prefix/*" for any path under it, or "*"
//! method = "GET"                # optional, GET by default
//! status = 200                  # optional, 200 by default
//! body_bytes = 2048             # optional size of the JSON body, 256 by default
//! # body = '{"status":"ok"}'    # optional fixed JSON body instead ({id}: the path's
//! #                             # last segment, e.g. 42 for /v0/item/42.json)
//! latency = "lognormal:300ms..1s"
//!
//! [endpoint.fault]              # optional: see [`crate::server::fault`]
//! error_rate = 0.1
//!
//! [limits]                      # optional, server-wide: 429 past these
//! max_per_second = 20
//!
//! [network]                     # optional: see [`crate::server::network`]
//! preset = "continent"
//!
//! [stall]                       # optional: see [`crate::server::stall`]
//! at_ms = 1000                  # every answer due 1 s to 3 s after the first
//! for_ms = 2000                 # arrival leaves at 3 s
//! ```
//!
//! A run sends request `seq` to endpoint `seq % endpoints.len()`, so a profile of three
//! sources and `-n 3` fetches each source once.
//!
//! Read next: [`crate::server::ledger`], the server's record of what it served.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fault::{Fault, ServerLimits};
use super::latency::Latency;
use super::network::Network;
use super::stall::Stall;
use crate::error::Error;

/// The largest response body a profile may ask for.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The most endpoints one profile may list: each request names its endpoint in 16 bits,
/// and far fewer already make a profile no reader could hold.
pub const MAX_ENDPOINTS: usize = 1024;

/// One endpoint of the mock API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// A short name for tables and charts.
    pub name: String,
    /// The exact request path, `/prefix/*` for any path under `/prefix/`, or `*` to
    /// answer any path.
    pub path: String,
    /// The HTTP method the endpoint answers.
    #[serde(default = "default_method")]
    pub method: String,
    /// Extra query parameters the client sends, e.g. `country=us&apiKey=…` (values of
    /// key, token and secret parameters are never printed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The status every answer carries.
    #[serde(default = "default_status")]
    pub status: u16,
    /// The size of the JSON response body, in bytes.
    #[serde(default = "default_body_bytes")]
    pub body_bytes: usize,
    /// A fixed JSON body to answer with instead of the generated one (`body_bytes` is
    /// then ignored). `{id}` in it becomes the request path's last segment without its
    /// extension, so one endpoint `/v0/item/*` can answer every item by its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How long the server waits before answering.
    pub latency: Latency,
    /// What the endpoint does wrong on purpose (nothing by default).
    #[serde(default, skip_serializing_if = "is_default_fault")]
    pub fault: Fault,
}

fn is_default_fault(fault: &Fault) -> bool {
    !fault.is_set()
}

fn default_method() -> String {
    "GET".to_string()
}
fn default_status() -> u16 {
    200
}
fn default_body_bytes() -> usize {
    256
}

impl Endpoint {
    /// The catch-all endpoint the CLI builds from `--delay`.
    pub fn catch_all(latency: Latency) -> Endpoint {
        Endpoint {
            name: "items".to_string(),
            path: "*".to_string(),
            method: default_method(),
            query: None,
            status: default_status(),
            body_bytes: default_body_bytes(),
            body: None,
            latency,
            fault: Fault::default(),
        }
    }

    /// The path a client uses to reach this endpoint.
    pub fn request_path(&self) -> String {
        match self.path.strip_suffix('*') {
            Some("") => "/items".to_string(),
            Some(prefix) => format!("{prefix}1"),
            None => self.path.clone(),
        }
    }

    /// Whether this endpoint answers `path`: exactly, or under its `/prefix/*`.
    fn answers_path(&self, path: &str) -> bool {
        match self.path.strip_suffix('*') {
            Some("") => false,
            Some(prefix) => path.len() > prefix.len() && path.starts_with(prefix),
            None => self.path == path,
        }
    }

    /// The body to answer `path` with, when the endpoint has a fixed one.
    pub fn fixed_body(&self, path: &str) -> Option<String> {
        let template = self.body.as_ref()?;
        if !template.contains("{id}") {
            return Some(template.clone());
        }
        let last = path.rsplit('/').next().unwrap_or_default();
        let id = last.split('.').next().unwrap_or_default();
        Some(template.replace("{id}", id))
    }

    fn validate(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("an endpoint has an empty name".to_string());
        }
        if self.path != "*" && !self.path.starts_with('/') {
            return Err(format!(
                "endpoint '{}': path '{}' must start with / (or be * for any path)",
                self.name, self.path
            ));
        }
        if self.path.len() > 1 && self.path.contains('*') && !self.path.ends_with("/*") {
            return Err(format!(
                "endpoint '{}': path '{}' may hold * only as its last segment, as in /items/*",
                self.name, self.path
            ));
        }
        if let Some(body) = &self.body
            && serde_json::from_str::<serde::de::IgnoredAny>(&body.replace("{id}", "0")).is_err()
        {
            return Err(format!(
                "endpoint '{}': body is not valid JSON (with {{id}} read as 0)",
                self.name
            ));
        }
        if let Some(c) = self.path.chars().find(|c| {
            !c.is_ascii() || c.is_ascii_control() || matches!(c, ' ' | '#' | '"' | '<' | '>')
        }) {
            return Err(format!(
                "endpoint '{}': path {:?} holds {c:?}, which a client would encode or drop, so no request could reach it: percent-encode it",
                self.name, self.path
            ));
        }
        if self.path.contains('?') {
            return Err(format!(
                "endpoint '{}': put query parameters in `query`, not in the path",
                self.name
            ));
        }
        if !(200..=599).contains(&self.status) {
            return Err(format!(
                "endpoint '{}': status {} is not a final HTTP status (200-599)",
                self.name, self.status
            ));
        }
        if hyper::Method::from_bytes(self.method.as_bytes()).is_err() || self.method == "CONNECT" {
            return Err(format!(
                "endpoint '{}': '{}' is not an HTTP method",
                self.name, self.method
            ));
        }
        self.fault
            .validate()
            .map_err(|why| format!("endpoint '{}': {why}", self.name))?;
        if self.body_bytes > MAX_BODY_BYTES {
            return Err(format!(
                "endpoint '{}': body_bytes {} is above the {} limit",
                self.name, self.body_bytes, MAX_BODY_BYTES
            ));
        }
        Ok(())
    }
}

/// The set of endpoints one mock API serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// The endpoints, in the order requests are spread over them.
    #[serde(rename = "endpoint")]
    pub endpoints: Vec<Endpoint>,
    /// Server-wide limits past which requests are answered 429.
    #[serde(default)]
    pub limits: ServerLimits,
    /// The emulated network between every client and this API (loopback by default,
    /// and then left out of the JSON, so a loopback profile reads as it always did).
    /// It lives here, not beside the profile, because every server is started from a
    /// profile (see [`crate::server::network`]).
    #[serde(default, skip_serializing_if = "Network::is_loopback")]
    pub network: Network,
    /// A server-wide freeze: every answer due inside it waits for its end
    /// ([`crate::server::stall`]). None by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall: Option<Stall>,
}

impl Profile {
    /// One catch-all endpoint with the given latency.
    pub fn single(latency: Latency) -> Profile {
        Profile {
            endpoints: vec![Endpoint::catch_all(latency)],
            limits: ServerLimits::default(),
            network: Network::default(),
            stall: None,
        }
    }

    /// Reads and checks a TOML profile file.
    pub fn from_file(path: &Path) -> Result<Profile, Error> {
        let fail = |why: String| Error::Profile {
            path: path.to_path_buf(),
            why,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let profile: Profile = toml::from_str(&text).map_err(|e| fail(one_line(&e)))?;
        profile.validate().map_err(fail)?;
        Ok(profile)
    }

    /// Checks the profile describes a usable API.
    pub fn validate(&self) -> Result<(), String> {
        if self.endpoints.is_empty() {
            return Err("it has no [[endpoint]] tables".to_string());
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            return Err(format!(
                "it has {} endpoints; at most {MAX_ENDPOINTS} are allowed",
                self.endpoints.len()
            ));
        }
        self.limits.validate()?;
        self.network.validate()?;
        if let Some(stall) = &self.stall {
            stall.validate()?;
        }
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            endpoint.validate()?;
            let clash = self.endpoints[..i]
                .iter()
                .any(|e| e.path == endpoint.path && e.method == endpoint.method);
            if clash {
                return Err(format!(
                    "two endpoints answer {} {}",
                    endpoint.method, endpoint.path
                ));
            }
        }
        Ok(())
    }

    /// The endpoint that answers `method path`: an exact path first, then the longest
    /// `/prefix/*`, then a catch-all.
    pub fn route(&self, method: &str, path: &str) -> Option<usize> {
        let exact = self
            .endpoints
            .iter()
            .position(|e| e.method == method && e.path == path);
        let under_prefix = || {
            self.endpoints
                .iter()
                .enumerate()
                .filter(|(_, e)| e.method == method && e.answers_path(path))
                .max_by_key(|(_, e)| e.path.len())
                .map(|(i, _)| i)
        };
        exact.or_else(under_prefix).or_else(|| {
            self.endpoints
                .iter()
                .position(|e| e.method == method && e.path == "*")
        })
    }

    /// The same endpoints, every one answering with `latency`, without faults,
    /// server-wide limits or network: what calibration probes run against. The probes
    /// measure this machine's costs; what the network adds is known from its figures.
    pub fn with_latency(&self, latency: Latency) -> Profile {
        let mut changed = self.clone();
        for endpoint in &mut changed.endpoints {
            endpoint.latency = latency;
            endpoint.fault = Fault::default();
        }
        changed.limits = ServerLimits::default();
        changed.network = Network::default();
        changed.stall = None;
        changed
    }

    /// The same profile with every latency, and the network's round trips, multiplied
    /// by `factor` (see [`Network::scaled`]).
    pub fn scaled(&self, factor: f64) -> Profile {
        let mut scaled = self.clone();
        for endpoint in &mut scaled.endpoints {
            endpoint.latency = endpoint.latency.scaled(factor);
        }
        scaled.network = self.network.scaled(factor);
        scaled.stall = self.stall.map(|stall| stall.scaled(factor));
        scaled
    }
}

/// A TOML error on one line: its message and where it happened.
fn one_line(error: &toml::de::Error) -> String {
    let message = error.message().trim().to_string();
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_news_profile() {
        let text = r#"
            [[endpoint]]
            name = "newsapi"
            path = "/v2/top-headlines"
            latency = "lognormal:300ms..1s"

            [[endpoint]]
            name = "guardian"
            path = "/search"
            status = 200
            body_bytes = 4096
            latency = "500ms"
        "#;
        let profile: Profile = toml::from_str(text).unwrap();
        profile.validate().unwrap();
        assert_eq!(profile.endpoints.len(), 2);
        assert_eq!(profile.route("GET", "/search"), Some(1));
        assert_eq!(profile.route("GET", "/nowhere"), None);
        assert_eq!(profile.endpoints[0].method, "GET");
    }

    #[test]
    fn prefix_paths_answer_under_them_with_the_id_in_the_body() {
        let text = r#"
            [[endpoint]]
            name = "top"
            path = "/v0/topstories.json"
            body = '[1, 2]'
            latency = "10ms"

            [[endpoint]]
            name = "item"
            path = "/v0/item/*"
            body = '{"id": {id}, "type": "story"}'
            latency = "10ms"
        "#;
        let profile: Profile = toml::from_str(text).unwrap();
        profile.validate().unwrap();
        assert_eq!(profile.route("GET", "/v0/item/42.json"), Some(1));
        assert_eq!(profile.route("GET", "/v0/item/"), None);
        assert_eq!(profile.route("GET", "/v0/topstories.json"), Some(0));
        let item = &profile.endpoints[1];
        assert_eq!(
            item.fixed_body("/v0/item/42.json").unwrap(),
            r#"{"id": 42, "type": "story"}"#
        );
        assert_eq!(item.request_path(), "/v0/item/1");
        let mut broken = profile.clone();
        broken.endpoints[1].body = Some("{id: not json".to_string());
        assert!(broken.validate().unwrap_err().contains("not valid JSON"));
        broken.endpoints[1].path = "/v0/*/item".to_string();
        assert!(broken.validate().is_err());
    }

    #[test]
    fn catch_all_answers_any_get_path() {
        let profile = Profile::single("10ms".parse().unwrap());
        assert_eq!(profile.route("GET", "/anything/at/all"), Some(0));
        assert_eq!(profile.route("POST", "/items"), None);
    }

    #[test]
    fn rejects_broken_profiles() {
        let unknown_field = "[[endpoint]]\nname='a'\npath='/a'\nlatency='1s'\ncolour='red'";
        assert!(toml::from_str::<Profile>(unknown_field).is_err());
        let bad_latency = "[[endpoint]]\nname='a'\npath='/a'\nlatency='soon'";
        assert!(toml::from_str::<Profile>(bad_latency).is_err());
        let no_slash: Profile =
            toml::from_str("[[endpoint]]\nname='a'\npath='a'\nlatency='1s'").unwrap();
        assert!(
            no_slash
                .validate()
                .unwrap_err()
                .contains("must start with /")
        );
        let empty = Profile {
            endpoints: vec![],
            limits: ServerLimits::default(),
            network: Network::default(),
            stall: None,
        };
        assert!(empty.validate().is_err());
    }
}
