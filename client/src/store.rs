//! The device's storage: one IndexedDB database (version 2) with three object stores.
//!
//! - `chunks`: the Automerge data, keyed by `[document id, chunk key]`; a value is the
//!   chunk's bytes. A document is the union of its chunks (`device::chunks`). An edit
//!   adds one chunk holding only its new changes; nothing ever rewrites a document, so
//!   no tab can drop a change another tab (or an earlier moment of this one) stored.
//! - `docmeta`: per document, JSON of `device::DocMeta` (acknowledged heads, refusal,
//!   list summary). Written read-merge-write in the same transaction as the chunks, so
//!   acknowledged heads only grow.
//! - `meta`: small JSON values by name: `session`, `reference`, `cursor` (only grows),
//!   `lang`, `actors` (this profile's actor ids), `leaving` / `dropped` (scope changes).
//!
//! Every write is one transaction with strict durability: a sync step (documents,
//! removals, cursor) is stored whole or not at all, and an edit is on disk before the app
//! says "saved". Version 1 kept one record per document in `docs` (the whole saved
//! document, rewritten on every edit); [`Store::open`] moves such records into chunks in
//! one transaction and empties `docs`.

use std::collections::BTreeMap;

use js_sys::{Array, Object, Reflect, Uint8Array};
use shared::sync::DocId;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbKeyRange, IdbRequest, IdbTransaction};

use crate::device::chunks::{self, Chunk};
use crate::device::{DocMeta, DocWrite};
use crate::idb;

const DB_NAME: &str = "hoso-phat-trien-dang-vien";
const VERSION: u32 = 2;
const CHUNKS: &str = "chunks";
const DOCMETA: &str = "docmeta";
const META: &str = "meta";
/// The first layout's store, kept only to migrate it.
const LEGACY_DOCS: &str = "docs";

/// Everything one sync step or edit writes, in one transaction.
#[derive(Default)]
pub struct Batch<'a> {
    pub docs: Vec<DocWrite>,
    /// Documents to delete with all their chunks (they left the scope).
    pub removed: Vec<DocId>,
    pub meta: Vec<(&'a str, String)>,
    /// Stored as the maximum of this and the stored cursor.
    pub cursor: Option<u64>,
}

#[derive(Clone, Debug)]
pub struct Store {
    db: IdbDatabase,
}

impl Store {
    /// Opens the database, upgrading and migrating an older layout. `replaced` runs when
    /// a newer version of the app opens the database in another tab: this connection is
    /// closed so the upgrade can go on, and this tab must reload.
    pub async fn open(
        blocked: impl FnOnce() + 'static,
        replaced: impl FnOnce() + 'static,
    ) -> Result<Store, JsValue> {
        let db = idb::open(DB_NAME, VERSION, &[CHUNKS, DOCMETA, META], blocked).await?;
        let on_change = Closure::once_into_js({
            let db = db.clone();
            move |_e: web_sys::Event| {
                db.close();
                replaced();
            }
        });
        db.set_onversionchange(Some(on_change.unchecked_ref()));
        let store = Store { db };
        if store.db.object_store_names().contains(LEGACY_DOCS) {
            store.migrate_v1().await?;
        }
        Ok(store)
    }

    fn tx(&self, stores: &[&str], write: bool) -> Result<IdbTransaction, JsValue> {
        let names = Array::new();
        for s in stores {
            names.push(&(*s).into());
        }
        let mode = if write { "readwrite" } else { "readonly" };
        // `durability: "strict"` makes Chromium flush to disk before `complete`; it is
        // not in web-sys's stable API yet, hence the call by name.
        let opts = Object::new();
        Reflect::set(&opts, &"durability".into(), &"strict".into())?;
        let f: js_sys::Function = Reflect::get(&self.db, &"transaction".into())?.dyn_into()?;
        f.call3(&self.db, &names, &mode.into(), &opts)?.dyn_into()
    }

    /// Moves version 1 records (`docs`: `{b: saved document, m: metadata JSON}`) into
    /// chunks and metadata, in one transaction: either all of it happens or none.
    async fn migrate_v1(&self) -> Result<(), JsValue> {
        let tx = self.tx(&[LEGACY_DOCS, CHUNKS, DOCMETA], true)?;
        let docs = tx.object_store(LEGACY_DOCS)?;
        let keys = docs.get_all_keys()?;
        let values = docs.get_all()?;
        let keys: Array = idb::request(&keys).await?.dyn_into()?;
        let values: Array = idb::request(&values).await?.dyn_into()?;
        let cs = tx.object_store(CHUNKS)?;
        let ms = tx.object_store(DOCMETA)?;
        for (k, v) in keys.iter().zip(values.iter()) {
            let Some(id) = k.as_string() else { continue };
            let Ok(bytes) = Reflect::get(&v, &"b".into())?.dyn_into::<Uint8Array>() else {
                continue;
            };
            let key = chunks::legacy_key(&bytes.to_vec());
            cs.put_with_key(&bytes, &chunk_key(&id, &key))?;
            let m = Reflect::get(&v, &"m".into())?;
            if m.is_string() {
                ms.put_with_key(&m, &id.as_str().into())?;
            }
        }
        docs.clear()?;
        idb::complete(&tx).await
    }

    /// A small value from `meta`, parsed from JSON.
    pub async fn get_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, JsValue> {
        let tx = self.tx(&[META], false)?;
        let v = idb::request(&tx.object_store(META)?.get(&key.into())?).await?;
        Ok(v.as_string().and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Sets small values in `meta`.
    pub async fn put_meta(&self, meta: &[(&str, String)]) -> Result<(), JsValue> {
        self.write(
            Batch {
                meta: meta.to_vec(),
                ..Batch::default()
            },
            |_, m, _| m,
        )
        .await
    }

    /// Reads, changes and writes one `meta` value in one transaction.
    pub async fn update_meta<T: serde::de::DeserializeOwned + serde::Serialize>(
        &self,
        key: &str,
        f: impl FnOnce(Option<T>) -> T,
    ) -> Result<T, JsValue> {
        let tx = self.tx(&[META], true)?;
        let os = tx.object_store(META)?;
        let v = idb::request(&os.get(&key.into())?).await?;
        let old = v.as_string().and_then(|s| serde_json::from_str(&s).ok());
        let new = f(old);
        let json = serde_json::to_string(&new).unwrap_or_default();
        os.put_with_key(&json.into(), &key.into())?;
        idb::complete(&tx).await?;
        Ok(new)
    }

    /// The metadata of every stored case file (enough to draw the list) and the cursor,
    /// read in one transaction.
    pub async fn load_index(&self) -> Result<(Vec<(DocId, DocMeta)>, u64), JsValue> {
        let tx = self.tx(&[DOCMETA, META], false)?;
        let ms = tx.object_store(DOCMETA)?;
        let mk = ms.get_all_keys()?;
        let mv = ms.get_all()?;
        let cursor = tx.object_store(META)?.get(&"cursor".into())?;
        let mk: Array = idb::request(&mk).await?.dyn_into()?;
        let mv: Array = idb::request(&mv).await?.dyn_into()?;
        let cursor = idb::request(&cursor)
            .await?
            .as_string()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let docs = mk
            .iter()
            .zip(mv.iter())
            .filter_map(|(k, v)| {
                let id = k.as_string().and_then(|s| DocId::try_from(s).ok())?;
                Some((id, parse_meta(&v)))
            })
            .collect();
        Ok((docs, cursor))
    }

    /// Every stored chunk, by case file.
    pub async fn load_chunks(&self) -> Result<BTreeMap<DocId, Vec<Chunk>>, JsValue> {
        let tx = self.tx(&[CHUNKS], false)?;
        let cs = tx.object_store(CHUNKS)?;
        let ck = cs.get_all_keys()?;
        let cv = cs.get_all()?;
        let ck: Array = idb::request(&ck).await?.dyn_into()?;
        let cv: Array = idb::request(&cv).await?.dyn_into()?;
        let mut docs: BTreeMap<DocId, Vec<Chunk>> = BTreeMap::new();
        for (k, v) in ck.iter().zip(cv.iter()) {
            let Some((id, key)) = parse_chunk_key(&k) else {
                continue;
            };
            let Ok(bytes) = v.dyn_into::<Uint8Array>() else {
                continue;
            };
            docs.entry(id).or_default().push(Chunk {
                key,
                bytes: bytes.to_vec(),
            });
        }
        Ok(docs)
    }

    /// The chunks and metadata of some documents, as stored now.
    pub async fn load_docs(
        &self,
        ids: &[DocId],
    ) -> Result<Vec<(DocId, Vec<Chunk>, Option<DocMeta>)>, JsValue> {
        let tx = self.tx(&[CHUNKS, DOCMETA], false)?;
        let cs = tx.object_store(CHUNKS)?;
        let ms = tx.object_store(DOCMETA)?;
        let mut reqs: Vec<(IdbRequest, IdbRequest, IdbRequest)> = Vec::new();
        for id in ids {
            let range = doc_range(id)?;
            reqs.push((
                cs.get_all_keys_with_key(&range)?,
                cs.get_all_with_key(&range)?,
                ms.get(&id.as_str().into())?,
            ));
        }
        let mut out = Vec::new();
        for (id, (k, v, m)) in ids.iter().zip(reqs) {
            let k: Array = idb::request(&k).await?.dyn_into()?;
            let v: Array = idb::request(&v).await?.dyn_into()?;
            let m = idb::request(&m).await?;
            let chunks = k
                .iter()
                .zip(v.iter())
                .filter_map(|(k, v)| {
                    let (_, key) = parse_chunk_key(&k)?;
                    let bytes = v.dyn_into::<Uint8Array>().ok()?.to_vec();
                    Some(Chunk { key, bytes })
                })
                .collect();
            let meta = (!m.is_undefined()).then(|| parse_meta(&m));
            out.push((id.clone(), chunks, meta));
        }
        Ok(out)
    }

    /// Writes a batch in one durable transaction: new chunks are added (never
    /// replacing other data), metadata is merged with what is stored by `merge`
    /// (document, this tab's metadata, the stored one), removed documents are deleted,
    /// the cursor only grows. The transaction is created before the first await, so
    /// writes are ordered as the calls are made.
    pub async fn write(
        &self,
        batch: Batch<'_>,
        mut merge: impl FnMut(&DocId, DocMeta, Option<DocMeta>) -> DocMeta,
    ) -> Result<(), JsValue> {
        let tx = self.tx(&[CHUNKS, DOCMETA, META], true)?;
        let cs = tx.object_store(CHUNKS)?;
        let ds = tx.object_store(DOCMETA)?;
        let ms = tx.object_store(META)?;
        for id in &batch.removed {
            cs.delete(&doc_range(id)?.into())?;
            ds.delete(&id.as_str().into())?;
        }
        let mut reads = Vec::new();
        for w in batch.docs {
            if let Some(c) = &w.chunk {
                cs.put_with_key(
                    &Uint8Array::from(c.bytes.as_slice()),
                    &chunk_key(w.id.as_str(), &c.key),
                )?;
            }
            let req = ds.get(&w.id.as_str().into())?;
            reads.push((w.id, w.meta, req));
        }
        for (k, v) in &batch.meta {
            ms.put_with_key(&v.as_str().into(), &(*k).into())?;
        }
        let cursor_req = match batch.cursor {
            Some(_) => Some(ms.get(&"cursor".into())?),
            None => None,
        };
        for (id, mine, req) in reads {
            let old = idb::request(&req).await?;
            let stored = (!old.is_undefined()).then(|| parse_meta(&old));
            let merged = merge(&id, mine, stored);
            let json = serde_json::to_string(&merged).unwrap_or_default();
            ds.put_with_key(&json.into(), &id.as_str().into())?;
        }
        if let (Some(c), Some(req)) = (batch.cursor, cursor_req) {
            let old: u64 = idb::request(&req)
                .await?
                .as_string()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            ms.put_with_key(&c.max(old).to_string().into(), &"cursor".into())?;
        }
        idb::complete(&tx).await
    }

    /// Replaces the chunks of one document by one saved document holding all their
    /// changes, in one transaction that deletes exactly the chunks it read. Returns the
    /// replaced keys and the new key, or None when there was nothing to do or the
    /// chunks do not form a complete document (then nothing is touched).
    pub async fn compact(&self, id: &DocId) -> Result<Option<(Vec<String>, String)>, JsValue> {
        let tx = self.tx(&[CHUNKS], true)?;
        let cs = tx.object_store(CHUNKS)?;
        let range = doc_range(id)?;
        let k = cs.get_all_keys_with_key(&range)?;
        let v = cs.get_all_with_key(&range)?;
        let k: Array = idb::request(&k).await?.dyn_into()?;
        let v: Array = idb::request(&v).await?.dyn_into()?;
        let read: Vec<Chunk> = k
            .iter()
            .zip(v.iter())
            .filter_map(|(k, v)| {
                let (_, key) = parse_chunk_key(&k)?;
                Some(Chunk {
                    key,
                    bytes: v.dyn_into::<Uint8Array>().ok()?.to_vec(),
                })
            })
            .collect();
        if read.len() < 2 {
            return Ok(None);
        }
        let loaded = chunks::load(&read);
        let mut doc = loaded.doc;
        if !loaded.unreadable.is_empty() || !chunks::complete(&mut doc) {
            return Ok(None);
        }
        let snap = chunks::snapshot_chunk(&mut doc);
        let mut replaced = Vec::new();
        for c in &read {
            if c.key != snap.key {
                cs.delete(&chunk_key(id.as_str(), &c.key))?;
                replaced.push(c.key.clone());
            }
        }
        cs.put_with_key(
            &Uint8Array::from(snap.bytes.as_slice()),
            &chunk_key(id.as_str(), &snap.key),
        )?;
        idb::complete(&tx).await?;
        Ok(Some((replaced, snap.key)))
    }

    /// Removes every case file and all metadata except the interface language.
    pub async fn wipe(&self) -> Result<(), JsValue> {
        let tx = self.tx(&[CHUNKS, DOCMETA, META], true)?;
        let ms = tx.object_store(META)?;
        let lang = idb::request(&ms.get(&"lang".into())?).await?;
        tx.object_store(CHUNKS)?.clear()?;
        tx.object_store(DOCMETA)?.clear()?;
        ms.clear()?;
        if lang.is_string() {
            ms.put_with_key(&lang, &"lang".into())?;
        }
        idb::complete(&tx).await
    }
}

fn chunk_key(id: &str, key: &str) -> JsValue {
    Array::of2(&id.into(), &key.into()).into()
}

fn parse_chunk_key(k: &JsValue) -> Option<(DocId, String)> {
    let a: &Array = k.dyn_ref()?;
    let id = DocId::try_from(a.get(0).as_string()?).ok()?;
    Some((id, a.get(1).as_string()?))
}

/// Every chunk key of one document: from `[id]` up to `[id, []]` (arrays sort after
/// strings in IndexedDB's key order).
fn doc_range(id: &DocId) -> Result<IdbKeyRange, JsValue> {
    let lower = Array::of1(&id.as_str().into());
    let upper = Array::of2(&id.as_str().into(), &Array::new());
    IdbKeyRange::bound(&lower, &upper)
}

fn parse_meta(v: &JsValue) -> DocMeta {
    v.as_string()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}
