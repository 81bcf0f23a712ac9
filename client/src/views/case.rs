//! One case file: who it is, where it stands, what blocks it, what is due when, the
//! reviewer's return note and any conflicts, the "Chuyển bước" (advance) action, and
//! the forms for every fact, grouped by stage. Every finding, conflict and refusal
//! names its field and takes the cadre there in one tap (its section opened, the
//! field focused); "Việc cần làm tiếp" is the checklist of the facts the current stage
//! still lacks and the nearest deadline someone must act on. A file the office merged into another
//! says so and links to the file kept; otherwise files on the device that may be the
//! same person are listed.
//!
//! The stage is derived from the facts, so advancing means recording the key fact of
//! the next stage (for example the ceremony date). The action is refused while a
//! blocking finding stands, and the refusal lists those findings with their sources.

use leptos::prelude::*;
use serde_json::Value as Json;
use shared::deadlines::{next_real_deadline, short_label};
use shared::model::CaseFile;
use shared::rules::{Finding, Severity};
use shared::stage::Stage;
use shared::sync::DocId;

use crate::device::duplicates;
use crate::i18n::{Lang, bilingual, count, lang, parse_vn_date, percent, show_date, tr, tr_s};
use crate::model::{self, DocView, Screen, go, json_at, today, use_ui, with};
use crate::views::duplicates::DuplicateWarning;
use crate::views::field::FieldInput;
use crate::views::list::{stage_label, sync_badge};
use shared::schema::{
    ListDef, SECTIONS, Section, fact_recorded, field_by_pattern, key_fact, list_by_path,
    path_label, pattern_of, stage_checklist,
};
use wasm_bindgen::JsCast;

#[component]
pub fn CaseScreen(id: DocId) -> impl IntoView {
    let u = use_ui();
    let view = {
        let id = id.clone();
        Memo::new(move |_| {
            u.doc_rev.get();
            // Opened before the chunks were read: look again once they are.
            u.loaded.get();
            with(|m| m.view(&id))
        })
    };
    let exists = move || view.with(Option::is_some);
    let id2 = id.clone();
    view! {
        <Show when=exists fallback=move || view! {
            <section class="card">
                <p>{move || if u.hydrated.get() {
                    tr("Không tìm thấy hồ sơ này trên máy.", "This case file is not on this device.")
                } else {
                    tr("Đang mở…", "Opening…")
                }}</p>
                <button on:click=move |_| go(Screen::List)>{move || tr("← Về danh sách", "← Back to the list")}</button>
            </section>
        }>
            <CaseBody id=id2.clone() view=view/>
        </Show>
    }
}

#[component]
fn CaseBody(id: DocId, view: Memo<Option<DocView>>) -> impl IntoView {
    let u = use_ui();
    let name = move || {
        view.with(|v| {
            v.as_ref()
                .map(|v| v.case.person.full_name.clone())
                .unwrap_or_default()
        })
    };
    let stage = move || view.with(|v| v.as_ref().map(|v| v.eval.stage).unwrap_or(Stage::Source));
    let branch = move || {
        let org = view.with(|v| {
            v.as_ref()
                .map(|v| v.case.org_id.clone())
                .unwrap_or_default()
        });
        u.orgs.with(|o| {
            o.iter()
                .find(|x| x.id == org)
                .map(|x| x.name.clone())
                .unwrap_or(org)
        })
    };
    let badge = move || {
        view.with(|v| {
            v.as_ref().map(|v| {
                let (label, class) = sync_badge(v.unsynced_since.is_some(), v.conflicts.len() as u32, v.rejected.is_some());
                let detail = v.rejected.as_ref().map(|(vi, en)| tr_s(vi, en));
                view! { <span class=class data-testid="doc-state">{label}</span> {detail.map(|d| view! { <span class="refusal">{d}</span> })} }
            })
        })
    };
    let saving = move || u.saving.get() > 0;
    // The person as saved, for the duplicate warning (none on a merged file: it points
    // to the file kept instead).
    let probe = Signal::derive(move || {
        view.with(|v| {
            v.as_ref()
                .filter(|v| v.review.merged_into.is_empty())
                .map(|v| {
                    let p = &v.case.person;
                    duplicates::probe(&v.case.org_id, &p.full_name, p.birth_date, &p.id_number)
                })
        })
    });
    let sections = SECTIONS
        .iter()
        .map(|s| view! { <SectionForm id=id.clone() section=s view=view/> })
        .collect_view();
    view! {
        <article class="case">
            <nav class="crumbs">
                <a href="#/" on:click=move |ev| { ev.prevent_default(); go(Screen::List); }>
                    {move || tr("← Danh sách hồ sơ", "← Case files")}
                </a>
                <span class="saved">{move || if saving() { tr("Đang lưu…", "Saving…") } else { tr("Đã lưu trên máy", "Saved on this device") }}</span>
            </nav>
            <header class="case-head">
                <h2 data-testid="case-name">{name}</h2>
                <p>
                    <span class="stage-badge" data-testid="stage">{move || stage_label(stage())}</span>
                    " · " {branch} " · " {badge}
                </p>
            </header>
            <MergedNote view=view/>
            <DuplicateWarning probe=probe except=id.clone()/>
            <ReviewNote view=view/>
            <ConflictSummary view=view/>
            <Advance id=id.clone() view=view/>
            <NextActions view=view/>
            <Findings view=view/>
            <div class="sections">{sections}</div>
        </article>
    }
}

/// The office merged this file into another (the same person): where to go instead.
#[component]
fn MergedNote(view: Memo<Option<DocView>>) -> impl IntoView {
    let u = use_ui();
    move || {
        let into = view.with(|v| {
            v.as_ref()
                .map(|v| v.review.merged_into.clone())
                .filter(|m| !m.is_empty())
        })?;
        let survivor = DocId::try_from(into).ok();
        let name = survivor.as_ref().and_then(|s| {
            u.rows
                .with(|rows| rows.iter().find(|r| &r.id == s).map(|r| r.s.name.clone()))
        });
        let target = match (survivor, name) {
            (Some(s), Some(name)) => {
                let href = format!("#/c/{s}");
                view! {
                    <p>
                        {tr("Hồ sơ này đã được gộp vào hồ sơ", "This file was merged into the file of")} " "
                        <a href=href data-testid="open-survivor"
                            on:click=move |ev| { ev.prevent_default(); go(Screen::Case(s.clone())); }>
                            {format!("«{name}»")}
                        </a>
                        "."
                    </p>
                }
                .into_any()
            }
            _ => view! {
                <p>{tr(
                    "Hồ sơ này đã được gộp vào một hồ sơ khác. Hồ sơ đó chưa có trên máy: nó sẽ có sau lần đồng bộ tới nếu thuộc phạm vi của bạn.",
                    "This file was merged into another file, not on this device yet: it will appear after the next sync if it is in your scope.")}</p>
            }
            .into_any(),
        };
        Some(view! {
            <div class="merged-note" role="note" data-testid="merged-note">
                {target}
                <small>{tr(
                    "Cấp trên đã gộp hai hồ sơ của cùng một người. Hãy làm tiếp trên hồ sơ được giữ lại; những gì còn ghi vào hồ sơ này vẫn được gửi lên để cấp trên xem.",
                    "The office merged two files of the same person. Carry on in the file kept; anything still recorded here is sent to the office to review.")}</small>
            </div>
        })
    }
}

#[component]
fn ReviewNote(view: Memo<Option<DocView>>) -> impl IntoView {
    move || {
        view.with(|v| {
            v.as_ref().filter(|v| v.review.returned).map(|v| {
                let r = v.review.clone();
                let at = r.at.parse::<shared::date::Date>().map(|d| d.format_vn()).unwrap_or(r.at.clone());
                view! {
                    <div class="review-note" data-testid="review-note" role="note">
                        <strong>{tr("Cấp trên trả lại hồ sơ để bổ sung:", "Returned by the reviewer:")}</strong>
                        <p>{format!("«{}»", r.comment)}</p>
                        <small>{format!("{} — {}", r.by, at)}</small>
                    </div>
                }
            })
        })
    }
}

#[component]
fn ConflictSummary(view: Memo<Option<DocView>>) -> impl IntoView {
    move || {
        view.with(|v| {
            v.as_ref().and_then(|v| {
                let n = v.conflicts.len();
                let r = v.resolved.len();
                if n == 0 && r == 0 {
                    return None;
                }
                let items = v
                    .conflicts
                    .iter()
                    .map(|c| {
                        let (vi, en) = path_label(&c.path);
                        let path = c.path.clone();
                        view! {
                            <li>
                                <button type="button" class="goto" data-testid="goto-conflict" data-conflict=c.path.clone()
                                    on:click=move |_| go_to_field(&path)>
                                    {format!("{} →", tr_s(&vi, &en))}
                                </button>
                            </li>
                        }
                    })
                    .collect_view();
                Some(view! {
                    <div class={if n > 0 { "conflict-summary" } else { "conflict-summary done" }} data-testid="conflict-summary">
                        {(n > 0).then(|| match lang() {
                            Lang::Vi => format!("{n} trường đang xung đột. Người duyệt sẽ chọn giá trị đúng; bấm vào một trường để xem các giá trị."),
                            Lang::En if n == 1 => "1 field is in conflict. The reviewer will choose the right value; tap it to see the values.".to_string(),
                            Lang::En => format!("{n} fields are in conflict. The reviewer will choose the right value; tap one to see the values."),
                        })}
                        {(n > 0).then(|| view! { <ul class="goto-list">{items}</ul> })}
                        {(r > 0).then(|| match lang() {
                            Lang::Vi => format!(" {r} trường đã được giải quyết."),
                            Lang::En if r == 1 => " 1 field was resolved.".to_string(),
                            Lang::En => format!(" {r} fields were resolved."),
                        })}
                    </div>
                })
            })
        })
    }
}

/// The next stage in the pipeline, if the case can move on by recording a fact.
fn next_stage(s: Stage) -> Option<Stage> {
    match s {
        Stage::Official | Stage::Stopped => None,
        s => Stage::ALL.get(s.index() as usize + 1).copied(),
    }
}

/// Whether a finding is about the fact the advance form itself records.
fn about_key(f: &Finding, key: &str) -> bool {
    if key == "branch_votes" {
        f.field.starts_with("branch_votes")
    } else {
        f.field == key
    }
}

/// The label of the field a finding or checklist item is about, if the forms show it.
fn pattern_label(pattern: &str) -> Option<String> {
    if field_by_pattern(pattern).is_none() && list_by_path(pattern).is_none() {
        return None;
    }
    let (vi, en) = path_label(pattern);
    Some(tr_s(&vi, &en))
}

/// Brings a field into view and focuses it: opens its section, and for a pattern of a
/// list ("branch_votes[].present") picks the latest record, or the button that adds
/// one when the list is empty. A concrete path ("branch_votes.0.present") is used as is.
pub fn go_to_field(path_or_pattern: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let pattern = pattern_of(path_or_pattern);
    let mut selectors = Vec::new();
    if !path_or_pattern.contains("[]") {
        selectors.push(format!(
            r#":is(input, select)[data-path="{path_or_pattern}"]"#
        ));
    }
    if let Some((list, _)) = pattern.split_once("[].") {
        selectors.push(format!(
            r#"[data-list="{list}"] > fieldset.item:last-of-type .field[data-pattern="{pattern}"] :is(input, select)"#
        ));
        selectors.push(format!(r#"[data-list="{list}"] > button.add"#));
    } else {
        selectors.push(format!(
            r#"[data-list="{pattern}"] > fieldset.item:last-of-type :is(input, select)"#
        ));
        selectors.push(format!(r#"[data-list="{pattern}"] > button.add"#));
    }
    let Some(el) = selectors
        .iter()
        .find_map(|sel| doc.query_selector(sel).ok().flatten())
    else {
        return;
    };
    if let Ok(Some(details)) = el.closest("details") {
        let _ = details.set_attribute("open", "");
    }
    el.scroll_into_view_with_bool(true);
    if let Ok(h) = el.dyn_into::<web_sys::HtmlElement>() {
        let _ = h.focus();
    }
}

/// "R16 · 294-QĐ/TW §3.2": the rule and its source, each only when there is one; both
/// apps name a rule the same way.
fn rule_line(f: &Finding) -> Option<String> {
    let parts: Vec<&str> = [f.rule_name(), f.source_name()]
        .into_iter()
        .flatten()
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn finding_item(f: &Finding) -> impl IntoView + use<> {
    let msg = tr_s(&f.message_vi, &f.message_en);
    let src = rule_line(f);
    let field = f.field;
    let go = pattern_label(field).map(|label| {
        view! {
            <button type="button" class="goto" data-testid="goto-field" data-field=field
                on:click=move |_| go_to_field(field)>
                {format!("{} {label} →", tr("Đến", "Go to"))}
            </button>
        }
    });
    view! {
        <li data-code=f.code>
            <span class="msg">{msg}</span>
            {go}
            {src.map(|s| view! { <small class="src">{s}</small> })}
        </li>
    }
}

#[component]
fn Advance(id: DocId, view: Memo<Option<DocView>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let date = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let refused = RwSignal::new(Vec::<Finding>::new());
    let done = RwSignal::new(None::<Stage>);
    // A date after today is almost always a slip: asked once, then accepted as typed.
    let future_asked = RwSignal::new(None::<shared::date::Date>);
    let future_ok = RwSignal::new(None::<shared::date::Date>);
    let current = move || view.with(|v| v.as_ref().map(|v| v.eval.stage));
    let next = move || current().and_then(next_stage);
    let blocking_now = move |key: &str| {
        view.with(|v| {
            v.as_ref()
                .map(|v| {
                    v.eval
                        .findings
                        .iter()
                        .filter(|f| f.severity == Severity::Blocking && !about_key(f, key))
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let start = move |_: leptos::ev::MouseEvent| {
        done.set(None);
        error.set(None);
        let Some((key, _, _)) = next().and_then(key_fact) else {
            return;
        };
        let blocking = blocking_now(key);
        if blocking.is_empty() {
            refused.set(Vec::new());
            open.set(true);
        } else {
            open.set(false);
            refused.set(blocking);
        }
    };
    let confirm = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let Some(target) = next() else { return };
            let Some((key, _, _)) = key_fact(target) else {
                return;
            };
            let d = match parse_vn_date(&date.get_untracked()) {
                Ok(d) => d,
                Err(e) => {
                    error.set(Some(bilingual(e)));
                    return;
                }
            };
            error.set(None);
            if d > today() && future_ok.get_untracked() != Some(d) {
                future_asked.set(Some(d));
                return;
            }
            future_asked.set(None);
            let Some(case) = view.with_untracked(|v| v.as_ref().map(|v| v.case.clone())) else {
                return;
            };
            let Some(votes_len) =
                view.with_untracked(|v| v.as_ref().map(|v| v.case.branch_votes.len()))
            else {
                return;
            };
            // Judge the case as it would be with the date recorded, before writing it.
            let Some(tentative) = with_key(&case, key, d) else {
                return;
            };
            let eval = with(|m| m.evaluate(&tentative));
            let against: Vec<Finding> = eval
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Blocking && about_key(f, key))
                .cloned()
                .collect();
            if !against.is_empty() {
                refused.set(against);
                return;
            }
            if key == "branch_votes" {
                let mut vote = serde_json::Map::new();
                vote.insert("meeting_date".into(), Json::String(d.to_string()));
                model::edit_and_save(
                    &id,
                    &format!("branch_votes.{votes_len}"),
                    Json::Object(vote),
                );
            } else {
                model::edit_and_save(&id, key, Json::String(d.to_string()));
            }
            open.set(false);
            refused.set(Vec::new());
            date.set(String::new());
            future_ok.set(None);
            done.set(Some(target));
        }
    };
    view! {
        <section class="advance card">
            {move || match next() {
                None => view! { <p class="muted">{tr("Hồ sơ đã ở bước cuối.", "The file is at its last stage.")}</p> }.into_any(),
                Some(n) => view! {
                    <div class="advance-row">
                        <span>{format!("{} → {}", stage_label(current().unwrap_or(Stage::Source)), stage_label(n))}</span>
                        <button class="primary" data-testid="advance" on:click=start>{tr("Chuyển bước", "Move forward")}</button>
                    </div>
                }.into_any(),
            }}
            {move || (!refused.with(Vec::is_empty)).then(|| view! {
                <div class="refused" role="alert" data-testid="advance-refused">
                    <strong>{move || format!("{} «{}»: {}",
                        tr("Chưa thể chuyển sang bước", "Cannot move to"),
                        next().map(stage_label).unwrap_or_default(),
                        tr("còn vướng mắc chặn sau đây.", "these blocking findings stand."))}</strong>
                    <ul>{move || refused.get().iter().map(finding_item).collect_view()}</ul>
                </div>
            })}
            <Show when=move || open.get()>
                <form class="advance-form" on:submit=confirm.clone()>
                    <label>
                        <span>{move || next().and_then(key_fact).map(|(_, vi, en)| tr(vi, en)).unwrap_or_default()}</span>
                        <input name="advance_date" inputmode="numeric" placeholder="dd/mm/yyyy" required autocomplete="off"
                            prop:value=move || date.get()
                            on:input=move |ev| { date.set(event_target_value(&ev)); future_asked.set(None); }/>
                    </label>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    {move || future_asked.get().map(|d| view! {
                        <div class="future-date" role="alert" data-testid="future-date">
                            <p>{match lang() {
                                Lang::Vi => format!("Ngày {} là sau hôm nay ({}). Kiểm tra lại năm, ngày và tháng. Vẫn ghi ngày này?", show_date(Some(d)), show_date(Some(today()))),
                                Lang::En => format!("{} is after today ({}). Check the year, day and month. Record this date anyway?", show_date(Some(d)), show_date(Some(today()))),
                            }}</p>
                            <button type="submit" class="primary" data-testid="future-date-ok"
                                on:click=move |_| future_ok.set(Some(d))>
                                {tr("Đúng, ghi ngày này", "Yes, record this date")}
                            </button>
                        </div>
                    })}
                    <div class="actions">
                        <button type="button" on:click=move |_| { open.set(false); future_asked.set(None); }>{move || tr("Hủy", "Cancel")}</button>
                        <button type="submit" class="primary">{move || tr("Xác nhận chuyển bước", "Confirm")}</button>
                    </div>
                </form>
            </Show>
            {move || done.get().map(|s| view! {
                <p class="ok" role="status">{format!("{} «{}».", tr("Đã chuyển sang bước", "Moved to"), stage_label(s))}</p>
            })}
        </section>
    }
}

/// The case with the key fact of a stage recorded (a new branch vote for `branch_votes`).
fn with_key(case: &CaseFile, key: &str, d: shared::date::Date) -> Option<CaseFile> {
    let mut j = serde_json::to_value(case).ok()?;
    if key == "branch_votes" {
        let vote = serde_json::json!({ "meeting_date": d.to_string() });
        j.get_mut("branch_votes")?.as_array_mut()?.push(vote);
    } else {
        let ptr = format!("/{}", key.replace('.', "/"));
        *j.pointer_mut(&ptr)? = Json::String(d.to_string());
    }
    serde_json::from_value(j).ok()
}

/// "Việc cần làm tiếp": the nearest deadline someone must act on, then the checklist of
/// the facts the current stage still lacks (each a link to its field), then the step
/// that moves the file on.
#[component]
fn NextActions(view: Memo<Option<DocView>>) -> impl IntoView {
    move || {
        view.with(|v| {
            v.as_ref().map(|v| {
                let today = today();
                let stage = v.eval.stage;
                let due = next_real_deadline(&v.eval.deadlines, today).cloned();
                let items: Vec<(&'static str, bool)> = stage_checklist(stage)
                    .iter()
                    .map(|p| (*p, fact_recorded(&v.json, p)))
                    .collect();
                let missing = items.iter().filter(|(_, done)| !done).count();
                let deadlines = v.eval.deadlines.clone();
                let next_step = next_stage(stage).and_then(|n| key_fact(n).map(|k| (n, k)));
                let due_line = due.map(|d| {
                    let left = today.days_until(d.due);
                    let (vi, en) = short_label(d.code);
                    let when = if d.overdue {
                        match lang() {
                            Lang::Vi => format!("quá hạn từ {} ({} ngày)", show_date(Some(d.due)), count(i64::from(-left))),
                            Lang::En => format!("overdue since {} ({} days)", show_date(Some(d.due)), count(i64::from(-left))),
                        }
                    } else {
                        match lang() {
                            Lang::Vi => format!("hạn {} (còn {} ngày)", show_date(Some(d.due)), count(i64::from(left))),
                            Lang::En => format!("due {} ({} days left)", show_date(Some(d.due)), count(i64::from(left))),
                        }
                    };
                    view! {
                        <p class={if d.overdue { "next-due overdue" } else { "next-due" }} data-testid="next-due">
                            <strong>{tr_s(vi, en)}</strong>": " {when}
                        </p>
                    }
                });
                let checklist = items.into_iter().map(|(p, done)| {
                    let label = pattern_label(p).unwrap_or_default();
                    view! {
                        <li class:done=done data-pattern=p>
                            <span class="box" aria-hidden="true">{if done { "✓" } else { "○" }}</span>
                            {if done {
                                view! { <span>{label}</span> <span class="sr-only">{tr(" (đã có)", " (recorded)")}</span> }.into_any()
                            } else {
                                view! {
                                    <button type="button" class="goto" on:click=move |_| go_to_field(p)>
                                        {format!("{label} →")}
                                    </button>
                                    <span class="sr-only">{tr(" (còn thiếu)", " (missing)")}</span>
                                }.into_any()
                            }}
                        </li>
                    }
                }).collect_view();
                view! {
                    <section class="card next" data-testid="next-actions">
                        <h3>{tr("Việc cần làm tiếp", "Next actions")}</h3>
                        {due_line}
                        <p class="muted checklist-head">{match (lang(), missing) {
                            (Lang::Vi, 0) => format!("Bước «{}»: đã ghi đủ các thông tin cần có.", stage_label(stage)),
                            (Lang::Vi, n) => format!("Bước «{}»: còn thiếu {n} thông tin.", stage_label(stage)),
                            (Lang::En, 0) => format!("Stage «{}»: every fact it needs is recorded.", stage_label(stage)),
                            (Lang::En, 1) => format!("Stage «{}»: 1 fact is missing.", stage_label(stage)),
                            (Lang::En, n) => format!("Stage «{}»: {n} facts are missing.", stage_label(stage)),
                        }}</p>
                        <ul class="checklist" data-testid="checklist">{checklist}</ul>
                        {next_step.map(|(n, (_, vi, en))| view! {
                            <p class="then">{match lang() {
                                Lang::Vi => format!("Sau đó: bấm «Chuyển bước» và ghi «{vi}» để sang bước «{}».", stage_label(n)),
                                Lang::En => format!("Then: press «Move forward» and record «{en}» to reach «{}».", stage_label(n)),
                            }}</p>
                        })}
                        {(!deadlines.is_empty()).then(|| view! {
                            <details>
                                <summary>{tr("Tất cả các mốc hạn", "All deadlines")}</summary>
                                <table class="deadlines">
                                    <caption class="sr-only">{tr("Các mốc hạn của hồ sơ", "Deadlines of the file")}</caption>
                                    <thead><tr>
                                        <th scope="col">{tr("Việc", "What")}</th>
                                        <th scope="col">{tr("Hạn", "Due")}</th>
                                        <th scope="col">{tr("Tình trạng", "State")}</th>
                                        <th scope="col">{tr("Căn cứ", "Source")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {deadlines.into_iter().map(|d| view! {
                                            <tr class:overdue=d.overdue class:done=d.done>
                                                <td>{tr(d.label_vi, d.label_en)}</td>
                                                <td>{show_date(Some(d.due))}</td>
                                                <td>{if d.done { tr("đã xong", "done") } else if d.overdue { tr("quá hạn", "overdue") } else { tr("đang chờ", "open") }}</td>
                                                <td>{d.source}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </details>
                        })}
                    </section>
                }
            })
        })
    }
}

#[component]
fn Findings(view: Memo<Option<DocView>>) -> impl IntoView {
    let group = move |sev: Severity, vi: &'static str, en: &'static str, class: &'static str| {
        move || {
            let items: Vec<Finding> = view.with(|v| {
                v.as_ref()
                    .map(|v| {
                        v.eval
                            .findings
                            .iter()
                            .filter(|f| f.severity == sev)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default()
            });
            (!items.is_empty()).then(|| {
                view! {
                    <div class=class>
                        <h4>{format!("{} ({})", tr(vi, en), items.len())}</h4>
                        <ul>{items.iter().map(finding_item).collect_view()}</ul>
                    </div>
                }
            })
        }
    };
    let rule_set = move || {
        view.with(|v| {
            v.as_ref()
                .map(|v| v.eval.rule_set.version())
                .unwrap_or_default()
        })
    };
    view! {
        <section class="card findings" data-testid="findings">
            <h3>{move || tr("Kiểm tra theo quy định", "Rule checks")} " " <small class="muted">{rule_set}</small></h3>
            {move || view.with(|v| v.as_ref().is_some_and(|v| v.eval.findings.is_empty())).then(|| view! {
                <p class="ok">{tr("Không có vướng mắc nào theo quy định.", "No findings under the rules.")}</p>
            })}
            {group(Severity::Blocking, "Vướng mắc chặn chuyển bước", "Blocking", "f-blocking")}
            {group(Severity::Warning, "Cần xem lại", "Warnings", "f-warning")}
            {group(Severity::Info, "Thông tin", "Information", "f-info")}
        </section>
    }
}

#[component]
fn SectionForm(id: DocId, section: &'static Section, view: Memo<Option<DocView>>) -> impl IntoView {
    let stage = move || view.with(|v| v.as_ref().map(|v| v.eval.stage).unwrap_or(Stage::Source));
    // Whether a document path is one of this section's fields or records.
    let holds = |path: &str| {
        let p = pattern_of(path);
        field_by_pattern(&p).is_some_and(|(s, _, _)| std::ptr::eq(s, section))
            || section
                .lists
                .iter()
                .any(|l| p == l.path || p.starts_with(&format!("{}[]", l.path)))
    };
    // Conflicts among this section's fields: the section says so instead of ✓.
    let conflicts = move || {
        view.with(|v| {
            v.as_ref()
                .map(|v| v.conflicts.iter().filter(|c| holds(&c.path)).count())
                .unwrap_or(0)
        })
    };
    let resolved = move || {
        view.with(|v| {
            v.as_ref()
                .is_some_and(|v| v.resolved.iter().any(|c| holds(&c.path)))
        })
    };
    // The current stage's facts and the next stage's are open, and so is any section
    // holding a conflict or a field the reviewer settled; others are one tap away. A
    // section opened that way stays open (the cadre closes it).
    let open = RwSignal::new({
        let s = stage();
        section.stage == s || next_stage(s) == Some(section.stage)
    });
    Effect::new(move |_| {
        if (conflicts() > 0 || resolved()) && !open.get_untracked() {
            open.set(true);
        }
    });
    let fields = section
        .fields
        .iter()
        .map(|f| view! { <FieldInput id=id.clone() path=f.path.to_string() field=f view=view/> })
        .collect_view();
    let lists = section
        .lists
        .iter()
        .map(|l| view! { <ListForm id=id.clone() list=l view=view/> })
        .collect_view();
    view! {
        <details class="section" open=move || open.get() data-stage=section.stage.code()>
            <summary>
                {move || tr(section.vi, section.en)}
                {move || match conflicts() {
                    0 => (stage() > section.stage && stage() != Stage::Stopped && section.stage != Stage::Stopped)
                        .then(|| view! { <span class="done-mark">{tr(" ✓ đã qua", " ✓ done")}</span> }.into_any()),
                    n => Some(view! { <span class="conflict-mark">{match lang() {
                        Lang::Vi => format!(" ⚠ {n} xung đột"),
                        Lang::En if n == 1 => " ⚠ 1 conflict".to_string(),
                        Lang::En => format!(" ⚠ {n} conflicts"),
                    }}</span> }.into_any()),
                }}
            </summary>
            <div class="fields">{fields}</div>
            {lists}
        </details>
    }
}

#[component]
fn ListForm(id: DocId, list: &'static ListDef, view: Memo<Option<DocView>>) -> impl IntoView {
    let len = Memo::new(move |_| {
        view.with(|v| {
            v.as_ref()
                .and_then(|v| json_at(&v.json, list.path))
                .and_then(|j| j.as_array().map(Vec::len))
                .unwrap_or(0)
        })
    });
    let add = {
        let id = id.clone();
        move |_: leptos::ev::MouseEvent| {
            let n = len.get_untracked();
            let mut item = serde_json::Map::new();
            if list.votes {
                item.insert("attempt".into(), Json::from(n as u32 + 1));
            }
            model::edit_and_save(&id, &format!("{}.{n}", list.path), Json::Object(item));
        }
    };
    let items = {
        let id = id.clone();
        move || {
            (0..len.get())
                .map(|i| {
                    let fields = list
                        .fields
                        .iter()
                        .map(|f| {
                            view! { <FieldInput id=id.clone() path=format!("{}.{i}.{}", list.path, f.path) field=f view=view/> }
                        })
                        .collect_view();
                    let check = list.votes.then(|| view! { <VoteCheck path=format!("{}.{i}", list.path) view=view/> });
                    let id = id.clone();
                    let remove = move |_: leptos::ev::MouseEvent| {
                        let msg = tr("Xóa mục này?", "Remove this entry?");
                        let ok = web_sys::window().and_then(|w| w.confirm_with_message(msg).ok()).unwrap_or(false);
                        if ok {
                            model::delete_and_save(&id, &format!("{}.{i}", list.path));
                        }
                    };
                    view! {
                        <fieldset class="item">
                            <legend>{move || format!("{} {}", tr(list.item_vi, list.item_en), i + 1)}</legend>
                            <div class="fields">{fields}</div>
                            {check}
                            <button type="button" class="link danger" on:click=remove>{move || tr("Xóa", "Remove")}</button>
                        </fieldset>
                    }
                })
                .collect_view()
        }
    };
    view! {
        <div class="list-form" data-list=list.path>
            {items}
            <button type="button" class="add" on:click=add>
                {move || format!("+ {}", tr(list.item_vi, list.item_en))}
            </button>
        </div>
    }
}

/// Checks a vote's counts against each other as they are typed, and shows the share of
/// votes in favour against the two-thirds the rules require.
#[component]
fn VoteCheck(path: String, view: Memo<Option<DocView>>) -> impl IntoView {
    move || {
        let num = |k: &str| {
            view.with(|v| {
                v.as_ref()
                    .and_then(|v| json_at(&v.json, &format!("{path}.{k}")))
                    .and_then(|j| j.as_u64())
            })
        };
        let total = num("official_members_total");
        let excluded =
            num("excluded_temporary").unwrap_or(0) + num("excluded_exempt_absent").unwrap_or(0);
        let present = num("present");
        let yes = num("votes_for");
        let no = num("votes_against").unwrap_or(0);
        let invalid = num("invalid").unwrap_or(0);
        let mut problems: Vec<String> = Vec::new();
        if let (Some(t), Some(p)) = (total, present)
            && p > t
        {
            problems.push(format!(
                "{} ({p} > {t})",
                tr(
                    "Số có mặt lớn hơn tổng số đảng viên chính thức",
                    "More present than official members"
                )
            ));
        }
        if let Some(t) = total
            && excluded > t
        {
            problems.push(
                tr(
                    "Số được trừ lớn hơn tổng số đảng viên",
                    "More excluded than members",
                )
                .to_string(),
            );
        }
        if let Some(p) = present
            && yes.unwrap_or(0) + no + invalid > p
        {
            problems.push(format!(
                "{} ({} > {p})",
                tr(
                    "Tổng số phiếu lớn hơn số có mặt",
                    "More ballots than members present"
                ),
                yes.unwrap_or(0) + no + invalid
            ));
        }
        // The two-thirds test exactly as the rules compute it, with the province's setting.
        let vote: Option<shared::model::Vote> = view.with(|v| {
            v.as_ref()
                .and_then(|v| json_at(&v.json, &path))
                .and_then(|j| serde_json::from_value(j).ok())
        });
        let setting = with(|m| m.reference.rule_settings.vote_denominator);
        let share = vote.and_then(|vote| {
            let denom = shared::deadlines::vote_denominator(&vote, setting).filter(|d| *d > 0)?;
            let y = vote.votes_for?;
            let pct = percent(f64::from(y) * 100.0 / f64::from(denom));
            let pass = shared::deadlines::vote_passes(&vote, setting);
            Some(view! {
                <p class={if pass { "share pass" } else { "share fail" }}>
                    {format!("{}: {y}/{denom} = {pct} ({})", tr("Tán thành", "In favour"),
                        if pass { tr("đạt ít nhất 2/3", "at least two-thirds") } else { tr("chưa đạt 2/3", "below two-thirds") })}
                </p>
            })
        });
        view! {
            <div class="vote-check">
                {problems.into_iter().map(|p| view! { <p class="error">{p}</p> }).collect_view()}
                {share}
            </div>
        }
    }
}
