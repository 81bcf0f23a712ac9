//! The case-file list: sorted the Vietnamese way (given name, then family name, with
//! Vietnamese letter and tone order), searched without diacritics or case, filtered by
//! stage, branch, blocking findings and coming deadlines. Files the office merged into
//! another are hidden unless asked for, and marked as merged. Each line shows the file's
//! sync state. Only the first lines are drawn, so a phone with thousands of files
//! stays quick; "show more" draws the next ones.

use std::collections::HashMap;

use leptos::prelude::*;
use shared::stage::Stage;
use shared::text::fold;

use crate::i18n::{Lang, lang, show_date, tr, tr_s};
use crate::model::{Row, Screen, go, today, use_ui};

const PAGE: usize = 100;

/// The label of a stage in the current language.
pub fn stage_label(s: Stage) -> &'static str {
    match lang() {
        Lang::Vi => s.label_vi(),
        Lang::En => s.label_en(),
    }
}

/// The sync state of one file, as a short label and a CSS class.
pub fn sync_badge(unsynced: bool, conflicts: u32, rejected: bool) -> (&'static str, &'static str) {
    if rejected {
        (tr("Bị từ chối", "Refused"), "st refused")
    } else if conflicts > 0 {
        (tr("Xung đột", "Conflict"), "st conflict")
    } else if unsynced {
        (tr("Thay đổi trên máy", "Changed here"), "st changed")
    } else {
        (tr("Đã đồng bộ", "Synced"), "st synced")
    }
}

#[component]
pub fn CaseList() -> impl IntoView {
    let u = use_ui();
    let q = RwSignal::new(String::new());
    let stage = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let blocking = RwSignal::new(false);
    let due = RwSignal::new(false);
    let merged = RwSignal::new(false);
    let shown = RwSignal::new(PAGE);
    let org_names = Memo::new(move |_| {
        u.orgs.with(|o| {
            o.iter()
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect::<HashMap<_, _>>()
        })
    });
    let filtered = Memo::new(move |_| {
        let needle = fold(&q.get());
        let stage = stage.get();
        let org = org.get();
        let blocking = blocking.get();
        let horizon = today().add_days(14);
        let due = due.get();
        let merged = merged.get();
        u.rows.with(|rows| {
            let mut v: Vec<Row> = rows
                .iter()
                .filter(|r| merged || r.s.merged_into.is_empty())
                .filter(|r| needle.is_empty() || r.folded.contains(&needle))
                .filter(|r| stage.is_empty() || r.stage.code() == stage)
                .filter(|r| org.is_empty() || r.s.org_id == org)
                .filter(|r| !blocking || r.s.blocking > 0)
                .filter(|r| !due || r.s.next_due.is_some_and(|d| d <= horizon))
                .cloned()
                .collect();
            v.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.id.cmp(&b.id)));
            v
        })
    });
    let total = move || u.rows.with(Vec::len);
    let count = move || filtered.with(Vec::len);
    let branch_options = move || {
        u.orgs.with(|o| {
            o.iter()
                .filter(|o| o.kind == "branch" || o.kind == "sub_branch")
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="list">
            <div class="list-head">
                <h2>{move || tr("Hồ sơ", "Case files")}</h2>
                <button class="primary" data-testid="new-case" on:click=move |_| go(Screen::New)>
                    {move || tr("+ Hồ sơ mới", "+ New case file")}
                </button>
            </div>
            <div class="filters">
                <input type="search" name="q" class="search" autocomplete="off"
                    placeholder=move || tr("Tìm theo tên (gõ có dấu hoặc không dấu)", "Search by name (with or without diacritics)")
                    prop:value=move || q.get()
                    on:input=move |ev| { q.set(event_target_value(&ev)); shown.set(PAGE); }/>
                <select name="stage" on:change=move |ev| stage.set(event_target_value(&ev))>
                    <option value="">{move || tr("Mọi bước", "All stages")}</option>
                    {Stage::ALL.into_iter().map(|s| view! {
                        <option value=s.code()>{move || stage_label(s)}</option>
                    }).collect_view()}
                </select>
                <select name="org" on:change=move |ev| org.set(event_target_value(&ev))>
                    <option value="">{move || tr("Mọi chi bộ", "All branches")}</option>
                    {move || branch_options().into_iter().map(|(id, n)| view! {
                        <option value=id>{n}</option>
                    }).collect_view()}
                </select>
                <label class="check">
                    <input type="checkbox" name="blocking" on:change=move |ev| blocking.set(event_target_checked(&ev))/>
                    {move || tr("Có vướng mắc chặn", "Has blocking findings")}
                </label>
                <label class="check">
                    <input type="checkbox" name="due" on:change=move |ev| due.set(event_target_checked(&ev))/>
                    {move || tr("Đến hạn trong 14 ngày / quá hạn", "Due within 14 days / overdue")}
                </label>
                <label class="check">
                    <input type="checkbox" name="merged" on:change=move |ev| merged.set(event_target_checked(&ev))/>
                    {move || tr("Hiện cả hồ sơ đã gộp", "Also show merged files")}
                </label>
            </div>
            <p class="count" data-testid="count">
                {move || format!("{} / {} {}", count(), total(), tr("hồ sơ", "case files"))}
            </p>
            <ul class="cases">
                {move || {
                    let names = org_names.get();
                    let today = today();
                    filtered.with(|rows| rows.iter().take(shown.get()).map(|r| {
                        let id = r.id.clone();
                        let href = format!("#/c/{}", r.id);
                        let (sync_label, sync_class) = sync_badge(r.unsynced_since.is_some(), r.s.conflicts, r.rejected.is_some());
                        let branch = names.get(&r.s.org_id).cloned().unwrap_or_else(|| r.s.org_id.clone());
                        let due = r.s.next_due.map(|d| {
                            let overdue = d < today;
                            let text = if overdue {
                                format!("{} {}", tr("Quá hạn", "Overdue"), show_date(Some(d)))
                            } else {
                                format!("{} {}", tr("Hạn", "Due"), show_date(Some(d)))
                            };
                            view! { <span class={if overdue { "due overdue" } else { "due" }}>{text}</span> }
                        });
                        let blocking = (r.s.blocking > 0).then(|| view! {
                            <span class="blocking">{format!("{} {}", r.s.blocking, tr("vướng mắc", "blocking"))}</span>
                        });
                        let returned = r.s.returned.then(|| view! {
                            <span class="returned">{tr("Cấp trên trả lại", "Returned")}</span>
                        });
                        let merged = (!r.s.merged_into.is_empty()).then(|| view! {
                            <span class="merged" data-testid="merged-badge">{tr("Đã gộp vào hồ sơ khác", "Merged into another file")}</span>
                        });
                        let title = r.rejected.as_ref().map(|(vi, en)| tr_s(vi, en)).unwrap_or_default();
                        view! {
                            <li class="case-row" data-id=r.id.to_string()>
                                <a href=href on:click=move |ev| { ev.prevent_default(); go(Screen::Case(id.clone())); }>
                                    <span class="name">{r.s.name.clone()}</span>
                                    <span class="meta">
                                        <span class="stage">{stage_label(r.stage)}</span>
                                        " · "
                                        <span class="branch">{branch}</span>
                                        {r.s.birth_date.map(|d| format!(" · {}", show_date(Some(d))))}
                                    </span>
                                    <span class="badges">
                                        <span class=sync_class title=title>{sync_label}</span>
                                        {blocking}
                                        {due}
                                        {returned}
                                        {merged}
                                    </span>
                                </a>
                            </li>
                        }
                    }).collect_view())
                }}
            </ul>
            <Show when=move || { count() > shown.get() }>
                <button class="more" on:click=move |_| shown.update(|n| *n += PAGE)>
                    {move || tr("Hiện thêm", "Show more")}
                </button>
            </Show>
            <Show when=move || total() == 0>
                <p class="empty">{move || tr(
                    "Chưa có hồ sơ nào trên máy. Đồng bộ để nhận hồ sơ của đơn vị, hoặc tạo hồ sơ mới.",
                    "No case files on this device yet. Sync to receive your unit's files, or create one.")}</p>
            </Show>
        </section>
    }
}
