//! One transcript format and one runner for the helpers' protocol tests: the
//! git helper's and the docker helper's, against the built binaries and (for
//! docker) in-process over a memory store. The format is described in
//! `git-credential/tests/transcripts/README.md`: runs (`$ ARGS`, standard
//! input, `? EXIT`, `! stderr text`, expected standard output) and
//! directives (`$ @NAME ARGS`) that each driver interprets.

use std::path::{Path, PathBuf};

/// The vault a transcript starts with (`@vault ...`, default unlocked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initial {
    /// A vault whose key is cached.
    Unlocked,
    /// A vault whose key is not cached.
    Locked,
    /// No vault file.
    None,
}

/// One step of a transcript.
#[derive(Debug)]
pub enum Step {
    /// A run of the helper.
    Run {
        /// Line of the `$` in the file.
        line: usize,
        /// Arguments after the program name.
        args: Vec<String>,
        /// Standard input, exactly.
        input: Vec<u8>,
        /// Expected exit code.
        exit: i32,
        /// Texts standard error must contain.
        stderr: Vec<String>,
        /// Expected standard output, exactly.
        stdout: Vec<u8>,
    },
    /// `$ @NAME ARGS`: something the driver does or checks between runs.
    Directive {
        /// Line of the `$` in the file.
        line: usize,
        /// The directive, without `@`.
        name: String,
        /// Its words.
        args: Vec<String>,
    },
}

/// A parsed transcript.
#[derive(Debug)]
pub struct Transcript {
    /// The vault it starts with.
    pub initial: Initial,
    /// Its steps, in order.
    pub steps: Vec<Step>,
}

/// What one run of the helper gave.
#[derive(Debug)]
pub struct Ran {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, when the driver has one.
    pub stderr: Option<Vec<u8>>,
}

impl From<std::process::Output> for Ran {
    fn from(out: std::process::Output) -> Ran {
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: Some(out.stderr),
        }
    }
}

/// How a transcript's runs are made and its directives carried out.
pub trait Driver {
    /// Runs the helper with `args` and `input` on standard input.
    fn run(&mut self, args: &[String], input: &[u8]) -> Ran;
    /// Carries out `$ @name args`; `Err` is a failure of the transcript.
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String>;
}

/// What standard error must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StderrRule {
    /// git's helper: nothing on success, exactly one line on failure.
    OneLineOnFailure,
    /// Only the `! text` lines are checked (the docker protocol answers errors on stdout).
    Listed,
}

/// `{NUL}`, `{CR}`, `{xHH}`, `{REPEAT n c}`; everything else verbatim.
pub fn expand(line: &str) -> Vec<u8> {
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

/// Parses a transcript (format: `git-credential/tests/transcripts/README.md`).
pub fn parse(text: &str) -> Transcript {
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
        if let Some(directive) = cmd.strip_prefix('@') {
            let mut words = directive.split_whitespace().map(str::to_owned);
            t.steps.push(Step::Directive {
                line: i,
                name: words.next().unwrap_or_default(),
                args: words.collect(),
            });
            continue;
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

/// Runs transcript `t` (named `name` in failures) with `driver`; returns the failures.
pub fn run(name: &str, t: &Transcript, driver: &mut impl Driver, rule: StderrRule) -> Vec<String> {
    let mut failures = Vec::new();
    for step in &t.steps {
        let (line, args, input, exit, stderr_want, stdout_want) = match step {
            Step::Directive {
                line,
                name: d,
                args,
            } => {
                if let Err(e) = driver.directive(d, args) {
                    failures.push(format!("{name}:{line} `$ @{d}`: {e}"));
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
        let out = driver.run(args, input);
        let at = format!("{name}:{line} `$ {}`", args.join(" "));
        let code = out.code;
        let raw_stderr = out.stderr.unwrap_or_default();
        let stderr = String::from_utf8_lossy(&raw_stderr);
        if code != *exit {
            failures.push(format!(
                "{at}: exit {code}, expected {exit} (stdout {:?}, stderr: {stderr:?})",
                show(&out.stdout)
            ));
        }
        if out.stdout != *stdout_want {
            failures.push(format!(
                "{at}: stdout\n--- got\n{}--- expected\n{}---",
                show(&out.stdout),
                show(stdout_want)
            ));
        }
        if rule == StderrRule::OneLineOnFailure {
            if code == 0 && !raw_stderr.is_empty() {
                failures.push(format!(
                    "{at}: success must be silent on stderr, got {stderr:?}"
                ));
            }
            if code != 0 && (!stderr.ends_with('\n') || stderr.trim_end().contains('\n')) {
                failures.push(format!(
                    "{at}: an error must be one line on stderr, got {stderr:?}"
                ));
            }
        }
        for want in stderr_want {
            if !stderr.contains(want.as_str()) {
                failures.push(format!("{at}: stderr {stderr:?} lacks {want:?}"));
            }
        }
        for secret in secrets_in(input) {
            if raw_stderr.windows(secret.len()).any(|w| w == secret) {
                failures.push(format!("{at}: a secret value appears on stderr"));
            }
        }
    }
    failures
}

/// The `*.t` files of `dir`, sorted.
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "t"))
        .collect();
    files.sort();
    files
}

/// The transcripts directory of the helpers' crate.
pub fn dir(protocol: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../git-credential/tests/transcripts")
        .join(protocol)
}

/// Runs every transcript of `protocol` with a driver made per file; panics
/// listing all failures.
pub fn run_all<D: Driver>(
    protocol: &str,
    at_least: usize,
    rule: StderrRule,
    mut driver_for: impl FnMut(&Transcript) -> D,
) {
    let files = files(&dir(protocol));
    assert!(files.len() >= at_least, "transcripts missing: {files:?}");
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let t = parse(&std::fs::read_to_string(f).unwrap());
        let mut d = driver_for(&t);
        failures.extend(run(&name, &t, &mut d, rule));
    }
    assert!(
        failures.is_empty(),
        "{} transcript failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(
            matches!(&t.steps[1], Step::Directive { name, args, .. } if name == "unlock" && args.is_empty())
        );
        assert_eq!(expand("{NUL}{x41}{y}"), b"\0A{y}");
    }
}
