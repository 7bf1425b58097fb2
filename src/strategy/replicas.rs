//! First answer wins: `async-first-of` and `async-hedged`, two ways of spending extra
//! requests to cut the wait for one answer.
//!
//! Both send *copies* of one logical request. A copy is the same request with
//! `&copy=c` in its query (c = 1, 2, …; the request itself is copy 0), and the mock
//! API gives each copy a delay and a fault of its own, drawn from a seed of its own
//! ([`crate::server::latency::copy_seed`]): two copies are two replicas of a service,
//! each as slow or as fast as luck has it. Copy 0 draws exactly what the request draws
//! in every other strategy, so a hedged run and an unhedged one share their first
//! copies' delays and differ only by the hedges.
//!
//! - **`async-first-of --replicas K`** sends K copies at once and takes the first `ok`
//!   answer; the others are dropped. Dropping a reqwest future is the cancellation: its
//!   connection is closed mid-request, and the server's ledger records those copies as
//!   abandoned (they arrived; their answers went nowhere). The model's time per request
//!   is the smallest of its K draws. It costs K times the requests, always.
//! - **`async-hedged --hedge-after D|pNN`** sends one copy, and a second only if the
//!   first has not answered after D, or after the NNth percentile of the answers seen
//!   so far in this run (Dean and Barroso, "The Tail at Scale", 2013: hedging after the
//!   95th percentile costs about 5 % more requests and cuts the tail the slowest 5 %
//!   make). First answer wins. Until [`WARM_UP_ANSWERS`] answers have been seen, a
//!   percentile is not known and nothing is hedged yet; a request waiting then is
//!   hedged as soon as the percentile says it is late.
//!
//! What the percentile is taken over matters. The run's own answers will not do: a
//! hedged request answers at the hedge's time, sooner than its first copy would have,
//! so a threshold that starts low (the first answers of a run are its fastest) records
//! early answers and stays low, hedging ever more (measured here: 9 % extra requests
//! at p95 instead of 5). So the threshold counts what the *first copies* took: exactly,
//! when the first copy answered first; and, when the hedge won, as "slower than
//! anything" (the first copy's time is not known, only that it was late). A threshold
//! below the true p95 then sees more than 5 % of "slower than anything" and rises; one
//! above sees the first copies' own times and settles on their p95.
//!
//! Both run under `--limit` permits, one per logical request (as `async-semaphore`):
//! a request's copies share its permit, so the server may see up to K × limit in
//! flight. Each logical request ends as one sample; [`Sample::copies`] says how many
//! copies beside the first it sent, and its `attempts` are the winning copy's.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::asynchronous::{Fetcher, join_in_order};
use super::request::PlannedRequest;
use crate::measure::{MicrosHistogram, Outcome, Sample};

/// Answers a percentile threshold needs before it is trusted: with fewer, the
/// slowest of them says little about the 95th percentile.
pub const WARM_UP_ANSWERS: u64 = 20;

/// How often a request waiting for its hedge looks at the threshold again.
const RECHECK: Duration = Duration::from_millis(10);

/// When `async-hedged` sends its second copy (`--hedge-after`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum HedgeAfter {
    /// After a fixed wait: `--hedge-after 120ms`.
    Fixed(Duration),
    /// After the run's observed percentile so far: `--hedge-after p95`.
    Percentile(f64),
}

impl HedgeAfter {
    /// The default: Dean and Barroso's 95th percentile.
    pub const DEFAULT: HedgeAfter = HedgeAfter::Percentile(95.0);
}

impl std::str::FromStr for HedgeAfter {
    type Err = String;

    /// `120ms`, `1s`, or `pNN` with 0 < NN < 100 (`p95`, `p99.9`).
    fn from_str(text: &str) -> Result<HedgeAfter, String> {
        let text = text.trim();
        if let Some(number) = text.strip_prefix('p') {
            let q: f64 = number
                .parse()
                .map_err(|_| format!("'{text}' is not a percentile: write p95, p99 or p99.9"))?;
            if !(q > 0.0 && q < 100.0) {
                return Err(format!(
                    "'{text}': the percentile must be above p0 and below p100"
                ));
            }
            return Ok(HedgeAfter::Percentile(q));
        }
        if text.starts_with('-') {
            return Err(format!(
                "'{text}': a hedge cannot be sent before its request"
            ));
        }
        crate::server::latency::parse_duration(text)
            .map(HedgeAfter::Fixed)
            .map_err(|e| {
                format!("'{text}' is neither a duration (120ms) nor a percentile (p95): {e}")
            })
    }
}

impl std::fmt::Display for HedgeAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HedgeAfter::Fixed(wait) => f.write_str(&crate::server::latency::format_duration(*wait)),
            HedgeAfter::Percentile(q) => write!(f, "p{q}"),
        }
    }
}

impl TryFrom<String> for HedgeAfter {
    type Error = String;
    fn try_from(text: String) -> Result<HedgeAfter, String> {
        text.parse()
    }
}

impl From<HedgeAfter> for String {
    fn from(hedge: HedgeAfter) -> String {
        hedge.to_string()
    }
}

/// Copy `c` of `request`: the same request, told apart at the server by `&copy=c`.
fn copy_of(request: &PlannedRequest, c: u32) -> PlannedRequest {
    if c == 0 {
        return request.clone();
    }
    let text = request.url.as_str();
    let joined = if text.contains('?') {
        format!("{text}&copy={c}")
    } else {
        format!("{text}?copy={c}")
    };
    let url = super::request::RequestUrl::parse(&joined)
        .expect("a parsed URL with a numeric query parameter added still parses");
    PlannedRequest {
        url,
        ..request.clone()
    }
}

/// `async-first-of`: every request as `replicas` copies at once, the first `ok` answer
/// wins, under `limit` permits.
pub(super) async fn first_of(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    limit: usize,
    replicas: usize,
) -> Vec<Sample> {
    let replicas = u32::try_from(replicas.max(1)).unwrap_or(u32::MAX);
    under_permits(
        fetcher,
        requests,
        limit,
        move |fetcher, request| async move {
            let copies: Vec<PlannedRequest> = (0..replicas).map(|c| copy_of(&request, c)).collect();
            let start = fetcher.clock().now();
            let racing: FuturesUnordered<_> = copies
                .iter()
                .zip(0..)
                .map(|(c, copy)| tagged(copy, fetcher.attempt_all(c)))
                .collect();
            let (_, mut sample) = first_ok(racing).await;
            sample.start = start;
            sample.copies = replicas - 1;
            sample
        },
    )
    .await
}

/// `async-hedged`: every request once, and a second copy once it is late by
/// `hedge_after`; the first `ok` answer wins, under `limit` permits.
pub(super) async fn hedged(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    limit: usize,
    hedge_after: HedgeAfter,
) -> Vec<Sample> {
    let threshold = Arc::new(Threshold::new(hedge_after));
    under_permits(fetcher, requests, limit, move |fetcher, request| {
        let threshold = threshold.clone();
        async move {
            let start = fetcher.clock().now();
            let begun = tokio::time::Instant::now();
            let hedge = copy_of(&request, 1);
            let mut first = Box::pin(tagged(0, fetcher.attempt_all(&request)));
            let early = tokio::select! {
                answer = &mut first => Some(answer),
                () = threshold.due(begun) => None,
            };
            let (winner, mut sample) = match early {
                Some(answer) => answer,
                // Stopping: nothing new is sent, the first copy may still answer.
                None if fetcher.clock().is_stopping() => first.await,
                None => {
                    let second = Box::pin(tagged(1, fetcher.attempt_all(&hedge)));
                    let racing: FuturesUnordered<_> = [first, second].into_iter().collect();
                    let (winner, mut sample) = first_ok(racing).await;
                    sample.copies = 1;
                    (winner, sample)
                }
            };
            sample.start = start;
            if sample.outcome == Outcome::Ok {
                // The first copy's time: known when it won, "later" when the hedge did.
                let first_copy_took = (winner == 0).then(|| sample.latency());
                threshold.observe(first_copy_took);
            }
            sample
        }
    })
    .await
}

/// A copy's sample, with the copy's number.
async fn tagged<F: std::future::Future<Output = Sample>>(copy: u32, copy_sent: F) -> (u32, Sample) {
    (copy, copy_sent.await)
}

/// The first `ok` sample of the racing copies, with its copy's number; the rest are
/// dropped, which cancels them. When none is `ok`, the last to end.
async fn first_ok<F>(mut racing: FuturesUnordered<F>) -> (u32, Sample)
where
    F: std::future::Future<Output = (u32, Sample)>,
{
    let mut last = None;
    while let Some((copy, sample)) = racing.next().await {
        if sample.outcome == Outcome::Ok {
            return (copy, sample);
        }
        last = Some((copy, sample));
    }
    last.expect("at least one copy raced")
}

/// Spawns every request; each waits for one of `limit` permits, then `race` makes it
/// (its copies sharing the permit). One counted sample per request, in order.
async fn under_permits<R, Fut>(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    limit: usize,
    race: R,
) -> Vec<Sample>
where
    R: Fn(Fetcher, PlannedRequest) -> Fut,
    Fut: std::future::Future<Output = Sample> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let ids = (request.seq, request.endpoint);
            let (waiting, permits) = (fetcher.clone(), permits.clone());
            let raced = race(fetcher.clone(), request.clone());
            let task = tokio::spawn(async move {
                let Some(Ok(_permit)) = waiting.wait(permits.acquire_owned()).await else {
                    return waiting.cancelled(&request, None);
                };
                if waiting.clock().is_stopping() {
                    return waiting.cancelled(&request, None);
                }
                waiting.clock().count(raced.await)
            });
            (ids, task)
        })
        .collect();
    join_in_order(&fetcher, tasks).await
}

/// When a request is late enough to hedge: a fixed wait, or the percentile of the
/// answers seen so far.
struct Threshold {
    hedge_after: HedgeAfter,
    answers: Mutex<MicrosHistogram>,
}

impl Threshold {
    fn new(hedge_after: HedgeAfter) -> Threshold {
        Threshold {
            hedge_after,
            answers: Mutex::new(MicrosHistogram::new()),
        }
    }

    /// Counts what one request's first copy took: `None` when the hedge answered
    /// first, so all that is known is that the first copy was late; it counts as
    /// slower than anything.
    fn observe(&self, first_copy_took: Option<Duration>) {
        if let HedgeAfter::Percentile(_) = self.hedge_after {
            let mut answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
            answers.record(first_copy_took.map_or(u64::MAX, |took| took.as_micros() as u64));
        }
    }

    /// The wait after which a request is hedged, if known yet.
    fn now(&self) -> Option<Duration> {
        match self.hedge_after {
            HedgeAfter::Fixed(wait) => Some(wait),
            HedgeAfter::Percentile(q) => {
                let answers = self.answers.lock().unwrap_or_else(|p| p.into_inner());
                (answers.len() >= WARM_UP_ANSWERS)
                    .then(|| Duration::from_micros(answers.quantile_us(q / 100.0)))
            }
        }
    }

    /// Resolves once a request begun at `begun` is late by the threshold, looking
    /// again at least every [`RECHECK`] (the percentile moves as answers come in).
    async fn due(&self, begun: tokio::time::Instant) {
        loop {
            match self.now() {
                Some(wait) if begun.elapsed() >= wait => return,
                Some(wait) => {
                    let recheck = tokio::time::Instant::now() + RECHECK;
                    tokio::time::sleep_until(recheck.min(begun + wait)).await;
                }
                None => tokio::time::sleep(RECHECK).await,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedge_after_reads_a_duration_or_a_percentile_and_refuses_the_rest() {
        assert_eq!(
            "120ms".parse::<HedgeAfter>(),
            Ok(HedgeAfter::Fixed(Duration::from_millis(120)))
        );
        assert_eq!(
            "p95".parse::<HedgeAfter>(),
            Ok(HedgeAfter::Percentile(95.0))
        );
        assert_eq!(
            "p99.9".parse::<HedgeAfter>(),
            Ok(HedgeAfter::Percentile(99.9))
        );
        for bad in ["p0", "p100", "p-5", "pxx", "-5ms", "soon"] {
            assert!(bad.parse::<HedgeAfter>().is_err(), "{bad}");
        }
        let text = HedgeAfter::DEFAULT.to_string();
        assert_eq!(text.parse::<HedgeAfter>(), Ok(HedgeAfter::DEFAULT));
    }

    #[test]
    fn a_copy_is_the_same_request_with_its_copy_number() {
        let url = super::super::request::RequestUrl::parse("http://127.0.0.1:9/items?seq=3");
        let request = PlannedRequest {
            seq: 3,
            endpoint: 0,
            method: http::Method::GET,
            url: url.unwrap(),
            body: None,
        };
        assert_eq!(copy_of(&request, 0), request);
        let copy = copy_of(&request, 2);
        assert_eq!(copy.url.as_str(), "http://127.0.0.1:9/items?seq=3&copy=2");
        assert_eq!((copy.seq, copy.endpoint), (3, 0));
    }
}
