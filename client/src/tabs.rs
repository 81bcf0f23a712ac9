//! Several tabs and windows of the app on one browser profile, online or offline.
//!
//! - One tab at a time runs the sync loop: the holder of the Web Lock `hoso-sync`. When
//!   it closes (or crashes) the browser grants the lock to another tab.
//! - Each tab writes with its own Automerge actor id, leased through a Web Lock
//!   `hoso-actor-<id>` from the profile's pool (`actors` in IndexedDB): two tabs sharing
//!   one would make two different changes with the same sequence number. The sync tab
//!   registers new ids with the server (`POST /api/actors`) before pushing.
//! - Tabs tell each other what they stored on a BroadcastChannel: the ids of documents
//!   written (the others read them back from IndexedDB, so a missed message costs
//!   freshness, never data), the sync state, "sync now", sign-in and sign-out.

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect};
use serde::{Deserialize, Serialize};
use shared::sync::DocId;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::model::{self, SyncView};

const CHANNEL: &str = "hoso-tabs";
const SYNC_LOCK: &str = "hoso-sync";

/// A message between tabs.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Msg {
    /// These documents were written (or deleted) in IndexedDB.
    Docs { ids: Vec<DocId> },
    /// The sync tab's state, for every header.
    Sync { view: SyncView },
    /// Asks the sync tab to sync now.
    SyncNow,
    /// A tab signed in (or again): read the session from IndexedDB.
    Session,
    /// The session expired: every tab offers to sign in again.
    Relogin,
    /// The reference data changed in IndexedDB.
    Reference,
    /// Signed out (or the device was revoked): IndexedDB is already wiped.
    SignOut,
}

/// One of the profile's actor ids, and whether the server knows it is this device's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActorEntry {
    pub actor: String,
    pub bound: bool,
}

thread_local! {
    static CHAN: RefCell<Option<BroadcastChannel>> = const { RefCell::new(None) };
}

/// Opens the channel and hands every message to `receive`; call before reading
/// IndexedDB at start-up, so nothing written by another tab in between is missed.
pub fn listen(receive: impl Fn(Msg) + 'static) {
    let Ok(chan) = BroadcastChannel::new(CHANNEL) else {
        return;
    };
    let on = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(msg) = e
            .data()
            .as_string()
            .and_then(|s| serde_json::from_str::<Msg>(&s).ok())
        {
            receive(msg);
        }
    });
    chan.set_onmessage(Some(on.as_ref().unchecked_ref()));
    // The handler lives as long as the page.
    on.forget();
    CHAN.with(|c| *c.borrow_mut() = Some(chan));
}

pub fn post(msg: &Msg) {
    let Ok(s) = serde_json::to_string(msg) else {
        return;
    };
    CHAN.with(|c| {
        if let Some(chan) = c.borrow().as_ref() {
            let _ = chan.post_message(&s.into());
        }
    });
}

/// Tells the other tabs that these documents changed in IndexedDB.
pub fn announce_docs(ids: &[DocId]) {
    if !ids.is_empty() {
        post(&Msg::Docs { ids: ids.to_vec() });
    }
}

fn locks() -> Option<JsValue> {
    let nav = web_sys::window()?.navigator();
    let l = Reflect::get(&nav, &"locks".into()).ok()?;
    (!l.is_undefined() && !l.is_null()).then_some(l)
}

/// Asks for the sync lock; `granted` runs when this tab gets it (at once if the
/// browser has no Web Locks: then every tab syncs, as before).
pub fn seek_leadership(granted: impl FnOnce() + 'static) {
    let Some(locks) = locks() else {
        granted();
        return;
    };
    let cb = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        granted();
        // Held until the page goes away.
        Promise::new(&mut |_resolve, _reject| {}).into()
    });
    let request = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    if let Some(f) = request {
        let _ = f.call2(&locks, &SYNC_LOCK.into(), &cb);
    }
}

/// Tries to lease an actor id for this tab's lifetime; false when another tab has it.
async fn try_lease(actor: &str) -> bool {
    let Some(locks) = locks() else {
        return true;
    };
    let Some(request) = Reflect::get(&locks, &"request".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return true;
    };
    let mut answer: Option<Function> = None;
    let result = Promise::new(&mut |resolve, _| answer = Some(resolve));
    let Some(answer) = answer else { return false };
    let cb = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let got = !lock.is_null() && !lock.is_undefined();
        let _ = answer.call1(&JsValue::NULL, &got.into());
        if got {
            Promise::new(&mut |_resolve, _reject| {}).into()
        } else {
            JsValue::UNDEFINED
        }
    });
    let opts = Object::new();
    let _ = Reflect::set(&opts, &"ifAvailable".into(), &true.into());
    if request
        .call3(&locks, &format!("hoso-actor-{actor}").into(), &opts, &cb)
        .is_err()
    {
        return false;
    }
    JsFuture::from(result)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// The actor id this tab writes with: a free one of the profile's pool (the session's
/// own first), or a new one added to the pool.
pub async fn lease_actor(session_actor: &str) -> String {
    let Some(store) = model::store() else {
        return session_actor.to_string();
    };
    let mut pool: Vec<ActorEntry> = store
        .get_meta("actors")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    if !pool.iter().any(|a| a.actor == session_actor) {
        pool.insert(
            0,
            ActorEntry {
                actor: session_actor.to_string(),
                bound: true,
            },
        );
    }
    for a in &pool {
        if try_lease(&a.actor).await {
            return a.actor.clone();
        }
    }
    let fresh = automerge::ActorId::random().to_hex_string();
    try_lease(&fresh).await;
    let entry = ActorEntry {
        actor: fresh.clone(),
        bound: false,
    };
    let session_actor = session_actor.to_string();
    let _ = store
        .update_meta("actors", move |old: Option<Vec<ActorEntry>>| {
            let mut pool = old.unwrap_or_else(|| {
                vec![ActorEntry {
                    actor: session_actor,
                    bound: true,
                }]
            });
            pool.push(entry);
            pool
        })
        .await;
    fresh
}

/// Registers the pool's new actor ids with the server (the sync tab, before pushing):
/// a change written with an id the server does not know would be refused.
pub async fn bind_actors(token: &str) -> Result<(), crate::api::ApiError> {
    let Some(store) = model::store() else {
        return Ok(());
    };
    let pool: Vec<ActorEntry> = store
        .get_meta("actors")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    for a in pool.iter().filter(|a| !a.bound) {
        let body = serde_json::json!({ "actor": a.actor });
        crate::api::post::<_, serde_json::Value>("/api/actors", Some(token), &body).await?;
        let done = a.actor.clone();
        let _ = store
            .update_meta("actors", move |old: Option<Vec<ActorEntry>>| {
                let mut pool = old.unwrap_or_default();
                for e in pool.iter_mut().filter(|e| e.actor == done) {
                    e.bound = true;
                }
                pool
            })
            .await;
    }
    Ok(())
}
