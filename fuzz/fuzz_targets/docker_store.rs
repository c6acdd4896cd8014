//! `docker-credential-keyward store`'s input: stdin checks, then the JSON
//! payload parser. Never panics; an accepted payload, answered back as `get`
//! answers it, parses to the same server, user and secret.
#![no_main]

use keyward_protocols::docker::{json, read_input};
use keyward_secmem::ExposeSecret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(buf) = read_input(&mut &data[..]) else {
        return;
    };
    let Ok(req) = json::parse_store(buf.expose_secret()) else {
        return;
    };
    let answer = json::credentials_response(&req.server_url, &req.username, &req.secret)
        .expect("locked memory");
    let again = json::parse_store(answer.expose_secret()).expect("our own answer parses");
    assert_eq!(
        (&again.server_url, &again.username),
        (&req.server_url, &req.username)
    );
    assert_eq!(again.secret.expose_secret(), req.secret.expose_secret());
});
