//! Entry point of the PWA: mounts the app into the page body. Natively (where only the
//! device model is compiled, for its tests) there is nothing to start.

fn main() {
    #[cfg(target_arch = "wasm32")]
    client::start();
}
