//! Where secret bytes are allocated. Safe wrapper over `sys`.

use crate::error::{Error, Result};
use crate::policy::{self, Backend, LockPolicy};
use crate::sys::{self, Mapping};
use std::sync::atomic::Ordering;

/// Largest single secret keyward handles (tokens, keys, a whole decrypted record).
pub const MAX_SECRET_LEN: usize = 16 << 20;

/// Storage for one secret: zeroed on creation, wiped on drop.
#[derive(Debug)]
pub(crate) struct Region {
    map: Mapping,
    cap: usize,
    locked: bool,
}

impl Region {
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map.as_slice()[..self.cap]
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        let cap = self.cap;
        &mut self.map.as_mut_slice()[..cap]
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.map.as_mut_slice());
        policy::LIVE_SECRETS.fetch_sub(1, Ordering::SeqCst);
        policy::MAPPED_BYTES.fetch_sub(self.map.data_len(), Ordering::SeqCst);
        if self.locked {
            policy::LOCKED_BYTES.fetch_sub(self.map.data_len(), Ordering::SeqCst);
        }
        // `Mapping::drop` unlocks and unmaps.
    }
}

/// The backend new secrets get.
pub(crate) fn backend() -> Backend {
    if policy::LOCK_FAILED.load(Ordering::SeqCst) {
        Backend::Unlocked
    } else {
        Backend::Mlock
    }
}

/// Allocates `cap` zeroed bytes of secure memory.
pub(crate) fn allocate(cap: usize) -> Result<Region> {
    if cap > MAX_SECRET_LEN {
        return Err(Error::TooLarge {
            requested: cap,
            max: MAX_SECRET_LEN,
        });
    }
    let data_len = sys::round_to_pages(cap);
    let map = Mapping::new(data_len).map_err(Error::Map)?;
    map.advise().map_err(Error::Map)?;
    let locked = match map.lock() {
        Ok(()) => true,
        Err(e) => match policy::policy() {
            LockPolicy::Required => {
                let limit = policy::memlock_limit()
                    .map(|l| usize::try_from(l).unwrap_or(usize::MAX))
                    .unwrap_or(usize::MAX);
                let locked = policy::LOCKED_BYTES.load(Ordering::SeqCst);
                return Err(match e.raw_os_error() {
                    Some(libc::ENOMEM) | Some(libc::EAGAIN) => Error::MemlockExhausted {
                        requested: data_len,
                        locked,
                        limit,
                    },
                    _ => Error::LockUnavailable(e),
                });
            }
            LockPolicy::BestEffort => {
                policy::warn_unlocked_once(&e);
                false
            }
        },
    };
    policy::LIVE_SECRETS.fetch_add(1, Ordering::SeqCst);
    policy::MAPPED_BYTES.fetch_add(data_len, Ordering::SeqCst);
    if locked {
        policy::LOCKED_BYTES.fetch_add(data_len, Ordering::SeqCst);
    }
    Ok(Region { map, cap, locked })
}
