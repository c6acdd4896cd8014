//! CPU feature detection runs `CPUID` once per process: keyward builds with
//! cpufeatures patched to keep one process-wide cache of the leaves it reads
//! (vendor/README.md), where upstream executes them again for every feature
//! set a crate declares (14 per helper call, each a trap to the hypervisor in
//! a virtual machine). The patched detection must still say what the
//! standard library's says.
#![forbid(unsafe_code)]
#![cfg(target_arch = "x86_64")]

use keyward_tests::{bin, output_with_stdin, text, TestHome};

cpufeatures::new!(aes_token, "aes");
cpufeatures::new!(clmul_token, "pclmulqdq");
cpufeatures::new!(avx2_token, "avx2");
cpufeatures::new!(avx512f_token, "avx512f");
cpufeatures::new!(sha_token, "sha");
cpufeatures02::new!(aes_token_02, "aes");
cpufeatures02::new!(sha_token_02, "sha", "sse2", "ssse3", "sse4.1");
cpufeatures02::new!(avx2_token_02, "avx2");

/// Both cpufeatures versions (through the one cache) agree with
/// `is_x86_feature_detected!`, for the features keyward's crypto crates ask.
#[test]
fn detection_agrees_with_the_standard_library() {
    use std::arch::is_x86_feature_detected as std_has;
    for _ in 0..2 {
        // The second round reads the cache.
        assert_eq!(aes_token::get(), std_has!("aes"), "aes");
        assert_eq!(clmul_token::get(), std_has!("pclmulqdq"), "pclmulqdq");
        assert_eq!(avx2_token::get(), std_has!("avx2"), "avx2");
        assert_eq!(avx512f_token::get(), std_has!("avx512f"), "avx512f");
        assert_eq!(sha_token::get(), std_has!("sha"), "sha");
        assert_eq!(aes_token_02::get(), std_has!("aes"), "aes (0.2)");
        assert_eq!(
            sha_token_02::get(),
            std_has!("sha") && std_has!("sse2") && std_has!("ssse3") && std_has!("sse4.1"),
            "sha (0.2)"
        );
        assert_eq!(avx2_token_02::get(), std_has!("avx2"), "avx2 (0.2)");
    }
}

/// `git-credential-keyward get` (AES-GCM, POLYVAL, SHA-256: every crate that
/// detects features) executes `CPUID` at most three times: gdb stops at
/// every `CPUID` instruction in the binary (objdump finds them) and counts.
#[test]
fn a_helper_get_executes_cpuid_at_most_three_times() {
    keyward_tests::core_scan::require_root_and_gdb();
    let helper = bin("git-credential-keyward");
    let h = TestHome::new();
    h.init_unlocked_vault("pw");
    let cred = "protocol=https\nhost=cpuid.example\nusername=u\npassword=p-7c1e\n";
    let out = output_with_stdin(h.command(&helper).arg("store"), cred.as_bytes());
    assert!(out.status.success(), "{}", text(&out.stderr));

    let dis = std::process::Command::new("objdump")
        .args(["-d", "--no-show-raw-insn"])
        .arg(&helper)
        .output()
        .expect("objdump (binutils) runs");
    let sites: Vec<String> = text(&dis.stdout)
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("cpuid"))
        .filter_map(|l| l.split(':').next().map(|a| a.trim().to_string()))
        .collect();
    assert!(!sites.is_empty(), "objdump shows no cpuid in the helper");
    let dir = tempfile::tempdir().unwrap();
    let request = dir.path().join("request");
    std::fs::write(&request, "protocol=https\nhost=cpuid.example\n\n").unwrap();
    let mut script = String::from("set pagination off\nset confirm off\n");
    for a in &sites {
        // gdb runs the PIE at this base (address randomisation off).
        script += &format!("break *(0x555555554000+0x{a})\ncommands\nsilent\ncontinue\nend\n");
    }
    script += &format!(
        "run get < {} > {}\ninfo breakpoints\n",
        request.display(),
        dir.path().join("answer").display()
    );
    let script_path = dir.path().join("count.gdb");
    std::fs::write(&script_path, script).unwrap();
    let out = h
        .command("gdb")
        .arg("-batch")
        .arg("-x")
        .arg(&script_path)
        .arg(&helper)
        .output()
        .unwrap();
    let log = text(&out.stdout);
    let answer = std::fs::read_to_string(dir.path().join("answer")).unwrap_or_default();
    assert!(
        answer.contains("password=p-7c1e"),
        "the get under gdb did not answer: {answer:?}\n{log}"
    );
    let hits: usize = log
        .lines()
        .filter_map(|l| l.trim().strip_prefix("breakpoint already hit "))
        .filter_map(|r| r.split_whitespace().next()?.parse::<usize>().ok())
        .sum();
    assert!(
        hits >= 1,
        "no CPUID counted: the count proves nothing\n{log}"
    );
    assert!(hits <= 3, "{hits} CPUID instructions executed\n{log}");
}
