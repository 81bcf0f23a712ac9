//! Signing in and out, and the life of a session on this device: the PIN that seals
//! it, unlocking and locking (idle, hidden, from another tab), wrong PINs that wipe the
//! device, loading it from IndexedDB, opening the app, another tab signing in or out,
//! the device revoked.
//!
//! Start-up never waits for the network: the session, reference data and documents come
//! from IndexedDB, the list is drawn from stored summaries, and the first sync starts in
//! the background.

use automerge::ActorId;
use leptos::prelude::*;
use serde_json::Value as Json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, LoginRequest, LoginResponse, Reference, Session};
use crate::device::{Device, RawDoc};
use crate::i18n::tr;
use crate::model::{
    self, Screen, confirm_leave, hash_of, hydrate_all, rebuild_rows, screen_from_hash, ui, with,
};
use crate::passkey::{self, PasskeyError};
use crate::sync;
use crate::tabs::{self, Msg};
use crate::vault::{self, LockRecord};

/// Loads a signed-in device from IndexedDB: reference data, this tab's actor id, and
/// every document (unparsed; the list draws from stored summaries).
pub async fn load_device(session: Session) {
    let u = ui();
    let Some(store) = model::store() else { return };
    let reference: Option<Reference> = store.get_meta("reference").await.ok().flatten();
    // A tab unlocked again keeps the actor id it leased.
    let actor = match with(|m| m.tab_actor.clone()) {
        Some(a) => a.to_hex_string(),
        None => tabs::lease_actor(&session.actor).await,
    };
    // The list draws from the metadata; the chunks are read right after, in the
    // background (`model::load_chunks`), so a device with thousands of files opens fast.
    let (index, cursor) = store.load_index().await.unwrap_or_default();
    u.user.set(Some(session.user.clone()));
    if let Some(r) = &reference {
        u.orgs.set(r.orgs.clone());
    }
    with(|m| {
        m.session = Some(session);
        if let Some(r) = reference {
            m.set_reference(r);
        }
        if let Ok(a) = ActorId::try_from(actor.as_str()) {
            m.set_tab_actor(a);
        }
        m.replica.cursor = m.replica.cursor.max(cursor);
        for (id, meta) in index {
            m.add_raw(
                id,
                RawDoc {
                    chunks: Vec::new(),
                    meta,
                },
            );
        }
    });
    rebuild_rows();
    leptos::task::spawn_local(model::load_chunks());
}

thread_local! {
    static OPENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// After sign-in or start-up with a session: route, load the rest, sync.
pub fn open_app() {
    let u = ui();
    u.screen.set(screen_from_hash());
    leptos::task::spawn_local(async {
        request_persistence().await;
        hydrate_all().await;
    });
    sync::start();
    if OPENED.with(|o| o.replace(true)) {
        return;
    }
    let hashchange = window_event_listener_untyped("hashchange", move |_| {
        let s = screen_from_hash();
        let current = u.screen.get_untracked();
        if current != s && u.user.get_untracked().is_some() {
            if confirm_leave() {
                u.screen.set(s);
            } else if let Some(w) = web_sys::window() {
                // Stay: put the address back to the screen still shown.
                let _ = w.location().set_hash(&hash_of(&current));
            }
        }
    });
    std::mem::forget(hashchange);
    tabs::seek_leadership(|| leptos::task::spawn_local(sync::become_leader()));
}

/// Asks the browser to keep this site's storage under pressure, and shows the answer.
async fn request_persistence() {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
        return;
    };
    let ask = |p: Result<js_sys::Promise, JsValue>| async move {
        match p {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()),
            Err(_) => None,
        }
    };
    let already = ask(storage.persisted()).await;
    let answer = if already == Some(true) {
        Some(true)
    } else {
        ask(storage.persist()).await
    };
    ui().persisted.set(answer);
}

thread_local! {
    /// A sign-in waiting for its PIN: nothing is stored before the data key exists.
    static PENDING: std::cell::RefCell<Option<(Session, Reference)>> =
        const { std::cell::RefCell::new(None) };
}

/// Signs in (first time, or again after the session expired). `fresh`: the PIN was
/// forgotten; once the server accepts the password, this device is wiped and starts as
/// a new one (its unsent work is lost; the caller has said so).
pub async fn login(username: &str, password: &str, fresh: bool) -> Result<(), String> {
    let u = ui();
    let previous = with(|m| m.session.as_ref().map(|s| s.user.username.clone()));
    if let Some(prev) = &previous
        && prev != username
        && model::unsynced_count() > 0
    {
        return Err(tr(
            "Máy này còn thay đổi chưa gửi của tài khoản khác. Hãy đăng nhập bằng tài khoản đó để gửi trước.",
            "This device holds unsent changes of another account. Sign in with that account to send them first.",
        )
        .into());
    }
    // Signing in again as the same person keeps this device's actor id: the server then
    // reopens the same device, so changes made before the session expired stay
    // attributable to it and are accepted. A new person (or a wiped device) gets a new one.
    let actor = with(|m| {
        m.session
            .as_ref()
            .filter(|s| s.user.username == username)
            .map(|s| s.actor.clone())
    })
    .unwrap_or_else(|| ActorId::random().to_hex_string());
    let device_name = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .map(|ua| ua.chars().take(120).collect::<String>())
        .unwrap_or_default();
    let req = LoginRequest {
        username: username.to_string(),
        password: password.to_string(),
        device_name,
        actor: Some(actor.clone()),
    };
    let login: LoginResponse = api::post("/api/login", None, &req)
        .await
        .map_err(|e| e.message())?;
    let session = Session::of_login(login, actor);
    if previous.is_some_and(|p| p != username) {
        wipe_device().await;
    }
    let reference: Reference = api::get("/api/reference", Some(&session.token))
        .await
        .map_err(|e| e.message())?;
    let store = model::store().ok_or("no storage")?;
    if fresh {
        let _ = store.wipe().await;
        tabs::post(&Msg::SignOut);
        signed_out();
    }
    if !vault::unlocked() {
        // First sign-in on this device (or after a wipe): the PIN comes first.
        PENDING.with(|p| *p.borrow_mut() = Some((session, reference)));
        u.screen.set(Screen::SetPin);
        return Ok(());
    }
    let session_json = serde_json::to_string(&session).unwrap_or_default();
    let reference_json = serde_json::to_string(&reference).unwrap_or_default();
    store
        .put_meta(&[("session", session_json), ("reference", reference_json)])
        .await
        .map_err(|_| {
            tr(
                "Không ghi được vào bộ nhớ máy.",
                "Could not write to device storage.",
            )
        })?;
    tabs::post(&Msg::Session);
    u.relogin.set(false);
    let first = with(|m| m.session.is_none());
    if first {
        load_device(session).await;
        open_app();
    } else {
        u.user.set(Some(session.user.clone()));
        u.orgs.set(reference.orgs.clone());
        with(|m| {
            m.session = Some(session);
            m.set_reference(reference);
        });
        sync::start();
    }
    Ok(())
}

/// Another tab signed in: take the session from IndexedDB.
pub async fn session_changed() {
    let Some(store) = model::store() else { return };
    let Ok(Some(session)) = store.get_meta::<Session>("session").await else {
        return;
    };
    let u = ui();
    let same = with(|m| {
        m.session
            .as_ref()
            .map(|s| s.user.username == session.user.username)
    });
    match same {
        Some(true) => {
            u.user.set(Some(session.user.clone()));
            with(|m| m.session = Some(session));
            u.relogin.set(false);
            sync::start();
        }
        Some(false) => {}
        None => {
            load_device(session).await;
            open_app();
        }
    }
}

/// Another tab stored new reference data.
pub async fn reference_changed() {
    let Some(store) = model::store() else { return };
    if let Ok(Some(r)) = store.get_meta::<Reference>("reference").await {
        ui().orgs.set(r.orgs.clone());
        with(|m| {
            m.set_reference(r);
            m.cache.clear();
        });
        rebuild_rows();
    }
}

/// Signs out: sends what is unsent first; refuses (with the count) when that fails,
/// unless forced.
pub async fn logout(force: bool) -> Result<(), usize> {
    if !force {
        sync::run_and_wait().await;
        let left = model::unsynced_count();
        if left > 0 {
            return Err(left);
        }
    }
    let token = with(|m| m.session.as_ref().map(|s| s.token.clone()));
    if let Some(t) = token {
        let _ = api::post::<_, Json>("/api/logout", Some(&t), &serde_json::json!({})).await;
    }
    wipe_device().await;
    Ok(())
}

/// Erases every case file and the session from this device, in every tab.
pub async fn wipe_device() {
    sync::stop();
    if let Some(store) = model::store() {
        let _ = store.wipe().await;
    }
    tabs::post(&Msg::SignOut);
    signed_out();
}

/// The device was wiped (here or in another tab): forget everything in memory.
pub fn signed_out() {
    vault::forget();
    ui().lock.set(None);
    ui().handed.set(None);
    sync::stop();
    with(|m| *m = Device::default());
    let u = ui();
    u.rows.set(Vec::new());
    u.user.set(None);
    u.relogin.set(false);
    u.hydrated.set(false);
    u.loaded.set(false);
    u.drafts.set(Default::default());
    u.sync.set(Default::default());
    u.screen.set(Screen::Login);
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash("#/");
    }
}

/// Start-up once storage is open: the unlock screen when a PIN is set (unless another
/// tab of this profile is unlocked and hands over the key), the PIN screen for a device
/// signed in before encryption, else the sign-in form.
pub async fn start() {
    let u = ui();
    let Some(store) = model::store() else { return };
    let record: Option<LockRecord> = store.get_meta("vault").await.ok().flatten();
    match record {
        Some(r) => {
            u.lock.set(Some(r));
            if vault::ask_key(300).await {
                opened().await;
            } else {
                u.screen.set(Screen::Locked);
            }
        }
        None => {
            let legacy: Option<Session> = store.get_meta("session").await.ok().flatten();
            u.screen.set(if legacy.is_some() {
                Screen::SetPin
            } else {
                Screen::Login
            });
        }
    }
    watch_idle();
}

/// Tries a PIN. Each try is counted before it is made; the count goes back to zero on
/// success, and reaching the limit wipes the device.
pub async fn unlock(pin: &str) -> Result<(), String> {
    let key = counted_pin(pin, false).await?;
    vault::set_key(key);
    opened().await;
    Ok(())
}

/// Checks a PIN against the lock record, counting it as a try: the data key it opens
/// (`extractable` only to wrap it again), or the error to show. The count is written
/// before the try and reset after a right one; reaching the limit wipes the device.
async fn counted_pin(pin: &str, extractable: bool) -> Result<web_sys::CryptoKey, String> {
    // A lock still finishing (waiting for a write) must be over first.
    while LOCKING.with(|l| l.get()) {
        model::sleep(20).await;
    }
    let store = model::store().ok_or("no storage")?;
    let record: LockRecord = store
        .update_meta("vault", |old: Option<LockRecord>| {
            let mut r = old.unwrap_or_default();
            r.failures += 1;
            r
        })
        .await
        .map_err(|e| format!("{e:?}"))?;
    if record.wrapped.is_empty() {
        return Err(tr("Máy này chưa đặt mã PIN.", "No PIN is set on this device.").into());
    }
    if let Ok(key) = vault::open_with_pin(pin, &record, extractable).await {
        reset_failures().await;
        return Ok(key);
    }
    if record.failures >= record.max_failures {
        wipe_device().await;
        ui().notice.set(Some(
            tr(
                "Nhập sai mã PIN quá số lần cho phép: dữ liệu trên máy đã được xóa. Hãy đăng nhập lại.",
                "Too many wrong PINs: the data on this device has been erased. Sign in again.",
            )
            .into(),
        ));
        return Err(tr(
            "Dữ liệu trên máy đã bị xóa.",
            "The data on this device was erased.",
        )
        .into());
    }
    ui().lock.set(Some(record));
    Err(tr("Mã PIN không đúng.", "Wrong PIN.").into())
}

/// The cadre proved who they are (the PIN, or the passkey): the wrong PINs in a row
/// start again from zero.
async fn reset_failures() {
    save_lock_settings(|r| r.failures = 0).await;
}

/// Changes the PIN while unlocked: the current PIN (counted as a try, like the unlock
/// screen's) opens a copy of the data key, which is wrapped under the new PIN with a
/// new salt. The lock record is one IndexedDB value written in one transaction, so a
/// crash leaves the old wrapping or the new one, never neither. A passkey set up
/// before still opens the same key and stays.
pub async fn change_pin(current: &str, new: &str) -> Result<(), String> {
    let key = counted_pin(current, true).await?;
    let wrap = vault::wrap_for_pin(&key, new)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let store = model::store().ok_or("no storage")?;
    let record = store
        .update_meta("vault", |old: Option<LockRecord>| {
            let mut r = old.unwrap_or_default();
            r.set_pin_wrap(&wrap);
            r.failures = 0;
            r
        })
        .await
        .map_err(|_| {
            tr(
                "Không ghi được vào bộ nhớ máy: mã PIN cũ vẫn dùng.",
                "Could not write to device storage: the old PIN still applies.",
            )
            .to_string()
        })?;
    ui().lock.set(Some(record));
    Ok(())
}

/// What to tell the cadre when a passkey did not answer.
fn passkey_message(e: &PasskeyError) -> String {
    match e {
        PasskeyError::Unsupported => tr(
            "Trình duyệt này không dùng được khóa truy cập ở địa chỉ này.",
            "This browser cannot use passkeys at this address.",
        )
        .into(),
        PasskeyError::NoPrf => tr(
            "Trình duyệt hoặc thiết bị này không hỗ trợ mở khóa dữ liệu bằng khóa truy cập (thiếu tiện ích PRF). Hãy dùng mã PIN.",
            "This browser or device cannot unlock data with a passkey (no PRF extension). Use the PIN.",
        )
        .into(),
        PasskeyError::Refused => tr(
            "Khóa truy cập chưa được xác nhận (đã hủy hoặc hết thời gian).",
            "The passkey was not confirmed (cancelled or timed out).",
        )
        .into(),
        PasskeyError::Failed(m) => format!(
            "{} {m}",
            tr("Khóa truy cập bị lỗi:", "The passkey failed:")
        ),
    }
}

/// Sets up a passkey to unlock this device: the PIN (counted as a try) opens a copy of
/// the data key; a platform passkey is created with the PRF extension and the key is
/// wrapped a second time by its output. A browser or authenticator that gives no PRF
/// output is remembered, and the option is not offered again.
pub async fn enrol_passkey(pin: &str) -> Result<(), String> {
    if !passkey::supported() {
        return Err(passkey_message(&PasskeyError::Unsupported));
    }
    let key = counted_pin(pin, true).await?;
    let (name, display) = with(|m| {
        m.session
            .as_ref()
            .map(|s| (s.user.username.clone(), s.user.display_name.clone()))
    })
    .unwrap_or_default();
    let salt = vault::random(32).map_err(|e| format!("{e:?}"))?;
    let made = passkey::create(&name, &display, &salt).await;
    let made = match made {
        Err(PasskeyError::NoPrf) => {
            save_lock_settings(|r| r.passkey_unsupported = true).await;
            return Err(passkey_message(&PasskeyError::NoPrf));
        }
        other => other.map_err(|e| passkey_message(&e))?,
    };
    // Some browsers give the PRF output only when the passkey is used: use it once now.
    let prf = match made.prf {
        Some(p) => p,
        None => match passkey::evaluate(&made.id, &salt).await {
            Ok(p) => p,
            Err(e) => {
                passkey::forget(&made.id);
                if e == PasskeyError::NoPrf {
                    save_lock_settings(|r| r.passkey_unsupported = true).await;
                }
                return Err(passkey_message(&e));
            }
        },
    };
    let wrap = vault::wrap_for_passkey(&key, &prf, &made.id, &salt)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let old = ui().lock.get_untracked().and_then(|r| r.passkey);
    save_lock_settings(move |r| r.passkey = Some(wrap)).await;
    if let Some(old) = old.and_then(|o| vault::unhex(&o.credential)) {
        passkey::forget(&old);
    }
    Ok(())
}

/// Removes the passkey's wrapping: from now on only the PIN opens the data.
pub async fn remove_passkey() {
    let old = ui().lock.get_untracked().and_then(|r| r.passkey);
    save_lock_settings(|r| r.passkey = None).await;
    if let Some(id) = old.and_then(|o| vault::unhex(&o.credential)) {
        passkey::forget(&id);
    }
}

/// Unlocks with the passkey. A passkey that does not answer is not a wrong PIN: nothing
/// is counted, and the PIN still works.
pub async fn unlock_with_passkey() -> Result<(), String> {
    while LOCKING.with(|l| l.get()) {
        model::sleep(20).await;
    }
    let store = model::store().ok_or("no storage")?;
    let record: Option<LockRecord> = store.get_meta("vault").await.ok().flatten();
    let Some(wrap) = record.and_then(|r| r.passkey) else {
        return Err(tr(
            "Máy này chưa có khóa truy cập; hãy nhập mã PIN.",
            "No passkey is set on this device; enter the PIN.",
        )
        .into());
    };
    let id = vault::unhex(&wrap.credential).unwrap_or_default();
    let salt = vault::unhex(&wrap.salt).unwrap_or_default();
    let prf = passkey::evaluate(&id, &salt)
        .await
        .map_err(|e| passkey_message(&e))?;
    if vault::unlock_with_passkey(&prf, &wrap).await.is_err() {
        return Err(tr(
            "Khóa truy cập này không mở được dữ liệu trên máy. Hãy nhập mã PIN.",
            "This passkey does not open the data on this device. Enter the PIN.",
        )
        .into());
    }
    reset_failures().await;
    opened().await;
    Ok(())
}

/// Sets the PIN: a new data key, wrapped by it. Then stores the sign-in waiting for it,
/// or seals what a device from before encryption holds in the clear.
pub async fn set_pin(pin: &str) -> Result<(), String> {
    let store = model::store().ok_or("no storage")?;
    let settings: LockRecord = store
        .get_meta("vault")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut record = vault::create(pin, &settings)
        .await
        .map_err(|e| format!("{e:?}"))?;
    // A first sign-in has stored nothing yet; a device from before encryption has.
    record.sealed = PENDING.with(|p| p.borrow().is_some());
    let json = serde_json::to_string(&record).unwrap_or_default();
    store
        .put_meta(&[("vault", json)])
        .await
        .map_err(|e| format!("{e:?}"))?;
    ui().lock.set(Some(record));
    if let Some((session, reference)) = PENDING.with(|p| p.borrow_mut().take()) {
        let session_json = serde_json::to_string(&session).unwrap_or_default();
        let reference_json = serde_json::to_string(&reference).unwrap_or_default();
        store
            .put_meta(&[("session", session_json), ("reference", reference_json)])
            .await
            .map_err(|_| {
                tr(
                    "Không ghi được vào bộ nhớ máy.",
                    "Could not write to device storage.",
                )
                .to_string()
            })?;
        tabs::post(&Msg::Session);
        ui().relogin.set(false);
    }
    opened().await;
    Ok(())
}

/// The data key is in use: seal anything still in the clear, then open the session.
async fn opened() {
    let u = ui();
    let Some(store) = model::store() else { return };
    mark_active();
    let sealed = u.lock.get_untracked().is_some_and(|r| r.sealed);
    if !sealed && store.seal_existing().await.is_ok() {
        save_lock_settings(|r| r.sealed = true).await;
    }
    crate::handoff::load().await;
    let session: Option<Session> = store.get_meta("session").await.ok().flatten();
    match session {
        Some(session) => {
            load_device(session).await;
            open_app();
        }
        None => u.screen.set(Screen::Login),
    }
}

/// Locks this tab: waits for pending writes, stops syncing, forgets the key and every
/// document in memory. Values typed but refused are dropped.
pub async fn lock() {
    let u = ui();
    if !vault::unlocked() || LOCKING.with(|l| l.replace(true)) {
        return;
    }
    // The screen goes at once; the key and the documents once the writes and a sync
    // under way are over (they need the key to store what they hold).
    u.screen.set(Screen::Locked);
    sync::stop();
    while u.saving.get_untracked() > 0 || sync::running() {
        model::sleep(20).await;
    }
    vault::forget();
    with(|m| {
        let actor = m.tab_actor.take();
        *m = Device::default();
        m.tab_actor = actor;
    });
    u.rows.set(Vec::new());
    u.user.set(None);
    u.hydrated.set(false);
    u.loaded.set(false);
    u.drafts.set(Default::default());
    u.screen.set(Screen::Locked);
    LOCKING.with(|l| l.set(false));
    if let Some(store) = model::store()
        && let Ok(Some(r)) = store.get_meta::<LockRecord>("vault").await
    {
        u.lock.set(Some(r));
    }
}

/// Locks every tab of this profile.
pub fn lock_all() {
    vault::lock_others();
    leptos::task::spawn_local(lock());
}

/// Changes the lock settings (minutes before the idle lock, wrong PINs allowed).
pub async fn save_lock_settings(f: impl FnOnce(&mut LockRecord)) {
    let Some(store) = model::store() else { return };
    if let Ok(r) = store
        .update_meta("vault", move |old: Option<LockRecord>| {
            let mut r = old.unwrap_or_default();
            f(&mut r);
            r
        })
        .await
    {
        ui().lock.set(Some(r));
    }
}

thread_local! {
    /// A lock is under way (waiting for writes before it drops the key).
    static LOCKING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static LAST_ACTIVE: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
    static HIDDEN_AT: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
    static WATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn mark_active() {
    LAST_ACTIVE.with(|l| l.set(js_sys::Date::now()));
}

/// The idle lock: a touch, click or key press counts as activity; the app locks after
/// the set minutes without any, and when it comes back after being hidden longer than
/// the set minutes.
fn watch_idle() {
    if WATCHING.with(|w| w.replace(true)) {
        return;
    }
    mark_active();
    for ev in ["pointerdown", "keydown", "touchstart", "wheel", "input"] {
        std::mem::forget(window_event_listener_untyped(ev, |_| mark_active()));
    }
    let on_visibility = Closure::<dyn FnMut()>::new(|| {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden());
        if hidden {
            HIDDEN_AT.with(|h| h.set(Some(js_sys::Date::now())));
            return;
        }
        let since = HIDDEN_AT.with(|h| h.take());
        let limit = ui()
            .lock
            .get_untracked()
            .map(|r| r.hidden_minutes)
            .unwrap_or(2);
        if let Some(t) = since
            && js_sys::Date::now() - t > f64::from(limit) * 60_000.0
        {
            leptos::task::spawn_local(lock());
        }
    });
    if let Some(d) = web_sys::window().and_then(|w| w.document()) {
        let _ = d.add_event_listener_with_callback(
            "visibilitychange",
            on_visibility.as_ref().unchecked_ref(),
        );
    }
    on_visibility.forget();
    let tick = Closure::<dyn FnMut()>::new(|| {
        let Some(r) = ui().lock.get_untracked() else {
            return;
        };
        let idle = js_sys::Date::now() - LAST_ACTIVE.with(|l| l.get());
        if vault::unlocked() && r.idle_minutes > 0 && idle > f64::from(r.idle_minutes) * 60_000.0 {
            leptos::task::spawn_local(lock());
        }
    });
    if let Some(w) = web_sys::window() {
        let _ = w.set_interval_with_callback_and_timeout_and_arguments_0(
            tick.as_ref().unchecked_ref(),
            5_000,
        );
    }
    tick.forget();
}
