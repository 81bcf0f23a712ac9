//! Reference data and administration: the organisation tree, members register, targets,
//! accounts, rule settings and the working-day calendar; import and export in one
//! documented JSON format; statistics; device revocation.
//!
//! Reference data is owned by the server and sent read-only to each device for its scope.

use std::collections::HashMap;
use std::sync::Arc;

use crate::db::Connection;
use automerge::{ActorId, AutoCommit};
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::api::ErrorCode;
pub use shared::api::{ClassRef, Member, Org, Reference};
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::doc::{self, ReviewNote};
use shared::model::CaseFile;
use shared::rules::RuleSettings;
use shared::sync::DocId;

use crate::auth::{self, Caller, Role, now_secs};
use crate::casedocs::{self, RulesConfig, today_vn};
use crate::db::store::Store;
use crate::db::{
    accounts as db_accounts, members as db_members, orgs as db_orgs, settings as db_settings,
    targets as db_targets,
};
use crate::error::{AppError, AppResult};
use crate::extract::Admin;
use crate::office::office;
use crate::targets;
use crate::{AppState, blocking};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/admin/devices", get(list_devices))
        .route("/api/admin/devices/{id}/revoke", post(revoke))
        .route("/api/admin/stats", get(stats_route))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OrgYear {
    pub org_id: String,
    pub year: i32,
    pub members_start: i64,
    #[serde(default)]
    pub target: i64,
    /// The resolution or decision that set the target, kept with its revision.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decision: String,
    /// The date the target took effect (ISO), when it was revised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TermTarget {
    pub org_id: String,
    pub term: String,
    pub target: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
}

/// A term of an organisation: congress to congress.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TermImport {
    pub org_id: String,
    /// The name reports and targets use, e.g. "2020-2025" or "Nhiệm kỳ 2020–2025".
    pub name: String,
    /// The congress that opened the term (ISO date).
    pub start_date: String,
    /// The next congress (ISO date).
    pub end_date: String,
    #[serde(default)]
    pub decision: String,
}

/// A part of a target reserved for a group (`reports::TargetGroup` codes: `women`,
/// `youth_union`, `minority`, `age_18_30`, `sector:<code>`, `occupation:<code>`,
/// `source:<code>`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubTargetImport {
    pub org_id: String,
    /// A year ("2026") or a term's name.
    pub period: String,
    pub group: String,
    pub value: i64,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub effective: Option<String>,
}

/// An awareness class (lớp bồi dưỡng nhận thức về Đảng).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClassImport {
    pub id: String,
    /// The party organisation that opened the class.
    pub org_id: String,
    pub name: String,
    #[serde(default)]
    pub organiser: String,
    pub start_date: String,
    pub end_date: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserImport {
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: String,
    pub scope_org: String,
}

/// The reference-data import format (`reference.json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReferenceImport {
    pub orgs: Vec<Org>,
    pub org_years: Vec<OrgYear>,
    pub term_targets: Vec<TermTarget>,
    pub terms: Vec<TermImport>,
    pub sub_targets: Vec<SubTargetImport>,
    pub classes: Vec<ClassImport>,
    pub members: Vec<Member>,
    pub users: Vec<UserImport>,
    pub rule_settings: Option<RuleSettings>,
    /// Bounds on the work one sync request may cause (`shared::limits::Limits`); read at
    /// the server's start.
    pub limits: Option<shared::limits::Limits>,
    /// A working-day calendar in the format of `shared/src/calendar/vn_2021_2027.json`.
    pub calendar: Option<serde_json::Value>,
}

/// One case file in the exchange format (`case-files.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseFileRecord {
    pub id: DocId,
    pub case: CaseFile,
    #[serde(default)]
    pub review: ReviewNote,
}

pub const CASE_FILES_FORMAT: &str = "ho-so-phat-trien-dang-vien/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFilesExport {
    pub format: String,
    pub case_files: Vec<CaseFileRecord>,
}

/// Records, inside the transaction that changed the rule settings or the calendar, that
/// they changed: every server process over this store reads them again on its next
/// request (`AppState::rules`).
pub fn rules_changed(tx: &crate::db::Connection) -> crate::db::Result<()> {
    db_settings::bump_rules_version(tx)
}

pub fn load_rules_config(store: &Store) -> Option<RulesConfig> {
    let mut cfg = RulesConfig::default();
    if let Ok(Some(s)) = store.get_setting("rule_settings") {
        cfg.settings = serde_json::from_str(&s).ok()?;
    }
    if let Ok(Some(c)) = store.get_setting("calendar") {
        cfg.calendar = WorkingCalendar::from_json(&c).ok()?;
    }
    Some(cfg)
}

fn invalid(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::bad_request(
        ErrorCode::InvalidImport,
        format!("Tệp nhập không hợp lệ ({what}): {e}. Không có gì được lưu."),
        format!("Invalid import file ({what}): {e}. Nothing was stored."),
    )
}

/// An organisation id: 1 to 64 ASCII letters, digits, `-`, `_` or `.`. Ids are segments of
/// materialised paths, so `/` and anything a path or a URL would treat specially is out.
pub fn valid_org_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id != "."
        && id != ".."
}

/// Imports reference data in one transaction: either all of it is stored or none.
/// Who the history names for figures that came from a reference import.
const IMPORT_BY: &str = "import-reference";

pub fn import_reference(store: &Store, json: &str) -> AppResult<ImportSummary> {
    let data: ReferenceImport = serde_json::from_str(json).map_err(|e| invalid("JSON", e))?;
    if let Some(cal) = &data.calendar {
        WorkingCalendar::from_json(&cal.to_string()).map_err(|e| invalid("calendar", e))?;
    }
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    // Parents before children: compute each org's materialised path as we go.
    let mut paths: HashMap<String, String> = db_orgs::all_paths(&tx)?.into_iter().collect();
    let mut pending: Vec<&Org> = data.orgs.iter().collect();
    while !pending.is_empty() {
        let before = pending.len();
        let mut rest = Vec::new();
        for org in pending {
            if !valid_org_id(&org.id) {
                return Err(invalid(
                    "orgs",
                    format!(
                        "bad id {:?} (1–64 ASCII letters, digits, '-', '_' or '.')",
                        org.id
                    ),
                ));
            }
            let parent_path = match &org.parent_id {
                None => Some(String::from("/")),
                Some(p) => paths.get(p).cloned(),
            };
            match parent_path {
                Some(pp) => {
                    let path = format!("{pp}{}/", org.id);
                    db_orgs::upsert(&tx, org, &path)?;
                    paths.insert(org.id.clone(), path);
                }
                None => rest.push(org),
            }
        }
        if rest.len() == before {
            return Err(invalid(
                "orgs",
                format!("unknown parent for {}", rest[0].id),
            ));
        }
        pending = rest;
    }
    let known = |id: &str| paths.contains_key(id);
    let iso = |field: &str, v: &str| -> AppResult<Date> {
        v.parse::<Date>().map_err(|e| invalid(field, e))
    };
    let effective = |field: &str, v: &Option<String>| -> AppResult<Option<Date>> {
        v.as_deref().map(|d| iso(field, d)).transpose()
    };
    for y in &data.org_years {
        if !known(&y.org_id) {
            return Err(invalid("org_years", format!("unknown org {}", y.org_id)));
        }
        let old = db_targets::year(&tx, &y.org_id, y.year)?;
        db_targets::put_year(&tx, &y.org_id, y.year, y.members_start, y.target)?;
        // A re-import that changes a figure keeps the old one in the history.
        let when = effective("org_years.effective", &y.effective)?;
        let period = y.year.to_string();
        if let Some((m, t)) = old {
            targets::record_revision(
                &tx,
                IMPORT_BY,
                &y.org_id,
                &period,
                "target",
                Some(t),
                y.target,
                when,
                &y.decision,
            )?;
            targets::record_revision(
                &tx,
                IMPORT_BY,
                &y.org_id,
                &period,
                "members_start",
                Some(m),
                y.members_start,
                when,
                &y.decision,
            )?;
        } else if y.target > 0 {
            targets::record_revision(
                &tx,
                IMPORT_BY,
                &y.org_id,
                &period,
                "target",
                None,
                y.target,
                when,
                &y.decision,
            )?;
        }
    }
    for t in &data.terms {
        if !known(&t.org_id) {
            return Err(invalid("terms", format!("unknown org {}", t.org_id)));
        }
        let (a, b) = (
            iso("terms.start_date", &t.start_date)?,
            iso("terms.end_date", &t.end_date)?,
        );
        if b <= a || t.name.trim().is_empty() {
            return Err(invalid("terms", format!("{}: {a} – {b}", t.name)));
        }
        db_targets::put_term(&tx, &t.org_id, t.name.trim(), a, b, &t.decision)?;
    }
    for t in &data.term_targets {
        if !known(&t.org_id) {
            return Err(invalid("term_targets", format!("unknown org {}", t.org_id)));
        }
        let old = db_targets::term_target(&tx, &t.org_id, &t.term)?;
        db_targets::put_term_target(&tx, &t.org_id, &t.term, t.target)?;
        targets::record_revision(
            &tx,
            IMPORT_BY,
            &t.org_id,
            &t.term,
            "target",
            old,
            t.target,
            effective("term_targets.effective", &t.effective)?,
            &t.decision,
        )?;
    }
    for st in &data.sub_targets {
        if !known(&st.org_id) {
            return Err(invalid("sub_targets", format!("unknown org {}", st.org_id)));
        }
        if crate::figures::TargetGroup::parse(&st.group).is_none() || st.value < 0 {
            return Err(invalid("sub_targets.group", &st.group));
        }
        targets::put_sub_target(
            &tx,
            IMPORT_BY,
            &st.org_id,
            &st.period,
            &st.group,
            st.value,
            effective("sub_targets.effective", &st.effective)?,
            &st.decision,
        )?;
    }
    for c in &data.classes {
        if !known(&c.org_id) {
            return Err(invalid("classes", format!("unknown org {}", c.org_id)));
        }
        let (a, b) = (
            iso("classes.start_date", &c.start_date)?,
            iso("classes.end_date", &c.end_date)?,
        );
        if b < a || c.name.trim().is_empty() || !valid_org_id(&c.id) {
            return Err(invalid("classes", &c.id));
        }
        crate::classes::put(
            &tx,
            &crate::classes::Class {
                id: c.id.clone(),
                org_id: c.org_id.clone(),
                name: c.name.trim().to_string(),
                organiser: c.organiser.trim().to_string(),
                start_date: a,
                end_date: b,
                place: c.place.trim().to_string(),
                note: c.note.trim().to_string(),
            },
        )?;
    }
    let mut members = Vec::with_capacity(data.members.len());
    for m in &data.members {
        if !known(&m.org_id) {
            return Err(invalid("members", format!("unknown org {}", m.org_id)));
        }
        if let Some(d) = &m.official_since {
            d.parse::<shared::date::Date>()
                .map_err(|e| invalid("members.official_since", e))?;
        }
        members.push(crate::members::MemberRow {
            id: m.id.clone(),
            org_id: m.org_id.clone(),
            full_name: m.full_name.clone(),
            official_since: m.official_since.clone(),
            status: m.status.clone(),
        });
    }
    // Nothing above reads the database and a rejected member rolls everything back, so
    // storing the members after checking them all stores the same rows.
    db_members::put_all(&tx, &members)?;
    for u in &data.users {
        let role = Role::parse(&u.role).ok_or_else(|| invalid("users.role", &u.role))?;
        if !known(&u.scope_org) {
            return Err(invalid("users", format!("unknown org {}", u.scope_org)));
        }
        db_accounts::upsert_imported_user(
            &tx,
            &u.username,
            &u.display_name,
            &auth::hash_password(&u.password),
            role.as_str(),
            &u.scope_org,
        )?;
    }
    if let Some(s) = &data.rule_settings {
        db_settings::put_rule_settings(&tx, &serde_json::to_string(s).unwrap_or_default())?;
    }
    if let Some(l) = &data.limits {
        db_settings::put_limits(&tx, &serde_json::to_string(l).unwrap_or_default())?;
    }
    if let Some(c) = &data.calendar {
        db_settings::put_calendar(&tx, &c.to_string())?;
        rules_changed(&tx)?;
    }
    tx.commit()?;
    Ok(ImportSummary {
        orgs: data.orgs.len(),
        members: data.members.len(),
        users: data.users.len(),
        case_files: 0,
    })
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportSummary {
    pub orgs: usize,
    pub members: usize,
    pub users: usize,
    pub case_files: usize,
}

/// The actor the server writes imports and demo data with, bound to a system account.
pub fn system_actor(store: &Store) -> AppResult<ActorId> {
    let conn = store.conn();
    let existing = db_accounts::system_device_actor(&conn)?;
    if let Some(a) = existing {
        return ActorId::try_from(a.as_str()).map_err(|e| AppError::Internal(e.to_string()));
    }
    let root = db_orgs::root(&conn)?;
    let root = root.ok_or_else(|| AppError::Internal("no organisation tree yet".into()))?;
    db_accounts::insert_system_user(&conn, &root)?;
    let uid = db_accounts::system_user_id(&conn)?;
    db_accounts::insert_system_device(&conn, uid, now_secs())?;
    let actor = ActorId::random();
    db_accounts::insert_system_actor(&conn, &actor.to_hex_string(), uid)?;
    Ok(actor)
}

/// The actor a signed-in person writes with from the server (a reviewer's decision): one
/// per device, derived from its id and bound to it, so history names the right person.
pub fn caller_actor(store: &Store, caller: &Caller) -> AppResult<ActorId> {
    let digest = Sha256::digest(format!("server-writes:{}", caller.device_id).as_bytes());
    let actor = ActorId::from(&digest[..16]);
    auth::bind_actor(store, caller, &actor.to_hex_string())?;
    Ok(actor)
}

/// Imports case files in the exchange format. Every record is checked first; then all
/// are stored in one transaction, written by the system actor.
pub fn import_case_files(
    store: &Store,
    rules: &RulesConfig,
    json: &str,
) -> AppResult<ImportSummary> {
    let data: CaseFilesExport = serde_json::from_str(json).map_err(|e| invalid("JSON", e))?;
    if data.format != CASE_FILES_FORMAT {
        return Err(invalid(
            "format",
            format!("expected {CASE_FILES_FORMAT}, got {}", data.format),
        ));
    }
    let actor = system_actor(store)?;
    let today = today_vn();
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    for rec in &data.case_files {
        let exists = db_orgs::exists(&tx, &rec.case.org_id)?;
        if !exists {
            return Err(invalid(
                "case_files",
                format!("{}: unknown org {}", rec.id, rec.case.org_id),
            ));
        }
        write_case_file(&tx, rules, &actor, rec, today)?;
    }
    tx.commit()?;
    Ok(ImportSummary {
        case_files: data.case_files.len(),
        ..Default::default()
    })
}

/// Writes one case file as a new document, or as an update of the stored one.
pub fn write_case_file(
    conn: &Connection,
    rules: &RulesConfig,
    actor: &ActorId,
    rec: &CaseFileRecord,
    today: shared::date::Date,
) -> AppResult<()> {
    let mut case = rec.case.clone();
    case.id = rec.id.to_string();
    let (mut doc, since) = match casedocs::load_doc(conn, rec.id.as_str())? {
        Some((_, mut doc)) => {
            let heads = doc.get_heads();
            let mut doc = doc.with_actor(actor.clone());
            replace_case(&mut doc, &case, &rec.review)?;
            (doc, heads)
        }
        None => {
            let mut doc = AutoCommit::new().with_actor(actor.clone());
            doc::init_case_doc(&mut doc, &case).map_err(|e| invalid("case", e))?;
            write_review(&mut doc, &rec.review)?;
            (doc, Vec::new())
        }
    };
    doc.commit();
    casedocs::store_server_changes(conn, rules, &rec.id, &mut doc, &since, "he-thong", today)?;
    Ok(())
}

fn replace_case(doc: &mut AutoCommit, case: &CaseFile, review: &ReviewNote) -> AppResult<()> {
    let json = serde_json::to_value(case).map_err(|e| invalid("case", e))?;
    doc::set_field(doc, &[doc::Seg::Key("case".into())], &json).map_err(|e| invalid("case", e))?;
    write_review(doc, review)
}

fn write_review(doc: &mut AutoCommit, review: &ReviewNote) -> AppResult<()> {
    let json = serde_json::to_value(review).map_err(|e| invalid("review", e))?;
    doc::set_field(doc, &[doc::Seg::Key("review".into())], &json).map_err(|e| invalid("review", e))
}

/// Exports every case file (optionally of one subtree) in the exchange format.
pub fn export_case_files(store: &Store, scope_path: &str) -> AppResult<CaseFilesExport> {
    let conn = store.read();
    let (lo, hi) = casedocs::scope_range(scope_path);
    let ids = crate::db::docs::doc_ids_in_range(&conn, &lo, &hi)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some((_, doc)) = casedocs::load_doc(&conn, &id)? {
            let case = doc::read_case(&doc).map_err(|e| AppError::Internal(e.to_string()))?;
            let review = doc::read_review(&doc);
            let id = DocId::try_from(id).map_err(|e| AppError::Internal(e.to_string()))?;
            out.push(CaseFileRecord { id, case, review });
        }
    }
    Ok(CaseFilesExport {
        format: CASE_FILES_FORMAT.into(),
        case_files: out,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub orgs: i64,
    pub members: i64,
    pub users: i64,
    pub devices: i64,
    pub case_files: i64,
    pub changes: i64,
    pub open_conflicts: i64,
    pub database_bytes: i64,
}

pub fn stats(store: &Store) -> AppResult<Stats> {
    Ok(db_settings::stats(&store.read())?)
}

pub async fn reference(
    State(state): State<Arc<AppState>>,
    caller: Caller,
) -> AppResult<Json<Reference>> {
    let store = state.store.clone();
    let rules = state.rules();
    blocking(move || {
        let (lo, hi) = casedocs::scope_range(&caller.scope_path);
        let conn = store.read();
        let orgs: Vec<Org> = crate::reports::OrgIndex::load(&conn)?
            .subtree(&caller.scope_path)
            .map(Org::from)
            .collect();
        let members = db_members::in_range(&conn, &lo, &hi)?;
        let index = crate::reports::OrgIndex::load(&conn)?;
        let classes = crate::classes::visible(&conn, &index, &caller.scope_path)?
            .into_iter()
            .map(|c| ClassRef {
                id: c.id,
                name: c.name,
                organiser: c.organiser,
                start_date: c.start_date.to_string(),
                end_date: c.end_date.to_string(),
            })
            .collect();
        // `get_setting` takes the connection lock itself: release ours first.
        drop(conn);
        let calendar = store
            .get_setting("calendar")?
            .and_then(|c| serde_json::from_str(&c).ok())
            .unwrap_or_else(|| {
                serde_json::from_str(shared::calendar::VN_2021_2027_JSON).unwrap_or_default()
            });
        let handoff_key = crate::handoff::public_key(&store)?;
        Ok(Json(Reference {
            orgs,
            members,
            rule_settings: rules.settings,
            calendar,
            handoff_key,
            classes,
        }))
    })
    .await
}

/// One device in the device list of the API.
#[derive(Debug, Serialize)]
pub struct DeviceRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub created_at: i64,
    pub last_seen: Option<i64>,
    pub revoked_at: Option<i64>,
}

async fn list_devices(
    State(state): State<Arc<AppState>>,
    _: Admin,
) -> AppResult<Json<Vec<DeviceRow>>> {
    let store = state.store.clone();
    office(move || {
        let rows = db_accounts::all_devices(&store.read())?;
        Ok(Json(rows))
    })
    .await
}

async fn revoke(
    State(state): State<Arc<AppState>>,
    _: Admin,
    Path(id): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let store = state.store.clone();
    let done = blocking(move || auth::revoke_device(&store, &id)).await?;
    Ok(Json(serde_json::json!({ "revoked": done })))
}

async fn stats_route(State(state): State<Arc<AppState>>, _: Admin) -> AppResult<Json<Stats>> {
    let store = state.store.clone();
    Ok(Json(office(move || stats(&store)).await?))
}
