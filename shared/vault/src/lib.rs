//! keyward-vault: the encrypted credential vault (see FORMAT.md), its KDF,
//! configuration, the PAM password database and the kernel-keyring unlock cache.
#![forbid(unsafe_code)]
pub mod passdb;
