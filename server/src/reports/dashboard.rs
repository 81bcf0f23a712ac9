//! The dashboard of a period and organisation subtree: admissions against targets,
//! breakdowns, trend and cohort conversion.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::db::Connection;
use crate::db::reports as db;
use crate::db::targets::{self as db_targets, OrgYearFigure};
use serde::Serialize;
use shared::date::Date;
use shared::stage::Stage;

use super::*;
use crate::auth::Caller;
use crate::casedocs::scope_range;
use crate::error::AppResult;
use crate::figures::{self, TargetGroup, Via};

/// Yearly admission target as a share of members at the start of the year (21-NQ/TW).
pub const RATE_TARGET_LOW: f64 = 3.0;
pub const RATE_TARGET_HIGH: f64 = 4.0;

/// One bar of a per-organisation chart: a count with the link filter behind it.
#[derive(Debug, Clone, Serialize)]
pub struct OrgCount {
    pub org_id: String,
    pub name: String,
    pub sector: String,
    pub count: usize,
    pub members_start: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearFigure {
    pub year: i32,
    pub admitted: usize,
    /// Members at the start of the year, summed over the grassroots organisations.
    pub members_start: Option<i64>,
    pub rate_percent: Option<f64>,
    pub target: Option<i64>,
    pub target_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageFigure {
    pub stage: String,
    pub label_vi: String,
    pub label_en: String,
    pub count: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BreakdownFigure {
    pub total: usize,
    pub women: usize,
    pub ethnic_minority: usize,
    pub age_18_30: usize,
    pub youth_union: usize,
    pub education: BTreeMap<String, usize>,
    pub sectors: BTreeMap<String, usize>,
    /// Per structured source code ("" when not recorded).
    pub sources: BTreeMap<String, usize>,
    /// Per occupation code ("" when not recorded).
    pub occupations: BTreeMap<String, usize>,
}

/// Organisations that admitted nobody over the last `years` years of the period.
#[derive(Debug, Clone, Serialize)]
pub struct NoAdmission {
    pub first_year: i32,
    pub last_year: i32,
    pub grassroots_total: usize,
    pub orgs: Vec<OrgCount>,
}

/// A sub-target with the admissions counted against it.
#[derive(Debug, Clone, Serialize)]
pub struct SubTargetFigure {
    pub group: String,
    pub label_vi: String,
    pub label_en: String,
    pub target: i64,
    pub admitted: usize,
    pub percent: Option<f64>,
}

/// One point of the trend: admissions of a month (or year) against the plan line.
#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub label: String,
    pub from: Date,
    pub to: Date,
    pub admitted: usize,
    pub cumulative: usize,
    /// The target pro rata of the days elapsed at the end of this point.
    pub plan: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub monthly: bool,
    pub target: Option<i64>,
    pub points: Vec<TrendPoint>,
}

/// Everything the dashboard shows, also the source of its XLSX and CSV exports.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub org_id: String,
    pub org_name: String,
    pub period: Period,
    /// The term asked for, as typed.
    pub term: Option<String>,
    /// The recorded term (congress to congress) the period comes from.
    pub term_dates: Option<crate::targets::TermDates>,
    /// The term was read as whole calendar years (no dates recorded; a setting).
    pub term_calendar_years: bool,
    pub admitted: usize,
    /// Recognised as official members in the period.
    pub official: usize,
    pub target: Option<i64>,
    pub target_percent: Option<f64>,
    /// Revisions of the period's target and sub-targets, oldest first.
    pub target_revisions: Vec<crate::targets::Revision>,
    pub sub_targets: Vec<SubTargetFigure>,
    pub members_start: Option<i64>,
    pub rate_percent: Option<f64>,
    pub per_year: Vec<YearFigure>,
    pub per_org: Vec<OrgCount>,
    pub per_stage: Vec<StageFigure>,
    /// Conversion of the cohort that entered the pipeline in the period.
    pub cohort: crate::figures::Cohort,
    pub classes: crate::classes::ClassesFigure,
    pub trend: Trend,
    pub breakdown: BreakdownFigure,
    pub no_admission: NoAdmission,
    /// The filter every link starts from (organisation and period).
    pub base: CaseFilter,
}

pub(crate) fn pct(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (part * 1000.0 / whole).round() / 10.0)
}

/// Sum of `members_start` (or `target`) over the grassroots organisations of a subtree.
pub(super) fn year_column(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
    figure: OrgYearFigure,
) -> AppResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for row in db_targets::year_figures(conn, year, figure)? {
        let (org, v) = row?;
        if orgs.in_subtree(&org, &root.path) {
            out.insert(org, v);
        }
    }
    Ok(out)
}

pub(super) fn members_start(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
) -> AppResult<(Option<i64>, HashMap<String, i64>)> {
    let all = year_column(conn, orgs, root, year, OrgYearFigure::MembersStart)?;
    let grassroots: HashMap<String, i64> = all
        .iter()
        .filter(|(id, _)| orgs.get(id).is_some_and(|o| o.grassroots))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let total = if grassroots.is_empty() {
        // Below the grassroots level only the organisation's own figure, if any, applies.
        all.get(&root.id).copied()
    } else {
        Some(grassroots.values().sum())
    };
    Ok((total, grassroots))
}

/// The yearly target of a subtree: its root's own, else the sum of its grassroots ones.
pub(super) fn year_target(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
) -> AppResult<Option<i64>> {
    let all = year_column(conn, orgs, root, year, OrgYearFigure::Target)?;
    if let Some(t) = all.get(&root.id).filter(|t| **t > 0) {
        return Ok(Some(*t));
    }
    let sum: i64 = all
        .iter()
        .filter(|(id, _)| orgs.get(id).is_some_and(|o| o.grassroots))
        .map(|(_, v)| *v)
        .sum();
    Ok((sum > 0).then_some(sum))
}

/// The target of a period for the subtree root: a term's (by the recorded term's name or
/// the name asked for), else a year's. Returns the value and the period key revisions and
/// sub-targets are filed under.
pub(super) fn period_target(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    term: Option<(&str, Option<&crate::targets::TermDates>)>,
    per_year: &[YearFigure],
) -> AppResult<(Option<i64>, Option<String>)> {
    if let Some((asked, found)) = term {
        let mut names = vec![asked.to_string()];
        if let Some(t) = found {
            names.insert(0, t.name.clone());
        }
        for n in &names {
            let v = db_targets::term_target(conn, &root.id, n)?;
            if v.is_some() {
                return Ok((v, Some(n.clone())));
            }
        }
        let _ = orgs;
        return Ok((None, Some(names[0].clone())));
    }
    if per_year.len() == 1 {
        return Ok((per_year[0].target, Some(per_year[0].year.to_string())));
    }
    let s: i64 = per_year.iter().filter_map(|y| y.target).sum();
    Ok(((s > 0).then_some(s), None))
}

/// Computes the dashboard of `f`'s period and organisation subtree from the aggregates.
/// `years_without` is the N of "organisations with no admission in each of the last N
/// years".
pub fn dashboard(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    years_without: i32,
    today: Date,
) -> AppResult<Dashboard> {
    dashboard_via(conn, orgs, caller, f, years_without, today, Via::Aggregates)
}

/// The dashboard read from the aggregates or, for checking them, from the projections.
pub fn dashboard_via(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    years_without: i32,
    today: Date,
    via: Via,
) -> AppResult<Dashboard> {
    let root = resolve_org(orgs, caller, f.org_id())?.clone();
    let resolved = f.resolve(conn, orgs, &root, today)?;
    let period = resolved.period;
    let base = CaseFilter {
        org: Some(OrgId(root.id.clone())),
        ..f.scope_only()
    };
    let monthly = trend_is_monthly(period);
    let admitted = figures::admitted(conn, orgs, &root, period, monthly, via)?;
    let total: usize = admitted.tally.n;

    // Admissions per year against membership and target.
    let mut per_year = Vec::new();
    for year in period.years() {
        let n: usize = admitted
            .series
            .iter()
            .filter(|s| s.0.year() == year)
            .map(|s| s.2)
            .sum();
        let (members, _) = members_start(conn, orgs, &root, year)?;
        let target = year_target(conn, orgs, &root, year)?;
        per_year.push(YearFigure {
            year,
            admitted: n,
            members_start: members,
            rate_percent: members.and_then(|m| pct(n as f64, m as f64)),
            target,
            target_percent: target.and_then(|t| pct(n as f64, t as f64)),
        });
    }
    let first_year = period.from.year();
    let (members, per_org_members) = members_start(conn, orgs, &root, first_year)?;
    let term = f.term.clone();
    let (target, target_key) = period_target(
        conn,
        orgs,
        &root,
        term.as_deref().map(|t| (t, resolved.term.as_ref())),
        &per_year,
    )?;

    // Sub-targets and revisions of the period's target.
    let mut sub_targets = Vec::new();
    let mut target_revisions = Vec::new();
    if let Some(key) = &target_key {
        target_revisions = crate::targets::revisions_of(conn, &root.id, key)?;
        for st in crate::targets::sub_targets_of(conn, &root.id)? {
            if &st.period != key {
                continue;
            }
            let Some(g) = TargetGroup::parse(&st.group) else {
                continue;
            };
            let n = g.count(&admitted, orgs);
            sub_targets.push(SubTargetFigure {
                group: g.code(),
                label_vi: g.label(false),
                label_en: g.label(true),
                target: st.value,
                admitted: n,
                percent: pct(n as f64, st.value as f64),
            });
        }
    }

    // Bars per grassroots organisation (or per organisation below a grassroots root).
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for (org, n) in &admitted.per_org {
        let key = match orgs.grassroots_of(org) {
            Some(g) if orgs.in_subtree(&g.id, &root.path) => g.id.clone(),
            _ => org.clone(),
        };
        *counts.entry(key).or_insert(0) += n;
    }
    let grassroots: Vec<&OrgInfo> = orgs.subtree(&root.path).filter(|o| o.grassroots).collect();
    let mut per_org: Vec<OrgCount> = grassroots
        .iter()
        .map(|g| OrgCount {
            org_id: g.id.clone(),
            name: g.name.clone(),
            sector: g.sector.clone(),
            count: counts.get(&g.id).copied().unwrap_or(0),
            members_start: per_org_members.get(&g.id).copied(),
        })
        .collect();
    for (id, n) in &counts {
        if !grassroots.iter().any(|g| &g.id == id) {
            per_org.push(OrgCount {
                org_id: id.clone(),
                name: orgs.name(id),
                sector: orgs.sector_of(id),
                count: *n,
                members_start: None,
            });
        }
    }
    per_org.sort_by(|a, b| b.count.cmp(&a.count).then(a.org_id.cmp(&b.org_id)));

    // Who the new members are.
    let t = &admitted.tally;
    let mut breakdown = BreakdownFigure {
        total,
        women: t.female,
        ethnic_minority: t.minority,
        age_18_30: t.young,
        youth_union: t.youth,
        education: t.education.clone(),
        sources: t.sources.clone(),
        occupations: t.occupations.clone(),
        ..Default::default()
    };
    for (org, n) in &admitted.per_org {
        *breakdown.sectors.entry(orgs.sector_of(org)).or_insert(0) += n;
    }

    let stage_counts = figures::stages(conn, orgs, &root, via)?;
    let per_stage = Stage::ALL
        .iter()
        .map(|s| StageFigure {
            stage: s.code().into(),
            label_vi: s.label_vi().into(),
            label_en: s.label_en().into(),
            count: stage_counts.get(s.code()).copied().unwrap_or(0),
        })
        .collect();
    let official = figures::officials(conn, orgs, &root, period, via)?;

    // Grassroots organisations without admission in each of the last N years.
    let last_year = period.to.year();
    let first = last_year - years_without.max(1) + 1;
    let with: BTreeSet<String> = figures::orgs_admitting(
        conn,
        orgs,
        &root,
        Period {
            from: Period::year(first).from,
            to: Period::year(last_year).to,
        },
        via,
    )?
    .iter()
    .filter_map(|o| orgs.grassroots_of(o).map(|g| g.id.clone()))
    .collect();
    let no_admission = NoAdmission {
        first_year: first,
        last_year,
        grassroots_total: grassroots.len(),
        orgs: grassroots
            .iter()
            .filter(|g| !with.contains(&g.id))
            .map(|g| OrgCount {
                org_id: g.id.clone(),
                name: g.name.clone(),
                sector: g.sector.clone(),
                count: 0,
                members_start: per_org_members.get(&g.id).copied(),
            })
            .collect(),
    };

    let cohort = cohort(conn, orgs, caller, &base, today)?;
    let classes = crate::classes::figures_via(conn, orgs, &root.path, period, via)?;
    let trend = trend(&admitted.series, period, target);

    Ok(Dashboard {
        org_id: root.id.clone(),
        org_name: root.name.clone(),
        period,
        term,
        term_dates: resolved.term,
        term_calendar_years: resolved.calendar_years,
        admitted: total,
        official,
        target_percent: target.and_then(|t| pct(total as f64, t as f64)),
        target,
        target_revisions,
        sub_targets,
        members_start: members,
        rate_percent: if per_year.len() == 1 {
            per_year[0].rate_percent
        } else {
            None
        },
        per_year,
        per_org,
        per_stage,
        cohort,
        classes,
        trend,
        breakdown,
        no_admission,
        base,
    })
}

/// Whether the trend of a period is drawn per month (else per year).
pub fn trend_is_monthly(period: Period) -> bool {
    period.from.months_between(period.to) < 36
}

/// Admissions per month (per year over periods longer than three years), with the
/// running total and the target pro rata of the days elapsed. `series` holds counts over
/// runs of days, each inside one point (`figures::Admitted::series`).
pub fn trend(series: &[(Date, Date, usize)], period: Period, target: Option<i64>) -> Trend {
    let monthly = trend_is_monthly(period);
    let days = f64::from(period.from.days_until(period.to) + 1);
    let mut points = Vec::new();
    let mut start = period.from;
    let mut cumulative = 0;
    while start <= period.to {
        let (y, m, _) = start.ymd();
        let end = if monthly {
            Date::from_ymd(y, m, 1)
                .map(|d| d.add_months(1).add_days(-1))
                .unwrap_or(period.to)
        } else {
            Period::year(y).to
        }
        .min(period.to);
        let n: usize = series
            .iter()
            .filter(|s| s.0 >= start && s.1 <= end)
            .map(|s| s.2)
            .sum();
        cumulative += n;
        let elapsed = f64::from(period.from.days_until(end) + 1);
        points.push(TrendPoint {
            label: if monthly {
                format!("{m:02}/{y}")
            } else {
                y.to_string()
            },
            from: start,
            to: end,
            admitted: n,
            cumulative,
            plan: target.map(|t| (t as f64 * elapsed / days * 10.0).round() / 10.0),
        });
        start = end.add_days(1);
    }
    Trend {
        monthly,
        target,
        points,
    }
}

/// Cohort conversion for the files matching `f` (every filter) that entered the pipeline
/// in its period.
pub fn cohort(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
) -> AppResult<crate::figures::Cohort> {
    let root = resolve_org(orgs, caller, f.org_id())?;
    let period = f.resolve(conn, orgs, root, today)?.period;
    let entry = crate::figures::settings(conn)?.cohort_entry;
    let in_cohort = CaseFilter {
        cohort: true,
        ..f.clone()
    };
    // With no filter beyond the organisation and period, the rollup of the entry date
    // answers; any other filter goes through the case list.
    let only_scope = serde_json::to_value(f.scope_only()).ok() == serde_json::to_value(f).ok();
    if only_scope && !cohort_listed() {
        return crate::figures::cohort_rollup(conn, &root.path, period, entry);
    }
    let mut groups: Vec<(bool, bool, String, String, usize)> = Vec::new();
    for r in select_cases(conn, orgs, caller, &in_cohort, today)? {
        groups.push((
            r.class_date.is_some() || !r.class_id.is_empty(),
            r.decision_date.is_some(),
            r.source_kind.unwrap_or_default(),
            r.occupation.unwrap_or_default(),
            1,
        ));
    }
    // Files of the subtree with no entry date recorded: in no cohort, counted so the gap
    // shows.
    let (lo, hi) = scope_range(&root.path);
    let without = db::count_without_entry_date(conn, entry, &lo, &hi)?;
    Ok(crate::figures::conversion(
        &groups,
        entry,
        period,
        without as usize,
    ))
}

thread_local! {
    static COHORT_LISTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(super) fn cohort_listed() -> bool {
    COHORT_LISTED.with(|c| c.get())
}

/// Runs `work` with cohorts always computed through the case list (the reference the
/// rollups are checked against in tests).
pub fn with_cohort_listed<T>(work: impl FnOnce() -> T) -> T {
    COHORT_LISTED.with(|c| c.set(true));
    let out = work();
    COHORT_LISTED.with(|c| c.set(false));
    out
}
