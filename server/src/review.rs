//! The central office's work: the conflict queue, the findings queue, returning a file to
//! its cadre, deadlines, dashboards, the audit history of a file, and exports. Every route
//! here is refused to cadre accounts on the server.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use shared::doc;
use shared::sync::DocId;

use crate::admin;
use crate::auth::{Caller, now_secs};
use crate::casedocs::{self, AttributedValue, today_vn};
use crate::error::{AppError, AppResult};
use crate::{AppState, blocking};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/review/conflicts", get(list_conflicts))
        .route("/api/review/conflicts/{id}/resolve", post(resolve_conflict))
        .route("/api/review/cases/{id}", get(case_detail))
        .route("/api/review/cases/{id}/return", post(return_case))
        .route("/api/review/cases/{id}/history", get(case_history))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ConflictRow {
    pub id: i64,
    pub doc_id: String,
    pub path: String,
    pub values: Vec<AttributedValue>,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolution: Option<serde_json::Value>,
    pub full_name: String,
    pub org_id: String,
}

#[derive(Debug, Deserialize)]
pub struct ConflictQuery {
    /// `open` (default), `closed` or `all`.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub doc_id: Option<String>,
}

async fn list_conflicts(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(q): Query<ConflictQuery>,
) -> AppResult<Json<Vec<ConflictRow>>> {
    caller.require_reviewer()?;
    let store = state.store.clone();
    blocking(move || {
        let conn = store.conn();
        let filter = match q.state.as_deref() {
            Some("closed") => "c.closed_at IS NOT NULL",
            Some("all") => "1",
            _ => "c.closed_at IS NULL",
        };
        let sql = format!(
            "SELECT c.id, c.doc_id, c.path, c.values_json, c.opened_at, c.closed_at, c.resolved_by,
                    c.resolution_json, COALESCE(p.full_name, ''), d.org_id
             FROM conflicts c JOIN docs d ON d.id = c.doc_id JOIN orgs o ON o.id = d.org_id
             LEFT JOIN projections p ON p.doc_id = c.doc_id
             WHERE {filter} AND o.path LIKE ?1 || '%' AND (?2 IS NULL OR c.doc_id = ?2)
             ORDER BY c.opened_at, c.id"
        );
        let rows = conn
            .prepare(&sql)?
            .query_map(params![caller.scope_path, q.doc_id], |r| {
                Ok(ConflictRow {
                    id: r.get(0)?,
                    doc_id: r.get(1)?,
                    path: r.get(2)?,
                    values: serde_json::from_str(&r.get::<_, String>(3)?).unwrap_or_default(),
                    opened_at: r.get(4)?,
                    closed_at: r.get(5)?,
                    resolved_by: r.get(6)?,
                    resolution: r
                        .get::<_, Option<String>>(7)?
                        .and_then(|s| serde_json::from_str(&s).ok()),
                    full_name: r.get(8)?,
                    org_id: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Json(rows))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct Resolution {
    /// The value chosen (one of the competing values, or a new one typed by the reviewer).
    pub value: serde_json::Value,
}

/// Writes the chosen value as an ordinary change by the reviewer; devices receive it at
/// their next sync, and the conflict closes because the field no longer has rivals.
async fn resolve_conflict(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<i64>,
    Json(res): Json<Resolution>,
) -> AppResult<Json<serde_json::Value>> {
    caller.require_reviewer()?;
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        let actor = admin::caller_actor(&store, &caller)?;
        let conn = store.conn();
        let row: Option<(String, String, Option<i64>)> = conn
            .query_row(
                "SELECT doc_id, path, closed_at FROM conflicts WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (doc_id, path, closed) =
            row.ok_or_else(|| AppError::not_found("xung đột", "Conflict"))?;
        if closed.is_some() {
            return Err(AppError::user(
                axum::http::StatusCode::CONFLICT,
                "ALREADY_RESOLVED",
                "Xung đột này đã được giải quyết.",
                "This conflict is already resolved.",
            ));
        }
        let (org, mut doc) = casedocs::load_doc(&conn, &doc_id)?
            .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
        if !casedocs::org_in_scope(&conn, &org, &caller.scope_path)? {
            return Err(AppError::forbidden());
        }
        let since = doc.get_heads();
        let mut doc = doc.with_actor(actor);
        doc::set_field(&mut doc, &doc::parse_path(&path), &res.value)
            .map_err(|e| AppError::bad_request("BAD_VALUE", e.to_string(), e.to_string()))?;
        doc.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(format!("giải quyết xung đột {path}"))
                .with_time(now_secs() * 1000),
        );
        if doc::read_case(&doc).is_err() {
            return Err(AppError::bad_request(
                "BAD_VALUE",
                "Giá trị không hợp lệ cho trường này.",
                "The value is not valid for this field.",
            ));
        }
        conn.execute(
            "UPDATE conflicts SET resolved_by = ?2, resolution_json = ?3 WHERE id = ?1",
            params![
                id,
                format!("{} ({})", caller.display_name, caller.username),
                serde_json::json!({"value": res.value}).to_string()
            ],
        )?;
        let doc_id = DocId::try_from(doc_id).map_err(|e| AppError::Internal(e.to_string()))?;
        casedocs::store_server_changes(
            &conn,
            &rules,
            &doc_id,
            &mut doc,
            &since,
            &caller.username,
            today_vn(),
        )?;
        Ok(Json(serde_json::json!({"resolved": true})))
    })
    .await
}

#[derive(Debug, Serialize)]
pub struct CaseDetail {
    pub id: String,
    pub org_id: String,
    pub case: serde_json::Value,
    pub review: doc::ReviewNote,
    pub evaluation: serde_json::Value,
    pub conflicts: Vec<doc::FieldConflict>,
}

async fn case_detail(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<CaseDetail>> {
    caller.require_reviewer()?;
    let store = state.store.clone();
    blocking(move || {
        let conn = store.conn();
        let (org, doc) = casedocs::load_doc(&conn, &id)?
            .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
        if !casedocs::org_in_scope(&conn, &org, &caller.scope_path)? {
            return Err(AppError::forbidden());
        }
        let json = doc::to_json(&doc);
        let eval: String = conn.query_row(
            "SELECT eval_json FROM projections WHERE doc_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        Ok(Json(CaseDetail {
            id,
            org_id: org,
            case: json.get("case").cloned().unwrap_or_default(),
            review: doc::read_review(&doc),
            evaluation: serde_json::from_str(&eval).unwrap_or_default(),
            conflicts: doc::conflicts(&doc),
        }))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub struct ReturnBody {
    pub comment: String,
    /// False clears an earlier return once the cadre has acted on it.
    #[serde(default = "yes")]
    pub returned: bool,
}

fn yes() -> bool {
    true
}

/// Returns a file to its cadre with a comment, written into the document so the cadre
/// sees it on the device after the next sync.
async fn return_case(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReturnBody>,
) -> AppResult<Json<serde_json::Value>> {
    caller.require_reviewer()?;
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        let actor = admin::caller_actor(&store, &caller)?;
        let conn = store.conn();
        let (org, doc) = casedocs::load_doc(&conn, &id)?
            .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
        if !casedocs::org_in_scope(&conn, &org, &caller.scope_path)? {
            return Err(AppError::forbidden());
        }
        let mut doc = doc;
        let since = doc.get_heads();
        let mut doc = doc.with_actor(actor);
        let note = doc::ReviewNote {
            returned: body.returned,
            comment: body.comment.clone(),
            by: format!("{} ({})", caller.display_name, caller.username),
            at: today_vn().to_string(),
        };
        for (k, v) in [
            ("returned", serde_json::json!(note.returned)),
            ("comment", serde_json::json!(note.comment)),
            ("by", serde_json::json!(note.by)),
            ("at", serde_json::json!(note.at)),
        ] {
            doc::set_field(
                &mut doc,
                &[doc::Seg::Key("review".into()), doc::Seg::Key(k.into())],
                &v,
            )
            .map_err(|e| AppError::Internal(e.to_string()))?;
        }
        doc.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message("trả lại hồ sơ".to_string())
                .with_time(now_secs() * 1000),
        );
        let doc_id = DocId::try_from(id).map_err(|e| AppError::Internal(e.to_string()))?;
        casedocs::store_server_changes(
            &conn,
            &rules,
            &doc_id,
            &mut doc,
            &since,
            &caller.username,
            today_vn(),
        )?;
        Ok(Json(serde_json::json!({"returned": note.returned})))
    })
    .await
}

async fn case_history(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<casedocs::HistoryEntry>>> {
    caller.require_reviewer()?;
    let store = state.store.clone();
    blocking(move || {
        let conn = store.conn();
        let (org, mut doc) = casedocs::load_doc(&conn, &id)?
            .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
        if !casedocs::org_in_scope(&conn, &org, &caller.scope_path)? {
            return Err(AppError::forbidden());
        }
        Ok(Json(casedocs::history(&conn, &mut doc)?))
    })
    .await
}
