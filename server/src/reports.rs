//! Report queries of the central office: the case-file list behind every figure, the
//! dashboard of a period and organisation subtree, the findings queue and deadlines.
//!
//! Every figure on the dashboard is computed from the same [`CaseFilter`] that the list
//! behind it uses, so a figure and its list always agree, and exports (XLSX, CSV) render
//! these same structures. SQL narrows rows with indexes (decision date, organisation,
//! stage); the rest of a filter (age on the decision date, ethnicity, folded search) runs
//! in Rust with the definitions of `shared::report`, so the server reports what the
//! shared crate would compute from the documents.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rusqlite::{Connection, params_from_iter, types::Value as SqlValue};
use serde::{Deserialize, Serialize};
use shared::date::Date;
use shared::stage::Stage;
use shared::text::{fold, sort_key};

use crate::auth::Caller;
use crate::casedocs::{path_in_scope, scope_range};
use crate::error::{AppError, AppResult};

/// Number of days ahead the deadline view calls "upcoming".
pub const UPCOMING_DAYS: i32 = 14;
/// Yearly admission target as a share of members at the start of the year (21-NQ/TW).
pub const RATE_TARGET_LOW: f64 = 3.0;
pub const RATE_TARGET_HIGH: f64 = 4.0;

/// One organisation with what reports need to place a case file.
#[derive(Debug, Clone, Serialize)]
pub struct OrgInfo {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub sector: String,
    pub grassroots: bool,
    pub path: String,
    /// The nearest ancestor-or-self with `grassroots = 1`: where admissions are counted.
    pub grassroots_id: Option<String>,
}

/// The organisation tree in memory. It is small beside the case files (a province has
/// thousands of organisations, not millions), so placing a file is a hash lookup instead
/// of a `LIKE` join per row.
#[derive(Debug, Default)]
pub struct OrgIndex {
    by_id: HashMap<String, OrgInfo>,
    by_path: Vec<String>,
}

impl OrgIndex {
    pub fn load(conn: &Connection) -> AppResult<OrgIndex> {
        let mut by_id = HashMap::new();
        let mut stmt = conn.prepare_cached(
            "SELECT id, parent_id, name, kind, sector, grassroots, path FROM orgs ORDER BY path",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OrgInfo {
                id: r.get(0)?,
                parent_id: r.get(1)?,
                name: r.get(2)?,
                kind: r.get(3)?,
                sector: r.get(4)?,
                grassroots: r.get(5)?,
                path: r.get(6)?,
                grassroots_id: None,
            })
        })?;
        let mut by_path = Vec::new();
        for row in rows {
            let o = row?;
            by_path.push(o.id.clone());
            by_id.insert(o.id.clone(), o);
        }
        // Rows come in path order, so a parent is placed before its children.
        for id in &by_path {
            let (grassroots, parent) = match by_id.get(id) {
                Some(o) => (o.grassroots, o.parent_id.clone()),
                None => continue,
            };
            let g = if grassroots {
                Some(id.clone())
            } else {
                parent.and_then(|p| by_id.get(&p).and_then(|p| p.grassroots_id.clone()))
            };
            if let Some(o) = by_id.get_mut(id) {
                o.grassroots_id = g;
            }
        }
        Ok(OrgIndex { by_id, by_path })
    }

    pub fn get(&self, id: &str) -> Option<&OrgInfo> {
        self.by_id.get(id)
    }

    pub fn name(&self, id: &str) -> String {
        self.get(id).map(|o| o.name.clone()).unwrap_or_default()
    }

    /// Organisations of the subtree rooted at `path`, in tree order.
    pub fn subtree<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a OrgInfo> + 'a {
        self.by_path
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .filter(move |o| o.path.starts_with(path))
    }

    /// The name followed by its parents up to (not including) the root, so that two
    /// branches of the same name in different wards can be told apart:
    /// "Chi bộ tổ dân phố số 5 — Đảng bộ phường Lạch Tray".
    pub fn name_with_parents(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.get(id);
        while let Some(o) = cur {
            let parent = o.parent_id.as_deref().and_then(|p| self.get(p));
            if parent.is_none() && !parts.is_empty() {
                break;
            }
            parts.push(o.name.clone());
            cur = parent;
        }
        parts.join(" — ")
    }

    pub fn in_subtree(&self, org_id: &str, path: &str) -> bool {
        self.get(org_id).is_some_and(|o| o.path.starts_with(path))
    }

    /// The grassroots organisation a case file of `org_id` is counted under.
    pub fn grassroots_of(&self, org_id: &str) -> Option<&OrgInfo> {
        self.get(org_id)
            .and_then(|o| o.grassroots_id.as_deref())
            .and_then(|g| self.get(g))
    }

    /// The sector of a file's organisation: its grassroots organisation's, else its own.
    pub fn sector_of(&self, org_id: &str) -> String {
        self.grassroots_of(org_id)
            .or_else(|| self.get(org_id))
            .map(|o| o.sector.clone())
            .unwrap_or_default()
    }
}

/// The period a report covers, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn year(year: i32) -> Period {
        Period {
            from: Date::from_ymd(year, 1, 1).unwrap_or(Date::from_days_since_epoch(0)),
            to: Date::from_ymd(year, 12, 31).unwrap_or(Date::from_days_since_epoch(0)),
        }
    }

    pub fn years(&self) -> std::ops::RangeInclusive<i32> {
        self.from.year()..=self.to.year()
    }

    pub fn contains(&self, d: Date) -> bool {
        self.from <= d && d <= self.to
    }
}

/// Every filter of the case-file list; the dashboard links to it with the filter that
/// reproduces each figure. Query strings arrive as text (HTML forms send empty fields),
/// so every field is an optional string parsed here with a clear error.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseFilter {
    /// Root of the organisation subtree; the caller's scope when absent.
    pub org: Option<String>,
    pub year: Option<String>,
    /// A party term such as "2020-2025".
    pub term: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    /// "1": admitted (decision signed) inside the period; "any": admitted at any time.
    pub admitted: Option<String>,
    pub stage: Option<String>,
    pub sector: Option<String>,
    pub female: Option<String>,
    pub minority: Option<String>,
    pub youth: Option<String>,
    /// Aged 18–30 on the decision date.
    pub age: Option<String>,
    pub education: Option<String>,
    /// Holds an awareness-class certificate.
    pub class: Option<String>,
    pub introduced: Option<String>,
    /// A finding code the file carries.
    pub code: Option<String>,
    /// `blocking`, `warning`, or `any` for either.
    pub severity: Option<String>,
    pub returned: Option<String>,
    /// Diacritic-insensitive search in the name.
    pub q: Option<String>,
}

fn some(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn flag(s: &Option<String>) -> bool {
    matches!(some(s), Some("1" | "true" | "on" | "yes"))
}

fn bad(field: &str, value: &str) -> AppError {
    AppError::bad_request(
        "BAD_FILTER",
        format!("Giá trị không hợp lệ cho «{field}»: {value}"),
        format!("Invalid value for '{field}': {value}"),
    )
}

fn parse_date(field: &str, s: &str) -> AppResult<Date> {
    // Accept both ISO and the Vietnamese dd/mm/yyyy people type.
    if let Ok(d) = s.parse::<Date>() {
        return Ok(d);
    }
    let parts: Vec<&str> = s.split('/').collect();
    if let [d, m, y] = parts.as_slice()
        && let (Ok(d), Ok(m), Ok(y)) = (d.parse(), m.parse(), y.parse())
        && let Ok(date) = Date::from_ymd(y, m, d)
    {
        return Ok(date);
    }
    Err(bad(field, s))
}

impl CaseFilter {
    /// The period named by `from`/`to`, a term, or a year; the current year by default.
    pub fn period(&self, today: Date) -> AppResult<Period> {
        let year = match some(&self.year) {
            Some(y) => Some(y.parse::<i32>().map_err(|_| bad("year", y))?),
            None => None,
        };
        if some(&self.from).is_some() || some(&self.to).is_some() {
            let base = Period::year(year.unwrap_or(today.year()));
            let from = some(&self.from)
                .map(|s| parse_date("from", s))
                .transpose()?;
            let to = some(&self.to).map(|s| parse_date("to", s)).transpose()?;
            let p = Period {
                from: from.unwrap_or(base.from),
                to: to.unwrap_or(base.to),
            };
            if p.from > p.to {
                return Err(bad("from/to", &format!("{} > {}", p.from, p.to)));
            }
            return Ok(p);
        }
        if let Some(t) = some(&self.term) {
            let (a, b) = t.split_once('-').ok_or_else(|| bad("term", t))?;
            let a: i32 = a.trim().parse().map_err(|_| bad("term", t))?;
            let b: i32 = b.trim().parse().map_err(|_| bad("term", t))?;
            if a > b || b - a > 10 {
                return Err(bad("term", t));
            }
            return Ok(Period {
                from: Period::year(a).from,
                to: Period::year(b).to,
            });
        }
        Ok(Period::year(year.unwrap_or(today.year())))
    }

    /// The query string reproducing this filter, for links and exports.
    pub fn query_string(&self) -> String {
        let pairs: [(&str, &Option<String>); 19] = [
            ("org", &self.org),
            ("year", &self.year),
            ("term", &self.term),
            ("from", &self.from),
            ("to", &self.to),
            ("admitted", &self.admitted),
            ("stage", &self.stage),
            ("sector", &self.sector),
            ("female", &self.female),
            ("minority", &self.minority),
            ("youth", &self.youth),
            ("age", &self.age),
            ("education", &self.education),
            ("class", &self.class),
            ("introduced", &self.introduced),
            ("code", &self.code),
            ("severity", &self.severity),
            ("returned", &self.returned),
            ("q", &self.q),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| some(v).map(|v| format!("{k}={}", url_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Only the period and organisation of this filter: the base of the dashboard's links.
    pub fn scope_only(&self) -> CaseFilter {
        CaseFilter {
            org: self.org.clone(),
            year: self.year.clone(),
            term: self.term.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            ..CaseFilter::default()
        }
    }
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The organisation subtree a request reports on, checked against the caller's scope.
pub fn resolve_org<'a>(
    orgs: &'a OrgIndex,
    caller: &Caller,
    org: Option<&str>,
) -> AppResult<&'a OrgInfo> {
    let id = org
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&caller.scope_org);
    let info = orgs
        .get(id)
        .ok_or_else(|| AppError::not_found("tổ chức", "Organisation"))?;
    if !path_in_scope(&info.path, &caller.scope_path) {
        return Err(AppError::forbidden());
    }
    Ok(info)
}

/// One case file as lists and exports show it, read from its projection.
#[derive(Debug, Clone, Serialize)]
pub struct CaseRow {
    pub doc_id: String,
    pub full_name: String,
    pub org_id: String,
    pub org_name: String,
    pub grassroots_id: String,
    pub grassroots_name: String,
    pub sector: String,
    pub stage: String,
    pub sex: Option<String>,
    pub ethnicity: String,
    pub birth_date: Option<Date>,
    pub education: Option<String>,
    pub youth_union: bool,
    pub introduced: bool,
    pub class_date: Option<Date>,
    pub branch_vote_date: Option<Date>,
    pub decision_date: Option<Date>,
    pub ceremony_date: Option<Date>,
    pub official_date: Option<Date>,
    pub stopped: bool,
    pub blocking: i64,
    pub warnings: i64,
    pub returned: bool,
    pub review_comment: String,
}

impl CaseRow {
    pub fn is_female(&self) -> bool {
        self.sex.as_deref() == Some("female")
    }

    /// Ethnicity recorded and not Kinh, as `CaseFile::is_ethnic_minority` decides.
    pub fn is_minority(&self) -> bool {
        let e = fold(&self.ethnicity);
        !e.is_empty() && e != "kinh"
    }

    /// Aged 18 to 30 in whole years on the decision date, as `shared::report::breakdown`.
    pub fn aged_18_30(&self) -> bool {
        match (self.birth_date, self.decision_date) {
            (Some(b), Some(d)) => (18..=30).contains(&b.years_between(d)),
            _ => false,
        }
    }

    pub fn education_code(&self) -> &str {
        self.education.as_deref().unwrap_or("none_recorded")
    }
}

/// The case files matching `f` inside the caller's scope, sorted by Vietnamese name.
pub fn cases(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
) -> AppResult<Vec<CaseRow>> {
    let mut out = select_cases(conn, orgs, caller, f, today)?;
    sort_by_name(&mut out, |r| &r.full_name);
    Ok(out)
}

/// The case files matching `f`, in storage order: figures count them without sorting.
fn select_cases(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
) -> AppResult<Vec<CaseRow>> {
    let root = resolve_org(orgs, caller, some(&f.org))?;
    let period = f.period(today)?;
    let mut sql = String::from(
        "SELECT p.doc_id, p.full_name, p.org_id, p.stage, p.sex, p.ethnicity, p.birth_date,
                p.education, p.youth_union, p.introduced, p.class_date, p.branch_vote_date,
                p.decision_date, p.ceremony_date, p.official_date, p.stopped, p.blocking,
                p.warnings, p.returned, p.review_comment
         FROM projections p WHERE 1",
    );
    let mut args: Vec<SqlValue> = Vec::new();
    // Narrow by the most selective indexed column first: the decision date, then the
    // organisations of the subtree.
    match some(&f.admitted) {
        Some("any") => sql.push_str(" AND p.decision_date IS NOT NULL"),
        Some(_) if flag(&f.admitted) => {
            sql.push_str(" AND p.decision_date BETWEEN ? AND ?");
            args.push(SqlValue::Text(period.from.to_string()));
            args.push(SqlValue::Text(period.to.to_string()));
        }
        _ => {}
    }
    if root.parent_id.is_some() {
        let (lo, hi) = scope_range(&root.path);
        sql.push_str(" AND p.org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)");
        args.push(SqlValue::Text(lo));
        args.push(SqlValue::Text(hi));
    }
    if let Some(stage) = some(&f.stage) {
        let s = Stage::from_code(stage).ok_or_else(|| bad("stage", stage))?;
        sql.push_str(" AND p.stage = ?");
        args.push(SqlValue::Text(s.code().into()));
    }
    if let Some(code) = some(&f.code) {
        sql.push_str(" AND p.doc_id IN (SELECT doc_id FROM findings WHERE code = ?)");
        args.push(SqlValue::Text(code.into()));
    }
    match some(&f.severity) {
        Some("blocking") => sql.push_str(" AND p.blocking > 0"),
        Some("warning") => sql.push_str(" AND p.warnings > 0"),
        Some("any") => sql.push_str(" AND (p.blocking > 0 OR p.warnings > 0)"),
        Some(other) => return Err(bad("severity", other)),
        None => {}
    }
    if flag(&f.returned) {
        sql.push_str(" AND p.returned = 1");
    }
    if flag(&f.class) {
        sql.push_str(" AND p.class_date IS NOT NULL");
    }
    if flag(&f.introduced) {
        sql.push_str(" AND p.introduced = 1");
    }
    if flag(&f.youth) {
        sql.push_str(" AND p.youth_union = 1");
    }
    if flag(&f.female) {
        sql.push_str(" AND p.sex = 'female'");
    }
    if let Some(e) = some(&f.education) {
        if e == "none_recorded" {
            sql.push_str(" AND p.education IS NULL");
        } else {
            sql.push_str(" AND p.education = ?");
            args.push(SqlValue::Text(e.into()));
        }
    }
    let sector = some(&f.sector);
    let needle = some(&f.q).map(fold);
    let mut stmt = conn.prepare_cached(&sql)?;
    let date = |s: Option<String>| s.and_then(|s| s.parse::<Date>().ok());
    let rows = stmt.query_map(params_from_iter(args.iter()), |r| {
        Ok(CaseRow {
            doc_id: r.get(0)?,
            full_name: r.get(1)?,
            org_id: r.get(2)?,
            org_name: String::new(),
            grassroots_id: String::new(),
            grassroots_name: String::new(),
            sector: String::new(),
            stage: r.get(3)?,
            sex: r.get(4)?,
            ethnicity: r.get(5)?,
            birth_date: date(r.get(6)?),
            education: r.get(7)?,
            youth_union: r.get(8)?,
            introduced: r.get(9)?,
            class_date: date(r.get(10)?),
            branch_vote_date: date(r.get(11)?),
            decision_date: date(r.get(12)?),
            ceremony_date: date(r.get(13)?),
            official_date: date(r.get(14)?),
            stopped: r.get(15)?,
            blocking: r.get(16)?,
            warnings: r.get(17)?,
            returned: r.get(18)?,
            review_comment: r.get(19)?,
        })
    })?;
    let mut out = Vec::new();
    for row in rows {
        let mut row = row?;
        // The root's own scope check: the SQL subtree filter is skipped at the tree root.
        if !orgs.in_subtree(&row.org_id, &root.path) {
            continue;
        }
        if flag(&f.minority) && !row.is_minority() {
            continue;
        }
        if flag(&f.age) && !row.aged_18_30() {
            continue;
        }
        if let Some(n) = &needle
            && !fold(&row.full_name).contains(n.as_str())
        {
            continue;
        }
        let g = orgs.grassroots_of(&row.org_id);
        row.sector = orgs.sector_of(&row.org_id);
        if let Some(s) = sector
            && row.sector != s
        {
            continue;
        }
        row.org_name = orgs.name(&row.org_id);
        row.grassroots_id = g.map(|g| g.id.clone()).unwrap_or_default();
        row.grassroots_name = g.map(|g| g.name.clone()).unwrap_or_default();
        out.push(row);
    }
    Ok(out)
}

/// Sorts the Vietnamese way (given name, then family name), computing each key once.
pub fn sort_by_name<T>(rows: &mut Vec<T>, name: impl Fn(&T) -> &str) {
    let mut keyed: Vec<(shared::text::SortKey, T)> =
        rows.drain(..).map(|r| (sort_key(name(&r)), r)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    rows.extend(keyed.into_iter().map(|(_, r)| r));
}

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
pub struct Funnel {
    /// Every case file of the subtree: each file is a person put forward.
    pub introduced: usize,
    pub attended_class: usize,
    pub admitted: usize,
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
}

/// Organisations that admitted nobody over the last `years` years of the period.
#[derive(Debug, Clone, Serialize)]
pub struct NoAdmission {
    pub first_year: i32,
    pub last_year: i32,
    pub grassroots_total: usize,
    pub orgs: Vec<OrgCount>,
}

/// Everything the dashboard shows, also the source of its XLSX and CSV exports.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub org_id: String,
    pub org_name: String,
    pub period: Period,
    pub term: Option<String>,
    pub admitted: usize,
    pub target: Option<i64>,
    pub target_percent: Option<f64>,
    pub members_start: Option<i64>,
    pub rate_percent: Option<f64>,
    pub per_year: Vec<YearFigure>,
    pub per_org: Vec<OrgCount>,
    pub per_stage: Vec<StageFigure>,
    pub funnel: Funnel,
    pub breakdown: BreakdownFigure,
    pub no_admission: NoAdmission,
    /// The filter every link starts from (organisation and period).
    pub base: CaseFilter,
}

fn pct(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (part * 1000.0 / whole).round() / 10.0)
}

/// Sum of `members_start` (or `target`) over the grassroots organisations of a subtree.
fn year_column(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
    column: &str,
) -> AppResult<HashMap<String, i64>> {
    let sql = format!("SELECT org_id, {column} FROM org_years WHERE year = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut out = HashMap::new();
    for row in stmt.query_map([year], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (org, v) = row?;
        if orgs.in_subtree(&org, &root.path) {
            out.insert(org, v);
        }
    }
    Ok(out)
}

fn members_start(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
) -> AppResult<(Option<i64>, HashMap<String, i64>)> {
    let all = year_column(conn, orgs, root, year, "members_start")?;
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
fn year_target(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    year: i32,
) -> AppResult<Option<i64>> {
    let all = year_column(conn, orgs, root, year, "target")?;
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

/// Computes the dashboard of `f`'s period and organisation subtree. `years_without` is
/// the N of "organisations with no admission in each of the last N years".
pub fn dashboard(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    years_without: i32,
    today: Date,
) -> AppResult<Dashboard> {
    let root = resolve_org(orgs, caller, some(&f.org))?.clone();
    let period = f.period(today)?;
    let base = CaseFilter {
        org: Some(root.id.clone()),
        ..f.scope_only()
    };
    let admitted_filter = CaseFilter {
        admitted: Some("1".into()),
        ..base.clone()
    };
    let admitted = select_cases(conn, orgs, caller, &admitted_filter, today)?;

    // Admissions per year against membership and target.
    let mut per_year = Vec::new();
    for year in period.years() {
        let n = admitted
            .iter()
            .filter(|r| r.decision_date.is_some_and(|d| d.year() == year))
            .count();
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
    let term = some(&f.term).map(str::to_string);
    let target = match &term {
        Some(t) => conn
            .query_row(
                "SELECT target FROM term_targets WHERE org_id = ?1 AND term = ?2",
                [&root.id, t],
                |r| r.get::<_, i64>(0),
            )
            .ok(),
        None if per_year.len() == 1 => per_year[0].target,
        None => {
            let s: i64 = per_year.iter().filter_map(|y| y.target).sum();
            (s > 0).then_some(s)
        }
    };

    // Bars per grassroots organisation (or per organisation below a grassroots root).
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in &admitted {
        let key = if r.grassroots_id.is_empty() || !orgs.in_subtree(&r.grassroots_id, &root.path) {
            r.org_id.clone()
        } else {
            r.grassroots_id.clone()
        };
        *counts.entry(key).or_insert(0) += 1;
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
    let mut breakdown = BreakdownFigure {
        total: admitted.len(),
        ..Default::default()
    };
    for r in &admitted {
        breakdown.women += usize::from(r.is_female());
        breakdown.ethnic_minority += usize::from(r.is_minority());
        breakdown.age_18_30 += usize::from(r.aged_18_30());
        breakdown.youth_union += usize::from(r.youth_union);
        *breakdown
            .education
            .entry(r.education_code().to_string())
            .or_insert(0) += 1;
        *breakdown.sectors.entry(r.sector.clone()).or_insert(0) += 1;
    }

    // Stages and the funnel, from one grouped query the covering index answers.
    let (per_stage, funnel) = stages_and_funnel(conn, orgs, &root)?;

    // Grassroots organisations without admission in each of the last N years.
    let last_year = period.to.year();
    let first = last_year - years_without.max(1) + 1;
    // Only which organisations admitted anyone matters here, which an index answers.
    let mut with: BTreeSet<String> = BTreeSet::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT DISTINCT org_id FROM projections WHERE decision_date BETWEEN ?1 AND ?2",
        )?;
        let rows = stmt.query_map(
            [
                Period::year(first).from.to_string(),
                Period::year(last_year).to.to_string(),
            ],
            |r| r.get::<_, String>(0),
        )?;
        for org in rows {
            if let Some(g) = orgs.grassroots_of(&org?) {
                with.insert(g.id.clone());
            }
        }
    }
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

    Ok(Dashboard {
        org_id: root.id.clone(),
        org_name: root.name.clone(),
        period,
        term,
        admitted: admitted.len(),
        target_percent: target.and_then(|t| pct(admitted.len() as f64, t as f64)),
        target,
        members_start: members,
        rate_percent: if per_year.len() == 1 {
            per_year[0].rate_percent
        } else {
            None
        },
        per_year,
        per_org,
        per_stage,
        funnel,
        breakdown,
        no_admission,
        base,
    })
}

fn stages_and_funnel(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
) -> AppResult<(Vec<StageFigure>, Funnel)> {
    // Below the tree root, seek the subtree's organisations in the index (its first
    // column) instead of scanning every file of the province.
    let mut stmt = conn.prepare_cached(
        "SELECT org_id, stage, class_date IS NOT NULL, decision_date IS NOT NULL, COUNT(*)
         FROM projections
         WHERE ?1 IS NULL OR org_id IN (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)
         GROUP BY org_id, stage, 3, 4",
    )?;
    let mut stages: HashMap<String, usize> = HashMap::new();
    let mut funnel = Funnel::default();
    let (lo, hi) = scope_range(&root.path);
    let subtree = root.parent_id.as_ref().map(|_| (lo, hi));
    let rows = stmt.query_map(
        rusqlite::params![
            subtree.as_ref().map(|s| s.0.as_str()),
            subtree.as_ref().map(|s| s.1.as_str())
        ],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, bool>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, i64>(4)? as usize,
            ))
        },
    )?;
    for row in rows {
        let (org, stage, class, decided, n) = row?;
        if !orgs.in_subtree(&org, &root.path) {
            continue;
        }
        *stages.entry(stage).or_insert(0) += n;
        funnel.introduced += n;
        if class {
            funnel.attended_class += n;
        }
        if decided {
            funnel.admitted += n;
        }
    }
    let per_stage = Stage::ALL
        .iter()
        .map(|s| StageFigure {
            stage: s.code().into(),
            label_vi: s.label_vi().into(),
            label_en: s.label_en().into(),
            count: stages.get(s.code()).copied().unwrap_or(0),
        })
        .collect();
    Ok((per_stage, funnel))
}

/// One finding of a case file in the findings queue.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub doc_id: String,
    pub full_name: String,
    pub org_id: String,
    pub org_name: String,
    pub stage: String,
    pub code: String,
    pub severity: String,
    pub field: String,
    pub message_vi: String,
    pub message_en: String,
    pub returned: bool,
}

/// Findings of the case files matching `f` (organisation, stage, code, severity).
pub fn findings(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
) -> AppResult<Vec<FindingRow>> {
    let mut f = f.clone();
    if some(&f.severity).is_none() {
        f.severity = Some("any".into());
    }
    let files = cases(conn, orgs, caller, &f, today)?;
    let code = some(&f.code).map(str::to_string);
    let sev = some(&f.severity).map(str::to_string);
    let mut stmt = conn.prepare_cached(
        "SELECT code, severity, field, message_vi, message_en FROM findings
         WHERE doc_id = ?1 ORDER BY severity, code",
    )?;
    let mut out = Vec::new();
    for c in files {
        let rows = stmt.query_map([&c.doc_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        for row in rows {
            let (fcode, severity, field, vi, en) = row?;
            if code.as_ref().is_some_and(|c| c != &fcode) {
                continue;
            }
            if matches!(sev.as_deref(), Some("blocking" | "warning"))
                && sev.as_deref() != Some(severity.as_str())
            {
                continue;
            }
            if severity == "info" {
                continue;
            }
            out.push(FindingRow {
                doc_id: c.doc_id.clone(),
                full_name: c.full_name.clone(),
                org_id: c.org_id.clone(),
                org_name: c.org_name.clone(),
                stage: c.stage.clone(),
                code: fcode,
                severity,
                field,
                message_vi: vi,
                message_en: en,
                returned: c.returned,
            });
        }
    }
    Ok(out)
}

/// The finding codes present in a subtree, with counts, for the queue's filter.
pub fn finding_codes(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
) -> AppResult<Vec<(String, usize)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.org_id, f.code, COUNT(*) FROM findings f JOIN projections p ON p.doc_id = f.doc_id
         WHERE f.severity IN ('blocking', 'warning') GROUP BY p.org_id, f.code",
    )?;
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (org, code, n) = row?;
        if orgs.in_subtree(&org, &root.path) {
            *out.entry(code).or_insert(0) += n as usize;
        }
    }
    Ok(out.into_iter().collect())
}

/// A deadline not yet met, overdue or due within [`UPCOMING_DAYS`].
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineRow {
    pub doc_id: String,
    pub full_name: String,
    pub org_id: String,
    pub org_name: String,
    pub grassroots_id: String,
    pub grassroots_name: String,
    pub code: String,
    pub label_vi: String,
    pub label_en: String,
    pub due: Date,
    pub overdue: bool,
    pub days_left: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeadlineOrg {
    pub org_id: String,
    pub name: String,
    pub overdue: usize,
    pub upcoming: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deadlines {
    pub today: Date,
    pub days: i32,
    pub overdue: usize,
    pub upcoming: usize,
    pub per_org: Vec<DeadlineOrg>,
    pub rows: Vec<DeadlineRow>,
}

/// Open deadlines of live files in a subtree, overdue first, then by due date.
pub fn deadlines(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    org: Option<&str>,
    days: i32,
    today: Date,
) -> AppResult<Deadlines> {
    let root = resolve_org(orgs, caller, org)?;
    let until = today.add_days(days);
    // The end of probation is informational (the recognition vote has its own deadline),
    // as in `shared::report::deadline_summary`.
    let mut stmt = conn.prepare_cached(
        "SELECT d.doc_id, p.full_name, p.org_id, d.code, d.label_vi, d.label_en, d.due
         FROM deadlines d JOIN projections p ON p.doc_id = d.doc_id
         WHERE d.done = 0 AND d.due <= ?1 AND p.stopped = 0 AND d.code <> 'DL_PROBATION_END'
         ORDER BY d.due",
    )?;
    let mut rows = Vec::new();
    for row in stmt.query_map([until.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })? {
        let (doc_id, full_name, org_id, code, label_vi, label_en, due) = row?;
        if !orgs.in_subtree(&org_id, &root.path) {
            continue;
        }
        let Ok(due) = due.parse::<Date>() else {
            continue;
        };
        let g = orgs.grassroots_of(&org_id);
        rows.push(DeadlineRow {
            doc_id,
            full_name,
            org_name: orgs.name(&org_id),
            grassroots_id: g.map(|g| g.id.clone()).unwrap_or_else(|| org_id.clone()),
            grassroots_name: g
                .map(|g| g.name.clone())
                .unwrap_or_else(|| orgs.name(&org_id)),
            org_id,
            code,
            label_vi,
            label_en,
            overdue: due < today,
            days_left: today.days_until(due),
            due,
        });
    }
    let mut per: BTreeMap<String, DeadlineOrg> = BTreeMap::new();
    for r in &rows {
        let e = per
            .entry(r.grassroots_id.clone())
            .or_insert_with(|| DeadlineOrg {
                org_id: r.grassroots_id.clone(),
                name: r.grassroots_name.clone(),
                overdue: 0,
                upcoming: 0,
            });
        if r.overdue {
            e.overdue += 1;
        } else {
            e.upcoming += 1;
        }
    }
    let mut per_org: Vec<DeadlineOrg> = per.into_values().collect();
    per_org.sort_by(|a, b| {
        (b.overdue + b.upcoming)
            .cmp(&(a.overdue + a.upcoming))
            .then(a.org_id.cmp(&b.org_id))
    });
    Ok(Deadlines {
        today,
        days,
        overdue: rows.iter().filter(|r| r.overdue).count(),
        upcoming: rows.iter().filter(|r| !r.overdue).count(),
        per_org,
        rows,
    })
}

/// Labels of the sector codes used by the organisation tree.
pub fn sector_label(code: &str, en: bool) -> String {
    let (vi, e) = match code {
        "phuong" => ("Khối phường", "Wards"),
        "hcsn" => (
            "Khối lực lượng vũ trang, cơ quan hành chính, sự nghiệp công lập",
            "Armed forces, administration, public service units",
        ),
        "dnnn" => ("Khối doanh nghiệp Nhà nước", "State-owned enterprises"),
        "dnk" => (
            "Khối doanh nghiệp ngoài Nhà nước, HTX, sự nghiệp ngoài công lập",
            "Private enterprises, cooperatives, non-public units",
        ),
        "" => ("(không ghi khối)", "(no sector)"),
        other => (other, other),
    };
    if en { e.into() } else { vi.into() }
}

/// Labels of the education codes stored in projections.
pub fn education_label(code: &str, en: bool) -> &'static str {
    let (vi, e) = match code {
        "none" => ("Chưa biết chữ", "None"),
        "literate" => ("Biết đọc, biết viết", "Literate"),
        "primary" => ("Tiểu học", "Primary"),
        "lower_secondary_equivalent" => ("Tương đương THCS", "Lower secondary (equivalent)"),
        "lower_secondary" => ("Trung học cơ sở", "Lower secondary"),
        "upper_secondary" => ("Trung học phổ thông", "Upper secondary"),
        "vocational" => ("Trung cấp", "Vocational"),
        "college" => ("Cao đẳng", "College"),
        "university" => ("Đại học", "University"),
        "postgraduate" => ("Sau đại học", "Postgraduate"),
        "none_recorded" => ("Chưa ghi", "Not recorded"),
        _ => ("Khác", "Other"),
    };
    if en { e } else { vi }
}

pub fn stage_label(code: &str, en: bool) -> String {
    match Stage::from_code(code) {
        Some(s) if en => s.label_en().into(),
        Some(s) => s.label_vi().into(),
        None => code.into(),
    }
}
