//! What a run cost the client process: its peak resident memory and the most threads it
//! had, read from `/proc/self` (Linux only; elsewhere nothing is reported).
//!
//! The peak resident set (`VmHWM`) only ever grows, so before each run it is reset by
//! writing `5` to `/proc/self/clear_refs` (Linux 4.0 and later); a sampler thread reads
//! `Threads` every few milliseconds while the run goes on. Memory an earlier run freed
//! stays resident in the allocator's arenas (glibc keeps it for reuse), which would
//! hide the next run's own needs, so before the reset the allocator is asked to give
//! it back (`malloc_trim`, glibc only). Some of it stays (pages the allocator cannot
//! release): `rss_before_mib` says how much, and only growth above it is this run's.
//! The `fanout` binary allocates with jemalloc (`src/main.rs`), which `malloc_trim`
//! does not reach: jemalloc returns freed pages by itself after a decay of about ten
//! seconds, so there more of an earlier run can stay resident, and `rss_before_mib`
//! counts it. With the mock API in a child
//! process (the default) the figures are the client's alone; in-process they include
//! the server's.
//!
//! This is what separates one OS thread per request (`sync-threads`: a stack, buffers
//! and a kernel task each) from one tokio task per request (`async-concurrent`: a few
//! hundred bytes of future each, on a fixed set of worker threads).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How often the sampler reads the thread count. Every 2 ms with `/proc/self/status`
/// (which the kernel formats in full, some forty fields, for each read) cost about 2 % of
/// the client's CPU samples in a zero-delay keep-alive run on 2 cores; every 10 ms from
/// `/proc/self/stat`, no sample in the profile. A thread per request lives at least as
/// long as its request, far longer than 10 ms on any delay worth sampling.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The client process's footprint during one run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Footprint {
    /// Resident memory when the run began, MiB.
    pub rss_before_mib: f64,
    /// The most resident memory during the run, MiB.
    pub peak_rss_mib: f64,
    /// The most threads the process had during the run (the sampler included).
    pub peak_threads: u64,
}

impl Footprint {
    /// Runs `work` and measures it; the footprint is `None` where `/proc` cannot tell.
    pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Option<Footprint>) {
        release_freed_memory();
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before = status_field("VmRSS:");
        if !reset || before.is_none() {
            return (work(), None);
        }
        let done = Arc::new(AtomicBool::new(false));
        let peak_threads = Arc::new(AtomicU64::new(status_field("Threads:").unwrap_or(0)));
        let sampler = {
            let (done, peak) = (done.clone(), peak_threads.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    if let Some(threads) = thread_count() {
                        peak.fetch_max(threads, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
        };
        let result = work();
        done.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let footprint = status_field("VmHWM:").map(|peak_kib| Footprint {
            rss_before_mib: before.unwrap_or(0) as f64 / 1024.0,
            peak_rss_mib: peak_kib as f64 / 1024.0,
            peak_threads: peak_threads.load(Ordering::Relaxed),
        });
        (result, footprint)
    }

    /// Peak minus the memory held before the run, MiB.
    pub fn growth_mib(&self) -> f64 {
        (self.peak_rss_mib - self.rss_before_mib).max(0.0)
    }
}

/// Asks the allocator to return freed memory to the kernel.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The process's threads, field 20 of `/proc/self/stat`: after the command name in
/// parentheses (which may hold spaces) come the state and then fields 4 onwards, so
/// `num_threads` is the 18th after the closing parenthesis.
fn thread_count() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields = &stat[stat.rfind(')')? + 1..];
    fields.split_whitespace().nth(17)?.parse().ok()
}

/// A number field of `/proc/self/status` (`VmRSS:  1234 kB` gives 1234).
fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_memory_of_a_block_of_work_are_seen() {
        let (sum, footprint) = Footprint::measure(|| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    std::thread::spawn(move || {
                        // Long enough for the 2 ms sampler to see them on a busy machine.
                        std::thread::sleep(Duration::from_millis(300));
                        i
                    })
                })
                .collect();
            // black_box: the optimiser may not skip touching every page.
            let block = std::hint::black_box(vec![1u8; 32 << 20]);
            let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
            sum + u64::from(block[block.len() - 1])
        });
        assert_eq!(sum, 29);
        #[cfg(target_os = "linux")]
        assert!(thread_count().is_some_and(|n| n >= 1));
        let Some(footprint) = footprint else {
            return; // not Linux, or /proc/self/clear_refs not writable: nothing to check
        };
        assert!(footprint.peak_threads >= 9, "{footprint:?}");
        assert!(footprint.growth_mib() >= 30.0, "{footprint:?}");
    }
}
