//! A damaged vault and an older copy put back (issue 13.2, 13.3): the real
//! git and docker helpers refuse with a message naming `keyward recover`,
//! `keyward recover` restores the previous generation and names the record
//! it loses, and `keyward recover --accept-older` accepts a copy put back on
//! purpose.
#![forbid(unsafe_code)]

use keyward_tests::{bin, output_with_stdin, text, TestHome};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Output;

fn git(h: &TestHome, action: &str, input: &str) -> Output {
    output_with_stdin(
        h.command(bin("git-credential-keyward")).arg(action),
        input.as_bytes(),
    )
}

fn store(h: &TestHome, host: &str, user: &str, password: &str) {
    let out = git(
        h,
        "store",
        &format!("protocol=https\nhost={host}\nusername={user}\npassword={password}\n\n"),
    );
    assert!(out.status.success(), "store: {}", text(&out.stderr));
}

fn get(h: &TestHome, host: &str) -> Output {
    git(h, "get", &format!("protocol=https\nhost={host}\n\n"))
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn flip(path: &std::path::Path, at: usize) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= 0x04;
    std::fs::write(path, &b).unwrap();
}

#[test]
fn one_flipped_byte_is_recovered_from_the_previous_generation() {
    // A byte of the header (the salt), of the secrets region and of the index.
    for which in ["header", "secrets", "index"] {
        let h = TestHome::new();
        h.init_unlocked_vault("pw");
        store(&h, "a.example", "alice", "s3cret-a");
        store(&h, "b.example", "bob", "s3cret-b");
        let vault = h.vault_path();
        let prev = vault.with_file_name("vault.prev");
        let (vm, pm) = (vault.metadata().unwrap(), prev.metadata().unwrap());
        assert_eq!(pm.permissions().mode() & 0o777, 0o600);
        assert_eq!((pm.uid(), pm.gid()), (vm.uid(), vm.gid()));
        let len = vm.len() as usize;
        let at = match which {
            "header" => 40,
            "secrets" => 170,
            _ => len - 20,
        };
        flip(&vault, at);

        let out = get(&h, "a.example");
        assert_eq!(out.status.code(), Some(5), "{which}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("`keyward recover` restores the last intact generation"),
            "{which}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
        let out = h.keyward(&["list"], "");
        assert_eq!(out.status.code(), Some(5));
        assert!(text(&out.stderr).contains("keyward recover"));

        let said = ok(&h.keyward(&["recover"], ""));
        assert!(
            said.contains("restored") && said.contains("1 record(s)"),
            "{which}: {said}"
        );
        assert!(
            said.contains("lost: git https://bob@b.example"),
            "{which}: {said}"
        );
        assert!(
            !said.contains("alice"),
            "{which}: only the lost one: {said}"
        );
        assert!(!said.contains("s3cret"), "{which}: {said}");
        assert!(vault.with_file_name("vault.damaged").exists());

        let out = ok(&get(&h, "a.example"));
        assert!(out.contains("password=s3cret-a\n"), "{which}: {out}");
        assert_eq!(ok(&get(&h, "b.example")), "", "{which}");
        let list = ok(&h.keyward(&["list"], ""));
        assert!(list.contains("a.example") && !list.contains("b.example"));
        // The vault works again: a new store, and a second recover finds nothing to do.
        store(&h, "b.example", "bob", "s3cret-b2");
        assert!(ok(&h.keyward(&["recover"], "")).contains("is intact"));
    }
}

#[test]
fn doctor_reports_the_previous_generation() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    store(&h, "a.example", "alice", "s3cret-a");
    let out = h.keyward(&["doctor"], "");
    let said = text(&out.stdout);
    assert!(
        said.contains("previous generation") && said.contains("generation 1, intact"),
        "{said}"
    );
    flip(&h.vault_path().with_file_name("vault.prev"), 100);
    let said = text(&h.keyward(&["doctor"], "").stdout);
    assert!(
        said.contains("previous generation") && said.contains("damaged"),
        "{said}"
    );
}

#[test]
fn an_older_copy_put_back_is_refused_until_accepted() {
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    store(&h, "a.example", "alice", "old-token");
    let vault = h.vault_path();
    let backup = h.path().join("vault.backup");
    std::fs::copy(&vault, &backup).unwrap();
    // The token is revoked and replaced; another record is added.
    store(&h, "a.example", "alice", "new-token");
    store(&h, "c.example", "carol", "s3cret-c");
    std::fs::copy(&backup, &vault).unwrap();
    std::fs::set_permissions(&vault, std::fs::Permissions::from_mode(0o600)).unwrap();

    let msg = "is generation 2, but generation 4 was seen before";
    let out = get(&h, "a.example");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(msg), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("keyward recover --accept-older"));
    assert!(!text(&out.stdout).contains("old-token"));
    let out = h.keyward(&["list"], "");
    assert_eq!(out.status.code(), Some(5));
    assert!(text(&out.stderr).contains(msg), "{}", text(&out.stderr));
    // The docker helper answers on stdout, as its protocol wants.
    let out = output_with_stdin(h.command(bin("docker-credential-keyward")).arg("list"), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(msg), "{}", text(&out.stdout));
    // `recover` without the flag says the same.
    assert_eq!(h.keyward(&["recover"], "").status.code(), Some(5));

    // Unlocked, the cached key's keyring entry remembers too: with the state
    // directory's file gone, the older copy is still refused (the number is
    // read with the cached key).
    let state = h.path().join(".local/state/keyward/generations");
    let saved: Vec<(std::path::PathBuf, Vec<u8>)> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    assert!(
        !saved.is_empty(),
        "no generation file in {}",
        state.display()
    );
    for (p, _) in &saved {
        std::fs::remove_file(p).unwrap();
    }
    let out = get(&h, "a.example");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains(msg), "{}", text(&out.stderr));
    for (p, data) in &saved {
        std::fs::write(p, data).unwrap();
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // Locked (only the state directory remembers), it is still refused.
    ok(&h.keyward(&["lock"], ""));
    let out = h.keyward(&["unlock", "--password-fd", "0"], "pw\n");
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));

    let said = ok(&h.keyward(&["recover", "--accept-older", "--password-fd", "0"], "pw\n"));
    assert!(
        said.contains("accepted") && said.contains("generation 4"),
        "{said}"
    );
    ok(&h.keyward(&["unlock", "--password-fd", "0"], "pw\n"));
    let out = ok(&get(&h, "a.example"));
    assert!(out.contains("password=old-token\n"), "{out}");
    ok(&h.keyward(&["list"], ""));
}
