//! `keyward setup podman`: podman, skopeo and buildah (containers/image) ask
//! keyward first for every registry, through a drop-in of
//! containers-registries.conf(5): `credential-helpers = ["keyward",
//! "containers-auth.json"]`. containers/image stores a login in the first
//! helper that takes it (keyward) and looks credentials up in order, so
//! credentials already in the auth files keep working until imported.

use super::{config_home, trust, warn};
use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};

const NAME: &str = "50-keyward.conf";
const BODY: &str = "\
# Written by `keyward setup podman`: podman, skopeo and buildah ask keyward's
# helper (docker-credential-keyward) first for every registry, then the auth
# files of containers-auth.json(5). See containers-registries.conf(5).
credential-helpers = [\"keyward\", \"containers-auth.json\"]
";

pub(crate) fn run(_ctx: &Ctx) -> Result<()> {
    let base = config_home().ok_or_else(|| {
        CliError::Setup(
            "neither XDG_CONFIG_HOME nor HOME is set: cannot find ~/.config/containers".into(),
        )
    })?;
    let dir = base.join("containers/registries.conf.d");
    let file = dir.join(NAME);
    let fs_err = |e: keyward_trustfs::Error| CliError::from(keyward_vault::Error::from(e));
    trust().ensure_dir(&dir).map_err(fs_err)?;
    let before = std::fs::read_to_string(&file).ok();
    if before.as_deref() == Some(BODY) {
        say(&format!("podman: {} is already in place", file.display()));
    } else {
        trust()
            .write_atomic(&file, BODY.as_bytes())
            .map_err(fs_err)?;
        say(&format!(
            "podman: wrote {}{}: podman, skopeo and buildah ask keyward first for every registry",
            file.display(),
            if before.is_some() {
                " (replacing what was there)"
            } else {
                ""
            }
        ));
    }
    // A drop-in read after ours (alphanumeric order) that sets the helpers wins.
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut later: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.as_str() > NAME && n.ends_with(".conf"))
            .filter(|n| {
                std::fs::read_to_string(dir.join(n)).is_ok_and(|t| {
                    t.lines()
                        .any(|l| l.trim_start().starts_with("credential-helpers"))
                })
            })
            .collect();
        later.sort();
        for n in later {
            warn(&format!(
                "{} is read after {NAME} and sets credential-helpers too: it wins; remove the line there",
                dir.join(n).display()
            ));
        }
    }
    // Plaintext logins already in the auth files keep working; say how to move them.
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| std::path::PathBuf::from(d).join("containers/auth.json"));
    for auth in [runtime, Some(base.join("containers/auth.json"))]
        .into_iter()
        .flatten()
    {
        let regs = super::docker::plaintext_registries(&auth).unwrap_or_default();
        if !regs.is_empty() {
            warn(&format!(
                "{} holds plaintext logins for {} (they keep working): `keyward import docker {}` moves them into the vault",
                auth.display(),
                regs.join(", "),
                auth.display()
            ));
        }
    }
    Ok(())
}
