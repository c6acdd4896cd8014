//! Runs the cargo protocol transcripts in `tests/transcripts/cargo/*.t`
//! (format: `tests/transcripts/README.md`, runner: `keyward_tests::transcript`)
//! against the built `cargo-credential-keyward`, each file in its own
//! throwaway HOME and vault. Each run is one provider session: the hello,
//! then one answer per request line.
#![forbid(unsafe_code)]

mod git_vaultctl;

use keyward_tests::transcript::{self, Driver, Ran, StderrRule};
use keyward_vault::Kind;

const PROVIDER: &str = env!("CARGO_BIN_EXE_cargo-credential-keyward");

struct Cargo(git_vaultctl::Home);

impl Driver for Cargo {
    /// The throwaway home's path in answers reads `$HOME`.
    fn run(&mut self, args: &[String], input: &[u8]) -> Ran {
        let mut ran: Ran =
            keyward_tests::output_with_stdin(self.0.command(PROVIDER).args(args), input).into();
        let home = self.0.path().to_str().expect("UTF-8 temp path");
        ran.stdout = String::from_utf8_lossy(&ran.stdout)
            .replace(home, "$HOME")
            .into_bytes();
        ran
    }

    /// `@lock`, `@unlock`, `@count-cargo N`.
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        match (name, args) {
            ("lock", []) => self.0.lock(),
            ("unlock", []) => self.0.unlock(),
            ("count-cargo", [n]) => {
                let want: usize = n.parse().map_err(|_| format!("bad count {n:?}"))?;
                let got = self.0.count(Kind::Cargo);
                if got != want {
                    return Err(format!("{got} cargo entries, expected {want}"));
                }
            }
            _ => return Err(format!("unknown directive @{name} {args:?}")),
        }
        Ok(())
    }
}

#[test]
fn cargo_protocol_transcripts() {
    transcript::run_all("cargo", 5, StderrRule::Listed, |t| {
        Cargo(git_vaultctl::Home::new(t.initial))
    });
}
