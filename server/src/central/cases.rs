//! The case files behind a figure, and one case file in full: every fact grouped as the
//! cadre's forms group them (votes, introducers and verifications included), findings
//! named by rule, deadlines, conflicts by field label, the reviewer's return note, and
//! its audit history with each field's label and its old → new value.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::model::CaseFile;
use shared::stage::Stage;

use maud::{Markup, html};

use super::{PageForm, PageQuery};
use super::{
    Reviewer, date, error_page, export_links, format_time, org_options, page, present, run_form,
    run_page,
};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::reports::{
    self, Admitted, CaseFilter, OrgIndex, Resolved, education_label, sector_label, stage_label,
    url_encode,
};
use crate::review::{self, ReportQuery, ReturnBody};
use shared::api::ErrorCode;

/// Rows shown on one page; the export holds them all.
const PAGE_ROWS: usize = 500;

pub async fn list(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        // Filters that cannot be read are said beside the form, and the list stays empty.
        let (filter, errors) = present::read_filter(&q, r.lang);
        let rows = if errors.is_empty() {
            reports::cases(&conn, &orgs, &r.caller, &filter, today_vn())?
        } else {
            Vec::new()
        };
        let root = reports::resolve_org(&orgs, &r.caller, filter.org_id())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let opts = org_options(&orgs, &scope, &root.id);
        // The period as the list reads it: a term by its recorded congress dates.
        let resolved = filter.resolve(&conn, &orgs, &root, today_vn()).ok();
        let classes = crate::classes::visible(&conn, &orgs, &scope)?;
        drop(conn);
        let l = r.lang;
        let f = &q.filter;
        let val = |o: &Option<String>| o.clone().unwrap_or_default();
        let select = |name: &str, current: &Option<String>, opts: Vec<(String, String)>| {
            super::select_field(name, current.as_deref(), &opts)
        };
        let check = |name: &str, current: &Option<String>, label: &str| {
            let on = matches!(current.as_deref(), Some("1" | "true" | "on" | "yes"));
            html! {
                label { input type="checkbox" name=(name) value="1" checked[on]; " " (label) }
            }
        };
        // Filters not on the form ride along as hidden fields so a search keeps them.
        let hidden = [
            ("sector", &f.sector),
            ("female", &f.female),
            ("minority", &f.minority),
            ("youth", &f.youth),
            ("age", &f.age),
            ("education", &f.education),
            ("class", &f.class),
            ("introduced", &f.introduced),
            ("code", &f.code),
            ("severity", &f.severity),
            ("returned", &f.returned),
        ];
        let h = html! {
            form.filters method="get" action="/central/cases" {
                @for (k, v) in hidden {
                    @if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                        input type="hidden" name=(k) value=(v);
                    }
                }
                label { (l.t("Họ tên", "Name")) input name="q" value=(val(&f.q)) placeholder="nguyen van an"; }
                label { (l.t("Tổ chức", "Organisation")) select name="org" { (opts) } }
                label { (l.t("Giai đoạn", "Stage"))
                    select name="stage" {
                        option value="" { (l.t("(mọi giai đoạn)", "(any stage)")) }
                        @for s in Stage::ALL {
                            option value=(s.code()) selected[f.stage.as_deref() == Some(s.code())] {
                                (l.t(s.label_vi(), s.label_en()))
                            }
                        }
                    }
                }
                label { (l.t("Năm", "Year")) input name="year" size="5" value=(val(&f.year)); }
                label { (l.t("Từ ngày", "From")) input name="from" size="10" value=(val(&f.from)); }
                label { (l.t("Đến ngày", "To")) input name="to" size="10" value=(val(&f.to)); }
                label { (l.t("Nhiệm kỳ", "Term")) input name="term" size="9" value=(val(&f.term)) placeholder="2025-2030"; }
                label { (l.t("Kết nạp", "Admitted"))
                    (select(
                        "admitted",
                        &f.admitted,
                        vec![
                            ("1".into(), l.t("Trong kỳ", "In the period").into()),
                            ("any".into(), l.t("Bất kỳ lúc nào", "At any time").into()),
                        ],
                    ))
                }
                label { (l.t("Nguồn", "Source"))
                    (select(
                        "source",
                        &f.source,
                        super::dashboard::source_options(l),
                    ))
                }
                label { (l.t("Nghề nghiệp", "Occupation"))
                    (select(
                        "occupation",
                        &f.occupation,
                        super::dashboard::occupation_options(l),
                    ))
                }
                label { (l.t("Lớp nhận thức", "Awareness class"))
                    (select(
                        "class_id",
                        &f.class_id,
                        classes
                            .iter()
                            .map(|c| (c.id.clone(), format!("{} ({})", c.name, c.start_date.format_vn())))
                            .collect(),
                    ))
                }
                (check(
                    "official",
                    &f.official,
                    l.t(
                        "Công nhận chính thức trong kỳ",
                        "Recognised as full members in the period",
                    ),
                ))
                (check(
                    "cohort",
                    &f.cohort,
                    l.t(
                        "Vào nguồn trong kỳ (khóa)",
                        "Entered the pipeline in the period (cohort)",
                    ),
                ))
                button { (l.t("Tìm", "Search")) }
            }
            (present::filter_errors_html(&errors, l))
            (describe(&r, &filter, &root.name, resolved.as_ref(), &classes))
            p { strong id="total" { (l.int(rows.len() as i64)) } " " (l.t("hồ sơ", "case files")) }
            (export_links(l, "cases", &filter.query_string()))
            table {
                tr {
                    th { "#" }
                    th { (l.t("Họ và tên", "Full name")) }
                    th { (l.t("Ngày sinh", "Born")) }
                    th { (l.t("Tổ chức", "Organisation")) }
                    th { (l.t("Giai đoạn", "Stage")) }
                    th { (l.t("Quyết định kết nạp", "Decision")) }
                    th { (l.t("Phát hiện", "Findings")) }
                    th { (l.t("Trả lại", "Returned")) }
                }
                @for (i, c) in rows.iter().take(PAGE_ROWS).enumerate() {
                    tr {
                        td.n { (i + 1) }
                        td { a href={ "/central/cases/" (url_encode(&c.doc_id)) } { (c.full_name) } }
                        td { (date(c.birth_date)) }
                        td { (orgs.name_with_parents(&c.org_id)) }
                        td { (stage_label(&c.stage, l.en)) }
                        td { (date(c.decision_date)) }
                        td {
                            @if (c.blocking, c.warnings) != (0, 0) {
                                span.sev-blocking { (c.blocking) } " / " span.sev-warning { (c.warnings) }
                            }
                        }
                        td { @if c.returned { "✔" } }
                    }
                }
            }
            @if rows.len() > PAGE_ROWS {
                p.muted {
                    (l.t("Hiển thị", "Showing")) " " (PAGE_ROWS) " / " (rows.len()) ". "
                    (l.t(
                        "Tải tệp XLSX để xem đủ danh sách.",
                        "Download the XLSX for the whole list.",
                    ))
                }
            }
        };
        Ok(page(&r, r.t("Hồ sơ", "Case files"), "cases", h))
    })
    .await
}

/// One line saying in words what the list holds, so a figure's list explains itself. A
/// term is named with its congress dates (`resolved`, the period the list reads).
fn describe(
    r: &Reviewer,
    f: &CaseFilter,
    org_name: &str,
    resolved: Option<&Resolved>,
    classes: &[crate::classes::Class],
) -> Markup {
    let l = r.lang;
    let mut parts = vec![org_name.to_string()];
    let period = resolved.map(|x| {
        let dates = format!(
            "{} – {}",
            x.period.from.format_vn(),
            x.period.to.format_vn()
        );
        match (&x.term, f.term.as_deref()) {
            (Some(t), _) => format!("{} {} ({dates})", l.t("nhiệm kỳ", "term"), t.name),
            (None, Some(t)) if x.calendar_years => format!(
                "{} {t} ({dates}, {})",
                l.t("nhiệm kỳ", "term"),
                l.t(
                    "tính theo năm dương lịch vì chưa ghi ngày đại hội",
                    "read as calendar years: no congress dates recorded"
                )
            ),
            _ => dates,
        }
    });
    for (on, label) in [
        (
            f.admitted == Some(Admitted::InPeriod),
            l.t("kết nạp", "admitted"),
        ),
        (
            f.official,
            l.t("công nhận chính thức", "recognised as full members"),
        ),
        (f.cohort, l.t("vào nguồn", "entered the pipeline")),
    ] {
        if on && let Some(p) = &period {
            parts.push(format!("{label} {p}"));
        }
    }
    if f.admitted == Some(Admitted::Ever) {
        parts.push(l.t("đã kết nạp", "admitted").into());
    }
    let named = [
        (&f.female, l.t("nữ", "women")),
        (&f.minority, l.t("dân tộc thiểu số", "ethnic minorities")),
        (&f.youth, l.t("đoàn viên", "Youth Union members")),
        (&f.age, l.t("tuổi 18–30", "aged 18–30")),
        (&f.class, l.t("đã học lớp nhận thức", "attended the class")),
        (&f.introduced, l.t("đã có người giới thiệu", "introduced")),
        (&f.returned, l.t("đã trả lại", "returned")),
    ];
    for (on, label) in named {
        if *on {
            parts.push(label.to_string());
        }
    }
    if let Some(s) = f.sector.as_deref() {
        parts.push(sector_label(s, l.en));
    }
    if let Some(e) = &f.education {
        parts.push(education_label(e.form_code(String::as_str), l.en).to_string());
    }
    if let Some(s) = f.stage {
        parts.push(stage_label(s.code(), l.en));
    }
    if let Some(c) = f.code.as_deref() {
        parts.push(c.to_string());
    }
    if let Some(s) = f.source.as_ref().map(|s| s.form_code(|k| k.code())) {
        let name = crate::figures::source_label(s, l.en);
        parts.push(format!("{}: {name}", l.t("nguồn", "source")));
    }
    if let Some(o) = f.occupation.as_ref().map(|o| o.form_code(|k| k.code())) {
        parts.push(crate::figures::occupation_label(o, l.en));
    }
    if let Some(id) = &f.class_id {
        let name = classes
            .iter()
            .find(|c| c.id == id.as_str())
            .map_or(id.as_str().to_string(), |c| c.name.clone());
        parts.push(format!("{} {name}", l.t("lớp", "class")));
    }
    html! { p.muted { (parts.join(" · ")) } }
}

/// Changes of the audit history shown on a case page (the export holds all of them).
const HISTORY_ROWS: usize = 200;

pub async fn detail(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<String>,
) -> Response {
    let store = state.store.clone();
    let rules = state.rules();
    let calendar = rules.calendar.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let d = review::case_detail_of(&conn, &r.caller, &id, &rules, today_vn())?;
        let conflicts = review::conflicts(&conn, &r.caller, Some("all"), Some(&id))?;
        drop(conn);
        let (history_total, history) = review::history_of(
            &store,
            &r.caller,
            &id,
            review::HistoryWindow {
                offset: 0,
                limit: HISTORY_ROWS,
                newest_first: true,
            },
        )?;
        let late = crate::duplicates::late_edits(&store, &r.caller, &id)?;
        // The document itself, to read each change's old and new values.
        let doc = {
            let conn = store.read();
            crate::casedocs::read_stored(&conn, &id)?
                .ok_or_else(|| crate::error::AppError::not_found("hồ sơ", "Case file"))?
        }
        .load()
        .map_err(crate::error::AppError::Internal)?
        .doc;
        let l = r.lang;
        let case: CaseFile = serde_json::from_value(d.case.clone()).unwrap_or_default();
        let p = &case.person;
        let stage = d
            .evaluation
            .get("stage")
            .and_then(|s| s.as_str())
            .unwrap_or("");
        let mut uncovered: Vec<i32> = d
            .evaluation
            .get("deadlines")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter(|x| x.get("done").and_then(|v| v.as_bool()) != Some(true))
            .filter_map(|x| x.get("due").and_then(|v| v.as_str()))
            .filter_map(|due| due.get(..4).and_then(|y| y.parse::<i32>().ok()))
            .filter(|y| !calendar.covers_year(*y))
            .collect();
        uncovered.sort_unstable();
        uncovered.dedup();
        let g = orgs.grassroots_of(&d.org_id);
        let facts: Vec<(&str, String)> = vec![
            (
                l.t("Tổ chức", "Organisation"),
                orgs.name_with_parents(&d.org_id),
            ),
            (
                l.t("Tổ chức cơ sở đảng", "Grassroots organisation"),
                g.map(|g| g.name.clone()).unwrap_or_default(),
            ),
        ];
        let empty = Vec::new();
        let findings = d
            .evaluation
            .get("findings")
            .and_then(|f| f.as_array())
            .unwrap_or(&empty);
        let deadlines = d
            .evaluation
            .get("deadlines")
            .and_then(|f| f.as_array())
            .unwrap_or(&empty);
        let text = |v: &serde_json::Value, k: &str| -> String {
            v.get(k).and_then(|s| s.as_str()).unwrap_or("").to_string()
        };
        // At most 12 changed fields per change, then how many more.
        let change_lines = |e: &crate::casedocs::HistoryEntry| {
            let mut lines = present::change_lines(&doc, &e.hash, &e.fields, l);
            if lines.len() > 12 {
                let more = lines.len() - 12;
                lines.truncate(12);
                lines.push(format!("… (+{more})"));
            }
            lines
        };
        let h = html! {
            (super::calendar_warning(l, &uncovered))
            @if !d.review.merged_into.is_empty() {
                p.banner.merged {
                    (l.t(
                        "Hồ sơ này đã được gộp vào hồ sơ",
                        "This file was merged into",
                    ))
                    " "
                    a href={ "/central/cases/" (url_encode(&d.review.merged_into)) } { (d.review.merged_into) }
                    ". "
                    (l.t(
                        "Nó không còn được tính trong số liệu; lịch sử vẫn được giữ.",
                        "It no longer counts in any figure; its history is kept.",
                    ))
                }
            }
            h2 { (p.full_name) " — " (stage_label(stage, l.en)) }
            table {
                @for (k, v) in &facts {
                    tr { th scope="row" { (k) } td { (v) } }
                }
            }
            h2 { (l.t("Toàn bộ hồ sơ", "The whole case file")) }
            (present::case_file_html(&d.case, l))

            // Findings and deadlines from the stored evaluation.
            h2 { (l.t("Phát hiện", "Findings")) }
            ul {
                @for f in findings {
                    @let code = text(f, "code");
                    @let rule = shared::rules::rule_number(&code, &text(f, "field"));
                    @let source = f
                        .get("source")
                        .and_then(|s| s.as_str())
                        .filter(|s| !s.trim().is_empty() && *s != "—");
                    @let cite: Vec<&str> = [rule, source].into_iter().flatten().collect();
                    li class={ "sev-" (text(f, "severity")) } data-code=(code) {
                        (text(f, if l.en { "message_en" } else { "message_vi" }))
                        @if !cite.is_empty() { " " span.muted { (cite.join(" · ")) } }
                    }
                }
                @if findings.is_empty() { li { (l.t("Không có.", "None.")) } }
            }
            @if !deadlines.is_empty() {
                h2 { (l.t("Thời hạn", "Deadlines")) }
                table {
                    tr {
                        th { (l.t("Việc", "Task")) }
                        th { (l.t("Hạn", "Due")) }
                        th { (l.t("Tình trạng", "Status")) }
                    }
                    @for dl in deadlines {
                        @let due = dl
                            .get("due")
                            .and_then(|s| s.as_str())
                            .and_then(|s| s.parse().ok());
                        @let done = dl.get("done").and_then(|b| b.as_bool()).unwrap_or(false);
                        @let overdue = dl.get("overdue").and_then(|b| b.as_bool()).unwrap_or(false);
                        tr {
                            td { (text(dl, if l.en { "label_en" } else { "label_vi" })) }
                            td { (date(due)) }
                            td {
                                @if done {
                                    span.ok { (l.t("Đã làm", "Done")) }
                                } @else if overdue {
                                    span.bad { (l.t("Quá hạn", "Overdue")) }
                                } @else {
                                    (l.t("Chưa đến hạn", "Open"))
                                }
                            }
                        }
                    }
                }
            }

            // Conflicts of this file, open and resolved.
            @if !conflicts.is_empty() {
                h2 { (l.t("Xung đột", "Conflicts")) }
                ul {
                    @for c in &conflicts {
                        @let state = match (&c.closed_at, &c.resolved_by) {
                            (Some(at), by) => format!(
                                "{} {} ({})",
                                l.t("đã giải quyết bởi", "resolved by"),
                                by.clone().unwrap_or_default(),
                                format_time(*at)
                            ),
                            (None, _) => l.t("đang mở", "open").to_string(),
                        };
                        @let values: Vec<String> = c
                            .values
                            .iter()
                            .map(|v| {
                                format!(
                                    "«{}» — {}",
                                    present::value_label(&c.path, &v.value, l),
                                    v.user
                                )
                            })
                            .collect();
                        li {
                            strong { (present::field_label(&c.path, l)) }
                            ": " (values.join(" / ")) " · " (state) " · "
                            a href="/central/conflicts" { (l.t("hàng đợi xung đột", "conflict queue")) }
                        }
                    }
                }
            }

            // Return to the cadre.
            h2 { (l.t("Trả lại cán bộ", "Return to the cadre")) }
            @if d.review.returned {
                p.warn {
                    (l.t("Đã trả lại bởi", "Returned by")) " " (d.review.by) " (" (d.review.at) "): «"
                    (d.review.comment) "»"
                }
            }
            (return_form(&r, &d.id, d.review.returned, None))
            (super::duplicates::merged_section(&r, &late)?)

            // Audit history.
            h2 { (l.t("Lịch sử thay đổi", "Change history")) }
            table {
                tr {
                    th { (l.t("Thời điểm", "Time")) }
                    th { (l.t("Người sửa", "User")) }
                    th { (l.t("Thiết bị", "Device")) }
                    th { (l.t("Thay đổi (cũ → mới)", "Changes (old → new)")) }
                }
                @for e in &history {
                    @let lines = change_lines(e);
                    tr.history {
                        td { (format_time(e.time)) }
                        td { (e.user) }
                        td { (present::device_label(&e.device, None)) }
                        td {
                            @for (i, x) in lines.iter().enumerate() {
                                @if i > 0 { br; }
                                (x)
                            }
                            @if let Some(m) = &e.message {
                                " " span.muted { "(" (present::message_label(m, l)) ")" }
                            }
                        }
                    }
                }
            }
            @if history_total > history.len() {
                p.muted { (if l.en {
                    format!(
                        "The {} most recent of {} changes; the export holds them all.",
                        history.len(),
                        history_total
                    )
                } else {
                    format!(
                        "{} thay đổi gần nhất trong tổng số {}; tệp xuất có đủ tất cả.",
                        history.len(),
                        history_total
                    )
                }) }
            }
            (export_links(
                l,
                "history",
                &format!("id={}", url_encode(&d.id)),
            ))
        };
        Ok(page(&r, &p.full_name, "cases", h))
    })
    .await
}

/// The form returning a file with a comment (or clearing an earlier return).
/// `back`: the page to go back to after the post, when it is not the case page.
pub fn return_form(r: &Reviewer, id: &str, returned: bool, back: Option<&str>) -> Markup {
    let l = r.lang;
    html! {
        form method="post" action={ "/central/cases/" (url_encode(id)) "/return" } class="filters" {
            (r.csrf_field())
            label { (l.t("Nhận xét cho cán bộ", "Comment for the cadre")) input name="comment" size="60" required; }
            button name="action" value="return" { (l.t("Trả lại hồ sơ", "Return the file")) }
            @if returned {
                " " button name="action" value="clear" { (l.t("Bỏ trả lại", "Clear the return")) }
            }
            @if let Some(back) = back { input type="hidden" name="back" value=(back); }
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ReturnForm {
    csrf: String,
    comment: String,
    action: String,
    /// Where to go back to (the findings queue posts from its own page).
    back: String,
}

pub async fn return_case(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<String>,
    PageForm(form): PageForm<ReturnForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&form.csrf) {
        return resp;
    }
    let returned = form.action != "clear";
    if returned && form.comment.trim().is_empty() {
        return error_page(
            r.lang,
            &crate::error::AppError::bad_request(
                ErrorCode::EmptyComment,
                "Hãy ghi nhận xét cho cán bộ.",
                "Write a comment for the cadre.",
            ),
        );
    }
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    let back = if form.back.starts_with("/central/") && !form.back.contains("//") {
        form.back.clone()
    } else {
        format!("/central/cases/{}", url_encode(&id))
    };
    run_form(lang, move || {
        review::return_to_cadre(
            &store,
            &rules,
            &r.caller,
            &id,
            &ReturnBody {
                comment: form.comment.trim().to_string(),
                returned,
            },
        )?;
        Ok(Redirect::to(&back).into_response())
    })
    .await
}
