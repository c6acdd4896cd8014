//! # keyward-tpm: the vault key sealed to the machine's TPM 2.0
//!
//! The `tpm2` key slot of a vault: [`Tpm::seal`] hands a 32-byte key (the
//! slot's secret, which unwraps the vault key: FORMAT.md, "Key slots") to the TPM, which encrypts it under a storage key that never leaves the
//! chip (a primary key derived from the owner hierarchy's seed, recreated on
//! every use); the result, a [`SealedKey`], is the slot's payload.
//! [`Tpm::unseal`] gives the key back, straight into locked memory, only on
//! the same TPM, and only while its conditions hold:
//!
//! - **PCRs** ([`PcrList`], SHA-256 bank): the key unseals only while those
//!   PCRs hold the values they had at sealing (the same firmware, boot loader,
//!   Secure Boot state, …): a disk booted into another system cannot use it.
//! - **PIN**: the TPM checks it (the object's authValue is SHA-256 of a
//!   random salt and the PIN), and every wrong PIN counts toward the TPM's
//!   dictionary-attack lockout, so guessing is throttled by the chip and not
//!   by software the attacker could skip.
//!
//! Sessions are salted with the storage key and encrypt the sealed data in
//! both directions (AES-128-CFB parameter encryption): the key does not
//! cross the bus in clear.
//!
//! The TCTI (how to reach the TPM) comes from [`Tcti::for_user`]
//! (`KEYWARD_TPM2_TCTI`, else the `tpm2_tcti` configuration key, else
//! `device:/dev/tpmrm0`) or, where the environment is not the user's to set
//! (the PAM module's login helper), [`Tcti::for_system`] (the system
//! configuration only).
//!
//! ## What it does not guarantee
//! - tss-esapi passes the key, the PIN's authValue and the unsealed bytes
//!   through its own buffers (`Zeroizing<Vec<u8>>`, ordinary heap, wiped on
//!   drop), and libtss2 through C heap blocks it frees without wiping (the
//!   returned `TPM2B_SENSITIVE_DATA`, its decrypted response buffer). They
//!   live for the length of one call; keyward copies the result into locked
//!   memory at once, and [`unseal_at`]/[`seal_at`] run the whole session on
//!   a thread of their own with glibc wiping freed C heap blocks
//!   ([`keyward_secmem::wipe_c_heap_on_free`]), so no copy outlives it
//!   (`tests/tests/tpm_slot.rs` scans a core of each program for them).
//!   [`Tpm`]'s own methods do not: they are for tests and tools.
//! - A live attacker running as the user (or as root) can ask the TPM to
//!   unseal just as keyward does: a `tpm2` slot protects a copied disk, a
//!   backup or a stolen vault file, not a compromised running system.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod blob;
mod pcr;
pub mod slot;
mod tcti;

pub use blob::SealedKey;
pub use pcr::PcrList;
pub use tcti::{Tcti, DEFAULT_TCTI, TCTI_ENV};

use keyward_secmem::{ExposeSecret, ExposeSecretMut, SecretBytes};
use sha2::{Digest as _, Sha256};
use tss_esapi::attributes::{ObjectAttributesBuilder, SessionAttributesBuilder};
use tss_esapi::constants::response_code::Tss2ResponseCodeKind;
use tss_esapi::constants::{PropertyTag, SessionType};
use tss_esapi::handles::{KeyHandle, ObjectHandle, SessionHandle};
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::ecc::EccCurve;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::interface_types::session_handles::{AuthSession, PolicySession};
use tss_esapi::structures::{
    Auth, Digest, EccPoint, KeyedHashScheme, Private, Public, PublicBuilder,
    PublicEccParametersBuilder, PublicKeyedHashParameters, SensitiveData, SymmetricDefinition,
    SymmetricDefinitionObject,
};
use tss_esapi::traits::{Marshall, UnMarshall};
use tss_esapi::Context;

/// Runs `f` (a whole TPM session: connect, work, disconnect) on a thread
/// of its own, with glibc wiping blocks of the C heap as they are freed.
/// libtss2 leaves the unsealed bytes in C heap blocks it frees without
/// wiping (the `TPM2B_SENSITIVE_DATA` it returns, its command and response
/// buffers), beyond the reach of the Rust allocator; the thread's cache of
/// small freed blocks (tcache), which glibc does not wipe on `free`, goes
/// back through `free`, and so is wiped, when the thread ends.
fn in_scrubbed_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    keyward_secmem::wipe_c_heap_on_free();
    std::thread::scope(|s| {
        s.spawn(|| keyward_secmem::with_scrubbed_stack(f))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

/// Seals `key` to the TPM at `tcti` ([`Tpm::seal`]) in a session of its
/// own on a thread of its own that leaves no secret in the C heap.
pub fn seal_at(
    tcti: &Tcti,
    key: &[u8],
    pcrs: PcrList,
    pin: Option<&SecretBytes>,
) -> Result<SealedKey> {
    in_scrubbed_thread(|| Tpm::open(tcti)?.seal(key, pcrs, pin))
}

/// Unseals `sealed` with the TPM at `tcti` ([`Tpm::unseal`]) in a session
/// of its own on a thread of its own that leaves no secret in the C heap:
/// what keyward's slot code calls.
pub fn unseal_at(
    tcti: &Tcti,
    sealed: &SealedKey,
    pin: Option<&SecretBytes>,
) -> Result<SecretBytes> {
    in_scrubbed_thread(|| Tpm::open(tcti)?.unseal(sealed, pin))
}

/// Length of the vault key this crate seals.
pub const KEY_LEN: usize = 32;

/// Why a TPM operation failed. Each variant prints one line that says what to
/// do next; none carries a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TCTI string is not one libtss2 knows (`device:`, `swtpm:`, `mssim:`, `tabrmd:`).
    #[error("bad TPM address {tcti:?} (from {from}): expected device:PATH, swtpm:host=H,port=P, mssim:… or tabrmd:…")]
    BadTcti {
        /// The string as given.
        tcti: String,
        /// Where it came from (`KEYWARD_TPM2_TCTI`, a configuration file).
        from: String,
    },
    /// No TPM answers at the TCTI.
    #[error("no TPM reachable at {tcti} ({why}): check the TPM (or set {TCTI_ENV} / tpm2_tcti), or unlock with another slot")]
    Unreachable {
        /// The TCTI tried.
        tcti: String,
        /// libtss2's reason.
        why: String,
    },
    /// The PCRs the key is bound to hold other values than at sealing.
    #[error("the TPM refuses: PCRs {pcrs} changed since the key was sealed (firmware, boot loader or Secure Boot state): unlock with another slot, then `keyward enroll tpm2` again")]
    PcrsChanged {
        /// The bound PCRs.
        pcrs: PcrList,
    },
    /// The PIN was wrong; the TPM counted it.
    #[error("wrong TPM PIN ({lockout})")]
    WrongPin {
        /// The TPM's lockout state after this failure.
        lockout: LockoutState,
    },
    /// The TPM refuses every PIN until the lockout interval passes.
    #[error("the TPM is locked out after too many wrong PINs ({lockout}): wait, or unlock with another slot")]
    LockedOut {
        /// The TPM's lockout state.
        lockout: LockoutState,
    },
    /// The slot needs a PIN and none was given.
    #[error("this TPM slot needs its PIN")]
    PinRequired,
    /// The blob was sealed by another TPM, or this TPM was cleared since.
    #[error("the key was sealed by another TPM (or this TPM was cleared since): unlock with another slot, then `keyward enroll tpm2` again")]
    NotThisTpm,
    /// The stored slot payload is not a sealed key this version reads.
    #[error("the tpm2 slot is damaged or from a newer keyward: {0}")]
    Malformed(String),
    /// Any other TPM failure.
    #[error("TPM {op} failed: {why}")]
    Tpm {
        /// The operation.
        op: &'static str,
        /// The TPM's or libtss2's message.
        why: String,
    },
    /// Locked memory could not be had.
    #[error(transparent)]
    Memory(#[from] keyward_secmem::Error),
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// The TPM's dictionary-attack state (TPM2_PT_LOCKOUT_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutState {
    /// Authorization failures counted now.
    pub counter: u32,
    /// Failures before the TPM locks out.
    pub max_tries: u32,
    /// Seconds after which one failure is forgotten.
    pub interval_secs: u32,
    /// Whether the TPM is in lockout now.
    pub in_lockout: bool,
}

impl LockoutState {
    /// Placeholder until the state is read.
    const UNKNOWN: LockoutState = LockoutState {
        counter: 0,
        max_tries: 0,
        interval_secs: 0,
        in_lockout: false,
    };
}

impl std::fmt::Display for LockoutState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.in_lockout {
            write!(
                f,
                "{} of {} failures counted; one is forgiven every {} s",
                self.counter, self.max_tries, self.interval_secs
            )
        } else {
            write!(
                f,
                "{} of {} failures before the TPM locks out; one is forgiven every {} s",
                self.counter, self.max_tries, self.interval_secs
            )
        }
    }
}

/// An open connection to a TPM.
pub struct Tpm {
    ctx: Context,
    tcti: Tcti,
}

impl std::fmt::Debug for Tpm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tpm").field("tcti", &self.tcti).finish()
    }
}

/// Handles to flush when an operation ends, on every path: without a
/// resource manager (swtpm, `/dev/tpm0`) transient objects and sessions
/// outlive the connection and fill the TPM's few slots.
#[derive(Default)]
struct Flush(Vec<ObjectHandle>);

impl Flush {
    fn run(self, ctx: &mut Context) {
        for h in self.0 {
            let _ = ctx.flush_context(h);
        }
    }
}

fn tpm_err(op: &'static str) -> impl Fn(tss_esapi::Error) -> Error {
    move |e| Error::Tpm {
        op,
        why: e.to_string(),
    }
}

fn kind(e: &tss_esapi::Error) -> Option<Tss2ResponseCodeKind> {
    match e {
        tss_esapi::Error::Tss2Error(rc) => rc.kind(),
        tss_esapi::Error::WrapperError(_) => None,
    }
}

impl Tpm {
    /// Connects to the TPM at `tcti`.
    pub fn open(tcti: &Tcti) -> Result<Tpm> {
        tcti::quiet_libtss2();
        let ctx = Context::new(tcti.conf()).map_err(|e| Error::Unreachable {
            tcti: tcti.to_string(),
            why: tcti.why_unreachable().unwrap_or_else(|| e.to_string()),
        })?;
        let mut tpm = Tpm {
            ctx,
            tcti: tcti.clone(),
        };
        // Context::new only opens the channel (a device node, a socket);
        // ask one question to know a TPM answers.
        tpm.ctx
            .get_tpm_property(PropertyTag::Manufacturer)
            .map_err(|e| Error::Unreachable {
                tcti: tcti.to_string(),
                why: e.to_string(),
            })?;
        Ok(tpm)
    }

    /// The TCTI this connection uses.
    pub fn tcti(&self) -> &Tcti {
        &self.tcti
    }

    /// The TPM's manufacturer (four ASCII letters, e.g. `IBM`, `INTC`), for `keyward doctor`.
    pub fn manufacturer(&mut self) -> Result<String> {
        let v = self
            .ctx
            .get_tpm_property(PropertyTag::Manufacturer)
            .map_err(tpm_err("GetCapability"))?
            .unwrap_or(0);
        Ok(v.to_be_bytes()
            .iter()
            .filter(|b| b.is_ascii_graphic())
            .map(|&b| char::from(b))
            .collect())
    }

    /// The TPM's dictionary-attack lockout state.
    pub fn lockout(&mut self) -> Result<LockoutState> {
        let mut get = |p| {
            self.ctx
                .get_tpm_property(p)
                .map_err(tpm_err("GetCapability"))
                .map(|v| v.unwrap_or(0))
        };
        let counter = get(PropertyTag::LockoutCounter)?;
        let max_tries = get(PropertyTag::MaxAuthFail)?;
        let interval_secs = get(PropertyTag::LockoutInterval)?;
        // TPMA_PERMANENT bit 9: inLockout.
        let in_lockout = get(PropertyTag::Permanent)? & (1 << 9) != 0;
        Ok(LockoutState {
            counter,
            max_tries,
            interval_secs,
            in_lockout,
        })
    }

    /// Seals `key` (the 32-byte vault key, borrowed from locked memory) to
    /// this TPM, bound to `pcrs` (their current SHA-256 values) and, with
    /// `pin`, to that PIN.
    pub fn seal(
        &mut self,
        key: &[u8],
        pcrs: PcrList,
        pin: Option<&SecretBytes>,
    ) -> Result<SealedKey> {
        if key.len() != KEY_LEN {
            return Err(Error::Tpm {
                op: "seal",
                why: format!("a vault key has {KEY_LEN} bytes, not {}", key.len()),
            });
        }
        let salt = blob::new_salt()?;
        let auth = pin.map(|p| pin_auth(&salt, p)).transpose()?;
        let mut flush = Flush::default();
        let r = keyward_secmem::with_scrubbed_stack(|| {
            self.seal_in(key, pcrs, auth.as_ref(), &mut flush)
        });
        flush.run(&mut self.ctx);
        let (primary_name, public, private) = r?;
        Ok(SealedKey {
            pin: pin.is_some(),
            pcrs,
            salt,
            primary_name,
            public,
            private,
        })
    }

    fn seal_in(
        &mut self,
        key: &[u8],
        pcrs: PcrList,
        auth: Option<&SecretBytes>,
        flush: &mut Flush,
    ) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let (primary, primary_name) = self.primary(flush)?;
        let policy = if pcrs.is_empty() && auth.is_none() {
            None
        } else {
            Some(self.trial_policy(pcrs, auth.is_some(), flush)?)
        };
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            // Without a PIN there is no authorization to fail: keep such
            // objects out of the dictionary-attack logic. With one, every
            // wrong PIN counts.
            .with_no_da(auth.is_none())
            .with_user_with_auth(policy.is_none())
            .with_admin_with_policy(policy.is_some())
            .build()
            .map_err(tpm_err("seal"))?;
        let public = PublicBuilder::new()
            .with_public_algorithm(PublicAlgorithm::KeyedHash)
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_auth_policy(policy.unwrap_or_default())
            .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
            .with_keyed_hash_unique_identifier(Digest::default())
            .build()
            .map_err(tpm_err("seal"))?;
        let session = self.salted_session(primary, SessionType::Hmac, flush)?;
        let data = SensitiveData::try_from(key).map_err(tpm_err("seal"))?;
        let auth = auth
            .map(|a| Auth::try_from(a.expose_secret()))
            .transpose()
            .map_err(tpm_err("seal"))?;
        let created = self
            .ctx
            .execute_with_session(Some(session), |c| {
                c.create(primary, public, auth, Some(data), None, None)
            })
            .map_err(tpm_err("Create"))?;
        let public = created.out_public.marshall().map_err(tpm_err("seal"))?;
        Ok((primary_name, public, created.out_private.value().to_vec()))
    }

    /// Unseals `sealed` into a new guarded allocation of locked memory.
    /// `pin` is needed exactly when [`SealedKey::needs_pin`].
    pub fn unseal(&mut self, sealed: &SealedKey, pin: Option<&SecretBytes>) -> Result<SecretBytes> {
        let auth = match (sealed.pin, pin) {
            (true, None) => return Err(Error::PinRequired),
            (true, Some(p)) => Some(pin_auth(&sealed.salt, p)?),
            (false, _) => None,
        };
        let mut flush = Flush::default();
        let r = keyward_secmem::with_scrubbed_stack(|| {
            self.unseal_in(sealed, auth.as_ref(), &mut flush)
        });
        flush.run(&mut self.ctx);
        // The lockout state is read after the flush, when the TPM has counted.
        match r {
            Err(Error::WrongPin { .. }) => Err(Error::WrongPin {
                lockout: self.lockout()?,
            }),
            Err(Error::LockedOut { .. }) => Err(Error::LockedOut {
                lockout: self.lockout()?,
            }),
            r => r,
        }
    }

    fn unseal_in(
        &mut self,
        sealed: &SealedKey,
        auth: Option<&SecretBytes>,
        flush: &mut Flush,
    ) -> Result<SecretBytes> {
        let (primary, name) = self.primary(flush)?;
        if name != sealed.primary_name {
            return Err(Error::NotThisTpm);
        }
        let public = Public::unmarshall(&sealed.public)
            .map_err(|e| Error::Malformed(format!("public part: {e}")))?;
        let private = Private::try_from(sealed.private.as_slice())
            .map_err(|e| Error::Malformed(format!("private part: {e}")))?;
        let object = self
            .ctx
            .execute_with_session(Some(AuthSession::Password), |c| {
                c.load(primary, private, public)
            })
            .map_err(|e| match kind(&e) {
                Some(Tss2ResponseCodeKind::Integrity) => Error::NotThisTpm,
                _ => tpm_err("Load")(e),
            })?;
        flush.0.push(object.into());
        let session = if sealed.pin || !sealed.pcrs.is_empty() {
            let s = self.salted_session(primary, SessionType::Policy, flush)?;
            let p = PolicySession::try_from(s).map_err(tpm_err("unseal"))?;
            self.ctx
                .execute_without_session(|c| {
                    if !sealed.pcrs.is_empty() {
                        c.policy_pcr(p, Digest::default(), sealed.pcrs.selection()?)?;
                    }
                    if sealed.pin {
                        c.policy_auth_value(p)?;
                    }
                    Ok(())
                })
                .map_err(tpm_err("policy"))?;
            s
        } else {
            self.salted_session(primary, SessionType::Hmac, flush)?
        };
        if let Some(a) = auth {
            let a = Auth::try_from(a.expose_secret()).map_err(tpm_err("unseal"))?;
            self.ctx
                .tr_set_auth(object.into(), a)
                .map_err(tpm_err("unseal"))?;
        }
        let data = self
            .ctx
            .execute_with_session(Some(session), |c| c.unseal(object.into()))
            .map_err(|e| match kind(&e) {
                Some(Tss2ResponseCodeKind::PolicyFail) if !sealed.pcrs.is_empty() => {
                    Error::PcrsChanged { pcrs: sealed.pcrs }
                }
                Some(Tss2ResponseCodeKind::AuthFail | Tss2ResponseCodeKind::BadAuth) => {
                    Error::WrongPin {
                        lockout: LockoutState::UNKNOWN,
                    }
                }
                Some(Tss2ResponseCodeKind::Lockout) => Error::LockedOut {
                    lockout: LockoutState::UNKNOWN,
                },
                _ => tpm_err("Unseal")(e),
            })?;
        if data.value().len() != KEY_LEN {
            return Err(Error::Malformed(format!(
                "the TPM returned {} bytes, not a {KEY_LEN}-byte key",
                data.value().len()
            )));
        }
        Ok(SecretBytes::guarded_from_slice(data.value())?)
    }

    /// The storage primary key (ECC P-256, AES-128-CFB, the TCG template),
    /// recreated from the owner seed, and its name (which differs on
    /// another TPM, or after a TPM clear).
    fn primary(&mut self, flush: &mut Flush) -> Result<(KeyHandle, Vec<u8>)> {
        let attributes = ObjectAttributesBuilder::new()
            .with_fixed_tpm(true)
            .with_fixed_parent(true)
            .with_sensitive_data_origin(true)
            .with_user_with_auth(true)
            .with_restricted(true)
            .with_decrypt(true)
            .with_no_da(true)
            .build()
            .map_err(tpm_err("CreatePrimary"))?;
        let params = PublicEccParametersBuilder::new_restricted_decryption_key(
            SymmetricDefinitionObject::AES_128_CFB,
            EccCurve::NistP256,
        )
        .build()
        .map_err(tpm_err("CreatePrimary"))?;
        let public = PublicBuilder::new()
            .with_public_algorithm(PublicAlgorithm::Ecc)
            .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
            .with_object_attributes(attributes)
            .with_ecc_parameters(params)
            .with_ecc_unique_identifier(EccPoint::default())
            .build()
            .map_err(tpm_err("CreatePrimary"))?;
        let key = self
            .ctx
            .execute_with_session(Some(AuthSession::Password), |c| {
                c.create_primary(Hierarchy::Owner, public, None, None, None, None)
            })
            .map_err(|e| match kind(&e) {
                Some(Tss2ResponseCodeKind::AuthFail | Tss2ResponseCodeKind::BadAuth) => {
                    Error::Tpm {
                        op: "CreatePrimary",
                        why: "the TPM's owner hierarchy has a password; keyward needs it empty (`tpm2_changeauth -c owner -p OLD`), or use another slot"
                            .into(),
                    }
                }
                _ => tpm_err("CreatePrimary")(e),
            })?
            .key_handle;
        flush.0.push(key.into());
        let name = self
            .ctx
            .tr_get_name(key.into())
            .map_err(tpm_err("CreatePrimary"))?;
        Ok((key, name.value().to_vec()))
    }

    /// A session salted with `primary` that encrypts the first command
    /// parameter (the sealed data going in) and the first response
    /// parameter (the unsealed data coming out).
    fn salted_session(
        &mut self,
        primary: KeyHandle,
        kind: SessionType,
        flush: &mut Flush,
    ) -> Result<AuthSession> {
        let s = self
            .ctx
            .execute_without_session(|c| {
                c.start_auth_session(
                    Some(primary),
                    None,
                    None,
                    kind,
                    SymmetricDefinition::AES_128_CFB,
                    HashingAlgorithm::Sha256,
                )
            })
            .map_err(tpm_err("StartAuthSession"))?
            .ok_or_else(|| Error::Tpm {
                op: "StartAuthSession",
                why: "no session handle".into(),
            })?;
        flush.0.push(SessionHandle::from(s).into());
        let (attrs, mask) = SessionAttributesBuilder::new()
            .with_decrypt(true)
            .with_encrypt(true)
            .with_continue_session(true)
            .build();
        self.ctx
            .tr_sess_set_attributes(s, attrs, mask)
            .map_err(tpm_err("StartAuthSession"))?;
        Ok(s)
    }

    /// The policy digest of PolicyPCR(`pcrs`, current values) then, with a
    /// PIN, PolicyAuthValue, from a trial session.
    fn trial_policy(&mut self, pcrs: PcrList, pin: bool, flush: &mut Flush) -> Result<Digest> {
        self.ctx
            .execute_without_session(|c| {
                let s = c
                    .start_auth_session(
                        None,
                        None,
                        None,
                        SessionType::Trial,
                        SymmetricDefinition::Null,
                        HashingAlgorithm::Sha256,
                    )?
                    .ok_or(tss_esapi::Error::WrapperError(
                        tss_esapi::WrapperErrorKind::WrongValueFromTpm,
                    ))?;
                flush.0.push(SessionHandle::from(s).into());
                let p = PolicySession::try_from(s)?;
                if !pcrs.is_empty() {
                    c.policy_pcr(p, Digest::default(), pcrs.selection()?)?;
                }
                if pin {
                    c.policy_auth_value(p)?;
                }
                c.policy_get_digest(p)
            })
            .map_err(tpm_err("policy"))
    }
}

/// The authValue of a PIN slot: SHA-256(salt ‖ PIN), in locked memory. The
/// salt makes one PIN give different authValues in different slots; the TPM's
/// lockout, not the hash, is what makes guessing slow.
fn pin_auth(salt: &[u8], pin: &SecretBytes) -> Result<SecretBytes> {
    let mut out = SecretBytes::zeroed(32)?;
    keyward_secmem::with_scrubbed_stack(|| {
        let mut h = Sha256::new();
        h.update(salt);
        h.update(pin.expose_secret());
        let d = h.finalize();
        out.expose_secret_mut().copy_from_slice(&d);
        let mut d = d;
        keyward_secmem::wipe(d.as_mut_slice());
    });
    Ok(out)
}
