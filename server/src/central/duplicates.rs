//! The duplicates queue: pairs of case files that look like the same person, both files
//! side by side with the fields where they differ, merged into one file (choosing per
//! field) or dismissed as different people.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use maud::{Markup, html};

use super::{PageForm, PageQuery};
use super::{Reviewer, format_time, org_options, page, run_form, run_page, value_text};
use crate::AppState;
use crate::duplicates::{self, ListQuery, MergeRequest, Pair};
use crate::error::AppError;
use crate::reports::{self, OrgIndex, stage_label, url_encode};

fn side_cell(orgs: &OrgIndex, s: &duplicates::Side, en: bool) -> Markup {
    html! {
        a href={ "/central/cases/" (url_encode(&s.doc_id)) } { (s.full_name) }
        div.muted {
            (s.birth_date.as_deref().unwrap_or("–")) " · " (orgs.name(&s.org_id)) " · "
            (stage_label(&s.stage, en))
        }
    }
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ListQuery>,
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
        let states = [
            ("open", l.t("Đang chờ", "Open")),
            ("merged", l.t("Đã gộp", "Merged")),
            (
                "dismissed",
                l.t("Không phải cùng người", "Not the same person"),
            ),
            ("all", l.t("Tất cả", "All")),
        ];
        let h = html! {
            form method="get" action="/central/duplicates" class="filters" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" {
                        option value="" { (l.t("(toàn bộ phạm vi)", "(whole scope)")) }
                        (org_options(&orgs, &scope, q.org.as_deref().unwrap_or("")))
                    }
                }
                label { (l.t("Trạng thái", "State"))
                    select name="state" {
                        @for (v, t) in states {
                            option value=(v) selected[v == state] { (t) }
                        }
                    }
                }
                button { (l.t("Lọc", "Filter")) }
            }
            p { strong id="duplicate-count" { (rows.len()) } " " (l.t("cặp hồ sơ có thể trùng", "pairs of likely duplicate files")) }
            @if rows.is_empty() {
                p.muted { (l.t(
                    "Không có cặp hồ sơ nào cần xem. Máy chủ tìm cặp trùng sau mỗi lần đồng bộ.",
                    "No pairs to review. The server looks for duplicates after every sync.",
                )) }
            } @else {
                table {
                    tr {
                        th { (l.t("Hồ sơ A", "File A")) }
                        th { (l.t("Hồ sơ B", "File B")) }
                        th { (l.t("Lý do", "Reason")) }
                        th { (l.t("Phát hiện lúc", "Found")) }
                        th {}
                    }
                    @for p in &rows { (pair_row(&orgs, p, l.en)) }
                }
            }
        };
        Ok(page(
            &r,
            r.t("Hồ sơ có thể trùng", "Likely duplicates"),
            "duplicates",
            h,
        ))
    })
    .await
}

fn pair_row(orgs: &OrgIndex, p: &Pair, en: bool) -> Markup {
    let decided = match (p.state.as_str(), en) {
        ("merged", false) => "Đã gộp",
        ("merged", true) => "Merged",
        (_, false) => "Không phải cùng người",
        (_, true) => "Not the same person",
    };
    html! {
        tr.duplicate {
            td { (side_cell(orgs, &p.a, en)) }
            td { (side_cell(orgs, &p.b, en)) }
            td { (if en { &p.reason_en } else { &p.reason_vi }) }
            td { (format_time(p.found_at)) }
            td {
                @if p.state == "open" {
                    a href={ "/central/duplicates/" (p.id) } { (if en { "Compare" } else { "So sánh" }) }
                } @else {
                    (decided) " · " (p.decided_by.as_deref().unwrap_or(""))
                }
            }
        }
    }
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
        let h = html! {
            p { (if l.en { &p.reason_en } else { &p.reason_vi }) }
            table {
                tr { th {} th { (l.t("Hồ sơ A", "File A")) } th { (l.t("Hồ sơ B", "File B")) } }
                tr {
                    th { (l.t("Hồ sơ", "File")) }
                    td { (side_cell(&orgs, &p.a, l.en)) }
                    td { (side_cell(&orgs, &p.b, l.en)) }
                }
            }
            h2 { (l.t("Gộp thành một hồ sơ", "Merge into one file")) }
            form method="post" action={ "/central/duplicates/" (id) "/merge" } {
                (r.csrf_field())
                p {
                    label.choice {
                        input type="radio" name="survivor" value="a" checked;
                        " " (l.t("Giữ hồ sơ A (B được đánh dấu đã gộp)", "Keep file A (B is marked merged)"))
                    }
                    label.choice {
                        input type="radio" name="survivor" value="b";
                        " " (l.t("Giữ hồ sơ B (A được đánh dấu đã gộp)", "Keep file B (A is marked merged)"))
                    }
                }
                @if cmp.diffs.is_empty() {
                    p.muted { (l.t("Hai hồ sơ giống nhau ở mọi trường.", "The two files agree on every field.")) }
                } @else {
                    table {
                        tr {
                            th { (l.t("Trường khác nhau", "Field that differs")) }
                            th { (l.t("Giá trị của A", "Value in A")) }
                            th { (l.t("Giá trị của B", "Value in B")) }
                        }
                        @for (i, d) in cmp.diffs.iter().enumerate() {
                            // The filled-in value is preselected, A's when both are.
                            @let pick_b = matches!(&d.a, serde_json::Value::Null)
                                || d.a.as_str().is_some_and(|s| s.trim().is_empty());
                            @let name = format!("c.{}", d.path);
                            tr {
                                td { code { (d.path) } }
                                td { label.choice {
                                    input type="radio" name=(name) value="a" checked[!pick_b] aria-label={ "A " (i + 1) };
                                    " «" (value_text(&d.a)) "»"
                                } }
                                td { label.choice {
                                    input type="radio" name=(name) value="b" checked[pick_b] aria-label={ "B " (i + 1) };
                                    " «" (value_text(&d.b)) "»"
                                } }
                            }
                        }
                    }
                }
                p { button { (l.t("Gộp hai hồ sơ", "Merge the two files")) } }
            }
            form method="post" action={ "/central/duplicates/" (id) "/dismiss" } {
                (r.csrf_field())
                button { (l.t("Không phải cùng một người", "Not the same person")) }
            }
        };
        Ok(page(
            &r,
            r.t("So sánh hai hồ sơ", "Compare two files"),
            "duplicates",
            h,
        ))
    })
    .await
}

pub async fn merge(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Path(id): Path<i64>,
    PageForm(form): PageForm<Vec<(String, String)>>,
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
    run_form(lang, move || {
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
    PageForm(form): PageForm<Vec<(String, String)>>,
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
    run_form(lang, move || {
        duplicates::dismiss(&store, &r.caller, id)?;
        Ok(Redirect::to("/central/duplicates?dismissed=1").into_response())
    })
    .await
}

/// The files merged into a case file, with the edits that reached them after the merge,
/// for the case page.
pub fn merged_section(r: &Reviewer, late: &[duplicates::LateEdits]) -> Result<Markup, AppError> {
    let l = r.lang;
    if late.is_empty() {
        return Ok(html! {});
    }
    Ok(html! {
        h2 { (l.t("Hồ sơ đã gộp vào hồ sơ này", "Files merged into this one")) }
        @for m in late {
            p {
                a href={ "/central/cases/" (url_encode(&m.doc_id)) } { (m.doc_id) }
                " · " (l.t("gộp lúc", "merged")) " " (format_time(m.merged_at))
            }
            @if !m.entries.is_empty() {
                p.late-edits { strong { (l.t(
                    "Sửa đổi đến sau khi gộp — hãy chép sang hồ sơ này nếu cần:",
                    "Edits that arrived after the merge — carry them over to this file if needed:",
                )) } }
                table {
                    @for e in &m.entries {
                        tr {
                            td { (format_time(e.time)) }
                            td { (e.user) }
                            td { (e.device) }
                            td { (e.fields.join(", ")) }
                        }
                    }
                }
                table {
                    @for (field, value) in &m.values {
                        tr.late-value { td { code { (field) } } td { "«" (value_text(value)) "»" } }
                    }
                }
            }
        }
    })
}
