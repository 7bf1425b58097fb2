//! The catalogue: one [`Claim`] per row of the project's claims list, in document order.
//! Figures are the documents'; the words are ours.
//!
//! One file per document ([`d0`], [`d1`], [`d2`]), each row a constant in it: what the
//! document says, the trials that test it and the rule that judges them. The plans are
//! built from the shared pieces in [`builders`]; the rules live in
//! [`super::rules`], [`super::behaviour`] and [`super::news`]. A new row is a
//! constant in its document's file and its name in that file's `claims()`.
//!
//! Read next: [`builders`], then [`d0`].

pub mod beyond;
pub mod builders;
pub mod d0;
pub mod d1;
pub mod d2;

use super::Claim;

/// Every claim, in document order.
pub fn catalogue() -> Vec<Claim> {
    [d0::claims(), d1::claims(), d2::claims(), beyond::claims()].concat()
}
