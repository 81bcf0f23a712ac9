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
use shared::api::ErrorCode;
use shared::date::Date;
use shared::rules::TermWithoutDates;
use shared::stage::Stage;
use shared::text::{fold, sort_key};

use crate::auth::Caller;
use crate::casedocs::{path_in_scope, scope_range};
use crate::error::{AppError, AppResult};
use crate::figures::{self, TargetGroup, Via};

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
    /// Structured source code (`shared::model::SourceKind`), or `none_recorded`.
    pub source: Option<String>,
    /// Occupation code (`shared::model::Occupation`), or `none_recorded`.
    pub occupation: Option<String>,
    /// "1": recognised as an official member (official date) inside the period.
    pub official: Option<String>,
    /// "1": entered the pipeline inside the period (the cohort; which date counts is the
    /// `cohort_entry` setting).
    pub cohort: Option<String>,
    /// A class record the file names.
    pub class_id: Option<String>,
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
        ErrorCode::BadFilter,
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

    /// The period of this filter for the subtree `root`: a term is looked up by name in
    /// the terms recorded for the organisation or its nearest ancestor, and runs from its
    /// congress to the day before the next one. Without a recorded term the
    /// `term_without_dates` setting decides (refuse, or whole calendar years).
    pub fn resolve(
        &self,
        conn: &Connection,
        orgs: &OrgIndex,
        root: &OrgInfo,
        today: Date,
    ) -> AppResult<Resolved> {
        let plain = |period| Resolved {
            period,
            term: None,
            calendar_years: false,
        };
        let Some(name) = some(&self.term) else {
            return Ok(plain(self.period(today)?));
        };
        if some(&self.from).is_some() || some(&self.to).is_some() {
            return Ok(plain(self.period(today)?));
        }
        if let Some(t) = crate::targets::find_term(conn, orgs, &root.id, name)? {
            let to = t.end.add_days(-1).max(t.start);
            return Ok(Resolved {
                period: Period { from: t.start, to },
                term: Some(t),
                calendar_years: false,
            });
        }
        match crate::figures::settings(conn).term_without_dates {
            TermWithoutDates::CalendarYears => Ok(Resolved {
                period: self.period(today)?,
                term: None,
                calendar_years: true,
            }),
            TermWithoutDates::Refuse => Err(AppError::bad_request(
                ErrorCode::TermNotRecorded,
                format!(
                    "Chưa có nhiệm kỳ «{name}» với ngày đại hội cho {} hoặc cấp trên. Hãy nhập nhiệm kỳ ở trang Quản trị › Nhiệm kỳ và chỉ tiêu.",
                    root.name
                ),
                format!(
                    "No term `{name}` with its congress dates is recorded for {} or above. Record it under Administration › Terms and targets.",
                    root.name
                ),
            )),
        }
    }

    /// The query string reproducing this filter, for links and exports.
    pub fn query_string(&self) -> String {
        let pairs: [(&str, &Option<String>); 24] = [
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
            ("source", &self.source),
            ("occupation", &self.occupation),
            ("official", &self.official),
            ("cohort", &self.cohort),
            ("class_id", &self.class_id),
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

/// A filter's period once terms are looked up.
#[derive(Debug, Clone, Serialize)]
pub struct Resolved {
    pub period: Period,
    /// The recorded term the period comes from.
    pub term: Option<crate::targets::TermDates>,
    /// A term read as whole calendar years, for want of recorded dates (a setting).
    pub calendar_years: bool,
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
    pub class_id: String,
    pub source_kind: Option<String>,
    pub occupation: Option<String>,
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
    let period = f.resolve(conn, orgs, root, today)?.period;
    let mut sql = String::from(
        "SELECT p.doc_id, p.full_name, p.org_id, p.stage, p.sex, p.ethnicity, p.birth_date,
                p.education, p.youth_union, p.introduced, p.class_date, p.branch_vote_date,
                p.decision_date, p.ceremony_date, p.official_date, p.stopped, p.blocking,
                p.warnings, p.returned, p.review_comment, p.class_id, p.source_kind, p.occupation
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
    if flag(&f.official) {
        sql.push_str(" AND p.official_date BETWEEN ? AND ?");
        args.push(SqlValue::Text(period.from.to_string()));
        args.push(SqlValue::Text(period.to.to_string()));
    }
    if flag(&f.cohort) {
        let col = crate::figures::entry_column(crate::figures::settings(conn).cohort_entry);
        sql.push_str(&format!(" AND p.{col} BETWEEN ? AND ?"));
        args.push(SqlValue::Text(period.from.to_string()));
        args.push(SqlValue::Text(period.to.to_string()));
    }
    if let Some(c) = some(&f.class_id) {
        sql.push_str(" AND p.class_id = ?");
        args.push(SqlValue::Text(c.into()));
    }
    for (field, column, value) in [
        ("source", "source_kind", some(&f.source)),
        ("occupation", "occupation", some(&f.occupation)),
    ] {
        match value {
            Some("none_recorded") => sql.push_str(&format!(" AND p.{column} IS NULL")),
            Some(v) => {
                let known = match field {
                    "source" => shared::model::SourceKind::from_code(v).is_some(),
                    _ => shared::model::Occupation::from_code(v).is_some(),
                };
                if !known {
                    return Err(bad(field, v));
                }
                sql.push_str(&format!(" AND p.{column} = ?"));
                args.push(SqlValue::Text(v.into()));
            }
            None => {}
        }
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
            class_id: r.get(20)?,
            source_kind: r.get(21)?,
            occupation: r.get(22)?,
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

/// The target of a period for the subtree root: a term's (by the recorded term's name or
/// the name asked for), else a year's. Returns the value and the period key revisions and
/// sub-targets are filed under.
fn period_target(
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
            let v: Option<i64> = conn
                .query_row(
                    "SELECT target FROM term_targets WHERE org_id = ?1 AND term = ?2",
                    [&root.id, n],
                    |r| r.get(0),
                )
                .ok();
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
    let root = resolve_org(orgs, caller, some(&f.org))?.clone();
    let resolved = f.resolve(conn, orgs, &root, today)?;
    let period = resolved.period;
    let base = CaseFilter {
        org: Some(root.id.clone()),
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
    let term = some(&f.term).map(str::to_string);
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
    let root = resolve_org(orgs, caller, some(&f.org))?;
    let period = f.resolve(conn, orgs, root, today)?.period;
    let entry = crate::figures::settings(conn).cohort_entry;
    let in_cohort = CaseFilter {
        cohort: Some("1".into()),
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
    let col = crate::figures::entry_column(entry);
    let (lo, hi) = scope_range(&root.path);
    let without: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM projections WHERE {col} IS NULL
             AND org_id IN (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)"
        ))?
        .query_row(rusqlite::params![lo, hi], |r| r.get(0))?;
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

fn cohort_listed() -> bool {
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

/// Where an organisation stands against its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// No target recorded.
    NoTarget,
    /// Nobody admitted.
    Zero,
    /// Below the target pro rata of the days elapsed.
    Behind,
    /// At or above the target pro rata of the days elapsed.
    OnPlan,
    /// The whole target reached.
    Reached,
}

/// One organisation of a plan-vs-done table.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRow {
    pub org_id: String,
    pub name: String,
    pub sector: String,
    /// Depth below the table's root (0 for the root).
    pub depth: usize,
    pub grassroots: bool,
    pub target: Option<i64>,
    pub admitted: usize,
    pub percent: Option<f64>,
    /// The target pro rata of the days elapsed in the period (to today at most).
    pub expected: Option<f64>,
    pub status: PlanStatus,
    /// The organisation's term running at the end of the period, its target and the
    /// admissions from its congress to the end of the period.
    pub term: Option<String>,
    pub term_target: Option<i64>,
    pub term_admitted: Option<usize>,
    pub term_percent: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub org_id: String,
    pub org_name: String,
    pub period: Period,
    pub rows: Vec<PlanRow>,
    pub base: CaseFilter,
}

/// Plan vs done for every organisation of a subtree down to the grassroots level: the
/// period's target (a year's, or the term's when a term is asked for), admissions, % and
/// the term-to-date figure; sorted by %, lowest first, organisations without a target
/// last.
pub fn plan(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
    via: Via,
) -> AppResult<Plan> {
    let root = resolve_org(orgs, caller, some(&f.org))?.clone();
    let resolved = f.resolve(conn, orgs, &root, today)?;
    let period = resolved.period;
    let base = CaseFilter {
        org: Some(root.id.clone()),
        ..f.scope_only()
    };
    // Organisations down to the grassroots level (not their sub-branches).
    let rows_orgs: Vec<&OrgInfo> = orgs
        .subtree(&root.path)
        .filter(|o| {
            o.id == root.id
                || o.grassroots
                || orgs
                    .grassroots_of(&o.id)
                    .is_none_or(|g| !orgs.in_subtree(&g.id, &root.path))
        })
        .collect();
    let wanted: HashMap<&str, usize> = rows_orgs
        .iter()
        .enumerate()
        .map(|(i, o)| (o.id.as_str(), i))
        .collect();
    // Terms running at the end of the period, per row.
    let mut terms = Vec::with_capacity(rows_orgs.len());
    for o in &rows_orgs {
        terms.push(crate::targets::term_on(conn, orgs, &o.id, period.to)?);
    }
    // Admissions per organisation of the files in the period, and from each distinct
    // term's congress to its end (terms are mostly inherited, so there are few).
    let in_period = figures::admitted_per_org(conn, orgs, &root, period, via)?;
    let mut in_term: HashMap<(Date, Date), BTreeMap<String, usize>> = HashMap::new();
    for t in terms.iter().flatten() {
        let key = (t.start, t.end);
        let to = t.end.add_days(-1).min(period.to);
        if !in_term.contains_key(&key) && to >= t.start {
            let p = Period { from: t.start, to };
            in_term.insert(key, figures::admitted_per_org(conn, orgs, &root, p, via)?);
        }
    }
    // Each organisation's count goes to every row of its chain up to the root.
    let mut chains: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut chain_of = |org: &str| -> Vec<usize> {
        chains
            .entry(orgs.get(org).map_or("", |o| o.id.as_str()))
            .or_insert_with(|| {
                let mut out = Vec::new();
                let mut cur = orgs.get(org);
                while let Some(o) = cur {
                    if let Some(i) = wanted.get(o.id.as_str()) {
                        out.push(*i);
                    }
                    if o.id == root.id {
                        break;
                    }
                    cur = o.parent_id.as_deref().and_then(|p| orgs.get(p));
                }
                out
            })
            .clone()
    };
    let mut done = vec![0usize; rows_orgs.len()];
    for (org, n) in &in_period {
        for i in chain_of(org) {
            done[i] += n;
        }
    }
    // From the congress to the end of the period, for the rows whose term it is.
    let mut term_done = vec![0usize; rows_orgs.len()];
    for (key, counts) in &in_term {
        for (org, n) in counts {
            for i in chain_of(org) {
                if terms[i].as_ref().is_some_and(|t| (t.start, t.end) == *key) {
                    term_done[i] += n;
                }
            }
        }
    }
    let asked_term = some(&f.term);
    let year = (period.from.year() == period.to.year()).then(|| period.from.year());
    let elapsed_end = period.to.min(today);
    let share = if elapsed_end < period.from {
        0.0
    } else {
        f64::from(period.from.days_until(elapsed_end) + 1)
            / f64::from(period.from.days_until(period.to) + 1)
    };
    let mut year_targets: HashMap<String, i64> = HashMap::new();
    if let Some(y) = year {
        let mut stmt =
            conn.prepare_cached("SELECT org_id, target FROM org_years WHERE year = ?1")?;
        for row in stmt.query_map([y], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
            let (o, t) = row?;
            if t > 0 {
                year_targets.insert(o, t);
            }
        }
    }
    let mut term_target_stmt =
        conn.prepare_cached("SELECT target FROM term_targets WHERE org_id = ?1 AND term = ?2")?;
    let mut term_target = |org: &str, name: &str| -> Option<i64> {
        term_target_stmt
            .query_row([org, name], |r| r.get::<_, i64>(0))
            .ok()
    };
    let root_depth = root.path.matches('/').count();
    let mut rows = Vec::new();
    for (i, o) in rows_orgs.iter().enumerate() {
        let target = match (asked_term, year) {
            (Some(t), _) => resolved
                .term
                .as_ref()
                .and_then(|rt| term_target(&o.id, &rt.name))
                .or_else(|| term_target(&o.id, t)),
            (None, Some(_)) => year_targets.get(&o.id).copied(),
            (None, None) => None,
        };
        let n = done[i];
        let expected = target.map(|t| (t as f64 * share * 10.0).round() / 10.0);
        let status = match (target, expected) {
            (None, _) | (Some(0), _) => PlanStatus::NoTarget,
            _ if n == 0 => PlanStatus::Zero,
            (Some(t), _) if n as i64 >= t => PlanStatus::Reached,
            (_, Some(e)) if n as f64 >= e => PlanStatus::OnPlan,
            _ => PlanStatus::Behind,
        };
        let t = terms[i].as_ref();
        let tt = t.and_then(|t| term_target(&o.id, &t.name));
        rows.push(PlanRow {
            org_id: o.id.clone(),
            name: o.name.clone(),
            sector: o.sector.clone(),
            depth: o.path.matches('/').count().saturating_sub(root_depth),
            grassroots: o.grassroots,
            target,
            admitted: n,
            percent: target.and_then(|t| pct(n as f64, t as f64)),
            expected,
            status,
            term: t.map(|t| t.name.clone()),
            term_target: tt,
            term_admitted: t.map(|_| term_done[i]),
            term_percent: tt.and_then(|x| pct(term_done[i] as f64, x as f64)),
        });
    }
    rows.sort_by(|a, b| {
        let key = |r: &PlanRow| (r.target.is_none_or(|t| t == 0), r.percent.unwrap_or(0.0));
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(a.depth.cmp(&b.depth))
            .then(a.org_id.cmp(&b.org_id))
    });
    Ok(Plan {
        org_id: root.id.clone(),
        org_name: root.name.clone(),
        period,
        rows,
        base,
    })
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
