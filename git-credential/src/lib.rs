//! Protocol logic for keyward's git and docker credential helpers.
#![forbid(unsafe_code)]

pub mod docker;
pub mod git;
pub mod output;
