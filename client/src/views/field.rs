//! One form field of the case file, drawn from its schema entry: the input suited to
//! its kind, validated in place (dates dd/mm/yyyy, counts), the rule findings that
//! speak of it, and its conflict or resolution state.
//!
//! An edit is written to the document and to IndexedDB when the input changes (on
//! blur or Enter), so each change is one meaningful, timestamped step in the audit
//! trail; the app blurs the active field when it is hidden, so nothing typed waits.
//! A value the field refuses (31/02/2026) is never dropped: it stays on screen as a
//! draft (`Ui::drafts`) with its error until it is fixed or discarded, and leaving the
//! screen with a draft asks first.

use std::sync::Arc;

use leptos::prelude::*;
use serde_json::Value as Json;
use shared::date::Date;
use shared::rules::Severity;
use shared::sync::DocId;
use wasm_bindgen::JsValue;

use crate::device::input::parse_count;
use crate::i18n::{bilingual, parse_vn_date, show_time, tr, tr_s};
use crate::model::{DocView, draft_key, edit_and_save, json_at, use_ui};
use shared::schema::{Field, Kind, opt_label};

use shared::schema::pattern_of as finding_pattern;

/// A JSON value as the text of an input of this kind.
pub fn value_text(kind: Kind, v: Option<&Json>) -> String {
    match (kind, v) {
        (Kind::Date, Some(Json::String(s))) => s
            .parse::<Date>()
            .map(|d| d.format_vn())
            .unwrap_or_else(|_| s.clone()),
        (_, Some(Json::String(s))) => s.clone(),
        (_, Some(Json::Number(n))) => n.to_string(),
        (_, Some(Json::Bool(b))) => b.to_string(),
        _ => String::new(),
    }
}

/// A value shown to people (conflicts): choice labels, dates, yes/no.
pub fn value_display(kind: Kind, v: &Json) -> String {
    match (kind, v) {
        (_, Json::Null) => tr("(trống)", "(empty)").to_string(),
        (Kind::Choice(opts), Json::String(s)) => opt_label(opts, s)
            .map(|(vi, en)| tr_s(vi, en))
            .unwrap_or_else(|| s.clone()),
        (_, Json::Bool(true)) => tr("Có", "Yes").to_string(),
        (_, Json::Bool(false)) => tr("Không", "No").to_string(),
        (k, v) => value_text(k, Some(v)),
    }
}

/// What a text input shows, kept from wiping what the cadre is typing.
///
/// Typed text is read when the input changes (blur or Enter). Until then it lives only
/// in the element, while the saved value it shows can change at any moment: another
/// tab's edit, a sync's answer, a pull. Writing the saved value into the element then
/// would throw the typed text away. So while the input has focus and holds text it did
/// not get from here, it keeps that text. The change event then saves it as any edit,
/// made after the value that came in meanwhile.
#[derive(Clone, Copy)]
struct Typing {
    input: NodeRef<leptos::html::Input>,
    /// The text last written into the element, or last read from it.
    settled: StoredValue<String>,
}

impl Typing {
    fn new() -> Self {
        Typing {
            input: NodeRef::new(),
            settled: StoredValue::new(String::new()),
        }
    }

    /// The text to write into the element, given the value it should show.
    fn shown(self, value: String) -> String {
        if let Some(el) = self.input.get_untracked() {
            let focused = document()
                .active_element()
                .is_some_and(|a| AsRef::<JsValue>::as_ref(&a) == AsRef::<JsValue>::as_ref(&el));
            let text = el.value();
            if focused && self.settled.with_value(|s| *s != text) {
                return text;
            }
        }
        self.settled.set_value(value.clone());
        value
    }

    /// The element's text was read (saved, or kept as a draft).
    fn committed(self, text: &str) {
        self.settled.set_value(text.to_string());
    }
}

#[component]
pub fn FieldInput(
    id: DocId,
    path: String,
    field: &'static Field,
    view: Memo<Option<DocView>>,
) -> impl IntoView {
    let path: Arc<str> = path.into();
    let pattern: Arc<str> = finding_pattern(&path).into();
    let u = use_ui();
    let key: Arc<str> = draft_key(&id, &path).into();
    let kind = field.kind;
    // The typed text the field refused, if any, and why.
    let draft = {
        let key = key.clone();
        move || u.drafts.with(|d| d.get(&*key).cloned())
    };
    let error = {
        let draft = draft.clone();
        move || {
            draft().and_then(|t| match kind {
                Kind::Date => parse_vn_date(&t).err(),
                Kind::Num => parse_count(&t).err(),
                _ => None,
            })
        }
    };
    let current = {
        let path = path.clone();
        move || view.with(|v| v.as_ref().and_then(|v| json_at(&v.json, &path)))
    };
    let save = {
        let path = path.clone();
        let id = id.clone();
        move |value: Json| edit_and_save(&id, &path, value)
    };
    let typing = Typing::new();
    // Reads typed text: a valid value is saved, a refused one kept as a draft.
    let typed = {
        let key = key.clone();
        let save = save.clone();
        move |text: String| {
            typing.committed(&text);
            let t = text.trim();
            let value = match kind {
                Kind::Date if t.is_empty() => Ok(Json::Null),
                Kind::Date => parse_vn_date(t).map(|d| Json::String(d.to_string())),
                Kind::Num => parse_count(t).map(|n| n.map(Json::from).unwrap_or(Json::Null)),
                _ => Ok(Json::String(t.to_string())),
            };
            match value {
                Ok(v) => {
                    u.drafts.update(|d| {
                        d.remove(&*key);
                    });
                    save(v);
                }
                Err(_) => u.drafts.update(|d| {
                    d.insert(key.to_string(), text);
                }),
            }
        }
    };
    let shown = {
        let draft = draft.clone();
        let current = current.clone();
        move || typing.shown(draft().unwrap_or_else(|| value_text(kind, current().as_ref())))
    };
    let has_error = {
        let error = error.clone();
        move || error().is_some()
    };
    // The awareness class is picked from the classes the office recorded (reference
    // data); "another class" falls back to typing its name.
    let classes = if &*path == "awareness_class.class_name" {
        crate::model::with(|m| m.reference.classes.clone())
    } else {
        Vec::new()
    };
    let input = match kind {
        Kind::Text if !classes.is_empty() => {
            let typed = typed.clone();
            let picked = move || {
                view.with(|v| {
                    v.as_ref()
                        .and_then(|v| json_at(&v.json, "awareness_class.class_id"))
                        .and_then(|j| j.as_str().map(str::to_string))
                        .unwrap_or_default()
                })
            };
            let pick = {
                let id = id.clone();
                let classes = classes.clone();
                move |value: String| {
                    let class = classes.iter().find(|c| c.id == value);
                    edit_and_save(
                        &id,
                        "awareness_class.class_id",
                        Json::String(class.map(|c| c.id.clone()).unwrap_or_default()),
                    );
                    if let Some(c) = class {
                        edit_and_save(
                            &id,
                            "awareness_class.class_name",
                            Json::String(c.name.clone()),
                        );
                        if !c.organiser.is_empty() {
                            edit_and_save(
                                &id,
                                "awareness_class.issuer",
                                Json::String(c.organiser.clone()),
                            );
                        }
                    }
                }
            };
            let other_class = move || picked().is_empty();
            let name_attr = path.to_string();
            view! {
                <select name="awareness_class.class_id" data-path="awareness_class.class_id"
                    prop:value=picked
                    on:change=move |ev| pick(event_target_value(&ev))>
                    <option value="">{move || tr("Lớp khác (gõ tên lớp)", "Another class (type its name)")}</option>
                    {classes.iter().map(|c| {
                        let label = match c.start_date.parse::<Date>() {
                            Ok(d) => format!("{} ({})", c.name, d.format_vn()),
                            Err(_) => c.name.clone(),
                        };
                        view! { <option value=c.id.clone()>{label}</option> }
                    }).collect_view()}
                </select>
                <Show when=other_class>
                    <input type="text" name=name_attr.clone() data-path=name_attr.clone()
                        node_ref=typing.input prop:value=shown.clone()
                        on:change={
                            let typed = typed.clone();
                            move |ev| typed(event_target_value(&ev))
                        }/>
                </Show>
            }
            .into_any()
        }
        Kind::Text => {
            let typed = typed.clone();
            view! {
                <input type="text" name=path.to_string() data-path=path.to_string()
                    node_ref=typing.input prop:value=shown.clone()
                    on:change=move |ev| typed(event_target_value(&ev))/>
            }
            .into_any()
        }
        Kind::Date => {
            let typed = typed.clone();
            view! {
                <input type="text" inputmode="numeric" placeholder="dd/mm/yyyy" autocomplete="off"
                    name=path.to_string() data-path=path.to_string() class:invalid=has_error.clone()
                    node_ref=typing.input prop:value=shown.clone()
                    on:change=move |ev| typed(event_target_value(&ev))/>
            }
            .into_any()
        }
        Kind::Num => {
            let typed = typed.clone();
            view! {
                <input type="text" inputmode="numeric" autocomplete="off" class="num"
                    name=path.to_string() data-path=path.to_string() class:invalid=has_error.clone()
                    node_ref=typing.input prop:value=shown.clone()
                    on:change=move |ev| typed(event_target_value(&ev))/>
            }
            .into_any()
        }
        Kind::Bool => {
            let current = current.clone();
            let save = save.clone();
            view! {
                <input type="checkbox" name=path.to_string() data-path=path.to_string()
                    prop:checked=move || current() == Some(Json::Bool(true))
                    on:change=move |ev| save(Json::Bool(event_target_checked(&ev)))/>
            }
            .into_any()
        }
        Kind::Tri => {
            let current = current.clone();
            let save = save.clone();
            view! {
                <select name=path.to_string() data-path=path.to_string()
                    prop:value=move || value_text(kind, current().as_ref())
                    on:change=move |ev| save(match event_target_value(&ev).as_str() {
                        "true" => Json::Bool(true),
                        "false" => Json::Bool(false),
                        _ => Json::Null,
                    })>
                    <option value="">"—"</option>
                    <option value="true">{move || tr("Có", "Yes")}</option>
                    <option value="false">{move || tr("Không", "No")}</option>
                </select>
            }
            .into_any()
        }
        Kind::Choice(opts) => {
            let current = current.clone();
            let save = save.clone();
            view! {
                <select name=path.to_string() data-path=path.to_string()
                    prop:value=move || value_text(kind, current().as_ref())
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        save(if v.is_empty() { Json::Null } else { Json::String(v) })
                    }>
                    <option value="">"—"</option>
                    {opts.iter().map(|(code, vi, en)| view! {
                        <option value=*code>{move || tr(vi, en)}</option>
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
    };
    let notes = {
        let pattern = pattern.clone();
        move || {
            view.with(|v| {
                v.as_ref()
                    .map(|v| {
                        v.eval
                            .findings
                            .iter()
                            .filter(|f| f.field == &*pattern && f.severity != Severity::Info)
                            .map(|f| (f.severity, tr_s(&f.message_vi, &f.message_en)))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default()
            })
        }
    };
    let conflict = {
        let path = path.clone();
        move || {
            view.with(|v| {
                v.as_ref()
                    .and_then(|v| v.conflicts.iter().find(|c| *c.path == *path).cloned())
            })
        }
    };
    let resolved = {
        let path = path.clone();
        move || {
            view.with(|v| {
                v.as_ref()
                    .and_then(|v| v.resolved.iter().find(|c| *c.path == *path).cloned())
            })
        }
    };
    let has_conflict = {
        let conflict = conflict.clone();
        move || conflict().is_some()
    };
    let blocking = {
        let notes = notes.clone();
        move || notes().iter().any(|n| n.0 == Severity::Blocking)
    };
    let checkbox = matches!(kind, Kind::Bool);
    view! {
        <div class="field" class:conflict=has_conflict class:blocked=blocking class:check=checkbox data-pattern=pattern.to_string()>
            <label>
                <span class="label">{move || tr(field.vi, field.en)}</span>
                {input}
            </label>
            {
                let discard = {
                    let key = key.clone();
                    move |_| u.drafts.update(|d| {
                        d.remove(&*key);
                    })
                };
                move || error().map(|e| view! {
                    <p class="error" role="alert" data-testid="draft-error">
                        {bilingual(e)} " "
                        <button type="button" class="link" on:click=discard.clone()>
                            {tr("Bỏ giá trị này", "Discard this value")}
                        </button>
                    </p>
                })
            }
            {move || notes().into_iter().map(|(sev, msg)| view! {
                <p class={if sev == Severity::Blocking { "note blocking" } else { "note warning" }}>{msg}</p>
            }).collect_view()}
            {move || conflict().map(|c| view! {
                <div class="conflict-values" data-testid="conflict">
                    <strong>{tr("Xung đột: hai thiết bị ghi khác nhau khi chưa đồng bộ.", "Conflict: two devices wrote different values while apart.")}</strong>
                    <ul>
                        {c.values.into_iter().map(|v| view! {
                            <li class:winner=v.winner>
                                {format!("«{}»", value_display(kind, &v.value))}
                                " — "
                                {if v.mine { tr("thiết bị này", "this device") } else { tr("thiết bị khác", "another device") }}
                                {v.time.map(|t| format!(", {}", show_time(t)))}
                                {v.winner.then(|| format!(" ({})", tr("đang hiển thị", "shown")))}
                            </li>
                        }).collect_view()}
                    </ul>
                    <small>{tr(
                        "Người duyệt ở cấp trên sẽ chọn giá trị đúng; bạn cũng có thể nhập lại giá trị đúng tại đây.",
                        "The reviewer will choose the right value; you can also enter the right value here.")}</small>
                </div>
            })}
            {move || resolved().map(|r| view! {
                <p class="resolved" data-testid="resolved">
                    {format!("✓ {} {} — {}", tr("Đã giải quyết", "Resolved"),
                        if r.mine {
                            tr("trên thiết bị này", "on this device").to_string()
                        } else if !r.by.is_empty() {
                            format!("{} {}", tr("bởi", "by"), r.by)
                        } else {
                            tr("bởi người duyệt cấp trên", "by the reviewer").to_string()
                        },
                        show_time(r.time))}
                </p>
            })}
        </div>
    }
}
