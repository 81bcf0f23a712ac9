//! The awareness classes page of the administration: the classes the office records
//! (who opened them, dates, place), each with its trainees counted from the case files
//! that name it, and a form to add or correct one. Devices pick these classes from their
//! reference data instead of typing a name.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::date::Date;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::{esc, run_page};
use crate::AppState;
use crate::classes::{self, Class};
use crate::error::AppError;
use crate::reports::{CaseFilter, OrgIndex, Period};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ClassesQuery {
    edit: Option<String>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a): Admin,
    Query(q): Query<ClassesQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let list = classes::visible(&conn, &orgs, &a.caller.scope_path)?;
        // Trainees of the caller's scope in every class, counted from the files.
        let all = Period {
            from: Date::from_days_since_epoch(0),
            to: Date::from_ymd(9999, 12, 31).unwrap_or(Date::from_days_since_epoch(0)),
        };
        let figures = classes::figures(&conn, &orgs, &root, all)?;
        drop(conn);
        let l = a.lang;
        let mut h = String::new();
        if q.saved.is_some() {
            h.push_str(&notice(l.t("Đã lưu.", "Saved.")));
        }
        h.push_str(&format!(
            "<table id=\"class-list\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th class=n>{}</th><th class=n>{}</th><th></th></tr>",
            esc(l.t("Mã", "Id")),
            esc(l.t("Lớp", "Class")),
            esc(l.t("Đơn vị mở lớp / giảng dạy", "Opened by / taught by")),
            esc(l.t("Thời gian", "Dates")),
            esc(l.t("Địa điểm", "Place")),
            esc(l.t("Học viên", "Trainees")),
            esc(l.t("Có giấy chứng nhận", "Certified")),
        ));
        for c in &list {
            let f = figures.list.iter().find(|f| f.id == c.id);
            h.push_str(&format!(
                r#"<tr><td>{}</td><td><a href="/central/cases?{}">{}</a></td><td>{} · {}</td><td>{} – {}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td><a href="/central/admin/classes?edit={}">{}</a></td></tr>"#,
                esc(&c.id),
                esc(&CaseFilter {
                    class_id: Some(c.id.clone()),
                    year: Some(c.start_date.year().to_string()),
                    ..CaseFilter::default()
                }
                .query_string()),
                esc(&c.name),
                esc(&orgs.name(&c.org_id)),
                esc(&c.organiser),
                esc(&c.start_date.format_vn()),
                esc(&c.end_date.format_vn()),
                esc(&c.place),
                l.int(f.map_or(0, |f| f.participants) as i64),
                l.int(f.map_or(0, |f| f.certified) as i64),
                esc(&crate::reports::url_encode(&c.id)),
                esc(l.t("Sửa", "Edit")),
            ));
        }
        h.push_str("</table>");
        let editing = q
            .edit
            .as_deref()
            .and_then(|id| list.iter().find(|c| c.id == id));
        let v = |f: &dyn Fn(&Class) -> String| editing.map(f).unwrap_or_default();
        let opts: String = orgs
            .subtree(&root)
            .map(|o| {
                format!(
                    r#"<option value="{id}"{sel}>{name}</option>"#,
                    id = esc(&o.id),
                    sel = if editing.is_some_and(|c| c.org_id == o.id) {
                        " selected"
                    } else {
                        ""
                    },
                    name = esc(&orgs.name_with_parents(&o.id)),
                )
            })
            .collect();
        h.push_str(&format!(
            r#"<h2>{title}</h2><form method="post" action="/central/admin/classes" class="filters stacked">{csrf}
<input type="hidden" name="id" value="{id}">
<label>{ol}<select name="org_id">{opts}</select></label>
<label>{nl}<input name="name" value="{name}" placeholder="Lớp bồi dưỡng nhận thức về Đảng khóa 1/2026" required></label>
<label>{gl}<input name="organiser" value="{organiser}" placeholder="Trung tâm Chính trị"></label>
<label>{sl}<input name="start" value="{start}" placeholder="dd/mm/yyyy" required></label>
<label>{el}<input name="end" value="{end}" placeholder="dd/mm/yyyy" required></label>
<label>{pl}<input name="place" value="{place}"></label>
<label>{notel}<input name="note" value="{note}"></label>
<button>{save}</button></form>"#,
            title = esc(if editing.is_some() {
                l.t("Sửa lớp", "Edit the class")
            } else {
                l.t("Thêm lớp", "Add a class")
            }),
            csrf = a.csrf_field(),
            id = esc(&v(&|c| c.id.clone())),
            ol = esc(l.t("Cấp ủy mở lớp", "Party organisation opening the class")),
            nl = esc(l.t("Tên lớp", "Name")),
            name = esc(&v(&|c| c.name.clone())),
            gl = esc(l.t("Đơn vị giảng dạy", "Taught by")),
            organiser = esc(&v(&|c| c.organiser.clone())),
            sl = esc(l.t("Ngày khai giảng", "First day")),
            start = esc(&v(&|c| c.start_date.format_vn())),
            el = esc(l.t("Ngày bế giảng", "Last day")),
            end = esc(&v(&|c| c.end_date.format_vn())),
            pl = esc(l.t("Địa điểm", "Place")),
            place = esc(&v(&|c| c.place.clone())),
            notel = esc(l.t("Ghi chú", "Note")),
            note = esc(&v(&|c| c.note.clone())),
            save = esc(l.t("Lưu", "Save")),
        ));
        Ok(admin_page(
            &a,
            l.t("Lớp bồi dưỡng nhận thức về Đảng", "Party awareness classes"),
            "classes",
            &h,
        ))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ClassForm {
    csrf: String,
    id: String,
    org_id: String,
    name: String,
    organiser: String,
    start: String,
    end: String,
    place: String,
    note: String,
}

fn date(v: &str, vi: &str, en: &str) -> Result<Date, AppError> {
    Date::parse_vn(v).ok_or_else(|| {
        AppError::bad_request(
            "BAD_DATE",
            format!("{vi}: ngày «{v}» không hợp lệ (dd/mm/yyyy)."),
            format!("{en}: `{v}` is not a valid date (dd/mm/yyyy)."),
        )
    })
}

pub async fn save(
    State(state): State<Arc<AppState>>,
    Admin(a): Admin,
    Form(f): Form<ClassForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |a| {
        let class = Class {
            id: f.id.trim().to_string(),
            org_id: f.org_id.trim().to_string(),
            name: f.name.trim().to_string(),
            organiser: f.organiser.trim().to_string(),
            start_date: date(&f.start, "Ngày khai giảng", "First day")?,
            end_date: date(&f.end, "Ngày bế giảng", "Last day")?,
            place: f.place.trim().to_string(),
            note: f.note.trim().to_string(),
        };
        let mut conn = store.conn();
        let orgs = OrgIndex::load(&conn)?;
        classes::save(&mut conn, &orgs, &a.caller, class)?;
        Ok(Redirect::to("/central/admin/classes?saved=1").into_response())
    })
    .await
}
