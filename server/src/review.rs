//! The central office's JSON API: the conflict queue, the findings queue, returning a
//! file to its cadre, deadlines, dashboards, the case files behind every figure, the audit
//! history of a file, and exports. Every route here is refused to cadre accounts on the
//! server. The operations are public functions too, so the server-rendered pages of
//! `central` share them instead of duplicating queries.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shared::api::{ErrorCode, ReviewChange};
use shared::date::Date;
use shared::doc;
use shared::sync::DocId;

use crate::admin;
use crate::auth::{Caller, now_secs};
use crate::casedocs::{self, AttributedValue, RulesConfig, today_vn};
use crate::db::reports::{self as db, ConflictState};
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::export::{self, Cell, ExportFormat, Sheet};
use crate::extract::{AppJson, AppQuery, Reviewer};
use crate::office::office;
use crate::reports::{self, CaseFilter, CaseRow, FilterForm, OrgIndex};
use crate::{AppState, blocking};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/review/conflicts", get(list_conflicts))
        .route("/api/review/conflicts/{id}/resolve", post(resolve_conflict))
        .route("/api/review/cases/{id}", get(case_detail))
        .route("/api/review/cases/{id}/return", post(return_case))
        .route("/api/review/cases/{id}/history", get(case_history))
        .route("/api/review/cases/{id}/move", post(move_case_route))
        .route("/api/review/cases", get(list_cases))
        .route("/api/review/dashboard", get(dashboard))
        .route("/api/review/findings", get(list_findings))
        .route("/api/review/deadlines", get(list_deadlines))
        .route("/api/review/export/{report}", get(export))
}

/// Query parameters of the report routes: a case filter plus per-route extras.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    #[serde(flatten)]
    pub filter: FilterForm,
    /// N of "no admission in each of the last N years" (2 by default).
    pub years_without: Option<String>,
    /// Days ahead counted as upcoming on the deadlines view.
    pub days: Option<String>,
    /// `xlsx` (default) or `csv` for exports.
    pub format: Option<String>,
    /// `en` for English column titles.
    pub lang: Option<String>,
    pub limit: Option<String>,
    pub offset: Option<String>,
    /// Case file id, for the history export.
    pub id: Option<String>,
    /// Conflict state for the conflicts export: open, closed or all.
    pub state: Option<String>,
    /// Order of the plan-vs-done table: percent (default), admitted or name.
    pub sort: Option<String>,
}

fn number(name: &str, v: &Option<String>, default: i64, max: i64) -> AppResult<i64> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::BadFilter,
                    format!("Giá trị không hợp lệ cho «{name}»: {s}"),
                    format!("Invalid value for '{name}': {s}"),
                )
            }),
    }
}

impl ReportQuery {
    /// The case filter, read once; one that cannot be used is a 400.
    pub fn case_filter(&self) -> AppResult<CaseFilter> {
        CaseFilter::from_form(&self.filter)
    }

    pub fn years_without(&self) -> AppResult<i32> {
        Ok(number("years_without", &self.years_without, 2, 20)?.max(1) as i32)
    }

    pub fn days(&self) -> AppResult<i32> {
        Ok(number("days", &self.days, reports::UPCOMING_DAYS as i64, 366)? as i32)
    }

    pub fn english(&self) -> bool {
        self.lang.as_deref() == Some("en")
    }
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

/// The conflicts of the caller's scope: open ones by default, resolved ones keep their
/// history (`closed`), or `all`.
pub fn conflicts(
    conn: &crate::db::Connection,
    caller: &Caller,
    state: Option<&str>,
    doc_id: Option<&str>,
) -> AppResult<Vec<ConflictRow>> {
    let state = match state {
        Some("closed") => ConflictState::Closed,
        Some("all") => ConflictState::All,
        _ => ConflictState::Open,
    };
    let (lo, hi) = casedocs::scope_range(&caller.scope_path);
    Ok(db::conflicts_in_range(conn, state, &lo, &hi, doc_id)?)
}

async fn list_conflicts(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ConflictQuery>,
) -> AppResult<Json<Vec<ConflictRow>>> {
    let store = state.store.clone();
    office(move || {
        let conn = store.read();
        Ok(Json(conflicts(
            &conn,
            &caller,
            q.state.as_deref(),
            q.doc_id.as_deref(),
        )?))
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
pub fn resolve(
    store: &Store,
    rules: &casedocs::RulesConfig,
    caller: &Reviewer,
    id: i64,
    value: &serde_json::Value,
) -> AppResult<()> {
    let actor = admin::caller_actor(store, caller)?;
    let conn = store.conn();
    let row = db::conflict_field(&conn, id)?;
    let (doc_id, path, closed) = row.ok_or_else(|| AppError::not_found("xung đột", "Conflict"))?;
    if closed.is_some() {
        return Err(AppError::user(
            axum::http::StatusCode::CONFLICT,
            ErrorCode::AlreadyResolved,
            "Xung đột này đã được giải quyết.",
            "This conflict is already resolved.",
        ));
    }
    let change = ReviewChange::ResolveConflict {
        path: path.clone(),
        by: format!("{} ({})", caller.display_name, caller.username),
    };
    write_as_reviewer(&conn, rules, caller, actor, &doc_id, change, |doc| {
        doc::set_field(doc, &doc::parse_path(&path), value).map_err(|e| {
            AppError::bad_request(ErrorCode::BadValue, e.to_string(), e.to_string())
        })?;
        if doc::read_case(doc).is_err() {
            return Err(AppError::bad_request(
                ErrorCode::BadValue,
                "Giá trị không hợp lệ cho trường này.",
                "The value is not valid for this field.",
            ));
        }
        Ok(())
    })?;
    crate::db::views::record_resolution(
        &conn,
        id,
        &format!("{} ({})", caller.display_name, caller.username),
        &serde_json::json!({"value": value}).to_string(),
    )?;
    Ok(())
}

async fn resolve_conflict(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<i64>,
    AppJson(res): AppJson<Resolution>,
) -> AppResult<Json<serde_json::Value>> {
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        resolve(&store, &rules, &caller, id, &res.value)?;
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

/// A case file in full, as the reviewer sees it around a conflict or a finding.
pub fn case_detail_of(
    conn: &crate::db::Connection,
    caller: &Reviewer,
    id: &str,
    rules: &RulesConfig,
    today: Date,
) -> AppResult<CaseDetail> {
    let (org, doc) =
        casedocs::load_doc(conn, id)?.ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
    if !casedocs::org_in_scope(conn, &org, &caller.scope_path)? {
        return Err(AppError::forbidden());
    }
    let json = doc::to_json(&doc);
    // Evaluated now, under today's settings and calendar, as the projection would be.
    let evaluation = match doc::read_parts(&doc) {
        Ok((case, _)) => serde_json::to_value(rules.evaluate(&case, today)).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    };
    Ok(CaseDetail {
        id: id.to_string(),
        org_id: org,
        case: json.get("case").cloned().unwrap_or_default(),
        review: doc::read_review(&doc),
        evaluation,
        conflicts: doc::conflicts(&doc),
    })
}

async fn case_detail(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<String>,
) -> AppResult<Json<CaseDetail>> {
    let store = state.store.clone();
    let rules = state.rules();
    office(move || {
        let conn = store.read();
        Ok(Json(case_detail_of(
            &conn,
            &caller,
            &id,
            &rules,
            today_vn(),
        )?))
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

/// Applies a reviewer's edit to a case file of their scope as an ordinary change by their
/// own actor, then stores and re-evaluates it like any merge; devices receive it at their
/// next sync. The edit is checked before anything is stored.
pub(crate) fn write_as_reviewer(
    conn: &crate::db::Connection,
    rules: &casedocs::RulesConfig,
    caller: &Caller,
    actor: automerge::ActorId,
    doc_id: &str,
    change: ReviewChange,
    edit: impl FnOnce(&mut automerge::AutoCommit) -> AppResult<()>,
) -> AppResult<()> {
    let (org, mut doc) = casedocs::load_doc(conn, doc_id)?
        .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
    if !casedocs::org_in_scope(conn, &org, &caller.scope_path)? {
        return Err(AppError::forbidden());
    }
    let since = doc.get_heads();
    let mut doc = doc.with_actor(actor);
    edit(&mut doc)?;
    doc.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(change.to_string())
            .with_time(now_secs() * 1000),
    );
    let doc_id =
        DocId::try_from(doc_id.to_string()).map_err(|e| AppError::Internal(e.to_string()))?;
    casedocs::store_server_changes(
        conn,
        rules,
        &doc_id,
        &mut doc,
        &since,
        &caller.username,
        today_vn(),
    )?;
    Ok(())
}

/// Returns a file to its cadre with a comment, written into the document so the cadre
/// sees it on the device after the next sync.
pub fn return_to_cadre(
    store: &Store,
    rules: &casedocs::RulesConfig,
    caller: &Reviewer,
    id: &str,
    body: &ReturnBody,
) -> AppResult<()> {
    let actor = admin::caller_actor(store, caller)?;
    let conn = store.conn();
    let note = doc::ReviewNote {
        returned: body.returned,
        comment: body.comment.clone(),
        by: format!("{} ({})", caller.display_name, caller.username),
        at: today_vn().to_string(),
        ..Default::default()
    };
    write_as_reviewer(
        &conn,
        rules,
        caller,
        actor,
        id,
        ReviewChange::Return,
        |doc| {
            for (k, v) in [
                ("returned", serde_json::json!(note.returned)),
                ("comment", serde_json::json!(note.comment)),
                ("by", serde_json::json!(note.by)),
                ("at", serde_json::json!(note.at)),
            ] {
                doc::set_field(
                    doc,
                    &[doc::Seg::Key("review".into()), doc::Seg::Key(k.into())],
                    &v,
                )
                .map_err(|e| AppError::Internal(e.to_string()))?;
            }
            Ok(())
        },
    )?;
    Ok(())
}

async fn return_case(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<String>,
    AppJson(body): AppJson<ReturnBody>,
) -> AppResult<Json<serde_json::Value>> {
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        return_to_cadre(&store, &rules, &caller, &id, &body)?;
        Ok(Json(serde_json::json!({"returned": body.returned})))
    })
    .await
}

/// Who changed which field of a case file, from which device, when: one page of it,
/// oldest first (or newest first). The document is read under the store's lock; the
/// history is computed without it, so a long history delays nobody's sync.
pub fn history_of(
    store: &Store,
    caller: &Reviewer,
    id: &str,
    page: HistoryWindow,
) -> AppResult<(usize, Vec<casedocs::HistoryEntry>)> {
    let stored = {
        let conn = store.read();
        let stored = casedocs::read_stored(&conn, id)?
            .ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
        if !casedocs::org_in_scope(&conn, &stored.org_id, &caller.scope_path)? {
            return Err(AppError::forbidden());
        }
        stored
    };
    let mut doc = stored.load().map_err(AppError::Internal)?.doc;
    let found = casedocs::history_page(&mut doc, page.offset, page.limit, page.newest_first);
    let mut owners = std::collections::HashMap::new();
    {
        let conn = store.read();
        for a in &found.actors {
            owners.insert(a.clone(), casedocs::actor_owner(&conn, a)?);
        }
    }
    let total = found.total;
    Ok((total, found.with_owners(&owners)))
}

/// Which part of a history to read.
#[derive(Debug, Clone, Copy)]
pub struct HistoryWindow {
    pub offset: usize,
    pub limit: usize,
    pub newest_first: bool,
}

impl HistoryWindow {
    pub const ALL: HistoryWindow = HistoryWindow {
        offset: 0,
        limit: usize::MAX,
        newest_first: false,
    };
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct HistoryQuery {
    offset: Option<String>,
    limit: Option<String>,
}

/// `GET /api/review/cases/{id}/history?offset=&limit=`: entries oldest first, at most 1,000
/// a page (500 by default); the total is in the `X-Total-Count` header.
async fn case_history(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<HistoryQuery>,
) -> AppResult<axum::response::Response> {
    let offset = number("offset", &q.offset, 0, i64::MAX)? as usize;
    let limit = number("limit", &q.limit, 500, 1000)? as usize;
    let store = state.store.clone();
    let (total, rows) = office(move || {
        history_of(
            &store,
            &caller,
            &id,
            HistoryWindow {
                offset,
                limit,
                newest_first: false,
            },
        )
    })
    .await?;
    let mut resp = axum::response::IntoResponse::into_response(Json(rows));
    if let Ok(v) = axum::http::HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert("x-total-count", v);
    }
    Ok(resp)
}

/// Moves a case file to another organisation of the caller's scope (a branch merged into
/// another, a candidate who changed workplace): an ordinary change by the reviewer, so
/// devices of the old organisation drop the file and those of the new one receive it.
pub fn move_case(
    store: &Store,
    rules: &casedocs::RulesConfig,
    caller: &Reviewer,
    id: &str,
    org_id: &str,
) -> AppResult<()> {
    let actor = admin::caller_actor(store, caller)?;
    let conn = store.conn();
    if !casedocs::org_in_scope(&conn, org_id, &caller.scope_path)? {
        return Err(AppError::bad_request(
            ErrorCode::BadOrg,
            format!("Tổ chức «{org_id}» không có hoặc nằm ngoài phạm vi của tài khoản."),
            format!("Organisation `{org_id}` does not exist or is outside this account's scope."),
        ));
    }
    let target = serde_json::json!(org_id);
    write_as_reviewer(
        &conn,
        rules,
        caller,
        actor,
        id,
        ReviewChange::Move {
            org_id: org_id.to_string(),
        },
        |doc| {
            doc::set_field(
                doc,
                &[doc::Seg::Key("case".into()), doc::Seg::Key("org_id".into())],
                &target,
            )
            .map_err(|e| AppError::Internal(e.to_string()))
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct MoveBody {
    pub org_id: String,
}

async fn move_case_route(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<String>,
    AppJson(body): AppJson<MoveBody>,
) -> AppResult<Json<serde_json::Value>> {
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        move_case(&store, &rules, &caller, &id, &body.org_id)?;
        Ok(Json(serde_json::json!({"org_id": body.org_id})))
    })
    .await
}

/// A page of the case files behind a figure, with the total before paging.
#[derive(Debug, Serialize)]
pub struct CasePage {
    pub total: usize,
    pub offset: usize,
    pub rows: Vec<CaseRow>,
}

async fn list_cases(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<Json<CasePage>> {
    let store = state.store.clone();
    let limit = number("limit", &q.limit, 1000, 1_000_000)? as usize;
    let offset = number("offset", &q.offset, 0, i64::MAX)? as usize;
    let filter = q.case_filter()?;
    office(move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        let rows = reports::cases(&conn, &orgs, &caller, &filter, today_vn())?;
        Ok(Json(CasePage {
            total: rows.len(),
            offset,
            rows: rows.into_iter().skip(offset).take(limit).collect(),
        }))
    })
    .await
}

async fn dashboard(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<Json<reports::Dashboard>> {
    let store = state.store.clone();
    let years = q.years_without()?;
    let filter = q.case_filter()?;
    office(move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        Ok(Json(reports::dashboard(
            &conn,
            &orgs,
            &caller,
            &filter,
            years,
            today_vn(),
        )?))
    })
    .await
}

async fn list_findings(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<Json<Vec<reports::FindingRow>>> {
    let store = state.store.clone();
    let filter = q.case_filter()?;
    office(move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        Ok(Json(reports::findings(
            &conn,
            &orgs,
            &caller,
            &filter,
            today_vn(),
        )?))
    })
    .await
}

async fn list_deadlines(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<Json<reports::Deadlines>> {
    let store = state.store.clone();
    let days = q.days()?;
    let filter = q.case_filter()?;
    office(move || {
        let conn = store.read();
        let orgs = OrgIndex::load(&conn)?;
        Ok(Json(reports::deadlines(
            &conn,
            &orgs,
            &caller,
            filter.org_id(),
            days,
            today_vn(),
        )?))
    })
    .await
}

fn fmt_time(secs: i64) -> String {
    crate::export::format_time(secs)
}

/// The conflicts (open, resolved or all) as a sheet.
pub fn conflicts_sheet(rows: &[ConflictRow], en: bool) -> Sheet {
    let t = |vi: &'static str, e: &'static str| if en { e } else { vi };
    let mut s = Sheet::new(
        t("Xung đột", "Conflicts"),
        &[
            t("Họ và tên", "Full name"),
            t("Trường", "Field"),
            t("Giá trị", "Value"),
            t("Người ghi", "Written by"),
            t("Thiết bị", "Device"),
            t("Thời điểm", "Time"),
            t("Mở lúc", "Opened"),
            t("Đóng lúc", "Closed"),
            t("Người giải quyết", "Resolved by"),
            t("Giá trị chọn", "Chosen value"),
            t("Mã hồ sơ", "Case id"),
        ],
    );
    for c in rows {
        for v in &c.values {
            s.push(vec![
                c.full_name.as_str().into(),
                c.path.as_str().into(),
                crate::export::value_text(&v.value).into(),
                v.user.as_str().into(),
                v.device.as_str().into(),
                fmt_time(v.time).into(),
                fmt_time(c.opened_at).into(),
                c.closed_at.map(fmt_time).unwrap_or_default().into(),
                c.resolved_by.clone().unwrap_or_default().into(),
                c.resolution
                    .as_ref()
                    .and_then(|r| r.get("value"))
                    .map(crate::export::value_text)
                    .unwrap_or_default()
                    .into(),
                c.doc_id.as_str().into(),
            ]);
        }
    }
    s
}

/// The audit history of one case file as a sheet: one row per change.
pub fn history_sheet(rows: &[casedocs::HistoryEntry], en: bool) -> Sheet {
    let t = |vi: &'static str, e: &'static str| if en { e } else { vi };
    let mut s = Sheet::new(
        t("Lịch sử", "History"),
        &[
            t("Thời điểm", "Time"),
            t("Người sửa", "User"),
            t("Thiết bị", "Device"),
            t("Trường đã sửa", "Fields"),
            t("Ghi chú", "Message"),
            t("Mã tác giả", "Actor"),
            t("Mã thay đổi", "Change hash"),
        ],
    );
    for h in rows {
        s.push(vec![
            fmt_time(h.time).into(),
            h.user.as_str().into(),
            h.device.as_str().into(),
            h.fields.join(", ").into(),
            h.message.clone().unwrap_or_default().into(),
            h.actor.as_str().into(),
            h.hash.as_str().into(),
        ]);
    }
    s
}

/// The sheets of one report, computed by the same code as its screen.
pub fn report_sheets(
    conn: &crate::db::Connection,
    caller: &Reviewer,
    report: &str,
    q: &ReportQuery,
) -> AppResult<Vec<Sheet>> {
    let en = q.english();
    let today = today_vn();
    let orgs = OrgIndex::load(conn)?;
    let f = q.case_filter()?;
    Ok(match report {
        "dashboard" => export::dashboard_sheets(
            &reports::dashboard(conn, &orgs, caller, &f, q.years_without()?, today)?,
            en,
        ),
        "plan" => export::plan_sheets(
            &reports::plan(
                conn,
                &orgs,
                caller,
                &f,
                today,
                crate::figures::Via::Aggregates,
            )?,
            en,
        ),
        "cohort" => vec![export::cohort_sheet(
            &reports::cohort(conn, &orgs, caller, &f, today)?,
            en,
        )],
        "cases" => vec![export::cases_sheet(
            &reports::cases(conn, &orgs, caller, &f, today)?,
            en,
        )],
        "findings" => vec![export::findings_sheet(
            &reports::findings(conn, &orgs, caller, &f, today)?,
            en,
        )],
        "deadlines" => export::deadlines_sheets(
            &reports::deadlines(conn, &orgs, caller, f.org_id(), q.days()?, today)?,
            en,
        ),
        "conflicts" => vec![conflicts_sheet(
            &conflicts(conn, caller, q.state.as_deref(), None)?,
            en,
        )],
        _ => return Err(AppError::not_found("báo cáo", "Report")),
    })
}

/// The name of a report in a file name ("ho-so", "case-files").
fn report_title(report: &str, en: bool) -> &'static str {
    let (vi, e) = match report {
        "cases" => ("ho-so", "case-files"),
        "findings" => ("phat-hien", "findings"),
        "deadlines" => ("thoi-han", "deadlines"),
        "conflicts" => ("xung-dot", "conflicts"),
        "history" => ("lich-su", "history"),
        "dashboard" => ("tong-quan", "dashboard"),
        "plan" => ("ke-hoach", "plan"),
        "cohort" => ("chuyen-doi", "cohort"),
        _ => ("bao-cao", "report"),
    };
    if en { e } else { vi }
}

/// A download's file name that says what it holds: the report, the organisation or
/// person, the period when one was chosen, and the day, without diacritics so every
/// system keeps it ("ho-so-dang-bo-phuong-lach-tray-2026-2026-11-30").
pub fn export_name(parts: &[&str], day: shared::date::Date) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let slug: String = shared::text::fold(p)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let slug = slug
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        if !slug.is_empty() {
            out.push(slug.chars().take(60).collect());
        }
    }
    out.push(day.to_string());
    out.join("-")
}

/// Downloads a report as XLSX or CSV, or the case files of a subtree in the documented
/// JSON exchange format (`case-files`).
async fn export(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(report): Path<String>,
    AppQuery(q): AppQuery<ReportQuery>,
) -> AppResult<axum::response::Response> {
    let store = state.store.clone();
    let filter = q.case_filter()?;
    office(move || {
        if report == "case-files" {
            let path = {
                let conn = store.read();
                let orgs = OrgIndex::load(&conn)?;
                reports::resolve_org(&orgs, &caller, filter.org_id())?
                    .path
                    .clone()
            };
            let data = admin::export_case_files(&store, &path)?;
            let bytes =
                serde_json::to_vec_pretty(&data).map_err(|e| AppError::Internal(e.to_string()))?;
            return export::file_response(bytes, "application/json", "ho-so.json");
        }
        let format = ExportFormat::parse(q.format.as_deref())?;
        let en = q.english();
        if report == "history" {
            let id = q.id.as_deref().unwrap_or_default();
            let (_, rows) = history_of(&store, &caller, id, HistoryWindow::ALL)?;
            let sheet = history_sheet(&rows, en);
            let name = {
                let conn = store.read();
                db::projection_full_name(&conn, id).unwrap_or_default()
            };
            let base = export_name(&[report_title(&report, en), &name], today_vn());
            return export::download_in(&[sheet], format, &base, en);
        }
        let (sheets, org) = {
            let conn = store.read();
            let orgs = OrgIndex::load(&conn)?;
            let org = reports::resolve_org(&orgs, &caller, filter.org_id())?
                .name
                .clone();
            (report_sheets(&conn, &caller, &report, &q)?, org)
        };
        let period = match (filter.year, filter.term.as_deref()) {
            (Some(y), _) => y.to_string(),
            (None, Some(t)) => t.to_string(),
            (None, None) => String::new(),
        };
        let base = export_name(&[report_title(&report, en), &org, &period], today_vn());
        export::download_in(&sheets, format, &base, en)
    })
    .await
}

/// Cells of a sheet as plain text, for tests and the HTML preview of an export.
pub fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Text(t) => t.clone(),
        Cell::Int(n) => n.to_string(),
        Cell::Float(x) => format!("{x:.1}"),
        Cell::Date(d) => d.format_vn(),
        Cell::Bool(true) => "Có".into(),
        Cell::Bool(false) => "Không".into(),
        Cell::Empty => String::new(),
    }
}
