//! The device's working state: every case-file document (inside a `shared::sync::Replica`),
//! the session and the reference data, plus the reactive signals the views read.
//!
//! The documents live in one thread-local `Model` rather than in signals: Automerge
//! documents are large mutable values that the views never need to copy. Views read
//! small derived values (list rows, one case's view) and follow `Ui::doc_rev`, which is
//! bumped whenever a document changes.
//!
//! Documents are loaded from IndexedDB as bytes first and parsed ("hydrated") a few at a
//! time after the list is on screen, so a device holding thousands of files opens fast;
//! the stored summary of each file draws its list row in the meantime.

use std::cell::RefCell;
use std::collections::BTreeMap;

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::doc::{self, ReviewNote};
use shared::model::CaseFile;
use shared::rules::{self, EvalContext, Evaluation, Severity};
use shared::stage::Stage;
use shared::sync::{DocId, Replica, ReplicaDoc};
use shared::text::{SortKey, fold, sort_key};

use crate::api::{Org, Reference, Session, User};
use crate::store::{DocMeta, DocRecord, Store};

/// What the list shows of a case file; stored with the document so the list opens at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub name: String,
    pub org_id: String,
    /// Stage code (`shared::stage::Stage::code`).
    pub stage: String,
    pub blocking: u32,
    /// The earliest open deadline.
    pub next_due: Option<Date>,
    pub conflicts: u32,
    /// Returned by the reviewer with a comment.
    pub returned: bool,
    pub birth_date: Option<Date>,
    /// The day the summary was computed: due dates and findings move with the date.
    pub day: Option<Date>,
}

/// One line of the case-file list.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub id: DocId,
    pub s: Summary,
    pub stage: Stage,
    pub folded: String,
    pub key: SortKey,
    pub unsynced_since: Option<f64>,
    /// The server's refusal, in both languages.
    pub rejected: Option<(String, String)>,
}

/// Which screen is shown.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    Loading,
    Login,
    List,
    Case(DocId),
    New,
}

/// The sync state the header shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SyncView {
    pub running: bool,
    /// Progress of the current run: documents pushed of the total to push.
    pub pushed: u32,
    pub to_push: u32,
    /// Changes received in the current run.
    pub received: u32,
    pub last_ok: Option<f64>,
    /// The last failure, already in the interface language.
    pub error: Option<String>,
    pub offline: bool,
}

/// The reactive state of the interface. Signals are `Copy` handles, so this is too.
#[derive(Clone, Copy)]
pub struct Ui {
    pub screen: RwSignal<Screen>,
    pub rows: RwSignal<Vec<Row>>,
    /// Bumped whenever any document changes, so an open case view re-reads it.
    pub doc_rev: RwSignal<u64>,
    pub sync: RwSignal<SyncView>,
    pub user: RwSignal<Option<User>>,
    pub orgs: RwSignal<Vec<Org>>,
    /// `navigator.storage.persist()`'s answer (None until asked).
    pub persisted: RwSignal<Option<bool>>,
    /// A new version of the app is installed and waits for a reload.
    pub update_ready: RwSignal<bool>,
    /// The clock, updated every few seconds, for ages and due dates.
    pub now: RwSignal<f64>,
    /// A one-line message at the top (bilingual texts are resolved when set).
    pub notice: RwSignal<Option<String>>,
    /// Writes to IndexedDB not yet committed.
    pub saving: RwSignal<u32>,
    /// The session expired: sign in again to sync (local data is kept).
    pub relogin: RwSignal<bool>,
    /// All documents are parsed (sync may run).
    pub hydrated: RwSignal<bool>,
}

thread_local! {
    static UI: Ui = Ui {
        screen: RwSignal::new(Screen::Loading),
        rows: RwSignal::new(Vec::new()),
        doc_rev: RwSignal::new(0),
        sync: RwSignal::new(SyncView::default()),
        user: RwSignal::new(None),
        orgs: RwSignal::new(Vec::new()),
        persisted: RwSignal::new(None),
        update_ready: RwSignal::new(false),
        now: RwSignal::new(js_sys::Date::now()),
        notice: RwSignal::new(None),
        saving: RwSignal::new(0),
        relogin: RwSignal::new(false),
        hydrated: RwSignal::new(false),
    };
    static MODEL: RefCell<Model> = RefCell::new(Model::default());
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

pub fn ui() -> Ui {
    UI.with(|u| *u)
}

/// Runs `f` on the model. Never call it re-entrantly (views only read derived values).
pub fn with<R>(f: impl FnOnce(&mut Model) -> R) -> R {
    MODEL.with(|m| f(&mut m.borrow_mut()))
}

pub fn set_store(s: Store) {
    STORE.with(|st| *st.borrow_mut() = Some(s));
}

pub fn store() -> Option<Store> {
    STORE.with(|st| st.borrow().clone())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Today in Vietnam (UTC+7), whatever the device's time zone.
pub fn today() -> Date {
    let days = ((now_ms() + 7.0 * 3_600_000.0) / 86_400_000.0).floor() as i32;
    Date::from_days_since_epoch(days)
}

/// A fresh random id (16 bytes from the browser's generator, via Automerge's actor ids).
pub fn random16() -> [u8; 16] {
    let a = ActorId::random();
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(a.to_bytes()) {
        *o = *b;
    }
    out
}

/// One field holding concurrent values, with who wrote each (as far as the device knows).
#[derive(Clone, Debug, PartialEq)]
pub struct ConflictView {
    pub path: String,
    pub values: Vec<ConflictValueView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConflictValueView {
    pub value: Json,
    pub mine: bool,
    pub time: Option<f64>,
    pub winner: bool,
}

/// A field a reviewer settled: it had concurrent values and now has the chosen one.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedView {
    pub path: String,
    pub time: f64,
    /// Who resolved it, when the server's message says so.
    pub by: String,
    pub mine: bool,
}

/// Everything the case screen shows, derived from one document.
#[derive(Clone, Debug, PartialEq)]
pub struct DocView {
    pub id: DocId,
    pub case: CaseFile,
    /// The `case` subtree as JSON, for reading fields by path.
    pub json: Json,
    pub eval: Evaluation,
    pub conflicts: Vec<ConflictView>,
    pub resolved: Vec<ResolvedView>,
    pub review: ReviewNote,
    pub unsynced_since: Option<f64>,
    pub rejected: Option<(String, String)>,
}

#[derive(Default)]
pub struct Model {
    pub replica: Replica,
    /// Documents loaded from storage but not parsed yet, with their stored metadata.
    pub raw: BTreeMap<DocId, (Vec<u8>, DocMeta)>,
    /// When the oldest unacknowledged change of each document was made.
    pub since: BTreeMap<DocId, f64>,
    pub session: Option<Session>,
    pub reference: Reference,
    pub calendar: Option<WorkingCalendar>,
    /// Summaries of parsed documents, valid for the day they carry.
    pub cache: BTreeMap<DocId, Summary>,
}

impl Model {
    pub fn actor(&self) -> Option<ActorId> {
        self.session
            .as_ref()
            .and_then(|s| ActorId::try_from(s.actor.as_str()).ok())
    }

    pub fn set_reference(&mut self, r: Reference) {
        self.calendar = WorkingCalendar::from_json(&r.calendar.to_string()).ok();
        self.reference = r;
    }

    /// Evaluates a case (possibly a tentative one) with this device's settings.
    pub fn evaluate_pub(&self, case: &CaseFile) -> Evaluation {
        self.evaluate(case)
    }

    fn evaluate(&self, case: &CaseFile) -> Evaluation {
        let fallback;
        let calendar = match &self.calendar {
            Some(c) => c,
            None => {
                fallback = WorkingCalendar::vietnam_2021_2027();
                &fallback
            }
        };
        let ctx = EvalContext {
            today: today(),
            settings: &self.reference.rule_settings,
            calendar,
        };
        rules::evaluate(case, &ctx)
    }

    /// Parses one stored document, if it is still raw. Returns false when unknown.
    pub fn hydrate(&mut self, id: &DocId) -> bool {
        if self.replica.docs.contains_key(id) {
            return true;
        }
        let Some((bytes, meta)) = self.raw.remove(id) else {
            return false;
        };
        let Ok(mut doc) = AutoCommit::load(&bytes) else {
            // A document that does not load is kept raw rather than lost.
            self.raw.insert(id.clone(), (bytes, meta));
            return false;
        };
        if let Some(actor) = self.actor() {
            doc.set_actor(actor);
        }
        if let Some(t) = meta.unsynced_since {
            self.since.insert(id.clone(), t);
        }
        self.cache.insert(id.clone(), meta.summary);
        self.replica.docs.insert(
            id.clone(),
            ReplicaDoc {
                doc,
                synced: meta.synced,
                rejected: meta.rejected,
            },
        );
        true
    }

    /// Parses up to `n` raw documents; returns their ids.
    pub fn hydrate_some(&mut self, n: usize) -> Vec<DocId> {
        let ids: Vec<DocId> = self.raw.keys().take(n).cloned().collect();
        ids.into_iter().filter(|id| self.hydrate(id)).collect()
    }

    pub fn summary(&mut self, id: &DocId) -> Option<Summary> {
        if let Some(s) = self.cache.get(id)
            && s.day == Some(today())
        {
            return Some(s.clone());
        }
        let rd = self.replica.docs.get(id)?;
        let case = doc::read_case(&rd.doc).unwrap_or_default();
        let review = doc::read_review(&rd.doc);
        let conflicts = doc::conflicts(&rd.doc).len() as u32;
        let eval = self.evaluate(&case);
        let s = summarize(&case, &eval, conflicts, review.returned);
        self.cache.insert(id.clone(), s.clone());
        Some(s)
    }

    /// The list row of a document (parsed or raw).
    pub fn row(&mut self, id: &DocId) -> Option<Row> {
        if let Some((_, meta)) = self.raw.get(id) {
            return Some(make_row(
                id,
                meta.summary.clone(),
                meta.unsynced_since,
                meta.rejected.as_ref(),
            ));
        }
        let s = self.summary(id)?;
        let rd = self.replica.docs.get(id)?;
        Some(make_row(
            id,
            s,
            self.since.get(id).copied(),
            rd.rejected.as_ref(),
        ))
    }

    /// The storage record of a parsed document.
    pub fn record(&mut self, id: &DocId) -> Option<DocRecord> {
        let summary = self.summary(id)?;
        let since = self.since.get(id).copied();
        let rd = self.replica.docs.get_mut(id)?;
        Some(DocRecord {
            id: id.clone(),
            bytes: rd.doc.save(),
            meta: DocMeta {
                synced: rd.synced.clone(),
                rejected: rd.rejected.clone(),
                unsynced_since: since,
                summary,
            },
        })
    }

    /// After the server answered: documents with nothing left to send lose their age.
    pub fn refresh_unsynced(&mut self, id: &DocId) {
        if let Some(rd) = self.replica.docs.get_mut(id)
            && !rd.has_unsynced()
        {
            self.since.remove(id);
        }
    }

    /// Sets one field of the case (path relative to `case`) as a change of this device,
    /// stamped with the time. Returns false when the value was already there.
    pub fn edit(&mut self, id: &DocId, path: &str, value: &Json) -> Result<bool, String> {
        if !self.hydrate(id) {
            return Err("hồ sơ không có trên máy / case file not on this device".into());
        }
        let actor = self.actor();
        let rd = self.replica.docs.get_mut(id).ok_or("?")?;
        own_actor(&mut rd.doc, actor);
        let full = doc::parse_path(&format!("case.{path}"));
        let current = json_at(&doc::to_json(&rd.doc), &format!("case.{path}"));
        let conflicted = doc::conflicts(&rd.doc)
            .iter()
            .any(|c| c.path == format!("case.{path}"));
        // Writing the same value again would add a change with no meaning, except on
        // a conflicted field, where it is how the cadre settles the conflict.
        if current.as_ref() == Some(value) && !conflicted {
            return Ok(false);
        }
        doc::set_field(&mut rd.doc, &full, value).map_err(|e| e.to_string())?;
        rd.doc
            .commit_with(CommitOptions::default().with_time(now_ms() as i64));
        self.since.entry(id.clone()).or_insert_with(now_ms);
        self.cache.remove(id);
        Ok(true)
    }

    /// Removes an element of a list of the case (an introducer, a vote).
    pub fn delete(&mut self, id: &DocId, path: &str) -> Result<(), String> {
        if !self.hydrate(id) {
            return Err("?".into());
        }
        let actor = self.actor();
        let rd = self.replica.docs.get_mut(id).ok_or("?")?;
        own_actor(&mut rd.doc, actor);
        doc::delete_at(&mut rd.doc, &doc::parse_path(&format!("case.{path}")))
            .map_err(|e| e.to_string())?;
        rd.doc
            .commit_with(CommitOptions::default().with_time(now_ms() as i64));
        self.since.entry(id.clone()).or_insert_with(now_ms);
        self.cache.remove(id);
        Ok(())
    }

    /// Creates a new case file written by this device's actor.
    pub fn create(&mut self, case: &CaseFile) -> Result<DocId, String> {
        let actor = self.actor().ok_or("chưa đăng nhập / not signed in")?;
        let id = DocId::from_bytes(random16());
        let mut case = case.clone();
        case.id = id.to_string();
        // The skeleton is written after the actor is set: a document made by
        // `new_case_doc` would carry a random actor the server refuses.
        let mut d = AutoCommit::new().with_actor(actor);
        doc::init_case_doc(&mut d, &case).map_err(|e| e.to_string())?;
        d.commit_with(CommitOptions::default().with_time(now_ms() as i64));
        self.replica.docs.insert(id.clone(), ReplicaDoc::new(d));
        self.since.insert(id.clone(), now_ms());
        Ok(id)
    }

    /// Everything the case screen needs.
    pub fn view(&mut self, id: &DocId) -> Option<DocView> {
        self.hydrate(id);
        let mine = self.actor().map(|a| a.to_hex_string()).unwrap_or_default();
        let rd = self.replica.docs.get_mut(id)?;
        let all = doc::to_json(&rd.doc);
        let json = all.get("case").cloned().unwrap_or(Json::Null);
        let case = doc::read_case(&rd.doc).unwrap_or_default();
        let review = doc::read_review(&rd.doc);
        let raw_conflicts = doc::conflicts(&rd.doc);
        // Change metadata gives each competing value its time and tells reviewer
        // resolutions (written with a recognisable message by the server) apart.
        let changes = rd.doc.get_changes(&[]);
        let time_of = |actor: &str, counter: u64| {
            changes
                .iter()
                .find(|c| {
                    c.actor_id().to_hex_string() == actor
                        && c.start_op().get() <= counter
                        && counter < c.start_op().get() + c.len() as u64
                })
                .map(|c| c.timestamp() as f64)
        };
        let conflicts: Vec<ConflictView> = raw_conflicts
            .iter()
            .map(|c| ConflictView {
                path: c.path.trim_start_matches("case.").to_string(),
                values: c
                    .values
                    .iter()
                    .map(|v| ConflictValueView {
                        value: v.value.clone(),
                        mine: v.actor == mine,
                        time: time_of(&v.actor, v.counter),
                        winner: v.winner,
                    })
                    .collect(),
            })
            .collect();
        let mut resolved: Vec<ResolvedView> = Vec::new();
        for c in &changes {
            // The server writes "giải quyết xung đột <path>", optionally followed by who
            // resolved it; an older server's message has the path only.
            if let Some(rest) = c
                .message()
                .and_then(|m| m.strip_prefix("giải quyết xung đột "))
            {
                let (path, by) = rest.split_once(' ').unwrap_or((rest, ""));
                let by = by.trim_start_matches(['—', '-', ' ']).trim().to_string();
                let path = path.trim_start_matches("case.").to_string();
                if conflicts.iter().any(|k| k.path == path) {
                    continue;
                }
                resolved.retain(|r| r.path != path);
                resolved.push(ResolvedView {
                    path,
                    time: c.timestamp() as f64,
                    by,
                    mine: c.actor_id().to_hex_string() == mine,
                });
            }
        }
        let rejected = rd
            .rejected
            .as_ref()
            .map(|r| (r.message_vi.clone(), r.message_en.clone()));
        let eval = self.evaluate(&case);
        Some(DocView {
            id: id.clone(),
            case,
            json,
            eval,
            conflicts,
            resolved,
            review,
            unsynced_since: self.since.get(id).copied(),
            rejected,
        })
    }
}

/// Makes the document write with this device's actor. Documents first received from
/// the server are created by the sync core with a random actor, which the server
/// would refuse as someone else's.
fn own_actor(doc: &mut AutoCommit, actor: Option<ActorId>) {
    if let Some(a) = actor
        && doc.get_actor() != &a
    {
        doc.set_actor(a);
    }
}

/// The list summary of a case and its evaluation.
pub fn summarize(case: &CaseFile, eval: &Evaluation, conflicts: u32, returned: bool) -> Summary {
    Summary {
        name: case.person.full_name.clone(),
        org_id: case.org_id.clone(),
        stage: eval.stage.code().to_string(),
        blocking: eval
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .count() as u32,
        next_due: eval
            .deadlines
            .iter()
            .filter(|d| !d.done && d.code != "DL_PROBATION_END")
            .map(|d| d.due)
            .min(),
        conflicts,
        returned,
        birth_date: case.person.birth_date,
        day: Some(today()),
    }
}

pub fn make_row(
    id: &DocId,
    s: Summary,
    unsynced_since: Option<f64>,
    rejected: Option<&shared::sync::Rejection>,
) -> Row {
    Row {
        id: id.clone(),
        stage: Stage::from_code(&s.stage).unwrap_or(Stage::Source),
        folded: fold(&s.name),
        key: sort_key(&s.name),
        s,
        unsynced_since,
        rejected: rejected.map(|r| (r.message_vi.clone(), r.message_en.clone())),
    }
}

/// Reads a value by dotted path ("person.full_name", "branch_votes.0.present").
pub fn json_at(root: &Json, path: &str) -> Option<Json> {
    let mut cur = root;
    for seg in path.split('.') {
        cur = match cur {
            Json::Object(m) => m.get(seg)?,
            Json::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur.clone())
}

/// Replaces (or adds) the rows of the given documents in the list signal.
pub fn refresh_rows(ids: &[DocId]) {
    if ids.is_empty() {
        return;
    }
    let fresh: Vec<Row> = with(|m| ids.iter().filter_map(|id| m.row(id)).collect());
    ui().rows.update(|rows| {
        for r in fresh {
            match rows.iter_mut().find(|x| x.id == r.id) {
                Some(x) => *x = r,
                None => rows.push(r),
            }
        }
    });
}

/// Writes the given documents (and metadata) to IndexedDB, tracking pending writes.
pub async fn persist(ids: &[DocId], meta: &[(&str, String)]) -> Result<(), String> {
    let records: Vec<DocRecord> = with(|m| ids.iter().filter_map(|id| m.record(id)).collect());
    let Some(store) = store() else {
        return Err("no storage".into());
    };
    let saving = ui().saving;
    saving.update(|n| *n += 1);
    let result = store.put(&records, meta).await;
    saving.update(|n| *n = n.saturating_sub(1));
    result.map_err(|e| format!("{e:?}"))
}

/// Applies one edit and stores the document at once: nothing typed waits in memory.
pub fn edit_and_save(id: &DocId, path: &str, value: Json) {
    let changed = with(|m| m.edit(id, path, &value));
    after_local_change(id, changed.map(|_| ()));
}

pub fn delete_and_save(id: &DocId, path: &str) {
    let r = with(|m| m.delete(id, path));
    after_local_change(id, r);
}

fn after_local_change(id: &DocId, result: Result<(), String>) {
    let u = ui();
    match result {
        Ok(()) => {
            u.doc_rev.update(|r| *r += 1);
            refresh_rows(std::slice::from_ref(id));
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Err(e) = persist(&[id], &[]).await {
                    ui().notice.set(Some(format!(
                        "{} ({e})",
                        crate::i18n::tr(
                            "Không lưu được vào bộ nhớ máy!",
                            "Could not save to device storage!"
                        )
                    )));
                }
                crate::sync::soon();
            });
        }
        Err(e) => u.notice.set(Some(crate::i18n::bilingual(&e))),
    }
}

/// Whether any document has changes the server has not acknowledged.
pub fn unsynced_count() -> usize {
    ui().rows
        .with(|r| r.iter().filter(|r| r.unsynced_since.is_some()).count())
}

/// The interface follows the model's current documents: rebuild every row.
pub fn rebuild_rows() {
    let rows: Vec<Row> = with(|m| {
        let ids: Vec<DocId> = m.raw.keys().chain(m.replica.docs.keys()).cloned().collect();
        ids.iter().filter_map(|id| m.row(id)).collect()
    });
    ui().rows.set(rows);
}
