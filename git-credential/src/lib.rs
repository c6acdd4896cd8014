//! keyward-protocols: the protocol adapters between clients and the vault —
//! git's credential helper protocol and docker's credential-helper protocol
//! today (parsers, helper logic; the binaries in `src/bin/` are thin), and
//! the protocols to come. The folder keeps the product owner's name,
//! `git-credential/`.
#![forbid(unsafe_code)]

pub mod docker;
pub mod git;
pub mod input;
pub mod json;
pub mod kube;
pub mod named;
pub mod npm;
pub mod output;
pub mod terraform;
pub mod tokenhelper;
