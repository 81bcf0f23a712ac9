//! Case-file documents on the server: loading them from the change log, merging a
//! device's push (checking authorship, scope and the model), re-evaluating the rules
//! after every merge, keeping the projection and the open conflicts current, and reading
//! the pull feed.
//!
//! Rules never block a merge: a document that fits the model is always accepted, and its
//! findings are recorded for review. Only changes that are unreadable, foreign, out of
//! scope or break the model are refused, and a refusal touches nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::db::Connection;
use crate::db::views::{self, DeadlineRow, FindingRow, Projection};
use crate::db::{accounts, docs, orgs};
use automerge::{AutoCommit, Change, ChangeHash};
use serde::Serialize;
use serde_json::json;
use shared::api::RejectionCode;
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::doc::{self, FieldConflict};
use shared::model::CaseFile;
use shared::rules::{self, EvalContext, Evaluation, RuleSettings, Severity};
use shared::sync::{ChangeBytes, DocChanges, DocId, Rejection, WholeDoc};

use crate::auth::now_secs;
use crate::merge::{self, Merged, Pusher, StoredDoc};

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
            &EvalContext::new(today, &self.settings, &self.calendar),
        )
    }
}

/// Today's date in Vietnam (UTC+7), the date rules are evaluated at.
pub fn today_vn() -> Date {
    Date::vietnam_day(now_secs())
}

/// Reads a document's stored form: its snapshot and the changes logged after it.
pub fn read_stored(conn: &Connection, id: &str) -> crate::db::Result<Option<StoredDoc>> {
    Ok(docs::stored_doc(conn, id)?.map(|row| StoredDoc {
        org_id: row.org_id,
        org_path: row.org_path,
        snapshot: row.snapshot,
        changes: row.changes,
        bytes: row.bytes as usize,
        version: row.version,
    }))
}

/// The highest log sequence number of each of `ids` that has changes (a file without
/// any is left out), in one statement for up to 200 files.
pub fn doc_versions(conn: &Connection, ids: &[&str]) -> crate::db::Result<HashMap<String, i64>> {
    docs::doc_versions(conn, ids)
}

/// Loads a document from its snapshot and the changes logged after it.
pub fn load_doc(conn: &Connection, id: &str) -> crate::db::Result<Option<(String, AutoCommit)>> {
    match read_stored(conn, id)? {
        None => Ok(None),
        Some(stored) => {
            let base = stored.load().map_err(|e| corrupt(id, e))?;
            Ok(Some((base.org_id, base.doc)))
        }
    }
}

fn corrupt(id: &str, e: impl std::fmt::Display) -> crate::db::Error {
    crate::db::Error::Conversion(format!("document {id} is unreadable: {e}"))
}

/// Whether organisation `org_id` lies in the subtree whose path is `scope_path`.
pub fn org_in_scope(conn: &Connection, org_id: &str, scope_path: &str) -> crate::db::Result<bool> {
    let path = orgs::path_of(conn, org_id)?;
    Ok(path.is_some_and(|p| path_in_scope(&p, scope_path)))
}

/// Whether a materialised path lies in a scope: a prefix on whole path segments, compared
/// byte for byte (no wildcards, no case folding).
pub fn path_in_scope(path: &str, scope_path: &str) -> bool {
    scope_path.ends_with('/') && path.starts_with(scope_path)
}

/// The half-open range of materialised paths in a scope, for SQL: `path >= lo AND path <
/// hi`. Paths end with `/`, and `0` is the byte after `/`, so the range holds exactly the
/// paths that start with the scope's, compared byte for byte, and an index serves it.
pub fn scope_range(scope_path: &str) -> (String, String) {
    match scope_path.strip_suffix('/') {
        Some(stem) => (scope_path.to_string(), format!("{stem}0")),
        // Not a path: an empty range.
        None => (String::from("/"), String::from("/")),
    }
}

/// Whether the device was given this file (it may still push edits made before a move).
pub fn device_holds(conn: &Connection, device_id: &str, doc_id: &str) -> crate::db::Result<bool> {
    docs::device_holds(conn, device_id, doc_id)
}

/// Checks, under the writer and before anything of the file is written, that a merge
/// computed by [`merge::merge`] may be stored: the merged file is in the pusher's scope
/// and no new change is stored under another file. A refusal here leaves the
/// transaction as it was, so the push goes on with its other files.
pub fn check_merged(
    conn: &Connection,
    m: &Merged,
    checks: &mut PushChecks<'_>,
    held: bool,
) -> Result<(), Rejection> {
    let id = &m.doc_id;
    let internal = |e: crate::db::Error| merge::internal(id, e);
    let in_scope = checks
        .org_in_scope(conn, &m.case.org_id)
        .map_err(internal)?;
    if !merge::scope_allows(in_scope, held, m.moves()) {
        return Err(merge::out_of_scope(id));
    }
    if m.new.iter().any(|c| {
        checks
            .owners
            .get(&c.hash().0)
            .is_some_and(|owner| owner != id.as_str())
    }) {
        return Err(merge::reject(
            id,
            RejectionCode::ChangeOfOtherDoc,
            "Một thay đổi trong gói đã thuộc về hồ sơ khác; không thể dùng cho hồ sơ này.",
            "A change in this push already belongs to another file; it cannot be used for this one.",
        ));
    }
    Ok(())
}

/// What the checks of a push's files read once for the whole push, inside its
/// transaction: the file each of the push's changes is logged under already, and which
/// organisations lie in the pusher's scope. A written file's changes are added, so a
/// later file of the same push that carries one of them is refused as before.
pub struct PushChecks<'a> {
    scope_path: &'a str,
    owners: HashMap<[u8; 32], String>,
    in_scope: HashMap<String, bool>,
}

impl<'a> PushChecks<'a> {
    /// Reads the files the `hashes` (every change the push carries) are logged under.
    pub fn read(
        conn: &Connection,
        scope_path: &'a str,
        hashes: &[[u8; 32]],
    ) -> crate::db::Result<PushChecks<'a>> {
        Ok(PushChecks {
            scope_path,
            owners: docs::change_owners(conn, hashes)?,
            in_scope: HashMap::new(),
        })
    }

    /// Whether an organisation lies in the pusher's scope, read once per push: the
    /// organisations are written only by the writer, which the push holds.
    fn org_in_scope(&mut self, conn: &Connection, org_id: &str) -> crate::db::Result<bool> {
        if let Some(&known) = self.in_scope.get(org_id) {
            return Ok(known);
        }
        let known = org_in_scope(conn, org_id, self.scope_path)?;
        self.in_scope.insert(org_id.to_string(), known);
        Ok(known)
    }

    /// Records the changes of a file just written.
    pub fn written(&mut self, m: &Merged) {
        for c in &m.new {
            self.owners
                .insert(c.hash().0, m.doc_id.as_str().to_string());
        }
    }
}

/// Writes a merge that [`check_merged`] let through, inside the caller's transaction:
/// appends the changes and refreshes the views. Its only failures are the database's,
/// which fail the whole push (the caller rolls back). That the device holds the file is
/// recorded for the whole push by [`record_push`].
pub fn write_merged(
    conn: &Connection,
    m: &mut Merged,
    pusher: &Pusher<'_>,
) -> crate::db::Result<()> {
    let stored = std::mem::take(&mut m.stored);
    append_changes(
        conn,
        m.doc_id.as_str(),
        &m.case.org_id,
        m.old_org.as_deref(),
        &m.new,
        stored,
    )?;
    write_views(conn, m, pusher.username)
}

/// What a push records once for all the files it committed: the device holds them,
/// and it has written.
pub fn record_push(
    conn: &Connection,
    device_id: &str,
    committed: &[DocId],
) -> crate::db::Result<()> {
    if committed.is_empty() {
        return Ok(());
    }
    docs::hold_docs(conn, device_id, committed.iter().map(DocId::as_str))?;
    accounts::mark_device_wrote(conn, device_id, now_secs())
}

/// Appends new changes to a document's log, creating its row when it is new. A file
/// entering an organisation (new, or moved) restarts its feed position there, so devices
/// of the new scope receive its whole history.
///
/// `stored` holds each change's stored form ([`shared::limits::stored_form`]): a
/// compressed chunk above 256 bytes, about half the disk, the same change and hash;
/// pulls inflate it again (`wire_form`).
fn append_changes(
    conn: &Connection,
    id: &str,
    org_id: &str,
    old_org: Option<&str>,
    changes: &[Change],
    stored: Vec<Vec<u8>>,
) -> crate::db::Result<()> {
    let now = now_secs();
    if old_org.is_none() {
        docs::insert_doc(conn, id, org_id, now)?;
    }
    debug_assert_eq!(changes.len(), stored.len());
    let rows: Vec<docs::ChangeRow> = changes
        .iter()
        .zip(stored)
        .map(|(c, bytes)| docs::ChangeRow {
            hash: c.hash().0,
            actor: c.actor_id().to_hex_string(),
            bytes,
        })
        .collect();
    let seq = docs::append_changes(conn, id, &rows, now)?.unwrap_or(0);
    if old_org != Some(org_id) {
        docs::place_doc(conn, id, org_id, seq, now)
    } else {
        docs::touch_doc(conn, id, now)
    }
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
) -> crate::db::Result<()> {
    let eval = rules.evaluate(case, today);
    let conflicts = doc::conflicts(doc);
    write_all_views(
        conn,
        id,
        doc,
        (case, review),
        &eval,
        &conflicts,
        today,
        changed_by,
        Stored::Before,
    )
}

/// Whether a file had been stored before this write. A file stored for the first time
/// has no views yet (they are written only after its document row), so there is
/// nothing to read back or delete first: on the common path of a new file that saves
/// six statements made holding the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Before,
    FirstTime,
}

/// The one place the views of a document are written: its projection, findings,
/// deadlines, identity keys and conflicts, or their removal for a merged-away file.
#[allow(clippy::too_many_arguments)]
fn write_all_views(
    conn: &Connection,
    id: &str,
    doc: &mut AutoCommit,
    (case, review): (&CaseFile, &doc::ReviewNote),
    eval: &Evaluation,
    conflicts: &[FieldConflict],
    today: Date,
    changed_by: &str,
    stored: Stored,
) -> crate::db::Result<()> {
    // What a first sync hands out for this file without loading it.
    let summary = shared::summary::of_parts(case, review, eval, conflicts.len(), today);
    let heads: Vec<u8> = doc.get_heads().iter().flat_map(|h| h.0).collect();
    docs::set_summary(conn, id, &stored_summary(&summary), &heads)?;
    if !review.merged_into.is_empty() {
        return retire_merged(conn, id, changed_by);
    }
    let before = match stored {
        Stored::Before => crate::duplicates::Identity::stored(conn, id)?,
        Stored::FirstTime => None,
    };
    write_projection(conn, id, case, eval, review, today, stored)?;
    crate::duplicates::detect(conn, id, case, before.as_ref(), stored)?;
    sync_conflicts(conn, id, doc, conflicts, changed_by, stored)
}

/// A file merged into another leaves every count, list and queue: its projection,
/// findings, deadlines and identity keys go, and its open conflicts close. Its document
/// and history stay.
fn retire_merged(conn: &Connection, id: &str, changed_by: &str) -> crate::db::Result<()> {
    views::delete_views_of(conn, id)?;
    views::close_open_conflicts_of(conn, id, now_secs(), changed_by)
}

/// Writes the projection and conflicts a merge computed.
fn write_views(conn: &Connection, m: &mut Merged, changed_by: &str) -> crate::db::Result<()> {
    let stored = match m.old_org {
        Some(_) => Stored::Before,
        None => Stored::FirstTime,
    };
    write_all_views(
        conn,
        m.doc_id.as_str(),
        &mut m.doc,
        (&m.case, &m.review),
        &m.eval,
        &m.conflicts,
        m.today,
        changed_by,
        stored,
    )
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
    stored: Stored,
) -> crate::db::Result<()> {
    let count = |s: Severity| eval.findings.iter().filter(|f| f.severity == s).count() as i64;
    let p = &case.person;
    let introduced = !case.introducers.is_empty() || case.introducing_org.resolution_date.is_some();
    views::upsert_projection(
        conn,
        &Projection {
            doc_id: id,
            org_id: &case.org_id,
            stage: eval.stage.code(),
            full_name: &p.full_name,
            sex: p.sex.map(|s| json_text(&s).trim_matches('"').to_string()),
            ethnicity: &p.ethnicity,
            birth_date: opt(p.birth_date),
            education: p
                .education_level
                .map(|e| json_text(&e).trim_matches('"').to_string()),
            youth_union: p.youth_union_member,
            introduced,
            class_date: opt(case.awareness_class.certificate_date),
            branch_vote_date: opt(case.branch_votes.last().and_then(|v| v.meeting_date)),
            decision_date: opt(case.decision.date_signed),
            ceremony_date: opt(case.probation.ceremony_date),
            official_date: opt(case.official_date),
            stopped: case.stop.reason.is_some() || case.stop.date.is_some(),
            blocking: count(Severity::Blocking),
            warnings: count(Severity::Warning),
            returned: review.returned,
            review_comment: &review.comment,
            rule_set: eval.rule_set.version(),
            evaluated_on: today.to_string(),
            // The case and its evaluation are read from the document where they are
            // shown: JSON copies here doubled the disk of every file (the columns stay,
            // empty, for stores migrated before).
            case_json: "",
            eval_json: "",
            updated_at: now_secs(),
            source_kind: case.source.kind.map(|k| k.code()),
            occupation: p.occupation.map(|o| o.code()),
            class_id: case.awareness_class.class_id.trim(),
            outstanding_date: opt(case.source.outstanding_list_date),
            application_date: opt(case.application.letter_date),
            minority: case.is_ethnic_minority(),
            decision_age: match (p.birth_date, case.decision.date_signed) {
                (Some(b), Some(d)) => Some(b.years_between(d)),
                _ => None,
            },
        },
    )?;
    // Only what a queue shows: context ("info") is part of the evaluation, computed again
    // from the document where it is shown. One row per code and field (the last, as a
    // replacement would keep), written many rows per statement.
    let mut findings: BTreeMap<(&str, &str), FindingRow<'_>> = BTreeMap::new();
    for f in eval
        .findings
        .iter()
        .filter(|f| f.severity != shared::rules::Severity::Info)
    {
        findings.insert(
            (f.code, f.field),
            FindingRow {
                code: f.code,
                severity: json_text(&f.severity).trim_matches('"').to_string(),
                field: f.field,
                message_vi: &f.message_vi,
                message_en: &f.message_en,
            },
        );
    }
    let replace = stored == Stored::Before;
    views::replace_findings(conn, id, findings.into_values(), replace)?;
    // Only open deadlines: every reader asks for those, and a met one is part of the
    // evaluation, computed again from the document where it is shown.
    let mut deadlines: BTreeMap<&str, DeadlineRow<'_>> = BTreeMap::new();
    for d in eval.deadlines.iter().filter(|d| !d.done) {
        deadlines.insert(
            d.code,
            DeadlineRow {
                code: d.code,
                label_vi: d.label_vi,
                label_en: d.label_en,
                due: d.due.to_string(),
                done: d.done,
            },
        );
    }
    views::replace_deadlines(conn, id, deadlines.into_values(), replace)
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
/// of those still open, and closes those a later change resolved. Linear in the size of
/// the document and its history: the change ranges and the owners of actors are read once.
fn sync_conflicts(
    conn: &Connection,
    id: &str,
    doc: &mut AutoCommit,
    current: &[FieldConflict],
    changed_by: &str,
    stored: Stored,
) -> crate::db::Result<()> {
    let mut open = match stored {
        Stored::Before => views::open_conflicts_by_path(conn, id)?,
        Stored::FirstTime => Default::default(),
    };
    if current.is_empty() && open.is_empty() {
        return Ok(());
    }
    let now = now_secs();
    let mut attribution = Attribution::new(doc);
    // New conflicts go in a few statements of many rows: a file can open thousands at
    // once, and on PostgreSQL each statement is a round trip made holding the writer.
    let mut opened: Vec<(&str, String)> = Vec::new();
    for fc in current {
        let values = attribution.values(conn, fc)?;
        let values_json = serde_json::to_string(&values).unwrap_or_default();
        match open.remove(&fc.path) {
            Some((_, old)) if old == values_json => {}
            Some((cid, _)) => views::set_conflict_values(conn, cid, &values_json)?,
            None => opened.push((fc.path.as_str(), values_json)),
        }
    }
    views::open_conflicts(conn, id, now, opened)?;
    // Whatever is still open no longer has concurrent values: a later change settled it.
    if !open.is_empty() {
        let json = doc::to_json(doc);
        for (path, (cid, _)) in open {
            let value = value_at(&json, &path);
            views::close_conflict(
                conn,
                cid,
                now,
                changed_by,
                &json!({"value": value}).to_string(),
            )?;
        }
    }
    Ok(())
}

/// The value at a dotted path of a document's JSON (null when absent).
pub fn value_at(json: &serde_json::Value, path: &str) -> serde_json::Value {
    let mut v = json;
    for seg in doc::parse_path(path) {
        let next = match seg {
            doc::Seg::Key(k) => v.get(&k),
            doc::Seg::Index(i) => v.get(i),
        };
        match next {
            Some(n) => v = n,
            None => return serde_json::Value::Null,
        }
    }
    v.clone()
}

/// Every change of a document. Automerge's debug builds cross-check this list and can
/// panic on documents shaped by malformed pushes (found by the push fuzz target); then the
/// list is empty: values are shown without their time, the history without entries.
fn all_changes(doc: &mut AutoCommit) -> Vec<Change> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.get_changes(&[])))
        .unwrap_or_default()
}

/// Who wrote each competing value, and when: the change of that actor whose op range
/// holds the value's op, read once per document; owners of actors read once each.
struct Attribution {
    by_actor: HashMap<String, Vec<(u64, u64, i64)>>,
    owners: HashMap<String, (String, String)>,
}

impl Attribution {
    fn new(doc: &mut AutoCommit) -> Attribution {
        let mut by_actor: HashMap<String, Vec<(u64, u64, i64)>> = HashMap::new();
        for c in all_changes(doc) {
            by_actor
                .entry(c.actor_id().to_hex_string())
                .or_default()
                .push((c.start_op().get(), c.max_op(), c.timestamp()));
        }
        for ranges in by_actor.values_mut() {
            ranges.sort_unstable();
        }
        Attribution {
            by_actor,
            owners: HashMap::new(),
        }
    }

    fn time(&self, actor: &str, counter: u64) -> i64 {
        let Some(ranges) = self.by_actor.get(actor) else {
            return 0;
        };
        // Ranges of one actor do not overlap: find the last starting at or before it.
        let i = ranges.partition_point(|(start, _, _)| *start <= counter);
        match i.checked_sub(1).map(|i| ranges[i]) {
            Some((_, max, t)) if counter <= max => t / 1000,
            _ => 0,
        }
    }

    fn values(
        &mut self,
        conn: &Connection,
        fc: &FieldConflict,
    ) -> crate::db::Result<Vec<AttributedValue>> {
        let mut out = Vec::with_capacity(fc.values.len());
        for v in &fc.values {
            let time = self.time(&v.actor, v.counter);
            if !self.owners.contains_key(&v.actor) {
                let owner = actor_owner(conn, &v.actor)?;
                self.owners.insert(v.actor.clone(), owner);
            }
            let (user, device) = self.owners[&v.actor].clone();
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
}

/// The user and device names behind an actor id, or "?" when it is not registered.
pub fn actor_owner(conn: &Connection, actor: &str) -> crate::db::Result<(String, String)> {
    Ok(accounts::actor_owner(conn, actor)?.unwrap_or_else(|| ("?".into(), "?".into())))
}

/// One page of the pull feed for a scope: the changes logged after `cursor`, plus the
/// whole history of files that entered the scope after it.
pub struct Page {
    pub docs: Vec<DocChanges>,
    pub cursor: u64,
    pub more: bool,
    pub bytes: u64,
    /// Files the device holds that left its scope.
    pub removed: Vec<DocId>,
    /// Whole documents (a first sync, for a device that takes them).
    pub whole: Vec<WholeDoc>,
    /// Where the first sync of whole documents goes on, while it is under way.
    pub resume: Option<Resume>,
    /// Files the first sync of whole documents still brings after this page.
    pub remaining: Option<u64>,
}

/// A first sync of whole documents: where it goes on, and the rules the list summaries
/// are computed with (the ones the device runs).
#[derive(Debug, Clone, Copy)]
pub struct Whole<'a> {
    pub resume: Option<&'a Resume>,
    pub rules: &'a RulesConfig,
    pub today: Date,
}

/// Where an interrupted first sync of whole documents goes on: the feed position it
/// started at (the device's cursor once it ends) and the last file sent. On the wire it
/// is the opaque token `<position>:<file id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub head: u64,
    pub after: DocId,
}

impl Resume {
    pub fn parse(token: &str) -> Option<Resume> {
        let (head, after) = token.split_once(':')?;
        Some(Resume {
            head: head.parse().ok()?,
            after: DocId::try_from(after.to_string()).ok()?,
        })
    }

    pub fn token(&self) -> String {
        format!("{}:{}", self.head, self.after)
    }
}

/// A stored change as it goes to devices: uncompressed. The log keeps Automerge's
/// deflated form for disk, but deflated bytes inside base64 defeat the gzip of the whole
/// response, which then grows about threefold on the wire.
///
/// The log holds only changes the server parsed and checked, so they are inflated
/// without being parsed again (no SHA-256, no columns).
fn wire_form(stored: Vec<u8>) -> Vec<u8> {
    /// Far above any change a limit lets in; a stored change past it goes as it is.
    const MAX_INFLATED: usize = 256 << 20;
    shared::limits::inflate_chunk(&stored, MAX_INFLATED).unwrap_or(stored)
}

/// What a pull needs to know about the device before reading the feed.
#[derive(Debug, Clone)]
pub struct PullStart {
    /// The scope this device was last served: `None` for an unknown device, `Some(None)`
    /// for a device that predates this record.
    served: Option<Option<String>>,
    /// The scope changed since the last pull: every held file is re-checked.
    scope_changed: bool,
}

impl PullStart {
    /// Whether [`pull_prepare`] has anything to write.
    pub fn needs_prepare(&self, feed: &Feed<'_>) -> bool {
        !feed.dropped.is_empty() || matches!(self.served, Some(None))
    }

    /// Whether [`pull_finish`] has anything to write for this page.
    pub fn needs_finish(&self, feed: &Feed<'_>, page: &Page) -> bool {
        !page.docs.is_empty()
            || !page.whole.is_empty()
            || matches!(&self.served, Some(s) if s.as_deref() != Some(feed.scope_path))
    }
}

/// A pull in one go on one connection (tests and the fuzzer); the server runs its three
/// steps on the writer and a reader (`docstore`).
pub fn pull(
    conn: &Connection,
    feed: &Feed<'_>,
    cursor: u64,
    exclude: &HashSet<ChangeHash>,
    max_bytes: u64,
) -> crate::db::Result<Page> {
    let start = pull_start(conn, feed)?;
    pull_prepare(conn, feed, cursor, &start)?;
    let page = pull_read(conn, feed, cursor, exclude, max_bytes, &start)?;
    pull_finish(conn, feed, &page, &start)?;
    Ok(page)
}

/// Step 1 (read): the scope the device was last served.
pub fn pull_start(conn: &Connection, feed: &Feed<'_>) -> crate::db::Result<PullStart> {
    let served = accounts::served_scope(conn, feed.device_id)?;
    let scope_changed = matches!(&served, Some(Some(p)) if p != feed.scope_path);
    Ok(PullStart {
        served,
        scope_changed,
    })
}

/// Step 2 (write, only when [`PullStart::needs_prepare`]): forgets the files the device
/// reports dropped; a device that predates the record of held files holds everything of
/// its scope up to its cursor.
pub fn pull_prepare(
    conn: &Connection,
    feed: &Feed<'_>,
    cursor: u64,
    start: &PullStart,
) -> crate::db::Result<()> {
    let device = feed.device_id;
    docs::drop_held(conn, device, feed.dropped.iter().map(DocId::as_str))?;
    if matches!(start.served, Some(None)) {
        let (lo, hi) = scope_range(feed.scope_path);
        docs::hold_scope_upto(conn, device, &lo, &hi, cursor as i64)?;
    }
    Ok(())
}

/// Step 3 (read, on one snapshot): the page of the feed. The log's sequence numbers are
/// handed out by one writer in commit order, so a snapshot that holds change N holds
/// every change before it and the cursor never skips one.
pub fn pull_read(
    conn: &Connection,
    feed: &Feed<'_>,
    cursor: u64,
    exclude: &HashSet<ChangeHash>,
    max_bytes: u64,
    start: &PullStart,
) -> crate::db::Result<Page> {
    if cursor == 0
        && let Some(whole) = &feed.whole
    {
        return whole_page(conn, feed, whole, max_bytes, start);
    }
    let (lo, hi) = scope_range(feed.scope_path);
    let head = feed_position(conn)?;
    let cursor_i = cursor as i64;
    let device = feed.device_id;
    let scope_changed = start.scope_changed;
    let mut docs: Vec<DocChanges> = Vec::new();
    let mut bytes = 0u64;
    let push = |doc_id: String, hash: Vec<u8>, data: Vec<u8>, docs: &mut Vec<DocChanges>| {
        if let Ok(h) = ChangeHash::try_from(hash.as_slice())
            && exclude.contains(&h)
        {
            return 0;
        }
        let data = wire_form(data);
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
    // Files that entered the scope after the cursor (moved in, or the account's scope
    // grew): their older history first.
    let by_placing = docs::by_placing(cursor_i, scope_changed);
    for row in
        docs::entered_scope_changes(conn, cursor_i, &lo, &hi, scope_changed, device, by_placing)?
    {
        let (d, h, b) = row?;
        bytes += push(d, h, b, &mut docs);
    }
    let rows = docs::feed_changes(conn, cursor_i, head, &lo, &hi)?;
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
    let next = if more { last } else { head.max(cursor_i) };
    Ok(Page {
        docs,
        cursor: next as u64,
        more,
        bytes,
        removed: removed_since(conn, feed, cursor_i, scope_changed)?,
        whole: Vec::new(),
        resume: None,
        remaining: None,
    })
}

/// Files this device holds that are no longer in its scope: moved since the cursor, or
/// all of them when the scope changed. (Files on the page being read are in scope.)
fn removed_since(
    conn: &Connection,
    feed: &Feed<'_>,
    cursor: i64,
    scope_changed: bool,
) -> crate::db::Result<Vec<DocId>> {
    let (lo, hi) = scope_range(feed.scope_path);
    let by_placing = docs::by_placing(cursor, scope_changed);
    docs::held_outside_scope(
        conn,
        feed.device_id,
        cursor,
        scope_changed,
        &lo,
        &hi,
        by_placing,
    )
}

/// The names of a summary's fields, in the order [`stored_summary`] writes their values.
fn summary_fields() -> &'static [String] {
    static FIELDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FIELDS.get_or_init(
        || match serde_json::to_value(shared::summary::Summary::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        },
    )
}

/// A list summary as `docs.summary` keeps it: the values of its fields without their
/// names (half the bytes of the JSON object, for every file).
fn stored_summary(s: &shared::summary::Summary) -> String {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(map)) => {
            let values: Vec<&serde_json::Value> = summary_fields()
                .iter()
                .map(|k| map.get(k).unwrap_or(&serde_json::Value::Null))
                .collect();
            serde_json::to_string(&values).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// Reads [`stored_summary`]'s form (or a whole JSON object, as stores kept it before). A
/// summary of another version, or values that do not fit today's fields, read as none:
/// the file is then loaded and summarised again.
fn read_summary(text: &str) -> Option<shared::summary::Summary> {
    let summary: shared::summary::Summary = if text.starts_with('{') {
        serde_json::from_str(text).ok()?
    } else {
        let values: Vec<serde_json::Value> = serde_json::from_str(text).ok()?;
        if values.len() != summary_fields().len() {
            return None;
        }
        let map: serde_json::Map<String, serde_json::Value> =
            summary_fields().iter().cloned().zip(values).collect();
        serde_json::from_value(serde_json::Value::Object(map)).ok()?
    };
    (summary.version == shared::summary::SUMMARY_VERSION).then_some(summary)
}

/// A file's list summary and heads as its views last wrote them, at log position `seq`.
#[derive(Debug, Clone)]
struct Kept {
    summary: shared::summary::Summary,
    heads: Vec<ChangeHash>,
    seq: i64,
}

fn read_kept(conn: &Connection, id: &str) -> crate::db::Result<Option<Kept>> {
    let row = docs::kept_summary(conn, id)?;
    let Some((Some(summary), Some(heads), seq)) = row else {
        return Ok(None);
    };
    let Some(summary) = read_summary(&summary) else {
        return Ok(None);
    };
    let heads: Option<Vec<ChangeHash>> = heads
        .chunks(32)
        .map(|h| ChangeHash::try_from(h).ok())
        .collect();
    Ok(heads.filter(|h| !h.is_empty()).map(|heads| Kept {
        summary,
        heads,
        seq,
    }))
}

/// The whole documents of stored files, computed on up to `threads` threads, in order
/// (None for a file that is gone or does not load).
fn build_whole(
    stored: &[(&String, Option<StoredDoc>, Option<Kept>)],
    ctx: &EvalContext<'_>,
    threads: usize,
) -> Vec<Option<WholeDoc>> {
    let one = |(id, s, kept): &(&String, Option<StoredDoc>, Option<Kept>)| -> Option<WholeDoc> {
        let doc_id = DocId::try_from((*id).clone()).ok()?;
        let stored = s.as_ref()?;
        // The summary and heads written with the file's views, when no change came since:
        // the file goes out as stored (its snapshot and the changes after it), unloaded.
        if let Some(k) = kept
            && k.seq == stored.version
        {
            let mut saved = stored.snapshot.clone().unwrap_or_default();
            for c in &stored.changes {
                saved.extend_from_slice(&wire_form(c.clone()));
            }
            return Some(WholeDoc {
                doc_id,
                heads: k.heads.clone(),
                summary: k.summary.clone(),
                saved: ChangeBytes(saved),
            });
        }
        let mut doc = stored.clone().load().ok()?.doc;
        let saved = doc.save_nocompress();
        Some(WholeDoc {
            doc_id,
            heads: doc.get_heads(),
            summary: shared::summary::of_doc(&doc, ctx),
            saved: ChangeBytes(saved),
        })
    };
    if threads <= 1 || stored.len() < 2 {
        return stored.iter().map(one).collect();
    }
    let per = stored.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = stored
            .chunks(per)
            .map(|part| {
                let n = part.len();
                (
                    n,
                    scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()),
                )
            })
            .collect();
        // A part whose thread failed yields nothing for each of its files, in place.
        parts
            .into_iter()
            .flat_map(|(n, h)| h.join().unwrap_or_else(|_| vec![None; n]))
            .collect()
    })
}

/// A page of a first sync of whole documents: the files of the scope in id order after
/// where the last page ended, each in Automerge's saved form (uncompressed, so the
/// response's gzip works on it) with its heads and list summary. The first page fixes
/// the feed position the sync started at; every file read later holds at least the
/// changes up to it, so the device's cursor becomes that position when the last page is
/// in, and the changes made meanwhile follow as an ordinary pull (a change received twice
/// is applied once).
fn whole_page(
    conn: &Connection,
    feed: &Feed<'_>,
    whole: &Whole<'_>,
    max_bytes: u64,
    start: &PullStart,
) -> crate::db::Result<Page> {
    let (lo, hi) = scope_range(feed.scope_path);
    let now = feed_position(conn)?;
    // A position from the device is never taken beyond the feed's.
    let (head, after) = match whole.resume {
        Some(r) => ((r.head as i64).clamp(0, now), r.after.as_str()),
        None => (now, ""),
    };
    // The files after the resume point, as many as a page could hold (a file is at
    // least a few hundred bytes), and how many there are in all.
    let cap = (max_bytes / 256).clamp(64, 20_000) as i64;
    let ids = docs::scope_doc_ids_after(conn, &lo, &hi, after, cap)?;
    let left = docs::count_scope_docs_after(conn, &lo, &hi, after)?;
    let ctx = EvalContext::new(whole.today, &whole.rules.settings, &whole.rules.calendar);
    // Loading, saving and summarising is most of a page's cost: it is done on a few
    // threads, in batches read from this snapshot, and the page is cut in file order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut out = Vec::new();
    let mut bytes = 0u64;
    let mut consumed = 0;
    let mut last: Option<DocId> = None;
    'page: while consumed < ids.len() && !(bytes >= max_bytes && bytes > 0) {
        let batch = &ids[consumed..(consumed + 16 * threads).min(ids.len())];
        let mut stored = Vec::with_capacity(batch.len());
        for id in batch {
            stored.push((id, read_stored(conn, id)?, read_kept(conn, id)?));
        }
        for (id, built) in stored.iter().zip(build_whole(&stored, &ctx, threads)) {
            if bytes >= max_bytes && bytes > 0 {
                break 'page;
            }
            consumed += 1;
            last = DocId::try_from(id.0.clone()).ok();
            if let Some(w) = built {
                bytes += w.saved.0.len() as u64;
                out.push(w);
            }
        }
    }
    let remaining = (left as u64).saturating_sub(consumed as u64);
    let resume = match last {
        Some(after) if remaining > 0 => Some(Resume {
            head: head as u64,
            after,
        }),
        _ => None,
    };
    Ok(Page {
        docs: Vec::new(),
        // The device's cursor stays 0 until the last page; then it is the position the
        // sync started at, and one more pull brings what changed meanwhile.
        cursor: if resume.is_some() { 0 } else { head as u64 },
        more: true,
        bytes,
        // Files held from before that are not in the scope are named on the first page.
        removed: match whole.resume {
            None => removed_since(conn, feed, 0, start.scope_changed)?,
            Some(_) => Vec::new(),
        },
        whole: out,
        resume,
        remaining: Some(remaining),
    })
}

/// Step 4 (write, only when [`PullStart::needs_finish`]): records the files the page
/// gives the device and the scope it was served.
pub fn pull_finish(
    conn: &Connection,
    feed: &Feed<'_>,
    page: &Page,
    start: &PullStart,
) -> crate::db::Result<()> {
    let device = feed.device_id;
    docs::hold_docs(
        conn,
        device,
        page.docs
            .iter()
            .map(|d| d.doc_id.as_str())
            .chain(page.whole.iter().map(|w| w.doc_id.as_str())),
    )?;
    if matches!(&start.served, Some(s) if s.as_deref() != Some(feed.scope_path)) {
        accounts::set_served_scope(conn, device, feed.scope_path)?;
    }
    Ok(())
}

/// The newest position of the change feed: the last sequence number handed out, which
/// may belong to no change when the tree was reorganised (files marked as newly placed).
///
/// On PostgreSQL a sequence is not transactional (a value handed out to a transaction
/// still open, or rolled back, would be read here), so the position is what committed
/// data says: the newest change, or the newest position the tree's reorganisation
/// recorded (`settings.feed_mark`, written in its transaction).
pub fn feed_position(conn: &Connection) -> crate::db::Result<i64> {
    docs::feed_position(conn)
}

/// Whose feed a pull reads: the device, its scope, and the files it reports dropped.
#[derive(Debug)]
pub struct Feed<'a> {
    pub device_id: &'a str,
    pub scope_path: &'a str,
    pub dropped: &'a [DocId],
    /// The device takes a first sync as whole documents.
    pub whole: Option<Whole<'a>>,
}

/// Rewrites the snapshot of every document with at least `min_changes` changes logged
/// after its snapshot, so loading it reads one blob instead of replaying the log.
pub fn compact(conn: &Connection, min_changes: i64) -> crate::db::Result<usize> {
    let (folded, _) = compact_prepare(conn, min_changes, "", usize::MAX)?;
    compact_store(conn, &folded)
}

/// A document's log folded into a snapshot, ready to be stored.
#[derive(Debug)]
pub struct Folded {
    id: String,
    snapshot: Vec<u8>,
    upto: i64,
}

/// The expensive half of compaction, on a reader: loads up to `max_docs` documents after
/// the id `after` whose logs grew by `min_changes` since their snapshot, and saves each as
/// a snapshot. Also returns the last id looked at, where the next batch starts.
pub fn compact_prepare(
    conn: &Connection,
    min_changes: i64,
    after: &str,
    max_docs: usize,
) -> crate::db::Result<(Vec<Folded>, Option<String>)> {
    let ids = docs::docs_to_compact(conn, min_changes, after, max_docs)?;
    let last = ids.last().cloned();
    let mut out = Vec::new();
    for id in ids {
        let upto = docs::doc_version(conn, &id)?;
        let Some((_, mut doc)) = load_doc(conn, &id)? else {
            continue;
        };
        let snapshot = doc.save();
        // A snapshot replaces the log it folds, so it must load back to the same document.
        // Automerge re-encodes changes when it saves; a change a device encoded in an
        // unusual (valid) way can come back with another hash, and the saved form then
        // fails to load ("mismatching heads"). Such a file keeps its log, which loads.
        if !snapshot_loads_back(&snapshot, &doc.get_heads()) {
            tracing::warn!(doc = %id, "the snapshot does not load back to the same heads; the change log is kept");
            continue;
        }
        out.push(Folded { id, snapshot, upto });
    }
    Ok((out, last))
}

/// The cheap half, on the writer: stores each snapshot unless a newer one is there. A
/// snapshot covers the log up to `upto`; changes stored since stay after it in the log.
pub fn compact_store(conn: &Connection, folded: &[Folded]) -> crate::db::Result<usize> {
    docs::store_snapshots(
        conn,
        folded
            .iter()
            .map(|f| (f.id.as_str(), f.snapshot.as_slice(), f.upto)),
    )
}

/// Whether a saved document loads back with exactly `heads`.
fn snapshot_loads_back(snapshot: &[u8], heads: &[ChangeHash]) -> bool {
    std::panic::catch_unwind(|| {
        AutoCommit::load(snapshot).is_ok_and(|mut d| d.get_heads().as_slice() == heads)
    })
    .unwrap_or(false)
}

/// Reads a document's current case file, for the review screens.
pub fn read_doc_case(
    conn: &Connection,
    id: &str,
) -> crate::db::Result<Option<(AutoCommit, CaseFile)>> {
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
) -> crate::db::Result<()> {
    let changes = doc.get_changes(since);
    let (case, review) = doc::read_parts(doc).map_err(|e| corrupt(id.as_str(), e))?;
    let old_org = docs::doc_org(conn, id.as_str())?;
    let stored = changes
        .iter()
        .map(|c| shared::limits::stored_form(c.raw_bytes()))
        .collect();
    append_changes(
        conn,
        id.as_str(),
        &case.org_id,
        old_org.as_deref(),
        &changes,
        stored,
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
pub fn history(conn: &Connection, doc: &mut AutoCommit) -> crate::db::Result<Vec<HistoryEntry>> {
    let page = history_page(doc, 0, usize::MAX, false);
    let mut owners = HashMap::new();
    for a in &page.actors {
        owners.insert(a.clone(), actor_owner(conn, a)?);
    }
    Ok(page.with_owners(&owners))
}

/// One page of a document's history, computed from the document alone (no database, so
/// no lock is held while it runs), with the actors whose owners the caller must name.
#[derive(Debug)]
pub struct HistoryPage {
    pub total: usize,
    pub entries: Vec<HistoryEntry>,
    pub actors: Vec<String>,
}

impl HistoryPage {
    /// Fills in the user and device behind each entry's actor.
    pub fn with_owners(self, owners: &HashMap<String, (String, String)>) -> Vec<HistoryEntry> {
        self.entries
            .into_iter()
            .map(|mut e| {
                if let Some((user, device)) = owners.get(&e.actor) {
                    e.user = user.clone();
                    e.device = device.clone();
                }
                e
            })
            .collect()
    }
}

/// Entries `offset..offset + limit` of the history, oldest first. Linear in the size of
/// the changes listed: each change's operations are read once, and the path of each object
/// they touch is looked up once.
pub fn history_page(
    doc: &mut AutoCommit,
    offset: usize,
    limit: usize,
    newest_first: bool,
) -> HistoryPage {
    let mut changes = all_changes(doc);
    let total = changes.len();
    if newest_first {
        changes.reverse();
    }
    let mut paths: HashMap<String, Option<String>> = HashMap::new();
    let mut actors = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    for c in changes.iter().skip(offset).take(limit) {
        let actor = c.actor_id().to_hex_string();
        actors.insert(actor.clone());
        entries.push(HistoryEntry {
            hash: c.hash().to_string(),
            actor,
            user: "?".into(),
            device: "?".into(),
            time: c.timestamp() / 1000,
            message: c.message().map(str::to_string),
            fields: changed_fields(doc, c, &mut paths),
        });
    }
    HistoryPage {
        total,
        entries,
        actors: actors.into_iter().collect(),
    }
}

/// The paths a change wrote: the path of each object an operation touches, plus the map
/// key it wrote. Elements of lists are named by the list.
fn changed_fields(
    doc: &AutoCommit,
    change: &Change,
    paths: &mut HashMap<String, Option<String>>,
) -> Vec<String> {
    use automerge::ReadDoc as _;
    let mut fields: Vec<String> = Vec::new();
    for op in change.decode().operations {
        let obj = op.obj.to_string();
        let base = paths
            .entry(obj.clone())
            .or_insert_with(|| {
                let id = doc.import_obj(&obj).ok()?;
                let parents = doc.parents(&id).ok()?;
                Some(
                    parents
                        .path()
                        .iter()
                        .map(|(_, p)| prop_string(p))
                        .collect::<Vec<_>>()
                        .join("."),
                )
            })
            .clone();
        let Some(base) = base else { continue };
        let field = match &op.key {
            automerge::legacy::Key::Map(k) if base.is_empty() => k.to_string(),
            automerge::legacy::Key::Map(k) => format!("{base}.{k}"),
            automerge::legacy::Key::Seq(_) => base,
        };
        fields.push(field);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::summary::{SUMMARY_VERSION, Summary};

    #[test]
    fn a_kept_summary_is_its_values_without_their_names_and_reads_back_whole() {
        let s = Summary {
            name: "Lò Thị Mai".into(),
            org_id: "phuong-11-cb1".into(),
            stage: "probation".into(),
            blocking: 2,
            next_due: "2027-01-04".parse().ok(),
            next_due_code: "DL_RECOGNITION_VOTE".into(),
            conflicts: 1,
            returned: true,
            birth_date: "1999-02-28".parse().ok(),
            day: "2026-11-30".parse().ok(),
            id_number: "001199001234".into(),
            merged_into: String::new(),
            version: SUMMARY_VERSION,
        };
        let kept = stored_summary(&s);
        assert!(kept.starts_with('['));
        let object = serde_json::to_string(&s).unwrap();
        assert!(
            kept.len() * 10 < object.len() * 7,
            "{kept} against {object}"
        );
        assert_eq!(read_summary(&kept), Some(s.clone()));
        // As stores kept it before: the whole object.
        assert_eq!(read_summary(&object), Some(s.clone()));
        // Values that do not fit today's fields, or another version: none.
        assert_eq!(read_summary("[1,2,3]"), None);
        assert_eq!(read_summary("not json"), None);
        let old = Summary {
            version: SUMMARY_VERSION - 1,
            ..s
        };
        assert_eq!(read_summary(&stored_summary(&old)), None);
    }
}
