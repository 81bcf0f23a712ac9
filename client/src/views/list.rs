//! The case-file list. It opens on the files still in progress (official members and
//! stopped files are one choice away), sorted the Vietnamese way (given name, then
//! family name, with Vietnamese letter and tone order) or by the nearest due date, and
//! searched without diacritics or case. Quick filters with their counts pick the files
//! not sent, in conflict, returned by the office or refused by the server; stage and
//! branch are one tap further. Files the office merged into another are hidden unless
//! asked for, and marked as merged. Each row shows the file's sync state and names what
//! is due. Only the first rows are drawn, so a phone with thousands of files stays
//! quick; "show more" draws the next ones. The first row sits above the fold of a
//! 360×740 phone.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use shared::stage::Stage;
use shared::text::fold;

use crate::i18n::{Lang, lang, show_date, tr, tr_s};
use crate::model::{Row, Screen, go, today, use_ui};
use shared::deadlines::short_label;

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

/// Which files the list shows by their place in the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// Still in progress: neither official members nor stopped.
    Active,
    Official,
    Stopped,
    All,
}

impl Scope {
    fn code(self) -> &'static str {
        match self {
            Scope::Active => "active",
            Scope::Official => "official",
            Scope::Stopped => "stopped",
            Scope::All => "all",
        }
    }

    fn from_code(c: &str) -> Scope {
        match c {
            "official" => Scope::Official,
            "stopped" => Scope::Stopped,
            "all" => Scope::All,
            _ => Scope::Active,
        }
    }

    fn holds(self, s: Stage) -> bool {
        match self {
            Scope::Active => s != Stage::Official && s != Stage::Stopped,
            Scope::Official => s == Stage::Official,
            Scope::Stopped => s == Stage::Stopped,
            Scope::All => true,
        }
    }
}

/// The quick filters, each a checkbox drawn as a chip with its count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quick {
    Unsent,
    Conflict,
    Returned,
    Refused,
    Blocking,
    Due,
    Merged,
}

impl Quick {
    const ALL: [Quick; 7] = [
        Quick::Unsent,
        Quick::Conflict,
        Quick::Returned,
        Quick::Refused,
        Quick::Blocking,
        Quick::Due,
        Quick::Merged,
    ];

    fn name(self) -> &'static str {
        match self {
            Quick::Unsent => "unsent",
            Quick::Conflict => "conflict",
            Quick::Returned => "returned",
            Quick::Refused => "refused",
            Quick::Blocking => "blocking",
            Quick::Due => "due",
            Quick::Merged => "merged",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Quick::Unsent => tr("Chưa gửi", "Not sent"),
            Quick::Conflict => tr("Xung đột", "Conflict"),
            Quick::Returned => tr("Bị trả lại", "Returned"),
            Quick::Refused => tr("Bị từ chối", "Refused"),
            Quick::Blocking => tr("Có vướng mắc chặn", "Blocking findings"),
            Quick::Due => tr("Đến hạn trong 14 ngày", "Due within 14 days"),
            Quick::Merged => tr("Cả hồ sơ đã gộp", "Also merged files"),
        }
    }

    /// Whether a row passes this filter (`Merged` widens instead: see the list).
    fn keeps(self, r: &Row, horizon: shared::date::Date) -> bool {
        match self {
            Quick::Unsent => r.unsynced_since.is_some(),
            Quick::Conflict => r.s.conflicts > 0,
            Quick::Returned => r.s.returned,
            Quick::Refused => r.rejected.is_some(),
            Quick::Blocking => r.s.blocking > 0,
            Quick::Due => r.s.next_due.is_some_and(|d| d <= horizon),
            Quick::Merged => true,
        }
    }
}

#[component]
pub fn CaseList() -> impl IntoView {
    let u = use_ui();
    let q = RwSignal::new(String::new());
    let scope = RwSignal::new(Scope::Active);
    let stage = RwSignal::new(String::new());
    let org = RwSignal::new(String::new());
    let by_due = RwSignal::new(false);
    let quick = RwSignal::new(Vec::<Quick>::new());
    let shown = RwSignal::new(PAGE);
    let org_names = Memo::new(move |_| {
        u.orgs.with(|o| {
            o.iter()
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect::<HashMap<_, _>>()
        })
    });
    let on = move |k: Quick| quick.with(|v| v.contains(&k));
    let toggle = move |k: Quick, checked: bool| {
        quick.update(|v| {
            v.retain(|x| *x != k);
            if checked {
                v.push(k);
            }
        });
        shown.set(PAGE);
    };
    // Rows of the chosen scope and search, before the quick filters: their counts.
    let base = Memo::new_with_compare(
        move |_| {
            let needle = fold(&q.get());
            let scope = scope.get();
            let stage = stage.get();
            let org = org.get();
            let merged = on(Quick::Merged);
            u.rows.with(|rows| {
                rows.iter()
                    .filter(|r| merged || r.s.merged_into.is_empty())
                    .filter(|r| scope.holds(r.stage))
                    .filter(|r| needle.is_empty() || r.folded.contains(&needle))
                    .filter(|r| stage.is_empty() || r.stage.code() == stage)
                    .filter(|r| org.is_empty() || r.s.org_id == org)
                    .cloned()
                    .collect::<Vec<Arc<Row>>>()
            })
        },
        rows_changed,
    );
    let filtered = Memo::new_with_compare(
        move |_| {
            let horizon = today().add_days(14);
            let chosen = quick.get();
            let mut v: Vec<Arc<Row>> = base.with(|rows| {
                rows.iter()
                    .filter(|r| chosen.iter().all(|k| k.keeps(r, horizon)))
                    .cloned()
                    .collect()
            });
            if by_due.get() {
                // Nearest due first; files with nothing due go last, by name.
                v.sort_by(|a, b| {
                    (a.s.next_due.is_none(), a.s.next_due, &a.key, &a.id).cmp(&(
                        b.s.next_due.is_none(),
                        b.s.next_due,
                        &b.key,
                        &b.id,
                    ))
                });
            } else {
                v.sort_by(|a, b| a.key.cmp(&b.key).then_with(|| a.id.cmp(&b.id)));
            }
            v
        },
        rows_changed,
    );
    let quick_count = move |k: Quick| {
        let horizon = today().add_days(14);
        if k == Quick::Merged {
            return u
                .rows
                .with(|rows| rows.iter().filter(|r| !r.s.merged_into.is_empty()).count());
        }
        base.with(|rows| rows.iter().filter(|r| k.keeps(r, horizon)).count())
    };
    let scope_count = move |s: Scope| {
        u.rows.with(|rows| {
            rows.iter()
                .filter(|r| r.s.merged_into.is_empty() && s.holds(r.stage))
                .count()
        })
    };
    let total = move || u.rows.with(Vec::len);
    let count = move || filtered.with(Vec::len);
    let narrowed = move || {
        !q.with(String::is_empty)
            || !stage.with(String::is_empty)
            || !org.with(String::is_empty)
            || quick.with(|v| v.iter().any(|k| *k != Quick::Merged))
            || scope.get() != Scope::All
    };
    let reset = move |_| {
        q.set(String::new());
        stage.set(String::new());
        org.set(String::new());
        quick.set(Vec::new());
        scope.set(Scope::All);
        shown.set(PAGE);
    };
    let branch_options = move || {
        u.orgs.with(|o| {
            o.iter()
                .filter(|o| o.kind == "branch" || o.kind == "sub_branch")
                .map(|o| (o.id.clone(), o.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let more_label = move || {
        let n =
            usize::from(!stage.with(String::is_empty)) + usize::from(!org.with(String::is_empty));
        let base = tr("Lọc theo bước, chi bộ", "Filter by stage, branch");
        if n > 0 {
            format!("{base} ({n})")
        } else {
            base.to_string()
        }
    };
    view! {
        <section class="list">
            <div class="list-head">
                <h2>{move || tr("Hồ sơ", "Case files")}</h2>
                <p class="count" data-testid="count" aria-live="polite">
                    {move || format!("{} / {} {}", crate::i18n::count(count() as i64), crate::i18n::count(total() as i64), tr("hồ sơ", "case files"))}
                </p>
                <button class="primary" data-testid="new-case" on:click=move |_| go(Screen::New)>
                    {move || tr("+ Hồ sơ mới", "+ New case file")}
                </button>
            </div>
            <div class="filters">
                <input type="search" name="q" class="search" autocomplete="off"
                    aria-label=move || tr("Tìm hồ sơ theo tên", "Search case files by name")
                    placeholder=move || tr("Tìm theo tên", "Search by name")
                    prop:value=move || q.get()
                    on:input=move |ev| { q.set(event_target_value(&ev)); shown.set(PAGE); }/>
                <div class="view-row">
                    <label class="inline">
                        <span class="sr-only">{move || tr("Hiện hồ sơ", "Show files")}</span>
                        <select name="view" data-testid="scope"
                            prop:value=move || scope.get().code().to_string()
                            on:change=move |ev| { scope.set(Scope::from_code(&event_target_value(&ev))); shown.set(PAGE); }>
                            {[Scope::Active, Scope::Official, Scope::Stopped, Scope::All].into_iter().map(|s| view! {
                                <option value=s.code()>{move || format!("{} ({})", match s {
                                    Scope::Active => tr("Đang làm", "In progress"),
                                    Scope::Official => tr("Đảng viên chính thức", "Official members"),
                                    Scope::Stopped => tr("Đã dừng", "Stopped"),
                                    Scope::All => tr("Tất cả", "All"),
                                }, scope_count(s))}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="inline">
                        <span class="sr-only">{move || tr("Sắp xếp", "Sort")}</span>
                        <select name="sort" data-testid="sort"
                            prop:value=move || if by_due.get() { "due" } else { "name" }
                            on:change=move |ev| by_due.set(event_target_value(&ev) == "due")>
                            <option value="name">{move || tr("Xếp theo tên", "Sort by name")}</option>
                            <option value="due">{move || tr("Xếp theo hạn gần nhất", "Sort by nearest due date")}</option>
                        </select>
                    </label>
                </div>
                <div class="chips" role="group" aria-label=move || tr("Lọc nhanh", "Quick filters")>
                    {Quick::ALL.into_iter().map(|k| view! {
                        <label class="chip" class:on=move || on(k)>
                            <input type="checkbox" name=k.name()
                                prop:checked=move || on(k)
                                on:change=move |ev| toggle(k, event_target_checked(&ev))/>
                            <span>{move || format!("{} ({})", k.label(), quick_count(k))}</span>
                        </label>
                    }).collect_view()}
                </div>
                <details class="more-filters">
                    <summary>{more_label}</summary>
                    <label>
                        <span>{move || tr("Bước", "Stage")}</span>
                        <select name="stage" prop:value=move || stage.get() on:change=move |ev| stage.set(event_target_value(&ev))>
                            <option value="">{move || tr("Mọi bước", "All stages")}</option>
                            {Stage::ALL.into_iter().map(|s| view! {
                                <option value=s.code()>{move || stage_label(s)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label>
                        <span>{move || tr("Chi bộ", "Branch")}</span>
                        <select name="org" prop:value=move || org.get() on:change=move |ev| org.set(event_target_value(&ev))>
                            <option value="">{move || tr("Mọi chi bộ", "All branches")}</option>
                            {move || branch_options().into_iter().map(|(id, n)| view! {
                                <option value=id>{n}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </details>
            </div>
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
                            let (vi, en) = short_label(&r.s.next_due_code);
                            let what = tr_s(vi, en);
                            let text = if overdue {
                                format!("{what}: {} {}", tr("quá hạn", "overdue since"), show_date(Some(d)))
                            } else {
                                format!("{what}: {} {}", tr("hạn", "due"), show_date(Some(d)))
                            };
                            view! { <span class={if overdue { "due overdue" } else { "due" }} data-testid="due">{text}</span> }
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
                <div class="empty" data-testid="empty">
                    <p>{move || tr(
                        "Chưa có hồ sơ nào trên máy. Bấm «Đồng bộ» để nhận hồ sơ của đơn vị, hoặc tạo hồ sơ mới.",
                        "No case files on this device yet. Press «Sync» to receive your unit's files, or create one.")}</p>
                    <button on:click=move |_| crate::sync::now()>{move || tr("Đồng bộ", "Sync")}</button>
                </div>
            </Show>
            <Show when=move || { total() > 0 && count() == 0 }>
                <div class="empty" data-testid="empty">
                    <p>{move || {
                        let q = q.get();
                        if q.trim().is_empty() {
                            tr("Không có hồ sơ nào khớp các bộ lọc đang chọn.", "No case file matches the chosen filters.").to_string()
                        } else {
                            match lang() {
                                Lang::Vi => format!("Không có hồ sơ nào khớp «{}» với các bộ lọc đang chọn. Thử gõ ít chữ hơn (có dấu hay không đều được), xem «Tất cả», hoặc tạo hồ sơ mới.", q.trim()),
                                Lang::En => format!("No case file matches «{}» with the chosen filters. Try fewer letters (diacritics are optional), look under «All», or create a new file.", q.trim()),
                            }
                        }
                    }}</p>
                    <Show when=narrowed>
                        <button data-testid="clear-filters" on:click=reset>{move || tr("Xem tất cả hồ sơ", "Show all case files")}</button>
                    </Show>
                    <button class="primary" on:click=move |_| go(Screen::New)>{move || tr("+ Hồ sơ mới", "+ New case file")}</button>
                </div>
            </Show>
            <Persistence/>
        </section>
    }
}

/// Whether the browser promised to keep the data, in plain words.
#[component]
fn Persistence() -> impl IntoView {
    let u = use_ui();
    move || {
        match u.persisted.get() {
        Some(true) => Some(view! {
            <p class="persist ok" data-testid="persist">{tr(
                "Dữ liệu được giữ an toàn trên máy này, kể cả khi máy đầy bộ nhớ.",
                "The data is kept safe on this device, even when its storage fills up.")}</p>
        }.into_any()),
        Some(false) => Some(view! {
            <p class="persist warn" data-testid="persist" role="note">{tr(
                "Khi máy đầy bộ nhớ, trình duyệt có thể xóa dữ liệu chưa gửi. Hãy thêm ứng dụng vào màn hình chính và đồng bộ thường xuyên.",
                "When the device runs out of storage, the browser may erase data not sent yet. Add the app to the home screen and sync often.")}</p>
        }.into_any()),
        None => None,
    }
    }
}

/// Whether a list of rows changed, told by the rows' pointers: a row that changed is a
/// new `Arc`, so comparing 10,000 rows field by field (what `PartialEq` would do on
/// every refresh) is not needed.
fn rows_changed(old: Option<&Vec<Arc<Row>>>, new: Option<&Vec<Arc<Row>>>) -> bool {
    match (old, new) {
        (Some(a), Some(b)) => {
            a.len() != b.len() || a.iter().zip(b).any(|(x, y)| !Arc::ptr_eq(x, y))
        }
        _ => true,
    }
}
