//! The sync protocol core, shared by the browser client, the server and the test devices.
//! It does no I/O: a [`Replica`] turns its documents into a [`SyncRequest`], and folds the
//! server's [`SyncResponse`] back in; moving the bytes is the caller's job.
//!
//! The server keeps every accepted change in one log with a global sequence number. A
//! device pushes the changes the server has not acknowledged, and pulls every change of
//! its scope logged after its `cursor`, in pages. One request usually does both, so an
//! incremental sync is one round trip. Nothing is removed on either side before the
//! server has committed it, and a repeated request is harmless: changes are identified by
//! hash and applying one twice is a no-op.

use std::collections::{BTreeMap, BTreeSet};

use automerge::{AutoCommit, Change, ChangeHash};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 1;

/// Identifier of a case-file document: 32 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId(String);

impl DocId {
    /// A new id from 16 random bytes supplied by the caller (no randomness in here).
    pub fn from_bytes(bytes: [u8; 16]) -> DocId {
        DocId(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocId {
    type Error = SyncError;

    fn try_from(s: String) -> Result<Self, SyncError> {
        if s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(DocId(s))
        } else {
            Err(SyncError::BadDocId(s))
        }
    }
}

impl From<DocId> for String {
    fn from(d: DocId) -> String {
        d.0
    }
}

impl std::fmt::Display for DocId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Automerge change in its binary form, carried as base64 in JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeBytes(pub Vec<u8>);

impl Serialize for ChangeBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ChangeBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.as_bytes())
            .map(ChangeBytes)
            .map_err(serde::de::Error::custom)
    }
}

impl ChangeBytes {
    pub fn decode(&self) -> Result<Change, SyncError> {
        crate::limits::parse_change(&self.0).map_err(SyncError::BadChange)
    }
}

/// What a device sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u32,
    /// Highest log sequence number the device has received and stored.
    pub cursor: u64,
    /// Documents with changes the server has not acknowledged yet.
    pub push: Vec<DocChanges>,
    /// Upper bound on the size of the changes the server returns in this response.
    #[serde(default)]
    pub max_bytes: Option<u64>,
    /// Documents the device has deleted after the server said they left its scope.
    #[serde(default)]
    pub dropped: Vec<DocId>,
    /// The device takes files it does not hold yet (a first sync, or files newly in its
    /// scope) as whole documents with their list summaries ([`WholeDoc`]) instead of
    /// every change of their history.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub whole: bool,
    /// Where an interrupted first sync of whole documents goes on (from the last
    /// response's `resume`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    /// The device rebuilds changes whose dependencies are named by a prefix of their hash
    /// ([`crate::short_deps`]): the server may send them so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub short_deps: bool,
}

/// One whole document, as a first sync hands it to a device that asked for them: the
/// document in Automerge's saved form, its heads (everything up to them is on the
/// server), and the summary its list row shows, computed by the server with the rules
/// the device runs. The device can store it as it is and parse it when it is opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WholeDoc {
    pub doc_id: DocId,
    pub saved: ChangeBytes,
    pub heads: Vec<ChangeHash>,
    pub summary: crate::summary::Summary,
}

/// Changes of one document, in causal order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocChanges {
    pub doc_id: DocId,
    pub changes: Vec<ChangeBytes>,
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u32,
    /// Pushed documents whose changes are now durably stored on the server.
    pub accepted: Vec<DocId>,
    /// Pushed documents refused, with the reason; their changes stay on the device.
    pub rejected: Vec<Rejection>,
    /// Changes logged after the request's cursor, in log order.
    pub pull: Vec<DocChanges>,
    /// The cursor to send next time.
    pub cursor: u64,
    /// True when the page was cut by `max_bytes`: ask again for the rest.
    pub more: bool,
    /// Documents this device holds that are no longer in its scope (moved to another
    /// organisation, or the account's scope changed). The device pushes what it has not
    /// sent of them, then deletes them and names them in `dropped`.
    #[serde(default)]
    pub removed: Vec<DocId>,
    /// Whole documents (for a request with `whole`), beside `pull`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whole: Vec<WholeDoc>,
    /// Set while a first sync of whole documents is under way: send it back as the
    /// request's `resume` (with `more`) to go on where this page ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
    /// During a first sync of whole documents: how many files are still to come after
    /// this page (for the progress shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
}

/// Why the server refused a pushed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub doc_id: DocId,
    /// Why the document was refused.
    pub code: crate::api::RejectionCode,
    pub message_vi: String,
    pub message_en: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    #[error("mã hồ sơ không hợp lệ: {0:?} / invalid document id")]
    BadDocId(String),
    #[error("thay đổi không đọc được: {0} / unreadable change")]
    BadChange(String),
    #[error("thông điệp đồng bộ không đọc được: {0} / malformed sync message")]
    Malformed(String),
    #[error("phiên bản giao thức {0} không được hỗ trợ / unsupported protocol version")]
    Protocol(u32),
    #[error("lỗi Automerge: {0}")]
    Automerge(String),
    /// A change sent with short dependencies could not be rebuilt here; the next request
    /// asks for whole hashes.
    #[error("không dựng lại được thay đổi của hồ sơ {0}: {1} / a change could not be rebuilt")]
    ShortDeps(String, crate::short_deps::ExpandError),
}

/// Parses and checks a request body (already decompressed).
pub fn decode_request(body: &[u8]) -> Result<SyncRequest, SyncError> {
    let req: SyncRequest =
        serde_json::from_slice(body).map_err(|e| SyncError::Malformed(e.to_string()))?;
    if req.protocol != PROTOCOL_VERSION {
        return Err(SyncError::Protocol(req.protocol));
    }
    Ok(req)
}

pub fn decode_response(body: &[u8]) -> Result<SyncResponse, SyncError> {
    let resp: SyncResponse =
        serde_json::from_slice(body).map_err(|e| SyncError::Malformed(e.to_string()))?;
    if resp.protocol != PROTOCOL_VERSION {
        return Err(SyncError::Protocol(resp.protocol));
    }
    Ok(resp)
}

/// The device's copy of one document, with what the server is known to hold.
#[derive(Debug)]
pub struct ReplicaDoc {
    pub doc: AutoCommit,
    /// Heads of a state known to be on the server; changes after them are unacknowledged.
    pub synced: Vec<ChangeHash>,
    /// Set when the server refused the last push of this document.
    pub rejected: Option<Rejection>,
}

impl ReplicaDoc {
    pub fn new(doc: AutoCommit) -> ReplicaDoc {
        ReplicaDoc {
            doc,
            synced: Vec::new(),
            rejected: None,
        }
    }

    /// Changes made here that the server has not acknowledged.
    pub fn unsynced(&mut self) -> Vec<Change> {
        let synced = self.synced.clone();
        self.doc.get_changes(&synced)
    }

    /// Whether every head is acknowledged, and so every change (an acknowledged change
    /// comes with its history). Cheap, where [`ReplicaDoc::unsynced`] builds changes: on
    /// a document loaded from its saved form that means encoding them all again.
    pub fn heads_synced(&mut self) -> bool {
        let synced = &self.synced;
        self.doc.get_heads().iter().all(|h| synced.contains(h))
    }

    pub fn has_unsynced(&mut self) -> bool {
        !self.heads_synced() && !self.unsynced().is_empty()
    }
}

/// What a device remembers between preparing a request and receiving its answer.
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// The heads of each pushed document at the time the request was built.
    sent_heads: BTreeMap<DocId, Vec<ChangeHash>>,
    /// The drops this request reported; forgotten once the server answered.
    dropped: BTreeSet<DocId>,
}

/// What receiving a response did, for the UI and for storage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceiveReport {
    /// Documents that changed locally (new changes applied or acknowledgement recorded).
    pub touched: BTreeSet<DocId>,
    pub new_docs: BTreeSet<DocId>,
    pub rejected: Vec<Rejection>,
    pub changes_applied: usize,
    pub more: bool,
    /// Documents that left the scope and have nothing unsent: delete them from storage.
    pub removed: BTreeSet<DocId>,
    /// The changes received for each document, as they were applied: a device that
    /// stores changes as they come can write these instead of asking the document for
    /// them again.
    pub pulled: BTreeMap<DocId, Vec<Change>>,
}

/// All documents of one device plus its log cursor: the sans-I/O sync state machine.
#[derive(Debug, Default)]
pub struct Replica {
    pub docs: BTreeMap<DocId, ReplicaDoc>,
    pub cursor: u64,
    /// The actor this device writes with; documents first received from the server get it,
    /// so every later local edit is attributed to this device.
    pub actor: Option<automerge::ActorId>,
    /// Documents the server said left the scope and that still hold unsent changes: they
    /// are pushed first and removed once the server has them.
    pub leaving: BTreeSet<DocId>,
    /// Documents removed here that the next request reports as dropped.
    pub dropped: BTreeSet<DocId>,
    /// Ask for files not held yet as whole documents ([`WholeDoc`]).
    pub whole: bool,
    /// Where an interrupted first sync of whole documents goes on.
    pub resume: Option<String>,
    /// Ask for whole dependency hashes: set when a change sent with short ones could not
    /// be rebuilt, until a response is received.
    pub full_deps: bool,
}

impl Replica {
    /// Builds the next request: every document with unacknowledged changes, plus the cursor.
    pub fn prepare(&mut self, max_bytes: Option<u64>) -> (SyncRequest, Pending) {
        let mut push = Vec::new();
        let mut pending = Pending {
            dropped: self.dropped.clone(),
            ..Pending::default()
        };
        for (id, rd) in self.docs.iter_mut() {
            // Most documents hold nothing new: comparing heads is cheap, asking for the
            // changes after them is not.
            if rd.heads_synced() {
                continue;
            }
            let changes = rd.unsynced();
            if changes.is_empty() {
                continue;
            }
            pending.sent_heads.insert(id.clone(), rd.doc.get_heads());
            push.push(DocChanges {
                doc_id: id.clone(),
                changes: changes
                    .iter()
                    .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
                    .collect(),
            });
        }
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: self.cursor,
            push,
            max_bytes,
            dropped: self.dropped.iter().cloned().collect(),
            whole: self.whole,
            resume: self.resume.clone(),
            short_deps: !self.full_deps,
        };
        (req, pending)
    }

    /// Folds a response in. Local edits made while the request was in flight stay
    /// unacknowledged and go with the next request.
    pub fn receive(
        &mut self,
        pending: Pending,
        resp: SyncResponse,
    ) -> Result<ReceiveReport, SyncError> {
        let mut report = ReceiveReport {
            more: resp.more,
            ..Default::default()
        };
        // Decode everything first so a bad response changes nothing.
        let mut pulled: Vec<(DocId, Vec<Change>)> = Vec::with_capacity(resp.pull.len());
        // A file's changes may come in several parts of one response, and the parts are
        // applied only once all are read: the changes read so far are held too.
        let mut read: BTreeMap<DocId, Vec<ChangeHash>> = resp
            .whole
            .iter()
            .map(|w| (w.doc_id.clone(), w.heads.clone()))
            .collect();
        for dc in &resp.pull {
            let bytes: Vec<&[u8]> = dc.changes.iter().map(|c| c.0.as_slice()).collect();
            let mut held = self.docs.get_mut(&dc.doc_id);
            let mut heads = held
                .as_mut()
                .map(|rd| rd.doc.get_heads())
                .unwrap_or_default();
            heads.extend(read.get(&dc.doc_id).into_iter().flatten().copied());
            let mut all_hashes = || {
                held.as_mut()
                    .map(|rd| rd.doc.get_changes(&[]).iter().map(Change::hash).collect())
                    .unwrap_or_default()
            };
            let changes = crate::short_deps::expand_all(
                &bytes,
                &heads,
                &mut all_hashes,
                |b| crate::limits::parse_change(b).map_err(SyncError::BadChange),
                |e| SyncError::ShortDeps(dc.doc_id.to_string(), e),
            )
            .inspect_err(|e| self.full_deps |= matches!(e, SyncError::ShortDeps(..)))?;
            read.entry(dc.doc_id.clone())
                .or_default()
                .extend(changes.iter().map(Change::hash));
            pulled.push((dc.doc_id.clone(), changes));
        }
        self.full_deps = false;
        let mut whole: Vec<(DocId, AutoCommit, Vec<ChangeHash>)> = Vec::new();
        for w in &resp.whole {
            let doc = AutoCommit::load(&w.saved.0)
                .map_err(|e| SyncError::BadChange(format!("{}: {e}", w.doc_id)))?;
            whole.push((w.doc_id.clone(), doc, w.heads.clone()));
        }
        for id in &resp.accepted {
            if let (Some(rd), Some(heads)) = (self.docs.get_mut(id), pending.sent_heads.get(id)) {
                rd.synced = merge_heads(&rd.synced, heads);
                rd.rejected = None;
                report.touched.insert(id.clone());
            }
        }
        for rej in &resp.rejected {
            if let Some(rd) = self.docs.get_mut(&rej.doc_id) {
                rd.rejected = Some(rej.clone());
                report.touched.insert(rej.doc_id.clone());
            }
            report.rejected.push(rej.clone());
        }
        for (id, changes) in pulled {
            let hashes: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
            report.changes_applied += changes.len();
            let rd = match self.docs.get_mut(&id) {
                Some(rd) => rd,
                None => {
                    report.new_docs.insert(id.clone());
                    let mut doc = AutoCommit::new();
                    if let Some(actor) = &self.actor {
                        doc.set_actor(actor.clone());
                    }
                    self.docs.entry(id.clone()).or_insert(ReplicaDoc::new(doc))
                }
            };
            report.pulled.insert(id.clone(), changes.clone());
            rd.doc
                .apply_changes(changes)
                .map_err(|e| SyncError::Automerge(e.to_string()))?;
            // Everything pulled is on the server by definition.
            rd.synced = merge_heads(&rd.synced, &hashes);
            report.touched.insert(id);
        }
        for (id, mut loaded, heads) in whole {
            match self.docs.get_mut(&id) {
                Some(rd) => {
                    rd.doc
                        .merge(&mut loaded)
                        .map_err(|e| SyncError::Automerge(e.to_string()))?;
                    rd.synced = merge_heads(&rd.synced, &heads);
                }
                None => {
                    report.new_docs.insert(id.clone());
                    if let Some(actor) = &self.actor {
                        loaded.set_actor(actor.clone());
                    }
                    let mut rd = ReplicaDoc::new(loaded);
                    rd.synced = heads;
                    self.docs.insert(id.clone(), rd);
                }
            }
            report.touched.insert(id);
        }
        self.resume = resp.resume.clone();
        for id in &pending.dropped {
            self.dropped.remove(id);
        }
        // Files that left the scope go once nothing of them is unsent; the server keeps
        // accepting their pending changes until the device reports them dropped.
        self.leaving.extend(resp.removed.iter().cloned());
        let leaving: Vec<DocId> = self.leaving.iter().cloned().collect();
        for id in leaving {
            let gone = match self.docs.get_mut(&id) {
                Some(rd) => !rd.has_unsynced(),
                None => true,
            };
            if gone {
                self.leaving.remove(&id);
                if self.docs.remove(&id).is_some() {
                    report.removed.insert(id.clone());
                }
                report.touched.remove(&id);
                self.dropped.insert(id);
            }
        }
        self.cursor = self.cursor.max(resp.cursor);
        Ok(report)
    }
}

/// The union of two sets of hashes; `get_changes` accepts any set of known hashes.
fn merge_heads(a: &[ChangeHash], b: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut set: BTreeSet<ChangeHash> = a.iter().copied().collect();
    set.extend(b.iter().copied());
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_ids_are_checked_when_parsed() {
        assert!(DocId::try_from("0123456789abcdef0123456789abcdef".to_string()).is_ok());
        assert!(DocId::try_from("../etc/passwd".to_string()).is_err());
        assert!(DocId::try_from("0123456789ABCDEF0123456789ABCDEF".to_string()).is_err());
    }

    #[test]
    fn a_truncated_request_is_a_clear_error() {
        let err = decode_request(br#"{"protocol":1,"cursor":"#).unwrap_err();
        assert!(matches!(err, SyncError::Malformed(_)));
    }

    #[test]
    fn a_file_is_synced_when_its_heads_are_acknowledged_and_not_after_an_edit() {
        use automerge::{ROOT, transaction::Transactable};
        let mut server = AutoCommit::new();
        server.put(ROOT, "n", 1).unwrap();
        let first = server.get_heads();
        server.put(ROOT, "n", 2).unwrap();
        // A device holds the file as loaded from its saved form at the first change; the
        // second comes in a pull, and its acknowledged set names both (not yet pruned).
        let mut doc = AutoCommit::load(&server.fork_at(&first).unwrap().save()).unwrap();
        doc.apply_changes(server.get_changes(&first)).unwrap();
        let mut rd = ReplicaDoc::new(doc);
        rd.synced = merge_heads(&first, &server.get_heads());
        assert!(rd.heads_synced());
        assert!(!rd.has_unsynced());
        let mut replica = Replica::default();
        let id = DocId::from_bytes([3; 16]);
        replica.docs.insert(id.clone(), rd);
        assert!(replica.prepare(None).0.push.is_empty());
        // An edit made here is not acknowledged: the file is pushed with exactly it.
        let rd = replica.docs.get_mut(&id).unwrap();
        rd.doc.put(ROOT, "n", 3).unwrap();
        assert!(!rd.heads_synced());
        assert!(rd.has_unsynced());
        let (req, _) = replica.prepare(None);
        assert_eq!(req.push.len(), 1);
        assert_eq!(req.push[0].changes.len(), 1);
    }

    /// A file's changes in two parts of one response, with another file between them:
    /// the second part follows the first, which is read but not applied yet.
    #[test]
    fn short_changes_of_a_file_split_across_one_response_are_rebuilt() {
        use automerge::{ROOT, transaction::Transactable};
        let mut x = AutoCommit::new();
        let mut y = AutoCommit::new();
        let mut x_changes = Vec::new();
        for i in 0..3 {
            x.put(ROOT, "n", i).unwrap();
            x_changes.push(x.get_last_local_change().unwrap().clone());
        }
        y.put(ROOT, "n", 1).unwrap();
        let y_change = y.get_last_local_change().unwrap().clone();
        let short = |c: &Change| ChangeBytes(crate::short_deps::shorten(c.raw_bytes()));
        let (xid, yid) = (DocId::from_bytes([1; 16]), DocId::from_bytes([2; 16]));
        let part = |id: &DocId, cs: &[Change]| DocChanges {
            doc_id: id.clone(),
            changes: cs.iter().map(short).collect(),
        };
        let resp = SyncResponse {
            protocol: PROTOCOL_VERSION,
            accepted: vec![],
            rejected: vec![],
            pull: vec![
                part(&xid, &x_changes[..1]),
                part(&yid, std::slice::from_ref(&y_change)),
                part(&xid, &x_changes[1..]),
            ],
            cursor: 3,
            more: false,
            removed: vec![],
            whole: vec![],
            resume: None,
            remaining: None,
        };
        let mut replica = Replica::default();
        let (_, pending) = replica.prepare(None);
        replica.receive(pending, resp).unwrap();
        assert_eq!(
            replica.docs.get_mut(&xid).unwrap().doc.get_heads(),
            x.get_heads()
        );
        assert_eq!(
            replica.docs.get_mut(&yid).unwrap().doc.get_heads(),
            y.get_heads()
        );
    }

    #[test]
    fn a_request_round_trips_through_json() {
        let req = SyncRequest {
            protocol: PROTOCOL_VERSION,
            cursor: 7,
            push: vec![DocChanges {
                doc_id: DocId::from_bytes([7; 16]),
                changes: vec![ChangeBytes(vec![1, 2, 3])],
            }],
            max_bytes: Some(1000),
            dropped: vec![DocId::from_bytes([8; 16])],
            whole: false,
            resume: None,
            short_deps: true,
        };
        let bytes = serde_json::to_vec(&req).unwrap();
        assert_eq!(decode_request(&bytes).unwrap(), req);
    }
}
