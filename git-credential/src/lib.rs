//! Protocol logic for keyward's git and docker credential helpers.
#![forbid(unsafe_code)]

pub mod git;
pub mod output;
