//! `keyward import pypirc` and `keyward import netrc`: passwords for Python's
//! package tools into the named secrets the keyring backend
//! (`keyrings.keyward`, packaging/python) reads:
//! `python-keyring/SERVICE/USERNAME` (docs/python.md).
//!
//! - `~/.pypirc`: each index server twine reads (`[distutils] index-servers`,
//!   default `pypi testpypi`) with a `password`, under the service twine asks
//!   the keyring for: the server's `repository` URL (pypi and testpypi have
//!   twine's defaults). The rewrite drops the `password` lines only; twine
//!   then takes the password from the keyring.
//! - `~/.netrc` (or `$NETRC`): each `machine` with a `password`, under the
//!   service pip asks the keyring for when an index URL has no credentials:
//!   the host (`netloc`). The rewrite cuts the whole entry: pip (through
//!   requests) stops at a netrc entry that has a login but no password,
//!   before it asks the keyring.

use crate::cmd::import::{home_file, line_list, want_removal, warn_if_exposed, ImportOpts};
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::named::keyring_name;
use crate::secretfile;
use keyward_protocols::ini::{self, key_is, Kind as Line};
use keyward_protocols::netrc;
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_vault::{check_name, NewEntry, PutCounts, Sealed, Vault};
use std::ops::Range;
use std::path::Path;

/// twine's defaults (`twine.utils.DEFAULT_REPOSITORY`, `TEST_REPOSITORY`).
const PYPI: &str = "https://upload.pypi.org/legacy/";
const TESTPYPI: &str = "https://test.pypi.org/legacy/";

/// twine's `normalize_repository_url`: PyPI's own hosts always over https.
fn normalize_repository(url: &str) -> String {
    for host in [
        "pypi.python.org",
        "testpypi.python.org",
        "upload.pypi.org",
        "test.pypi.org",
    ] {
        if let Some((_, rest)) = url.split_once("://") {
            if rest.split('/').next() == Some(host) {
                return format!("https://{rest}");
            }
        }
    }
    url.to_string()
}

/// Seals a keyring record, or names why it cannot be one.
fn seal(v: &Vault, service: &str, user: &str, pw: SecretBytes) -> Result<Sealed, String> {
    let name = keyring_name(service, user);
    check_name(&name)
        .map_err(|_| "the service and user name make a name longer than 256 bytes".to_string())?;
    v.seal(NewEntry::secret(&name, pw, None))
        .map_err(|e| e.to_string())
}

fn store(v: &mut Vault, sealed: Vec<Sealed>) -> Result<PutCounts> {
    if sealed.is_empty() {
        return Ok(PutCounts {
            added: 0,
            replaced: 0,
        });
    }
    let c = v.update(|t| t.put_all(sealed))?;
    keyward_audit::record(v, keyward_audit::Action::Import, None);
    Ok(c)
}

fn report(file: &Path, what: &str, found: usize, counts: &PutCounts, skipped: &[String]) {
    say(&format!(
        "{}: {found} {what} with a password: {} added, {} replaced, {} skipped{}",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!(" ({})", skipped.join(", "))
        }
    ));
}

/// Text of an option with its continuation lines, joined by newlines.
fn option_text(doc: &[u8], lines: &[ini::Line], at: usize, value: &Range<usize>) -> String {
    let mut s = String::from_utf8_lossy(&doc[value.clone()]).into_owned();
    for l in &lines[at + 1..] {
        match &l.kind {
            Line::Continuation { value, option } if *option == at => {
                s.push('\n');
                s.push_str(&String::from_utf8_lossy(&doc[value.clone()]));
            }
            Line::Blank | Line::Comment | Line::Continuation { .. } => {}
            _ => break,
        }
    }
    s
}

pub(crate) fn pypirc(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => home_file(".pypirc")?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let doc = text.expose_secret();
    let lines = ini::parse(doc);
    let bad: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.kind == Line::Invalid)
        .map(|(n, _)| n + 1)
        .collect();
    if !bad.is_empty() {
        return Err(CliError::bad_file(
            &file,
            format!("line(s) {} are not `[section]` or `key = value` lines, so twine cannot read this file either: fix them, then import again", line_list(&bad)),
        ));
    }
    let section_name = |h: usize| match &lines[h].kind {
        Line::Section { name } => String::from_utf8_lossy(&doc[name.clone()]).into_owned(),
        _ => String::new(),
    };
    // [distutils] index-servers, as twine reads it.
    let mut servers: Vec<String> = vec!["pypi".into(), "testpypi".into()];
    for (n, l) in lines.iter().enumerate() {
        if let Line::Option {
            key,
            value,
            section,
        } = &l.kind
        {
            if section_name(*section) == "distutils" && key_is(doc, key, "index-servers") {
                servers = option_text(doc, &lines, n, value)
                    .split_whitespace()
                    .map(String::from)
                    .collect();
            }
        }
    }
    let v = open(ctx, o.password_fd)?;
    let mut sealed = Vec::new();
    let mut cuts = Vec::new();
    let mut skipped = Vec::new();
    let mut found = 0;
    for server in &servers {
        // The last section of that name wins, as in configparser's merge.
        let Some(h) = (0..lines.len())
            .rev()
            .find(|&n| matches!(lines[n].kind, Line::Section { .. }) && section_name(n) == *server)
        else {
            continue;
        };
        let opt = |name: &str| {
            lines
                .iter()
                .enumerate()
                .rev()
                .find_map(|(n, l)| match &l.kind {
                    Line::Option {
                        key,
                        value,
                        section,
                    } if *section == h && key_is(doc, key, name) => Some((n, value.clone())),
                    _ => None,
                })
        };
        let Some((pn, pv)) = opt("password") else {
            continue;
        };
        found += 1;
        let mut skip = |why: &str| {
            eprintln!(
                "keyward: {}: [{server}]: {why}: skipped (left in the file)",
                file.display()
            );
            skipped.push(server.clone());
        };
        let multiline = lines[pn + 1..]
            .iter()
            .any(|l| matches!(l.kind, Line::Continuation { option, .. } if option == pn));
        if multiline {
            skip("the password runs over several lines");
            continue;
        }
        let repository = match opt("repository") {
            Some((n, r)) => option_text(doc, &lines, n, &r),
            None if server == "pypi" => PYPI.into(),
            None if server == "testpypi" => TESTPYPI.into(),
            None => {
                skip("no `repository` URL");
                continue;
            }
        };
        let repository = normalize_repository(&repository);
        let username = match opt("username") {
            Some((n, u)) => option_text(doc, &lines, n, &u),
            // twine's default user name for PyPI's own servers.
            None if repository == PYPI || repository == TESTPYPI => "__token__".into(),
            None => {
                skip("no `username`");
                continue;
            }
        };
        match seal(
            &v,
            &repository,
            &username,
            SecretBytes::from_slice(&doc[pv])?,
        ) {
            Ok(s) => {
                sealed.push(s);
                cuts.push((lines[pn].full.clone(), Vec::new()));
            }
            Err(why) => skip(&why),
        }
    }
    let imported = sealed.len();
    let mut v = v;
    let counts = store(&mut v, sealed)?;
    report(&file, "index server(s)", found, &counts, &skipped);
    if imported > 0 && want_removal(o, &file) {
        let b = secretfile::backup(&file, &text)?;
        secretfile::replace(&file, &secretfile::edited(doc, cuts)?)?;
        say(&format!(
            "removed {imported} password line(s) from {} (the old file, passwords and all, is {}: delete it once `twine upload` works); twine now asks the keyring: `pip install ./packaging/python` (keyrings.keyward) where twine runs",
            file.display(),
            b.display()
        ));
    }
    Ok(())
}

pub(crate) fn netrc_file(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match (&o.file, std::env::var_os("NETRC")) {
        (Some(f), _) => f.clone(),
        (None, Some(p)) if !p.is_empty() => p.into(),
        _ => home_file(".netrc")?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let doc = text.expose_secret();
    let entries = netrc::parse(doc).map_err(|e| {
        CliError::bad_file(
            &file,
            format!("not a netrc file ({e}); fix it, then import again"),
        )
    })?;
    let v = open(ctx, o.password_fd)?;
    let mut sealed = Vec::new();
    let mut cuts = Vec::new();
    let mut skipped = Vec::new();
    let mut found = 0;
    for e in &entries {
        let Some(pw) = &e.password else { continue };
        found += 1;
        let label = e
            .machine
            .as_ref()
            .map_or("default".to_string(), |m| netrc::decode(doc, m));
        let mut skip = |why: &str| {
            eprintln!(
                "keyward: {}: {label}: {why}: skipped (left in the file)",
                file.display()
            );
            skipped.push(label.clone());
        };
        let Some(machine) = &e.machine else {
            skip("the `default` entry names no host to keep it under");
            continue;
        };
        let Some(login) = &e.login else {
            skip("no `login`");
            continue;
        };
        let host = netrc::decode(doc, machine);
        let user = netrc::decode(doc, login);
        match seal(&v, &host, &user, netrc::decode_secret(doc, pw)?) {
            Ok(s) => {
                sealed.push(s);
                cuts.push((netrc::cut_range(doc, e), Vec::new()));
            }
            Err(why) => skip(&why),
        }
    }
    let imported = sealed.len();
    let mut v = v;
    let counts = store(&mut v, sealed)?;
    report(&file, "machine(s)", found, &counts, &skipped);
    if imported > 0 && want_removal(o, &file) {
        let b = secretfile::backup(&file, &text)?;
        secretfile::replace(&file, &secretfile::edited(doc, cuts)?)?;
        say(&format!(
            "removed {imported} machine entr(ies) from {} (the old file, passwords and all, is {}: delete it once `pip install` works); pip now asks the keyring for them (`--keyring-provider import`, with keyrings.keyward installed)",
            file.display(),
            b.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twine_normalizes_pypi_hosts_only() {
        assert_eq!(normalize_repository("http://upload.pypi.org/legacy/"), PYPI);
        assert_eq!(
            normalize_repository("http://127.0.0.1:8080/"),
            "http://127.0.0.1:8080/"
        );
    }
}
