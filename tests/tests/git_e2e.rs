//! git over HTTP with credentials only from `git-credential-keyward`: the first
//! clone prompts (GIT_ASKPASS) and stores, later clones and pushes use the
//! stored credential without prompting, a changed server password makes git
//! reject the stale entry, and the helper is found by name and by path.
#![forbid(unsafe_code)]

mod git_common;

use git_common::{run_with_input, text, GitHome, GitServer};
use keyward_tests::bin;
use std::process::Command;

fn git_ok(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stderr)
}

#[test]
fn clone_push_prompt_then_stored_then_rejected_on_changed_password() {
    let h = GitHome::new();
    let server = GitServer::start("alice", "first-password");
    let url = server.url();
    let host = format!("127.0.0.1:{}", server.port);
    let request = format!("protocol=http\nhost={host}\n");

    // 1. First clone: nothing stored, git asks (through GIT_ASKPASS) and the
    //    helper stores what worked.
    let ask1 = h.askpass("ask1", "alice", "first-password");
    git_ok(
        h.git("keyward", &["clone", "-q", &url, "one"])
            .env("GIT_ASKPASS", &ask1.script),
        "first clone",
    );
    assert_eq!(
        ask1.prompts(),
        vec![
            format!("Username for 'http://{host}': "),
            format!("Password for 'http://alice@{host}': "),
        ]
    );
    assert_eq!(
        h.get(&request),
        "username=alice\npassword=first-password\n",
        "the credential git approved is in the vault"
    );

    // 2. Push and a second clone: the stored credential, no prompt.
    let ask2 = h.askpass("ask2", "mallory", "wrong");
    let one = h.path().join("one");
    std::fs::write(one.join("file"), "pushed through keyward\n").unwrap();
    git_ok(
        h.command("git").args(["add", "file"]).current_dir(&one),
        "add",
    );
    git_ok(
        h.command("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
            .args(["commit", "-q", "-m", "pushed with a stored credential"])
            .current_dir(&one),
        "commit",
    );
    git_ok(
        h.git("keyward", &["push", "-q", "origin", "main"])
            .current_dir(&one)
            .env("GIT_ASKPASS", &ask2.script),
        "push",
    );
    assert_eq!(server.log()[0], "pushed with a stored credential");
    git_ok(
        h.git("keyward", &["clone", "-q", &url, "two"])
            .env("GIT_ASKPASS", &ask2.script),
        "second clone",
    );
    assert!(h.path().join("two/file").exists());
    assert_eq!(
        ask2.prompts(),
        Vec::<String>::new(),
        "no prompt once stored"
    );
    assert!(
        server.requests().iter().all(|r| !r.ends_with(" mallory")),
        "the askpass answer was never used"
    );

    // 3. The server's password changes: git sends the stored one, gets 401,
    //    runs `erase`, and the stale entry is gone.
    server.set_password("alice", "second-password");
    let out = h
        .git("keyward", &["fetch", "-q", "origin"])
        .current_dir(&one)
        .env("GIT_ASKPASS", &ask2.script)
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "fetch with a stale password must fail"
    );
    assert!(
        text(&out.stderr).contains("Authentication failed"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(h.get(&request), "", "git's reject erased the stale entry");

    // 4. The next clone prompts again and stores the new password.
    let ask3 = h.askpass("ask3", "alice", "second-password");
    git_ok(
        h.git("keyward", &["clone", "-q", &url, "three"])
            .env("GIT_ASKPASS", &ask3.script),
        "clone after the password change",
    );
    assert_eq!(ask3.prompts().len(), 2);
    assert_eq!(
        h.get(&request),
        "username=alice\npassword=second-password\n"
    );
}

#[test]
fn helper_found_by_name_on_path_and_by_absolute_path() {
    let h = GitHome::new();
    let abs = keyward_tests::bin("git-credential-keyward");
    let abs = abs.to_str().unwrap();
    let approve = "protocol=https\nhost=lookup.example\nusername=bob\npassword=by-name\n";
    let fill = "protocol=https\nhost=lookup.example\n";
    let want = "protocol=https\nhost=lookup.example\nusername=bob\npassword=by-name\n";

    let out = h.git_credential("keyward", "approve", approve);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = h.git_credential("keyward", "fill", fill);
    assert_eq!(text(&out.stdout), want, "by name: {}", text(&out.stderr));
    let out = h.git_credential(abs, "fill", fill);
    assert_eq!(text(&out.stdout), want, "by path: {}", text(&out.stderr));

    // Control: without the binaries on PATH, the name does not resolve and
    // git falls back to prompting (disabled here), so the fill fails.
    let mut c = h.git("keyward", &["credential", "fill"]);
    c.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    let out = git_common::run_with_input(c, fill.as_bytes());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("credential-keyward"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn locked_vault_lets_git_fall_back_to_its_own_prompt() {
    let h = GitHome::new();
    let out = h.git_credential(
        "keyward",
        "approve",
        "protocol=https\nhost=locked.example\nusername=bob\npassword=stored\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lock = h
        .command(keyward_tests::bin("keyward"))
        .arg("lock")
        .output()
        .unwrap();
    assert!(lock.status.success(), "{}", text(&lock.stderr));

    let ask = h.askpass("ask-locked", "bob", "typed");
    let mut c = h.git("keyward", &["credential", "fill"]);
    c.env("GIT_ASKPASS", &ask.script);
    let out = git_common::run_with_input(c, b"protocol=https\nhost=locked.example\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "protocol=https\nhost=locked.example\nusername=bob\npassword=typed\n",
        "git asked the user instead"
    );
    assert_eq!(ask.prompts().len(), 2);
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.lines().collect::<Vec<_>>(),
        vec![format!(
            "git-credential-keyward: vault is locked: run `keyward unlock` ({})",
            h.home.vault_path().display()
        )],
        "exactly one line from the helper"
    );
}

/// `credential.helper = keyward --vault ~/work.vault` (as `credential-store
/// --file` takes its file): git passes the option before the action, the
/// shell expands `~`, and the credential goes to that vault, not the default.
#[test]
fn the_helper_takes_a_vault_path_from_credential_helper() {
    let h = GitHome::new();
    let work = h.path().join("vaults/work.vault");
    for args in [
        &[
            "--vault",
            work.to_str().unwrap(),
            "init",
            "--password-fd",
            "0",
        ][..],
        &[
            "--vault",
            work.to_str().unwrap(),
            "unlock",
            "--password-fd",
            "0",
        ],
    ] {
        let mut c = h.command(bin("keyward"));
        c.args(args);
        let out = run_with_input(c, b"work vault pw\n");
        assert!(
            out.status.success(),
            "keyward {args:?}: {}",
            text(&out.stderr)
        );
    }
    let helper = "keyward --vault ~/vaults/work.vault";
    let input = "protocol=https\nhost=work.example\nusername=me\npassword=work-token\n\n";
    let out = h.git_credential(helper, "approve", input);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = h.git_credential(helper, "fill", "protocol=https\nhost=work.example\n\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("password=work-token"),
        "{}",
        text(&out.stdout)
    );
    // The default vault does not have it: git finds nothing and may not prompt.
    let out = h.git_credential("keyward", "fill", "protocol=https\nhost=work.example\n\n");
    assert!(!out.status.success());
    assert!(!text(&out.stdout).contains("work-token"));
    // A bad option is a usage error, exit 2, nothing done.
    let mut c = h.command(bin("git-credential-keyward"));
    c.args(["--vault=", "get"]);
    let out = run_with_input(c, b"protocol=https\nhost=work.example\n\n");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let mut c = h.command(bin("keyward"));
    c.args(["--vault", work.to_str().unwrap(), "lock"]);
    run_with_input(c, b"");
}
