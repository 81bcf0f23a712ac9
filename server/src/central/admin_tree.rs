//! The organisation tree page of the administration: the tree with its case files, and
//! forms to add, rename, move, merge and close organisations, each with the date and the
//! committee's decision; the history of every change below.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use shared::date::Date;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::{PageForm, PageQuery};
use super::{format_time, run_page};
use crate::AppState;
use crate::error::AppError;
use crate::orgtree::{self, Decision};
use crate::reports::{OrgIndex, url_encode};
use shared::api::ErrorCode;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TreeQuery {
    done: Option<String>,
    org: Option<String>,
}

fn kind_label(kind: &str, en: bool) -> &'static str {
    match (kind, en) {
        ("district", false) => "Đảng bộ cấp trên",
        ("district", true) => "Superior committee",
        ("committee", false) => "Đảng bộ cơ sở",
        ("committee", true) => "Grassroots committee",
        ("branch", false) => "Chi bộ",
        ("branch", true) => "Branch",
        (_, false) => "Chi bộ trực thuộc",
        (_, true) => "Sub-branch",
    }
}

pub async fn tree(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageQuery(q): PageQuery<TreeQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let counts = orgtree::file_counts(&conn, &root)?;
        let closed = crate::db::orgs::closed(&conn)?;
        let history = orgtree::history(&conn, &admin, q.org.as_deref())?;
        drop(conn);
        let l = a.lang;
        let done = q.done.as_ref().map(|done| {
            notice(&if l.en {
                format!("Saved: {done}.")
            } else {
                format!("Đã lưu: {done}.")
            })
        });
        let depth0 = root.matches('/').count();
        let open_opts = html! {
            @for o in orgs.subtree(&root).filter(|o| !closed.contains_key(&o.id)) {
                option value=(o.id) { (orgs.name_with_parents(&o.id)) }
            }
        };
        let decision = html! {
            label { (l.t("Ngày hiệu lực", "Effective date")) input name="effective" placeholder="dd/mm/yyyy" required; }
            label { (l.t("Quyết định (số, ngày)", "Decision (number, date)")) input name="decision" required; }
        };
        let forms = [
            (
                "add",
                l.t("Thêm tổ chức", "Add an organisation"),
                html! {
                    label { (l.t("Thuộc", "Under")) select name="parent" { (open_opts) } }
                    label { (l.t("Mã (chữ không dấu, số, '-')", "Id (letters, digits, '-')")) input name="id" required; }
                    label { (l.t("Tên", "Name")) input name="name" required; }
                    label { (l.t("Loại", "Kind"))
                        select name="kind" {
                            option value="branch" { (kind_label("branch", l.en)) }
                            option value="committee" { (kind_label("committee", l.en)) }
                            option value="sub_branch" { (kind_label("sub_branch", l.en)) }
                        }
                    }
                    label.choice {
                        input type="checkbox" name="grassroots" value="1";
                        " " (l.t("Là tổ chức cơ sở đảng", "A grassroots party organisation"))
                    }
                },
            ),
            (
                "rename",
                l.t("Đổi tên", "Rename"),
                html! {
                    label { (l.t("Tổ chức", "Organisation")) select name="org" { (open_opts) } }
                    label { (l.t("Tên mới", "New name")) input name="name" required; }
                },
            ),
            (
                "move",
                l.t("Chuyển sang cấp ủy cấp trên khác", "Move under another superior committee"),
                html! {
                    label { (l.t("Tổ chức", "Organisation")) select name="org" { (open_opts) } }
                    label { (l.t("Cấp trên mới", "New superior")) select name="parent" { (open_opts) } }
                },
            ),
            (
                "merge",
                l.t("Hợp nhất hai tổ chức", "Merge two organisations"),
                html! {
                    label { (l.t("Tổ chức được hợp nhất (sẽ giải thể)", "Organisation merged (it closes)"))
                        select name="org" { (open_opts) } }
                    label { (l.t("Vào tổ chức", "Into")) select name="into" { (open_opts) } }
                },
            ),
            (
                "close",
                l.t("Giải thể", "Close"),
                html! {
                    label { (l.t("Tổ chức (không còn hồ sơ, đơn vị, tài khoản)", "Organisation (no files, units or accounts left)"))
                        select name="org" { (open_opts) } }
                },
            ),
        ];
        let h = html! {
            @if let Some(n) = done { (n) }
            table {
                tr {
                    th { (l.t("Tổ chức", "Organisation")) }
                    th { (l.t("Loại", "Kind")) }
                    th { (l.t("Mã", "Id")) }
                    th { (l.t("Hồ sơ", "Case files")) }
                }
                @for o in orgs.subtree(&root) {
                    @let indent = o.path.matches('/').count().saturating_sub(depth0).min(6);
                    tr.org {
                        td class={ "indent-" (indent) } {
                            a href={ "/central/admin/orgs?org=" (url_encode(&o.id)) } { (o.name) }
                            @if let Some(d) = closed.get(&o.id) {
                                " " span.muted { "(" (l.t("giải thể", "closed")) " " (d) ")" }
                            }
                        }
                        td { (kind_label(&o.kind, l.en)) }
                        td { code { (o.id) } }
                        td { (counts.get(&o.id).copied().unwrap_or(0)) }
                    }
                }
            }
            @for (action, title, fields) in &forms {
                h2 { (title) }
                form method="post" action="/central/admin/orgs" class="filters stacked" {
                    (a.csrf_field())
                    input type="hidden" name="action" value=(action);
                    (fields) (decision)
                    button { (title) }
                }
            }
            h2 { (l.t("Lịch sử thay đổi cây tổ chức", "History of the tree")) }
            table {
                tr {
                    th { (l.t("Thời điểm", "Time")) }
                    th { (l.t("Tổ chức", "Organisation")) }
                    th { (l.t("Thay đổi", "Change")) }
                    th { (l.t("Hiệu lực", "Effective")) }
                    th { (l.t("Quyết định", "Decision")) }
                    th { (l.t("Người thực hiện", "By")) }
                }
                @for c in &history {
                    tr.org-change {
                        td { (format_time(c.at)) }
                        td { (orgs.name(&c.org_id)) }
                        td { code { (c.action) } " " (c.detail) }
                        td { (c.effective.as_deref().unwrap_or("–")) }
                        td { (c.decision) }
                        td { (c.by) }
                    }
                }
            }
        };
        Ok(admin_page(&a, l.t("Cây tổ chức", "Organisation tree"), "orgs", h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TreeForm {
    csrf: String,
    action: String,
    org: String,
    parent: String,
    into: String,
    id: String,
    name: String,
    kind: String,
    grassroots: Option<String>,
    effective: String,
    decision: String,
}

pub async fn change(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<TreeForm>,
) -> Response {
    on_form(a, f.csrf.clone(), move |_| {
        let effective = Date::parse_vn(&f.effective).ok_or_else(|| {
            AppError::bad_request(
                ErrorCode::BadDate,
                format!("Ngày hiệu lực «{}» không hợp lệ (dd/mm/yyyy).", f.effective),
                format!(
                    "Effective date `{}` is not valid (dd/mm/yyyy).",
                    f.effective
                ),
            )
        })?;
        let d = Decision {
            effective,
            reference: f.decision.clone(),
        };
        let store = &state.store;
        let done = match f.action.as_str() {
            "add" => {
                orgtree::add(
                    store,
                    &admin,
                    f.id.trim(),
                    &f.parent,
                    &f.name,
                    &f.kind,
                    f.grassroots.is_some(),
                    &d,
                )?;
                f.id.trim().to_string()
            }
            "rename" => {
                orgtree::rename(store, &admin, &f.org, &f.name, &d)?;
                f.org.clone()
            }
            "move" => {
                orgtree::move_under(store, &admin, &f.org, &f.parent, &d)?;
                f.org.clone()
            }
            "merge" => {
                let n = orgtree::merge(store, &state.rules(), &admin, &f.org, &f.into, &d)?;
                format!("{} → {} ({n})", f.org, f.into)
            }
            "close" => {
                orgtree::close(store, &admin, &f.org, &d)?;
                f.org.clone()
            }
            other => {
                return Err(AppError::bad_request(
                    ErrorCode::BadAction,
                    format!("Thao tác không hợp lệ: {other}."),
                    format!("Invalid action: {other}."),
                ));
            }
        };
        Ok(
            Redirect::to(&format!("/central/admin/orgs?done={}", url_encode(&done)))
                .into_response(),
        )
    })
    .await
}
