//! The narrow storage interface the sync endpoint uses. The SQLite store implements it
//! here; another backend (for example PostgreSQL behind many stateless replicas) would
//! implement the same operations without touching the protocol, the merge policy or the
//! rules.
//!
//! A push is merged in three steps so that the expensive part holds no lock: the stored
//! document is read under the store's lock, merged and checked by [`merge::merge`] without
//! it, and written in one transaction for the whole batch, after checking that no other
//! request wrote the document in between (if one did, that document is merged again under
//! the lock, so the outcome is the same as a serial merge). That transaction may hold the
//! writes of other requests waiting for the writer too ([`Store::grouped`]); each is
//! answered once the shared commit is durable.

use std::collections::HashSet;

use automerge::ChangeHash;
use shared::api::RejectionCode;
use shared::date::Date;
use shared::limits::Limits;
use shared::sync::{DocChanges, DocId, Rejection};

use crate::casedocs::{self, Feed, Page, RulesConfig};
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::merge::{self, Merged, Pusher, StoredDoc};

/// What merging a batch of pushed documents did.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Documents whose changes are durably stored (committed) now.
    pub accepted: Vec<DocId>,
    pub rejected: Vec<Rejection>,
    /// Hashes of every change the batch carried for accepted documents.
    pub pushed: HashSet<ChangeHash>,
}

/// The rules and limits a merge runs under.
#[derive(Debug, Clone, Copy)]
pub struct MergeConfig<'a> {
    pub rules: &'a RulesConfig,
    pub limits: &'a Limits,
    pub today: Date,
}

pub trait DocStore: Send + Sync {
    /// The actor ids registered to a device.
    fn device_actors(&self, device_id: &str) -> AppResult<HashSet<String>>;

    /// Merges every pushed document and commits before returning: a document is in
    /// `accepted` only once its changes are durable. Refused documents leave no trace.
    fn apply_push(
        &self,
        cfg: MergeConfig<'_>,
        pusher: &Pusher<'_>,
        push: &[DocChanges],
    ) -> AppResult<PushOutcome>;

    /// A page of the change feed of a device's scope after `cursor`.
    fn pull(
        &self,
        feed: &Feed<'_>,
        cursor: u64,
        exclude: &HashSet<ChangeHash>,
        max_bytes: u64,
    ) -> AppResult<Page>;
}

/// One pushed document on its way through the three steps.
struct Pending<'p> {
    push: &'p DocChanges,
    version: i64,
    held: bool,
    merged: Result<Option<Merged>, Rejection>,
    /// Hashes of every change the push carried, decoded once for the pull's exclusions.
    hashes: Vec<ChangeHash>,
}

/// Reads what the merge needs: the stored document, whether the device holds it, and
/// whether the stored file is in the pusher's scope.
fn read_for_merge(
    conn: &crate::db::Connection,
    pusher: &Pusher<'_>,
    id: &DocId,
) -> crate::db::Result<(Option<StoredDoc>, bool, bool)> {
    let stored = casedocs::read_stored(conn, id.as_str())?;
    let held = casedocs::device_holds(conn, pusher.device_id, id.as_str())?;
    let in_scope = match &stored {
        Some(s) => s
            .org_path
            .as_deref()
            .is_some_and(|p| casedocs::path_in_scope(p, pusher.scope_path)),
        None => true,
    };
    Ok((stored, held, in_scope))
}

/// Loads and merges one document without any lock.
fn merge_one(
    cfg: MergeConfig<'_>,
    pusher: &Pusher<'_>,
    push: &DocChanges,
    stored: Option<StoredDoc>,
    held: bool,
    stored_in_scope: bool,
    hashes: &mut Vec<ChangeHash>,
) -> Result<Option<Merged>, Rejection> {
    let id = &push.doc_id;
    if !merge::scope_allows(stored_in_scope, held, false) {
        return Err(merge::out_of_scope(id));
    }
    let changes = merge::decode_push(push, cfg.limits)?;
    *hashes = changes.iter().map(automerge::Change::hash).collect();
    let base = match stored {
        Some(s) => Some(s.load().map_err(|e| merge::internal(id, e))?),
        None => None,
    };
    // Some malformed changes make Automerge panic while applying them (an operation naming
    // an actor the document has never seen). The merge works on values it owns and holds
    // no lock, so such a panic is caught here and refuses this document only.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        merge::merge(id, base, changes, pusher, cfg.limits, cfg.rules, cfg.today)
    }))
    .unwrap_or_else(|_| {
        Err(merge::reject(
            id,
            RejectionCode::BadChange,
            "Không áp dụng được thay đổi: dữ liệu thay đổi bị hỏng.",
            "The changes could not be applied: they are malformed.",
        ))
    })
}

/// The writer's part of a push: checks each merged file against what is stored now
/// (merging again any that another request wrote meanwhile) and writes it.
fn write_push(
    tx: &crate::db::Connection,
    cfg: MergeConfig<'_>,
    pusher: &Pusher<'_>,
    pending: Vec<Pending<'_>>,
) -> AppResult<PushOutcome> {
    let mut out = PushOutcome::default();
    // Of the files that merged, whether another request wrote any since they were
    // read, and which file each of their changes is logged under: one statement each
    // for the whole push. A refused file is not read for.
    let merged = || pending.iter().filter(|p| p.merged.is_ok());
    let merged_ids: Vec<&str> = merged().map(|p| p.push.doc_id.as_str()).collect();
    let versions = casedocs::doc_versions(tx, &merged_ids)?;
    let hashes: Vec<[u8; 32]> = merged()
        .flat_map(|p| p.hashes.iter().map(|h| h.0))
        .collect();
    let mut checks = casedocs::PushChecks::read(tx, pusher.scope_path, &hashes)?;
    for p in pending {
        let id = &p.push.doc_id;
        let mut merged = p.merged;
        let mut held = p.held;
        let mut hashes = p.hashes;
        let now = versions.get(id.as_str()).copied().unwrap_or(0);
        if merged.is_ok() && now != p.version {
            // Another request wrote this document meanwhile: merge again, under the lock.
            let (stored, h, in_scope) = read_for_merge(tx, pusher, id)?;
            held = h;
            merged = merge_one(cfg, pusher, p.push, stored, held, in_scope, &mut hashes);
        }
        // A file is refused before anything of it is written (`check_merged`), and
        // a write fails only with the database, which fails the whole push: no
        // savepoint per file is needed to take a refused one back.
        let result = match merged {
            Ok(None) => Ok(()),
            Ok(Some(mut m)) => casedocs::check_merged(tx, &m, &mut checks, held).and_then(|()| {
                casedocs::write_merged(tx, &mut m, pusher).map_err(|e| merge::internal(id, e))?;
                checks.written(&m);
                Ok(())
            }),
            Err(rej) => Err(rej),
        };
        match result {
            Ok(()) => {
                out.pushed.extend(hashes);
                out.accepted.push(id.clone());
            }
            Err(rej) if rej.code == RejectionCode::Internal => {
                return Err(AppError::Internal(rej.message_en));
            }
            Err(rej) => out.rejected.push(rej),
        }
    }
    casedocs::record_push(tx, pusher.device_id, &out.accepted)?;
    Ok(out)
}

impl DocStore for Store {
    fn device_actors(&self, device_id: &str) -> AppResult<HashSet<String>> {
        Ok(crate::db::accounts::device_actors(&self.read(), device_id)?)
    }

    fn apply_push(
        &self,
        cfg: MergeConfig<'_>,
        pusher: &Pusher<'_>,
        push: &[DocChanges],
    ) -> AppResult<PushOutcome> {
        let push = merge::coalesce(push);
        // 1. Read each document under the lock, 2. merge it without the lock.
        let mut pending = Vec::with_capacity(push.len());
        for doc in push.iter() {
            let (stored, held, in_scope) = {
                let conn = self.read();
                read_for_merge(&conn, pusher, &doc.doc_id)?
            };
            let version = stored.as_ref().map_or(0, |s| s.version);
            let mut hashes = Vec::new();
            let merged = merge_one(cfg, pusher, doc, stored, held, in_scope, &mut hashes);
            pending.push(Pending {
                push: doc,
                version,
                held,
                merged,
                hashes,
            });
        }
        // 3. One transaction for the whole batch (all-or-nothing on a crash), which it
        // may share with other requests waiting for the writer.
        self.grouped(|tx| write_push(tx, cfg, pusher, pending))
    }

    fn pull(
        &self,
        feed: &Feed<'_>,
        cursor: u64,
        exclude: &HashSet<ChangeHash>,
        max_bytes: u64,
    ) -> AppResult<Page> {
        // The feed is read on a reader's snapshot; the writer is taken only for the
        // little a pull records (dropped and newly held files, the scope served).
        let start = casedocs::pull_start(&self.read(), feed)?;
        if start.needs_prepare(feed) {
            self.grouped(|tx| casedocs::pull_prepare(tx, feed, cursor, &start))?;
        }
        let page = {
            let mut conn = self.read();
            let tx = conn.transaction()?;
            let page = casedocs::pull_read(&tx, feed, cursor, exclude, max_bytes, &start)?;
            tx.commit()?;
            page
        };
        if start.needs_finish(feed, &page) {
            self.grouped(|tx| casedocs::pull_finish(tx, feed, &page, &start))?;
        }
        Ok(page)
    }
}
