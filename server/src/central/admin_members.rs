//! The members register page of the administration: members per organisation, upload of
//! a CSV or XLSX file, the per-row error report or the preview of what will change, and
//! the confirmation that stores it.

use std::sync::Arc;

use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::{PageForm, PageQuery};
use super::{run_form, run_page};
use crate::AppState;
use crate::members::{self, MemberRow};
use crate::reports::{OrgIndex, url_encode};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MembersQuery {
    stored: Option<String>,
}

fn upload_form(a: &super::Reviewer) -> Markup {
    let l = a.lang;
    // The form token travels in the query: a multipart body is read after the check.
    let action = format!("/central/admin/members?csrf={}", url_encode(a.csrf_token()));
    html! {
        h2 { (l.t("Nhập danh sách đảng viên", "Import the members register")) }
        p { (l.t(
            "Tệp CSV (UTF-8) hoặc XLSX, dòng đầu là tên cột: ma, to_chuc, ho_ten, ngay_chinh_thuc, trang_thai. Danh sách của mỗi tổ chức có trong tệp được thay bằng danh sách trong tệp.",
            "A CSV (UTF-8) or XLSX file whose first row names the columns: ma, to_chuc, ho_ten, ngay_chinh_thuc, trang_thai. The register of every organisation in the file is replaced by the file's.",
        )) }
        form method="post" action=(action) enctype="multipart/form-data" class="filters stacked" {
            label { (l.t("Tệp", "File")) input type="file" name="file" accept=".csv,.xlsx" required; }
            button { (l.t("Kiểm tra và xem trước", "Check and preview")) }
        }
    }
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a, _): Admin,
    PageQuery(q): PageQuery<MembersQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let counts = crate::db::members::counts_per_org(&conn)?;
        drop(conn);
        let l = a.lang;
        let stored = q.stored.as_ref().map(|s| {
            notice(&if l.en {
                format!("Stored: {s}.")
            } else {
                format!("Đã lưu: {s}.")
            })
        });
        let h = html! {
            @if let Some(n) = stored { (n) }
            (upload_form(&a))
            h2 { (l.t("Số đảng viên theo tổ chức", "Members per organisation")) }
            table {
                tr {
                    th { (l.t("Tổ chức", "Organisation")) }
                    th { (l.t("Chính thức", "Official")) }
                    th { (l.t("Dự bị", "Probationary")) }
                }
                @for o in orgs.subtree(&root) {
                    @if let Some((off, prob)) = counts.get(&o.id) {
                        tr {
                            td { (orgs.name_with_parents(&o.id)) }
                            td { (l.int(*off)) }
                            td { (l.int(*prob)) }
                        }
                    }
                }
            }
        };
        Ok(admin_page(
            &a,
            l.t("Danh sách đảng viên", "Members register"),
            "members",
            h,
        ))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    csrf: String,
}

fn member_cells(m: &MemberRow) -> Markup {
    html! {
        td { (m.id) }
        td { (m.org_id) }
        td { (m.full_name) }
        td { (m.official_since.as_deref().unwrap_or("–")) }
        td { (m.status) }
    }
}

pub async fn upload(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageQuery(q): PageQuery<UploadQuery>,
    mut form: Multipart,
) -> Response {
    if let Some(resp) = a.refuse_bad_csrf(&q.csrf) {
        return resp;
    }
    let bytes = match super::uploaded_file(&mut form, a.lang).await {
        Ok(b) => b,
        Err(page) => return page,
    };
    let store = state.store.clone();
    let lang = a.lang;
    run_form(lang, move || {
        let l = a.lang;
        let result = members::preview(&store, &admin, &bytes)?;
        let h = match result {
            Err(errors) => {
                let summary = if l.en {
                    format!("{} rows have problems. Nothing was stored; correct the file and upload it again.", errors.len())
                } else {
                    format!("{} dòng có lỗi. Chưa có gì được lưu; hãy sửa tệp và tải lên lại.", errors.len())
                };
                html! {
                    p.err role="alert" { (summary) }
                    table {
                        tr { th { (l.t("Dòng", "Row")) } th { (l.t("Lỗi", "Problem")) } }
                        @for e in &errors {
                            tr.row-error {
                                td { (e.row) }
                                td { (if l.en { &e.message_en } else { &e.message_vi }) }
                            }
                        }
                    }
                    (upload_form(&a))
                }
            }
            Ok(p) => {
                let summary = if l.en {
                    format!(
                        "{} added, {} changed, {} removed, {} unchanged in {} organisations.",
                        p.added.len(), p.changed.len(), p.removed.len(), p.unchanged, p.orgs.len()
                    )
                } else {
                    format!(
                        "{} thêm mới, {} thay đổi, {} xoá khỏi danh sách, {} giữ nguyên, thuộc {} tổ chức.",
                        p.added.len(), p.changed.len(), p.removed.len(), p.unchanged, p.orgs.len()
                    )
                };
                let head = html! {
                    tr {
                        th { (l.t("Mã", "Id")) }
                        th { (l.t("Tổ chức", "Organisation")) }
                        th { (l.t("Họ tên", "Name")) }
                        th { (l.t("Ngày chính thức", "Official since")) }
                        th { (l.t("Trạng thái", "Status")) }
                    }
                };
                html! {
                    p id="preview-summary" { (summary) }
                    @for (title, rows) in [
                        (l.t("Thêm mới", "Added"), &p.added),
                        (l.t("Xoá khỏi danh sách", "Removed"), &p.removed),
                    ] {
                        @if !rows.is_empty() {
                            h2 { (title) }
                            table {
                                (head)
                                @for m in rows.iter().take(500) { tr { (member_cells(m)) } }
                            }
                        }
                    }
                    @if !p.changed.is_empty() {
                        h2 { (l.t("Thay đổi (trước → sau)", "Changed (before → after)")) }
                        table {
                            (head)
                            @for (old, new) in p.changed.iter().take(500) {
                                tr.muted { (member_cells(old)) }
                                tr { (member_cells(new)) }
                            }
                        }
                    }
                    form method="post" action="/central/admin/members/apply" {
                        (a.csrf_field())
                        input type="hidden" name="token" value=(p.token);
                        button { (l.t("Lưu danh sách này", "Store this register")) }
                    }
                }
            }
        };
        Ok(admin_page(&a, l.t("Danh sách đảng viên", "Members register"), "members", h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ApplyForm {
    csrf: String,
    token: String,
}

pub async fn apply(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<ApplyForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        let (n, removed, orgs) = members::apply(&store, &admin, &f.token)?;
        let done = format!("{n} / -{removed} / {orgs}");
        Ok(Redirect::to(&format!(
            "/central/admin/members?stored={}",
            url_encode(&done)
        ))
        .into_response())
    })
    .await
}
