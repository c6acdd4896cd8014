//! pnpm's token helper: `keyward npm-token REGISTRY_URL` prints `Bearer TOKEN`
//! (the Authorization value pnpm sends) from locked memory; `keyward setup
//! pnpm REGISTRY_URL` writes the helper file (no secret in it: a `#!` line
//! running `keyward npm-token-helper` and a `registry=` line) and the
//! `//HOST/PATH/:tokenHelper=/abs/path` line of the user's `.npmrc`. The token
//! is the named secret `npm/HOST[:PORT][/PATH…]`.

use crate::cmd::setup::{append, find_program, home};
use crate::ctx::{say, Ctx};
use crate::exit::{CliError, Result};
use crate::named::open;
use crate::password::Source;
use clap::Args;
use keyward_protocols::{named, npm};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub(crate) struct NpmTokenArgs {
    /// The registry URL (`https://registry.example.com/` or `//registry.example.com/`).
    pub registry: String,
}

#[derive(Debug, Args)]
pub(crate) struct NpmTokenHelperArgs {
    /// A helper file written by `keyward setup pnpm` (its `registry=` line
    /// names the registry); the kernel passes it when the file's `#!` line
    /// runs `keyward npm-token-helper`.
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct SetupPnpmArgs {
    /// The registry URL, as in `registry=` of .npmrc (`https://npm.example.com/`).
    pub registry: String,
    /// Also store the registry's token, read (one line) from this file descriptor.
    #[arg(long, value_name = "N")]
    pub secret_fd: Option<i32>,
}

/// The registry's npm key and named secret, or the CLI's error.
pub(crate) fn secret_name(registry: &str) -> Result<(String, String)> {
    npm::secret_name(registry).ok_or_else(|| {
        CliError::Vault(keyward_vault::Error::Invalid(format!(
            "bad registry URL {registry:?}: give it as https://HOST/PATH/"
        )))
    })
}

/// `keyward npm-token REGISTRY_URL`: `Bearer TOKEN` and a newline on stdout.
pub(crate) fn token(ctx: &Ctx, a: NpmTokenArgs) -> Result<()> {
    print_token(ctx, &a.registry)
}

/// The line of a helper file that names its registry.
const REGISTRY_LINE: &str = "registry=";

/// `keyward npm-token-helper FILE`: [`token`] for the registry FILE's
/// `registry=` line names. FILE must be yours and not writable by others
/// (keyward-trustfs), as the helper `keyward setup pnpm` writes is.
pub(crate) fn token_helper(ctx: &Ctx, a: NpmTokenHelperArgs) -> Result<()> {
    use std::io::Read;
    let trust = keyward_trustfs::Trust::system(&[keyward_trustfs::fs_uid()], 0o022)
        .named("pnpm token helper");
    let mut f = trust.open(&a.file).map_err(keyward_vault::Error::from)?;
    // Helpers are a few hundred bytes, and the `registry=` line must be in
    // the first 4 KiB: one read(2) of a regular file (the trust check
    // refused anything else) returns all of that.
    let mut buf = [0u8; 4096];
    let n = f.read(&mut buf).map_err(CliError::file(&a.file))?;
    let registry = std::str::from_utf8(&buf[..n])
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix(REGISTRY_LINE)))
        .ok_or_else(|| {
            CliError::bad_file(
                &a.file,
                "names no registry (no `registry=` line in its first 4 KiB): write it again with `keyward setup pnpm REGISTRY_URL`",
            )
        })?;
    print_token(ctx, registry)
}

/// `Bearer TOKEN` and a newline on stdout, in one `write(2)` from locked memory.
fn print_token(ctx: &Ctx, registry: &str) -> Result<()> {
    let (_, name) = secret_name(registry)?;
    let v = open(ctx)?;
    let (value, _) = named::get(&v, &name)?.ok_or_else(|| CliError::NoSecret(name.clone()))?;
    let mut line = SecretBytes::with_capacity(value.len() + 8)?;
    line.extend_from_slice(b"Bearer ")?;
    line.extend_from_slice(value.expose_secret())?;
    line.push(b'\n')?;
    drop(value);
    let out = std::io::stdout().as_fd().try_clone_to_owned();
    out.map(std::fs::File::from)
        .and_then(|mut f| f.write_all(line.expose_secret()))
        .map_err(CliError::Stdout)
}

/// The user's .npmrc: `$NPM_CONFIG_USERCONFIG`, else `~/.npmrc`.
pub(crate) fn user_npmrc() -> Result<PathBuf> {
    match std::env::var_os("NPM_CONFIG_USERCONFIG").filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => Ok(home()?.join(".npmrc")),
    }
}

/// Single-quoted for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `keyward setup pnpm REGISTRY_URL`.
pub(crate) fn setup(ctx: &Ctx, a: SetupPnpmArgs) -> Result<()> {
    let (dart, name) = secret_name(&a.registry)?;
    let keyward = find_program("keyward", None)?;
    if let Some(fd) = a.secret_fd {
        let mut src = Source::for_secret(Some(fd))?;
        let mut v = open(ctx)?;
        let value = src.read_new("")?;
        named::put(&mut v, &name, value, None)?;
        say(&format!("stored the token for {dart} as {name}"));
    }
    // The helper (pnpm takes an absolute path and no arguments). It holds no
    // secret. Its `#!` line runs keyward itself, which reads the registry
    // from the file: no shell between pnpm's and keyward (a `sh` start was
    // a third of a call). A path the kernel cannot put on a `#!` line
    // (white space, longer than the 127 bytes older kernels take) gets a
    // shell script running `keyward npm-token URL` instead.
    let dir = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => home()?.join(".config"),
    }
    .join("keyward/npm-token-helpers");
    std::fs::create_dir_all(&dir).map_err(CliError::file(&dir))?;
    let script = dir.join(named::component(dart.trim_matches('/')));
    let about = format!(
        "# pnpm token helper for {dart}, written by `keyward setup pnpm`: prints\n# `Bearer TOKEN` from the keyward vault (named secret {name}). No secret here.\n"
    );
    let shebang = format!("#!{} npm-token-helper\n", keyward.display());
    let direct = keyward.to_str().is_some_and(|k| {
        !k.bytes()
            .any(|c| c.is_ascii_whitespace() || c.is_ascii_control())
    }) && shebang.len() <= 127;
    let body = if direct {
        format!("{shebang}{about}{REGISTRY_LINE}{dart}\n")
    } else {
        format!(
            "#!/bin/sh\n{about}exec {} npm-token {}\n",
            sh_quote(&keyward.display().to_string()),
            sh_quote(&dart)
        )
    };
    {
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = script.with_extension("tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o700)
            .open(&tmp)
            .map_err(CliError::file(&tmp))?;
        f.write_all(body.as_bytes()).map_err(CliError::file(&tmp))?;
        std::fs::rename(&tmp, &script).map_err(CliError::file(&script))?;
    }
    let npmrc = user_npmrc()?;
    let key = format!("{dart}:tokenHelper");
    let line = format!("{key}={}", script.display());
    let text = match std::fs::read_to_string(&npmrc) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(CliError::file(&npmrc)(e)),
    };
    let has = |k: &str| {
        text.lines()
            .any(|l| l.trim_start().split('=').next().map(str::trim) == Some(k))
    };
    if text.lines().any(|l| l.trim() == line) {
        say(&format!("{} already has {line}", npmrc.display()));
    } else if has(&key) {
        return Err(CliError::bad_file(
            &npmrc,
            format!("sets another {key}: remove that line, then run this again"),
        ));
    } else {
        let sep = if text.is_empty() || text.ends_with('\n') {
            ""
        } else {
            "\n"
        };
        append(&npmrc, &format!("{sep}{line}\n"))?;
        say(&format!("added {line} to {}", npmrc.display()));
    }
    if has(&format!("{dart}:_authToken")) || has(&format!("{dart}:_auth")) {
        say(&format!(
            "{} still holds a plaintext token for {dart} (it wins over the helper): move it with `keyward set {name}` and delete that line",
            npmrc.display()
        ));
    }
    if a.secret_fd.is_none() {
        say(&format!(
            "store the registry token with `keyward set {name}`"
        ));
    }
    Ok(())
}
