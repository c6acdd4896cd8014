//! docker-credential-keyward against a missing, locked, tampered or busy vault.

mod docker_common;
use docker_common::*;
use keyward_tests::{bin, TestHome};
use std::process::{Command, Output};

/// The helper with no controlling terminal (`setsid`) and nothing that would
/// disable prompting: the only reason it cannot prompt is that it has no tty.
fn helper_without_tty(vh: &VaultHome, action: &str, stdin: &[u8]) -> Output {
    let mut c: Command = vh.command("timeout");
    c.args(["-s", "KILL", "20", "setsid", "-w"])
        .arg(bin("docker-credential-keyward"))
        .arg(action)
        .env_remove("GIT_TERMINAL_PROMPT");
    run(&mut c, stdin)
}

const STORE: &[u8] =
    br#"{"ServerURL":"registry.example.com","Username":"u","Secret":"s3cret-token"}"#;

#[test]
fn locked_vault_fails_fast_telling_the_user_to_unlock() {
    require("setsid", "util-linux");
    let vh = VaultHome::unlocked();
    assert!(vh.helper("store", STORE).status.success());
    let out = run(vh.command(bin("keyward")).arg("lock"), b"");
    assert!(out.status.success(), "keyward lock: {}", text(&out.stderr));
    let before = std::fs::read(vh.home.vault_path()).unwrap();
    for (action, stdin) in [
        ("get", &b"registry.example.com"[..]),
        ("list", b""),
        ("store", STORE),
        ("erase", b"registry.example.com"),
    ] {
        let out = helper_without_tty(&vh, action, stdin);
        // 137 would mean `timeout` had to kill a hung helper.
        assert_eq!(out.status.code(), Some(1), "{action}: {out:?}");
        let msg = text(&out.stdout);
        assert!(
            msg.starts_with("docker-credential-keyward: vault is locked: run `keyward unlock`")
                && msg.ends_with('\n')
                && msg.lines().count() == 1,
            "{action}: {msg:?}"
        );
    }
    assert_eq!(std::fs::read(vh.home.vault_path()).unwrap(), before);
    // Unlocking again brings the credential back.
    let out = run(
        vh.command(bin("keyward"))
            .args(["unlock", "--password-fd", "0"]),
        format!("{VAULT_PASSWORD}\n").as_bytes(),
    );
    assert!(out.status.success());
    let out = vh.helper("get", b"registry.example.com");
    assert_eq!(
        text(&out.stdout),
        "{\"ServerURL\":\"registry.example.com\",\"Username\":\"u\",\"Secret\":\"s3cret-token\"}\n"
    );
}

#[test]
fn no_vault_yet_reads_as_empty_and_store_says_how_to_create_one() {
    let home = TestHome::new();
    let vh = VaultHome { home };
    assert_eq!(vh.list(), "{}\n");
    let out = vh.helper("get", b"docker.io");
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("credentials not found in native keychain\n", Some(1))
    );
    let out = vh.helper("erase", b"docker.io");
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("", Some(0))
    );
    let out = vh.helper("store", STORE);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "docker-credential-keyward: there is no keyward vault yet: run `keyward init` first\n"
    );
    assert!(!vh.home.vault_path().exists());
}

#[test]
fn tampered_vault_is_refused_on_stdout() {
    let vh = VaultHome::unlocked();
    assert!(vh.helper("store", STORE).status.success());
    let path = vh.home.vault_path();
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() - 20;
    bytes[mid] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    for (action, stdin) in [("get", &b"registry.example.com"[..]), ("list", b"")] {
        let out = vh.helper(action, stdin);
        assert_eq!(out.status.code(), Some(1), "{action}");
        assert!(
            text(&out.stdout).contains("vault is corrupted or was tampered with"),
            "{action}: {}",
            text(&out.stdout)
        );
        assert!(!text(&out.stdout).contains("s3cret"));
    }
}

#[test]
fn the_vault_file_holds_no_plaintext() {
    let vh = VaultHome::unlocked();
    assert!(vh.helper("store", STORE).status.success());
    let bytes = std::fs::read(vh.home.vault_path()).unwrap();
    for needle in [&b"s3cret-token"[..], b"registry.example.com"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{} in the vault file",
            String::from_utf8_lossy(needle)
        );
    }
}

#[test]
fn concurrent_stores_all_land() {
    let vh = VaultHome::unlocked();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let payload =
                format!(r#"{{"ServerURL":"r{i}.example","Username":"u{i}","Secret":"p{i}"}}"#);
            let mut c = vh.command(bin("docker-credential-keyward"));
            c.arg("store");
            std::thread::spawn(move || run(&mut c, payload.as_bytes()))
        })
        .collect();
    for c in children {
        let out = c.join().unwrap();
        assert!(out.status.success(), "{}", text(&out.stdout));
    }
    let want: Vec<String> = (0..8)
        .map(|i| format!("\"r{i}.example\":\"u{i}\""))
        .collect();
    assert_eq!(vh.list(), format!("{{{}}}\n", want.join(",")));
    for i in 0..8 {
        let out = vh.helper("get", format!("r{i}.example").as_bytes());
        assert!(text(&out.stdout).contains(&format!("\"Secret\":\"p{i}\"")));
    }
}

/// With a terminal, a locked vault asks for its password there (echo off),
/// answers, and caches the key so the next call without a terminal works.
#[test]
fn locked_vault_prompts_on_the_terminal_when_there_is_one() {
    require("expect", "expect");
    let vh = VaultHome::unlocked();
    assert!(vh.helper("store", STORE).status.success());
    assert!(run(vh.command(bin("keyward")).arg("lock"), b"")
        .status
        .success());
    let script = vh.path().join("prompt.exp");
    std::fs::write(
        &script,
        format!(
            r#"set timeout 20
spawn -noecho [lindex $argv 0] get
send "registry.example.com\r"
send "\004"
expect {{
    "keyward: password for vault" {{}}
    timeout {{ puts "NO PROMPT"; exit 2 }}
}}
# The prompt is printed before echo is turned off (with TCSAFLUSH, which
# drops input typed in between): wait until the terminal really has echo off.
set tty $spawn_out(slave,name)
for {{set i 0}} {{$i < 200}} {{incr i}} {{
    if {{[regexp {{(^|\s)-echo(\s|$)}} [exec stty -a < $tty]]}} break
    after 25
}}
send "{VAULT_PASSWORD}\r"
expect {{
    "\"Secret\":\"s3cret-token\"" {{}}
    timeout {{ puts "NO ANSWER"; exit 3 }}
}}
expect eof
catch wait result
exit [lindex $result 3]
"#
        ),
    )
    .unwrap();
    let mut c = vh.command("timeout");
    c.args(["-s", "KILL", "60", "expect", "-f"])
        .arg(&script)
        .arg(bin("docker-credential-keyward"))
        .env_remove("GIT_TERMINAL_PROMPT");
    let out = run(&mut c, b"");
    let seen = text(&out.stdout);
    assert!(out.status.success(), "expect: {seen}{}", text(&out.stderr));
    assert!(
        !seen.contains(VAULT_PASSWORD),
        "the password was echoed: {seen}"
    );
    // The key is cached now: no terminal needed.
    let out = helper_without_tty(&vh, "get", b"registry.example.com");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// git and docker records share the vault but never each other's answers.
#[test]
fn git_credentials_are_invisible_to_the_docker_helper() {
    let vh = VaultHome::unlocked();
    let git = |action: &str, input: &str| {
        run(
            vh.command(bin("git-credential-keyward")).arg(action),
            input.as_bytes(),
        )
    };
    let out = git(
        "store",
        "protocol=https\nhost=registry.example.com\nusername=gituser\npassword=git-secret\n\n",
    );
    assert!(out.status.success(), "git store: {}", text(&out.stderr));
    assert_eq!(vh.list(), "{}\n");
    let out = vh.helper("get", b"registry.example.com");
    assert_eq!(
        text(&out.stdout),
        "credentials not found in native keychain\n"
    );
    assert!(vh.helper("erase", b"registry.example.com").status.success());
    assert!(vh.helper("store", STORE).status.success());
    assert!(vh.helper("erase", b"registry.example.com").status.success());
    let out = git("get", "protocol=https\nhost=registry.example.com\n\n");
    assert!(
        text(&out.stdout).contains("password=git-secret\n"),
        "git lost its credential: {}",
        text(&out.stdout)
    );
}
