//! The reviewer's queues: conflicts to resolve (competing values side by side, each
//! field by its label and each device by its model, nothing chosen in advance, and a
//! confirmation once resolved), case files with findings after the merge (each naming
//! its rule as the cadre's app does), and deadlines overdue or coming up.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use shared::stage::Stage;

use super::cases::return_form;
use super::{Reviewer, date, esc, export_links, format_time, org_options, page, present, run_page};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::error::AppError;
use crate::reports::{self, OrgIndex, stage_label, url_encode};
use crate::review::{self, ReportQuery};

/// `?resolved=ID`: the conflict the reviewer has just resolved, confirmed at the top.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ResolvedQuery {
    resolved: Option<i64>,
}

/// The device that wrote a value, told apart from the user's other devices.
fn device_of(conn: &rusqlite::Connection, actor: &str, name: &str) -> String {
    let id: Option<String> = conn
        .query_row(
            "SELECT device_id FROM actors WHERE actor = ?1",
            [actor],
            |row| row.get(0),
        )
        .ok();
    present::device_label(name, id.as_deref())
}

pub async fn conflicts(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
    Query(done): Query<ResolvedQuery>,
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
                let s: String = conn
                    .query_row(
                        "SELECT stage FROM projections WHERE doc_id = ?1",
                        [&c.doc_id],
                        |row| row.get(0),
                    )
                    .unwrap_or_default();
                stages.insert(c.doc_id.clone(), s);
            }
        }
        drop(conn);
        let l = r.lang;
        let mut h = String::new();
        if let Some(c) = &just_resolved {
            let value = c
                .resolution
                .as_ref()
                .and_then(|v| v.get("value"))
                .map(|v| present::value_label(&c.path, v, l))
                .unwrap_or_default();
            h.push_str(&format!(
                r#"<p class="banner done" role="status" id="resolved-notice">{} <strong>{}</strong> {} <a href="/central/cases/{}">{}</a>: {} «{}». {}</p>"#,
                esc(l.t("Đã giải quyết xung đột", "Resolved the conflict on")),
                esc(&present::field_label(&c.path, l)),
                esc(l.t("của hồ sơ", "of the file of")),
                esc(&url_encode(&c.doc_id)),
                esc(&c.full_name),
                esc(l.t("giữ giá trị", "kept")),
                esc(&value),
                esc(l.t(
                    "Các thiết bị sẽ nhận giá trị này ở lần đồng bộ tới.",
                    "Devices receive this value at their next sync."
                )),
            ));
        }
        h.push_str(&format!(
            r#"<p><a href="/central/conflicts">{}</a> · <a href="/central/conflicts?state=closed">{}</a></p><p><strong id="conflict-count">{}</strong> {}</p>"#,
            esc(l.t("Đang mở", "Open")),
            esc(l.t("Đã giải quyết", "Resolved")),
            rows.len(),
            esc(if closed {
                l.t("xung đột đã giải quyết", "resolved conflicts")
            } else {
                l.t("xung đột đang chờ", "open conflicts")
            })
        ));
        h.push_str(&export_links(
            l,
            "conflicts",
            if closed { "state=closed" } else { "" },
        ));
        for c in &rows {
            h.push_str(&format!(
                r#"<section class="conflict" id="conflict-{id}"><h2><a href="/central/cases/{doc}">{name}</a> · {path}</h2>
<p class="muted">{org} · {stage} · {opened} {opened_at}</p><div class="values">"#,
                id = c.id,
                doc = esc(&url_encode(&c.doc_id)),
                name = esc(&c.full_name),
                path = esc(&present::field_label(&c.path, l)),
                org = esc(&orgs.name_with_parents(&c.org_id)),
                stage = esc(&stage_label(
                    stages.get(&c.doc_id).map(String::as_str).unwrap_or(""),
                    l.en
                )),
                opened = esc(l.t("mở lúc", "opened")),
                opened_at = esc(&format_time(c.opened_at)),
            ));
            for v in &c.values {
                h.push_str(&format!(
                    r#"<div class="value{win}"><div class="v"><strong>«{val}»</strong></div><div>{user}</div><div class="muted">{dev_l}: {dev} · {time}</div>{winner}</div>"#,
                    win = if v.winner { " win" } else { "" },
                    val = esc(&present::value_label(&c.path, &v.value, l)),
                    user = esc(&v.user),
                    dev_l = esc(l.t("thiết bị", "device")),
                    dev = esc(devices.get(&v.actor).map(String::as_str).unwrap_or("?")),
                    time = esc(&format_time(v.time)),
                    winner = if v.winner {
                        format!(
                            r#"<div class="muted">{}</div>"#,
                            esc(l.t(
                                "đang hiển thị trên thiết bị",
                                "currently shown on devices"
                            ))
                        )
                    } else {
                        String::new()
                    },
                ));
            }
            h.push_str("</div>");
            if let Some(at) = c.closed_at {
                h.push_str(&format!(
                    "<p>{} <strong>{}</strong> · {} «{}» · {}</p>",
                    esc(l.t("Giải quyết bởi", "Resolved by")),
                    esc(c.resolved_by.as_deref().unwrap_or("?")),
                    esc(l.t("giá trị", "value")),
                    esc(&c
                        .resolution
                        .as_ref()
                        .and_then(|r| r.get("value"))
                        .map(|v| present::value_label(&c.path, v, l))
                        .unwrap_or_default()),
                    esc(&format_time(at)),
                ));
            } else {
                let radios: String = c
                    .values
                    .iter()
                    .map(|v| {
                        // Nothing is chosen in advance: the reviewer picks on purpose.
                        format!(
                            r#"<label class="choice"><input type="radio" name="choice" value="{}" required> «{}»</label>"#,
                            esc(&v.value.to_string()),
                            esc(&present::value_label(&c.path, &v.value, l)),
                        )
                    })
                    .collect();
                h.push_str(&format!(
                    r#"<form method="post" action="/central/conflicts/{id}/resolve" class="filters resolve"><fieldset><legend>{legend}</legend>{csrf}{radios}
<label class="choice"><input type="radio" name="choice" value="__new__" required> {other}</label>
<label class="choice">{other_l}<input name="new_value" size="30"></label></fieldset>
<button>{go}</button></form>"#,
                    id = c.id,
                    csrf = r.csrf_field(),
                    legend = esc(l.t("Giá trị đúng", "The right value")),
                    other = esc(l.t("Giá trị khác (gõ bên cạnh)", "Another value (type it beside)")),
                    other_l = esc(l.t("Giá trị khác:", "Another value:")),
                    go = esc(l.t("Dùng giá trị đã chọn", "Use the chosen value")),
                ));
            }
            h.push_str("</section>");
        }
        Ok(page(
            &r,
            r.t("Hàng đợi xung đột", "Conflict queue"),
            "conflicts",
            &h,
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
    Form(form): Form<ResolveForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&form.csrf) {
        return resp;
    }
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    run_page(lang, move || {
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
                    "BAD_VALUE",
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

/// A queue whose filters cannot be read: the errors beside a way back, instead of a bare
/// error page.
fn bad_filters(
    r: &Reviewer,
    q: &ReportQuery,
    title: &str,
    active: &str,
    path: &str,
) -> Option<Response> {
    let errors = present::filter_errors(q, r.lang);
    if errors.is_empty() {
        return None;
    }
    let body = format!(
        r#"{}<p><a href="{path}">{}</a></p>"#,
        present::filter_errors_html(&errors, r.lang),
        esc(r.lang.t("Xem không có bộ lọc", "Show without filters"))
    );
    Some(page(r, title, active, &body))
}

pub async fn findings(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    if let Some(resp) = bad_filters(
        &r,
        &q,
        r.t("Phát hiện", "Findings"),
        "findings",
        "/central/findings",
    ) {
        return resp;
    }
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = reports::resolve_org(&orgs, &r.caller, q.filter.org.as_deref())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let rows = reports::findings(&conn, &orgs, &r.caller, &q.filter, today_vn())?;
        let codes = reports::finding_codes(&conn, &orgs, &root)?;
        drop(conn);
        let l = r.lang;
        let f = &q.filter;
        let sel = |a: Option<&str>, b: &str| if a == Some(b) { " selected" } else { "" };
        let code_opts: String = std::iter::once(format!(
            r#"<option value="">{}</option>"#,
            esc(l.t("(mọi mã)", "(any code)"))
        ))
        .chain(codes.iter().map(|(c, n)| {
            // The rule first, as both apps name it; the code tells checks of one rule apart.
            let rule = shared::rules::rule_number(c, "")
                .filter(|_| c != "DOCUMENT_AFTER_BRANCH_VOTE")
                .map(|r| format!("{r} · "))
                .unwrap_or_default();
            format!(
                r#"<option value="{c}"{}>{rule}{c} ({n})</option>"#,
                sel(f.code.as_deref(), c),
                c = esc(c)
            )
        }))
        .collect();
        let stage_opts: String = std::iter::once(format!(
            r#"<option value="">{}</option>"#,
            esc(l.t("(mọi giai đoạn)", "(any stage)"))
        ))
        .chain(Stage::ALL.iter().map(|s| {
            format!(
                r#"<option value="{}"{}>{}</option>"#,
                s.code(),
                sel(f.stage.as_deref(), s.code()),
                esc(l.t(s.label_vi(), s.label_en()))
            )
        }))
        .collect();
        let sev = f.severity.as_deref();
        let mut h = format!(
            r#"<form class="filters" method="get" action="/central/findings">
<label>{org_l}<select name="org">{orgs}</select></label>
<label>{code_l}<select name="code">{code_opts}</select></label>
<label>{stage_l}<select name="stage">{stage_opts}</select></label>
<label>{sev_l}<select name="severity"><option value="any">{both}</option><option value="blocking"{sb}>{blocking}</option><option value="warning"{sw}>{warning}</option></select></label>
<button>{go}</button></form>"#,
            org_l = esc(l.t("Tổ chức", "Organisation")),
            orgs = org_options(&orgs, &scope, &root.id),
            code_l = esc(l.t("Mã quy tắc", "Rule code")),
            stage_l = esc(l.t("Giai đoạn", "Stage")),
            sev_l = esc(l.t("Mức", "Severity")),
            both = esc(l.t("Chặn và cảnh báo", "Blocking and warnings")),
            blocking = esc(l.t("Chặn", "Blocking")),
            warning = esc(l.t("Cảnh báo", "Warning")),
            sb = sel(sev, "blocking"),
            sw = sel(sev, "warning"),
            go = esc(l.t("Lọc", "Filter")),
        );
        // One block per case file, in the Vietnamese order of names.
        let mut files: Vec<(String, Vec<&reports::FindingRow>)> = Vec::new();
        for row in &rows {
            match files.last_mut() {
                Some((id, list)) if *id == row.doc_id => list.push(row),
                _ => files.push((row.doc_id.clone(), vec![row])),
            }
        }
        h.push_str(&format!(
            r#"<p><strong id="finding-files">{}</strong> {} · {} {}</p>"#,
            files.len(),
            esc(l.t("hồ sơ", "case files")),
            rows.len(),
            esc(l.t("phát hiện", "findings"))
        ));
        h.push_str(&export_links(l, "findings", &f.query_string()));
        let back = r.uri.clone();
        for (id, list) in files.iter().take(300) {
            let first = list[0];
            h.push_str(&format!(
                r#"<section><h2><a href="/central/cases/{}">{}</a> <span class="muted">{} · {}{}</span></h2><ul>"#,
                esc(&url_encode(id)),
                esc(&first.full_name),
                esc(&orgs.name_with_parents(&first.org_id)),
                esc(&stage_label(&first.stage, l.en)),
                if first.returned {
                    format!(" · {}", esc(l.t("đã trả lại", "returned")))
                } else {
                    String::new()
                },
            ));
            for f in list {
                let rule = shared::rules::rule_number(&f.code, &f.field)
                    .map(|r| format!(r#" <span class="muted">{}</span>"#, esc(r)))
                    .unwrap_or_default();
                h.push_str(&format!(
                    r#"<li class="sev-{}" data-code="{}">{}{rule}</li>"#,
                    esc(&f.severity),
                    esc(&f.code),
                    esc(if l.en { &f.message_en } else { &f.message_vi })
                ));
            }
            h.push_str("</ul>");
            h.push_str(&return_form(&r, id, first.returned).replace(
                "</form>",
                &format!(
                    r#"<input type="hidden" name="back" value="{}"></form>"#,
                    esc(&back)
                ),
            ));
            h.push_str("</section>");
        }
        if files.len() > 300 {
            h.push_str(&format!(
                r#"<p class="muted">{} 300 / {}</p>"#,
                esc(l.t("Hiển thị", "Showing")),
                files.len()
            ));
        }
        Ok(page(
            &r,
            r.t("Hàng đợi phát hiện", "Findings queue"),
            "findings",
            &h,
        ))
    })
    .await
}

pub async fn deadlines(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    if let Some(resp) = bad_filters(
        &r,
        &q,
        r.t("Thời hạn", "Deadlines"),
        "deadlines",
        "/central/deadlines",
    ) {
        return resp;
    }
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    run_page(lang, move || {
        let days = q.days()?;
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = reports::resolve_org(&orgs, &r.caller, q.filter.org.as_deref())?.clone();
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let d = reports::deadlines(
            &conn,
            &orgs,
            &r.caller,
            q.filter.org.as_deref(),
            days,
            today_vn(),
        )?;
        let missing = crate::administration::uncovered_deadline_years(&conn, &rules)?;
        drop(conn);
        let l = r.lang;
        let mut h = super::calendar_warning(l, &missing);
        h += &format!(
            r#"<form class="filters" method="get" action="/central/deadlines">
<label>{org_l}<select name="org">{orgs}</select></label>
<label>{days_l}<input name="days" size="3" value="{days}"></label><button>{go}</button></form>
<p><span class="bad"><strong id="overdue">{overdue}</strong> {overdue_l}</span> · <strong id="upcoming">{upcoming}</strong> {upcoming_l} {days} {days_u}</p>"#,
            org_l = esc(l.t("Tổ chức", "Organisation")),
            orgs = org_options(&orgs, &scope, &root.id),
            days_l = esc(l.t("Số ngày tới", "Days ahead")),
            go = esc(l.t("Xem", "Show")),
            overdue = d.overdue,
            overdue_l = esc(l.t("quá hạn", "overdue")),
            upcoming = d.upcoming,
            upcoming_l = esc(l.t("đến hạn trong", "due within")),
            days_u = esc(l.t("ngày", "days")),
        );
        h.push_str(&export_links(
            l,
            "deadlines",
            &format!("org={}&days={days}", url_encode(&root.id)),
        ));
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th></tr>",
            esc(l.t("Theo tổ chức", "Per organisation")),
            esc(l.t("Tổ chức cơ sở đảng", "Grassroots organisation")),
            esc(l.t("Quá hạn", "Overdue")),
            esc(l.t("Sắp đến hạn", "Upcoming")),
        ));
        for o in &d.per_org {
            h.push_str(&format!(
                r#"<tr><td><a href="/central/deadlines?org={}&amp;days={days}">{}</a></td><td class=n>{}</td><td class=n>{}</td></tr>"#,
                esc(&url_encode(&o.org_id)),
                esc(&o.name),
                o.overdue,
                o.upcoming
            ));
        }
        h.push_str("</table>");
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Danh sách", "List")),
            esc(l.t("Hạn", "Due")),
            esc(l.t("Việc", "Task")),
            esc(l.t("Họ và tên", "Full name")),
            esc(l.t("Tổ chức", "Organisation")),
        ));
        for row in d.rows.iter().take(1000) {
            let due = if row.overdue {
                format!(
                    r#"<span class="bad">{} ({} {})</span>"#,
                    date(Some(row.due)),
                    esc(l.t("quá", "late by")),
                    -row.days_left
                )
            } else {
                format!(
                    "{} ({} {})",
                    date(Some(row.due)),
                    esc(l.t("còn", "in")),
                    row.days_left
                )
            };
            h.push_str(&format!(
                r#"<tr><td>{due}</td><td>{}</td><td><a href="/central/cases/{}">{}</a></td><td>{}</td></tr>"#,
                esc(if l.en { &row.label_en } else { &row.label_vi }),
                esc(&url_encode(&row.doc_id)),
                esc(&row.full_name),
                esc(&orgs.name_with_parents(&row.org_id)),
            ));
        }
        h.push_str("</table>");
        Ok(page(&r, r.t("Thời hạn", "Deadlines"), "deadlines", &h))
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
