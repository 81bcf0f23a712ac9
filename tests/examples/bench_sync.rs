//! Sync benchmark: 1,000 simulated devices each push 20 changed case files to one server
//! (a child process, so its memory is measured alone); prints requests per second, p50
//! and p99 latency, the server's peak memory, bytes on the wire per changed case file
//! against the size of the changes themselves, and a reviewer's first full download of
//! 10,000 case files (time and bytes). Then the p99 of other devices' syncs, quiet, while
//! one device pushes the largest files the limits allow, and while the office's dashboard
//! of the whole district runs in a loop.
//!
//! Each figure is printed for every storage configuration: SQLite, PostgreSQL with one
//! server process, and PostgreSQL with three (devices spread over them). PostgreSQL runs
//! as a throw-away cluster on loopback; its processes' CPU time counts as the server's.
//! `BENCH_CONFIGS` picks configurations (`sqlite,postgres-1,postgres-3`).
//! `BENCH_TIMELINE=FILE` appends each timed request's start (ms into its phase) and latency
//! to FILE, to see when the slow answers come.
//!
//! Run with `cargo run --release -p tests --example bench_sync` (or `cargo xtask bench sync`).

use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use server::casedocs::{RulesConfig, today_vn};
use server::db::inspect::{self, Table};
use server::db::store::Store;
use shared::rand::XorShift;
use shared::sync::{DocId, SyncResponse};
use tests::pg::PgCluster;
use tests::{Device, fresh_dir, login_device};

/// The allocator the server binary uses, so the server measured here runs as shipped.
#[global_allocator]
static ALLOCATOR: server::Allocator = server::Allocator;

/// Devices in the run; `BENCH_DEVICES` overrides it for a quick look.
const DEVICES: usize = 1_000;
const FILES_PER_DEVICE: usize = 20;
const CONCURRENCY: usize = 16;

fn main() {
    if let Ok(data) = std::env::var("HOSO_BENCH_CHILD") {
        return serve_child(&data);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let configs =
        std::env::var("BENCH_CONFIGS").unwrap_or_else(|_| "sqlite,postgres-1,postgres-3".into());
    let mut cluster: Option<PgCluster> = None;
    for (n, config) in configs.split(',').enumerate() {
        let (database, replicas) = match config.trim() {
            "sqlite" => (None, 1),
            c => {
                let replicas = c
                    .strip_prefix("postgres-")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or_else(|| panic!("unknown configuration {c}"));
                let pg = cluster.get_or_insert_with(PgCluster::start);
                let name = format!("bench_{n}");
                (Some(tests::create_database(pg, &name)), replicas)
            }
        };
        println!("bench sync: === {config} ===");
        rt.block_on(run(database, replicas));
    }
}

/// Where a server child keeps its data: `postgres:URL`, or a directory holding
/// `store.sqlite`.
fn open_store(place: &str) -> Store {
    match place.strip_prefix("postgres:") {
        Some(url) => Store::open_postgres(url, store_readers()).unwrap(),
        None => Store::open(&std::path::Path::new(place).join("store.sqlite")).unwrap(),
    }
}

fn store_readers() -> usize {
    server::db::store::DEFAULT_READERS
}

/// CPU time of every PostgreSQL process (the postmaster and its backends), in ms.
fn postgres_cpu_ms() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_ms)
        .sum()
}

fn serve_child(data: &str) {
    tests::serve_forever(open_store(data));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// CPU time (user and system) a process has used so far, in milliseconds.
fn cpu_ms(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; the
    // kernel counts them in ticks of 1/100 s.
    (f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)) * 10
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Wire {
    requests: usize,
    latencies: Vec<Duration>,
    change_bytes: u64,
    json_bytes: u64,
    gzip_bytes: u64,
    response_gzip_bytes: u64,
    files: u64,
    server_cpu_ms: u64,
    /// Of `server_cpu_ms`, what PostgreSQL's processes spent.
    postgres_cpu_ms: u64,
    /// What the simulated devices (this process) spent meanwhile, on the same cores.
    devices_cpu_ms: u64,
}

/// One push of a device's 20 changed files, gzip on the wire like the PWA sends it.
async fn push(d: &mut Device) -> (Duration, u64, u64, u64, u64, u64) {
    let (req, pending) = d.replica.prepare(Some(512 * 1024));
    let files = req.push.len() as u64;
    let change_bytes: u64 = req
        .push
        .iter()
        .flat_map(|p| &p.changes)
        .map(|c| c.0.len() as u64)
        .sum();
    let body = serde_json::to_vec(&req).unwrap();
    let gz = gzip(&body);
    let t = Instant::now();
    let resp = d
        .http
        .post(format!("{}/api/sync", d.url))
        .bearer_auth(&d.token)
        .header("content-encoding", "gzip")
        .body(gz.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = resp.bytes().await.unwrap();
    let took = t.elapsed();
    let parsed: SyncResponse = shared::sync::decode_response(&bytes).unwrap();
    assert_eq!(parsed.accepted.len() as u64, files);
    d.replica.receive(pending, parsed).unwrap();
    (
        took,
        files,
        change_bytes,
        body.len() as u64,
        gz.len() as u64,
        gzip(&bytes).len() as u64,
    )
}

async fn run(database: Option<String>, replicas: usize) {
    let data = fresh_dir();
    let place = match &database {
        Some(url) => format!("postgres:{url}"),
        None => data.display().to_string(),
    };
    {
        let store = open_store(&place);
        server::demo::seed(&store, &RulesConfig::default(), today_vn()).unwrap();
        for w in 1..=10 {
            for k in 0..10 {
                server::auth::create_user(
                    &store,
                    &format!("bench{w}-{k}"),
                    "Cán bộ thử tải",
                    "demo2026",
                    server::auth::Role::Cadre,
                    &format!("phuong-{w:02}"),
                )
                .unwrap();
            }
        }
    }
    let mut children = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..replicas {
        let (child, url) = tests::spawn_server_child(
            Command::new(std::env::current_exe().unwrap()).env("HOSO_BENCH_CHILD", &place),
        );
        urls.push(url);
        children.push(child);
    }
    let pids: Vec<u32> = children.iter().map(|c| c.id()).collect();
    let on_postgres = database.is_some();
    // Memory of the server processes together; CPU of them and of PostgreSQL.
    let rss = {
        let pids = pids.clone();
        move || pids.iter().map(|p| peak_rss_kb(*p)).sum::<u64>()
    };
    // (server processes and PostgreSQL together, PostgreSQL alone)
    let cpu_of_servers = {
        let pids = pids.clone();
        move || {
            let database = if on_postgres { postgres_cpu_ms() } else { 0 };
            (
                pids.iter().map(|p| cpu_ms(*p)).sum::<u64>() + database,
                database,
            )
        }
    };
    let cpu = &cpu_of_servers;
    let url = urls[0].clone();
    let http = reqwest::Client::new();
    let baseline = rss();

    // Log in 1,000 devices (100 accounts, 10 devices each) and give each 20 changed files.
    let t = Instant::now();
    let n_devices: usize = std::env::var("BENCH_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEVICES);
    let mut devices = Vec::with_capacity(n_devices);
    let mut rng = XorShift::new(99);
    for i in 0..n_devices {
        let user = format!("bench{}-{}", 1 + (i / 10) % 10, i % 10);
        // Devices are spread over the server processes.
        let mut d = login_device(&http, &urls[i % urls.len()], &user, "demo2026")
            .await
            .unwrap();
        // A device's first sync (the files of its scope, as whole documents) comes before
        // it has anything to push, as in the field; the server then knows what the device
        // holds and which scope it was served.
        d.sync().await.unwrap();
        // These devices only push in the benchmark: nothing is left for them to pull.
        d.replica.cursor = u64::MAX / 2;
        for f in 0..FILES_PER_DEVICE {
            let org = format!("{}-cb{}", d.scope_org, 1 + f % 3);
            let id = d
                .create_case(&org, &format!("Nguyễn Văn Thử {i}-{f}"), rng.bytes16())
                .unwrap();
            // Birth dates spread as a ward's candidates' are (18 to 45 years old): the
            // duplicate check compares a file with the branch's files born the same day.
            let born = shared::date::Date::from_ymd(1981, 1, 1)
                .unwrap()
                .add_days(rng.below(27 * 365) as i32);
            d.edit(&id, "case.person.birth_date", json!(born.to_string()))
                .unwrap();
            d.edit(&id, "case.person.sex", json!("male")).unwrap();
            d.edit(
                &id,
                "case.awareness_class.certificate_date",
                json!("2025-03-02"),
            )
            .unwrap();
        }
        devices.push(d);
    }
    println!(
        "bench sync: {n_devices} devices logged in and prepared in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    println!(
        "bench sync: server peak memory after the logins: {:.1} MB",
        rss() as f64 / 1024.0
    );

    let mut wire = Wire::default();
    let phase = |devs: Vec<Device>| async move {
        let mut out = Vec::new();
        let mut w = Wire::default();
        let started = Instant::now();
        let cpu_before = cpu();
        let devices_before = cpu_ms(std::process::id());
        let mut timeline = std::env::var("BENCH_TIMELINE").ok().map(|path| {
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
                .unwrap()
        });
        // Always CONCURRENCY requests in flight: a new device starts as soon as one ends.
        let mut queue = devs.into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < CONCURRENCY {
                let Some(mut d) = queue.next() else {
                    break;
                };
                let at = started.elapsed();
                running.spawn(async move {
                    let r = push(&mut d).await;
                    (d, r, at)
                });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let (d, (took, files, cb, jb, gb, rb), at) = done.unwrap();
            if let Some(f) = &mut timeline {
                writeln!(
                    f,
                    "{:.1} {:.1}",
                    at.as_secs_f64() * 1000.0,
                    took.as_secs_f64() * 1000.0
                )
                .unwrap();
            }
            w.requests += 1;
            w.latencies.push(took);
            w.files += files;
            w.change_bytes += cb;
            w.json_bytes += jb;
            w.gzip_bytes += gb;
            w.response_gzip_bytes += rb;
            out.push(d);
        }
        let cpu_after = cpu();
        w.server_cpu_ms = cpu_after.0 - cpu_before.0;
        w.postgres_cpu_ms = cpu_after.1 - cpu_before.1;
        w.devices_cpu_ms = cpu_ms(std::process::id()) - devices_before;
        (out, w, started.elapsed())
    };
    let second = devices.split_off(n_devices / 2);
    let (_a, w1, t1) = phase(devices).await;
    println!(
        "bench sync: server peak memory after the first half of the devices: {:.1} MB",
        rss() as f64 / 1024.0
    );

    // A reviewer's first full download: every case file of the district.
    let mut reviewer = login_device(&http, &url, "bantochuc", "demo2026")
        .await
        .unwrap();
    let t = Instant::now();
    let mut trips = 0;
    let mut bytes = 0u64;
    loop {
        let (req, pending) = reviewer.replica.prepare(Some(4 * 1024 * 1024));
        let resp = reviewer
            .http
            .post(format!("{url}/api/sync"))
            .bearer_auth(&reviewer.token)
            .json(&req)
            .send()
            .await
            .unwrap();
        let body = resp.bytes().await.unwrap();
        bytes += gzip(&body).len() as u64;
        trips += 1;
        let parsed = shared::sync::decode_response(&body).unwrap();
        let report = reviewer.replica.receive(pending, parsed).unwrap();
        if !report.more {
            break;
        }
    }
    let download = t.elapsed();
    println!(
        "bench sync: server peak memory after the reviewer download: {:.1} MB",
        rss() as f64 / 1024.0
    );
    let docs = reviewer.replica.docs.len();

    let (second_done, w2, t2) = phase(second).await;
    for w in [w1, w2] {
        wire.requests += w.requests;
        wire.latencies.extend(w.latencies);
        wire.files += w.files;
        wire.change_bytes += w.change_bytes;
        wire.json_bytes += w.json_bytes;
        wire.gzip_bytes += w.gzip_bytes;
        wire.response_gzip_bytes += w.response_gzip_bytes;
        wire.server_cpu_ms += w.server_cpu_ms;
        wire.postgres_cpu_ms += w.postgres_cpu_ms;
        wire.devices_cpu_ms += w.devices_cpu_ms;
    }
    let elapsed = t1 + t2;
    wire.latencies.sort();
    let pct = |p: f64| {
        wire.latencies[((wire.latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0
    };
    let peak = rss();
    println!(
        "bench sync: {} devices x {FILES_PER_DEVICE} changed files = {} requests in {:.1}s = {:.0} requests/s ({:.0} files/s), concurrency {CONCURRENCY}",
        n_devices,
        wire.requests,
        elapsed.as_secs_f64(),
        wire.requests as f64 / elapsed.as_secs_f64(),
        wire.files as f64 / elapsed.as_secs_f64()
    );
    println!(
        "bench sync: latency p50 {:.1} ms, p99 {:.1} ms",
        pct(0.50),
        pct(0.99)
    );
    // CPU time is what the server spent, whatever else ran on the machine meanwhile.
    println!(
        "bench sync: server CPU {:.2} ms per changed file ({:.1} s in all{})",
        wire.server_cpu_ms as f64 / wire.files as f64,
        wire.server_cpu_ms as f64 / 1000.0,
        if on_postgres {
            format!(
                "; PostgreSQL's processes {:.2} ms of it",
                wire.postgres_cpu_ms as f64 / wire.files as f64
            )
        } else {
            String::new()
        }
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "bench sync: the simulated devices' own CPU: {:.2} ms per changed file; with the server's, {:.0} % of the machine's {cores} cores over the run",
        wire.devices_cpu_ms as f64 / wire.files as f64,
        100.0 * (wire.devices_cpu_ms + wire.server_cpu_ms) as f64
            / (1000.0 * cores as f64 * elapsed.as_secs_f64()),
    );
    println!(
        "bench sync: server peak memory {:.1} MB (at start {:.1} MB)",
        peak as f64 / 1024.0,
        baseline as f64 / 1024.0
    );
    let per = |b: u64| b as f64 / wire.files as f64;
    println!(
        "bench sync: per changed case file: changes {:.0} B, request JSON {:.0} B, on the wire (gzip) {:.0} B = {:.2}x the changes; response {:.0} B",
        per(wire.change_bytes),
        per(wire.json_bytes),
        per(wire.gzip_bytes),
        wire.gzip_bytes as f64 / wire.change_bytes as f64,
        per(wire.response_gzip_bytes)
    );
    println!(
        "bench sync: reviewer first full download: {docs} case files in {:.2}s, {trips} round trips, {:.1} MB on the wire (gzip), {:.0} B per file",
        download.as_secs_f64(),
        bytes as f64 / 1e6,
        bytes as f64 / docs as f64
    );

    // Other devices' syncs, measured quiet, while one device pushes the largest files the
    // limits allow, and while the office's dashboard runs in a loop. The three are taken
    // in turn, round after round, each group of devices editing its files again for each
    // round: a drift of the machine's speed over the run then weighs on all three alike,
    // and each p99 comes from PROBE_ROUNDS times as many syncs.
    let mut groups: Vec<Vec<Device>> = {
        let mut probe: Vec<Device> = second_done.into_iter().take(3 * PROBE).collect();
        let dashboard = probe.split_off(probe.len() * 2 / 3);
        let loaded = probe.split_off(probe.len() / 2);
        vec![probe, loaded, dashboard]
    };
    // Each device edits its own files (those it created above), not the ward's files its
    // first sync brought.
    let own: HashMap<String, Vec<DocId>> = groups
        .iter()
        .flatten()
        .map(|d| {
            let ids = d
                .doc_ids()
                .into_iter()
                .filter(|id| {
                    d.case(id)
                        .is_ok_and(|c| c.person.full_name.starts_with("Nguyễn Văn Thử "))
                })
                .collect();
            (d.token.clone(), ids)
        })
        .collect();
    let mut hostile_device = Some(
        login_device(&http, &url, "bench1-0", "demo2026")
            .await
            .unwrap(),
    );
    let (mut quiet, mut loaded, mut dashboarded) = (Vec::new(), Vec::new(), Vec::new());
    let (mut pushes, mut doc_bytes) = (0usize, 0usize);
    let mut largest: Vec<DocId> = Vec::new();
    let (mut quiet_cpu_ms, mut quiet_files) = (0u64, 0u64);
    let mut took = Vec::new();
    for round in 0..PROBE_ROUNDS {
        for d in groups.iter_mut().flatten() {
            for id in own[&d.token].clone() {
                d.edit(&id, "case.person.ethnicity", json!(format!("Kinh {round}")))
                    .unwrap();
            }
        }
        let mut next = Vec::new();
        let mut group = groups.into_iter();
        let (devs, w, _) = phase(group.next().unwrap()).await;
        quiet_cpu_ms += w.server_cpu_ms;
        quiet_files += w.files;
        quiet.extend(w.latencies);
        next.push(devs);

        let stop = Arc::new(AtomicBool::new(false));
        let hostile = {
            let stop = stop.clone();
            let mut d = hostile_device.take().unwrap();
            tokio::spawn(async move {
                let mut rng = XorShift::new(7 + round as u64);
                let mut pushed = Vec::new();
                let mut bytes = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let req = largest_file(&mut d, &mut rng);
                    bytes = req.push[0].changes.iter().map(|c| c.0.len()).sum();
                    pushed.push(req.push[0].doc_id.clone());
                    let (status, body) = d.send(&req).await.unwrap();
                    let resp = shared::sync::decode_response(&body).unwrap();
                    assert_eq!(status, 200);
                    assert_eq!(resp.accepted.len(), 1, "{:?}", resp.rejected);
                }
                (d, pushed, bytes)
            })
        };
        let ((devs, w, _), (d, n, b)) =
            under_load(&stop, hostile, phase(group.next().unwrap())).await;
        hostile_device = Some(d);
        pushes += n.len();
        largest.extend(n);
        doc_bytes = b;
        loaded.extend(w.latencies);
        next.push(devs);

        // The office's dashboard of the whole district, asked for again as soon as it
        // comes, while other devices sync.
        let stop = Arc::new(AtomicBool::new(false));
        let office = {
            let stop = stop.clone();
            let (http, url, token) = (http.clone(), url.clone(), reviewer.token.clone());
            tokio::spawn(async move {
                let mut took = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let resp = http
                        .get(format!("{url}/api/review/dashboard"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), 200);
                    resp.bytes().await.unwrap();
                    took.push(t.elapsed());
                }
                took
            })
        };
        let ((devs, w, _), t) = under_load(&stop, office, phase(group.next().unwrap())).await;
        took.extend(t);
        dashboarded.extend(w.latencies);
        next.push(devs);
        groups = next;
    }
    let p99 = |l: &[Duration]| {
        let mut l = l.to_vec();
        l.sort();
        l[((l.len() as f64 - 1.0) * 0.99) as usize].as_secs_f64() * 1000.0
    };
    println!(
        "bench sync: p99 of {} other devices' syncs ({PROBE} devices, {PROBE_ROUNDS} rounds, taken in turn with the loads below): quiet {:.1} ms; while one device pushed {pushes} files of {:.1} MB (the largest the limits allow) {:.1} ms = {:.2}x",
        quiet.len(),
        p99(&quiet),
        doc_bytes as f64 / 1e6,
        p99(&loaded),
        p99(&loaded) / p99(&quiet)
    );
    println!(
        "bench sync: server CPU {:.2} ms per edited file (one field of a stored file, the quiet syncs above)",
        quiet_cpu_ms as f64 / quiet_files.max(1) as f64
    );
    took.sort();
    let median = took
        .get(took.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    println!(
        "bench sync: p99 of {} other devices' syncs while the office's dashboard of {docs} files ran {} times in a loop (median {median:.0} ms each): {:.1} ms = {:.2}x quiet",
        dashboarded.len(),
        took.len(),
        p99(&dashboarded),
        p99(&dashboarded) / p99(&quiet)
    );
    // Bytes on disk per case file: the SQLite file once its write-ahead log is folded
    // in and truncated (the children were killed, so it still holds recent commits), or
    // the PostgreSQL database.
    let store = open_store(&place);
    inspect::checkpoint_wal(&store.conn()).unwrap();
    let files = inspect::count_rows(&store.read(), Table::Docs).unwrap();
    let disk: u64 = match &database {
        Some(_) => inspect::database_size(&store.read()).unwrap() as u64,
        None => ["store.sqlite", "store.sqlite-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(data.join(f)).ok())
            .map(|m| m.len())
            .sum(),
    };
    // The largest files the probe's load pushed are far from a case file's size: their
    // stored changes are counted apart.
    let largest_bytes: u64 = largest
        .iter()
        .flat_map(|id| inspect::change_bytes_of(&store.read(), id.as_str()).unwrap())
        .map(|c| c.len() as u64)
        .sum();
    let others = files as u64 - largest.len() as u64;
    println!(
        "bench sync: server disk {:.1} MB for {files} case files; without the {} largest files' {:.1} MB of changes, {:.1} kB per file",
        disk as f64 / 1e6,
        largest.len(),
        largest_bytes as f64 / 1e6,
        disk.saturating_sub(largest_bytes) as f64 / others.max(1) as f64 / 1e3
    );
    drop(store);
    for mut child in children {
        child.kill().ok();
        child.wait().ok();
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// Devices measured quiet, and as many again under each load…
const PROBE: usize = 160;

/// …in this many rounds, each device syncing once per round.
const PROBE_ROUNDS: usize = 3;

/// Awaits `measured` while `load` (a task looping until `stop` is set) runs beside it:
/// the load starts first, then is stopped and its result awaited.
async fn under_load<W, T>(
    stop: &AtomicBool,
    load: tokio::task::JoinHandle<T>,
    measured: impl std::future::Future<Output = W>,
) -> (W, T) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = measured.await;
    stop.store(true, Ordering::Relaxed);
    (out, load.await.unwrap())
}

/// A request creating one new file as large as the default limits allow: changes of
/// nearly the largest size, each string at the longest length, up to the history limit.
fn largest_file(d: &mut Device, rng: &mut XorShift) -> shared::sync::SyncRequest {
    use automerge::ReadDoc as _;
    use automerge::transaction::Transactable as _;
    let limits = shared::limits::Limits::default();
    let per_change = (limits.max_change_bytes * 9 / 10) / limits.max_string_bytes;
    let changes = limits.max_doc_bytes / limits.max_change_bytes;
    let text = |rng: &mut XorShift| -> String {
        (0..limits.max_string_bytes)
            .map(|_| (b'a' + rng.below(26) as u8) as char)
            .collect()
    };
    let org = format!("{}-cb1", d.scope_org);
    let case = shared::model::CaseFile {
        org_id: org,
        introducers: (0..per_change)
            .map(|_| shared::model::Introducer {
                name: text(rng),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut doc = automerge::AutoCommit::new().with_actor(d.actor.clone());
    shared::doc::init_case_doc(&mut doc, &case).unwrap();
    doc.commit();
    for _ in 1..changes {
        let (_, c) = doc.get(automerge::ROOT, "case").unwrap().unwrap();
        let (_, list) = doc.get(&c, "introducers").unwrap().unwrap();
        for i in 0..per_change {
            let (_, intro) = doc.get(&list, i).unwrap().unwrap();
            doc.put(&intro, "name", text(rng)).unwrap();
        }
        doc.commit();
    }
    let id = shared::sync::DocId::from_bytes(rng.bytes16());
    shared::sync::SyncRequest {
        protocol: shared::sync::PROTOCOL_VERSION,
        cursor: u64::MAX / 2,
        push: vec![shared::sync::DocChanges {
            doc_id: id,
            changes: doc
                .get_changes(&[])
                .iter()
                .map(|c| shared::sync::ChangeBytes(c.raw_bytes().to_vec()))
                .collect(),
        }],
        max_bytes: None,
        dropped: vec![],
        whole: false,
        resume: None,
        short_deps: false,
    }
}
