//! Chapter 11: after gather. Cancellation in tokio, shown with real requests to
//! fanout's embedded mock API, whose ledger says what the server saw of each one:
//!
//! 1. `tokio::select!` races two requests: the first answer wins and the other future
//!    is dropped mid-flight. Dropping it is the whole cancellation, there is no cancel
//!    call: its connection closes, and the server records a request it never answered;
//! 2. cancellation safety: a loop that selects between a timer's tick and a fetch
//!    restarts the fetch at every tick when the fetch future is made inside the loop,
//!    and never gets its answer; made once before the loop and pinned, the same fetch
//!    is polled across the ticks and answers;
//! 3. a graceful stop: a fan-out under a semaphore stops starting requests at a
//!    signal, gives the ones in flight a grace period, then cuts the rest; every request
//!    ends as exactly one outcome, and the server's ledger agrees with the count.
//!
//! A ledger entry with no status is a request the client abandoned: it arrived, the
//! server held it, and its answer went nowhere. fanout's strategies built on the same
//! moves (`async-first-of`, `async-hedged`, `async-pipeline`, `--stop-after`) are in
//! the chapter, `chapters/src/ch11-after-gather.md`.
//!
//! ```sh
//! cargo run --release --example ch11_after_gather            # all steps
//! cargo run --release --example ch11_after_gather -- --step  # pause between steps
//! ```

use std::time::{Duration, Instant};

use anyhow::Context;
use fanout::server::latency::Latency;
use fanout::server::ledger::{LedgerEntry, LedgerRecord, now_us};
use fanout::server::profile::{Endpoint, Profile};
use fanout::walkthrough::{Steps, seconds};
use fanout::{MockApi, Placement, ServerConfig};
use tokio::sync::{Semaphore, watch};

/// Seeds the delays of step 3, so every run draws the same ones.
const SEED: u64 = 11;

/// How long to wait at most for the server to notice requests the client dropped.
const SETTLE: Duration = Duration::from_secs(1);

/// A fresh mock API serving `endpoints`. Each step starts its own, so its ledger holds
/// that step's requests only.
fn start(endpoints: Vec<Endpoint>) -> anyhow::Result<MockApi> {
    let profile = Profile {
        endpoints,
        ..Profile::single(Latency::Fixed(Duration::ZERO))
    };
    Ok(MockApi::start(
        &ServerConfig::new(profile, SEED),
        &Placement::InProcess,
    )?)
}

/// An endpoint at `/{name}` that answers after `latency`.
fn endpoint(name: &str, latency: Latency) -> Endpoint {
    Endpoint {
        name: name.to_string(),
        path: format!("/{name}"),
        ..Endpoint::catch_all(latency)
    }
}

/// A client for loopback, with a bound on every request.
fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
}

/// Fetches one URL and returns the size of its body.
async fn fetch(client: &reqwest::Client, url: &str) -> anyhow::Result<usize> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

/// The server's ledger once it holds `expected` entries, or after [`SETTLE`]. An entry
/// is written when its request ends, and a request the client dropped ends when the
/// server notices its connection closed, a moment after the drop.
async fn ledger_with(server: &mut MockApi, expected: usize) -> anyhow::Result<LedgerRecord> {
    let deadline = Instant::now() + SETTLE;
    loop {
        let ledger = server.ledger()?;
        if ledger.entries.len() >= expected || Instant::now() >= deadline {
            return Ok(ledger);
        }
        // Sleeping also lets this runtime run the client's connection tasks, which
        // close the sockets of dropped requests.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Whether the client went away before the server's answer: no status was sent.
fn abandoned(entry: &LedgerEntry) -> bool {
    entry.status.is_none()
}

/// How long the server held a request, from its arrival to its answer or abandonment.
fn held(entry: &LedgerEntry) -> Duration {
    Duration::from_micros(entry.finish_us.saturating_sub(entry.arrival_us))
}

/// Step 1: two requests raced with `select!`; the loser is dropped.
async fn first_answer(steps: &mut Steps) -> anyhow::Result<()> {
    let (fast, slow) = (Duration::from_millis(100), Duration::from_millis(400));
    steps.next(&format!(
        "race two endpoints with select!: /fast answers after {}, /slow after {}",
        seconds(fast),
        seconds(slow)
    ));
    let mut server = start(vec![
        endpoint("fast", Latency::Fixed(fast)),
        endpoint("slow", Latency::Fixed(slow)),
    ])?;
    let (fast_url, slow_url) = (
        format!("{}/fast", server.url()),
        format!("{}/slow", server.url()),
    );
    let client = client()?;
    let started = Instant::now();

    // ANCHOR: race
    let (winner, bytes) = tokio::select! {
        body = fetch(&client, &fast_url) => ("/fast", body?),
        body = fetch(&client, &slow_url) => ("/slow", body?),
    };
    // The other branch's future was dropped when the first one finished: that drop is
    // the cancellation. Its connection closes; no cancel call is made or needed.
    // ANCHOR_END: race
    let took = started.elapsed();
    println!(
        "  {winner} answered first, after {} ({bytes} bytes); the other future was dropped then",
        seconds(took)
    );
    anyhow::ensure!(winner == "/fast", "{winner} won a race /fast should win");

    let ledger = ledger_with(&mut server, 2).await?;
    let of = |index: u16| ledger.entries.iter().find(|e| e.endpoint == Some(index));
    let won = of(0).context("the ledger has no /fast request")?;
    let lost = of(1).context("the ledger has no /slow request: it was never sent")?;
    println!(
        "  the ledger: /fast arrived and was answered {} after {}",
        won.status.unwrap_or_default(),
        seconds(held(won))
    );
    println!(
        "              /slow arrived, was held {} and let go with no status (abandoned): its answer was due after {}",
        seconds(held(lost)),
        seconds(Duration::from_micros(lost.delay_us))
    );
    anyhow::ensure!(won.status == Some(200), "/fast was not answered 200");
    anyhow::ensure!(
        abandoned(lost) && held(lost) < slow,
        "the server answered /slow, which the client had dropped"
    );
    println!(
        "  the loser reached the server and cost it a request: cancelling stops the waiting, not the sending"
    );
    Ok(())
}

/// How often the loops of step 2 tick.
const TICK: Duration = Duration::from_millis(100);
/// How long step 2's endpoint takes to answer: longer than a tick.
const ANSWER_AFTER: Duration = Duration::from_millis(250);
/// How many times round the loop at most: every loop of step 2 is bounded.
const ROUNDS: u64 = 8;

/// What one loop of step 2 saw.
#[derive(Debug, Default)]
struct Looped {
    /// Ticks that came before the answer.
    ticks: u32,
    /// The answer's size and when it came, if it did.
    answer: Option<(usize, Duration)>,
}

/// A tick timer whose first tick is one period from now (`interval` alone ticks at
/// once, which would cancel the first fetch before it could even be sent).
fn ticker() -> tokio::time::Interval {
    tokio::time::interval_at(tokio::time::Instant::now() + TICK, TICK)
}

// ANCHOR: restarted
/// The pitfall: the fetch future is made inside the loop. Each tick ends the
/// `select!`, which drops that round's fetch, and the next round sends a new one.
async fn tick_and_fetch_restarted(client: &reqwest::Client, url: &str) -> anyhow::Result<Looped> {
    let (started, mut ticks, mut seen) = (Instant::now(), ticker(), Looped::default());
    for round in 0..ROUNDS {
        let this_round = format!("{url}?seq={round}");
        tokio::select! {
            _ = ticks.tick() => {
                seen.ticks += 1;
                println!("    tick at {}", seconds(started.elapsed()));
            }
            body = fetch(client, &this_round) => {
                seen.answer = Some((body?, started.elapsed()));
                break;
            }
        }
    }
    Ok(seen)
}
// ANCHOR_END: restarted

// ANCHOR: pinned
/// The fix: one fetch future, made before the loop and pinned, so each round polls the
/// same `&mut fetch`. A tick ends the `select!` without dropping it.
async fn tick_and_fetch_pinned(client: &reqwest::Client, url: &str) -> anyhow::Result<Looped> {
    let (started, mut ticks, mut seen) = (Instant::now(), ticker(), Looped::default());
    let once = format!("{url}?seq=0");
    let mut fetch = std::pin::pin!(fetch(client, &once));
    for _ in 0..ROUNDS {
        tokio::select! {
            _ = ticks.tick() => {
                seen.ticks += 1;
                println!("    tick at {}", seconds(started.elapsed()));
            }
            body = &mut fetch => {
                seen.answer = Some((body?, started.elapsed()));
                break;
            }
        }
    }
    Ok(seen)
}
// ANCHOR_END: pinned

/// Step 2: the same loop, the fetch future made in it or pinned outside it.
async fn cancellation_safety(steps: &mut Steps) -> anyhow::Result<()> {
    steps.next(&format!(
        "a loop selects between a tick every {} and a fetch that answers after {} (at most {ROUNDS} rounds)",
        seconds(TICK),
        seconds(ANSWER_AFTER)
    ));
    for pinned in [false, true] {
        let mut server = start(vec![endpoint("items", Latency::Fixed(ANSWER_AFTER))])?;
        let url = format!("{}/items", server.url());
        let client = client()?;
        println!(
            "  {}",
            if pinned {
                "pinned: the future is made once, before the loop"
            } else {
                "restarted: a new fetch future each round"
            }
        );
        let seen = if pinned {
            tick_and_fetch_pinned(&client, &url).await?
        } else {
            tick_and_fetch_restarted(&client, &url).await?
        };
        let sent = if pinned { 1 } else { ROUNDS as usize };
        let ledger = ledger_with(&mut server, sent).await?;
        let gone = ledger.entries.iter().filter(|e| abandoned(e)).count();
        let answer = match seen.answer {
            Some((bytes, at)) => format!("the answer ({bytes} bytes) at {}", seconds(at)),
            None => "no answer".to_string(),
        };
        println!(
            "    {} ticks, {answer}; the server received {} request(s) on {} connection(s), {gone} abandoned",
            seen.ticks,
            ledger.entries.len(),
            ledger.connections.unwrap_or(0),
        );
        if pinned {
            anyhow::ensure!(
                seen.answer.is_some() && ledger.entries.len() == 1 && gone == 0,
                "the pinned fetch should be one request, answered"
            );
        } else {
            anyhow::ensure!(
                seen.answer.is_none() && ledger.entries.len() == sent && gone == sent,
                "the restarted fetch should be {sent} requests, every one abandoned"
            );
        }
    }
    println!(
        "  a fetch is not cancellation safe: dropped, its progress is lost; keep it alive across select! rounds"
    );
    Ok(())
}

// ANCHOR: stoppable
/// Where a fan-out is in its stop: the one value every request watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Requests start as permits free up.
    Running,
    /// The stop came: nothing new starts; the ones in flight may finish.
    Draining,
    /// The grace period is over: the ones still in flight are dropped.
    Cut,
}

/// How one request of the fan-out ended: exactly one of these per request.
#[derive(Debug)]
enum Outcome {
    /// The stop came while it waited for a permit: it never left the client.
    NeverSent,
    /// Its answer came, at this instant.
    Answered(Instant),
    /// Still in flight when the grace period ran out: dropped mid-flight.
    Cut,
    /// Its request failed (a timeout, a refused connection, a bad status).
    Failed(String),
}

/// One request that waits for a permit and then for its answer, each unless the
/// fan-out's phase says to give up first.
async fn stoppable_request(
    client: &reqwest::Client,
    url: String,
    permits: &Semaphore,
    mut phase: watch::Receiver<Phase>,
) -> Outcome {
    let permit = tokio::select! {
        // The stop is checked first, so a permit freed at the stop starts nothing.
        biased;
        _ = phase.wait_for(|now| *now != Phase::Running) => return Outcome::NeverSent,
        permit = permits.acquire() => permit,
    };
    let Ok(_permit) = permit else {
        return Outcome::NeverSent; // the semaphore was closed: nothing starts
    };
    tokio::select! {
        _ = phase.wait_for(|now| *now == Phase::Cut) => Outcome::Cut,
        body = fetch(client, &url) => match body {
            Ok(_) => Outcome::Answered(Instant::now()),
            Err(error) => Outcome::Failed(format!("{error:#}")),
        },
    }
}

/// The stop, in two moves: no new requests after `stop_after`, and those still in
/// flight cut `grace` later. Returns when the stop came.
async fn stop_signal(
    phase: &watch::Sender<Phase>,
    stop_after: Duration,
    grace: Duration,
) -> Instant {
    tokio::time::sleep(stop_after).await;
    phase.send_replace(Phase::Draining);
    let stopped = Instant::now();
    tokio::time::sleep(grace).await;
    phase.send_replace(Phase::Cut);
    stopped
}
// ANCHOR_END: stoppable

/// Step 3's outcomes, counted.
#[derive(Debug, Default)]
struct Tally {
    never_sent: usize,
    answered_before_stop: usize,
    answered_in_grace: usize,
    cut: usize,
    failed: Vec<String>,
}

impl Tally {
    fn of(outcomes: Vec<Outcome>, stopped: Instant) -> Tally {
        let mut tally = Tally::default();
        for outcome in outcomes {
            match outcome {
                Outcome::NeverSent => tally.never_sent += 1,
                Outcome::Answered(at) if at < stopped => tally.answered_before_stop += 1,
                Outcome::Answered(_) => tally.answered_in_grace += 1,
                Outcome::Cut => tally.cut += 1,
                Outcome::Failed(why) => tally.failed.push(why),
            }
        }
        tally
    }

    fn answered(&self) -> usize {
        self.answered_before_stop + self.answered_in_grace
    }

    /// Requests that left the client: every outcome but "never sent".
    fn started(&self) -> usize {
        self.answered() + self.cut + self.failed.len()
    }

    fn total(&self) -> usize {
        self.never_sent + self.started()
    }
}

/// Step 3: a fan-out under a semaphore, stopped part-way with a grace period.
async fn graceful_stop(steps: &mut Steps) -> anyhow::Result<()> {
    let (n, limit) = (40, 10);
    let (stop_after, grace) = (Duration::from_millis(300), Duration::from_millis(200));
    let (low, high) = (Duration::from_millis(100), Duration::from_millis(800));
    steps.next(&format!(
        "{n} requests, {limit} at a time, delays drawn from {} to {}; stop after {}, grace {}",
        seconds(low),
        seconds(high),
        seconds(stop_after),
        seconds(grace)
    ));
    let mut server = start(vec![endpoint("items", Latency::Uniform { low, high })])?;
    let url = format!("{}/items", server.url());
    let client = client()?;
    let permits = Semaphore::new(limit);
    let (phase, watching) = watch::channel(Phase::Running);
    let (started, t0_us) = (Instant::now(), now_us());

    // ANCHOR: stop
    let requests = (0..n).map(|seq| {
        stoppable_request(
            &client,
            format!("{url}?seq={seq}"),
            &permits,
            watching.clone(),
        )
    });
    let (outcomes, stopped) = tokio::join!(
        futures::future::join_all(requests),
        stop_signal(&phase, stop_after, grace),
    );
    // ANCHOR_END: stop
    let took = started.elapsed();
    let tally = Tally::of(outcomes, stopped);
    println!(
        "  stopped at {}, all ended at {}: {} answered before the stop, {} in the grace period, {} cut, {} never sent, {} failed",
        seconds(stopped - started),
        seconds(took),
        tally.answered_before_stop,
        tally.answered_in_grace,
        tally.cut,
        tally.never_sent,
        tally.failed.len()
    );
    println!(
        "  {} + {} + {} + {} + {} = {} of {n}: every request ended as exactly one outcome",
        tally.answered_before_stop,
        tally.answered_in_grace,
        tally.cut,
        tally.never_sent,
        tally.failed.len(),
        tally.total()
    );
    anyhow::ensure!(
        tally.total() == n,
        "{} outcomes for {n} requests",
        tally.total()
    );
    if let Some(why) = tally.failed.first() {
        anyhow::bail!("{} request(s) failed, the first: {why}", tally.failed.len());
    }

    let ledger = ledger_with(&mut server, tally.started()).await?;
    let answered = ledger.entries.iter().filter(|e| !abandoned(e)).count();
    let gone = ledger.entries.len() - answered;
    let last_arrival = ledger.entries.iter().map(|e| e.arrival_us).max();
    let last_arrival = Duration::from_micros(last_arrival.unwrap_or(t0_us).saturating_sub(t0_us));
    println!(
        "  the ledger: {} received (started: {}), {answered} answered (answered: {}), {gone} abandoned (cut: {}); the last arrived at {}",
        ledger.entries.len(),
        tally.started(),
        tally.answered(),
        tally.cut,
        seconds(last_arrival)
    );
    anyhow::ensure!(
        ledger.entries.len() == tally.started()
            && answered == tally.answered()
            && gone == tally.cut,
        "the ledger disagrees with the client's count"
    );
    anyhow::ensure!(
        tally.never_sent > 0 && tally.answered_in_grace + tally.cut > 0,
        "the stop should find requests waiting and requests in flight"
    );
    println!(
        "  the never-sent cost the server nothing; the cut ones arrived and were abandoned, as in step 1"
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut steps = Steps::from_args();
    let started = Instant::now();
    first_answer(&mut steps).await?;
    cancellation_safety(&mut steps).await?;
    graceful_stop(&mut steps).await?;
    println!("\nall steps took {}", seconds(started.elapsed()));
    Ok(())
}
