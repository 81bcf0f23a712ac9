//! The top of the app: start-up, the root view with the header (sync state, sign-out,
//! language) and the service-worker update notice, and the wiring of the layers below
//! (what a stored document or a message from another tab sets off).

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::i18n::{Lang, age, ago, lang, lang_signal, tr, tr_s};
use crate::model::{self, Screen, confirm_leave, go, ui, use_ui, with};
use crate::session::{self, logout};
use crate::store::Store;
use crate::sync;
use crate::tabs::{self, Msg};
use crate::views::lock::{LockMenu, SetPinScreen, UnlockScreen};
use crate::views::{case::CaseScreen, list::CaseList, login::LoginForm, new_case::NewCase};

/// Mounts the app and starts loading local data.
pub fn start() {
    // The app-wide signals must be created outside any reactive owner: created lazily
    // inside a view, they would be disposed with it on its next re-render.
    let _ = (ui(), lang_signal());
    wire();
    leptos::mount::mount_to_body(App);
    leptos::task::spawn_local(boot());
}

#[component]
fn App() -> impl IntoView {
    let u = ui();
    // Views take the state from context, not from a global.
    provide_context(u);
    // The page's `lang` attribute follows the switch (screen readers, hyphenation).
    Effect::new(move |_| {
        if let Some(doc) = web_sys::window().and_then(|w| w.document())
            && let Some(el) = doc.document_element()
        {
            let _ = el.set_attribute("lang", lang().code());
        }
    });
    view! {
        <div class="app">
            <Show when=move || u.update_ready.get()>
                <div class="banner update" role="status">
                    {move || tr("Đã có phiên bản mới của ứng dụng.", "A new version of the app is ready.")}
                    " "
                    <button class="link" on:click=move |_| apply_update()>
                        {move || tr("Tải lại để cập nhật", "Reload to update")}
                    </button>
                </div>
            </Show>
            {move || u.notice.get().map(|n| view! {
                <div class="banner notice" role="alert">
                    <span>{n}</span>
                    <button class="link" aria-label=move || tr("Đóng thông báo", "Close the message") on:click=move |_| u.notice.set(None)>"×"</button>
                </div>
            })}
            {move || match u.screen.get() {
                Screen::Loading => view! { <p class="loading">{move || tr("Đang mở…", "Opening…")}</p> }.into_any(),
                Screen::Login => view! {
                    <main class="shell login-screen">
                        <h1>"Hồ sơ phát triển đảng viên"</h1>
                        <LangSwitch/>
                        <LoginForm/>
                    </main>
                }.into_any(),
                Screen::Locked => view! {
                    <main class="shell login-screen">
                        <h1>"Hồ sơ phát triển đảng viên"</h1>
                        <LangSwitch/>
                        <UnlockScreen/>
                    </main>
                }.into_any(),
                Screen::SetPin => view! {
                    <main class="shell login-screen">
                        <h1>"Hồ sơ phát triển đảng viên"</h1>
                        <LangSwitch/>
                        <SetPinScreen/>
                    </main>
                }.into_any(),
                screen => view! {
                    <Header/>
                    <Show when=move || u.relogin.get()>
                        <div class="banner warn">
                            <p>{move || tr(
                                "Phiên đăng nhập đã hết hạn. Đăng nhập lại để đồng bộ; dữ liệu trên máy vẫn được giữ nguyên.",
                                "Your session has expired. Sign in again to sync; the data on this device is kept.")}</p>
                            <LoginForm/>
                        </div>
                    </Show>
                    <main class="shell">
                        {match screen {
                            Screen::Case(id) => view! { <CaseScreen id=id/> }.into_any(),
                            Screen::New => view! { <NewCase/> }.into_any(),
                            _ => view! { <CaseList/> }.into_any(),
                        }}
                    </main>
                }.into_any(),
            }}
        </div>
    }
}

#[component]
fn LangSwitch() -> impl IntoView {
    let set = |l: Lang| {
        lang_signal().set(l);
        if let Some(store) = model::store() {
            leptos::task::spawn_local(async move {
                let _ = store
                    .put_meta(&[("lang", format!("\"{}\"", l.code()))])
                    .await;
            });
        }
    };
    view! {
        <div class="lang" role="group" aria-label="Ngôn ngữ / Language">
            <button class:on=move || lang() == Lang::Vi aria-pressed=move || (lang() == Lang::Vi).to_string()
                lang="vi" title="Tiếng Việt" on:click=move |_| set(Lang::Vi)>"VI"</button>
            <button class:on=move || lang() == Lang::En aria-pressed=move || (lang() == Lang::En).to_string()
                lang="en" title="English" on:click=move |_| set(Lang::En)>"EN"</button>
        </div>
    }
}

/// Whether the browser says it has a network connection at all.
fn network_up() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

#[component]
fn Header() -> impl IntoView {
    let u = use_ui();
    let confirm = RwSignal::new(None::<usize>);
    let logging_out = RwSignal::new(false);
    let do_logout = move |force: bool| {
        logging_out.set(true);
        leptos::task::spawn_local(async move {
            if let Err(left) = logout(force).await {
                confirm.set(Some(left));
            }
            logging_out.set(false);
        });
    };
    let unsynced = move || {
        u.rows.with(|rows| {
            let n = rows.iter().filter(|r| r.unsynced_since.is_some()).count();
            let oldest = rows
                .iter()
                .filter_map(|r| r.unsynced_since)
                .fold(f64::INFINITY, f64::min);
            (n, oldest)
        })
    };
    // No answer from the server means two different things to a cadre: the phone has no
    // network at all, or it has one and the server cannot be reached.
    let no_network = move || {
        u.now.get();
        u.sync.get().offline && !network_up()
    };
    let status = move || {
        let s = u.sync.get();
        let now = u.now.get();
        if s.running {
            if s.to_push > 0 {
                format!(
                    "{} {}/{}",
                    tr("Đang đồng bộ…", "Syncing…"),
                    s.pushed.min(s.to_push),
                    s.to_push
                )
            } else if s.files > 0 {
                match s.remaining {
                    Some(left) if left > 0 => format!(
                        "{} {}/{} {}",
                        tr("Đang tải hồ sơ…", "Loading files…"),
                        s.files,
                        s.files as u64 + left,
                        tr("hồ sơ", "files")
                    ),
                    _ => format!(
                        "{} {} {}",
                        tr("Đang tải hồ sơ…", "Loading files…"),
                        s.files,
                        tr("hồ sơ", "files")
                    ),
                }
            } else if s.received > 0 {
                format!(
                    "{} {} {}",
                    tr("Đang nhận…", "Receiving…"),
                    s.received,
                    tr("thay đổi", "changes")
                )
            } else {
                tr("Đang đồng bộ…", "Syncing…").to_string()
            }
        } else if s.offline {
            if no_network() {
                tr(
                    "Không có mạng — sẽ tự gửi khi có mạng",
                    "No network — will send when online",
                )
                .to_string()
            } else {
                tr(
                    "Không kết nối được máy chủ — sẽ thử lại",
                    "Server unreachable — will retry",
                )
                .to_string()
            }
        } else if let Some((vi, en)) = s.error {
            format!("{} {}", tr("Lỗi đồng bộ:", "Sync error:"), tr_s(&vi, &en))
        } else if let Some(t) = s.last_ok {
            format!("{} {}", tr("Đã đồng bộ", "Synced"), ago(now - t))
        } else {
            tr("Chưa đồng bộ lần nào", "Not synced yet").to_string()
        }
    };
    let state_class = move || {
        let s = u.sync.get();
        if s.running {
            "sync running"
        } else if s.offline {
            if no_network() {
                "sync offline"
            } else {
                "sync offline unreachable"
            }
        } else if s.error.is_some() {
            "sync error"
        } else {
            "sync ok"
        }
    };
    let unsent_text = move || {
        let (n, oldest) = unsynced();
        if n == 0 {
            tr("Đã gửi hết", "All sent").to_string()
        } else {
            let age = age(u.now.get() - oldest);
            match lang() {
                Lang::Vi => format!("{n} hồ sơ chưa gửi · cũ nhất {age}"),
                Lang::En if n == 1 => format!("1 file not sent · oldest {age}"),
                Lang::En => format!("{n} files not sent · oldest {age}"),
            }
        }
    };
    view! {
        <header class="top">
            <div class="bar">
                <a class="title" href="#/" on:click=move |_| go(Screen::List)>
                    <span class="long">{move || tr("Hồ sơ phát triển đảng viên", "Party membership case files")}</span>
                    <span class="short">{move || tr("Hồ sơ đảng viên", "Case files")}</span>
                </a>
                <span class="user">{move || u.user.get().map(|x| x.display_name).unwrap_or_default()}</span>
                <LangSwitch/>
                <button class="link" disabled=move || logging_out.get() on:click=move |_| do_logout(false)>
                    {move || tr("Đăng xuất", "Sign out")}
                </button>
                <LockMenu/>
            </div>
            {move || confirm.get().map(|left| view! {
                <div class="dialog" role="alertdialog" aria-labelledby="logout-warning">
                    <p id="logout-warning">{format!("{left} {}", tr(
                        "hồ sơ có thay đổi chưa gửi được lên máy chủ. Đăng xuất sẽ xóa chúng khỏi máy này và chúng sẽ mất.",
                        "files have changes that could not be sent to the server. Signing out erases them from this device and they will be lost."))}</p>
                    <button on:click=move |_| confirm.set(None)>{tr("Ở lại, đồng bộ sau", "Stay, sync later")}</button>
                    <button class="danger" on:click=move |_| { confirm.set(None); do_logout(true) }>
                        {tr("Vẫn đăng xuất và xóa", "Sign out and erase anyway")}
                    </button>
                </div>
            })}
        </header>
        // One line that stays at the top of the screen while scrolling: state, what is
        // not sent yet and since when, and the button to sync now.
        <div class=state_class data-testid="sync-bar" role="status">
            <span class="status" data-testid="sync-status" title=status>{status}</span>
            <span class="unsynced" data-testid="unsynced">{unsent_text}</span>
            <button class="sync-now" disabled=move || u.sync.get().running on:click=move |_| sync::now()>
                {move || tr("Đồng bộ", "Sync")}
            </button>
            <Show when=move || u.sync.get().running>
                <progress aria-label=move || tr("Tiến độ đồng bộ", "Sync progress")
                    max=move || u.sync.get().to_push.max(1).to_string()
                    value=move || { let s = u.sync.get(); (s.to_push > 0).then(|| s.pushed.to_string()) }>
                </progress>
            </Show>
        </div>
    }
}

/// Connects the layers: they report events upward through these hooks instead of
/// importing the modules above them.
fn wire() {
    model::on_stored(|ids, edit| {
        tabs::announce_docs(ids);
        if edit {
            sync::soon();
        }
    });
    sync::on_revoked(|| leptos::task::spawn_local(session::wipe_device()));
    crate::vault::listen_keys(|| leptos::task::spawn_local(session::lock()));
}

/// What a message from another tab sets off.
fn on_message(msg: Msg) {
    let u = ui();
    match msg {
        Msg::Docs { ids } => leptos::task::spawn_local(async move {
            model::absorb_stored(&ids).await;
            if u.leader.get_untracked() {
                sync::soon();
            }
        }),
        Msg::Sync { view } => {
            if !u.leader.get_untracked() {
                u.sync.set(view);
            }
        }
        Msg::SyncNow => {
            if u.leader.get_untracked() {
                sync::now();
            }
        }
        Msg::Session => leptos::task::spawn_local(session::session_changed()),
        Msg::Relogin => {
            if with(|m| m.session.is_some()) {
                u.relogin.set(true);
            }
        }
        Msg::Reference => leptos::task::spawn_local(session::reference_changed()),
        Msg::SignOut => session::signed_out(),
    }
}

async fn boot() {
    let u = ui();
    listen_for_update();
    // Listen to the other tabs before reading anything, so no write in between is missed.
    tabs::listen(on_message);
    let store = Store::open(
        || {
            ui().notice.set(Some(
                tr(
                    "Đang chờ các cửa sổ khác của ứng dụng (phiên bản cũ) đóng lại để cập nhật dữ liệu…",
                    "Waiting for other windows of the app (older version) to close to upgrade the data…",
                )
                .into(),
            ))
        },
        || ui().update_ready.set(true),
    )
    .await;
    let store = match store {
        Ok(s) => s,
        Err(_) => {
            // One language per message: the saved choice cannot be read, so the
            // browser's own language decides.
            let english = web_sys::window()
                .and_then(|w| w.navigator().language())
                .is_some_and(|l| l.starts_with("en"));
            u.notice.set(Some(
                if english {
                    "Browser storage (IndexedDB) cannot be opened: data cannot be kept on this device."
                } else {
                    "Không mở được bộ nhớ của trình duyệt (IndexedDB): dữ liệu không thể lưu trên máy này."
                }
                .into(),
            ));
            u.screen.set(Screen::Login);
            return;
        }
    };
    u.notice.set(None);
    model::set_store(store.clone());
    if let Ok(Some(l)) = store.get_meta::<String>("lang").await {
        lang_signal().set(Lang::from_code(&l));
    }
    session::start().await;
    let unload = window_event_listener_untyped("beforeunload", |e| {
        // Values typed but refused exist only on screen: ask before they go.
        if ui().drafts.with_untracked(|d| !d.is_empty()) {
            e.prevent_default();
            let _ = js_sys::Reflect::set(&e, &"returnValue".into(), &"".into());
        }
    });
    std::mem::forget(unload);
}

/// The page's script (index.html) registers the service worker and raises
/// `hoso-update` when a new version is installed and waiting.
fn listen_for_update() {
    let handle = window_event_listener_untyped("hoso-update", |_| ui().update_ready.set(true));
    std::mem::forget(handle);
    let ready = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"hosoUpdateReady".into()).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if ready {
        ui().update_ready.set(true);
    }
}

fn apply_update() {
    if !confirm_leave() {
        return;
    }
    if let Some(f) = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w, &"hosoApplyUpdate".into()).ok())
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    {
        let _ = f.call0(&JsValue::NULL);
    }
}
