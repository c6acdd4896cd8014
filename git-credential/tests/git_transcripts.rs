//! Runs the git protocol transcripts in `tests/transcripts/git/*.t` (format:
//! `tests/transcripts/README.md`, runner: `keyward_tests::transcript`) against
//! the built `git-credential-keyward`, each file in its own throwaway HOME and
//! vault.
#![forbid(unsafe_code)]

mod git_vaultctl;

use keyward_tests::transcript::{self, Driver, Ran, StderrRule};

const HELPER: &str = env!("CARGO_BIN_EXE_git-credential-keyward");

/// The built helper in a throwaway home; the directives change its vault.
struct Git(git_vaultctl::Home);

impl Driver for Git {
    fn run(&mut self, args: &[String], input: &[u8]) -> Ran {
        keyward_tests::output_with_stdin(self.0.command(HELPER).args(args), input).into()
    }

    /// `@lock`, `@unlock`, `@tamper` (flip one bit of the vault file),
    /// `@docker HOST USER PASSWORD` (an entry as the docker helper stores it),
    /// `@count-docker N`.
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        match (name, args) {
            ("lock", []) => self.0.lock(),
            ("unlock", []) => self.0.unlock(),
            ("tamper", []) => self.0.tamper(),
            ("docker", [host, user, password]) => self.0.add_docker(host, user, password),
            ("count-docker", [n]) => {
                let want: usize = n.parse().map_err(|_| format!("bad count {n:?}"))?;
                let got = self.0.count_docker();
                if got != want {
                    return Err(format!("{got} docker entries, expected {want}"));
                }
            }
            _ => return Err(format!("unknown directive @{name} {args:?}")),
        }
        Ok(())
    }
}

#[test]
fn git_protocol_transcripts() {
    transcript::run_all("git", 20, StderrRule::OneLineOnFailure, |t| {
        Git(git_vaultctl::Home::new(t.initial))
    });
}
