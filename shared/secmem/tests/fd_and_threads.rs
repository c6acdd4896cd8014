//! Reading a secret from a file descriptor (for scripts) and using secrets
//! from many threads at once.

use keyward_secmem::{read_secret_from_fd, status, Error, ExposeSecret, SecretBytes};
use std::io::Write;
use std::os::fd::AsFd;

fn read_from(input: &[u8]) -> keyward_secmem::Result<SecretBytes> {
    let (r, w) = nix::unistd::pipe().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let mut f = std::fs::File::from(w);
        let _ = f.write_all(&input);
    });
    let out = read_secret_from_fd(r.as_fd());
    drop(r);
    writer.join().unwrap();
    out
}

#[test]
#[serial_test::serial]
fn fd_secret_stops_at_newline_and_drops_cr() {
    let s = read_from(b"t0ken-with spaces\r\nsecond line\n").unwrap();
    assert_eq!(s.expose_secret(), b"t0ken-with spaces");
    let s = read_from(b"no newline at end").unwrap();
    assert_eq!(s.expose_secret(), b"no newline at end");
    let s = read_from(b"").unwrap();
    assert!(s.is_empty());
}

#[test]
#[serial_test::serial]
fn fd_secret_longer_than_the_limit_is_refused() {
    let big = vec![b'a'; keyward_secmem::input::MAX_INPUT_LEN + 10];
    match read_from(&big) {
        Err(Error::TooLarge { max, .. }) => assert_eq!(max, keyward_secmem::input::MAX_INPUT_LEN),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
#[serial_test::serial]
fn many_threads_allocate_and_free_without_mixing_secrets() {
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..200 {
                    let v: Vec<SecretBytes> = (0..50)
                        .map(|i| {
                            let len = 1 + (i * 37 + round) % 3000;
                            SecretBytes::from_slice(&vec![t; len]).unwrap()
                        })
                        .collect();
                    for s in &v {
                        assert!(s.expose_secret().iter().all(|&b| b == t));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(status().live_secrets, 0);
}
