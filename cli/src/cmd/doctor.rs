//! `keyward doctor`: what protects secrets on this machine, each problem with a fix.

use crate::ctx::{for_terminal, say, Ctx};
use crate::exit::{CliError, Result};
use keyward_secmem::{Backend, ExposeSecret, SecretBytes};
use std::path::Path;

struct Report {
    problems: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: &str) {
        say(&format!("ok    {what}: {detail}"));
    }
    fn warn(&mut self, what: &str, detail: &str, fix: &str) {
        self.problems += 1;
        say(&format!("WARN  {what}: {detail}"));
        say(&format!("      fix: {fix}"));
    }
}

/// Core-dump settings as they were before `harden_process` changed them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Before {
    pub core_limit: Option<u64>,
}

pub(crate) fn before() -> Before {
    use nix::sys::resource::{getrlimit, Resource, RLIM_INFINITY};
    Before {
        core_limit: getrlimit(Resource::RLIMIT_CORE).ok().map(|(soft, _)| {
            if soft == RLIM_INFINITY {
                u64::MAX
            } else {
                soft
            }
        }),
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

pub(crate) fn run(ctx: &Ctx, before: Before) -> Result<()> {
    let mut r = Report { problems: 0 };

    // Secure memory: allocate one secret so the backend is exercised.
    let probe = SecretBytes::random(32);
    let st = keyward_secmem::status();
    match (&probe, st.backend) {
        (Err(e), _) => r.warn(
            "secure memory",
            &format!("cannot allocate a secret: {e}"),
            "raise RLIMIT_MEMLOCK (see below) or set memory_lock = \"best-effort\"",
        ),
        (Ok(_), Backend::Unlocked) => r.warn(
            "secure memory",
            &format!("memory cannot be locked (policy {}); secrets may reach swap", st.policy),
            "raise RLIMIT_MEMLOCK: `ulimit -l 8192`, LimitMEMLOCK= in systemd units, or `memlock` in /etc/security/limits.conf",
        ),
        (Ok(_), b) => r.ok(
            "secure memory",
            &format!("{b} backend, policy {}, {} bytes locked", st.policy, st.locked_bytes),
        ),
    }
    drop(probe);

    match keyward_secmem::memlock_limit() {
        None => r.ok("RLIMIT_MEMLOCK", "unlimited"),
        Some(l) if l >= 1 << 20 => r.ok("RLIMIT_MEMLOCK", &human(l)),
        Some(l) => r.warn(
            "RLIMIT_MEMLOCK",
            &format!("{} is small: large vaults or many secrets will not fit in locked memory", human(l)),
            "`ulimit -l 8192` in your shell profile, LimitMEMLOCK=8M for services, or `* - memlock 8192` in /etc/security/limits.conf",
        ),
    }

    match keyward_vault::keyring::available() {
        Ok(()) => r.ok("kernel keyring", "user keyring available; `keyward unlock` caches the key there"),
        Err(why) => r.warn(
            "kernel keyring",
            &why,
            "allow keyctl/add_key (containers: seccomp profile), or unlock by typing the password when the helpers ask",
        ),
    }

    check_tpm(&mut r, ctx);

    // Core dumps.
    if keyward_secmem::is_dumpable() {
        r.warn(
            "core dumps",
            "this process is still dumpable",
            "report a bug: keyward should have called PR_SET_DUMPABLE=0",
        );
    } else {
        r.ok(
            "core dumps",
            "keyward processes are undumpable (PR_SET_DUMPABLE=0, RLIMIT_CORE=0)",
        );
    }
    match before.core_limit {
        Some(0) => r.ok("core dumps", "your shell's core-size limit is 0"),
        Some(l) => r.warn(
            "core dumps",
            &format!(
                "your shell allows core files ({}); other programs holding secrets (git, docker) could dump them",
                if l == u64::MAX { "unlimited".to_string() } else { format!("{l} bytes") }
            ),
            "`ulimit -c 0` in your shell profile, or `* hard core 0` in /etc/security/limits.conf",
        ),
        None => {}
    }
    if let Ok(p) = std::fs::read_to_string("/proc/sys/kernel/core_pattern") {
        let p = p.trim();
        if p.starts_with('|') {
            r.ok(
                "core dumps",
                &format!("core files are piped to a handler ({p}); keyward processes never dump"),
            );
        }
    }
    match std::fs::read_to_string("/proc/swaps") {
        Ok(s) if s.lines().count() > 1 => r.warn(
            "swap",
            "swap is enabled; memory that is not locked can be written to it",
            "keep memory_lock = \"required\", or encrypt swap (cryptsetup) ",
        ),
        _ => r.ok("swap", "no swap in use"),
    }

    // Vault.
    if let Some(why) = &ctx.vault_unknown {
        r.warn(
            "vault",
            why,
            "set HOME (or XDG_DATA_HOME, KEYWARD_VAULT), or name the vault with `keyward --vault PATH doctor`",
        );
    } else {
        match keyward_vault::read_vault_id(&ctx.vault) {
            Ok(id) => r.ok(
                "vault",
                &format!(
                    "{} (id {id}): owner and permissions are safe",
                    ctx.vault.display()
                ),
            ),
            Err(keyward_vault::Error::NotFound { .. }) => r.warn(
                "vault",
                &format!("no vault at {}", ctx.vault.display()),
                "create one with `keyward init`",
            ),
            Err(e @ keyward_vault::Error::Permissions { .. }) => {
                let msg = e.to_string();
                let (what, fix) = msg
                    .split_once(": fix with ")
                    .unwrap_or((&msg, "see the message"));
                r.warn("vault", what, fix)
            }
            Err(e) => r.warn("vault", &e.to_string(), "restore the vault from a backup"),
        }
    }

    if ctx.vault_unknown.is_none() {
        check_generations(&mut r, &ctx.vault);
        check_kdf(&mut r, ctx);
        check_slots(&mut r, ctx);
    }

    if ctx.vault_unknown.is_none() {
        match crate::cmd::log::doctor_check(ctx) {
            Ok(detail) => r.ok("audit log", &detail),
            Err((what, fix)) => r.warn("audit log", &what, &fix),
        }
    }
    check_plaintext(&mut r);

    // Configuration files.
    let mut files = vec![std::path::PathBuf::from(keyward_vault::SYSTEM_CONFIG)];
    files.extend(keyward_vault::user_config_path());
    for (i, f) in files.iter().enumerate() {
        check_config(&mut r, f, i == 0);
    }

    if r.problems == 0 {
        say("all checks passed");
        Ok(())
    } else {
        Err(CliError::DoctorProblems(r.problems))
    }
}

/// Whether a TPM 2.0 answers where `tpm2` slots would look for it. No TPM is
/// not a problem (host and password slots work without one); a TCTI setting
/// keyward cannot use is.
fn check_tpm(r: &mut Report, ctx: &Ctx) {
    let tcti = match keyward_tpm::Tcti::for_user(ctx.config.tpm2_tcti.as_deref()) {
        Ok(t) => t,
        Err(e) => {
            return r.warn(
                "TPM",
                &e.to_string(),
                "fix tpm2_tcti in the configuration or KEYWARD_TPM2_TCTI (docs/tpm.md)",
            )
        }
    };
    match keyward_tpm::Tpm::open(&tcti).and_then(|mut t| Ok((t.manufacturer()?, t.lockout()?))) {
        Ok((maker, lockout)) => r.ok(
            "TPM",
            &format!(
                "TPM 2.0 ({maker}) reachable at {tcti}: tpm2 slots can be enrolled; PIN lockout state: {lockout}"
            ),
        ),
        Err(keyward_tpm::Error::Unreachable { tcti, why }) if has_tpm2_slot(ctx) => r.warn(
            "TPM",
            &format!("the vault has a tpm2 slot, but no TPM is reachable at {tcti} ({why})"),
            "set KEYWARD_TPM2_TCTI or tpm2_tcti to where the TPM is, or unlock with another slot and `keyward unenroll tpm2`",
        ),
        Err(keyward_tpm::Error::Unreachable { tcti, why }) => r.ok(
            "TPM",
            &format!("none reachable at {tcti} ({why}); tpm2 slots cannot be used on this machine (set KEYWARD_TPM2_TCTI or tpm2_tcti if it is elsewhere)"),
        ),
        Err(e) => r.warn(
            "TPM",
            &format!("the TPM at {tcti} answers but fails: {e}"),
            "see docs/tpm.md",
        ),
    }
}

/// The key slots: which there are, which open without typing here (so
/// which logins unlock the vault), and whether a recovery key exists.
fn check_slots(r: &mut Report, ctx: &Ctx) {
    use keyward_vault::SlotKind;
    let Ok(sealed) = keyward_vault::SealedVault::read(&ctx.vault) else {
        return;
    };
    let slots = sealed.slots();
    let names: Vec<String> = slots.iter().map(|s| s.kind.name()).collect();
    r.ok(
        "slots",
        &format!(
            "{} (vault format {}; `keyward slots` lists them)",
            names.join(", "),
            sealed.format_version()
        ),
    );
    if !slots.iter().any(|s| s.kind == SlotKind::Recovery) {
        r.ok(
            "recovery key",
            "none: a forgotten password would lose every record (`keyward enroll recovery` makes one, shown once)",
        );
    }
    let no_typing: Vec<_> = slots.iter().filter(|s| !s.kind.needs_typing()).collect();
    if no_typing.is_empty() {
        r.ok(
            "login unlock",
            "logins with the password unlock the vault (pam_keyward `unlock`); SSH-key, su-from-root and cron sessions do not: `keyward enroll host` makes them",
        );
        return;
    }
    match keyward_unlock::open_with_default_unsealers(sealed) {
        Ok(keyward_unlock::NoTyping::Opened(_)) => r.ok(
            "login unlock",
            "a host or tpm2 slot opens the vault on this machine: every login with pam_keyward `unlock` (SSH keys, su, cron) and `keyward unlock --non-interactive` unlock it",
        ),
        Ok(keyward_unlock::NoTyping::Still(_, tried)) => r.warn(
            "login unlock",
            &format!(
                "no host or tpm2 slot opens the vault here: {}",
                if tried.failures.is_empty() {
                    "no unsealer for its kind in this build".to_string()
                } else {
                    tried.failures.join("; ")
                }
            ),
            "enrolled on another machine, or the host key changed: `keyward enroll host` again, then `keyward unenroll` the old slot",
        ),
        Err(e) => r.warn("login unlock", &e.to_string(), "see `keyward recover`"),
    }
}

fn has_tpm2_slot(ctx: &Ctx) -> bool {
    ctx.vault_unknown.is_none()
        && keyward_vault::SealedVault::read(&ctx.vault).is_ok_and(|s| {
            s.slots()
                .iter()
                .any(|s| s.kind == keyward_vault::SlotKind::Tpm2)
        })
}

/// The vault's scrypt cost against the floor (a stolen copy is guessed
/// faster below it) and the ceiling (login unlock refuses above it), and
/// whether `[kdf]` is fit for a new password.
fn check_kdf(r: &mut Report, ctx: &Ctx) {
    let limits = ctx.config.kdf_limits;
    if let Err(e) = ctx.config.kdf_for_new_password() {
        r.warn(
            "kdf",
            &e.to_string(),
            "raise [kdf] log_n/r in that file (or remove [kdf]: the default is log_n=17 r=8 p=1)",
        );
    }
    let Ok(sealed) = keyward_vault::SealedVault::read(&ctx.vault) else {
        return; // The vault check above said what is wrong.
    };
    let Some(k) = sealed.kdf() else {
        r.ok(
            "kdf",
            "the vault has no password slot (no scrypt cost to check)",
        );
        return;
    };
    if let Err(why) = limits.check_floor(k) {
        r.warn(
            "kdf",
            &format!("the vault's {why}: a stolen copy can be guessed fast"),
            "`keyward rekey` (a new key and the configured [kdf] cost; the password stays)",
        );
    } else if let Err(why) = limits.check_ceiling(k) {
        r.warn(
            "kdf",
            &format!("the vault's {why}: pam_keyward will not unlock it at login"),
            "lower [kdf] in your config, then `keyward rekey`",
        );
    } else {
        r.ok(
            "kdf",
            &format!("the vault's scrypt {k} is within the floor and the ceiling"),
        );
    }
}

/// The vault and the previous generation kept beside it (`VAULT.prev`,
/// what `keyward recover` restores), checked under the cached key when the
/// vault is unlocked, and the vault's generation against the highest seen.
fn check_generations(r: &mut Report, vault: &Path) {
    use keyward_vault::recover::{header_id, inspect, FileState};
    let Some(id) = header_id(vault) else {
        return; // The vault check above said what is wrong.
    };
    let prev = keyward_vault::fs::previous_path(vault);
    let what = "previous generation";
    let Ok(Some(key)) = keyward_vault::keyring::load(&id) else {
        match (prev.exists(), header_id(&prev)) {
            (false, _) => r.ok(what, "none yet (kept from the next write on)"),
            (true, Some(p)) if p == id => r.ok(
                what,
                &format!(
                    "{}: present (unlock to check that it authenticates)",
                    prev.display()
                ),
            ),
            (true, _) => r.warn(
                what,
                &format!("{}: damaged header", prev.display()),
                "nothing to do while the vault is intact: the next write replaces it",
            ),
        }
        return;
    };
    let current = inspect(vault, &id, &key);
    match &current {
        FileState::Intact { generation, .. } => {
            match keyward_vault::watermark::highest_seen(&id).filter(|s| s > generation) {
                Some(seen) => r.warn(
                    "vault",
                    &format!("generation {generation}, but generation {seen} was seen before: an older copy was put back"),
                    "`keyward recover --accept-older` if you restored it on purpose; otherwise put the newer vault back",
                ),
                None => r.ok("vault", &format!("generation {generation}, authenticates")),
            }
        }
        FileState::Damaged => r.warn(
            "vault",
            "does not authenticate (damaged or tampered with)",
            "`keyward recover` restores the previous generation and names what it loses",
        ),
        _ => {}
    }
    match inspect(&prev, &id, &key) {
        FileState::Missing => r.ok(what, "none yet (kept from the next write on)"),
        FileState::Intact {
            generation,
            records,
        } => r.ok(
            what,
            &format!(
                "{}: generation {generation}, intact ({records} records)",
                prev.display()
            ),
        ),
        FileState::Damaged | FileState::OtherVault => r.warn(
            what,
            &format!("{}: damaged (does not authenticate)", prev.display()),
            "nothing to do while the vault is intact: the next write replaces it",
        ),
        FileState::Unreadable(why) => r.warn(what, &why, "fix the file's owner and mode"),
        _ => {}
    }
}

/// Configuration may be read by others but not changed by them: owned by root
/// (the system file) or by you or root (yours), not group/world writable.
fn check_config(r: &mut Report, f: &Path, system: bool) {
    use keyward_trustfs::{Error, Kind, Trust};
    let me = nix::unistd::geteuid().as_raw();
    let owners: &[u32] = if system { &[0] } else { &[me, 0] };
    match Trust::system(owners, 0o022).check_path(f, Kind::File) {
        Ok(()) => r.ok(
            "config",
            &format!("{} owner and permissions are safe", f.display()),
        ),
        Err(Error::NotFound { .. }) => r.ok(
            "config",
            &format!("{} not present (defaults apply)", f.display()),
        ),
        Err(e) => {
            let msg = e.to_string();
            let (what, fix) = msg
                .split_once(": fix with ")
                .unwrap_or((&msg, "see the message"));
            r.warn("config", what, fix)
        }
    }
}

/// Plaintext credentials keyward knows how to take in (issue 13): git's
/// credential store and `credential.helper=store` in any git configuration,
/// docker's and podman/skopeo's auth files with `auth` entries, cargo's
/// credentials.toml with `token` entries. Each found
/// source is a problem, with the command that imports it. Never reads a
/// secret out: it counts lines and entries.
fn check_plaintext(r: &mut Report) {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(std::path::PathBuf::from);
    let mut found = 0;
    if let Some(home) = &home {
        let store = home.join(".git-credentials");
        if let Ok(text) = std::fs::read_to_string(&store) {
            let n = text.lines().filter(|l| l.contains("://")).count();
            if n > 0 {
                found += 1;
                r.warn(
                    "plaintext",
                    &format!("{}: {n} git credentials in plaintext", store.display()),
                    "`keyward import git` (moves them into the vault and removes the file)",
                );
            }
        }
    }
    // credential.helper=store in the global, system or current repository's
    // configuration keeps writing plaintext.
    if let Ok(out) = std::process::Command::new("git")
        .args(["config", "--show-origin", "--get-all", "credential.helper"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (origin, helper) = line.split_once('\t').unwrap_or(("", line));
            if helper.split_whitespace().next() == Some("store") {
                found += 1;
                r.warn(
                    "plaintext",
                    &format!(
                        "credential.helper=store ({}) writes git credentials in plaintext",
                        for_terminal(origin, false)
                    ),
                    "`git config --global credential.helper keyward`, and remove the `store` line from that file",
                );
            }
        }
    }
    let docker = std::env::var_os("DOCKER_CONFIG")
        .map(|d| std::path::PathBuf::from(d).join("config.json"))
        .or_else(|| home.as_ref().map(|h| h.join(".docker/config.json")));
    let runtime = std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| std::path::PathBuf::from(d).join("containers/auth.json"));
    let containers = home
        .as_ref()
        .map(|h| h.join(".config/containers/auth.json"));
    for file in [docker, runtime, containers].into_iter().flatten() {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let n = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                v.get("auths").and_then(|a| a.as_object()).map(|a| {
                    a.values()
                        .filter(|e| {
                            e.get("auth")
                                .is_some_and(|x| x.as_str().is_some_and(|s| !s.is_empty()))
                        })
                        .count()
                })
            })
            .unwrap_or(0);
        if n > 0 {
            found += 1;
            r.warn(
                "plaintext",
                &format!(
                    "{}: {n} registry credentials in plaintext (`auth` entries)",
                    file.display()
                ),
                &format!("`keyward import docker {}`", file.display()),
            );
        }
    }
    // cargo's credentials.toml: counts `token = …` lines, read in locked memory.
    if let Ok(file) = super::import_cargo::default_file() {
        if let Ok(text) = crate::secretfile::read(&file) {
            let n = (text.expose_secret().split(|&c| c == b'\n'))
                .filter(|l| {
                    let l = l.trim_ascii_start();
                    let key = l.split(|&c| c == b'=').next().unwrap_or_default();
                    l.contains(&b'=')
                        && matches!(key.trim_ascii(), b"token" | b"\"token\"" | b"'token'")
                })
                .count();
            if n > 0 {
                found += 1;
                r.warn(
                    "plaintext",
                    &format!("{}: {n} cargo registry token(s) in plaintext", file.display()),
                    "`keyward import cargo` (moves them into the vault; cargo then asks cargo-credential-keyward)",
                );
            }
        }
    }
    found += check_plaintext_files(r, home.as_deref());
    found += check_plaintext_tools(r, home.as_deref());
    if found == 0 {
        r.ok(
            "plaintext",
            "no plaintext git, docker, containers, cargo, AWS, pypirc, netrc, Terraform, OpenBao/Vault, kubectl or npm credentials found",
        );
    }
}

/// Lines of `text` (read into locked memory) for which `secret_line` holds.
fn count_lines(text: &SecretBytes, secret_line: impl Fn(&[u8]) -> bool) -> usize {
    keyward_secmem::ExposeSecret::expose_secret(text)
        .split(|&c| c == b'\n')
        .filter(|l| secret_line(l.trim_ascii()))
        .count()
}

/// The plaintext files of Terraform, OpenBao/Vault, kubectl and npm/pnpm
/// (and the backups `keyward import` leaves): counted in locked memory,
/// never printed. Returns how many were found.
fn check_plaintext_tools(r: &mut Report, home: Option<&Path>) -> usize {
    use keyward_protocols::json::{self, Value};
    let read = |p: &Path| crate::secretfile::read(p).ok();
    let mut found = 0;
    let mut warn = |r: &mut Report, detail: String, fix: String| {
        found += 1;
        r.warn("plaintext", &detail, &fix);
    };
    if let Some(home) = home {
        let tf = home.join(".terraform.d/credentials.tfrc.json");
        if let Some(text) = read(&tf) {
            let src = keyward_secmem::ExposeSecret::expose_secret(&text);
            let n = match json::parse(src) {
                Ok((Value::Object(m), _)) => m
                    .iter()
                    .filter(|(k, _, _)| &src[k.clone()] == b"credentials")
                    .map(|(_, v, _)| match v {
                        Value::Object(hosts) => hosts.len(),
                        _ => 0,
                    })
                    .sum(),
                _ => 0,
            };
            if n > 0 {
                warn(
                    r,
                    format!("{}: {n} Terraform token(s) in plaintext", tf.display()),
                    "`keyward import terraform`, then `keyward setup terraform`".into(),
                );
            }
        }
        let vt = home.join(".vault-token");
        if read(&vt).is_some_and(|t| !t.is_empty()) {
            warn(
                r,
                format!("{}: an OpenBao/Vault token in plaintext", vt.display()),
                format!(
                    "`token_helper = \"/usr/bin/keyward-token-helper\"` in ~/.bao or ~/.vault, then `BAO_ADDR=<its server> keyward-token-helper store < {p}` and delete {p}",
                    p = vt.display()
                ),
            );
        }
    }
    let kubeconfigs: Vec<std::path::PathBuf> =
        match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).collect(),
            None => home.map(|h| h.join(".kube/config")).into_iter().collect(),
        };
    for kc in kubeconfigs {
        let Some(text) = read(&kc) else { continue };
        let n = count_lines(&text, |l| {
            ["token:", "client-key-data:"].iter().any(|k| {
                l.strip_prefix(k.as_bytes())
                    .is_some_and(|v| !v.trim_ascii().is_empty())
            })
        });
        if n > 0 {
            warn(
                r,
                format!(
                    "{}: {n} kubectl token(s) or client key(s) in plaintext",
                    kc.display()
                ),
                format!("`keyward import kube {}`", kc.display()),
            );
        }
    }
    let npmrc = std::env::var_os("NPM_CONFIG_USERCONFIG")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| home.map(|h| h.join(".npmrc")));
    if let Some(rc) = npmrc {
        if let Some(text) = read(&rc) {
            let n = count_lines(&text, |l| {
                let Some(eq) = l.iter().position(|&c| c == b'=') else {
                    return false;
                };
                let (k, v) = (l[..eq].trim_ascii(), l[eq + 1..].trim_ascii());
                (k.ends_with(b"_authToken") || k.ends_with(b"_auth") || k.ends_with(b"_password"))
                    && !v.is_empty()
                    && !v.starts_with(b"${")
            });
            if n > 0 {
                warn(
                    r,
                    format!("{}: {n} registry token(s) in plaintext", rc.display()),
                    "per registry: `keyward setup pnpm https://HOST/ --secret-fd 0` with the token on stdin, then delete its `_authToken` line".into(),
                );
            }
        }
    }
    let backups = [
        home.map(|h| h.join(".terraform.d/credentials.tfrc.json.keyward-backup")),
        home.map(|h| h.join(".kube/config.keyward-backup")),
    ];
    for b in backups.into_iter().flatten().filter(|b| b.exists()) {
        warn(
            r,
            format!(
                "{}: a backup `keyward import` left, with the plaintext credentials",
                b.display()
            ),
            format!(
                "delete it once the client works from the vault: `rm {}`",
                b.display()
            ),
        );
    }
    found
}

/// `~/.aws/credentials`, `~/.pypirc` and `~/.netrc` with keys or passwords
/// in them, and the backups `keyward import` left beside them. Files are
/// read into locked memory and only counted.
fn check_plaintext_files(r: &mut Report, home: Option<&Path>) -> usize {
    use keyward_protocols::ini::{self, key_is, Kind};
    use keyward_secmem::ExposeSecret;
    let env_or = |var: &str, rel: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| home.map(|h| h.join(rel)))
    };
    let count_ini = |doc: &[u8], key: &str| {
        ini::parse(doc)
            .iter()
            .filter(|l| matches!(&l.kind, Kind::Option { key: k, value, .. } if key_is(doc, k, key) && !value.is_empty()))
            .count()
    };
    let sources: [(Option<std::path::PathBuf>, &str, &str, &str); 3] = [
        (
            env_or("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"),
            "AWS secret access keys",
            "aws_secret_access_key",
            "`keyward import aws --remove-plaintext` (the profiles then use `credential_process = keyward aws PROFILE`)",
        ),
        (
            home.map(|h| h.join(".pypirc")),
            "index-server passwords",
            "password",
            "`keyward import pypirc --remove-plaintext`, and `pip install ./packaging/python` (keyrings.keyward) where twine runs",
        ),
        (
            env_or("NETRC", ".netrc"),
            "machine passwords",
            "",
            "`keyward import netrc --remove-plaintext` (for pip, through keyrings.keyward)",
        ),
    ];
    let mut found = 0;
    for (file, what, key, fix) in sources {
        let Some(file) = file else { continue };
        if let Ok(text) = crate::secretfile::read(&file) {
            let doc = text.expose_secret();
            let n = if key.is_empty() {
                keyward_protocols::netrc::parse(doc)
                    .map(|es| es.iter().filter(|e| e.password.is_some()).count())
                    .unwrap_or(0)
            } else {
                count_ini(doc, key)
            };
            if n > 0 {
                found += 1;
                r.warn(
                    "plaintext",
                    &format!("{}: {n} {what} in plaintext", file.display()),
                    fix,
                );
            }
        }
        // Backups `keyward import` made hold the plaintext from before it.
        let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
            continue;
        };
        let mut prefix = name.to_os_string();
        prefix.push(".keyward-backup");
        let prefix = prefix.to_string_lossy().into_owned();
        for b in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if b.file_name().to_string_lossy().starts_with(&prefix) {
                found += 1;
                r.warn(
                    "plaintext",
                    &format!(
                        "{}: the file as it was before `keyward import`, plaintext and all",
                        b.path().display()
                    ),
                    &format!(
                        "delete it once the tool works from the vault: `rm {}`",
                        b.path().display()
                    ),
                );
            }
        }
    }
    found
}
