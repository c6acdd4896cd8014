//! Unattended jobs (issue 15, docs/slots.md "Unattended jobs"): a cron job
//! and a systemd user unit that use git and docker credentials from a
//! locked vault with a tpm2 slot, through `keyward unlock
//! --non-interactive`, with nobody to type anything.
//!
//! The servers are real and local: a smart-HTTP git server behind Basic auth
//! and a docker registry (distribution) behind htpasswd, both on 127.0.0.1;
//! git pulls with `credential.helper = keyward`, skopeo (containers/image,
//! the docker credential-helper protocol) inspects an image with
//! `credHelpers` naming keyward; the TPM is swtpm, named by `tpm2_tcti` in
//! the user's configuration (no KEYWARD_TPM2_TCTI in a job's environment).
//!
//! The cron line runs as cron runs it: `/bin/sh -c LINE` in a new session
//! (no terminal), stdin from /dev/null, cron's environment (HOME, LOGNAME,
//! SHELL=/bin/sh, PATH). systemd is not the service manager of the test
//! machine, so the unit is checked by `systemd-analyze verify --user` and its
//! `ExecStartPre=`/`ExecStart=` lines run in order as a oneshot service runs
//! them (specifiers expanded, the manager's environment, stop at the first
//! failure).

mod docker_common;
mod git_common;

use docker_common::{oci_image, require, Registry, VaultHome};
use git_common::GitServer;
use keyward_tests::swtpm::Swtpm;
use keyward_tests::{bin, output_with_stdin, target_dir, text};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const REG_USER: &str = "ci";
const REG_PW: &str = "registry-pw-8c1f";
const GIT_USER: &str = "ci";
const GIT_PW: &str = "git-token-3e7a";

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// PATH of a job on a machine where keyward is installed: the built
/// binaries stand in for /usr/bin's.
fn job_path() -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", target_dir().display())
}

/// `sh -c LINE` as cron runs a crontab line for the user whose home is
/// `home`.
fn cron(home: &Path, line: &str) -> Output {
    let mut c = Command::new("setsid");
    c.args(["-w", "/bin/sh", "-c", line])
        .env_clear()
        .env("HOME", home)
        .env("LOGNAME", whoami())
        .env("SHELL", "/bin/sh")
        .env("PATH", job_path())
        .stdin(Stdio::null());
    c.output().unwrap()
}

fn whoami() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    text(&out.stdout).trim().to_string()
}

/// Runs a oneshot unit's command lines as systemd does: `ExecStartPre=`
/// then `ExecStart=` lines in order, `%h` expanded, the unit's
/// `Environment=` over the user manager's, stdin from /dev/null, no
/// terminal; stops at the first failing line. Returns each line's output.
fn run_unit(unit: &str, home: &Path) -> Vec<(String, Output)> {
    let mut env: Vec<(String, String)> = vec![
        ("HOME".into(), home.display().to_string()),
        ("USER".into(), whoami()),
        ("LOGNAME".into(), whoami()),
        ("SHELL".into(), "/bin/sh".into()),
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
    ];
    let expand = |s: &str| s.replace("%h", &home.display().to_string());
    let mut pre = Vec::new();
    let mut main = Vec::new();
    for line in unit.lines() {
        if let Some(v) = line.strip_prefix("Environment=") {
            let (k, v) = v.split_once('=').unwrap();
            env.retain(|(name, _)| name != k);
            env.push((k.to_string(), expand(v)));
        } else if let Some(cmd) = line.strip_prefix("ExecStartPre=") {
            pre.push(expand(cmd));
        } else if let Some(cmd) = line.strip_prefix("ExecStart=") {
            main.push(expand(cmd));
        }
    }
    let mut ran = Vec::new();
    for cmd in pre.into_iter().chain(main) {
        let argv: Vec<&str> = cmd.split_whitespace().collect();
        let mut c = Command::new("setsid");
        c.arg("-w")
            .args(&argv)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        let out = c.output().unwrap();
        let failed = !out.status.success();
        ran.push((cmd, out));
        if failed {
            break;
        }
    }
    ran
}

/// The git server served the job an authenticated request.
fn assert_authenticated(git: &GitServer, before: usize) {
    let served = git.requests();
    let ours = format!(" 200 {GIT_USER}");
    assert!(
        served[before..].iter().any(|r| r.ends_with(&ours)),
        "no authenticated request from the job: {:?}",
        &served[before..]
    );
}

#[test]
fn a_cron_job_and_a_systemd_user_unit_use_git_and_docker_credentials_through_a_tpm2_slot() {
    for (tool, pkg) in [
        ("skopeo", "skopeo"),
        ("setsid", "util-linux"),
        ("systemd-analyze", "systemd"),
        ("gzip", "gzip"),
    ] {
        require(tool, pkg);
    }
    let tpm = Swtpm::start();
    let reg = Registry::start(REG_USER, REG_PW);
    let git = GitServer::start(GIT_USER, GIT_PW);
    let vh = VaultHome::unlocked();
    let home = vh.path().to_path_buf();

    // The user's set-up, done once at a terminal: the TPM in the
    // configuration, git and skopeo pointed at keyward, both credentials
    // stored, a tpm2 slot.
    let conf = home.join(".config/keyward/config.toml");
    let tables = std::fs::read_to_string(&conf).unwrap();
    let top = format!("tpm2_tcti = \"{}\"\n", tpm.tcti());
    std::fs::write(&conf, top + &tables).unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        "[credential]\n\thelper = keyward\n",
    )
    .unwrap();
    let authfile = home.join("auth.json");
    std::fs::write(
        &authfile,
        format!(r#"{{"credHelpers":{{"{}":"keyward"}}}}"#, reg.addr),
    )
    .unwrap();
    let store = format!(
        r#"{{"ServerURL":"{}","Username":"{REG_USER}","Secret":"{REG_PW}"}}"#,
        reg.addr
    );
    ok(&vh.helper("store", store.as_bytes()), "docker helper store");
    let mut c = vh.command(bin("git-credential-keyward"));
    c.arg("store");
    let cred = format!(
        "protocol=http\nhost=127.0.0.1:{}\nusername={GIT_USER}\npassword={GIT_PW}\n",
        git.port
    );
    ok(
        &output_with_stdin(&mut c, cred.as_bytes()),
        "git helper store",
    );
    let image = oci_image(&home, "v1");
    let dest = format!("docker://{}/keyward/hello:v1", reg.addr);
    let mut c = vh.command("skopeo");
    c.args(["copy", "--dest-tls-verify=false", "--authfile"])
        .arg(&authfile)
        .arg(format!("oci:{}:v1", image.dir.display()))
        .arg(&dest);
    ok(&output_with_stdin(&mut c, b""), "skopeo copy");
    let mut c = vh.command("git");
    c.args(["clone", "-q", &git.url()]).arg(home.join("app"));
    ok(&output_with_stdin(&mut c, b""), "git clone");
    let mut c = vh.command(bin("keyward"));
    c.args(["enroll", "tpm2"])
        .env("KEYWARD_TPM2_TCTI", tpm.tcti());
    ok(&output_with_stdin(&mut c, b""), "enroll tpm2");
    let lock = || {
        let mut c = vh.command(bin("keyward"));
        c.arg("lock");
        ok(&output_with_stdin(&mut c, b""), "lock");
    };
    lock();

    // The cron job of docs/slots.md, with skopeo standing in for docker.
    let job = format!(
        "keyward unlock --non-interactive --timeout 5m && cd ~/app && git pull -q && \
         skopeo inspect --tls-verify=false --authfile ~/auth.json {dest} >/dev/null && echo JOB-OK"
    );
    let before = git.requests().len();
    let out = cron(&home, &job);
    let said = ok(&out, "cron job");
    assert!(
        said.starts_with("unlocked ")
            && said.contains("without typing")
            && said.ends_with("\nJOB-OK\n"),
        "{said}{}",
        text(&out.stderr)
    );
    assert_authenticated(&git, before);

    // The systemd user unit of docs/slots.md, the same way.
    lock();
    let unit = format!(
        "[Unit]\n\
         Description=Pull the repositories with credentials from keyward\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         Environment=PATH={path}\n\
         ExecStartPre={kw} unlock --non-interactive --timeout 5m\n\
         ExecStart=/usr/bin/git -C %h/app pull -q\n\
         ExecStart=/usr/bin/skopeo inspect --tls-verify=false --authfile %h/auth.json {dest}\n",
        path = job_path(),
        kw = bin("keyward").display(),
    );
    let units = home.join(".config/systemd/user");
    std::fs::create_dir_all(&units).unwrap();
    let unit_file = units.join("keyward-sync.service");
    std::fs::write(&unit_file, &unit).unwrap();
    let runtime = tempfile::tempdir().unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--user"])
        .arg(&unit_file)
        .env("HOME", &home)
        .env("XDG_RUNTIME_DIR", runtime.path())
        .output()
        .unwrap();
    ok(&out, "systemd-analyze verify --user");
    let before = git.requests().len();
    let ran = run_unit(&unit, &home);
    assert_eq!(ran.len(), 3, "not every line ran");
    for (cmd, out) in &ran {
        ok(out, cmd);
    }
    assert_authenticated(&git, before);
    let inspect = text(&ran[2].1.stdout);
    assert!(inspect.contains("\"Digest\""), "{inspect}");

    // Without the TPM the job stops at the unlock: exit 10, one line, no
    // prompt, and neither git nor skopeo is run.
    lock();
    drop(tpm);
    let before = git.requests().len();
    let out = cron(&home, &job);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("JOB-OK"));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no TPM reachable"), "{err}");
    assert_eq!(git.requests().len(), before);
}
