//! The terms and targets page of the administration: for one organisation, its terms
//! (congress to congress) with their targets, each year's members at the start and
//! admission target, sub-targets reserved for a group, forms to revise them with the date
//! and decision, and every revision (old → new).

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
use crate::figures::TargetGroup;
use crate::reports::{OrgIndex, url_encode};
use crate::targets;
use shared::api::ErrorCode;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TargetsQuery {
    org: Option<String>,
    saved: Option<String>,
}

pub async fn show(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageQuery(q): PageQuery<TargetsQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let root = scope_root(&orgs, &a);
        let org = q.org.clone().unwrap_or_else(|| a.caller.scope_org.clone());
        let (years, terms, history) = targets::of_org(&conn, &admin, &org)?;
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
        let vn = |d: &str| d.parse::<Date>().map(|d| d.format_vn()).unwrap_or_default();
        let org_field = html! { input type="hidden" name="org" value=(org); };
        let h = html! {
            @if q.saved.is_some() { (notice(l.t("Đã lưu.", "Saved."))) }
            form method="get" action="/central/admin/targets" class="filters" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" {
                        @for o in orgs.subtree(&root) {
                            option value=(o.id) selected[o.id == org] { (orgs.name_with_parents(&o.id)) }
                        }
                    }
                }
                button { (l.t("Xem", "Show")) }
            }
            h2 { (l.t("Nhiệm kỳ", "Terms")) }
            table {
                tr {
                    th { (l.t("Nhiệm kỳ", "Term")) }
                    th { (l.t("Từ đại hội", "From the congress of")) }
                    th { (l.t("Đến đại hội", "To the congress of")) }
                    th { (l.t("Chỉ tiêu kết nạp", "Admission target")) }
                }
                @for t in &terms {
                    tr {
                        td { (t.name) }
                        td { (vn(&t.start_date)) }
                        td { (vn(&t.end_date)) }
                        td { (t.target.map(|n| l.int(n)).unwrap_or_else(|| "–".into())) }
                    }
                }
            }
            h2 { (l.t("Từng năm", "Year by year")) }
            table {
                tr {
                    th { (l.t("Năm", "Year")) }
                    th { (l.t("Đảng viên đầu năm", "Members at the start")) }
                    th { (l.t("Chỉ tiêu kết nạp", "Admission target")) }
                }
                @for y in &years {
                    tr { td { (y.year) } td { (l.int(y.members_start)) } td { (l.int(y.target)) } }
                }
            }
            h2 { (l.t("Đặt hoặc điều chỉnh chỉ tiêu của một năm", "Set or revise a year's target")) }
            form method="post" action="/central/admin/targets" class="filters stacked" {
                (a.csrf_field()) (org_field)
                input type="hidden" name="kind" value="year";
                label { (l.t("Năm", "Year")) input name="year" inputmode="numeric" required; }
                label { (l.t("Số đảng viên đầu năm", "Members at the start of the year"))
                    input name="members_start" inputmode="numeric" required; }
                label { (l.t("Chỉ tiêu kết nạp", "Admission target")) input name="target" inputmode="numeric" required; }
                label { (l.t("Ngày hiệu lực", "Effective date")) input name="effective" placeholder="dd/mm/yyyy" required; }
                label { (l.t("Nghị quyết / quyết định (số, ngày)", "Resolution / decision (number, date)"))
                    input name="decision" required; }
                button { (l.t("Lưu", "Save")) }
            }
            h2 { (l.t("Thêm hoặc sửa nhiệm kỳ", "Add or change a term")) }
            form method="post" action="/central/admin/targets" class="filters stacked" {
                (a.csrf_field()) (org_field)
                input type="hidden" name="kind" value="term";
                label { (l.t("Tên nhiệm kỳ", "Name of the term")) input name="name" placeholder="Nhiệm kỳ 2025–2030" required; }
                label { (l.t("Ngày đại hội mở nhiệm kỳ", "Date of the opening congress"))
                    input name="start" placeholder="dd/mm/yyyy" required; }
                label { (l.t("Ngày đại hội kế tiếp", "Date of the next congress"))
                    input name="end" placeholder="dd/mm/yyyy" required; }
                label { (l.t("Chỉ tiêu kết nạp", "Admission target")) input name="target" inputmode="numeric"; }
                label { (l.t("Nghị quyết đại hội", "Congress resolution")) input name="decision" required; }
                button { (l.t("Lưu", "Save")) }
            }
            h2 { (l.t("Chỉ tiêu thành phần", "Sub-targets")) }
            table id="sub-targets" {
                tr {
                    th { (l.t("Kỳ", "Period")) }
                    th { (l.t("Nhóm", "Group")) }
                    th { (l.t("Chỉ tiêu", "Target")) }
                }
                @for st in &subs {
                    tr {
                        td { (st.period) }
                        td { (TargetGroup::parse(&st.group).map(|g| g.label(l.en)).unwrap_or_else(|| st.group.clone())) }
                        td { (l.int(st.value)) }
                    }
                }
            }
            h2 { (l.t("Đặt hoặc điều chỉnh chỉ tiêu thành phần", "Set or revise a sub-target")) }
            form method="post" action="/central/admin/targets" class="filters stacked" {
                (a.csrf_field()) (org_field)
                input type="hidden" name="kind" value="sub";
                label { (l.t("Kỳ (năm hoặc tên nhiệm kỳ)", "Period (a year or a term's name)"))
                    input name="name" placeholder="2026 / 2025-2030" required; }
                label { (l.t("Nhóm", "Group"))
                    select name="group" {
                        @for g in TargetGroup::choices(&sectors) {
                            option value=(g.code()) { (g.label(l.en)) }
                        }
                    }
                }
                label { (l.t("Chỉ tiêu", "Target")) input name="target" inputmode="numeric" required; }
                label { (l.t("Ngày hiệu lực", "Effective date")) input name="effective" placeholder="dd/mm/yyyy" required; }
                label { (l.t("Nghị quyết / quyết định (số, ngày)", "Resolution / decision (number, date)"))
                    input name="decision" required; }
                button { (l.t("Lưu", "Save")) }
            }
            h2 { (l.t("Lịch sử điều chỉnh", "Revisions")) }
            table {
                tr {
                    th { (l.t("Thời điểm", "Time")) }
                    th { (l.t("Kỳ", "Period")) }
                    th { (l.t("Trước → sau", "Before → after")) }
                    th { (l.t("Hiệu lực", "Effective")) }
                    th { (l.t("Quyết định", "Decision")) }
                    th { (l.t("Người thực hiện", "By")) }
                }
                @for r in &history {
                    @let field = match r.field.strip_prefix("target:") {
                        Some(g) => TargetGroup::parse(g)
                            .map(|g| g.label(l.en))
                            .unwrap_or_else(|| g.to_string()),
                        None if r.field == "target" => l.t("chỉ tiêu", "target").to_string(),
                        None => l.t("đảng viên đầu năm", "members at the start").to_string(),
                    };
                    tr.revision {
                        td { (format_time(r.at)) }
                        td { (r.period) " · " (field) }
                        td { (r.old_value.map(|n| l.int(n)).unwrap_or_else(|| "–".into())) " → " (l.int(r.new_value)) }
                        td { (r.effective.as_deref().map(vn).unwrap_or_default()) }
                        td { (r.decision) }
                        td { (r.by) }
                    }
                }
            }
        };
        Ok(admin_page(&a, l.t("Nhiệm kỳ và chỉ tiêu", "Terms and targets"), "targets", h))
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
            ErrorCode::BadNumber,
            format!("{vi}: «{v}» không phải số."),
            format!("{en}: `{v}` is not a number."),
        )
    })
}

pub async fn save(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<TargetForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        match f.kind.as_str() {
            "year" => targets::set_year(
                &store,
                &admin,
                &f.org,
                number(&f.year, "Năm", "Year")? as i32,
                number(
                    &f.members_start,
                    "Số đảng viên đầu năm",
                    "Members at the start",
                )?,
                number(&f.target, "Chỉ tiêu", "Target")?,
                super::admin::parse_date(&f.effective, "Ngày hiệu lực", "Effective date")?,
                &f.decision,
            )?,
            "sub" => targets::set_sub_target(
                &store,
                &admin,
                &f.org,
                &f.name,
                &f.group,
                number(&f.target, "Chỉ tiêu", "Target")?,
                super::admin::parse_date(&f.effective, "Ngày hiệu lực", "Effective date")?,
                &f.decision,
            )?,
            _ => targets::set_term(
                &store,
                &admin,
                &f.org,
                &f.name,
                super::admin::parse_date(&f.start, "Ngày bắt đầu", "Start")?,
                super::admin::parse_date(&f.end, "Ngày kết thúc", "End")?,
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
