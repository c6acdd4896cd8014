//! 20 `git credential approve` processes at once, each through
//! `git-credential-keyward store`: all 20 entries end up in the vault.
#![forbid(unsafe_code)]

mod git_common;

use git_common::{text, GitHome};

#[test]
fn twenty_parallel_approves_make_twenty_entries() {
    let h = GitHome::new();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut c = h.git("keyward", &["credential", "approve"]);
            c.stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = c.spawn().unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(
                    format!("protocol=https\nhost=parallel.example\nusername=user{i:02}\npassword=pw-{i:02}\n")
                        .as_bytes(),
                )
                .unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{}",
            text(&out.stderr)
        );
    }
    for i in 0..20 {
        assert_eq!(
            h.get(&format!(
                "protocol=https\nhost=parallel.example\nusername=user{i:02}\n"
            )),
            format!("username=user{i:02}\npassword=pw-{i:02}\n"),
            "entry {i} survived the concurrent writers"
        );
    }
    // Exactly those 20: erasing them leaves nothing for the host.
    let out = h.helper("erase", "protocol=https\nhost=parallel.example\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(h.get("protocol=https\nhost=parallel.example\n"), "");
}
