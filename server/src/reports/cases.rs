//! The case-file list: the files matching a filter, read from their projections.

use crate::db::Connection;
use crate::db::reports::{self as db, CaseScope};
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
    let subtree = root.parent_id.is_some().then(|| scope_range(&root.path));
    let cohort_entry = if f.cohort {
        Some(crate::figures::settings(conn)?.cohort_entry)
    } else {
        None
    };
    let sector = f.sector.as_deref();
    let needle = f.q.as_deref().map(fold);
    let rows = db::case_rows(
        conn,
        f,
        CaseScope {
            period,
            subtree: subtree.as_ref().map(|(lo, hi)| (lo.as_str(), hi.as_str())),
            cohort_entry,
        },
    )?;
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
