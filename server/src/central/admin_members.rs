//! The members register page of the administration: members per organisation, upload of
//! a CSV or XLSX file, the per-row error report or the preview of what will change, and
//! the confirmation that stores it.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::{esc, run_page};
use crate::AppState;
use crate::members::{self, MemberRow};
use crate::reports::{OrgIndex, url_encode};

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MembersQuery {
    stored: Option<String>,
}

fn upload_form(a: &super::Reviewer) -> String {
    let l = a.lang;
    // The form token travels in the query: a multipart body is read after the check.
    format!(
        r#"<h2>{title}</h2><p>{help}</p><form method="post" action="/central/admin/members?csrf={csrf}" enctype="multipart/form-data" class="filters stacked">
<label>{file}<input type="file" name="file" accept=".csv,.xlsx" required></label><button>{go}</button></form>"#,
        title = esc(l.t("Nhập danh sách đảng viên", "Import the members register")),
        help = esc(l.t(
            "Tệp CSV (UTF-8) hoặc XLSX, dòng đầu là tên cột: ma, to_chuc, ho_ten, ngay_chinh_thuc, trang_thai. Danh sách của mỗi tổ chức có trong tệp được thay bằng danh sách trong tệp.",
            "A CSV (UTF-8) or XLSX file whose first row names the columns: ma, to_chuc, ho_ten, ngay_chinh_thuc, trang_thai. The register of every organisation in the file is replaced by the file's."
        )),
        csrf = esc(&url_encode(a.csrf_token())),
        file = esc(l.t("Tệp", "File")),
        go = esc(l.t("Kiểm tra và xem trước", "Check and preview")),
    )
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a): Admin,
    Query(q): Query<MembersQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let counts: std::collections::HashMap<String, (i64, i64)> = conn
            .prepare(
                "SELECT org_id, SUM(status = 'official'), SUM(status <> 'official') FROM members GROUP BY org_id",
            )?
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
            .collect::<rusqlite::Result<_>>()?;
        drop(conn);
        let l = a.lang;
        let mut h = String::new();
        if let Some(s) = &q.stored {
            h.push_str(&notice(&if l.en {
                format!("Stored: {s}.")
            } else {
                format!("Đã lưu: {s}.")
            }));
        }
        h.push_str(&upload_form(&a));
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Số đảng viên theo tổ chức", "Members per organisation")),
            esc(l.t("Tổ chức", "Organisation")),
            esc(l.t("Chính thức", "Official")),
            esc(l.t("Dự bị", "Probationary")),
        ));
        for o in orgs.subtree(&root) {
            if let Some((off, prob)) = counts.get(&o.id) {
                h.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&orgs.name_with_parents(&o.id)),
                    l.int(*off),
                    l.int(*prob)
                ));
            }
        }
        h.push_str("</table>");
        Ok(admin_page(&a, l.t("Danh sách đảng viên", "Members register"), "members", &h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct UploadQuery {
    csrf: String,
}

fn member_cells(m: &MemberRow) -> String {
    format!(
        "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
        esc(&m.id),
        esc(&m.org_id),
        esc(&m.full_name),
        esc(m.official_since.as_deref().unwrap_or("–")),
        esc(&m.status)
    )
}

pub async fn upload(
    State(state): State<Arc<AppState>>,
    Admin(a): Admin,
    Query(q): Query<UploadQuery>,
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
    run_page(lang, move || {
        let l = a.lang;
        let result = members::preview(&store, &a.caller, &bytes)?;
        let mut h = String::new();
        match result {
            Err(errors) => {
                h.push_str(&format!(
                    r#"<p class="err" role="alert">{}</p><table><tr><th>{}</th><th>{}</th></tr>"#,
                    esc(&if l.en {
                        format!("{} rows have problems. Nothing was stored; correct the file and upload it again.", errors.len())
                    } else {
                        format!("{} dòng có lỗi. Chưa có gì được lưu; hãy sửa tệp và tải lên lại.", errors.len())
                    }),
                    esc(l.t("Dòng", "Row")),
                    esc(l.t("Lỗi", "Problem")),
                ));
                for e in &errors {
                    h.push_str(&format!(
                        r#"<tr class="row-error"><td>{}</td><td>{}</td></tr>"#,
                        e.row,
                        esc(if l.en { &e.message_en } else { &e.message_vi })
                    ));
                }
                h.push_str("</table>");
                h.push_str(&upload_form(&a));
            }
            Ok(p) => {
                h.push_str(&format!(
                    r#"<p id="preview-summary">{}</p>"#,
                    esc(&if l.en {
                        format!(
                            "{} added, {} changed, {} removed, {} unchanged in {} organisations.",
                            p.added.len(), p.changed.len(), p.removed.len(), p.unchanged, p.orgs.len()
                        )
                    } else {
                        format!(
                            "{} thêm mới, {} thay đổi, {} xoá khỏi danh sách, {} giữ nguyên, thuộc {} tổ chức.",
                            p.added.len(), p.changed.len(), p.removed.len(), p.unchanged, p.orgs.len()
                        )
                    })
                ));
                let head = format!(
                    "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
                    esc(l.t("Mã", "Id")),
                    esc(l.t("Tổ chức", "Organisation")),
                    esc(l.t("Họ tên", "Name")),
                    esc(l.t("Ngày chính thức", "Official since")),
                    esc(l.t("Trạng thái", "Status")),
                );
                for (title, rows) in [
                    (l.t("Thêm mới", "Added"), &p.added),
                    (l.t("Xoá khỏi danh sách", "Removed"), &p.removed),
                ] {
                    if rows.is_empty() {
                        continue;
                    }
                    h.push_str(&format!("<h2>{}</h2><table>{head}", esc(title)));
                    for m in rows.iter().take(500) {
                        h.push_str(&format!("<tr>{}</tr>", member_cells(m)));
                    }
                    h.push_str("</table>");
                }
                if !p.changed.is_empty() {
                    h.push_str(&format!("<h2>{}</h2><table>{head}", esc(l.t("Thay đổi (trước → sau)", "Changed (before → after)"))));
                    for (old, new) in p.changed.iter().take(500) {
                        h.push_str(&format!(
                            r#"<tr class="muted">{}</tr><tr>{}</tr>"#,
                            member_cells(old),
                            member_cells(new)
                        ));
                    }
                    h.push_str("</table>");
                }
                h.push_str(&format!(
                    r#"<form method="post" action="/central/admin/members/apply">{csrf}<input type="hidden" name="token" value="{token}"><button>{go}</button></form>"#,
                    csrf = a.csrf_field(),
                    token = esc(&p.token),
                    go = esc(l.t("Lưu danh sách này", "Store this register")),
                ));
            }
        }
        Ok(admin_page(&a, l.t("Danh sách đảng viên", "Members register"), "members", &h))
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
    Admin(a): Admin,
    Form(f): Form<ApplyForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |a| {
        let (n, removed, orgs) = members::apply(&store, &a.caller, &f.token)?;
        let done = format!("{n} / -{removed} / {orgs}");
        Ok(Redirect::to(&format!(
            "/central/admin/members?stored={}",
            url_encode(&done)
        ))
        .into_response())
    })
    .await
}
