//! The change log's cursor on a real PostgreSQL (a throw-away cluster per test) under
//! concurrent writers: a transaction that commits after a later one must not be skipped.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use postgres::{Client, NoTls};
use server::pgfeed;
use tests::pg::PgCluster;

fn connect(pg: &PgCluster) -> Client {
    Client::connect(&pg.url(), NoTls).expect("connecting to the test cluster")
}

/// What a cursor over the sequence number alone would read: every change after `seq`.
fn naive_pull(client: &mut Client, after: i64) -> Vec<i64> {
    client
        .query(
            "SELECT seq FROM change_log WHERE seq > $1 ORDER BY seq",
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
    let mut first = connect(&pg);
    let mut second = connect(&pg);

    // The first writer takes the lower sequence number and holds its transaction open;
    // the second takes the next one and commits.
    let mut t1 = first.transaction().unwrap();
    let low = pgfeed::append(&mut t1, "doc-a", b"a").unwrap();
    let mut t2 = second.transaction().unwrap();
    let high = pgfeed::append(&mut t2, "doc-b", b"b").unwrap();
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
    const TRANSACTIONS: usize = 40;
    let start = Arc::new(Barrier::new(WRITERS + 1));
    let done = Arc::new(AtomicBool::new(false));
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
                    pgfeed::append(&mut tx, &format!("w{w}-t{t}-{k}"), &[w as u8]).unwrap();
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
    let mut committed: BTreeSet<i64> = BTreeSet::new();
    let mut finished = 0;
    while !done.load(Ordering::Relaxed) {
        for (client, cursor, seen) in devices.iter_mut() {
            let page = pgfeed::pull(client, *cursor, 7).unwrap();
            seen.extend(page.changes.iter().map(|c| c.seq));
            *cursor = page.cursor;
        }
        finished = writers.iter().filter(|w| w.is_finished()).count();
        if finished == WRITERS {
            done.store(true, Ordering::Relaxed);
        }
    }
    assert_eq!(finished, WRITERS);
    for w in writers {
        w.join().unwrap();
    }
    committed.extend(
        setup
            .query("SELECT seq FROM change_log", &[])
            .unwrap()
            .iter()
            .map(|r| r.get::<_, i64>(0)),
    );
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
