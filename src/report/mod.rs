//! Reports: plain summaries in, text out. Nothing here touches a client, a server or a
//! clock, and every printer writes to any `io::Write`, so tests can snapshot the text.
//!
//! - [`table`]: the terminal tables of `fanout run` and `fanout compare`;
//! - JSON is [`crate::summary::RunSummary`] serialised as it is (see the README's schema).

pub mod table;
