//! Likely duplicate case files at the office: found after every merge (the keys and
//! reasons are `shared::dedup`), listed for reviewers, merged into one file or dismissed.
//!
//! Merging writes ordinary changes by the reviewer: the surviving file takes the chosen
//! value of every field where the two differ, and the other file is marked
//! `review.merged_into` (never deleted). The marked file leaves every count and list, its
//! history stays readable, and devices that hold it learn of the merge at their next
//! sync. Edits made later to the merged file still arrive and are shown on the survivor's
//! page for the reviewer to carry over. A dismissed pair never comes back.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::db::Connection;
use crate::db::duplicates as db;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use shared::api::{ErrorCode, ReviewChange};
use shared::dedup::{self, Reason};
use shared::doc;
use shared::model::CaseFile;

use crate::auth::{Caller, now_secs};
use crate::casedocs::{self, RulesConfig, scope_range};
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppQuery, Reviewer};
use crate::office::office;
use crate::review::write_as_reviewer;
use crate::{AppState, admin, blocking};

/// What duplicate detection compares, as the projection last stored it: the name, the
/// birth date and the organisation of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    full_name: String,
    birth_date: Option<String>,
    org_id: String,
}

impl Identity {
    fn of(case: &CaseFile) -> Identity {
        Identity {
            full_name: case.person.full_name.clone(),
            birth_date: case.person.birth_date.map(|d| d.to_string()),
            org_id: case.org_id.clone(),
        }
    }

    /// The identity of a file as its projection holds it, before it is rewritten.
    pub fn stored(conn: &Connection, id: &str) -> crate::db::Result<Option<Identity>> {
        Ok(
            db::stored_identity(conn, id)?.map(|(full_name, birth_date, org_id)| Identity {
                full_name,
                birth_date,
                org_id,
            }),
        )
    }
}

/// Records the identity keys of a file and every pair it now forms with another file.
/// A pair already known keeps its state, so a dismissed pair stays dismissed.
pub fn detect(
    conn: &Connection,
    id: &str,
    case: &CaseFile,
    before: Option<&Identity>,
    stored: crate::casedocs::Stored,
) -> crate::db::Result<()> {
    let keys = dedup::identity_keys(case);
    if stored == crate::casedocs::Stored::Before {
        let mut wanted: Vec<(String, String)> = keys
            .iter()
            .map(|(r, k)| (r.code().to_string(), k.clone()))
            .collect();
        wanted.sort();
        wanted.dedup();
        let kept = db::identity_keys_of(conn, id)?;
        // Nothing that identifies the person changed (keys, name, birth date, branch):
        // every pair with this file was found when it or the other file was last stored.
        if kept == wanted && before == Some(&Identity::of(case)) {
            return Ok(());
        }
        db::delete_identity_keys(conn, id)?;
    }
    let mut found: BTreeMap<String, Reason> = BTreeMap::new();
    for (reason, key) in keys {
        db::insert_identity_key(conn, id, reason.code(), &key)?;
        db::each_file_with_key(conn, reason.code(), &key, id, |other| {
            let e = found.entry(other).or_insert(reason);
            *e = (*e).min(reason);
        })?;
    }
    if let Some(born) = case.person.birth_date {
        // Files of the same branch born the same day: compared by name only (the
        // projection's name column, no parsing), and a bounded number of them, so a
        // branch with many files sharing a birth date cannot make every merge slow.
        let mine = dedup::SameDayName::new(&case.person.full_name);
        db::each_born_same_day(conn, &case.org_id, &born.to_string(), id, |other, name| {
            if let Some(reason) = mine.compare(&dedup::SameDayName::new(&name), true) {
                let e = found.entry(other).or_insert(reason);
                *e = (*e).min(reason);
            }
        })?;
    }
    let now = now_secs();
    for (other, reason) in found {
        let (a, b) = if id < other.as_str() {
            (id, other.as_str())
        } else {
            (other.as_str(), id)
        };
        db::insert_pair(conn, a, b, reason.code(), now)?;
    }
    Ok(())
}

/// One side of a pair as the queue shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub doc_id: String,
    pub org_id: String,
    pub full_name: String,
    pub birth_date: Option<String>,
    pub stage: String,
}

/// A pair of files that look like the same person.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub id: i64,
    pub reason: String,
    pub reason_vi: String,
    pub reason_en: String,
    pub found_at: i64,
    pub state: String,
    pub survivor: Option<String>,
    pub decided_by: Option<String>,
    pub a: Side,
    pub b: Side,
}

/// Pairs of the caller's scope (both files in it), optionally below `org_path`, in the
/// given state (`open` by default).
pub fn list(
    conn: &Connection,
    caller: &Reviewer,
    org_path: Option<&str>,
    state: &str,
    pair: Option<i64>,
) -> AppResult<Vec<Pair>> {
    let path = org_path.unwrap_or(&caller.scope_path);
    if !casedocs::path_in_scope(path, &caller.scope_path) {
        return Err(AppError::forbidden());
    }
    let (lo, hi) = scope_range(path);
    Ok(db::pairs(conn, state, &lo, &hi, pair)?)
}

fn one_open(conn: &Connection, caller: &Reviewer, id: i64) -> AppResult<Pair> {
    list(conn, caller, None, "open", Some(id))?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::not_found("cặp hồ sơ trùng đang chờ", "Open duplicate pair"))
}

/// A field where the two files differ: its dotted path and both values.
#[derive(Debug, Clone, Serialize)]
pub struct FieldDiff {
    pub path: String,
    pub a: Value,
    pub b: Value,
}

/// Both files of a pair with the fields where they differ, for the side-by-side view.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub pair: Pair,
    pub diffs: Vec<FieldDiff>,
}

/// Leaves of a case file as dotted paths; lists are compared whole.
fn leaves(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                leaves(&format!("{prefix}.{k}"), x, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    }
}

fn case_of(conn: &Connection, id: &str) -> AppResult<CaseFile> {
    let (_, doc) =
        casedocs::load_doc(conn, id)?.ok_or_else(|| AppError::not_found("hồ sơ", "Case file"))?;
    doc::read_case(&doc).map_err(|e| AppError::Internal(e.to_string()))
}

pub fn compare(conn: &Connection, caller: &Reviewer, id: i64) -> AppResult<Comparison> {
    let pair = one_open(conn, caller, id)?;
    let a = serde_json::to_value(case_of(conn, &pair.a.doc_id)?).unwrap_or_default();
    let b = serde_json::to_value(case_of(conn, &pair.b.doc_id)?).unwrap_or_default();
    let (mut la, mut lb) = (BTreeMap::new(), BTreeMap::new());
    leaves("case", &a, &mut la);
    leaves("case", &b, &mut lb);
    let mut diffs = Vec::new();
    for (path, va) in &la {
        let vb = lb.get(path).cloned().unwrap_or(Value::Null);
        if *va != vb {
            diffs.push(FieldDiff {
                path: path.clone(),
                a: va.clone(),
                b: vb,
            });
        }
    }
    for (path, vb) in lb {
        if !la.contains_key(&path) {
            diffs.push(FieldDiff {
                path,
                a: Value::Null,
                b: vb,
            });
        }
    }
    Ok(Comparison { pair, diffs })
}

/// Which file survives, and for each differing field which side's value it keeps
/// (`"a"` or `"b"`). A field not named keeps the value that is filled in, the
/// survivor's when both are.
#[derive(Debug, Clone, Deserialize)]
pub struct MergeRequest {
    pub survivor: String,
    #[serde(default)]
    pub choices: BTreeMap<String, String>,
}

/// Merges a pair: the survivor takes the chosen values, the other file is marked merged.
pub fn merge(
    store: &Store,
    rules: &RulesConfig,
    caller: &Reviewer,
    id: i64,
    req: &MergeRequest,
) -> AppResult<String> {
    let actor = admin::caller_actor(store, caller)?;
    let conn = store.conn();
    let cmp = compare(&conn, caller, id)?;
    let (survivor, loser, keep_a) = match req.survivor.as_str() {
        "a" => (&cmp.pair.a.doc_id, &cmp.pair.b.doc_id, true),
        "b" => (&cmp.pair.b.doc_id, &cmp.pair.a.doc_id, false),
        other => {
            return Err(AppError::bad_request(
                ErrorCode::BadSurvivor,
                format!("Hồ sơ giữ lại phải là \"a\" hoặc \"b\", không phải {other:?}."),
                format!("The surviving file must be \"a\" or \"b\", not {other:?}."),
            ));
        }
    };
    let mut writes: Vec<(String, Value)> = Vec::new();
    for d in &cmp.diffs {
        let (mine, theirs) = if keep_a { (&d.a, &d.b) } else { (&d.b, &d.a) };
        let take_theirs = match req.choices.get(&d.path).map(String::as_str) {
            Some("a") => !keep_a,
            Some("b") => keep_a,
            Some(other) => {
                return Err(AppError::bad_request(
                    ErrorCode::BadChoice,
                    format!(
                        "Lựa chọn cho «{}» phải là \"a\" hoặc \"b\", không phải {other:?}.",
                        d.path
                    ),
                    format!(
                        "The choice for `{}` must be \"a\" or \"b\", not {other:?}.",
                        d.path
                    ),
                ));
            }
            None => empty(mine) && !empty(theirs),
        };
        if take_theirs {
            writes.push((d.path.clone(), theirs.clone()));
        }
    }
    if let Some(unknown) = req
        .choices
        .keys()
        .find(|k| !cmp.diffs.iter().any(|d| &d.path == *k))
    {
        return Err(AppError::bad_request(
            ErrorCode::BadChoice,
            format!("Trường «{unknown}» không khác nhau giữa hai hồ sơ."),
            format!("The field `{unknown}` does not differ between the two files."),
        ));
    }
    let who = format!("{} ({})", caller.display_name, caller.username);
    if !writes.is_empty() {
        write_as_reviewer(
            &conn,
            rules,
            caller,
            actor.clone(),
            survivor,
            ReviewChange::MergeDuplicate {
                loser: loser.to_string(),
            },
            |d| {
                for (path, v) in &writes {
                    doc::set_field(d, &doc::parse_path(path), v)
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                }
                Ok(())
            },
        )?;
    }
    let target = Value::String(survivor.clone());
    write_as_reviewer(
        &conn,
        rules,
        caller,
        actor,
        loser,
        ReviewChange::MergedInto {
            survivor: survivor.to_string(),
        },
        |d| {
            doc::set_field(d, &doc::parse_path("review.merged_into"), &target)
                .map_err(|e| AppError::Internal(e.to_string()))
        },
    )?;
    let now = now_secs();
    db::mark_merged(&conn, id, survivor, &who, now)?;
    // Other open pairs of the merged file are settled with it.
    db::settle_open_pairs_of(&conn, loser, survivor, &who, now)?;
    Ok(survivor.clone())
}

/// "Not the same person": the pair leaves the queue for good.
pub fn dismiss(store: &Store, caller: &Reviewer, id: i64) -> AppResult<()> {
    let conn = store.conn();
    one_open(&conn, caller, id)?;
    db::mark_dismissed(
        &conn,
        id,
        &format!("{} ({})", caller.display_name, caller.username),
        now_secs(),
    )?;
    Ok(())
}

/// Files merged into `survivor`, each with the changes made to it after the merge (by
/// devices that had not heard of it yet), for the reviewer to carry over.
#[derive(Debug, Clone, Serialize)]
pub struct LateEdits {
    pub doc_id: String,
    pub merged_at: i64,
    pub entries: Vec<casedocs::HistoryEntry>,
    /// The merged file's current value of every field those edits wrote.
    pub values: Vec<(String, Value)>,
}

pub fn late_edits(store: &Store, caller: &Reviewer, survivor: &str) -> AppResult<Vec<LateEdits>> {
    let merged: Vec<(String, i64)> = {
        let conn = store.read();
        db::merged_into_survivor(&conn, survivor)?
    };
    let mut out = Vec::new();
    for (loser, at) in merged {
        let (_, rows) =
            crate::review::history_of(store, caller, &loser, crate::review::HistoryWindow::ALL)?;
        // The changes applied after the one that marked the file merged (device clocks
        // are not trusted to order them).
        let mark = rows
            .iter()
            .rposition(|e| e.fields.iter().any(|f| f == "review.merged_into"));
        let entries: Vec<_> = rows
            .into_iter()
            .skip(mark.map_or(usize::MAX, |m| m + 1))
            .filter(|e| !e.fields.iter().any(|f| f.starts_with("review")))
            .collect();
        let mut values = Vec::new();
        if !entries.is_empty() {
            let json = {
                let conn = store.read();
                casedocs::load_doc(&conn, &loser)?.map(|(_, d)| doc::to_json(&d))
            }
            .unwrap_or_default();
            let fields: std::collections::BTreeSet<&String> =
                entries.iter().flat_map(|e| &e.fields).collect();
            for f in fields {
                values.push((f.clone(), casedocs::value_at(&json, f)));
            }
        }
        out.push(LateEdits {
            doc_id: loser,
            merged_at: at,
            entries,
            values,
        });
    }
    Ok(out)
}

/// The file a merged file was merged into, if it was.
pub fn merged_into(conn: &Connection, id: &str) -> crate::db::Result<Option<String>> {
    db::survivor_of(conn, id)
}

pub fn routes() -> axum::Router<Arc<AppState>> {
    axum::Router::new()
        .route("/api/review/duplicates", get(api_list))
        .route("/api/review/duplicates/{id}", get(api_compare))
        .route("/api/review/duplicates/{id}/merge", post(api_merge))
        .route("/api/review/duplicates/{id}/dismiss", post(api_dismiss))
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    pub org: Option<String>,
    pub state: Option<String>,
}

fn org_path(conn: &Connection, caller: &Caller, org: Option<&str>) -> AppResult<Option<String>> {
    match org.filter(|o| !o.is_empty()) {
        None => Ok(None),
        Some(org) => {
            let path = crate::db::orgs::path_of(conn, org)?;
            match path {
                Some(p) if casedocs::path_in_scope(&p, &caller.scope_path) => Ok(Some(p)),
                _ => Err(AppError::bad_request(
                    ErrorCode::BadOrg,
                    format!("Tổ chức «{org}» không có hoặc nằm ngoài phạm vi của tài khoản."),
                    format!(
                        "Organisation `{org}` does not exist or is outside this account's scope."
                    ),
                )),
            }
        }
    }
}

/// The pairs of a scope, for the JSON API and the page.
pub fn list_for(store: &Store, caller: &Reviewer, q: &ListQuery) -> AppResult<Vec<Pair>> {
    let conn = store.read();
    let path = org_path(&conn, caller, q.org.as_deref())?;
    let state = match q.state.as_deref() {
        None | Some("") | Some("open") => "open",
        Some("merged") => "merged",
        Some("dismissed") => "dismissed",
        Some("all") => "all",
        Some(other) => {
            return Err(AppError::bad_request(
                ErrorCode::BadState,
                format!("Trạng thái không hợp lệ: {other} (open, merged, dismissed, all)."),
                format!("Invalid state: {other} (open, merged, dismissed, all)."),
            ));
        }
    };
    list(&conn, caller, path.as_deref(), state, None)
}

async fn api_list(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    AppQuery(q): AppQuery<ListQuery>,
) -> AppResult<Json<Vec<Pair>>> {
    let store = state.store.clone();
    office(move || Ok(Json(list_for(&store, &caller, &q)?))).await
}

async fn api_compare(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Json<Comparison>> {
    let store = state.store.clone();
    office(move || {
        let conn = store.read();
        Ok(Json(compare(&conn, &caller, id)?))
    })
    .await
}

async fn api_merge(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<i64>,
    AppJson(req): AppJson<MergeRequest>,
) -> AppResult<Json<Value>> {
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        let survivor = merge(&store, &rules, &caller, id, &req)?;
        Ok(Json(serde_json::json!({"survivor": survivor})))
    })
    .await
}

async fn api_dismiss(
    State(state): State<Arc<AppState>>,
    caller: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let store = state.store.clone();
    blocking(move || {
        dismiss(&store, &caller, id)?;
        Ok(Json(serde_json::json!({"dismissed": id})))
    })
    .await
}
