//! `async-pipeline`: fetching and processing joined by a channel, and what a bounded
//! channel does that an unbounded one does not (backpressure).
//!
//! `--limit` fetchers take the next request, fetch it, and send its body into a tokio
//! `mpsc` channel; `--consumers` consumers take bodies off it and spend `--work` on
//! each (an async wait, then one pass over the bytes, as a parser would make). When the
//! consumers are slower than the fetchers:
//!
//! - **bounded** (`--channel 16`): once 16 bodies wait, a fetcher's `send` waits too,
//!   so it fetches nothing more until a consumer frees a place. The client holds at
//!   most `C` bodies queued, one per fetcher waiting to send, and one per consumer at
//!   work: memory stays flat however many requests the run makes, and the fetch rate
//!   falls to the consumers' rate.
//! - **unbounded** (`--channel unbounded`): `send` never waits, so the fetchers run at
//!   the server's pace and the queue holds every body the consumers have not reached:
//!   memory grows with n.
//!
//! Each request ends as one sample, its fetch (start to last body byte); the run's
//! [`PipelineFigures`] add what the channel did: its peak and sampled depth, the peak
//! of fetches in flight, bodies consumed, when the last was, and the memory the
//! design allows ([`PipelineFigures::expected_bodies`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::asynchronous::Fetcher;
use super::request::PlannedRequest;
use crate::measure::Sample;

/// How often the queue's depth is sampled.
const DEPTH_EVERY: Duration = Duration::from_millis(10);

/// The most depth samples kept: a longer run keeps every other one, and so on.
const MAX_DEPTH_SAMPLES: usize = 2_000;

/// The channel between fetchers and consumers (`--channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Channel {
    /// At most this many bodies wait; a full channel makes senders wait.
    Bounded(usize),
    /// Any number wait; sending never waits.
    Unbounded,
}

impl Default for Channel {
    fn default() -> Self {
        Channel::Bounded(16)
    }
}

impl std::str::FromStr for Channel {
    type Err = String;

    fn from_str(text: &str) -> Result<Channel, String> {
        match text.trim() {
            "unbounded" => Ok(Channel::Unbounded),
            number => match number.parse::<usize>() {
                Ok(0) => Err("a channel needs room for at least 1 body (or: unbounded)".into()),
                Ok(c) if c > crate::scenario::MAX_LIMIT => Err(format!(
                    "a channel may hold at most {} bodies",
                    crate::scenario::MAX_LIMIT
                )),
                Ok(c) => Ok(Channel::Bounded(c)),
                Err(_) => Err(format!(
                    "'{number}' is neither a capacity (16) nor 'unbounded'"
                )),
            },
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Channel::Bounded(c) => write!(f, "{c}"),
            Channel::Unbounded => f.write_str("unbounded"),
        }
    }
}

impl TryFrom<String> for Channel {
    type Error = String;
    fn try_from(text: String) -> Result<Channel, String> {
        text.parse()
    }
}

impl From<Channel> for String {
    fn from(channel: Channel) -> String {
        channel.to_string()
    }
}

/// What the channel did during one `async-pipeline` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineFigures {
    /// The channel: a capacity, or `unbounded`.
    pub channel: Channel,
    /// Fetchers (`--limit`) and consumers (`--consumers`).
    pub fetchers: usize,
    /// Consumers.
    pub consumers: usize,
    /// Each consumer's work per body, ms.
    pub work_ms: f64,
    /// The most bodies queued at once.
    pub peak_queued: u64,
    /// The most fetches in flight at once.
    pub peak_fetching: u64,
    /// Bodies the consumers finished.
    pub consumed: u64,
    /// Bytes of the largest body consumed.
    pub body_bytes: u64,
    /// When the last body was consumed, ms from the run's start.
    pub drained_ms: f64,
    /// The queue's depth over time: (ms from the start, bodies queued).
    pub depth: Vec<(f64, u64)>,
}

impl PipelineFigures {
    /// The most bodies the client can hold at once by design: the channel's capacity,
    /// one per fetcher (read, or waiting to be sent), one per consumer at work. `None`
    /// for an unbounded channel, whose only bound is n.
    pub fn expected_bodies(&self) -> Option<u64> {
        match self.channel {
            Channel::Bounded(c) => Some((c + self.fetchers + self.consumers) as u64),
            Channel::Unbounded => None,
        }
    }
}

/// Counters the fetchers, consumers and sampler share.
#[derive(Default)]
struct Gauges {
    /// Signed: a consumer may take a body before its sender has counted it.
    queued: AtomicI64,
    peak_queued: AtomicI64,
    fetching: AtomicU64,
    peak_fetching: AtomicU64,
    consumed: AtomicU64,
    body_bytes: AtomicU64,
    drained_us: AtomicU64,
    /// Set when the run is over: the depth sampler stops.
    finished: std::sync::atomic::AtomicBool,
}

fn raise(level: &AtomicU64, peak: &AtomicU64) {
    let now = level.fetch_add(1, Ordering::AcqRel) + 1;
    peak.fetch_max(now, Ordering::AcqRel);
}

/// The sending half, bounded or not.
enum Sender {
    Bounded(mpsc::Sender<bytes::Bytes>),
    Unbounded(mpsc::UnboundedSender<bytes::Bytes>),
}

/// The receiving half, bounded or not.
enum Receiver {
    Bounded(mpsc::Receiver<bytes::Bytes>),
    Unbounded(mpsc::UnboundedReceiver<bytes::Bytes>),
}

impl Receiver {
    async fn recv(&mut self) -> Option<bytes::Bytes> {
        match self {
            Receiver::Bounded(rx) => rx.recv().await,
            Receiver::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// Runs the fetchers and the consumers; returns one sample per request, in order, and
/// what the channel did.
pub(super) async fn pipeline(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    options: &super::ClientOptions,
) -> (Vec<Sample>, PipelineFigures) {
    let n = requests.len();
    let fetchers = options.limit.clamp(1, n.max(1));
    let consumers = options.consumers.max(1);
    let work = options.work;
    let (sender, receiver) = match options.channel {
        Channel::Bounded(c) => {
            let (tx, rx) = mpsc::channel(c);
            (Sender::Bounded(tx), Receiver::Bounded(rx))
        }
        Channel::Unbounded => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Sender::Unbounded(tx), Receiver::Unbounded(rx))
        }
    };
    let sender = Arc::new(sender);
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let gauges = Arc::new(Gauges::default());
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));

    let consuming: Vec<_> = (0..consumers)
        .map(|_| {
            let (receiver, gauges, clock) =
                (receiver.clone(), gauges.clone(), fetcher.clock().clone());
            tokio::spawn(async move {
                loop {
                    // One consumer takes a body at a time; the others wait their turn.
                    let body = receiver.lock().await.recv().await;
                    let Some(body) = body else { break };
                    gauges.queued.fetch_sub(1, Ordering::AcqRel);
                    consume(&body, work).await;
                    gauges
                        .body_bytes
                        .fetch_max(body.len() as u64, Ordering::AcqRel);
                    drop(body);
                    gauges.consumed.fetch_add(1, Ordering::AcqRel);
                    let at = clock.now().as_micros() as u64;
                    gauges.drained_us.fetch_max(at, Ordering::AcqRel);
                }
            })
        })
        .collect();

    let fetching: Vec<_> = (0..fetchers)
        .map(|_| {
            let (fetcher, requests, next) = (fetcher.clone(), requests.clone(), next.clone());
            let (sender, gauges) = (sender.clone(), gauges.clone());
            tokio::spawn(async move {
                let mut samples = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        break;
                    };
                    raise(&gauges.fetching, &gauges.peak_fetching);
                    let (sample, body) = fetcher.fetch_keeping(request).await;
                    gauges.fetching.fetch_sub(1, Ordering::AcqRel);
                    samples.push(sample);
                    if sample.status.is_none() {
                        continue;
                    }
                    let sent = match &*sender {
                        // Waits while the channel is full: the backpressure. A run
                        // that is cut stops waiting; the body is dropped.
                        Sender::Bounded(tx) => {
                            let sent = fetcher.wait(tx.send(body)).await.is_some_and(|r| r.is_ok());
                            // The peak from the channel itself: exact, never above C.
                            let depth = (tx.max_capacity() - tx.capacity()) as i64;
                            gauges.peak_queued.fetch_max(depth, Ordering::AcqRel);
                            sent
                        }
                        Sender::Unbounded(tx) => tx.send(body).is_ok(),
                    };
                    if sent {
                        let now = gauges.queued.fetch_add(1, Ordering::AcqRel) + 1;
                        if matches!(&*sender, Sender::Unbounded(_)) {
                            gauges.peak_queued.fetch_max(now, Ordering::AcqRel);
                        }
                    }
                }
                samples
            })
        })
        .collect();
    drop(sender);
    // Only the consumers hold the receiver: if they all end, senders see it closed.
    drop(receiver);

    let capacity = match options.channel {
        Channel::Bounded(c) => c as u64,
        Channel::Unbounded => u64::MAX,
    };
    let sampling = {
        let (gauges, clock) = (gauges.clone(), fetcher.clock().clone());
        tokio::spawn(async move {
            let mut depth = Vec::new();
            let mut every = 1usize;
            let mut tick = 0usize;
            let mut interval = tokio::time::interval(DEPTH_EVERY);
            loop {
                interval.tick().await;
                tick += 1;
                if tick.is_multiple_of(every) {
                    let at = clock.now().as_secs_f64() * 1e3;
                    // The counter may run one ahead of the channel: clamp it to C.
                    let queued = gauges.queued.load(Ordering::Acquire).max(0) as u64;
                    depth.push((at, queued.min(capacity)));
                    if depth.len() >= MAX_DEPTH_SAMPLES {
                        depth = depth.into_iter().step_by(2).collect();
                        every *= 2;
                    }
                }
                if clock.remaining().is_zero() || gauges.finished.load(Ordering::Acquire) {
                    return depth;
                }
            }
        })
    };

    let mut samples = Vec::with_capacity(n);
    for task in fetching {
        samples.extend(task.await.unwrap_or_default());
    }
    // The fetchers' senders are gone: the consumers drain what is queued and stop,
    // unless the run is cut first.
    for task in consuming {
        let _ = fetcher.wait(task).await;
    }
    gauges.finished.store(true, Ordering::Release);
    let depth = sampling.await.unwrap_or_default();
    // Fetchers take every request; should one have died (a panic), its requests end
    // as cancelled here, so each still has one sample.
    let mut seen = vec![false; n];
    for sample in &samples {
        if let Some(slot) = seen.get_mut(sample.seq as usize) {
            *slot = true;
        }
    }
    for (request, _) in requests.iter().zip(&seen).filter(|(_, seen)| !**seen) {
        samples.push(fetcher.cancelled(request, None));
    }
    samples.sort_by_key(|s| s.seq);
    let figures = PipelineFigures {
        channel: options.channel,
        fetchers,
        consumers,
        work_ms: work.as_secs_f64() * 1e3,
        peak_queued: gauges.peak_queued.load(Ordering::Acquire).max(0) as u64,
        peak_fetching: gauges.peak_fetching.load(Ordering::Acquire),
        consumed: gauges.consumed.load(Ordering::Acquire),
        body_bytes: gauges.body_bytes.load(Ordering::Acquire),
        drained_ms: gauges.drained_us.load(Ordering::Acquire) as f64 / 1e3,
        depth,
    };
    (samples, figures)
}

/// A consumer's work on one body: `work` of waiting (a call to a database, a slow
/// parser), then one pass over its bytes, so the body is really read.
async fn consume(body: &bytes::Bytes, work: Duration) -> u64 {
    tokio::time::sleep(work).await;
    body.iter()
        .fold(0u64, |sum, byte| sum.wrapping_add(u64::from(*byte)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_is_a_capacity_or_unbounded_never_zero() {
        assert_eq!("16".parse::<Channel>(), Ok(Channel::Bounded(16)));
        assert_eq!("unbounded".parse::<Channel>(), Ok(Channel::Unbounded));
        assert!("0".parse::<Channel>().is_err());
        assert!("-1".parse::<Channel>().is_err());
        assert!("lots".parse::<Channel>().is_err());
        let figures = PipelineFigures {
            channel: Channel::Bounded(16),
            fetchers: 4,
            consumers: 1,
            work_ms: 1.0,
            peak_queued: 0,
            peak_fetching: 0,
            consumed: 0,
            body_bytes: 0,
            drained_ms: 0.0,
            depth: Vec::new(),
        };
        assert_eq!(figures.expected_bodies(), Some(21));
    }
}
