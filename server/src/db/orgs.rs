//! The organisation tree: every statement on `orgs` and `org_history`.

use std::collections::HashMap;

use shared::api::Org;
use shared::date::Date;

use super::{Connection, OptionalExtension, Result, params};
use crate::orgtree::OrgChange;

/// An organisation as the tree's changes need it.
#[derive(Debug, Clone)]
pub struct OrgRow {
    pub parent_id: Option<String>,
    pub name: String,
    pub path: String,
    pub closed_on: Option<String>,
}

/// The organisation `id`, open or closed.
pub fn org(conn: &Connection, id: &str) -> Result<Option<OrgRow>> {
    conn.query_row(
        "SELECT parent_id, name, path, closed_on FROM orgs WHERE id = ?1",
        [id],
        |r| {
            Ok(OrgRow {
                parent_id: r.get(0)?,
                name: r.get(1)?,
                path: r.get(2)?,
                closed_on: r.get(3)?,
            })
        },
    )
    .optional()
}

/// Whether an organisation (open or closed) has the id `id`.
pub fn exists(conn: &Connection, id: &str) -> Result<bool> {
    let exists: Option<String> = conn
        .query_row("SELECT id FROM orgs WHERE id = ?1", [id], |r| r.get(0))
        .optional()?;
    Ok(exists.is_some())
}

/// The materialised path of the organisation `id`, open or closed.
pub fn path_of(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.query_row("SELECT path FROM orgs WHERE id = ?1", [id], |r| r.get(0))
        .optional()
}

/// Every organisation's materialised path, open or closed, by id.
pub fn all_paths(conn: &Connection) -> Result<HashMap<String, String>> {
    let mut paths = HashMap::new();
    let mut stmt = conn.prepare("SELECT id, path FROM orgs")?;
    for row in stmt.query_map((), |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (id, path) = row?;
        paths.insert(id, path);
    }
    Ok(paths)
}

/// The materialised path of the organisation `id` if it is open.
pub fn open_path_of(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT path FROM orgs WHERE id = ?1 AND closed_on IS NULL",
        [id],
        |r| r.get::<_, String>(0),
    )
    .optional()
}

/// Adds an organisation under `parent`, in the parent's sector.
pub fn insert(
    conn: &Connection,
    id: &str,
    parent: &str,
    name: &str,
    kind: &str,
    grassroots: bool,
    path: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO orgs(id, parent_id, name, kind, sector, grassroots, path)
         VALUES (?1, ?2, ?3, ?4, (SELECT sector FROM orgs WHERE id = ?2), ?5, ?6)",
        params![id, parent, name, kind, grassroots, path],
    )?;
    Ok(())
}

/// Adds or replaces an organisation from a reference import, at `path`: unlike
/// [`insert`], every column comes from the import, the sector included.
pub fn upsert(conn: &Connection, org: &Org, path: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO orgs(id, parent_id, name, kind, sector, grassroots, path)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id,
                           name = excluded.name, kind = excluded.kind, sector = excluded.sector,
                           grassroots = excluded.grassroots, path = excluded.path",
        params![
            org.id,
            org.parent_id,
            org.name,
            org.kind,
            org.sector,
            org.grassroots,
            path
        ],
    )?;
    Ok(())
}

pub fn rename(conn: &Connection, id: &str, name: &str) -> Result<()> {
    conn.execute("UPDATE orgs SET name = ?2 WHERE id = ?1", params![id, name])?;
    Ok(())
}

/// Rewrites the paths of the subtree whose paths lie in `[lo, hi)` (its root's path is
/// `lo`) to start with `new_path` instead.
pub fn rewrite_subtree_paths(conn: &Connection, new_path: &str, lo: &str, hi: &str) -> Result<()> {
    conn.execute(
        "UPDATE orgs SET path = ?1 || substr(path, length(?2) + 1) WHERE path >= ?2 AND path < ?3",
        params![new_path, lo, hi],
    )?;
    Ok(())
}

pub fn set_parent(conn: &Connection, id: &str, parent: &str) -> Result<()> {
    conn.execute(
        "UPDATE orgs SET parent_id = ?2 WHERE id = ?1",
        params![id, parent],
    )?;
    Ok(())
}

/// Marks the organisation closed from `on`.
pub fn close(conn: &Connection, id: &str, on: Date) -> Result<()> {
    conn.execute(
        "UPDATE orgs SET closed_on = ?2 WHERE id = ?1",
        params![id, on.to_string()],
    )?;
    Ok(())
}

/// The open sub-units directly under `id`.
pub fn open_children(conn: &Connection, id: &str) -> Result<Vec<String>> {
    conn.prepare("SELECT id FROM orgs WHERE parent_id = ?1 AND closed_on IS NULL")?
        .query_map([id], |r| r.get(0))?
        .collect()
}

/// What still hangs on an organisation before it may close: its case files, its open
/// sub-units and its active accounts. It reads `docs` and `users` too, as one count.
pub fn closing_blockers(conn: &Connection, id: &str) -> Result<(i64, i64, i64)> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM docs WHERE org_id = ?1),
                (SELECT COUNT(*) FROM orgs WHERE parent_id = ?1 AND closed_on IS NULL),
                (SELECT COUNT(*) FROM users WHERE scope_org = ?1 AND active = 1)",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The case files of one organisation, by id. On `docs`, kept here because only the
/// merge of organisations asks it.
pub fn doc_ids_of(conn: &Connection, org: &str) -> Result<Vec<String>> {
    conn.prepare("SELECT id FROM docs WHERE org_id = ?1 ORDER BY id")?
        .query_map([org], |r| r.get(0))?
        .collect()
}

/// Marks the case files of the subtree whose paths lie in `[lo, hi)` as placed at the
/// feed position `pos`. On `docs`, kept here because it is part of moving organisations.
pub fn mark_files_placed(conn: &Connection, lo: &str, hi: &str, pos: i64) -> Result<()> {
    conn.execute(
        "UPDATE docs SET org_seq = ?3 WHERE org_id IN
            (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)",
        params![lo, hi, pos],
    )?;
    Ok(())
}

/// Scopes the accounts scoped to `from` to `into`; returns how many. On `users`, kept
/// here because it is part of merging organisations.
pub fn rescope_accounts(conn: &Connection, from: &str, into: &str) -> Result<usize> {
    conn.execute(
        "UPDATE users SET scope_org = ?2 WHERE scope_org = ?1",
        params![from, into],
    )
}

/// A fresh position in the change feed with no change at it. It works on the sequence
/// of `changes` (and on PostgreSQL records the mark in `settings`); kept here because
/// only moves of organisations take such positions.
pub fn next_feed_position(conn: &Connection) -> Result<i64> {
    if conn.backend() == super::Backend::Postgres {
        // The sequence gives the number; the mark records it in this transaction, so
        // the feed's position moves when (and only if) the move commits.
        let pos: i64 = conn.query_row(
            "SELECT nextval(pg_get_serial_sequence('changes', 'seq'))",
            (),
            |r| r.get(0),
        )?;
        conn.execute(
            "INSERT INTO settings(key, value) VALUES ('feed_mark', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [pos.to_string()],
        )?;
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

/// Keeps one change of the tree in its history.
#[allow(clippy::too_many_arguments)]
pub fn insert_change(
    conn: &Connection,
    at: i64,
    org_id: &str,
    action: &str,
    detail_json: &str,
    effective: Date,
    decision: &str,
    by: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO org_history(at, org_id, action, detail_json, effective, decision, by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            at,
            org_id,
            action,
            detail_json,
            effective.to_string(),
            decision,
            by
        ],
    )?;
    Ok(())
}

/// The latest 2,000 changes of the tree, newest first.
pub fn recent_changes(conn: &Connection) -> Result<Vec<OrgChange>> {
    conn.prepare(
        "SELECT h.at, h.org_id, h.action, h.detail_json, h.effective, h.decision, h.by
         FROM org_history h ORDER BY h.id DESC LIMIT 2000",
    )?
    .query_map((), |r| {
        Ok(OrgChange {
            at: r.get(0)?,
            org_id: r.get(1)?,
            action: r.get(2)?,
            detail: r.get(3)?,
            effective: r.get(4)?,
            decision: r.get(5)?,
            by: r.get(6)?,
        })
    })?
    .collect()
}

/// Case files with a projection per organisation of the subtree whose paths lie in
/// `[lo, hi)`. It reads `docs` and `projections`, joined to the tree.
pub fn file_counts(conn: &Connection, lo: &str, hi: &str) -> Result<HashMap<String, i64>> {
    conn.prepare(
        "SELECT d.org_id, COUNT(*) FROM docs d JOIN orgs o ON o.id = d.org_id
         LEFT JOIN projections p ON p.doc_id = d.id
         WHERE o.path >= ?1 AND o.path < ?2 AND p.doc_id IS NOT NULL GROUP BY d.org_id",
    )?
    .query_map(params![lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}
