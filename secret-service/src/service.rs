//! The D-Bus objects: `Service` at `/org/freedesktop/secrets`, the one
//! `Collection` (the vault) at `…/collection/login` and `…/aliases/default`,
//! an `Item` per record at `…/collection/login/ID`, a `Session` per
//! `OpenSession` and a `Prompt` per locked `Unlock`.
//!
//! Secrets cross this layer as [`SecretBytes`] except at the wire: zbus
//! (de)serializes the `(oayays)` struct from and to a `Vec<u8>`. For a `plain`
//! session that vector holds the plaintext (the client asked for it); it is
//! wiped on drop, and the WipeOnFree allocator of the binary wipes zbus's
//! message buffers when they are freed. For a DH session only ciphertext and
//! the IV are in those vectors.

use crate::dh;
use crate::store::{Item, Meta, Store, StoreError};
use keyward_secmem::{ExposeSecret, SecretBytes};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use zbus::message::Header;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Type, Value};
use zeroize::Zeroize;

/// The well-known name.
pub const BUS_NAME: &str = "org.freedesktop.secrets";
/// The service object.
pub const SERVICE_PATH: &str = "/org/freedesktop/secrets";
/// The vault's collection.
pub const COLLECTION_PATH: &str = "/org/freedesktop/secrets/collection/login";
/// The `default` alias of it.
pub const DEFAULT_ALIAS_PATH: &str = "/org/freedesktop/secrets/aliases/default";
const SESSION_PREFIX: &str = "/org/freedesktop/secrets/session/";
const PROMPT_PREFIX: &str = "/org/freedesktop/secrets/prompt/";

/// The Secret Service's own errors (`org.freedesktop.Secret.Error.*`) and
/// the standard D-Bus ones (`Failed`, `NotSupported`, …), each sent under its
/// own name: libsecret falls back to a `plain` session only on
/// `org.freedesktop.DBus.Error.NotSupported` itself.
#[derive(Debug)]
pub enum SecretError {
    /// A standard D-Bus error.
    Fdo(zbus::fdo::Error),
    /// The vault is locked.
    IsLocked(String),
    /// The session does not exist or belongs to another client.
    NoSession(String),
    /// No such item or collection.
    NoSuchObject(String),
}

impl zbus::DBusError for SecretError {
    fn create_reply(&self, call: &Header<'_>) -> zbus::Result<zbus::Message> {
        zbus::Message::error(call, self.name())?.build(&(self.description().unwrap_or(""),))
    }

    fn name(&self) -> zbus::names::ErrorName<'_> {
        let name = match self {
            SecretError::Fdo(e) => return e.name(),
            SecretError::IsLocked(_) => "org.freedesktop.Secret.Error.IsLocked",
            SecretError::NoSession(_) => "org.freedesktop.Secret.Error.NoSession",
            SecretError::NoSuchObject(_) => "org.freedesktop.Secret.Error.NoSuchObject",
        };
        zbus::names::ErrorName::from_static_str_unchecked(name)
    }

    fn description(&self) -> Option<&str> {
        match self {
            SecretError::Fdo(e) => e.description(),
            SecretError::IsLocked(m) | SecretError::NoSession(m) | SecretError::NoSuchObject(m) => {
                Some(m)
            }
        }
    }
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use zbus::DBusError;
        write!(f, "{}: {}", self.name(), self.description().unwrap_or(""))
    }
}

impl std::error::Error for SecretError {}

impl From<zbus::Error> for SecretError {
    fn from(e: zbus::Error) -> SecretError {
        match e {
            zbus::Error::FDO(e) => SecretError::Fdo(*e),
            e => SecretError::Fdo(zbus::fdo::Error::Failed(e.to_string())),
        }
    }
}

impl From<zbus::fdo::Error> for SecretError {
    fn from(e: zbus::fdo::Error) -> SecretError {
        SecretError::Fdo(e)
    }
}

fn failed(msg: impl std::fmt::Display) -> SecretError {
    SecretError::Fdo(zbus::fdo::Error::Failed(msg.to_string()))
}

fn not_supported(msg: &str) -> SecretError {
    SecretError::Fdo(zbus::fdo::Error::NotSupported(msg.to_string()))
}

impl From<StoreError> for SecretError {
    fn from(e: StoreError) -> SecretError {
        match e {
            StoreError::Locked => SecretError::IsLocked(e.to_string()),
            StoreError::NoSuchItem => SecretError::NoSuchObject(e.to_string()),
            e => failed(e),
        }
    }
}

impl From<dh::DhError> for SecretError {
    fn from(e: dh::DhError) -> SecretError {
        SecretError::Fdo(zbus::fdo::Error::InvalidArgs(e.to_string()))
    }
}

type Result<T, E = SecretError> = std::result::Result<T, E>;

/// The spec's `Secret` struct `(oayays)`. `value` is wiped on drop and never
/// printed.
#[derive(Type, serde::Serialize, serde::Deserialize)]
pub struct WireSecret {
    session: OwnedObjectPath,
    parameters: Vec<u8>,
    value: Vec<u8>,
    content_type: String,
}

impl std::fmt::Debug for WireSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireSecret")
            .field("session", &self.session)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl Drop for WireSecret {
    fn drop(&mut self) {
        self.value.zeroize();
    }
}

/// Which session algorithms `OpenSession` accepts (`--sessions`): `plain`
/// only for clients that cannot do DH, `dh` to refuse plaintext on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sessions {
    /// `plain` only.
    Plain,
    /// `dh-ietf1024-sha256-aes128-cbc-pkcs7` only.
    Dh,
    /// Both (the default).
    Both,
}

enum Algorithm {
    Plain,
    /// The AES-128 key.
    Dh(SecretBytes),
}

struct Session {
    owner: String,
    algorithm: Algorithm,
}

/// State shared by every object.
pub struct Shared {
    store: Store,
    offered: Sessions,
    sessions: Mutex<HashMap<String, Session>>,
    counter: AtomicU64,
    /// Item ids with an object on the bus.
    published: Mutex<BTreeSet<String>>,
    /// One terminal prompt at a time.
    prompting: Mutex<()>,
    conn: OnceLock<zbus::Connection>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("vault", &self.store.path())
            .finish_non_exhaustive()
    }
}

fn path(s: String) -> OwnedObjectPath {
    // Every path built here is `/org/freedesktop/secrets/…` with hex or
    // decimal elements.
    OwnedObjectPath::try_from(s).unwrap_or_else(|_| root())
}

fn root() -> OwnedObjectPath {
    OwnedObjectPath::from(ObjectPath::from_static_str_unchecked("/"))
}

fn item_path(id: &str) -> OwnedObjectPath {
    path(format!("{COLLECTION_PATH}/{id}"))
}

fn collection_path() -> OwnedObjectPath {
    path(COLLECTION_PATH.to_string())
}

/// The item id in `p`, if `p` names an item of the collection.
fn item_id(p: &ObjectPath<'_>) -> Option<String> {
    let rest = p
        .as_str()
        .strip_prefix(COLLECTION_PATH)?
        .strip_prefix('/')?;
    Some(rest.to_string())
}

fn is_collection(p: &ObjectPath<'_>) -> bool {
    p.as_str() == COLLECTION_PATH || p.as_str() == DEFAULT_ALIAS_PATH
}

fn sender(h: &Header<'_>) -> String {
    h.sender().map(|s| s.to_string()).unwrap_or_default()
}

fn attributes_map(a: HashMap<String, String>) -> BTreeMap<String, String> {
    a.into_iter().collect()
}

impl Shared {
    /// Shared state over `store`.
    pub fn new(store: Store, offered: Sessions) -> Arc<Shared> {
        Arc::new(Shared {
            store,
            offered,
            sessions: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(1),
            published: Mutex::new(BTreeSet::new()),
            prompting: Mutex::new(()),
            conn: OnceLock::new(),
        })
    }

    /// Remembers the connection (for publishing objects and emitting signals).
    pub fn set_connection(&self, conn: zbus::Connection) {
        let _ = self.conn.set(conn);
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    fn conn(&self) -> Result<&zbus::Connection> {
        self.conn.get().ok_or_else(|| failed("not connected"))
    }

    /// Forgets the sessions of a client that left the bus.
    pub fn client_gone(&self, unique_name: &str) -> Vec<String> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let gone: Vec<String> = sessions
            .iter()
            .filter(|(_, s)| s.owner == unique_name)
            .map(|(p, _)| p.clone())
            .collect();
        for p in &gone {
            sessions.remove(p);
        }
        gone
    }

    /// Makes sure every item in `items` has an object on the bus, and that
    /// deleted ones have none.
    async fn publish(self: &Arc<Self>, items: &[Item]) -> Result<()> {
        let server = self.conn()?.object_server();
        let now: BTreeSet<String> = items.iter().map(|i| i.id.clone()).collect();
        let (added, removed) = {
            let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
            let added: Vec<String> = now.difference(&published).cloned().collect();
            let removed: Vec<String> = published.difference(&now).cloned().collect();
            *published = now;
            (added, removed)
        };
        for id in added {
            let obj = ItemObj {
                shared: self.clone(),
                id: id.clone(),
            };
            server.at(item_path(&id), obj).await?;
        }
        for id in removed {
            server.remove::<ItemObj, _>(item_path(&id)).await?;
        }
        Ok(())
    }

    async fn items(self: &Arc<Self>) -> Result<Vec<Item>> {
        let items = match self.store.open() {
            Ok(v) => Store::items(&v),
            Err(StoreError::Locked) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        self.publish(&items).await?;
        Ok(items)
    }

    async fn search(
        self: &Arc<Self>,
        query: HashMap<String, String>,
    ) -> Result<Vec<OwnedObjectPath>> {
        let query = attributes_map(query);
        Ok(self
            .items()
            .await?
            .iter()
            .filter(|i| {
                query
                    .iter()
                    .all(|(k, v)| i.meta.attributes.get(k) == Some(v))
            })
            .map(|i| item_path(&i.id))
            .collect())
    }

    /// A client's secret, decrypted into locked memory, with its content type.
    fn receive(&self, from: &str, mut s: WireSecret) -> Result<(SecretBytes, String)> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions
            .get(s.session.as_str())
            .filter(|x| x.owner == from)
            .ok_or_else(|| SecretError::NoSession("no such session".into()))?;
        let plain = match &session.algorithm {
            Algorithm::Plain => SecretBytes::from_slice(&s.value).map_err(failed)?,
            Algorithm::Dh(key) => dh::decrypt(key, &s.parameters, &s.value)?,
        };
        s.value.zeroize();
        Ok((plain, std::mem::take(&mut s.content_type)))
    }

    /// A secret for the client, as its session wants it on the wire.
    fn send(
        &self,
        to: &str,
        session: &ObjectPath<'_>,
        plain: &SecretBytes,
        content_type: String,
    ) -> Result<WireSecret> {
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let s = sessions
            .get(session.as_str())
            .filter(|x| x.owner == to)
            .ok_or_else(|| SecretError::NoSession("no such session".into()))?;
        let (parameters, value) = match &s.algorithm {
            // The client chose plaintext on the bus.
            Algorithm::Plain => (Vec::new(), plain.expose_secret().to_vec()),
            Algorithm::Dh(key) => dh::encrypt(key, plain.expose_secret())?,
        };
        Ok(WireSecret {
            session: session.to_owned().into(),
            parameters,
            value,
            content_type: if content_type.is_empty() {
                "text/plain".into()
            } else {
                content_type
            },
        })
    }

    async fn emit_item(&self, signal: &'static str, id: &str) {
        if let Some(conn) = self.conn.get() {
            let _ = conn
                .emit_signal(
                    None::<()>,
                    COLLECTION_PATH,
                    "org.freedesktop.Secret.Collection",
                    signal,
                    &item_path(id),
                )
                .await;
        }
    }

    async fn unlock_objects(
        self: &Arc<Self>,
        objects: Vec<OwnedObjectPath>,
    ) -> Result<(Vec<OwnedObjectPath>, OwnedObjectPath)> {
        if self.store.is_unlocked() {
            return Ok((objects, root()));
        }
        let p = path(format!("{PROMPT_PREFIX}{}", self.next()));
        let prompt = PromptObj {
            shared: self.clone(),
            objects: Mutex::new(Some(objects)),
        };
        self.conn()?.object_server().at(p.clone(), prompt).await?;
        Ok((Vec::new(), p))
    }
}

/// `org.freedesktop.Secret.Service`.
#[derive(Debug)]
pub struct ServiceObj {
    /// Shared state.
    pub shared: Arc<Shared>,
}

#[zbus::interface(name = "org.freedesktop.Secret.Service")]
impl ServiceObj {
    async fn open_session(
        &self,
        algorithm: &str,
        input: OwnedValue,
        #[zbus(header)] h: Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
    ) -> Result<(OwnedValue, OwnedObjectPath)> {
        let (alg, output) = match algorithm {
            "plain" if self.shared.offered != Sessions::Dh => (
                Algorithm::Plain,
                OwnedValue::from(zbus::zvariant::Str::from("")),
            ),
            dh::ALGORITHM if self.shared.offered != Sessions::Plain => {
                let peer = Vec::<u8>::try_from(input).map_err(|_| {
                    zbus::fdo::Error::InvalidArgs("DH input must be a byte array".into())
                })?;
                let (private, public) = dh::key_pair()?;
                let key = dh::session_key(&private, &peer)?;
                drop(private);
                let out = OwnedValue::try_from(Value::from(public)).map_err(failed)?;
                (Algorithm::Dh(key), out)
            }
            other => {
                return Err(not_supported(&format!(
                    "session algorithm {other:?} is not offered (see --sessions)"
                )))
            }
        };
        let p = path(format!("{SESSION_PREFIX}{}", self.shared.next()));
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                p.to_string(),
                Session {
                    owner: sender(&h),
                    algorithm: alg,
                },
            );
        server
            .at(
                p.clone(),
                SessionObj {
                    shared: self.shared.clone(),
                },
            )
            .await?;
        Ok((output, p))
    }

    async fn create_collection(
        &self,
        _properties: HashMap<String, OwnedValue>,
        alias: &str,
    ) -> Result<(OwnedObjectPath, OwnedObjectPath)> {
        match alias {
            "default" | "login" => Ok((collection_path(), root())),
            _ => Err(not_supported(
                "keyward serves one collection, the vault (alias `default`)",
            )),
        }
    }

    async fn search_items(
        &self,
        attributes: HashMap<String, String>,
    ) -> Result<(Vec<OwnedObjectPath>, Vec<OwnedObjectPath>)> {
        Ok((self.shared.search(attributes).await?, Vec::new()))
    }

    async fn unlock(
        &self,
        objects: Vec<OwnedObjectPath>,
    ) -> Result<(Vec<OwnedObjectPath>, OwnedObjectPath)> {
        self.shared.unlock_objects(objects).await
    }

    async fn lock(
        &self,
        objects: Vec<OwnedObjectPath>,
    ) -> Result<(Vec<OwnedObjectPath>, OwnedObjectPath)> {
        self.shared.store.lock()?;
        Ok((objects, root()))
    }

    async fn get_secrets(
        &self,
        items: Vec<OwnedObjectPath>,
        session: OwnedObjectPath,
        #[zbus(header)] h: Header<'_>,
    ) -> Result<HashMap<OwnedObjectPath, WireSecret>> {
        let vault = self.shared.store.open()?;
        let mut out = HashMap::new();
        for p in items {
            let Some(id) = item_id(&p) else { continue };
            let Ok((secret, content_type)) = Store::secret(&vault, &id) else {
                continue;
            };
            let w = self
                .shared
                .send(&sender(&h), &session, &secret, content_type)?;
            out.insert(p, w);
        }
        Ok(out)
    }

    async fn read_alias(&self, name: &str) -> OwnedObjectPath {
        match name {
            "default" | "login" => collection_path(),
            _ => root(),
        }
    }

    async fn set_alias(&self, name: &str, collection: OwnedObjectPath) -> Result<()> {
        if name == "default" && is_collection(&collection) {
            return Ok(());
        }
        Err(not_supported(
            "keyward serves one collection, the vault, always aliased `default`",
        ))
    }

    #[zbus(property)]
    async fn collections(&self) -> Vec<OwnedObjectPath> {
        vec![collection_path()]
    }
}

/// `org.freedesktop.Secret.Collection`: the vault.
#[derive(Debug)]
pub struct CollectionObj {
    /// Shared state.
    pub shared: Arc<Shared>,
}

#[zbus::interface(name = "org.freedesktop.Secret.Collection")]
impl CollectionObj {
    async fn delete(&self) -> Result<OwnedObjectPath> {
        let mut vault = self.shared.store.open()?;
        let items = Store::items(&vault);
        Store::clear(&mut vault)?;
        for i in items {
            self.shared.emit_item("ItemDeleted", &i.id).await;
        }
        self.shared.items().await?;
        Ok(root())
    }

    async fn search_items(
        &self,
        attributes: HashMap<String, String>,
    ) -> Result<Vec<OwnedObjectPath>> {
        self.shared.search(attributes).await
    }

    async fn create_item(
        &self,
        properties: HashMap<String, OwnedValue>,
        secret: WireSecret,
        replace: bool,
        #[zbus(header)] h: Header<'_>,
    ) -> Result<(OwnedObjectPath, OwnedObjectPath)> {
        let mut meta = Meta::default();
        for (k, v) in properties {
            match k.as_str() {
                "org.freedesktop.Secret.Item.Label" => {
                    meta.label = String::try_from(v).map_err(failed)?;
                }
                "org.freedesktop.Secret.Item.Attributes" => {
                    meta.attributes =
                        attributes_map(HashMap::<String, String>::try_from(v).map_err(failed)?);
                }
                _ => {}
            }
        }
        let (plain, content_type) = self.shared.receive(&sender(&h), secret)?;
        meta.content_type = content_type;
        let mut vault = self.shared.store.open()?;
        let existed: BTreeSet<String> = Store::items(&vault).into_iter().map(|i| i.id).collect();
        let id = Store::create(&mut vault, meta, plain, replace)?;
        self.shared.items().await?;
        let signal = if existed.contains(&id) {
            "ItemChanged"
        } else {
            "ItemCreated"
        };
        self.shared.emit_item(signal, &id).await;
        Ok((item_path(&id), root()))
    }

    #[zbus(property)]
    async fn items(&self) -> zbus::fdo::Result<Vec<OwnedObjectPath>> {
        let items = self.shared.items().await.map_err(fdo_error)?;
        Ok(items.iter().map(|i| item_path(&i.id)).collect())
    }

    #[zbus(property)]
    async fn label(&self) -> String {
        "Login".into()
    }

    #[zbus(property)]
    async fn set_label(&self, _label: String) -> zbus::Result<()> {
        Err(zbus::fdo::Error::NotSupported(
            "the vault's collection is always labelled Login".into(),
        )
        .into())
    }

    #[zbus(property)]
    async fn locked(&self) -> bool {
        !self.shared.store.is_unlocked()
    }

    #[zbus(property)]
    async fn created(&self) -> u64 {
        0
    }

    #[zbus(property)]
    async fn modified(&self) -> u64 {
        std::fs::metadata(self.shared.store.path())
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs())
    }

    #[zbus(signal)]
    async fn item_created(emitter: &SignalEmitter<'_>, item: ObjectPath<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn item_deleted(emitter: &SignalEmitter<'_>, item: ObjectPath<'_>) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn item_changed(emitter: &SignalEmitter<'_>, item: ObjectPath<'_>) -> zbus::Result<()>;
}

/// `org.freedesktop.Secret.Item`: one vault record.
#[derive(Debug)]
pub struct ItemObj {
    shared: Arc<Shared>,
    id: String,
}

impl ItemObj {
    fn get(&self) -> zbus::fdo::Result<Item> {
        let item = self
            .shared
            .store
            .open()
            .and_then(|vault| Store::item(&vault, &self.id));
        item.map_err(|e| fdo_error(e.into()))
    }

    async fn modify(
        &self,
        secret: Option<(SecretBytes, String)>,
        label: Option<String>,
        attributes: Option<BTreeMap<String, String>>,
    ) -> Result<()> {
        let mut vault = self.shared.store.open()?;
        Store::modify(&mut vault, &self.id, secret, label, attributes)?;
        self.shared.emit_item("ItemChanged", &self.id).await;
        Ok(())
    }
}

#[zbus::interface(name = "org.freedesktop.Secret.Item")]
impl ItemObj {
    async fn delete(&self) -> Result<OwnedObjectPath> {
        let mut vault = self.shared.store.open()?;
        Store::delete(&mut vault, &self.id)?;
        self.shared.emit_item("ItemDeleted", &self.id).await;
        self.shared.items().await?;
        Ok(root())
    }

    async fn get_secret(
        &self,
        session: OwnedObjectPath,
        #[zbus(header)] h: Header<'_>,
    ) -> Result<(WireSecret,)> {
        let vault = self.shared.store.open()?;
        let (secret, content_type) = Store::secret(&vault, &self.id)?;
        // A one-element tuple: the reply is one `(oayays)` argument, not four.
        Ok((self
            .shared
            .send(&sender(&h), &session, &secret, content_type)?,))
    }

    async fn set_secret(&self, secret: WireSecret, #[zbus(header)] h: Header<'_>) -> Result<()> {
        let received = self.shared.receive(&sender(&h), secret)?;
        self.modify(Some(received), None, None).await
    }

    #[zbus(property)]
    async fn locked(&self) -> bool {
        !self.shared.store.is_unlocked()
    }

    #[zbus(property)]
    async fn attributes(&self) -> zbus::fdo::Result<HashMap<String, String>> {
        Ok(self.get()?.meta.attributes.into_iter().collect())
    }

    #[zbus(property)]
    async fn set_attributes(&self, a: HashMap<String, String>) -> zbus::Result<()> {
        self.modify(None, None, Some(attributes_map(a)))
            .await
            .map_err(|e| fdo_error(e).into())
    }

    #[zbus(property)]
    async fn label(&self) -> zbus::fdo::Result<String> {
        Ok(self.get()?.meta.label)
    }

    #[zbus(property)]
    async fn set_label(&self, label: String) -> zbus::Result<()> {
        self.modify(None, Some(label), None)
            .await
            .map_err(|e| fdo_error(e).into())
    }

    #[zbus(property)]
    async fn created(&self) -> zbus::fdo::Result<u64> {
        Ok(self.get()?.created)
    }

    #[zbus(property)]
    async fn modified(&self) -> zbus::fdo::Result<u64> {
        Ok(self.get()?.modified)
    }
}

fn fdo_error(e: SecretError) -> zbus::fdo::Error {
    match e {
        SecretError::Fdo(e) => e,
        e => zbus::fdo::Error::Failed(e.to_string()),
    }
}

/// `org.freedesktop.Secret.Session`.
#[derive(Debug)]
pub struct SessionObj {
    shared: Arc<Shared>,
}

#[zbus::interface(name = "org.freedesktop.Secret.Session")]
impl SessionObj {
    async fn close(
        &self,
        #[zbus(header)] h: Header<'_>,
        #[zbus(object_server)] server: &zbus::ObjectServer,
    ) -> Result<()> {
        let Some(p) = h.path() else { return Ok(()) };
        let p = p.to_owned();
        self.shared
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(p.as_str());
        server.remove::<SessionObj, _>(&p).await?;
        Ok(())
    }
}

/// `org.freedesktop.Secret.Prompt` for an `Unlock` of a locked vault.
#[derive(Debug)]
pub struct PromptObj {
    shared: Arc<Shared>,
    /// The objects to report unlocked; taken when the prompt runs.
    objects: Mutex<Option<Vec<OwnedObjectPath>>>,
}

impl PromptObj {
    fn take(&self) -> Option<Vec<OwnedObjectPath>> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }
}

/// Emits `Completed` from `p` and drops the prompt object.
fn complete(shared: &Shared, p: OwnedObjectPath, unlocked: Option<Vec<OwnedObjectPath>>) {
    let Some(conn) = shared.conn.get() else {
        return;
    };
    // The result is `ao` either way: secretstorage asserts that signature
    // even when the prompt was dismissed.
    let dismissed = unlocked.is_none();
    let result = Value::from(unlocked.unwrap_or_default());
    let _ = zbus::block_on(async {
        conn.emit_signal(
            None::<()>,
            &p,
            "org.freedesktop.Secret.Prompt",
            "Completed",
            &(dismissed, result),
        )
        .await?;
        conn.object_server().remove::<PromptObj, _>(&p).await
    });
}

#[zbus::interface(name = "org.freedesktop.Secret.Prompt")]
impl PromptObj {
    /// Asks for the vault password on the service's terminal, if it has
    /// one (as `keyward unlock` does); completes dismissed otherwise.
    async fn prompt(&self, _window_id: &str, #[zbus(header)] h: Header<'_>) -> Result<()> {
        let Some(p) = h.path().map(|p| OwnedObjectPath::from(p.to_owned())) else {
            return Ok(());
        };
        let Some(objects) = self.take() else {
            return Ok(());
        };
        let shared = self.shared.clone();
        std::thread::spawn(move || {
            let unlocked = {
                let _one = shared.prompting.lock().unwrap_or_else(|e| e.into_inner());
                shared.store.unlock_interactively()
            };
            complete(&shared, p, unlocked.then_some(objects));
        });
        Ok(())
    }

    async fn dismiss(&self, #[zbus(header)] h: Header<'_>) -> Result<()> {
        let Some(p) = h.path().map(|p| OwnedObjectPath::from(p.to_owned())) else {
            return Ok(());
        };
        if self.take().is_some() {
            let shared = self.shared.clone();
            std::thread::spawn(move || complete(&shared, p, None));
        }
        Ok(())
    }

    #[zbus(signal)]
    async fn completed(
        emitter: &SignalEmitter<'_>,
        dismissed: bool,
        result: Value<'_>,
    ) -> zbus::Result<()>;
}
