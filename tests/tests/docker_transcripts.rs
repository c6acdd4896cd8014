//! The protocol transcripts under git-credential/tests/transcripts/docker/, run
//! against the built `docker-credential-keyward` with a real, unlocked vault
//! (a fresh one per scenario).

mod docker_common;
use docker_common::*;
use keyward_tests::bin;
use std::path::{Path, PathBuf};

struct Step {
    name: String,
    args: Vec<String>,
    stdin: Vec<u8>,
    stdout: Vec<u8>,
    code: i32,
}

fn transcripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../git-credential/tests/transcripts/docker")
}

fn read_case(dir: &Path) -> Vec<Step> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".args").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let read = |ext: &str| std::fs::read(dir.join(format!("{n}.{ext}")));
            Step {
                args: String::from_utf8(read("args").unwrap())
                    .unwrap()
                    .lines()
                    .map(str::to_owned)
                    .collect(),
                stdin: read("stdin").unwrap_or_default(),
                stdout: read("stdout").expect("stdout file"),
                code: String::from_utf8(read("code").unwrap())
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap(),
                name: n,
            }
        })
        .collect()
}

#[test]
fn transcripts_against_the_binary_and_a_real_vault() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(transcripts_dir())
        .expect("transcripts dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "transcripts missing");
    let mut failures = Vec::new();
    for dir in cases {
        let case = dir.file_name().unwrap().to_string_lossy().into_owned();
        let vh = VaultHome::unlocked();
        let before = std::fs::read(vh.home.vault_path()).unwrap();
        for s in read_case(&dir) {
            let out = run(
                vh.command("timeout")
                    .args(["-s", "KILL", "30"])
                    .arg(bin("docker-credential-keyward"))
                    .args(&s.args),
                &s.stdin,
            );
            let code = out.status.code().unwrap_or(-1);
            if out.stdout != s.stdout || code != s.code {
                failures.push(format!(
                    "{case}/{}: got exit {code} {:?}, want exit {} {:?} (stderr {:?})",
                    s.name,
                    text(&out.stdout),
                    s.code,
                    text(&s.stdout),
                    text(&out.stderr),
                ));
            }
        }
        // Scenarios that store nothing must leave the vault file as it was.
        if ["09-store-validation", "11-arguments", "12-empty-store"].contains(&case.as_str()) {
            assert_eq!(
                std::fs::read(vh.home.vault_path()).unwrap(),
                before,
                "{case} changed the vault"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
