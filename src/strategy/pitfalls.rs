//! The pitfalls, as strategies you can run and measure, each on a current-thread
//! runtime (one thread, like Python's event loop):
//!
//! - `pitfall-blocking-sleep`: every task first "works" for `--work` with
//!   `std::thread::sleep`, which blocks the runtime's only thread: no other task runs
//!   meanwhile, so the waits add up as if the requests were made one after another;
//! - `pitfall-async-sleep`: the fix, `tokio::time::sleep`, which yields: the waits
//!   overlap and the run takes one wait plus one request;
//! - `pitfall-never-awaited`: the request futures are built and dropped without being
//!   awaited. Rust futures are lazy, so nothing is sent: the server's ledger stays
//!   empty and every request ends as `cancelled`.

use std::time::Duration;

use super::ClientOptions;
use super::asynchronous::{Fetcher, join_in_order};
use super::request::PlannedRequest;
use super::{PitfallStrategy, RunClock};
use crate::error::Error;
use crate::measure::Sample;

/// Runs a pitfall strategy on a current-thread runtime built for it.
pub(super) fn execute(
    strategy: PitfallStrategy,
    requests: Vec<PlannedRequest>,
    options: &ClientOptions,
    clock: RunClock,
) -> Result<(Vec<Sample>, RunClock), Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("building the client runtime", e))?;
    runtime.block_on(async {
        let mut fetcher = Fetcher::new(options, clock)?;
        let clock = fetcher.restart_clock();
        let samples = match strategy {
            PitfallStrategy::NeverAwaited => never_awaited(&fetcher, &requests),
            PitfallStrategy::BlockingSleep => {
                work_then_fetch(fetcher, requests, options.work, true).await
            }
            PitfallStrategy::AsyncSleep => {
                work_then_fetch(fetcher, requests, options.work, false).await
            }
        };
        Ok((samples, clock))
    })
}

/// Spawns every request; each task first waits `work`, blocking the thread or not.
async fn work_then_fetch(
    fetcher: Fetcher,
    requests: Vec<PlannedRequest>,
    work: Duration,
    blocking: bool,
) -> Vec<Sample> {
    let tasks = requests
        .into_iter()
        .map(|request| {
            let fetcher = fetcher.clone();
            let ids = (request.seq, request.endpoint);
            let task = tokio::spawn(async move {
                if blocking {
                    // The pitfall: this holds the runtime's only thread.
                    std::thread::sleep(work.min(fetcher.clock().remaining()));
                } else if fetcher.wait(tokio::time::sleep(work)).await.is_none() {
                    return fetcher.cancelled(&request, None);
                }
                fetcher.fetch(&request).await
            });
            (ids, task)
        })
        .collect();
    join_in_order(&fetcher, tasks).await
}

/// Builds every request future and drops it unawaited: nothing is sent.
fn never_awaited(fetcher: &Fetcher, requests: &[PlannedRequest]) -> Vec<Sample> {
    let futures: Vec<_> = requests
        .iter()
        .map(|request| fetcher.client().get(request.url.url().clone()).send())
        .collect();
    drop(futures);
    requests
        .iter()
        .map(|request| fetcher.cancelled(request, None))
        .collect()
}
