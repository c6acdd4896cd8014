//! `keyward doctor`: what protects secrets on this machine, each problem with a fix.

use crate::ctx::{for_terminal, say, Ctx};
use crate::exit::{CliError, Result};
use keyward_secmem::{Backend, SecretBytes};
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
    let k = sealed.kdf();
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
/// docker's and podman/skopeo's auth files with `auth` entries. Each found
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
    if found == 0 {
        r.ok(
            "plaintext",
            "no plaintext git, docker or containers credentials found",
        );
    }
}
