//! Where keyward's own programs are: the one lookup every binary uses to
//! run another (`keyward` → `keyward-cli`, `keyward-cli` → `keyward` for the
//! lines it writes into other tools' configuration, a credential helper →
//! `keyward unseal-tpm2`).

use std::path::PathBuf;

/// keyward's program `name` near this executable: beside it (a build's
/// target directory, `/usr/bin`), else across the packages' split between
/// `PREFIX/bin` and `PREFIX/libexec/keyward`, either way. `None` when none
/// of those is a file (the caller falls back to its default or to `PATH`).
pub fn sibling_program(name: &str) -> Option<PathBuf> {
    let dir = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let mut candidates = vec![dir.join(name), dir.join("../libexec/keyward").join(name)];
    if dir.ends_with("libexec/keyward") {
        candidates.push(dir.join("../../bin").join(name));
    }
    candidates.into_iter().find(|p| p.is_file())
}
