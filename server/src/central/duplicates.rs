//! The duplicates queue: pairs of case files that look like the same person, both files
//! side by side with the fields where they differ, merged into one file (choosing per
//! field) or dismissed as different people.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{Reviewer, esc, format_time, org_options, page, run_page, value_text};
use crate::AppState;
use crate::duplicates::{self, ListQuery, MergeRequest, Pair};
use crate::error::AppError;
use crate::reports::{self, OrgIndex, stage_label, url_encode};

fn side_cell(orgs: &OrgIndex, s: &duplicates::Side, en: bool) -> String {
    format!(
        r#"<a href="/central/cases/{id}">{name}</a><div class="muted">{born} · {org} · {stage}</div>"#,
        id = esc(&url_encode(&s.doc_id)),
        name = esc(&s.full_name),
        born = esc(s.birth_date.as_deref().unwrap_or("–")),
        org = esc(&orgs.name(&s.org_id)),
        stage = esc(&stage_label(&s.stage, en)),
    )
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let rows = duplicates::list_for(&store, &r.caller, &q)?;
        let (orgs, scope) = {
            let conn = store.read();
            let orgs = OrgIndex::load(&conn)?;
            let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
            (orgs, scope)
        };
        let l = r.lang;
        let state = q.state.as_deref().unwrap_or("open");
        let mut h = format!(
            r#"<form method="get" action="/central/duplicates" class="filters">
<label>{org_l}<select name="org"><option value="">{all}</option>{opts}</select></label>
<label>{state_l}<select name="state">{states}</select></label><button>{go}</button></form>
<p><strong id="duplicate-count">{n}</strong> {what}</p>"#,
            org_l = esc(l.t("Tổ chức", "Organisation")),
            all = esc(l.t("(toàn bộ phạm vi)", "(whole scope)")),
            opts = org_options(&orgs, &scope, q.org.as_deref().unwrap_or("")),
            state_l = esc(l.t("Trạng thái", "State")),
            states = [
                ("open", l.t("Đang chờ", "Open")),
                ("merged", l.t("Đã gộp", "Merged")),
                (
                    "dismissed",
                    l.t("Không phải cùng người", "Not the same person")
                ),
                ("all", l.t("Tất cả", "All")),
            ]
            .iter()
            .map(|(v, t)| format!(
                r#"<option value="{v}"{}>{}</option>"#,
                if *v == state { " selected" } else { "" },
                esc(t)
            ))
            .collect::<String>(),
            go = esc(l.t("Lọc", "Filter")),
            n = rows.len(),
            what = esc(l.t("cặp hồ sơ có thể trùng", "pairs of likely duplicate files")),
        );
        if rows.is_empty() {
            h.push_str(&format!(
                r#"<p class="muted">{}</p>"#,
                esc(l.t(
                    "Không có cặp hồ sơ nào cần xem. Máy chủ tìm cặp trùng sau mỗi lần đồng bộ.",
                    "No pairs to review. The server looks for duplicates after every sync."
                ))
            ));
        } else {
            h.push_str(&format!(
                "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
                esc(l.t("Hồ sơ A", "File A")),
                esc(l.t("Hồ sơ B", "File B")),
                esc(l.t("Lý do", "Reason")),
                esc(l.t("Phát hiện lúc", "Found")),
            ));
            for p in &rows {
                h.push_str(&pair_row(&orgs, p, l.en));
            }
            h.push_str("</table>");
        }
        Ok(page(
            &r,
            r.t("Hồ sơ có thể trùng", "Likely duplicates"),
            "duplicates",
            &h,
        ))
    })
    .await
}

fn pair_row(orgs: &OrgIndex, p: &Pair, en: bool) -> String {
    let action = if p.state == "open" {
        format!(
            r#"<a href="/central/duplicates/{}">{}</a>"#,
            p.id,
            if en { "Compare" } else { "So sánh" }
        )
    } else {
        esc(&format!(
            "{} · {}",
            match (p.state.as_str(), en) {
                ("merged", false) => "Đã gộp",
                ("merged", true) => "Merged",
                (_, false) => "Không phải cùng người",
                (_, true) => "Not the same person",
            },
            p.decided_by.as_deref().unwrap_or("")
        ))
    };
    format!(
        r#"<tr class="duplicate"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
        side_cell(orgs, &p.a, en),
        side_cell(orgs, &p.b, en),
        esc(if en { &p.reason_en } else { &p.reason_vi }),
        esc(&format_time(p.found_at)),
        action
    )
}

pub async fn detail(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<i64>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let (orgs, cmp) = {
            let conn = store.read();
            (
                OrgIndex::load(&conn)?,
                duplicates::compare(&conn, &r.caller, id)?,
            )
        };
        let l = r.lang;
        let p = &cmp.pair;
        let mut h = format!(
            r#"<p>{reason}</p><table><tr><th></th><th>{a}</th><th>{b}</th></tr>
<tr><th>{file}</th><td>{sa}</td><td>{sb}</td></tr></table>"#,
            reason = esc(if l.en { &p.reason_en } else { &p.reason_vi }),
            a = esc(l.t("Hồ sơ A", "File A")),
            b = esc(l.t("Hồ sơ B", "File B")),
            file = esc(l.t("Hồ sơ", "File")),
            sa = side_cell(&orgs, &p.a, l.en),
            sb = side_cell(&orgs, &p.b, l.en),
        );
        h.push_str(&format!(
            r#"<h2>{}</h2><form method="post" action="/central/duplicates/{id}/merge">{csrf}
<p><label class="choice"><input type="radio" name="survivor" value="a" checked> {keep_a}</label>
<label class="choice"><input type="radio" name="survivor" value="b"> {keep_b}</label></p>"#,
            esc(l.t("Gộp thành một hồ sơ", "Merge into one file")),
            csrf = r.csrf_field(),
            keep_a = esc(l.t("Giữ hồ sơ A (B được đánh dấu đã gộp)", "Keep file A (B is marked merged)")),
            keep_b = esc(l.t("Giữ hồ sơ B (A được đánh dấu đã gộp)", "Keep file B (A is marked merged)")),
        ));
        if cmp.diffs.is_empty() {
            h.push_str(&format!(
                r#"<p class="muted">{}</p>"#,
                esc(l.t("Hai hồ sơ giống nhau ở mọi trường.", "The two files agree on every field."))
            ));
        } else {
            h.push_str(&format!(
                "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
                esc(l.t("Trường khác nhau", "Field that differs")),
                esc(l.t("Giá trị của A", "Value in A")),
                esc(l.t("Giá trị của B", "Value in B")),
            ));
            for (i, d) in cmp.diffs.iter().enumerate() {
                // The filled-in value is preselected, A's when both are.
                let a_empty = matches!(&d.a, serde_json::Value::Null)
                    || d.a.as_str().is_some_and(|s| s.trim().is_empty());
                let pick_b = a_empty;
                h.push_str(&format!(
                    r#"<tr><td><code>{path}</code></td>
<td><label class="choice"><input type="radio" name="c.{path}" value="a"{ca} aria-label="A {n}"> «{va}»</label></td>
<td><label class="choice"><input type="radio" name="c.{path}" value="b"{cb} aria-label="B {n}"> «{vb}»</label></td></tr>"#,
                    path = esc(&d.path),
                    n = i + 1,
                    ca = if pick_b { "" } else { " checked" },
                    cb = if pick_b { " checked" } else { "" },
                    va = esc(&value_text(&d.a)),
                    vb = esc(&value_text(&d.b)),
                ));
            }
            h.push_str("</table>");
        }
        h.push_str(&format!(
            r#"<p><button>{}</button></p></form>
<form method="post" action="/central/duplicates/{id}/dismiss">{csrf}<button>{}</button></form>"#,
            esc(l.t("Gộp hai hồ sơ", "Merge the two files")),
            esc(l.t("Không phải cùng một người", "Not the same person")),
            csrf = r.csrf_field(),
        ));
        Ok(page(
            &r,
            r.t("So sánh hai hồ sơ", "Compare two files"),
            "duplicates",
            &h,
        ))
    })
    .await
}

pub async fn merge(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let field = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(resp) = r.refuse_bad_csrf(&field("csrf")) {
        return resp;
    }
    let req = MergeRequest {
        survivor: field("survivor"),
        choices: form
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("c.").map(|p| (p.to_string(), v.clone())))
            .collect::<BTreeMap<_, _>>(),
    };
    let store = state.store.clone();
    let rules = state.rules();
    let lang = r.lang;
    run_page(lang, move || {
        let survivor = duplicates::merge(&store, &rules, &r.caller, id, &req)?;
        Ok(Redirect::to(&format!(
            "/central/cases/{}?merged=1",
            url_encode(&survivor)
        ))
        .into_response())
    })
    .await
}

pub async fn dismiss(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let csrf = form
        .iter()
        .find(|(n, _)| n == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    if let Some(resp) = r.refuse_bad_csrf(csrf) {
        return resp;
    }
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        duplicates::dismiss(&store, &r.caller, id)?;
        Ok(Redirect::to("/central/duplicates?dismissed=1").into_response())
    })
    .await
}

/// The files merged into a case file, with the edits that reached them after the merge,
/// for the case page.
pub fn merged_section(r: &Reviewer, late: &[duplicates::LateEdits]) -> Result<String, AppError> {
    let l = r.lang;
    if late.is_empty() {
        return Ok(String::new());
    }
    let mut h = format!(
        "<h2>{}</h2>",
        esc(l.t("Hồ sơ đã gộp vào hồ sơ này", "Files merged into this one"))
    );
    for m in late {
        h.push_str(&format!(
            r#"<p><a href="/central/cases/{id}">{id_text}</a> · {at} {when}</p>"#,
            id = esc(&url_encode(&m.doc_id)),
            id_text = esc(&m.doc_id),
            at = esc(l.t("gộp lúc", "merged")),
            when = esc(&format_time(m.merged_at)),
        ));
        if m.entries.is_empty() {
            continue;
        }
        h.push_str(&format!(
            r#"<p class="late-edits"><strong>{}</strong></p><table>"#,
            esc(l.t(
                "Sửa đổi đến sau khi gộp — hãy chép sang hồ sơ này nếu cần:",
                "Edits that arrived after the merge — carry them over to this file if needed:"
            ))
        ));
        for e in &m.entries {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&format_time(e.time)),
                esc(&e.user),
                esc(&e.device),
                esc(&e.fields.join(", "))
            ));
        }
        h.push_str("</table><table>");
        for (field, value) in &m.values {
            h.push_str(&format!(
                r#"<tr class="late-value"><td><code>{}</code></td><td>«{}»</td></tr>"#,
                esc(field),
                esc(&value_text(value))
            ));
        }
        h.push_str("</table>");
    }
    Ok(h)
}
