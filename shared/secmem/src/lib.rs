//! # keyward-secmem: memory for passwords, tokens and keys
//!
//! ## What it guarantees
//! - Secret bytes live only in dedicated mappings, never in the ordinary heap:
//!   locked in RAM (`mlock`), excluded from core dumps (`MADV_DONTDUMP`), wiped
//!   in forked children (`MADV_WIPEONFORK`), between inaccessible guard pages.
//! - Every secret is wiped on drop, on panic unwinding, and before its memory
//!   is reused; growing a secret copies it and wipes the old copy (no `realloc`).
//! - Secrets print as `[REDACTED]` in `Debug`, have no `Display`, no
//!   `Serialize`, no implicit `Clone`; reading them takes an explicit
//!   `expose_secret()`.
//! - If memory cannot be locked, the [`LockPolicy`] decides: `best-effort`
//!   warns once and goes on in unlocked (still guarded, dump-excluded, wiped)
//!   memory; `required` returns [`Error::MemlockExhausted`]. Never silent,
//!   never a panic. [`status()`] reports what happened.
//!
//! ## What it does not guarantee
//! - Copies the compiler leaves in registers or on the stack, or that
//!   libraries (AES key schedules, scrypt's work area) make internally.
//! - Copies made by the kernel (pipe and tty buffers) or by other programs
//!   (git, docker, the terminal) before or after a secret passes through us.
//! - Protection from root, from a debugger attached with the user's consent,
//!   or from hardware attacks (cold boot, Rowhammer, speculative execution).
#![deny(missing_docs)]

mod alloc;
pub mod ct;
mod error;
mod harden;
pub mod input;
mod policy;
mod secret;
mod sys;

pub use alloc::{prefer_backend, release_unused, MAX_SECRET_LEN};
pub use ct::{ct_eq, ct_eq_fixed};
pub use error::{Error, Result};
pub use harden::{harden_process, is_dumpable};
pub use input::{prompt_secret, read_secret_from_fd};
pub use policy::{
    memlock_limit, policy, set_policy, set_warning_sink, status, Backend, LockPolicy, Status,
};
pub use secrecy::{ExposeSecret, ExposeSecretMut};
pub use secret::{SecretBytes, SecretString};
