//! Case-file documents on the server: loading them from the change log, merging a
//! device's push (checking authorship, scope and the model), re-evaluating the rules
//! after every merge, keeping the projection and the open conflicts current, and reading
//! the pull feed.
//!
//! Rules never block a merge: a document that fits the model is always accepted, and its
//! findings are recorded for review. Only changes that are unreadable, foreign, out of
//! scope or break the model are refused, and a refusal touches nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use automerge::{AutoCommit, Change, ChangeHash, ReadDoc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::json;
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::doc::{self, FieldConflict};
use shared::model::CaseFile;
use shared::rules::{self, EvalContext, Evaluation, RuleSettings, Severity};
use shared::sync::{ChangeBytes, DocChanges, DocId, Rejection};

use crate::auth::now_secs;

/// Rule settings and the working-day calendar in force on this server.
#[derive(Debug, Clone)]
pub struct RulesConfig {
    pub settings: RuleSettings,
    pub calendar: WorkingCalendar,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            settings: RuleSettings::default(),
            calendar: WorkingCalendar::vietnam_2021_2027(),
        }
    }
}

impl RulesConfig {
    pub fn evaluate(&self, case: &CaseFile, today: Date) -> Evaluation {
        rules::evaluate(
            case,
            &EvalContext {
                today,
                settings: &self.settings,
                calendar: &self.calendar,
            },
        )
    }
}

/// Today's date in Vietnam (UTC+7), the date rules are evaluated at.
pub fn today_vn() -> Date {
    Date::from_days_since_epoch(((now_secs() + 7 * 3600) / 86_400) as i32)
}

/// Loads a document from its snapshot and the changes logged after it.
pub fn load_doc(conn: &Connection, id: &str) -> rusqlite::Result<Option<(String, AutoCommit)>> {
    let row: Option<(String, Option<Vec<u8>>, i64)> = conn
        .prepare_cached("SELECT org_id, snapshot, snapshot_seq FROM docs WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((org_id, snapshot, snapshot_seq)) = row else {
        return Ok(None);
    };
    let mut doc = match snapshot {
        Some(bytes) => AutoCommit::load(&bytes).map_err(|e| corrupt(id, e))?,
        None => AutoCommit::new(),
    };
    let mut stmt = conn
        .prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq")?;
    let changes = stmt
        .query_map(params![id, snapshot_seq], |r| r.get::<_, Vec<u8>>(0))?
        .map(|b| b.and_then(|b| Change::from_bytes(b).map_err(|e| corrupt(id, e))))
        .collect::<rusqlite::Result<Vec<_>>>()?;
    doc.apply_changes(changes).map_err(|e| corrupt(id, e))?;
    Ok(Some((org_id, doc)))
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(format!("document {id} is unreadable: {e}").into())
}

/// Whether organisation `org_id` lies in the subtree whose path is `scope_path`.
pub fn org_in_scope(conn: &Connection, org_id: &str, scope_path: &str) -> rusqlite::Result<bool> {
    let path: Option<String> = conn
        .prepare_cached("SELECT path FROM orgs WHERE id = ?1")?
        .query_row([org_id], |r| r.get(0))
        .optional()?;
    Ok(path.is_some_and(|p| p.starts_with(scope_path)))
}

/// Who may push, as seen by the merge: the device's actors and its scope.
#[derive(Debug)]
pub struct Pusher<'a> {
    pub actors: &'a HashSet<String>,
    pub scope_path: &'a str,
    pub username: &'a str,
}

fn reject(doc_id: &DocId, code: &str, vi: String, en: String) -> Rejection {
    Rejection {
        doc_id: doc_id.clone(),
        code: code.to_string(),
        message_vi: vi,
        message_en: en,
    }
}

/// Merges one pushed document inside the caller's transaction. On `Err` the caller rolls
/// the savepoint back, so a refused document leaves no trace.
pub fn merge_push(
    conn: &Connection,
    rules: &RulesConfig,
    pusher: &Pusher<'_>,
    push: &DocChanges,
    today: Date,
) -> Result<Vec<ChangeHash>, Rejection> {
    let id = &push.doc_id;
    let internal = |e: rusqlite::Error| {
        reject(
            id,
            "INTERNAL",
            format!("Lỗi máy chủ khi lưu hồ sơ: {e}"),
            format!("Server error while storing the file: {e}"),
        )
    };
    let mut changes = Vec::with_capacity(push.changes.len());
    for c in &push.changes {
        changes.push(c.decode().map_err(|e| {
            reject(
                id,
                "BAD_CHANGE",
                format!("Thay đổi không đọc được: {e}"),
                format!("Unreadable change: {e}"),
            )
        })?);
    }
    let existing = load_doc(conn, id.as_str()).map_err(internal)?;
    let (old_org, mut doc) = match existing {
        Some((org, doc)) => {
            if !org_in_scope(conn, &org, pusher.scope_path).map_err(internal)? {
                return Err(out_of_scope(id));
            }
            (Some(org), doc)
        }
        None => (None, AutoCommit::new()),
    };
    let mut seen = HashSet::new();
    let new: Vec<Change> = changes
        .into_iter()
        .filter(|c| doc.get_change_by_hash(&c.hash()).is_none() && seen.insert(c.hash()))
        .collect();
    for c in &new {
        let actor = c.actor_id().to_hex_string();
        if !pusher.actors.contains(&actor) {
            return Err(reject(
                id,
                "FOREIGN_ACTOR",
                format!("Thay đổi mang mã tác giả {actor} không thuộc thiết bị này."),
                format!("A change carries actor {actor}, which does not belong to this device."),
            ));
        }
    }
    if new.is_empty() {
        // Already stored: a repeated request is acknowledged again and changes nothing.
        return Ok(Vec::new());
    }
    doc.apply_changes(new.clone()).map_err(|e| {
        reject(
            id,
            "BAD_CHANGE",
            format!("Không áp dụng được thay đổi: {e}"),
            format!("The changes could not be applied: {e}"),
        )
    })?;
    if new
        .iter()
        .any(|c| doc.get_change_by_hash(&c.hash()).is_none())
    {
        return Err(reject(
            id,
            "MISSING_DEPS",
            "Thiếu các thay đổi trước đó của hồ sơ; thiết bị sẽ gửi lại toàn bộ.".into(),
            "Earlier changes of this file are missing; the device will resend them all.".into(),
        ));
    }
    let (case, review) = doc::read_parts(&doc).map_err(|e| {
        reject(
            id,
            "INVALID_DOCUMENT",
            format!("Hồ sơ không đúng mẫu dữ liệu: {e}"),
            format!("The file does not fit the case-file model: {e}"),
        )
    })?;
    if !org_in_scope(conn, &case.org_id, pusher.scope_path).map_err(internal)? {
        return Err(out_of_scope(id));
    }
    append_changes(conn, id.as_str(), &case.org_id, old_org.as_deref(), &new).map_err(internal)?;
    refresh_views(
        conn,
        rules,
        id.as_str(),
        &mut doc,
        (&case, &review),
        today,
        pusher.username,
    )
    .map_err(internal)?;
    Ok(new.iter().map(Change::hash).collect())
}

/// Appends new changes to a document's log, creating its row when it is new. A file
/// entering an organisation (new, or moved) restarts its feed position there, so devices
/// of the new scope receive its whole history.
fn append_changes(
    conn: &Connection,
    id: &str,
    org_id: &str,
    old_org: Option<&str>,
    changes: &[Change],
) -> rusqlite::Result<()> {
    let now = now_secs();
    if old_org.is_none() {
        conn.execute(
            "INSERT INTO docs(id, org_id, org_seq, created_at, updated_at) VALUES (?1, ?2, 0, ?3, ?3)",
            params![id, org_id, now],
        )?;
    }
    let mut seq = 0i64;
    let mut ins = conn.prepare_cached(
        "INSERT OR IGNORE INTO changes(doc_id, hash, actor, bytes, received_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for c in changes {
        let inserted = ins.execute(params![
            id,
            c.hash().0.to_vec(),
            c.actor_id().to_hex_string(),
            c.raw_bytes(),
            now
        ])?;
        if inserted == 1 {
            seq = conn.last_insert_rowid();
        }
    }
    if old_org != Some(org_id) {
        conn.execute(
            "UPDATE docs SET org_id = ?2, org_seq = ?3 WHERE id = ?1",
            params![id, org_id, seq],
        )?;
    }
    conn.execute(
        "UPDATE docs SET updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

fn out_of_scope(id: &DocId) -> Rejection {
    reject(
        id,
        "OUT_OF_SCOPE",
        "Hồ sơ thuộc tổ chức ngoài phạm vi của tài khoản này.".into(),
        "The file belongs to an organisation outside this account's scope.".into(),
    )
}

/// Recomputes the projection, findings, deadlines and conflicts of one document.
pub fn refresh_views(
    conn: &Connection,
    rules: &RulesConfig,
    id: &str,
    doc: &mut AutoCommit,
    (case, review): (&CaseFile, &doc::ReviewNote),
    today: Date,
    changed_by: &str,
) -> rusqlite::Result<()> {
    let eval = rules.evaluate(case, today);
    write_projection(conn, id, case, &eval, review, today)?;
    let conflicts = doc::conflicts(doc);
    sync_conflicts(conn, id, doc, &conflicts, changed_by)
}

fn opt(d: Option<Date>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn write_projection(
    conn: &Connection,
    id: &str,
    case: &CaseFile,
    eval: &Evaluation,
    review: &doc::ReviewNote,
    today: Date,
) -> rusqlite::Result<()> {
    let count = |s: Severity| eval.findings.iter().filter(|f| f.severity == s).count() as i64;
    let p = &case.person;
    let introduced = !case.introducers.is_empty() || case.introducing_org.resolution_date.is_some();
    conn.prepare_cached(
        "INSERT INTO projections(doc_id, org_id, stage, full_name, sex, ethnicity, birth_date,
            education, youth_union, introduced, class_date, branch_vote_date, decision_date,
            ceremony_date, official_date, stopped, blocking, warnings, returned, review_comment,
            rule_set, evaluated_on, case_json, eval_json, updated_at)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25)
         ON CONFLICT(doc_id) DO UPDATE SET org_id=excluded.org_id, stage=excluded.stage,
            full_name=excluded.full_name, sex=excluded.sex, ethnicity=excluded.ethnicity,
            birth_date=excluded.birth_date, education=excluded.education,
            youth_union=excluded.youth_union, introduced=excluded.introduced,
            class_date=excluded.class_date, branch_vote_date=excluded.branch_vote_date,
            decision_date=excluded.decision_date, ceremony_date=excluded.ceremony_date,
            official_date=excluded.official_date, stopped=excluded.stopped,
            blocking=excluded.blocking, warnings=excluded.warnings, returned=excluded.returned,
            review_comment=excluded.review_comment, rule_set=excluded.rule_set,
            evaluated_on=excluded.evaluated_on, case_json=excluded.case_json,
            eval_json=excluded.eval_json, updated_at=excluded.updated_at",
    )?
    .execute(params![
        id,
        case.org_id,
        eval.stage.code(),
        p.full_name,
        p.sex.map(|s| json_text(&s).trim_matches('"').to_string()),
        p.ethnicity,
        opt(p.birth_date),
        p.education_level
            .map(|e| json_text(&e).trim_matches('"').to_string()),
        p.youth_union_member,
        introduced,
        opt(case.awareness_class.certificate_date),
        opt(case.branch_votes.last().and_then(|v| v.meeting_date)),
        opt(case.decision.date_signed),
        opt(case.probation.ceremony_date),
        opt(case.official_date),
        case.stop.reason.is_some() || case.stop.date.is_some(),
        count(Severity::Blocking),
        count(Severity::Warning),
        review.returned,
        review.comment,
        eval.rule_set.version(),
        today.to_string(),
        json_text(case),
        json_text(eval),
        now_secs(),
    ])?;
    conn.prepare_cached("DELETE FROM findings WHERE doc_id = ?1")?
        .execute([id])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR REPLACE INTO findings(doc_id, code, severity, field, message_vi, message_en)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in &eval.findings {
        ins.execute(params![
            id,
            f.code,
            json_text(&f.severity).trim_matches('"'),
            f.field,
            f.message_vi,
            f.message_en
        ])?;
    }
    conn.prepare_cached("DELETE FROM deadlines WHERE doc_id = ?1")?
        .execute([id])?;
    let mut ins = conn.prepare_cached(
        "INSERT OR REPLACE INTO deadlines(doc_id, code, label_vi, label_en, due, done)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for d in &eval.deadlines {
        ins.execute(params![
            id,
            d.code,
            d.label_vi,
            d.label_en,
            d.due.to_string(),
            d.done
        ])?;
    }
    Ok(())
}

fn json_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// One competing value as the review screens show it: the value, who wrote it, from
/// which device, and when.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct AttributedValue {
    pub value: serde_json::Value,
    pub actor: String,
    pub user: String,
    pub device: String,
    /// Seconds since the epoch, from the change that wrote the value.
    pub time: i64,
    pub winner: bool,
}

/// Opens a conflict for every field newly holding concurrent values, refreshes the values
/// of those still open, and closes those a later change resolved.
fn sync_conflicts(
    conn: &Connection,
    id: &str,
    doc: &mut AutoCommit,
    current: &[FieldConflict],
    changed_by: &str,
) -> rusqlite::Result<()> {
    let mut open: HashMap<String, i64> = HashMap::new();
    {
        let mut stmt = conn.prepare_cached(
            "SELECT id, path FROM conflicts WHERE doc_id = ?1 AND closed_at IS NULL",
        )?;
        for row in stmt.query_map([id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
            let (cid, path) = row?;
            open.insert(path, cid);
        }
    }
    let now = now_secs();
    for fc in current {
        let values = attribute(conn, doc, fc)?;
        let values_json = serde_json::to_string(&values).unwrap_or_default();
        match open.remove(&fc.path) {
            Some(cid) => {
                conn.execute(
                    "UPDATE conflicts SET values_json = ?2 WHERE id = ?1",
                    params![cid, values_json],
                )?;
            }
            None => {
                conn.execute(
                    "INSERT INTO conflicts(doc_id, path, values_json, opened_at) VALUES (?1, ?2, ?3, ?4)",
                    params![id, fc.path, values_json, now],
                )?;
            }
        }
    }
    // Whatever is still open no longer has concurrent values: a later change settled it.
    for (path, cid) in open {
        let value = value_at(doc, &path);
        conn.execute(
            "UPDATE conflicts SET closed_at = ?2, resolved_by = COALESCE(resolved_by, ?3),
                 resolution_json = COALESCE(resolution_json, ?4) WHERE id = ?1",
            params![cid, now, changed_by, json!({"value": value}).to_string()],
        )?;
    }
    Ok(())
}

fn value_at(doc: &AutoCommit, path: &str) -> serde_json::Value {
    let mut v = doc::to_json(doc);
    for seg in doc::parse_path(path) {
        v = match seg {
            doc::Seg::Key(k) => v.get(&k).cloned().unwrap_or_default(),
            doc::Seg::Index(i) => v.get(i).cloned().unwrap_or_default(),
        };
    }
    v
}

fn attribute(
    conn: &Connection,
    doc: &mut AutoCommit,
    fc: &FieldConflict,
) -> rusqlite::Result<Vec<AttributedValue>> {
    let mut out = Vec::with_capacity(fc.values.len());
    // The change that wrote an op is the change of that actor whose op range holds it.
    let mut by_actor: BTreeMap<String, Vec<(u64, u64, i64)>> = BTreeMap::new();
    for c in doc.get_changes(&[]) {
        by_actor
            .entry(c.actor_id().to_hex_string())
            .or_default()
            .push((c.start_op().get(), c.max_op(), c.timestamp()));
    }
    for v in &fc.values {
        let time = by_actor
            .get(&v.actor)
            .and_then(|ranges| {
                ranges
                    .iter()
                    .find(|(start, max, _)| (*start..=*max).contains(&v.counter))
            })
            .map(|(_, _, t)| *t / 1000)
            .unwrap_or(0);
        let (user, device) = actor_owner(conn, &v.actor)?;
        out.push(AttributedValue {
            value: v.value.clone(),
            actor: v.actor.clone(),
            user,
            device,
            time,
            winner: v.winner,
        });
    }
    Ok(out)
}

/// The user and device names behind an actor id, or "?" when it is not registered.
pub fn actor_owner(conn: &Connection, actor: &str) -> rusqlite::Result<(String, String)> {
    Ok(conn
        .prepare_cached(
            "SELECT u.display_name || ' (' || u.username || ')', d.name FROM actors a
             JOIN users u ON u.id = a.user_id JOIN devices d ON d.id = a.device_id WHERE a.actor = ?1",
        )?
        .query_row([actor], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_else(|| ("?".into(), "?".into())))
}

/// One page of the pull feed for a scope: the changes logged after `cursor`, plus the
/// whole history of files that entered the scope after it.
pub struct Page {
    pub docs: Vec<DocChanges>,
    pub cursor: u64,
    pub more: bool,
    pub bytes: u64,
}

pub fn pull(
    conn: &Connection,
    scope_path: &str,
    cursor: u64,
    exclude: &HashSet<ChangeHash>,
    max_bytes: u64,
) -> rusqlite::Result<Page> {
    let head: i64 = conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM changes", [], |r| {
        r.get(0)
    })?;
    let cursor_i = cursor as i64;
    let mut docs: Vec<DocChanges> = Vec::new();
    let mut bytes = 0u64;
    let push = |doc_id: String, hash: Vec<u8>, data: Vec<u8>, docs: &mut Vec<DocChanges>| {
        if let Ok(h) = ChangeHash::try_from(hash.as_slice())
            && exclude.contains(&h)
        {
            return 0;
        }
        let n = data.len() as u64;
        match docs.last_mut() {
            Some(last) if last.doc_id.as_str() == doc_id => last.changes.push(ChangeBytes(data)),
            _ => {
                if let Ok(id) = DocId::try_from(doc_id) {
                    docs.push(DocChanges {
                        doc_id: id,
                        changes: vec![ChangeBytes(data)],
                    });
                }
            }
        }
        n
    };
    // Files that entered the scope after the cursor: their older history first.
    {
        let mut stmt = conn.prepare_cached(
            "SELECT c.doc_id, c.hash, c.bytes FROM docs d JOIN orgs o ON o.id = d.org_id
             JOIN changes c ON c.doc_id = d.id
             WHERE d.org_seq > ?1 AND c.seq <= ?1 AND o.path LIKE ?2 || '%'
             ORDER BY c.doc_id, c.seq",
        )?;
        let rows = stmt.query_map(params![cursor_i, scope_path], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, Vec<u8>>(2)?,
            ))
        })?;
        for row in rows {
            let (d, h, b) = row?;
            bytes += push(d, h, b, &mut docs);
        }
    }
    let mut stmt = conn.prepare_cached(
        "SELECT c.seq, c.doc_id, c.hash, c.bytes FROM changes c JOIN docs d ON d.id = c.doc_id
         JOIN orgs o ON o.id = d.org_id
         WHERE c.seq > ?1 AND c.seq <= ?2 AND o.path LIKE ?3 || '%' ORDER BY c.seq",
    )?;
    let rows = stmt.query_map(params![cursor_i, head, scope_path], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut last = cursor_i;
    let mut more = false;
    for row in rows {
        let (seq, d, h, b) = row?;
        if bytes >= max_bytes && bytes > 0 {
            more = true;
            break;
        }
        bytes += push(d, h, b, &mut docs);
        last = seq;
    }
    let cursor = if more { last } else { head.max(cursor_i) };
    Ok(Page {
        docs,
        cursor: cursor as u64,
        more,
        bytes,
    })
}

/// Rewrites the snapshot of every document with at least `min_changes` changes logged
/// after its snapshot, so loading it reads one blob instead of replaying the log.
pub fn compact(conn: &Connection, min_changes: i64) -> rusqlite::Result<usize> {
    let ids: Vec<String> = conn
        .prepare(
            "SELECT d.id FROM docs d WHERE (SELECT COUNT(*) FROM changes c
                WHERE c.doc_id = d.id AND c.seq > d.snapshot_seq) >= ?1",
        )?
        .query_map([min_changes], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        let upto: i64 = conn.query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        if let Some((_, mut doc)) = load_doc(conn, id)? {
            conn.execute(
                "UPDATE docs SET snapshot = ?2, snapshot_seq = ?3 WHERE id = ?1",
                params![id, doc.save(), upto],
            )?;
        }
    }
    Ok(ids.len())
}

/// Reads a document's current case file, for the review screens.
pub fn read_doc_case(
    conn: &Connection,
    id: &str,
) -> rusqlite::Result<Option<(AutoCommit, CaseFile)>> {
    Ok(load_doc(conn, id)?.and_then(|(_, doc)| {
        let case = doc::read_case(&doc).ok()?;
        Some((doc, case))
    }))
}

/// Stores a document written on the server (an import, demo data or a reviewer's
/// decision), with the server actor given, re-evaluating it like any merge.
pub fn store_server_changes(
    conn: &Connection,
    rules: &RulesConfig,
    id: &DocId,
    doc: &mut AutoCommit,
    since: &[ChangeHash],
    actor_user: &str,
    today: Date,
) -> rusqlite::Result<()> {
    let changes = doc.get_changes(since);
    let (case, review) = doc::read_parts(doc).map_err(|e| corrupt(id.as_str(), e))?;
    let old_org: Option<String> = conn
        .query_row(
            "SELECT org_id FROM docs WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    append_changes(
        conn,
        id.as_str(),
        &case.org_id,
        old_org.as_deref(),
        &changes,
    )?;
    refresh_views(
        conn,
        rules,
        id.as_str(),
        doc,
        (&case, &review),
        today,
        actor_user,
    )
}

/// A compact summary of the document's history: one entry per change.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub hash: String,
    pub actor: String,
    pub user: String,
    pub device: String,
    pub time: i64,
    pub message: Option<String>,
    /// Fields this change wrote, as dotted paths.
    pub fields: Vec<String>,
}

/// Who changed which field, from which device, when: read from the document's history.
pub fn history(conn: &Connection, doc: &mut AutoCommit) -> rusqlite::Result<Vec<HistoryEntry>> {
    let mut out = Vec::new();
    let changes = doc.get_changes(&[]);
    for c in &changes {
        let actor = c.actor_id().to_hex_string();
        let (user, device) = actor_owner(conn, &actor)?;
        let fields = changed_fields(doc, c);
        out.push(HistoryEntry {
            hash: c.hash().to_string(),
            actor,
            user,
            device,
            time: c.timestamp() / 1000,
            message: c.message().map(str::to_string),
            fields,
        });
    }
    Ok(out)
}

/// The paths a change wrote, found by diffing the document across it.
fn changed_fields(doc: &mut AutoCommit, change: &Change) -> Vec<String> {
    let before = change.deps().to_vec();
    let after = vec![change.hash()];
    let patches = doc.diff(&before, &after);
    let mut fields: Vec<String> = patches
        .iter()
        .map(|p| {
            let mut path: Vec<String> = p.path.iter().map(|(_, prop)| prop_string(prop)).collect();
            if let Some(k) = patch_key(&p.action) {
                path.push(k);
            }
            path.join(".")
        })
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

fn prop_string(p: &automerge::Prop) -> String {
    match p {
        automerge::Prop::Map(k) => k.clone(),
        automerge::Prop::Seq(i) => i.to_string(),
    }
}

fn patch_key(action: &automerge::PatchAction) -> Option<String> {
    match action {
        automerge::PatchAction::PutMap { key, .. } => Some(key.clone()),
        automerge::PatchAction::PutSeq { index, .. } => Some(index.to_string()),
        automerge::PatchAction::DeleteMap { key } => Some(key.clone()),
        _ => None,
    }
}
