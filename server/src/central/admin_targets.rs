//! The terms and targets page of the administration: for one organisation, its terms
//! (congress to congress) with their targets, each year's members at the start and
//! admission target, sub-targets reserved for a group, forms to revise them with the date
//! and decision, and every revision (old → new).

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
use crate::figures::TargetGroup;
use crate::reports::{OrgIndex, url_encode};
use crate::targets;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TargetsQuery {
    org: Option<String>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a): Admin,
    Query(q): Query<TargetsQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let org = q.org.clone().unwrap_or_else(|| a.caller.scope_org.clone());
        let (years, terms, history) = targets::of_org(&conn, &a.caller, &org)?;
        let subs = targets::sub_targets_of(&conn, &org)?;
        let mut sectors: Vec<String> = orgs
            .subtree(&root)
            .map(|o| o.sector.clone())
            .filter(|s| !s.is_empty())
            .collect();
        sectors.sort();
        sectors.dedup();
        drop(conn);
        let l = a.lang;
        let mut h = String::new();
        if q.saved.is_some() {
            h.push_str(&notice(l.t("Đã lưu.", "Saved.")));
        }
        let opts: String = orgs
            .subtree(&root)
            .map(|o| {
                format!(
                    r#"<option value="{id}"{sel}>{name}</option>"#,
                    id = esc(&o.id),
                    sel = if o.id == org { " selected" } else { "" },
                    name = esc(&orgs.name_with_parents(&o.id)),
                )
            })
            .collect();
        h.push_str(&format!(
            r#"<form method="get" action="/central/admin/targets" class="filters"><label>{o}<select name="org">{opts}</select></label><button>{go}</button></form>"#,
            o = esc(l.t("Tổ chức", "Organisation")),
            go = esc(l.t("Xem", "Show")),
        ));
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Nhiệm kỳ", "Terms")),
            esc(l.t("Nhiệm kỳ", "Term")),
            esc(l.t("Từ đại hội", "From the congress of")),
            esc(l.t("Đến đại hội", "To the congress of")),
            esc(l.t("Chỉ tiêu kết nạp", "Admission target")),
        ));
        for t in &terms {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name),
                esc(&t.start_date.parse::<Date>().map(|d| d.format_vn()).unwrap_or_default()),
                esc(&t.end_date.parse::<Date>().map(|d| d.format_vn()).unwrap_or_default()),
                t.target.map(|n| l.int(n)).unwrap_or_else(|| "–".into()),
            ));
        }
        h.push_str("</table>");
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Từng năm", "Year by year")),
            esc(l.t("Năm", "Year")),
            esc(l.t("Đảng viên đầu năm", "Members at the start")),
            esc(l.t("Chỉ tiêu kết nạp", "Admission target")),
        ));
        for y in &years {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                y.year,
                l.int(y.members_start),
                l.int(y.target)
            ));
        }
        h.push_str("</table>");
        let org_field = format!(r#"<input type="hidden" name="org" value="{}">"#, esc(&org));
        h.push_str(&format!(
            r#"<h2>{t1}</h2><form method="post" action="/central/admin/targets" class="filters stacked">{csrf}{org_field}
<input type="hidden" name="kind" value="year">
<label>{yl}<input name="year" inputmode="numeric" required></label>
<label>{ml}<input name="members_start" inputmode="numeric" required></label>
<label>{tl}<input name="target" inputmode="numeric" required></label>
<label>{el}<input name="effective" placeholder="dd/mm/yyyy" required></label>
<label>{dl}<input name="decision" required></label><button>{save}</button></form>
<h2>{t2}</h2><form method="post" action="/central/admin/targets" class="filters stacked">{csrf}{org_field}
<input type="hidden" name="kind" value="term">
<label>{nl}<input name="name" placeholder="Nhiệm kỳ 2025–2030" required></label>
<label>{sl}<input name="start" placeholder="dd/mm/yyyy" required></label>
<label>{endl}<input name="end" placeholder="dd/mm/yyyy" required></label>
<label>{tl}<input name="target" inputmode="numeric"></label>
<label>{rl}<input name="decision" required></label><button>{save}</button></form>"#,
            t1 = esc(l.t("Đặt hoặc điều chỉnh chỉ tiêu của một năm", "Set or revise a year's target")),
            csrf = a.csrf_field(),
            yl = esc(l.t("Năm", "Year")),
            ml = esc(l.t("Số đảng viên đầu năm", "Members at the start of the year")),
            tl = esc(l.t("Chỉ tiêu kết nạp", "Admission target")),
            el = esc(l.t("Ngày hiệu lực", "Effective date")),
            dl = esc(l.t("Nghị quyết / quyết định (số, ngày)", "Resolution / decision (number, date)")),
            save = esc(l.t("Lưu", "Save")),
            t2 = esc(l.t("Thêm hoặc sửa nhiệm kỳ", "Add or change a term")),
            nl = esc(l.t("Tên nhiệm kỳ", "Name of the term")),
            sl = esc(l.t("Ngày đại hội mở nhiệm kỳ", "Date of the opening congress")),
            endl = esc(l.t("Ngày đại hội kế tiếp", "Date of the next congress")),
            rl = esc(l.t("Nghị quyết đại hội", "Congress resolution")),
        ));
        h.push_str(&format!(
            "<h2>{}</h2><table id=\"sub-targets\"><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Chỉ tiêu thành phần", "Sub-targets")),
            esc(l.t("Kỳ", "Period")),
            esc(l.t("Nhóm", "Group")),
            esc(l.t("Chỉ tiêu", "Target")),
        ));
        for st in &subs {
            h.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&st.period),
                esc(&TargetGroup::parse(&st.group).map(|g| g.label(l.en)).unwrap_or_else(|| st.group.clone())),
                l.int(st.value),
            ));
        }
        h.push_str("</table>");
        let group_opts: String = TargetGroup::choices(&sectors)
            .iter()
            .map(|g| format!(r#"<option value="{}">{}</option>"#, esc(&g.code()), esc(&g.label(l.en))))
            .collect();
        h.push_str(&format!(
            r#"<h2>{t}</h2><form method="post" action="/central/admin/targets" class="filters stacked">{csrf}{org_field}
<input type="hidden" name="kind" value="sub">
<label>{pl}<input name="name" placeholder="2026 / 2025-2030" required></label>
<label>{gl}<select name="group">{group_opts}</select></label>
<label>{tl}<input name="target" inputmode="numeric" required></label>
<label>{el}<input name="effective" placeholder="dd/mm/yyyy" required></label>
<label>{dl}<input name="decision" required></label><button>{save}</button></form>"#,
            t = esc(l.t("Đặt hoặc điều chỉnh chỉ tiêu thành phần", "Set or revise a sub-target")),
            csrf = a.csrf_field(),
            pl = esc(l.t("Kỳ (năm hoặc tên nhiệm kỳ)", "Period (a year or a term's name)")),
            gl = esc(l.t("Nhóm", "Group")),
            tl = esc(l.t("Chỉ tiêu", "Target")),
            el = esc(l.t("Ngày hiệu lực", "Effective date")),
            dl = esc(l.t("Nghị quyết / quyết định (số, ngày)", "Resolution / decision (number, date)")),
            save = esc(l.t("Lưu", "Save")),
        ));
        h.push_str(&format!(
            "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Lịch sử điều chỉnh", "Revisions")),
            esc(l.t("Thời điểm", "Time")),
            esc(l.t("Kỳ", "Period")),
            esc(l.t("Trước → sau", "Before → after")),
            esc(l.t("Hiệu lực", "Effective")),
            esc(l.t("Quyết định", "Decision")),
            esc(l.t("Người thực hiện", "By")),
        ));
        for r in &history {
            let field = match r.field.strip_prefix("target:") {
                Some(g) => TargetGroup::parse(g)
                    .map(|g| g.label(l.en))
                    .unwrap_or_else(|| g.to_string()),
                None if r.field == "target" => l.t("chỉ tiêu", "target").to_string(),
                None => l.t("đảng viên đầu năm", "members at the start").to_string(),
            };
            h.push_str(&format!(
                r#"<tr class="revision"><td>{}</td><td>{} · {}</td><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&format_time(r.at)),
                esc(&r.period),
                esc(&field),
                r.old_value.map(|n| l.int(n)).unwrap_or_else(|| "–".into()),
                l.int(r.new_value),
                esc(&r.effective.as_deref().and_then(|e| e.parse::<Date>().ok()).map(|d| d.format_vn()).unwrap_or_default()),
                esc(&r.decision),
                esc(&r.by),
            ));
        }
        h.push_str("</table>");
        Ok(admin_page(&a, l.t("Nhiệm kỳ và chỉ tiêu", "Terms and targets"), "targets", &h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TargetForm {
    csrf: String,
    org: String,
    kind: String,
    year: String,
    members_start: String,
    target: String,
    effective: String,
    decision: String,
    name: String,
    start: String,
    end: String,
    group: String,
}

fn number(v: &str, vi: &str, en: &str) -> Result<i64, AppError> {
    v.trim().replace(['.', ',', ' '], "").parse().map_err(|_| {
        AppError::bad_request(
            "BAD_NUMBER",
            format!("{vi}: «{v}» không phải số."),
            format!("{en}: `{v}` is not a number."),
        )
    })
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
    Form(f): Form<TargetForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |a| {
        match f.kind.as_str() {
            "year" => targets::set_year(
                &store,
                &a.caller,
                &f.org,
                number(&f.year, "Năm", "Year")? as i32,
                number(
                    &f.members_start,
                    "Số đảng viên đầu năm",
                    "Members at the start",
                )?,
                number(&f.target, "Chỉ tiêu", "Target")?,
                date(&f.effective, "Ngày hiệu lực", "Effective date")?,
                &f.decision,
            )?,
            "sub" => targets::set_sub_target(
                &store,
                &a.caller,
                &f.org,
                &f.name,
                &f.group,
                number(&f.target, "Chỉ tiêu", "Target")?,
                date(&f.effective, "Ngày hiệu lực", "Effective date")?,
                &f.decision,
            )?,
            _ => targets::set_term(
                &store,
                &a.caller,
                &f.org,
                &f.name,
                date(&f.start, "Ngày bắt đầu", "Start")?,
                date(&f.end, "Ngày kết thúc", "End")?,
                if f.target.trim().is_empty() {
                    None
                } else {
                    Some(number(&f.target, "Chỉ tiêu", "Target")?)
                },
                &f.decision,
            )?,
        }
        Ok(Redirect::to(&format!(
            "/central/admin/targets?org={}&saved=1",
            url_encode(&f.org)
        ))
        .into_response())
    })
    .await
}
