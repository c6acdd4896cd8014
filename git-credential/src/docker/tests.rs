//! Protocol tests over the in-memory backend, including every transcript under
//! `tests/transcripts/docker/` (the same files the binary is tested against
//! with a real vault in `tests/tests/docker_transcripts.rs`).

use super::memory::Memory;
use super::*;
use std::path::{Path, PathBuf};

fn call(mem: &mut Memory, args: &[&str], stdin: &[u8]) -> (Vec<u8>, i32) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut out = Vec::new();
    let code = serve(&args, &mut &stdin[..], &mut out, |_| Ok(Some(&mut *mem)));
    (out, code)
}

fn text(out: &[u8]) -> &str {
    std::str::from_utf8(out).unwrap()
}

#[test]
fn store_get_list_erase() {
    let mut m = Memory::default();
    let (out, code) = call(
        &mut m,
        &["store"],
        br#"{"ServerURL":"https://index.docker.io/v1/","Username":"alice","Secret":"pw"}"#,
    );
    assert_eq!((text(&out), code), ("", 0));
    let (out, code) = call(&mut m, &["get"], b"docker.io\n");
    assert_eq!(
        (text(&out), code),
        (
            "{\"ServerURL\":\"docker.io\",\"Username\":\"alice\",\"Secret\":\"pw\"}\n",
            0
        )
    );
    let (out, _) = call(&mut m, &["list"], b"");
    assert_eq!(text(&out), "{\"https://index.docker.io/v1/\":\"alice\"}\n");
    assert_eq!(call(&mut m, &["erase"], b"index.docker.io").1, 0);
    assert!(m.entries.is_empty());
    let (out, code) = call(&mut m, &["get"], b"https://index.docker.io/v1/");
    assert_eq!(
        (text(&out), code),
        ("credentials not found in native keychain\n", 1)
    );
}

#[test]
fn list_decrypts_nothing() {
    let mut m = Memory::default();
    for i in 0..5 {
        let payload = format!(r#"{{"ServerURL":"r{i}.example","Username":"u{i}","Secret":"s"}}"#);
        assert_eq!(call(&mut m, &["store"], payload.as_bytes()).1, 0);
    }
    let (out, code) = call(&mut m, &["list"], b"ignored");
    assert_eq!(code, 0);
    assert_eq!(
        text(&out),
        r#"{"r0.example":"u0","r1.example":"u1","r2.example":"u2","r3.example":"u3","r4.example":"u4"}"#
            .to_owned()
            + "\n"
    );
    assert_eq!(m.reveals, 0);
    call(&mut m, &["get"], b"r3.example");
    assert_eq!(m.reveals, 1);
}

#[test]
fn input_over_one_mebibyte_is_refused_and_nothing_is_stored() {
    let mut m = Memory::default();
    let prefix = br#"{"ServerURL":"r","Username":"u","Secret":""#;
    let mut big = prefix.to_vec();
    big.resize(MAX_INPUT - 2, b'a');
    big.extend_from_slice(b"\"}");
    assert_eq!(big.len(), MAX_INPUT);
    assert_eq!(call(&mut m, &["store"], &big).1, 0, "exactly 1 MiB is fine");
    big.insert(big.len() - 2, b'a');
    let (out, code) = call(&mut m, &["store"], &big);
    assert_eq!(code, 1);
    assert_eq!(
        text(&out),
        "docker-credential-keyward: input too large: more than 1048576 bytes on stdin\n"
    );
    assert_eq!(m.entries[0].2.len(), MAX_INPUT - 2 - prefix.len());
}

#[test]
fn backend_is_opened_only_after_valid_input() {
    for (action, input) in [
        ("store", &b"{"[..]),
        ("store", br#"{"Username":"u"}"#),
        ("store", br#"{"ServerURL":"r"}"#),
        ("get", b" \n"),
        ("erase", b"a\0b"),
        ("get", b"\xff"),
    ] {
        let mut out = Vec::new();
        let code = run::<&mut Memory>(action, &mut &input[..], &mut out, |_| {
            panic!("opened the store for bad input")
        });
        assert!(code.is_err(), "{action} {input:?}");
    }
}

#[test]
fn missing_vault_answers_like_an_empty_store() {
    let none = |_| Ok(None::<&mut Memory>);
    let mut out = Vec::new();
    let r = run("list", &mut &b""[..], &mut out, none);
    assert!(r.is_ok());
    assert_eq!(out, b"{}\n");
    let r = run("get", &mut &b"docker.io"[..], &mut Vec::new(), none);
    assert!(matches!(r, Err(Error::NotFound)));
    let r = run("erase", &mut &b"docker.io"[..], &mut Vec::new(), none);
    assert!(r.is_ok());
    let r = run(
        "store",
        &mut &br#"{"ServerURL":"r","Username":"u"}"#[..],
        &mut Vec::new(),
        none,
    );
    assert!(matches!(r, Err(Error::NoVault)));
}

// ---- transcripts ----------------------------------------------------------

/// One step of a transcript: arguments, stdin, expected stdout and exit code.
#[derive(Debug)]
pub(crate) struct Step {
    pub name: String,
    pub args: Vec<String>,
    pub stdin: Vec<u8>,
    pub stdout: Vec<u8>,
    pub code: i32,
}

pub(crate) fn transcripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts/docker")
}

/// Every transcript: a directory of steps `NN.args` (one argument per line),
/// `NN.stdin` (optional), `NN.stdout`, `NN.code`.
pub(crate) fn transcripts() -> Vec<(String, Vec<Step>)> {
    let mut cases: Vec<_> = std::fs::read_dir(transcripts_dir())
        .expect("transcripts dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    cases
        .into_iter()
        .map(|dir| {
            let mut names: Vec<String> = std::fs::read_dir(&dir)
                .unwrap()
                .filter_map(|e| {
                    let n = e.unwrap().file_name().into_string().unwrap();
                    n.strip_suffix(".args").map(str::to_owned)
                })
                .collect();
            names.sort();
            let steps = names
                .into_iter()
                .map(|n| {
                    let read = |ext: &str| std::fs::read(dir.join(format!("{n}.{ext}")));
                    let args = String::from_utf8(read("args").unwrap()).unwrap();
                    let code = String::from_utf8(read("code").unwrap()).unwrap();
                    Step {
                        args: args.lines().map(str::to_owned).collect(),
                        stdin: read("stdin").unwrap_or_default(),
                        stdout: read("stdout").unwrap_or_else(|_| panic!("{dir:?} {n}.stdout")),
                        code: code.trim().parse().unwrap(),
                        name: n,
                    }
                })
                .collect();
            (
                dir.file_name().unwrap().to_string_lossy().into_owned(),
                steps,
            )
        })
        .collect()
}

#[test]
fn transcripts_in_memory() {
    let all = transcripts();
    assert!(all.len() >= 10, "transcripts missing");
    let mut failures = Vec::new();
    for (case, steps) in all {
        let mut m = Memory::default();
        for s in steps {
            let args: Vec<&str> = s.args.iter().map(String::as_str).collect();
            let (out, code) = call(&mut m, &args, &s.stdin);
            if out != s.stdout || code != s.code {
                failures.push(format!(
                    "{case}/{}: got exit {code} {:?}, want exit {} {:?}",
                    s.name,
                    String::from_utf8_lossy(&out),
                    s.code,
                    String::from_utf8_lossy(&s.stdout)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
