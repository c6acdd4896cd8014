//! `git-credential-keyward`: the git credential helper protocol over the vault.

pub mod matching;
pub mod proto;
pub mod url;
