//! Encryption of what the device stores, through the browser's WebCrypto.
//!
//! A random AES-256-GCM data key encrypts every sealed record; it is created
//! non-extractable-in-use and kept only in memory while the app is unlocked. On disk it
//! exists only wrapped (AES-GCM) by a key derived from the cadre's PIN with
//! PBKDF2-SHA256 ([`ITERATIONS`] rounds, a random 16-byte salt). The wrap's
//! authentication tag is what tells a wrong PIN. A sealed value is
//! `"HSE1" | 12-byte random IV | ciphertext and tag`, with the record's place (store and
//! key) as additional data, so a record cannot be moved to another place unnoticed.
//!
//! Where the browser offers it, the same data key is also wrapped by a passkey: the
//! WebAuthn PRF output (see `passkey`) goes through HKDF-SHA256 to an AES-GCM key, so
//! the cadre can open the app with the device's screen lock instead of typing the PIN.
//! Both wrappings live in one record (`meta.vault`), so changing one is one write.
//!
//! The hand-off file is encrypted for the server: an ephemeral ECDH P-256 key agreed
//! with the server's public key, HKDF-SHA256 to an AES-256-GCM key.

use std::cell::RefCell;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// PBKDF2-SHA256 rounds (OWASP 2023: at least 600,000 for SHA-256).
pub const ITERATIONS: u32 = 600_000;
const MAGIC: &[u8; 4] = b"HSE1";
const IV_LEN: usize = 12;

/// The lock's record, stored unencrypted (`meta.vault`): what is needed to try a PIN,
/// the count of wrong PINs in a row and the lock settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LockRecord {
    /// Hex.
    pub salt: String,
    pub iterations: u32,
    /// Hex: the IV and the wrapped data key.
    pub iv: String,
    pub wrapped: String,
    /// Wrong PINs in a row; counted before the PIN is tried, so closing the tab during
    /// a try does not give a free attempt.
    pub failures: u32,
    /// After this many wrong PINs in a row the device is wiped.
    pub max_failures: u32,
    /// Locks after this many minutes without a touch or key press.
    pub idle_minutes: u32,
    /// Locks when the app comes back after being hidden this many minutes.
    pub hidden_minutes: u32,
    /// Nothing is left in the clear from before the PIN was set (a device signed in
    /// before encryption is sealed once, at its first unlock).
    pub sealed: bool,
    /// The data key wrapped a second time, by a passkey; None when none is set.
    pub passkey: Option<PasskeyWrap>,
    /// A passkey was tried on this device and the browser or authenticator returned no
    /// PRF output: the option is not offered again.
    pub passkey_unsupported: bool,
}

/// The data key wrapped by a key derived from a passkey's PRF output. All hex.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PasskeyWrap {
    /// The credential's id, to ask the authenticator for that credential only.
    pub credential: String,
    /// The PRF input given to the authenticator (32 random bytes).
    pub salt: String,
    pub iv: String,
    pub wrapped: String,
}

/// The data key wrapped under a PIN: what [`LockRecord`] stores for it.
pub struct PinWrap {
    salt: Vec<u8>,
    iv: Vec<u8>,
    wrapped: Vec<u8>,
}

impl LockRecord {
    /// Replaces the PIN's wrapping (the passkey's, if any, wraps the same key and stays).
    pub fn set_pin_wrap(&mut self, w: &PinWrap) {
        self.salt = hex(&w.salt);
        self.iterations = ITERATIONS;
        self.iv = hex(&w.iv);
        self.wrapped = hex(&w.wrapped);
    }
}

impl Default for LockRecord {
    fn default() -> LockRecord {
        LockRecord {
            salt: String::new(),
            iterations: ITERATIONS,
            iv: String::new(),
            wrapped: String::new(),
            failures: 0,
            max_failures: 10,
            idle_minutes: 5,
            hidden_minutes: 2,
            sealed: false,
            passkey: None,
            passkey_unsupported: false,
        }
    }
}

thread_local! {
    static KEY: RefCell<Option<CryptoKey>> = const { RefCell::new(None) };
}

fn subtle() -> Result<SubtleCrypto, JsValue> {
    Ok(web_sys::window().ok_or("no window")?.crypto()?.subtle())
}

/// Random bytes from the browser's generator.
pub fn random(n: usize) -> Result<Vec<u8>, JsValue> {
    let mut out = vec![0u8; n];
    web_sys::window()
        .ok_or("no window")?
        .crypto()?
        .get_random_values_with_u8_array(&mut out)?;
    Ok(out)
}

fn obj(pairs: &[(&str, JsValue)]) -> Result<Object, JsValue> {
    let o = Object::new();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v)?;
    }
    Ok(o)
}

fn usages(u: &[&str]) -> JsValue {
    u.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}

async fn call(p: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(p?).await
}

/// The key derived from a PIN, able to wrap and unwrap the data key.
async fn pin_key(pin: &str, salt: &[u8], iterations: u32) -> Result<CryptoKey, JsValue> {
    let s = subtle()?;
    let raw = Uint8Array::from(pin.as_bytes());
    let base: CryptoKey =
        call(s.import_key_with_str("raw", &raw, "PBKDF2", false, &usages(&["deriveKey"])))
            .await?
            .dyn_into()?;
    let params = obj(&[
        ("name", "PBKDF2".into()),
        ("salt", bytes(salt)),
        ("iterations", iterations.into()),
        ("hash", "SHA-256".into()),
    ])?;
    let target = obj(&[("name", "AES-GCM".into()), ("length", 256.into())])?;
    call(s.derive_key_with_object_and_object(
        &params,
        &base,
        &target,
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    ))
    .await?
    .dyn_into()
}

fn gcm(iv: &[u8], aad: Option<&[u8]>) -> Result<Object, JsValue> {
    let o = obj(&[("name", "AES-GCM".into()), ("iv", bytes(iv))])?;
    if let Some(a) = aad {
        Reflect::set(&o, &"additionalData".into(), &bytes(a))?;
    }
    Ok(o)
}

/// HKDF info of the passkey's key; also the additional data of its wrapping.
const PASSKEY_INFO: &str = "ho-so-khoa-truy-cap/1";

/// Creates a fresh data key, wraps it under the PIN and makes it the key in use.
/// Returns the lock record to store (with the given settings kept).
pub async fn create(pin: &str, settings: &LockRecord) -> Result<LockRecord, JsValue> {
    let s = subtle()?;
    let alg = obj(&[("name", "AES-GCM".into()), ("length", 256.into())])?;
    // Extractable only so it can be wrapped once; the key kept in use is the unwrapped,
    // non-extractable copy.
    let fresh: CryptoKey =
        call(s.generate_key_with_object(&alg, true, &usages(&["encrypt", "decrypt"])))
            .await?
            .dyn_into()?;
    let mut record = LockRecord {
        failures: 0,
        // A wrapping of another data key would open nothing.
        passkey: None,
        ..settings.clone()
    };
    record.set_pin_wrap(&wrap_for_pin(&fresh, pin).await?);
    unlock(pin, &record).await?;
    Ok(record)
}

/// Wraps a data key (an extractable copy) under a PIN, with a fresh salt and IV.
pub async fn wrap_for_pin(key: &CryptoKey, pin: &str) -> Result<PinWrap, JsValue> {
    let salt = random(16)?;
    let iv = random(IV_LEN)?;
    let kek = pin_key(pin, &salt, ITERATIONS).await?;
    let wrapped = call(subtle()?.wrap_key_with_object("raw", key, &kek, &gcm(&iv, None)?)).await?;
    Ok(PinWrap {
        salt,
        iv,
        wrapped: Uint8Array::new(&wrapped).to_vec(),
    })
}

/// Unwraps the data key with `kek`; the tag fails for a wrong key.
async fn unwrap_with(
    kek: &CryptoKey,
    iv: &[u8],
    wrapped: &[u8],
    aad: Option<&[u8]>,
    extractable: bool,
) -> Result<CryptoKey, JsValue> {
    let alg = obj(&[("name", "AES-GCM".into())])?;
    call(subtle()?.unwrap_key_with_u8_array_and_object_and_object(
        "raw",
        wrapped,
        kek,
        &gcm(iv, aad)?,
        &alg,
        extractable,
        &usages(&["encrypt", "decrypt"]),
    ))
    .await?
    .dyn_into()
}

/// The data key opened with a PIN. `extractable` only to wrap it again (a new PIN, a
/// passkey); the copy put in use never is.
pub async fn open_with_pin(
    pin: &str,
    record: &LockRecord,
    extractable: bool,
) -> Result<CryptoKey, JsValue> {
    let salt = unhex(&record.salt).ok_or("bad salt")?;
    let iv = unhex(&record.iv).ok_or("bad iv")?;
    let wrapped = unhex(&record.wrapped).ok_or("bad key")?;
    let kek = pin_key(pin, &salt, record.iterations).await?;
    unwrap_with(&kek, &iv, &wrapped, None, extractable).await
}

/// Tries a PIN: on success the data key is in use. A wrong PIN fails the wrap's tag.
pub async fn unlock(pin: &str, record: &LockRecord) -> Result<(), JsValue> {
    set_key(open_with_pin(pin, record, false).await?);
    Ok(())
}

/// The key a passkey's PRF output stands for: HKDF-SHA256 (salt: the PRF input).
async fn passkey_key(prf: &[u8], salt: &[u8]) -> Result<CryptoKey, JsValue> {
    let s = subtle()?;
    let base: CryptoKey = call(s.import_key_with_str(
        "raw",
        &Uint8Array::from(prf),
        "HKDF",
        false,
        &usages(&["deriveKey"]),
    ))
    .await?
    .dyn_into()?;
    let hkdf = obj(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", bytes(salt)),
        ("info", bytes(PASSKEY_INFO.as_bytes())),
    ])?;
    let target = obj(&[("name", "AES-GCM".into()), ("length", 256.into())])?;
    call(s.derive_key_with_object_and_object(
        &hkdf,
        &base,
        &target,
        false,
        &usages(&["wrapKey", "unwrapKey"]),
    ))
    .await?
    .dyn_into()
}

/// Wraps a data key (an extractable copy) under a passkey's PRF output.
pub async fn wrap_for_passkey(
    key: &CryptoKey,
    prf: &[u8],
    credential: &[u8],
    salt: &[u8],
) -> Result<PasskeyWrap, JsValue> {
    let kek = passkey_key(prf, salt).await?;
    let iv = random(IV_LEN)?;
    let params = gcm(&iv, Some(PASSKEY_INFO.as_bytes()))?;
    let wrapped = call(subtle()?.wrap_key_with_object("raw", key, &kek, &params)).await?;
    Ok(PasskeyWrap {
        credential: hex(credential),
        salt: hex(salt),
        iv: hex(&iv),
        wrapped: hex(&Uint8Array::new(&wrapped).to_vec()),
    })
}

/// Opens the data key with a passkey's PRF output and puts it in use.
pub async fn unlock_with_passkey(prf: &[u8], wrap: &PasskeyWrap) -> Result<(), JsValue> {
    let salt = unhex(&wrap.salt).ok_or("bad salt")?;
    let iv = unhex(&wrap.iv).ok_or("bad iv")?;
    let wrapped = unhex(&wrap.wrapped).ok_or("bad key")?;
    let kek = passkey_key(prf, &salt).await?;
    let key = unwrap_with(&kek, &iv, &wrapped, Some(PASSKEY_INFO.as_bytes()), false).await?;
    set_key(key);
    Ok(())
}

/// Puts a data key in use (one unwrapped here, or handed over by another tab).
pub fn set_key(key: CryptoKey) {
    KEY.with(|k| *k.borrow_mut() = Some(key));
}

/// The data key in use, to hand to another tab of this profile.
pub fn key() -> Option<CryptoKey> {
    KEY.with(|k| k.borrow().clone())
}

/// Forgets the data key: nothing sealed can be read until a PIN is entered again.
pub fn forget() {
    KEY.with(|k| *k.borrow_mut() = None);
}

pub fn unlocked() -> bool {
    KEY.with(|k| k.borrow().is_some())
}

/// Whether stored bytes are a sealed value.
pub fn is_sealed(v: &[u8]) -> bool {
    is_sealed_head(v, v.len())
}

/// Whether a value of `len` bytes starting with `head` is a sealed value.
pub fn is_sealed_head(head: &[u8], len: usize) -> bool {
    len > MAGIC.len() + IV_LEN && head.starts_with(MAGIC)
}

/// Encrypts many values at once (WebCrypto works them in parallel); `items` are
/// (place, plaintext).
pub async fn seal_many(items: &[(String, Vec<u8>)]) -> Result<Vec<Uint8Array>, JsValue> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let key = key().ok_or("locked")?;
    let s = subtle()?;
    let promises = Array::new();
    let mut ivs = Vec::with_capacity(items.len());
    let all_ivs = random(IV_LEN * items.len())?;
    for (i, (place, plain)) in items.iter().enumerate() {
        let iv = &all_ivs[i * IV_LEN..(i + 1) * IV_LEN];
        ivs.push(iv.to_vec());
        let p: Promise =
            s.encrypt_with_object_and_u8_array(&gcm(iv, Some(place.as_bytes()))?, &key, plain)?;
        promises.push(&p);
    }
    let done: Array = JsFuture::from(Promise::all(&promises)).await?.dyn_into()?;
    let mut out = Vec::with_capacity(items.len());
    for (ct, iv) in done.iter().zip(ivs) {
        let ct = Uint8Array::new(&ct);
        let sealed = Uint8Array::new_with_length((MAGIC.len() + IV_LEN) as u32 + ct.length());
        sealed.subarray(0, 4).copy_from(MAGIC);
        sealed.subarray(4, 4 + IV_LEN as u32).copy_from(&iv);
        sealed.set(&ct, (MAGIC.len() + IV_LEN) as u32);
        out.push(sealed);
    }
    Ok(out)
}

pub async fn seal(place: &str, plain: &[u8]) -> Result<Uint8Array, JsValue> {
    let mut v = seal_many(&[(place.to_string(), plain.to_vec())]).await?;
    v.pop().ok_or_else(|| "nothing sealed".into())
}

/// Decrypts many sealed values at once; `items` are (place, sealed). A value that does
/// not open (damaged, or moved from another place) is None.
pub async fn open_many(items: &[(String, Uint8Array)]) -> Result<Vec<Option<Vec<u8>>>, JsValue> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let key = key().ok_or("locked")?;
    let s = subtle()?;
    let promises = Array::new();
    let head = (MAGIC.len() + IV_LEN) as u32;
    for (place, sealed) in items {
        if sealed.length() <= head {
            promises.push(&Promise::reject(&"short".into()));
            continue;
        }
        let iv = sealed.subarray(4, head).to_vec();
        let ct = sealed.subarray(head, sealed.length());
        let p: Promise =
            s.decrypt_with_object_and_js_u8_array(&gcm(&iv, Some(place.as_bytes()))?, &key, &ct)?;
        promises.push(&p);
    }
    // One failure must not fail the others: every outcome is read on its own.
    let done: Array = JsFuture::from(Promise::all_settled(&promises))
        .await?
        .dyn_into()?;
    Ok(done
        .iter()
        .map(|r| {
            let ok = Reflect::get(&r, &"status".into()).ok()?.as_string()? == "fulfilled";
            let v = Reflect::get(&r, &"value".into()).ok()?;
            ok.then(|| Uint8Array::new(&v).to_vec())
        })
        .collect())
}

pub async fn open(place: &str, sealed: &Uint8Array) -> Result<Vec<u8>, JsValue> {
    open_many(&[(place.to_string(), sealed.clone())])
        .await?
        .pop()
        .flatten()
        .ok_or_else(|| "unreadable".into())
}

/// A hand-off file's envelope: the payload encrypted for the server's key.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub format: String,
    /// Base64 of the ephemeral public key (uncompressed P-256 point, 65 bytes).
    pub epk: String,
    /// Base64 of the 12-byte IV.
    pub iv: String,
    /// Base64 of the ciphertext and tag.
    pub data: String,
}

/// The envelope's format name; also the HKDF info and the AES-GCM additional data.
pub const ENVELOPE_FORMAT: &str = "ho-so-ban-giao/1";

/// Encrypts `plain` for the holder of the private key of `server_key` (base64 of an
/// uncompressed P-256 point): ECDH with a fresh key pair, HKDF-SHA256 (salt: the
/// ephemeral public key), AES-256-GCM.
pub async fn seal_for_server(server_key: &str, plain: &[u8]) -> Result<Envelope, JsValue> {
    let s = subtle()?;
    let point = b64_decode(server_key).ok_or("bad server key")?;
    let ec = obj(&[("name", "ECDH".into()), ("namedCurve", "P-256".into())])?;
    let server: CryptoKey = call(s.import_key_with_object(
        "raw",
        &Uint8Array::from(point.as_slice()),
        &ec,
        false,
        &usages(&[]),
    ))
    .await?
    .dyn_into()?;
    let pair = call(s.generate_key_with_object(&ec, false, &usages(&["deriveBits"]))).await?;
    let private: CryptoKey = Reflect::get(&pair, &"privateKey".into())?.dyn_into()?;
    let public: CryptoKey = Reflect::get(&pair, &"publicKey".into())?.dyn_into()?;
    let epk = Uint8Array::new(&call(s.export_key("raw", &public)).await?).to_vec();
    let derive = obj(&[("name", "ECDH".into()), ("public", server.into())])?;
    let shared = call(s.derive_bits_with_object(&derive, &private, 256)).await?;
    let hkdf_base: CryptoKey = call(s.import_key_with_str(
        "raw",
        &Uint8Array::new(&shared),
        "HKDF",
        false,
        &usages(&["deriveKey"]),
    ))
    .await?
    .dyn_into()?;
    let hkdf = obj(&[
        ("name", "HKDF".into()),
        ("hash", "SHA-256".into()),
        ("salt", bytes(&epk)),
        ("info", bytes(ENVELOPE_FORMAT.as_bytes())),
    ])?;
    let target = obj(&[("name", "AES-GCM".into()), ("length", 256.into())])?;
    let aes: CryptoKey = call(s.derive_key_with_object_and_object(
        &hkdf,
        &hkdf_base,
        &target,
        false,
        &usages(&["encrypt"]),
    ))
    .await?
    .dyn_into()?;
    let iv = random(IV_LEN)?;
    let ct = call(s.encrypt_with_object_and_u8_array(
        &gcm(&iv, Some(ENVELOPE_FORMAT.as_bytes()))?,
        &aes,
        plain,
    ))
    .await?;
    Ok(Envelope {
        format: ENVELOPE_FORMAT.into(),
        epk: b64_encode(&epk),
        iv: b64_encode(&iv),
        data: b64_encode(&Uint8Array::new(&ct).to_vec()),
    })
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub fn b64_encode(b: &[u8]) -> String {
    let bin: String = b.iter().map(|&c| c as char).collect();
    web_sys::window()
        .and_then(|w| w.btoa(&bin).ok())
        .unwrap_or_default()
}

pub fn b64_decode(s: &str) -> Option<Vec<u8>> {
    let bin = web_sys::window()?.atob(s.trim()).ok()?;
    bin.chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

thread_local! {
    static KEY_CHAN: RefCell<Option<web_sys::BroadcastChannel>> = const { RefCell::new(None) };
    static ASKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

const KEY_CHANNEL: &str = "hoso-key";

/// Opens the channel the tabs of this profile share the data key on: a tab that starts
/// while another is unlocked gets the key from it (a `CryptoKey` is cloned between
/// tabs of one origin, never exported), and "lock" from one tab locks them all.
pub fn listen_keys(on_lock: impl Fn() + 'static) {
    let Ok(chan) = web_sys::BroadcastChannel::new(KEY_CHANNEL) else {
        return;
    };
    let reply = chan.clone();
    let on = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
        let data = e.data();
        match data.as_string().as_deref() {
            Some("ask") => {
                if let Some(k) = key()
                    && let Ok(o) = obj(&[("key", k.into())])
                {
                    let _ = reply.post_message(&o);
                }
            }
            Some("lock") => on_lock(),
            _ => {
                if ASKING.with(|a| a.get())
                    && let Ok(k) = Reflect::get(&data, &"key".into())
                    && let Ok(k) = k.dyn_into::<CryptoKey>()
                {
                    set_key(k);
                }
            }
        }
    });
    chan.set_onmessage(Some(on.as_ref().unchecked_ref()));
    on.forget();
    KEY_CHAN.with(|c| *c.borrow_mut() = Some(chan));
}

fn post_key_msg(v: &JsValue) {
    KEY_CHAN.with(|c| {
        if let Some(chan) = c.borrow().as_ref() {
            let _ = chan.post_message(v);
        }
    });
}

/// Asks the other tabs for the data key; true if one answered within `ms`.
pub async fn ask_key(ms: u32) -> bool {
    ASKING.with(|a| a.set(true));
    post_key_msg(&"ask".into());
    let mut waited = 0;
    while !unlocked() && waited < ms {
        sleep(25).await;
        waited += 25;
    }
    ASKING.with(|a| a.set(false));
    unlocked()
}

/// Tells the other tabs to lock.
pub fn lock_others() {
    post_key_msg(&"lock".into());
}

async fn sleep(ms: u32) {
    let p = Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = JsFuture::from(p).await;
}
