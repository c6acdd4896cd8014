use super::*;
use std::collections::BTreeMap;

#[derive(Default)]
struct Mem(BTreeMap<String, Vec<u8>>);

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

fn op(mem: &mut Mem, verb: &str, addr: &str, input: &[u8]) -> (Result<(), String>, Vec<u8>) {
    let mut out = Vec::new();
    let mut inp = input;
    let r = run(&[verb.into()], addr, &mut inp, &mut out, || Ok(Some(mem)));
    (r.map_err(|e| e.to_string()), out)
}

#[test]
fn store_get_erase_per_address() {
    let mut m = Mem::default();
    let a = "http://127.0.0.1:8200";
    assert_eq!(op(&mut m, "store", a, b"s.hunter2").0, Ok(()));
    assert_eq!(
        op(&mut m, "store", "https://other:8200", b"s.other\n").0,
        Ok(())
    );
    assert_eq!(op(&mut m, "get", a, b"").1, b"s.hunter2");
    assert_eq!(
        op(&mut m, "get", "http://127.0.0.1:8200/", b"").1,
        b"s.hunter2"
    );
    assert_eq!(op(&mut m, "get", "https://other:8200", b"").1, b"s.other");
    assert_eq!(op(&mut m, "erase", a, b"").0, Ok(()));
    assert_eq!(op(&mut m, "get", a, b""), (Ok(()), vec![]));
    assert_eq!(op(&mut m, "erase", a, b"").0, Ok(()));
    assert!(m.0.contains_key("openbao/https/other:8200"));
}

#[test]
fn bad_input_stores_nothing() {
    let mut m = Mem::default();
    for bad in [&b""[..], b"\n", b"a b", b"a\nb", b"tok\0", "tök".as_bytes()] {
        assert!(op(&mut m, "store", DEFAULT_ADDR, bad).0.is_err(), "{bad:?}");
    }
    let big = vec![b'a'; MAX_TOKEN + 1];
    assert!(op(&mut m, "store", DEFAULT_ADDR, &big).0.is_err());
    assert!(op(&mut m, "list", DEFAULT_ADDR, b"")
        .0
        .unwrap_err()
        .contains("unknown operation"));
    assert!(m.0.is_empty());
}

#[test]
fn address_order_and_default() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|p| p.0 == k).map(|p| OsString::from(p.1))
    };
    assert_eq!(address(env(&[])), DEFAULT_ADDR);
    assert_eq!(address(env(&[("VAULT_ADDR", "http://v:1")])), "http://v:1");
    assert_eq!(
        address(env(&[
            ("VAULT_ADDR", "http://v:1"),
            ("BAO_ADDR", "http://b:2")
        ])),
        "http://b:2"
    );
    assert_eq!(secret_name("HTTPS://h:1/").unwrap(), "openbao/https/h:1");
    assert_eq!(
        secret_name("http://[::1]:8200").unwrap(),
        "openbao/http/+5B::1+5D:8200"
    );
    assert_eq!(
        secret_name("unix:///run/bao.sock").unwrap(),
        "openbao/unix/+2Frun+2Fbao.sock"
    );
}
