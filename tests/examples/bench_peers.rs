//! Our side of `cargo xtask bench peers` (driven by `tests/peers/bench_peers.mjs`):
//!
//! - `seed DIR N OUT.json`: a demo store whose ward `phuong-11` holds N case files (the
//!   demo's own files, then copies of them with fresh ids and names), plus an account
//!   that changes files during the incremental round; writes exactly the ward's files in
//!   the exchange format to OUT.json, which the peers load.
//! - `client URL DIRECT_URL CHANGED`: the native client (`shared::sync::Replica`, the
//!   PWA's sync code without the browser) downloads the ward through URL (the counting
//!   proxy), then, after another device changed CHANGED files through DIRECT_URL, syncs
//!   again. Before each measured phase it prints `BEGIN <phase>` and waits for a line on
//!   standard input (so the proxy's counters are read at the right moment); after it, it
//!   prints `END <phase> <json figures>`.

use std::io::BufRead;
use std::time::Instant;

use serde_json::json;
use server::admin::{self, CaseFileRecord, CaseFilesExport};
use server::casedocs::{RulesConfig, today_vn};
use server::db::inspect;
use server::db::store::Store;
use shared::rand::XorShift;
use shared::sync::{DocId, Pending, SyncRequest};
use tests::login_device;

const WARD: &str = "phuong-11";
const READER: &str = "canbo.lachtray";
const WRITER: &str = "bench.writer";
const PASSWORD: &str = "demo2026";
/// The page size the PWA asks for (`client::sync::PULL_PAGE`).
const PAGE_BYTES: u64 = 512 * 1024;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("seed") => seed(&args[1], args[2].parse().unwrap(), &args[3]),
        Some("client") => runtime().block_on(client(&args[1], &args[2], args[3].parse().unwrap())),
        Some("write") => runtime().block_on(write(&args[1], args[2].parse().unwrap())),
        _ => eprintln!(
            "usage: bench_peers seed DIR N OUT.json | client URL DIRECT_URL CHANGED | write URL CHANGED"
        ),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn ward_files(store: &Store) -> Vec<CaseFileRecord> {
    let all = admin::export_case_files(store, "/").unwrap();
    all.case_files
        .into_iter()
        .filter(|r| r.case.org_id.starts_with(WARD))
        .collect()
}

fn seed(dir: &str, n: usize, out: &str) {
    let dir = std::path::Path::new(dir);
    std::fs::create_dir_all(dir).unwrap();
    let store = Store::open(&dir.join("store.sqlite")).unwrap();
    let rules = RulesConfig::default();
    server::demo::seed(&store, &rules, today_vn()).unwrap();
    server::auth::create_user(
        &store,
        WRITER,
        "Cán bộ sửa hồ sơ",
        PASSWORD,
        server::auth::Role::Cadre,
        WARD,
    )
    .unwrap();
    let before = disk_bytes(&store, dir);
    let demo = ward_files(&store);
    assert!(!demo.is_empty(), "the demo ward {WARD} has case files");
    let mut rng = XorShift::new(7);
    let mut copies = Vec::new();
    for i in demo.len()..n {
        let mut r = demo[i % demo.len()].clone();
        r.id = DocId::from_bytes(rng.bytes16());
        // Another person with the same history: the name and birth date differ, the
        // content stays real. (With the birth date kept, every copy was a possible
        // duplicate of every other copy of its person, a flood of pairs no ward has.)
        r.case.person.full_name = format!("{} {}", r.case.person.full_name, i);
        r.case.person.id_number = String::new();
        let copy = (i / demo.len()) as i32;
        r.case.person.birth_date = r.case.person.birth_date.map(|d| d.add_days(-copy));
        copies.push(r);
    }
    // Imported in batches: one transaction per batch.
    for batch in copies.chunks(1000) {
        let export = CaseFilesExport {
            format: admin::CASE_FILES_FORMAT.into(),
            case_files: batch.to_vec(),
        };
        admin::import_case_files(&store, &rules, &serde_json::to_string(&export).unwrap()).unwrap();
    }
    let after = disk_bytes(&store, dir);
    let files = ward_files(&store);
    let export = CaseFilesExport {
        format: admin::CASE_FILES_FORMAT.into(),
        case_files: files,
    };
    std::fs::write(out, serde_json::to_vec(&export).unwrap()).unwrap();
    println!(
        "seeded {} case files in {WARD}; server disk for the {} added: {:.2} kB per file",
        export.case_files.len(),
        copies.len(),
        (after - before) as f64 / copies.len().max(1) as f64 / 1000.0
    );
    println!(
        "SEED {}",
        json!({"files": export.case_files.len(), "added": copies.len(), "disk_before": before, "disk_after": after})
    );
}

/// Bytes of the store's files once the write-ahead log is folded in.
fn disk_bytes(store: &Store, dir: &std::path::Path) -> u64 {
    inspect::checkpoint_wal(&store.conn()).unwrap();
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum()
}

/// A sync request on its way: its status and body.
type Answer = tokio::task::JoinHandle<(u16, Vec<u8>)>;

/// Syncs until the server has nothing more, like `Device::sync_once` with the PWA's page
/// size, and like the PWA asks for the next page of a pull while it applies the last;
/// returns the round trips and where the time went (milliseconds waiting for answers,
/// parsing them, applying them).
async fn download(d: &mut tests::Device) -> (usize, (f64, f64, f64)) {
    let (mut wire, mut parse, mut apply) = (0.0, 0.0, 0.0);
    let mut trips = 0;
    let mut ahead: Option<(SyncRequest, Answer)> = None;
    loop {
        trips += 1;
        let t = Instant::now();
        let (req, pending, (status, body)) = match ahead.take() {
            Some((req, answer)) => (req, Pending::default(), answer.await.unwrap()),
            None => {
                let (req, pending) = d.replica.prepare(Some(PAGE_BYTES));
                let answer = d.send(&req).await.unwrap();
                (req, pending, answer)
            }
        };
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        wire += t.elapsed().as_secs_f64() * 1000.0;
        let t = Instant::now();
        let resp = shared::sync::decode_response(&body).unwrap();
        parse += t.elapsed().as_secs_f64() * 1000.0;
        // A page of a pull that sends nothing: the next one is asked for now.
        if resp.more && req.push.is_empty() && req.dropped.is_empty() && resp.removed.is_empty() {
            let mut next = req.clone();
            next.cursor = req.cursor.max(resp.cursor);
            next.resume = resp.resume.clone();
            let (http, url, token) = (d.http.clone(), d.url.clone(), d.token.clone());
            let body = next.clone();
            let answer =
                tokio::spawn(
                    async move { tests::post_sync(&http, &url, &token, &body).await.unwrap() },
                );
            ahead = Some((next, answer));
        }
        let t = Instant::now();
        let report = d.replica.receive(pending, resp);
        apply += t.elapsed().as_secs_f64() * 1000.0;
        // A change that could not be rebuilt from short dependencies: asked again whole.
        if let Err(shared::sync::SyncError::ShortDeps(..)) = report {
            ahead = None;
            continue;
        }
        if !report.unwrap().more {
            return (trips, (wire, parse, apply));
        }
    }
}

/// Another device of the ward changes `changed` files (the first ones by id).
async fn write(url: &str, changed: usize) {
    let http = reqwest::Client::new();
    let mut writer = login_device(&http, url, WRITER, PASSWORD).await.unwrap();
    writer.sync().await.unwrap();
    for id in writer.doc_ids().into_iter().take(changed) {
        writer
            .edit(&id, "case.person.ethnicity", json!("Tày"))
            .unwrap();
    }
    writer.sync().await.unwrap();
}

fn wait_for_go(phase: &str) {
    println!("BEGIN {phase}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).unwrap();
}

async fn client(url: &str, direct: &str, changed: usize) {
    let http = reqwest::Client::new();
    wait_for_go("first");
    let t = Instant::now();
    let mut reader = login_device(&http, url, READER, PASSWORD).await.unwrap();
    // A first sync of whole documents, as the PWA asks for it (`PEERS_WHOLE=0`: every
    // change one by one instead).
    reader.replica.whole = !matches!(std::env::var("PEERS_WHOLE").as_deref(), Ok("0"));
    let (trips, split) = download(&mut reader).await;
    let first = t.elapsed();
    println!(
        "END first {}",
        json!({"ms": first.as_secs_f64() * 1000.0, "docs": reader.replica.docs.len(),
               "trips": trips + 1, "wire_ms": split.0, "parse_ms": split.1, "apply_ms": split.2})
    );

    // Another device of the ward changes files; not measured.
    write(direct, changed).await;

    wait_for_go("incremental");
    let t = Instant::now();
    let before = reader.replica.cursor;
    let (trips, _) = download(&mut reader).await;
    let incremental = t.elapsed();
    let tay = reader
        .doc_ids()
        .iter()
        .filter(|id| reader.case(id).is_ok_and(|c| c.person.ethnicity == "Tày"))
        .count();
    assert!(tay >= changed, "the reader received the changed files");
    println!(
        "END incremental {}",
        json!({"ms": incremental.as_secs_f64() * 1000.0, "changed": changed, "trips": trips, "cursor_moved": reader.replica.cursor > before})
    );
}
