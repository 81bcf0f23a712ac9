//! The dashboard page: admissions against the target, its revisions and sub-targets, and
//! membership; the trend against the plan; awareness classes; per organisation, per
//! stage; cohort conversion; who the new members are, and organisations that admitted
//! nobody. Every figure is a link to the case files behind it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::{Lang, Reviewer, esc, export_links, org_options, page, run_page};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::figures::{Cohort, TargetGroup, Via};
use crate::reports::{
    self, CaseFilter, Dashboard, OrgIndex, Period, PlanStatus, RATE_TARGET_HIGH, RATE_TARGET_LOW,
    Trend, education_label, sector_label,
};
use crate::review::ReportQuery;
use shared::rules::CohortEntry;

/// Bars drawn per chart; the full list is in the table and the exports.
const MAX_BARS: usize = 40;

pub async fn show(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let years = q.years_without()?;
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let d = reports::dashboard(&conn, &orgs, &r.caller, &q.filter, years, today_vn())?;
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        drop(conn);
        let body = render(&r, &q, &d, &org_options(&orgs, &scope, &d.org_id), years);
        Ok(page(&r, r.t("Tổng quan", "Dashboard"), "dashboard", &body))
    })
    .await
}

/// Plan vs done of every organisation of a subtree, sorted and exported, with the trend
/// of the subtree against its target.
pub async fn plan_page(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let today = today_vn();
        let mut p = reports::plan(&conn, &orgs, &r.caller, &q.filter, today, Via::Aggregates)?;
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
        let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
        let mut h = format!(
            r#"<form class="filters" method="get" action="/central/plan">
<label>{org}<select name="org">{opts}</select></label>
<label>{year}<input name="year" size="5" value="{y}" placeholder="{cy}"></label>
<label>{term}<input name="term" size="9" value="{t}" placeholder="2025-2030"></label>
<label>{sort}<select name="sort"><option value="percent">{by_pct}</option><option value="admitted"{sa}>{by_adm}</option><option value="name"{sn}>{by_name}</option></select></label>
<button>{show}</button></form>"#,
            org = esc(l.t("Tổ chức", "Organisation")),
            opts = org_options(&orgs, &scope, &p.org_id),
            year = esc(l.t("Năm", "Year")),
            y = val(&f.year),
            cy = today.year(),
            term = esc(l.t("Nhiệm kỳ", "Term")),
            t = val(&f.term),
            sort = esc(l.t("Sắp xếp", "Sort")),
            by_pct = esc(l.t("% đạt, thấp trước", "% reached, lowest first")),
            by_adm = esc(l.t("Số kết nạp", "Admitted")),
            by_name = esc(l.t("Tên", "Name")),
            sa = if q.sort.as_deref() == Some("admitted") { " selected" } else { "" },
            sn = if q.sort.as_deref() == Some("name") { " selected" } else { "" },
            show = esc(l.t("Xem", "Show")),
        );
        h.push_str(&format!(
            "<p><strong>{}</strong> · {} – {}</p>",
            esc(&p.org_name),
            esc(&p.period.from.format_vn()),
            esc(&p.period.to.format_vn())
        ));
        let zero = p.rows.iter().filter(|x| x.status == PlanStatus::Zero).count();
        let ahead = p
            .rows
            .iter()
            .filter(|x| matches!(x.status, PlanStatus::OnPlan | PlanStatus::Reached))
            .count();
        h.push_str(&format!(
            r#"<div class="cards"><div class="card"><div>{}</div><div class="v bad" id="plan-zero">{}</div></div><div class="card"><div>{}</div><div class="v ok" id="plan-ahead">{}</div></div></div>"#,
            esc(l.t("Tổ chức chưa kết nạp (0 %)", "Organisations at 0 %")),
            l.int(zero as i64),
            esc(l.t("Đúng hoặc vượt tiến độ", "On or ahead of plan")),
            l.int(ahead as i64),
        ));
        h.push_str(&trend_section(l, &trend));
        h.push_str(&format!(
            "<table id=\"plan\"><tr><th>{}</th><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>%</th><th class=n>{}</th><th>{}</th><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>%</th></tr>",
            esc(l.t("Tổ chức", "Organisation")),
            esc(l.t("Khối", "Sector")),
            esc(l.t("Chỉ tiêu", "Target")),
            esc(l.t("Kết nạp", "Admitted")),
            esc(l.t("Tiến độ đến nay", "Expected to date")),
            esc(l.t("Đánh giá", "Status")),
            esc(l.t("Nhiệm kỳ", "Term")),
            esc(l.t("Chỉ tiêu nhiệm kỳ", "Term target")),
            esc(l.t("Từ đầu nhiệm kỳ", "Term to date")),
        ));
        for x in &p.rows {
            let (class, status) = match x.status {
                PlanStatus::NoTarget => ("", l.t("chưa giao chỉ tiêu", "no target")),
                PlanStatus::Zero => ("bad", l.t("chưa kết nạp", "none admitted")),
                PlanStatus::Behind => ("warn", l.t("chậm tiến độ", "behind plan")),
                PlanStatus::OnPlan => ("ok", l.t("đúng/vượt tiến độ", "on or ahead of plan")),
                PlanStatus::Reached => ("ok", l.t("đạt chỉ tiêu", "target reached")),
            };
            let href = link(&p.base, |c| {
                c.org = Some(x.org_id.clone());
                c.admitted = on("1");
            });
            h.push_str(&format!(
                r#"<tr class="{class}" data-org="{id}"><td>{name}</td><td>{sector}</td><td class=n>{target}</td><td class=n><a href="{href}">{adm}</a></td><td class=n>{pct}</td><td class=n>{exp}</td><td class="{class}">{status}</td><td>{term}</td><td class=n>{tt}</td><td class=n>{ta}</td><td class=n>{tp}</td></tr>"#,
                id = esc(&x.org_id),
                name = esc(&format!("{}{}", "· ".repeat(x.depth), x.name)),
                sector = esc(&sector_label(&x.sector, l.en)),
                target = x.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into()),
                href = esc(&href),
                adm = l.int(x.admitted as i64),
                pct = esc(&l.pct(x.percent)),
                exp = x.expected.map(|e| l.int(e.round() as i64)).unwrap_or_else(|| "–".into()),
                status = esc(status),
                term = esc(x.term.as_deref().unwrap_or("–")),
                tt = x.term_target.map(|t| l.int(t)).unwrap_or_else(|| "–".into()),
                ta = x.term_admitted.map(|t| l.int(t as i64)).unwrap_or_else(|| "–".into()),
                tp = esc(&l.pct(x.term_percent)),
            ));
        }
        h.push_str("</table>");
        h.push_str(&export_links(l, "plan", &p.base.query_string()));
        Ok(page(&r, r.t("Kế hoạch và thực hiện", "Plan vs done"), "dashboard", &h))
    })
    .await
}

/// Cohort conversion with every filter of the case list: who entered the pipeline in the
/// period, how many attended a class and how many were admitted, by source and
/// occupation.
pub async fn cohort_page(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    Query(q): Query<ReportQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = r.lang;
    run_page(lang, move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let today = today_vn();
        let root = reports::resolve_org(&orgs, &r.caller, q.filter.org.as_deref())?.clone();
        let base = CaseFilter {
            org: Some(root.id.clone()),
            ..q.filter.clone()
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
        let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
        let select = |name: &str, current: &Option<String>, opts: Vec<(String, String)>| {
            let mut h = format!(r#"<select name="{name}"><option value="">—</option>"#);
            for (code, label) in opts {
                let sel = if current.as_deref() == Some(code.as_str()) {
                    " selected"
                } else {
                    ""
                };
                h.push_str(&format!(
                    r#"<option value="{}"{sel}>{}</option>"#,
                    esc(&code),
                    esc(&label)
                ));
            }
            h.push_str("</select>");
            h
        };
        let check = |name: &str, current: &Option<String>, label: &str| {
            format!(
                r#"<label><input type="checkbox" name="{name}" value="1"{}> {}</label>"#,
                if current.as_deref() == Some("1") {
                    " checked"
                } else {
                    ""
                },
                esc(label)
            )
        };
        let mut h = format!(
            r#"<form class="filters" method="get" action="/central/cohort">
<label>{org}<select name="org">{opts}</select></label>
<label>{year}<input name="year" size="5" value="{y}" placeholder="{cy}"></label>
<label>{term}<input name="term" size="9" value="{t}" placeholder="2025-2030"></label>
<label>{from}<input name="from" size="10" value="{fr}" placeholder="dd/mm/yyyy"></label>
<label>{to}<input name="to" size="10" value="{to_v}" placeholder="dd/mm/yyyy"></label>
<label>{sector}{sector_sel}</label>
<label>{source}{source_sel}</label>
<label>{occ}{occ_sel}</label>
{female}{youth}{minority}
<button>{show}</button></form>"#,
            org = esc(l.t("Tổ chức", "Organisation")),
            opts = org_options(&orgs, &scope, &root.id),
            year = esc(l.t("Năm", "Year")),
            y = val(&f.year),
            cy = today.year(),
            term = esc(l.t("Nhiệm kỳ", "Term")),
            t = val(&f.term),
            from = esc(l.t("Từ ngày", "From")),
            fr = val(&f.from),
            to = esc(l.t("Đến ngày", "To")),
            to_v = val(&f.to),
            sector = esc(l.t("Khối", "Sector")),
            sector_sel = select(
                "sector",
                &f.sector,
                sectors
                    .iter()
                    .map(|s| (s.clone(), sector_label(s, l.en)))
                    .collect()
            ),
            source = esc(l.t("Nguồn", "Source")),
            source_sel = select(
                "source",
                &f.source,
                coded_options(
                    l,
                    shared::model::SourceKind::ALL.iter().map(|s| (
                        s.code(),
                        s.label_vi(),
                        s.label_en()
                    ))
                )
            ),
            occ = esc(l.t("Nghề nghiệp", "Occupation")),
            occ_sel = select(
                "occupation",
                &f.occupation,
                coded_options(
                    l,
                    shared::model::Occupation::ALL.iter().map(|o| (
                        o.code(),
                        o.label_vi(),
                        o.label_en()
                    ))
                )
            ),
            female = check("female", &f.female, l.t("Nữ", "Women")),
            youth = check("youth", &f.youth, l.t("Đoàn viên", "Youth Union members")),
            minority = check(
                "minority",
                &f.minority,
                l.t("Dân tộc thiểu số", "Ethnic minorities")
            ),
            show = esc(l.t("Xem", "Show")),
        );
        h.push_str(&cohort_section(l, &base, &c));
        h.push_str(&export_links(l, "cohort", &base.query_string()));
        Ok(page(
            &r,
            r.t("Chuyển đổi theo khóa", "Cohort conversion"),
            "dashboard",
            &h,
        ))
    })
    .await
}

fn link(base: &CaseFilter, f: impl FnOnce(&mut CaseFilter)) -> String {
    let mut c = base.clone();
    f(&mut c);
    format!("/central/cases?{}", c.query_string())
}

fn on(s: &str) -> Option<String> {
    Some(s.to_string())
}

/// The filter of one year clipped to the period (a January–May period stays so).
fn year_filter(base: &CaseFilter, period: &Period, year: i32) -> CaseFilter {
    let y = Period::year(year);
    CaseFilter {
        org: base.org.clone(),
        from: Some(y.from.max(period.from).to_string()),
        to: Some(y.to.min(period.to).to_string()),
        ..CaseFilter::default()
    }
}

fn render(r: &Reviewer, q: &ReportQuery, d: &Dashboard, org_opts: &str, years: i32) -> String {
    let l = r.lang;
    let base = &d.base;
    let f = &q.filter;
    let val = |o: &Option<String>| esc(o.as_deref().unwrap_or(""));
    let mut h = String::new();
    h.push_str(&format!(
        r#"<form class="filters" method="get" action="/central">
<label>{org}<select name="org">{org_opts}</select></label>
<label>{year}<input name="year" size="5" value="{y}" placeholder="{cy}"></label>
<label>{term}<input name="term" size="9" value="{t}" placeholder="2020-2025"></label>
<label>{from}<input name="from" size="10" value="{fr}" placeholder="dd/mm/yyyy"></label>
<label>{to}<input name="to" size="10" value="{to_v}" placeholder="dd/mm/yyyy"></label>
<label>{n}<input name="years_without" size="2" value="{years}"></label>
<button>{show}</button></form>"#,
        org = esc(l.t("Tổ chức", "Organisation")),
        year = esc(l.t("Năm", "Year")),
        term = esc(l.t("Nhiệm kỳ", "Term")),
        from = esc(l.t("Từ ngày", "From")),
        to = esc(l.t("Đến ngày", "To")),
        n = esc(l.t("Số năm liền không kết nạp", "Years without admission")),
        show = esc(l.t("Xem", "Show")),
        y = val(&f.year),
        cy = today_vn().year(),
        t = val(&f.term),
        fr = val(&f.from),
        to_v = val(&f.to),
    ));
    let period = format!(
        "{} – {}",
        d.period.from.format_vn(),
        d.period.to.format_vn()
    );
    h.push_str(&format!(
        "<p><strong>{}</strong> · {}{}</p>",
        esc(&d.org_name),
        esc(&period),
        d.term
            .as_ref()
            .map(|t| format!(" · {} {}", esc(l.t("nhiệm kỳ", "term")), esc(t)))
            .unwrap_or_default()
    ));

    // Headline cards.
    let admitted_href = link(base, |c| c.admitted = on("1"));
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
    h.push_str(&format!(
        r#"<div class="cards">
<div class="card"><div>{adm_l}</div><div class="v"><a id="admitted" href="{ah}">{adm}</a></div></div>
<div class="card"><div>{tgt_l}</div><div class="v {target_class}"><span id="target">{tgt}</span></div><div class="muted" id="target-percent">{tp}</div></div>
<div class="card"><div>{mem_l}</div><div class="v" id="members">{mem}</div></div>
<div class="card"><div>{rate_l}</div><div class="v {rate_class}" id="rate">{rate}</div><div class="muted">{rate_t}</div></div>
<div class="card"><div>{none_l} {fy}–{ly}</div><div class="v"><a id="no-admission" href="{none_href}">{none_n}/{g_total}</a></div></div>
</div>"#,
        adm_l = esc(l.t("Kết nạp đảng viên", "Admitted")),
        ah = esc(&admitted_href),
        adm = l.int(d.admitted as i64),
        tgt_l = esc(l.t("Chỉ tiêu", "Target")),
        tgt = d.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into()),
        tp = esc(&format!("{} {}", l.pct(d.target_percent), l.t("chỉ tiêu", "of target"))),
        mem_l = esc(l.t("Đảng viên đầu năm", "Members at start of year")),
        mem = d.members_start.map(|m| l.int(m)).unwrap_or_else(|| "–".into()),
        rate_l = esc(l.t("Kết nạp / đảng viên đầu năm", "Admitted / members")),
        rate = esc(&l.pct(d.rate_percent)),
        rate_t = esc(&format!(
            "{} {RATE_TARGET_LOW:.0}–{RATE_TARGET_HIGH:.0} % (21-NQ/TW)",
            l.t("mục tiêu", "target")
        )),
        none_l = esc(l.t("Tổ chức cơ sở đảng không kết nạp", "Grassroots orgs without admission")),
        fy = d.no_admission.first_year,
        ly = d.no_admission.last_year,
        none_href = "#no-admission-list",
        g_total = d.no_admission.grassroots_total,
    ));

    h.push_str(&format!(
        r#"<p>{off_l}: <a id="official" href="{oh}">{off}</a></p>"#,
        off_l = esc(l.t(
            "Công nhận đảng viên chính thức trong kỳ",
            "Recognised as official members in the period"
        )),
        oh = esc(&link(base, |c| c.official = on("1"))),
        off = l.int(d.official as i64),
    ));
    if d.term_calendar_years {
        h.push_str(&format!(
            r#"<p class="warn">{}</p>"#,
            esc(l.t(
                "Nhiệm kỳ chưa có ngày đại hội: đang tính theo năm dương lịch (theo thiết lập).",
                "No congress dates recorded for this term: whole calendar years are used (a setting)."
            ))
        ));
    }
    if let Some(t) = &d.term_dates {
        h.push_str(&format!(
            r#"<p class="muted" id="term-dates">{} {} · {} {} – {} · {}</p>"#,
            esc(l.t("Nhiệm kỳ", "Term")),
            esc(&t.name),
            esc(l.t(
                "từ đại hội đến trước đại hội kế tiếp",
                "congress to the next congress"
            )),
            esc(&t.start.format_vn()),
            esc(&t.end.format_vn()),
            esc(&t.decision),
        ));
    }
    h.push_str(&targets_section(l, base, d));
    h.push_str(&trend_section(l, &d.trend));
    h.push_str(&classes_section(l, base, d));
    h.push_str(&format!(
        r#"<p><a href="/central/plan?{}">{}</a></p>"#,
        esc(&base.query_string()),
        esc(l.t(
            "Kế hoạch và thực hiện của từng tổ chức →",
            "Plan vs done of every organisation →"
        ))
    ));
    // Per year.
    h.push_str(&format!(
        "<h2>{}</h2><table><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr>",
        esc(l.t("Theo năm", "Per year")),
        esc(l.t("Năm", "Year")),
        esc(l.t("Kết nạp", "Admitted")),
        esc(l.t("Đảng viên đầu năm", "Members at start")),
        esc(l.t("Tỷ lệ", "Rate")),
        esc(l.t("Chỉ tiêu", "Target")),
        esc(l.t("Đạt", "Achieved")),
    ));
    for y in &d.per_year {
        let yf = year_filter(base, &d.period, y.year);
        h.push_str(&format!(
            r#"<tr><td>{}</td><td class=n><a href="{}" data-year="{}">{}</a></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>"#,
            y.year,
            esc(&link(&yf, |c| c.admitted = on("1"))),
            y.year,
            l.int(y.admitted as i64),
            y.members_start.map(|m| l.int(m)).unwrap_or_else(|| "–".into()),
            esc(&l.pct(y.rate_percent)),
            y.target.map(|t| l.int(t)).unwrap_or_else(|| "–".into()),
            esc(&l.pct(y.target_percent)),
        ));
    }
    h.push_str("</table>");

    // Bars per organisation.
    h.push_str(&format!(
        "<h2>{}</h2>",
        esc(l.t(
            "Kết nạp theo tổ chức cơ sở đảng",
            "Admissions per grassroots organisation"
        ))
    ));
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
                    c.admitted = on("1");
                    c.org = Some(o.org_id.clone());
                }),
            )
        })
        .collect();
    h.push_str(&bar_chart(l, &bars, "#a50e0e"));
    let shown = d.per_org.iter().filter(|o| o.count > 0).count();
    if shown > MAX_BARS {
        h.push_str(&format!(
            r#"<p class="muted">{} {MAX_BARS} / {shown}</p>"#,
            esc(l.t("Hiển thị", "Showing"))
        ));
    }

    // Cohort conversion.
    h.push_str(&cohort_section(l, base, &d.cohort));
    h.push_str(&format!(
        r#"<p><a href="/central/cohort?{}">{}</a></p>"#,
        esc(&base.query_string()),
        esc(l.t(
            "Chuyển đổi theo khóa với các bộ lọc (nguồn, nghề nghiệp, khối…) →",
            "Cohort conversion with filters (source, occupation, sector…) →"
        ))
    ));
    let scope_base = CaseFilter {
        org: base.org.clone(),
        ..CaseFilter::default()
    };
    h.push_str(&format!(
        "<h2>{}</h2>",
        esc(l.t(
            "Hồ sơ theo giai đoạn (hiện tại)",
            "Case files per stage (now)"
        ))
    ));
    let stage_bars: Vec<(String, usize, String)> = d
        .per_stage
        .iter()
        .map(|s| {
            (
                l.t(&s.label_vi, &s.label_en).to_string(),
                s.count,
                link(&scope_base, |c| c.stage = Some(s.stage.clone())),
            )
        })
        .collect();
    h.push_str(&bar_chart(l, &stage_bars, "#1f5f99"));

    // Who the new members are.
    let b = &d.breakdown;
    h.push_str(&format!(
        "<h2>{}</h2><table><tr><th>{}</th><th class=n>{}</th><th class=n>%</th></tr>",
        esc(l.t("Cơ cấu đảng viên mới", "Who the new members are")),
        esc(l.t("Nhóm", "Group")),
        esc(l.t("Kết nạp", "Admitted")),
    ));
    let row = |label: &str, n: usize, href: String, id: &str| {
        format!(
            r#"<tr><td>{}</td><td class=n><a id="{id}" href="{}">{}</a></td><td class=n>{}</td></tr>"#,
            esc(label),
            esc(&href),
            l.int(n as i64),
            esc(&l.pct((b.total > 0).then(|| (n as f64 * 1000.0 / b.total as f64).round() / 10.0))),
        )
    };
    h.push_str(&row(
        l.t("Nữ", "Women"),
        b.women,
        link(base, |c| {
            c.admitted = on("1");
            c.female = on("1")
        }),
        "women",
    ));
    h.push_str(&row(
        l.t("Dân tộc thiểu số", "Ethnic minorities"),
        b.ethnic_minority,
        link(base, |c| {
            c.admitted = on("1");
            c.minority = on("1")
        }),
        "minority",
    ));
    h.push_str(&row(
        l.t("Tuổi 18–30", "Aged 18–30"),
        b.age_18_30,
        link(base, |c| {
            c.admitted = on("1");
            c.age = on("1")
        }),
        "age",
    ));
    h.push_str(&row(
        l.t("Đoàn viên thanh niên", "Youth Union members"),
        b.youth_union,
        link(base, |c| {
            c.admitted = on("1");
            c.youth = on("1")
        }),
        "youth",
    ));
    for (code, n) in &b.sectors {
        h.push_str(&row(
            &format!("{}: {}", l.t("Khối", "Sector"), sector_label(code, l.en)),
            *n,
            link(base, |c| {
                c.admitted = on("1");
                c.sector = Some(code.clone())
            }),
            &format!("sector-{code}"),
        ));
    }
    for (code, n) in &b.education {
        h.push_str(&row(
            &format!(
                "{}: {}",
                l.t("Trình độ", "Education"),
                education_label(code, l.en)
            ),
            *n,
            link(base, |c| {
                c.admitted = on("1");
                c.education = Some(code.clone())
            }),
            &format!("education-{code}"),
        ));
    }
    h.push_str("</table>");

    // Organisations without admission.
    h.push_str(&format!(
        r#"<h2 id="no-admission-list">{} {}–{}: {}/{}</h2><table><tr><th>{}</th><th>{}</th><th class=n>{}</th></tr>"#,
        esc(l.t(
            "Tổ chức cơ sở đảng không kết nạp được đảng viên",
            "Grassroots organisations that admitted nobody"
        )),
        d.no_admission.first_year,
        d.no_admission.last_year,
        none_n,
        d.no_admission.grassroots_total,
        esc(l.t("Tổ chức", "Organisation")),
        esc(l.t("Khối", "Sector")),
        esc(l.t("Đảng viên đầu năm", "Members at start")),
    ));
    for o in &d.no_admission.orgs {
        h.push_str(&format!(
            r#"<tr><td><a href="{}">{}</a></td><td>{}</td><td class=n>{}</td></tr>"#,
            esc(&format!(
                "/central/cases?org={}",
                reports::url_encode(&o.org_id)
            )),
            esc(&o.name),
            esc(&sector_label(&o.sector, l.en)),
            o.members_start
                .map(|m| l.int(m))
                .unwrap_or_else(|| "–".into()),
        ));
    }
    h.push_str("</table>");
    let mut export_q = base.query_string();
    export_q.push_str(&format!("&years_without={years}"));
    h.push_str(&export_links(l, "dashboard", &export_q));
    h
}

/// Horizontal bars, one link per bar, sized to the largest value.
fn bar_chart(l: Lang, bars: &[(String, usize, String)], colour: &str) -> String {
    if bars.is_empty() {
        return format!(
            r#"<p class="muted">{}</p>"#,
            esc(l.t("Không có số liệu.", "No data."))
        );
    }
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let row_h = 22;
    let label_w = 330.0;
    let bar_w = 520.0;
    let height = bars.len() * row_h + 6;
    // A group of links, not an image: each bar is a link named by its label and count,
    // which is also the chart's text alternative.
    let mut s = format!(
        r#"<svg role="group" aria-label="{label}" width="100%" viewBox="0 0 920 {height}" preserveAspectRatio="xMinYMin meet" class="chart wide"><title>{label}</title>"#,
        label = esc(l.t(
            "Biểu đồ cột; mỗi cột là một liên kết đến danh sách hồ sơ của nó",
            "Bar chart; each bar links to its list of case files"
        )),
    );
    for (i, (label, n, href)) in bars.iter().enumerate() {
        let y = i * row_h + 4;
        let w = (*n as f64 / max * bar_w).max(if *n > 0 { 2.0 } else { 0.0 });
        let short: String = label.chars().take(48).collect();
        s.push_str(&format!(
            r#"<a href="{href}"><title>{title}: {n}</title><text x="4" y="{ty}">{short}</text><rect x="{label_w}" y="{y}" width="{w:.1}" height="{bh}" fill="{colour}"></rect><text x="{tx:.1}" y="{ty}">{nf}</text></a>"#,
            href = esc(href),
            title = esc(label),
            ty = y + 14,
            short = esc(&short),
            bh = row_h - 6,
            tx = label_w + w + 6.0,
            nf = l.int(*n as i64),
        ));
    }
    s.push_str("</svg>");
    s
}

/// Sub-targets and the revisions of the period's target.
fn targets_section(l: Lang, base: &CaseFilter, d: &Dashboard) -> String {
    let mut h = String::new();
    if !d.sub_targets.is_empty() {
        h.push_str(&format!(
            "<h2>{}</h2><table id=\"sub-targets\"><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>%</th></tr>",
            esc(l.t("Chỉ tiêu thành phần", "Sub-targets")),
            esc(l.t("Nhóm", "Group")),
            esc(l.t("Chỉ tiêu", "Target")),
            esc(l.t("Kết nạp", "Admitted")),
        ));
        for st in &d.sub_targets {
            let href = link(base, |c| {
                c.admitted = on("1");
                if let Some(g) = TargetGroup::parse(&st.group) {
                    g.apply(c);
                }
            });
            h.push_str(&format!(
                r#"<tr><td>{}</td><td class=n>{}</td><td class=n><a href="{}" data-group="{}">{}</a></td><td class=n>{}</td></tr>"#,
                esc(l.t(&st.label_vi, &st.label_en)),
                l.int(st.target),
                esc(&href),
                esc(&st.group),
                l.int(st.admitted as i64),
                esc(&l.pct(st.percent)),
            ));
        }
        h.push_str("</table>");
    }
    if !d.target_revisions.is_empty() {
        h.push_str(&format!(
            "<h2>{}</h2><table id=\"revisions\"><tr><th>{}</th><th class=n>{}</th><th>{}</th><th>{}</th></tr>",
            esc(l.t("Điều chỉnh chỉ tiêu", "Target revisions")),
            esc(l.t("Chỉ tiêu", "Figure")),
            esc(l.t("Trước → sau", "Before → after")),
            esc(l.t("Hiệu lực", "Effective")),
            esc(l.t("Quyết định", "Decision")),
        ));
        for r in &d.target_revisions {
            let field = match r.field.strip_prefix("target:") {
                Some(g) => TargetGroup::parse(g)
                    .map(|g| g.label(l.en))
                    .unwrap_or_else(|| g.to_string()),
                None => l.t("Chỉ tiêu kết nạp", "Admission target").to_string(),
            };
            h.push_str(&format!(
                r#"<tr class="revision"><td>{}</td><td class=n>{} → {}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&field),
                r.old_value.map(|v| l.int(v)).unwrap_or_else(|| "–".into()),
                l.int(r.new_value),
                esc(&r
                    .effective
                    .as_deref()
                    .and_then(|e| e.parse::<shared::date::Date>().ok())
                    .map(|d| d.format_vn())
                    .unwrap_or_default()),
                esc(&r.decision),
            ));
        }
        h.push_str("</table>");
    }
    h
}

/// Admissions per month (or year) as bars, the running total as a line and the plan
/// (target pro rata) as a dashed line; the same numbers follow in a table.
fn trend_section(l: Lang, t: &Trend) -> String {
    let mut h = format!(
        "<h2>{}</h2>",
        esc(l.t(
            "Diễn biến kết nạp so với chỉ tiêu",
            "Admissions over time against the target"
        ))
    );
    if t.points.is_empty() {
        return h;
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
    let mut svg = format!(
        r#"<svg role="img" aria-labelledby="trend-title trend-desc" width="100%" viewBox="0 0 {w} {hgt}" class="chart wide" id="trend"><title id="trend-title">{}</title><desc id="trend-desc">{}</desc>"#,
        esc(l.t("Diễn biến kết nạp", "Admissions over time")),
        esc(desc),
    );
    let mut cum = String::new();
    let mut plan = String::new();
    for (i, p) in t.points.iter().enumerate() {
        let x = left + i as f64 * step;
        let bh = p.admitted as f64 / max_bar * (hgt - bottom - 10.0) * 0.5;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#e88a8a\"><title>{}: {}</title></rect>",
            x + step * 0.15,
            hgt - bottom - bh,
            step * 0.7,
            esc(&p.label),
            l.int(p.admitted as i64),
        ));
        let cx = x + step / 2.0;
        cum.push_str(&format!("{cx:.1},{:.1} ", y(p.cumulative as f64, max_cum)));
        if let Some(v) = p.plan {
            plan.push_str(&format!("{cx:.1},{:.1} ", y(v, max_cum)));
        }
        if t.points.len() <= 24 || i % (t.points.len() / 12).max(1) == 0 {
            svg.push_str(&format!(
                r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                hgt - 10.0,
                esc(&p.label)
            ));
        }
    }
    svg.push_str(&format!(
        "<polyline points=\"{cum}\" fill=\"none\" stroke=\"#a50e0e\" stroke-width=\"2\"></polyline>"
    ));
    if !plan.is_empty() {
        svg.push_str(&format!(
            "<polyline points=\"{plan}\" fill=\"none\" stroke=\"#1f5f99\" stroke-width=\"2\" stroke-dasharray=\"6 4\"></polyline>"
        ));
    }
    svg.push_str("</svg>");
    h.push_str(&svg);
    h.push_str(&format!(
        "<details><summary>{}</summary><table id=\"trend-table\"><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr>",
        esc(l.t("Bảng số liệu của biểu đồ", "The chart as a table")),
        esc(l.t("Kỳ", "Period")),
        esc(l.t("Kết nạp", "Admitted")),
        esc(l.t("Lũy kế", "Cumulative")),
        esc(l.t("Kế hoạch (lũy kế)", "Plan (cumulative)")),
    ));
    for p in &t.points {
        h.push_str(&format!(
            "<tr><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&p.label),
            l.int(p.admitted as i64),
            l.int(p.cumulative as i64),
            p.plan
                .map(|v| l.int(v.round() as i64))
                .unwrap_or_else(|| "–".into()),
        ));
    }
    h.push_str("</table></details>");
    h
}

/// Awareness classes of the period and their trainees.
fn classes_section(l: Lang, base: &CaseFilter, d: &Dashboard) -> String {
    let c = &d.classes;
    let mut h = format!(
        r#"<h2>{}</h2><p id="classes-summary">{}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: <strong>{}</strong> · {}: <a href="{}">{}</a></p>"#,
        esc(l.t("Lớp bồi dưỡng nhận thức về Đảng", "Party awareness classes")),
        esc(l.t("Số lớp", "Classes")),
        l.int(c.classes as i64),
        esc(l.t("Quần chúng được cử đi học", "Candidates sent")),
        l.int(c.trainees as i64),
        esc(l.t("Được cấp giấy chứng nhận", "Certified")),
        l.int(c.certified as i64),
        esc(l.t("Đã kết nạp", "Admitted since")),
        l.int(c.admitted as i64),
        esc(l.t(
            "Giấy chứng nhận cấp trong kỳ",
            "Certificates dated in the period"
        )),
        esc(&format!(
            "/central/cases?{}",
            CaseFilter {
                org: base.org.clone(),
                from: Some(d.period.from.to_string()),
                to: Some(d.period.to.to_string()),
                ..CaseFilter::default()
            }
            .query_string()
        )),
        l.int(c.certificates_in_period as i64),
    );
    if !c.list.is_empty() {
        h.push_str(&format!(
            "<table id=\"classes\"><tr><th>{}</th><th>{}</th><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr>",
            esc(l.t("Lớp", "Class")),
            esc(l.t("Đơn vị mở lớp", "Opened by")),
            esc(l.t("Thời gian", "Dates")),
            esc(l.t("Học viên", "Trainees")),
            esc(l.t("Có giấy chứng nhận", "Certified")),
            esc(l.t("Đã kết nạp", "Admitted")),
        ));
        for k in &c.list {
            h.push_str(&format!(
                r#"<tr><td><a href="{}">{}</a></td><td>{}</td><td>{} – {}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>"#,
                esc(&format!(
                    "/central/cases?{}",
                    CaseFilter {
                        org: base.org.clone(),
                        class_id: Some(k.id.clone()),
                        year: Some(k.start_date.year().to_string()),
                        ..CaseFilter::default()
                    }
                    .query_string()
                )),
                esc(&k.name),
                esc(&k.org_name),
                esc(&k.start_date.format_vn()),
                esc(&k.end_date.format_vn()),
                l.int(k.participants as i64),
                l.int(k.certified as i64),
                l.int(k.admitted as i64),
            ));
        }
        h.push_str("</table>");
    }
    h
}

/// Cohort conversion: entered the pipeline in the period → attended a class → admitted,
/// with both shares, by source and by occupation.
pub fn cohort_section(l: Lang, base: &CaseFilter, c: &Cohort) -> String {
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
        c.cohort = on("1");
        f(&mut c);
        format!("/central/cases?{}", c.query_string())
    };
    let mut h = format!(
        "<h2>{} {}</h2>",
        esc(l.t(
            "Chuyển đổi theo khóa: những người",
            "Cohort conversion: people who"
        )),
        esc(&format!(
            "{entry} {} {} – {}",
            l.t("trong", "between"),
            c.period.from.format_vn(),
            c.period.to.format_vn()
        )),
    );
    h.push_str(&format!(
        "<table id=\"cohort\"><tr><th>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th><th class=n>{}</th></tr>",
        esc(l.t("Nhóm", "Group")),
        esc(l.t("Vào nguồn", "Entered")),
        esc(l.t("Đã học lớp nhận thức", "Attended the class")),
        esc(l.t("Đã kết nạp", "Admitted")),
        esc(l.t("Kết nạp / vào nguồn", "Admitted / entered")),
        esc(l.t("Kết nạp / đã học lớp", "Admitted / attendees")),
    ));
    let row = |label: &str, id: &str, x: &crate::figures::Conversion, href: String| {
        format!(
            r#"<tr><td>{}</td><td class=n><a id="{id}" href="{}">{}</a></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>"#,
            esc(label),
            esc(&href),
            l.int(x.entered as i64),
            l.int(x.attended_class as i64),
            l.int(x.admitted as i64),
            esc(&l.pct(x.admitted_percent)),
            esc(&l.pct(x.admitted_of_attendees_percent)),
        )
    };
    h.push_str(&row(
        l.t("Tất cả", "All"),
        "cohort-all",
        &c.total,
        cohort_link(&|_| {}),
    ));
    for line in &c.by_source {
        let code = if line.code.is_empty() {
            "none_recorded".to_string()
        } else {
            line.code.clone()
        };
        h.push_str(&row(
            &format!(
                "{}: {}",
                l.t("Nguồn", "Source"),
                l.t(&line.label_vi, &line.label_en)
            ),
            &format!("cohort-source-{code}"),
            &line.figures,
            cohort_link(&|f| f.source = Some(code.clone())),
        ));
    }
    for line in &c.by_occupation {
        let code = if line.code.is_empty() {
            "none_recorded".to_string()
        } else {
            line.code.clone()
        };
        h.push_str(&row(
            l.t(&line.label_vi, &line.label_en),
            &format!("cohort-occupation-{code}"),
            &line.figures,
            cohort_link(&|f| f.occupation = Some(code.clone())),
        ));
    }
    h.push_str("</table>");
    if c.without_entry_date > 0 {
        h.push_str(&format!(
            r#"<p class="muted">{}: {}</p>"#,
            esc(l.t(
                "Hồ sơ chưa ghi ngày vào nguồn (không thuộc khóa nào)",
                "Files without an entry date (in no cohort)"
            )),
            l.int(c.without_entry_date as i64)
        ));
    }
    h
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
