//! The module's own cost beyond scrypt: `auth::authenticate` (database read
//! and parse, tally, logging, locked memory) against `Hash::verify` alone,
//! with a negligible scrypt cost (ln=1) so the difference is the overhead;
//! then one production-cost verification for scale.
//!   cargo bench -p keyward-pam --bench overhead
//! Runs as root (the module trusts only root-owned databases).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use keyward_passdb::{self as passdb, Hash, KdfParams};
use keyward_secmem::SecretBytes;
use pam::constants::PamResultCode;
use pam_keyward::args::Options;
use pam_keyward::auth::{self, Host, Priority, StrItem, Token, TokenItem};
use pam_keyward::tally::Tally;
use std::hint::black_box;

struct Bench {
    user: &'static str,
    password: &'static [u8],
}

impl Host for Bench {
    fn user(&mut self) -> Result<String, PamResultCode> {
        Ok(self.user.to_owned())
    }
    fn token(&mut self, _: TokenItem, _: Option<&str>) -> Result<Token, PamResultCode> {
        Ok(Token::Secret(
            SecretBytes::from_slice(self.password).unwrap(),
        ))
    }
    fn item(&self, _: StrItem) -> String {
        String::new()
    }
    fn log(&self, _: Priority, msg: &str) {
        black_box(msg);
    }
    fn fail_delay(&mut self, _: u32) {}
    fn info(&mut self, _: &str) {}
    fn uid(&self) -> u32 {
        0
    }
    fn now(&self) -> u64 {
        1_000_000
    }
}

fn overhead(c: &mut Criterion) {
    assert!(
        nix::unistd::geteuid().is_root(),
        "run as root: the module trusts only root-owned databases"
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shadow");
    let cheap = KdfParams {
        log_n: 1,
        r: 8,
        p: 1,
    };
    passdb::update(&db, &[0], |d| {
        for u in ["user", "locked"] {
            d.set(u, Hash::new(b"right", cheap)?)?;
        }
        // A realistic file: a few hundred other users to read and parse.
        for i in 0..200 {
            d.set(&format!("other{i}"), Hash::new(b"x", cheap)?)?;
        }
        Ok(())
    })
    .unwrap();
    let opts = Options {
        db: db.clone(),
        nodelay: true,
        deny: 3,
        unlock_time: 0,
        tally_dir: dir.path().join("tally"),
        ..Options::default()
    };
    for _ in 0..3 {
        auth::authenticate(
            &mut Bench {
                user: "locked",
                password: b"wrong",
            },
            &opts,
            0,
        );
    }
    let hash = passdb::load(&db, &[0])
        .unwrap()
        .find("user")
        .unwrap()
        .clone();

    let mut g = c.benchmark_group("pam_keyward");
    g.bench_function("scrypt ln=1 alone (Hash::verify)", |b| {
        b.iter(|| black_box(hash.verify(b"wrong").unwrap()))
    });
    let tally = Tally::new(&opts.tally_dir, 3, 0, &[0]);
    g.bench_function("authenticate, wrong password, ln=1", |b| {
        b.iter_batched(
            // Keep the user below deny=3; not measured.
            || tally.reset("user").unwrap(),
            |()| {
                let rc = auth::authenticate(
                    &mut Bench {
                        user: "user",
                        password: b"wrong",
                    },
                    &opts,
                    0,
                );
                assert_eq!(rc, PamResultCode::PAM_AUTH_ERR);
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("authenticate, locked-out user, ln=1", |b| {
        b.iter(|| {
            auth::authenticate(
                &mut Bench {
                    user: "locked",
                    password: b"right",
                },
                &opts,
                0,
            )
        })
    });
    g.sample_size(10);
    let prod = Hash::new(b"right", KdfParams::default()).unwrap();
    g.bench_function("scrypt production ln=17 r=8 p=1 (Hash::verify)", |b| {
        b.iter(|| black_box(prod.verify(b"wrong").unwrap()))
    });
    g.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
