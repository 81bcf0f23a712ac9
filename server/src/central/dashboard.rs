//! The dashboard page: admissions against the target, its revisions and sub-targets, and
//! membership; the trend against the plan; awareness classes; per organisation, per
//! stage; cohort conversion; who the new members are, and organisations that admitted
//! nobody. Every figure is a link to the case files behind it.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use maud::{Markup, html};

use super::PageQuery;
use super::{Lang, Reviewer, export_links, org_options, page, run_page};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::figures::{Cohort, TargetGroup, Via};
use crate::reports::{
    self, Admitted, CaseFilter, ClassId, Dashboard, OrgId, OrgIndex, Period, PlanStatus,
    RATE_TARGET_HIGH, RATE_TARGET_LOW, Recorded, Trend, education_label, sector_label,
};
use crate::review::ReportQuery;
use shared::model::{Occupation, SourceKind};
use shared::rules::CohortEntry;
use shared::stage::Stage;

/// Bars drawn per chart; the full list is in the table and the exports.
const MAX_BARS: usize = 40;

pub async fn show(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let years = q.years_without()?;
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let filter = q.case_filter()?;
        let d = reports::dashboard(&conn, &orgs, &r.caller, &filter, years, today_vn())?;
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        drop(conn);
        let body = render(&r, &q, &d, org_options(&orgs, &scope, &d.org_id), years);
        Ok(page(&r, r.t("Tổng quan", "Dashboard"), "dashboard", body))
    })
    .await
}

/// Plan vs done of every organisation of a subtree, sorted and exported, with the trend
/// of the subtree against its target.
pub async fn plan_page(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let today = today_vn();
        let filter = q.case_filter()?;
        let mut p = reports::plan(&conn, &orgs, &r.caller, &filter, today, Via::Aggregates)?;
        let root = reports::resolve_org(&orgs, &r.caller, Some(&p.org_id))?.clone();
        let monthly = reports::trend_is_monthly(p.period);
        let admitted =
            crate::figures::admitted(&conn, &orgs, &root, p.period, monthly, Via::Aggregates)?;
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        drop(conn);
        let target = p.rows.iter().find(|x| x.org_id == p.org_id).and_then(|x| x.target);
        let trend = reports::trend(&admitted.series, p.period, target);
        match q.sort.as_deref() {
            Some("name") => reports::sort_by_name(&mut p.rows, |x| &x.name),
            Some("admitted") => p.rows.sort_by_key(|x| std::cmp::Reverse(x.admitted)),
            _ => {}
        }
        let l = r.lang;
        let f = &q.filter;
        let val = |o: &Option<String>| o.clone().unwrap_or_default();
        let zero = p.rows.iter().filter(|x| x.status == PlanStatus::Zero).count();
        let ahead = p
            .rows
            .iter()
            .filter(|x| matches!(x.status, PlanStatus::OnPlan | PlanStatus::Reached))
            .count();
        let h = html! {
            form.filters method="get" action="/central/plan" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" { (org_options(&orgs, &scope, &p.org_id)) } }
                label { (l.t("Năm", "Year"))
                    input name="year" size="5" value=(val(&f.year)) placeholder=(today.year()); }
                label { (l.t("Nhiệm kỳ", "Term"))
                    input name="term" size="9" value=(val(&f.term)) placeholder="2025-2030"; }
                label { (l.t("Sắp xếp", "Sort"))
                    select name="sort" {
                        option value="percent" { (l.t("% đạt, thấp trước", "% reached, lowest first")) }
                        option value="admitted" selected[q.sort.as_deref() == Some("admitted")] { (l.t("Số kết nạp", "Admitted")) }
                        option value="name" selected[q.sort.as_deref() == Some("name")] { (l.t("Tên", "Name")) }
                    }
                }
                button { (l.t("Xem", "Show")) }
            }
            p { strong { (p.org_name) } " · " (p.period.from.format_vn()) " – " (p.period.to.format_vn()) }
            div.cards {
                div.card {
                    div { (l.t("Tổ chức chưa kết nạp (0 %)", "Organisations at 0 %")) }
                    div.v.bad id="plan-zero" { (l.int(zero as i64)) }
                }
                div.card {
                    div { (l.t("Đúng hoặc vượt tiến độ", "On or ahead of plan")) }
                    div.v.ok id="plan-ahead" { (l.int(ahead as i64)) }
                }
            }
            (trend_section(l, &trend))
            table id="plan" {
                tr {
                    th { (l.t("Tổ chức", "Organisation")) }
                    th { (l.t("Khối", "Sector")) }
                    th.n { (l.t("Chỉ tiêu", "Target")) }
                    th.n { (l.t("Kết nạp", "Admitted")) }
                    th.n { "%" }
                    th.n { (l.t("Tiến độ đến nay", "Expected to date")) }
                    th { (l.t("Đánh giá", "Status")) }
                    th { (l.t("Nhiệm kỳ", "Term")) }
                    th.n { (l.t("Chỉ tiêu nhiệm kỳ", "Term target")) }
                    th.n { (l.t("Từ đầu nhiệm kỳ", "Term to date")) }
                    th.n { "%" }
                }
                @for x in &p.rows {
                    @let (class, status) = match x.status {
                        PlanStatus::NoTarget => ("", l.t("chưa giao chỉ tiêu", "no target")),
                        PlanStatus::Zero => ("bad", l.t("chưa kết nạp", "none admitted")),
                        PlanStatus::Behind => ("warn", l.t("chậm tiến độ", "behind plan")),
                        PlanStatus::OnPlan => ("ok", l.t("đúng/vượt tiến độ", "on or ahead of plan")),
                        PlanStatus::Reached => ("ok", l.t("đạt chỉ tiêu", "target reached")),
                    };
                    @let href = link(&p.base, |c| {
                        c.org = Some(OrgId(x.org_id.clone()));
                        c.admitted = Some(Admitted::InPeriod);
                    });
                    tr class=(class) data-org=(x.org_id) {
                        td { ("· ".repeat(x.depth)) (x.name) }
                        td { (sector_label(&x.sector, l.en)) }
                        td.n { (x.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into())) }
                        td.n { a href=(href) { (l.int(x.admitted as i64)) } }
                        td.n { (l.pct(x.percent)) }
                        td.n { (x.expected.map(|e| l.int(e.round() as i64)).unwrap_or_else(|| "–".into())) }
                        td class=(class) { (status) }
                        td { (x.term.as_deref().unwrap_or("–")) }
                        td.n { (x.term_target.map(|t| l.int(t)).unwrap_or_else(|| "–".into())) }
                        td.n { (x.term_admitted.map(|t| l.int(t as i64)).unwrap_or_else(|| "–".into())) }
                        td.n { (l.pct(x.term_percent)) }
                    }
                }
            }
            (export_links(l, "plan", &p.base.query_string()))
        };
        Ok(page(&r, r.t("Kế hoạch và thực hiện", "Plan vs done"), "dashboard", h))
    })
    .await
}

/// Cohort conversion with every filter of the case list: who entered the pipeline in the
/// period, how many attended a class and how many were admitted, by source and
/// occupation.
pub async fn cohort_page(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageQuery(q): PageQuery<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let today = today_vn();
        let filter = q.case_filter()?;
        let root = reports::resolve_org(&orgs, &r.caller, filter.org_id())?.clone();
        let base = CaseFilter {
            org: Some(OrgId(root.id.clone())),
            ..filter
        };
        let c = reports::cohort(&conn, &orgs, &r.caller, &base, today)?;
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        let mut sectors: Vec<String> = orgs
            .subtree(&scope)
            .map(|o| o.sector.clone())
            .filter(|s| !s.is_empty())
            .collect();
        sectors.sort();
        sectors.dedup();
        drop(conn);
        let l = r.lang;
        let f = &q.filter;
        let val = |o: &Option<String>| o.clone().unwrap_or_default();
        let select = |name: &str, current: &Option<String>, opts: Vec<(String, String)>| {
            super::select_field(name, current.as_deref(), &opts)
        };
        let check = |name: &str, current: &Option<String>, label: &str| {
            html! {
                label {
                    input type="checkbox" name=(name) value="1" checked[current.as_deref() == Some("1")];
                    " " (label)
                }
            }
        };
        let h = html! {
            form.filters method="get" action="/central/cohort" {
                label { (l.t("Tổ chức", "Organisation"))
                    select name="org" { (org_options(&orgs, &scope, &root.id)) } }
                label { (l.t("Năm", "Year"))
                    input name="year" size="5" value=(val(&f.year)) placeholder=(today.year()); }
                label { (l.t("Nhiệm kỳ", "Term"))
                    input name="term" size="9" value=(val(&f.term)) placeholder="2025-2030"; }
                label { (l.t("Từ ngày", "From"))
                    input name="from" size="10" value=(val(&f.from)) placeholder="dd/mm/yyyy"; }
                label { (l.t("Đến ngày", "To"))
                    input name="to" size="10" value=(val(&f.to)) placeholder="dd/mm/yyyy"; }
                label { (l.t("Khối", "Sector"))
                    (select(
                        "sector",
                        &f.sector,
                        sectors
                            .iter()
                            .map(|s| (s.clone(), sector_label(s, l.en)))
                            .collect(),
                    ))
                }
                label { (l.t("Nguồn", "Source"))
                    (select(
                        "source",
                        &f.source,
                        source_options(l),
                    ))
                }
                label { (l.t("Nghề nghiệp", "Occupation"))
                    (select(
                        "occupation",
                        &f.occupation,
                        occupation_options(l),
                    ))
                }
                (check("female", &f.female, l.t("Nữ", "Women")))
                (check("youth", &f.youth, l.t("Đoàn viên", "Youth Union members")))
                (check(
                    "minority",
                    &f.minority,
                    l.t("Dân tộc thiểu số", "Ethnic minorities"),
                ))
                button { (l.t("Xem", "Show")) }
            }
            (cohort_section(l, &base, &c))
            (export_links(l, "cohort", &base.query_string()))
        };
        Ok(page(
            &r,
            r.t("Chuyển đổi theo khóa", "Cohort conversion"),
            "dashboard",
            h,
        ))
    })
    .await
}

fn link(base: &CaseFilter, f: impl FnOnce(&mut CaseFilter)) -> String {
    let mut c = base.clone();
    f(&mut c);
    format!("/central/cases?{}", c.query_string())
}

/// The filter of one year clipped to the period (a January–May period stays so).
fn year_filter(base: &CaseFilter, period: &Period, year: i32) -> CaseFilter {
    let y = Period::year(year);
    CaseFilter {
        org: base.org.clone(),
        from: Some(y.from.max(period.from)),
        to: Some(y.to.min(period.to)),
        ..CaseFilter::default()
    }
}

fn render(r: &Reviewer, q: &ReportQuery, d: &Dashboard, org_opts: Markup, years: i32) -> Markup {
    let l = r.lang;
    let base = &d.base;
    let f = &q.filter;
    let val = |o: &Option<String>| o.clone().unwrap_or_default();
    let rate_class = match d.rate_percent {
        Some(p) if p >= RATE_TARGET_LOW => "ok",
        Some(_) => "bad",
        None => "",
    };
    let target_class = match d.target_percent {
        Some(p) if p >= 100.0 => "ok",
        Some(_) => "warn",
        None => "",
    };
    let none_n = d.no_admission.orgs.len();
    let bars: Vec<(String, usize, String)> = d
        .per_org
        .iter()
        .filter(|o| o.count > 0)
        .take(MAX_BARS)
        .map(|o| {
            (
                o.name.clone(),
                o.count,
                link(base, |c| {
                    c.admitted = Some(Admitted::InPeriod);
                    c.org = Some(OrgId(o.org_id.clone()));
                }),
            )
        })
        .collect();
    let shown = d.per_org.iter().filter(|o| o.count > 0).count();
    let scope_base = CaseFilter {
        org: base.org.clone(),
        ..CaseFilter::default()
    };
    let stage_bars: Vec<(String, usize, String)> = d
        .per_stage
        .iter()
        .map(|s| {
            (
                l.t(&s.label_vi, &s.label_en).to_string(),
                s.count,
                link(&scope_base, |c| c.stage = Stage::from_code(&s.stage)),
            )
        })
        .collect();
    // Who the new members are.
    let b = &d.breakdown;
    let row = |label: &str, n: usize, href: String, id: &str| {
        html! {
            tr {
                td { (label) }
                td.n { a id=(id) href=(href) { (l.int(n as i64)) } }
                td.n { (l.pct((b.total > 0).then(|| (n as f64 * 1000.0 / b.total as f64).round() / 10.0))) }
            }
        }
    };
    let mut export_q = base.query_string();
    export_q.push_str(&format!("&years_without={years}"));
    html! {
        form.filters method="get" action="/central" {
            label { (l.t("Tổ chức", "Organisation")) select name="org" { (org_opts) } }
            label { (l.t("Năm", "Year"))
                input name="year" size="5" value=(val(&f.year)) placeholder=(today_vn().year()); }
            label { (l.t("Nhiệm kỳ", "Term"))
                input name="term" size="9" value=(val(&f.term)) placeholder="2020-2025"; }
            label { (l.t("Từ ngày", "From"))
                input name="from" size="10" value=(val(&f.from)) placeholder="dd/mm/yyyy"; }
            label { (l.t("Đến ngày", "To"))
                input name="to" size="10" value=(val(&f.to)) placeholder="dd/mm/yyyy"; }
            label { (l.t("Số năm liền không kết nạp", "Years without admission"))
                input name="years_without" size="2" value=(years); }
            button { (l.t("Xem", "Show")) }
        }
        p {
            strong { (d.org_name) } " · " (d.period.from.format_vn()) " – " (d.period.to.format_vn())
            @if let Some(t) = &d.term { " · " (l.t("nhiệm kỳ", "term")) " " (t) }
        }

        // Headline cards.
        div.cards {
            div.card {
                div { (l.t("Kết nạp đảng viên", "Admitted")) }
                div.v { a id="admitted" href=(link(base, |c| c.admitted = Some(Admitted::InPeriod))) { (l.int(d.admitted as i64)) } }
            }
            div.card {
                div { (l.t("Chỉ tiêu", "Target")) }
                div class={ "v " (target_class) } {
                    span id="target" { (d.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into())) }
                }
                div.muted id="target-percent" { (l.pct(d.target_percent)) " " (l.t("chỉ tiêu", "of target")) }
            }
            div.card {
                div { (l.t("Đảng viên đầu năm", "Members at start of year")) }
                div.v id="members" { (d.members_start.map(|m| l.int(m)).unwrap_or_else(|| "–".into())) }
            }
            div.card {
                div { (l.t("Kết nạp / đảng viên đầu năm", "Admitted / members")) }
                div class={ "v " (rate_class) } id="rate" { (l.pct(d.rate_percent)) }
                div.muted {
                    (l.t("mục tiêu", "target")) " "
                    (format!("{RATE_TARGET_LOW:.0}–{RATE_TARGET_HIGH:.0} % (21-NQ/TW)"))
                }
            }
            div.card {
                div {
                    (l.t("Tổ chức cơ sở đảng không kết nạp", "Grassroots orgs without admission"))
                    " " (d.no_admission.first_year) "–" (d.no_admission.last_year)
                }
                div.v {
                    a id="no-admission" href="#no-admission-list" {
                        (none_n) "/" (d.no_admission.grassroots_total)
                    }
                }
            }
        }

        p {
            (l.t(
                "Công nhận đảng viên chính thức trong kỳ",
                "Recognised as official members in the period",
            ))
            ": "
            a id="official" href=(link(base, |c| c.official = true)) { (l.int(d.official as i64)) }
        }
        @if d.term_calendar_years {
            p.warn { (l.t(
                "Nhiệm kỳ chưa có ngày đại hội: đang tính theo năm dương lịch (theo thiết lập).",
                "No congress dates recorded for this term: whole calendar years are used (a setting).",
            )) }
        }
        @if let Some(t) = &d.term_dates {
            p.muted id="term-dates" {
                (l.t("Nhiệm kỳ", "Term")) " " (t.name) " · "
                (l.t(
                    "từ đại hội đến trước đại hội kế tiếp",
                    "congress to the next congress",
                ))
                " " (t.start.format_vn()) " – " (t.end.format_vn()) " · " (t.decision)
            }
        }
        (targets_section(l, base, d))
        (trend_section(l, &d.trend))
        (classes_section(l, base, d))
        p {
            a href={ "/central/plan?" (base.query_string()) } {
                (l.t(
                    "Kế hoạch và thực hiện của từng tổ chức →",
                    "Plan vs done of every organisation →",
                ))
            }
        }
        // Per year.
        h2 { (l.t("Theo năm", "Per year")) }
        table {
            tr {
                th { (l.t("Năm", "Year")) }
                th.n { (l.t("Kết nạp", "Admitted")) }
                th.n { (l.t("Đảng viên đầu năm", "Members at start")) }
                th.n { (l.t("Tỷ lệ", "Rate")) }
                th.n { (l.t("Chỉ tiêu", "Target")) }
                th.n { (l.t("Đạt", "Achieved")) }
            }
            @for y in &d.per_year {
                @let yf = year_filter(base, &d.period, y.year);
                tr {
                    td { (y.year) }
                    td.n { a href=(link(&yf, |c| c.admitted = Some(Admitted::InPeriod))) data-year=(y.year) { (l.int(y.admitted as i64)) } }
                    td.n { (y.members_start.map(|m| l.int(m)).unwrap_or_else(|| "–".into())) }
                    td.n { (l.pct(y.rate_percent)) }
                    td.n { (y.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into())) }
                    td.n { (l.pct(y.target_percent)) }
                }
            }
        }

        // Bars per organisation.
        h2 { (l.t(
            "Kết nạp theo tổ chức cơ sở đảng",
            "Admissions per grassroots organisation",
        )) }
        (bar_chart(l, &bars, "#a50e0e"))
        @if shown > MAX_BARS {
            p.muted { (l.t("Hiển thị", "Showing")) " " (MAX_BARS) " / " (shown) }
        }

        // Cohort conversion.
        (cohort_section(l, base, &d.cohort))
        p {
            a href={ "/central/cohort?" (base.query_string()) } {
                (l.t(
                    "Chuyển đổi theo khóa với các bộ lọc (nguồn, nghề nghiệp, khối…) →",
                    "Cohort conversion with filters (source, occupation, sector…) →",
                ))
            }
        }
        h2 { (l.t(
            "Hồ sơ theo giai đoạn (hiện tại)",
            "Case files per stage (now)",
        )) }
        (bar_chart(l, &stage_bars, "#1f5f99"))

        h2 { (l.t("Cơ cấu đảng viên mới", "Who the new members are")) }
        table {
            tr {
                th { (l.t("Nhóm", "Group")) }
                th.n { (l.t("Kết nạp", "Admitted")) }
                th.n { "%" }
            }
            (row(
                l.t("Nữ", "Women"),
                b.women,
                link(base, |c| {
                    c.admitted = Some(Admitted::InPeriod);
                    c.female = true
                }),
                "women",
            ))
            (row(
                l.t("Dân tộc thiểu số", "Ethnic minorities"),
                b.ethnic_minority,
                link(base, |c| {
                    c.admitted = Some(Admitted::InPeriod);
                    c.minority = true
                }),
                "minority",
            ))
            (row(
                l.t("Tuổi 18–30", "Aged 18–30"),
                b.age_18_30,
                link(base, |c| {
                    c.admitted = Some(Admitted::InPeriod);
                    c.age = true
                }),
                "age",
            ))
            (row(
                l.t("Đoàn viên thanh niên", "Youth Union members"),
                b.youth_union,
                link(base, |c| {
                    c.admitted = Some(Admitted::InPeriod);
                    c.youth = true
                }),
                "youth",
            ))
            @for (code, n) in &b.sectors {
                (row(
                    &format!("{}: {}", l.t("Khối", "Sector"), sector_label(code, l.en)),
                    *n,
                    link(base, |c| {
                        c.admitted = Some(Admitted::InPeriod);
                        c.sector = Some(code.clone())
                    }),
                    &format!("sector-{code}"),
                ))
            }
            @for (code, n) in &b.education {
                (row(
                    &format!(
                        "{}: {}",
                        l.t("Trình độ", "Education"),
                        education_label(code, l.en)
                    ),
                    *n,
                    link(base, |c| {
                        c.admitted = Some(Admitted::InPeriod);
                        c.education = Recorded::parse(code, |c| Some(c.to_string()))
                    }),
                    &format!("education-{code}"),
                ))
            }
        }

        // Organisations without admission.
        h2 id="no-admission-list" {
            (l.t(
                "Tổ chức cơ sở đảng không kết nạp được đảng viên",
                "Grassroots organisations that admitted nobody",
            ))
            " " (d.no_admission.first_year) "–" (d.no_admission.last_year) ": "
            (none_n) "/" (d.no_admission.grassroots_total)
        }
        table {
            tr {
                th { (l.t("Tổ chức", "Organisation")) }
                th { (l.t("Khối", "Sector")) }
                th.n { (l.t("Đảng viên đầu năm", "Members at start")) }
            }
            @for o in &d.no_admission.orgs {
                tr {
                    td { a href={ "/central/cases?org=" (reports::url_encode(&o.org_id)) } { (o.name) } }
                    td { (sector_label(&o.sector, l.en)) }
                    td.n { (o.members_start.map(|m| l.int(m)).unwrap_or_else(|| "–".into())) }
                }
            }
        }
        (export_links(l, "dashboard", &export_q))
    }
}

/// Horizontal bars, one link per bar, sized to the largest value.
fn bar_chart(l: Lang, bars: &[(String, usize, String)], colour: &str) -> Markup {
    if bars.is_empty() {
        return html! { p.muted { (l.t("Không có số liệu.", "No data.")) } };
    }
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let row_h = 22;
    let label_w = 330.0;
    let bar_w = 520.0;
    let height = bars.len() * row_h + 6;
    let label = l.t(
        "Biểu đồ cột; mỗi cột là một liên kết đến danh sách hồ sơ của nó",
        "Bar chart; each bar links to its list of case files",
    );
    // A group of links, not an image: each bar is a link named by its label and count,
    // which is also the chart's text alternative.
    html! {
        svg role="group" aria-label=(label) width="100%" viewBox={ "0 0 920 " (height) }
            preserveAspectRatio="xMinYMin meet" class="chart wide" {
            title { (label) }
            @for (i, (label, n, href)) in bars.iter().enumerate() {
                @let y = i * row_h + 4;
                @let w = (*n as f64 / max * bar_w).max(if *n > 0 { 2.0 } else { 0.0 });
                @let short: String = label.chars().take(48).collect();
                a href=(href) {
                    title { (label) ": " (n) }
                    text x="4" y=(y + 14) { (short) }
                    rect x=(label_w) y=(y) width=(format!("{w:.1}")) height=(row_h - 6) fill=(colour) {}
                    text x=(format!("{:.1}", label_w + w + 6.0)) y=(y + 14) { (l.int(*n as i64)) }
                }
            }
        }
    }
}

/// Sub-targets and the revisions of the period's target.
fn targets_section(l: Lang, base: &CaseFilter, d: &Dashboard) -> Markup {
    html! {
        @if !d.sub_targets.is_empty() {
            h2 { (l.t("Chỉ tiêu thành phần", "Sub-targets")) }
            table id="sub-targets" {
                tr {
                    th { (l.t("Nhóm", "Group")) }
                    th.n { (l.t("Chỉ tiêu", "Target")) }
                    th.n { (l.t("Kết nạp", "Admitted")) }
                    th.n { "%" }
                }
                @for st in &d.sub_targets {
                    @let href = link(base, |c| {
                        c.admitted = Some(Admitted::InPeriod);
                        if let Some(g) = TargetGroup::parse(&st.group) {
                            g.apply(c);
                        }
                    });
                    tr {
                        td { (l.t(&st.label_vi, &st.label_en)) }
                        td.n { (l.int(st.target)) }
                        td.n { a href=(href) data-group=(st.group) { (l.int(st.admitted as i64)) } }
                        td.n { (l.pct(st.percent)) }
                    }
                }
            }
        }
        @if !d.target_revisions.is_empty() {
            h2 { (l.t("Điều chỉnh chỉ tiêu", "Target revisions")) }
            table id="revisions" {
                tr {
                    th { (l.t("Chỉ tiêu", "Figure")) }
                    th.n { (l.t("Trước → sau", "Before → after")) }
                    th { (l.t("Hiệu lực", "Effective")) }
                    th { (l.t("Quyết định", "Decision")) }
                }
                @for r in &d.target_revisions {
                    @let field = match r.field.strip_prefix("target:") {
                        Some(g) => TargetGroup::parse(g)
                            .map(|g| g.label(l.en))
                            .unwrap_or_else(|| g.to_string()),
                        None => l.t("Chỉ tiêu kết nạp", "Admission target").to_string(),
                    };
                    tr.revision {
                        td { (field) }
                        td.n {
                            (r.old_value.map(|v| l.int(v)).unwrap_or_else(|| "–".into()))
                            " → " (l.int(r.new_value))
                        }
                        td { (r
                            .effective
                            .as_deref()
                            .and_then(|e| e.parse::<shared::date::Date>().ok())
                            .map(|d| d.format_vn())
                            .unwrap_or_default()) }
                        td { (r.decision) }
                    }
                }
            }
        }
    }
}

/// Admissions per month (or year) as bars, the running total as a line and the plan
/// (target pro rata) as a dashed line; the same numbers follow in a table.
fn trend_section(l: Lang, t: &Trend) -> Markup {
    let heading = html! {
        h2 { (l.t(
            "Diễn biến kết nạp so với chỉ tiêu",
            "Admissions over time against the target",
        )) }
    };
    if t.points.is_empty() {
        return heading;
    }
    let max_cum = t
        .points
        .iter()
        .map(|p| (p.cumulative as f64).max(p.plan.unwrap_or(0.0)))
        .fold(1.0_f64, f64::max);
    let max_bar = t
        .points
        .iter()
        .map(|p| p.admitted)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let (w, hgt, left, bottom) = (900.0, 260.0, 50.0, 30.0);
    let step = (w - left - 10.0) / t.points.len() as f64;
    let y = |v: f64, max: f64| hgt - bottom - v / max * (hgt - bottom - 10.0);
    let desc = l.t(
        "Cột: số kết nạp mỗi kỳ; đường liền: lũy kế; đường đứt: lũy kế theo kế hoạch. Số liệu chi tiết ở bảng dưới.",
        "Bars: admissions per period; solid line: running total; dashed line: plan to date. The numbers are in the table below.",
    );
    let mut cum = String::new();
    let mut plan = String::new();
    for (i, p) in t.points.iter().enumerate() {
        let cx = left + i as f64 * step + step / 2.0;
        cum.push_str(&format!("{cx:.1},{:.1} ", y(p.cumulative as f64, max_cum)));
        if let Some(v) = p.plan {
            plan.push_str(&format!("{cx:.1},{:.1} ", y(v, max_cum)));
        }
    }
    let f1 = |v: f64| format!("{v:.1}");
    html! {
        (heading)
        svg role="img" aria-labelledby="trend-title trend-desc" width="100%"
            viewBox={ "0 0 " (w) " " (hgt) } class="chart wide" id="trend" {
            title id="trend-title" { (l.t("Diễn biến kết nạp", "Admissions over time")) }
            desc id="trend-desc" { (desc) }
            @for (i, p) in t.points.iter().enumerate() {
                @let x = left + i as f64 * step;
                @let bh = p.admitted as f64 / max_bar * (hgt - bottom - 10.0) * 0.5;
                rect x=(f1(x + step * 0.15)) y=(f1(hgt - bottom - bh)) width=(f1(step * 0.7))
                    height=(f1(bh)) fill="#e88a8a" {
                    title { (p.label) ": " (l.int(p.admitted as i64)) }
                }
                @if t.points.len() <= 24 || i % (t.points.len() / 12).max(1) == 0 {
                    text x=(f1(x + step / 2.0)) y=(f1(hgt - 10.0)) text-anchor="middle" font-size="10" { (p.label) }
                }
            }
            polyline points=(cum) fill="none" stroke="#a50e0e" stroke-width="2" {}
            @if !plan.is_empty() {
                polyline points=(plan) fill="none" stroke="#1f5f99" stroke-width="2" stroke-dasharray="6 4" {}
            }
        }
        details {
            summary { (l.t("Bảng số liệu của biểu đồ", "The chart as a table")) }
            table id="trend-table" {
                tr {
                    th { (l.t("Kỳ", "Period")) }
                    th.n { (l.t("Kết nạp", "Admitted")) }
                    th.n { (l.t("Lũy kế", "Cumulative")) }
                    th.n { (l.t("Kế hoạch (lũy kế)", "Plan (cumulative)")) }
                }
                @for p in &t.points {
                    tr {
                        td { (p.label) }
                        td.n { (l.int(p.admitted as i64)) }
                        td.n { (l.int(p.cumulative as i64)) }
                        td.n { (p.plan
                            .map(|v| l.int(v.round() as i64))
                            .unwrap_or_else(|| "–".into())) }
                    }
                }
            }
        }
    }
}

/// Awareness classes of the period and their trainees.
fn classes_section(l: Lang, base: &CaseFilter, d: &Dashboard) -> Markup {
    let c = &d.classes;
    let certificates = CaseFilter {
        org: base.org.clone(),
        from: Some(d.period.from),
        to: Some(d.period.to),
        ..CaseFilter::default()
    }
    .query_string();
    html! {
        h2 { (l.t("Lớp bồi dưỡng nhận thức về Đảng", "Party awareness classes")) }
        p id="classes-summary" {
            (l.t("Số lớp", "Classes")) ": " strong { (l.int(c.classes as i64)) } " · "
            (l.t("Quần chúng được cử đi học", "Candidates sent")) ": " strong { (l.int(c.trainees as i64)) } " · "
            (l.t("Được cấp giấy chứng nhận", "Certified")) ": " strong { (l.int(c.certified as i64)) } " · "
            (l.t("Đã kết nạp", "Admitted since")) ": " strong { (l.int(c.admitted as i64)) } " · "
            (l.t(
                "Giấy chứng nhận cấp trong kỳ",
                "Certificates dated in the period",
            ))
            ": "
            a href={ "/central/cases?" (certificates) } { (l.int(c.certificates_in_period as i64)) }
        }
        @if !c.list.is_empty() {
            table id="classes" {
                tr {
                    th { (l.t("Lớp", "Class")) }
                    th { (l.t("Đơn vị mở lớp", "Opened by")) }
                    th { (l.t("Thời gian", "Dates")) }
                    th.n { (l.t("Học viên", "Trainees")) }
                    th.n { (l.t("Có giấy chứng nhận", "Certified")) }
                    th.n { (l.t("Đã kết nạp", "Admitted")) }
                }
                @for k in &c.list {
                    @let cases = CaseFilter {
                        org: base.org.clone(),
                        class_id: Some(ClassId(k.id.clone())),
                        year: Some(k.start_date.year()),
                        ..CaseFilter::default()
                    }
                    .query_string();
                    tr {
                        td { a href={ "/central/cases?" (cases) } { (k.name) } }
                        td { (k.org_name) }
                        td { (k.start_date.format_vn()) " – " (k.end_date.format_vn()) }
                        td.n { (l.int(k.participants as i64)) }
                        td.n { (l.int(k.certified as i64)) }
                        td.n { (l.int(k.admitted as i64)) }
                    }
                }
            }
        }
    }
}

/// Cohort conversion: entered the pipeline in the period → attended a class → admitted,
/// with both shares, by source and by occupation.
pub fn cohort_section(l: Lang, base: &CaseFilter, c: &Cohort) -> Markup {
    let entry = match c.entry {
        CohortEntry::OutstandingList => l.t(
            "vào danh sách quần chúng ưu tú",
            "entered the list of outstanding people",
        ),
        CohortEntry::ClassCertificate => l.t(
            "được cấp giấy chứng nhận lớp nhận thức",
            "received the class certificate",
        ),
        CohortEntry::ApplicationLetter => l.t("nộp đơn xin vào Đảng", "applied"),
    };
    let cohort_link = |f: &dyn Fn(&mut CaseFilter)| {
        let mut c = base.clone();
        c.cohort = true;
        f(&mut c);
        format!("/central/cases?{}", c.query_string())
    };
    let row = |label: &str, id: &str, x: &crate::figures::Conversion, href: String| {
        html! {
            tr {
                td { (label) }
                td.n { a id=(id) href=(href) { (l.int(x.entered as i64)) } }
                td.n { (l.int(x.attended_class as i64)) }
                td.n { (l.int(x.admitted as i64)) }
                td.n { (l.pct(x.admitted_percent)) }
                td.n { (l.pct(x.admitted_of_attendees_percent)) }
            }
        }
    };
    html! {
        h2 {
            (l.t(
                "Chuyển đổi theo khóa: những người",
                "Cohort conversion: people who",
            ))
            " " (entry) " " (l.t("trong", "between")) " "
            (c.period.from.format_vn()) " – " (c.period.to.format_vn())
        }
        table id="cohort" {
            tr {
                th { (l.t("Nhóm", "Group")) }
                th.n { (l.t("Vào nguồn", "Entered")) }
                th.n { (l.t("Đã học lớp nhận thức", "Attended the class")) }
                th.n { (l.t("Đã kết nạp", "Admitted")) }
                th.n { (l.t("Kết nạp / vào nguồn", "Admitted / entered")) }
                th.n { (l.t("Kết nạp / đã học lớp", "Admitted / attendees")) }
            }
            (row(
                l.t("Tất cả", "All"),
                "cohort-all",
                &c.total,
                cohort_link(&|_| {}),
            ))
            @for line in &c.by_source {
                @let code = line.code.as_str();
                (row(
                    &format!(
                        "{}: {}",
                        l.t("Nguồn", "Source"),
                        l.t(&line.label_vi, &line.label_en)
                    ),
                    &format!("cohort-source-{code}"),
                    &line.figures,
                    cohort_link(&|f| f.source = Recorded::parse(code, SourceKind::from_code)),
                ))
            }
            @for line in &c.by_occupation {
                @let code = line.code.as_str();
                (row(
                    l.t(&line.label_vi, &line.label_en),
                    &format!("cohort-occupation-{code}"),
                    &line.figures,
                    cohort_link(&|f| f.occupation = Recorded::parse(code, Occupation::from_code)),
                ))
            }
        }
        @if c.without_entry_date > 0 {
            p.muted {
                (l.t(
                    "Hồ sơ chưa ghi ngày vào nguồn (không thuộc khóa nào)",
                    "Files without an entry date (in no cohort)",
                ))
                ": " (l.int(c.without_entry_date as i64))
            }
        }
    }
}

/// The options of a select over coded values (code, Vietnamese, English), with "not
/// recorded" last.
pub(super) fn coded_options(
    l: Lang,
    items: impl Iterator<Item = (&'static str, &'static str, &'static str)>,
) -> Vec<(String, String)> {
    items
        .map(|(code, vi, en)| (code.to_string(), l.t(vi, en).to_string()))
        .chain([(
            "none_recorded".to_string(),
            l.t("Chưa ghi", "Not recorded").to_string(),
        )])
        .collect()
}

/// The source of a file as choices of a filter, with "not recorded".
pub(super) fn source_options(l: Lang) -> Vec<(String, String)> {
    coded_options(
        l,
        shared::model::SourceKind::ALL
            .iter()
            .map(|s| (s.code(), s.label_vi(), s.label_en())),
    )
}

/// The occupation of a person as choices of a filter, with "not recorded".
pub(super) fn occupation_options(l: Lang) -> Vec<(String, String)> {
    coded_options(
        l,
        shared::model::Occupation::ALL
            .iter()
            .map(|o| (o.code(), o.label_vi(), o.label_en())),
    )
}
