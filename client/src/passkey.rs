//! Passkeys (WebAuthn) as a second way to open the data key: a platform credential
//! created with the `prf` extension gives, for a fixed input (a random salt stored in the
//! lock record), a secret that only the authenticator can compute again, after the
//! cadre's fingerprint, face or screen lock. `vault` turns it into a wrapping key.
//!
//! Nothing is sent to the server: the challenge is random and no signature is checked,
//! because what protects the data is the PRF secret, not the assertion.
//!
//! WebAuthn is bound here through a few externs: web-sys's dictionaries have no field
//! for the `prf` extension, and the options are plain objects anyway.

use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::vault;

#[wasm_bindgen]
extern "C" {
    /// `navigator.credentials`.
    type Credentials;
    #[wasm_bindgen(method, catch)]
    fn create(this: &Credentials, options: &Object) -> Result<Promise, JsValue>;
    #[wasm_bindgen(method, catch)]
    fn get(this: &Credentials, options: &Object) -> Result<Promise, JsValue>;

    /// A `PublicKeyCredential` returned by `create` or `get`.
    type KeyCredential;
    #[wasm_bindgen(method, getter, js_name = rawId)]
    fn raw_id(this: &KeyCredential) -> ArrayBuffer;
    #[wasm_bindgen(method, js_name = getClientExtensionResults)]
    fn extension_results(this: &KeyCredential) -> JsValue;
}

/// Why a passkey cannot be used, or did not answer.
#[derive(Clone, Debug, PartialEq)]
pub enum PasskeyError {
    /// This browser has no WebAuthn, or not here (an address that is not a domain name,
    /// a page that is not a secure context).
    Unsupported,
    /// The credential was made or used, but the browser or authenticator returned no
    /// PRF output: it cannot open the data key.
    NoPrf,
    /// The cadre cancelled, the time ran out, or the authenticator refused.
    Refused,
    /// Anything else, with the browser's message.
    Failed(String),
}

/// Time the browser's passkey prompt stays open.
const TIMEOUT_MS: u32 = 120_000;

/// Whether passkeys can be offered here at all (the PRF answer is known only once one
/// is created).
pub fn supported() -> bool {
    let Some(w) = web_sys::window() else {
        return false;
    };
    if !Reflect::has(&w, &"PublicKeyCredential".into()).unwrap_or(false) || !w.is_secure_context() {
        return false;
    }
    // A passkey belongs to a domain name; browsers refuse one for an IP address.
    let host = w.location().hostname().unwrap_or_default();
    !is_ip_address(&host)
}

fn is_ip_address(host: &str) -> bool {
    host.contains(':') || (!host.is_empty() && host.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// Whether the device has an authenticator of its own that verifies the user
/// (fingerprint, face, screen lock).
pub async fn platform_available() -> bool {
    if !supported() {
        return false;
    }
    let Some(w) = web_sys::window() else {
        return false;
    };
    let Ok(class) = Reflect::get(&w, &"PublicKeyCredential".into()) else {
        return false;
    };
    let Ok(check) = Reflect::get(
        &class,
        &"isUserVerifyingPlatformAuthenticatorAvailable".into(),
    )
    .and_then(|f| f.dyn_into::<js_sys::Function>()) else {
        return false;
    };
    match check.call0(&class).map(|p| p.dyn_into::<Promise>()) {
        Ok(Ok(p)) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        _ => false,
    }
}

/// A new passkey: its id, and the PRF output for `salt` when the browser gave it at
/// creation (some give it only on use).
pub struct Created {
    pub id: Vec<u8>,
    pub prf: Option<Vec<u8>>,
}

fn credentials() -> Result<Credentials, PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported);
    }
    let nav = web_sys::window()
        .ok_or(PasskeyError::Unsupported)?
        .navigator();
    let c = Reflect::get(&nav, &"credentials".into()).map_err(|_| PasskeyError::Unsupported)?;
    if c.is_undefined() {
        return Err(PasskeyError::Unsupported);
    }
    Ok(c.unchecked_into())
}

fn obj(pairs: &[(&str, JsValue)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o
}

fn bytes(v: &[u8]) -> JsValue {
    Uint8Array::from(v).into()
}

fn random(n: usize) -> Result<Vec<u8>, PasskeyError> {
    vault::random(n).map_err(|e| PasskeyError::Failed(format!("{e:?}")))
}

/// The `prf` extension asking for the output of `salt`.
fn prf_input(salt: &[u8]) -> Object {
    obj(&[(
        "prf",
        obj(&[("eval", obj(&[("first", bytes(salt))]).into())]).into(),
    )])
}

/// What the browser's refusal means.
fn reason(e: JsValue) -> PasskeyError {
    let name = Reflect::get(&e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" | "InvalidStateError" => PasskeyError::Refused,
        "NotSupportedError" | "SecurityError" => PasskeyError::Unsupported,
        _ => PasskeyError::Failed(
            Reflect::get(&e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or(name),
        ),
    }
}

/// The extension results' `prf`: whether it is enabled, and the output if given.
fn prf_result(cred: &KeyCredential) -> (Option<bool>, Option<Vec<u8>>) {
    let prf = Reflect::get(&cred.extension_results(), &"prf".into()).unwrap_or(JsValue::UNDEFINED);
    if prf.is_undefined() {
        return (None, None);
    }
    let enabled = Reflect::get(&prf, &"enabled".into())
        .ok()
        .and_then(|v| v.as_bool());
    let first = Reflect::get(&prf, &"results".into())
        .ok()
        .filter(|r| r.is_object())
        .and_then(|r| Reflect::get(&r, &"first".into()).ok())
        .filter(|f| f.is_instance_of::<ArrayBuffer>() || ArrayBuffer::is_view(f))
        .map(|f| Uint8Array::new(&f).to_vec())
        .filter(|v| !v.is_empty());
    (enabled, first)
}

/// Creates a platform passkey for this app and user, asking for the PRF output of
/// `salt`. The user's id in it is random: nothing in the authenticator names the cadre
/// beyond the account name shown in its list.
pub async fn create(
    user_name: &str,
    display_name: &str,
    salt: &[u8],
) -> Result<Created, PasskeyError> {
    let creds = credentials()?;
    let user = obj(&[
        ("id", bytes(&random(16)?)),
        ("name", user_name.into()),
        ("displayName", display_name.into()),
    ]);
    let params: Array = [-7, -257]
        .into_iter()
        .map(|alg: i32| -> JsValue {
            obj(&[("type", "public-key".into()), ("alg", alg.into())]).into()
        })
        .collect();
    let public_key = obj(&[
        (
            "rp",
            obj(&[("name", "Hồ sơ phát triển đảng viên".into())]).into(),
        ),
        ("user", user.into()),
        ("challenge", bytes(&random(32)?)),
        ("pubKeyCredParams", params.into()),
        (
            "authenticatorSelection",
            obj(&[
                ("authenticatorAttachment", "platform".into()),
                ("residentKey", "preferred".into()),
                ("userVerification", "required".into()),
            ])
            .into(),
        ),
        ("timeout", TIMEOUT_MS.into()),
        ("attestation", "none".into()),
        ("extensions", prf_input(salt).into()),
    ]);
    let p = creds
        .create(&obj(&[("publicKey", public_key.into())]))
        .map_err(reason)?;
    let cred: KeyCredential = JsFuture::from(p).await.map_err(reason)?.unchecked_into();
    let id = Uint8Array::new(&cred.raw_id()).to_vec();
    match prf_result(&cred) {
        (Some(true), prf) => Ok(Created { id, prf }),
        (_, Some(prf)) => Ok(Created { id, prf: Some(prf) }),
        _ => {
            forget(&id);
            Err(PasskeyError::NoPrf)
        }
    }
}

/// Asks the authenticator for the PRF output of `salt` with the credential `id` (the
/// cadre confirms with a fingerprint, face or screen lock).
pub async fn evaluate(id: &[u8], salt: &[u8]) -> Result<Vec<u8>, PasskeyError> {
    let creds = credentials()?;
    let allow: Array = [JsValue::from(obj(&[
        ("type", "public-key".into()),
        ("id", bytes(id)),
    ]))]
    .into_iter()
    .collect();
    let public_key = obj(&[
        ("challenge", bytes(&random(32)?)),
        ("allowCredentials", allow.into()),
        ("userVerification", "required".into()),
        ("timeout", TIMEOUT_MS.into()),
        ("extensions", prf_input(salt).into()),
    ]);
    let p = creds
        .get(&obj(&[("publicKey", public_key.into())]))
        .map_err(reason)?;
    let cred: KeyCredential = JsFuture::from(p).await.map_err(reason)?.unchecked_into();
    prf_result(&cred).1.ok_or(PasskeyError::NoPrf)
}

/// Tells the browser's passkey manager that this credential is no longer used, where it
/// can be told (`PublicKeyCredential.signalUnknownCredential`), so it can drop it from
/// its list. Best effort: nothing depends on it.
pub fn forget(id: &[u8]) {
    let Some(w) = web_sys::window() else { return };
    let host = w.location().hostname().unwrap_or_default();
    let Ok(class) = Reflect::get(&w, &"PublicKeyCredential".into()) else {
        return;
    };
    let Ok(signal) = Reflect::get(&class, &"signalUnknownCredential".into())
        .and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return;
    };
    let arg = obj(&[
        ("rpId", host.into()),
        ("credentialId", base64url(id).into()),
    ]);
    if let Ok(p) = signal.call1(&class, &arg).map(|p| p.dyn_into::<Promise>())
        && let Ok(p) = p
    {
        // Its answer (or refusal) changes nothing here.
        wasm_bindgen_futures::spawn_local(async move {
            let _ = JsFuture::from(p).await;
        });
    }
}

fn base64url(b: &[u8]) -> String {
    vault::b64_encode(b)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}
