//! Entry point of the PWA: mounts the app into the page body.

fn main() {
    client::start();
}
