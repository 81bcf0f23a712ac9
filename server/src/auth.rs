//! Accounts, devices and sessions: argon2id passwords, random tokens stored only as
//! SHA-256 hashes, each device bound to its user and to the Automerge actor ids it writes
//! with, and the organisational scope every request carries.

use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use shared::api::ErrorCode;
pub use shared::api::{LoginRequest, LoginResponse, Role, User};

use crate::AppState;
use crate::db::accounts;
use crate::db::store::Store;
use crate::error::{AppError, AppResult};

/// How long a device stays logged in without contact.
pub const SESSION_DAYS: i64 = 30;

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope_org: String,
    /// Materialised path of the scope organisation: its subtree shares this prefix.
    pub scope_path: String,
    pub device_id: String,
}

impl Caller {
    /// The account as the API describes it.
    pub fn user(&self) -> User {
        User {
            user_id: self.user_id,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            scope_org: self.scope_org.clone(),
            scope_path: self.scope_path.clone(),
            device_id: self.device_id.clone(),
        }
    }
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).expect("16 bytes is a valid salt length");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters does not fail")
        .to_string()
}

/// Argon2 working memory (19 MiB with the default parameters), reused between checks.
/// Allocated afresh for every login, it was kept by the allocator once per worker thread,
/// and a burst of logins left the server holding hundreds of megabytes.
static ARGON2_MEMORY: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());

fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(params), Ok(algorithm)) = (
        argon2::Params::try_from(&parsed),
        argon2::Algorithm::try_from(parsed.algorithm),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| argon2::Version::try_from(v).ok())
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let blocks = params.block_count();
    let pool = || ARGON2_MEMORY.lock().unwrap_or_else(|p| p.into_inner());
    let mut memory = pool()
        .pop()
        .filter(|m| m.len() == blocks)
        .unwrap_or_else(|| vec![argon2::Block::default(); blocks]);
    let mut out = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..])
        .is_ok();
    {
        let mut pool = pool();
        // As many buffers as logins may hash at once (the semaphore in `lib.rs`).
        if pool.len() < 2 {
            pool.push(memory);
        }
    }
    // `Output` compares in constant time.
    hashed
        && argon2::password_hash::Output::new(&out)
            .map(|o| o == expected)
            .unwrap_or(false)
}

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn create_user(
    store: &Store,
    username: &str,
    display_name: &str,
    password: &str,
    role: Role,
    scope_org: &str,
) -> Result<i64, crate::db::Error> {
    let conn = store.conn();
    accounts::insert_user(
        &conn,
        username,
        display_name,
        &hash_password(password),
        role.as_str(),
        scope_org,
    )
}

/// Checks the password, registers a new device (with its actor id) and opens a session.
pub fn login(store: &Store, req: &LoginRequest) -> AppResult<LoginResponse> {
    let wrong = || {
        AppError::user(
            StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "Sai tên đăng nhập hoặc mật khẩu.",
            "Wrong username or password.",
        )
    };
    let row = accounts::credentials(&store.read(), &req.username)?;
    let Some(accounts::Credentials {
        user_id,
        password_hash: hash,
        active,
    }) = row
    else {
        // Spend the same time as a real check so usernames cannot be probed by timing.
        let _ = verify_password(&req.password, dummy_hash());
        return Err(wrong());
    };
    if !active || !verify_password(&req.password, &hash) {
        return Err(wrong());
    }
    if let Some(actor) = &req.actor {
        check_actor_format(actor)?;
    }
    let token = random_token();
    let now = now_secs();
    let expires_at = now + SESSION_DAYS * 86_400;
    let device_id;
    {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        // The same person signing in again with the actor id their device already writes
        // with reopens that device: its unsent changes stay theirs and are accepted.
        let known = match &req.actor {
            Some(actor) => {
                accounts::actor_binding(&tx, actor)?.map(|b| (b.device_id, b.user_id, b.revoked_at))
            }
            None => None,
        };
        match known {
            Some((_, owner, Some(_))) if owner == user_id => return Err(revoked()),
            Some((existing, owner, None)) if owner == user_id => device_id = existing,
            _ => {
                device_id = random_token()[..22].to_string();
                let name = if req.device_name.trim().is_empty() {
                    "thiết bị"
                } else {
                    req.device_name.trim()
                };
                accounts::insert_device(&tx, &device_id, user_id, name, now)?;
            }
        }
        accounts::insert_session(&tx, &token_hash(&token), user_id, &device_id, expires_at)?;
        if let Some(actor) = &req.actor {
            bind_actor_tx(&tx, actor, &device_id, user_id)?;
        }
        tx.commit()?;
    }
    let user = caller_for(store, user_id, &device_id)?.user();
    let must_change_password: bool = {
        let conn = store.conn();
        accounts::set_last_login(&conn, user_id, now)?;
        accounts::must_change_password(&conn, user_id)?
    };
    Ok(LoginResponse {
        token,
        device_id,
        expires_at,
        user,
        must_change_password,
    })
}

/// Login throttling: after `free_failures` wrong passwords within `window_secs` for one
/// account (or `free_failures_per_address` from one address), every further attempt waits
/// for a lock-out of `base_lock_secs` that doubles with each failure, up to
/// `max_lock_secs`. While locked, the
/// password is not even checked, so guessing gains nothing. Unknown usernames are counted
/// and answered exactly like known ones. State lives in the database, so every server
/// process over one database enforces the same counts.
#[derive(Debug, Clone)]
pub struct Throttle {
    pub free_failures: i64,
    pub free_failures_per_address: i64,
    pub window_secs: i64,
    pub base_lock_secs: i64,
    pub max_lock_secs: i64,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            free_failures: 10,
            free_failures_per_address: 100,
            window_secs: 15 * 60,
            base_lock_secs: 30,
            max_lock_secs: 15 * 60,
        }
    }
}

fn throttle_keys(username: &str, peer: Option<std::net::IpAddr>) -> Vec<(String, bool)> {
    let mut keys = vec![(format!("u:{}", username.trim().to_lowercase()), false)];
    if let Some(ip) = peer {
        keys.push((format!("a:{ip}"), true));
    }
    keys
}

fn too_many_attempts(wait: i64) -> AppError {
    AppError::user(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::TooManyAttempts,
        format!("Đăng nhập sai quá nhiều lần. Hãy thử lại sau {wait} giây."),
        format!("Too many failed sign-ins. Try again in {wait} seconds."),
    )
}

/// Refuses an attempt while its account or address is locked out.
fn check_throttle(store: &Store, keys: &[(String, bool)]) -> AppResult<()> {
    let now = now_secs();
    let conn = store.read();
    for (key, _) in keys {
        let until = accounts::locked_until(&conn, key)?;
        if let Some(until) = until
            && until > now
        {
            return Err(too_many_attempts(until - now));
        }
    }
    Ok(())
}

/// Counts a failed attempt and locks the key out once its free failures are used up.
fn record_failure(store: &Store, keys: &[(String, bool)], t: &Throttle) -> AppResult<()> {
    let now = now_secs();
    let conn = store.conn();
    for (key, is_address) in keys {
        let free = if *is_address {
            t.free_failures_per_address
        } else {
            t.free_failures
        };
        let prev = accounts::failures(&conn, key)?;
        let failures = match prev {
            Some((n, last)) if now - last < t.window_secs => n + 1,
            _ => 1,
        };
        // The last free failure locks for the base time; each further one doubles it.
        let over = failures - free;
        let locked_until = if over >= 0 {
            now + (t.base_lock_secs << over.min(20)).min(t.max_lock_secs)
        } else {
            0
        };
        accounts::put_failures(&conn, key, failures, now, locked_until)?;
    }
    Ok(())
}

/// [`login`] behind the throttle: the only way routes sign people in.
pub fn login_throttled(
    store: &Store,
    req: &LoginRequest,
    peer: Option<std::net::IpAddr>,
    throttle: &Throttle,
) -> AppResult<LoginResponse> {
    let keys = throttle_keys(&req.username, peer);
    check_throttle(store, &keys)?;
    match login(store, req) {
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            record_failure(store, &keys, throttle)?;
            Err(e)
        }
        Ok(resp) => {
            accounts::clear_failures(&store.conn(), &keys[0].0)?;
            Ok(resp)
        }
        other => other,
    }
}

/// Removes expired sessions, stale login-failure counts, and devices nobody can use any
/// more: no live session, nothing ever written, and not seen for `idle_days`.
pub fn purge(store: &Store, idle_days: i64) -> AppResult<(usize, usize)> {
    let now = now_secs();
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let sessions = accounts::delete_expired_sessions(&tx, now)?;
    accounts::delete_stale_failures(&tx, now)?;
    let cutoff = now - idle_days * 86_400;
    let devices = accounts::delete_unused_devices(&tx, cutoff)?;
    tx.commit()?;
    Ok((sessions, devices))
}

/// Counts pushes the server refused from a device, for the administrator's device list.
pub fn record_rejections(store: &Store, device_id: &str, n: usize) -> AppResult<()> {
    if n > 0 {
        accounts::add_rejections(&store.conn(), device_id, n as i64, now_secs())?;
    }
    Ok(())
}

/// Whether `password` is the user's current one.
pub fn check_user_password(store: &Store, user_id: i64, password: &str) -> AppResult<bool> {
    let hash = accounts::password_hash(&store.read(), user_id)?;
    Ok(hash.is_some_and(|h| verify_password(password, &h)))
}

/// A distinct answer: the client must wipe its local data, not merely log in again.
fn revoked() -> AppError {
    AppError::user(
        StatusCode::GONE,
        ErrorCode::DeviceRevoked,
        "Thiết bị này đã bị thu hồi. Dữ liệu trên thiết bị sẽ được xoá.",
        "This device has been revoked. Its local data will be wiped.",
    )
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("không dùng"))
}

fn check_actor_format(actor: &str) -> AppResult<()> {
    let ok = (2..=64).contains(&actor.len())
        && actor.len().is_multiple_of(2)
        && actor
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(AppError::bad_request(
            ErrorCode::BadActor,
            "Mã tác giả (actor id) không hợp lệ.",
            "Invalid actor id.",
        ))
    }
}

fn bind_actor_tx(
    tx: &crate::db::Transaction<'_>,
    actor: &str,
    device_id: &str,
    user_id: i64,
) -> AppResult<()> {
    let owner = accounts::actor_device(tx, actor)?;
    match owner {
        Some(d) if d == device_id => Ok(()),
        Some(_) => Err(AppError::user(
            StatusCode::CONFLICT,
            ErrorCode::ActorTaken,
            "Mã tác giả này đã thuộc về thiết bị khác.",
            "This actor id belongs to another device.",
        )),
        None => {
            accounts::insert_actor(tx, actor, device_id, user_id)?;
            Ok(())
        }
    }
}

/// Registers one more actor id for the calling device (for example after a local reset).
pub fn bind_actor(store: &Store, caller: &Caller, actor: &str) -> AppResult<()> {
    check_actor_format(actor)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    bind_actor_tx(&tx, actor, &caller.device_id, caller.user_id)?;
    tx.commit()?;
    Ok(())
}

pub fn revoke_device(store: &Store, device_id: &str) -> AppResult<bool> {
    let n = accounts::revoke_device(&store.conn(), device_id, now_secs())?;
    Ok(n == 1)
}

pub fn logout(store: &Store, token: &str) -> AppResult<()> {
    accounts::delete_session(&store.conn(), &token_hash(token))?;
    Ok(())
}

fn caller_for(store: &Store, user_id: i64, device_id: &str) -> AppResult<Caller> {
    let u = accounts::scoped_user(&store.read(), user_id)?;
    Ok(Caller {
        user_id: u.user_id,
        username: u.username,
        display_name: u.display_name,
        role: Role::parse(&u.role).unwrap_or(Role::Cadre),
        scope_org: u.scope_org,
        scope_path: u.scope_path,
        device_id: device_id.to_string(),
    })
}

/// Resolves a bearer token to its caller, refusing expired sessions and revoked devices.
pub fn authenticate(store: &Store, token: &str) -> AppResult<Caller> {
    let row = accounts::session(&store.read(), &token_hash(token))?;
    let Some(accounts::Session {
        user_id,
        device_id,
        expires_at,
        revoked_at,
        active,
        last_seen,
    }) = row
    else {
        return Err(AppError::unauthorized());
    };
    if revoked_at.is_some() {
        return Err(revoked());
    }
    if expires_at < now_secs() {
        return Err(AppError::user(
            StatusCode::UNAUTHORIZED,
            ErrorCode::TokenExpired,
            "Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại; dữ liệu chưa đồng bộ vẫn được giữ.",
            "The session has expired. Log in again; unsynced data is kept.",
        ));
    }
    if !active {
        return Err(AppError::unauthorized());
    }
    // At most one write a minute per device, and one the request does not wait for: it
    // goes into the writer's shared transaction and is committed with the next writes.
    let now = now_secs();
    if last_seen.is_none_or(|t| t < now - 60) {
        store.write_soon(|tx| accounts::touch_device(tx, &device_id, now))?;
    }
    caller_for(store, user_id, &device_id)
}

/// The device a hand-off file's token names. The session may have expired since the
/// file was written (the token still proves the file came from that device); a revoked
/// device, an inactive account or an unknown token is refused.
pub fn handoff_caller(store: &Store, token: &str) -> AppResult<Caller> {
    let row = accounts::session(&store.read(), &token_hash(token))?;
    let Some(accounts::Session {
        user_id,
        device_id,
        revoked_at,
        active,
        ..
    }) = row
    else {
        return Err(AppError::user(
            StatusCode::FORBIDDEN,
            ErrorCode::HandoffUnknownDevice,
            "Tệp bàn giao không thuộc về phiên đăng nhập nào còn hiệu lực trên máy chủ (thiết bị đã đăng xuất hoặc bị xóa). Không có thay đổi nào được nhận.",
            "The hand-off file belongs to no sign-in the server still knows (the device signed out or was removed). No change was taken.",
        ));
    };
    if revoked_at.is_some() {
        return Err(AppError::user(
            StatusCode::FORBIDDEN,
            ErrorCode::DeviceRevoked,
            "Thiết bị đã viết tệp bàn giao này đã bị thu hồi. Không có thay đổi nào được nhận.",
            "The device that wrote this hand-off file has been revoked. No change was taken.",
        ));
    }
    if !active {
        return Err(AppError::user(
            StatusCode::FORBIDDEN,
            ErrorCode::AccountInactive,
            "Tài khoản của thiết bị này đã bị khóa. Không có thay đổi nào được nhận.",
            "The account of this device is disabled. No change was taken.",
        ));
    }
    caller_for(store, user_id, &device_id)
}

/// Name of the HttpOnly session cookie set by the central office's login form.
pub const SESSION_COOKIE: &str = "hoso_session";

/// Extracts the caller from `Authorization: Bearer <token>` (devices, API clients) or,
/// failing that, from the central office's session cookie.
impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = match bearer(&parts.headers) {
            Some(t) => t,
            None => {
                let t = cookie_value(&parts.headers, SESSION_COOKIE)
                    .ok_or_else(AppError::unauthorized)?;
                // A browser attaches the cookie to any request it sends here; SameSite=Strict
                // keeps it off cross-site requests, and a state-changing request must also
                // come from our own origin (defence in depth against CSRF).
                if !parts.method.is_safe() && !same_origin(parts) {
                    return Err(AppError::forbidden());
                }
                t
            }
        };
        let store = state.store.clone();
        tokio::task::spawn_blocking(move || authenticate(&store, &token)).await?
    }
}

/// The value of cookie `name` among the request's headers.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the request's `Origin` (or, lacking it, `Referer`) is this server's own host.
/// A request with neither is refused: browsers send `Origin` with every form POST.
pub fn same_origin(parts: &Parts) -> bool {
    let Some(host) = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
    else {
        return false;
    };
    let origin = parts
        .headers
        .get(axum::http::header::ORIGIN)
        .or_else(|| parts.headers.get(axum::http::header::REFERER))
        .and_then(|o| o.to_str().ok());
    let Some(origin) = origin else {
        return false;
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .unwrap_or("");
    let origin_host = rest.split('/').next().unwrap_or("");
    origin_host.eq_ignore_ascii_case(host)
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}
