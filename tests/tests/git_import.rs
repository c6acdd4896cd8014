//! `keyward import git` followed by `git-credential-keyward` answers git as
//! `git credential-store` answered from the same file: same credential for
//! every request, including which of several users on one host comes first
//! (credential-store: the first line of the file).
#![forbid(unsafe_code)]

mod git_common;

use git_common::{text, GitHome};

const FILE: &str = "\
https://alice:a1@example.com
https://bob:b%40d@example.com
https://carol:c1@example.com:8443/team/repo.git
https://alice:old@example.com
https://dave:d1@other.example
";

const REQUESTS: &[&str] = &[
    "protocol=https\nhost=example.com\n",
    "protocol=https\nhost=example.com\nusername=bob\n",
    "protocol=https\nhost=example.com\nusername=alice\n",
    "protocol=https\nhost=example.com:8443\n",
    "protocol=https\nhost=other.example\n",
    "protocol=http\nhost=other.example\n",
];

#[test]
fn imported_credentials_answer_like_credential_store() {
    git_common::require_git_2_47();
    let h = GitHome::new();
    let file = h.path().join("git-credentials");
    std::fs::write(&file, FILE).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let store = format!("store --file={}", file.display());
    let before: Vec<_> = REQUESTS
        .iter()
        .map(|r| h.git_credential(&store, "fill", r))
        .collect();

    let out = h
        .command(keyward_tests::bin("keyward"))
        .args(["import", "git", "--keep-plaintext"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {}", text(&out.stderr));

    for (req, want) in REQUESTS.iter().zip(&before) {
        let got = h.git_credential("keyward", "fill", req);
        assert_eq!(
            (got.status.code(), text(&got.stdout)),
            (want.status.code(), text(&want.stdout)),
            "git credential fill <<< {req:?}: keyward after import vs credential-store"
        );
    }
    // The file's first alice line wins, as in credential-store.
    assert!(text(&before[0].stdout).contains("password=a1"));
}
