//! Memory scans for the key-hygiene tests: run a program under gdb, stop it at
//! `exit_group`, write a core with `gcore` (which leaves out what the kernel
//! will not show: `MADV_DONTDUMP` ranges and `memfd_secret` pages), and look
//! in every memory segment of the core for the bytes that must never be
//! there: the vault key, each 16-byte half of it, its first AES round keys,
//! and the password (plain and as the HMAC key block XOR ipad/opad that
//! PBKDF2 builds from it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Named byte strings to look for.
#[derive(Debug, Default)]
pub struct Needles {
    list: Vec<(String, Vec<u8>)>,
}

impl Needles {
    /// Nothing to look for yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The 32-byte AES-256 vault key `key`: the key, its halves, and round
    /// keys 2 and 3 (the first two the key expansion computes; 0 and 1 are the
    /// halves).
    pub fn vault_key(&mut self, name: &str, key: &[u8; 32]) -> &mut Self {
        self.add(&format!("{name} (32 bytes)"), key);
        self.add(&format!("{name}, first half"), &key[..16]);
        self.add(&format!("{name}, second half"), &key[16..]);
        let rk = aes256_round_keys(key);
        self.add(&format!("{name}, AES round key 2"), &rk[2]);
        self.add(&format!("{name}, AES round key 3"), &rk[3]);
        self
    }

    /// A password: as typed, and XORed with HMAC's ipad and opad (the
    /// zero-padded key blocks PBKDF2-HMAC-SHA-256 derives from it).
    pub fn password(&mut self, name: &str, pw: &[u8]) -> &mut Self {
        self.add(name, pw);
        let x = |m: u8| pw.iter().map(|b| b ^ m).collect::<Vec<u8>>();
        self.add(&format!("{name} ^ ipad"), &x(0x36));
        self.add(&format!("{name} ^ opad"), &x(0x5c));
        self
    }

    /// Any other byte string.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> &mut Self {
        assert!(
            bytes.len() >= 12,
            "needle {name} too short to mean anything"
        );
        self.list.push((name.to_string(), bytes.to_vec()));
        self
    }

    /// The needles found in `core`'s memory segments, with where.
    pub fn found_in(&self, core: &[u8]) -> Vec<String> {
        load_segments(core)
            .into_iter()
            .flat_map(|(vaddr, seg)| self.found_in_bytes(vaddr, seg))
            .collect()
    }

    /// The needles found in `bytes`, memory that starts at address `start`.
    pub fn found_in_bytes(&self, start: u64, bytes: &[u8]) -> Vec<String> {
        let mut hits = Vec::new();
        for (name, n) in &self.list {
            if let Some(off) = bytes.windows(n.len()).position(|w| w == &n[..]) {
                hits.push(format!("{name} at {:#x}", start + off as u64));
            }
        }
        hits
    }
}

/// scrypt's block `B` after ROMix for `password` and `salt` (p = 1).
pub fn scrypt_block(password: &[u8], salt: &[u8], log_n: u8, r: usize) -> Vec<u8> {
    let mut b0 = vec![0u8; 128 * r];
    pbkdf2::pbkdf2::<hmac::Hmac<sha2::Sha256>>(password, salt, 1, &mut b0).expect("pbkdf2");
    scrypt_romix(&b0, log_n, r)
}

/// The same block for a keyward vault file (salt and cost from its
/// password slot: at 28 in a version-1 header, after the first slot's kind
/// and length at 32 in version 2; shared/vault/FORMAT.md).
pub fn vault_scrypt_block(vault: &Path, password: &[u8]) -> Vec<u8> {
    let v = std::fs::read(vault).expect("read the vault");
    let at = match u16::from_le_bytes([v[8], v[9]]) {
        1 => 28,
        _ => {
            assert_eq!(
                u16::from_le_bytes([v[32], v[33]]),
                1,
                "first slot is the password's"
            );
            38
        }
    };
    let r = u32::from_le_bytes(v[at + 1..at + 5].try_into().unwrap()) as usize;
    scrypt_block(password, &v[at + 9..at + 41], v[at], r)
}

/// scrypt's block `B` after ROMix (RFC 7914 §6, p = 1): the salt of scrypt's
/// final PBKDF2 step, which the scrypt crate keeps in a heap buffer. `b0` is
/// the first PBKDF2 output, PBKDF2-HMAC-SHA-256(password, salt, 1, 128·r).
pub fn scrypt_romix(b0: &[u8], log_n: u8, r: usize) -> Vec<u8> {
    let n = 1usize << log_n;
    let len = 128 * r;
    assert_eq!(b0.len(), len);
    let mut x = b0.to_vec();
    let mut v = Vec::with_capacity(n * len);
    for _ in 0..n {
        v.extend_from_slice(&x);
        x = block_mix(&x, r);
    }
    for _ in 0..n {
        let last = &x[len - 64..];
        let j = (u64::from_le_bytes(last[..8].try_into().unwrap()) as usize) & (n - 1);
        for (a, b) in x.iter_mut().zip(&v[j * len..(j + 1) * len]) {
            *a ^= b;
        }
        x = block_mix(&x, r);
    }
    x
}

fn block_mix(b: &[u8], r: usize) -> Vec<u8> {
    let mut x: [u8; 64] = b[(2 * r - 1) * 64..].try_into().unwrap();
    let mut y = vec![0u8; 128 * r];
    for i in 0..2 * r {
        for (a, c) in x.iter_mut().zip(&b[i * 64..(i + 1) * 64]) {
            *a ^= c;
        }
        salsa20_8(&mut x);
        // Even blocks first, then odd ones.
        let at = if i % 2 == 0 { i / 2 } else { r + i / 2 };
        y[at * 64..(at + 1) * 64].copy_from_slice(&x);
    }
    y
}

fn salsa20_8(block: &mut [u8; 64]) {
    let mut w = [0u32; 16];
    for (i, c) in block.chunks_exact(4).enumerate() {
        w[i] = u32::from_le_bytes(c.try_into().unwrap());
    }
    let mut x = w;
    let q = |x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize| {
        x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
        x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
        x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
        x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
    };
    for _ in 0..4 {
        q(&mut x, 0, 4, 8, 12);
        q(&mut x, 5, 9, 13, 1);
        q(&mut x, 10, 14, 2, 6);
        q(&mut x, 15, 3, 7, 11);
        q(&mut x, 0, 1, 2, 3);
        q(&mut x, 5, 6, 7, 4);
        q(&mut x, 10, 11, 8, 9);
        q(&mut x, 15, 12, 13, 14);
    }
    for i in 0..16 {
        block[4 * i..4 * i + 4].copy_from_slice(&x[i].wrapping_add(w[i]).to_le_bytes());
    }
}

/// AES-256 key expansion (FIPS-197 §5.2): the 15 round keys.
pub fn aes256_round_keys(key: &[u8; 32]) -> [[u8; 16]; 15] {
    let sbox = sbox();
    let mut w = [[0u8; 4]; 60];
    for i in 0..8 {
        w[i].copy_from_slice(&key[4 * i..4 * i + 4]);
    }
    let mut rcon = 1u8;
    for i in 8..60 {
        let mut t = w[i - 1];
        if i % 8 == 0 {
            t = [
                sbox[t[1] as usize] ^ rcon,
                sbox[t[2] as usize],
                sbox[t[3] as usize],
                sbox[t[0] as usize],
            ];
            rcon = xtime(rcon);
        } else if i % 8 == 4 {
            t = t.map(|b| sbox[b as usize]);
        }
        for j in 0..4 {
            w[i][j] = w[i - 8][j] ^ t[j];
        }
    }
    let mut rk = [[0u8; 16]; 15];
    for (r, k) in rk.iter_mut().enumerate() {
        for c in 0..4 {
            k[4 * c..4 * c + 4].copy_from_slice(&w[4 * r + c]);
        }
    }
    rk
}

fn xtime(b: u8) -> u8 {
    (b << 1) ^ if b & 0x80 != 0 { 0x1b } else { 0 }
}

/// The AES S-box, computed (multiplicative inverse in GF(2^8), then the affine map).
fn sbox() -> [u8; 256] {
    let mul = |mut a: u8, mut b: u8| {
        let mut p = 0u8;
        while b != 0 {
            if b & 1 != 0 {
                p ^= a;
            }
            a = xtime(a);
            b >>= 1;
        }
        p
    };
    let mut s = [0u8; 256];
    for (x, out) in s.iter_mut().enumerate() {
        let inv = if x == 0 {
            0
        } else {
            (1..=255u8).find(|&y| mul(x as u8, y) == 1).unwrap_or(0)
        };
        let mut r = inv;
        for k in 1..5 {
            r ^= inv.rotate_left(k);
        }
        *out = r ^ 0x63;
    }
    s
}

/// The `PT_LOAD` segments of an ELF64 little-endian core: (address, bytes).
pub fn load_segments(core: &[u8]) -> Vec<(u64, &[u8])> {
    let u16_at = |o: usize| u16::from_le_bytes([core[o], core[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(core[o..o + 4].try_into().unwrap());
    let u64_at = |o: usize| u64::from_le_bytes(core[o..o + 8].try_into().unwrap());
    assert!(
        core.len() > 64 && &core[..4] == b"\x7fELF" && core[4] == 2,
        "not an ELF64 core"
    );
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    let mut out = Vec::new();
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph) != 1 {
            continue; // not PT_LOAD
        }
        let (off, vaddr, filesz) = (
            u64_at(ph + 8) as usize,
            u64_at(ph + 16),
            u64_at(ph + 32) as usize,
        );
        if filesz > 0 && off + filesz <= core.len() {
            out.push((vaddr, &core[off..off + filesz]));
        }
    }
    out
}

/// Runs `cmd` (program, arguments, environment and working directory as set)
/// under gdb with `stdin` as its input, stops it when it calls `exit_group`,
/// and writes a core of it into `dir`. Returns the core and the program's
/// output (status from gdb; stdout and stderr from the files they went to).
pub fn core_at_exit(cmd: &Command, stdin: &[u8], dir: &Path) -> (Vec<u8>, Output) {
    core_at(cmd, stdin, dir, &["catch syscall exit_group"])
}

/// [`core_at_exit`], stopping where the gdb commands `stop` say instead (for
/// example `break pam_close_session`: a PAM host right after its session
/// opened, with the stale frames of the login still below its stack pointer).
pub fn core_at(cmd: &Command, stdin: &[u8], dir: &Path, stop: &[&str]) -> (Vec<u8>, Output) {
    let input = dir.join("stdin");
    let (out, err, core) = (dir.join("stdout"), dir.join("stderr"), dir.join("core"));
    std::fs::write(&input, stdin).unwrap();
    // `run ARGS` replaces the arguments, so they go there, shell-quoted,
    // with the redirections.
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"));
    let args: Vec<String> = cmd.get_args().map(quote).collect();
    let run = format!(
        "run {} < {} > {} 2> {}",
        args.join(" "),
        quote(input.as_os_str()),
        quote(out.as_os_str()),
        quote(err.as_os_str())
    );
    let mut gdb = Command::new("gdb");
    gdb.args(["-nx", "-q", "-batch"])
        .args(["-ex", "set pagination off", "-ex", "set confirm off"])
        .args(["-ex", "set breakpoint pending on"])
        .args(stop.iter().flat_map(|c| ["-ex", c]))
        .args(["-ex", &run])
        .args(["-ex", &format!("gcore {}", core.display())])
        .args(["-ex", "kill"])
        .arg(cmd.get_program());
    gdb.env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            gdb.env(k, v);
        }
    }
    if let Some(d) = cmd.get_current_dir() {
        gdb.current_dir(d);
    }
    let o = gdb.output().expect("run gdb (Debian package gdb)");
    let core_bytes = std::fs::read(&core).unwrap_or_else(|e| {
        panic!(
            "gdb wrote no core ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let program = Output {
        status: o.status,
        stdout: std::fs::read(&out).unwrap_or_default(),
        stderr: std::fs::read(&err).unwrap_or_default(),
    };
    (core_bytes, program)
}

/// Fails (never skips) unless this runs as root with gdb installed: gdb
/// stops and dumps the programs the scans look into.
pub fn require_root_and_gdb() {
    assert!(
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")),
        "needs root (gdb stops and dumps the programs): run scripts/test as root"
    );
    assert!(
        crate::have("gdb"),
        "gdb missing: install the Debian package gdb"
    );
}

/// The directory for a scenario's files (core, input, output), created empty.
pub fn scratch(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[cfg(test)]
mod tests {
    #[test]
    fn romix_matches_rfc_7914_test_vector_2() {
        // scrypt("password", "NaCl", N=1024, r=8, p=16), RFC 7914 §12: the
        // first 64 bytes of the derived key.
        use hmac::Hmac;
        use sha2::Sha256;
        let (pw, salt, r, p) = (b"password", b"NaCl", 8usize, 16usize);
        let mut b = vec![0u8; 128 * r * p];
        pbkdf2::pbkdf2::<Hmac<Sha256>>(pw, salt, 1, &mut b).unwrap();
        let mixed: Vec<u8> = b
            .chunks(128 * r)
            .flat_map(|c| super::scrypt_romix(c, 10, r))
            .collect();
        let mut dk = [0u8; 64];
        pbkdf2::pbkdf2::<Hmac<Sha256>>(pw, &mixed, 1, &mut dk).unwrap();
        assert_eq!(
            dk[..16],
            [
                0xfd, 0xba, 0xbe, 0x1c, 0x9d, 0x34, 0x72, 0x00, 0x78, 0x56, 0xe7, 0x19, 0x0d, 0x01,
                0xe9, 0xfe
            ]
        );
    }

    #[test]
    fn key_expansion_matches_fips_197_appendix_a3() {
        let key: [u8; 32] = std::array::from_fn(|i| {
            [
                0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d,
                0x77, 0x81, 0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3,
                0x09, 0x14, 0xdf, 0xf4,
            ][i]
        });
        let rk = super::aes256_round_keys(&key);
        // w[8..12] = 9ba35411 8e6925af a51a8b5f 2067fcde
        assert_eq!(
            rk[2],
            [
                0x9b, 0xa3, 0x54, 0x11, 0x8e, 0x69, 0x25, 0xaf, 0xa5, 0x1a, 0x8b, 0x5f, 0x20, 0x67,
                0xfc, 0xde
            ]
        );
        // w[56..60] ends with 706c631e
        assert_eq!(&rk[14][12..], &[0x70, 0x6c, 0x63, 0x1e]);
    }
}
