//! Several server processes over one PostgreSQL database serve the same devices: a device
//! may send each request to any of them, one is killed with SIGKILL and started again
//! mid-run, and still every device converges and no acknowledged change is missing. And
//! the writers of two processes take turns, so that the change log's sequence numbers are
//! handed out in commit order and a pull's cursor never passes a change committed later.
//!
//! The replicas run as child processes: this test binary re-executes itself with
//! `HOSO_CHILD_PG` set, and the `child_server` entry below then serves that database.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use server::casedocs::{self, RulesConfig, today_vn};
use server::db::inspect::{self, Table};
use server::db::store::Store;
use server::db::{accounts, docs, orgs};
use shared::api::Org;
use shared::rand::XorShift;
use tests::pg::PgCluster;
use tests::{Device, Fault, login_device};

/// Entry point of a replica; a no-op in a normal test run.
#[test]
fn child_server() {
    let Ok(url) = std::env::var("HOSO_CHILD_PG") else {
        return;
    };
    tests::serve_forever(Store::open_postgres(&url, 4).unwrap());
}

fn spawn_replica(db: &str) -> (Child, String) {
    tests::spawn_server_child(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_server", "--nocapture", "--test-threads=1"])
            .env("HOSO_CHILD_PG", db)
            .stderr(Stdio::null()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_devices_on_three_replicas_converge_while_one_is_killed_and_restarted() {
    // A cluster of its own that already holds the demo district.
    let pg = tests::seeded_cluster();
    let db = pg.url_of("hoso_seed");
    {
        let store = Store::open_postgres(&db, 1).unwrap();
        for i in 0..10 {
            for k in 0..5 {
                server::auth::create_user(
                    &store,
                    &format!("sim{i}-{k}"),
                    &format!("Cán bộ {i}-{k}"),
                    "demo2026",
                    server::auth::Role::Cadre,
                    &format!("phuong-{:02}", i + 1),
                )
                .unwrap();
            }
        }
    }
    let mut replicas: Vec<(Child, String)> = (0..3).map(|_| spawn_replica(&db)).collect();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut rng = XorShift::new(0x0005_EED5);
    let mut devices: Vec<Device> = Vec::new();
    for i in 0..10 {
        for k in 0..5 {
            let url = &replicas[rng.below(3) as usize].1;
            devices.push(
                login_device(&http, url, &format!("sim{i}-{k}"), "demo2026")
                    .await
                    .unwrap(),
            );
        }
    }
    let fields = [
        "case.person.workplace_unit",
        "case.person.residence_unit",
        "case.source.helper_name",
    ];
    let mut failed = 0;
    for round in 0..10 {
        if round == 5 {
            // Replica 0 dies with requests of this round in flight: the kill comes from
            // another thread while the devices sync.
            let pid = replicas[0].0.id();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(150));
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            });
        }
        if round == 7 {
            let _ = replicas[0].0.wait();
            replicas[0] = spawn_replica(&db);
        }
        for (n, d) in devices.iter_mut().enumerate() {
            tests::random_offline_edits(d, &mut rng, &fields, &format!("{round}-{n}"));
            if rng.below(100) < 70 {
                d.url = replicas[rng.below(3) as usize].1.clone();
                let fault = match rng.below(10) {
                    0 => Fault::DropRequest,
                    1 => Fault::DropResponse,
                    2 => Fault::Duplicate,
                    _ => Fault::None,
                };
                // A replica that is down is a failed request: the device tries again
                // later, as over a bad network.
                if d.sync_once(fault).await.is_err() {
                    failed += 1;
                }
            }
        }
    }
    assert!(failed > 0, "some requests reached the killed replica");
    // Every replica is up: sync until quiet, each request to a random replica.
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.url = replicas[rng.below(3) as usize].1.clone();
            d.sync().await.unwrap();
        }
    }
    let store = Store::open_postgres(&db, 1).unwrap();
    let conn = store.read();
    let mut server_heads: BTreeMap<String, Vec<automerge::ChangeHash>> = BTreeMap::new();
    let ids = inspect::doc_paths(&conn).unwrap();
    let paths: BTreeMap<String, String> = ids.iter().cloned().collect();
    for (id, _) in &ids {
        let (_, mut d) = casedocs::load_doc(&conn, id).unwrap().unwrap();
        let mut heads = d.get_heads();
        heads.sort();
        server_heads.insert(id.clone(), heads);
    }
    let mut acknowledged = 0;
    for d in devices.iter_mut() {
        let scope = orgs::path_of(&conn, &d.scope_org).unwrap().unwrap();
        let expected: BTreeMap<String, Vec<automerge::ChangeHash>> = server_heads
            .iter()
            .filter(|(id, _)| paths[*id].starts_with(&scope))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        acknowledged += d.assert_converged(&expected, &conn);
    }
    assert!(
        acknowledged > 100,
        "the simulation exercised the protocol ({acknowledged} acks)"
    );
    for (mut c, _) in replicas {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// A change of a new file, written the way a merge writes it (in the writer's
/// transaction); returns its sequence number.
fn write_change(conn: &server::db::Connection, doc: &str) -> i64 {
    docs::insert_doc(conn, doc, "phuong-01", 0).unwrap();
    inspect::insert_change(conn, doc, doc.as_bytes(), "a", doc.as_bytes(), 0).unwrap();
    docs::doc_version(conn, doc).unwrap()
}

#[test]
fn the_writers_of_two_replicas_take_turns_so_a_cursor_never_passes_a_later_commit() {
    let pg = PgCluster::start();
    let db = tests::create_database(&pg, "hoso");
    let a = Store::open_postgres(&db, 1).unwrap();
    let b = Arc::new(Store::open_postgres(&db, 1).unwrap());
    let root = Org {
        id: "phuong-01".into(),
        parent_id: None,
        name: "P1".into(),
        kind: "committee".into(),
        sector: String::new(),
        grassroots: false,
    };
    orgs::upsert(&a.conn(), &root, "/p1/").unwrap();
    // Replica A's writer takes a sequence number and has not committed yet.
    let mut wa = a.conn();
    let tx = wa.transaction().unwrap();
    let first = write_change(&tx, "doc-a");
    // Replica B's writer, meanwhile, wants to write too.
    let b_has_writer = Arc::new(AtomicBool::new(false));
    let writer_b = {
        let (b, flag) = (b.clone(), b_has_writer.clone());
        std::thread::spawn(move || {
            let mut wb = b.conn();
            flag.store(true, Ordering::SeqCst);
            let tx = wb.transaction().unwrap();
            let seq = write_change(&tx, "doc-b");
            tx.commit().unwrap();
            seq
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    // B waits for A: with a plain sequence B could commit a higher number first, and a
    // device reading the feed now would take B's number as its cursor and never read A's.
    assert!(
        !b_has_writer.load(Ordering::SeqCst),
        "a second replica wrote while the first was writing"
    );
    assert_eq!(casedocs::feed_position(&b.read()).unwrap(), 0);
    tx.commit().unwrap();
    drop(wa);
    let second = writer_b.join().unwrap();
    assert!(
        second > first,
        "numbers in commit order: {first} then {second}"
    );
    // Whoever reads a position sees every change at or below it.
    let reader = a.read();
    let position = casedocs::feed_position(&reader).unwrap();
    let seen = inspect::changes_upto(&reader, position).unwrap();
    assert_eq!((position, seen), (second, 2));
}

/// Three server processes started together on an empty database: one of them fills it
/// with the demo district, once; the others find it filled and leave it.
#[test]
fn replicas_started_together_on_an_empty_database_seed_the_demo_once() {
    let pg = PgCluster::start();
    let db = tests::create_database(&pg, "hoso_empty");
    let today = today_vn();
    let seeded: Vec<Option<usize>> = std::thread::scope(|s| {
        let starts: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    let store = Store::open_postgres(&db, 1).unwrap();
                    server::demo::seed_if_empty(&store, &RulesConfig::default(), today).unwrap()
                })
            })
            .collect();
        starts.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made: Vec<usize> = seeded.iter().flatten().copied().collect();
    assert_eq!(
        made.len(),
        1,
        "one start seeds, the others find data: {seeded:?}"
    );
    let store = Store::open_postgres(&db, 1).unwrap();
    let files = inspect::count_rows(&store.read(), Table::Docs).unwrap();
    let account = accounts::user_id_by_name(&store.read(), "admin").unwrap();
    assert_eq!(files as usize, made[0]);
    assert!(account.is_some());
}
