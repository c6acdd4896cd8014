//! What every subcommand shares: the context (configuration and vault path),
//! opening the vault, and printing a line.

use crate::exit::Result;
use crate::password::Source;
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{read_vault_id, Config, KdfParams, Kind, Vault};
use std::io::Write;
use std::path::PathBuf;

/// What every command gets: the configuration and the resolved vault path.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub config: Config,
    pub vault: PathBuf,
    /// Why the vault path could not be found (HOME unset, say): only
    /// `keyward doctor` runs then (with `vault` empty), and reports it.
    pub vault_unknown: Option<String>,
}

/// Opens the vault: with a password from `--password-fd`, else the cached key,
/// else a terminal prompt, else "vault is locked: run `keyward unlock`".
pub(crate) fn open(ctx: &Ctx, password_fd: Option<i32>) -> Result<Vault> {
    if password_fd.is_some() {
        read_vault_id(&ctx.vault)?;
        let pw = Source::new(password_fd)?.read("")?;
        let mut v = Vault::open_with_password(&ctx.vault, &pw)?;
        v.check_rollback()?;
        return Ok(v);
    }
    Ok(open_for_helper(HelperOpen {
        vault: Some(ctx.vault.clone()),
        config: Some(ctx.config.clone()),
        ..HelperOpen::default()
    })?)
}

/// The scrypt cost for a new or changed password: the configured `[kdf]`,
/// refused below the floor or above the ceiling (exit 8, naming the file);
/// under the test suite's `KEYWARD_INSECURE_TEST_KDF=1`, accepted below the
/// floor with a warning on every use.
pub(crate) fn new_password_kdf(ctx: &Ctx) -> Result<KdfParams> {
    let (k, insecure) = ctx.config.kdf_for_new_password()?;
    if insecure {
        eprintln!(
            "keyward: warning: KEYWARD_INSECURE_TEST_KDF=1: scrypt {k} is below the floor;              a password at this cost falls to a fast guesser (for tests only; `keyward doctor` flags it)"
        );
    }
    Ok(k)
}

/// Prints one line to stdout.
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", for_terminal(line, true));
}

/// Prints JSON as it is (JSON escapes control characters by its own rules).
pub(crate) fn say_json(json: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{json}");
}

/// `text` made safe to print to a terminal: control characters (C0 but, with
/// `lines`, newline and tab; DEL; C1) and the bidirectional overrides become
/// visible escapes (`\x1b`, `\u{202e}`), so a stored name chosen by a server
/// (a git path with `credential.useHttpPath`) cannot move the cursor, change
/// colours or retitle the window. Every human-readable line of `keyward`
/// goes through it; `--json` output escapes by JSON's own rules.
pub(crate) fn for_terminal(text: &str, lines: bool) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && !(lines && (c == '\n' || c == '\t')))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !bad(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `--kind git|docker|secret|secret-service|cargo` (`list`, `rm`).
pub(crate) fn parse_kind(s: &str) -> std::result::Result<Kind, String> {
    match s {
        "git" => Ok(Kind::Git),
        "docker" => Ok(Kind::Docker),
        "secret" => Ok(Kind::Secret),
        "secret-service" => Ok(Kind::SecretService),
        "cargo" => Ok(Kind::Cargo),
        _ => Err("expected `git`, `docker`, `secret`, `secret-service` or `cargo`".into()),
    }
}
