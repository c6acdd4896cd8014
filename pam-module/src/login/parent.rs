//! The parent's side: start the helper program, answer its header with
//! derived keys, and wait for its last word (bounded by [`CHILD_TIMEOUT`]).
//!
//! The helper is started with `posix_spawn` (std's `Command` with no
//! `pre_exec` closure, no uid/gid change and a cleared environment takes that
//! path): between the host's fork and the exec only libc's own
//! async-signal-safe code runs (the descriptor moves and signal resets), never
//! this module's, whatever threads the host has. Everything else (closing
//! inherited descriptors, dropping to the user, the keyring) the helper does
//! itself after the exec.

use super::*;
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

/// The helper and the parent's end of its socket. Dropping it closes the
/// socket (the helper then ends) and reaps it; a helper that did not answer
/// in time (`kill`) is killed first. A helper that answered is never
/// signalled: it is exiting, and if the host's SIGCHLD handler reaps it its
/// pid could be reused.
pub(super) struct Child {
    pub(super) stream: UnixStream,
    pub(super) process: std::process::Child,
    pub(super) kill: bool,
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
        if self.kill {
            let _ = self.process.kill();
        }
        // ECHILD: the host's SIGCHLD handler reaped it already (sshd does);
        // std's wait retries EINTR itself.
        let _ = self.process.wait();
    }
}

/// How a login-unlock step ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Done; what was done.
    Done(String),
    /// Nothing to do (no vault, opted out, a different password).
    Skipped(String),
    /// Something is wrong (a refused file, a keyring error).
    Failed(String),
}

/// Starts `login_helper JOB USER [CONFIG]` with its standard input on one end
/// of a socket pair, standard output and error on `/dev/null` (its answers
/// travel on the socket) and an empty environment. The program must be
/// root's and unwritable by anyone else, all the way up.
pub(super) fn spawn(o: &Options, acct: &Account, job: Job) -> Result<Child, String> {
    let helper = &o.login_helper;
    keyward_trustfs::Trust::system(TRUSTED_UIDS, 0o022)
        .named("login helper")
        .check_program(helper)
        .map_err(|e| e.to_string())?;
    let (stream, theirs) = UnixStream::pair().map_err(|e| format!("socket: {e}"))?;
    let mut cmd = Command::new(helper);
    cmd.arg(job.as_arg()).arg(&acct.name);
    if let Some(c) = &o.config {
        cmd.arg(c);
    }
    if job == Job::Slots {
        // The setuid helper that gives the user their host-slot secret.
        let mut arg = std::ffi::OsString::from("chkpwd=");
        arg.push(&o.chkpwd);
        cmd.arg(arg);
    }
    cmd.env_clear()
        .stdin(Stdio::from(OwnedFd::from(theirs)))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let process = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", helper.display()))?;
    // The helper's end of the socket is closed here with `cmd`: the parent
    // sees the end of the stream when the helper ends.
    drop(cmd);
    let child = Child {
        stream,
        process,
        kill: false,
    };
    child
        .stream
        .set_read_timeout(Some(CHILD_TIMEOUT))
        .map_err(|e| format!("socket: {e}"))?;
    Ok(child)
}

/// The child's final word.
pub(super) fn last_word(child: &mut Child) -> Outcome {
    let r = (|| -> std::io::Result<Outcome> {
        match recv_head(&child.stream)? {
            None => Ok(Outcome::Failed(
                "the process running as the user ended without an answer".into(),
            )),
            Some((tag, len)) => {
                let text = String::from_utf8_lossy(&recv_public(&child.stream, len)?).into_owned();
                Ok(match tag {
                    T_OK => Outcome::Done(text),
                    T_NOTHING => Outcome::Skipped(text),
                    _ => Outcome::Failed(text),
                })
            }
        }
    })();
    r.unwrap_or_else(|e| {
        child.kill = true;
        Outcome::Failed(format!("no answer from the user's process: {e}"))
    })
}

/// Unlock or rewrap: `old` opens the vault; for a rewrap, `new` is the new password.
pub(super) fn with_vault(
    o: &Options,
    acct: &Account,
    job: Job,
    old: &SecretBytes,
    new: Option<&SecretBytes>,
) -> Outcome {
    let mut child = match spawn(o, acct, job) {
        Ok(c) => c,
        Err(e) => return Outcome::Failed(e),
    };
    let first = (|| -> std::io::Result<Option<(u8, Vec<u8>)>> {
        Ok(match recv_head(&child.stream)? {
            None => None,
            Some((tag, len)) => Some((tag, recv_public(&child.stream, len)?)),
        })
    })();
    let hello = match first {
        Ok(Some((T_HEADER, v))) => match HeaderMsg::decode(&v) {
            Some(m) => m,
            None => return Outcome::Failed("malformed message from the user's process".into()),
        },
        Ok(Some((T_NOTHING, v))) => {
            return Outcome::Skipped(String::from_utf8_lossy(&v).into_owned());
        }
        Ok(Some((_, v))) => return Outcome::Failed(String::from_utf8_lossy(&v).into_owned()),
        Ok(None) => {
            return Outcome::Failed(
                "the process running as the user ended without an answer".into(),
            )
        }
        Err(e) => {
            child.kill = true;
            return Outcome::Failed(format!("no answer from the user's process: {e}"));
        }
    };
    // The ceiling is the system's (root-owned) configuration's: the user's
    // header and [kdf] never choose how much work is done as root.
    let system = o
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(keyward_vault::SYSTEM_CONFIG));
    let limits = match keyward_vault::kdf::KdfLimits::from_system_file(&system) {
        Ok(l) => l,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    // scrypt, the key unwrap and the copy of the key into the message run in
    // a frame of their own; the stack below this one and the vector
    // registers (the copy goes through them) are scrubbed after them.
    let built = keyward_secmem::with_scrubbed_stack(|| -> Result<SecretBytes, Option<String>> {
        let (_, key) = match vl::unwrap_header_within(&hello.path, &hello.header, old, &limits) {
            Ok(k) => k,
            Err(keyward_vault::Error::WrongPassword { .. }) => return Err(None),
            Err(e) => return Err(Some(e.to_string())),
        };
        let fail = |e: &dyn std::fmt::Display| Some(e.to_string());
        let mut m = SecretBytes::with_capacity(KEY_LEN + WRAP_WIRE_LEN).map_err(|e| fail(&e))?;
        m.extend_from_slice(key.expose()).map_err(|e| fail(&e))?;
        drop(key);
        match (job, new) {
            (Job::Rewrap, Some(new)) => {
                let wrap = NewWrap::derive_within(new, hello.kdf, &limits, &hello.path)
                    .map_err(|e| fail(&e))?;
                let wire = wrap.to_wire().map_err(|e| fail(&e))?;
                m.extend_from_slice(wire.expose_secret())
                    .map_err(|e| fail(&e))?;
            }
            _ => {
                let t = o.timeout.unwrap_or(hello.timeout).as_secs().max(1);
                m.extend_from_slice(&t.to_le_bytes())
                    .map_err(|e| fail(&e))?;
            }
        }
        Ok(m)
    });
    let msg = match built {
        Ok(m) => m,
        Err(None) => {
            // The child records the failed unlock; closing the socket then
            // tells it there is nothing more to do.
            let _ = send_frame(&child.stream, T_WRONG, &[]);
            let which = if job == Job::Rewrap { "old " } else { "" };
            return Outcome::Skipped(format!(
                "the password of {} is not the {which}login password; vault left as it was",
                hello.path.display()
            ));
        }
        Err(Some(e)) => return Outcome::Failed(e),
    };
    if let Err(e) = send_frame(&child.stream, T_KEY, msg.expose_secret()) {
        return Outcome::Failed(format!("cannot talk to the user's process: {e}"));
    }
    drop(msg);
    last_word(&mut child)
}

/// One log line from text the user controls (paths in their configuration
/// and file names): control characters become `?`, at most 1024 characters.
pub(super) fn one_line(s: &str) -> String {
    s.chars()
        .take(1024)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

pub(super) fn log_outcome(h: &dyn Host, user: &str, out: &Outcome) {
    let (p, text) = match out {
        Outcome::Done(t) => (Priority::Info, t),
        Outcome::Skipped(t) => (Priority::Info, t),
        Outcome::Failed(t) => (Priority::Err, t),
    };
    h.log(
        p,
        &format!("login unlock: user={}: {}", sanitize(user), one_line(text)),
    );
}
