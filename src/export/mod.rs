//! `fanout export`: a scenario written as a load engine's own script, so the same
//! requests can be made by Locust's workers or k6's execution segments, on one machine
//! or on many, and still be checked against fanout's ledger.
//!
//! A load engine does not know fanout's strategies; it knows *virtual users* (a Locust
//! user, a k6 VU: a loop that makes a request, waits for it, and makes the next) and
//! *arrival schedules* (k6's arrival-rate executors: a request starts on the clock
//! whether or not the last one answered). Every exportable strategy is one of three
//! shapes, and [`plan`] is the one place that decides which:
//!
//! - [`Pace::Loops`]: `users` closed loops sharing the n requests. One loop is
//!   `sync-sequential`; n loops of one request each is gather (`async-concurrent`); k
//!   loops is a semaphore of k (`async-semaphore`, `async-buffered`, `async-hyper`),
//!   and a pool of k threads (`sync-threads`).
//! - [`Pace::Paced`]: closed loops, each throttled to `rate / users` per second and
//!   started 1/rate apart, so together they start a request every 1/rate: Locust's
//!   `constant_throughput` standing in for `async-ratelimited`'s GCRA.
//! - [`Pace::Arrivals`]: an open loop, requests started at `rate` (or on a ramp) per
//!   second with at most `max_in_flight` at once: k6's `constant-arrival-rate` and
//!   `ramping-arrival-rate`, which is what `async-arrival-rate` is, and what
//!   `async-ratelimited` is too (every request spawned, admitted at the rate).
//!
//! Every request still carries `?seq=i` for `i` in `0..n`, each `i` exactly once
//! across every worker, so the mock API gives it the same seeded delay and fault it
//! gives fanout's own run and the ledger can count each one. A strategy whose point is
//! something no virtual user can do (cancel another's request, race copies, a channel
//! between stages, a mistake inside fanout's own runtime) is refused with the reason:
//! an export that looked like it but measured something else would be worse than none.
//!
//! Read next: [`locust`] and [`k6`], which write the scripts; [`crate::distributed`],
//! which runs them.

pub mod k6;
pub mod locust;

use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::scenario::Scenario;
use crate::strategy::arrival::Ramp;
use crate::strategy::{ClientReuse, HttpVersion, Strategy};

/// The load engines fanout writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LoadEngine {
    /// Locust (Python, gevent): a master and workers, `FastHttpUser`.
    Locust,
    /// k6 (Go, JavaScript scripts): executors, execution segments.
    K6,
}

impl LoadEngine {
    /// The name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LoadEngine::Locust => "locust",
            LoadEngine::K6 => "k6",
        }
    }

    /// The exported file's usual name.
    pub fn file_name(self) -> &'static str {
        match self {
            LoadEngine::Locust => "locustfile.py",
            LoadEngine::K6 => "k6-script.js",
        }
    }
}

/// How the engine's virtual users make the n requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// `users` closed loops sharing the requests: each takes the next number when its
    /// last request ended.
    Loops {
        /// Virtual users in all (across every worker).
        users: u64,
    },
    /// `users` closed loops, each at most `rate / users` requests per second, started
    /// 1/rate apart (Locust's `constant_throughput`).
    Paced {
        /// Virtual users in all.
        users: u64,
        /// Requests per second in all.
        rate: f64,
    },
    /// An open loop: request i starts at its time on the schedule, answered or not.
    Arrivals {
        /// Requests per second (after the ramp, when there is one).
        rate: f64,
        /// A linear ramp up to `rate` first.
        ramp: Option<Ramp>,
        /// The most requests in flight at once (k6's `maxVUs`).
        max_in_flight: u64,
        /// Virtual users made before the start (k6's `preAllocatedVUs`): the rate ×
        /// the slowest delay, as [`Pace::Paced`] sizes its users, at most `max_in_flight`.
        pre_allocated: u64,
    },
}

/// One endpoint of the profile, as a script calls it: request `seq` goes to endpoint
/// `seq % endpoints`.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointCall {
    /// The name the engine's statistics group it under.
    pub name: String,
    /// The HTTP method.
    pub method: String,
    /// The path, with the endpoint's own query (the script appends `seq`).
    pub path_and_query: String,
    /// Whether a JSON body is sent (POST, PUT, PATCH), as fanout sends it.
    pub body: bool,
}

/// A scenario as an engine's script will make it: the shape, the requests, and what
/// maps exactly and what does not.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The engine the plan is for.
    pub engine: LoadEngine,
    /// The strategy it stands in for.
    pub strategy: Strategy,
    /// Requests in all.
    pub n: u64,
    /// How the virtual users make them.
    pub pace: Pace,
    /// The profile's endpoints; empty for a `--target` (its URL comes from the
    /// environment when the script runs, so it never sits in the file).
    pub endpoints: Vec<EndpointCall>,
    /// The target, redacted, for the header only.
    pub target: Option<String>,
    /// One attempt's limit (`--timeout`).
    pub timeout: Option<Duration>,
    /// Retries after a retryable outcome (`--retries`).
    pub retries: u32,
    /// The first retry's base wait (`--backoff`).
    pub backoff: Duration,
    /// A new connection per request (`--client per-request`).
    pub fresh_connections: bool,
    /// The whole run ends by then.
    pub deadline: Duration,
    /// The mock API's URL the script uses when none is given at run time.
    pub default_url: String,
    /// What maps exactly, for the header.
    pub exact: Vec<String>,
    /// What does not, and how far off it is, for the header.
    pub approximate: Vec<String>,
}

/// Why a strategy has no faithful script in `engine`, or `None` when it has one.
pub fn refusal(strategy: Strategy, engine: LoadEngine) -> Option<&'static str> {
    match strategy {
        Strategy::AsyncFailfast => Some(
            "its first failure cancels every request still in flight, and no virtual user can cancel another's request",
        ),
        Strategy::AsyncNaiveRatelimited => Some(
            "it is the book chapter's sliding-window limiter ported as written, bursts and all, and no engine has that limiter",
        ),
        Strategy::AsyncFirstOf | Strategy::AsyncHedged => Some(
            "its copies race and the first answer cancels the others, and no engine cancels one request when another answers",
        ),
        Strategy::AsyncPipeline => Some(
            "its bodies cross a bounded channel to consumers inside one process, and a virtual user has no consumer stage",
        ),
        Strategy::PitfallBlockingSleep
        | Strategy::PitfallAsyncSleep
        | Strategy::PitfallNeverAwaited => Some(
            "a pitfall is a mistake inside fanout's own async runtime, and there is nothing in it for an engine to reproduce",
        ),
        Strategy::AsyncArrivalRate if engine == LoadEngine::Locust => Some(
            "it is an open loop, and a Locust user is a closed one: it waits for each answer, which hides the queueing an open loop measures (export it to k6, whose arrival-rate executors are open loops)",
        ),
        _ => None,
    }
}

/// The plan for `scenario` on `engine`, or the one-line reason it has none (exit 2).
/// `default_url` is the mock API's URL the script falls back to.
pub fn plan(scenario: &Scenario, engine: LoadEngine, default_url: &str) -> Result<Plan, Error> {
    scenario.validate()?;
    let refuse = |why: String| Error::NotExportable {
        strategy: scenario.strategy.name().to_string(),
        engine: engine.name().to_string(),
        why,
    };
    if let Some(why) = refusal(scenario.strategy, engine) {
        return Err(refuse(why.to_string()));
    }
    if scenario.client.http == HttpVersion::Http2 {
        return Err(refuse(match engine {
            LoadEngine::Locust => "--http 2: Locust's FastHttpUser speaks HTTP/1.1 only".into(),
            LoadEngine::K6 => {
                "--http 2: k6 speaks HTTP/2 only over TLS, and an exported scenario is plain HTTP"
                    .into()
            }
        }));
    }
    if scenario.tls.is_some() {
        return Err(refuse(
            "--tls: the engine would have to skip the certificate check (k6 and Locust's FastHttpUser cannot be told to trust one CA), which the mock API's TLS is there to measure".into(),
        ));
    }
    if scenario.client.stop.after.is_some() {
        return Err(refuse(
            "--stop-after: neither engine stops a run part-way and accounts for what it never sent, as fanout's stop does".into(),
        ));
    }
    check_url(default_url)
        .map_err(|why| refuse(format!("--url {}: {why}", crate::redact::url(default_url))))?;
    if scenario.profile.endpoints.iter().any(|e| e.fault.refused) {
        return Err(refuse(
            "a 'refused' endpoint points at a closed port fanout picks when it runs, and a script cannot know it".into(),
        ));
    }
    let n = scenario.n;
    let client = &scenario.client;
    let mut exact = vec![format!(
        "n = {n} requests, request i to ?seq=i, each i made exactly once across every worker, so the mock API draws the same delay and fault for it as for fanout's own run"
    )];
    let mut approximate = Vec::new();
    let pace = match scenario.strategy {
        Strategy::SyncSequential | Strategy::AsyncSequential => {
            exact.push("one virtual user: each request starts when the last one ended".into());
            Pace::Loops { users: 1 }
        }
        Strategy::SyncThreads => {
            exact.push(format!(
                "{} virtual users looping, as {} threads each take the next request",
                client.threads, client.threads
            ));
            Pace::Loops {
                users: (client.threads as u64).min(n),
            }
        }
        Strategy::AsyncConcurrent => {
            exact.push(format!(
                "{n} virtual users, one request each, all started at once: gather"
            ));
            Pace::Loops { users: n }
        }
        Strategy::AsyncSemaphore | Strategy::AsyncBuffered | Strategy::AsyncHyper => {
            exact.push(format!(
                "a limit of {} is {} virtual users looping: at most {} requests in flight",
                client.limit, client.limit, client.limit
            ));
            Pace::Loops {
                users: (client.limit as u64).min(n),
            }
        }
        Strategy::AsyncRatelimited => match engine {
            LoadEngine::Locust => {
                let users = paced_users(scenario, client.rate);
                approximate.push(format!(
                    "the rate of {}/s is {users} users each at most {:.3}/s (constant_throughput), started 1/rate apart: a closed loop, so a request slower than {:.3} s delays that user's next start, where fanout's GCRA would admit it on time",
                    client.rate,
                    client.rate / users as f64,
                    users as f64 / client.rate
                ));
                Pace::Paced {
                    users,
                    rate: client.rate,
                }
            }
            LoadEngine::K6 => {
                exact.push(format!("the rate of {}/s is constant-arrival-rate: every request started on the clock, answered or not, as fanout admits its spawned requests", client.rate));
                Pace::Arrivals {
                    rate: client.rate,
                    ramp: None,
                    max_in_flight: n,
                    pre_allocated: paced_users(scenario, client.rate),
                }
            }
        },
        Strategy::AsyncArrivalRate => {
            let rate = client.ramp.map_or(client.rate, |r| r.to);
            exact.push(format!(
                "an open loop at {} with at most {} in flight: {}",
                client.ramp.map_or(format!("{rate}/s"), |r| r.describe()),
                client.max_in_flight,
                if client.ramp.is_some() {
                    "ramping-arrival-rate"
                } else {
                    "constant-arrival-rate"
                }
            ));
            if client.ramp.is_some() {
                approximate.push("k6 ramps the rate in steps it chooses and stops at the end of the last stage: the count is the rate's integral over the stages, which fanout sets to n".into());
            }
            let max_in_flight = (client.max_in_flight as u64).min(n);
            Pace::Arrivals {
                rate,
                ramp: client.ramp,
                max_in_flight,
                pre_allocated: paced_users(scenario, rate).min(max_in_flight),
            }
        }
        other => return Err(refuse(format!("{} has no export", other.name()))),
    };
    let pace = match (scenario.target.as_ref(), client.pace) {
        (Some(_), Some(polite)) => {
            // A server the user owns is never loaded faster than fanout itself would.
            exact.push(format!(
                "every attempt is paced to {polite}/s, as fanout paces a --target"
            ));
            let users = pace_users(pace);
            match engine {
                LoadEngine::Locust => Pace::Paced {
                    users,
                    rate: polite,
                },
                LoadEngine::K6 => Pace::Arrivals {
                    rate: polite,
                    ramp: None,
                    max_in_flight: users,
                    pre_allocated: users,
                },
            }
        }
        _ => pace,
    };
    if let Pace::Loops { users } = pace
        && users > 1
        && users < n
    {
        approximate.push(
            "across W workers each takes n/W of the requests: a worker that finishes its share first (or was given fewer users, when they do not divide evenly) leaves its users idle while the others' go on, where one semaphore would hand them the rest".into(),
        );
    }
    if client.retries > 0 {
        exact.push(format!(
            "{} retries of timeouts, broken connections, 429 and 5xx, waiting base x 2^k plus up to as much again of jitter (base {} ms), stretched to the server's retry-after-ms or Retry-After",
            client.retries,
            client.backoff.as_millis()
        ));
    }
    match client.timeout {
        Some(t) => exact.push(format!("each attempt gives up after {} ms", t.as_millis())),
        None => approximate.push("no --timeout: the engine's own default applies (60 s in both), where fanout waits until the run's deadline".into()),
    }
    let fresh_connections = client.reuse == ClientReuse::PerRequest;
    if fresh_connections {
        approximate.push(match engine {
            LoadEngine::Locust => "a client per request is each request sent with Connection: close, so every request opens a connection".into(),
            LoadEngine::K6 => "a client per request is noConnectionReuse: every request opens a connection".into(),
        });
    } else {
        exact.push(
            "each virtual user keeps its connection alive, as a shared client's pool does".into(),
        );
    }
    approximate.push(
        "the engine's own client is measured, not reqwest or ureq: its CPU per request is its own"
            .into(),
    );
    let endpoints = match &scenario.target {
        Some(_) => Vec::new(),
        None => scenario
            .profile
            .endpoints
            .iter()
            .map(|e| EndpointCall {
                name: e.name.clone(),
                method: e.method.clone(),
                path_and_query: match &e.query {
                    Some(q) => format!("{}?{q}", e.request_path()),
                    None => e.request_path(),
                },
                body: matches!(e.method.as_str(), "POST" | "PUT" | "PATCH"),
            })
            .collect(),
    };
    Ok(Plan {
        engine,
        strategy: scenario.strategy,
        n,
        pace,
        endpoints,
        target: scenario.target.as_deref().map(crate::redact::url),
        timeout: client.timeout,
        retries: client.retries,
        backoff: client.backoff,
        fresh_connections,
        deadline: scenario.deadline(),
        default_url: default_url.to_string(),
        exact,
        approximate,
    })
}

/// The virtual users of a pace.
fn pace_users(pace: Pace) -> u64 {
    match pace {
        Pace::Loops { users } | Pace::Paced { users, .. } => users,
        Pace::Arrivals { max_in_flight, .. } => max_in_flight,
    }
}

/// Why `url` cannot be the mock API's base URL, if it cannot.
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| e.to_string())?;
    match (parsed.scheme(), parsed.host()) {
        ("http", Some(_)) if parsed.username().is_empty() && parsed.password().is_none() => Ok(()),
        ("http", Some(_)) => Err("a URL with a user name or password is not sent".to_string()),
        _ => Err("not an http:// URL with a host".to_string()),
    }
}

/// Users enough to hold `rate` when each waits for its answer: by Little's law the
/// requests in flight are rate × latency, so rate × the slowest request (its delay
/// and the emulated network's cost, [`Scenario::slowest_request`]; and half as many
/// again for the client's own time), at least one and at most n.
fn paced_users(scenario: &Scenario, rate: f64) -> u64 {
    let slowest = scenario.slowest_request();
    let users = (rate * slowest.as_secs_f64() * 1.5).ceil() as u64 + 1;
    users.clamp(1, scenario.n)
}

impl Plan {
    /// The header both scripts open with, one line per item, for a comment.
    pub fn header_lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!(
                "fanout's {} as a {} script, written by `fanout export {}`.",
                self.strategy.name(),
                self.engine.name(),
                self.engine.name()
            ),
            match &self.target {
                Some(target) => format!(
                    "Every request goes to the target {target} (set FANOUT_TARGET to its full URL when you run this)."
                ),
                None => format!(
                    "Requests go to the mock API (`fanout serve`), {} unless told otherwise.",
                    self.default_url
                ),
            },
            String::new(),
            "Maps exactly:".to_string(),
        ];
        lines.extend(self.exact.iter().map(|l| format!("  - {l}")));
        lines.push("Does not map exactly:".to_string());
        lines.extend(self.approximate.iter().map(|l| format!("  - {l}")));
        lines
    }

    /// The deadline in whole seconds, rounded up.
    pub fn deadline_secs(&self) -> u64 {
        self.deadline.as_secs_f64().ceil() as u64
    }
}

/// The script for `plan`.
pub fn render(plan: &Plan) -> String {
    match plan.engine {
        LoadEngine::Locust => locust::render(plan),
        LoadEngine::K6 => k6::render(plan),
    }
}

#[cfg(test)]
mod tests;
