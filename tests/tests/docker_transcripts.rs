//! The protocol transcripts under git-credential/tests/transcripts/docker/
//! (format: `../README.md`, runner: `keyward_tests::transcript`), run against
//! the built `docker-credential-keyward` with a real, unlocked vault (a fresh
//! one per scenario).

mod docker_common;
use docker_common::*;
use keyward_tests::bin;
use keyward_tests::transcript::{self, Driver, Initial, Ran, StderrRule};

/// The built helper over a fresh unlocked vault.
struct Docker {
    vh: VaultHome,
    /// The vault file as the scenario found it.
    before: Vec<u8>,
}

impl Driver for Docker {
    fn run(&mut self, args: &[String], input: &[u8]) -> Ran {
        run(
            self.vh
                .command("timeout")
                .args(["-s", "KILL", "30"])
                .arg(bin("docker-credential-keyward"))
                .args(args),
            input,
        )
        .into()
    }

    /// `@vault-unchanged`: the vault file is byte for byte what the scenario
    /// started with (scenarios that store nothing).
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        match (name, args) {
            ("vault-unchanged", []) => {
                let now = std::fs::read(self.vh.home.vault_path()).map_err(|e| e.to_string())?;
                if now != self.before {
                    return Err("the vault changed".into());
                }
                Ok(())
            }
            _ => Err(format!("unknown directive @{name} {args:?}")),
        }
    }
}

#[test]
fn transcripts_against_the_binary_and_a_real_vault() {
    transcript::run_all("docker", 10, StderrRule::Listed, |t| {
        assert_eq!(
            t.initial,
            Initial::Unlocked,
            "docker transcripts start unlocked"
        );
        let vh = VaultHome::unlocked();
        let before = std::fs::read(vh.home.vault_path()).unwrap();
        Docker { vh, before }
    });
}
