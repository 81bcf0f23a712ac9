//! Hand-off files applied by the server: the device's changes are taken with its
//! authorship, a second upload and the device's later sync change nothing, changes
//! written by another device's actor are refused, and a revoked device's file or a
//! damaged file is refused whole.

use anyhow::{Context, Result};
use serde_json::json;
use server::auth;
use server::db::accounts;
use server::handoff::{self, Payload};
use shared::api::RejectionCode;
use tests::{Device, TestApp, spawn_app};

async fn reviewer(app: &TestApp) -> Result<auth::Caller> {
    let resp: serde_json::Value = app
        .http
        .post(format!("{}/api/login", app.url))
        .json(&json!({"username": "bantochuc", "password": server::demo::DEMO_PASSWORD, "device_name": "office"}))
        .send()
        .await?
        .json()
        .await?;
    let token = resp["token"].as_str().context("token")?;
    Ok(auth::authenticate(app.store(), token)?)
}

/// A hand-off file naming device `device_id` (by its token), holding `from`'s unsent
/// changes.
fn file(app: &TestApp, device_id: &str, token: &str, from: &mut Device) -> Result<Vec<u8>> {
    let (req, _) = from.replica.prepare(None);
    let payload = Payload {
        device_id: device_id.to_string(),
        token: token.to_string(),
        actors: vec![from.actor.to_hex_string()],
        created_at: 0.0,
        push: req.push,
    };
    let key = handoff::public_key(app.store())?;
    Ok(serde_json::to_vec(&handoff::seal(&key, &payload)?)?)
}

fn refusal_code(e: server::error::AppError) -> String {
    match e {
        server::error::AppError::User { code, .. } => code.to_string(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn a_handoff_file_is_applied_as_a_sync_from_its_device() -> Result<()> {
    let app = spawn_app().await;
    let office = reviewer(&app).await?;
    let mut a = app.device("canbo.lachtray").await?;
    a.sync().await?;
    let id = a.doc_ids()[0].clone();
    a.edit(&id, "case.person.ethnicity", json!("Tày"))?;
    let (device_id, token) = (a.device_id.clone(), a.token.clone());
    let bytes = file(&app, &device_id, &token, &mut a)?;
    assert!(
        !String::from_utf8_lossy(&bytes).contains("Tày"),
        "the file is not readable without the server's key"
    );

    let out = handoff::apply(&app.state, &office, &bytes)?;
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.accepted, vec![id.clone()]);
    assert_eq!(out.device_id, a.device_id);
    let heads = app.server_heads()?;
    // The server holds the edit, written by the device's actor.
    let mut viewer = app.device("canbo.lachtray").await?;
    viewer.sync().await?;
    assert_eq!(viewer.case(&id)?.person.ethnicity, "Tày");
    let actors = accounts::device_actors(&app.store().conn(), &a.device_id)?;
    assert!(actors.contains(&a.actor.to_hex_string()));

    // The same file again, then the device's own sync: nothing new.
    let again = handoff::apply(&app.state, &office, &bytes)?;
    assert_eq!(again.accepted, vec![id.clone()]);
    assert_eq!(app.server_heads()?, heads);
    a.sync().await?;
    assert_eq!(a.unsynced_docs(), 0);
    assert_eq!(app.server_heads()?, heads);
    Ok(())
}

#[tokio::test]
async fn changes_by_another_devices_actor_are_refused() -> Result<()> {
    let app = spawn_app().await;
    let office = reviewer(&app).await?;
    let mut a = app.device("canbo.lachtray").await?;
    let mut b = app.device("canbo.lachtray").await?;
    a.sync().await?;
    b.sync().await?;
    let id = b.doc_ids()[0].clone();
    b.edit(&id, "case.person.ethnicity", json!("Nùng"))?;
    // A's token, B's changes: the file claims them for device A.
    let bytes = file(&app, &a.device_id, &a.token, &mut b)?;
    let heads = app.server_heads()?;
    let out = handoff::apply(&app.state, &office, &bytes)?;
    assert!(out.accepted.is_empty());
    assert_eq!(out.rejected.len(), 1);
    assert_eq!(out.rejected[0].code, RejectionCode::ForeignActor);
    assert!(!out.rejected[0].message_vi.is_empty() && !out.rejected[0].message_en.is_empty());
    assert_eq!(app.server_heads()?, heads, "nothing stored");
    Ok(())
}

#[tokio::test]
async fn a_revoked_device_or_a_damaged_file_is_refused() -> Result<()> {
    let app = spawn_app().await;
    let office = reviewer(&app).await?;
    let mut a = app.device("canbo.lachtray").await?;
    a.sync().await?;
    let id = a.doc_ids()[0].clone();
    a.edit(&id, "case.person.ethnicity", json!("Dao"))?;
    let (device_id, token) = (a.device_id.clone(), a.token.clone());
    let bytes = file(&app, &device_id, &token, &mut a)?;

    let mut damaged: serde_json::Value = serde_json::from_slice(&bytes)?;
    let data = damaged["data"].as_str().context("data")?.to_string();
    let flipped = if data.starts_with('A') { "B" } else { "A" };
    damaged["data"] = json!(format!("{flipped}{}", &data[1..]));
    let e = handoff::apply(&app.state, &office, &serde_json::to_vec(&damaged)?)
        .err()
        .context("a damaged file is refused")?;
    assert_eq!(refusal_code(e), "HANDOFF_UNREADABLE");

    assert!(auth::revoke_device(app.store(), &a.device_id)?);
    let heads = app.server_heads()?;
    let e = handoff::apply(&app.state, &office, &bytes)
        .err()
        .context("a revoked device's file is refused")?;
    assert_eq!(refusal_code(e), "DEVICE_REVOKED");
    assert_eq!(app.server_heads()?, heads);
    Ok(())
}
