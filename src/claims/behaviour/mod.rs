//! Verdict rules about behaviour rather than speed: connections, failures, timeouts,
//! rates, what comes back and in which order, how the speedup grows with n, and the
//! pitfalls. One file per kind of behaviour; every rule is re-exported here.
//!
//! Each rule finds its trials by the [`TrialKey`](super::TrialKey)s its plan gives
//! them, and returns a [`Judgement`](super::Judgement).
//!
//! Read next: [`connections`].

pub mod after_gather;
pub mod connections;
pub mod failures;
pub mod omission;
pub mod pacing;
pub mod pitfalls;
pub mod results;
pub mod scaling;
pub mod timeouts;

pub use after_gather::{backpressure, first_of, hedging};
pub use connections::{client_reuse, http2_one_connection};
pub use failures::{classified, fail_fast, partial_failure, retry_chains};
pub use omission::omission;
pub use pacing::{busiest_window, limiters_keep_promise, rate_limited_server};
pub use pitfalls::{blocking_sleep, never_awaited};
pub use results::{completion_order, posts_created};
pub use scaling::{scaling, scaling_points};
pub use timeouts::{timeout_defaults, timeout_in_batch};
