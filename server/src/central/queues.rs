//! The reviewer's queues: conflicts to resolve (competing values side by side, each
//! field by its label and each device by its model, nothing chosen in advance, and a
//! confirmation once resolved), case files with findings after the merge (each naming
//! its rule as the cadre's app does), and deadlines overdue or coming up.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use shared::stage::Stage;

use super::cases::return_form;
use super::{PageForm, PageQuery};
use maud::html;

use super::{
    Reviewer, date, export_links, format_time, org_options, page, present, run_form, run_page,
};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::error::AppError;
use crate::reports::{self, CaseFilter, OrgIndex, SeverityFilter, stage_label, url_encode};
use crate::review::{self, ReportQuery};
use shared::api::ErrorCode;

/// `?resolved=ID`: the conflict the reviewer has just resolved, confirmed at the top.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolvedQuery {
    resolved: Option<i64>,
}

/// The device that wrote a value, told apart from the user's other devices.
fn device_of(conn: &crate::db::Connection, actor: &str, name: &str) -> String {
    let id = crate::db::accounts::actor_device(conn, actor)
        .ok()
        .flatten();
    present::device_label(name, id.as_deref())
}

pub async fn conflicts(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
    PageQuery(done): PageQuery<ResolvedQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let closed = q.state.as_deref() == Some("closed");
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let rows = review::conflicts(&conn, &r.caller, q.state.as_deref(), None)?;
        let just_resolved = match done.resolved {
            Some(id) => review::conflicts(&conn, &r.caller, Some("closed"), None)?
                .into_iter()
                .find(|c| c.id == id),
            None => None,
        };
        let mut devices: BTreeMap<String, String> = BTreeMap::new();
        for c in &rows {
            for v in &c.values {
                if !devices.contains_key(&v.actor) {
                    devices.insert(v.actor.clone(), device_of(&conn, &v.actor, &v.device));
                }
            }
        }
        // The case file around each conflict: its stage, as the projection has it.
        let mut stages: BTreeMap<String, String> = BTreeMap::new();
        for c in &rows {
            if !stages.contains_key(&c.doc_id) {
                let s = crate::db::reports::projection_stage(&conn, &c.doc_id).unwrap_or_default();
                stages.insert(c.doc_id.clone(), s);
            }
        }
        drop(conn);
        let l = r.lang;
        let resolved_value = |c: &review::ConflictRow| {
            c.resolution
                .as_ref()
                .and_then(|v| v.get("value"))
                .map(|v| present::value_label(&c.path, v, l))
                .unwrap_or_default()
        };
        let h = html! {
            @if let Some(c) = &just_resolved {
                p.banner.done role="status" id="resolved-notice" {
                    (l.t("Đã giải quyết xung đột", "Resolved the conflict on")) " "
                    strong { (present::field_label(&c.path, l)) } " "
                    (l.t("của hồ sơ", "of the file of")) " "
                    a href={ "/central/cases/" (url_encode(&c.doc_id)) } { (c.full_name) }
                    ": " (l.t("giữ giá trị", "kept")) " «" (resolved_value(c)) "». "
                    (l.t(
                        "Các thiết bị sẽ nhận giá trị này ở lần đồng bộ tới.",
                        "Devices receive this value at their next sync.",
                    ))
                }
            }
            p {
                a href="/central/conflicts" { (l.t("Đang mở", "Open")) }
                " · "
                a href="/central/conflicts?state=closed" { (l.t("Đã giải quyết", "Resolved")) }
            }
            p {
                strong id="conflict-count" { (rows.len()) } " "
                (if closed {
                    l.t("xung đột đã giải quyết", "resolved conflicts")
                } else {
                    l.t("xung đột đang chờ", "open conflicts")
                })
            }
            (export_links(
                l,
                "conflicts",
                if closed { "state=closed" } else { "" },
            ))
            @for c in &rows {
                section.conflict id={ "conflict-" (c.id) } {
                    h2 {
                        a href={ "/central/cases/" (url_encode(&c.doc_id)) } { (c.full_name) }
                        " · " (present::field_label(&c.path, l))
                    }
                    p.muted {
                        (orgs.name_with_parents(&c.org_id)) " · "
                        (stage_label(
                            stages.get(&c.doc_id).map(String::as_str).unwrap_or(""),
                            l.en,
                        ))
                        " · " (l.t("mở lúc", "opened")) " " (format_time(c.opened_at))
                    }
                    div.values {
                        @for v in &c.values {
                            div class=(if v.winner { "value win" } else { "value" }) {
                                div.v { strong { "«" (present::value_label(&c.path, &v.value, l)) "»" } }
                                div { (v.user) }
                                div.muted {
                                    (l.t("thiết bị", "device")) ": "
                                    (devices.get(&v.actor).map(String::as_str).unwrap_or("?"))
                                    " · " (format_time(v.time))
                                }
                                @if v.winner {
                                    div.muted { (l.t(
                                        "đang hiển thị trên thiết bị",
                                        "currently shown on devices",
                                    )) }
                                }
                            }
                        }
                    }
                    @if let Some(at) = c.closed_at {
                        p {
                            (l.t("Giải quyết bởi", "Resolved by")) " "
                            strong { (c.resolved_by.as_deref().unwrap_or("?")) }
                            " · " (l.t("giá trị", "value")) " «" (resolved_value(c)) "» · "
                            (format_time(at))
                        }
                    } @else {
                        form method="post" action={ "/central/conflicts/" (c.id) "/resolve" } class="filters resolve" {
                            fieldset {
                                legend { (l.t("Giá trị đúng", "The right value")) }
                                (r.csrf_field())
                                // Nothing is chosen in advance: the reviewer picks on purpose.
                                @for v in &c.values {
                                    label.choice {
                                        input type="radio" name="choice" value=(v.value.to_string()) required;
                                        " «" (present::value_label(&c.path, &v.value, l)) "»"
                                    }
                                }
                                label.choice {
                                    input type="radio" name="choice" value="__new__" required;
                                    " " (l.t("Giá trị khác (gõ bên cạnh)", "Another value (type it beside)"))
                                }
                                label.choice {
                                    (l.t("Giá trị khác:", "Another value:"))
                                    input name="new_value" size="30";
                                }
                            }
                            button { (l.t("Dùng giá trị đã chọn", "Use the chosen value")) }
                        }
                    }
                }
            }
        };
        Ok(page(
            &r,
            r.t("Hàng đợi xung đột", "Conflict queue"),
            "conflicts",
            h,
        ))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolveForm {
    csrf: String,
    /// The JSON of the chosen competing value, or `__new__` for the typed one.
    choice: String,
    new_value: String,
}

/// Turns the reviewer's typed text into a value of the same kind as the competing ones:
/// a number where they are numbers, a yes/no where they are booleans, text otherwise.
fn typed_value(text: &str, like: &[Value]) -> Value {
    let t = text.trim();
    if !like.is_empty() && like.iter().all(Value::is_number) {
        if let Ok(n) = t.parse::<i64>() {
            return Value::from(n);
        }
        if let Some(n) = t
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    if !like.is_empty() && like.iter().all(Value::is_boolean) {
        match shared::text::fold(t).as_str() {
            "true" | "co" | "yes" | "1" => return Value::Bool(true),
            "false" | "khong" | "no" | "0" => return Value::Bool(false),
            _ => {}
        }
    }
    if t.is_empty() {
        Value::Null
    } else {
        Value::String(t.to_string())
    }
}

pub async fn resolve(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<ResolveForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&form.csrf) {
        return resp;
    }
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    run_form(lang, move || {
        let value = if form.choice == "__new__" {
            let like: Vec<Value> = {
                let conn = store.conn();
                review::conflicts(&conn, &r.caller, Some("open"), None)?
                    .into_iter()
                    .find(|c| c.id == id)
                    .map(|c| c.values.into_iter().map(|v| v.value).collect())
                    .unwrap_or_default()
            };
            typed_value(&form.new_value, &like)
        } else {
            serde_json::from_str(&form.choice).map_err(|_| {
                AppError::bad_request(
                    ErrorCode::BadValue,
                    "Giá trị chọn không đọc được.",
                    "The chosen value is unreadable.",
                )
            })?
        };
        review::resolve(&store, &rules, &r.caller, id, &value)?;
        Ok(Redirect::to(&format!("/central/conflicts?resolved={id}")).into_response())
    })
    .await
}

/// The filter of a queue, or, when it cannot be read, the page of its errors beside a
/// way back instead of a bare error page.
fn read_filter(
    r: &Reviewer,
    q: &ReportQuery,
    title: &str,
    active: &str,
    path: &str,
) -> Result<CaseFilter, Box<Response>> {
    let (filter, errors) = present::read_filter(q, r.lang);
    if errors.is_empty() {
        return Ok(filter);
    }
    let body = html! {
        (present::filter_errors_html(&errors, r.lang))
        p { a href=(path) { (r.lang.t("Xem không có bộ lọc", "Show without filters")) } }
    };
    Err(Box::new(page(r, title, active, body)))
}

pub async fn findings(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let filter = match read_filter(
        &r,
        &q,
        r.t("Phát hiện", "Findings"),
        "findings",
        "/central/findings",
    ) {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = reports::resolve_org(&orgs, &r.caller, filter.org_id())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let rows = reports::findings(&conn, &orgs, &r.caller, &filter, today_vn())?;
        let codes = reports::finding_codes(&conn, &orgs, &root)?;
        drop(conn);
        let l = r.lang;
        let f = &q.filter;
        let sev = filter.severity.map(SeverityFilter::code);
        // One block per case file, in the Vietnamese order of names.
        let mut files: Vec<(String, Vec<&reports::FindingRow>)> = Vec::new();
        for row in &rows {
            match files.last_mut() {
                Some((id, list)) if *id == row.doc_id => list.push(row),
                _ => files.push((row.doc_id.clone(), vec![row])),
            }
        }
        let back = r.uri.clone();
        let h = html! {
            form.filters method="get" action="/central/findings" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" { (org_options(&orgs, &scope, &root.id)) } }
                label { (l.t("Mã quy tắc", "Rule code"))
                    select name="code" {
                        option value="" { (l.t("(mọi mã)", "(any code)")) }
                        @for (c, n) in &codes {
                            // The rule first, as both apps name it; the code tells checks of
                            // one rule apart.
                            @let rule = shared::rules::rule_number(c, "")
                                .filter(|_| c != "DOCUMENT_AFTER_BRANCH_VOTE")
                                .map(|r| format!("{r} · "))
                                .unwrap_or_default();
                            option value=(c) selected[f.code.as_deref() == Some(c.as_str())] {
                                (rule) (c) " (" (n) ")"
                            }
                        }
                    }
                }
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
                label { (l.t("Mức", "Severity"))
                    select name="severity" {
                        option value="any" { (l.t("Chặn và cảnh báo", "Blocking and warnings")) }
                        option value="blocking" selected[sev == Some("blocking")] { (l.t("Chặn", "Blocking")) }
                        option value="warning" selected[sev == Some("warning")] { (l.t("Cảnh báo", "Warning")) }
                    }
                }
                button { (l.t("Lọc", "Filter")) }
            }
            p {
                strong id="finding-files" { (files.len()) } " " (l.t("hồ sơ", "case files"))
                " · " (rows.len()) " " (l.t("phát hiện", "findings"))
            }
            (export_links(l, "findings", &filter.query_string()))
            @for (id, list) in files.iter().take(300) {
                @let first = list[0];
                section {
                    h2 {
                        a href={ "/central/cases/" (url_encode(id)) } { (first.full_name) }
                        " "
                        span.muted {
                            (orgs.name_with_parents(&first.org_id)) " · " (stage_label(&first.stage, l.en))
                            @if first.returned { " · " (l.t("đã trả lại", "returned")) }
                        }
                    }
                    ul {
                        @for f in list {
                            li class={ "sev-" (f.severity) } data-code=(f.code) {
                                (if l.en { &f.message_en } else { &f.message_vi })
                                @if let Some(rule) = shared::rules::rule_number(&f.code, &f.field) {
                                    " " span.muted { (rule) }
                                }
                            }
                        }
                    }
                    (return_form(&r, id, first.returned, Some(&back)))
                }
            }
            @if files.len() > 300 {
                p.muted { (l.t("Hiển thị", "Showing")) " 300 / " (files.len()) }
            }
        };
        Ok(page(
            &r,
            r.t("Hàng đợi phát hiện", "Findings queue"),
            "findings",
            h,
        ))
    })
    .await
}

pub async fn deadlines(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let filter = match read_filter(
        &r,
        &q,
        r.t("Thời hạn", "Deadlines"),
        "deadlines",
        "/central/deadlines",
    ) {
        Ok(f) => f,
        Err(resp) => return *resp,
    };
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    run_page(lang, move || {
        let days = q.days()?;
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = reports::resolve_org(&orgs, &r.caller, filter.org_id())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let d = reports::deadlines(
            &conn,
            &orgs,
            &r.caller,
            filter.org_id(),
            days,
            today_vn(),
        )?;
        let missing = crate::administration::uncovered_deadline_years(&conn, &rules)?;
        drop(conn);
        let l = r.lang;
        let h = html! {
            (super::calendar_warning(l, &missing))
            form.filters method="get" action="/central/deadlines" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" { (org_options(&orgs, &scope, &root.id)) } }
                label { (l.t("Số ngày tới", "Days ahead")) input name="days" size="3" value=(days); }
                button { (l.t("Xem", "Show")) }
            }
            p {
                span.bad { strong id="overdue" { (d.overdue) } " " (l.t("quá hạn", "overdue")) }
                " · " strong id="upcoming" { (d.upcoming) } " " (l.t("đến hạn trong", "due within"))
                " " (days) " " (l.t("ngày", "days"))
            }
            (export_links(
                l,
                "deadlines",
                &format!("org={}&days={days}", url_encode(&root.id)),
            ))
            h2 { (l.t("Theo tổ chức", "Per organisation")) }
            table {
                tr {
                    th { (l.t("Tổ chức cơ sở đảng", "Grassroots organisation")) }
                    th.n { (l.t("Quá hạn", "Overdue")) }
                    th.n { (l.t("Sắp đến hạn", "Upcoming")) }
                }
                @for o in &d.per_org {
                    tr {
                        td { a href={ "/central/deadlines?org=" (url_encode(&o.org_id)) "&days=" (days) } { (o.name) } }
                        td.n { (o.overdue) }
                        td.n { (o.upcoming) }
                    }
                }
            }
            h2 { (l.t("Danh sách", "List")) }
            table {
                tr {
                    th { (l.t("Hạn", "Due")) }
                    th { (l.t("Việc", "Task")) }
                    th { (l.t("Họ và tên", "Full name")) }
                    th { (l.t("Tổ chức", "Organisation")) }
                }
                @for row in d.rows.iter().take(1000) {
                    tr {
                        td {
                            @if row.overdue {
                                span.bad { (date(Some(row.due))) " (" (l.t("quá", "late by")) " " (-row.days_left) ")" }
                            } @else {
                                (date(Some(row.due))) " (" (l.t("còn", "in")) " " (row.days_left) ")"
                            }
                        }
                        td { (if l.en { &row.label_en } else { &row.label_vi }) }
                        td { a href={ "/central/cases/" (url_encode(&row.doc_id)) } { (row.full_name) } }
                        td { (orgs.name_with_parents(&row.org_id)) }
                    }
                }
            }
        };
        Ok(page(&r, r.t("Thời hạn", "Deadlines"), "deadlines", h))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_value_takes_the_kind_of_the_competing_values() {
        assert_eq!(
            typed_value("12", &[Value::from(9), Value::from(10)]),
            Value::from(12)
        );
        assert_eq!(typed_value("có", &[Value::Bool(false)]), Value::Bool(true));
        assert_eq!(
            typed_value(" Cảng ", &[Value::from("a")]),
            Value::from("Cảng")
        );
        assert_eq!(typed_value("", &[Value::from("a")]), Value::Null);
    }
}
