//! keyward-secret-service: a headless freedesktop Secret Service
//! (`org.freedesktop.secrets` on the session bus) whose one collection is the
//! keyward vault.
//!
//! - Items are vault records of kind `secret-service` ([`store`]); label and
//!   attributes are encrypted with the index like every record's metadata.
//! - The service is locked exactly when the vault is: unlocked while the
//!   kernel keyring holds the vault key (`keyward unlock`, a PAM login), locked
//!   by `keyward lock` or the Secret Service `Lock` call. `Unlock` of a locked
//!   vault returns a prompt that asks on the service's terminal (the helpers'
//!   prompt) when it has one, and otherwise completes dismissed.
//! - Sessions: `plain` and `dh-ietf1024-sha256-aes128-cbc-pkcs7` ([`dh`]).
//!   Secrets, session keys and DH private values live in locked memory; see
//!   the `service` module for what reaches the wire.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod dh;
mod service;
pub mod store;

use service::{CollectionObj, ServiceObj, Shared, BUS_NAME};
use std::sync::Arc;
use zbus::fdo::{RequestNameFlags, RequestNameReply};

/// What can stop the service from starting or serving. One line each.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Bad command line.
    #[error("usage: keyward-secret-service [--replace] [--sessions plain|dh|both]")]
    Usage,
    /// Another provider owns the name.
    #[error("{BUS_NAME} is owned by {0}; stop it, or run keyward-secret-service --replace")]
    NameTaken(String),
    /// The session bus is unreachable, or a D-Bus call failed.
    #[error("D-Bus: {0} (is DBUS_SESSION_BUS_ADDRESS set? run under dbus-run-session or systemd --user)")]
    Bus(#[from] zbus::Error),
    /// Configuration or vault errors.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Configuration errors.
    #[error(transparent)]
    Vault(#[from] keyward_vault::Error),
    /// Secure memory errors.
    #[error(transparent)]
    Secmem(#[from] keyward_secmem::Error),
}

/// Who owns `name`: `COMM (pid N, :1.x)`, as far as the bus tells.
fn describe_owner(conn: &zbus::blocking::Connection, name: &str) -> String {
    let Ok(proxy) = zbus::blocking::fdo::DBusProxy::new(conn) else {
        return "another program".into();
    };
    let Ok(bus_name) = zbus::names::BusName::try_from(name) else {
        return "another program".into();
    };
    let Ok(owner) = proxy.get_name_owner(bus_name.clone()) else {
        return "another program".into();
    };
    let pid = proxy.get_connection_unix_process_id(bus_name).ok();
    let comm = pid
        .and_then(|p| std::fs::read_to_string(format!("/proc/{p}/comm")).ok())
        .map(|c| c.trim().to_string());
    match (comm, pid) {
        (Some(c), Some(p)) => format!("{c} (pid {p}, {owner})"),
        (None, Some(p)) => format!("pid {p} ({owner})"),
        _ => owner.to_string(),
    }
}

/// Runs the service until the bus goes away. `args` without the program name.
pub fn run(args: &[std::ffi::OsString]) -> Result<(), RunError> {
    let mut replace = false;
    let mut sessions = service::Sessions::Both;
    let mut args = args.iter().map(|a| a.to_str());
    while let Some(a) = args.next() {
        match a {
            Some("--replace") => replace = true,
            Some("--sessions") => {
                sessions = match args.next() {
                    Some(Some("plain")) => service::Sessions::Plain,
                    Some(Some("dh")) => service::Sessions::Dh,
                    Some(Some("both")) => service::Sessions::Both,
                    _ => return Err(RunError::Usage),
                }
            }
            _ => return Err(RunError::Usage),
        }
    }
    keyward_secmem::harden_process()?;
    let config = keyward_vault::Config::load()?;
    keyward_secmem::set_policy(config.memory_lock);
    let shared = Shared::new(store::Store::new(config)?, sessions);
    let conn = zbus::blocking::connection::Builder::session()?
        .serve_at(
            service::SERVICE_PATH,
            ServiceObj {
                shared: shared.clone(),
            },
        )?
        .serve_at(
            service::COLLECTION_PATH,
            CollectionObj {
                shared: shared.clone(),
            },
        )?
        .serve_at(
            service::DEFAULT_ALIAS_PATH,
            CollectionObj {
                shared: shared.clone(),
            },
        )?
        .build()?;
    shared.set_connection(conn.inner().clone());
    let mut flags = RequestNameFlags::DoNotQueue.into();
    if replace {
        flags |= RequestNameFlags::ReplaceExisting;
    }
    if !request_name(&conn, flags)? {
        let owner = describe_owner(&conn, BUS_NAME);
        if !replace || !stop_owner(&conn) || !request_name(&conn, flags)? {
            return Err(RunError::NameTaken(owner));
        }
    }
    serve(&conn, &shared)
}

/// Whether we own the name now.
fn request_name(
    conn: &zbus::blocking::Connection,
    flags: enumflags2::BitFlags<RequestNameFlags>,
) -> Result<bool, RunError> {
    match conn.request_name_with_flags(BUS_NAME, flags) {
        Ok(RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner) => Ok(true),
        Ok(_) | Err(zbus::Error::NameTaken) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `--replace` when the owner does not allow replacement (gnome-keyring,
/// KeePassXC, another keyward): SIGTERM to the owning process, which the
/// kernel only delivers if it is ours, then up to 5 s for the name to free.
fn stop_owner(conn: &zbus::blocking::Connection) -> bool {
    let Ok(proxy) = zbus::blocking::fdo::DBusProxy::new(conn) else {
        return false;
    };
    let Ok(name) = zbus::names::BusName::try_from(BUS_NAME) else {
        return false;
    };
    let Ok(pid) = proxy.get_connection_unix_process_id(name.clone()) else {
        return false;
    };
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    let pid = nix::unistd::Pid::from_raw(pid);
    if nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).is_err() {
        return false;
    }
    for _ in 0..50 {
        if !proxy.name_has_owner(name.clone()).unwrap_or(true) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// Forgets the sessions of clients that leave; returns when the bus closes
/// or another provider takes the name (`--replace`).
fn serve(conn: &zbus::blocking::Connection, shared: &Arc<Shared>) -> Result<(), RunError> {
    let proxy = zbus::blocking::fdo::DBusProxy::new(conn)?;
    let me = conn
        .unique_name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    for signal in proxy.receive_name_owner_changed()? {
        let Ok(args) = signal.args() else { continue };
        if let Some(new) = args.new_owner().as_ref() {
            if args.name().as_str() == BUS_NAME && new.as_str() != me {
                return Err(RunError::NameTaken(format!("{new} now (--replace)")));
            }
            continue;
        }
        let name = args.name().to_string();
        for p in shared.client_gone(&name) {
            let _ = conn
                .object_server()
                .remove::<service::SessionObj, _>(p.as_str());
        }
    }
    Ok(())
}
