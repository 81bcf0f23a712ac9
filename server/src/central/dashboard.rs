//! The dashboard page: admissions against target and membership, per organisation, per
//! stage, the pipeline funnel, who the new members are, and organisations that admitted
//! nobody. Every figure is a link to the case files behind it.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::{Lang, Reviewer, esc, export_links, org_options, page, run_page};
use crate::AppState;
use crate::casedocs::today_vn;
use crate::reports::{
    self, CaseFilter, Dashboard, OrgIndex, Period, RATE_TARGET_HIGH, RATE_TARGET_LOW,
    education_label, sector_label,
};
use crate::review::ReportQuery;

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
        let conn = store.conn();
        let orgs = OrgIndex::load(&conn)?;
        let d = reports::dashboard(&conn, &orgs, &r.caller, &q.filter, years, today_vn())?;
        let scope = reports::resolve_org(&orgs, &r.caller, None)?.path.clone();
        drop(conn);
        let body = render(&r, &q, &d, &org_options(&orgs, &scope, &d.org_id), years);
        Ok(page(&r, r.t("Tổng quan", "Dashboard"), "dashboard", &body))
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

    // Funnel and stages.
    h.push_str(&format!(
        "<h2>{}</h2>",
        esc(l.t(
            "Chuyển đổi: giới thiệu → học lớp nhận thức → kết nạp (mọi hồ sơ)",
            "Conversion: introduced → attended the class → admitted (every file)"
        ))
    ));
    let scope_base = CaseFilter {
        org: base.org.clone(),
        ..CaseFilter::default()
    };
    let steps = [
        (
            l.t("Được giới thiệu", "Introduced").to_string(),
            d.funnel.introduced,
            link(&scope_base, |_| {}),
        ),
        (
            l.t("Đã học lớp nhận thức", "Attended the class")
                .to_string(),
            d.funnel.attended_class,
            link(&scope_base, |c| c.class = on("1")),
        ),
        (
            l.t("Đã kết nạp", "Admitted").to_string(),
            d.funnel.admitted,
            link(&scope_base, |c| c.admitted = on("any")),
        ),
    ];
    h.push_str(&funnel(l, &steps));
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
    let mut s = format!(
        r#"<svg role="img" width="100%" viewBox="0 0 920 {height}" preserveAspectRatio="xMinYMin meet" class="chart wide">"#
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

/// A funnel: centred bars narrowing with each step, each a link to its files.
fn funnel(l: Lang, steps: &[(String, usize, String)]) -> String {
    let max = steps.iter().map(|s| s.1).max().unwrap_or(1).max(1) as f64;
    let width = 700.0;
    let step_h = 46;
    let height = steps.len() * step_h + 6;
    let mut s =
        format!(r#"<svg role="img" width="100%" viewBox="0 0 {width} {height}" class="chart">"#);
    for (i, (label, n, href)) in steps.iter().enumerate() {
        let w = (*n as f64 / max * (width - 20.0)).max(4.0);
        let x = (width - w) / 2.0;
        let y = i * step_h + 4;
        let share = if i == 0 || steps[0].1 == 0 {
            String::new()
        } else {
            format!(" ({})", l.pct(Some(*n as f64 * 100.0 / steps[0].1 as f64)))
        };
        s.push_str(&format!(
            r##"<a href="{href}"><rect x="{x:.1}" y="{y}" width="{w:.1}" height="{bh}" fill="{fill}" rx="3"></rect><text x="{cx}" y="{ty}" text-anchor="middle" fill="#000" font-size="13">{label}: {nf}{share}</text></a>"##,
            href = esc(href),
            bh = step_h - 8,
            fill = ["#f3c1c1", "#e88a8a", "#c33a3a"][i % 3],
            cx = width / 2.0,
            ty = y + step_h / 2 + 2,
            label = esc(label),
            nf = l.int(*n as i64),
            share = esc(&share),
        ));
    }
    s.push_str("</svg>");
    s
}
