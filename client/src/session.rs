//! Signing in and out, and the life of a session on this device: loading it from
//! IndexedDB, opening the app, another tab signing in or out, the device revoked.
//!
//! Start-up never waits for the network: the session, reference data and documents come
//! from IndexedDB, the list is drawn from stored summaries, and the first sync starts in
//! the background.

use automerge::ActorId;
use leptos::prelude::*;
use serde_json::Value as Json;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, LoginRequest, Reference, Session};
use crate::device::{Device, RawDoc};
use crate::i18n::tr;
use crate::model::{
    self, Screen, confirm_leave, hash_of, hydrate_all, rebuild_rows, screen_from_hash, ui, with,
};
use crate::sync;
use crate::tabs::{self, Msg};

/// Loads a signed-in device from IndexedDB: reference data, this tab's actor id, and
/// every document (unparsed; the list draws from stored summaries).
pub async fn load_device(session: Session) {
    let u = ui();
    let Some(store) = model::store() else { return };
    let reference: Option<Reference> = store.get_meta("reference").await.ok().flatten();
    let actor = tabs::lease_actor(&session.actor).await;
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

/// Signs in (first time, or again after the session expired).
pub async fn login(username: &str, password: &str) -> Result<(), String> {
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
        username,
        password,
        device_name: &device_name,
        actor: &actor,
    };
    let mut session: Session = api::post("/api/login", None, &req)
        .await
        .map_err(|e| e.message())?;
    session.actor = actor;
    if previous.is_some_and(|p| p != username) {
        wipe_device().await;
    }
    let reference: Reference = api::get("/api/reference", Some(&session.token))
        .await
        .map_err(|e| e.message())?;
    let store = model::store().ok_or("no storage")?;
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
