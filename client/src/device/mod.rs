//! The device model: every case file this device holds (inside a
//! `shared::sync::Replica`), what IndexedDB is known to hold of each, the list summaries,
//! local edits, and what to push. Plain Rust: no Leptos, no web-sys, no clock (the
//! caller sets `today` and `now`), so it compiles and is unit-tested natively.
//!
//! # Layering
//! `device` is the bottom of the client: `store` (IndexedDB) persists what it hands
//! out, `sync` and `tabs` drive it, `model` adapts it to signals, `views` draw it.
//! Nothing here imports a module above it, and on native targets the modules above are
//! not even compiled.

pub mod chunks;
pub mod duplicates;
pub mod input;
pub mod reference;

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::CommitOptions;
use automerge::{ActorId, AutoCommit, Change, ChangeHash};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::doc::{self, ReviewNote};
use shared::model::CaseFile;
use shared::rules::{self, EvalContext, Evaluation};
use shared::stage::Stage;
pub use shared::summary::{SUMMARY_VERSION, Summary, summarize};
use shared::sync::{
    DocId, Pending, ReceiveReport, Rejection, Replica, ReplicaDoc, SyncError, SyncRequest,
    SyncResponse, WholeDoc,
};
use shared::text::{SortKey, fold, sort_key};

use chunks::Chunk;
use reference::{Reference, Session};
use shared::api::ReviewChange;

/// What the device remembers about a case file besides its changes. Written beside the
/// chunks; every field is either monotone (`synced`) or derived again from the document.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DocMeta {
    /// Hashes of a state known to be stored on the server.
    pub synced: Vec<ChangeHash>,
    /// The server's refusal of the last push, if any.
    pub rejected: Option<Rejection>,
    /// When the oldest change not yet acknowledged by the server was made (ms).
    pub unsynced_since: Option<f64>,
    /// The list row, so the list opens before the documents are loaded.
    pub summary: Summary,
    /// The heads the summary was computed at (empty: recompute when loaded).
    pub summary_heads: Vec<ChangeHash>,
}

/// A document read from storage but not parsed yet.
#[derive(Clone, Debug, Default)]
pub struct RawDoc {
    pub chunks: Vec<Chunk>,
    pub meta: DocMeta,
}

/// What this tab knows IndexedDB holds of a parsed document.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    /// Every change up to these hashes is stored.
    pub heads: Vec<ChangeHash>,
    /// Keys of the chunks read or written.
    pub keys: BTreeSet<String>,
}

/// One document's write: the chunk of changes not stored yet (if any) and its metadata.
#[derive(Clone, Debug)]
pub struct DocWrite {
    pub id: DocId,
    pub chunk: Option<Chunk>,
    pub meta: DocMeta,
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

/// All the case files of this device and what it knows about their storage.
#[derive(Debug)]
pub struct Device {
    pub replica: Replica,
    /// Documents loaded from storage but not parsed yet.
    pub raw: BTreeMap<DocId, RawDoc>,
    /// Per parsed document: what IndexedDB holds of it.
    pub stored: BTreeMap<DocId, Stored>,
    pub session: Option<Session>,
    /// The actor id this tab writes with (each tab has its own; see `tabs`); the
    /// session's when unset.
    pub tab_actor: Option<ActorId>,
    pub reference: Reference,
    /// The reference data's calendar, or the bundled one when it carries none that reads.
    pub calendar: WorkingCalendar,
    /// Summaries of parsed documents, with the heads they were computed at.
    pub cache: BTreeMap<DocId, (Summary, Vec<ChangeHash>)>,
    /// Documents first received by the last sync response, as the chunk of exactly the
    /// changes received: writing it spares asking the document for its changes again.
    pub fresh: BTreeMap<DocId, Chunk>,
    /// Whole documents of the last sync response kept as they came (in `raw`, not
    /// parsed) and not written yet.
    pub fresh_raw: BTreeSet<DocId>,
    /// Today in Vietnam, set by the caller before use.
    pub today: Date,
    /// The time (ms since the epoch) new changes are stamped with, set by the caller.
    pub now: f64,
}

impl Default for Device {
    fn default() -> Device {
        Device {
            replica: Replica {
                // A first sync takes whole documents and keeps them as they come.
                whole: true,
                ..Replica::default()
            },
            raw: BTreeMap::new(),
            stored: BTreeMap::new(),
            session: None,
            tab_actor: None,
            reference: Reference::default(),
            calendar: WorkingCalendar::vietnam_2021_2027(),
            cache: BTreeMap::new(),
            fresh: BTreeMap::new(),
            fresh_raw: BTreeSet::new(),
            today: Date::from_days_since_epoch(0),
            now: 0.0,
        }
    }
}

impl Device {
    pub fn actor(&self) -> Option<ActorId> {
        self.tab_actor.clone().or_else(|| {
            self.session
                .as_ref()
                .and_then(|s| ActorId::try_from(s.actor.as_str()).ok())
        })
    }

    /// Sets the actor this tab writes with, for new changes to every document.
    pub fn set_tab_actor(&mut self, actor: ActorId) {
        self.replica.actor = Some(actor.clone());
        for rd in self.replica.docs.values_mut() {
            rd.doc.set_actor(actor.clone());
        }
        self.tab_actor = Some(actor);
    }

    pub fn set_reference(&mut self, r: Reference) {
        self.calendar = WorkingCalendar::from_json(&r.calendar.to_string())
            .unwrap_or_else(|_| WorkingCalendar::vietnam_2021_2027());
        self.reference = r;
    }

    /// Every document id, parsed or not.
    pub fn ids(&self) -> Vec<DocId> {
        let mut ids: Vec<DocId> = self.raw.keys().cloned().collect();
        ids.extend(self.replica.docs.keys().cloned());
        ids
    }

    /// Evaluates a case (possibly a tentative one) with this device's settings.
    pub fn evaluate(&self, case: &CaseFile) -> Evaluation {
        let ctx = EvalContext::new(self.today, &self.reference.rule_settings, &self.calendar);
        rules::evaluate(case, &ctx)
    }

    /// Adds a document read from storage (replacing an older unparsed copy).
    pub fn add_raw(&mut self, id: DocId, raw: RawDoc) {
        if !self.replica.docs.contains_key(&id) {
            self.raw.insert(id, raw);
        }
    }

    /// Gives the raw documents listed from their metadata their chunks, read after the
    /// list was drawn. Files with no chunk at all are dropped (there is nothing to
    /// load); their ids are returned.
    pub fn fill_raw(&mut self, mut chunks: BTreeMap<DocId, Vec<Chunk>>) -> Vec<DocId> {
        for (id, raw) in self.raw.iter_mut() {
            if raw.chunks.is_empty()
                && let Some(c) = chunks.remove(id)
            {
                raw.chunks = c;
            }
        }
        for (id, c) in chunks {
            if !self.raw.contains_key(&id) && !self.replica.docs.contains_key(&id) {
                self.raw.insert(
                    id,
                    RawDoc {
                        chunks: c,
                        meta: DocMeta::default(),
                    },
                );
            }
        }
        let empty: Vec<DocId> = self
            .raw
            .iter()
            .filter(|(_, r)| r.chunks.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        for id in &empty {
            self.raw.remove(id);
        }
        empty
    }

    /// Parses one stored document, if it is still raw. Returns false when unknown or
    /// when none of its chunks can be read (it then stays raw, never lost).
    pub fn hydrate(&mut self, id: &DocId) -> bool {
        if self.replica.docs.contains_key(id) {
            return true;
        }
        let Some(raw) = self.raw.remove(id) else {
            return false;
        };
        let loaded = chunks::load(&raw.chunks);
        let mut doc = loaded.doc;
        if doc.get_heads().is_empty() {
            self.raw.insert(id.clone(), raw);
            return false;
        }
        if let Some(actor) = self.actor() {
            doc.set_actor(actor);
        }
        let heads = doc.get_heads();
        if raw.meta.summary_heads == heads && raw.meta.summary.version == SUMMARY_VERSION {
            self.cache
                .insert(id.clone(), (raw.meta.summary.clone(), heads.clone()));
        }
        self.stored.insert(
            id.clone(),
            Stored {
                heads,
                keys: raw.chunks.iter().map(|c| c.key.clone()).collect(),
            },
        );
        self.replica.docs.insert(
            id.clone(),
            ReplicaDoc {
                doc,
                synced: raw.meta.synced,
                rejected: raw.meta.rejected,
            },
        );
        self.prune_synced(id);
        true
    }

    /// Parses up to `n` raw documents; returns their ids.
    pub fn hydrate_some(&mut self, n: usize) -> Vec<DocId> {
        let ids: Vec<DocId> = self.raw.keys().take(n).cloned().collect();
        ids.into_iter().filter(|id| self.hydrate(id)).collect()
    }

    /// When the oldest change the server has not acknowledged was made.
    pub fn unsynced_since(&mut self, id: &DocId) -> Option<f64> {
        if let Some(raw) = self.raw.get(id) {
            return raw.meta.unsynced_since;
        }
        let rd = self.replica.docs.get_mut(id)?;
        if rd.heads_synced() {
            return None;
        }
        rd.unsynced()
            .iter()
            .map(|c| c.timestamp() as f64)
            .reduce(f64::min)
    }

    /// The summary of a parsed document, computed again when it or the day changed.
    pub fn summary(&mut self, id: &DocId) -> Option<Summary> {
        let rd = self.replica.docs.get_mut(id)?;
        let heads = rd.doc.get_heads();
        if let Some((s, h)) = self.cache.get(id)
            && s.day == Some(self.today)
            && s.version == SUMMARY_VERSION
            && *h == heads
        {
            return Some(s.clone());
        }
        let ctx = EvalContext::new(self.today, &self.reference.rule_settings, &self.calendar);
        let s = shared::summary::of_doc(&rd.doc, &ctx);
        self.cache.insert(id.clone(), (s.clone(), heads));
        Some(s)
    }

    /// The list row of a document (parsed or raw).
    pub fn row(&mut self, id: &DocId) -> Option<Row> {
        if let Some(raw) = self.raw.get(id) {
            return Some(make_row(
                id,
                raw.meta.summary.clone(),
                raw.meta.unsynced_since,
                raw.meta.rejected.as_ref(),
            ));
        }
        let s = self.summary(id)?;
        let since = self.unsynced_since(id);
        let rd = self.replica.docs.get(id)?;
        Some(make_row(id, s, since, rd.rejected.as_ref()))
    }

    /// What to write for a parsed document: the changes IndexedDB does not hold yet, as
    /// one chunk, and the metadata. They count as stored from now on; call
    /// [`Device::write_failed`] if the write does not commit.
    pub fn take_write(&mut self, id: &DocId) -> Option<DocWrite> {
        if self.fresh_raw.remove(id)
            && let Some(raw) = self.raw.get(id)
        {
            return Some(DocWrite {
                id: id.clone(),
                chunk: raw.chunks.first().cloned(),
                meta: raw.meta.clone(),
            });
        }
        let summary = self.summary(id)?;
        let since = self.unsynced_since(id);
        let rd = self.replica.docs.get_mut(id)?;
        let stored = self.stored.entry(id.clone()).or_default();
        let chunk = match self.fresh.remove(id) {
            // What the last response brought of a file that was new, or whose every
            // change was stored: exactly what is not stored yet.
            Some(c) => Some(c),
            None => chunks::changes_chunk(&rd.doc.get_changes(&stored.heads)),
        };
        let heads = rd.doc.get_heads();
        stored.heads = heads.clone();
        if let Some(c) = &chunk {
            stored.keys.insert(c.key.clone());
        }
        Some(DocWrite {
            id: id.clone(),
            chunk,
            meta: DocMeta {
                synced: rd.synced.clone(),
                rejected: rd.rejected.clone(),
                unsynced_since: since,
                summary,
                summary_heads: heads,
            },
        })
    }

    /// A write did not commit: its changes go with the next write again.
    pub fn write_failed(&mut self, id: &DocId) {
        if let Some(s) = self.stored.get_mut(id) {
            s.heads.clear();
        }
    }

    /// Whether a document holds more chunks than it should.
    pub fn wants_compaction(&self, id: &DocId) -> bool {
        self.stored
            .get(id)
            .is_some_and(|s| s.keys.len() > chunks::COMPACT_ABOVE)
    }

    /// After compaction replaced the chunks it read by `snapshot`.
    pub fn compacted(&mut self, id: &DocId, replaced: &[String], snapshot: &str) {
        if let Some(s) = self.stored.get_mut(id) {
            for k in replaced {
                s.keys.remove(k);
            }
            s.keys.insert(snapshot.to_string());
        }
    }

    /// The metadata record to write, given what is stored now (read in the same
    /// transaction). Acknowledged heads only grow; the sync tab alone records them and
    /// the refusals, other tabs keep what is stored. The summary is this tab's unless it
    /// is older than the stored one's document, in which case it is marked for recompute.
    pub fn merge_meta(
        &mut self,
        id: &DocId,
        mine: DocMeta,
        stored: Option<DocMeta>,
        leader: bool,
    ) -> DocMeta {
        let Some(stored) = stored else {
            return mine;
        };
        let mut out = mine;
        if leader {
            out.synced = union(&stored.synced, &out.synced);
        } else {
            out.synced = union(&stored.synced, &[]);
            out.rejected = stored.rejected;
        }
        // This tab's summary is current if its document holds the stored one's heads
        // (asked of the change graph: getting each change would encode it again).
        let covers = match self.replica.docs.get_mut(id) {
            Some(rd) => rd.doc.get_missing_deps(&stored.summary_heads).is_empty(),
            None => false,
        };
        if !covers {
            out.summary_heads.clear();
            out.unsynced_since = match (out.unsynced_since, stored.unsynced_since) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        out
    }

    /// Folds in what another tab (or an earlier moment of this one) stored of a document:
    /// chunks not read yet and the metadata. No chunks and no metadata means the
    /// document was removed from the device. Returns true when something changed.
    pub fn absorb(
        &mut self,
        id: &DocId,
        all_chunks: Vec<Chunk>,
        meta: Option<DocMeta>,
        leader: bool,
    ) -> bool {
        if all_chunks.is_empty() && meta.is_none() {
            let was = self.replica.docs.remove(id).is_some() | self.raw.remove(id).is_some();
            self.stored.remove(id);
            self.cache.remove(id);
            self.replica.leaving.remove(id);
            return was;
        }
        let meta = meta.unwrap_or_default();
        let Some(rd) = self.replica.docs.get_mut(id) else {
            self.raw.insert(
                id.clone(),
                RawDoc {
                    chunks: all_chunks,
                    meta,
                },
            );
            return true;
        };
        let stored = self.stored.entry(id.clone()).or_default();
        let fresh: Vec<&Chunk> = all_chunks
            .iter()
            .filter(|c| !stored.keys.contains(&c.key))
            .collect();
        let before = rd.doc.get_heads();
        if !fresh.is_empty() {
            chunks::merge_into(&mut rd.doc, fresh);
        }
        // What was just read is stored; so is what was stored before.
        let added: Vec<ChangeHash> = rd
            .doc
            .get_changes(&before)
            .iter()
            .map(Change::hash)
            .collect();
        stored.heads = union(&stored.heads, &added);
        if rd.doc.get_changes(&stored.heads).is_empty() {
            stored.heads = rd.doc.get_heads();
        }
        stored.keys = all_chunks.iter().map(|c| c.key.clone()).collect();
        let synced_before = rd.synced.clone();
        rd.synced = union(&rd.synced, &meta.synced);
        if !leader {
            rd.rejected = meta.rejected;
        }
        let changed = rd.doc.get_heads() != before || rd.synced != synced_before;
        self.prune_synced(id);
        changed
    }

    /// Keeps the acknowledged set small: when everything is acknowledged, the heads.
    pub fn prune_synced(&mut self, id: &DocId) {
        if let Some(rd) = self.replica.docs.get_mut(id)
            && !rd.synced.is_empty()
            && !rd.has_unsynced()
        {
            rd.synced = rd.doc.get_heads();
        }
    }

    /// Folds a sync response in. Whole documents of files this device does not hold are
    /// kept as they came, with the server's summary for their row, and parsed when they
    /// are opened; files the response touches that are stored but not parsed yet are
    /// parsed first. Then [`Device::after_receive`].
    pub fn receive(
        &mut self,
        pending: Pending,
        mut resp: SyncResponse,
    ) -> Result<ReceiveReport, SyncError> {
        let touched: Vec<DocId> = resp
            .pull
            .iter()
            .map(|d| d.doc_id.clone())
            .chain(resp.whole.iter().map(|w| w.doc_id.clone()))
            .chain(resp.removed.iter().cloned())
            .chain(resp.accepted.iter().cloned())
            .chain(resp.rejected.iter().map(|r| r.doc_id.clone()))
            .filter(|id| self.raw.contains_key(id))
            .collect();
        for id in &touched {
            self.hydrate(id);
        }
        // Files new here, or whose every change is stored: what the response brings of
        // them is exactly what is to be written, as it came.
        let as_received: BTreeSet<DocId> = resp
            .pull
            .iter()
            .map(|d| &d.doc_id)
            .filter(
                |id| match (self.replica.docs.get_mut(*id), self.stored.get(*id)) {
                    (None, None) => true,
                    (Some(rd), Some(st)) => !st.heads.is_empty() && rd.doc.get_heads() == st.heads,
                    _ => false,
                },
            )
            .cloned()
            .collect();
        let (kept, parsed): (Vec<WholeDoc>, Vec<WholeDoc>) =
            std::mem::take(&mut resp.whole).into_iter().partition(|w| {
                !self.replica.docs.contains_key(&w.doc_id) && !self.raw.contains_key(&w.doc_id)
            });
        resp.whole = parsed;
        let mut report = self.replica.receive(pending, resp)?;
        for w in kept {
            let chunk = chunks::whole_chunk(w.saved.0, &w.heads);
            let meta = DocMeta {
                synced: w.heads.clone(),
                rejected: None,
                unsynced_since: None,
                summary: w.summary,
                summary_heads: w.heads,
            };
            self.raw.insert(
                w.doc_id.clone(),
                RawDoc {
                    chunks: vec![chunk],
                    meta,
                },
            );
            self.fresh_raw.insert(w.doc_id.clone());
            report.new_docs.insert(w.doc_id.clone());
            report.touched.insert(w.doc_id);
        }
        self.after_receive(&report);
        self.fresh.clear();
        for id in as_received {
            if let Some(chunk) = report
                .pulled
                .get(&id)
                .and_then(|c| chunks::changes_chunk(c))
            {
                self.fresh.insert(id, chunk);
            }
        }
        Ok(report)
    }

    /// Parses the stored documents a sync must look at: those with changes not sent yet
    /// and those leaving the scope. The others stay as stored until opened.
    pub fn hydrate_for_sync(&mut self, n: usize) -> Vec<DocId> {
        let ids: Vec<DocId> = self
            .raw
            .iter()
            .filter(|(id, r)| r.meta.unsynced_since.is_some() || self.replica.leaving.contains(*id))
            .map(|(id, _)| id.clone())
            .take(n)
            .collect();
        ids.into_iter().filter(|id| self.hydrate(id)).collect()
    }

    /// After a sync response: summaries of touched documents are stale, and documents
    /// that left the scope are forgotten (the caller deletes them from storage).
    pub fn after_receive(&mut self, report: &ReceiveReport) {
        for id in &report.touched {
            self.prune_synced(id);
        }
        for id in &report.removed {
            self.stored.remove(id);
            self.cache.remove(id);
            self.raw.remove(id);
        }
    }

    /// Documents with changes the server has not acknowledged and has not refused.
    pub fn to_push(&mut self) -> u32 {
        self.replica
            .docs
            .values_mut()
            .filter(|d| d.rejected.is_none())
            .map(|d| d.has_unsynced())
            .filter(|&u| u)
            .count() as u32
    }

    /// Sets one field of the case (path relative to `case`) as a change of this device,
    /// stamped with `now`. Returns false when the value was already there.
    pub fn edit(&mut self, id: &DocId, path: &str, value: &Json) -> Result<bool, String> {
        if !self.hydrate(id) {
            return Err("hồ sơ không có trên máy / case file not on this device".into());
        }
        let actor = self.actor();
        let now = self.now;
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
            .commit_with(CommitOptions::default().with_time(now as i64));
        Ok(true)
    }

    /// Removes an element of a list of the case (an introducer, a vote).
    pub fn delete(&mut self, id: &DocId, path: &str) -> Result<(), String> {
        if !self.hydrate(id) {
            return Err("hồ sơ không có trên máy / case file not on this device".into());
        }
        let actor = self.actor();
        let now = self.now;
        let rd = self.replica.docs.get_mut(id).ok_or("?")?;
        own_actor(&mut rd.doc, actor);
        doc::delete_at(&mut rd.doc, &doc::parse_path(&format!("case.{path}")))
            .map_err(|e| e.to_string())?;
        rd.doc
            .commit_with(CommitOptions::default().with_time(now as i64));
        Ok(())
    }

    /// Creates a new case file written by this device's actor, under the id given.
    pub fn create(&mut self, id: DocId, case: &CaseFile) -> Result<DocId, String> {
        let actor = self.actor().ok_or("chưa đăng nhập / not signed in")?;
        let mut case = case.clone();
        case.id = id.to_string();
        // The skeleton is written after the actor is set: a document made by
        // `new_case_doc` would carry a random actor the server refuses.
        let mut d = AutoCommit::new().with_actor(actor);
        doc::init_case_doc(&mut d, &case).map_err(|e| e.to_string())?;
        d.commit_with(CommitOptions::default().with_time(self.now as i64));
        self.replica.docs.insert(id.clone(), ReplicaDoc::new(d));
        self.stored.insert(id.clone(), Stored::default());
        Ok(id)
    }

    /// Everything the case screen needs.
    pub fn view(&mut self, id: &DocId) -> Option<DocView> {
        self.hydrate(id);
        let unsynced_since = self.unsynced_since(id);
        let mine = self.actor().map(|a| a.to_hex_string()).unwrap_or_default();
        let rd = self.replica.docs.get_mut(id)?;
        let all = doc::to_json(&rd.doc);
        let json = all.get("case").cloned().unwrap_or(Json::Null);
        let (case, review) = doc::read_parts(&rd.doc)
            .unwrap_or_else(|_| (CaseFile::default(), doc::read_review(&rd.doc)));
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
            if let Some(ReviewChange::ResolveConflict { path, by }) =
                c.message().and_then(ReviewChange::parse)
            {
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
            unsynced_since,
            rejected,
        })
    }
}

/// Keeps the pushes of one request under a byte budget (the first always goes); returns
/// how many documents wait for the next request.
pub fn cut_push(req: &mut SyncRequest, budget: usize) -> usize {
    let mut used = 0usize;
    let mut keep = Vec::new();
    let mut left = 0;
    for d in std::mem::take(&mut req.push) {
        let size: usize = d.changes.iter().map(|c| c.0.len()).sum();
        if keep.is_empty() || used + size <= budget {
            used += size;
            keep.push(d);
        } else {
            left += 1;
        }
    }
    req.push = keep;
    left
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

fn union(a: &[ChangeHash], b: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut set: BTreeSet<ChangeHash> = a.iter().copied().collect();
    set.extend(b.iter().copied());
    set.into_iter().collect()
}

pub fn make_row(
    id: &DocId,
    s: Summary,
    unsynced_since: Option<f64>,
    rejected: Option<&Rejection>,
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

#[cfg(test)]
mod tests;
