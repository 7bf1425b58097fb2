//! Attempts seen per request, for `fault.fail_first`: the first `fail_first` attempts
//! at a request fail, the next one succeeds.
//!
//! A request is known by its endpoint and its `seq`. The rule for what is remembered:
//!
//! - a request without a `seq` has no identity a retry could share: it is always a
//!   first attempt, and nothing is stored for it;
//! - with a recording ledger (a bounded run) every key is kept: a run has at most as
//!   many as it has requests, and a retry may come after every other first attempt;
//! - with an aggregating ledger (the long-lived `fanout serve`) the table keeps two
//!   generations of at most [`GENERATION`] keys: when the current one is full, the one
//!   before it is forgotten. A request is remembered for at least `GENERATION` other
//!   requests after its last attempt, and the table never holds more than twice that.
//!
//! Read next: `http.rs`, where the handler asks.

use std::collections::HashMap;

use super::ledger::LedgerMode;

/// Keys per generation in the bounded table: about 1.6 MB each, at most.
pub(super) const GENERATION: usize = 50_000;

/// An attempt count per (endpoint index, seq).
type Counts = HashMap<(usize, u64), u32>;

/// The attempt table of one server.
#[derive(Debug, Default)]
pub(super) struct Attempts {
    /// `None`: keep every key; `Some(n)`: two generations of at most `n` keys.
    generation: Option<usize>,
    current: Counts,
    /// The generation before `current`; a key found here moves back to `current`.
    previous: Counts,
}

impl Attempts {
    /// The table a ledger of this mode goes with.
    pub(super) fn new(mode: LedgerMode) -> Attempts {
        Attempts::bounded(match mode {
            LedgerMode::Recording => None,
            LedgerMode::Aggregating => Some(GENERATION),
        })
    }

    fn bounded(generation: Option<usize>) -> Attempts {
        Attempts {
            generation,
            ..Attempts::default()
        }
    }

    /// Which attempt (from 0) this one is at request `seq` of endpoint `index`.
    pub(super) fn next(&mut self, index: usize, seq: Option<u64>) -> u32 {
        let Some(seq) = seq else {
            return 0;
        };
        let key = (index, seq);
        if let Some(seen) = self.current.get_mut(&key) {
            *seen += 1;
            return *seen - 1;
        }
        let seen = self.previous.remove(&key).unwrap_or(0);
        if let Some(n) = self.generation
            && self.current.len() >= n
        {
            // Sized once: the memory freed by the generation forgotten is reused as is.
            self.previous = std::mem::replace(&mut self.current, Counts::with_capacity(n));
        }
        self.current.insert(key, seen + 1);
        seen
    }

    /// Keys held now.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_attempts_per_request_and_none_without_a_seq() {
        let mut attempts = Attempts::new(LedgerMode::Recording);
        assert_eq!(attempts.next(0, Some(7)), 0);
        assert_eq!(attempts.next(0, Some(7)), 1);
        assert_eq!(attempts.next(1, Some(7)), 0);
        assert_eq!(attempts.next(0, None), 0);
        assert_eq!(attempts.next(0, None), 0);
        assert_eq!(attempts.len(), 2);
    }

    #[test]
    fn a_bounded_table_forgets_old_requests_and_keeps_recent_ones() {
        let mut attempts = Attempts::bounded(Some(3));
        for seq in 0..100 {
            attempts.next(0, Some(seq));
            assert!(attempts.len() <= 6);
        }
        // Seen within the last generation: remembered, and moved back to the current.
        assert_eq!(attempts.next(0, Some(98)), 1);
        assert_eq!(attempts.next(0, Some(98)), 2);
        // Long ago: forgotten, a first attempt again.
        assert_eq!(attempts.next(0, Some(0)), 0);
    }

    #[test]
    fn a_recording_table_keeps_everything() {
        let mut attempts = Attempts::new(LedgerMode::Recording);
        for seq in 0..(GENERATION as u64 + 10) {
            attempts.next(0, Some(seq));
        }
        assert_eq!(attempts.next(0, Some(0)), 1);
    }
}
