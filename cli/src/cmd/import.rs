//! `keyward import git|docker`: move plaintext credentials into the vault.

use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use base64::Engine;
use clap::{Args, Subcommand};
use keyward_protocols::json::{self, Value};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::{Kind, NewEntry};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportWhat,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ImportWhat {
    /// Import `git credential-store` lines (`https://user:pass@host/path`), default ~/.git-credentials.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Git(ImportOpts),
    /// Import `auths` (base64 `auth`, `identitytoken`) from docker's config.json,
    /// default $DOCKER_CONFIG/config.json or ~/.docker/config.json.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Docker(ImportOpts),
}

#[derive(Debug, Args)]
pub(crate) struct ImportOpts {
    /// The plaintext file to read.
    pub file: Option<PathBuf>,
    /// Afterwards, remove the imported plaintext from FILE without asking.
    #[arg(long, conflicts_with = "keep_plaintext")]
    pub remove_plaintext: bool,
    /// Afterwards, leave FILE as it is without asking.
    #[arg(long)]
    pub keep_plaintext: bool,
    /// Read the vault password from this file descriptor when the vault is locked.
    #[arg(long, value_name = "N")]
    pub password_fd: Option<i32>,
}

fn home_file(rel: &str) -> Result<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(rel))
        .ok_or(CliError::NoHomeForImport)
}

pub(crate) fn run(ctx: &Ctx, a: ImportArgs) -> Result<()> {
    match a.what {
        ImportWhat::Git(o) => {
            let file = match &o.file {
                Some(f) => f.clone(),
                None => home_file(".git-credentials")?,
            };
            git(ctx, &o, &file)
        }
        ImportWhat::Docker(o) => {
            let file = match (&o.file, std::env::var_os("DOCKER_CONFIG")) {
                (Some(f), _) => f.clone(),
                (None, Some(d)) if !d.is_empty() => PathBuf::from(d).join("config.json"),
                _ => home_file(".docker/config.json")?,
            };
            docker(ctx, &o, &file)
        }
    }
}

/// Whether to remove the plaintext: the flags, else ask on a terminal, else keep.
fn want_removal(o: &ImportOpts, file: &Path) -> bool {
    if o.remove_plaintext {
        return true;
    }
    if o.keep_plaintext || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "Remove the imported plaintext credentials from {}? [y/N] ",
        file.display()
    );
    let _ = err.flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "Y" | "yes")
}

/// One `git credential-store` line → a record (`None`: not a credential URL).
/// The line is split by the helpers' parser, the way git itself reads the
/// file (`credential_from_url`: the first `@` ends the user part).
fn parse_git_line(line: &[u8]) -> Option<NewEntry> {
    let p = keyward_protocols::git::url::split(line).ok()?;
    if !p
        .protocol
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
        || p.host.is_empty()
    {
        return None;
    }
    let (Some(username), Some(password)) = (p.username, p.password) else {
        return None;
    };
    Some(NewEntry::new(
        Kind::Git,
        &p.protocol,
        &p.host,
        p.path.as_deref().unwrap_or(""),
        &username,
        password,
    ))
}

fn git(ctx: &Ctx, o: &ImportOpts, file: &Path) -> Result<()> {
    let text = secretfile::read(file)?;
    let mut records = Vec::new();
    let mut kept = SecretBytes::with_capacity(text.len().max(1))?;
    let mut skipped = 0;
    for (n, line) in text.expose_secret().split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match parse_git_line(line) {
            Some(r) => records.push(r),
            None => {
                skipped += 1;
                eprintln!(
                    "keyward: {}:{}: not a credential URL, skipped (left in the file)",
                    file.display(),
                    n + 1
                );
                kept.extend_from_slice(line)?;
                kept.push(b'\n')?;
            }
        }
    }
    let count = records.len();
    store(ctx, o, records)?;
    say(&format!(
        "imported {count} git credential(s) from {}{}",
        file.display(),
        if skipped > 0 {
            format!(" ({skipped} line(s) skipped)")
        } else {
            String::new()
        }
    ));
    if count > 0 && want_removal(o, file) {
        secretfile::replace(file, &kept)?;
        say(&format!(
            "removed the imported plaintext from {}; use the vault with `git config --global credential.helper keyward`",
            file.display()
        ));
    }
    Ok(())
}

fn store(ctx: &Ctx, o: &ImportOpts, records: Vec<NewEntry>) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut v = open(ctx, o.password_fd)?;
    v.update(|t| {
        // The helpers answer with the most recently stored match (the last
        // one in the vault); credential-store with the first line of its
        // file. So store the last line first, each one replacing and moving
        // to the end any entry with its identity: the first line wins.
        for r in records.into_iter().rev() {
            if let Some(i) = t.entries().iter().position(|e| e.same_identity(&r)) {
                t.remove(i)?;
            }
            t.upsert(r)?;
        }
        Ok(())
    })?;
    keyward_audit::record(&v, keyward_audit::Action::Import, None);
    Ok(())
}

fn docker_err(file: &Path, why: &str) -> CliError {
    CliError::bad_file(file, why)
}

fn docker(ctx: &Ctx, o: &ImportOpts, file: &Path) -> Result<()> {
    let text = secretfile::read(file)?;
    let src = text.expose_secret();
    let (root, _) = json::parse(src)
        .map_err(|e| docker_err(file, &format!("not valid JSON (byte {})", e.offset)))?;
    let Value::Object(members) = &root else {
        return Err(docker_err(file, "not a JSON object"));
    };
    let mut records = Vec::new();
    let mut cleared = Vec::new(); // value spans of imported `auths` entries
    let mut creds_store_span = None;
    for (k, v, span) in members {
        let key = json::decode(src, k.clone()).map_err(|_| docker_err(file, "bad key"))?;
        if key == "credsStore" {
            creds_store_span = Some(span.clone());
        }
        if key != "auths" {
            continue;
        }
        let Value::Object(auths) = v else {
            return Err(docker_err(file, "`auths` is not an object"));
        };
        for (server, entry, espan) in auths {
            let server = json::decode(src, server.clone())
                .map_err(|_| docker_err(file, "bad server name"))?;
            let Value::Object(fields) = entry else {
                continue;
            };
            let mut auth = None;
            let mut token = None;
            for (fk, fv, _) in fields {
                let Value::String(r) = fv else { continue };
                match &src[fk.clone()] {
                    b"auth" => auth = Some(r.clone()),
                    b"identitytoken" => token = Some(r.clone()),
                    _ => {}
                }
            }
            let bad = |what: &str| docker_err(file, &format!("auths.{server}: {what}"));
            let record = if let Some(t) = token.filter(|t| !t.is_empty()) {
                let tok = json::decode_secret(src, t).map_err(|_| bad("bad identitytoken"))?;
                NewEntry::new(Kind::Docker, "", &server, "", "<token>", tok)
            } else if let Some(a) = auth.filter(|a| !a.is_empty()) {
                let b64 = json::decode_secret(src, a).map_err(|_| bad("bad auth"))?;
                let mut raw = SecretBytes::zeroed(b64.len())?;
                let n = base64::engine::general_purpose::STANDARD
                    .decode_slice(b64.expose_secret(), raw.expose_secret_mut())
                    .map_err(|_| bad("`auth` is not base64"))?;
                raw.truncate(n);
                let colon = raw
                    .expose_secret()
                    .iter()
                    .position(|&c| c == b':')
                    .ok_or_else(|| bad("`auth` is not base64 of user:password"))?;
                let user = std::str::from_utf8(&raw.expose_secret()[..colon])
                    .map_err(|_| bad("user name is not UTF-8"))?
                    .to_string();
                let pass = SecretBytes::from_slice(&raw.expose_secret()[colon + 1..])?;
                NewEntry::new(Kind::Docker, "", &server, "", &user, pass)
            } else {
                continue;
            };
            records.push(record);
            cleared.push(espan.clone());
        }
    }
    let count = records.len();
    store(ctx, o, records)?;
    say(&format!(
        "imported {count} docker credential(s) from {}",
        file.display()
    ));
    if count > 0 && want_removal(o, file) {
        // Rebuild the file: imported entries become `{}`, credsStore becomes "keyward".
        let mut edits: Vec<(std::ops::Range<usize>, &[u8])> =
            cleared.into_iter().map(|r| (r, &b"{}"[..])).collect();
        match creds_store_span {
            Some(r) => edits.push((r, b"\"keyward\"")),
            None => {
                let open_brace = src.iter().position(|&c| c == b'{').unwrap_or(0);
                let insert: &[u8] = if members.is_empty() {
                    b"\n\t\"credsStore\": \"keyward\"\n"
                } else {
                    b"\n\t\"credsStore\": \"keyward\","
                };
                edits.push((open_brace + 1..open_brace + 1, insert));
            }
        }
        edits.sort_by_key(|(r, _)| r.start);
        let mut out = SecretBytes::with_capacity(src.len() + 64)?;
        let mut at = 0;
        for (r, with) in edits {
            out.extend_from_slice(&src[at..r.start])?;
            out.extend_from_slice(with)?;
            at = r.end;
        }
        out.extend_from_slice(&src[at..])?;
        secretfile::replace(file, &out)?;
        say(&format!(
            "removed the imported plaintext from {} and set \"credsStore\": \"keyward\"",
            file.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_lines_as_credential_store_writes_them() {
        let e = parse_git_line(
            b"https://us%40er%3ax:p%40ss%3aw%2frd%25%2b%20%c3%a9@example.com%3a8443/a/b%20c.git",
        )
        .unwrap();
        assert_eq!(e.protocol, "https");
        assert_eq!(e.host, "example.com:8443");
        assert_eq!(e.path, "a/b c.git");
        assert_eq!(e.username, "us@er:x");
        assert_eq!(e.password.expose_secret(), "p@ss:w/rd%+ é".as_bytes());
        let e = parse_git_line(b"http://u:p@h").unwrap();
        assert_eq!((e.host.as_str(), e.path.as_str()), ("h", ""));
        assert!(parse_git_line(b"not a url").is_none());
        assert!(parse_git_line(b"https://nopassword@h").is_none());
        assert!(parse_git_line(b"https://u:p@").is_none());
        // As git reads the file: a bad escape stays as it is, the first `@` ends the user part.
        let e = parse_git_line(b"https://u:p%zz@h").unwrap();
        assert_eq!(e.password.expose_secret(), b"p%zz");
        let e = parse_git_line(b"https://u:p@ss@h").unwrap();
        assert_eq!(
            (e.host.as_str(), e.password.expose_secret()),
            ("ss@h", &b"p"[..])
        );
    }
}
