//! What a merge derives from a file: `projections`, `findings`, `deadlines` and
//! `conflicts`, with every write the server makes to them and the reads the merge, a
//! re-evaluation and the statistics need (the office's queries over them are in
//! `reports`). A file merged into another also leaves `identity_keys` here, with its
//! other derived rows.

use std::collections::HashMap;

use super::{Connection, Result, Value, params, to_value};

/// A file's row of `projections`: what lists, counts and reports read without loading
/// the document.
#[derive(Debug)]
pub struct Projection<'a> {
    pub doc_id: &'a str,
    pub org_id: &'a str,
    pub stage: &'a str,
    pub full_name: &'a str,
    pub sex: Option<String>,
    pub ethnicity: &'a str,
    pub birth_date: Option<String>,
    pub education: Option<String>,
    pub youth_union: bool,
    pub introduced: bool,
    pub class_date: Option<String>,
    pub branch_vote_date: Option<String>,
    pub decision_date: Option<String>,
    pub ceremony_date: Option<String>,
    pub official_date: Option<String>,
    pub stopped: bool,
    pub blocking: i64,
    pub warnings: i64,
    pub returned: bool,
    pub review_comment: &'a str,
    pub rule_set: &'a str,
    pub evaluated_on: String,
    pub case_json: &'a str,
    pub eval_json: &'a str,
    pub updated_at: i64,
    pub source_kind: Option<&'a str>,
    pub occupation: Option<&'a str>,
    pub class_id: &'a str,
    pub outstanding_date: Option<String>,
    pub application_date: Option<String>,
    pub minority: bool,
    pub decision_age: Option<i32>,
}

/// Writes a file's projection, replacing the one it had.
pub fn upsert_projection(conn: &Connection, p: &Projection<'_>) -> Result<()> {
    conn.send(
        "INSERT INTO projections(doc_id, org_id, stage, full_name, sex, ethnicity, birth_date,
            education, youth_union, introduced, class_date, branch_vote_date, decision_date,
            ceremony_date, official_date, stopped, blocking, warnings, returned, review_comment,
            rule_set, evaluated_on, case_json, eval_json, updated_at, source_kind, occupation,
            class_id, outstanding_date, application_date, minority, decision_age)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,
            ?26,?27,?28,?29,?30,?31,?32)
         ON CONFLICT(doc_id) DO UPDATE SET org_id=excluded.org_id, stage=excluded.stage,
            full_name=excluded.full_name, sex=excluded.sex, ethnicity=excluded.ethnicity,
            birth_date=excluded.birth_date, education=excluded.education,
            youth_union=excluded.youth_union, introduced=excluded.introduced,
            class_date=excluded.class_date, branch_vote_date=excluded.branch_vote_date,
            decision_date=excluded.decision_date, ceremony_date=excluded.ceremony_date,
            official_date=excluded.official_date, stopped=excluded.stopped,
            blocking=excluded.blocking, warnings=excluded.warnings, returned=excluded.returned,
            review_comment=excluded.review_comment, rule_set=excluded.rule_set,
            evaluated_on=excluded.evaluated_on, case_json=excluded.case_json,
            eval_json=excluded.eval_json, updated_at=excluded.updated_at,
            source_kind=excluded.source_kind, occupation=excluded.occupation,
            class_id=excluded.class_id, outstanding_date=excluded.outstanding_date,
            application_date=excluded.application_date, minority=excluded.minority,
            decision_age=excluded.decision_age",
        params![
        p.doc_id,
        p.org_id,
        p.stage,
        p.full_name,
        p.sex,
        p.ethnicity,
        p.birth_date,
        p.education,
        p.youth_union,
        p.introduced,
        p.class_date,
        p.branch_vote_date,
        p.decision_date,
        p.ceremony_date,
        p.official_date,
        p.stopped,
        p.blocking,
        p.warnings,
        p.returned,
        p.review_comment,
        p.rule_set,
        p.evaluated_on,
        p.case_json,
        p.eval_json,
        p.updated_at,
        p.source_kind,
        p.occupation,
        p.class_id,
        p.outstanding_date,
        p.application_date,
        p.minority,
        p.decision_age,
        ],
    )?;
    Ok(())
}

/// One finding a queue shows.
#[derive(Debug)]
pub struct FindingRow<'a> {
    pub code: &'a str,
    pub severity: String,
    pub field: &'a str,
    pub message_vi: &'a str,
    pub message_en: &'a str,
}

/// Replaces a file's findings, many rows per statement.
pub fn replace_findings<'a>(
    conn: &Connection,
    doc_id: &str,
    findings: impl IntoIterator<Item = FindingRow<'a>>,
    replace: bool,
) -> Result<()> {
    if replace {
        conn.send("DELETE FROM findings WHERE doc_id = ?1", [doc_id])?;
    }
    let rows = findings
        .into_iter()
        .map(|f| {
            Ok(vec![
                to_value(doc_id)?,
                to_value(f.code)?,
                Value::Text(f.severity),
                to_value(f.field)?,
                to_value(f.message_vi)?,
                to_value(f.message_en)?,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    conn.send_many(
        "INSERT INTO findings(doc_id, code, severity, field, message_vi, message_en)",
        &rows,
    )?;
    Ok(())
}

/// One open deadline of a file.
#[derive(Debug)]
pub struct DeadlineRow<'a> {
    pub code: &'a str,
    pub label_vi: &'a str,
    pub label_en: &'a str,
    pub due: String,
    pub done: bool,
}

/// Replaces a file's deadlines, many rows per statement.
pub fn replace_deadlines<'a>(
    conn: &Connection,
    doc_id: &str,
    deadlines: impl IntoIterator<Item = DeadlineRow<'a>>,
    replace: bool,
) -> Result<()> {
    if replace {
        conn.send("DELETE FROM deadlines WHERE doc_id = ?1", [doc_id])?;
    }
    let rows = deadlines
        .into_iter()
        .map(|d| {
            Ok(vec![
                to_value(doc_id)?,
                to_value(d.code)?,
                to_value(d.label_vi)?,
                to_value(d.label_en)?,
                Value::Text(d.due),
                to_value(&d.done)?,
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    conn.send_many(
        "INSERT INTO deadlines(doc_id, code, label_vi, label_en, due, done)",
        &rows,
    )?;
    Ok(())
}

/// Removes a file from every count, list and queue: its projection, findings, deadlines
/// and identity keys. It deletes `identity_keys` here too because a file merged into
/// another leaves all its derived rows in one step.
pub fn delete_views_of(conn: &Connection, doc_id: &str) -> Result<()> {
    for table in ["projections", "findings", "deadlines", "identity_keys"] {
        conn.execute(&format!("DELETE FROM {table} WHERE doc_id = ?1"), [doc_id])?;
    }
    Ok(())
}

/// Closes every open conflict of a file, naming who resolved it unless one is named.
pub fn close_open_conflicts_of(
    conn: &Connection,
    doc_id: &str,
    now: i64,
    resolved_by: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE conflicts SET closed_at = ?2, resolved_by = COALESCE(resolved_by, ?3)
         WHERE doc_id = ?1 AND closed_at IS NULL",
        params![doc_id, now, resolved_by],
    )?;
    Ok(())
}

/// The open conflicts of a file: by path, their id and values (JSON).
pub fn open_conflicts_by_path(
    conn: &Connection,
    doc_id: &str,
) -> Result<HashMap<String, (i64, String)>> {
    let mut open = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT id, path, values_json FROM conflicts WHERE doc_id = ?1 AND closed_at IS NULL",
    )?;
    for row in stmt.query_map([doc_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (id, path, values) = row?;
        open.insert(path, (id, values));
    }
    Ok(open)
}

/// Replaces the values (JSON) of an open conflict.
pub fn set_conflict_values(conn: &Connection, id: i64, values_json: &str) -> Result<()> {
    conn.prepare_cached("UPDATE conflicts SET values_json = ?2 WHERE id = ?1")?
        .execute(params![id, values_json])?;
    Ok(())
}

/// Opens conflicts `(path, values_json)` on a file, many rows per statement.
pub fn open_conflicts<'a>(
    conn: &Connection,
    doc_id: &str,
    opened_at: i64,
    conflicts: impl IntoIterator<Item = (&'a str, String)>,
) -> Result<()> {
    let rows: Vec<Vec<Value>> = conflicts
        .into_iter()
        .map(|(path, values_json)| {
            vec![
                Value::from(doc_id),
                Value::from(path),
                Value::Text(values_json),
                Value::Integer(opened_at),
            ]
        })
        .collect();
    conn.insert_many(
        "INSERT INTO conflicts(doc_id, path, values_json, opened_at)",
        &rows,
    )?;
    Ok(())
}

/// Closes a conflict a later change settled, keeping the resolver and resolution it may
/// already have.
pub fn close_conflict(
    conn: &Connection,
    id: i64,
    now: i64,
    resolved_by: &str,
    resolution_json: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE conflicts SET closed_at = ?2, resolved_by = COALESCE(resolved_by, ?3),
             resolution_json = COALESCE(resolution_json, ?4) WHERE id = ?1",
        params![id, now, resolved_by, resolution_json],
    )?;
    Ok(())
}

/// How many conflicts are open, over every file.
pub fn count_open_conflicts(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM conflicts WHERE closed_at IS NULL",
        (),
        |r| r.get(0),
    )
}

/// Records who resolved a conflict and the resolution (JSON text).
pub fn record_resolution(
    conn: &Connection,
    id: i64,
    resolved_by: &str,
    resolution_json: &str,
) -> Result<()> {
    conn.execute(
        "UPDATE conflicts SET resolved_by = ?2, resolution_json = ?3 WHERE id = ?1",
        params![id, resolved_by, resolution_json],
    )?;
    Ok(())
}

/// The ids of every file with a projection, for re-evaluating all of them.
pub fn projected_doc_ids(conn: &Connection) -> Result<Vec<String>> {
    conn.prepare("SELECT doc_id FROM projections")?
        .query_map((), |r| r.get(0))?
        .collect()
}

/// The years open deadlines fall in, ascending.
pub fn open_deadline_years(conn: &Connection) -> Result<Vec<i32>> {
    conn.prepare(
        "SELECT DISTINCT CAST(substr(due, 1, 4) AS INTEGER) FROM deadlines WHERE done = 0
             ORDER BY 1",
    )?
    .query_map((), |r| r.get(0))?
    .collect()
}
