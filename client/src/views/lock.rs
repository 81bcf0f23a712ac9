//! The lock: choosing the PIN at the first sign-in, the unlock screen (with the count of
//! tries left before the device wipes itself, and the way out when the PIN is
//! forgotten, and the passkey where one is set), and the header's menu: lock now, the
//! lock settings (idle minutes, tries, changing the PIN, the passkey), the hand-off file.

use leptos::prelude::*;

use crate::i18n::{ago, tr};
use crate::model::{self, use_ui};
use crate::passkey;
use crate::session;
use crate::views::login::LoginForm;

/// A PIN must be at least this long; letters are allowed and make it stronger.
const MIN_PIN: usize = 6;

/// What is wrong with a new PIN typed twice (at the first sign-in and when it changes).
fn pin_problem(pin: &str, again: &str) -> Option<&'static str> {
    if pin.chars().count() < MIN_PIN {
        Some(tr(
            "Mã PIN cần ít nhất 6 ký tự.",
            "The PIN needs at least 6 characters.",
        ))
    } else if pin != again {
        Some(tr(
            "Hai lần nhập mã PIN không khớp.",
            "The two PINs do not match.",
        ))
    } else {
        None
    }
}

#[component]
pub fn SetPinScreen() -> impl IntoView {
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let p = pin.get_untracked();
        if let Some(problem) = pin_problem(&p, &again.get_untracked()) {
            error.set(Some(problem.into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let r = session::set_pin(&p).await;
            busy.set(false);
            if let Err(e) = r {
                error.set(Some(e));
            }
        });
    };
    view! {
        <form class="pin pin-set" on:submit=submit>
            <h2>{move || tr("Đặt mã PIN cho máy này", "Choose a PIN for this device")}</h2>
            <p class="hint">{move || tr(
                "Hồ sơ của quần chúng được mã hóa trên máy này; chỉ mã PIN mở được. Mã PIN không gửi đi đâu và máy chủ không khôi phục được. Quên mã PIN thì phải đăng nhập lại và mất các thay đổi chưa gửi.",
                "Candidates' files are encrypted on this device; only the PIN opens them. The PIN is never sent anywhere and the server cannot recover it. A forgotten PIN means signing in again and losing unsent changes.")}</p>
            <label>
                <span>{move || tr("Mã PIN (ít nhất 6 ký tự)", "PIN (at least 6 characters)")}</span>
                <input name="pin" type="password" inputmode="numeric" autocomplete="new-password" required
                    prop:value=move || pin.get() on:input=move |ev| pin.set(event_target_value(&ev))/>
            </label>
            <label>
                <span>{move || tr("Nhập lại mã PIN", "PIN again")}</span>
                <input name="pin2" type="password" inputmode="numeric" autocomplete="new-password" required
                    prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { tr("Đang mã hóa…", "Encrypting…") } else { tr("Đặt mã PIN", "Set the PIN") }}
            </button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
pub fn UnlockScreen() -> impl IntoView {
    let u = use_ui();
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Forgotten PIN: None, then the count of files with unsent changes once asked.
    let forgot = RwSignal::new(None::<usize>);
    let confirmed = RwSignal::new(false);
    // Answers received on this screen (for the tests and assistive technology alike,
    // the form says when a try is over).
    let answers = RwSignal::new(0u32);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let p = pin.get_untracked();
        leptos::task::spawn_local(async move {
            let r = session::unlock(&p).await;
            busy.set(false);
            pin.set(String::new());
            answers.update(|n| *n += 1);
            if let Err(e) = r {
                error.set(Some(e));
            }
        });
    };
    let left = move || {
        u.lock
            .get()
            .map(|r| r.max_failures.saturating_sub(r.failures))
    };
    // A passkey is offered when one is set and this browser can use it here; it does
    // not count as a PIN try, and the PIN stays the way in.
    let with_passkey =
        move || passkey::supported() && u.lock.get().is_some_and(|r| r.passkey.is_some());
    let use_passkey = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let r = session::unlock_with_passkey().await;
            busy.set(false);
            answers.update(|n| *n += 1);
            if let Err(e) = r {
                error.set(Some(e));
            }
        });
    };
    let ask_forgot = move |_| {
        leptos::task::spawn_local(async move {
            let n = match model::store() {
                Some(s) => s.unsent_count().await.unwrap_or(0),
                None => 0,
            };
            forgot.set(Some(n));
        });
    };
    view! {
        <form class="pin unlock" on:submit=submit data-answers=move || answers.get().to_string()
            aria-busy=move || busy.get().to_string()>
            <h2>{move || tr("Ứng dụng đang khóa", "The app is locked")}</h2>
            <label>
                <span>{move || tr("Mã PIN", "PIN")}</span>
                <input name="pin" type="password" inputmode="numeric" autocomplete="current-password" required
                    autofocus prop:value=move || pin.get() on:input=move |ev| pin.set(event_target_value(&ev))/>
            </label>
            <button type="submit" class="primary" disabled=move || busy.get()>
                {move || if busy.get() { tr("Đang mở khóa…", "Unlocking…") } else { tr("Mở khóa", "Unlock") }}
            </button>
            <Show when=with_passkey>
                <button type="button" class="passkey" data-testid="passkey-unlock"
                    disabled=move || busy.get() on:click=use_passkey>
                    {move || tr("Mở bằng khóa truy cập", "Unlock with a passkey")}
                </button>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || left().filter(|n| *n <= 3).map(|n| view! {
                <p class="error" role="alert" data-testid="pin-warning">{format!("{} {n} {}",
                    tr("Cảnh báo: còn", "Warning:"),
                    tr("lần thử. Nhập sai hết số lần này, máy sẽ xóa mọi dữ liệu, kể cả các thay đổi chưa gửi.",
                       "tries left. After that many wrong PINs the device erases all its data, unsent changes included."))}</p>
            })}
            <p><button type="button" class="link" on:click=ask_forgot>{move || tr("Quên mã PIN?", "Forgot the PIN?")}</button></p>
        </form>
        {move || forgot.get().map(|n| view! {
            <div class="dialog forgot" role="alertdialog">
                <p>{if n > 0 {
                    format!("{n} {}", tr(
                        "hồ sơ có thay đổi chưa gửi lên máy chủ. Không có mã PIN thì không mở được chúng: đăng nhập lại sẽ xóa dữ liệu trên máy này và các thay đổi đó sẽ mất.",
                        "files have changes not sent to the server. Without the PIN they cannot be opened: signing in again erases the data on this device and those changes will be lost."))
                } else {
                    tr("Mọi thay đổi đã lên máy chủ. Đăng nhập lại (cần có mạng) sẽ xóa dữ liệu trên máy này và tải lại từ máy chủ.",
                       "Every change is on the server. Signing in again (online) erases the data on this device and downloads it again.").to_string()
                }}</p>
                <Show when=move || confirmed.get() fallback=move || view! {
                    <button type="button" on:click=move |_| forgot.set(None)>{tr("Quay lại", "Back")}</button>
                    <button type="button" class="danger" on:click=move |_| confirmed.set(true)>
                        {tr("Tôi hiểu, đăng nhập lại", "I understand, sign in again")}
                    </button>
                }>
                    <LoginForm fresh=true/>
                </Show>
            </div>
        })}
    }
}

/// The header's lock menu: lock now, the lock settings, the hand-off file.
#[component]
pub fn LockMenu() -> impl IntoView {
    let u = use_ui();
    let open = RwSignal::new(false);
    let handoff = RwSignal::new(None::<String>);
    let exporting = RwSignal::new(false);
    let export = move |_| {
        exporting.set(true);
        leptos::task::spawn_local(async move {
            let r = crate::handoff::export().await;
            exporting.set(false);
            handoff.set(Some(match r {
                Ok(n) => format!(
                    "{n} {}",
                    tr(
                        "hồ sơ có thay đổi chưa gửi đã được ghi vào tệp bàn giao (đã mã hóa cho máy chủ). Hãy chuyển tệp cho văn phòng; máy vẫn sẽ đồng bộ các thay đổi này khi có mạng.",
                        "files with unsent changes were written to the hand-off file (encrypted for the server). Give the file to the office; the device still syncs these changes when online."
                    )
                ),
                Err(e) => e,
            }));
        });
    };
    let minutes = |v: String| v.parse::<u32>().unwrap_or(5);
    view! {
        <button class="link" data-testid="lock-now" on:click=move |_| session::lock_all()>
            {move || tr("Khóa", "Lock")}
        </button>
        <button class="link" data-testid="handoff" disabled=move || exporting.get() on:click=export>
            {move || tr("Xuất bàn giao", "Export hand-off")}
        </button>
        <button class="link" data-testid="lock-settings" on:click=move |_| open.update(|o| *o = !*o)>
            {move || tr("Cài đặt khóa", "Lock settings")}
        </button>
        {move || u.handed.get().map(|h| {
            let waiting = u.rows.with(|rows| {
                h.docs
                    .iter()
                    .filter(|(id, _)| rows.iter().any(|r| &r.id == id && r.unsynced_since.is_some()))
                    .count()
            });
            view! {
                <span class="handed" data-testid="handed">
                    {format!("{} {} {} ({})", tr("Đã xuất bàn giao", "Handed off"), h.docs.len(),
                        tr("hồ sơ", "files"), ago(u.now.get() - h.at))}
                    {if waiting > 0 {
                        format!(" · {waiting} {}", tr("vẫn chờ đồng bộ", "still to sync"))
                    } else {
                        format!(" · {}", tr("đã lên máy chủ", "on the server"))
                    }}
                </span>
            }
        })}
        {move || handoff.get().map(|m| view! {
            <div class="dialog" role="status" data-testid="handoff-result">
                <p>{m}</p>
                <button on:click=move |_| handoff.set(None)>"OK"</button>
            </div>
        })}
        <Show when=move || open.get()>
            <div class="dialog lock-settings" role="dialog" aria-labelledby="lock-settings-title">
                <div class="dialog-head">
                    <h3 id="lock-settings-title">{move || tr("Cài đặt khóa", "Lock settings")}</h3>
                    <button class="close" on:click=move |_| open.set(false)>{move || tr("Đóng", "Close")}</button>
                </div>
                <label>
                    <span>{move || tr("Tự khóa khi không dùng (phút)", "Lock when idle (minutes)")}</span>
                    <select name="idle_minutes" on:change=move |ev| {
                        let m = minutes(event_target_value(&ev));
                        leptos::task::spawn_local(session::save_lock_settings(move |r| r.idle_minutes = m));
                    }>
                        {[1u32, 2, 5, 10, 15, 30].into_iter().map(|m| view! {
                            <option value=m.to_string()
                                selected=move || u.lock.get().map(|r| r.idle_minutes) == Some(m)>{m.to_string()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || tr("Khóa khi ẩn ứng dụng quá (phút)", "Lock when hidden longer than (minutes)")}</span>
                    <select name="hidden_minutes" on:change=move |ev| {
                        let m = minutes(event_target_value(&ev));
                        leptos::task::spawn_local(session::save_lock_settings(move |r| r.hidden_minutes = m));
                    }>
                        {[0u32, 1, 2, 5, 15].into_iter().map(|m| view! {
                            <option value=m.to_string()
                                selected=move || u.lock.get().map(|r| r.hidden_minutes) == Some(m)>{m.to_string()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>
                    <span>{move || tr("Số lần nhập sai mã PIN trước khi xóa dữ liệu", "Wrong PINs before the data is erased")}</span>
                    <select name="max_failures" on:change=move |ev| {
                        let m = minutes(event_target_value(&ev)).clamp(3, 20);
                        leptos::task::spawn_local(session::save_lock_settings(move |r| r.max_failures = m));
                    }>
                        {[3u32, 5, 10, 15, 20].into_iter().map(|m| view! {
                            <option value=m.to_string()
                                selected=move || u.lock.get().map(|r| r.max_failures) == Some(m)>{m.to_string()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <PinChange/>
                <PasskeySettings/>
            </div>
        </Show>
    }
}

/// "Đổi mã PIN": the current PIN (a wrong one counts as a wrong PIN) and the new one
/// twice, under the same rules as at the first sign-in.
#[component]
fn PinChange() -> impl IntoView {
    let open = RwSignal::new(false);
    let current = RwSignal::new(String::new());
    let pin = RwSignal::new(String::new());
    let again = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (c, p) = (current.get_untracked(), pin.get_untracked());
        if let Some(problem) = pin_problem(&p, &again.get_untracked()) {
            error.set(Some(problem.into()));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let r = session::change_pin(&c, &p).await;
            busy.set(false);
            current.set(String::new());
            match r {
                Ok(()) => {
                    pin.set(String::new());
                    again.set(String::new());
                    open.set(false);
                    done.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    view! {
        <section class="pin-change">
            <h4>{move || tr("Mã PIN", "PIN")}</h4>
            <Show when=move || done.get()>
                <p class="ok" role="status" data-testid="pin-changed">{move || tr(
                    "Đã đổi mã PIN. Từ nay dùng mã PIN mới để mở ứng dụng.",
                    "The PIN was changed. Use the new PIN to open the app from now on.")}</p>
            </Show>
            <Show when=move || open.get() fallback=move || view! {
                <button type="button" data-testid="pin-change" on:click=move |_| { done.set(false); open.set(true) }>
                    {move || tr("Đổi mã PIN", "Change the PIN")}
                </button>
            }>
                <form class="pin-change" on:submit=submit aria-busy=move || busy.get().to_string()>
                    <label>
                        <span>{move || tr("Mã PIN hiện tại", "Current PIN")}</span>
                        <input name="current_pin" type="password" inputmode="numeric" autocomplete="current-password" required
                            prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
                    </label>
                    <label>
                        <span>{move || tr("Mã PIN mới (ít nhất 6 ký tự)", "New PIN (at least 6 characters)")}</span>
                        <input name="new_pin" type="password" inputmode="numeric" autocomplete="new-password" required
                            prop:value=move || pin.get() on:input=move |ev| pin.set(event_target_value(&ev))/>
                    </label>
                    <label>
                        <span>{move || tr("Nhập lại mã PIN mới", "New PIN again")}</span>
                        <input name="new_pin2" type="password" inputmode="numeric" autocomplete="new-password" required
                            prop:value=move || again.get() on:input=move |ev| again.set(event_target_value(&ev))/>
                    </label>
                    <div class="actions">
                        <button type="button" on:click=move |_| { open.set(false); error.set(None) }>
                            {move || tr("Hủy", "Cancel")}
                        </button>
                        <button type="submit" class="primary" disabled=move || busy.get()>
                            {move || if busy.get() { tr("Đang đổi…", "Changing…") } else { tr("Đổi mã PIN", "Change the PIN") }}
                        </button>
                    </div>
                </form>
            </Show>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

/// The passkey: set one up (the PIN confirms), or remove it; where this browser or
/// device cannot use one, says so instead of offering it.
#[component]
fn PasskeySettings() -> impl IntoView {
    let u = use_ui();
    let asking = RwSignal::new(false);
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    // Whether the device has an authenticator that verifies the user; None until known.
    let platform = RwSignal::new(None::<bool>);
    leptos::task::spawn_local(async move {
        platform.set(Some(passkey::platform_available().await));
    });
    let set_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let p = pin.get_untracked();
        leptos::task::spawn_local(async move {
            let r = session::enrol_passkey(&p).await;
            busy.set(false);
            pin.set(String::new());
            match r {
                Ok(()) => asking.set(false),
                // No PRF: the section says so in place of the offer.
                Err(_)
                    if u.lock
                        .get_untracked()
                        .is_some_and(|r| r.passkey_unsupported) => {}
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = move |_| {
        error.set(None);
        leptos::task::spawn_local(session::remove_passkey());
    };
    let enrolled = move || u.lock.get().is_some_and(|r| r.passkey.is_some());
    // Why no passkey can be set up here, if none can.
    let unavailable = move || {
        if u.lock.get().is_some_and(|r| r.passkey_unsupported) {
            Some(tr(
                "Trình duyệt hoặc thiết bị này không hỗ trợ mở khóa dữ liệu bằng khóa truy cập (thiếu tiện ích PRF). Hãy dùng mã PIN.",
                "This browser or device cannot unlock data with a passkey (no PRF extension). Use the PIN.",
            ))
        } else if !passkey::supported() || platform.get() == Some(false) {
            Some(tr(
                "Trình duyệt hoặc thiết bị này không có khóa truy cập (vân tay, khuôn mặt, khóa màn hình) dùng được ở đây. Hãy dùng mã PIN.",
                "This browser or device has no passkey (fingerprint, face, screen lock) usable here. Use the PIN.",
            ))
        } else {
            None
        }
    };
    view! {
        <section class="passkey-settings">
            <h4>{move || tr("Khóa truy cập (passkey)", "Passkey")}</h4>
            {move || if enrolled() {
                view! {
                    <p data-testid="passkey-on">{move || tr(
                        "Máy này mở khóa được bằng khóa truy cập, không cần gõ mã PIN. Mã PIN vẫn dùng được.",
                        "This device unlocks with a passkey, without typing the PIN. The PIN still works.")}</p>
                    <button type="button" class="danger" data-testid="passkey-remove" on:click=remove>
                        {move || tr("Bỏ khóa truy cập", "Remove the passkey")}
                    </button>
                }.into_any()
            } else if let Some(why) = unavailable() {
                view! { <p class="hint" data-testid="passkey-unavailable">{why}</p> }.into_any()
            } else if asking.get() {
                view! {
                    <form class="passkey-enrol" on:submit=set_up aria-busy=move || busy.get().to_string()>
                        <p class="hint">{move || tr(
                            "Nhập mã PIN để xác nhận; sau đó trình duyệt hỏi vân tay, khuôn mặt hoặc khóa màn hình của máy.",
                            "Enter the PIN to confirm; the browser then asks for the device's fingerprint, face or screen lock.")}</p>
                        <label>
                            <span>{move || tr("Mã PIN", "PIN")}</span>
                            <input name="passkey_pin" type="password" inputmode="numeric" autocomplete="current-password" required
                                prop:value=move || pin.get() on:input=move |ev| pin.set(event_target_value(&ev))/>
                        </label>
                        <div class="actions">
                            <button type="button" on:click=move |_| { asking.set(false); error.set(None) }>
                                {move || tr("Hủy", "Cancel")}
                            </button>
                            <button type="submit" class="primary" disabled=move || busy.get()>
                                {move || if busy.get() { tr("Đang tạo…", "Creating…") } else { tr("Tạo khóa truy cập", "Create the passkey") }}
                            </button>
                        </div>
                    </form>
                }.into_any()
            } else {
                view! {
                    <p class="hint">{move || tr(
                        "Mở ứng dụng bằng vân tay, khuôn mặt hoặc khóa màn hình của máy thay cho gõ mã PIN.",
                        "Open the app with the device's fingerprint, face or screen lock instead of typing the PIN.")}</p>
                    <button type="button" data-testid="passkey-enrol" on:click=move |_| asking.set(true)>
                        {move || tr("Dùng khóa truy cập (passkey) để mở khóa", "Use a passkey to unlock")}
                    </button>
                }.into_any()
            }}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}
