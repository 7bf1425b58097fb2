//! File descriptors: every open connection holds one on each side, and a run that needs
//! more than the process may open fails halfway with "Too many open files". fanout
//! checks before sending anything: it raises the soft limit to the hard one (any
//! process may do that), and refuses the run with the figure to ask for if that is
//! still not enough.
//!
//! It then grows the process's descriptor table to that size at once
//! ([`reserve_table`]). Linux starts a process with a table of 64 entries and doubles it
//! as descriptors are opened; in a process with several threads each doubling waits
//! for an RCU grace period (`synchronize_rcu`) while the thread that opened the
//! descriptor is stopped. A burst of 1,000 connects pays four of those waits and one of
//! 10,000 eight, in the middle of the measured run: measured here, a cold process took
//! 618–646 ms for 1,000 requests at 500 ms and one with its table grown first 601–613
//! ms. A client that has already held that many descriptors (fanout's calibration, any
//! long-lived program) never pays them again: tables never shrink.

use crate::error::Error;

/// Descriptors the process needs besides connections: stdio, the runtime's epoll and
/// wake-up handles, the listener, the child server's pipes.
pub const BASE_DESCRIPTORS: u64 = 64;

/// Makes sure `needed` descriptors can be open at once, raising the soft limit if it
/// must. Returns the limit in force.
pub fn ensure(needed: u64) -> Result<u64, Error> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)
        .map_err(|e| Error::io("reading the file-descriptor limit", e))?;
    if needed <= soft {
        reserve_table(needed);
        return Ok(soft);
    }
    let raised = rlimit::increase_nofile_limit(needed.min(hard))
        .map_err(|e| Error::io("raising the file-descriptor limit", e))?;
    if needed <= raised {
        reserve_table(needed);
        Ok(raised)
    } else {
        Err(Error::TooFewFileDescriptors {
            needed,
            soft: raised,
            hard,
        })
    }
}

/// Raises the soft limit to the hard one, as far as the system allows; returns the new
/// soft limit. Called once at start-up, so every later check sees the real ceiling.
pub fn raise_to_hard() -> Result<u64, Error> {
    rlimit::increase_nofile_limit(u64::MAX)
        .map_err(|e| Error::io("raising the file-descriptor limit", e))
}

/// Grows this process's descriptor table to hold `count` descriptors now, in one step:
/// `fcntl(F_DUPFD_CLOEXEC)` duplicates stderr onto the lowest free descriptor at or
/// above `count - 1`, which the kernel can only give by growing the table that far,
/// and the duplicate is closed again. One call, so no other thread's descriptor can be
/// taken or closed, and close-on-exec, so no child inherits it meanwhile. Best effort:
/// if it fails, the table grows as descriptors open, as it would have anyway.
pub fn reserve_table(count: u64) {
    let Ok(highest) = libc::c_int::try_from(count.saturating_sub(1)) else {
        return;
    };
    if highest <= libc::STDERR_FILENO {
        return;
    }
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor, touching no existing one, and
    // the only descriptor closed is the one it returned, which nothing else has seen.
    unsafe {
        let duplicate = libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, highest);
        if duplicate >= 0 {
            libc::close(duplicate);
        }
    }
}

/// The table a long-lived server reserves at start: as many descriptors as its limit
/// allows, up to this many (the table costs 8 bytes an entry).
pub const SERVER_TABLE: u64 = 65_536;

/// [`reserve_table`] for a server, which cannot know how many connections will come.
pub fn reserve_for_server() {
    if let Ok((soft, _)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        reserve_table(soft.min(SERVER_TABLE));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserving_a_table_grows_it_and_leaves_no_descriptor_open() {
        // The kernel's own figure: the slots of this process's descriptor table.
        let table_size = || {
            std::fs::read_to_string("/proc/self/status")
                .unwrap()
                .lines()
                .find_map(|l| l.strip_prefix("FDSize:"))
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap()
        };
        // Within the soft limit, which F_DUPFD may not pass.
        let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        let want = soft.min(5000);
        reserve_table(want);
        assert!(table_size() >= want, "FDSize {} for {want}", table_size());
        let duplicate = format!("/proc/self/fd/{}", want - 1);
        assert!(
            !std::path::Path::new(&duplicate).exists(),
            "{duplicate} left open"
        );
    }
}
