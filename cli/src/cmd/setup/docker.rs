//! `keyward setup docker`: `"credsStore": "keyward"` merged into docker's
//! config.json. Only that value changes (or is added): `auths`,
//! `credHelpers`, `proxies` and every key keyward does not know keep their
//! bytes. Refused where docker would lose credentials keyward does not hold:
//! plaintext `auths` entries (docker stops reading them once a store is set)
//! and another `credsStore` (its credentials stay there): `keyward import
//! docker` moves those first, then sets the store itself.

use super::{backup, trust, warn};
use crate::cmd::import::{apply_edits, creds_store_edit, docker_config_file};
use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use keyward_protocols::json::{self, Value};
use keyward_secmem::{ExposeSecret, SecretBytes};

pub(crate) fn run(_ctx: &Ctx) -> Result<()> {
    let file = docker_config_file()?;
    let dir = keyward_trustfs::dir_of(&file);
    let fs_err = |e: keyward_trustfs::Error| CliError::from(keyward_vault::Error::from(e));
    if !file.exists() {
        if dir.exists() {
            trust().check_dir(&dir).map_err(fs_err)?;
        } else {
            // As docker makes it: 0700.
            keyward_trustfs::Trust::private()
                .ensure_dir(&dir)
                .map_err(fs_err)?;
        }
        trust()
            .write_atomic(&file, b"{\n\t\"credsStore\": \"keyward\"\n}\n")
            .map_err(fs_err)?;
        say(&format!(
            "docker: created {} with \"credsStore\": \"keyward\"",
            file.display()
        ));
        return Ok(());
    }
    trust().check_dir(&dir).map_err(fs_err)?;
    trust()
        .check_path(&file, keyward_trustfs::Kind::File)
        .map_err(fs_err)?;
    // It may hold plaintext credentials: read into locked memory.
    let text = crate::secretfile::read(&file)?;
    let src = text.expose_secret();
    let bad = |why: &str| CliError::bad_file(&file, why);
    let (root, _) =
        json::parse(src).map_err(|e| bad(&format!("not valid JSON (byte {})", e.offset)))?;
    let Value::Object(members) = &root else {
        return Err(bad("not a JSON object"));
    };
    let mut store = None;
    let mut helpers = Vec::new();
    for (k, v, span) in members {
        match json::decode(src, k.clone())
            .map_err(|_| bad("bad key"))?
            .as_str()
        {
            "credsStore" => {
                let Value::String(r) = v else {
                    return Err(bad("`credsStore` is not a string"));
                };
                store = Some((
                    json::decode(src, r.clone()).map_err(|_| bad("bad credsStore"))?,
                    span.clone(),
                ));
            }
            "credHelpers" => {
                let Value::Object(h) = v else { continue };
                for (reg, helper, _) in h {
                    let Value::String(r) = helper else { continue };
                    helpers.push(format!(
                        "{} → docker-credential-{}",
                        json::decode(src, reg.clone()).unwrap_or_default(),
                        json::decode(src, r.clone()).unwrap_or_default()
                    ));
                }
            }
            _ => {}
        }
    }
    let plaintext = plaintext_registries(&file).unwrap_or_default();
    if !plaintext.is_empty() {
        return Err(CliError::Setup(format!(
            "{}: {} registr(ies) have plaintext credentials in `auths` ({}); with a credsStore docker would stop reading them: `keyward import docker` moves them into the vault and sets \"credsStore\": \"keyward\"",
            file.display(),
            plaintext.len(),
            plaintext.join(", ")
        )));
    }
    let was = match &store {
        Some((s, _)) if s == "keyward" => {
            say(&format!(
                "docker: {} already has \"credsStore\": \"keyward\"",
                file.display()
            ));
            report_helpers(&helpers);
            return Ok(());
        }
        Some((s, _)) if !s.is_empty() => {
            return Err(CliError::Setup(format!(
                "{}: \"credsStore\" is \"{s}\": docker would no longer see the credentials kept in docker-credential-{s}; `keyward import docker` copies them into the vault first (through that helper) and then sets \"credsStore\": \"keyward\"",
                file.display()
            )));
        }
        _ => "none",
    };
    let edit = creds_store_edit(src, members.is_empty(), store.map(|(_, span)| span));
    let out: SecretBytes = apply_edits(src, vec![edit])?;
    let copy = backup(&file, src)?;
    trust()
        .write_atomic(&file, out.expose_secret())
        .map_err(fs_err)?;
    say(&format!(
        "docker: set \"credsStore\": \"keyward\" in {} (was: {was}); every other key kept; the old file is {}",
        file.display(),
        copy.display()
    ));
    report_helpers(&helpers);
    Ok(())
}

/// credHelpers take precedence over credsStore, per registry.
fn report_helpers(helpers: &[String]) {
    if !helpers.is_empty() {
        warn(&format!(
            "credHelpers still send these registries to their own helpers (they win over credsStore): {}",
            helpers.join(", ")
        ));
    }
}

/// The registries with plaintext credentials (`auth`, `identitytoken`) in
/// the `auths` of a docker or containers auth file, read in locked memory;
/// `None` when the file is missing or not JSON.
pub(super) fn plaintext_registries(file: &std::path::Path) -> Option<Vec<String>> {
    let text = crate::secretfile::read(file).ok()?;
    let src = text.expose_secret();
    let (Value::Object(members), _) = json::parse(src).ok()? else {
        return None;
    };
    let mut out = Vec::new();
    for (k, v, _) in &members {
        if &src[k.clone()] != b"auths" {
            continue;
        }
        let Value::Object(auths) = v else { continue };
        for (server, entry, _) in auths {
            let Value::Object(fields) = entry else {
                continue;
            };
            if fields.iter().any(|(fk, fv, _)| {
                matches!(&src[fk.clone()], b"auth" | b"identitytoken")
                    && matches!(fv, Value::String(r) if !r.is_empty())
            }) {
                out.push(json::decode(src, server.clone()).unwrap_or_default());
            }
        }
    }
    Some(out)
}
