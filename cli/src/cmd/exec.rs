//! `keyward exec --env VAR=NAME[,VAR=NAME…] -- CMD ARGS…`: runs CMD with named
//! secrets in its environment, for tools that read a token from a variable
//! (`gh` and `GH_TOKEN`, npm and an `.npmrc` that says `${NPM_TOKEN}`).
//!
//! keyward replaces itself with CMD (`execvpe(3)`): CMD has keyward's process
//! id, exit status, signals and terminal, and no keyward process stays
//! behind holding the secrets. Each `VAR=value` entry of CMD's environment is
//! built in locked memory and handed to the kernel from there; keyward's own
//! environment never holds a secret, and nothing keyward starts sees one.
//! From the `execve(2)` on, the environment is ordinary memory of CMD: CMD
//! and whatever CMD starts can read it (and so can `/proc/PID/environ`, to
//! processes allowed to read CMD's memory). CMD inherits keyward's
//! `RLIMIT_CORE` of 0, so a crash of CMD does not write its environment to
//! a core file.
//!
//! A locked vault is unlocked through the shared unlock policy for this one
//! command and the key is not cached (a terminal prompt only on a terminal;
//! otherwise "vault is locked" at once).

use crate::ctx::Ctx;
use crate::exit::{CliError, Result};
use clap::Args;
use keyward_audit::{Action, Target};
use keyward_secmem::{ExposeSecret, SecretBytes};
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{check_name, Kind};
use std::ffi::{CStr, CString, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// CMD gets the named secret NAME in its environment variable VAR
    /// (pairs separated by commas, or --env given again).
    #[arg(
        long,
        short = 'e',
        value_name = "VAR=NAME[,VAR=NAME...]",
        required = true
    )]
    pub env: Vec<String>,
    /// The command to run and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<OsString>,
}

/// `VAR=NAME` pairs from every `--env`, checked: VAR a shell variable name,
/// NAME a secret name, no VAR twice.
fn parse_specs(specs: &[String]) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in specs.iter().flat_map(|s| s.split(',')) {
        let bad = |why: &str| CliError::Usage(format!("--env {pair:?}: {why}"));
        let (var, name) = pair
            .split_once('=')
            .ok_or_else(|| bad("expected VAR=NAME, e.g. GH_TOKEN=github/token"))?;
        let var_ok = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !var_ok {
            return Err(bad(
                "the variable name must be letters, digits and `_`, not starting with a digit",
            ));
        }
        check_name(name)?;
        if out.iter().any(|(v, _)| v == var) {
            return Err(bad("this variable is given twice"));
        }
        out.push((var.to_owned(), name.to_owned()));
    }
    Ok(out)
}

/// `VAR=value` and a NUL, in locked memory.
fn env_entry(var: &str, name: &str, value: &SecretBytes) -> Result<SecretBytes> {
    if value.expose_secret().contains(&0) {
        return Err(CliError::Usage(format!(
            "secret {name} contains a NUL byte and cannot be passed in an environment variable"
        )));
    }
    let mut e = SecretBytes::with_capacity(var.len() + value.len() + 2)?;
    e.extend_from_slice(var.as_bytes())?;
    e.push(b'=')?;
    e.extend_from_slice(value.expose_secret())?;
    e.push(0)?;
    Ok(e)
}

pub(crate) fn run(ctx: &Ctx, a: ExecArgs) -> Result<()> {
    let specs = parse_specs(&a.env)?;
    let program = a.command.first().cloned().unwrap_or_default();
    let args = (a.command.into_iter())
        .map(|s| CString::new(s.into_vec()))
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| CliError::Usage("a NUL byte in the command line".into()))?;
    // One call to the shared unlock policy; the key is not cached.
    let v = open_for_helper(HelperOpen {
        vault: Some(ctx.vault.clone()),
        config: Some(ctx.config.clone()),
        no_prompt: false,
        cache_after_prompt: false,
    })?;
    let mut secret_env = Vec::with_capacity(specs.len());
    for (var, name) in &specs {
        let i = v
            .find_secret(name)
            .ok_or_else(|| CliError::NoSecret(name.clone()))?;
        let s = v.reveal(i)?;
        secret_env.push(env_entry(var, name, &s.password)?);
    }
    for (_, name) in &specs {
        keyward_audit::record(&v, Action::Get, Some(Target::new(Kind::Secret, name)));
    }
    drop(v);
    // Everything else keyward was given, except the variables set above.
    let inherited: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| !specs.iter().any(|(var, _)| k.as_bytes() == var.as_bytes()))
        .filter_map(|(k, val)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend_from_slice(val.as_bytes());
            CString::new(kv).ok()
        })
        .collect();
    let mut envp: Vec<&CStr> = inherited.iter().map(CString::as_c_str).collect();
    for e in &secret_env {
        // Built above with exactly one NUL, at the end.
        let entry = CStr::from_bytes_with_nul(e.expose_secret())
            .map_err(|_| CliError::Usage("a NUL byte in a secret".into()))?;
        envp.push(entry);
    }
    let Some(file) = args.first() else {
        return Err(CliError::Usage("no command to run".into()));
    };
    let err = match nix::unistd::execvpe(file, &args, &envp) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    drop(envp);
    drop(secret_env);
    Err(CliError::Exec {
        program: program.to_string_lossy().into_owned(),
        source: err,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let s = parse_specs(&[
            "GH_TOKEN=github/token,NPM_TOKEN=npm/token".into(),
            "_X1=a".into(),
        ])
        .unwrap();
        assert_eq!(
            s,
            [
                ("GH_TOKEN".to_owned(), "github/token".to_owned()),
                ("NPM_TOKEN".to_owned(), "npm/token".to_owned()),
                ("_X1".to_owned(), "a".to_owned())
            ]
        );
        for bad in [
            "GH_TOKEN", "1X=a", "X-Y=a", "=a", "X=", "X=../a", "X=a,X=b", "X=a,",
        ] {
            assert!(parse_specs(&[bad.into()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn entries_end_in_one_nul() {
        let v = SecretBytes::from_slice(b"hunter2").unwrap();
        let e = env_entry("TOKEN", "t", &v).unwrap();
        assert_eq!(e.expose_secret(), b"TOKEN=hunter2\0");
        let v = SecretBytes::from_slice(b"hun\0ter2").unwrap();
        let err = env_entry("TOKEN", "t", &v).unwrap_err().to_string();
        assert!(!err.contains("hun"), "{err}");
    }
}
