//! The findings queue and the deadlines view.

use std::collections::BTreeMap;

use crate::db::Connection;
use crate::db::reports as db;
use serde::Serialize;
use shared::date::Date;

use super::*;
use crate::auth::Caller;
use crate::error::AppResult;

/// Number of days ahead the deadline view calls "upcoming".
pub const UPCOMING_DAYS: i32 = 14;

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
    if f.severity.is_none() {
        f.severity = Some(SeverityFilter::Any);
    }
    let files = cases(conn, orgs, caller, &f, today)?;
    let code = f.code.clone();
    let sev = f.severity.map(SeverityFilter::code);
    let mut out = Vec::new();
    for c in files {
        for row in db::findings_of(conn, &c.doc_id)? {
            let db::FindingText {
                code: fcode,
                severity,
                field,
                message_vi: vi,
                message_en: en,
            } = row?;
            if code.as_ref().is_some_and(|c| c != &fcode) {
                continue;
            }
            if matches!(sev, Some("blocking" | "warning")) && sev != Some(severity.as_str()) {
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
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for row in db::finding_counts_per_org(conn)? {
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
    let mut rows = Vec::new();
    for row in db::open_deadlines_until(conn, until)? {
        let db::OpenDeadline {
            doc_id,
            full_name,
            org_id,
            code,
            label_vi,
            label_en,
            due,
        } = row?;
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
