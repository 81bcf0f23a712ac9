//! The narrow storage interface the sync endpoint uses. The SQLite store implements it
//! here; another backend (for example PostgreSQL behind many stateless replicas) would
//! implement the same three operations without touching the protocol or the rules.

use std::collections::HashSet;

use automerge::ChangeHash;
use shared::date::Date;
use shared::sync::{DocChanges, DocId, Rejection};

use crate::casedocs::{self, Page, Pusher, RulesConfig};
use crate::error::{AppError, AppResult};
use crate::store::Store;

/// What merging a batch of pushed documents did.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Documents whose changes are durably stored (committed) now.
    pub accepted: Vec<DocId>,
    pub rejected: Vec<Rejection>,
    /// Hashes of every change the batch carried for accepted documents.
    pub pushed: HashSet<ChangeHash>,
}

pub trait DocStore: Send + Sync {
    /// The actor ids registered to a device.
    fn device_actors(&self, device_id: &str) -> AppResult<HashSet<String>>;

    /// Merges every pushed document and commits before returning: a document is in
    /// `accepted` only once its changes are durable. Refused documents leave no trace.
    fn apply_push(
        &self,
        rules: &RulesConfig,
        pusher: &Pusher<'_>,
        push: &[DocChanges],
        today: Date,
    ) -> AppResult<PushOutcome>;

    /// A page of the change feed of a scope after `cursor`.
    fn pull(
        &self,
        scope_path: &str,
        cursor: u64,
        exclude: &HashSet<ChangeHash>,
        max_bytes: u64,
    ) -> AppResult<Page>;
}

impl DocStore for Store {
    fn device_actors(&self, device_id: &str) -> AppResult<HashSet<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached("SELECT actor FROM actors WHERE device_id = ?1")?;
        let rows = stmt
            .query_map([device_id], |r| r.get(0))?
            .collect::<Result<HashSet<String>, _>>()?;
        Ok(rows)
    }

    fn apply_push(
        &self,
        rules: &RulesConfig,
        pusher: &Pusher<'_>,
        push: &[DocChanges],
        today: Date,
    ) -> AppResult<PushOutcome> {
        let mut out = PushOutcome::default();
        let mut conn = self.conn();
        // One transaction for the whole batch: one fsync, and all-or-nothing on a crash.
        let mut tx = conn.transaction()?;
        for doc in push {
            let sp = tx.savepoint()?;
            match casedocs::merge_push(&sp, rules, pusher, doc, today) {
                Ok(_) => {
                    sp.commit()?;
                    out.pushed.extend(
                        doc.changes
                            .iter()
                            .filter_map(|c| c.decode().ok())
                            .map(|c| c.hash()),
                    );
                    out.accepted.push(doc.doc_id.clone());
                }
                Err(rej) if rej.code == "INTERNAL" => {
                    return Err(AppError::Internal(rej.message_en));
                }
                // Dropping the savepoint rolls the refused document back.
                Err(rej) => out.rejected.push(rej),
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn pull(
        &self,
        scope_path: &str,
        cursor: u64,
        exclude: &HashSet<ChangeHash>,
        max_bytes: u64,
    ) -> AppResult<Page> {
        Ok(casedocs::pull(
            &self.conn(),
            scope_path,
            cursor,
            exclude,
            max_bytes,
        )?)
    }
}
