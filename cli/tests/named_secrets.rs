//! Named secrets (`keyward set|get|rm NAME`, `list`) and `keyward generate`,
//! as transcripts in throwaway homes.

use keyward_tests::{bin, have, ok_stdout as ok, text, TestHome};
use std::process::Output;

fn fails(out: &Output, code: i32, says: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(says), "stderr {err:?} lacks {says:?}");
    err
}

const VALUE: &str = "s3cret value with spaces & ünïcode";

#[test]
fn set_get_list_rm() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let out = h.keyward(
        &["set", "restic/backup-1", "--secret-fd", "0"],
        &format!("{VALUE}\n"),
    );
    assert_eq!(ok(&out), "stored secret restic/backup-1\n");
    // The value and one newline, nothing else.
    assert_eq!(
        ok(&h.keyward(&["get", "restic/backup-1"], "")),
        format!("{VALUE}\n")
    );

    // Replacing keeps one record.
    ok(&h.keyward(&["set", "restic/backup-1", "--secret-fd", "0"], "v2\n"));
    assert_eq!(ok(&h.keyward(&["get", "restic/backup-1"], "")), "v2\n");

    // Listed by name only.
    let table = ok(&h.keyward(&["list"], ""));
    assert!(table.contains("secret") && table.contains("restic/backup-1"));
    let json: serde_json::Value =
        serde_json::from_str(&ok(&h.keyward(&["list", "--json"], ""))).unwrap();
    let arr = json.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    let mut keys: Vec<&str> = arr[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(keys, ["created", "kind", "name", "updated"]);
    assert_eq!(arr[0]["name"], "restic/backup-1");
    assert_eq!(arr[0]["kind"], "secret");
    assert_eq!(
        ok(&h.keyward(&["list", "--json", "--kind", "git"], "")).trim(),
        "[]"
    );

    assert_eq!(
        ok(&h.keyward(&["rm", "restic/backup-1"], "")),
        "removed 1 record(s)\n"
    );
    fails(
        &h.keyward(&["get", "restic/backup-1"], ""),
        7,
        "no secret named restic/backup-1",
    );
}

#[test]
fn errors_never_echo_the_value() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    for name in ["", "a b", "../x", "a//b", "x/"] {
        let out = h.keyward(&["set", name, "--secret-fd", "0"], &format!("{VALUE}\n"));
        let err = fails(&out, 1, "bad secret name");
        assert!(!err.contains("s3cret"), "{err}");
    }
    // Empty secrets are refused; nothing is stored.
    fails(
        &h.keyward(&["set", "x", "--secret-fd", "0"], "\n"),
        1,
        "empty",
    );
    assert_eq!(ok(&h.keyward(&["list", "--json"], "")).trim(), "[]");
    // A closed descriptor.
    fails(
        &h.keyward(&["set", "x", "--secret-fd", "9"], ""),
        1,
        "--secret-fd 9",
    );
}

#[test]
fn get_on_a_locked_vault_fails_fast_without_a_terminal() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "a", "--secret-fd", "0"], "v\n"));
    ok(&h.keyward(&["lock"], ""));
    let t = std::time::Instant::now();
    let out = h.keyward(&["get", "a"], "");
    fails(&out, 4, "keyward unlock");
    assert!(out.stdout.is_empty());
    assert!(t.elapsed().as_secs() < 5);
}

#[test]
fn get_on_a_locked_vault_prompts_on_a_terminal_and_set_asks_twice() {
    assert!(
        have("expect"),
        "expect is not installed (scripts/test installs it)"
    );
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let run = |script: &str| {
        let mut c = h.command("expect");
        c.env_remove("GIT_TERMINAL_PROMPT")
            .env("KW", bin("keyward"))
            .args(["-c", script]);
        c.output().unwrap()
    };
    let out = run(r#"set timeout 10
spawn $env(KW) set db/pw
expect "Secret for db/pw: " { sleep 0.3; send "typed value\r" } timeout { exit 10 }
expect "Repeat it: " { sleep 0.3; send "typed value\r" } timeout { exit 11 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#);
    assert!(out.status.success(), "{}", text(&out.stdout));
    ok(&h.keyward(&["lock"], ""));
    let out = run(r#"set timeout 10
spawn $env(KW) get db/pw
expect "password for vault" { sleep 0.3; send "pw\r" } timeout { exit 10 }
expect "typed value" {} timeout { exit 11 }
expect eof {} timeout { exit 13 }
lassign [wait] pid spawnid os code
exit $code"#);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // The prompt cached the key, as the git helper's does.
    assert_eq!(ok(&h.keyward(&["get", "db/pw"], "")), "typed value\n");
}

#[test]
fn named_secrets_live_beside_git_records() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let git = |action: &str, input: &str| {
        keyward_tests::output_with_stdin(
            h.command(bin("git-credential-keyward")).arg(action),
            input.as_bytes(),
        )
    };
    let cred = "protocol=https\nhost=restic\nusername=u\npassword=gitpw\n";
    assert!(git("store", cred).status.success());
    ok(&h.keyward(&["set", "restic", "--secret-fd", "0"], "named\n"));
    // A git lookup for host `restic` never sees the named secret, and back.
    let got = git("get", "protocol=https\nhost=restic\n");
    assert_eq!(text(&got.stdout), "username=u\npassword=gitpw\n");
    assert_eq!(ok(&h.keyward(&["get", "restic"], "")), "named\n");
    // `rm --kind secret` leaves the git record.
    ok(&h.keyward(&["rm", "restic", "--kind", "secret"], ""));
    assert_eq!(
        text(&git("get", "protocol=https\nhost=restic\n").stdout),
        "username=u\npassword=gitpw\n"
    );
}

#[test]
fn generate_prints_only_with_print_and_stores_what_it_printed() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let out = h.keyward(&["generate", "svc/a"], "");
    let said = ok(&out);
    assert!(
        said.starts_with("generated svc/a: 22 characters of alnum (131 bits)"),
        "{said}"
    );
    let value = ok(&h.keyward(&["get", "svc/a"], ""));
    assert!(!said.contains(value.trim()));
    let v = value.trim_end_matches('\n');
    assert_eq!(v.len(), 22);
    assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));

    let out = h.keyward(
        &[
            "generate",
            "svc/b",
            "--charset",
            "hex",
            "--length",
            "40",
            "--print",
        ],
        "",
    );
    let printed = ok(&out);
    assert_eq!(printed.len(), 41);
    assert!(printed.trim_end().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(ok(&h.keyward(&["get", "svc/b"], "")), printed);
    assert!(text(&out.stderr).contains("40 characters of hex (160 bits)"));

    let words = ok(&h.keyward(&["generate", "svc/c", "--words", "--print"], ""));
    assert_eq!(words.trim_end().split(' ').count(), 7, "{words}");
}

#[test]
fn generate_refuses_weak_secrets_unless_asked() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    for (i, (args, need)) in [
        (&["--length", "13"][..], "--length 14"),
        (&["--charset", "hex", "--length", "19"], "--length 20"),
        (&["--charset", "base32", "--length", "15"], "--length 16"),
        (&["--charset", "ascii", "--length", "12"], "--length 13"),
        (&["--words", "--length", "6"], "--length 7"),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("weak/{i}");
        let mut a = vec!["generate", name.as_str()];
        a.extend_from_slice(args);
        fails(&h.keyward(&a, ""), 1, need);
        a.push("--weak");
        ok(&h.keyward(&a, ""));
    }
    fails(
        &h.keyward(&["generate", "x", "--length", "0"], ""),
        1,
        "--length must be",
    );
    fails(
        &h.keyward(&["generate", "x", "--charset", "emoji"], ""),
        2,
        "expected alnum",
    );
}

#[test]
fn generate_rotates_keeping_the_previous_value() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    ok(&h.keyward(&["set", "db/pw", "--secret-fd", "0"], "old\n"));
    fails(
        &h.keyward(&["get", "db/pw", "--previous"], ""),
        7,
        "keeps no previous value",
    );
    let out = h.keyward(&["generate", "db/pw", "--print"], "");
    let new = ok(&out);
    assert!(text(&out.stderr).contains("the old value is kept"));
    assert_eq!(ok(&h.keyward(&["get", "db/pw"], "")), new);
    assert_eq!(ok(&h.keyward(&["get", "db/pw", "--previous"], "")), "old\n");
    // A second rotation would lose "old": refused unless asked.
    fails(
        &h.keyward(&["generate", "db/pw"], ""),
        1,
        "keyward rm db/pw --previous",
    );
    assert_eq!(ok(&h.keyward(&["get", "db/pw", "--previous"], "")), "old\n");
    ok(&h.keyward(&["generate", "db/pw", "--replace-previous"], ""));
    assert_eq!(ok(&h.keyward(&["get", "db/pw", "--previous"], "")), new);
    assert_eq!(
        ok(&h.keyward(&["rm", "db/pw", "--previous"], "")),
        "removed the previous value of db/pw\n"
    );
    fails(
        &h.keyward(&["get", "db/pw", "--previous"], ""),
        7,
        "keeps no previous value",
    );
    fails(
        &h.keyward(&["rm", "db/pw", "--previous"], ""),
        7,
        "keeps no previous value",
    );
    assert!(!ok(&h.keyward(&["get", "db/pw"], "")).is_empty());
}
