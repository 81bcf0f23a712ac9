//! The application shell: start-up from IndexedDB, sign-in and sign-out, navigation,
//! the header with the sync state, and the service-worker update notice.
//!
//! Start-up never waits for the network: the session, reference data and documents come
//! from IndexedDB, the list is drawn from stored summaries, and the first sync starts in
//! the background.

use automerge::ActorId;
use leptos::prelude::*;
use serde_json::Value as Json;
use shared::sync::DocId;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::api::{self, LoginRequest, Reference, Session};
use crate::device::Device;
use crate::i18n::{Lang, age, ago, lang, lang_signal, tr, tr_s};
use crate::model::{self, Screen, rebuild_rows, refresh_rows, ui, use_ui, with};
use crate::store::Store;
use crate::sync;
use crate::tabs::{self, Msg};
use crate::views::{case::CaseScreen, list::CaseList, login::LoginForm, new_case::NewCase};

/// Mounts the app and starts loading local data.
pub fn start() {
    // The app-wide signals must be created outside any reactive owner: created lazily
    // inside a view, they would be disposed with it on its next re-render.
    let _ = (ui(), lang_signal());
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
                    <button class="link" on:click=move |_| u.notice.set(None)>"×"</button>
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
            <button class:on=move || lang() == Lang::Vi on:click=move |_| set(Lang::Vi)>"VI"</button>
            <button class:on=move || lang() == Lang::En on:click=move |_| set(Lang::En)>"EN"</button>
        </div>
    }
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
            tr(
                "Ngoại tuyến — sẽ tự đồng bộ khi có mạng",
                "Offline — will sync when online",
            )
            .to_string()
        } else if let Some((vi, en)) = s.error {
            format!("{} {}", tr("Lỗi đồng bộ:", "Sync error:"), tr_s(&vi, &en))
        } else if let Some(t) = s.last_ok {
            format!("{} {}", tr("Đã đồng bộ", "Synced"), ago(now - t))
        } else {
            tr(
                "Chưa đồng bộ lần nào trong phiên này",
                "Not synced yet in this session",
            )
            .to_string()
        }
    };
    let state_class = move || {
        let s = u.sync.get();
        if s.running {
            "sync running"
        } else if s.offline {
            "sync offline"
        } else if s.error.is_some() {
            "sync error"
        } else {
            "sync ok"
        }
    };
    view! {
        <header class="top">
            <div class="bar">
                <a class="title" href="#/" on:click=move |_| go(Screen::List)>
                    {move || tr("Hồ sơ phát triển đảng viên", "Party membership case files")}
                </a>
                <span class="user">{move || u.user.get().map(|x| x.display_name).unwrap_or_default()}</span>
                <LangSwitch/>
                <button class="link" disabled=move || logging_out.get() on:click=move |_| do_logout(false)>
                    {move || tr("Đăng xuất", "Sign out")}
                </button>
            </div>
            <div class=state_class>
                <span class="status" data-testid="sync-status">{status}</span>
                <span class="unsynced" data-testid="unsynced">
                    {move || {
                        let (n, oldest) = unsynced();
                        if n == 0 {
                            tr("Mọi thay đổi đã lên máy chủ", "All changes are on the server").to_string()
                        } else {
                            format!("{n} {} · {} {}", tr("hồ sơ chưa gửi", "files not sent"),
                                tr("thay đổi cũ nhất:", "oldest change:"), age(u.now.get() - oldest))
                        }
                    }}
                </span>
                <button class="sync-now" disabled=move || u.sync.get().running on:click=move |_| sync::now()>
                    {move || tr("Đồng bộ", "Sync")}
                </button>
                <Show when=move || u.sync.get().running>
                    <progress max=move || u.sync.get().to_push.max(1).to_string()
                        value=move || { let s = u.sync.get(); (s.to_push > 0).then(|| s.pushed.to_string()) }>
                    </progress>
                </Show>
                <span class="persist" data-testid="persist">
                    {move || match u.persisted.get() {
                        Some(true) => tr("Bộ nhớ bền vững: đã bật", "Persistent storage: on"),
                        Some(false) => tr("Bộ nhớ bền vững: trình duyệt chưa cấp — hãy cài ứng dụng lên màn hình chính",
                            "Persistent storage: not granted — install the app to the home screen"),
                        None => "",
                    }}
                </span>
            </div>
            {move || confirm.get().map(|left| view! {
                <div class="dialog" role="alertdialog">
                    <p>{format!("{left} {}", tr(
                        "hồ sơ có thay đổi chưa gửi được lên máy chủ. Đăng xuất sẽ xóa chúng khỏi máy này và chúng sẽ mất.",
                        "files have changes that could not be sent to the server. Signing out erases them from this device and they will be lost."))}</p>
                    <button on:click=move |_| confirm.set(None)>{tr("Ở lại, đồng bộ sau", "Stay, sync later")}</button>
                    <button class="danger" on:click=move |_| { confirm.set(None); do_logout(true) }>
                        {tr("Vẫn đăng xuất và xóa", "Sign out and erase anyway")}
                    </button>
                </div>
            })}
        </header>
    }
}

/// Shows a screen and records it in the address, so the back button works. Leaving a
/// screen with refused values typed (drafts) asks first.
pub fn go(screen: Screen) {
    if ui().screen.get_untracked() != screen && !confirm_leave() {
        return;
    }
    let hash = hash_of(&screen);
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&hash);
    }
    ui().screen.set(screen);
    if let Some(w) = web_sys::window() {
        w.scroll_to_with_x_and_y(0.0, 0.0);
    }
}

fn hash_of(screen: &Screen) -> String {
    match screen {
        Screen::Case(id) => format!("#/c/{id}"),
        Screen::New => "#/new".to_string(),
        _ => "#/".to_string(),
    }
}

/// Whether the current screen may be left: the field being typed in is saved first
/// (leaving it fires its change), and refused values typed are only dropped if the
/// cadre agrees.
fn confirm_leave() -> bool {
    if let Some(el) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.blur();
    }
    let u = ui();
    let n = u.drafts.with_untracked(|d| d.len());
    if n == 0 {
        return true;
    }
    let msg = format!(
        "{n} {}",
        tr(
            "giá trị đã nhập chưa được lưu vì không hợp lệ. Rời màn hình này và bỏ các giá trị đó?",
            "typed values are not saved because they are not valid. Leave this screen and discard them?"
        )
    );
    let ok = web_sys::window()
        .and_then(|w| w.confirm_with_message(&msg).ok())
        .unwrap_or(false);
    if ok {
        u.drafts.set(Default::default());
    }
    ok
}

fn screen_from_hash() -> Screen {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    if let Some(id) = hash.strip_prefix("#/c/")
        && let Ok(id) = DocId::try_from(id.to_string())
    {
        return Screen::Case(id);
    }
    if hash == "#/new" {
        return Screen::New;
    }
    Screen::List
}

pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(p).await;
}

async fn boot() {
    let u = ui();
    listen_for_update();
    // Listen to the other tabs before reading anything, so no write in between is missed.
    tabs::listen();
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
            u.notice.set(Some(
                "Không mở được bộ nhớ của trình duyệt (IndexedDB): dữ liệu không thể lưu trên máy này. \
                 / Browser storage (IndexedDB) cannot be opened: data cannot be kept on this device."
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
    let session: Option<Session> = store.get_meta("session").await.ok().flatten();
    match session {
        Some(session) => {
            load_device(session).await;
            open_app();
        }
        None => u.screen.set(Screen::Login),
    }
    let unload = window_event_listener_untyped("beforeunload", |e| {
        // Values typed but refused exist only on screen: ask before they go.
        if ui().drafts.with_untracked(|d| !d.is_empty()) {
            e.prevent_default();
            let _ = js_sys::Reflect::set(&e, &"returnValue".into(), &"".into());
        }
    });
    std::mem::forget(unload);
}

/// Loads a signed-in device from IndexedDB: reference data, this tab's actor id, and
/// every document (unparsed; the list draws from stored summaries).
async fn load_device(session: Session) {
    let u = ui();
    let Some(store) = model::store() else { return };
    let reference: Option<Reference> = store.get_meta("reference").await.ok().flatten();
    let actor = tabs::lease_actor(&session.actor).await;
    let (docs, cursor) = store.load_all().await.unwrap_or_default();
    u.user.set(Some(session.user.clone()));
    if let Some(r) = &reference {
        u.orgs.set(r.orgs.clone());
    }
    with(|m| {
        m.session = Some(session);
        if let Some(r) = reference {
            m.set_reference(r);
        }
        if let Ok(a) = ActorId::try_from(actor.as_str()) {
            m.set_tab_actor(a);
        }
        m.replica.cursor = m.replica.cursor.max(cursor);
        for (id, raw) in docs {
            m.add_raw(id, raw);
        }
    });
    rebuild_rows();
}

thread_local! {
    static OPENED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// After sign-in or start-up with a session: route, load the rest, sync.
fn open_app() {
    let u = ui();
    u.screen.set(screen_from_hash());
    leptos::task::spawn_local(async {
        request_persistence().await;
        hydrate_all().await;
    });
    sync::start();
    if OPENED.with(|o| o.replace(true)) {
        return;
    }
    let hashchange = window_event_listener_untyped("hashchange", move |_| {
        let s = screen_from_hash();
        let current = u.screen.get_untracked();
        if current != s && u.user.get_untracked().is_some() {
            if confirm_leave() {
                u.screen.set(s);
            } else if let Some(w) = web_sys::window() {
                // Stay: put the address back to the screen still shown.
                let _ = w.location().set_hash(&hash_of(&current));
            }
        }
    });
    std::mem::forget(hashchange);
    tabs::seek_leadership(|| leptos::task::spawn_local(sync::become_leader()));
}

/// Parses the stored documents a few dozen at a time, letting the page stay responsive.
pub async fn hydrate_all() {
    loop {
        let ids = with(|m| m.hydrate_some(40));
        if ids.is_empty() {
            break;
        }
        refresh_rows(&ids);
        sleep(0).await;
    }
    ui().hydrated.set(true);
}

/// Asks the browser to keep this site's storage under pressure, and shows the answer.
async fn request_persistence() {
    let Some(storage) = web_sys::window().map(|w| w.navigator().storage()) else {
        return;
    };
    let ask = |p: Result<js_sys::Promise, JsValue>| async move {
        match p {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|v| v.as_bool()),
            Err(_) => None,
        }
    };
    let already = ask(storage.persisted()).await;
    let answer = if already == Some(true) {
        Some(true)
    } else {
        ask(storage.persist()).await
    };
    ui().persisted.set(answer);
}

/// Signs in (first time, or again after the session expired).
pub async fn login(username: &str, password: &str) -> Result<(), String> {
    let u = ui();
    let previous = with(|m| m.session.as_ref().map(|s| s.user.username.clone()));
    if let Some(prev) = &previous
        && prev != username
        && model::unsynced_count() > 0
    {
        return Err(tr(
            "Máy này còn thay đổi chưa gửi của tài khoản khác. Hãy đăng nhập bằng tài khoản đó để gửi trước.",
            "This device holds unsent changes of another account. Sign in with that account to send them first.",
        )
        .into());
    }
    // Signing in again as the same person keeps this device's actor id: the server then
    // reopens the same device, so changes made before the session expired stay
    // attributable to it and are accepted. A new person (or a wiped device) gets a new one.
    let actor = with(|m| {
        m.session
            .as_ref()
            .filter(|s| s.user.username == username)
            .map(|s| s.actor.clone())
    })
    .unwrap_or_else(|| ActorId::random().to_hex_string());
    let device_name = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .map(|ua| ua.chars().take(120).collect::<String>())
        .unwrap_or_default();
    let req = LoginRequest {
        username,
        password,
        device_name: &device_name,
        actor: &actor,
    };
    let mut session: Session = api::post("/api/login", None, &req)
        .await
        .map_err(|e| e.message())?;
    session.actor = actor;
    if previous.is_some_and(|p| p != username) {
        wipe_device().await;
    }
    let reference: Reference = api::get("/api/reference", Some(&session.token))
        .await
        .map_err(|e| e.message())?;
    let store = model::store().ok_or("no storage")?;
    let session_json = serde_json::to_string(&session).unwrap_or_default();
    let reference_json = serde_json::to_string(&reference).unwrap_or_default();
    store
        .put_meta(&[("session", session_json), ("reference", reference_json)])
        .await
        .map_err(|_| {
            tr(
                "Không ghi được vào bộ nhớ máy.",
                "Could not write to device storage.",
            )
        })?;
    tabs::post(&Msg::Session);
    u.relogin.set(false);
    let first = with(|m| m.session.is_none());
    if first {
        load_device(session).await;
        open_app();
    } else {
        u.user.set(Some(session.user.clone()));
        u.orgs.set(reference.orgs.clone());
        with(|m| {
            m.session = Some(session);
            m.set_reference(reference);
        });
        sync::start();
    }
    Ok(())
}

/// Another tab signed in: take the session from IndexedDB.
pub async fn session_changed() {
    let Some(store) = model::store() else { return };
    let Ok(Some(session)) = store.get_meta::<Session>("session").await else {
        return;
    };
    let u = ui();
    let same = with(|m| {
        m.session
            .as_ref()
            .map(|s| s.user.username == session.user.username)
    });
    match same {
        Some(true) => {
            u.user.set(Some(session.user.clone()));
            with(|m| m.session = Some(session));
            u.relogin.set(false);
            sync::start();
        }
        Some(false) => {}
        None => {
            load_device(session).await;
            open_app();
        }
    }
}

/// Another tab stored new reference data.
pub async fn reference_changed() {
    let Some(store) = model::store() else { return };
    if let Ok(Some(r)) = store.get_meta::<Reference>("reference").await {
        ui().orgs.set(r.orgs.clone());
        with(|m| {
            m.set_reference(r);
            m.cache.clear();
        });
        rebuild_rows();
    }
}

/// Signs out: sends what is unsent first; refuses (with the count) when that fails,
/// unless forced.
pub async fn logout(force: bool) -> Result<(), usize> {
    if !force {
        sync::run_and_wait().await;
        let left = model::unsynced_count();
        if left > 0 {
            return Err(left);
        }
    }
    let token = with(|m| m.session.as_ref().map(|s| s.token.clone()));
    if let Some(t) = token {
        let _ = api::post::<_, Json>("/api/logout", Some(&t), &serde_json::json!({})).await;
    }
    wipe_device().await;
    Ok(())
}

/// Erases every case file and the session from this device, in every tab.
pub async fn wipe_device() {
    sync::stop();
    if let Some(store) = model::store() {
        let _ = store.wipe().await;
    }
    tabs::post(&Msg::SignOut);
    signed_out();
}

/// The device was wiped (here or in another tab): forget everything in memory.
pub fn signed_out() {
    sync::stop();
    with(|m| *m = Device::default());
    let u = ui();
    u.rows.set(Vec::new());
    u.user.set(None);
    u.relogin.set(false);
    u.hydrated.set(false);
    u.drafts.set(Default::default());
    u.sync.set(Default::default());
    u.screen.set(Screen::Login);
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash("#/");
    }
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
