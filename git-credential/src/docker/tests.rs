//! Protocol tests over the in-memory backend, including every transcript under
//! `tests/transcripts/docker/` (the same files, and the same runner, the binary is tested against
//! with a real vault in `tests/tests/docker_transcripts.rs`).

use super::memory::Memory;
use super::*;

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

/// The protocol logic in-process over a memory store, for the shared runner.
struct InMemory(Memory);

impl keyward_tests::transcript::Driver for InMemory {
    fn run(&mut self, args: &[String], input: &[u8]) -> keyward_tests::transcript::Ran {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (stdout, code) = call(&mut self.0, &args, input);
        keyward_tests::transcript::Ran {
            code,
            stdout,
            stderr: None,
        }
    }

    /// `@vault-unchanged`: every scenario starts from an empty store, so
    /// unchanged means still empty.
    fn directive(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        match (name, args) {
            ("vault-unchanged", []) if self.0.entries.is_empty() => Ok(()),
            ("vault-unchanged", []) => Err("the store changed".into()),
            _ => Err(format!("unknown directive @{name} {args:?}")),
        }
    }
}

/// Every transcript under `tests/transcripts/docker/`, in-process.
#[test]
fn transcripts_in_memory() {
    use keyward_tests::transcript::{run_all, StderrRule};
    run_all("docker", 10, StderrRule::Listed, |_| {
        InMemory(Memory::default())
    });
}
