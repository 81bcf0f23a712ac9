//! The case-file list: the files matching a filter, read from their projections.

use crate::db::{Connection, Value as SqlValue, params_from_iter};
use serde::Serialize;
use shared::date::Date;
use shared::text::{fold, sort_key};

use super::*;
use crate::auth::Caller;
use crate::casedocs::scope_range;
use crate::error::AppResult;

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
pub(super) fn select_cases(
    conn: &Connection,
    orgs: &OrgIndex,
    caller: &Caller,
    f: &CaseFilter,
    today: Date,
) -> AppResult<Vec<CaseRow>> {
    let root = resolve_org(orgs, caller, f.org_id())?;
    let period = f.resolve(conn, orgs, root, today)?.period;
    let mut sql = String::from(
        "SELECT p.doc_id, p.full_name, p.org_id, p.stage, p.sex, p.ethnicity, p.birth_date,
                p.education, p.youth_union, p.introduced, p.class_date, p.branch_vote_date,
                p.decision_date, p.ceremony_date, p.official_date, p.stopped, p.blocking,
                p.warnings, p.returned, p.review_comment, p.class_id, p.source_kind, p.occupation
         FROM projections p WHERE 1 = 1",
    );
    let mut args: Vec<SqlValue> = Vec::new();
    // Narrow by the most selective indexed column first: the decision date, then the
    // organisations of the subtree.
    match f.admitted {
        Some(Admitted::Ever) => sql.push_str(" AND p.decision_date IS NOT NULL"),
        Some(Admitted::InPeriod) => {
            sql.push_str(" AND p.decision_date BETWEEN ? AND ?");
            args.push(SqlValue::Text(period.from.to_string()));
            args.push(SqlValue::Text(period.to.to_string()));
        }
        None => {}
    }
    if root.parent_id.is_some() {
        let (lo, hi) = scope_range(&root.path);
        sql.push_str(" AND p.org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)");
        args.push(SqlValue::Text(lo));
        args.push(SqlValue::Text(hi));
    }
    if let Some(s) = f.stage {
        sql.push_str(" AND p.stage = ?");
        args.push(SqlValue::Text(s.code().into()));
    }
    if let Some(code) = f.code.as_deref() {
        sql.push_str(" AND p.doc_id IN (SELECT doc_id FROM findings WHERE code = ?)");
        args.push(SqlValue::Text(code.into()));
    }
    match f.severity {
        Some(SeverityFilter::Blocking) => sql.push_str(" AND p.blocking > 0"),
        Some(SeverityFilter::Warning) => sql.push_str(" AND p.warnings > 0"),
        Some(SeverityFilter::Any) => sql.push_str(" AND (p.blocking > 0 OR p.warnings > 0)"),
        None => {}
    }
    if f.returned {
        sql.push_str(" AND p.returned = 1");
    }
    if f.class {
        sql.push_str(" AND p.class_date IS NOT NULL");
    }
    if f.introduced {
        sql.push_str(" AND p.introduced = 1");
    }
    if f.official {
        sql.push_str(" AND p.official_date BETWEEN ? AND ?");
        args.push(SqlValue::Text(period.from.to_string()));
        args.push(SqlValue::Text(period.to.to_string()));
    }
    if f.cohort {
        let col = crate::figures::entry_column(crate::figures::settings(conn).cohort_entry);
        sql.push_str(&format!(" AND p.{col} BETWEEN ? AND ?"));
        args.push(SqlValue::Text(period.from.to_string()));
        args.push(SqlValue::Text(period.to.to_string()));
    }
    if let Some(c) = &f.class_id {
        sql.push_str(" AND p.class_id = ?");
        args.push(SqlValue::Text(c.as_str().into()));
    }
    // Coded columns: a code, or the files that do not record it.
    let coded = [
        (
            "source_kind",
            f.source.as_ref().map(|r| r.stored(|k| k.code())),
        ),
        (
            "occupation",
            f.occupation.as_ref().map(|r| r.stored(|k| k.code())),
        ),
        (
            "education",
            f.education.as_ref().map(|r| r.stored(String::as_str)),
        ),
    ];
    for (column, value) in coded {
        match value {
            Some(None) => sql.push_str(&format!(" AND p.{column} IS NULL")),
            Some(Some(code)) => {
                sql.push_str(&format!(" AND p.{column} = ?"));
                args.push(SqlValue::Text(code.into()));
            }
            None => {}
        }
    }
    if f.youth {
        sql.push_str(" AND p.youth_union = 1");
    }
    if f.female {
        sql.push_str(" AND p.sex = 'female'");
    }
    let sector = f.sector.as_deref();
    let needle = f.q.as_deref().map(fold);
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
        if f.minority && !row.is_minority() {
            continue;
        }
        if f.age && !row.aged_18_30() {
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
