//! The organisation tree: every statement on `orgs` and `org_history`. Before an
//! organisation closes, one count also reads what still hangs on it in `docs` and `users`.

use std::collections::HashMap;

use shared::api::Org;
use shared::date::Date;

use super::{Connection, OptionalExtension, Result, Rows, params};
use crate::orgtree::OrgChange;
use crate::reports::OrgInfo;

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

/// The materialised path of the organisation `id`, open or closed. The statement is
/// cached: the scope check of every push and merge runs it on the sync path.
pub fn path_of(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.prepare_cached("SELECT path FROM orgs WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

/// Every organisation's materialised path, open or closed: `(id, path)`.
pub fn all_paths(conn: &Connection) -> Result<Vec<(String, String)>> {
    conn.prepare("SELECT id, path FROM orgs")?
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
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

/// The root of the organisation tree.
pub fn root(conn: &Connection) -> Result<Option<String>> {
    conn.query_row(
        "SELECT id FROM orgs WHERE parent_id IS NULL LIMIT 1",
        (),
        |r| r.get(0),
    )
    .optional()
}

/// The number of organisations, open or closed.
pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM orgs", (), |r| r.get(0))
}

/// The closing day of every closed organisation, by id.
pub fn closed(conn: &Connection) -> Result<HashMap<String, String>> {
    conn.prepare("SELECT id, closed_on FROM orgs WHERE closed_on IS NOT NULL")?
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Every organisation in path order (a parent before its children); the grassroots
/// organisation of each is left for the caller to place.
pub fn in_path_order(conn: &Connection) -> Result<Rows<OrgInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, parent_id, name, kind, sector, grassroots, path FROM orgs ORDER BY path",
    )?;
    stmt.query_map((), |r| {
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
    })
}

/// Whether the organisation paths `lo..hi` hold every organisation.
pub fn holds_every_org(conn: &Connection, lo: &str, hi: &str) -> Result<bool> {
    conn.prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM orgs WHERE path < ?1 OR path >= ?2)")?
        .query_row([lo, hi], |r| r.get(0))
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
