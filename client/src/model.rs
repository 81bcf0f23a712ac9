//! The device model (`device::Device`) behind the reactive state the views read, and the
//! glue that stores what changes: an edit is applied, then written to IndexedDB as one
//! new chunk, then announced to the other tabs.
//!
//! The documents live in one `Device` rather than in signals: Automerge documents are
//! large mutable values that the views never need to copy. Views read small derived
//! values (list rows, one case's view) and follow `Ui::doc_rev`, which is bumped
//! whenever a document changes.
//!
//! Documents are loaded from IndexedDB as chunks first and parsed ("hydrated") a few at a
//! time after the list is on screen, so a device holding thousands of files opens fast;
//! the stored summary of each file draws its list row in the meantime.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::sync::Arc;

use automerge::ActorId;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shared::date::Date;
use shared::sync::DocId;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::device::reference::{Org, User};
pub use crate::device::{Device, DocView, Row, json_at};
use crate::i18n::tr;
use crate::store::{Batch, Store};
use crate::vault::LockRecord;

/// Which screen is shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    Loading,
    Login,
    /// The data is sealed: the PIN opens it.
    Locked,
    /// Signed in (or a device from before encryption): choose the PIN.
    SetPin,
    List,
    Case(DocId),
    New,
}

/// The sync state the header shows; the syncing tab shares it with the others.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncView {
    pub running: bool,
    /// Progress of the current run: documents pushed of the total to push.
    pub pushed: u32,
    pub to_push: u32,
    /// Changes received in the current run.
    pub received: u32,
    /// Whole files received in the current run (a first sync), and how many are still
    /// to come.
    pub files: u32,
    pub remaining: Option<u64>,
    pub last_ok: Option<f64>,
    /// The last failure, in both languages.
    pub error: Option<(String, String)>,
    pub offline: bool,
}

/// The reactive state of the interface. Signals are `Copy` handles, so this is too.
/// Views receive it through Leptos context (`use_ui`).
#[derive(Clone, Copy)]
pub struct Ui {
    pub screen: RwSignal<Screen>,
    /// Shared, so that the list's filters and sort copy pointers, not rows.
    pub rows: RwSignal<Vec<Arc<Row>>>,
    /// Bumped whenever any document changes, so an open case view re-reads it.
    pub doc_rev: RwSignal<u64>,
    pub sync: RwSignal<SyncView>,
    pub user: RwSignal<Option<User>>,
    pub orgs: RwSignal<Vec<Org>>,
    /// `navigator.storage.persist()`'s answer (None until asked).
    pub persisted: RwSignal<Option<bool>>,
    /// A new version of the app is installed and waits for a reload.
    pub update_ready: RwSignal<bool>,
    /// The clock, updated every few seconds, for ages and due dates.
    pub now: RwSignal<f64>,
    /// A one-line message at the top (bilingual texts are resolved when set).
    pub notice: RwSignal<Option<String>>,
    /// Writes to IndexedDB not yet committed.
    pub saving: RwSignal<u32>,
    /// The session expired: sign in again to sync (local data is kept).
    pub relogin: RwSignal<bool>,
    /// Every document's chunks are read from IndexedDB (the list shows before).
    pub loaded: RwSignal<bool>,
    /// All documents are parsed (sync may run).
    pub hydrated: RwSignal<bool>,
    /// Values typed but refused (an impossible date…), by "document|path": they stay on
    /// screen with their error until fixed or discarded.
    pub drafts: RwSignal<BTreeMap<String, String>>,
    /// This tab runs the sync loop for the profile.
    pub leader: RwSignal<bool>,
    /// The lock's record (wrong PINs, settings); None before a PIN is set.
    pub lock: RwSignal<Option<LockRecord>>,
    /// The last hand-off file written on this device.
    pub handed: RwSignal<Option<crate::device::reference::Handed>>,
}

thread_local! {
    static UI: Ui = Ui {
        screen: RwSignal::new(Screen::Loading),
        rows: RwSignal::new(Vec::new()),
        doc_rev: RwSignal::new(0),
        sync: RwSignal::new(SyncView::default()),
        user: RwSignal::new(None),
        orgs: RwSignal::new(Vec::new()),
        persisted: RwSignal::new(None),
        update_ready: RwSignal::new(false),
        now: RwSignal::new(js_sys::Date::now()),
        notice: RwSignal::new(None),
        saving: RwSignal::new(0),
        relogin: RwSignal::new(false),
        loaded: RwSignal::new(false),
        hydrated: RwSignal::new(false),
        drafts: RwSignal::new(BTreeMap::new()),
        leader: RwSignal::new(false),
        lock: RwSignal::new(None),
        handed: RwSignal::new(None),
    };
    static DEVICE: RefCell<Device> = RefCell::new(Device::default());
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
    static ON_STORED: RefCell<Option<StoredHook>> = const { RefCell::new(None) };
}

/// What runs after documents were written: the layers above (other tabs, the sync
/// loop) register here, so this module imports none of them. The flag says whether the
/// write was a local edit.
pub type StoredHook = Rc<dyn Fn(&[DocId], bool)>;

pub fn on_stored(f: impl Fn(&[DocId], bool) + 'static) {
    ON_STORED.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

fn stored(ids: &[DocId], edit: bool) {
    if let Some(f) = ON_STORED.with(|h| h.borrow().clone()) {
        f(ids, edit);
    }
}

/// The app's state handle for code outside the view tree (start-up, sync, tabs).
pub fn ui() -> Ui {
    UI.with(|u| *u)
}

/// The app's state as views receive it: from context, provided by the root component.
pub fn use_ui() -> Ui {
    use_context::<Ui>().unwrap_or_else(ui)
}

/// Runs `f` on the device model, with the clock set. Never call it re-entrantly
/// (views only read derived values).
pub fn with<R>(f: impl FnOnce(&mut Device) -> R) -> R {
    DEVICE.with(|m| {
        let mut m = m.borrow_mut();
        m.today = today();
        m.now = now_ms();
        f(&mut m)
    })
}

pub fn set_store(s: Store) {
    STORE.with(|st| *st.borrow_mut() = Some(s));
}

pub fn store() -> Option<Store> {
    STORE.with(|st| st.borrow().clone())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Today in Vietnam (UTC+7), whatever the device's time zone.
pub fn today() -> Date {
    Date::vietnam_day((now_ms() / 1000.0).floor() as i64)
}

/// A fresh random id (16 bytes from the browser's generator, via Automerge's actor ids).
pub fn random16() -> [u8; 16] {
    let a = ActorId::random();
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(a.to_bytes()) {
        *o = *b;
    }
    out
}

/// Replaces (or adds) the rows of the given documents in the list signal, and drops
/// the rows of documents no longer on the device.
pub fn refresh_rows(ids: &[DocId]) {
    if ids.is_empty() {
        return;
    }
    let fresh: BTreeMap<DocId, Option<Row>> =
        with(|m| ids.iter().map(|id| (id.clone(), m.row(id))).collect());
    // The rows are kept in id order, so each file read again is found by a binary
    // search instead of a pass over every row.
    ui().rows.update(|rows| {
        let mut gone = BTreeSet::new();
        let mut added = Vec::new();
        for (id, row) in fresh {
            match (rows.binary_search_by(|r| r.id.cmp(&id)), row) {
                (Ok(i), Some(row)) => rows[i] = Arc::new(row),
                (Ok(i), None) => {
                    gone.insert(i);
                }
                (Err(_), Some(row)) => added.push(Arc::new(row)),
                (Err(_), None) => {}
            }
        }
        if !gone.is_empty() {
            let mut i = 0;
            rows.retain(|_| {
                i += 1;
                !gone.contains(&(i - 1))
            });
        }
        if !added.is_empty() {
            // A sorted run appended to a sorted run: the stable sort merges them in
            // one pass (a first sync adds thousands of rows at a time).
            // `fresh` is a map in id order, so `added` is sorted.
            rows.extend(added);
            rows.sort_by(|a, b| a.id.cmp(&b.id));
        }
    });
}

/// The interface follows the model's current documents: rebuild every row.
pub fn rebuild_rows() {
    let mut rows: Vec<Arc<Row>> = with(|m| {
        let ids = m.ids();
        ids.iter()
            .filter_map(|id| m.row(id))
            .map(Arc::new)
            .collect()
    });
    // In id order, as `refresh_rows` expects.
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    ui().rows.set(rows);
}

/// Writes what is new of the given documents (one chunk each), deletes `removed`, sets
/// `meta` and the cursor, all in one transaction; then tells the other tabs. The
/// caller counts the write in `Ui::saving` before the first await, so "saved" is never
/// shown while a write is pending.
pub async fn persist(
    ids: &[DocId],
    removed: &[DocId],
    meta: Vec<(&str, String)>,
    cursor: Option<u64>,
) -> Result<(), String> {
    let Some(store) = store() else {
        return Err("no storage".into());
    };
    let docs = with(|m| {
        ids.iter()
            .filter_map(|id| m.take_write(id))
            .collect::<Vec<_>>()
    });
    let written: Vec<DocId> = docs.iter().map(|w| w.id.clone()).collect();
    let leader = ui().leader.get_untracked();
    let batch = Batch {
        docs,
        removed: removed.to_vec(),
        meta,
        cursor,
    };
    let result = store
        .write(batch, |id, mine, stored| {
            with(|m| m.merge_meta(id, mine, stored, leader))
        })
        .await;
    if let Err(e) = result {
        with(|m| written.iter().for_each(|id| m.write_failed(id)));
        return Err(format!("{e:?}"));
    }
    let mut told = written.clone();
    told.extend(removed.iter().cloned());
    stored(&told, false);
    let big: Vec<DocId> = with(|m| {
        written
            .iter()
            .filter(|id| m.wants_compaction(id))
            .cloned()
            .collect()
    });
    for id in big {
        if let Ok(Some((replaced, key))) = store.compact(&id).await {
            with(|m| m.compacted(&id, &replaced, &key));
        }
    }
    Ok(())
}

/// Stores local changes of documents at once: nothing typed waits in memory.
pub fn save_local(ids: Vec<DocId>) {
    let u = ui();
    u.saving.update(|n| *n += 1);
    leptos::task::spawn_local(async move {
        let r = persist(&ids, &[], Vec::new(), None).await;
        ui().saving.update(|n| *n = n.saturating_sub(1));
        if let Err(e) = r {
            ui().notice.set(Some(format!(
                "{} ({e})",
                tr(
                    "Không lưu được vào bộ nhớ máy!",
                    "Could not save to device storage!"
                )
            )));
        }
        stored(&[], true);
    });
}

/// Applies one edit and stores it.
pub fn edit_and_save(id: &DocId, path: &str, value: Json) {
    let changed = with(|m| m.edit(id, path, &value));
    after_local_change(id, changed.map(|_| ()));
}

pub fn delete_and_save(id: &DocId, path: &str) {
    let r = with(|m| m.delete(id, path));
    after_local_change(id, r);
}

fn after_local_change(id: &DocId, result: Result<(), String>) {
    let u = ui();
    match result {
        Ok(()) => {
            u.doc_rev.update(|r| *r += 1);
            refresh_rows(std::slice::from_ref(id));
            save_local(vec![id.clone()]);
        }
        Err(e) => u.notice.set(Some(crate::i18n::bilingual(&e))),
    }
}

/// Reads what IndexedDB holds now of some documents (written by another tab) into the
/// model, and redraws what changed.
pub async fn absorb_stored(ids: &[DocId]) {
    let Some(store) = store() else { return };
    let Ok(found) = store.load_docs(ids).await else {
        return;
    };
    let leader = ui().leader.get_untracked();
    let changed: Vec<DocId> = with(|m| {
        found
            .into_iter()
            .filter_map(|(id, chunks, meta)| m.absorb(&id, chunks, meta, leader).then_some(id))
            .collect()
    });
    if !changed.is_empty() {
        refresh_rows(&changed);
        ui().doc_rev.update(|r| *r += 1);
    }
}

/// Whether any document has changes the server has not acknowledged.
pub fn unsynced_count() -> usize {
    ui().rows
        .with(|r| r.iter().filter(|r| r.unsynced_since.is_some()).count())
}

/// The key of a draft.
pub fn draft_key(id: &DocId, path: &str) -> String {
    format!("{id}|{path}")
}

/// Shows a screen and records it in the address, so the back button works. Leaving a
/// screen with refused values typed (drafts) asks first.
pub fn go(screen: Screen) {
    if ui().screen.get_untracked() != screen && !confirm_leave() {
        return;
    }
    let hash = hash_of(&screen);
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&hash);
    }
    ui().screen.set(screen);
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

pub fn hash_of(screen: &Screen) -> String {
    match screen {
        Screen::Case(id) => format!("#/c/{id}"),
        Screen::New => "#/new".to_string(),
        _ => "#/".to_string(),
    }
}

/// Whether the current screen may be left: the field being typed in is saved first
/// (leaving it fires its change), and refused values typed are only dropped if the
/// cadre agrees.
pub fn confirm_leave() -> bool {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.blur();
    }
    let u = ui();
    let n = u.drafts.with_untracked(|d| d.len());
    if n == 0 {
        return true;
    }
    let msg = format!(
        "{n} {}",
        tr(
            "giá trị đã nhập chưa được lưu vì không hợp lệ. Rời màn hình này và bỏ các giá trị đó?",
            "typed values are not saved because they are not valid. Leave this screen and discard them?"
        )
    );
    let ok = web_sys::window()
        .and_then(|w| w.confirm_with_message(&msg).ok())
        .unwrap_or(false);
    if ok {
        u.drafts.set(Default::default());
    }
    ok
}

pub fn screen_from_hash() -> Screen {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if let Some(id) = hash.strip_prefix("#/c/")
        && let Ok(id) = DocId::try_from(id.to_string())
    {
        return Screen::Case(id);
    }
    if hash == "#/new" {
        return Screen::New;
    }
    Screen::List
}

pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

/// Reads every document's chunks (after the list is drawn from the metadata).
pub async fn load_chunks() {
    if let Some(store) = store() {
        match store.load_chunks().await {
            Ok(chunks) => {
                let dropped = with(|m| m.fill_raw(chunks));
                refresh_rows(&dropped);
            }
            Err(e) => ui().notice.set(Some(format!(
                "{} ({e:?})",
                tr(
                    "Không đọc được dữ liệu trên máy!",
                    "Could not read the data on this device!"
                )
            ))),
        }
    }
    ui().loaded.set(true);
}

/// Parses, a few dozen at a time and letting the page stay responsive, the stored
/// documents `pick` chooses (it parses up to the number given and returns their ids).
async fn hydrate_batches(pick: impl Fn(&mut Device, usize) -> Vec<DocId>) {
    while !ui().loaded.get_untracked() {
        sleep(10).await;
    }
    loop {
        let ids = with(|m| pick(m, 40));
        if ids.is_empty() {
            break;
        }
        refresh_rows(&ids);
        sleep(0).await;
    }
}

/// Parses the stored documents a sync must look at (unsent changes, leaving the scope);
/// the others stay as stored until opened or `hydrate_all`.
pub async fn hydrate_for_sync() {
    hydrate_batches(Device::hydrate_for_sync).await;
}

/// Parses every stored document in the background (one such pass at a time), in small
/// batches, stopping as soon as `yield_to` says something more urgent runs.
pub fn hydrate_in_background(yield_to: fn() -> bool) {
    thread_local! {
        static RUNNING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if RUNNING.with(|r| r.replace(true)) {
        return;
    }
    leptos::task::spawn_local(async move {
        // A sync goes first: the pass takes small batches and stops when a sync starts
        // (the end of every sync starts it again while files are left unparsed).
        hydrate_batches(|m, _| {
            if yield_to() {
                Vec::new()
            } else {
                m.hydrate_some(8)
            }
        })
        .await;
        if with(|m| m.raw.is_empty()) {
            ui().hydrated.set(true);
        }
        RUNNING.with(|r| r.set(false));
    });
}

/// Parses every stored document.
pub async fn hydrate_all() {
    hydrate_batches(Device::hydrate_some).await;
    ui().hydrated.set(true);
}
