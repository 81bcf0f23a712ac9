//! Stored case files: every statement on `docs`, `changes` and `device_docs`
//! (documents, the change log, snapshots, what each device holds, the pull feed and its
//! positions, compaction and history). The subtree reads join `orgs` for the paths, the
//! per-organisation count joins `projections` to count only evaluated files, and the
//! feed's position on PostgreSQL is also read from `settings` (`feed_mark`), because
//! it belongs to the feed.

use std::collections::HashMap;

use shared::sync::DocId;

use super::{
    Backend, Connection, OptionalExtension, ROWS_PER_STATEMENT, Result, Rows, ToSql, Value, params,
    placeholders,
};

/// A document's stored form as the tables hold it: its snapshot, the changes logged
/// after it, and the size and highest sequence number of its whole log.
#[derive(Debug)]
pub struct StoredRow {
    pub org_id: String,
    /// The organisation's materialised path (`None` if the organisation is gone).
    pub org_path: Option<String>,
    pub snapshot: Option<Vec<u8>>,
    pub changes: Vec<Vec<u8>>,
    /// Bytes of the whole log.
    pub bytes: i64,
    /// The highest log sequence number (0 when the log is empty).
    pub version: i64,
}

/// Reads a document's snapshot, its organisation's path, the size of its log and the
/// changes logged after the snapshot: two statements.
pub fn stored_doc(conn: &Connection, id: &str) -> Result<Option<StoredRow>> {
    type Head = (String, Option<String>, Option<Vec<u8>>, i64, i64, i64);
    let row: Option<Head> = conn
        .prepare_cached(
            "SELECT d.org_id, o.path, d.snapshot, d.snapshot_seq,
                (SELECT COALESCE(SUM(length(c.bytes)), 0) FROM changes c WHERE c.doc_id = d.id),
                (SELECT COALESCE(MAX(c.seq), 0) FROM changes c WHERE c.doc_id = d.id)
             FROM docs d LEFT JOIN orgs o ON o.id = d.org_id WHERE d.id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .optional()?;
    let Some((org_id, org_path, snapshot, snapshot_seq, bytes, version)) = row else {
        return Ok(None);
    };
    // Nothing logged after the snapshot: no second statement.
    let changes = if version > snapshot_seq {
        conn.prepare_cached(
            "SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq",
        )?
        .query_map(params![id, snapshot_seq], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    Ok(Some(StoredRow {
        org_id,
        org_path,
        snapshot,
        changes,
        bytes,
        version,
    }))
}

/// The highest log sequence number of each of `ids` that has changes (one statement
/// per [`ROWS_PER_STATEMENT`] ids).
pub fn doc_versions(conn: &Connection, ids: &[&str]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT doc_id, MAX(seq) FROM changes WHERE doc_id IN ({}) GROUP BY doc_id",
            placeholders(1, chunk.len())
        );
        let values: Vec<&dyn ToSql> = chunk.iter().map(|id| id as &dyn ToSql).collect();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(values.as_slice(), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (id, v) = row?;
            out.insert(id, v);
        }
    }
    Ok(out)
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

/// The file each of these change hashes is already logged under, for those logged (one
/// statement for up to [`ROWS_PER_STATEMENT`] hashes).
pub fn change_owners(conn: &Connection, hashes: &[[u8; 32]]) -> Result<HashMap<[u8; 32], String>> {
    let mut out = HashMap::new();
    for chunk in hashes.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "SELECT hash, doc_id FROM changes WHERE hash IN ({})",
            placeholders(1, chunk.len())
        );
        let values: Vec<&dyn ToSql> = chunk.iter().map(|h| h as &dyn ToSql).collect();
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(values.as_slice(), |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
        })?;
        for row in rows {
            let (hash, doc) = row?;
            if let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) {
                out.insert(hash, doc);
            }
        }
    }
    Ok(out)
}

/// Records that a device holds these files (those it held already stay as they are).
pub fn hold_docs<'a>(
    conn: &Connection,
    device_id: &str,
    doc_ids: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let rows: Vec<Vec<Value>> = doc_ids
        .into_iter()
        .map(|id| vec![device_id.into(), id.into()])
        .collect();
    conn.send_many(
        "INSERT OR IGNORE INTO device_docs(device_id, doc_id)",
        &rows,
    )?;
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

/// A change to log: its hash, its actor (hex) and its stored bytes.
#[derive(Debug)]
pub struct ChangeRow {
    pub hash: [u8; 32],
    pub actor: String,
    pub bytes: Vec<u8>,
}

/// Logs a document's changes whose hashes are not logged already, each with the next
/// sequence number in the order given, and returns the highest number given (`None`
/// when every change was logged already). One statement for up to
/// [`ROWS_PER_STATEMENT`] changes.
pub fn append_changes(
    conn: &Connection,
    doc_id: &str,
    changes: &[ChangeRow],
    received_at: i64,
) -> Result<Option<i64>> {
    let mut last = None;
    for chunk in changes.chunks(ROWS_PER_STATEMENT) {
        let mut sql = String::from(
            "INSERT OR IGNORE INTO changes(doc_id, hash, actor, bytes, received_at) VALUES ",
        );
        let mut values: Vec<&dyn ToSql> = Vec::with_capacity(2 + 3 * chunk.len());
        values.push(&doc_id);
        values.push(&received_at);
        for (i, c) in chunk.iter().enumerate() {
            let at = 3 + 3 * i;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(?1, ?{at}, ?{}, ?{}, ?2)", at + 1, at + 2));
            values.extend([&c.hash as &dyn ToSql, &c.actor, &c.bytes]);
        }
        sql.push_str(" RETURNING seq");
        let mut stmt = conn.prepare_cached(&sql)?;
        for seq in stmt.query_map(values.as_slice(), |r| r.get::<_, i64>(0))? {
            last = last.max(Some(seq?));
        }
    }
    Ok(last)
}

/// Places a document in an organisation at feed position `org_seq`, as changed at `now`.
pub fn place_doc(conn: &Connection, id: &str, org_id: &str, org_seq: i64, now: i64) -> Result<()> {
    conn.send(
        "UPDATE docs SET org_id = ?2, org_seq = ?3, updated_at = ?4 WHERE id = ?1",
        params![id, org_id, org_seq, now],
    )?;
    Ok(())
}

/// Records when a document last changed.
pub fn touch_doc(conn: &Connection, id: &str, now: i64) -> Result<()> {
    conn.send(
        "UPDATE docs SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// Keeps a document's list summary and heads, as of its newest logged change.
pub fn set_summary(conn: &Connection, id: &str, summary: &str, heads: &[u8]) -> Result<()> {
    conn.send(
        "UPDATE docs SET summary = ?2, heads = ?3,
            summary_seq = (SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1)
         WHERE id = ?1",
        params![id, summary, heads],
    )?;
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

/// Whether a pull finds the files placed since its cursor through the index on the
/// placing position ([`ENTERED_BY_PLACING`]): always, but for a first pull or a changed
/// scope, which must read the whole scope.
pub fn by_placing(cursor: i64, scope_changed: bool) -> bool {
    !scope_changed && cursor > 0
}

/// Files placed after the cursor, found through the index on the placing position: at
/// most one per log position since the cursor, which the feed's own read walks anyway,
/// instead of every file of the scope on every pull. `CROSS JOIN` keeps that order on
/// SQLite, whose planner would start from the scope, or from the device's held files,
/// without statistics.
const ENTERED_BY_PLACING: &str = "SELECT c.doc_id, c.hash, c.bytes
     FROM docs d CROSS JOIN orgs o CROSS JOIN changes c
     WHERE d.org_seq > ?1 AND o.id = d.org_id AND o.path >= ?2 AND o.path < ?3
       AND c.doc_id = d.id AND c.seq <= ?1
     ORDER BY c.doc_id, c.seq";

/// Every file of the scope, for a first pull or a changed scope.
const ENTERED_BY_SCOPE: &str = "SELECT c.doc_id, c.hash, c.bytes
     FROM docs d JOIN orgs o ON o.id = d.org_id JOIN changes c ON c.doc_id = d.id
     WHERE o.path >= ?2 AND o.path < ?3 AND c.seq <= ?1
       AND (d.org_seq > ?1 OR (?4 AND NOT EXISTS (
            SELECT 1 FROM device_docs x WHERE x.device_id = ?5 AND x.doc_id = d.id)))
     ORDER BY c.doc_id, c.seq";

/// The whole logs of files of the scope range `lo..hi` that entered it after feed
/// position `cursor` (or, when the scope changed, that the device does not hold), up to
/// that position: `(doc_id, hash, bytes)` in file and log order. `by_placing` as
/// [`by_placing`] tells.
pub fn entered_scope_changes(
    conn: &Connection,
    cursor: i64,
    lo: &str,
    hi: &str,
    scope_changed: bool,
    device_id: &str,
    by_placing: bool,
) -> Result<Rows<LoggedChange>> {
    let row = |r: &super::Row<'_>| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    };
    if by_placing {
        conn.prepare_cached(ENTERED_BY_PLACING)?
            .query_map(params![cursor, lo, hi], row)
    } else {
        conn.prepare_cached(ENTERED_BY_SCOPE)?
            .query_map(params![cursor, lo, hi, scope_changed, device_id], row)
    }
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

/// Held files placed after the cursor, found as [`ENTERED_BY_PLACING`] finds them,
/// without reading every file the device holds.
const HELD_OUTSIDE_BY_PLACING: &str = "SELECT d.id
     FROM docs d CROSS JOIN device_docs x LEFT JOIN orgs o ON o.id = d.org_id
     WHERE d.org_seq > ?3 AND x.device_id = ?1 AND x.doc_id = d.id AND NOT ?2
       AND NOT (COALESCE(o.path, '') >= ?4 AND COALESCE(o.path, '') < ?5)";

/// Every held file, for a first pull or a changed scope.
const HELD_OUTSIDE_BY_HELD: &str = "SELECT x.doc_id
     FROM device_docs x LEFT JOIN docs d ON d.id = x.doc_id LEFT JOIN orgs o ON o.id = d.org_id
     WHERE x.device_id = ?1 AND (?2 OR d.org_seq IS NULL OR d.org_seq > ?3)
       AND NOT (COALESCE(o.path, '') >= ?4 AND COALESCE(o.path, '') < ?5)";

/// Files a device holds that are not in the scope range `lo..hi`: those placed after
/// `cursor`, or all of them when `scope_changed` or `cursor` is 0 (`by_placing` as
/// [`by_placing`] tells).
pub fn held_outside_scope(
    conn: &Connection,
    device_id: &str,
    cursor: i64,
    scope_changed: bool,
    lo: &str,
    hi: &str,
    by_placing: bool,
) -> Result<Vec<DocId>> {
    let sql = if by_placing {
        HELD_OUTSIDE_BY_PLACING
    } else {
        HELD_OUTSIDE_BY_HELD
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::store::Store;

    fn store_with_file(id: &str) -> Store {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        let org = shared::api::Org {
            id: "o".into(),
            parent_id: None,
            name: "Đảng bộ".into(),
            kind: "district".into(),
            sector: String::new(),
            grassroots: false,
        };
        crate::db::orgs::upsert(&conn, &org, "/o/").unwrap();
        insert_doc(&conn, id, "o", 1).unwrap();
        drop(conn);
        store
    }

    fn change(n: u32) -> ChangeRow {
        let mut hash = [0u8; 32];
        hash[..4].copy_from_slice(&n.to_be_bytes());
        ChangeRow {
            hash,
            actor: "ab".into(),
            bytes: vec![n as u8; 3],
        }
    }

    /// File `i`'s id.
    fn file(i: u32) -> String {
        format!("{i:032x}")
    }

    /// Files of two organisations (`/o/`, and `/p/` for every fifth), one change each,
    /// all held by `dev`; after the returned position, files 3, 20 and 148 leave `/o/` for
    /// `/p/`, files 4 and 9 (with their older history) come into `/o/`, and new files are
    /// logged in both.
    fn files_that_move_after_a_cursor() -> (Store, i64) {
        let store = store_with_file(&file(0));
        let conn = store.conn();
        let org = shared::api::Org {
            id: "p".into(),
            parent_id: None,
            name: "Đảng bộ khác".into(),
            kind: "district".into(),
            sector: String::new(),
            grassroots: false,
        };
        crate::db::orgs::upsert(&conn, &org, "/p/").unwrap();
        let log = |i: u32| {
            let (id, org) = (file(i), if i % 5 == 4 { "p" } else { "o" });
            if i > 0 {
                insert_doc(&conn, &id, org, 1).unwrap();
            }
            let seq = append_changes(&conn, &id, &[change(i)], 1)
                .unwrap()
                .unwrap();
            place_doc(&conn, &id, org, seq, 1).unwrap();
            seq
        };
        for i in 0..150 {
            log(i);
        }
        let cursor = log(150);
        for (i, to) in [(3, "p"), (20, "p"), (148, "p"), (4, "o"), (9, "o")] {
            let pos = next_feed_position(&conn).unwrap();
            place_doc(&conn, &file(i), to, pos, 2).unwrap();
        }
        log(151);
        log(152);
        let held: Vec<String> = (0..150).map(file).collect();
        hold_docs(&conn, "dev", held.iter().map(String::as_str)).unwrap();
        drop(conn);
        (store, cursor)
    }

    #[test]
    fn a_pull_finds_moved_files_through_their_placing_position_with_the_same_answer() {
        let (store, cursor) = files_that_move_after_a_cursor();
        let conn = store.conn();
        let (lo, hi) = ("/o/", "/o0");
        for at in [1, cursor / 2, cursor, cursor + 3, cursor + 100] {
            let entered = |by_placing| {
                entered_scope_changes(&conn, at, lo, hi, false, "dev", by_placing)
                    .unwrap()
                    .map(|r| r.unwrap().0)
                    .collect::<Vec<_>>()
            };
            let left = |by_placing| {
                let mut ids: Vec<String> =
                    held_outside_scope(&conn, "dev", at, false, lo, hi, by_placing)
                        .unwrap()
                        .into_iter()
                        .map(String::from)
                        .collect();
                ids.sort();
                ids
            };
            assert_eq!(entered(true), entered(false), "entered after {at}");
            assert_eq!(left(true), left(false), "left after {at}");
            if at == cursor {
                assert_eq!(entered(true), [file(4), file(9)], "their older history");
                assert_eq!(left(true), [file(3), file(20), file(148)]);
            }
        }
        // The placing position's index is where each pull's search starts, so a pull
        // reads the files placed since its cursor, not the whole scope or every held file.
        let sqlite = conn.sqlite().unwrap();
        for sql in [ENTERED_BY_PLACING, HELD_OUTSIDE_BY_PLACING] {
            let mut explain = sqlite
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            let nulls = vec![rusqlite::types::Null; explain.parameter_count()];
            let plan: Vec<String> = explain
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                plan[0].contains("USING INDEX docs_org_seq (org_seq>?)"),
                "{plan:?}"
            );
        }
    }

    #[test]
    fn changes_past_one_statement_are_logged_in_order_once_and_found_by_hash() {
        let store = store_with_file("a");
        let conn = store.conn();
        let rows: Vec<ChangeRow> = (0..2 * ROWS_PER_STATEMENT as u32 + 50)
            .map(change)
            .collect();
        let last = append_changes(&conn, "a", &rows, 7).unwrap().unwrap();
        assert_eq!(last, rows.len() as i64, "one number per change, in order");
        assert_eq!(doc_version(&conn, "a").unwrap(), last);
        // Sent again, nothing is added (SQLite may use numbers up, as a sequence does);
        // a new change after them takes a higher number.
        assert_eq!(append_changes(&conn, "a", &rows, 8).unwrap(), None);
        let more = [change(9_999)];
        let next = append_changes(&conn, "a", &more, 8).unwrap().unwrap();
        assert!(next > last);
        assert_eq!(doc_version(&conn, "a").unwrap(), next);
        let bytes = stored_doc(&conn, "a").unwrap().unwrap().changes;
        assert_eq!(bytes.len(), rows.len() + 1);
        assert_eq!(bytes[300], vec![300u32 as u8; 3]);

        // Hashes asked over three statements: only the logged ones are found, each with
        // its file.
        let mut asked: Vec<[u8; 32]> = (10_000..10_000 + 2 * ROWS_PER_STATEMENT as u32)
            .map(|n| change(n).hash)
            .collect();
        assert!(change_owners(&conn, &asked).unwrap().is_empty());
        asked.push(rows[420].hash);
        asked.push(rows[3].hash);
        let owners = change_owners(&conn, &asked).unwrap();
        assert_eq!(owners.len(), 2);
        assert_eq!(owners[&rows[420].hash], "a");
        assert_eq!(owners[&rows[3].hash], "a");
    }

    #[test]
    fn a_stored_file_is_read_with_its_path_log_size_and_version_and_versions_come_many_at_once() {
        let store = store_with_file("a");
        let conn = store.conn();
        let empty = stored_doc(&conn, "a").unwrap().unwrap();
        assert_eq!(empty.org_path.as_deref(), Some("/o/"));
        assert_eq!((empty.bytes, empty.version), (0, 0));
        assert!(empty.changes.is_empty() && empty.snapshot.is_none());
        let rows: Vec<ChangeRow> = (0..5).map(change).collect();
        let last = append_changes(&conn, "a", &rows, 7).unwrap().unwrap();
        let read = stored_doc(&conn, "a").unwrap().unwrap();
        assert_eq!((read.bytes, read.version), (15, last));
        assert_eq!(read.changes.len(), 5);
        assert!(stored_doc(&conn, "nothing").unwrap().is_none());

        // Versions of many files: past one statement, files without changes left out.
        let ids: Vec<String> = (0..ROWS_PER_STATEMENT + 5)
            .map(|i| format!("v{i}"))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            insert_doc(&conn, id, "o", 1).unwrap();
            if i % 2 == 0 {
                append_changes(&conn, id, &[change(50_000 + i as u32)], 7).unwrap();
            }
        }
        let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
        asked.push("a");
        let versions = doc_versions(&conn, &asked).unwrap();
        assert_eq!(versions.len(), ids.len().div_ceil(2) + 1);
        assert_eq!(versions["a"], last);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(
                versions.get(id.as_str()).copied(),
                (i % 2 == 0).then(|| doc_version(&conn, id).unwrap())
            );
        }
    }

    #[test]
    fn a_device_holds_many_files_at_once_and_holding_again_changes_nothing() {
        let store = store_with_file("a");
        let conn = store.conn();
        let ids: Vec<String> = (0..ROWS_PER_STATEMENT + 10)
            .map(|i| format!("f{i}"))
            .collect();
        for id in &ids {
            insert_doc(&conn, id, "o", 1).unwrap();
        }
        hold_docs(&conn, "dev", ids.iter().map(String::as_str)).unwrap();
        hold_docs(&conn, "dev", ids.iter().map(String::as_str)).unwrap();
        assert!(ids.iter().all(|id| device_holds(&conn, "dev", id).unwrap()));
        assert!(!device_holds(&conn, "dev", "a").unwrap());
    }
}
