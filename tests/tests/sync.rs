//! End-to-end tests of the sync server: authorisation, bad input, conflicts, and a
//! deterministic multi-device simulation with a lossy network.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use server::db::inspect::{self, Table};
use server::db::{docs, orgs, views};
use shared::api::RejectionCode;
use shared::rand::XorShift;
use shared::sync::{ChangeBytes, DocChanges, PROTOCOL_VERSION, SyncRequest};
use tests::{Device, Fault, TestApp, spawn_app};

fn empty_request() -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        push: vec![],
        max_bytes: None,
        dropped: vec![],
        whole: false,
        resume: None,
        short_deps: false,
    }
}

async fn raw_sync(
    app: &TestApp,
    token: &str,
    body: Vec<u8>,
    gzip: bool,
) -> (u16, serde_json::Value) {
    let mut req = app
        .http
        .post(format!("{}/api/sync", app.url))
        .bearer_auth(token)
        .body(body);
    if gzip {
        req = req.header("content-encoding", "gzip");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

fn org_path(app: &TestApp, org: &str) -> String {
    orgs::path_of(&app.store().conn(), org).unwrap().unwrap()
}

#[tokio::test]
async fn a_cadre_pulls_only_the_case_files_of_their_commune() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    assert!(!dev.doc_ids().is_empty());
    let scope = org_path(&app, "phuong-11");
    for id in dev.doc_ids() {
        let case = dev.case(&id).unwrap();
        assert!(
            org_path(&app, &case.org_id).starts_with(&scope),
            "{} leaked",
            case.org_id
        );
    }
    let in_scope = inspect::docs_under(&app.store().conn(), &scope).unwrap();
    assert_eq!(dev.doc_ids().len() as i64, in_scope);
}

#[tokio::test]
async fn a_cadre_cannot_write_a_case_file_into_another_commune() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let id = dev
        .create_case("phuong-04-cb1", "Nguyễn Văn Ngoài", [9; 16])
        .unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    let rd = &dev.replica.docs[&id];
    assert_eq!(
        rd.rejected.as_ref().unwrap().code,
        RejectionCode::OutOfScope
    );
    let stored = docs::doc_org(&app.store().conn(), id.as_str()).unwrap();
    assert_eq!(stored, None, "a refused file must leave no trace");
}

#[tokio::test]
async fn a_cadre_cannot_edit_a_file_of_another_commune_even_knowing_its_id() {
    let app = spawn_app().await;
    let mut other = app.device("canbo.caute").await.unwrap();
    other.sync().await.unwrap();
    let foreign = other.doc_ids()[0].clone();
    // Hand the other commune's document to a Lạch Tray device and edit it there.
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let bytes = other.replica.docs.get_mut(&foreign).unwrap().doc.save();
    let loaded = automerge::AutoCommit::load(&bytes).unwrap();
    dev.replica
        .docs
        .insert(foreign.clone(), shared::sync::ReplicaDoc::new(loaded));
    dev.edit(&foreign, "case.person.full_name", json!("Đổi trái phép"))
        .unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    assert_eq!(
        dev.replica.docs[&foreign].rejected.as_ref().unwrap().code,
        RejectionCode::OutOfScope
    );
}

#[tokio::test]
async fn a_device_cannot_push_changes_made_under_another_actor_id() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let id = dev
        .create_case("phuong-11-cb1", "Phạm Thị Lan", [7; 16])
        .unwrap();
    // Re-write the document under an actor that was never registered to this device.
    let rd = dev.replica.docs.get_mut(&id).unwrap();
    rd.doc.set_actor(automerge::ActorId::from([0xAB; 16]));
    shared::doc::set_field(
        &mut rd.doc,
        &shared::doc::parse_path("case.person.ethnicity"),
        &json!("Kinh"),
    )
    .unwrap();
    rd.doc.commit();
    dev.sync_once(Fault::None).await.unwrap();
    assert_eq!(
        dev.replica.docs[&id].rejected.as_ref().unwrap().code,
        RejectionCode::ForeignActor
    );
}

#[tokio::test]
async fn an_actor_id_cannot_be_claimed_by_a_second_device() {
    let app = spawn_app().await;
    let dev = app.device("canbo.lachtray").await.unwrap();
    let resp = app
        .http
        .post(format!("{}/api/login", app.url))
        .json(&json!({"username": "canbo.caute", "password": "demo2026", "actor": dev.actor.to_hex_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 409);
}

#[tokio::test]
async fn wrong_passwords_expired_tokens_and_revoked_devices_are_refused() {
    let app = spawn_app().await;
    assert!(
        app.device_with_password("canbo.lachtray", "sai-mat-khau")
            .await
            .is_err()
    );
    assert!(
        app.device_with_password("khong-co-ai", "demo2026")
            .await
            .is_err()
    );

    let dev = app.device("canbo.lachtray").await.unwrap();
    let (status, body) = raw_sync(
        &app,
        "not-a-token",
        serde_json::to_vec(&empty_request()).unwrap(),
        false,
    )
    .await;
    assert_eq!(status, 401, "{body}");

    inspect::expire_sessions_of(&app.store().conn(), &[dev.device_id.as_str()], 0).unwrap();
    let (status, body) = dev.send(&empty_request()).await.unwrap();
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("TOKEN_EXPIRED"));

    let dev = app.device("canbo.lachtray").await.unwrap();
    let admin = app.device("admin").await.unwrap();
    let (status, _) = app
        .post_json(
            &admin.token,
            &format!("/api/admin/devices/{}/revoke", dev.device_id),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let (status, body) = dev.send(&empty_request()).await.unwrap();
    assert_eq!(status, 410, "a revoked device gets a distinct answer");
    assert!(String::from_utf8_lossy(&body).contains("DEVICE_REVOKED"));
}

#[tokio::test]
async fn cadres_cannot_revoke_devices() {
    let app = spawn_app().await;
    let dev = app.device("canbo.lachtray").await.unwrap();
    let (status, _) = app
        .post_json(
            &dev.token,
            &format!("/api/admin/devices/{}/revoke", dev.device_id),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn malformed_truncated_random_and_oversized_bodies_get_a_clear_4xx_and_store_nothing() {
    let app = spawn_app().await;
    let dev = app.device("canbo.lachtray").await.unwrap();
    let before = inspect::count_rows(&app.store().conn(), Table::Changes).unwrap();

    let full = serde_json::to_vec(&empty_request()).unwrap();
    let (status, body) = raw_sync(&app, &dev.token, full[..full.len() / 2].to_vec(), false).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "MALFORMED_SYNC");
    assert!(
        body["error"]["message_vi"]
            .as_str()
            .unwrap()
            .contains("không đọc được")
    );

    let mut rng = XorShift::new(42);
    let random: Vec<u8> = (0..4096).map(|_| rng.next_u64() as u8).collect();
    let (status, _) = raw_sync(&app, &dev.token, random.clone(), false).await;
    assert_eq!(status, 400);
    let (status, _) = raw_sync(&app, &dev.token, random, true).await;
    assert_eq!(status, 400, "random bytes labelled gzip");

    let huge = vec![b' '; server::MAX_SYNC_BODY + 1];
    let (status, _) = raw_sync(&app, &dev.token, huge, false).await;
    assert_eq!(status, 413);

    // A compression bomb: small on the wire, far over the limit once inflated.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &vec![b' '; server::MAX_SYNC_BODY_INFLATED + 10]).unwrap();
    let bomb = enc.finish().unwrap();
    assert!(bomb.len() < server::MAX_SYNC_BODY);
    let (status, body) = raw_sync(&app, &dev.token, bomb, true).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "BODY_TOO_LARGE");

    // Garbage where a change should be, and a wrong protocol version.
    let bad_change = SyncRequest {
        push: vec![DocChanges {
            doc_id: shared::sync::DocId::from_bytes([1; 16]),
            changes: vec![ChangeBytes(vec![1, 2, 3, 4])],
        }],
        ..empty_request()
    };
    let (status, body) = dev.send(&bad_change).await.unwrap();
    assert_eq!(status, 200);
    let resp = shared::sync::decode_response(&body).unwrap();
    assert_eq!(resp.rejected[0].code, RejectionCode::BadChange);
    let (status, _) = raw_sync(
        &app,
        &dev.token,
        br#"{"protocol":99,"cursor":0,"push":[]}"#.to_vec(),
        false,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = raw_sync(
        &app,
        &dev.token,
        br#"{"protocol":1,"cursor":0,"push":[{"doc_id":"../../etc","changes":[]}]}"#.to_vec(),
        false,
    )
    .await;
    assert_eq!(status, 400);

    let after = inspect::count_rows(&app.store().conn(), Table::Changes).unwrap();
    assert_eq!(before, after, "nothing stored");
    let health = app
        .http
        .get(format!("{}/api/health", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200, "the server keeps serving");
}

#[tokio::test]
async fn a_document_that_does_not_fit_the_case_file_model_is_refused() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let id = dev
        .create_case("phuong-11-cb1", "Đỗ Văn Sai", [5; 16])
        .unwrap();
    dev.edit(&id, "case.person.birth_date", json!("31/02/2001"))
        .unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    let rej = dev.replica.docs[&id].rejected.clone().unwrap();
    assert_eq!(rej.code, RejectionCode::InvalidDocument);
    assert!(rej.message_vi.contains("không đúng mẫu"));
    // The cadre fixes the date and the file goes through, nothing lost.
    dev.edit(&id, "case.person.birth_date", json!("2001-02-28"))
        .unwrap();
    dev.sync().await.unwrap();
    assert!(dev.replica.docs[&id].rejected.is_none());
    let heads = app.server_heads().unwrap();
    assert!(heads.contains_key(id.as_str()));
}

#[tokio::test]
async fn two_devices_editing_one_field_offline_open_exactly_one_conflict_naming_both() {
    let app = spawn_app().await;
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let mut b = app.device("canbo.lachtray").await.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let id = a.doc_ids()[0].clone();
    a.edit(
        &id,
        "case.person.workplace_unit",
        json!("Trường THCS Lạch Tray"),
    )
    .unwrap();
    b.edit(
        &id,
        "case.person.workplace_unit",
        json!("Công ty Cảng Hải Phòng"),
    )
    .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    let reviewer = app.device("bantochuc").await.unwrap();
    let (status, list) = app
        .get_json(&reviewer.token, "/api/review/conflicts")
        .await
        .unwrap();
    assert_eq!(status, 200);
    // The demo data carries open conflicts of its own; this file has exactly one.
    let list: Vec<&Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["doc_id"] == id.as_str())
        .collect();
    assert_eq!(list.len(), 1, "{list:?}");
    let c = list[0];
    assert_eq!(c["path"], "case.person.workplace_unit");
    let values: BTreeSet<String> = c["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        values,
        BTreeSet::from([
            "Trường THCS Lạch Tray".to_string(),
            "Công ty Cảng Hải Phòng".to_string()
        ])
    );
    let devices: BTreeSet<String> = c["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["device"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(devices.len(), 1, "both devices carry the same name here");
    for v in c["values"].as_array().unwrap() {
        assert!(v["user"].as_str().unwrap().contains("canbo.lachtray"));
        assert!(v["time"].as_i64().unwrap() > 0);
    }
    // Both devices see the conflict locally too.
    assert_eq!(shared::doc::conflicts(&a.replica.docs[&id].doc).len(), 1);

    // The reviewer picks a value; it flows back to both devices and the queue empties.
    let (status, _) = app
        .post_json(
            &reviewer.token,
            &format!("/api/review/conflicts/{}/resolve", c["id"]),
            &json!({"value": "Công ty Cảng Hải Phòng"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    for d in [&a, &b] {
        assert_eq!(
            d.case(&id).unwrap().person.workplace_unit,
            "Công ty Cảng Hải Phòng"
        );
        assert!(shared::doc::conflicts(&d.replica.docs[&id].doc).is_empty());
    }
    let (_, open) = app
        .get_json(&reviewer.token, "/api/review/conflicts")
        .await
        .unwrap();
    let this = |v: &Value| -> Vec<Value> {
        v.as_array()
            .unwrap()
            .iter()
            .filter(|c| c["doc_id"] == id.as_str())
            .cloned()
            .collect()
    };
    assert!(this(&open).is_empty());
    let (_, closed) = app
        .get_json(&reviewer.token, "/api/review/conflicts?state=closed")
        .await
        .unwrap();
    assert_eq!(
        this(&closed)[0]["resolved_by"].as_str().unwrap(),
        "Nguyễn Thị Bích Ngọc (bantochuc)"
    );
}

#[tokio::test]
async fn a_repeated_request_is_harmless_and_acknowledged_again() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let id = dev
        .create_case("phuong-11-cb2", "Vũ Thị Hạnh", [3; 16])
        .unwrap();
    let (req, _) = dev.replica.prepare(None);
    for _ in 0..3 {
        let (status, body) = dev.send(&req).await.unwrap();
        assert_eq!(status, 200);
        let resp = shared::sync::decode_response(&body).unwrap();
        assert_eq!(resp.accepted, vec![id.clone()]);
    }
    let n = inspect::changes_of_doc(&app.store().conn(), id.as_str()).unwrap();
    assert_eq!(n, 1);
}

/// 50 devices in 10 communes, random offline periods, concurrent edits of shared files,
/// requests dropped and duplicated at random. At the end every device holds exactly the
/// server's documents of its scope and every acknowledged change is on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_devices_in_ten_communes_converge_over_a_lossy_network() {
    let app = spawn_app().await;
    let communes: Vec<String> = (1..=10).map(|i| format!("phuong-{i:02}")).collect();
    for (i, c) in communes.iter().enumerate() {
        for k in 0..5 {
            server::auth::create_user(
                app.store(),
                &format!("sim{i}-{k}"),
                &format!("Cán bộ {i}-{k}"),
                "demo2026",
                server::auth::Role::Cadre,
                c,
            )
            .unwrap();
        }
    }
    let mut devices: Vec<Device> = Vec::new();
    for i in 0..10 {
        for k in 0..5 {
            devices.push(app.device(&format!("sim{i}-{k}")).await.unwrap());
        }
    }
    let mut rng = XorShift::new(0x00C0_FFEE);
    for d in devices.iter_mut() {
        d.sync().await.unwrap();
    }
    let fields = [
        "case.person.workplace_unit",
        "case.person.residence_unit",
        "case.source.helper_name",
        "case.person.religion",
    ];
    for round in 0..12 {
        for (n, d) in devices.iter_mut().enumerate() {
            // Some devices are away this round: they edit offline and do not sync.
            let online = rng.below(100) < 60;
            // Most edits hit the same few files, to force concurrent edits.
            tests::random_offline_edits(d, &mut rng, &fields, &format!("{round}-{n}"));
            if online {
                let fault = match rng.below(10) {
                    0 => Fault::DropRequest,
                    1 => Fault::DropResponse,
                    2 => Fault::Duplicate,
                    _ => Fault::None,
                };
                d.sync_once(fault).await.unwrap();
            }
        }
    }
    // Connectivity returns for everyone: sync until quiet, twice so everyone sees everything.
    for _ in 0..2 {
        for d in devices.iter_mut() {
            d.sync().await.unwrap();
        }
    }
    let server = app.server_heads().unwrap();
    // Each file's organisation path, read once on a reader (not once per device).
    let paths: BTreeMap<String, String> = {
        let conn = app.store().read();
        server
            .keys()
            .map(|id| {
                let org = docs::doc_org(&conn, id.as_str()).unwrap().unwrap();
                (id.clone(), orgs::path_of(&conn, &org).unwrap().unwrap())
            })
            .collect()
    };
    let mut acknowledged = 0;
    for d in devices.iter_mut() {
        let scope = org_path(&app, &d.scope_org);
        let expected: BTreeMap<String, Vec<automerge::ChangeHash>> = server
            .iter()
            .filter(|(id, _)| paths[id.as_str()].starts_with(&scope))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        acknowledged += d.assert_converged(&expected, &app.store().read());
    }
    assert!(
        acknowledged > 100,
        "the simulation exercised the protocol ({acknowledged} acks)"
    );
    let open = views::count_open_conflicts(&app.store().conn()).unwrap();
    assert!(open > 0, "concurrent edits produced conflicts for review");
}

#[tokio::test]
async fn signing_in_again_with_the_same_actor_reopens_the_device_and_its_unsent_changes_go_through()
{
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    let id = dev.doc_ids()[0].clone();
    dev.edit(&id, "case.person.religion", json!("Phật giáo"))
        .unwrap();
    // The session expires while the edit is still on the device.
    inspect::expire_sessions_of(&app.store().conn(), &[dev.device_id.as_str()], 0).unwrap();
    assert!(dev.sync_once(Fault::None).await.is_err());
    let resp: serde_json::Value = app
        .http
        .post(format!("{}/api/login", app.url))
        .json(&json!({"username": "canbo.lachtray", "password": "demo2026", "actor": dev.actor.to_hex_string()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        resp["device_id"],
        dev.device_id.as_str(),
        "the same device is reopened"
    );
    dev.token = resp["token"].as_str().unwrap().to_string();
    dev.sync().await.unwrap();
    assert!(dev.replica.docs[&id].rejected.is_none());
    let reviewer = app.device("bantochuc").await.unwrap();
    let (_, detail) = app
        .get_json(&reviewer.token, &format!("/api/review/cases/{id}"))
        .await
        .unwrap();
    assert_eq!(detail["case"]["person"]["religion"], "Phật giáo");
}

#[tokio::test]
async fn the_log_keeps_changes_deflated_and_the_pull_sends_them_plain() {
    let app = spawn_app().await;
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let id = a
        .create_case("phuong-11-cb1", "Lương Thị Nén", [7; 16])
        .unwrap();
    // A long value makes a change well above Automerge's 256-byte compression threshold.
    a.edit(
        &id,
        "case.person.workplace_unit",
        json!("Tổ dân phố ".repeat(60)),
    )
    .unwrap();
    a.sync().await.unwrap();
    let stored = inspect::change_bytes_of(&app.store().conn(), id.as_str()).unwrap();
    assert!(
        stored
            .iter()
            .any(|b| shared::limits::is_compressed_chunk(b))
    );
    let mut b = app.device("canbo.lachtray").await.unwrap();
    let (req, _) = b.replica.prepare(None);
    let (status, body) = b.send(&req).await.unwrap();
    assert_eq!(status, 200);
    let resp = shared::sync::decode_response(&body).unwrap();
    let pulled = resp.pull.iter().find(|d| d.doc_id == id).unwrap();
    assert!(!pulled.changes.is_empty());
    assert!(
        pulled
            .changes
            .iter()
            .all(|c| !shared::limits::is_compressed_chunk(&c.0))
    );
    // And it is the same change: the second device ends with the first one's file.
    b.sync().await.unwrap();
    assert_eq!(
        b.case(&id).unwrap().person.workplace_unit,
        "Tổ dân phố ".repeat(60)
    );
}

/// A pull names each change's dependencies by a prefix of their hash; the device puts the
/// whole hashes back from the files it holds and ends with the very changes the server
/// has. A device that cannot (it lost the change a new one follows) takes nothing of the
/// response and asks again for whole hashes.
#[tokio::test]
async fn a_pull_sends_short_dependencies_and_a_device_that_cannot_rebuild_asks_for_whole_ones() {
    let app = spawn_app().await;
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let mut b = app.device("canbo.lachtray").await.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let ids: Vec<_> = b.doc_ids().into_iter().take(3).collect();
    for id in &ids {
        b.edit(id, "case.person.ethnicity", json!("Tày")).unwrap();
    }
    b.sync().await.unwrap();

    // The same page, asked for with and without short dependencies.
    let (mut full_req, _) = a.replica.prepare(None);
    full_req.short_deps = false;
    let (_, body) = a.send(&full_req).await.unwrap();
    let full = shared::sync::decode_response(&body).unwrap();
    let (req, pending) = a.replica.prepare(None);
    assert!(req.short_deps);
    let (_, body) = a.send(&req).await.unwrap();
    let short = shared::sync::decode_response(&body).unwrap();
    let sizes = |r: &shared::sync::SyncResponse| {
        r.pull
            .iter()
            .flat_map(|d| &d.changes)
            .map(|c| c.0.len())
            .sum::<usize>()
    };
    let n = short.pull.iter().map(|d| d.changes.len()).sum::<usize>();
    assert_eq!(n, 3);
    assert!(
        short
            .pull
            .iter()
            .flat_map(|d| &d.changes)
            .all(|c| shared::short_deps::is_short(&c.0))
    );
    assert!(sizes(&short) + n * (32 - shared::short_deps::PREFIX) <= sizes(&full));
    let before: BTreeMap<_, _> = ids
        .iter()
        .map(|id| (id.clone(), a.replica.docs[id].doc.clone()))
        .collect();
    a.replica.receive(pending, short).unwrap();
    for id in &ids {
        let mine = a.replica.docs.get_mut(id).unwrap().doc.get_heads();
        let theirs = b.replica.docs.get_mut(id).unwrap().doc.get_heads();
        assert_eq!(mine, theirs);
        assert_eq!(a.case(id).unwrap().person.ethnicity, "Tày");
    }

    // The device loses the change it received for one file; the next one follows it.
    let lost = ids[0].clone();
    a.replica.docs.get_mut(&lost).unwrap().doc = before[&lost].clone();
    b.edit(&lost, "case.person.ethnicity", json!("Nùng"))
        .unwrap();
    b.sync().await.unwrap();
    let cursor = a.replica.cursor;
    let (req, pending) = a.replica.prepare(None);
    let (_, body) = a.send(&req).await.unwrap();
    let resp = shared::sync::decode_response(&body).unwrap();
    let err = a.replica.receive(pending, resp).unwrap_err();
    assert!(
        matches!(err, shared::sync::SyncError::ShortDeps(..)),
        "{err}"
    );
    assert!(err.to_string().contains("không dựng lại được"));
    assert!(err.to_string().contains("could not be rebuilt"));
    assert_eq!(
        a.replica.cursor, cursor,
        "nothing of the response was taken"
    );
    let (req, _) = a.replica.prepare(None);
    assert!(!req.short_deps, "the next request asks for whole hashes");
    let (_, body) = a.send(&req).await.unwrap();
    let resp = shared::sync::decode_response(&body).unwrap();
    assert!(
        resp.pull
            .iter()
            .flat_map(|d| &d.changes)
            .all(|c| !shared::short_deps::is_short(&c.0))
    );
    // The device syncs on; the other files are untouched by the lost one.
    a.sync().await.unwrap();
    assert!(
        !a.replica.full_deps,
        "short dependencies again after a whole response"
    );
    assert_eq!(a.case(&ids[1]).unwrap().person.ethnicity, "Tày");
}

/// A report that keeps its read open for as long as it takes (on its own snapshot) does
/// not hold up a sync: the sync is answered and its change is visible to new readers
/// while the report still reads the state it started with.
#[tokio::test]
async fn a_report_held_open_does_not_delay_a_concurrent_sync() {
    let app = spawn_app().await;
    let mut cadre = app.device("canbo.lachtray").await.unwrap();
    cadre.sync().await.unwrap();
    fn count(conn: &server::db::Connection) -> i64 {
        inspect::count_rows(conn, Table::Projections).unwrap()
    }
    let store = app.state.store.clone();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<i64>();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let report = std::thread::spawn(move || {
        let mut conn = store.read();
        let tx = conn.transaction().unwrap();
        let first = count(&tx);
        started_tx.send(first).unwrap();
        // Held until the test has synced; a sync waiting on this report would only
        // finish after this minute.
        let released = release_rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_ok();
        let again = count(&tx);
        tx.commit().unwrap();
        (released, first, again)
    });
    let before = started_rx.await.unwrap();
    cadre
        .create_case("phuong-11-cb1", "Lê Văn Trong Lúc", [21; 16])
        .unwrap();
    cadre.sync().await.unwrap();
    assert_eq!(cadre.unsynced_docs(), 0);
    assert_eq!(count(&app.store().read()), before + 1);
    release_tx.send(()).unwrap();
    let (released, first, again) = report.join().unwrap();
    assert!(
        released,
        "the sync was answered only after the report ended"
    );
    assert_eq!(first, again, "the report read one consistent state");
}

/// One round trip of a device that takes whole documents, with a page of `max` bytes.
async fn whole_round(dev: &mut Device, max: u64) -> shared::sync::SyncResponse {
    let (req, pending) = dev.replica.prepare(Some(max));
    assert!(req.whole);
    let (status, body) = dev.send(&req).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let resp = shared::sync::decode_response(&body).unwrap();
    dev.replica.receive(pending, resp.clone()).unwrap();
    resp
}

#[tokio::test]
async fn a_first_sync_of_whole_documents_resumes_where_it_stopped_and_misses_nothing() {
    let app = spawn_app().await;
    let rules = app.state.rules();
    let ctx = shared::rules::EvalContext::new(
        server::casedocs::today_vn(),
        &rules.settings,
        &rules.calendar,
    );
    let mut writer = app.device("canbo.lachtray").await.unwrap();
    writer.sync().await.unwrap();
    let files = writer.doc_ids().len();
    assert!(files > 20, "the ward has files to page through ({files})");

    // One file's kept summary is missing (a store from before they were kept) and
    // another's is older than its log: both are loaded and summarised instead.
    inspect::spoil_kept_summaries(&app.store().conn()).unwrap();
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.replica.whole = true;
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    let mut count = |resp: &shared::sync::SyncResponse, dev: &mut Device| {
        for w in &resp.whole {
            *received.entry(w.doc_id.to_string()).or_default() += 1;
            // The row's summary is the one the device would compute from the document.
            let doc = &dev.replica.docs[&w.doc_id].doc;
            assert_eq!(
                w.summary,
                shared::summary::of_doc(doc, &ctx),
                "{}",
                w.doc_id
            );
            assert!(
                resp.pull.is_empty(),
                "whole documents come instead of changes"
            );
        }
    };
    // Two small pages: the cursor stays 0 and the resume point moves on.
    let first = whole_round(&mut dev, 16 * 1024).await;
    count(&first, &mut dev);
    assert!(!first.whole.is_empty() && first.more && first.cursor == 0);
    let left = first.remaining.unwrap();
    let second = whole_round(&mut dev, 16 * 1024).await;
    count(&second, &mut dev);
    assert_eq!(second.remaining.unwrap(), left - second.whole.len() as u64);
    assert_ne!(first.resume, second.resume);

    // Meanwhile another device edits a file already sent and creates a new one.
    let sent = first.whole[0].doc_id.clone();
    writer
        .edit(&sent, "case.person.ethnicity", json!("Mường"))
        .unwrap();
    let new = writer
        .create_case("phuong-11-cb1", "Lò Văn Mới", [0xab; 16])
        .unwrap();
    writer.sync().await.unwrap();
    assert_eq!(writer.unsynced_docs(), 0);
    assert_eq!(writer.case(&sent).unwrap().person.ethnicity, "Mường");

    // The answer to the third page is lost: the device asks again from where it was.
    let before = dev.replica.resume.clone();
    dev.sync_once(Fault::DropResponse).await.unwrap();
    assert_eq!(dev.replica.resume, before);
    loop {
        let resp = whole_round(&mut dev, 16 * 1024).await;
        count(&resp, &mut dev);
        if !resp.more {
            break;
        }
    }
    // Every file came once as a whole document (the one created meanwhile may come as
    // either), nothing was skipped, and the edit made meanwhile arrived.
    let server = app.server_heads().unwrap();
    assert_eq!(dev.doc_ids().len(), files + 1);
    for (id, n) in &received {
        assert_eq!(*n, 1, "{id} came {n} times");
    }
    for id in dev.doc_ids() {
        let heads = dev.replica.docs.get_mut(&id).unwrap().doc.get_heads();
        assert_eq!(server[id.as_str()], heads, "{id}");
    }
    assert_eq!(
        dev.case(&sent).unwrap().person.ethnicity,
        "Mường",
        "the edit made during the first sync"
    );
    assert!(dev.doc_ids().contains(&new));
    assert!(dev.replica.cursor > 0 && dev.replica.resume.is_none());

    // A resume point that is not one the server gave is refused, in both languages.
    let mut bad = empty_request();
    bad.whole = true;
    bad.resume = Some("12:../../etc".into());
    let (status, body) = raw_sync(&app, &dev.token, serde_json::to_vec(&bad).unwrap(), false).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "MALFORMED_SYNC", "{body}");
    let vi = body["error"]["message_vi"].as_str().unwrap();
    assert!(vi.contains("không hợp lệ"), "{vi}");
    let en = body["error"]["message_en"].as_str().unwrap();
    assert!(en.contains("not valid"), "{en}");
}
