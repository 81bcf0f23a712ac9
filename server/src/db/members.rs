//! The members register: every statement on `members`. The list of a subtree joins
//! `orgs` for the paths.

use std::collections::HashMap;

use shared::api::Member;

use super::{Connection, OptionalExtension, Result, Value, params};
use crate::members::MemberRow;

fn member_row(r: &super::Row<'_>) -> Result<MemberRow> {
    Ok(MemberRow {
        id: r.get(0)?,
        org_id: r.get(1)?,
        full_name: r.get(2)?,
        official_since: r.get(3)?,
        status: r.get(4)?,
    })
}

/// The members the register lists under one organisation.
pub fn of_org(conn: &Connection, org: &str) -> Result<Vec<MemberRow>> {
    conn.prepare_cached(
        "SELECT id, org_id, full_name, official_since, status FROM members WHERE org_id = ?1",
    )?
    .query_map([org], member_row)?
    .collect()
}

/// The member `id`, under whichever organisation.
pub fn get(conn: &Connection, id: &str) -> Result<Option<MemberRow>> {
    conn.query_row(
        "SELECT id, org_id, full_name, official_since, status FROM members WHERE id = ?1",
        [id],
        member_row,
    )
    .optional()
}

/// Removes the member `id`; returns how many rows went (0 or 1).
pub fn delete(conn: &Connection, id: &str) -> Result<usize> {
    conn.execute("DELETE FROM members WHERE id = ?1", [id])
}

/// Adds or replaces each member; where an id comes twice, the later row wins.
pub fn put_all(conn: &Connection, rows: &[MemberRow]) -> Result<()> {
    // One statement may not upsert a row twice: keep each id's last row, in order.
    let mut last = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(r.id.as_str(), i);
    }
    let values: Vec<Vec<Value>> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| last[r.id.as_str()] == *i)
        .map(|(_, r)| {
            vec![
                r.id.clone().into(),
                r.org_id.clone().into(),
                r.full_name.clone().into(),
                r.official_since.clone().into(),
                r.status.clone().into(),
            ]
        })
        .collect();
    conn.insert_many_then(
        "INSERT INTO members(id, org_id, full_name, official_since, status)",
        &values,
        " ON CONFLICT(id) DO UPDATE SET org_id = excluded.org_id, full_name = excluded.full_name,
            official_since = excluded.official_since, status = excluded.status",
    )?;
    Ok(())
}

/// Lists the members of `from` under `into`; returns how many moved.
pub fn move_to_org(conn: &Connection, from: &str, into: &str) -> Result<usize> {
    conn.execute(
        "UPDATE members SET org_id = ?2 WHERE org_id = ?1",
        params![from, into],
    )
}

/// Members of organisations whose path lies in `[lo, hi)`, by name.
pub fn in_range(conn: &Connection, lo: &str, hi: &str) -> Result<Vec<Member>> {
    conn.prepare(
        "SELECT m.id, m.org_id, m.full_name, m.official_since, m.status FROM members m
                 JOIN orgs o ON o.id = m.org_id WHERE o.path >= ?1 AND o.path < ?2
                 ORDER BY m.full_name",
    )?
    .query_map([lo, hi], |r| {
        Ok(Member {
            id: r.get(0)?,
            org_id: r.get(1)?,
            full_name: r.get(2)?,
            official_since: r.get(3)?,
            status: r.get(4)?,
        })
    })?
    .collect()
}

/// Members per organisation: (official, probationary).
pub fn counts_per_org(conn: &Connection) -> Result<HashMap<String, (i64, i64)>> {
    conn.prepare(
        "SELECT org_id, SUM(CASE WHEN status = 'official' THEN 1 ELSE 0 END), SUM(CASE WHEN status <> 'official' THEN 1 ELSE 0 END) FROM members GROUP BY org_id",
    )?
    .query_map((), |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
    .collect()
}

/// The number of members on the register.
pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM members", (), |r| r.get(0))
}
