//! The cadre's offline-first PWA (Leptos CSR, compiled to wasm32).
//!
//! # Layout
//! From the bottom up; a module uses only those listed before it (events go upward
//! through hooks that `app` registers: `model::on_stored`, `sync::on_revoked`, the
//! handler given to `tabs::listen`).
//! - `device`: the device model in plain Rust (documents in a `shared::sync::Replica`,
//!   chunks, summaries, edits, what to push, typed input). No Leptos, no web-sys: it is
//!   the only part compiled natively, where it is unit-tested.
//! - `idb` / `vault` / `store`: IndexedDB, the only storage the app writes; `vault`
//!   encrypts what names people (WebCrypto, a data key wrapped by the PIN).
//! - `passkey`: WebAuthn with the PRF extension, a second way to open the data key.
//! - `i18n`: Vietnamese and English texts, dates as dd/mm/yyyy.
//! - `api`: the server's HTTP API over `fetch`.
//! - `model`: the device model behind the reactive state the views read; navigation.
//! - `tabs`: several tabs of one profile: who syncs (Web Locks), each tab's actor id,
//!   messages between tabs (BroadcastChannel).
//! - `sync`: when and how the replica is synced with the server.
//! - `handoff`: the hand-off file of unsent changes, encrypted for the server.
//! - `session`: sign-in and sign-out, loading a session, other tabs signing in or out.
//! - `views`: the screens; `shared::schema` lists every fact of a case file.
//! - `app`: start-up, the root view and header, update notice, the wiring.
//!
//! Invariant: the app never waits for the network to open or to save; an edit is in
//! IndexedDB before it is sent, and is removed from the "unsent" count only when the
//! server has acknowledged it.

pub mod device;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod handoff;
#[cfg(target_arch = "wasm32")]
mod i18n;
#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
mod model;
#[cfg(target_arch = "wasm32")]
mod passkey;
#[cfg(target_arch = "wasm32")]
mod session;
#[cfg(target_arch = "wasm32")]
mod store;
#[cfg(target_arch = "wasm32")]
mod sync;
#[cfg(target_arch = "wasm32")]
mod tabs;
#[cfg(target_arch = "wasm32")]
mod vault;
#[cfg(target_arch = "wasm32")]
mod views;

/// Mounts the application; called once from `main`.
#[cfg(target_arch = "wasm32")]
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
