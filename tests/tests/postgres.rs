//! PostgreSQL, on a throw-away cluster per test: its schema kept in step with SQLite's
//! migrations, and the change log's cursor under concurrent writers (a transaction that
//! commits after a later one must not be skipped).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Barrier};

use postgres::{Client, NoTls};
use server::db::pgfeed;
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
    let store = server::db::store::Store::open(&dir.join("store.sqlite")).unwrap();
    let conn = store.read();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map((), |r| r.get(0))
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
            .query_map((), |r| {
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

/// The rollups' triggers, generated in each dialect from the same definitions, keep the
/// same rows on PostgreSQL as on SQLite through inserts, updates (of what a family reads
/// and of what it does not) and deletes of projections, and SQLite's rows are the ones
/// computed from scratch.
#[test]
fn the_rollups_triggers_keep_the_same_rows_on_postgresql_as_on_sqlite() {
    use server::rollups::{Row, families};
    use shared::model::{Occupation, SourceKind};
    use shared::rand::XorShift;

    let pg = PgCluster::start();
    let mut client = connect(&pg);
    pgfeed::migrate(&mut client).unwrap();
    let store = server::db::store::Store::open_in_memory().unwrap();
    let mut rng = XorShift::new(11);
    let mut pick = |n: usize| rng.below(n as u64) as usize;
    let orgs = ["xa-1-cb1", "xa-1-cb2", "xa-2-cb1"];
    let sexes = ["'female'", "'male'", "NULL"];
    let educations = ["'university'", "'upper_secondary'", "''", "NULL"];
    let occupations: Vec<String> = Occupation::ALL
        .iter()
        .map(|o| format!("'{}'", o.code()))
        .chain(["NULL".to_string()])
        .collect();
    let sources: Vec<String> = SourceKind::ALL
        .iter()
        .map(|s| format!("'{}'", s.code()))
        .chain(["NULL".to_string()])
        .collect();
    let date = |pick: &mut dyn FnMut(usize) -> usize| match pick(4) {
        0 => "NULL".to_string(),
        _ => format!("'202{}-{:02}-{:02}'", pick(4), 1 + pick(12), 1 + pick(28)),
    };
    let run = |client: &mut Client, sql: &str| {
        store.conn().execute_batch(sql).unwrap();
        client.batch_execute(sql).unwrap();
    };
    let mut live: Vec<String> = Vec::new();
    for step in 0..400 {
        match pick(10) {
            0..=4 => {
                let id = format!("d{step}");
                let sql = format!(
                    "INSERT INTO docs (id, org_id, org_seq, created_at, updated_at)
                       VALUES ('{id}', 'o', 0, 0, 0);
                     INSERT INTO projections (doc_id, org_id, stage, full_name, sex, education,
                       youth_union, class_date, decision_date, official_date, rule_set,
                       evaluated_on, case_json, eval_json, updated_at, source_kind, occupation,
                       class_id, outstanding_date, application_date, minority, decision_age)
                     VALUES ('{id}', '{org}', 'candidate', 'X', {sex}, {edu}, {youth},
                       {class_date}, {decision}, {official}, 'RS', '2026-11-30', '', '', 0,
                       {src}, {occ}, '{class_id}', {outstanding}, {application}, {minority},
                       {age});",
                    org = orgs[pick(3)],
                    sex = sexes[pick(3)],
                    edu = educations[pick(4)],
                    youth = pick(2),
                    class_date = date(&mut pick),
                    decision = date(&mut pick),
                    official = date(&mut pick),
                    src = sources[pick(sources.len())],
                    occ = occupations[pick(occupations.len())],
                    class_id = ["", "lop-1"][pick(2)],
                    outstanding = date(&mut pick),
                    application = date(&mut pick),
                    minority = pick(2),
                    age = ["NULL", "17", "18", "30", "31"][pick(5)],
                );
                run(&mut client, &sql);
                live.push(id);
            }
            5..=7 if !live.is_empty() => {
                let id = &live[pick(live.len())];
                let set = match pick(5) {
                    0 => format!("org_id = '{}'", orgs[pick(3)]),
                    1 => format!("decision_date = {}", date(&mut pick)),
                    2 => format!(
                        "occupation = {}, sex = {}",
                        occupations[pick(occupations.len())],
                        sexes[pick(3)]
                    ),
                    3 => format!("class_id = '', class_date = {}", date(&mut pick)),
                    // A column no family reads.
                    _ => "full_name = 'Y'".to_string(),
                };
                run(
                    &mut client,
                    &format!("UPDATE projections SET {set} WHERE doc_id = '{id}';"),
                );
            }
            8..=9 if !live.is_empty() => {
                let id = live.swap_remove(pick(live.len()));
                run(
                    &mut client,
                    &format!("DELETE FROM projections WHERE doc_id = '{id}';"),
                );
            }
            _ => {}
        }
    }
    assert!(live.len() > 50, "the run leaves files ({})", live.len());
    for f in families() {
        let conn = store.conn();
        let sqlite = f.stored(&conn).unwrap();
        assert_eq!(sqlite, f.recompute(&conn).unwrap(), "{}: SQLite", f.table);
        let cols: Vec<String> = f
            .keys
            .iter()
            .map(|(k, _)| k.to_string())
            .chain(f.measures.iter().map(|(c, _)| c.clone()))
            .collect();
        let mut postgres: Vec<Row> = client
            .query(
                &format!(
                    "SELECT level, bucket, org_id, {} FROM {}",
                    cols.join(", "),
                    f.table
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| {
                let values = (0..cols.len()).map(|i| r.get::<_, i64>(3 + i)).collect();
                (r.get(0), r.get(1), r.get(2), values)
            })
            .collect();
        postgres.sort();
        assert!(!sqlite.is_empty(), "{}: rows to compare", f.table);
        assert_eq!(postgres, sqlite, "{}: PostgreSQL against SQLite", f.table);
    }
}

/// The same statements through the database boundary (`server::db`), once on SQLite and
/// once on PostgreSQL: what they read must be the same, whatever the column types of
/// each dialect (BIGINT, BYTEA, identity columns, numeric sums).
fn exercise(conn: &mut server::db::Connection) -> Vec<String> {
    use server::db::{OptionalExtension, Value, params, params_from_iter};
    let mut log = Vec::new();
    conn.execute(
        "INSERT INTO orgs(id, parent_id, name, kind, path) VALUES ('d', NULL, 'Quận', 'district', '/d/')",
        (),
    )
    .unwrap();
    conn.execute(
        "INSERT INTO orgs(id, parent_id, name, kind, path, grassroots) VALUES (?1, ?2, ?3, 'branch', ?4, ?5)",
        params!["b1", "d", "Chi bộ 1", "/d/b1/", true],
    )
    .unwrap();
    // An identity column and the id it gave.
    conn.execute(
        "INSERT INTO users(username, display_name, password_hash, role, scope_org) VALUES (?, ?, 'x', 'cadre', 'b1')",
        ("an", "Nguyễn Văn An"),
    )
    .unwrap();
    let uid = conn.last_insert_rowid().unwrap();
    log.push(format!("user id {uid}"));
    // A duplicate is refused as a constraint, and the connection goes on.
    let dup = conn
        .execute(
            "INSERT INTO users(username, display_name, password_hash, role, scope_org) VALUES ('an', 'x', 'x', 'cadre', 'b1')",
            (),
        )
        .unwrap_err();
    log.push(format!(
        "duplicate is a constraint: {}",
        dup.is_constraint()
    ));
    // `INSERT OR IGNORE` twice keeps one row.
    for _ in 0..2 {
        conn.execute(
            "INSERT OR IGNORE INTO devices(id, user_id, name, created_at) VALUES (?1, ?2, 'máy', 0)",
            params!["dev", uid],
        )
        .unwrap();
    }
    let blob: Vec<u8> = (0..=255u8).collect();
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, device_id, expires_at) VALUES (?1, ?2, 'dev', ?3)",
        params![blob, uid, i64::MAX],
    )
    .unwrap();
    let (back, expires): (Vec<u8>, i64) = conn
        .query_row(
            "SELECT token_hash, expires_at FROM sessions WHERE token_hash = ?1",
            [&blob],
            |r| Ok((r.get(0)?, r.get("expires_at")?)),
        )
        .unwrap();
    log.push(format!("blob back {} expires {expires}", back == blob));
    // Booleans stored as numbers read back as booleans; NULL as None.
    let (grassroots, parent): (bool, Option<String>) = conn
        .query_row(
            "SELECT grassroots, parent_id FROM orgs WHERE id = ?1",
            ["b1"],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    log.push(format!("grassroots {grassroots} parent {parent:?}"));
    // A sum of integers is an integer on both (PostgreSQL's NUMERIC).
    conn.execute(
        "INSERT INTO org_years(org_id, year, members_start, target) VALUES ('b1', 2025, 3000000000, 2), ('b1', 2026, 3000000000, 3)",
        (),
    )
    .unwrap();
    let (sum, count, avg): (i64, i64, f64) = conn
        .query_row(
            "SELECT SUM(members_start), COUNT(*), AVG(target) FROM org_years WHERE org_id = ?1",
            ["b1"],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    log.push(format!("sum {sum} count {count} avg {avg}"));
    // No row: an error that `optional()` turns into None.
    let none: Option<String> = conn
        .query_row("SELECT name FROM orgs WHERE id = ?1", ["nowhere"], |r| {
            r.get(0)
        })
        .optional()
        .unwrap();
    log.push(format!("missing {none:?}"));
    // Parameters built at run time.
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM orgs WHERE id IN (?1, ?2) ORDER BY id")
        .unwrap()
        .query_map(
            params_from_iter([Value::from("d"), Value::from("b1")]),
            |r| r.get(0),
        )
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    log.push(format!("ids {ids:?}"));
    // A transaction rolled back by drop leaves nothing; a savepoint rolled back keeps
    // the rest of its transaction.
    {
        let tx = conn.transaction().unwrap();
        tx.execute("UPDATE orgs SET name = 'đổi' WHERE id = 'd'", ())
            .unwrap();
    }
    {
        let mut tx = conn.transaction().unwrap();
        tx.execute("UPDATE orgs SET name = 'giữ' WHERE id = 'b1'", ())
            .unwrap();
        {
            let sp = tx.savepoint().unwrap();
            sp.execute("UPDATE orgs SET name = 'bỏ' WHERE id = 'd'", ())
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let names: Vec<(String, String)> = conn
        .prepare_cached("SELECT id, name FROM orgs ORDER BY id")
        .unwrap()
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    log.push(format!("names {names:?}"));
    // Writes sent without waiting for their answers: a read later in the transaction
    // sees them, and they commit with it.
    {
        let tx = conn.transaction().unwrap();
        tx.send("UPDATE orgs SET name = 'gửi' WHERE id = 'b1'", ())
            .unwrap();
        tx.send_many(
            "INSERT INTO org_years(org_id, year, members_start, target)",
            &[
                vec!["b1".into(), 2030.into(), 5.into(), 1.into()],
                vec!["d".into(), 2030.into(), 7.into(), 2.into()],
            ],
        )
        .unwrap();
        let seen: i64 = tx
            .query_row(
                "SELECT SUM(members_start) FROM org_years WHERE year = 2030",
                (),
                |r| r.get(0),
            )
            .unwrap();
        log.push(format!("sent and read back {seen}"));
        tx.commit().unwrap();
    }
    // One that fails is told with its own error (on SQLite at once, on PostgreSQL by
    // the next statement that waits), and the transaction it was in leaves nothing.
    {
        let tx = conn.transaction().unwrap();
        tx.send("UPDATE orgs SET name = 'mất' WHERE id = 'd'", ())
            .unwrap();
        let failed = tx
            .send(
                "INSERT INTO org_years(org_id, year, members_start, target) VALUES ('b1', 2030, 0, 0)",
                (),
            )
            .err()
            .or_else(|| {
                tx.query_row("SELECT COUNT(*) FROM orgs", (), |r| r.get::<_, i64>(0))
                    .err()
            });
        log.push(format!(
            "failed send told as a constraint: {}",
            failed.is_some_and(|e| e.is_constraint())
        ));
    }
    // A text parameter compared with a number column, as SQLite's affinity allows.
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM org_years WHERE year = ?1",
            ["2025"],
            |r| r.get(0),
        )
        .unwrap();
    log.push(format!("text as number {n}"));
    log
}

#[test]
fn the_database_boundary_reads_and_writes_alike_on_sqlite_and_postgresql() {
    let pg = PgCluster::start();
    pgfeed::migrate(&mut connect(&pg)).unwrap();
    let mut on_pg = server::db::Connection::postgres(&pg.url()).unwrap();
    assert_eq!(on_pg.backend(), server::db::Backend::Postgres);
    let pg_log = exercise(&mut on_pg);

    let dir = tests::fresh_dir();
    let store = server::db::store::Store::open(&dir.join("db.sqlite")).unwrap();
    let sqlite_log = exercise(&mut store.conn());
    assert_eq!(sqlite_log, pg_log);
    assert_eq!(
        sqlite_log,
        vec![
            "user id 1".to_string(),
            "duplicate is a constraint: true".into(),
            "blob back true expires 9223372036854775807".into(),
            "grassroots true parent Some(\"d\")".into(),
            "sum 6000000000 count 2 avg 2.5".into(),
            "missing None".into(),
            "ids [\"b1\", \"d\"]".into(),
            "names [(\"b1\", \"giữ\"), (\"d\", \"Quận\")]".into(),
            "sent and read back 12".into(),
            "failed send told as a constraint: true".into(),
            "text as number 1".into(),
        ]
    );
    // On PostgreSQL a failed write sent without waiting fails the COMMIT itself when no
    // statement waits after it: nothing of its transaction is kept.
    {
        let tx = on_pg.transaction().unwrap();
        tx.send("UPDATE orgs SET name = 'mất' WHERE id = 'd'", ())
            .unwrap();
        tx.send(
            "INSERT INTO org_years(org_id, year, members_start, target) VALUES ('b1', 2030, 0, 0)",
            (),
        )
        .unwrap();
        assert!(tx.commit().unwrap_err().is_constraint());
    }
    let name: String = on_pg
        .query_row("SELECT name FROM orgs WHERE id = 'd'", (), |r| r.get(0))
        .unwrap();
    assert_eq!(name, "Quận");
    let _ = std::fs::remove_dir_all(dir);
}
