//! The read-only queries of the review API, the central pages, reports and exports over
//! what `views` derives from the files (`projections`, `findings`, `deadlines` and
//! `conflicts`); they join `docs` and `orgs` to narrow them to a subtree.

use shared::date::Date;
use shared::rules::CohortEntry;

use super::{Connection, OptionalExtension, Result, Rows, Value, params, params_from_iter};
use crate::reports::{Admitted, CaseFilter, CaseRow, Period, SeverityFilter};
use crate::review::ConflictRow;

/// Which conflicts a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictState {
    /// Not yet resolved.
    Open,
    /// Resolved, kept for their history.
    Closed,
    All,
}

/// The conflicts of the organisations whose path lies in `lo..hi`, of one case file when
/// `doc_id` is given, oldest first.
pub fn conflicts_in_range(
    conn: &Connection,
    state: ConflictState,
    lo: &str,
    hi: &str,
    doc_id: Option<&str>,
) -> Result<Vec<ConflictRow>> {
    let filter = match state {
        ConflictState::Closed => "c.closed_at IS NOT NULL",
        ConflictState::All => "1 = 1",
        ConflictState::Open => "c.closed_at IS NULL",
    };
    let sql = format!(
        "SELECT c.id, c.doc_id, c.path, c.values_json, c.opened_at, c.closed_at, c.resolved_by,
                c.resolution_json, COALESCE(p.full_name, ''), d.org_id
         FROM conflicts c JOIN docs d ON d.id = c.doc_id JOIN orgs o ON o.id = d.org_id
         LEFT JOIN projections p ON p.doc_id = c.doc_id
         WHERE {filter} AND o.path >= ?1 AND o.path < ?3 AND (CAST(?2 AS TEXT) IS NULL OR c.doc_id = ?2)
         ORDER BY c.opened_at, c.id"
    );
    conn.prepare(&sql)?
        .query_map(params![lo, doc_id, hi], |r| {
            Ok(ConflictRow {
                id: r.get(0)?,
                doc_id: r.get(1)?,
                path: r.get(2)?,
                values: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                opened_at: r.get(4)?,
                closed_at: r.get(5)?,
                resolved_by: r.get(6)?,
                resolution: r
                    .get::<_, Option<String>>(7)?
                    .and_then(|s| serde_json::from_str(&s).ok()),
                full_name: r.get(8)?,
                org_id: r.get(9)?,
            })
        })?
        .collect()
}

/// The case file, field path and closing time of a conflict, if it exists.
pub fn conflict_field(conn: &Connection, id: i64) -> Result<Option<(String, String, Option<i64>)>> {
    conn.query_row(
        "SELECT doc_id, path, closed_at FROM conflicts WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// The full name of a case file as its projection has it.
pub fn projection_full_name(conn: &Connection, doc_id: &str) -> Result<String> {
    conn.query_row(
        "SELECT full_name FROM projections WHERE doc_id = ?1",
        [doc_id],
        |r| r.get::<_, String>(0),
    )
}

/// The stage of a case file as its projection has it.
pub fn projection_stage(conn: &Connection, doc_id: &str) -> Result<String> {
    conn.query_row(
        "SELECT stage FROM projections WHERE doc_id = ?1",
        [doc_id],
        |row| row.get(0),
    )
}

/// The number of case files of the organisations whose path lies in `lo..hi` that do not
/// record the date `entry` counts a cohort from.
pub fn count_without_entry_date(
    conn: &Connection,
    entry: CohortEntry,
    lo: &str,
    hi: &str,
) -> Result<i64> {
    let col = crate::figures::entry_column(entry);
    conn.prepare_cached(&format!(
        "SELECT COUNT(*) FROM projections WHERE {col} IS NULL
             AND org_id IN (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)"
    ))?
    .query_row(params![lo, hi], |r| r.get(0))
}

/// What narrows the case-file list beyond the filter itself.
#[derive(Debug, Clone, Copy)]
pub struct CaseScope<'a> {
    /// The filter's period, once its term is looked up.
    pub period: Period,
    /// The path range `lo..hi` of the subtree; `None` at the tree's root.
    pub subtree: Option<(&'a str, &'a str)>,
    /// Which date starts a cohort, when the filter asks for one.
    pub cohort_entry: Option<CohortEntry>,
}

/// The projections matching what SQL can narrow of `f` (the indexed columns and coded
/// fields), in storage order; organisation names, sectors and the rest of the filter are
/// left to the caller.
pub fn case_rows(conn: &Connection, f: &CaseFilter, scope: CaseScope<'_>) -> Result<Rows<CaseRow>> {
    let period = scope.period;
    let mut sql = String::from(
        "SELECT p.doc_id, p.full_name, p.org_id, p.stage, p.sex, p.ethnicity, p.birth_date,
                p.education, p.youth_union, p.introduced, p.class_date, p.branch_vote_date,
                p.decision_date, p.ceremony_date, p.official_date, p.stopped, p.blocking,
                p.warnings, p.returned, p.review_comment, p.class_id, p.source_kind, p.occupation
         FROM projections p WHERE 1 = 1",
    );
    let mut args: Vec<Value> = Vec::new();
    // Narrow by the most selective indexed column first: the decision date, then the
    // organisations of the subtree.
    match f.admitted {
        Some(Admitted::Ever) => sql.push_str(" AND p.decision_date IS NOT NULL"),
        Some(Admitted::InPeriod) => {
            sql.push_str(" AND p.decision_date BETWEEN ? AND ?");
            args.push(Value::Text(period.from.to_string()));
            args.push(Value::Text(period.to.to_string()));
        }
        None => {}
    }
    if let Some((lo, hi)) = scope.subtree {
        sql.push_str(" AND p.org_id IN (SELECT id FROM orgs WHERE path >= ? AND path < ?)");
        args.push(Value::Text(lo.to_string()));
        args.push(Value::Text(hi.to_string()));
    }
    if let Some(s) = f.stage {
        sql.push_str(" AND p.stage = ?");
        args.push(Value::Text(s.code().into()));
    }
    if let Some(code) = f.code.as_deref() {
        sql.push_str(" AND p.doc_id IN (SELECT doc_id FROM findings WHERE code = ?)");
        args.push(Value::Text(code.into()));
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
        args.push(Value::Text(period.from.to_string()));
        args.push(Value::Text(period.to.to_string()));
    }
    if let Some(entry) = scope.cohort_entry {
        let col = crate::figures::entry_column(entry);
        sql.push_str(&format!(" AND p.{col} BETWEEN ? AND ?"));
        args.push(Value::Text(period.from.to_string()));
        args.push(Value::Text(period.to.to_string()));
    }
    if let Some(c) = &f.class_id {
        sql.push_str(" AND p.class_id = ?");
        args.push(Value::Text(c.as_str().into()));
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
                args.push(Value::Text(code.into()));
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
    let mut stmt = conn.prepare_cached(&sql)?;
    let date = |s: Option<String>| s.and_then(|s| s.parse::<Date>().ok());
    stmt.query_map(params_from_iter(args.iter()), |r| {
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
    })
}

/// One finding of a case file, as stored.
#[derive(Debug, Clone)]
pub struct FindingText {
    pub code: String,
    pub severity: String,
    pub field: String,
    pub message_vi: String,
    pub message_en: String,
}

/// The findings of one case file, by severity then code.
pub fn findings_of(conn: &Connection, doc_id: &str) -> Result<Rows<FindingText>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, severity, field, message_vi, message_en FROM findings
         WHERE doc_id = ?1 ORDER BY severity, code",
    )?;
    stmt.query_map([doc_id], |r| {
        Ok(FindingText {
            code: r.get::<_, String>(0)?,
            severity: r.get::<_, String>(1)?,
            field: r.get::<_, String>(2)?,
            message_vi: r.get::<_, String>(3)?,
            message_en: r.get::<_, String>(4)?,
        })
    })
}

/// Blocking and warning findings counted per organisation and code:
/// (organisation, code, number).
pub fn finding_counts_per_org(conn: &Connection) -> Result<Rows<(String, String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.org_id, f.code, COUNT(*) FROM findings f JOIN projections p ON p.doc_id = f.doc_id
         WHERE f.severity IN ('blocking', 'warning') GROUP BY p.org_id, f.code",
    )?;
    stmt.query_map((), |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })
}

/// An open deadline of a live case file, as stored (the due day unparsed).
#[derive(Debug, Clone)]
pub struct OpenDeadline {
    pub doc_id: String,
    pub full_name: String,
    pub org_id: String,
    pub code: String,
    pub label_vi: String,
    pub label_en: String,
    pub due: String,
}

/// Open deadlines of live case files due on or before `until`, by due day; the end of
/// probation is left out.
pub fn open_deadlines_until(conn: &Connection, until: Date) -> Result<Rows<OpenDeadline>> {
    // The end of probation is informational (the recognition vote has its own deadline),
    // as in `shared::report::deadline_summary`.
    let mut stmt = conn.prepare_cached(
        "SELECT d.doc_id, p.full_name, p.org_id, d.code, d.label_vi, d.label_en, d.due
         FROM deadlines d JOIN projections p ON p.doc_id = d.doc_id
         WHERE d.done = 0 AND d.due <= ?1 AND p.stopped = 0 AND d.code <> 'DL_PROBATION_END'
         ORDER BY d.due",
    )?;
    stmt.query_map([until.to_string()], |r| {
        Ok(OpenDeadline {
            doc_id: r.get::<_, String>(0)?,
            full_name: r.get::<_, String>(1)?,
            org_id: r.get::<_, String>(2)?,
            code: r.get::<_, String>(3)?,
            label_vi: r.get::<_, String>(4)?,
            label_en: r.get::<_, String>(5)?,
            due: r.get::<_, String>(6)?,
        })
    })
}
