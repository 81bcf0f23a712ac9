//! Crash safety: the server process is killed with SIGKILL in the middle of syncs and
//! restarted on the same database file, several times. Nothing the server acknowledged
//! is lost, the store opens cleanly, and the devices converge afterwards.
//!
//! The server runs as a child process: this test binary re-executes itself with
//! `HOSO_CHILD_DATA` set, and the `child_server` entry below then serves that store.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use server::casedocs::{RulesConfig, today_vn};
use server::db::inspect;
use server::db::store::Store;
use shared::rand::XorShift;
use tests::{Device, Fault, fresh_dir, login_device};

/// Entry point of the child process; a no-op in a normal test run. It listens on
/// `HOSO_CHILD_ADDR` when set (a restart keeps its address).
#[test]
fn child_server() {
    let Ok(data) = std::env::var("HOSO_CHILD_DATA") else {
        return;
    };
    tests::serve_forever(Store::open(&std::path::Path::new(&data).join("store.sqlite")).unwrap());
}

fn spawn_child(data: &std::path::Path, addr: &str) -> (Child, String) {
    tests::spawn_server_child(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_server", "--nocapture", "--test-threads=1"])
            .env("HOSO_CHILD_DATA", data)
            .env("HOSO_CHILD_ADDR", addr)
            .stderr(Stdio::null()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_sync_loses_no_acknowledged_change() {
    let data = fresh_dir();
    {
        let store = Store::open(&data.join("store.sqlite")).unwrap();
        server::demo::seed(&store, &RulesConfig::default(), today_vn()).unwrap();
    }
    let (mut child, url) = spawn_child(&data, "127.0.0.1:0");
    let addr = url.trim_start_matches("http://").to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut devices: Vec<Device> = Vec::new();
    for user in [
        "canbo.lachtray",
        "canbo.lachtray",
        "canbo.caute",
        "canbo.caute",
    ] {
        let mut d = login_device(&http, &url, user, server::demo::DEMO_PASSWORD)
            .await
            .unwrap();
        d.sync().await.unwrap();
        devices.push(d);
    }
    let mut rng = XorShift::new(7);
    let mut interrupted = 0;
    for round in 0..6 {
        // Every device edits, then all sync at once while the server is killed.
        for (n, d) in devices.iter_mut().enumerate() {
            for k in 0..5 {
                let ids = d.doc_ids();
                let id = ids[rng.below(ids.len() as u64) as usize].clone();
                d.edit(
                    &id,
                    "case.person.workplace_unit",
                    json!(format!("vòng {round} máy {n} lần {k}")),
                )
                .unwrap();
            }
            let org = format!("{}-cb1", d.scope_org);
            d.create_case(&org, &format!("Ứng viên {round}-{n}"), rng.bytes16())
                .unwrap();
        }
        let mut tasks = Vec::new();
        for mut d in devices.drain(..) {
            tasks.push(tokio::spawn(async move {
                // Errors are expected when the server dies mid-request.
                let cut = d.sync_once(Fault::None).await.is_err();
                (d, cut)
            }));
        }
        tokio::time::sleep(Duration::from_millis(5 + rng.below(60))).await;
        child.kill().unwrap();
        child.wait().unwrap();
        for t in tasks {
            let (d, cut) = t.await.unwrap();
            interrupted += usize::from(cut);
            devices.push(d);
        }
        let (c, _) = spawn_child(&data, &addr);
        child = c;
    }
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.sync().await.unwrap();
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let store = Store::open(&data.join("store.sqlite")).unwrap();
    let conn = store.conn();
    let check = inspect::integrity_check(&conn).unwrap();
    assert_eq!(check, "ok");
    let acks: usize = devices
        .iter()
        .map(|d| d.assert_acknowledged_stored(&conn))
        .sum();
    assert!(acks > 50, "the syncs did acknowledge work ({acks})");
    println!("{interrupted} of 24 syncs were cut by a kill; {acks} acknowledged changes all kept");
    // Devices of one commune hold identical documents after the final syncs.
    for pair in [(0, 1), (2, 3)] {
        let a: Vec<_> = devices[pair.0]
            .replica
            .docs
            .iter_mut()
            .map(|(k, v)| {
                (k.clone(), {
                    let mut h = v.doc.get_heads();
                    h.sort();
                    h
                })
            })
            .collect();
        let b: Vec<_> = devices[pair.1]
            .replica
            .docs
            .iter_mut()
            .map(|(k, v)| {
                (k.clone(), {
                    let mut h = v.doc.get_heads();
                    h.sort();
                    h
                })
            })
            .collect();
        assert_eq!(a, b);
    }
    drop(conn);
    let _ = std::fs::remove_dir_all(&data);
}
