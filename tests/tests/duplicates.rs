//! Duplicate case files opened offline for the same person: found after sync, merged at
//! the office choosing values from both, or dismissed for good; later edits of a merged
//! file still reach the office.

use serde_json::{Value, json};
use server::db::orgs;
use shared::sync::DocId;
use tests::{Device, TestApp, spawn_app};

async fn total_cases(app: &TestApp, token: &str) -> u64 {
    let (status, body) = app
        .get_json(token, "/api/review/cases?org=phuong-11")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().unwrap()
}

async fn open_pairs(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, body) = app
        .get_json(token, "/api/review/duplicates?org=phuong-11")
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

/// Two devices of the ward each open a file for the same person while offline.
async fn two_files_for_one_person(app: &TestApp) -> (Device, DocId, Device, DocId) {
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let mut b = app.device("canbo.lachtray").await.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let ida = a
        .create_case("phuong-11-cb2", "Nguyễn Thị Ánh", [0xa1; 16])
        .unwrap();
    a.edit(&ida, "case.person.birth_date", json!("2002-07-15"))
        .unwrap();
    a.edit(&ida, "case.person.ethnicity", json!("Tày")).unwrap();
    let idb = b
        .create_case("phuong-11-cb2", "nguyen  thi ANH", [0xb1; 16])
        .unwrap();
    b.edit(&idb, "case.person.birth_date", json!("2002-07-15"))
        .unwrap();
    b.edit(&idb, "case.person.workplace_unit", json!("Xí nghiệp Cảng"))
        .unwrap();
    b.edit(&idb, "case.person.ethnicity", json!("Kinh"))
        .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    (a, ida, b, idb)
}

#[tokio::test]
async fn two_files_for_one_person_are_found_merged_with_values_from_both_and_counted_once() {
    let app = spawn_app().await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let before = total_cases(&app, &reviewer.token).await;
    let (mut a, ida, mut b, idb) = two_files_for_one_person(&app).await;
    assert_eq!(total_cases(&app, &reviewer.token).await, before + 2);

    let pairs = open_pairs(&app, &reviewer.token).await;
    let pair = pairs
        .iter()
        .find(|p| {
            let ids = [p["a"]["doc_id"].as_str(), p["b"]["doc_id"].as_str()];
            ids.contains(&Some(ida.as_str())) && ids.contains(&Some(idb.as_str()))
        })
        .expect("the pair is in the queue");
    assert_eq!(pair["reason"], "same_name_and_birth_date");
    let id = pair["id"].as_i64().unwrap();
    let a_is_a = pair["a"]["doc_id"] == ida.as_str();

    // Side by side: the fields where they differ.
    let (status, cmp) = app
        .get_json(&reviewer.token, &format!("/api/review/duplicates/{id}"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let paths: Vec<&str> = cmp["diffs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for p in [
        "case.person.full_name",
        "case.person.ethnicity",
        "case.person.workplace_unit",
    ] {
        assert!(paths.contains(&p), "{paths:?}");
    }
    // The pages show the pair, both files side by side, to reviewers only.
    let page = app
        .http
        .get(format!("{}/central/duplicates", app.url))
        .send()
        .await
        .unwrap();
    assert!(page.url().path().starts_with("/central/login"));
    let office = office_session(&app).await;
    let list = office_get(&app, &office, "/central/duplicates").await;
    assert!(list.contains("Nguyễn Thị Ánh") && list.contains("nguyen  thi ANH"));
    assert!(list.contains(&format!("/central/duplicates/{id}")));
    let side = office_get(&app, &office, &format!("/central/duplicates/{id}")).await;
    assert!(side.contains("name=\"c.case.person.ethnicity\""), "{side}");
    assert!(side.contains("Không phải cùng một người"));

    // Keep A's file; take B's ethnicity; the workplace (empty in A) comes from B.
    let b_side = if a_is_a { "b" } else { "a" };
    let keep = if a_is_a { "a" } else { "b" };
    let (status, body) = app
        .post_json(
            &reviewer.token,
            &format!("/api/review/duplicates/{id}/merge"),
            &json!({"survivor": keep, "choices": {"case.person.ethnicity": b_side}}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["survivor"], ida.as_str());
    assert_eq!(total_cases(&app, &reviewer.token).await, before + 1);
    assert!(
        open_pairs(&app, &reviewer.token)
            .await
            .iter()
            .all(|p| p["id"] != id)
    );

    // Both devices: the survivor holds every fact, the other file says where it went.
    for dev in [&mut a, &mut b] {
        dev.sync().await.unwrap();
        let case = dev.case(&ida).unwrap();
        assert_eq!(case.person.full_name, "Nguyễn Thị Ánh");
        assert_eq!(case.person.ethnicity, "Kinh");
        assert_eq!(case.person.workplace_unit, "Xí nghiệp Cảng");
        let rd = &dev.replica.docs[&idb];
        assert_eq!(shared::doc::read_review(&rd.doc).merged_into, ida.as_str());
    }

    // An edit made later on the merged-away file still arrives, and the office sees it
    // on the survivor's page.
    b.edit(&idb, "case.person.religion", json!("Phật giáo"))
        .unwrap();
    b.sync().await.unwrap();
    assert!(b.replica.docs[&idb].rejected.is_none());
    assert_eq!(total_cases(&app, &reviewer.token).await, before + 1);
    let late =
        server::duplicates::late_edits(app.store(), &reviewer_caller(&app), ida.as_str()).unwrap();
    assert_eq!(late.len(), 1);
    assert!(
        late[0]
            .values
            .iter()
            .any(|(f, v)| f == "case.person.religion" && v == "Phật giáo"),
        "{:?}",
        late[0].values
    );
    let survivor = office_get(&app, &office, &format!("/central/cases/{}", ida.as_str())).await;
    assert!(survivor.contains("Sửa đổi đến sau khi gộp"), "{survivor}");
    assert!(survivor.contains("Phật giáo"));
    let merged = office_get(&app, &office, &format!("/central/cases/{}", idb.as_str())).await;
    assert!(merged.contains("Hồ sơ này đã được gộp vào hồ sơ"));
}

/// A session cookie of the central office's reviewer.
async fn office_session(app: &TestApp) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .post(format!("{}/central/login", app.url))
        .header("origin", &app.url)
        .form(&[("username", "bantochuc"), ("password", "demo2026")])
        .send()
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_string()
}

async fn office_get(app: &TestApp, cookie: &str, path: &str) -> String {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.unwrap()
}

fn reviewer_caller(app: &TestApp) -> server::extract::Reviewer {
    let conn = app.store().conn();
    let path = orgs::path_of(&conn, "ngo-quyen").unwrap().unwrap();
    server::extract::Reviewer::check(server::auth::Caller {
        user_id: 0,
        username: "bantochuc".into(),
        display_name: "Nguyễn Thị Bích Ngọc".into(),
        role: server::auth::Role::Reviewer,
        scope_org: "ngo-quyen".into(),
        scope_path: path,
        device_id: String::new(),
    })
    .unwrap()
}

#[tokio::test]
async fn a_dismissed_pair_does_not_come_back_after_further_edits() {
    let app = spawn_app().await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let (mut a, ida, _b, idb) = two_files_for_one_person(&app).await;
    let pairs = open_pairs(&app, &reviewer.token).await;
    let pair = pairs
        .iter()
        .find(|p| p["a"]["doc_id"] == ida.as_str() || p["b"]["doc_id"] == ida.as_str())
        .unwrap();
    let id = pair["id"].as_i64().unwrap();
    let (status, _) = app
        .post_json(
            &reviewer.token,
            &format!("/api/review/duplicates/{id}/dismiss"),
            &json!({}),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    a.edit(&ida, "case.person.residence_unit", json!("Tổ 3"))
        .unwrap();
    a.sync().await.unwrap();
    let again = open_pairs(&app, &reviewer.token).await;
    assert!(
        again.iter().all(|p| p["id"] != id
            && p["a"]["doc_id"] != idb.as_str()
            && p["b"]["doc_id"] != idb.as_str()),
        "{again:?}"
    );
    // Listed under its decision.
    let (_, dismissed) = app
        .get_json(&reviewer.token, "/api/review/duplicates?state=dismissed")
        .await
        .unwrap();
    assert!(dismissed.as_array().unwrap().iter().any(|p| p["id"] == id));
    // Cadres may not see or decide the queue.
    let (status, _) = app
        .get_json(&a.token, "/api/review/duplicates")
        .await
        .unwrap();
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_same_identity_number_links_files_whatever_their_names() {
    let app = spawn_app().await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let x = a
        .create_case("phuong-11-cb1", "Lê Văn Tám", [0xc1; 16])
        .unwrap();
    a.edit(&x, "case.person.id_number", json!("031 099 001 234"))
        .unwrap();
    let y = a
        .create_case("phuong-11-cb3", "Lê Tám", [0xc2; 16])
        .unwrap();
    a.edit(&y, "case.person.id_number", json!("031099001234"))
        .unwrap();
    a.sync().await.unwrap();
    let pairs = open_pairs(&app, &reviewer.token).await;
    assert!(
        pairs
            .iter()
            .any(|p| p["reason"] == "same_id_number" && p["a"]["doc_id"] == x.as_str()),
        "{pairs:?}"
    );
}
