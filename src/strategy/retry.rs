//! Retries with exponential backoff and jitter, shared by the sync and async strategies.
//!
//! The waits come from `backon`'s exponential backoff: attempt k (from 0) waits
//! `base × 2^k` plus a uniform jitter of up to the same again, so within
//! `[base × 2^k, 2 × base × 2^k)`: the chapter's `2^attempt + U(0, 1)` seconds, with
//! the jitter scaled to the wait. fanout drives the loop itself rather than through
//! `backon`'s `Retryable`, so one policy serves both ureq and reqwest and every request
//! can report how many attempts it took:
//!
//! - only what may succeed next time is retried: timeouts, refused or broken
//!   connections, 429 and 5xx; never another 4xx;
//! - the server's wait stretches the wait to at least what it asked: `retry-after-ms`
//!   when it sent one, else `Retry-After` ([`parse_retry_after`] decides);
//! - no wait runs past the run's deadline: a retry that would is not made.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use crate::measure::Outcome;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The answer's body length.
    pub bytes: u64,
    /// The wait the server asked for, when it sent one ([`parse_retry_after`]).
    pub retry_after: Option<Duration>,
}

/// True for outcomes a later attempt may turn into `ok` (not `tls`: a certificate the
/// client does not trust stays untrusted).
pub fn retryable(outcome: Outcome) -> bool {
    matches!(
        outcome,
        Outcome::Timeout
            | Outcome::Connect
            | Outcome::Dropped
            | Outcome::Http429
            | Outcome::Http5xx
    )
}

/// The waits before retries 1, 2, … `retries`, each within `[base × 2^k, 2 × base × 2^k)`.
pub fn waits(retries: u32, base: Duration) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(base)
        .with_factor(2.0)
        .without_max_delay()
        .with_max_times(retries as usize)
        .with_jitter()
        .build()
}

/// The wait before the next attempt after `attempt`, or `None` to stop: the outcome is
/// final, the retries are spent, or the wait would run past the deadline.
pub fn next_wait(
    attempt: &Attempt,
    waits: &mut impl Iterator<Item = Duration>,
    remaining: Duration,
) -> Option<Duration> {
    if !retryable(attempt.outcome) {
        return None;
    }
    let wait = waits.next()?.max(attempt.retry_after.unwrap_or_default());
    (wait < remaining).then_some(wait)
}

/// The wait a server asked for, from its `retry-after-ms` and `Retry-After` headers:
/// the milliseconds when they parse (the exact figure), else the whole seconds (the
/// HTTP-date form of `Retry-After` is not used here). The one rule every fanout client
/// follows.
pub fn parse_retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Duration> {
    let number = |value: Option<&str>| value?.trim().parse::<u64>().ok();
    number(retry_after_ms)
        .map(Duration::from_millis)
        .or_else(|| number(retry_after).map(Duration::from_secs))
}

/// [`parse_retry_after`] of a response's headers (ureq's and reqwest's are both the
/// `http` crate's).
pub fn retry_after_of(headers: &ureq::http::HeaderMap) -> Option<Duration> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    parse_retry_after(
        value(crate::server::fault::RETRY_AFTER_MS),
        value("retry-after"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_and_stay_inside_their_jitter_bounds() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let waits: Vec<Duration> = waits(4, base).collect();
            assert_eq!(waits.len(), 4);
            for (k, wait) in waits.iter().enumerate() {
                let low = base * 2u32.pow(k as u32);
                assert!(*wait >= low && *wait < low * 2, "retry {k}: {wait:?}");
            }
        }
    }

    #[test]
    fn only_retryable_outcomes_are_retried_and_never_past_the_deadline() {
        let attempt = |outcome| Attempt {
            outcome,
            status: None,
            bytes: 0,
            retry_after: None,
        };
        let plenty = Duration::from_secs(60);
        let mut w = waits(3, Duration::from_millis(10));
        assert!(next_wait(&attempt(Outcome::Http4xx), &mut w, plenty).is_none());
        assert!(next_wait(&attempt(Outcome::Http5xx), &mut w, plenty).is_some());
        assert!(next_wait(&attempt(Outcome::Timeout), &mut w, Duration::from_millis(1)).is_none());
        let mut told = attempt(Outcome::Http429);
        told.retry_after = Some(Duration::from_secs(2));
        let wait = next_wait(&told, &mut waits(3, Duration::from_millis(10)), plenty);
        assert_eq!(
            wait,
            Some(Duration::from_secs(2)),
            "Retry-After wins over a shorter wait"
        );
        told.retry_after = Some(Duration::from_millis(30));
        let wait = next_wait(&told, &mut waits(3, Duration::from_millis(1)), plenty);
        assert_eq!(wait, Some(Duration::from_millis(30)), "to the millisecond");
        let mut spent = waits(1, Duration::from_millis(10));
        assert!(next_wait(&attempt(Outcome::Connect), &mut spent, plenty).is_some());
        assert!(next_wait(&attempt(Outcome::Connect), &mut spent, plenty).is_none());
    }

    #[test]
    fn retry_after_ms_wins_over_retry_after_and_bad_values_fall_through() {
        let ms = Duration::from_millis;
        assert_eq!(parse_retry_after(Some("38"), Some("1")), Some(ms(38)));
        assert_eq!(parse_retry_after(None, Some(" 2 ")), Some(ms(2_000)));
        assert_eq!(parse_retry_after(Some("soon"), Some("1")), Some(ms(1_000)));
        assert_eq!(parse_retry_after(Some("250"), None), Some(ms(250)));
        let date = Some("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(None, date), None);
        assert_eq!(parse_retry_after(None, None), None);
    }
}
