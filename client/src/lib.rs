//! The cadre's offline-first PWA.

use leptos::prelude::*;

/// Mounts the application; called once from `main`.
pub fn start() {
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    view! {
        <main class="shell">
            <h1>"Hồ sơ phát triển đảng viên"</h1>
            <form class="login">
                <label>"Tên đăng nhập" <input name="username" /></label>
                <label>"Mật khẩu" <input name="password" type="password" /></label>
                <button type="submit">"Đăng nhập"</button>
            </form>
        </main>
    }
}
