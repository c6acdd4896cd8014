//! `docker-credential-keyward get`/`erase` input: the server name on stdin,
//! then which stored key answers it. Never panics; a server always matches
//! itself, and matching is symmetric.
#![no_main]

use keyward_protocols::docker::{keys, read_server};
use libfuzzer_sys::fuzz_target;

const STORED: [&str; 6] = [
    "https://index.docker.io/v1/",
    "https://index.docker.io/v1/access-token",
    "docker.io",
    "registry.example:5000",
    "https://ghcr.io",
    "localhost",
];

fuzz_target!(|data: &[u8]| {
    let Ok(server) = read_server(&mut &data[..]) else {
        return;
    };
    assert!(!server.is_empty());
    assert_eq!(server.trim(), server);
    assert!(keys::matches(&server, &server));
    let hub = keys::hub(&server);
    for s in STORED {
        assert_eq!(keys::matches(s, &server), keys::matches(&server, s));
        if hub.is_some() && keys::hub(s) == hub {
            assert!(keys::matches(s, &server));
        }
    }
    if let Some(i) = keys::best(STORED.iter().copied(), &server) {
        assert!(keys::matches(STORED[i], &server));
    }
    let mut with_self = STORED.to_vec();
    with_self.push(&server);
    let i = keys::best(with_self.iter().copied(), &server).expect("a key matches itself");
    assert!(with_self[i] == server || keys::matches(with_self[i], &server));
});
