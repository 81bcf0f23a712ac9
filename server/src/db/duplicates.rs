//! Likely duplicate files: every statement on `duplicates` and `identity_keys`.
//!
//! The duplicate check also reads `projections`, `docs` and `orgs` (the identity of a
//! file, the sides of a pair and the subtree a list is narrowed to); those statements
//! live here because they serve only this check.

use shared::dedup::Reason;

use super::{Connection, OptionalExtension, Result, Row, params};
use crate::duplicates::{Pair, Side};

/// The name, birth date and organisation of a file as its projection holds them (reads
/// `projections`).
pub fn stored_identity(
    conn: &Connection,
    id: &str,
) -> Result<Option<(String, Option<String>, String)>> {
    conn.prepare_cached("SELECT full_name, birth_date, org_id FROM projections WHERE doc_id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

/// The identity keys recorded for a file, as (reason, key) in order.
pub fn identity_keys_of(conn: &Connection, id: &str) -> Result<Vec<(String, String)>> {
    conn.prepare_cached(
        "SELECT reason, key FROM identity_keys WHERE doc_id = ?1 ORDER BY reason, key",
    )?
    .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

pub fn delete_identity_keys(conn: &Connection, id: &str) -> Result<()> {
    conn.send("DELETE FROM identity_keys WHERE doc_id = ?1", [id])?;
    Ok(())
}

/// Records one identity key of a file (a key already recorded is kept).
pub fn insert_identity_key(conn: &Connection, id: &str, reason: &str, key: &str) -> Result<()> {
    conn.send(
        "INSERT OR IGNORE INTO identity_keys(doc_id, reason, key) VALUES (?1, ?2, ?3)",
        params![id, reason, key],
    )?;
    Ok(())
}

/// Calls `f` with every file other than `except` that has the identity key.
pub fn each_file_with_key(
    conn: &Connection,
    reason: &str,
    key: &str,
    except: &str,
    mut f: impl FnMut(String),
) -> Result<()> {
    let mut same = conn.prepare_cached(
        "SELECT doc_id FROM identity_keys WHERE reason = ?1 AND key = ?2 AND doc_id <> ?3",
    )?;
    for other in same.query_map(params![reason, key, except], |r| r.get::<_, String>(0))? {
        f(other?);
    }
    Ok(())
}

/// Calls `f` with the id and name of files of the organisation born on `born`, other
/// than `except`, at most 2000 of them (reads `projections`).
pub fn each_born_same_day(
    conn: &Connection,
    org_id: &str,
    born: &str,
    except: &str,
    mut f: impl FnMut(String, String),
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT doc_id, full_name FROM projections
             WHERE org_id = ?1 AND birth_date = ?2 AND doc_id <> ?3 LIMIT 2000",
    )?;
    let rows = stmt.query_map(params![org_id, born, except], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (other, name) = row?;
        f(other, name);
    }
    Ok(())
}

/// Records a pair (`a` < `b`) found at `now`; a pair already known keeps its state.
pub fn insert_pair(conn: &Connection, a: &str, b: &str, reason: &str, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO duplicates(a, b, reason, found_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![a, b, reason, now])?;
    Ok(())
}

/// Pairs in `state` (or every state for `all`), or only the pair `pair`, whose two files
/// both belong to organisations with paths in `lo..hi`, newest first, at most 1000 (reads
/// `docs`, `orgs` and `projections` for the sides).
pub fn pairs(
    conn: &Connection,
    state: &str,
    lo: &str,
    hi: &str,
    pair: Option<i64>,
) -> Result<Vec<Pair>> {
    // Merged files have no projection any more: their side is read from the document's
    // org only, so decided pairs stay listable.
    let sql = "SELECT p.id, p.reason, p.found_at, p.state, p.survivor, p.decided_by,
               p.a, da.org_id, COALESCE(pa.full_name, ''), pa.birth_date, COALESCE(pa.stage, ''),
               p.b, db.org_id, COALESCE(pb.full_name, ''), pb.birth_date, COALESCE(pb.stage, '')
        FROM duplicates p
        JOIN docs da ON da.id = p.a JOIN orgs oa ON oa.id = da.org_id
        JOIN docs db ON db.id = p.b JOIN orgs ob ON ob.id = db.org_id
        LEFT JOIN projections pa ON pa.doc_id = p.a
        LEFT JOIN projections pb ON pb.doc_id = p.b
        WHERE (?1 = 'all' OR p.state = ?1) AND (CAST(?4 AS BIGINT) IS NULL OR p.id = ?4)
          AND oa.path >= ?2 AND oa.path < ?3 AND ob.path >= ?2 AND ob.path < ?3
        ORDER BY p.found_at DESC, p.id DESC LIMIT 1000";
    conn.prepare(sql)?
        .query_map(params![state, lo, hi, pair], |r| {
            let reason: String = r.get(1)?;
            let parsed = Reason::from_code(&reason);
            Ok(Pair {
                id: r.get(0)?,
                reason_vi: parsed.map(Reason::label_vi).unwrap_or_default().into(),
                reason_en: parsed.map(Reason::label_en).unwrap_or_default().into(),
                reason,
                found_at: r.get(2)?,
                state: r.get(3)?,
                survivor: r.get(4)?,
                decided_by: r.get(5)?,
                a: side(r, 6)?,
                b: side(r, 11)?,
            })
        })?
        .collect()
}

/// One side of a pair, read from the five columns that begin at `at`.
fn side(r: &Row<'_>, at: usize) -> Result<Side> {
    Ok(Side {
        doc_id: r.get(at)?,
        org_id: r.get(at + 1)?,
        full_name: r.get(at + 2)?,
        birth_date: r.get(at + 3)?,
        stage: r.get(at + 4)?,
    })
}

/// Marks the pair `id` merged into `survivor`, decided by `who` at `now`.
pub fn mark_merged(conn: &Connection, id: i64, survivor: &str, who: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE duplicates SET state = 'merged', survivor = ?2, decided_by = ?3, decided_at = ?4
         WHERE id = ?1",
        params![id, survivor, who, now],
    )?;
    Ok(())
}

/// Settles every open pair of the file `loser` as merged into `survivor`.
pub fn settle_open_pairs_of(
    conn: &Connection,
    loser: &str,
    survivor: &str,
    who: &str,
    now: i64,
) -> Result<()> {
    conn.execute(
        "UPDATE duplicates SET state = 'merged', survivor = ?2, decided_by = ?3, decided_at = ?4
         WHERE state = 'open' AND (a = ?1 OR b = ?1)",
        params![loser, survivor, who, now],
    )?;
    Ok(())
}

/// Marks the pair `id` dismissed by `who` at `now`.
pub fn mark_dismissed(conn: &Connection, id: i64, who: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE duplicates SET state = 'dismissed', decided_by = ?2, decided_at = ?3 WHERE id = ?1",
        params![id, who, now],
    )?;
    Ok(())
}

/// The files merged into `survivor`, each with when the merge was decided.
pub fn merged_into_survivor(conn: &Connection, survivor: &str) -> Result<Vec<(String, i64)>> {
    conn.prepare(
        "SELECT CASE WHEN a = ?1 THEN b ELSE a END, decided_at FROM duplicates
             WHERE survivor = ?1 AND state = 'merged' AND (a = ?1 OR b = ?1)",
    )?
    .query_map([survivor], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// The file the file `id` was merged into, if it was.
pub fn survivor_of(conn: &Connection, id: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT survivor FROM duplicates WHERE state = 'merged' AND (a = ?1 OR b = ?1)
           AND survivor <> ?1 LIMIT 1",
        [id],
        |r| r.get(0),
    )
    .optional()
}
