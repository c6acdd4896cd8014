//! Prints where this process keeps secrets: the seed of `keyward doctor`.
#![forbid(unsafe_code)]

use keyward_secmem::{status, SecretBytes};

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
    println!("locking backend:       {}", s.locking_backend);
    println!("lock policy:           {}", s.policy);
    println!("live secrets:          {}", s.live_secrets);
    println!("bytes locked:          {}", s.locked_bytes);
    println!("pooled chunks:         {}", s.chunks);
    match s.memlock_limit {
        Some(l) => println!("RLIMIT_MEMLOCK:        {l} bytes"),
        None => println!("RLIMIT_MEMLOCK:        unlimited"),
    }
    println!("locking ever failed:   {}", s.lock_failed);
    let core = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE)
        .map(|(soft, _)| match soft {
            0 => "off (RLIMIT_CORE=0)".to_owned(),
            nix::sys::resource::RLIM_INFINITY => "unlimited".to_owned(),
            n => format!("up to {n} bytes"),
        })
        .unwrap_or_else(|_| "unknown".to_owned());
    println!("core dumps:            {core}");
    println!(
        "process dumpable:      {}",
        if keyward_secmem::is_dumpable() {
            "yes"
        } else {
            "no"
        }
    );
    println!("a 32-byte key:         {key:?}");
}
