//! The cadre's offline-first PWA (Leptos CSR, compiled to wasm32).
//!
//! # Layout
//! - `app`: start-up from IndexedDB, sign-in/out, navigation, header, update notice.
//! - `model`: the documents (a `shared::sync::Replica`), derived list rows, edits.
//! - `store` / `idb`: IndexedDB, the only storage the app writes.
//! - `api`: the server's HTTP API over `fetch`.
//! - `sync`: when and how the replica is synced with the server.
//! - `i18n`: Vietnamese and English texts, dates as dd/mm/yyyy.
//! - `views`: the screens; `views::schema` lists every fact of a case file.
//!
//! Invariant: the app never waits for the network to open or to save; an edit is in
//! IndexedDB before it is sent, and is removed from the "unsent" count only when the
//! server has acknowledged it.

mod api;
mod app;
mod i18n;
mod idb;
mod model;
mod store;
mod sync;
mod views;

/// Mounts the application; called once from `main`.
pub fn start() {
    // A panic aborts the wasm instance; say why in the console, where a supervisor
    // helping a cadre can read it, instead of a bare "unreachable".
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("panic: {info}").into());
    }));
    // The static shell of index.html has done its job once the app can draw itself.
    if let Some(shell) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("app-shell"))
    {
        shell.remove();
    }
    app::start();
}
