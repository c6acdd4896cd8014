//! Runs the transcripts of `git-credential/tests/transcripts/{terraform,
//! tokenhelper,kube}` (format: that directory's README.md) against the built
//! `terraform-credentials-keyward`, `keyward-token-helper` and `keyward
//! kube-credential`, each file in its own throwaway home and vault: the
//! protocol harness, driven as Terraform, bao/vault and kubectl drive them.
#![forbid(unsafe_code)]

use keyward_secmem::SecretBytes;
use keyward_tests::transcript::{self, expand, Driver, Initial, Ran, StderrRule};
use keyward_tests::{bin, output_with_stdin, text, TestHome};
use keyward_unlock::{open_for_helper, HelperOpen};
use keyward_vault::{Config, NewEntry};
use std::collections::BTreeMap;
use std::path::PathBuf;

struct Helper {
    home: TestHome,
    program: PathBuf,
    /// Set (`Some`) or removed (`None`) in the helper's environment.
    env: BTreeMap<String, Option<String>>,
}

impl Helper {
    fn new(program: &str, initial: Initial) -> Helper {
        let home = TestHome::new();
        if initial != Initial::None {
            home.init_unlocked_vault("s3cret");
            if initial == Initial::Locked {
                assert!(home.keyward(&["lock"], "").status.success());
            }
        }
        Helper {
            home,
            program: bin(program),
            env: BTreeMap::new(),
        }
    }

    fn set(&self, name: &str, value: &[u8], expiry: Option<u64>) -> Result<(), String> {
        let mut v = open_for_helper(HelperOpen {
            vault: Some(self.home.vault_path()),
            config: Some(Config::default()),
            no_prompt: true,
            cache_after_prompt: false,
        })
        .map_err(|e| e.to_string())?;
        let mut entry = NewEntry::secret(name, SecretBytes::from_slice(value).unwrap(), None);
        entry.password_expiry_utc = expiry;
        v.update(|t| t.upsert(entry).map(drop))
            .map_err(|e| e.to_string())
    }
}

impl Driver for Helper {
    fn run(&mut self, args: &[String], input: &[u8]) -> Ran {
        let mut c = self.home.command(&self.program);
        for (k, v) in &self.env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        output_with_stdin(c.args(args), input).into()
    }

    /// `@env NAME VALUE` / `@unset NAME` (the helper's environment), `@lock`,
    /// `@unlock`, `@set NAME VALUE [EXPIRY]` (a named secret; VALUE is
    /// expanded like input), `@secret NAME VALUE` (checks a named secret).
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        match (name, args) {
            ("env", [k, v @ ..]) => {
                self.env.insert(k.clone(), Some(v.join(" ")));
            }
            ("unset", [k]) => {
                self.env.insert(k.clone(), None);
            }
            ("lock", []) => {
                self.home.keyward(&["lock"], "");
            }
            ("unlock", []) => {
                let out = self
                    .home
                    .keyward(&["unlock", "--password-fd", "0"], "s3cret\n");
                if !out.status.success() {
                    return Err(text(&out.stderr));
                }
            }
            ("set", [n, v]) => self.set(n, &expand(v), None)?,
            ("set", [n, v, e]) => {
                self.set(n, &expand(v), Some(e.parse().map_err(|_| "bad expiry")?))?
            }
            ("secret", [n, want]) => {
                let out = self.home.keyward(&["get", n], "");
                let got = text(&out.stdout);
                if got.trim_end_matches('\n') != want {
                    return Err(format!("{n}: {:?} {}", got, text(&out.stderr)));
                }
            }
            _ => return Err(format!("unknown directive @{name} {args:?}")),
        }
        Ok(())
    }
}

#[test]
fn terraform_credentials_helper_transcripts() {
    transcript::run_all("terraform", 6, StderrRule::OneLineOnFailure, |t| {
        Helper::new("terraform-credentials-keyward", t.initial)
    });
}

#[test]
fn openbao_token_helper_transcripts() {
    transcript::run_all("tokenhelper", 5, StderrRule::OneLineOnFailure, |t| {
        Helper::new("keyward-token-helper", t.initial)
    });
}

/// `keyward kube-credential`: the transcripts' arguments follow `keyward`.
#[test]
fn kube_credential_transcripts() {
    transcript::run_all("kube", 3, StderrRule::Listed, |t| {
        Helper::new("keyward", t.initial)
    });
}
