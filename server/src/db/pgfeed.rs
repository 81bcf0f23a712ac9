//! The schema and change log on PostgreSQL, and a pull cursor that stays correct under concurrent
//! writers: the first part of the PostgreSQL backend (built with the `postgres` feature).
//!
//! On SQLite one writer commits in sequence order, so "every change after sequence N" is
//! a correct cursor. With several writers (the connections of one server, or several
//! replicas over one database) it is not: a transaction can take sequence 10, another
//! take 11 and commit, a device read up to 11, and only then the first commit 10, which
//! that device would never read. A sequence orders allocations, not commits.
//!
//! Here every row keeps the id of the transaction that wrote it (`xid8`: 64 bits, it never
//! wraps), and a pull reads the transactions below its snapshot's `xmin`, the oldest
//! transaction still running. Every transaction below that mark has ended, and any
//! transaction that commits later has an id at or above it, so nothing can appear below
//! the mark afterwards. The cursor a device keeps is that mark; a page ends at a whole
//! transaction, so a transaction's changes are never split between two pulls. A long
//! transaction holds the mark back (its followers wait, none is lost); merges are short,
//! and read-only work such as reports takes no transaction id and holds nothing back.

use postgres::{GenericClient, IsolationLevel};

/// One change as a pull returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub doc_id: String,
    pub bytes: Vec<u8>,
}

/// A page of a pull and the cursor to continue from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub changes: Vec<Change>,
    pub cursor: u64,
    /// More ended transactions wait beyond this page.
    pub more: bool,
}

/// Creates the schema when missing.
pub fn migrate(client: &mut impl GenericClient) -> Result<(), postgres::Error> {
    client.batch_execute(&super::schema::postgres())
}

/// A change to append: its document, Automerge hash, actor and bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewChange<'a> {
    pub doc_id: &'a str,
    pub hash: &'a [u8],
    pub actor: &'a str,
    pub bytes: &'a [u8],
    pub received_at: i64,
}

/// Appends a change inside the caller's transaction; it becomes visible to pulls when
/// that transaction commits and every older one has ended.
pub fn append(tx: &mut impl GenericClient, c: &NewChange<'_>) -> Result<i64, postgres::Error> {
    let row = tx.query_one(
        "INSERT INTO changes (doc_id, hash, actor, bytes, received_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING seq",
        &[&c.doc_id, &c.hash, &c.actor, &c.bytes, &c.received_at],
    )?;
    Ok(row.get(0))
}

/// The changes of the transactions that ended between `cursor` and this snapshot's mark,
/// in transaction order, at most about `max_changes` (a page always ends at a whole
/// transaction, and holds at least one).
pub fn pull(
    client: &mut postgres::Client,
    cursor: u64,
    max_changes: usize,
) -> Result<Page, postgres::Error> {
    let mut tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()?;
    // The first statement takes the snapshot that the read below uses too.
    let mark: String = tx
        .query_one("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", &[])?
        .get(0);
    let mark: u64 = mark.parse().unwrap_or(cursor);
    let rows = tx.query(
        "SELECT xid::text, seq, doc_id, bytes FROM changes
         WHERE xid >= $1::text::xid8 AND xid < $2::text::xid8
         ORDER BY xid, seq",
        &[&cursor.to_string(), &mark.to_string()],
    )?;
    tx.commit()?;
    let mut changes = Vec::new();
    let mut last_xid = None;
    for row in rows {
        let xid: u64 = row.get::<_, String>(0).parse().unwrap_or(0);
        if changes.len() >= max_changes.max(1) && last_xid != Some(xid) {
            // The page is full at a transaction boundary: continue from this one.
            return Ok(Page {
                changes,
                cursor: xid,
                more: true,
            });
        }
        last_xid = Some(xid);
        changes.push(Change {
            seq: row.get(1),
            doc_id: row.get(2),
            bytes: row.get(3),
        });
    }
    Ok(Page {
        changes,
        cursor: mark.max(cursor),
        more: false,
    })
}
