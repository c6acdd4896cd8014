//! `keyward import terraform|kube`: Terraform's credentials.tfrc.json and a
//! kubeconfig's static credentials into named secrets (`terraform/HOST`,
//! `kube/USER/…`). Both keep a backup of the file they rewrite
//! (`FILE.keyward-backup`, mode 0600, still plaintext: delete it once the
//! client works) and keep every entry they cannot import as it was.

use crate::cmd::import::{home_file, store, want_removal, warn_if_exposed, ImportOpts};
use crate::ctx::{open, say, Ctx};
use crate::exit::{CliError, Result};
use crate::secretfile;
use base64::Engine;
use keyward_protocols::json::{self, Value};
use keyward_protocols::{kube as kubeproto, terraform as tf};
use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use keyward_vault::NewEntry;
use std::path::{Path, PathBuf};
use yaml_rust2::{yaml::Hash, Yaml, YamlEmitter, YamlLoader};

/// `FILE.keyward-backup`, written (0600) from locked memory.
fn backup(file: &Path, data: &SecretBytes) -> Result<PathBuf> {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".keyward-backup");
    let b = file.with_file_name(name);
    secretfile::replace(&b, data)?;
    Ok(b)
}

/// `keyward import terraform [FILE]`.
pub(crate) fn terraform(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => home_file(".terraform.d/credentials.tfrc.json")?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let src = text.expose_secret();
    let bad = |why: &str| CliError::bad_file(&file, why);
    let (root, _) =
        json::parse(src).map_err(|e| bad(&format!("not valid JSON (byte {})", e.offset)))?;
    let Value::Object(members) = &root else {
        return Err(bad("not a JSON object"));
    };
    let mut records = Vec::new();
    let mut kept = Vec::new(); // spans (key with quotes, value) of entries left in the file
    let mut creds_span = None;
    let mut skipped = Vec::new();
    for (k, v, span) in members {
        if &src[k.clone()] != b"credentials" {
            continue;
        }
        let Value::Object(hosts) = v else {
            return Err(bad("`credentials` is not an object"));
        };
        creds_span = Some(span.clone());
        for (hk, _, hspan) in hosts {
            let host = json::decode(src, hk.clone()).map_err(|_| bad("bad host name"))?;
            // The same reader as the helper's `store`: an entry with anything
            // but a token is not imported (the helper could not keep it).
            let entry = tf::secret_name(&host)
                .map_err(|e| e.to_string())
                .and_then(|name| {
                    tf::parse::token(&src[hspan.clone()])
                        .map(|t| (name, t))
                        .map_err(|e| match e {
                            tf::parse::Error::Refused(r) => r.to_string(),
                            tf::parse::Error::Memory(m) => m.to_string(),
                        })
                });
            match entry {
                Ok((name, token)) => records.push(NewEntry::secret(&name, token, None)),
                Err(why) => {
                    eprintln!(
                        "keyward: {}: credentials.{host}: {why}: skipped (left in the file)",
                        file.display()
                    );
                    skipped.push(host);
                    kept.push((hk.start - 1..hk.end + 1, hspan.clone()));
                }
            }
        }
    }
    let imported = records.len();
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {} added, {} replaced, {} skipped",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len()
    ));
    if imported == 0 || !want_removal(o, &file) {
        if imported > 0 {
            say(&format!(
                "left {} as it is: its tokens win over the helper until they are removed",
                file.display()
            ));
        }
        return Ok(());
    }
    let b = backup(&file, &text)?;
    let span = creds_span.expect("credentials seen");
    let mut out = SecretBytes::with_capacity(src.len() + 16)?;
    out.extend_from_slice(&src[..span.start])?;
    out.push(b'{')?;
    for (n, (key, value)) in kept.iter().enumerate() {
        out.extend_from_slice(if n == 0 { b"\n    " } else { b",\n    " })?;
        out.extend_from_slice(&src[key.clone()])?;
        out.extend_from_slice(b": ")?;
        out.extend_from_slice(&src[value.clone()])?;
    }
    out.extend_from_slice(if kept.is_empty() { b"}" } else { b"\n  }" })?;
    out.extend_from_slice(&src[span.end..])?;
    secretfile::replace(&file, &out)?;
    say(&format!(
        "removed the imported tokens from {} (backup with the plaintext: {}; delete it once Terraform works); point Terraform at the vault with `keyward setup terraform`",
        file.display(),
        b.display()
    ));
    Ok(())
}

/// The kubeconfig `kubectl` reads: the first file of `$KUBECONFIG`, else ~/.kube/config.
fn kubeconfig() -> Result<PathBuf> {
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => std::env::split_paths(&list)
            .next()
            .ok_or(CliError::NoHomeForImport),
        None => home_file(".kube/config"),
    }
}

/// A YAML string value into locked memory (`base64`: decoded first).
fn yaml_secret(v: &Yaml, base64: bool) -> std::result::Result<SecretBytes, String> {
    let s = v.as_str().ok_or("not a string")?;
    if !base64 {
        return SecretBytes::from_slice(s.trim().as_bytes()).map_err(|e| e.to_string());
    }
    let mut raw = SecretBytes::zeroed(s.len()).map_err(|e| e.to_string())?;
    let n = base64::engine::general_purpose::STANDARD
        .decode_slice(s.trim().as_bytes(), raw.expose_secret_mut())
        .map_err(|_| "not base64")?;
    raw.truncate(n);
    Ok(raw)
}

fn key(k: &str) -> Yaml {
    Yaml::String(k.to_owned())
}

/// One kubeconfig user's credential → its named secrets, or why it stays
/// (an empty reason: nothing to import).
fn kube_user(name: &str, user: &Hash) -> std::result::Result<Vec<NewEntry>, String> {
    let [token_name, key_name, cert_name] =
        kubeproto::secret_names(name).map_err(|e| e.to_string())?;
    let token = user.get(&key("token"));
    let ckey = user.get(&key("client-key-data"));
    let cert = user.get(&key("client-certificate-data"));
    if user.contains_key(&key("exec")) || user.contains_key(&key("auth-provider")) {
        return Err(if token.is_some() || ckey.is_some() {
            "already uses a plugin".into()
        } else {
            String::new()
        });
    }
    match (token, ckey, cert) {
        (Some(_), Some(_), _) => Err(
            "has both a token and a client key: keyward answers with one; move it by hand".into(),
        ),
        (Some(t), None, _) => Ok(vec![NewEntry::secret(
            &token_name,
            yaml_secret(t, false)?,
            None,
        )]),
        (None, Some(k), Some(c)) => Ok(vec![
            NewEntry::secret(
                &key_name,
                yaml_secret(k, true).map_err(|e| format!("client-key-data: {e}"))?,
                None,
            ),
            NewEntry::secret(
                &cert_name,
                yaml_secret(c, true).map_err(|e| format!("client-certificate-data: {e}"))?,
                None,
            ),
        ]),
        (None, Some(_), None) => Err("client-key-data without client-certificate-data".into()),
        (None, None, _) => Err(String::new()),
    }
}

/// `keyward import kube [FILE]`.
///
/// The kubeconfig is parsed with yaml-rust2, into ordinary heap memory: the
/// tokens and keys it holds are in heap `String`s while this command runs
/// (the `keyward` binary's allocator wipes every block it frees), and each
/// is copied into locked memory at once. See docs/infra-tokens.md.
pub(crate) fn kube(ctx: &Ctx, o: &ImportOpts) -> Result<()> {
    let file = match &o.file {
        Some(f) => f.clone(),
        None => kubeconfig()?,
    };
    warn_if_exposed(&file);
    let text = secretfile::read(&file)?;
    let bad = |why: String| CliError::bad_file(&file, why);
    let src = std::str::from_utf8(text.expose_secret())
        .map_err(|_| bad("not a kubeconfig: not UTF-8".into()))?;
    let mut docs = YamlLoader::load_from_str(src).map_err(|e| {
        bad(format!(
            "not a kubeconfig: YAML error at line {}, column {}",
            e.marker().line(),
            e.marker().col() + 1
        ))
    })?;
    if docs.len() != 1 || docs[0].as_hash().is_none() {
        return Err(bad("not a kubeconfig: not one YAML mapping".into()));
    }
    let mut doc = docs.remove(0);
    let keyward = crate::cmd::setup::find_program("keyward", None)?;
    let mut records = Vec::new();
    let mut skipped = Vec::new();
    let mut replaced = 0usize;
    let users = doc
        .as_mut_hash()
        .and_then(|h| h.get_mut(&key("users")))
        .and_then(|u| u.as_mut_vec());
    for entry in users.into_iter().flatten() {
        let Some(entry) = entry.as_mut_hash() else {
            continue;
        };
        let Some(name) = entry
            .get(&key("name"))
            .and_then(|n| n.as_str())
            .map(str::to_owned)
        else {
            continue;
        };
        let Some(user) = entry.get_mut(&key("user")).and_then(|u| u.as_mut_hash()) else {
            continue;
        };
        match kube_user(&name, user) {
            Ok(r) => {
                records.extend(r);
                for k in ["token", "client-key-data", "client-certificate-data"] {
                    user.remove(&key(k));
                }
                let mut exec = Hash::new();
                exec.insert(key("apiVersion"), key(kubeproto::V1BETA1));
                exec.insert(key("command"), key(&keyward.display().to_string()));
                exec.insert(
                    key("args"),
                    Yaml::Array(vec![key("kube-credential"), key(&name)]),
                );
                user.insert(key("exec"), Yaml::Hash(exec));
                replaced += 1;
            }
            Err(why) if why.is_empty() => {}
            Err(why) => {
                eprintln!(
                    "keyward: {}: user {name:?}: {why}: skipped (left as it is)",
                    file.display()
                );
                skipped.push(name);
            }
        }
    }
    let v = open(ctx, o.password_fd)?;
    let sealed = records
        .into_iter()
        .map(|r| v.seal(r))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let counts = store(v, sealed)?;
    say(&format!(
        "{}: {replaced} user(s) imported ({} secret(s) added, {} replaced), {} skipped",
        file.display(),
        counts.added,
        counts.replaced,
        skipped.len()
    ));
    if replaced == 0 || !want_removal(o, &file) {
        if replaced > 0 {
            say(&format!(
                "left {} as it is: kubectl keeps using its plaintext credentials",
                file.display()
            ));
        }
        return Ok(());
    }
    let b = backup(&file, &text)?;
    drop(text);
    let mut yaml = String::new();
    YamlEmitter::new(&mut yaml)
        .dump(&doc)
        .map_err(|_| bad("cannot write it back".into()))?;
    drop(doc);
    yaml.push('\n');
    let out = SecretBytes::from_slice(yaml.as_bytes())?;
    drop(yaml);
    secretfile::replace(&file, &out)?;
    say(&format!(
        "replaced the imported credentials in {} with `keyward kube-credential` exec entries (backup with the plaintext: {}; delete it once kubectl works)",
        file.display(),
        b.display()
    ));
    Ok(())
}
