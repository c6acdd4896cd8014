//! The audit trail with real clients: git (`git credential approve/fill/
//! reject` through git-credential-keyward), the docker CLI (`docker login`,
//! `docker logout` against a local registry through
//! docker-credential-keyward), and a password command (`keyward get` run by
//! a program called `restic`) each appear with the right client program;
//! `keyward log --verify` and `keyward doctor` report a flipped byte, a
//! deleted middle entry and a truncated tail; `audit = false` writes nothing.
#![forbid(unsafe_code)]

mod docker_common;
mod git_common;

use keyward_tests::{bin, ok_stdout as ok, text, TestHome};
use serde_json::Value;

fn log(h: &TestHome) -> Vec<Value> {
    let v: Value = serde_json::from_str(&ok(&h.keyward(&["log", "--json"], ""))).unwrap();
    v.as_array().unwrap().clone()
}

/// The (action, kind, name, client program) of every entry.
fn summary(h: &TestHome) -> Vec<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    log(h)
        .iter()
        .map(|e| {
            (
                s(&e["action"]),
                s(&e["kind"]),
                s(&e["name"]),
                s(&e["client"]["program"]),
            )
        })
        .collect()
}

fn row(action: &str, kind: &str, name: &str, program: &str) -> (String, String, String, String) {
    (action.into(), kind.into(), name.into(), program.into())
}

#[test]
fn git_uses_are_logged_with_git_as_the_client() {
    let g = git_common::GitHome::new();
    let cred = "protocol=https\nhost=git.example\nusername=bob\npassword=pw1\n";
    assert!(g
        .git_credential("keyward", "approve", cred)
        .status
        .success());
    let out = g.git_credential("keyward", "fill", "protocol=https\nhost=git.example\n");
    assert!(text(&out.stdout).contains("password=pw1"));
    assert!(g.git_credential("keyward", "reject", cred).status.success());
    let rows = summary(&g.home);
    assert_eq!(
        rows[1..],
        [
            row("store", "git", "git.example", "git"),
            row("get", "git", "git.example", "git"),
            row("erase", "git", "git.example", "git"),
        ],
        "{rows:?}"
    );
    let e = &log(&g.home)[2];
    assert!(e["client"]["exe"].as_str().unwrap().ends_with("git"));
    assert!(e["client"]["uid"].is_u64() && e["sealed"] == true);
    ok(&g.home.keyward(&["log", "--verify"], ""));
}

#[test]
fn docker_uses_are_logged_with_docker_as_the_client() {
    docker_common::require("docker", "docker.io (the CLI)");
    let reg = docker_common::Registry::start("bob", "dpw");
    let vh = docker_common::VaultHome::unlocked();
    let dir = vh.path().join(".docker");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), r#"{"credsStore":"keyward"}"#).unwrap();
    let addr = reg.addr.as_str();
    let docker = |args: &[&str], stdin: &[u8]| {
        let mut c = vh.command("timeout");
        c.args(["-s", "KILL", "120", "docker"]).args(args).env(
            "DOCKER_HOST",
            format!("unix://{}/no-engine.sock", vh.path().display()),
        );
        docker_common::run(&mut c, stdin)
    };
    let out = docker(&["login", "-u", "bob", "--password-stdin", addr], b"dpw\n");
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    docker(&["login", addr], b"");
    assert!(docker(&["logout", addr], b"").status.success());
    let rows = summary(&vh.home);
    for action in ["store", "get", "erase"] {
        assert!(
            rows.contains(&row(action, "docker", addr, "docker")),
            "no {action} by docker: {rows:?}"
        );
    }
}

#[test]
fn a_password_command_is_logged_with_its_program() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "restic/backup-1", "--secret-fd", "0"], "v\n"));
    // A program named `restic` that runs the password command the way
    // restic's --password-command does (a child process).
    let restic = h.path().join("restic");
    std::os::unix::fs::symlink("/bin/bash", &restic).unwrap();
    let mut c = h.command(&restic);
    c.arg("-c").arg(format!(
        "{} get restic/backup-1; true",
        bin("keyward").display()
    ));
    let out = keyward_tests::output_with_stdin(&mut c, b"");
    assert_eq!(ok(&out), "v\n");
    let rows = summary(&h);
    assert_eq!(
        rows.last().unwrap(),
        &row("get", "secret", "restic/backup-1", "restic"),
        "{rows:?}"
    );
    // Filtered by record and time.
    let only = ok(&h.keyward(&["log", "--record", "restic/backup-1", "--since", "1h"], ""));
    assert_eq!(only.lines().count(), 2, "{only}");
    let none = ok(&h.keyward(&["log", "--since", "@99999999999"], ""));
    assert_eq!(none, "(no audit entries)\n");
}

#[test]
fn a_locked_vault_shows_the_log_without_names() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "hidden/name", "--secret-fd", "0"], "v\n"));
    ok(&h.keyward(&["lock"], ""));
    let wrong = h.keyward(&["unlock", "--password-fd", "0"], "nope\n");
    assert_eq!(wrong.status.code(), Some(3));
    let shown = ok(&h.keyward(&["log"], ""));
    assert!(
        shown.contains("(encrypted)") && !shown.contains("hidden/name"),
        "{shown}"
    );
    assert!(shown.contains("unlock-failed"), "{shown}");
    let file = std::fs::read_to_string(h.path().join(".local/share/keyward/vault.audit")).unwrap();
    assert!(!file.contains("hidden"));
    let out = h.keyward(&["log", "--record", "hidden/name"], "");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    // The unlock-failed entry was written without the key (the vault was
    // locked); the next unlock seals it.
    ok(&h.keyward(&["unlock", "--password-fd", "0"], "pw\n"));
    let said = ok(&h.keyward(&["log", "--verify"], ""));
    assert!(said.contains("chain intact, MACs verified"), "{said}");
    assert!(!said.contains("without the vault key"), "{said}");
    let e = log(&h);
    assert_eq!(e[e.len() - 2]["action"], "unlock-failed");
    assert_eq!(e[e.len() - 2]["sealed"], false);
    assert_eq!(e[e.len() - 3]["action"], "lock");
    assert_eq!(
        e[e.len() - 3]["sealed"],
        true,
        "lock reads the key before removing it"
    );
}

fn tampered_home() -> (TestHome, std::path::PathBuf) {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    for i in 0..4 {
        ok(&h.keyward(&["set", &format!("s/{i}"), "--secret-fd", "0"], "v\n"));
        ok(&h.keyward(&["get", &format!("s/{i}")], ""));
    }
    ok(&h.keyward(&["log", "--verify"], ""));
    let log = h.path().join(".local/share/keyward/vault.audit");
    (h, log)
}

fn assert_reported(h: &TestHome, what: &str) {
    let out = h.keyward(&["log", "--verify"], "");
    assert_eq!(
        out.status.code(),
        Some(5),
        "{what} not reported: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("audit log"),
        "{}",
        text(&out.stderr)
    );
    let out = h.keyward(&["doctor"], "");
    let said = text(&out.stdout);
    assert!(
        said.contains("WARN  audit log: the chain is broken"),
        "doctor missed {what}: {said}"
    );
}

#[test]
fn verify_and_doctor_report_a_flipped_byte() {
    let (h, log) = tampered_home();
    let mut b = std::fs::read(&log).unwrap();
    let at = b.len() / 2;
    b[at] ^= 0x20;
    std::fs::write(&log, b).unwrap();
    assert_reported(&h, "a flipped byte");
}

#[test]
fn verify_and_doctor_report_a_deleted_middle_entry() {
    let (h, log) = tampered_home();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(lines.len() / 2);
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    assert_reported(&h, "a deleted middle entry");
}

#[test]
fn verify_and_doctor_report_a_truncated_tail() {
    let (h, log) = tampered_home();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&log, lines[..lines.len() - 2].join("\n") + "\n").unwrap();
    assert_reported(&h, "a truncated tail");
}

#[test]
fn audit_false_writes_nothing() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let log = h.path().join(".local/share/keyward/vault.audit");
    assert!(log.exists(), "unlock is logged by default");
    std::fs::remove_file(&log).unwrap();
    std::fs::remove_file(h.path().join(".local/share/keyward/vault.audit.head")).unwrap();
    h.write_config("audit = false\n[kdf]\nlog_n = 10\n");
    ok(&h.keyward(&["set", "a", "--secret-fd", "0"], "v\n"));
    ok(&h.keyward(&["get", "a"], ""));
    assert!(!log.exists());
}

#[test]
fn a_new_vault_key_keeps_the_log_verifiable() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "a", "--secret-fd", "0"], "v\n"));
    ok(&h.keyward(&["passwd", "--password-fd", "0"], "pw\npw2\n"));
    ok(&h.keyward(&["get", "a"], ""));
    let said = ok(&h.keyward(&["log", "--verify"], ""));
    assert!(said.contains("chain intact, MACs verified"), "{said}");
    let rows = summary(&h);
    assert!(rows.iter().any(|r| r.0 == "rekey"), "{rows:?}");
}
