//! `cargo-credential-keyward`'s input: request lines, parsed alone and as a
//! whole session over an in-memory store. Never panics; a session always
//! starts with the hello, exits 0 and answers only JSON lines; a login
//! token comes back from `get` byte for byte.
#![no_main]

use keyward_protocols::cargo::{self, request, Answer, Store};
use keyward_protocols::json::{self, Value};
use keyward_secmem::{ExposeSecret, SecretBytes};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Memory(Vec<(String, Vec<u8>)>);

impl Store for Memory {
    fn get(&mut self, key: &str) -> Result<Option<SecretBytes>, Answer> {
        Ok(match self.0.iter().find(|(k, _)| k == key) {
            Some((_, t)) => Some(SecretBytes::from_slice(t)?),
            None => None,
        })
    }
    fn put(&mut self, key: &str, token: SecretBytes) -> Result<(), Answer> {
        self.0.retain(|(k, _)| k != key);
        self.0
            .push((key.to_owned(), token.expose_secret().to_vec()));
        Ok(())
    }
    fn erase(&mut self, key: &str) -> Result<bool, Answer> {
        let n = self.0.len();
        self.0.retain(|(k, _)| k != key);
        Ok(self.0.len() < n)
    }
    fn ask_token(&mut self, _prompt: &str) -> Result<SecretBytes, Option<Answer>> {
        Err(None)
    }
}

fuzz_target!(|data: &[u8]| {
    // One line, straight into the parser.
    if let Ok(req) = request::parse(data) {
        if let request::Action::Login { token: Some(t), .. } = req.action {
            let line = cargo::get_line(&t).unwrap();
            let text = &line.expose_secret()[..line.len() - 1];
            let (Value::Object(top), _) = json::parse(text).expect("answer is JSON") else {
                panic!("answer is not an object")
            };
            let Value::Object(ok) = &top[0].1 else {
                panic!()
            };
            let (_, Value::String(r), _) = &ok[1] else {
                panic!()
            };
            let back = json::decode_secret(text, r.clone()).unwrap();
            if std::str::from_utf8(t.expose_secret()).is_ok() {
                assert_eq!(back.expose_secret(), t.expose_secret());
            }
        }
    }
    // A whole session.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cargo::serve(
        &["--cargo-plugin".into()],
        data,
        &mut out,
        &mut err,
        &mut Memory::default(),
    );
    assert_eq!(code, 0);
    assert!(out.starts_with(cargo::HELLO));
    assert!(out.ends_with(b"\n"));
    for line in out[cargo::HELLO.len()..].split(|&b| b == b'\n') {
        if !line.is_empty() {
            assert!(
                json::parse(line).is_ok(),
                "{:?}",
                String::from_utf8_lossy(line)
            );
        }
    }
});
