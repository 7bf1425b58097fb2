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
/// stderr is duplicated onto descriptor `count - 1`, which the kernel can only give by
/// growing the table that far, and closed again. Best effort: if it fails, the table
/// grows as descriptors open, as it would have anyway.
pub fn reserve_table(count: u64) {
    let Ok(highest) = libc::c_int::try_from(count.saturating_sub(1)) else {
        return;
    };
    if highest <= libc::STDERR_FILENO {
        return;
    }
    // SAFETY: dup2 onto a descriptor number this process does not use (it is at the
    // top of the range the run will open) and closing exactly what dup2 returned
    // touch no descriptor anything else holds; fcntl first checks it is free.
    unsafe {
        if libc::fcntl(highest, libc::F_GETFD) != -1 {
            return; // already open, so the table is already that large
        }
        if libc::dup2(libc::STDERR_FILENO, highest) == highest {
            libc::close(highest);
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
    fn reserving_a_table_leaves_no_descriptor_open() {
        reserve_table(5000);
        // SAFETY: F_GETFD only reads the flags of descriptor 4999.
        assert_eq!(unsafe { libc::fcntl(4999, libc::F_GETFD) }, -1);
    }
}
