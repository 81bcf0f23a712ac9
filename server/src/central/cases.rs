//! The case files behind a figure, and one case file in full: every fact grouped as the
//! cadre's forms group them (votes, introducers and verifications included), findings
//! named by rule, deadlines, conflicts by field label, the reviewer's return note, and
//! its audit history with each field's label and its old → new value.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::model::{CaseFile, Occupation, SourceKind};
use shared::stage::Stage;

use super::{
    Reviewer, date, error_page, esc, export_links, format_time, org_options, page, present,
    run_page,
};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::reports::{
    self, OrgIndex, Resolved, education_label, sector_label, stage_label, url_encode,
};
use crate::review::{self, ReportQuery, ReturnBody};

/// Rows shown on one page; the export holds them all.
const PAGE_ROWS: usize = 500;

pub async fn list(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        // Filters that cannot be read are said beside the form, and the list stays empty.
        let errors = present::filter_errors(&q, r.lang);
        let rows = if errors.is_empty() {
            reports::cases(&conn, &orgs, &r.caller, &q.filter, today_vn())?
        } else {
            Vec::new()
        };
        let root = reports::resolve_org(&orgs, &r.caller, q.filter.org.as_deref())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let opts = org_options(&orgs, &scope, &root.id);
        // The period as the list reads it: a term by its recorded congress dates.
        let resolved = q.filter.resolve(&conn, &orgs, &root, today_vn()).ok();
        let classes = crate::classes::visible(&conn, &orgs, &scope)?;
        drop(conn);
        let l = r.lang;
        let f = &q.filter;
        let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
        let stage_opts: String = std::iter::once(format!(
            r#"<option value="">{}</option>"#,
            esc(l.t("(mọi giai đoạn)", "(any stage)"))
        ))
        .chain(Stage::ALL.iter().map(|s| {
            let sel = if f.stage.as_deref() == Some(s.code()) {
                " selected"
            } else {
                ""
            };
            format!(
                r#"<option value="{}"{sel}>{}</option>"#,
                s.code(),
                esc(l.t(s.label_vi(), s.label_en()))
            )
        }))
        .collect();
        let select = |name: &str, current: &Option<String>, opts: Vec<(String, String)>| {
            let mut h = format!(r#"<select name="{name}"><option value="">—</option>"#);
            for (code, label) in opts {
                let sel = if current.as_deref() == Some(code.as_str()) {
                    " selected"
                } else {
                    ""
                };
                h.push_str(&format!(
                    r#"<option value="{}"{sel}>{}</option>"#,
                    esc(&code),
                    esc(&label)
                ));
            }
            h.push_str("</select>");
            h
        };
        let check = |name: &str, current: &Option<String>, label: &str| {
            let on = matches!(current.as_deref(), Some("1" | "true" | "on" | "yes"));
            format!(
                r#"<label><input type="checkbox" name="{name}" value="1"{}> {}</label>"#,
                if on { " checked" } else { "" },
                esc(label)
            )
        };
        // Filters not on the form ride along as hidden fields so a search keeps them.
        let hidden: String = [
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
        ]
        .iter()
        .filter_map(|(k, v)| {
            v.as_deref()
                .filter(|v| !v.is_empty())
                .map(|v| format!(r#"<input type="hidden" name="{k}" value="{}">"#, esc(v)))
        })
        .collect();
        let mut h = format!(
            r#"<form class="filters" method="get" action="/central/cases">{hidden}
<label>{name_l}<input name="q" value="{qv}" placeholder="nguyen van an"></label>
<label>{org_l}<select name="org">{opts}</select></label>
<label>{stage_l}<select name="stage">{stage_opts}</select></label>
<label>{year_l}<input name="year" size="5" value="{y}"></label>
<label>{from_l}<input name="from" size="10" value="{fr}"></label>
<label>{to_l}<input name="to" size="10" value="{to}"></label>
<label>{term_l}<input name="term" size="9" value="{t}" placeholder="2025-2030"></label>
<label>{adm_l}{adm_sel}</label>
<label>{src_l}{src_sel}</label>
<label>{occ_l}{occ_sel}</label>
<label>{class_l}{class_sel}</label>
{official}{cohort}
<button>{go}</button></form>"#,
            name_l = esc(l.t("Họ tên", "Name")),
            qv = val(&f.q),
            org_l = esc(l.t("Tổ chức", "Organisation")),
            stage_l = esc(l.t("Giai đoạn", "Stage")),
            year_l = esc(l.t("Năm", "Year")),
            from_l = esc(l.t("Từ ngày", "From")),
            to_l = esc(l.t("Đến ngày", "To")),
            go = esc(l.t("Tìm", "Search")),
            y = val(&f.year),
            fr = val(&f.from),
            to = val(&f.to),
            term_l = esc(l.t("Nhiệm kỳ", "Term")),
            t = val(&f.term),
            adm_l = esc(l.t("Kết nạp", "Admitted")),
            adm_sel = select(
                "admitted",
                &f.admitted,
                vec![
                    ("1".into(), l.t("Trong kỳ", "In the period").into()),
                    ("any".into(), l.t("Bất kỳ lúc nào", "At any time").into()),
                ]
            ),
            src_l = esc(l.t("Nguồn", "Source")),
            src_sel = select(
                "source",
                &f.source,
                super::dashboard::coded_options(
                    l,
                    SourceKind::ALL
                        .iter()
                        .map(|s| (s.code(), s.label_vi(), s.label_en()))
                )
            ),
            occ_l = esc(l.t("Nghề nghiệp", "Occupation")),
            occ_sel = select(
                "occupation",
                &f.occupation,
                super::dashboard::coded_options(
                    l,
                    Occupation::ALL
                        .iter()
                        .map(|o| (o.code(), o.label_vi(), o.label_en()))
                )
            ),
            class_l = esc(l.t("Lớp nhận thức", "Awareness class")),
            class_sel = select(
                "class_id",
                &f.class_id,
                classes
                    .iter()
                    .map(|c| (c.id.clone(), format!("{} ({})", c.name, c.start_date.format_vn())))
                    .collect()
            ),
            official = check(
                "official",
                &f.official,
                l.t(
                    "Công nhận chính thức trong kỳ",
                    "Recognised as full members in the period"
                )
            ),
            cohort = check(
                "cohort",
                &f.cohort,
                l.t(
                    "Vào nguồn trong kỳ (khóa)",
                    "Entered the pipeline in the period (cohort)"
                )
            ),
        );
        h.push_str(&present::filter_errors_html(&errors, l));
        h.push_str(&describe(&r, &q, &root.name, resolved.as_ref(), &classes));
        h.push_str(&format!(
            r#"<p><strong id="total">{}</strong> {}</p>"#,
            l.int(rows.len() as i64),
            esc(l.t("hồ sơ", "case files"))
        ));
        h.push_str(&export_links(l, "cases", &f.query_string()));
        h.push_str(&format!(
            "<table><tr><th>#</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Họ và tên", "Full name")),
            esc(l.t("Ngày sinh", "Born")),
            esc(l.t("Tổ chức", "Organisation")),
            esc(l.t("Giai đoạn", "Stage")),
            esc(l.t("Quyết định kết nạp", "Decision")),
            esc(l.t("Phát hiện", "Findings")),
            esc(l.t("Trả lại", "Returned")),
        ));
        for (i, c) in rows.iter().take(PAGE_ROWS).enumerate() {
            let findings = match (c.blocking, c.warnings) {
                (0, 0) => String::new(),
                (b, w) => format!(
                    r#"<span class="sev-blocking">{b}</span> / <span class="sev-warning">{w}</span>"#
                ),
            };
            h.push_str(&format!(
                r#"<tr><td class=n>{}</td><td><a href="/central/cases/{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{findings}</td><td>{}</td></tr>"#,
                i + 1,
                esc(&url_encode(&c.doc_id)),
                esc(&c.full_name),
                date(c.birth_date),
                esc(&orgs.name_with_parents(&c.org_id)),
                esc(&stage_label(&c.stage, l.en)),
                date(c.decision_date),
                if c.returned { "✔" } else { "" },
            ));
        }
        h.push_str("</table>");
        if rows.len() > PAGE_ROWS {
            h.push_str(&format!(
                r#"<p class="muted">{} {PAGE_ROWS} / {}. {}</p>"#,
                esc(l.t("Hiển thị", "Showing")),
                rows.len(),
                esc(l.t(
                    "Tải tệp XLSX để xem đủ danh sách.",
                    "Download the XLSX for the whole list."
                ))
            ));
        }
        Ok(page(&r, r.t("Hồ sơ", "Case files"), "cases", &h))
    })
    .await
}

/// One line saying in words what the list holds, so a figure's list explains itself. A
/// term is named with its congress dates (`resolved`, the period the list reads).
fn describe(
    r: &Reviewer,
    q: &ReportQuery,
    org_name: &str,
    resolved: Option<&Resolved>,
    classes: &[crate::classes::Class],
) -> String {
    let l = r.lang;
    let f = &q.filter;
    let flag = |v: &Option<String>| matches!(v.as_deref(), Some("1" | "true" | "on" | "yes"));
    let mut parts = vec![org_name.to_string()];
    let period = resolved.map(|x| {
        let dates = format!(
            "{} – {}",
            x.period.from.format_vn(),
            x.period.to.format_vn()
        );
        match (&x.term, f.term.as_deref().filter(|t| !t.trim().is_empty())) {
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
        (flag(&f.admitted), l.t("kết nạp", "admitted")),
        (
            flag(&f.official),
            l.t("công nhận chính thức", "recognised as full members"),
        ),
        (flag(&f.cohort), l.t("vào nguồn", "entered the pipeline")),
    ] {
        if on && let Some(p) = &period {
            parts.push(format!("{label} {p}"));
        }
    }
    if f.admitted.as_deref() == Some("any") {
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
    for (v, label) in named {
        if flag(v) {
            parts.push(label.to_string());
        }
    }
    if let Some(s) = f.sector.as_deref().filter(|s| !s.is_empty()) {
        parts.push(sector_label(s, l.en));
    }
    if let Some(e) = f.education.as_deref().filter(|s| !s.is_empty()) {
        parts.push(education_label(e, l.en).to_string());
    }
    if let Some(s) = f.stage.as_deref().filter(|s| !s.is_empty()) {
        parts.push(stage_label(s, l.en));
    }
    if let Some(c) = f.code.as_deref().filter(|s| !s.is_empty()) {
        parts.push(c.to_string());
    }
    let code = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(s) = code(&f.source) {
        let name = crate::figures::source_label(&s, l.en);
        parts.push(format!("{}: {name}", l.t("nguồn", "source")));
    }
    if let Some(o) = code(&f.occupation) {
        parts.push(crate::figures::occupation_label(&o, l.en));
    }
    if let Some(id) = code(&f.class_id) {
        let name = classes
            .iter()
            .find(|c| c.id == id)
            .map_or(id.clone(), |c| c.name.clone());
        parts.push(format!("{} {name}", l.t("lớp", "class")));
    }
    format!(r#"<p class="muted">{}</p>"#, esc(&parts.join(" · ")))
}

/// Changes of the audit history shown on a case page (the export holds all of them).
const HISTORY_ROWS: usize = 200;

pub async fn detail(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<String>,
) -> Response {
    let store = state.store.clone();
    let calendar = state.rules().calendar;
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let d = review::case_detail_of(&conn, &r.caller, &id)?;
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
        let mut h = super::calendar_warning(l, &uncovered);
        if !d.review.merged_into.is_empty() {
            h.push_str(&format!(
                r#"<p class="banner merged">{} <a href="/central/cases/{}">{}</a>. {}</p>"#,
                esc(l.t(
                    "Hồ sơ này đã được gộp vào hồ sơ",
                    "This file was merged into"
                )),
                esc(&url_encode(&d.review.merged_into)),
                esc(&d.review.merged_into),
                esc(l.t(
                    "Nó không còn được tính trong số liệu; lịch sử vẫn được giữ.",
                    "It no longer counts in any figure; its history is kept."
                )),
            ));
        }
        h.push_str(&format!(
            "<h2>{}</h2><table>",
            esc(&format!("{} — {}", p.full_name, stage_label(stage, l.en)))
        ));
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
        for (k, v) in facts {
            h.push_str(&format!(
                r#"<tr><th scope="row">{}</th><td>{}</td></tr>"#,
                esc(k),
                esc(&v)
            ));
        }
        h.push_str("</table>");
        h.push_str(&format!(
            "<h2>{}</h2>",
            esc(l.t("Toàn bộ hồ sơ", "The whole case file"))
        ));
        h.push_str(&present::case_file_html(&d.case, l));

        // Findings and deadlines from the stored evaluation.
        h.push_str(&format!(
            "<h2>{}</h2><ul>",
            esc(l.t("Phát hiện", "Findings"))
        ));
        let empty = Vec::new();
        let findings = d
            .evaluation
            .get("findings")
            .and_then(|f| f.as_array())
            .unwrap_or(&empty);
        for f in findings {
            let sev = f.get("severity").and_then(|s| s.as_str()).unwrap_or("");
            let msg = f
                .get(if l.en { "message_en" } else { "message_vi" })
                .and_then(|s| s.as_str())
                .unwrap_or("");
            let code = f.get("code").and_then(|s| s.as_str()).unwrap_or("");
            let field = f.get("field").and_then(|s| s.as_str()).unwrap_or("");
            let rule = shared::rules::rule_number(code, field);
            let source = f
                .get("source")
                .and_then(|s| s.as_str())
                .filter(|s| !s.trim().is_empty() && *s != "—");
            let cite: Vec<&str> = [rule, source].into_iter().flatten().collect();
            h.push_str(&format!(
                r#"<li class="sev-{}" data-code="{}">{}{}</li>"#,
                esc(sev),
                esc(code),
                esc(msg),
                if cite.is_empty() {
                    String::new()
                } else {
                    format!(r#" <span class="muted">{}</span>"#, esc(&cite.join(" · ")))
                }
            ));
        }
        if findings.is_empty() {
            h.push_str(&format!("<li>{}</li>", esc(l.t("Không có.", "None."))));
        }
        h.push_str("</ul>");
        let deadlines = d
            .evaluation
            .get("deadlines")
            .and_then(|f| f.as_array())
            .unwrap_or(&empty);
        if !deadlines.is_empty() {
            h.push_str(&format!(
                "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
                esc(l.t("Thời hạn", "Deadlines")),
                esc(l.t("Việc", "Task")),
                esc(l.t("Hạn", "Due")),
                esc(l.t("Tình trạng", "Status")),
            ));
            for dl in deadlines {
                let label = dl
                    .get(if l.en { "label_en" } else { "label_vi" })
                    .and_then(|s| s.as_str())
                    .unwrap_or("");
                let due = dl
                    .get("due")
                    .and_then(|s| s.as_str())
                    .and_then(|s| s.parse().ok());
                let done = dl.get("done").and_then(|b| b.as_bool()).unwrap_or(false);
                let overdue = dl.get("overdue").and_then(|b| b.as_bool()).unwrap_or(false);
                let status = if done {
                    format!(r#"<span class="ok">{}</span>"#, esc(l.t("Đã làm", "Done")))
                } else if overdue {
                    format!(
                        r#"<span class="bad">{}</span>"#,
                        esc(l.t("Quá hạn", "Overdue"))
                    )
                } else {
                    esc(l.t("Chưa đến hạn", "Open"))
                };
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{status}</td></tr>",
                    esc(label),
                    date(due)
                ));
            }
            h.push_str("</table>");
        }

        // Conflicts of this file, open and resolved.
        if !conflicts.is_empty() {
            h.push_str(&format!(
                "<h2>{}</h2><ul>",
                esc(l.t("Xung đột", "Conflicts"))
            ));
            for c in &conflicts {
                let state = match (&c.closed_at, &c.resolved_by) {
                    (Some(at), by) => format!(
                        "{} {} ({})",
                        l.t("đã giải quyết bởi", "resolved by"),
                        by.clone().unwrap_or_default(),
                        format_time(*at)
                    ),
                    (None, _) => l.t("đang mở", "open").to_string(),
                };
                let values: Vec<String> = c
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
                h.push_str(&format!(
                    r#"<li><strong>{}</strong>: {} · {} · <a href="/central/conflicts">{}</a></li>"#,
                    esc(&present::field_label(&c.path, l)),
                    esc(&values.join(" / ")),
                    esc(&state),
                    esc(l.t("hàng đợi xung đột", "conflict queue"))
                ));
            }
            h.push_str("</ul>");
        }

        // Return to the cadre.
        h.push_str(&format!(
            "<h2>{}</h2>",
            esc(l.t("Trả lại cán bộ", "Return to the cadre"))
        ));
        if d.review.returned {
            h.push_str(&format!(
                r#"<p class="warn">{} {} ({}): «{}»</p>"#,
                esc(l.t("Đã trả lại bởi", "Returned by")),
                esc(&d.review.by),
                esc(&d.review.at),
                esc(&d.review.comment)
            ));
        }
        h.push_str(&return_form(&r, &d.id, d.review.returned));
        h.push_str(&super::duplicates::merged_section(&r, &late)?);

        // Audit history.
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Lịch sử thay đổi", "Change history")),
            esc(l.t("Thời điểm", "Time")),
            esc(l.t("Người sửa", "User")),
            esc(l.t("Thiết bị", "Device")),
            esc(l.t("Thay đổi (cũ → mới)", "Changes (old → new)")),
        ));
        for e in &history {
            let lines = present::change_lines(&doc, &e.hash, &e.fields, l);
            let fields = if lines.len() > 12 {
                let more = lines.len() - 12;
                let mut shown: Vec<String> = lines.into_iter().take(12).map(|x| esc(&x)).collect();
                shown.push(format!("… (+{more})"));
                shown.join("<br>")
            } else {
                lines.iter().map(|x| esc(x)).collect::<Vec<_>>().join("<br>")
            };
            h.push_str(&format!(
                r#"<tr class="history"><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>"#,
                esc(&format_time(e.time)),
                esc(&e.user),
                esc(&present::device_label(&e.device, None)),
                fields,
                e.message
                    .as_ref()
                    .map(|m| format!(
                        r#" <span class="muted">({})</span>"#,
                        esc(&present::message_label(m, l))
                    ))
                    .unwrap_or_default()
            ));
        }
        h.push_str("</table>");
        if history_total > history.len() {
            h.push_str(&format!(
                r#"<p class="muted">{}</p>"#,
                esc(&if l.en {
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
                })
            ));
        }
        h.push_str(&export_links(
            l,
            "history",
            &format!("id={}", url_encode(&d.id)),
        ));
        Ok(page(&r, &p.full_name, "cases", &h))
    })
    .await
}

/// The form returning a file with a comment (or clearing an earlier return).
pub fn return_form(r: &Reviewer, id: &str, returned: bool) -> String {
    let l = r.lang;
    let clear = if returned {
        format!(
            r#" <button name="action" value="clear">{}</button>"#,
            esc(l.t("Bỏ trả lại", "Clear the return"))
        )
    } else {
        String::new()
    };
    format!(
        r#"<form method="post" action="/central/cases/{id}/return" class="filters">{csrf}
<label>{c}<input name="comment" size="60" required></label>
<button name="action" value="return">{go}</button>{clear}</form>"#,
        id = esc(&url_encode(id)),
        csrf = r.csrf_field(),
        c = esc(l.t("Nhận xét cho cán bộ", "Comment for the cadre")),
        go = esc(l.t("Trả lại hồ sơ", "Return the file")),
    )
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
    Form(form): Form<ReturnForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&form.csrf) {
        return resp;
    }
    let returned = form.action != "clear";
    if returned && form.comment.trim().is_empty() {
        return error_page(
            r.lang,
            &crate::error::AppError::bad_request(
                "EMPTY_COMMENT",
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
    run_page(lang, move || {
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
