//! Process hardening for keyward's own binaries (never for the PAM module).

use crate::error::{Error, Result};
use nix::sys::resource::{setrlimit, Resource};

/// Makes this process undumpable (`PR_SET_DUMPABLE=0`: no core file, no ptrace
/// or `/proc/PID/mem` by other processes of the same user) and sets
/// `RLIMIT_CORE` to 0.
pub fn harden_process() -> Result<()> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0).map_err(|e| Error::Io {
        context: "cannot disable core dumps",
        source: e.into(),
    })?;
    nix::sys::prctl::set_dumpable(false).map_err(|e| Error::Io {
        context: "cannot make the process undumpable",
        source: e.into(),
    })?;
    Ok(())
}

/// Whether this process is dumpable (`PR_GET_DUMPABLE`).
pub fn is_dumpable() -> bool {
    nix::sys::prctl::get_dumpable().unwrap_or(true)
}
