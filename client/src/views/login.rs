//! The sign-in form: needed once online; afterwards the app opens from the device.

use leptos::prelude::*;

use crate::i18n::tr;
use crate::model::use_ui;

/// `fresh`: the PIN was forgotten; signing in wipes this device and starts it anew.
#[component]
pub fn LoginForm(#[prop(optional)] fresh: bool) -> impl IntoView {
    let username = RwSignal::new(
        use_ui()
            .user
            .get_untracked()
            .map(|u| u.username)
            .unwrap_or_default(),
    );
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let r =
                crate::session::login(&username.get_untracked(), &password.get_untracked(), fresh)
                    .await;
            busy.set(false);
            match r {
                Ok(()) => password.set(String::new()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <form class="login" on:submit=submit>
            <label>
                <span>{move || tr("Tên đăng nhập", "Username")}</span>
                <input name="username" autocomplete="username" autocapitalize="none" required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))/>
            </label>
            <label>
                <span>{move || tr("Mật khẩu", "Password")}</span>
                <input name="password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { tr("Đang đăng nhập…", "Signing in…") } else { tr("Đăng nhập", "Sign in") }}
            </button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="hint">{move || tr(
                "Lần đăng nhập đầu tiên cần có mạng. Sau đó ứng dụng mở và làm việc được cả khi không có mạng.",
                "The first sign-in needs a connection. Afterwards the app opens and works offline.")}</p>
        </form>
    }
}
