//! The hand-off file ("Xuất bàn giao"): when there is no network for weeks, the
//! device's unsent changes are written to a file encrypted for the server, which the
//! cadre gives to the office by any means. A reviewer uploads it at `/central/handoff`,
//! and the server applies it as a sync from this device. The changes stay unsent here
//! (marked as handed off) and go with the next sync as well; the server takes them
//! once.
//!
//! The file carries the device's session token, so the server knows which device wrote
//! it (only this device holds it); the whole payload is encrypted with
//! `vault::seal_for_server` under the server's public key from the reference data.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use shared::sync::DocChanges;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::device::reference::Handed;
use crate::i18n::tr;
use crate::model::{self, with};
use crate::tabs::ActorEntry;
use crate::vault;

/// What the file holds once the server decrypts it.
#[derive(Serialize, Deserialize)]
pub struct Payload {
    pub device_id: String,
    pub token: String,
    /// This profile's actor ids (a tab's id may not be registered yet).
    pub actors: Vec<String>,
    /// Milliseconds since the epoch.
    pub created_at: f64,
    pub push: Vec<DocChanges>,
}

/// Writes the hand-off file and offers it for download; returns the count of files.
pub async fn export() -> Result<usize, String> {
    model::hydrate_all().await;
    let (session, key) = with(|m| (m.session.clone(), m.reference.handoff_key.clone()));
    let session = session.ok_or("no session")?;
    if key.is_empty() {
        return Err(tr(
            "Chưa có khóa của máy chủ: hãy đồng bộ một lần khi có mạng để nhận dữ liệu tham chiếu mới.",
            "The server's key is missing: sync once online to receive the new reference data.",
        )
        .into());
    }
    let (req, _) = with(|m| m.replica.prepare(None));
    if req.push.is_empty() {
        return Err(tr(
            "Không có thay đổi nào chưa gửi: không cần bàn giao.",
            "There are no unsent changes: nothing to hand off.",
        )
        .into());
    }
    let store = model::store().ok_or("no storage")?;
    let pool: Vec<ActorEntry> = store
        .get_meta("actors")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    let mut actors: Vec<String> = pool.into_iter().map(|a| a.actor).collect();
    if let Some(a) = with(|m| m.actor()) {
        actors.push(a.to_hex_string());
    }
    actors.sort();
    actors.dedup();
    let now = model::now_ms();
    let handed = Handed {
        at: now,
        docs: with(|m| {
            req.push
                .iter()
                .filter_map(|d| {
                    let rd = m.replica.docs.get_mut(&d.doc_id)?;
                    let heads = rd.doc.get_heads().iter().map(|h| h.to_string()).collect();
                    Some((d.doc_id.clone(), heads))
                })
                .collect()
        }),
    };
    let n = req.push.len();
    let payload = Payload {
        device_id: session.device_id.clone(),
        token: session.token.clone(),
        actors,
        created_at: now,
        push: req.push,
    };
    let plain = serde_json::to_vec(&payload).map_err(|e| e.to_string())?;
    let envelope = vault::seal_for_server(&key, &plain)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let text = serde_json::to_string(&envelope).map_err(|e| e.to_string())?;
    let day = model::today().format_vn().replace('/', "-");
    let short: String = session.device_id.chars().take(8).collect();
    download(&format!("ban-giao-{day}-{short}.json"), &text).map_err(|e| format!("{e:?}"))?;
    let json = serde_json::to_string(&handed).unwrap_or_default();
    store
        .put_meta(&[("handed", json)])
        .await
        .map_err(|e| format!("{e:?}"))?;
    model::ui().handed.set(Some(handed));
    Ok(n)
}

/// The last hand-off recorded on this device.
pub async fn load() {
    if let Some(store) = model::store()
        && let Ok(h) = store.get_meta::<Handed>("handed").await
    {
        model::ui().handed.set(h);
    }
}

fn download(name: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)?;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = doc.create_element("a")?.dyn_into()?;
    a.set_href(&url);
    a.set_download(name);
    doc.body().ok_or("no body")?.append_child(&a)?;
    a.click();
    a.remove();
    web_sys::Url::revoke_object_url(&url)?;
    Ok(())
}
