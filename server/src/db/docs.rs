//! Stored case files: every statement on `docs`, `changes` and `device_docs`
//! (documents, the change log, snapshots, what each device holds, the pull feed and its
//! positions, compaction and history). The subtree reads join `orgs` for the paths, the
//! per-organisation count joins `projections` to count only evaluated files, and the
//! feed's position on PostgreSQL is also read from `settings` (`feed_mark`), because
//! it belongs to the feed.

use std::collections::HashMap;

use shared::sync::DocId;

use super::{Backend, Connection, OptionalExtension, Result, Rows, Statement, params};

/// A document's stored form as the tables hold it: its snapshot, the changes logged
/// after it, and the size and highest sequence number of its whole log.
#[derive(Debug)]
pub struct StoredRow {
    pub org_id: String,
    pub snapshot: Option<Vec<u8>>,
    pub changes: Vec<Vec<u8>>,
    /// Bytes of the whole log.
    pub bytes: i64,
    /// The highest log sequence number (0 when the log is empty).
    pub version: i64,
}

/// Reads a document's snapshot, the changes logged after it and the size of its log.
pub fn stored_doc(conn: &Connection, id: &str) -> Result<Option<StoredRow>> {
    let row: Option<(String, Option<Vec<u8>>, i64)> = conn
        .prepare_cached("SELECT org_id, snapshot, snapshot_seq FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((org_id, snapshot, snapshot_seq)) = row else {
        return Ok(None);
    };
    let changes = conn
        .prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq")?
        .query_map(params![id, snapshot_seq], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>>>()?;
    let (bytes, version): (i64, i64) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(length(bytes)), 0), COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(StoredRow {
        org_id,
        snapshot,
        changes,
        bytes,
        version,
    }))
}

/// The highest log sequence number of a document (0 when it has none).
pub fn doc_version(conn: &Connection, id: &str) -> Result<i64> {
    conn.prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1")?
        .query_row([id], |r| r.get(0))
}

/// The organisation a stored document belongs to, or `None` for a new document.
pub fn doc_org(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.query_row("SELECT org_id FROM docs WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// Whether the device was given this file.
pub fn device_holds(conn: &Connection, device_id: &str, doc_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM device_docs WHERE device_id = ?1 AND doc_id = ?2")?
        .query_row([device_id, doc_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Whether any of these change hashes is already logged under another document than
/// `doc_id` (the check stops at the first one found).
pub fn change_of_other_doc(
    conn: &Connection,
    doc_id: &str,
    hashes: impl IntoIterator<Item = [u8; 32]>,
) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT doc_id FROM changes WHERE hash = ?1")?;
    for hash in hashes {
        let other: Option<String> = stmt.query_row([hash], |r| r.get(0)).optional()?;
        if other.is_some_and(|o| o != doc_id) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Records that a device holds these files (those it held already stay as they are).
pub fn hold_docs<'a>(
    conn: &Connection,
    device_id: &str,
    doc_ids: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut held = conn
        .prepare_cached("INSERT OR IGNORE INTO device_docs(device_id, doc_id) VALUES (?1, ?2)")?;
    for id in doc_ids {
        held.execute([device_id, id])?;
    }
    Ok(())
}

/// Forgets that a device holds these files.
pub fn drop_held<'a>(
    conn: &Connection,
    device_id: &str,
    doc_ids: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let mut del =
        conn.prepare_cached("DELETE FROM device_docs WHERE device_id = ?1 AND doc_id = ?2")?;
    for id in doc_ids {
        del.execute([device_id, id])?;
    }
    Ok(())
}

/// Records that a device holds every file of the scope range `lo..hi` placed at or
/// before feed position `upto`.
pub fn hold_scope_upto(
    conn: &Connection,
    device_id: &str,
    lo: &str,
    hi: &str,
    upto: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO device_docs(device_id, doc_id)
         SELECT ?1, d.id FROM docs d JOIN orgs o ON o.id = d.org_id
         WHERE o.path >= ?2 AND o.path < ?3 AND d.org_seq <= ?4",
    )?
    .execute(params![device_id, lo, hi, upto])?;
    Ok(())
}

/// Adds a new document's row, placed nowhere yet (`org_seq` 0).
pub fn insert_doc(conn: &Connection, id: &str, org_id: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO docs(id, org_id, org_seq, created_at, updated_at) VALUES (?1, ?2, 0, ?3, ?3)",
    )?
    .execute(params![id, org_id, now])?;
    Ok(())
}

/// The change log open for appending: one prepared statement for a whole batch.
pub struct ChangeLog<'c> {
    conn: &'c Connection,
    ins: Statement<'c>,
}

/// Opens the change log for appending.
pub fn change_log(conn: &Connection) -> Result<ChangeLog<'_>> {
    let ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO changes(doc_id, hash, actor, bytes, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    Ok(ChangeLog { conn, ins })
}

impl ChangeLog<'_> {
    /// Logs one change unless its hash is logged already; returns its sequence number
    /// when it was added.
    pub fn append(
        &mut self,
        doc_id: &str,
        hash: &[u8],
        actor: &str,
        bytes: &[u8],
        received_at: i64,
    ) -> Result<Option<i64>> {
        let inserted = self
            .ins
            .execute(params![doc_id, hash, actor, bytes, received_at])?;
        if inserted == 1 {
            Ok(Some(self.conn.last_insert_rowid()?))
        } else {
            Ok(None)
        }
    }
}

/// Places a document in an organisation at feed position `org_seq`.
pub fn place_doc(conn: &Connection, id: &str, org_id: &str, org_seq: i64) -> Result<()> {
    conn.prepare_cached("UPDATE docs SET org_id = ?2, org_seq = ?3 WHERE id = ?1")?
        .execute(params![id, org_id, org_seq])?;
    Ok(())
}

/// Records when a document last changed.
pub fn touch_doc(conn: &Connection, id: &str, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE docs SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Keeps a document's list summary and heads, as of its newest logged change.
pub fn set_summary(conn: &Connection, id: &str, summary: &str, heads: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "UPDATE docs SET summary = ?2, heads = ?3,
            summary_seq = (SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1)
         WHERE id = ?1",
    )?
    .execute(params![id, summary, heads])?;
    Ok(())
}

/// A document's kept list summary and heads (each absent until its views are written),
/// and the log position they were kept at.
pub type KeptSummary = (Option<String>, Option<Vec<u8>>, i64);

/// A logged change as a first sync of a file hands it out: `(doc_id, hash, bytes)`.
pub type LoggedChange = (String, Vec<u8>, Vec<u8>);

/// A logged change as the feed hands it out: `(seq, doc_id, hash, bytes)`.
pub type FeedChange = (i64, String, Vec<u8>, Vec<u8>);

/// A document's kept list summary and heads, and the log position they were kept at.
pub fn kept_summary(conn: &Connection, id: &str) -> Result<Option<KeptSummary>> {
    conn.prepare_cached("SELECT summary, heads, summary_seq FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

/// The whole logs of files of the scope range `lo..hi` that entered it after feed
/// position `cursor` (or, when the scope changed, that the device does not hold), up to
/// that position: `(doc_id, hash, bytes)` in file and log order.
pub fn entered_scope_changes(
    conn: &Connection,
    cursor: i64,
    lo: &str,
    hi: &str,
    scope_changed: bool,
    device_id: &str,
) -> Result<Rows<LoggedChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.doc_id, c.hash, c.bytes FROM docs d JOIN orgs o ON o.id = d.org_id
         JOIN changes c ON c.doc_id = d.id
         WHERE o.path >= ?2 AND o.path < ?3 AND c.seq <= ?1
           AND (d.org_seq > ?1 OR (?4 AND NOT EXISTS (
                SELECT 1 FROM device_docs x WHERE x.device_id = ?5 AND x.doc_id = d.id)))
         ORDER BY c.doc_id, c.seq",
    )?;
    stmt.query_map(params![cursor, lo, hi, scope_changed, device_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })
}

/// The changes logged in the scope range `lo..hi` after feed position `cursor` up to
/// `head`: `(seq, doc_id, hash, bytes)` in log order.
pub fn feed_changes(
    conn: &Connection,
    cursor: i64,
    head: i64,
    lo: &str,
    hi: &str,
) -> Result<Rows<FeedChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.seq, c.doc_id, c.hash, c.bytes FROM changes c JOIN docs d ON d.id = c.doc_id
         JOIN orgs o ON o.id = d.org_id
         WHERE c.seq > ?1 AND c.seq <= ?2 AND o.path >= ?3 AND o.path < ?4 ORDER BY c.seq",
    )?;
    stmt.query_map(params![cursor, head, lo, hi], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })
}

/// Files a device holds that are not in the scope range `lo..hi`: those placed after
/// `cursor`, or all of them when `scope_changed` or `cursor` is 0.
pub fn held_outside_scope(
    conn: &Connection,
    device_id: &str,
    cursor: i64,
    scope_changed: bool,
    lo: &str,
    hi: &str,
) -> Result<Vec<DocId>> {
    // Unless the scope changed, only files placed after the cursor can have left it: the
    // index on the placing position finds them without reading every held file.
    let sql = if scope_changed || cursor == 0 {
        "SELECT x.doc_id FROM device_docs x LEFT JOIN docs d ON d.id = x.doc_id
         LEFT JOIN orgs o ON o.id = d.org_id
         WHERE x.device_id = ?1 AND (?2 OR d.org_seq IS NULL OR d.org_seq > ?3)
           AND NOT (COALESCE(o.path, '') >= ?4 AND COALESCE(o.path, '') < ?5)"
    } else {
        "SELECT d.id FROM docs d JOIN device_docs x ON x.doc_id = d.id AND x.device_id = ?1
         LEFT JOIN orgs o ON o.id = d.org_id
         WHERE NOT ?2 AND d.org_seq > ?3
           AND NOT (COALESCE(o.path, '') >= ?4 AND COALESCE(o.path, '') < ?5)"
    };
    conn.prepare_cached(sql)?
        .query_map(params![device_id, scope_changed, cursor, lo, hi], |r| {
            r.get::<_, String>(0)
        })?
        .map(|r| r.map(|s| DocId::try_from(s).ok()))
        .filter_map(|r| r.transpose())
        .collect()
}

/// The newest position of the change feed: the last sequence number handed out on
/// SQLite; on PostgreSQL, whose sequences are not transactional, the newest change or
/// the newest position a reorganisation of the tree recorded (`settings.feed_mark`,
/// read here because it belongs to the feed).
pub fn feed_position(conn: &Connection) -> Result<i64> {
    let sql = match conn.backend() {
        Backend::Sqlite => {
            "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0),
                    COALESCE((SELECT MAX(seq) FROM changes), 0))"
        }
        Backend::Postgres => {
            "SELECT GREATEST(
                 COALESCE((SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'feed_mark'), 0),
                 COALESCE((SELECT MAX(seq) FROM changes), 0))"
        }
    };
    conn.query_row(sql, (), |r| r.get(0))
}

/// A fresh position in the change feed with no change at it (a move of organisations
/// marks the files it moves with one). It takes the next number of the sequence of
/// `changes`; on PostgreSQL it also records it as the feed's mark.
pub fn next_feed_position(conn: &Connection) -> Result<i64> {
    if conn.backend() == Backend::Postgres {
        // The sequence gives the number; the mark records it in this transaction, so
        // the feed's position moves when (and only if) the move commits.
        let pos: i64 = conn.query_row(
            "SELECT nextval(pg_get_serial_sequence('changes', 'seq'))",
            (),
            |r| r.get(0),
        )?;
        super::settings::put_setting(conn, "feed_mark", &pos.to_string())?;
        return Ok(pos);
    }
    let n = conn.execute(
        "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'changes'",
        (),
    )?;
    if n == 0 {
        conn.execute(
            "INSERT INTO sqlite_sequence(name, seq)
             VALUES ('changes', COALESCE((SELECT MAX(seq) FROM changes), 0) + 1)",
            (),
        )?;
    }
    conn.query_row(
        "SELECT seq FROM sqlite_sequence WHERE name = 'changes'",
        (),
        |r| r.get(0),
    )
}

/// Up to `limit` ids of the files of the scope range `lo..hi` after the id `after`, in
/// id order.
pub fn scope_doc_ids_after(
    conn: &Connection,
    lo: &str,
    hi: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<String>> {
    conn.prepare_cached(
        "SELECT d.id FROM docs d JOIN orgs o ON o.id = d.org_id
         WHERE o.path >= ?1 AND o.path < ?2 AND d.id > ?3 ORDER BY d.id LIMIT ?4",
    )?
    .query_map(params![lo, hi, after, limit], |r| r.get(0))?
    .collect()
}

/// How many files of the scope range `lo..hi` come after the id `after`.
pub fn count_scope_docs_after(conn: &Connection, lo: &str, hi: &str, after: &str) -> Result<i64> {
    conn.prepare_cached(
        "SELECT COUNT(*) FROM docs d JOIN orgs o ON o.id = d.org_id
         WHERE o.path >= ?1 AND o.path < ?2 AND d.id > ?3",
    )?
    .query_row(params![lo, hi, after], |r| r.get(0))
}

/// Up to `max_docs` ids, after the id `after` and in id order, of the documents with at
/// least `min_changes` changes logged after their snapshot.
pub fn docs_to_compact(
    conn: &Connection,
    min_changes: i64,
    after: &str,
    max_docs: usize,
) -> Result<Vec<String>> {
    conn.prepare(
        "SELECT d.id FROM docs d WHERE d.id > ?2 AND (SELECT COUNT(*) FROM changes c
            WHERE c.doc_id = d.id AND c.seq > d.snapshot_seq) >= ?1 ORDER BY d.id",
    )?
    .query_map(params![min_changes, after], |r| r.get(0))?
    .take(max_docs)
    .collect()
}

/// Stores snapshots `(doc_id, snapshot, upto)`, each covering the log up to `upto`,
/// unless a newer one is there; returns how many were stored.
pub fn store_snapshots<'a>(
    conn: &Connection,
    snapshots: impl IntoIterator<Item = (&'a str, &'a [u8], i64)>,
) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE docs SET snapshot = ?2, snapshot_seq = ?3 WHERE id = ?1 AND snapshot_seq < ?3",
    )?;
    let mut stored = 0;
    for (id, snapshot, upto) in snapshots {
        stored += stmt.execute(params![id, snapshot, upto])?;
    }
    Ok(stored)
}

/// The ids of the files of organisations whose path lies in `[lo, hi)`, in order.
pub fn doc_ids_in_range(conn: &Connection, lo: &str, hi: &str) -> Result<Vec<String>> {
    conn.prepare(
        "SELECT d.id FROM docs d JOIN orgs o ON o.id = d.org_id
             WHERE o.path >= ?1 AND o.path < ?2 ORDER BY d.id",
    )?
    .query_map([lo, hi], |r| r.get(0))?
    .collect()
}

/// The case files of one organisation, by id.
pub fn doc_ids_of(conn: &Connection, org: &str) -> Result<Vec<String>> {
    conn.prepare("SELECT id FROM docs WHERE org_id = ?1 ORDER BY id")?
        .query_map([org], |r| r.get(0))?
        .collect()
}

/// Marks the case files of the subtree whose paths lie in `[lo, hi)` as placed at the
/// feed position `pos`.
pub fn mark_files_placed(conn: &Connection, lo: &str, hi: &str, pos: i64) -> Result<()> {
    conn.execute(
        "UPDATE docs SET org_seq = ?3 WHERE org_id IN
            (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)",
        params![lo, hi, pos],
    )?;
    Ok(())
}

/// Case files with a projection per organisation of the subtree whose paths lie in
/// `[lo, hi)`.
pub fn file_counts(conn: &Connection, lo: &str, hi: &str) -> Result<HashMap<String, i64>> {
    conn.prepare(
        "SELECT d.org_id, COUNT(*) FROM docs d JOIN orgs o ON o.id = d.org_id
         LEFT JOIN projections p ON p.doc_id = d.id
         WHERE o.path >= ?1 AND o.path < ?2 AND p.doc_id IS NOT NULL GROUP BY d.org_id",
    )?
    .query_map(params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// The number of stored case files.
pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM docs", (), |r| r.get(0))
}

/// The number of logged changes.
pub fn count_changes(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM changes", (), |r| r.get(0))
}
