//! Administration: imports refuse malformed files without storing anything, case files
//! round-trip through the exchange format, backups of a live store open cleanly, and
//! background compaction keeps every document intact.

use serde_json::json;
use server::admin;
use server::casedocs;
use server::db::inspect::{self, Table};
use tests::spawn_app;

fn count(app: &tests::TestApp, table: Table) -> i64 {
    inspect::count_rows(&app.store().conn(), table).unwrap()
}

#[tokio::test]
async fn malformed_reference_imports_are_refused_with_a_clear_message_and_store_nothing() {
    let app = spawn_app().await;
    let orgs = count(&app, Table::Orgs);
    let members = count(&app, Table::Members);
    let cases = [
        ("{not json", "JSON"),
        (
            r#"{"orgs":[{"id":"x","parent_id":"khong-ton-tai","name":"X","kind":"branch"}]}"#,
            "unknown parent",
        ),
        (
            r#"{"orgs":[{"id":"y","name":"Y","kind":"branch"}],"members":[{"id":"m","org_id":"y","full_name":"A","official_since":"2020-13-01"}]}"#,
            "official_since",
        ),
        (
            r#"{"users":[{"username":"u","display_name":"U","password":"p","role":"vua","scope_org":"ngo-quyen"}]}"#,
            "role",
        ),
        (r#"{"orgz":[]}"#, "unknown field"),
    ];
    for (body, expect) in cases {
        let err = admin::import_reference(app.store(), body).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(expect), "{text}");
        assert_eq!(err.status().as_u16(), 400);
        if let server::error::AppError::User { message_vi, .. } = &err {
            assert!(message_vi.contains("Không có gì được lưu"));
        }
    }
    assert_eq!(count(&app, Table::Orgs), orgs);
    assert_eq!(count(&app, Table::Members), members);
}

#[tokio::test]
async fn case_files_round_trip_through_the_exchange_format_and_bad_files_are_refused() {
    let app = spawn_app().await;
    let export = admin::export_case_files(app.store(), "/").unwrap();
    assert_eq!(export.case_files.len() as i64, count(&app, Table::Docs));
    let json = serde_json::to_string(&export).unwrap();
    // Re-importing the same files changes no fact.
    let rules = app.state.rules();
    admin::import_case_files(app.store(), &rules, &json).unwrap();
    let again = admin::export_case_files(app.store(), "/").unwrap();
    assert_eq!(
        serde_json::to_value(&export).unwrap(),
        serde_json::to_value(&again).unwrap()
    );

    let before = count(&app, Table::Changes);
    let bad = [
        json!({"format": "khac/1", "case_files": []}),
        json!({"format": admin::CASE_FILES_FORMAT, "case_files": [{"id": "xyz", "case": {}}]}),
        json!({"format": admin::CASE_FILES_FORMAT, "case_files": [{"id": "0123456789abcdef0123456789abcdef", "case": {"org_id": "khong-co"}}]}),
        json!({"format": admin::CASE_FILES_FORMAT, "case_files": [{"id": "0123456789abcdef0123456789abcdef", "case": {"org_id": "phuong-01", "person": {"birth_date": "30/02/2000"}}}]}),
    ];
    for b in bad {
        let err = admin::import_case_files(app.store(), &rules, &b.to_string()).unwrap_err();
        assert_eq!(err.status().as_u16(), 400, "{err}");
    }
    assert_eq!(count(&app, Table::Changes), before);
}

#[tokio::test]
async fn a_backup_of_the_live_store_opens_with_the_same_data() {
    let app = spawn_app().await;
    if tests::on_postgres() {
        // PostgreSQL is backed up with its own tools (pg_dump, base backups); the store
        // says so instead of writing a file.
        let err = app
            .store()
            .backup_to(&app.dir.join("backup.sqlite"))
            .unwrap_err();
        assert!(err.to_string().contains("pg_dump"), "{err}");
        return;
    }
    let dest = app.dir.join("backup.sqlite");
    app.store().backup_to(&dest).unwrap();
    let copy = server::db::store::Store::open(&dest).unwrap();
    let n = inspect::count_rows(&copy.conn(), Table::Docs).unwrap();
    assert_eq!(n, count(&app, Table::Docs));
    let stats = admin::stats(&copy).unwrap();
    assert_eq!(stats.orgs, count(&app, Table::Orgs));
}

#[tokio::test]
async fn compaction_folds_the_change_log_into_snapshots_without_changing_documents() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    let id = dev.doc_ids()[0].clone();
    for i in 0..60 {
        dev.edit(
            &id,
            "case.person.workplace_unit",
            json!(format!("đơn vị {i}")),
        )
        .unwrap();
    }
    dev.sync().await.unwrap();
    let before = app.server_heads().unwrap();
    let folded = casedocs::compact(&app.store().conn(), 50).unwrap();
    assert!(folded >= 1);
    let snapshot = inspect::snapshot_of(&app.store().conn(), id.as_str()).unwrap();
    assert!(snapshot.is_some());
    assert_eq!(app.server_heads().unwrap(), before);
    // The feed still serves the full history to a new device.
    let mut fresh = app.device("canbo.lachtray").await.unwrap();
    fresh.sync().await.unwrap();
    assert_eq!(fresh.case(&id).unwrap().person.workplace_unit, "đơn vị 59");
}
