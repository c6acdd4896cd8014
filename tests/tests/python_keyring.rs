//! The Python keyring backend (`keyrings.keyward`, packaging/python) with
//! the real tools from PyPI (scripts/python-tools): pip (`--keyring-provider
//! import` and `subprocess`), twine and uv, against pypiserver on 127.0.0.1
//! with an htpasswd file that requires a password to list, download and
//! upload. The backend is installed the way the docs say (`pip install
//! ./packaging/python`, into a directory on `PYTHONPATH`) and chosen by
//! keyring's own entry-point discovery. Each test shows the tool working
//! with the password only in the vault, and failing once it is removed.
#![forbid(unsafe_code)]

mod py_common;
use keyward_tests::{target_dir, text, TestHome};
use py_common::{tool, venv, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

const VAULT_PASSWORD: &str = "correct horse battery staple";
const USER: &str = "alice";
const PASSWORD: &str = "hunter2 s3cret";

fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("keyward-python-")
            .tempdir()
            .unwrap()
    })
    .path()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\n{}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// `pip install ./packaging/python` into a directory (once per test run).
fn backend() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch().join("backend");
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/python");
        let out = Command::new(tool("pip"))
            .args(["install", "-q", "--disable-pip-version-check", "--no-deps"])
            .args(["--no-build-isolation", "--no-input", "--target"])
            .arg(&dir)
            .arg(&src)
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env_remove("PIP_FIND_LINKS")
            .output()
            .unwrap();
        ok(&out, "pip install ./packaging/python");
        dir
    })
}

/// The wheel of a one-module package `kwdemo` (`VALUE = 42`), built once.
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let src = scratch().join("kwdemo");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(
            src.join("pyproject.toml"),
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\
             [project]\nname = \"kwdemo\"\nversion = \"0.1\"\n[tool.setuptools]\npy-modules = [\"kwdemo\"]\n",
        )
        .unwrap();
        std::fs::write(src.join("kwdemo.py"), "VALUE = 42\n").unwrap();
        let dist = scratch().join("dist");
        let out = Command::new(tool("python"))
            .args(["-m", "build", "--wheel", "--no-isolation", "--outdir"])
            .arg(&dist)
            .arg(&src)
            .output()
            .unwrap();
        ok(&out, "python -m build");
        dist.join("kwdemo-0.1-py3-none-any.whl")
    })
}

/// A pypiserver requiring `alice`'s password for every action, and its
/// package directory.
fn pypiserver() -> (Server, PathBuf) {
    let server = Server::start("pypi-server", |port, dir| {
        let htpasswd = dir.join("htpasswd");
        let out = Command::new("htpasswd")
            .args(["-b", "-c", "-m"])
            .arg(&htpasswd)
            .args([USER, PASSWORD])
            .output()
            .expect("htpasswd (apache2-utils, scripts/test installs it)");
        ok(&out, "htpasswd");
        std::fs::create_dir_all(dir.join("packages")).unwrap();
        let mut c = Command::new(tool("pypi-server"));
        c.args(["run", "-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-a", "download,update,list", "-P"])
            .arg(&htpasswd)
            .arg(dir.join("packages"));
        c
    });
    let pkgs = server_dir(&server);
    (server, pkgs)
}

/// The package directory of the server (the last argument it was given).
fn server_dir(server: &Server) -> PathBuf {
    server.dir().join("packages")
}

/// A home with an unlocked vault, and commands that see the venv's tools,
/// `keyward`, the backend and a `keyring` command outside the venv's own
/// scripts directory (pip's subprocess provider skips the one beside it).
struct Py {
    h: TestHome,
    path: std::ffi::OsString,
}

impl Py {
    fn new() -> Py {
        let h = TestHome::new();
        h.init_unlocked_vault(VAULT_PASSWORD);
        let bin = h.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(tool("keyring"), bin.join("keyring")).unwrap();
        let mut dirs = vec![bin, target_dir(), venv().join("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let path = std::env::join_paths(dirs).unwrap();
        Py { h, path }
    }

    fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = self.h.command(program);
        c.env("PATH", &self.path)
            .env("PYTHONPATH", backend())
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("PIP_NO_INPUT", "1")
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("UV_NO_CONFIG", "1")
            .env("UV_CACHE_DIR", self.h.path().join(".cache/uv"))
            .stdin(Stdio::null());
        c
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.cmd(program).args(args).output().unwrap()
    }

    fn keyward(&self, args: &[&str], stdin: &str) -> Output {
        self.h.keyward(args, stdin)
    }

    /// `keyring set SERVICE USER` with the password on stdin, as a user types it.
    fn keyring_set(&self, service: &str) {
        let out = keyward_tests::output_with_stdin(
            self.cmd("keyring").args(["set", service, USER]),
            format!("{PASSWORD}\n").as_bytes(),
        );
        ok(&out, "keyring set");
    }

    /// `pip install kwdemo` into a fresh directory from the server; the
    /// directory on success.
    fn pip_install(&self, server: &Server, provider: &str, into: &str) -> (Output, PathBuf) {
        let target = self.h.path().join(into);
        let out = self
            .cmd("pip")
            .args(["install", "--no-cache-dir", "--keyring-provider", provider])
            .arg("--index-url")
            .arg(format!("http://127.0.0.1:{}/simple/", server.port))
            .arg("--target")
            .arg(&target)
            .arg("kwdemo")
            .output()
            .unwrap();
        (out, target)
    }

    /// `import kwdemo` from `dir` prints 42.
    fn imports(&self, dir: &Path) -> bool {
        let out = self
            .cmd(tool("python"))
            .args(["-c", "import kwdemo; print(kwdemo.VALUE)"])
            .env("PYTHONPATH", dir)
            .output()
            .unwrap();
        out.status.success() && text(&out.stdout) == "42\n"
    }
}

#[test]
fn keyring_chooses_the_keyward_backend_and_stores_in_the_vault() {
    let py = Py::new();
    let list = ok(
        &py.run("keyring", &["--list-backends"]),
        "keyring --list-backends",
    );
    assert!(
        list.contains("keyrings.keyward.KeywardKeyring (priority: 9)"),
        "{list}"
    );
    py.keyring_set("https://example.test/simple/");
    let names = ok(
        &py.keyward(&["list", "--json", "--kind", "secret"], ""),
        "list",
    );
    assert!(
        names.contains("\"python-keyring/https:+2F+2Fexample.test+2Fsimple+2F/alice\""),
        "{names}"
    );
    let got = ok(
        &py.run("keyring", &["get", "https://example.test/simple/", USER]),
        "get",
    );
    assert_eq!(got, format!("{PASSWORD}\n"));
    // No username: the one stored for the service.
    let creds = ok(
        &py.run(
            "keyring",
            &[
                "--mode=creds",
                "--output=json",
                "get",
                "https://example.test/simple/",
            ],
        ),
        "get creds",
    );
    let v: serde_json::Value = serde_json::from_str(&creds).unwrap();
    assert_eq!(
        (v["username"].as_str(), v["password"].as_str()),
        (Some(USER), Some(PASSWORD))
    );
    // Locked: keyring fails with keyward's hint.
    ok(&py.keyward(&["lock"], ""), "lock");
    let out = py.run("keyring", &["get", "https://example.test/simple/", USER]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("KeyringLocked: keyward: vault is locked"),
        "{}",
        text(&out.stderr)
    );
    ok(
        &py.keyward(
            &["unlock", "--password-fd", "0"],
            &format!("{VAULT_PASSWORD}\n"),
        ),
        "unlock",
    );
    ok(
        &py.run("keyring", &["del", "https://example.test/simple/", USER]),
        "del",
    );
    let out = py.run("keyring", &["get", "https://example.test/simple/", USER]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let names = ok(
        &py.keyward(&["list", "--json", "--kind", "secret"], ""),
        "list",
    );
    assert_eq!(names.trim(), "[]");
}

#[test]
fn pip_import_provider_installs_with_the_password_from_the_vault_only() {
    let (server, pkgs) = pypiserver();
    std::fs::copy(wheel(), pkgs.join("kwdemo-0.1-py3-none-any.whl")).unwrap();
    let py = Py::new();
    let netloc = format!("127.0.0.1:{}", server.port);
    py.keyring_set(&netloc);
    let (out, dir) = py.pip_install(&server, "import", "t1");
    ok(&out, "pip install --keyring-provider import");
    assert!(
        py.imports(&dir),
        "kwdemo not importable from {}",
        dir.display()
    );

    // Locked: pip says why and fails.
    ok(&py.keyward(&["lock"], ""), "lock");
    let (out, dir) = py.pip_install(&server, "import", "t2");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr)
            .contains("Keyring is skipped due to an exception: keyward: vault is locked"),
        "{}",
        text(&out.stderr)
    );
    assert!(!py.imports(&dir));
    ok(
        &py.keyward(
            &["unlock", "--password-fd", "0"],
            &format!("{VAULT_PASSWORD}\n"),
        ),
        "unlock",
    );

    // Removed: the server refuses pip.
    let name = format!("python-keyring/{netloc}/{USER}");
    ok(&py.keyward(&["rm", &name], ""), "rm");
    let (out, dir) = py.pip_install(&server, "import", "t3");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("No matching distribution found for kwdemo"),
        "{}",
        text(&out.stderr)
    );
    assert!(!py.imports(&dir));
}

#[test]
fn pip_subprocess_and_uv_ask_the_keyring_command() {
    let (server, pkgs) = pypiserver();
    std::fs::copy(wheel(), pkgs.join("kwdemo-0.1-py3-none-any.whl")).unwrap();
    let py = Py::new();
    // Stored with keyward itself under the documented name.
    let name = format!("python-keyring/127.0.0.1:{}/{USER}", server.port);
    ok(
        &py.keyward(
            &["set", &name, "--secret-fd", "0"],
            &format!("{PASSWORD}\n"),
        ),
        "set",
    );

    let (out, dir) = py.pip_install(&server, "subprocess", "t1");
    ok(&out, "pip install --keyring-provider subprocess");
    assert!(py.imports(&dir));

    // uv needs the user name in the URL for its keyring lookups.
    let uv = |into: &str| {
        let target = py.h.path().join(into);
        let out = py
            .cmd("uv")
            .args([
                "pip",
                "install",
                "--no-cache",
                "--keyring-provider",
                "subprocess",
            ])
            .arg("--python")
            .arg(tool("python"))
            .arg("--index-url")
            .arg(format!("http://{USER}@127.0.0.1:{}/simple/", server.port))
            .arg("--target")
            .arg(&target)
            .arg("kwdemo")
            .output()
            .unwrap();
        (out, target)
    };
    let (out, dir) = uv("u1");
    ok(&out, "uv pip install --keyring-provider subprocess");
    assert!(py.imports(&dir));

    ok(&py.keyward(&["rm", &name], ""), "rm");
    let (out, dir) = uv("u2");
    assert!(!out.status.success(), "{}", text(&out.stderr));
    assert!(!py.imports(&dir));
    let (out, dir) = py.pip_install(&server, "subprocess", "t2");
    assert!(!out.status.success());
    assert!(!py.imports(&dir));
}

#[test]
fn pypirc_import_then_twine_uploads_with_the_password_from_the_vault() {
    let (server, pkgs) = pypiserver();
    let py = Py::new();
    let pypirc = py.h.path().join(".pypirc");
    let repo = format!("http://127.0.0.1:{}/", server.port);
    std::fs::write(
        &pypirc,
        format!(
            "[distutils]\nindex-servers =\n    local\n    pypi\n\n[local]\nrepository = {repo}\nusername = {USER}\npassword = {PASSWORD}\n\n[pypi]\nusername = __token__\n"
        ),
    )
    .unwrap();
    let out = py.keyward(&["import", "pypirc", "--remove-plaintext"], "");
    let said = ok(&out, "import pypirc");
    assert!(
        said.starts_with(&format!(
            "{}: 1 index server(s) with a password: 1 added, 0 replaced, 0 skipped",
            pypirc.display()
        )),
        "{said}"
    );
    let after = std::fs::read_to_string(&pypirc).unwrap();
    assert!(!after.contains(PASSWORD), "{after}");
    assert!(after.contains(&format!("username = {USER}\n")), "{after}");
    let backup = py.h.path().join(".pypirc.keyward-backup");
    assert!(std::fs::read_to_string(backup).unwrap().contains(PASSWORD));

    let twine = |wheel: &Path| {
        py.cmd("twine")
            .args([
                "upload",
                "--non-interactive",
                "--disable-progress-bar",
                "-r",
                "local",
            ])
            .arg(wheel)
            .output()
            .unwrap()
    };
    ok(&twine(wheel()), "twine upload");
    assert!(pkgs.join("kwdemo-0.1-py3-none-any.whl").exists());
    // The server lists it to whoever has the password, and pip installs it.
    py.keyring_set(&format!("127.0.0.1:{}", server.port));
    let (out, dir) = py.pip_install(&server, "import", "t1");
    ok(&out, "pip install of the upload");
    assert!(py.imports(&dir));

    // Without the password in the vault twine has none.
    ok(
        &py.keyward(
            &[
                "rm",
                &format!(
                    "python-keyring/http:+2F+2F127.0.0.1:{}+2F/{USER}",
                    server.port
                ),
            ],
            "",
        ),
        "rm",
    );
    let out = twine(wheel());
    assert!(!out.status.success());
    // twine prints its errors (through rich) on stdout or stderr.
    let said = text(&out.stdout) + &text(&out.stderr);
    assert!(said.contains("Credential not found for password"), "{said}");
}

#[test]
fn netrc_import_moves_the_machine_and_pip_finds_it_through_the_keyring() {
    let (server, pkgs) = pypiserver();
    std::fs::copy(wheel(), pkgs.join("kwdemo-0.1-py3-none-any.whl")).unwrap();
    let py = Py::new();
    let netrc = py.h.path().join(".netrc");
    std::fs::write(
        &netrc,
        format!("machine other.test login bob\nmachine 127.0.0.1 login {USER} password \"{PASSWORD}\"\nmacdef init\nls\n\n"),
    )
    .unwrap();
    std::fs::set_permissions(&netrc, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    // pip reads netrc itself (through requests) before the import...
    let (out, dir) = py.pip_install(&server, "disabled", "t0");
    ok(&out, "pip install with netrc");
    assert!(py.imports(&dir));

    let said = ok(
        &py.keyward(&["import", "netrc", "--remove-plaintext"], ""),
        "import netrc",
    );
    assert!(
        said.starts_with(&format!(
            "{}: 1 machine(s) with a password: 1 added, 0 replaced, 0 skipped",
            netrc.display()
        )),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&netrc).unwrap(),
        "machine other.test login bob\nmacdef init\nls\n\n"
    );
    // ...and after it, without the keyring, pip has no password...
    let (out, _) = py.pip_install(&server, "disabled", "t1");
    assert!(!out.status.success());
    // ...and with it, the machine's password from the vault (the host,
    // as netrc keeps it, for the index's host:port).
    let (out, dir) = py.pip_install(&server, "import", "t2");
    ok(&out, "pip install through the keyring");
    assert!(py.imports(&dir));
}
