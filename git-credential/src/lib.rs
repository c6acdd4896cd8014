//! keyward-protocols: the protocol adapters between clients and the vault —
//! git's credential helper protocol, docker's credential-helper protocol and
//! cargo's credential-provider protocol (parsers, helper logic; the binaries
//! in `src/bin/` are thin), the file formats `keyward import` reads without
//! copying a secret out (`ini` for AWS and `.pypirc`, `netrc`), and the
//! protocols to come. The folder keeps the product owner's name,
//! `git-credential/`.
#![forbid(unsafe_code)]

pub mod cargo;
pub mod docker;
pub mod git;
pub mod ini;
pub mod input;
pub mod json;
pub mod kube;
pub mod named;
pub mod netrc;
pub mod npm;
pub mod output;
pub mod terraform;
pub mod tokenhelper;
