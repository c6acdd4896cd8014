use super::*;
use std::collections::BTreeMap;

#[derive(Default)]
struct Mem(BTreeMap<String, Vec<u8>>, usize);

impl named::TokenStore for &mut Mem {
    fn get_token(&mut self, name: &str) -> Result<Option<SecretBytes>, keyward_vault::Error> {
        Ok(match self.0.get(name) {
            Some(v) => Some(SecretBytes::from_slice(v)?),
            None => None,
        })
    }
    fn put_token(&mut self, name: &str, token: SecretBytes) -> Result<(), keyward_vault::Error> {
        self.0.insert(name.into(), token.expose_secret().to_vec());
        Ok(())
    }
    fn remove_token(&mut self, name: &str) -> Result<(), keyward_vault::Error> {
        self.0.remove(name);
        Ok(())
    }
}

/// A reader that counts what was read from it.
struct Counting<'a>(&'a [u8], usize);

impl Read for Counting<'_> {
    fn read(&mut self, b: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(b)?;
        self.1 += n;
        Ok(n)
    }
}

fn req(m: &mut Mem, args: &[&str], input: &[u8]) -> (Result<(), String>, Vec<u8>, usize) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let mut out = Vec::new();
    let mut inp = Counting(input, 0);
    let r = run(&args, &mut inp, &mut out, || {
        m.1 += 1;
        Ok(Some(&mut *m))
    });
    (r.map_err(|e| e.to_string()), out, inp.1)
}

#[test]
fn store_get_forget() {
    let mut m = Mem::default();
    let (r, out, _) = req(
        &mut m,
        &["store", "App.Terraform.io"],
        br#"{"token":"hunter2"}"#,
    );
    assert_eq!((r, out), (Ok(()), vec![]));
    assert_eq!(
        req(&mut m, &["get", "app.terraform.io"], b"").1,
        b"{\"token\":\"hunter2\"}\n"
    );
    assert_eq!(req(&mut m, &["get", "other.example"], b"").1, b"{}\n");
    assert_eq!(req(&mut m, &["forget", "app.terraform.io"], b"").0, Ok(()));
    assert_eq!(req(&mut m, &["get", "app.terraform.io"], b"").1, b"{}\n");
    assert_eq!(req(&mut m, &["forget", "app.terraform.io"], b"").0, Ok(()));
}

#[test]
fn refused_store_drains_stdin_and_stores_nothing() {
    let mut m = Mem::default();
    let big = vec![b' '; MAX_INPUT * 2 + 7];
    for (args, input) in [
        (&["store", "h"][..], &br#"{"token":"x","extra":1}"#[..]),
        (&["store", "h"], b"not json"),
        (&["store", "h"], &big),
        (&["--x", "store", "h"], br#"{"token":"x"}"#),
        (&["store"], br#"{"token":"x"}"#),
        (&["store", "a/b"], br#"{"token":"x"}"#),
    ] {
        let (r, out, read) = req(&mut m, args, input);
        assert!(r.is_err(), "{args:?}");
        assert!(out.is_empty());
        assert_eq!(read, input.len(), "{args:?}: stdin not drained");
    }
    assert!(m.0.is_empty());
    assert_eq!(m.1, 0, "the vault was opened for a refused request");
}

#[test]
fn verbs_and_arguments() {
    let mut m = Mem::default();
    assert!(req(&mut m, &["list", "h"], b"")
        .0
        .unwrap_err()
        .contains("unknown verb \"list\""));
    assert!(req(&mut m, &["get"], b"")
        .0
        .unwrap_err()
        .starts_with("usage:"));
    assert!(req(&mut m, &[], b"").0.unwrap_err().starts_with("usage:"));
    assert!(req(&mut m, &["--host=x", "get", "h"], b"")
        .0
        .unwrap_err()
        .contains("unknown argument"));
    assert!(req(&mut m, &["get", ""], b"")
        .0
        .unwrap_err()
        .contains("bad hostname"));
}
