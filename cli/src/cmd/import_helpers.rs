//! `keyward import docker` from the stores docker's config.json names
//! instead of holding credentials itself: `credsStore` (pass, secretservice,
//! desktop, osxkeychain, ...) and `credHelpers`. Each is read with the
//! helper's own `list` and `get` (docker-credential-helpers protocol), where
//! it is installed; its answers go straight into locked memory.

use crate::exit::{CliError, Result};
use keyward_protocols::input::{read_bounded, Limits, ReadError};
use keyward_protocols::json::{self, Value};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{Kind, NewEntry};
use std::io::{Read, Write};
use std::process::{Command, Stdio};

/// What reading one helper gave.
#[derive(Debug, Default)]
pub(crate) struct FromHelper {
    /// Records read.
    pub records: Vec<NewEntry>,
    /// Servers that could not be read, and why (never a secret).
    pub failed: Vec<String>,
    /// The helper is not on PATH (nothing could be read).
    pub missing: bool,
}

/// A helper name docker would run as `docker-credential-NAME`: letters,
/// digits, `.`, `_`, `-` (no path).
fn valid(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

fn installed(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(d.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// Runs `docker-credential-NAME ACTION` with `input`; its stdout in locked
/// memory (at most 1 MiB) and whether it exited 0.
fn call(name: &str, action: &str, input: &[u8]) -> std::io::Result<(bool, SecretBytes)> {
    let mut child = Command::new(format!("docker-credential-{name}"))
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut i) = child.stdin.take() {
        // A helper that does not read its input (list) closes the pipe.
        let _ = i.write_all(input);
    }
    let mut out = child.stdout.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
    let limits = Limits {
        initial: 4096,
        max: 1 << 20,
        probe_at_max: true,
    };
    let read = read_bounded(|b| out.read(b), limits, |_, _| false);
    let status = child.wait()?;
    let data = read.map_err(|e| match e {
        ReadError::TooLarge => std::io::Error::other("answer larger than 1 MiB"),
        ReadError::Io(e) => e,
        ReadError::Memory(e) => std::io::Error::other(e.to_string()),
    })?;
    Ok((status.success(), data))
}

/// `get` of one server: its username and secret.
fn get(name: &str, server: &str) -> std::result::Result<NewEntry, String> {
    let (ok, out) = call(name, "get", server.as_bytes()).map_err(|e| e.to_string())?;
    if !ok {
        // The protocol's error text is on stdout; it names no secret.
        let why = String::from_utf8_lossy(out.expose_secret())
            .trim()
            .to_string();
        return Err(if why.is_empty() {
            "get failed".into()
        } else {
            why
        });
    }
    let src = out.expose_secret();
    let Ok((Value::Object(fields), _)) = json::parse(src) else {
        return Err("`get` did not answer a JSON object".into());
    };
    let mut user = None;
    let mut secret = None;
    for (k, v, _) in &fields {
        let Value::String(r) = v else { continue };
        match &src[k.clone()] {
            b"Username" => user = json::decode(src, r.clone()).ok(),
            b"Secret" => secret = json::decode_secret(src, r.clone()).ok(),
            _ => {}
        }
    }
    match (user, secret) {
        (Some(u), Some(s)) if !s.is_empty() => {
            Ok(NewEntry::new(Kind::Docker, "", server, "", &u, s))
        }
        _ => Err("`get` answered no Username and Secret".into()),
    }
}

/// Every credential of `credsStore: NAME` (`list`, then `get` of each server).
pub(crate) fn read_store(name: &str) -> Result<FromHelper> {
    let mut r = FromHelper::default();
    if !valid(name) {
        return Err(CliError::Setup(format!(
            "credsStore {name:?} is not a helper name docker would run"
        )));
    }
    if !installed(&format!("docker-credential-{name}")) {
        r.missing = true;
        return Ok(r);
    }
    let servers = match call(name, "list", b"") {
        Ok((true, out)) => {
            match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(
                out.expose_secret(),
            ) {
                Ok(m) => m.keys().cloned().collect::<Vec<_>>(),
                Err(_) => {
                    r.failed.push("(list): not a JSON object".into());
                    return Ok(r);
                }
            }
        }
        Ok((false, _)) => {
            r.failed.push("(list): the helper failed".into());
            return Ok(r);
        }
        Err(e) => {
            r.failed.push(format!("(list): {e}"));
            return Ok(r);
        }
    };
    for s in servers {
        match get(name, &s) {
            Ok(e) => r.records.push(e),
            Err(why) => r.failed.push(format!("{s}: {why}")),
        }
    }
    Ok(r)
}

/// The credential of `server` in `credHelpers: {server: NAME}`.
pub(crate) fn read_one(name: &str, server: &str) -> FromHelper {
    let mut r = FromHelper::default();
    if !valid(name) {
        r.failed
            .push(format!("{server}: {name:?} is not a helper name"));
    } else if !installed(&format!("docker-credential-{name}")) {
        r.missing = true;
    } else {
        match get(name, server) {
            Ok(e) => r.records.push(e),
            Err(why) => r.failed.push(format!("{server}: {why}")),
        }
    }
    r
}
