//! Prints where this process keeps secrets: the seed of `keyward doctor`.
#![forbid(unsafe_code)]

use keyward_secmem::{status, ExposeSecret, SecretBytes};

fn main() {
    let key = match SecretBytes::random(32) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("keyward: {e}");
            std::process::exit(1);
        }
    };
    let s = status();
    println!("secure memory backend: {}", s.backend);
    println!("lock policy:           {}", s.policy);
    println!("live secrets:          {}", s.live_secrets);
    println!("bytes locked:          {}", s.locked_bytes);
    match s.memlock_limit {
        Some(l) => println!("RLIMIT_MEMLOCK:        {l} bytes"),
        None => println!("RLIMIT_MEMLOCK:        unlimited"),
    }
    println!("locking ever failed:   {}", s.lock_failed);
    println!(
        "process dumpable:      {}",
        if keyward_secmem::is_dumpable() {
            "yes"
        } else {
            "no"
        }
    );
    println!("a 32-byte key:         {:?}", key);
    let _ = key.expose_secret().len();
}
