//! Hand-off files: a device's unsent changes written to a file when it has had no
//! network for a long time, encrypted for this server, carried to the office by any
//! means and uploaded by a reviewer. The server applies the file exactly as a sync from
//! that device: the same authorship, scope and model checks (`DocStore::apply_push`),
//! and, since changes are identified by hash, the device's later sync of the same
//! changes is harmless (and so is uploading the file twice).
//!
//! Encryption: the device makes an ephemeral ECDH P-256 key pair, agrees a secret with
//! the server's public key (sent with the reference data), derives an AES-256-GCM key
//! with HKDF-SHA256 (salt: the ephemeral public key; info: the format name) and
//! encrypts the payload (additional data: the format name). The server's private key
//! is in the settings table: whoever can read the database already reads the files
//! themselves, so it adds nothing to what that person can see.
//!
//! Authentication: the payload carries the device's session token, which only that
//! device holds; the file is accepted for the device the token names (even if the
//! session has since expired), never for a revoked device or an inactive account.

use std::collections::HashSet;

use aes_gcm::aead::{Aead, KeyInit, Payload as AeadPayload};
use aes_gcm::{Aes256Gcm, Nonce};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use shared::api::ErrorCode;
use shared::sync::{DocChanges, DocId, Rejection};

use crate::AppState;
use crate::auth::{self, Caller, Role};
use crate::casedocs::today_vn;
use crate::db::store::Store;
use crate::docstore::{DocStore, MergeConfig};
use crate::error::{AppError, AppResult};
use crate::merge::Pusher;

/// The envelope's format name; also the HKDF info and the AES-GCM additional data.
pub const FORMAT: &str = "ho-so-ban-giao/1";
const SETTING: &str = "handoff_secret_key";

/// The file as uploaded.
#[derive(Debug, Serialize, Deserialize)]
pub struct Envelope {
    pub format: String,
    /// Base64 of the ephemeral public key (SEC1 uncompressed point).
    pub epk: String,
    pub iv: String,
    pub data: String,
}

/// What the file holds once decrypted.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub device_id: String,
    pub token: String,
    #[serde(default)]
    pub actors: Vec<String>,
    #[serde(default)]
    pub created_at: f64,
    pub push: Vec<DocChanges>,
}

/// What applying a file did.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub device_id: String,
    pub username: String,
    pub display_name: String,
    /// When the device wrote the file (ms since the epoch).
    pub created_at: f64,
    pub accepted: Vec<DocId>,
    pub rejected: Vec<Rejection>,
}

/// The server's hand-off key pair, created on first use.
fn secret(store: &Store) -> AppResult<SecretKey> {
    if let Some(hex) = store.get_setting(SETTING)?
        && let Some(bytes) = unhex(&hex)
        && let Ok(k) = SecretKey::from_slice(&bytes)
    {
        return Ok(k);
    }
    let key = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(k) = SecretKey::from_slice(&bytes) {
            break k;
        }
    };
    let hex: String = key.to_bytes().iter().map(|b| format!("{b:02x}")).collect();
    // Two first uses at once: the one stored last wins, and is read back by both.
    store.put_setting(SETTING, &hex)?;
    let stored = store.get_setting(SETTING)?.unwrap_or(hex);
    unhex(&stored)
        .and_then(|b| SecretKey::from_slice(&b).ok())
        .ok_or_else(|| AppError::Internal("hand-off key unreadable".into()))
}

/// The public key devices encrypt hand-off files with: base64 of the uncompressed point.
pub fn public_key(store: &Store) -> AppResult<String> {
    let pk = secret(store)?.public_key();
    Ok(STANDARD.encode(pk.to_encoded_point(false).as_bytes()))
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn unreadable() -> AppError {
    AppError::user(
        StatusCode::BAD_REQUEST,
        ErrorCode::HandoffUnreadable,
        "Tệp không phải tệp bàn giao của máy chủ này, hoặc đã bị hỏng.",
        "The file is not a hand-off file for this server, or it is damaged.",
    )
}

/// Decrypts a hand-off file.
pub fn open(store: &Store, file: &[u8]) -> AppResult<Payload> {
    let env: Envelope = serde_json::from_slice(file).map_err(|_| unreadable())?;
    if env.format != FORMAT {
        return Err(unreadable());
    }
    let epk_bytes = STANDARD.decode(env.epk.trim()).map_err(|_| unreadable())?;
    let iv = STANDARD.decode(env.iv.trim()).map_err(|_| unreadable())?;
    let data = STANDARD.decode(env.data.trim()).map_err(|_| unreadable())?;
    if iv.len() != 12 {
        return Err(unreadable());
    }
    let epk = PublicKey::from_sec1_bytes(&epk_bytes).map_err(|_| unreadable())?;
    let sk = secret(store)?;
    let shared = p256::ecdh::diffie_hellman(sk.to_nonzero_scalar(), epk.as_affine());
    let hk = Hkdf::<Sha256>::new(Some(&epk_bytes), shared.raw_secret_bytes());
    let mut key = [0u8; 32];
    hk.expand(FORMAT.as_bytes(), &mut key)
        .map_err(|_| unreadable())?;
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| unreadable())?;
    let plain = cipher
        .decrypt(
            Nonce::from_slice(&iv),
            AeadPayload {
                msg: &data,
                aad: FORMAT.as_bytes(),
            },
        )
        .map_err(|_| unreadable())?;
    serde_json::from_slice(&plain).map_err(|_| unreadable())
}

/// Encrypts a payload for the server whose public key is `public_key` (base64), as a
/// device's WebCrypto does: the tests write files with it.
pub fn seal(public_key: &str, payload: &Payload) -> AppResult<Envelope> {
    let point = STANDARD
        .decode(public_key.trim())
        .map_err(|_| unreadable())?;
    let server = PublicKey::from_sec1_bytes(&point).map_err(|_| unreadable())?;
    let eph = loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(k) = SecretKey::from_slice(&bytes) {
            break k;
        }
    };
    let epk = eph.public_key().to_encoded_point(false).as_bytes().to_vec();
    let shared = p256::ecdh::diffie_hellman(eph.to_nonzero_scalar(), server.as_affine());
    let hk = Hkdf::<Sha256>::new(Some(&epk), shared.raw_secret_bytes());
    let mut key = [0u8; 32];
    hk.expand(FORMAT.as_bytes(), &mut key)
        .map_err(|_| unreadable())?;
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| unreadable())?;
    let iv: [u8; 12] = rand::random();
    let plain = serde_json::to_vec(payload).map_err(|_| unreadable())?;
    let data = cipher
        .encrypt(
            Nonce::from_slice(&iv),
            AeadPayload {
                msg: &plain,
                aad: FORMAT.as_bytes(),
            },
        )
        .map_err(|_| unreadable())?;
    Ok(Envelope {
        format: FORMAT.into(),
        epk: STANDARD.encode(&epk),
        iv: STANDARD.encode(iv),
        data: STANDARD.encode(&data),
    })
}

/// Applies a hand-off file uploaded by `reviewer`, as a sync from the device that
/// wrote it.
pub fn apply(state: &AppState, reviewer: &Caller, file: &[u8]) -> AppResult<Outcome> {
    let store = state.store.as_ref();
    let payload = open(store, file)?;
    let device = auth::handoff_caller(store, &payload.token)?;
    if device.device_id != payload.device_id {
        return Err(unreadable());
    }
    // The reviewer's scope must hold the device's.
    if !device.scope_path.starts_with(&reviewer.scope_path) {
        return Err(AppError::user(
            StatusCode::FORBIDDEN,
            ErrorCode::HandoffOutOfScope,
            "Tệp bàn giao này của một thiết bị ngoài phạm vi của bạn.",
            "This hand-off file comes from a device outside your scope.",
        ));
    }
    // The device's other tabs may have written with ids not registered yet; an id
    // another device holds stays foreign, and its changes are refused below.
    for a in &payload.actors {
        let _ = auth::bind_actor(store, &device, a);
    }
    let docs: &dyn DocStore = store;
    let actors: HashSet<String> = docs.device_actors(&device.device_id)?;
    let pusher = Pusher {
        actors: &actors,
        scope_path: &device.scope_path,
        username: &device.username,
        device_id: &device.device_id,
        may_review: matches!(device.role, Role::Reviewer | Role::Admin),
    };
    let rules = state.rules();
    let limits = &state.config.limits;
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    for part in payload.push.chunks(limits.max_docs_per_request.max(1)) {
        let cfg = MergeConfig {
            rules: &rules,
            limits,
            today: today_vn(),
        };
        let out = docs.apply_push(cfg, &pusher, part)?;
        accepted.extend(out.accepted);
        rejected.extend(out.rejected);
    }
    auth::record_rejections(store, &device.device_id, rejected.len())?;
    {
        let conn = store.conn();
        let note = format!(
            "{} {} / {} accepted, {} refused",
            device.username,
            device.device_id,
            accepted.len(),
            rejected.len()
        );
        crate::administration::audit(
            &conn,
            reviewer,
            "handoff.apply",
            &device.device_id,
            None,
            None,
            &note,
        )?;
    }
    Ok(Outcome {
        device_id: device.device_id,
        username: device.username,
        display_name: device.display_name,
        created_at: payload.created_at,
        accepted,
        rejected,
    })
}
