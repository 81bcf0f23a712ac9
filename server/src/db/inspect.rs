//! What tests, benchmarks and fuzz targets read of stored data to check it, the damage
//! they do on purpose to check that the server survives it, and the rows they write
//! directly to build a store without going through the server; the server itself never
//! calls these.

use super::{Backend, Connection, Error, Result, Statement, Value, params, params_from_iter};

/// A table whose rows a check counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Orgs,
    OrgYears,
    TermTargets,
    Members,
    Users,
    Settings,
    Docs,
    Changes,
    Projections,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Orgs => "orgs",
            Table::OrgYears => "org_years",
            Table::TermTargets => "term_targets",
            Table::Members => "members",
            Table::Users => "users",
            Table::Settings => "settings",
            Table::Docs => "docs",
            Table::Changes => "changes",
            Table::Projections => "projections",
        }
    }
}

/// The number of rows of `table`.
pub fn count_rows(conn: &Connection, table: Table) -> Result<i64> {
    conn.query_row(&format!("SELECT COUNT(*) FROM {}", table.name()), (), |r| {
        r.get(0)
    })
}

/// The first parameter followed by `ids`, for a statement with an `IN` list.
fn first_then_ids(first: Value, ids: &[&str]) -> Vec<Value> {
    std::iter::once(first)
        .chain(ids.iter().map(|id| Value::from(*id)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The change log and the documents

/// How many times a change with this hash is logged (once, for a stored change).
pub fn changes_with_hash(conn: &Connection, hash: &[u8]) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM changes WHERE hash = ?1",
        [hash],
        |r| r.get(0),
    )
}

/// How many changes of the document `doc_id` are logged.
pub fn changes_of_doc(conn: &Connection, doc_id: &str) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM changes WHERE doc_id = ?1",
        [doc_id],
        |r| r.get(0),
    )
}

/// How many changes are logged at or below the sequence number `seq`.
pub fn changes_upto(conn: &Connection, seq: i64) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM changes WHERE seq <= ?1", [seq], |r| {
        r.get(0)
    })
}

/// The stored bytes of every logged change of the document `doc_id`.
pub fn change_bytes_of(conn: &Connection, doc_id: &str) -> Result<Vec<Vec<u8>>> {
    conn.prepare("SELECT bytes FROM changes WHERE doc_id = ?1")?
        .query_map([doc_id], |r| r.get(0))?
        .collect()
}

/// The hashes of the logged changes of the document `doc_id`, in hexadecimal, sorted and
/// joined with commas (empty for none): one value to compare before and after.
pub fn change_hashes_of(conn: &Connection, doc_id: &str) -> Result<String> {
    conn.query_row(
        "SELECT COALESCE(group_concat(h, ','), '') FROM
                       (SELECT hex(hash) AS h FROM changes WHERE doc_id = ?1 ORDER BY hash)",
        [doc_id],
        |r| r.get(0),
    )
}

/// Logs a change as it comes, with no check: a fixture for the change log's numbering.
pub fn insert_change(
    conn: &Connection,
    doc_id: &str,
    hash: &[u8],
    actor: &str,
    bytes: &[u8],
    received_at: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO changes (doc_id, hash, actor, bytes, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![doc_id, hash, actor, bytes, received_at],
    )?;
    Ok(())
}

/// The id of every stored document.
pub fn doc_ids(conn: &Connection) -> Result<Vec<String>> {
    conn.prepare("SELECT id FROM docs")?
        .query_map((), |r| r.get(0))?
        .collect()
}

/// Every stored document with the path of its organisation.
pub fn doc_paths(conn: &Connection) -> Result<Vec<(String, String)>> {
    conn.prepare("SELECT d.id, o.path FROM docs d JOIN orgs o ON o.id = d.org_id")?
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// How many documents belong to organisations whose path starts with `path`.
pub fn docs_under(conn: &Connection, path: &str) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM docs d JOIN orgs o ON o.id = d.org_id WHERE o.path LIKE ?1 || '%'",
        [path],
        |r| r.get(0),
    )
}

/// The compacted snapshot of the document `id`, if it has one.
pub fn snapshot_of(conn: &Connection, id: &str) -> Result<Option<Vec<u8>>> {
    conn.query_row("SELECT snapshot FROM docs WHERE id = ?1", [id], |r| {
        r.get(0)
    })
}

/// Spoils two kept summaries as a store from before they were kept would hold them:
/// the first document's is missing, the last one's is older than its log.
pub fn spoil_kept_summaries(conn: &Connection) -> Result<()> {
    conn.execute_batch(
        "UPDATE docs SET summary = NULL WHERE id = (SELECT MIN(id) FROM docs);
             UPDATE docs SET summary_seq = summary_seq - 1 WHERE id = (SELECT MAX(id) FROM docs);",
    )
}

// ---------------------------------------------------------------------------------------
// Projections, findings and the aggregate tables

/// How many projections there are, and how many of them were written at or after `since`.
pub fn projections_updated_since(conn: &Connection, since: i64) -> Result<(i64, i64)> {
    conn.query_row(
        "SELECT COUNT(*), SUM(CASE WHEN updated_at >= ?1 THEN 1 ELSE 0 END) FROM projections",
        [since],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// How many files the reviewer returned.
pub fn returned_files(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM projections WHERE returned = 1",
        (),
        |r| r.get(0),
    )
}

/// How many stored findings have the severity `severity`.
pub fn findings_with_severity(conn: &Connection, severity: &str) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM findings WHERE severity = ?1",
        [severity],
        |r| r.get(0),
    )
}

/// How many rows of the aggregate tables count nothing (or less), which they never hold.
pub fn empty_aggregate_rows(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM roll_admitted WHERE n <= 0)
                  + (SELECT COUNT(*) FROM roll_official WHERE n <= 0)
                  + (SELECT COUNT(*) FROM roll_cohort_outstanding WHERE n <= 0)
                  + (SELECT COUNT(*) FROM agg_stage WHERE n <= 0)",
        (),
        |r| r.get(0),
    )
}

// ---------------------------------------------------------------------------------------
// Accounts, devices and sessions

/// Moves the account `username` to the scope of `org`, behind the administration's back.
pub fn move_account_scope(conn: &Connection, username: &str, org: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET scope_org = ?1 WHERE username = ?2",
        [org, username],
    )?;
    Ok(())
}

/// Makes every session of these devices expire at `expires_at`.
pub fn expire_sessions_of(conn: &Connection, device_ids: &[&str], expires_at: i64) -> Result<()> {
    conn.execute(
        &format!(
            "UPDATE sessions SET expires_at = ?1 WHERE device_id IN ({})",
            super::placeholders(2, device_ids.len())
        ),
        params_from_iter(first_then_ids(Value::Integer(expires_at), device_ids)),
    )?;
    Ok(())
}

/// Makes these devices look created and last seen at `at`.
pub fn backdate_devices(conn: &Connection, device_ids: &[&str], at: i64) -> Result<()> {
    conn.execute(
        &format!(
            "UPDATE devices SET created_at = ?1, last_seen = ?1 WHERE id IN ({})",
            super::placeholders(2, device_ids.len())
        ),
        params_from_iter(first_then_ids(Value::Integer(at), device_ids)),
    )?;
    Ok(())
}

/// Which of these devices are still registered.
pub fn existing_devices(conn: &Connection, device_ids: &[&str]) -> Result<Vec<String>> {
    let marks = super::placeholders(1, device_ids.len());
    conn.prepare(&format!("SELECT id FROM devices WHERE id IN ({marks})"))?
        .query_map(params_from_iter(device_ids.iter().copied()), |r| r.get(0))?
        .collect()
}

/// Registers a device of the account `user_id` (nothing when there is no such account),
/// created at time 0 and never seen.
pub fn insert_idle_device(
    conn: &Connection,
    device_id: &str,
    user_id: i64,
    name: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO devices(id, user_id, name, created_at)
             SELECT ?1, id, ?3, 0 FROM users WHERE id = ?2",
        params![device_id, user_id, name],
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The database itself

/// Copies every page of the SQLite database `from` over `to`.
pub fn copy_sqlite(from: &Connection, to: &mut Connection) -> Result<()> {
    let (Some(from), Some(to)) = (from.sqlite(), to.sqlite_mut()) else {
        return Err(Error::Conversion(
            "only a SQLite database copies page by page".into(),
        ));
    };
    let backup = rusqlite::backup::Backup::new(from, to)?;
    backup.run_to_completion(1024, std::time::Duration::ZERO, None)?;
    Ok(())
}

/// SQLite's own check of its file: `ok` when it finds nothing wrong.
pub fn integrity_check(conn: &Connection) -> Result<String> {
    conn.query_row("PRAGMA integrity_check", (), |r| r.get(0))
}

/// Folds SQLite's write-ahead log into the database file and empties it, so that the
/// file's size is the data's; PostgreSQL has no such file and is left as it is.
///
/// The store's checkpointer may be copying at that moment, which makes SQLite answer
/// "busy" without waiting: the checkpoint is tried again, for up to ten seconds.
pub fn checkpoint_wal(conn: &Connection) -> Result<()> {
    if conn.backend() == Backend::Postgres {
        return Ok(());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(Error::NotDurable(
                "the write-ahead log stayed busy: it could not be folded in".into(),
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The bytes a PostgreSQL database takes on disk.
pub fn database_size(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT pg_database_size(current_database())", (), |r| {
        r.get(0)
    })
}

/// Refreshes the statistics the query planner chooses its plans by.
pub fn analyze(conn: &Connection) -> Result<()> {
    conn.execute_batch("ANALYZE")
}

// ---------------------------------------------------------------------------------------
// Generated stores

/// The projection of a generated case file, with the columns a generator fills.
#[derive(Debug, Clone)]
pub struct GeneratedProjection<'a> {
    pub doc_id: &'a str,
    pub org_id: &'a str,
    pub stage: &'a str,
    pub full_name: &'a str,
    pub sex: &'a str,
    pub ethnicity: &'a str,
    pub birth_date: String,
    pub education: &'a str,
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
    pub evaluated_on: String,
    /// Stands in for both the case and the evaluation JSON.
    pub json: &'a str,
    pub source_kind: &'a str,
    pub occupation: &'a str,
    pub class_id: String,
    pub outstanding_date: String,
    pub minority: bool,
    pub decision_age: Option<i32>,
}

/// Writes what the server derives from generated case files (their `projections`,
/// `findings` and `deadlines` rows; the files' rows are added with `docs::insert_doc`
/// and have no document), one prepared statement per table.
pub struct FileRows<'c> {
    projection: Statement<'c>,
    finding: Statement<'c>,
    deadline: Statement<'c>,
}

/// Opens the derived tables for a generator's rows.
pub fn file_rows(conn: &Connection) -> Result<FileRows<'_>> {
    let projection = conn.prepare_cached(
        "INSERT INTO projections(doc_id, org_id, stage, full_name, sex, ethnicity, birth_date,
                    education, youth_union, introduced, class_date, branch_vote_date, decision_date,
                    ceremony_date, official_date, stopped, blocking, warnings, returned, review_comment,
                    rule_set, evaluated_on, case_json, eval_json, updated_at, source_kind,
                    occupation, class_id, outstanding_date, minority, decision_age)
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,'',
                    'bench', ?20, ?21, ?21, 0, ?22, ?23, ?24, ?25, ?26, ?27)",
    )?;
    let finding = conn.prepare_cached(
        "INSERT INTO findings(doc_id, code, severity, field, message_vi, message_en)
                 VALUES (?1, ?2, ?3, 'person.birth_date', 'Thông báo', 'Message')",
    )?;
    let deadline = conn.prepare_cached(
        "INSERT INTO deadlines(doc_id, code, label_vi, label_en, due, done)
                 VALUES (?1, 'DL_CEREMONY', 'Tổ chức lễ kết nạp', 'Hold the ceremony', ?2, 0)",
    )?;
    Ok(FileRows {
        projection,
        finding,
        deadline,
    })
}

impl FileRows<'_> {
    /// Adds a file's projection.
    pub fn projection(&mut self, p: &GeneratedProjection<'_>) -> Result<()> {
        self.projection.execute(params![
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
            p.evaluated_on,
            p.json,
            p.source_kind,
            p.occupation,
            p.class_id,
            p.outstanding_date,
            p.minority,
            p.decision_age,
        ])?;
        Ok(())
    }

    /// Adds a finding about the birth date of a file.
    pub fn finding(&mut self, doc_id: &str, code: &str, severity: &str) -> Result<()> {
        self.finding.execute(params![doc_id, code, severity])?;
        Ok(())
    }

    /// Adds the open ceremony deadline of a file, due on `due`.
    pub fn deadline(&mut self, doc_id: &str, due: &str) -> Result<()> {
        self.deadline.execute(params![doc_id, due])?;
        Ok(())
    }
}
