//! `keyward exec --env VAR=NAME -- CMD`: CMD (a `gh`-like script, the real
//! npm reading `${NPM_TOKEN}` from `.npmrc` against a local registry) gets the
//! named secret in its environment; keyward's parent, CMD's command line and
//! keyward's error messages never hold it; a locked vault is unlocked on a
//! terminal for that one command without caching the key, and fails fast
//! without one.
#![forbid(unsafe_code)]

use keyward_tests::{bin, have, output_with_stdin, text, TestHome};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PW: &str = "correct horse battery staple";
const GH_TOKEN: &str = "ghp_kwTestS3cretToken";

fn home_with(name: &str, value: &str) -> TestHome {
    let h = TestHome::new();
    h.init_unlocked_vault(PW);
    let out = h.keyward(&["set", name, "--secret-fd", "0"], &format!("{value}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    h
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn both(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

#[test]
fn gh_like_tool_sees_the_token_and_nothing_else_does() {
    let h = home_with("github/token", GH_TOKEN);
    // The token to compare with comes from a file, not the environment.
    std::fs::write(h.path().join("expected"), GH_TOKEN).unwrap();
    // `gh`: says whether GH_TOKEN is the token, whether its parent (the
    // shell that ran keyward) has a GH_TOKEN, and whether the token is on
    // its own command line.
    let gh = script(
        h.path(),
        "gh",
        r#"#!/bin/sh
if [ "$GH_TOKEN" = "$(cat "$HOME/expected")" ]; then echo "GH_TOKEN matches"; else echo "GH_TOKEN differs"; fi
if tr '\0' '\n' < /proc/$PPID/environ | grep -q '^GH_TOKEN='; then echo "parent has GH_TOKEN"; else echo "parent has no GH_TOKEN"; fi
if tr '\0' '\n' < /proc/$$/cmdline | grep -qF "$GH_TOKEN"; then echo "token in argv"; else echo "argv clean"; fi
echo "args: $*"
exit 3
"#,
    );
    let out = output_with_stdin(
        h.command("sh").arg("-c").arg(format!(
            "{} exec --env GH_TOKEN=github/token -- {} api user --flag; echo \"keyward exit $?\"; echo \"shell GH_TOKEN: ${{GH_TOKEN:-unset}}\"",
            bin("keyward").display(),
            gh.display()
        )),
        b"",
    );
    assert_eq!(
        text(&out.stdout),
        "GH_TOKEN matches\nparent has no GH_TOKEN\nargv clean\nargs: api user --flag\nkeyward exit 3\nshell GH_TOKEN: unset\n",
        "{}",
        both(&out)
    );
    assert!(out.stderr.is_empty(), "{}", both(&out));

    // A variable keyward sets replaces an inherited one; others pass through.
    let out = output_with_stdin(
        h.command(bin("keyward"))
            .args(["exec", "-e", "GH_TOKEN=github/token", "--", "sh", "-c"])
            .arg("[ \"$GH_TOKEN\" = \"$(cat \"$HOME/expected\")\" ] && echo \"$KEEP\"")
            .env("GH_TOKEN", "stale")
            .env("KEEP", "kept"),
        b"",
    );
    assert_eq!(text(&out.stdout), "kept\n", "{}", both(&out));
}

#[test]
fn errors_name_the_secret_never_its_value_and_run_nothing() {
    let h = home_with("github/token", GH_TOKEN);
    let marker = h.path().join("ran");
    let touch = format!("touch {}", marker.display());
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["--env", "GH_TOKEN=github/nope"],
            7,
            "no secret named github/nope",
        ),
        (&["--env", "GH_TOKEN"], 2, "expected VAR=NAME"),
        (
            &["--env", "GH-TOKEN=github/token"],
            2,
            "the variable name must be",
        ),
        (
            &["--env", "A=github/token,A=github/token"],
            2,
            "given twice",
        ),
        (&["--env", "A=../x"], 1, "bad secret name"),
    ];
    for (args, code, msg) in cases {
        let out = output_with_stdin(
            h.command(bin("keyward"))
                .arg("exec")
                .args(*args)
                .args(["--", "sh", "-c", &touch]),
            b"",
        );
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", both(&out));
        let err = text(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(!err.contains(GH_TOKEN) && out.stdout.is_empty(), "{err}");
        assert!(!marker.exists(), "{args:?} ran the command");
    }
    let out = output_with_stdin(
        h.command(bin("keyward")).args([
            "exec",
            "--env",
            "T=github/token",
            "--",
            "kw-no-such-command",
        ]),
        b"",
    );
    assert_eq!(out.status.code(), Some(127), "{}", both(&out));
    assert!(text(&out.stderr).contains("cannot run kw-no-such-command"));
    assert!(!text(&out.stderr).contains(GH_TOKEN));

    // Locked, no terminal: fails at once with the hint, runs nothing.
    assert!(h.keyward(&["lock"], "").status.success());
    let start = Instant::now();
    let out = output_with_stdin(
        h.command(bin("keyward")).args([
            "exec",
            "--env",
            "T=github/token",
            "--",
            "sh",
            "-c",
            &touch,
        ]),
        b"",
    );
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    assert!(
        text(&out.stderr).contains("keyward unlock"),
        "{}",
        both(&out)
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!marker.exists());
}

#[test]
fn locked_vault_asks_on_the_terminal_for_one_command_and_caches_nothing() {
    assert!(
        have("expect"),
        "expect is not installed (scripts/test installs it)"
    );
    let h = home_with("github/token", GH_TOKEN);
    std::fs::write(h.path().join("expected"), GH_TOKEN).unwrap();
    assert!(h.keyward(&["lock"], "").status.success());
    let expect = r#"
log_user 1
spawn $env(KW) exec --env GH_TOKEN=github/token -- sh -c {[ "$GH_TOKEN" = "$(cat "$HOME/expected")" ] && echo TOKEN-MATCHES}
expect "password for vault" { send "$env(PW)\r" } timeout { exit 10 }
expect "TOKEN-MATCHES" {} timeout { exit 11 }
expect eof
"#;
    let out = h
        .command("expect")
        .env_remove("GIT_TERMINAL_PROMPT")
        .env("KW", bin("keyward"))
        .env("PW", PW)
        .args(["-c", expect])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let status = h.keyward(&["status"], "");
    assert!(
        text(&status.stdout).contains("state: locked"),
        "{}",
        both(&status)
    );
}

/// whoami.py on 127.0.0.1, killed on drop.
struct Whoami {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Whoami {
    fn start(token: &str) -> Whoami {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), token).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/exec_common/whoami.py");
        // Killed and reaped on drop, also when it fails to start.
        let mut w = Whoami {
            child: Command::new("timeout")
                .args(["-s", "KILL", "300", "setpriv", "--pdeathsig", "KILL", "--"])
                .arg("/usr/bin/python3")
                .arg(script)
                .args(["token", "port"])
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .spawn()
                .unwrap(),
            port: 0,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(p) = std::fs::read_to_string(w.dir.path().join("port")) {
                w.port = p.trim().parse().unwrap();
                return w;
            }
            assert!(w.child.try_wait().unwrap().is_none(), "whoami.py exited");
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("whoami.py did not start");
    }
}

impl Drop for Whoami {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn npm_reads_the_token_from_npmrc() {
    assert!(
        have("npm"),
        "npm is not installed (scripts/test installs it)"
    );
    const NPM_TOKEN: &str = "npm_kwTestS3cretToken";
    let server = Whoami::start(NPM_TOKEN);
    let h = home_with("npm/local", NPM_TOKEN);
    let registry = format!("http://127.0.0.1:{}/", server.port);
    std::fs::write(
        h.path().join(".npmrc"),
        format!(
            "registry={registry}\n//127.0.0.1:{}/:_authToken=${{NPM_TOKEN}}\nupdate-notifier=false\n",
            server.port
        ),
    )
    .unwrap();
    let npm = |wrap: bool| {
        let mut c = h.command("timeout");
        c.args(["-s", "KILL", "120"]);
        if wrap {
            c.arg(bin("keyward"))
                .args(["exec", "--env", "NPM_TOKEN=npm/local", "--"]);
        }
        c.args(["npm", "whoami", "--registry", &registry]);
        output_with_stdin(&mut c, b"")
    };
    let out = npm(true);
    assert!(out.status.success(), "{}", both(&out));
    assert_eq!(text(&out.stdout), "kw-npm-user\n");
    // Without keyward, npm has no NPM_TOKEN: it fails.
    let out = npm(false);
    assert!(!out.status.success(), "{}", both(&out));
    // A wrong token in the vault: the registry refuses it.
    let out = h.keyward(&["set", "npm/local", "--secret-fd", "0"], "npm_wrong\n");
    assert!(out.status.success());
    let out = npm(true);
    assert!(!out.status.success(), "{}", both(&out));
    assert!(text(&out.stderr).contains("401"), "{}", both(&out));
}
