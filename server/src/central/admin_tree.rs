//! The organisation tree page of the administration: the tree with its case files, and
//! forms to add, rename, move, merge and close organisations, each with the date and the
//! committee's decision; the history of every change below.

use std::sync::Arc;

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use shared::date::Date;

use super::admin::{Admin, admin_page, notice, on_form, scope_root};
use super::{esc, format_time, run_page};
use crate::AppState;
use crate::error::AppError;
use crate::orgtree::{self, Decision};
use crate::reports::{OrgIndex, url_encode};

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
    Admin(a): Admin,
    Query(q): Query<TreeQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let counts = orgtree::file_counts(&conn, &root)?;
        let closed: std::collections::HashMap<String, String> = conn
            .prepare("SELECT id, closed_on FROM orgs WHERE closed_on IS NOT NULL")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let history = orgtree::history(&conn, &a.caller, q.org.as_deref())?;
        drop(conn);
        let l = a.lang;
        let mut h = String::new();
        if let Some(done) = &q.done {
            h.push_str(&notice(&if l.en {
                format!("Saved: {done}.")
            } else {
                format!("Đã lưu: {done}.")
            }));
        }
        let depth0 = root.matches('/').count();
        h.push_str(&format!(
            r#"<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"#,
            esc(l.t("Tổ chức", "Organisation")),
            esc(l.t("Loại", "Kind")),
            esc(l.t("Mã", "Id")),
            esc(l.t("Hồ sơ", "Case files")),
        ));
        let open_opts: String = orgs
            .subtree(&root)
            .filter(|o| !closed.contains_key(&o.id))
            .map(|o| {
                format!(
                    r#"<option value="{}">{}</option>"#,
                    esc(&o.id),
                    esc(&orgs.name_with_parents(&o.id))
                )
            })
            .collect();
        for o in orgs.subtree(&root) {
            let indent = o.path.matches('/').count().saturating_sub(depth0);
            let state = match closed.get(&o.id) {
                Some(d) => format!(
                    r#" <span class="muted">({} {})</span>"#,
                    esc(l.t("giải thể", "closed")),
                    esc(d)
                ),
                None => String::new(),
            };
            h.push_str(&format!(
                r#"<tr class="org"><td class="indent-{i}"><a href="/central/admin/orgs?org={qid}">{name}</a>{state}</td><td>{kind}</td><td><code>{id}</code></td><td>{n}</td></tr>"#,
                i = indent.min(6),
                qid = esc(&url_encode(&o.id)),
                name = esc(&o.name),
                kind = esc(kind_label(&o.kind, l.en)),
                id = esc(&o.id),
                n = counts.get(&o.id).copied().unwrap_or(0),
            ));
        }
        h.push_str("</table>");
        let decision = format!(
            r#"<label>{eff}<input name="effective" placeholder="dd/mm/yyyy" required></label>
<label>{dec}<input name="decision" required></label>"#,
            eff = esc(l.t("Ngày hiệu lực", "Effective date")),
            dec = esc(l.t("Quyết định (số, ngày)", "Decision (number, date)")),
        );
        let forms = [
            (
                "add",
                l.t("Thêm tổ chức", "Add an organisation"),
                format!(
                    r#"<label>{p}<select name="parent">{open_opts}</select></label>
<label>{id}<input name="id" required></label><label>{n}<input name="name" required></label>
<label>{k}<select name="kind"><option value="branch">{b}</option><option value="committee">{c}</option><option value="sub_branch">{s}</option></select></label>
<label class="choice"><input type="checkbox" name="grassroots" value="1"> {g}</label>"#,
                    p = esc(l.t("Thuộc", "Under")),
                    id = esc(l.t("Mã (chữ không dấu, số, '-')", "Id (letters, digits, '-')")),
                    n = esc(l.t("Tên", "Name")),
                    k = esc(l.t("Loại", "Kind")),
                    b = esc(kind_label("branch", l.en)),
                    c = esc(kind_label("committee", l.en)),
                    s = esc(kind_label("sub_branch", l.en)),
                    g = esc(l.t("Là tổ chức cơ sở đảng", "A grassroots party organisation")),
                ),
            ),
            (
                "rename",
                l.t("Đổi tên", "Rename"),
                format!(
                    r#"<label>{o}<select name="org">{open_opts}</select></label><label>{n}<input name="name" required></label>"#,
                    o = esc(l.t("Tổ chức", "Organisation")),
                    n = esc(l.t("Tên mới", "New name")),
                ),
            ),
            (
                "move",
                l.t("Chuyển sang cấp ủy cấp trên khác", "Move under another superior committee"),
                format!(
                    r#"<label>{o}<select name="org">{open_opts}</select></label><label>{p}<select name="parent">{open_opts}</select></label>"#,
                    o = esc(l.t("Tổ chức", "Organisation")),
                    p = esc(l.t("Cấp trên mới", "New superior")),
                ),
            ),
            (
                "merge",
                l.t("Hợp nhất hai tổ chức", "Merge two organisations"),
                format!(
                    r#"<label>{f}<select name="org">{open_opts}</select></label><label>{i}<select name="into">{open_opts}</select></label>"#,
                    f = esc(l.t("Tổ chức được hợp nhất (sẽ giải thể)", "Organisation merged (it closes)")),
                    i = esc(l.t("Vào tổ chức", "Into")),
                ),
            ),
            (
                "close",
                l.t("Giải thể", "Close"),
                format!(
                    r#"<label>{o}<select name="org">{open_opts}</select></label>"#,
                    o = esc(l.t("Tổ chức (không còn hồ sơ, đơn vị, tài khoản)", "Organisation (no files, units or accounts left)")),
                ),
            ),
        ];
        for (action, title, fields) in forms {
            h.push_str(&format!(
                r#"<h2>{title}</h2><form method="post" action="/central/admin/orgs" class="filters stacked">{csrf}
<input type="hidden" name="action" value="{action}">{fields}{decision}<button>{title}</button></form>"#,
                title = esc(title),
                csrf = a.csrf_field(),
            ));
        }
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Lịch sử thay đổi cây tổ chức", "History of the tree")),
            esc(l.t("Thời điểm", "Time")),
            esc(l.t("Tổ chức", "Organisation")),
            esc(l.t("Thay đổi", "Change")),
            esc(l.t("Hiệu lực", "Effective")),
            esc(l.t("Quyết định", "Decision")),
            esc(l.t("Người thực hiện", "By")),
        ));
        for c in &history {
            h.push_str(&format!(
                r#"<tr class="org-change"><td>{}</td><td>{}</td><td><code>{}</code> {}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&format_time(c.at)),
                esc(&orgs.name(&c.org_id)),
                esc(&c.action),
                esc(&c.detail),
                esc(c.effective.as_deref().unwrap_or("–")),
                esc(&c.decision),
                esc(&c.by),
            ));
        }
        h.push_str("</table>");
        Ok(admin_page(&a, l.t("Cây tổ chức", "Organisation tree"), "orgs", &h))
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
    Admin(a): Admin,
    Form(f): Form<TreeForm>,
) -> Response {
    on_form(a, f.csrf.clone(), move |a| {
        let effective = Date::parse_vn(&f.effective).ok_or_else(|| {
            AppError::bad_request(
                "BAD_DATE",
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
                    &a.caller,
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
                orgtree::rename(store, &a.caller, &f.org, &f.name, &d)?;
                f.org.clone()
            }
            "move" => {
                orgtree::move_under(store, &a.caller, &f.org, &f.parent, &d)?;
                f.org.clone()
            }
            "merge" => {
                let n = orgtree::merge(store, &state.rules(), &a.caller, &f.org, &f.into, &d)?;
                format!("{} → {} ({n})", f.org, f.into)
            }
            "close" => {
                orgtree::close(store, &a.caller, &f.org, &d)?;
                f.org.clone()
            }
            other => {
                return Err(AppError::bad_request(
                    "BAD_ACTION",
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
