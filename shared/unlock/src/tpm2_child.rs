//! tpm2 slots unsealed in a child process, for the binaries that must start
//! fast (the credential helpers): `keyward unseal-tpm2` (the CLI, which links
//! keyward-tpm) unseals a slot's data and writes the 32-byte secret to a pipe,
//! which is read straight into locked memory here.
//!
//! Why a child: keyward-tpm links libtss2-esys, which loads libcrypto; the
//! dynamic loader maps and relocates both at every start of a process that
//! links them, whether or not it ever talks to a TPM: about 1.7 ms per
//! process on the 2-core VM of docs/benchmarks.md, four times the work of a
//! whole `git-credential-keyward get` of an unlocked vault. A helper needs
//! the TPM only while the vault is locked, so it pays for it only then.
//!
//! The secret crosses one pipe (a kernel buffer, as a password given with
//! `--password-fd` does, and as the TPM's own answer crossed the TPM device's
//! or swtpm's socket buffers); the child's copies die with it (it unseals as
//! `keyward unlock` does: a scrubbed thread, glibc wiping freed C heap
//! blocks, no core dumps).

use crate::Unsealer;
use keyward_secmem::{ExposeSecretMut, SecretBytes};
use keyward_vault::{Error, Result, SlotInfo, SlotKind, VaultId};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Length of a tpm2 slot's secret (an X25519 private key).
const SECRET_LEN: usize = 32;

/// The hidden `keyward` subcommand that unseals a slot's data (on its stdin)
/// to its stdout.
pub const UNSEAL_VERB: &str = "unseal-tpm2";

/// Unseals tpm2 slots by running `keyward unseal-tpm2`.
#[derive(Debug, Clone)]
pub struct ChildTpm2Unsealer {
    program: PathBuf,
}

impl ChildTpm2Unsealer {
    /// The `keyward` installed beside this program
    /// ([`crate::sibling_program`]), else `keyward` from `PATH` (a helper
    /// copied elsewhere, as Terraform's plugin directory).
    pub fn beside_this_program() -> ChildTpm2Unsealer {
        let program = crate::sibling_program("keyward").unwrap_or_else(|| PathBuf::from("keyward"));
        ChildTpm2Unsealer { program }
    }

    fn run(&self, data: &[u8]) -> Result<SecretBytes> {
        let failed = |why: String| Error::Invalid(format!("TPM unseal failed: {why}"));
        let mut child = Command::new(&self.program)
            .arg(UNSEAL_VERB)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| failed(format!("cannot run {}: {e}", self.program.display())))?;
        // The sealed data (no secret) is a few hundred bytes: one pipe buffer.
        let wrote = child.stdin.take().map(|mut s| s.write_all(data));
        let mut secret = SecretBytes::zeroed(SECRET_LEN)?;
        let read = match child.stdout.take() {
            Some(mut out) => out
                .read_exact(secret.expose_secret_mut())
                .and_then(|()| out.read(&mut [0u8; 1]))
                .map(|extra| extra == 0),
            None => Ok(false),
        };
        let mut why = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut why);
        }
        let status = child.wait().map_err(|e| failed(e.to_string()))?;
        if status.success() && matches!(wrote, Some(Ok(()))) && matches!(read, Ok(true)) {
            return Ok(secret);
        }
        // The child's own message (`keyward: …`), as the in-process unsealer says it.
        let why = why.trim_end();
        let why = why.strip_prefix("keyward: ").unwrap_or(why);
        Err(Error::Invalid(if why.is_empty() {
            format!(
                "TPM unseal failed: {} exited with {status}",
                self.program.display()
            )
        } else {
            why.to_string()
        }))
    }
}

impl Unsealer for ChildTpm2Unsealer {
    fn kind(&self) -> SlotKind {
        SlotKind::Tpm2
    }

    // `needs_typing` stays `false`: a slot sealed with a PIN is refused by the
    // child (its stdin is the slot's data, never a person), which a helper
    // takes as it takes any slot that did not open.

    fn unseal(&self, _vault: &VaultId, slot: &SlotInfo) -> Result<Option<SecretBytes>> {
        self.run(&slot.extra).map(Some)
    }
}

fn child_hook() -> Option<Box<dyn Unsealer>> {
    Some(Box::new(ChildTpm2Unsealer::beside_this_program()))
}

/// Wires tpm2 slots in through [`ChildTpm2Unsealer`] (at the start of a
/// helper's `main`): the binary does not link libtss2. `false` if a hook was
/// already wired.
pub fn wire_tpm2_child() -> bool {
    crate::wire_tpm2(child_hook)
}
