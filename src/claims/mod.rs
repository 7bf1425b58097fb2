//! The claims: every performance claim of the three tutorials, as data, with a rule
//! that turns what a run measured into a verdict.
//!
//! A [`Claim`] says what the document says (in our words, with its figures), how to
//! test it ([`Claim::plan`]: the [`Trial`]s, each run on a fresh mock API)
//! and how to judge it ([`Claim::judge`]: from the trials' summaries to a [`Judgement`]
//! with a one-line reason). Nothing is decided in advance: a verdict is computed from
//! the figures measured in the run that reports it. Claims that need a capability
//! fanout does not have yet are kept in the catalogue as `pending`, with the missing
//! capability named.
//!
//! Engine: every trial runs on the context's [`Engine`]. A rule that needs a figure the
//! engine does not give (see [`crate::server::engine`]) judges `not measured` and says
//! which figure, rather than judging a null as zero.
//!
//! Time scale: every delay is multiplied by the run's time scale (0.1 by default), so
//! the whole catalogue runs in under a minute; ratios are what the verdicts compare,
//! and absolute figures are scaled with the delays.
//!
//! Read next: [`catalogue`] (the rows), [`trial`] (the trials and their keys),
//! [`rules`] and [`behaviour`] (the verdict rules).

pub mod behaviour;
pub mod catalogue;
pub mod news;
pub mod rules;
pub mod trial;

pub use trial::{Ran, Trial, TrialKey};

use serde::Serialize;

use crate::error::Error;
use crate::server::network::{Network, Preset};
use crate::server::tls::TlsVersion;
use crate::server::{Engine, Placement};

/// The three source documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Document {
    /// An article on async API calls with HTTPX, TaskGroups and semaphores.
    #[serde(rename = "D0")]
    HttpxTaskGroups,
    /// A book chapter, "Asynchronous API Calls", with its news aggregator.
    #[serde(rename = "D1")]
    BookChapter,
    /// A guide to asynchronous HTTP with aiohttp.
    #[serde(rename = "D2")]
    AiohttpGuide,
    /// No document: a lesson beyond the tutorials ([`catalogue::beyond`]).
    #[serde(rename = "beyond")]
    Beyond,
}

impl Document {
    /// A short title for reports.
    pub fn title(self) -> &'static str {
        match self {
            Document::HttpxTaskGroups => "D0: HTTPX and TaskGroups article",
            Document::BookChapter => "D1: book chapter, Asynchronous API Calls",
            Document::AiohttpGuide => "D2: aiohttp guide",
            Document::Beyond => "Beyond the tutorials",
        }
    }
}

/// A verdict on one claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The measurement agrees with the document's figure.
    Reproduced,
    /// It holds, with a condition or a correction the report states.
    Qualified,
    /// The measurement contradicts the document.
    Refuted,
    /// Not testable yet: the capability it needs is named in the reason.
    Pending,
    /// The rule needs a figure this run's engine does not give (wiremock counts no
    /// connections); the reason names the figure and the engine.
    NotMeasured,
}

impl Verdict {
    /// The name used in tables.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Qualified => "qualified",
            Verdict::Refuted => "refuted",
            Verdict::Pending => "pending",
            Verdict::NotMeasured => "not measured",
        }
    }
}

/// What the run of a claim needs to know.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// Every delay is multiplied by this.
    pub time_scale: f64,
    /// Seeds the server's delay draws.
    pub seed: u64,
    /// The HTTP server every trial's mock API runs on.
    pub engine: Engine,
    /// The network between client and mock API, and its TLS.
    pub setting: Setting,
}

impl Context {
    /// A context on fanout's own engine, over loopback.
    pub fn new(time_scale: f64, seed: u64) -> Context {
        Context {
            time_scale,
            seed,
            engine: Engine::Fanout,
            setting: Setting::Loopback,
        }
    }

    /// The network every trial's mock API emulates, its round trips scaled with the
    /// delays.
    pub fn network(&self) -> Network {
        self.setting.network().scaled(self.time_scale)
    }
}

/// Where a claim's trials run: on loopback, where a connection is free, or over an
/// internet-like link, where the tutorials measured.
///
/// The tutorials called real APIs over HTTPS, tens of milliseconds away: every new
/// connection paid a TCP handshake and a TLS one, every request a round trip. On
/// loopback those cost a tenth of a millisecond, so the claims that turn on connections
/// ([`Setting::applies_to`]) run in both settings and the report shows both rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Setting {
    /// 127.0.0.1 over plain HTTP: nothing added.
    Loopback,
    /// The `continent` preset (40 ms round trips at time scale 1) with TLS 1.3.
    InternetLike,
}

impl Setting {
    /// Both settings, loopback first.
    pub const ALL: [Setting; 2] = [Setting::Loopback, Setting::InternetLike];

    /// The claims whose verdict turns on connections or round trips: they run in both
    /// settings; every other claim runs on loopback only.
    pub const OVER_THE_NETWORK: [&'static str; 7] = [
        "D0-fig1",
        "D0-100",
        "D0-reuse",
        "D0-h2",
        "D2-session",
        "D2-pool",
        "D1-news",
    ];

    /// True when `claim` runs in this setting.
    pub fn applies_to(self, claim: &Claim) -> bool {
        self == Setting::Loopback || Setting::OVER_THE_NETWORK.contains(&claim.id)
    }

    /// The name reports print.
    pub fn name(self) -> &'static str {
        match self {
            Setting::Loopback => "loopback",
            Setting::InternetLike => "internet-like",
        }
    }

    /// The network at time scale 1.
    pub fn network(self) -> Network {
        match self {
            Setting::Loopback => Preset::Loopback.network(),
            Setting::InternetLike => Preset::Continent.network(),
        }
    }

    /// The TLS version the mock API serves, if any.
    pub fn tls(self) -> Option<TlsVersion> {
        match self {
            Setting::Loopback => None,
            Setting::InternetLike => Some(TlsVersion::Tls13),
        }
    }

    /// What a report says of it: `loopback` or `continent (rtt 40ms) + TLS 1.3`.
    pub fn describe(self) -> String {
        match self.tls() {
            None => self.network().to_string(),
            Some(tls) => format!("{} + TLS {tls}", self.network()),
        }
    }
}

/// A claim's verdict with the figures behind it, in words and numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// The verdict.
    pub verdict: Verdict,
    /// One line, in plain words, saying why.
    pub reason: String,
    /// What was measured, in short.
    pub measured: String,
    /// What the model predicted, in short.
    pub predicted: String,
    /// Speedups, for claims about one: the document's, the model's, the measured.
    pub speedup: Option<Speedups>,
}

/// The three speedups a speed claim compares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Speedups {
    /// The document's own figure, when it gives one.
    pub document: Option<f64>,
    /// The model's, from the seeded delays and calibrated overheads.
    pub model: f64,
    /// The measured one.
    pub measured: f64,
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// Stable identifier, e.g. `D0-fig1`.
    pub id: &'static str,
    /// Which document.
    pub document: Document,
    /// Where in the document.
    pub section: &'static str,
    /// What the document says, in our words, with its figures.
    pub says: &'static str,
    /// The document's figure, as the table shows it.
    pub figure: &'static str,
    /// The trials to run.
    pub plan: fn(&Context) -> Vec<Trial>,
    /// The verdict rule.
    pub judge: fn(&Context, &[Ran]) -> Judgement,
}

/// A claim after its trials ran and its rule judged them.
#[derive(Debug, Clone)]
pub struct ClaimResult {
    /// The row.
    pub claim: Claim,
    /// The network its trials ran over.
    pub setting: Setting,
    /// The verdict and its figures.
    pub judgement: Judgement,
    /// The trials, for charts.
    pub runs: Vec<Ran>,
}

/// Runs one claim's trials (a fresh mock API each) and judges them.
pub fn evaluate(
    claim: &Claim,
    context: &Context,
    placement: &Placement,
) -> Result<ClaimResult, Error> {
    let runs = trial::run_plan((claim.plan)(context), placement)?;
    let judgement = (claim.judge)(context, &runs);
    Ok(ClaimResult {
        claim: *claim,
        setting: context.setting,
        judgement,
        runs,
    })
}

impl ClaimResult {
    /// The row's name in tables: the claim's id, with the setting when it is not
    /// loopback (`D0-reuse internet-like`).
    pub fn label(&self) -> String {
        match self.setting {
            Setting::Loopback => self.claim.id.to_string(),
            setting => format!("{} {}", self.claim.id, setting.name()),
        }
    }

    /// The row's name in file names and anchors: `D0-reuse`, `D0-reuse-internet-like`.
    pub fn slug(&self) -> String {
        self.label().replace(' ', "-")
    }
}
