//! PostgreSQL, on a throw-away cluster per test: its schema kept in step with SQLite's
//! migrations, and the change log's cursor under concurrent writers (a transaction that
//! commits after a later one must not be skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use postgres::{Client, NoTls};
use server::pgfeed;
use tests::pg::PgCluster;

fn connect(pg: &PgCluster) -> Client {
    Client::connect(&pg.url(), NoTls).expect("connecting to the test cluster")
}

/// A case file for changes to belong to.
fn new_doc(client: &mut Client, id: &str) {
    client
        .execute(
            "INSERT INTO docs (id, org_id, org_seq, created_at, updated_at)
             VALUES ($1, 'org', 0, 0, 0)",
            &[&id],
        )
        .unwrap();
}

/// Appends a change of `doc` with a hash made from `tag`.
fn append(tx: &mut impl postgres::GenericClient, doc: &str, tag: &str) -> i64 {
    pgfeed::append(
        tx,
        &pgfeed::NewChange {
            doc_id: doc,
            hash: tag.as_bytes(),
            actor: "actor",
            bytes: tag.as_bytes(),
            received_at: 0,
        },
    )
    .unwrap()
}

/// What a cursor over the sequence number alone would read: every change after `seq`.
fn naive_pull(client: &mut Client, after: i64) -> Vec<i64> {
    client
        .query(
            "SELECT seq FROM changes WHERE seq > $1 ORDER BY seq",
            &[&after],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn a_transaction_that_commits_after_a_later_one_is_read_by_the_next_pull() {
    let pg = PgCluster::start();
    let mut reader = connect(&pg);
    pgfeed::migrate(&mut reader).unwrap();
    new_doc(&mut reader, "doc-a");
    new_doc(&mut reader, "doc-b");
    let mut first = connect(&pg);
    let mut second = connect(&pg);

    // The first writer takes the lower sequence number and holds its transaction open;
    // the second takes the next one and commits.
    let mut t1 = first.transaction().unwrap();
    let low = append(&mut t1, "doc-a", "a");
    let mut t2 = second.transaction().unwrap();
    let high = append(&mut t2, "doc-b", "b");
    assert!(low < high);
    t2.commit().unwrap();

    // A device pulls now.
    let naive_first = naive_pull(&mut reader, 0);
    assert_eq!(naive_first, [high]);
    let page = pgfeed::pull(&mut reader, 0, 100).unwrap();
    assert!(
        page.changes.is_empty(),
        "a change above a running transaction waits for it"
    );

    // The first writer commits after the device read.
    t1.commit().unwrap();
    let naive_cursor = *naive_first.last().unwrap();
    assert!(
        naive_pull(&mut reader, naive_cursor).is_empty(),
        "the sequence cursor skips the late commit (the case this design exists for)"
    );
    let next = pgfeed::pull(&mut reader, page.cursor, 100).unwrap();
    let seqs: Vec<i64> = next.changes.iter().map(|c| c.seq).collect();
    assert_eq!(seqs, [low, high], "both changes, in commit-safe order");
    assert!(
        pgfeed::pull(&mut reader, next.cursor, 100)
            .unwrap()
            .changes
            .is_empty()
    );
}

#[test]
fn devices_pulling_while_many_writers_commit_out_of_order_miss_nothing_and_see_nothing_twice() {
    let pg = PgCluster::start();
    let mut setup = connect(&pg);
    pgfeed::migrate(&mut setup).unwrap();
    const WRITERS: usize = 6;
    for w in 0..WRITERS {
        new_doc(&mut setup, &format!("w{w}"));
    }
    const TRANSACTIONS: usize = 40;
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let url = pg.url();
        let start = start.clone();
        writers.push(std::thread::spawn(move || {
            let mut client = Client::connect(&url, NoTls).unwrap();
            let mut rng = shared::rand::XorShift::new(w as u64 + 1);
            start.wait();
            for t in 0..TRANSACTIONS {
                let mut tx = client.transaction().unwrap();
                for k in 0..=rng.below(3) {
                    append(&mut tx, &format!("w{w}"), &format!("w{w}-t{t}-{k}"));
                    // Hold the transaction open a little, so commits interleave.
                    std::thread::sleep(std::time::Duration::from_micros(rng.below(3000)));
                }
                if rng.chance(10) {
                    // An aborted transaction's changes are never read.
                    tx.rollback().unwrap();
                } else {
                    tx.commit().unwrap();
                }
            }
        }));
    }
    // Two devices pull in small pages as the writers go.
    let mut devices: Vec<(Client, u64, Vec<i64>)> =
        (0..2).map(|_| (connect(&pg), 0, Vec::new())).collect();
    start.wait();
    while writers.iter().any(|w| !w.is_finished()) {
        for (client, cursor, seen) in devices.iter_mut() {
            let page = pgfeed::pull(client, *cursor, 7).unwrap();
            seen.extend(page.changes.iter().map(|c| c.seq));
            *cursor = page.cursor;
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    let committed: BTreeSet<i64> = setup
        .query("SELECT seq FROM changes", &[])
        .unwrap()
        .iter()
        .map(|r| r.get::<_, i64>(0))
        .collect();
    assert!(committed.len() > WRITERS * TRANSACTIONS / 2);
    for (client, cursor, seen) in devices.iter_mut() {
        // Once the writers are done, pulling to the end reads what is left.
        loop {
            let page = pgfeed::pull(client, *cursor, 7).unwrap();
            seen.extend(page.changes.iter().map(|c| c.seq));
            *cursor = page.cursor;
            if !page.more && page.changes.is_empty() {
                break;
            }
        }
        let unique: BTreeSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "no change is read twice");
        assert_eq!(unique, committed, "every committed change is read");
    }
}

/// Each table's columns: name → (kind, nullable), the kind being `integer`, `text` or
/// `bytes`.
type Columns = BTreeMap<String, BTreeMap<String, (String, bool)>>;

/// The columns of every table of a migrated SQLite store.
fn sqlite_columns() -> Columns {
    let dir = tests::fresh_dir();
    let store = server::store::Store::open(&dir.join("store.sqlite")).unwrap();
    let conn = store.read();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Columns::new();
    for t in tables {
        let cols = conn
            .prepare(&format!(
                "SELECT name, type, \"notnull\", pk FROM pragma_table_info('{t}')"
            ))
            .unwrap()
            .query_map([], |r| {
                let ty: String = r.get(1)?;
                let kind = match ty.as_str() {
                    "INTEGER" => "integer",
                    "TEXT" => "text",
                    "BLOB" => "bytes",
                    other => panic!("a column of {t} has the type {other}"),
                };
                let not_null: bool = r.get(2)?;
                let pk: i64 = r.get(3)?;
                Ok((
                    r.get::<_, String>(0)?,
                    (kind.to_string(), !not_null && pk == 0),
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        out.insert(t, cols);
    }
    drop(conn);
    drop(store);
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// The columns of every table of the PostgreSQL schema, without the ones marked as
/// PostgreSQL's own.
fn postgres_columns(client: &mut Client) -> Columns {
    let mut out = Columns::new();
    for row in client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text
             FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
    {
        let (table, column): (String, String) = (row.get(0), row.get(1));
        if (table.as_str(), column.as_str()) == ("changes", "xid") {
            continue;
        }
        let kind = match row.get::<_, String>(2).as_str() {
            "bigint" => "integer",
            "text" => "text",
            "bytea" => "bytes",
            other => panic!("{table}.{column} has the type {other}"),
        };
        let nullable = row.get::<_, String>(3) == "YES";
        out.entry(table)
            .or_default()
            .insert(column, (kind.to_string(), nullable));
    }
    out
}

#[test]
fn the_postgresql_schema_has_every_table_and_column_of_the_sqlite_migrations() {
    let pg = PgCluster::start();
    let mut client = connect(&pg);
    pgfeed::migrate(&mut client).unwrap();
    // Migrating again changes nothing and does not fail.
    pgfeed::migrate(&mut client).unwrap();
    let sqlite = sqlite_columns();
    let postgres = postgres_columns(&mut client);
    assert!(sqlite.len() > 30, "{} tables", sqlite.len());
    let names = |c: &Columns| c.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&postgres), names(&sqlite), "the same tables");
    for (table, cols) in &sqlite {
        assert_eq!(
            &postgres[table], cols,
            "table {table}: the same columns, kinds and nullability"
        );
    }
}
