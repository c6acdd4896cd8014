//! Runs the git protocol transcripts in `tests/transcripts/git/*.t` (format:
//! `tests/transcripts/git/README.md`) against the built `git-credential-keyward`,
//! each file in its own throwaway HOME and vault.
#![forbid(unsafe_code)]

mod git_vaultctl;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const HELPER: &str = env!("CARGO_BIN_EXE_git-credential-keyward");

#[derive(Debug)]
enum Step {
    Run {
        line: usize,
        args: Vec<String>,
        input: Vec<u8>,
        exit: i32,
        stderr: Vec<String>,
        stdout: Vec<u8>,
    },
    Lock,
    Unlock,
    Tamper,
    /// `$ @docker HOST USER PASSWORD`: a docker entry, as the docker helper stores it.
    Docker(String, String, String),
    /// `$ @count-docker N`: the vault holds N docker entries.
    CountDocker(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Initial {
    Unlocked,
    Locked,
    None,
}

#[derive(Debug)]
struct Transcript {
    initial: Initial,
    steps: Vec<Step>,
}

/// `{NUL}`, `{CR}`, `{xHH}`, `{REPEAT n c}`; everything else verbatim.
fn expand(line: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.extend_from_slice(&rest.as_bytes()[..open]);
        let after = &rest[open..];
        let close = after.find('}');
        let token = close.map(|c| &after[1..c]);
        let consumed = match token {
            Some("NUL") => {
                out.push(0);
                true
            }
            Some("CR") => {
                out.push(b'\r');
                true
            }
            Some(t) if t.starts_with('x') && t.len() == 3 => {
                match u8::from_str_radix(&t[1..], 16) {
                    Ok(b) => {
                        out.push(b);
                        true
                    }
                    Err(_) => false,
                }
            }
            Some(t) if t.starts_with("REPEAT ") => {
                let mut parts = t.split(' ').skip(1);
                let n: usize = parts.next().unwrap().parse().expect("REPEAT count");
                let c = parts.next().expect("REPEAT character");
                for _ in 0..n {
                    out.extend_from_slice(c.as_bytes());
                }
                true
            }
            _ => false,
        };
        if consumed {
            rest = &after[close.unwrap() + 1..];
        } else {
            out.push(b'{');
            rest = &after[1..];
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

fn text_line(line: &str) -> Vec<u8> {
    match line.strip_suffix("{NOEOL}") {
        Some(l) => expand(l),
        None => {
            let mut v = expand(line);
            v.push(b'\n');
            v
        }
    }
}

fn parse(text: &str) -> Transcript {
    let lines: Vec<&str> = text.lines().collect();
    let mut t = Transcript {
        initial: Initial::Unlocked,
        steps: Vec::new(),
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(v) = line.strip_prefix("@vault ") {
            t.initial = match v.trim() {
                "unlocked" => Initial::Unlocked,
                "locked" => Initial::Locked,
                "none" => Initial::None,
                other => panic!("unknown @vault {other}"),
            };
            continue;
        }
        let Some(cmd) = line.strip_prefix('$') else {
            panic!("line {i}: expected `$ ARGS`, found {line:?}");
        };
        let cmd = cmd.trim();
        match cmd {
            "@lock" => {
                t.steps.push(Step::Lock);
                continue;
            }
            "@unlock" => {
                t.steps.push(Step::Unlock);
                continue;
            }
            "@tamper" => {
                t.steps.push(Step::Tamper);
                continue;
            }
            _ if cmd.starts_with("@docker ") => {
                let f: Vec<&str> = cmd.split_whitespace().skip(1).collect();
                assert_eq!(f.len(), 3, "line {i}: @docker HOST USER PASSWORD");
                t.steps
                    .push(Step::Docker(f[0].into(), f[1].into(), f[2].into()));
                continue;
            }
            _ if cmd.starts_with("@count-docker ") => {
                let n = cmd["@count-docker ".len()..].trim().parse().expect("count");
                t.steps.push(Step::CountDocker(n));
                continue;
            }
            _ => {}
        }
        let step_line = i;
        let args = cmd.split_whitespace().map(str::to_owned).collect();
        let mut input = Vec::new();
        let exit = loop {
            let l = lines
                .get(i)
                .unwrap_or_else(|| panic!("line {step_line}: no `? EXIT`"));
            i += 1;
            if let Some(code) = l.strip_prefix("? ") {
                break code.trim().parse().expect("exit code");
            }
            input.extend(text_line(l));
        };
        let mut stderr = Vec::new();
        while let Some(s) = lines.get(i).and_then(|l| l.strip_prefix("! ")) {
            stderr.push(s.to_owned());
            i += 1;
        }
        let mut out_lines = Vec::new();
        while let Some(l) = lines.get(i) {
            if l.starts_with('$') {
                break;
            }
            i += 1;
            if !l.starts_with("# ") {
                out_lines.push(*l);
            }
        }
        while out_lines.last() == Some(&"") {
            out_lines.pop();
        }
        let stdout = out_lines.iter().flat_map(|l| text_line(l)).collect();
        t.steps.push(Step::Run {
            line: step_line,
            args,
            input,
            exit,
            stderr,
            stdout,
        });
    }
    t
}

/// Values of secret attributes in `input`, to check they never reach stderr.
fn secrets_in(input: &[u8]) -> Vec<Vec<u8>> {
    input
        .split(|&b| b == b'\n')
        .filter_map(|l| {
            ["password=", "credential=", "oauth_refresh_token="]
                .iter()
                .find_map(|k| l.strip_prefix(k.as_bytes()))
        })
        .filter(|v| v.len() >= 4)
        .map(|v| v.strip_suffix(b"\r").unwrap_or(v).to_vec())
        .collect()
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 300 {
        let head: String = s.chars().take(300).collect();
        format!("{head}… ({} bytes)\n", b.len())
    } else {
        s.into_owned()
    }
}

fn run_transcript(path: &Path) -> Vec<String> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let t = parse(&std::fs::read_to_string(path).unwrap());
    let home = git_vaultctl::Home::new(t.initial);
    let mut failures = Vec::new();
    for step in &t.steps {
        let (line, args, input, exit, stderr_want, stdout_want) = match step {
            Step::Lock => {
                home.lock();
                continue;
            }
            Step::Unlock => {
                home.unlock();
                continue;
            }
            Step::Tamper => {
                home.tamper();
                continue;
            }
            Step::Docker(host, user, password) => {
                home.add_docker(host, user, password);
                continue;
            }
            Step::CountDocker(n) => {
                let got = home.count_docker();
                if got != *n {
                    failures.push(format!("{name}: {got} docker entries, expected {n}"));
                }
                continue;
            }
            Step::Run {
                line,
                args,
                input,
                exit,
                stderr,
                stdout,
            } => (line, args, input, exit, stderr, stdout),
        };
        let mut child = home
            .command(HELPER)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn helper");
        let mut stdin = child.stdin.take().unwrap();
        let data = input.clone();
        let writer = std::thread::spawn(move || {
            // The helper may exit before reading everything (errors, capability).
            let _ = stdin.write_all(&data);
        });
        let out = child.wait_with_output().expect("helper output");
        writer.join().unwrap();
        let at = format!("{name}:{line} `$ {}`", args.join(" "));
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if code != *exit {
            failures.push(format!(
                "{at}: exit {code}, expected {exit} (stderr: {stderr:?})"
            ));
        }
        if out.stdout != *stdout_want {
            failures.push(format!(
                "{at}: stdout\n--- got\n{}--- expected\n{}---",
                show(&out.stdout),
                show(stdout_want)
            ));
        }
        if code == 0 && !out.stderr.is_empty() {
            failures.push(format!(
                "{at}: success must be silent on stderr, got {stderr:?}"
            ));
        }
        if code != 0 && (!stderr.ends_with('\n') || stderr.trim_end().contains('\n')) {
            failures.push(format!(
                "{at}: an error must be one line on stderr, got {stderr:?}"
            ));
        }
        for want in stderr_want {
            if !stderr.contains(want.as_str()) {
                failures.push(format!("{at}: stderr {stderr:?} lacks {want:?}"));
            }
        }
        for secret in secrets_in(input) {
            if out.stderr.windows(secret.len()).any(|w| w == secret) {
                failures.push(format!("{at}: a secret value appears on stderr"));
            }
        }
    }
    failures
}

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/git");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "t"))
        .collect();
    files.sort();
    files
}

#[test]
fn git_protocol_transcripts() {
    let files = transcripts();
    assert!(files.len() >= 20, "transcripts missing: {files:?}");
    let mut failures = Vec::new();
    for f in &files {
        failures.extend(run_transcript(f));
    }
    assert!(
        failures.is_empty(),
        "{} transcript failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn transcript_format_parses() {
    let t = parse(
        "@vault locked\n# c\n$ get\nhost=a{CR}\nx={REPEAT 3 ab}{NOEOL}\n? 1\n! oops\nout\n\n# c\n$ @unlock\n",
    );
    assert_eq!(t.initial, Initial::Locked);
    assert_eq!(t.steps.len(), 2);
    match &t.steps[0] {
        Step::Run {
            args,
            input,
            exit,
            stderr,
            stdout,
            ..
        } => {
            assert_eq!(args, &["get"]);
            assert_eq!(input, b"host=a\r\nx=ababab");
            assert_eq!(*exit, 1);
            assert_eq!(stderr, &["oops"]);
            assert_eq!(stdout, b"out\n");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(t.steps[1], Step::Unlock));
    assert_eq!(expand("{NUL}{x41}{y}"), b"\0A{y}");
}
