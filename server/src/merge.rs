//! The merge policy: what a device's push may do to a case file, decided on values alone.
//! No SQL and no lock here: the store reads the document, [`merge`] decides and computes
//! everything the store must write (new changes, case file, evaluation, conflicts), and
//! the store commits it only if the document has not moved in the meantime.
//!
//! A push is refused, touching nothing, when a change is unreadable or over a limit, is
//! written by an actor that is not the device's, writes a field the device may not write
//! (the document root, or the reviewer's `review` map), leaves the document not fitting
//! the model or over its size, or moves the file out of the device's scope.

use std::collections::HashSet;

use automerge::legacy::{Key, ObjectId};
use automerge::{AutoCommit, Change, ObjId, ReadDoc, Value};
use shared::api::RejectionCode;
use shared::date::Date;
use shared::doc::{self, FieldConflict, ReviewNote};
use shared::limits::{self, LimitError, Limits};
use shared::model::CaseFile;
use shared::rules::Evaluation;
use shared::sync::{DocChanges, DocId, Rejection};

use crate::casedocs::RulesConfig;

/// Who pushes, as the policy sees them.
#[derive(Debug)]
pub struct Pusher<'a> {
    /// Actor ids registered to the pushing device.
    pub actors: &'a HashSet<String>,
    pub scope_path: &'a str,
    pub username: &'a str,
    pub device_id: &'a str,
    /// Reviewers and administrators may write the `review` map; cadres may not.
    pub may_review: bool,
}

/// The stored state of a document before the push, read by the store.
#[derive(Debug)]
pub struct Base {
    pub doc: AutoCommit,
    pub org_id: String,
    /// Bytes of the stored change history.
    pub bytes: usize,
}

/// The raw stored form of a document, read under the store's lock and loaded outside it.
#[derive(Debug, Clone)]
pub struct StoredDoc {
    pub org_id: String,
    /// The organisation's materialised path, read with the document (`None` if the
    /// organisation is gone).
    pub org_path: Option<String>,
    pub snapshot: Option<Vec<u8>>,
    /// Changes logged after the snapshot, in log order.
    pub changes: Vec<Vec<u8>>,
    pub bytes: usize,
    /// Highest log sequence number of the document: it has not moved while this holds.
    pub version: i64,
}

impl StoredDoc {
    /// Builds the Automerge document (the expensive part, done without the lock).
    pub fn load(self) -> Result<Base, String> {
        let mut doc = match &self.snapshot {
            Some(bytes) => AutoCommit::load(bytes).map_err(|e| e.to_string())?,
            None => AutoCommit::new(),
        };
        let changes = self
            .changes
            .into_iter()
            .map(|b| Change::from_bytes(b).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        doc.apply_changes(changes).map_err(|e| e.to_string())?;
        Ok(Base {
            doc,
            org_id: self.org_id,
            bytes: self.bytes,
        })
    }
}

/// What a push does to one document, ready to be written.
#[derive(Debug)]
pub struct Merged {
    pub doc_id: DocId,
    pub doc: AutoCommit,
    /// Changes not stored before, in causal order.
    pub new: Vec<Change>,
    /// The form the log stores each of `new` in, in the same order
    /// ([`limits::stored_form`]).
    pub stored: Vec<Vec<u8>>,
    pub case: CaseFile,
    pub review: ReviewNote,
    pub eval: Evaluation,
    /// The day the rules were evaluated at.
    pub today: Date,
    pub conflicts: Vec<FieldConflict>,
    /// The organisation before the push (`None` for a new file).
    pub old_org: Option<String>,
}

impl Merged {
    /// Whether this push changes the file's organisation.
    pub fn moves(&self) -> bool {
        self.old_org.as_deref() != Some(self.case.org_id.as_str())
    }
}

/// A file refused because the server failed while storing it (the push fails with it).
pub fn internal(id: &DocId, e: impl std::fmt::Display) -> Rejection {
    reject(
        id,
        RejectionCode::Internal,
        format!("Lỗi máy chủ khi lưu hồ sơ: {e}"),
        format!("Server error while storing the file: {e}"),
    )
}

pub fn reject(
    doc_id: &DocId,
    code: RejectionCode,
    vi: impl Into<String>,
    en: impl Into<String>,
) -> Rejection {
    Rejection {
        doc_id: doc_id.clone(),
        code,
        message_vi: vi.into(),
        message_en: en.into(),
    }
}

fn over_limit(id: &DocId, e: &LimitError) -> Rejection {
    let (code, what) = if matches!(e, LimitError::Unreadable(_)) {
        (RejectionCode::BadChange, "Unreadable change")
    } else {
        (RejectionCode::LimitExceeded, "Over a limit")
    };
    reject(id, code, e.message_vi(), format!("{what}: {e}"))
}

pub fn out_of_scope(id: &DocId) -> Rejection {
    reject(
        id,
        RejectionCode::OutOfScope,
        "Hồ sơ thuộc tổ chức ngoài phạm vi của tài khoản này.",
        "The file belongs to an organisation outside this account's scope.",
    )
}

/// Decodes the pushed changes within the limits, before anything is loaded.
pub fn decode_push(push: &DocChanges, limits: &Limits) -> Result<Vec<Change>, Rejection> {
    let id = &push.doc_id;
    if push.changes.len() > limits.max_changes_per_push {
        return Err(over_limit(
            id,
            &LimitError::Changes {
                count: push.changes.len(),
                limit: limits.max_changes_per_push,
            },
        ));
    }
    // Each change's operations are counted as it is decoded, so a push over the limit
    // is refused after decoding at most the limit's worth of them.
    let mut ops = 0usize;
    push.changes
        .iter()
        .map(|c| {
            let change = limits::decode_change(&c.0, limits).map_err(|e| over_limit(id, &e))?;
            ops += change.len();
            if ops > limits.max_ops_per_push {
                return Err(over_limit(
                    id,
                    &LimitError::PushOps {
                        limit: limits.max_ops_per_push,
                    },
                ));
            }
            Ok(change)
        })
        .collect()
}

/// One entry per document, in the order each first appears: a request naming a file twice
/// is read as one list of its changes, so the file gets one answer (accepted or refused),
/// never both.
pub fn coalesce(push: &[DocChanges]) -> std::borrow::Cow<'_, [DocChanges]> {
    let mut seen = HashSet::with_capacity(push.len());
    if push.iter().all(|d| seen.insert(&d.doc_id)) {
        return std::borrow::Cow::Borrowed(push);
    }
    let mut out: Vec<DocChanges> = Vec::with_capacity(seen.len());
    let mut index: std::collections::HashMap<&DocId, usize> = std::collections::HashMap::new();
    for d in push {
        match index.get(&d.doc_id) {
            Some(&i) => out[i].changes.extend(d.changes.iter().cloned()),
            None => {
                index.insert(&d.doc_id, out.len());
                out.push(d.clone());
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether a device may store a document in `org`: always inside its scope; outside it
/// only when the file was moved out by the office after the device was given it (`held`)
/// and this push does not move it, so edits made before the move are not lost.
pub fn scope_allows(org_in_scope: bool, held: bool, moved_by_push: bool) -> bool {
    org_in_scope || (held && !moved_by_push)
}

/// Applies a decoded push to the stored document and checks the result. The store checks
/// the scope of the stored document before and of the merged one after (with
/// [`scope_allows`]).
pub fn merge(
    doc_id: &DocId,
    base: Option<Base>,
    changes: Vec<Change>,
    pusher: &Pusher<'_>,
    limits: &Limits,
    rules: &RulesConfig,
    today: Date,
) -> Result<Option<Merged>, Rejection> {
    let id = doc_id;
    let (old_org, mut doc, old_bytes) = match base {
        Some(b) => (Some(b.org_id), b.doc, b.bytes),
        None => (None, AutoCommit::new(), 0),
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
                RejectionCode::ForeignActor,
                format!("Thay đổi mang mã tác giả {actor} không thuộc thiết bị này."),
                format!("A change carries actor {actor}, which does not belong to this device."),
            ));
        }
    }
    if new.is_empty() {
        // Already stored: a repeated request is acknowledged again and changes nothing.
        return Ok(None);
    }
    let added: usize = new.iter().map(|c| c.raw_bytes().len()).sum();
    if old_bytes + added > limits.max_doc_bytes {
        return Err(over_limit(
            id,
            &LimitError::DocBytes {
                size: old_bytes + added,
                limit: limits.max_doc_bytes,
            },
        ));
    }
    let review_maps_before = review_maps(&doc);
    doc.apply_changes(new.clone()).map_err(|e| {
        reject(
            id,
            RejectionCode::BadChange,
            format!("Không áp dụng được thay đổi: {e}"),
            format!("The changes could not be applied: {e}"),
        )
    })?;
    // Every operation stays in the history (an insertion after its deletion too): the
    // count after the merge bounds what loading this document will ever cost.
    let ops = usize::try_from(doc.stats().num_ops).unwrap_or(usize::MAX);
    if ops > limits.max_doc_ops {
        return Err(over_limit(
            id,
            &LimitError::DocOps {
                count: ops,
                limit: limits.max_doc_ops,
            },
        ));
    }
    // Changes whose dependencies are missing wait in Automerge's queue; asking for them by
    // hash would walk a change graph with holes, so ask for the holes instead.
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(reject(
            id,
            RejectionCode::MissingDeps,
            "Thiếu các thay đổi trước đó của hồ sơ; thiết bị sẽ gửi lại toàn bộ.",
            "Earlier changes of this file are missing; the device will resend them all.",
        ));
    }
    let (case, review, conflicts) =
        doc::read_parts_and_conflicts_checked(&doc, limits).map_err(|e| {
            reject(
                id,
                RejectionCode::InvalidDocument,
                format!("Hồ sơ không đúng mẫu dữ liệu: {e}"),
                format!("The file does not fit the case-file model: {e}"),
            )
        })?;
    if old_org.is_none() {
        if review != ReviewNote::default() && !pusher.may_review {
            return Err(forbidden_field(id, "review"));
        }
    } else {
        check_writes(id, &doc, &new, &review_maps_before, pusher.may_review)?;
    }
    if conflicts.len() > limits.max_conflicts_per_doc {
        return Err(over_limit(
            id,
            &LimitError::Conflicts {
                count: conflicts.len(),
                limit: limits.max_conflicts_per_doc,
            },
        ));
    }
    let eval = rules.evaluate(&case, today);
    // The form the log stores (compressed) is made now, outside the writer's lock.
    let stored = new
        .iter()
        .map(|c| limits::stored_form(c.raw_bytes()))
        .collect();
    Ok(Some(Merged {
        doc_id: id.clone(),
        doc,
        new,
        stored,
        case,
        review,
        eval,
        today,
        conflicts,
        old_org,
    }))
}

/// The `review` maps of a document (more than one when created concurrently).
fn review_maps(doc: &AutoCommit) -> Vec<(String, u64)> {
    doc.get_all(ObjId::Root, "review")
        .map(|all| {
            all.iter()
                .filter(|(v, _)| matches!(v, Value::Object(_)))
                .map(|(_, id)| doc::op_author(id))
                .collect()
        })
        .unwrap_or_default()
}

/// Refuses changes to an existing document that write its root or, for a device that is
/// not a reviewer's, the reviewer's `review` map.
fn check_writes(
    id: &DocId,
    doc: &AutoCommit,
    new: &[Change],
    review_before: &[(String, u64)],
    may_review: bool,
) -> Result<(), Rejection> {
    let mut review = review_maps(doc);
    review.extend(review_before.iter().cloned());
    for c in new {
        for op in c.decode().operations {
            let key = match &op.key {
                Key::Map(k) => k.to_string(),
                Key::Seq(_) => String::new(),
            };
            match &op.obj {
                ObjectId::Root => return Err(forbidden_field(id, &key)),
                ObjectId::Id(op_id) if !may_review => {
                    let target = (op_id.1.to_hex_string(), op_id.0);
                    if review.contains(&target) {
                        return Err(forbidden_field(id, &format!("review.{key}")));
                    }
                }
                ObjectId::Id(_) => {}
            }
        }
    }
    Ok(())
}

fn forbidden_field(id: &DocId, path: &str) -> Rejection {
    reject(
        id,
        RejectionCode::FieldNotWritable,
        format!("Thiết bị này không được sửa trường «{path}» của hồ sơ."),
        format!("This device may not change the field `{path}` of the file."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::sync::ChangeBytes;

    fn entry(id: &str, changes: &[&[u8]]) -> DocChanges {
        DocChanges {
            doc_id: DocId::try_from(id.to_string()).unwrap(),
            changes: changes.iter().map(|c| ChangeBytes(c.to_vec())).collect(),
        }
    }

    /// A push whose changes pack thousands of operations into a few bytes each (runs of
    /// list insertions) is refused once its operations pass the limit, before any is
    /// applied; at the limit it decodes.
    #[test]
    fn a_push_of_operations_packed_into_few_bytes_is_refused_past_the_limit() {
        use automerge::transaction::Transactable as _;
        let limits = Limits::default();
        let per_change = limits.max_ops_per_change;
        let mut d = automerge::AutoCommit::new();
        let list = d
            .put_object(automerge::ROOT, "l", automerge::ObjType::List)
            .unwrap();
        d.commit();
        let n = limits.max_ops_per_push / per_change;
        for i in 0..=n {
            let nulls = vec![automerge::ScalarValue::Null; per_change];
            d.splice(&list, i * per_change, 0, nulls).unwrap();
            d.commit();
        }
        let changes: Vec<Vec<u8>> = d
            .get_changes(&[])
            .iter()
            .skip(1)
            .map(|c| c.raw_bytes().to_vec())
            .collect();
        let bytes: usize = changes.iter().map(Vec::len).sum();
        assert!(
            bytes < 64 * 1024,
            "{} operations in {bytes} bytes",
            (n + 1) * per_change
        );
        let id = "000000000000000000000000000000c3";
        let refs: Vec<&[u8]> = changes.iter().map(Vec::as_slice).collect();
        let over = decode_push(&entry(id, &refs), &limits).unwrap_err();
        assert_eq!(over.code, RejectionCode::LimitExceeded);
        assert!(
            over.message_vi
                .contains("Quá nhiều thao tác trong một lần gửi")
        );
        assert!(over.message_en.contains("too many operations in one push"));
        let at_limit = decode_push(&entry(id, &refs[..n]), &limits).unwrap();
        assert_eq!(
            at_limit.iter().map(Change::len).sum::<usize>(),
            n * per_change
        );
    }

    /// Insertions deleted again leave no field and few bytes, push after push; the
    /// history's operations still grow, and the merge that would take them past the
    /// limit is refused with both messages.
    #[test]
    fn a_history_grown_by_insertions_deleted_again_is_refused_past_the_limit() {
        use automerge::transaction::Transactable as _;
        let limits = Limits {
            max_doc_ops: 30_000,
            ..Limits::default()
        };
        let case = CaseFile {
            org_id: "phuong-01".into(),
            ..CaseFile::default()
        };
        let mut device = doc::new_case_doc(&case).unwrap();
        device.commit();
        let actors: HashSet<String> = [device.get_actor().to_hex_string()].into();
        let pusher = Pusher {
            actors: &actors,
            scope_path: "/",
            username: "cadre",
            device_id: "device",
            may_review: false,
        };
        let id = DocId::try_from("000000000000000000000000000000c4".to_string()).unwrap();
        let today = Date::from_ymd(2026, 12, 2).unwrap();
        let rules = RulesConfig::default();
        let first = device.get_changes(&[]);
        let mut stored = merge(&id, None, first, &pusher, &limits, &rules, today)
            .unwrap()
            .unwrap()
            .doc;
        let case_obj = device.get(automerge::ROOT, "case").unwrap().unwrap().1;
        let list = device.get(&case_obj, "introducers").unwrap().unwrap().1;
        let per_push = 5_000;
        for round in 1.. {
            let heads = device.get_heads();
            device
                .splice(&list, 0, 0, vec![automerge::ScalarValue::Null; per_push])
                .unwrap();
            device.commit();
            device
                .splice(
                    &list,
                    0,
                    per_push as isize,
                    Vec::<automerge::ScalarValue>::new(),
                )
                .unwrap();
            device.commit();
            let changes: Vec<Change> = device.get_changes(&heads);
            let bytes: usize = changes.iter().map(|c| c.raw_bytes().len()).sum();
            assert!(bytes < 1024, "round {round}: {bytes} bytes");
            let base = Base {
                doc: stored.clone(),
                org_id: case.org_id.clone(),
                bytes: 0,
            };
            match merge(&id, Some(base), changes, &pusher, &limits, &rules, today) {
                Ok(Some(m)) => {
                    assert_eq!(m.case.introducers.len(), 0);
                    assert!(round * per_push <= limits.max_doc_ops);
                    stored = m.doc;
                }
                Ok(None) => panic!("round {round}: nothing new"),
                Err(refused) => {
                    assert_eq!(refused.code, RejectionCode::LimitExceeded, "{refused:?}");
                    assert!(
                        refused
                            .message_vi
                            .contains("Lịch sử hồ sơ có quá nhiều thao tác")
                    );
                    assert!(
                        refused
                            .message_en
                            .contains("too many operations in the file's history")
                    );
                    // Refused within the round that passed the limit, not before.
                    assert!(round * per_push > limits.max_doc_ops - per_push, "{round}");
                    assert!(round * per_push <= limits.max_doc_ops + per_push, "{round}");
                    break;
                }
            }
            assert!(round < 20, "never refused");
        }
    }

    #[test]
    fn a_file_named_twice_is_one_entry_in_first_order() {
        let a = "000000000000000000000000000000a1";
        let b = "000000000000000000000000000000b2";
        let push = vec![entry(a, &[]), entry(b, &[b"x"]), entry(a, &[b"y", b"z"])];
        let one = coalesce(&push);
        assert_eq!(one.len(), 2);
        assert_eq!(one[0].doc_id.as_str(), a);
        assert_eq!(
            one[0].changes,
            vec![ChangeBytes(b"y".to_vec()), ChangeBytes(b"z".to_vec())]
        );
        assert_eq!(one[1].doc_id.as_str(), b);
        let distinct = vec![entry(a, &[b"y"]), entry(b, &[])];
        assert!(matches!(coalesce(&distinct), std::borrow::Cow::Borrowed(_)));
    }
}
