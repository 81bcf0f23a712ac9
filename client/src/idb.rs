//! A thin async layer over the browser's IndexedDB: open with an upgrade step, await a
//! request, await a transaction. Only what `store` needs; the transaction-complete event
//! is awaited for every write, because only then is the data durable.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransaction};

/// Opens (creating or upgrading) a database whose object stores are `stores`.
/// `blocked` runs when an open tab of an older version holds the database and the
/// upgrade has to wait for it to close.
pub async fn open(
    name: &str,
    version: u32,
    stores: &'static [&'static str],
    blocked: impl FnOnce() + 'static,
) -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let req: IdbOpenDbRequest = factory.open_with_u32(name, version)?;
    let upgrade = Closure::once_into_js({
        let req = req.clone();
        move |_e: web_sys::Event| {
            if let Ok(db) = req.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                let names = db.object_store_names();
                for store in stores {
                    if !names.contains(store) {
                        let _ = db.create_object_store(store);
                    }
                }
            }
        }
    });
    req.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let on_blocked = Closure::once_into_js(move |_e: web_sys::Event| blocked());
    req.set_onblocked(Some(on_blocked.unchecked_ref()));
    let db = request(&req).await?;
    Ok(db.unchecked_into())
}

/// Resolves with the request's result, or fails with its error.
pub async fn request(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok = Closure::once_into_js({
            let req = req.clone();
            move |_e: web_sys::Event| {
                let _ = resolve.call1(&JsValue::NULL, &req.result().unwrap_or(JsValue::UNDEFINED));
            }
        });
        let err = Closure::once_into_js({
            let req = req.clone();
            move |_e: web_sys::Event| {
                let e = req
                    .error()
                    .ok()
                    .flatten()
                    .map(JsValue::from)
                    .unwrap_or(JsValue::NULL);
                let _ = reject.call1(&JsValue::NULL, &e);
            }
        });
        req.set_onsuccess(Some(ok.unchecked_ref()));
        req.set_onerror(Some(err.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Resolves once the transaction has committed; fails if it aborts or errors.
pub async fn complete(tx: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve: Function, reject: Function| {
        let ok = Closure::once_into_js(move |_e: web_sys::Event| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        // Error and abort can both fire for one failure: one single-use closure each.
        let fail = |reject: Function| {
            Closure::once_into_js(move |_e: web_sys::Event| {
                let _ = reject.call1(
                    &JsValue::NULL,
                    &JsValue::from_str("IndexedDB transaction failed"),
                );
            })
        };
        tx.set_oncomplete(Some(ok.unchecked_ref()));
        tx.set_onerror(Some(fail(reject.clone()).unchecked_ref()));
        tx.set_onabort(Some(fail(reject).unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ())
}
