//! `git-credential-keyward`: the git credential helper protocol over the vault.
//!
//! - [`error`]: what can be wrong with a request, and its limits.
//! - [`proto`]: the wire format (git-credential(1), git 2.47).
//! - [`url`]: `url=` split into its parts as git splits it.
//! - [`matching`]: which stored credentials a request names.
//! - [`helper`]: `get`, `store`, `erase` and `capability` over the vault.

pub mod error;
pub mod helper;
pub mod matching;
pub mod proto;
pub mod url;

pub use helper::{run, HelperError};
