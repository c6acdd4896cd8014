//! `keyward import git|docker|cargo|aws|pypirc|netrc|terraform|kube`: move
//! plaintext credentials into the vault (cargo: import_cargo.rs; aws:
//! import_aws.rs; pypirc, netrc: import_python.rs; Terraform and kubectl:
//! import_tools.rs).

use crate::cmd::import_helpers;
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use base64::Engine;
use clap::{Args, Subcommand};
use keyward_protocols::json::{self, Value};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::{Kind, NewEntry, PutCounts};
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
    /// Import registry tokens from cargo's credentials.toml, default
    /// $CARGO_HOME/credentials.toml or ~/.cargo/credentials.toml.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Cargo(ImportOpts),
    /// Import AWS keys from ~/.aws/credentials (or $AWS_SHARED_CREDENTIALS_FILE) and switch
    /// each profile to `credential_process = keyward aws PROFILE` in ~/.aws/config.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Aws(ImportOpts),
    /// Import index-server passwords from ~/.pypirc for twine (through the keyrings.keyward backend).
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Pypirc(ImportOpts),
    /// Import machine passwords from ~/.netrc (or $NETRC) for pip (through the keyrings.keyward backend).
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Netrc(ImportOpts),
    /// Import tokens from Terraform's ~/.terraform.d/credentials.tfrc.json
    /// (`credentials` entries holding only a token) as named secrets terraform/HOST.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Terraform(ImportOpts),
    /// Import static tokens and client keys (token, client-key-data) of a
    /// kubeconfig ($KUBECONFIG's first file, else ~/.kube/config) as named
    /// secrets kube/USER/..., replacing them with `keyward kube-credential` exec entries.
    #[command(after_help = crate::exit::EXIT_CODES_HELP)]
    Kube(ImportOpts),
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

pub(crate) fn home_file(rel: &str) -> Result<PathBuf> {
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
            let file = match &o.file {
                Some(f) => f.clone(),
                None => docker_config_file()?,
            };
            docker(ctx, &o, &file)
        }
        ImportWhat::Cargo(o) => {
            let file = match &o.file {
                Some(f) => f.clone(),
                None => super::import_cargo::default_file()?,
            };
            super::import_cargo::run(ctx, &o, &file)
        }
        ImportWhat::Aws(o) => crate::cmd::import_aws::run(ctx, &o),
        ImportWhat::Pypirc(o) => crate::cmd::import_python::pypirc(ctx, &o),
        ImportWhat::Netrc(o) => crate::cmd::import_python::netrc_file(ctx, &o),
        ImportWhat::Terraform(o) => crate::cmd::import_tools::terraform(ctx, &o),
        ImportWhat::Kube(o) => crate::cmd::import_tools::kube(ctx, &o),
    }
}

/// docker's configuration: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub(crate) fn docker_config_file() -> Result<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => Ok(PathBuf::from(d).join("config.json")),
        _ => home_file(".docker/config.json"),
    }
}

/// The edit that makes `"credsStore": "keyward"` in a docker config.json
/// whose root object is `members`: the old value replaced, or the key added
/// first.
pub(crate) fn creds_store_edit(
    src: &[u8],
    members_empty: bool,
    creds_store_span: Option<std::ops::Range<usize>>,
) -> (std::ops::Range<usize>, &'static [u8]) {
    match creds_store_span {
        Some(r) => (r, b"\"keyward\""),
        None => {
            let open_brace = src.iter().position(|&c| c == b'{').unwrap_or(0);
            let insert: &[u8] = if members_empty {
                b"\n\t\"credsStore\": \"keyward\"\n"
            } else {
                b"\n\t\"credsStore\": \"keyward\","
            };
            (open_brace + 1..open_brace + 1, insert)
        }
    }
}

/// `src` with `edits` (sorted, non-overlapping ranges) applied, in locked memory.
pub(crate) fn apply_edits(
    src: &[u8],
    mut edits: Vec<(std::ops::Range<usize>, &[u8])>,
) -> Result<SecretBytes> {
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = SecretBytes::with_capacity(src.len() + 64)?;
    let mut at = 0;
    for (r, with) in edits {
        out.extend_from_slice(&src[at..r.start])?;
        out.extend_from_slice(with)?;
        at = r.end;
    }
    out.extend_from_slice(&src[at..])?;
    Ok(out)
}

/// Whether to remove the plaintext: the flags, else ask on a terminal, else keep.
pub(crate) fn want_removal(o: &ImportOpts, file: &Path) -> bool {
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

/// Warns when the plaintext file could be read by others: whatever it held
/// was exposed, so importing it is not enough.
pub(crate) fn warn_if_exposed(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(file) {
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "keyward: warning: {} is readable by others (mode {mode:04o}): the credentials in it were exposed; change them at their servers",
                file.display()
            );
        }
    }
}

/// Line numbers as `3, 7, 12` (the first 20, then `…`).
pub(crate) fn line_list(lines: &[usize]) -> String {
    let mut s: Vec<String> = lines.iter().take(20).map(|n| n.to_string()).collect();
    if lines.len() > 20 {
        s.push("…".into());
    }
    s.join(", ")
}

fn git(ctx: &Ctx, o: &ImportOpts, file: &Path) -> Result<()> {
    warn_if_exposed(file);
    let text = secretfile::read(file)?;
    // Opened (and unlocked) before parsing: each line is sealed as it is read,
    // so only ciphertext accumulates, and the vault's lock is held only for
    // the final write.
    let v = open(ctx, o.password_fd)?;
    let mut sealed = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut kept = SecretBytes::with_capacity(text.len().max(1))?;
    let (mut read, mut duplicates) = (0usize, 0usize);
    let mut skipped = Vec::new();
    for (n, line) in text.expose_secret().split(|&c| c == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        read += 1;
        match parse_git_line(line) {
            Some(r) => {
                // git's credential-store answers with the first matching
                // line: a later line for the same credential is a duplicate.
                let identity = (
                    r.protocol.clone(),
                    r.host.clone(),
                    r.path.clone(),
                    r.username.clone(),
                );
                if seen.insert(identity) {
                    sealed.push(v.seal(r)?);
                } else {
                    duplicates += 1;
                }
            }
            None => {
                skipped.push(n + 1);
                kept.extend_from_slice(line)?;
                kept.push(b'\n')?;
            }
        }
    }
    // The helpers answer with the most recently stored match (the last in
    // the vault); credential-store with the first line: add the first line
    // last, so it wins there too.
    sealed.reverse();
    let imported = sealed.len();
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {read} line(s) read: {} added, {} replaced, {duplicates} duplicate(s) (a later line for a credential already read; git uses the first), {} skipped{}",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" (not credential URLs: line(s) {})", line_list(&skipped))
        }
    ));
    if imported > 0 && want_removal(o, file) {
        secretfile::replace(file, &kept)?;
        if skipped.is_empty() {
            say(&format!(
                "removed the imported plaintext from {}; use the vault with `git config --global credential.helper keyward`",
                file.display()
            ));
        } else {
            say(&format!(
                "removed the imported lines from {}; {} skipped line(s) remain in it (line(s) {} of the original) and may still hold passwords: fix or delete them by hand",
                file.display(),
                skipped.len(),
                line_list(&skipped)
            ));
        }
    }
    Ok(())
}

/// Adds sealed records in one write (the lock held only for it).
pub(crate) fn store(
    mut v: keyward_vault::Vault,
    sealed: Vec<keyward_vault::Sealed>,
) -> Result<PutCounts> {
    if sealed.is_empty() {
        return Ok(PutCounts {
            added: 0,
            replaced: 0,
        });
    }
    let counts = v.update(|t| t.put_all(sealed))?;
    keyward_audit::record(&v, keyward_audit::Action::Import, None);
    Ok(counts)
}

/// Says what reading a helper gave; whether everything it holds was read.
fn report_helper(file: &Path, what: &str, name: &str, r: &import_helpers::FromHelper) -> bool {
    if r.missing {
        say(&format!(
            "{}: {what}: docker-credential-{name} is not installed here, so its credentials cannot be read; they stay there",
            file.display()
        ));
        return false;
    }
    for f in &r.failed {
        let f: String = f.chars().take(200).collect();
        eprintln!(
            "keyward: {}: {what}: {}: skipped (left in docker-credential-{name})",
            file.display(),
            crate::ctx::for_terminal(&f, false)
        );
    }
    r.failed.is_empty()
}

fn docker_err(file: &Path, why: &str) -> CliError {
    CliError::bad_file(file, why)
}

fn docker(ctx: &Ctx, o: &ImportOpts, file: &Path) -> Result<()> {
    warn_if_exposed(file);
    let text = secretfile::read(file)?;
    let src = text.expose_secret();
    let (root, _) = json::parse(src)
        .map_err(|e| docker_err(file, &format!("not valid JSON (byte {})", e.offset)))?;
    let Value::Object(members) = &root else {
        return Err(docker_err(file, "not a JSON object"));
    };
    let mut records = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut cleared = Vec::new(); // value spans of imported `auths` entries
    let mut creds_store_span = None;
    let mut store_name = None;
    let mut helpers: Vec<(String, String)> = Vec::new();
    for (k, v, span) in members {
        let key = json::decode(src, k.clone()).map_err(|_| docker_err(file, "bad key"))?;
        if key == "credsStore" {
            creds_store_span = Some(span.clone());
            if let Value::String(r) = v {
                store_name = json::decode(src, r.clone()).ok();
            }
        }
        if key == "credHelpers" {
            if let Value::Object(h) = v {
                for (reg, helper, _) in h {
                    if let (Ok(reg), Value::String(r)) = (json::decode(src, reg.clone()), helper) {
                        helpers.push((reg, json::decode(src, r.clone()).unwrap_or_default()));
                    }
                }
            }
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
            // One bad entry skips that entry (left in the file), as a bad
            // line does in `import git`.
            let bad = |what: &str| CliError::Skip(format!("auths.{server}: {what}"));
            let record = (|| -> Result<Option<NewEntry>> {
                Ok(Some(if let Some(t) = token.filter(|t| !t.is_empty()) {
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
                    return Ok(None);
                }))
            })();
            match record {
                Ok(Some(r)) => {
                    records.push(r);
                    cleared.push(espan.clone());
                }
                Ok(None) => {}
                Err(CliError::Skip(why)) => {
                    eprintln!(
                        "keyward: {}: {why}: skipped (left in the file)",
                        file.display()
                    );
                    skipped.push(server.to_string());
                }
                Err(e) => return Err(e),
            }
        }
    }
    // Credentials docker keeps in other helpers: read with their own `get`.
    let other_store = store_name.filter(|n| !n.is_empty() && n != "keyward");
    let mut store_complete = true;
    let mut from_helpers = 0;
    if let Some(name) = &other_store {
        let r = import_helpers::read_store(name)?;
        store_complete = report_helper(file, &format!("credsStore \"{name}\""), name, &r);
        from_helpers += r.records.len();
        records.extend(r.records);
    }
    let mut kept_helpers = Vec::new();
    for (reg, helper) in helpers.iter().filter(|(_, h)| h != "keyward") {
        let r = import_helpers::read_one(helper, reg);
        report_helper(file, &format!("credHelpers \"{reg}\""), helper, &r);
        from_helpers += r.records.len();
        records.extend(r.records);
        kept_helpers.push(format!("{reg} → docker-credential-{helper}"));
    }
    let count = records.len();
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {} added, {} replaced, {} skipped{}",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len(),
        if from_helpers > 0 {
            format!(" ({from_helpers} read through other credential helpers)")
        } else {
            String::new()
        }
    ));
    if !kept_helpers.is_empty() {
        say(&format!(
            "credHelpers still send these registries to their own helpers (they win over credsStore; change them to \"keyward\" when ready): {}",
            kept_helpers.join(", ")
        ));
    }
    if let (Some(name), false) = (&other_store, store_complete) {
        if count > 0 && (o.remove_plaintext || !o.keep_plaintext) {
            say(&format!(
                "kept {} as it is: \"credsStore\": \"{name}\" still holds credentials keyward could not read, and pointing docker at keyward would cut it off from them",
                file.display()
            ));
            return Ok(());
        }
    }
    if count > 0 && !skipped.is_empty() && (o.remove_plaintext || !o.keep_plaintext) {
        // credsStore = keyward makes docker ask keyward for every registry:
        // the skipped entries would stop working.
        say(&format!(
            "kept {} as it is: {} entr(ies) could not be imported ({}), and pointing docker at keyward would cut it off from them; fix or remove them, then import again",
            file.display(),
            skipped.len(),
            skipped.join(", ")
        ));
        return Ok(());
    }
    if count > 0 && want_removal(o, file) {
        // Rebuild the file: imported entries become `{}`, credsStore becomes "keyward".
        let mut edits: Vec<(std::ops::Range<usize>, &[u8])> =
            cleared.into_iter().map(|r| (r, &b"{}"[..])).collect();
        edits.push(creds_store_edit(src, members.is_empty(), creds_store_span));
        let out = apply_edits(src, edits)?;
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
