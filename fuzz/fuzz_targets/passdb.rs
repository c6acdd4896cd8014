//! The PAM password database (`/etc/keyward/shadow`) line parser (scrypt
//! and imported crypt(3) hashes, the lock flag, shadow-style aging). Never
//! panics; rendering is stable (parse ∘ render is the identity on what
//! parse produced) and keeps every line.
#![no_main]

use keyward_passdb::{Hash, PassDb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let db = PassDb::parse(data);
    let text = db.render();
    let again = PassDb::parse(&text);
    assert_eq!(again.render(), text, "rendering is stable");
    assert_eq!(again.skipped(), db.skipped());
    let users: Vec<_> = db.entries().map(|e| e.user.clone()).collect();
    let users_again: Vec<_> = again.entries().map(|e| e.user.clone()).collect();
    assert_eq!(users, users_again);
    for e in db.entries() {
        // A parsed hash prints as a PHC string that parses to the same hash.
        let phc = e.hash.to_phc();
        let h = Hash::parse(&phc).expect("to_phc output parses");
        assert_eq!(h.to_phc(), phc);
        assert_eq!(h.params(), e.hash.params());
        assert!(db.find(&e.user).is_some());
        // The lock and the shadow-style aging survive rendering.
        let back = again.entry(&e.user).expect("entry kept");
        assert_eq!((back.locked, back.aging), (e.locked, e.aging));
        let _ = e.aging.state(20_000);
        let _ = e.aging.wait_to_change(20_000);
    }
    let _ = db.typical_params();
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Hash::parse(text);
    }
    // The `remember=` history file: parsing never panics, a pushed hash
    // comes back first.
    let mut hist = keyward_passdb::history::History::parse(data);
    let h = Hash::dummy_with(keyward_passdb::KdfParams {
        log_n: 1,
        r: 1,
        p: 1,
    });
    if hist.push("fuzz", &h, 3).is_ok() {
        let again = keyward_passdb::history::History::parse(&hist.render());
        assert_eq!(again.of("fuzz").first().map(Hash::to_phc), Some(h.to_phc()));
    }
});
