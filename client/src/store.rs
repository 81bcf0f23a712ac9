//! The device's storage: one IndexedDB database (version 2) with three object stores.
//!
//! - `chunks`: the Automerge data, keyed by `[document id, chunk key]`; a value is the
//!   chunk's bytes, sealed (`vault`). A document is the union of its chunks (`device::chunks`). An edit
//!   adds one chunk holding only its new changes; nothing ever rewrites a document, so
//!   no tab can drop a change another tab (or an earlier moment of this one) stored.
//! - `docmeta`: per document, `{m: JSON of device::DocMeta without the summary, s: the
//!   list summary sealed}`. `m` holds change hashes, times and the server's refusal
//!   codes, nothing that names a person; it is merged read-merge-write in the same
//!   transaction as the chunks, so acknowledged heads only grow. The summary is always
//!   the writing tab's, so it is sealed before the transaction opens (WebCrypto is
//!   asynchronous and an IndexedDB transaction does not survive waiting for it).
//! - `meta`: small JSON values by name: `session` and `reference` (sealed), `cursor`
//!   (only grows), `lang`, `actors` (this profile's actor ids), `leaving` / `dropped`
//!   (scope changes), `vault` (the lock record: salt, wrapped data key, wrong PINs),
//!   `handed` (changes written to a hand-off file).
//!
//! Reading accepts unsealed values (a device from before encryption);
//! [`Store::seal_existing`] seals them once a PIN is set.
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
use crate::device::{DocMeta, DocWrite, Summary};
use crate::idb;
use crate::vault;

const DB_NAME: &str = "hoso-phat-trien-dang-vien";
const VERSION: u32 = 2;
const CHUNKS: &str = "chunks";
const DOCMETA: &str = "docmeta";
const META: &str = "meta";
/// The first layout's store, kept only to migrate it.
const LEGACY_DOCS: &str = "docs";
/// `meta` values that name people or hold the session token: stored sealed.
const SEALED_META: &[&str] = &["session", "reference"];

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
        let text = match v.dyn_into::<Uint8Array>() {
            Ok(sealed) => String::from_utf8(vault::open(&meta_place(key), &sealed).await?).ok(),
            Err(v) => v.as_string(),
        };
        Ok(text.and_then(|s| serde_json::from_str(&s).ok()))
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

    /// Reads, changes and writes one unsealed `meta` value in one transaction.
    pub async fn update_meta<T: serde::de::DeserializeOwned + serde::Serialize>(
        &self,
        key: &str,
        f: impl FnOnce(Option<T>) -> T,
    ) -> Result<T, JsValue> {
        if SEALED_META.contains(&key) {
            return Err("sealed value".into());
        }
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
        let mut docs = Vec::new();
        let mut sealed = Vec::new();
        for (k, v) in mk.iter().zip(mv.iter()) {
            let Some(id) = k.as_string().and_then(|s| DocId::try_from(s).ok()) else {
                continue;
            };
            let (meta, s) = parse_meta(&v);
            if let Some(s) = s {
                sealed.push((docs.len(), (summary_place(&id), s)));
            }
            docs.push((id, meta));
        }
        let places: Vec<(String, Uint8Array)> = sealed.iter().map(|(_, p)| p.clone()).collect();
        let opened = vault::open_many(&places).await?;
        for ((i, _), plain) in sealed.iter().zip(opened) {
            docs[*i].1.summary = read_summary(plain);
        }
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
        for (id, chunk) in open_chunks(&ck, &cv).await? {
            docs.entry(id).or_default().push(chunk);
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
        let mut read = Vec::new();
        for (id, (k, v, m)) in ids.iter().zip(reqs) {
            let k: Array = idb::request(&k).await?.dyn_into()?;
            let v: Array = idb::request(&v).await?.dyn_into()?;
            let m = idb::request(&m).await?;
            read.push((id.clone(), k, v, m));
        }
        // The transaction is over; decrypt.
        let mut out = Vec::new();
        for (id, k, v, m) in read {
            let chunks = open_chunks(&k, &v)
                .await?
                .into_iter()
                .map(|(_, c)| c)
                .collect();
            let meta = match m.is_undefined() {
                true => None,
                false => {
                    let (mut meta, sealed) = parse_meta(&m);
                    if let Some(s) = sealed {
                        meta.summary =
                            read_summary(vault::open(&summary_place(&id), &s).await.ok());
                    }
                    Some(meta)
                }
            };
            out.push((id, chunks, meta));
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
        // Everything is sealed before the transaction opens: it would not survive the
        // wait. The summaries are sealed whole; the rest of the metadata is merged.
        let mut places = Vec::new();
        for w in &batch.docs {
            if let Some(c) = &w.chunk {
                places.push((chunk_place(&w.id, &c.key), c.bytes.clone()));
            }
            let summary = serde_json::to_vec(&w.meta.summary).unwrap_or_default();
            places.push((summary_place(&w.id), summary));
        }
        for (k, v) in &batch.meta {
            if SEALED_META.contains(k) {
                places.push((meta_place(k), v.as_bytes().to_vec()));
            }
        }
        let mut sealed = vault::seal_many(&places).await?.into_iter();
        let mut docs = Vec::new();
        for w in batch.docs {
            let chunk = match &w.chunk {
                Some(c) => Some((c.key.clone(), sealed.next().ok_or("seal")?)),
                None => None,
            };
            let summary = sealed.next().ok_or("seal")?;
            docs.push((w, chunk, summary));
        }
        let mut meta = Vec::new();
        for (k, v) in &batch.meta {
            let value: JsValue = match SEALED_META.contains(k) {
                true => sealed.next().ok_or("seal")?.into(),
                false => v.as_str().into(),
            };
            meta.push((*k, value));
        }
        let tx = self.tx(&[CHUNKS, DOCMETA, META], true)?;
        let cs = tx.object_store(CHUNKS)?;
        let ds = tx.object_store(DOCMETA)?;
        let ms = tx.object_store(META)?;
        for id in &batch.removed {
            cs.delete(&doc_range(id)?.into())?;
            ds.delete(&id.as_str().into())?;
        }
        let mut reads = Vec::new();
        for (w, chunk, summary) in docs {
            if let Some((key, bytes)) = chunk {
                cs.put_with_key(&bytes, &chunk_key(w.id.as_str(), &key))?;
            }
            let req = ds.get(&w.id.as_str().into())?;
            reads.push((w.id, w.meta, summary, req));
        }
        for (k, v) in &meta {
            ms.put_with_key(v, &(*k).into())?;
        }
        let cursor_req = match batch.cursor {
            Some(_) => Some(ms.get(&"cursor".into())?),
            None => None,
        };
        // A transaction answers its requests in order: once the last read is answered,
        // every one before it is, and their results are read without a wait each.
        if let Some((_, _, _, last)) = reads.last() {
            idb::request(last).await?;
        }
        for (id, mine, summary, req) in reads {
            let old = req.result()?;
            let stored = (!old.is_undefined()).then(|| parse_meta(&old).0);
            let merged = merge(&id, mine, stored);
            ds.put_with_key(&meta_record(merged, &summary)?, &id.as_str().into())?;
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
    ///
    /// Decrypting and sealing cannot happen inside a transaction, so the chunks are read
    /// in one and replaced in another. That is safe because a chunk's key names its
    /// changes: deleting exactly the keys read removes only changes the snapshot holds,
    /// whatever another tab wrote (or compacted) in between.
    pub async fn compact(&self, id: &DocId) -> Result<Option<(Vec<String>, String)>, JsValue> {
        let tx = self.tx(&[CHUNKS], false)?;
        let cs = tx.object_store(CHUNKS)?;
        let range = doc_range(id)?;
        let k = cs.get_all_keys_with_key(&range)?;
        let v = cs.get_all_with_key(&range)?;
        let k: Array = idb::request(&k).await?.dyn_into()?;
        let v: Array = idb::request(&v).await?.dyn_into()?;
        let read: Vec<Chunk> = open_chunks(&k, &v)
            .await?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        // A chunk that did not open is neither loaded nor deleted.
        if read.len() < 2 || read.len() < k.length() as usize {
            return Ok(None);
        }
        let loaded = chunks::load(&read);
        let mut doc = loaded.doc;
        if !loaded.unreadable.is_empty() || !chunks::complete(&mut doc) {
            return Ok(None);
        }
        let snap = chunks::snapshot_chunk(&mut doc);
        let sealed = vault::seal(&chunk_place(id, &snap.key), &snap.bytes).await?;
        let tx = self.tx(&[CHUNKS], true)?;
        let cs = tx.object_store(CHUNKS)?;
        let mut replaced = Vec::new();
        for c in &read {
            if c.key != snap.key {
                cs.delete(&chunk_key(id.as_str(), &c.key))?;
                replaced.push(c.key.clone());
            }
        }
        cs.put_with_key(&sealed, &chunk_key(id.as_str(), &snap.key))?;
        idb::complete(&tx).await?;
        Ok(Some((replaced, snap.key)))
    }

    /// Seals every value still stored in the clear (a device used before encryption, or
    /// the first layout migrated at start-up): read in one transaction, sealed, then
    /// written in another that replaces a value only if it is still the one read.
    pub async fn seal_existing(&self) -> Result<usize, JsValue> {
        let tx = self.tx(&[CHUNKS, DOCMETA, META], false)?;
        let cs = tx.object_store(CHUNKS)?;
        let ds = tx.object_store(DOCMETA)?;
        let ms = tx.object_store(META)?;
        let reqs = [
            cs.get_all_keys()?,
            cs.get_all()?,
            ds.get_all_keys()?,
            ds.get_all()?,
        ];
        let meta_reqs: Vec<(&str, IdbRequest)> = SEALED_META
            .iter()
            .map(|k| Ok((*k, ms.get(&(*k).into())?)))
            .collect::<Result<_, JsValue>>()?;
        let mut arrays = Vec::new();
        for r in &reqs {
            arrays.push(idb::request(r).await?.dyn_into::<Array>()?);
        }
        let mut metas = Vec::new();
        for (k, r) in meta_reqs {
            metas.push((k, idb::request(&r).await?));
        }
        // (store, key, place, plaintext, the value read)
        let mut todo: Vec<(&str, JsValue, String, Vec<u8>, JsValue)> = Vec::new();
        for (k, v) in arrays[0].iter().zip(arrays[1].iter()) {
            let Some((id, key)) = parse_chunk_key(&k) else {
                continue;
            };
            if let Some(b) = v.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
                && !vault::is_sealed(&b)
            {
                todo.push((CHUNKS, k.clone(), chunk_place(&id, &key), b, v.clone()));
            }
        }
        for (k, v) in arrays[2].iter().zip(arrays[3].iter()) {
            let Some(id) = k.as_string().and_then(|s| DocId::try_from(s).ok()) else {
                continue;
            };
            if v.is_string() {
                let meta = parse_meta(&v).0;
                let summary = serde_json::to_vec(&meta.summary).unwrap_or_default();
                todo.push((DOCMETA, k.clone(), summary_place(&id), summary, v.clone()));
            }
        }
        for (k, v) in metas {
            if let Some(text) = v.as_string() {
                todo.push((META, k.into(), meta_place(k), text.into_bytes(), v));
            }
        }
        if todo.is_empty() {
            return Ok(0);
        }
        let places: Vec<(String, Vec<u8>)> = todo
            .iter()
            .map(|(_, _, p, b, _)| (p.clone(), b.clone()))
            .collect();
        let sealed = vault::seal_many(&places).await?;
        let tx = self.tx(&[CHUNKS, DOCMETA, META], true)?;
        let mut checks = Vec::new();
        for ((store, key, _, _, read), sealed) in todo.into_iter().zip(sealed) {
            let os = tx.object_store(store)?;
            let now = os.get(&key)?;
            checks.push((os, key, read, sealed, now));
        }
        let mut n = 0;
        for (os, key, read, sealed, now) in checks {
            let now = idb::request(&now).await?;
            let same = match (read.dyn_ref::<Uint8Array>(), now.dyn_ref::<Uint8Array>()) {
                (Some(a), Some(b)) => a.to_vec() == b.to_vec(),
                _ => read.as_string().is_some() && read.as_string() == now.as_string(),
            };
            if !same {
                continue;
            }
            let value: JsValue = if os.name() == DOCMETA {
                meta_record(parse_meta(&read).0, &sealed)?
            } else {
                sealed.into()
            };
            os.put_with_key(&value, &key)?;
            n += 1;
        }
        idb::complete(&tx).await?;
        Ok(n)
    }

    /// The count of files with changes the server has not acknowledged, read from the
    /// unsealed part of the metadata (the app may be locked).
    pub async fn unsent_count(&self) -> Result<usize, JsValue> {
        let tx = self.tx(&[DOCMETA], false)?;
        let all: Array = idb::request(&tx.object_store(DOCMETA)?.get_all()?)
            .await?
            .dyn_into()?;
        Ok(all
            .iter()
            .filter(|v| parse_meta(v).0.unsynced_since.is_some())
            .count())
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

/// A stored metadata record: the unsealed part, and the sealed summary if any (a record
/// from before encryption is one JSON string holding the summary in the clear).
fn parse_meta(v: &JsValue) -> (DocMeta, Option<Uint8Array>) {
    if let Some(s) = v.as_string() {
        return (serde_json::from_str(&s).unwrap_or_default(), None);
    }
    let m = Reflect::get(v, &"m".into())
        .ok()
        .and_then(|m| m.as_string())
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let s = Reflect::get(v, &"s".into())
        .ok()
        .and_then(|s| s.dyn_into::<Uint8Array>().ok());
    (m, s)
}

fn meta_record(mut meta: DocMeta, sealed_summary: &Uint8Array) -> Result<JsValue, JsValue> {
    meta.summary = Summary::default();
    let json = serde_json::to_string(&meta).unwrap_or_default();
    let o = Object::new();
    Reflect::set(&o, &"m".into(), &json.into())?;
    Reflect::set(&o, &"s".into(), sealed_summary)?;
    Ok(o.into())
}

fn read_summary(plain: Option<Vec<u8>>) -> Summary {
    plain
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Decrypts the chunks read (keys and values of `chunks`); a chunk stored in the clear
/// (before encryption) is taken as it is, one that does not open is left out.
async fn open_chunks(keys: &Array, values: &Array) -> Result<Vec<(DocId, Chunk)>, JsValue> {
    let mut sealed = Vec::new();
    let mut out = Vec::new();
    for (k, v) in keys.iter().zip(values.iter()) {
        let Some((id, key)) = parse_chunk_key(&k) else {
            continue;
        };
        let Ok(bytes) = v.dyn_into::<Uint8Array>() else {
            continue;
        };
        let head = bytes.subarray(0, 4.min(bytes.length())).to_vec();
        if vault::is_sealed_head(&head, bytes.length() as usize) {
            sealed.push((id, key, bytes));
        } else {
            out.push((
                id,
                Chunk {
                    key,
                    bytes: bytes.to_vec(),
                },
            ));
        }
    }
    let places: Vec<(String, Uint8Array)> = sealed
        .iter()
        .map(|(id, key, b)| (chunk_place(id, key), b.clone()))
        .collect();
    let opened = vault::open_many(&places).await?;
    for ((id, key, _), plain) in sealed.into_iter().zip(opened) {
        if let Some(bytes) = plain {
            out.push((id, Chunk { key, bytes }));
        }
    }
    Ok(out)
}

fn chunk_place(id: &DocId, key: &str) -> String {
    format!("chunks|{id}|{key}")
}

fn summary_place(id: &DocId) -> String {
    format!("docmeta|{id}")
}

fn meta_place(key: &str) -> String {
    format!("meta|{key}")
}
