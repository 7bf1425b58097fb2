//! File descriptors: every open connection holds one on each side, and a run that needs
//! more than the process may open fails halfway with "Too many open files". fanout
//! checks before sending anything: it raises the soft limit to the hard one (any
//! process may do that), and refuses the run with the figure to ask for if that is
//! still not enough.

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
        return Ok(soft);
    }
    let raised = rlimit::increase_nofile_limit(needed.min(hard))
        .map_err(|e| Error::io("raising the file-descriptor limit", e))?;
    if needed <= raised {
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
