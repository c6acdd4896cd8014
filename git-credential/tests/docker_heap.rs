//! The secret never lands in ordinary memory: after a `store` and a `get`
//! (over a test store and over a real vault), no heap, stack or anonymous
//! mapping of this process holds the secret, live or freed. The process's
//! memory is read through `/proc/self/mem` (no `unsafe`); the needle itself
//! lives only in locked memory, whose mapping the scan skips. A positive
//! control proves the scan finds a heap copy.
//!
//! One test function: the scan must not race other tests of this binary.

use keyward_protocols::docker::{self, Access, Backend, Error};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::cell::RefCell;
use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom, Write};
use std::rc::Rc;

/// The secret, spelled only with JSON escapes so that the program image does
/// not contain it either: 40 bytes, `K3yw4rd-heap-marker-…`.
const STORE: &[u8] = br#"{"ServerURL":"registry.example.com","Username":"u","Secret":"\u004b\u0033\u0079\u0077\u0034\u0072\u0064\u002d\u0068\u0065\u0061\u0070\u002d\u006d\u0061\u0072\u006b\u0065\u0072\u002d\u0039\u0066\u0032\u0063\u0037\u0061\u0031\u0065\u0034\u0062\u0038\u0064\u0036\u0030\u0035\u0061\u0033\u0066\u0039\u0063"}"#;

/// The same 40 bytes, built in locked memory one byte at a time.
fn needle() -> SecretBytes {
    let mut n = SecretBytes::with_capacity(40).unwrap();
    let spelled = [
        0x4b, 0x33, 0x79, 0x77, 0x34, 0x72, 0x64, 0x2d, 0x68, 0x65, 0x61, 0x70, 0x2d, 0x6d, 0x61,
        0x72, 0x6b, 0x65, 0x72, 0x2d, 0x39, 0x66, 0x32, 0x63, 0x37, 0x61, 0x31, 0x65, 0x34, 0x62,
        0x38, 0x64, 0x36, 0x30, 0x35, 0x61, 0x33, 0x66, 0x39, 0x63u8,
    ];
    for b in spelled {
        n.push(b).unwrap();
    }
    n
}

/// Where a test store keeps credentials: locked memory only (shared handle).
#[derive(Debug, Default, Clone)]
struct Locked(Rc<RefCell<Vec<(String, String, SecretBytes)>>>);

impl Backend for Locked {
    fn list(&mut self) -> Result<Vec<(String, String)>, Error> {
        Ok(self
            .0
            .borrow()
            .iter()
            .map(|(s, u, _)| (s.clone(), u.clone()))
            .collect())
    }
    fn reveal(&mut self, index: usize) -> Result<SecretBytes, Error> {
        Ok(self.0.borrow()[index].2.try_clone()?)
    }
    fn store(
        &mut self,
        server: &str,
        username: &str,
        secret: SecretBytes,
        replaces: &dyn Fn(&str) -> bool,
    ) -> Result<(), Error> {
        let mut v = self.0.borrow_mut();
        v.retain(|(s, _, _)| !replaces(s));
        v.push((server.into(), username.into(), secret));
        Ok(())
    }
    fn erase(&mut self, erase: &dyn Fn(&str) -> bool) -> Result<usize, Error> {
        let mut v = self.0.borrow_mut();
        let n = v.len();
        v.retain(|(s, _, _)| !erase(s));
        Ok(n - v.len())
    }
}

/// Collects the helper's stdout in locked memory.
struct LockedOut(SecretBytes);

impl Write for LockedOut {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .extend_from_slice(buf)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Length of the needle's fragments searched for: `free` overwrites the
/// first 16 bytes of a released chunk with allocator pointers, so a whole
/// freed copy is rarely intact, but its fragments are.
const FRAGMENT: usize = 16;

/// Scans this process's memory without allocating while it scans (an
/// allocation could reuse, and so overwrite, the freed chunk being looked for).
struct Scanner {
    maps: String,
    buf: Vec<u8>,
}

impl Scanner {
    fn new() -> Self {
        Scanner {
            maps: String::with_capacity(1 << 20),
            buf: vec![0u8; 1 << 20],
        }
    }

    /// Whether any readable, writable, anonymous mapping (heap, stacks,
    /// anonymous mmaps) other than the needle's own holds a fragment of it.
    fn finds(&mut self, needle: &SecretBytes) -> bool {
        let n = needle.expose_secret();
        let own = n.as_ptr() as usize;
        self.maps.clear();
        std::fs::File::open("/proc/self/maps")
            .unwrap()
            .read_to_string(&mut self.maps)
            .unwrap();
        let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
        let buf = &mut self.buf;
        let mut found = false;
        // Pre-filter on the fragments' first bytes (a table of byte values).
        let mut first = [false; 256];
        for i in (0..=n.len() - FRAGMENT).step_by(4) {
            first[usize::from(n[i])] = true;
        }
        for line in self.maps.lines() {
            let mut f = line.split_whitespace();
            let (range, perms) = (f.next().unwrap(), f.next().unwrap());
            let path = f.nth(3).unwrap_or("");
            if !perms.starts_with("rw")
                || !(path.is_empty() || path == "[heap]" || path == "[stack]")
            {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap();
            let (start, end) = (
                usize::from_str_radix(a, 16).unwrap(),
                usize::from_str_radix(b, 16).unwrap(),
            );
            if (start..end).contains(&own) {
                continue;
            }
            // Overlapping chunks so a match across a chunk boundary is found.
            let mut at = start;
            while at < end && !found {
                let len = (end - at).min(buf.len());
                if mem.seek(SeekFrom::Start(at as u64)).is_err()
                    || mem.read_exact(&mut buf[..len]).is_err()
                {
                    break; // unreadable (guard page): skip the rest of this mapping
                }
                found = buf[..len].windows(FRAGMENT).any(|w| {
                    first[usize::from(w[0])]
                        && (0..=n.len() - FRAGMENT)
                            .step_by(4)
                            .any(|i| w == &n[i..i + FRAGMENT])
                });
                if at + len >= end {
                    break;
                }
                at += len - (FRAGMENT - 1);
            }
        }
        zeroize::Zeroize::zeroize(&mut buf[..]);
        found
    }
}

fn serve(action: &str, stdin: &[u8], store: impl Backend) -> (i32, SecretBytes) {
    let mut out = LockedOut(SecretBytes::with_capacity(256).unwrap());
    let args = [OsString::from(action)];
    let code = docker::serve(&args, &mut &stdin[..], &mut out, |_: Access| {
        Ok(Some(store))
    });
    (code, out.0)
}

/// `store` then `get`; checks the answer in locked memory.
fn store_and_get<B: Backend>(mut open: impl FnMut() -> B, needle: &SecretBytes) {
    let (code, out) = serve("store", STORE, open());
    assert_eq!((code, out.len()), (0, 0));
    let (code, out) = serve("get", b"registry.example.com", open());
    assert_eq!(code, 0);
    let prefix = br#"{"ServerURL":"registry.example.com","Username":"u","Secret":""#;
    let answer = out.expose_secret();
    assert_eq!(answer.len(), prefix.len() + needle.len() + 3);
    assert_eq!(&answer[..prefix.len()], prefix);
    assert!(answer[prefix.len()..].starts_with(needle.expose_secret()));
    assert_eq!(&answer[prefix.len() + needle.len()..], b"\"}\n");
}

#[test]
fn the_secret_never_reaches_ordinary_memory() {
    let needle = needle();
    let mut scan = Scanner::new();
    assert!(!scan.finds(&needle), "marker present before the test");

    // Positive control: a heap copy is found; wiped, it is gone again.
    let mut copy = needle.expose_secret().to_vec();
    assert!(scan.finds(&needle), "the scan does not see the heap");
    zeroize::Zeroize::zeroize(&mut copy);
    drop(copy);
    assert!(!scan.finds(&needle));

    // The protocol layer over a store in locked memory.
    let store = Locked::default();
    store_and_get(|| store.clone(), &needle);
    drop(store);
    assert!(
        !scan.finds(&needle),
        "the secret was left in ordinary memory by the protocol layer"
    );

    // The same over a real vault (encrypt on store, decrypt on get).
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let path = dir.path().join("vault");
    let password = SecretBytes::from_slice(b"test vault password").unwrap();
    let kdf = keyward_vault::KdfParams {
        log_n: 10,
        r: 8,
        p: 1,
    };
    let key = {
        let v = keyward_vault::Vault::create(&path, &password, kdf).unwrap();
        v.key().try_clone().unwrap()
    };
    store_and_get(
        || {
            let key = key.try_clone().unwrap();
            docker::vault::VaultStore::new(keyward_vault::Vault::open_with_key(&path, key).unwrap())
        },
        &needle,
    );
    assert!(
        !scan.finds(&needle),
        "the secret was left in ordinary memory by the vault path"
    );
}
