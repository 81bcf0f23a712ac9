//! The awareness classes page of the administration: the classes the office records
//! (who opened them, dates, place), each with its trainees counted from the case files
//! that name it, and a form to add or correct one. Devices pick these classes from their
//! reference data instead of typing a name.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use shared::date::Date;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::run_page;
use super::{PageForm, PageQuery};
use crate::AppState;
use crate::classes::{self, Class};
use crate::reports::{CaseFilter, ClassId, OrgIndex, Period};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ClassesQuery {
    edit: Option<String>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a, _): Admin,
    PageQuery(q): PageQuery<ClassesQuery>,
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
        let editing = q
            .edit
            .as_deref()
            .and_then(|id| list.iter().find(|c| c.id == id));
        let v = |f: &dyn Fn(&Class) -> String| editing.map(f).unwrap_or_default();
        let h = html! {
            @if q.saved.is_some() { (notice(l.t("Đã lưu.", "Saved."))) }
            table id="class-list" {
                tr {
                    th { (l.t("Mã", "Id")) }
                    th { (l.t("Lớp", "Class")) }
                    th { (l.t("Đơn vị mở lớp / giảng dạy", "Opened by / taught by")) }
                    th { (l.t("Thời gian", "Dates")) }
                    th { (l.t("Địa điểm", "Place")) }
                    th.n { (l.t("Học viên", "Trainees")) }
                    th.n { (l.t("Có giấy chứng nhận", "Certified")) }
                    th {}
                }
                @for c in &list {
                    @let f = figures.list.iter().find(|f| f.id == c.id);
                    @let cases = CaseFilter {
                        class_id: Some(ClassId(c.id.clone())),
                        year: Some(c.start_date.year()),
                        ..CaseFilter::default()
                    }
                    .query_string();
                    tr {
                        td { (c.id) }
                        td { a href={ "/central/cases?" (cases) } { (c.name) } }
                        td { (orgs.name(&c.org_id)) " · " (c.organiser) }
                        td { (c.start_date.format_vn()) " – " (c.end_date.format_vn()) }
                        td { (c.place) }
                        td.n { (l.int(f.map_or(0, |f| f.participants) as i64)) }
                        td.n { (l.int(f.map_or(0, |f| f.certified) as i64)) }
                        td { a href={ "/central/admin/classes?edit=" (crate::reports::url_encode(&c.id)) } { (l.t("Sửa", "Edit")) } }
                    }
                }
            }
            h2 { (if editing.is_some() {
                l.t("Sửa lớp", "Edit the class")
            } else {
                l.t("Thêm lớp", "Add a class")
            }) }
            form method="post" action="/central/admin/classes" class="filters stacked" {
                (a.csrf_field())
                input type="hidden" name="id" value=(v(&|c| c.id.clone()));
                label { (l.t("Cấp ủy mở lớp", "Party organisation opening the class"))
                    select name="org_id" {
                        @for o in orgs.subtree(&root) {
                            option value=(o.id) selected[editing.is_some_and(|c| c.org_id == o.id)] {
                                (orgs.name_with_parents(&o.id))
                            }
                        }
                    }
                }
                label { (l.t("Tên lớp", "Name"))
                    input name="name" value=(v(&|c| c.name.clone())) placeholder="Lớp bồi dưỡng nhận thức về Đảng khóa 1/2026" required; }
                label { (l.t("Đơn vị giảng dạy", "Taught by"))
                    input name="organiser" value=(v(&|c| c.organiser.clone())) placeholder="Trung tâm Chính trị"; }
                label { (l.t("Ngày khai giảng", "First day"))
                    input name="start" value=(v(&|c| c.start_date.format_vn())) placeholder="dd/mm/yyyy" required; }
                label { (l.t("Ngày bế giảng", "Last day"))
                    input name="end" value=(v(&|c| c.end_date.format_vn())) placeholder="dd/mm/yyyy" required; }
                label { (l.t("Địa điểm", "Place"))
                    input name="place" value=(v(&|c| c.place.clone())); }
                label { (l.t("Ghi chú", "Note"))
                    input name="note" value=(v(&|c| c.note.clone())); }
                button { (l.t("Lưu", "Save")) }
            }
        };
        Ok(admin_page(
            &a,
            l.t("Lớp bồi dưỡng nhận thức về Đảng", "Party awareness classes"),
            "classes",
            h,
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

pub async fn save(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<ClassForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        let class = Class {
            id: f.id.trim().to_string(),
            org_id: f.org_id.trim().to_string(),
            name: f.name.trim().to_string(),
            organiser: f.organiser.trim().to_string(),
            start_date: super::admin::parse_date(&f.start, "Ngày khai giảng", "First day")?,
            end_date: super::admin::parse_date(&f.end, "Ngày bế giảng", "Last day")?,
            place: f.place.trim().to_string(),
            note: f.note.trim().to_string(),
        };
        let mut conn = store.conn();
        let orgs = OrgIndex::load(&conn)?;
        classes::save(&mut conn, &orgs, &admin, class)?;
        Ok(Redirect::to("/central/admin/classes?saved=1").into_response())
    })
    .await
}
