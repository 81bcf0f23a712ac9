//! One bad device cannot hurt the server or other users: each attack a hostile cadre with
//! ordinary credentials could make is refused with a clear reason, stores nothing, and
//! leaves the server serving everyone else.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{ObjType, ReadDoc};
use serde_json::json;
use server::db::docs;
use server::db::inspect;
use server::db::reports::{self, ConflictState};
use shared::api::{ErrorBody, ErrorCode, RejectionCode};
use shared::sync::{ChangeBytes, DocChanges, DocId, PROTOCOL_VERSION, SyncRequest};
use tests::{Device, Fault, TestApp, spawn_app, spawn_app_with};

fn request(push: Vec<DocChanges>) -> SyncRequest {
    SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        push,
        max_bytes: None,
        dropped: vec![],
        whole: false,
        resume: None,
        short_deps: false,
    }
}

/// A Lạch Tray cadre's device holding the files of its ward, and one of them.
async fn cadre_with_a_file(app: &TestApp) -> (Device, DocId) {
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    let id = dev.doc_ids()[0].clone();
    (dev, id)
}

/// Sends one raw push and returns the rejection code of its document, if any.
async fn push_code(dev: &Device, id: &DocId, changes: Vec<Vec<u8>>) -> Option<RejectionCode> {
    let req = request(vec![DocChanges {
        doc_id: id.clone(),
        changes: changes.into_iter().map(ChangeBytes).collect(),
    }]);
    let (status, body) = dev.send(&req).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let resp = shared::sync::decode_response(&body).unwrap();
    resp.rejected
        .iter()
        .find(|r| &r.doc_id == id)
        .map(|r| r.code.clone())
}

fn server_heads_of(app: &TestApp, id: &DocId) -> Vec<automerge::ChangeHash> {
    app.server_heads().unwrap()[id.as_str()].clone()
}

/// Another device of another ward still syncs normally.
async fn others_still_served(app: &TestApp) {
    let mut other = app.device("canbo.caute").await.unwrap();
    other.sync().await.unwrap();
    assert!(!other.doc_ids().is_empty());
}

#[tokio::test]
async fn a_deeply_nested_change_is_refused_and_the_server_keeps_serving() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    let before = server_heads_of(&app, &id);
    let rd = dev.replica.docs.get_mut(&id).unwrap();
    rd.doc.set_actor(dev.actor.clone());
    let (_, case) = rd.doc.get(automerge::ROOT, "case").unwrap().unwrap();
    let (_, person) = rd.doc.get(&case, "person").unwrap().unwrap();
    let mut obj = person;
    for _ in 0..3000 {
        obj = rd.doc.put_object(&obj, "x", ObjType::Map).unwrap();
    }
    rd.doc.commit();
    let change = rd.doc.get_last_local_change().unwrap().raw_bytes().to_vec();
    assert!(change.len() < 64 * 1024);
    let code = push_code(&dev, &id, vec![change]).await;
    assert_eq!(code, Some(RejectionCode::InvalidDocument));
    assert_eq!(server_heads_of(&app, &id), before, "nothing stored");
    // The device keeps retrying: the server answers the same every time.
    for _ in 0..3 {
        dev.sync_once(Fault::None).await.unwrap();
        assert_eq!(
            dev.replica.docs[&id].rejected.as_ref().unwrap().code,
            RejectionCode::InvalidDocument
        );
    }
    others_still_served(&app).await;
}

#[tokio::test]
async fn a_compressed_change_that_inflates_to_megabytes_is_refused_before_it_is_inflated() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    let before = server_heads_of(&app, &id);
    let rd = dev.replica.docs.get_mut(&id).unwrap();
    rd.doc.set_actor(dev.actor.clone());
    let (_, case) = rd.doc.get(automerge::ROOT, "case").unwrap().unwrap();
    let (_, person) = rd.doc.get(&case, "person").unwrap().unwrap();
    rd.doc
        .put(&person, "full_name", "a".repeat(16 * 1024 * 1024))
        .unwrap();
    rd.doc.commit();
    let mut change = rd.doc.get_last_local_change().unwrap().clone();
    let compressed = change.bytes().to_vec();
    assert!(compressed.len() < 100_000, "{} bytes", compressed.len());
    let code = push_code(&dev, &id, vec![compressed]).await;
    assert_eq!(code, Some(RejectionCode::LimitExceeded));
    assert_eq!(server_heads_of(&app, &id), before);

    // A chunk labelled as a compressed change holding 64 MB of zeros.
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let body = enc.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 2];
    shared::limits::write_uleb128(&mut chunk, body.len() as u64);
    chunk.extend(body);
    let code = push_code(&dev, &id, vec![chunk]).await;
    assert_eq!(code, Some(RejectionCode::LimitExceeded));
    others_still_served(&app).await;
}

#[tokio::test]
async fn a_long_name_and_too_many_documents_in_one_request_are_refused() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    dev.edit(&id, "case.person.full_name", json!("x".repeat(100_000)))
        .unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    let rej = dev.replica.docs[&id].rejected.clone().unwrap();
    assert_eq!(rej.code, RejectionCode::LimitExceeded);
    assert!(rej.message_vi.contains("quá dài"), "{}", rej.message_vi);
    assert!(
        rej.message_en.contains("string too long"),
        "{}",
        rej.message_en
    );

    let push: Vec<DocChanges> = (0..5001u32)
        .map(|i| {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&i.to_le_bytes());
            DocChanges {
                doc_id: DocId::from_bytes(b),
                changes: vec![],
            }
        })
        .collect();
    let (status, body) = dev.send(&request(push)).await.unwrap();
    assert_eq!(status, 413);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "TOO_MANY_DOCUMENTS");
}

/// A file with `n` introducers, each with a name and a member id.
fn big_case(org: &str, n: usize) -> shared::model::CaseFile {
    shared::model::CaseFile {
        org_id: org.into(),
        person: shared::model::Person {
            full_name: "Nguyễn Văn Nhiều".into(),
            ..Default::default()
        },
        introducers: (0..n)
            .map(|i| shared::model::Introducer {
                member_id: format!("m{i}"),
                name: format!("Người {i}"),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn edit_all_introducers(dev: &mut Device, id: &DocId, n: usize, tag: &str) {
    let rd = dev.replica.docs.get_mut(id).unwrap();
    rd.doc.set_actor(dev.actor.clone());
    let (_, case) = rd.doc.get(automerge::ROOT, "case").unwrap().unwrap();
    let (_, list) = rd.doc.get(&case, "introducers").unwrap().unwrap();
    for i in 0..n {
        let (_, intro) = rd.doc.get(&list, i).unwrap().unwrap();
        rd.doc.put(&intro, "name", format!("{tag} {i}")).unwrap();
        rd.doc
            .put(&intro, "member_id", format!("{tag}{i}"))
            .unwrap();
    }
    rd.doc.commit();
}

#[tokio::test]
async fn a_file_with_five_thousand_conflicts_merges_quickly_without_blocking_other_devices() {
    let app = spawn_app().await;
    let n = 2500;
    let mut a = app.device("canbo.lachtray").await.unwrap();
    a.sync().await.unwrap();
    let id = DocId::from_bytes([0xc0; 16]);
    let mut d = automerge::AutoCommit::new().with_actor(a.actor.clone());
    shared::doc::init_case_doc(&mut d, &big_case("phuong-11-cb1", n)).unwrap();
    d.commit();
    a.replica
        .docs
        .insert(id.clone(), shared::sync::ReplicaDoc::new(d));
    a.sync().await.unwrap();
    assert!(a.replica.docs[&id].rejected.is_none());
    let mut b = app.device("canbo.lachtray").await.unwrap();
    b.sync().await.unwrap();
    edit_all_introducers(&mut a, &id, n, "A");
    edit_all_introducers(&mut b, &id, n, "B");
    a.sync().await.unwrap();

    // While B's push opens 5,000 conflicts, another device keeps syncing.
    let mut c = app.device("canbo.caute").await.unwrap();
    c.sync().await.unwrap();
    let started = Instant::now();
    let push = tokio::spawn(async move {
        b.sync_once(Fault::None).await.unwrap();
        (b, started.elapsed())
    });
    let mut worst = Duration::ZERO;
    while !push.is_finished() {
        let t = Instant::now();
        c.sync_once(Fault::None).await.unwrap();
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (b, merge_time) = push.await.unwrap();
    assert!(b.replica.docs[&id].rejected.is_none());
    let (lo, hi) = server::casedocs::scope_range("/");
    let open = reports::conflicts_in_range(
        &app.store().conn(),
        ConflictState::Open,
        &lo,
        &hi,
        Some(id.as_str()),
    )
    .unwrap();
    assert_eq!(open.len(), 2 * n);
    println!(
        "5,000-conflict merge: {merge_time:?}; other device's slowest sync meanwhile: {worst:?}"
    );
    // Generous bounds for an unoptimised test build on a busy 2-core machine; the
    // quadratic merge this replaces took 25 s, and blocked every other sync throughout.
    assert!(merge_time < Duration::from_secs(8), "{merge_time:?}");
    assert!(worst < Duration::from_secs(2), "{worst:?}");
}

#[tokio::test]
async fn the_history_of_a_file_with_thousands_of_changes_is_paged_and_does_not_block_syncs() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    for i in 0..3000 {
        dev.edit(&id, "case.person.workplace_unit", json!(format!("Tổ {i}")))
            .unwrap();
    }
    dev.sync().await.unwrap();
    let reviewer = app.device("bantochuc").await.unwrap();
    let resp = app
        .http
        .get(format!(
            "{}/api/review/cases/{}/history?offset=10&limit=100",
            app.url,
            id.as_str()
        ))
        .bearer_auth(&reviewer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let total: usize = resp.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(total > 3000, "{total}");
    let rows: Vec<serde_json::Value> = resp.json().await.unwrap();
    assert_eq!(rows.len(), 100);
    assert!(
        rows.iter()
            .any(|r| r["fields"][0] == "case.person.workplace_unit")
    );

    // The whole history on the case page, while another device syncs.
    let mut c = app.device("canbo.caute").await.unwrap();
    c.sync().await.unwrap();
    let url = format!(
        "{}/api/review/cases/{}/history?limit=1000",
        app.url,
        id.as_str()
    );
    let http = app.http.clone();
    let token = reviewer.token.clone();
    let page = tokio::spawn(async move {
        for offset in [0, 1000, 2000, 3000] {
            let r = http
                .get(format!("{url}&offset={offset}"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    });
    let mut worst = Duration::ZERO;
    while !page.is_finished() {
        let t = Instant::now();
        c.sync_once(Fault::None).await.unwrap();
        worst = worst.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    page.await.unwrap();
    println!("slowest sync while the history was read: {worst:?}");
    assert!(worst < Duration::from_secs(2), "{worst:?}");
}

#[tokio::test]
async fn a_change_pushed_under_a_second_document_id_is_refused_and_leaves_no_phantom() {
    let app = spawn_app().await;
    let (mut dev, _) = cadre_with_a_file(&app).await;
    // A file created on this device, so every change is the device's own.
    let id = dev
        .create_case("phuong-11-cb1", "Phạm Thị Thật", [0x65; 16])
        .unwrap();
    dev.edit(&id, "case.person.ethnicity", json!("Kinh"))
        .unwrap();
    dev.sync().await.unwrap();
    assert!(dev.replica.docs[&id].rejected.is_none());
    let all: Vec<Vec<u8>> = dev
        .replica
        .docs
        .get_mut(&id)
        .unwrap()
        .doc
        .get_changes(&[])
        .iter()
        .map(|c| c.raw_bytes().to_vec())
        .collect();
    let phantom = DocId::from_bytes([0x66; 16]);
    let code = push_code(&dev, &phantom, all).await;
    assert_eq!(code, Some(RejectionCode::ChangeOfOtherDoc));
    let stored = docs::doc_org(&app.store().conn(), phantom.as_str()).unwrap();
    assert_eq!(stored, None);
    // Exports of every file still work.
    let export = server::admin::export_case_files(app.store(), "/").unwrap();
    assert!(!export.case_files.is_empty());
}

#[tokio::test]
async fn the_same_changes_under_two_new_document_ids_in_one_push_are_stored_once() {
    let app = spawn_app().await;
    let (dev, _) = cadre_with_a_file(&app).await;
    // A new file made outside the device's replica, so nothing of it is stored yet.
    let mut d = automerge::AutoCommit::new().with_actor(dev.actor.clone());
    shared::doc::init_case_doc(&mut d, &big_case("phuong-11-cb1", 0)).unwrap();
    d.commit();
    let changes: Vec<ChangeBytes> = d
        .get_changes(&[])
        .iter()
        .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
        .collect();
    let (real, phantom) = (DocId::from_bytes([0x68; 16]), DocId::from_bytes([0x69; 16]));
    // Both ids in one request: the first is stored, and the second is refused because
    // the first (written earlier in the same push) now holds those changes.
    let req = request(vec![
        DocChanges {
            doc_id: real.clone(),
            changes: changes.clone(),
        },
        DocChanges {
            doc_id: phantom.clone(),
            changes,
        },
    ]);
    let (status, body) = dev.send(&req).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let resp = shared::sync::decode_response(&body).unwrap();
    assert_eq!(resp.accepted, vec![real.clone()]);
    assert_eq!(resp.rejected.len(), 1);
    assert_eq!(resp.rejected[0].doc_id, phantom);
    assert_eq!(resp.rejected[0].code, RejectionCode::ChangeOfOtherDoc);
    let conn = app.store().conn();
    assert_eq!(
        docs::doc_org(&conn, real.as_str()).unwrap().as_deref(),
        Some("phuong-11-cb1")
    );
    assert_eq!(docs::doc_org(&conn, phantom.as_str()).unwrap(), None);
}

#[tokio::test]
async fn a_cadre_cannot_forge_or_clear_the_reviewers_return_note() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    dev.edit(&id, "review.comment", json!("Đã duyệt (giả)"))
        .unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    let rej = dev.replica.docs[&id].rejected.clone().unwrap();
    assert_eq!(rej.code, RejectionCode::FieldNotWritable);
    assert!(
        rej.message_en.contains("review.comment"),
        "{}",
        rej.message_en
    );

    // Nor create a file that arrives already returned or approved.
    let new_id = DocId::from_bytes([0x77; 16]);
    let mut d = automerge::AutoCommit::new().with_actor(dev.actor.clone());
    shared::doc::init_case_doc(&mut d, &big_case("phuong-11-cb1", 0)).unwrap();
    shared::doc::set_field(
        &mut d,
        &shared::doc::parse_path("review.returned"),
        &json!(true),
    )
    .unwrap();
    d.commit();
    dev.replica
        .docs
        .insert(new_id.clone(), shared::sync::ReplicaDoc::new(d));
    dev.sync_once(Fault::None).await.unwrap();
    assert_eq!(
        dev.replica.docs[&new_id].rejected.as_ref().unwrap().code,
        RejectionCode::FieldNotWritable
    );

    // Replacing the whole case map from the root is refused too.
    let other = dev.doc_ids()[1].clone();
    let rd = dev.replica.docs.get_mut(&other).unwrap();
    rd.doc.set_actor(dev.actor.clone());
    rd.doc
        .put_object(automerge::ROOT, "case", ObjType::Map)
        .unwrap();
    rd.doc.commit();
    dev.sync_once(Fault::None).await.unwrap();
    assert_eq!(
        dev.replica.docs[&other].rejected.as_ref().unwrap().code,
        RejectionCode::FieldNotWritable
    );
}

#[tokio::test]
async fn scopes_compare_paths_exactly_underscores_and_case_do_not_leak() {
    let app = spawn_app().await;
    let reference = json!({
        "orgs": [
            {"id": "xa-1", "parent_id": "ngo-quyen", "name": "Xã 1", "kind": "committee", "grassroots": true},
            {"id": "xa_1", "parent_id": "ngo-quyen", "name": "Xã gạch dưới", "kind": "committee", "grassroots": true},
            {"id": "XA-1", "parent_id": "ngo-quyen", "name": "Xã chữ hoa", "kind": "committee", "grassroots": true}
        ],
        "users": [{"username": "canbo.xa1", "display_name": "Cán bộ xã 1", "password": "matkhau-xa1",
                   "role": "cadre", "scope_org": "xa-1"}]
    });
    server::admin::import_reference(app.store(), &reference.to_string()).unwrap();
    let mut admin = app.device("admin").await.unwrap();
    for (org, name, b) in [
        ("xa-1", "Người Xã Một", 1u8),
        ("xa_1", "Người Gạch Dưới", 2),
        ("XA-1", "Người Chữ Hoa", 3),
    ] {
        admin.create_case(org, name, [0xd0 + b; 16]).unwrap();
    }
    admin.sync().await.unwrap();
    let mut dev = app
        .device_with_password("canbo.xa1", "matkhau-xa1")
        .await
        .unwrap();
    dev.sync().await.unwrap();
    let names: BTreeSet<String> = dev
        .doc_ids()
        .iter()
        .map(|id| dev.case(id).unwrap().person.full_name)
        .collect();
    assert_eq!(names, BTreeSet::from(["Người Xã Một".to_string()]));
    let (status, reference) = app.get_json(&dev.token, "/api/reference").await.unwrap();
    assert_eq!(status, 200);
    let orgs: BTreeSet<&str> = reference["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, BTreeSet::from(["xa-1"]));
    // Writing into the look-alike organisations is refused.
    let id = dev.create_case("xa_1", "Lọt phạm vi", [0xd9; 16]).unwrap();
    dev.sync_once(Fault::None).await.unwrap();
    assert_eq!(
        dev.replica.docs[&id].rejected.as_ref().unwrap().code,
        RejectionCode::OutOfScope
    );
    // Organisation ids that are not path segments are refused on import.
    let bad =
        json!({"orgs": [{"id": "xa 1%", "parent_id": "ngo-quyen", "name": "X", "kind": "branch"}]});
    assert!(server::admin::import_reference(app.store(), &bad.to_string()).is_err());
}

#[tokio::test]
async fn a_csv_export_neutralises_cells_that_a_spreadsheet_would_run_as_formulas() {
    let app = spawn_app().await;
    let (mut dev, id) = cadre_with_a_file(&app).await;
    dev.edit(
        &id,
        "case.person.full_name",
        json!("=HYPERLINK(\"http://x.example\",\"Bấm\")"),
    )
    .unwrap();
    dev.sync().await.unwrap();
    let reviewer = app.device("bantochuc").await.unwrap();
    let csv = app
        .http
        .get(format!(
            "{}/api/review/export/cases?format=csv&org=phuong-11",
            app.url
        ))
        .bearer_auth(&reviewer.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("'=HYPERLINK("),
        "{}",
        &csv[..csv.len().min(600)]
    );
    assert!(!csv.contains(",=HYPERLINK(") && !csv.contains("\"=HYPERLINK("));
}

#[tokio::test]
async fn the_eleventh_wrong_password_is_throttled_for_known_and_unknown_users_alike() {
    let app = spawn_app().await;
    let attempt = |user: &'static str, password: &'static str| {
        let http = app.http.clone();
        let url = format!("{}/api/login", app.url);
        async move {
            http.post(url)
                .json(&json!({"username": user, "password": password, "device_name": "x"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for user in ["canbo.lachtray", "khong-ton-tai"] {
        for _ in 0..10 {
            assert_eq!(attempt(user, "sai-mat-khau").await, 401);
        }
        assert_eq!(attempt(user, "sai-mat-khau").await, 429);
    }
    // Locked: even the right password waits.
    assert_eq!(attempt("canbo.lachtray", "demo2026").await, 429);
    // Other accounts are not affected.
    assert_eq!(attempt("canbo.caute", "demo2026").await, 200);
    // The central office's login form is throttled by the same counts.
    let form = app
        .http
        .post(format!("{}/central/login", app.url))
        .form(&[("username", "canbo.lachtray"), ("password", "demo2026")])
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 429);
}

#[tokio::test]
async fn a_half_sent_request_is_dropped_after_the_read_timeout() {
    let app = spawn_app_with(server::ServerConfig {
        read_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.url.trim_start_matches("http://").to_string();
    // Headers that never end.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"POST /api/login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was held open");
    // A body that stops half-way.
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"user",
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection was held open");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
    others_still_served(&app).await;
}

#[tokio::test]
async fn a_file_moved_to_another_ward_leaves_the_first_device_after_its_edits_arrive() {
    let app = spawn_app().await;
    let (mut a, id) = cadre_with_a_file(&app).await;
    let mut b = app.device("canbo.caute").await.unwrap();
    b.sync().await.unwrap();
    assert!(!b.doc_ids().contains(&id));
    // An edit made offline on the first device, then the office moves the file.
    a.edit(&id, "case.person.ethnicity", json!("Mường"))
        .unwrap();
    let reviewer = app.device("bantochuc").await.unwrap();
    let (status, body) = app
        .post_json(
            &reviewer.token,
            &format!("/api/review/cases/{}/move", id.as_str()),
            &json!({"org_id": "phuong-04-cb1"}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    a.sync().await.unwrap();
    assert!(
        !a.doc_ids().contains(&id),
        "the moved file left the first device"
    );
    assert!(
        !a.acknowledged.is_empty(),
        "its edit was acknowledged first"
    );
    b.sync().await.unwrap();
    let case = b.case(&id).unwrap();
    assert_eq!(case.org_id, "phuong-04-cb1");
    assert_eq!(case.person.ethnicity, "Mường");
    // A later sync of the first device does not bring it back.
    a.sync().await.unwrap();
    assert!(!a.doc_ids().contains(&id));
}

#[tokio::test]
async fn a_narrowed_account_scope_removes_files_and_a_widened_one_brings_them() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    let all = dev.doc_ids().len();
    let in_branch = |dev: &Device| {
        dev.doc_ids()
            .iter()
            .filter(|id| dev.case(id).unwrap().org_id == "phuong-11-cb1")
            .count()
    };
    let branch = in_branch(&dev);
    assert!(branch > 0 && branch < all);
    let set_scope = |org: &str| {
        inspect::move_account_scope(&app.store().conn(), "canbo.lachtray", org).unwrap();
    };
    set_scope("phuong-11-cb1");
    dev.sync().await.unwrap();
    assert_eq!(dev.doc_ids().len(), branch);
    set_scope("phuong-11");
    dev.sync().await.unwrap();
    assert_eq!(dev.doc_ids().len(), all);
}

#[tokio::test]
async fn central_pages_run_under_a_strict_content_security_policy_with_no_inline_code() {
    let app = spawn_app_with(server::ServerConfig {
        secure_cookies: true,
        ..Default::default()
    })
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http
        .post(format!("{}/central/login", app.url))
        .form(&[("username", "bantochuc"), ("password", "demo2026")])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_string();
    for path in [
        "/central/login",
        "/central",
        "/central/conflicts",
        "/central/findings",
        "/central/deadlines",
        "/central/cases?org=phuong-11",
    ] {
        let resp = http
            .get(format!("{}{path}", app.url))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let html = resp.text().await.unwrap();
        for inline in ["<style", "<script", " style=\"", " onclick="] {
            assert!(!html.contains(inline), "{path} has {inline}");
        }
    }
    let css = http
        .get(format!("{}/central/app.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), 200);
    assert!(css.text().await.unwrap().contains(".chart"));
}

#[tokio::test]
async fn expired_sessions_and_devices_nobody_used_are_purged_but_writers_are_kept() {
    let app = spawn_app().await;
    let idle = app.device("canbo.caute").await.unwrap();
    let (mut writer, id) = cadre_with_a_file(&app).await;
    writer
        .edit(&id, "case.person.ethnicity", json!("Tày"))
        .unwrap();
    writer.sync().await.unwrap();
    {
        let conn = app.store().conn();
        let long_ago = 1_000_000i64;
        let both = [idle.device_id.as_str(), writer.device_id.as_str()];
        inspect::expire_sessions_of(&conn, &both, long_ago).unwrap();
        inspect::backdate_devices(&conn, &both, long_ago).unwrap();
    }
    let (sessions, devices) = server::auth::purge(app.store(), 30).unwrap();
    assert!(sessions >= 2, "{sessions}");
    assert_eq!(devices, 1);
    let conn = app.store().conn();
    let left =
        inspect::existing_devices(&conn, &[idle.device_id.as_str(), writer.device_id.as_str()])
            .unwrap();
    assert_eq!(left, vec![writer.device_id.clone()]);
}

/// The error body of a refused request: its code and both messages, each non-empty.
fn refusal(body: &serde_json::Value) -> (ErrorCode, String, String) {
    let body: ErrorBody = serde_json::from_value(body.clone()).expect("the JSON error body");
    assert!(!body.error.message_vi.is_empty() && !body.error.message_en.is_empty());
    (
        body.error.code,
        body.error.message_vi,
        body.error.message_en,
    )
}

#[tokio::test]
async fn a_malformed_json_body_or_query_is_answered_with_the_bilingual_error_body() {
    let app = spawn_app().await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let send = |path: &str, body: &'static str, json: bool| {
        let mut req = app
            .http
            .post(format!("{}{path}", app.url))
            .bearer_auth(&reviewer.token)
            .body(body);
        if json {
            req = req.header("content-type", "application/json");
        }
        req.send()
    };
    let resp = send("/api/review/conflicts/1/resolve", "{\"value\": ", true)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let (code, vi, en) = refusal(&resp.json().await.unwrap());
    assert_eq!(code, ErrorCode::BadJson);
    assert!(vi.starts_with("Nội dung JSON không đọc được"), "{vi}");
    assert!(en.starts_with("The JSON body could not be read"), "{en}");
    // Well-formed JSON without the fields, and JSON sent as something else.
    let resp = send("/api/review/cases/x/return", "{\"note\": 1}", true)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    assert_eq!(refusal(&resp.json().await.unwrap()).0, ErrorCode::BadJson);
    let resp = send("/api/actors", "{\"actor\": \"ab\"}", false)
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    assert_eq!(refusal(&resp.json().await.unwrap()).0, ErrorCode::BadJson);
    // A query naming a field twice does not fit its struct.
    let (status, body) = app
        .get_json(
            &reviewer.token,
            "/api/review/conflicts?state=open&state=all",
        )
        .await
        .unwrap();
    assert_eq!(status, 400);
    assert_eq!(refusal(&body).0, ErrorCode::BadQuery);
}

/// The central pages answer a query or form that does not fit with their own error page,
/// in the page's language, not with axum's plain text.
#[tokio::test]
async fn a_central_page_refuses_a_query_or_form_that_does_not_fit_with_its_error_page() {
    let app = spawn_app().await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let resp = app
        .http
        .get(format!(
            "{}/central/conflicts?state=open&state=all",
            app.url
        ))
        .bearer_auth(&reviewer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains("Tham số truy vấn không hợp lệ"), "{html}");
    // The sign-in form without its password, in English when the page is.
    let resp = app
        .http
        .post(format!("{}/central/login", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", "hoso_lang=en")
        .body("username=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("The form's fields could not be read"),
        "{html}"
    );
}

/// A server working on one sync request at a time, with `queue` more waiting at most
/// `max_wait` each.
async fn app_with_one_turn(queue: usize, max_wait: Duration) -> TestApp {
    spawn_app_with(server::ServerConfig {
        sync_turns: server::sync_api::TurnsConfig {
            workers: 1,
            queue,
            max_wait,
        },
        ..Default::default()
    })
    .await
}

/// Sends a device's push (within 20 s) and checks it is answered busy, in both
/// languages.
async fn assert_answered_busy(dev: &mut Device) {
    let (req, _) = dev.replica.prepare(None);
    let (status, body) = tokio::time::timeout(Duration::from_secs(20), dev.send(&req))
        .await
        .expect("the busy answer never came")
        .unwrap();
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&body));
    let err: ErrorBody = serde_json::from_slice(&body).unwrap();
    assert_eq!(err.error.code, ErrorCode::ServerBusy);
    assert!(err.error.message_vi.contains("Máy chủ đang bận"));
    assert!(err.error.message_en.contains("server is busy"));
}

fn stored(app: &TestApp, id: &DocId) -> bool {
    app.server_heads().unwrap().contains_key(id.as_str())
}

/// Waits (up to 20 s) until `n` sync requests wait for their turn.
async fn until_waiting(app: &TestApp, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.state.sync_turns.waiting() < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} requests ever waited"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn sync_requests_are_worked_on_in_turns_in_arrival_order_and_a_full_queue_answers_busy() {
    let app = app_with_one_turn(2, Duration::from_secs(600)).await;
    // Three devices with a new file each.
    let mut devices = Vec::new();
    for (i, user) in ["canbo.lachtray", "canbo.caute", "canbo.lachtray"]
        .into_iter()
        .enumerate()
    {
        let mut d = app.device(user).await.unwrap();
        let org = format!("{}-cb1", d.scope_org);
        let id = d
            .create_case(&org, &format!("Người Chờ Lượt {i}"), [0x70 + i as u8; 16])
            .unwrap();
        devices.push((d, id));
    }
    // Every turn is held: the first two requests wait, in the order they came.
    let held = app.state.sync_turns.take_all().await;
    let mut running = Vec::new();
    for (n, (d, id)) in devices.drain(..2).enumerate() {
        running.push(tokio::spawn(async move {
            let mut d = d;
            d.sync_once(Fault::None).await.unwrap();
            (d, id)
        }));
        until_waiting(&app, n + 1).await;
    }
    // The third finds the queue full: told at once, in both languages, that the server
    // is busy; nothing of it is stored.
    let (mut third, third_id) = devices.pop().unwrap();
    assert_answered_busy(&mut third).await;
    assert!(!stored(&app, &third_id));
    assert!(
        running.iter().all(|r| !r.is_finished()),
        "answered without a turn"
    );
    drop(held);
    let mut versions = Vec::new();
    for r in running {
        let (d, id) = r.await.unwrap();
        assert!(!d.acknowledged.is_empty(), "its file was acknowledged");
        versions.push(docs::doc_version(&app.store().read(), id.as_str()).unwrap());
    }
    // One at a time, first come first served: the first request's file was logged first.
    assert!(versions[0] > 0 && versions[0] < versions[1], "{versions:?}");
    assert_eq!(app.state.sync_turns.waiting(), 0);
    // Turned away, the device syncs later and loses nothing.
    third.sync().await.unwrap();
    assert!(stored(&app, &third_id));
}

#[tokio::test]
async fn a_sync_request_whose_turn_does_not_come_in_time_is_answered_busy() {
    let app = app_with_one_turn(10, Duration::from_millis(300)).await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    let id = dev
        .create_case("phuong-11-cb1", "Người Chờ Quá Lâu", [0x7a; 16])
        .unwrap();
    let held = app.state.sync_turns.take_all().await;
    let started = Instant::now();
    assert_answered_busy(&mut dev).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(app.state.sync_turns.waiting(), 0, "it left the queue");
    assert!(!stored(&app, &id));
    drop(held);
    dev.sync().await.unwrap();
    assert!(stored(&app, &id));
}
