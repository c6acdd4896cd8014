//! pam_keyward.so: verifies passwords against keyward's scrypt database
//! (`/etc/keyward/shadow`) with the password only in locked memory, a
//! constant-time digest comparison, and the same work and result code for
//! unknown users as for wrong passwords.
//!
//! [`ffi`](self) is the only module with `unsafe`: the `pam_sm_*` entry points
//! (each catches panics and returns a PAM code) and the libpam calls
//! pam-bindings lacks. The logic ([`auth`], over the libpam services named in
//! [`host`]), argument parsing ([`args`]) and
//! lockout tally ([`tally`]) are safe and unit-tested.
//!
//! With `unlock` it also unlocks the user's vault at login ([`login`]): the
//! authenticated password is stashed in locked memory between `auth` and
//! `session`, and a helper program (`keyward-login-helper`, started with
//! `posix_spawn`) running as the user puts the vault key in the user's kernel
//! keyring.
//!
//! The module changes no process-wide state of its host (no rlimits, no
//! dumpable flag, no signal handlers) and holds no secret once an entry point
//! returns, except the login-unlock stash between `auth` and `session`.
#![deny(unsafe_code)]

/// Every heap block this module's Rust code frees is wiped first (scrypt's
/// PBKDF2 buffer of the password): see `keyward_secmem::WipeOnFree`. The
/// host's own allocations (libpam, sshd) are not affected.
#[global_allocator]
static ALLOC: keyward_secmem::WipeOnFree = keyward_secmem::WipeOnFree;

pub mod args;
pub mod auth;
pub mod chkpwd;
mod ffi;
pub mod host;
pub mod login;
pub mod sessions;
/// The lockout tally lives with the password database (`keyward pam faillock` reads it too).
pub use keyward_passdb::tally;
