//! The device's storage: one IndexedDB database with two object stores.
//!
//! - `docs`: one record per case file, keyed by its id: the saved Automerge document
//!   (`b`, bytes) and its local metadata (`m`, JSON: heads known to be on the server,
//!   a refusal, the time of the oldest unsynced change, and the list summary).
//! - `meta`: small JSON values by name: `session`, `reference`, `cursor`, `lang`.
//!
//! Writes go through [`Store::put`], which commits documents and metadata in one
//! transaction with strict durability: a sync step is either stored whole or not at all,
//! and an edit is on disk before the app says "saved".

use automerge::ChangeHash;
use js_sys::{Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use shared::sync::{DocId, Rejection};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransaction};

use crate::idb;
use crate::model::Summary;

const DB_NAME: &str = "hoso-phat-trien-dang-vien";
const DOCS: &str = "docs";
const META: &str = "meta";

/// What the device remembers about a case file besides the document itself.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DocMeta {
    /// Heads of a state known to be stored on the server.
    pub synced: Vec<ChangeHash>,
    /// The server's refusal of the last push, if any.
    pub rejected: Option<Rejection>,
    /// When the oldest change not yet acknowledged by the server was made (ms).
    pub unsynced_since: Option<f64>,
    /// The list row, so the list opens before the documents are loaded.
    pub summary: Summary,
}

/// One stored case file.
#[derive(Debug)]
pub struct DocRecord {
    pub id: DocId,
    pub bytes: Vec<u8>,
    pub meta: DocMeta,
}

#[derive(Clone, Debug)]
pub struct Store {
    db: IdbDatabase,
}

impl Store {
    pub async fn open() -> Result<Store, JsValue> {
        let db = idb::open(DB_NAME, 1, &[DOCS, META]).await?;
        Ok(Store { db })
    }

    fn tx(&self, write: bool) -> Result<IdbTransaction, JsValue> {
        let names = Array::of2(&DOCS.into(), &META.into());
        let mode = if write { "readwrite" } else { "readonly" };
        // `durability: "strict"` makes Chromium flush to disk before `complete`; it is
        // not in web-sys's stable API yet, hence the call by name.
        let opts = Object::new();
        Reflect::set(&opts, &"durability".into(), &"strict".into())?;
        let f: js_sys::Function = Reflect::get(&self.db, &"transaction".into())?.dyn_into()?;
        f.call3(&self.db, &names, &mode.into(), &opts)?.dyn_into()
    }

    fn os(tx: &IdbTransaction, name: &str) -> Result<IdbObjectStore, JsValue> {
        tx.object_store(name)
    }

    /// A small value from `meta`, parsed from JSON.
    pub async fn get_meta<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, JsValue> {
        let tx = self.tx(false)?;
        let v = idb::request(&Self::os(&tx, META)?.get(&key.into())?).await?;
        Ok(v.as_string().and_then(|s| serde_json::from_str(&s).ok()))
    }

    /// Every stored case file.
    pub async fn load_docs(&self) -> Result<Vec<DocRecord>, JsValue> {
        let tx = self.tx(false)?;
        let os = Self::os(&tx, DOCS)?;
        let keys = os.get_all_keys()?;
        let values = os.get_all()?;
        let keys: Array = idb::request(&keys).await?.dyn_into()?;
        let values: Array = idb::request(&values).await?.dyn_into()?;
        let mut out = Vec::with_capacity(values.length() as usize);
        for (k, v) in keys.iter().zip(values.iter()) {
            let Some(id) = k.as_string().and_then(|s| DocId::try_from(s).ok()) else {
                continue;
            };
            let bytes: Uint8Array = Reflect::get(&v, &"b".into())?.dyn_into()?;
            let meta = Reflect::get(&v, &"m".into())?
                .as_string()
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default();
            out.push(DocRecord {
                id,
                bytes: bytes.to_vec(),
                meta,
            });
        }
        Ok(out)
    }

    /// Writes documents and metadata in one durable transaction. The transaction is
    /// created before the first await, so writes are ordered as the calls are made.
    pub async fn put(&self, docs: &[DocRecord], meta: &[(&str, String)]) -> Result<(), JsValue> {
        let tx = self.tx(true)?;
        let os = Self::os(&tx, DOCS)?;
        for d in docs {
            let v = Object::new();
            Reflect::set(&v, &"b".into(), &Uint8Array::from(d.bytes.as_slice()))?;
            let m = serde_json::to_string(&d.meta).unwrap_or_default();
            Reflect::set(&v, &"m".into(), &m.into())?;
            os.put_with_key(&v, &d.id.as_str().into())?;
        }
        let ms = Self::os(&tx, META)?;
        for (k, v) in meta {
            ms.put_with_key(&v.as_str().into(), &(*k).into())?;
        }
        idb::complete(&tx).await
    }

    /// Removes every case file and all metadata except the interface language.
    pub async fn wipe(&self) -> Result<(), JsValue> {
        let lang: Option<String> = self.get_meta("lang").await.ok().flatten();
        let tx = self.tx(true)?;
        Self::os(&tx, DOCS)?.clear()?;
        let ms = Self::os(&tx, META)?;
        ms.clear()?;
        if let Some(l) = lang {
            ms.put_with_key(
                &serde_json::to_string(&l).unwrap_or_default().into(),
                &"lang".into(),
            )?;
        }
        idb::complete(&tx).await
    }
}
