//! Native tests of the device model: edits, what is written per edit, several tabs
//! sharing one store, summaries, and what is pushed.

use std::collections::BTreeMap;

use serde_json::json;
use shared::sync::{ChangeBytes, DocChanges, PROTOCOL_VERSION, SyncResponse};

use super::reference::{Session, User};
use super::*;

/// IndexedDB as the device model sees it: chunks by (document, key) and metadata.
#[derive(Default)]
struct FakeStore {
    chunks: BTreeMap<(DocId, String), Vec<u8>>,
    meta: BTreeMap<DocId, DocMeta>,
}

impl FakeStore {
    /// One write transaction, as `store::Store::write_docs` does it.
    fn write(&mut self, dev: &mut Device, id: &DocId, leader: bool) -> usize {
        let w = dev.take_write(id).unwrap();
        let mut bytes = 0;
        if let Some(c) = w.chunk {
            bytes += c.bytes.len();
            self.chunks.insert((id.clone(), c.key), c.bytes);
        }
        let stored = self.meta.get(id).cloned();
        let merged = dev.merge_meta(id, w.meta, stored, leader);
        self.meta.insert(id.clone(), merged);
        bytes
    }

    fn chunks_of(&self, id: &DocId) -> Vec<Chunk> {
        self.chunks
            .iter()
            .filter(|((d, _), _)| d == id)
            .map(|((_, k), b)| Chunk {
                key: k.clone(),
                bytes: b.clone(),
            })
            .collect()
    }

    /// A tab opening: every document as raw records.
    fn open(&self, actor: u8) -> Device {
        let mut dev = device(actor);
        for id in self.meta.keys() {
            dev.add_raw(
                id.clone(),
                RawDoc {
                    chunks: self.chunks_of(id),
                    meta: self.meta[id].clone(),
                },
            );
        }
        dev
    }

    /// What a broadcast makes the other tab do.
    fn tell(&self, dev: &mut Device, id: &DocId, leader: bool) -> bool {
        dev.absorb(id, self.chunks_of(id), self.meta.get(id).cloned(), leader)
    }
}

fn device(actor: u8) -> Device {
    let actor = automerge::ActorId::from(vec![actor; 16]).to_hex_string();
    Device {
        session: Some(Session {
            token: "t".into(),
            device_id: "d".into(),
            expires_at: 0,
            user: User {
                user_id: 1,
                username: "canbo".into(),
                display_name: "Cán bộ".into(),
                role: shared::api::Role::Cadre,
                scope_org: "o".into(),
                scope_path: String::new(),
                device_id: "d".into(),
            },
            actor,
        }),
        today: Date::from_ymd(2026, 11, 30).unwrap(),
        now: 1_000.0,
        ..Device::default()
    }
}

fn new_case(dev: &mut Device, name: &str) -> DocId {
    let mut case = CaseFile::default();
    case.person.full_name = name.into();
    case.org_id = "chi-bo-1".into();
    dev.create(DocId::from_bytes([7; 16]), &case).unwrap()
}

fn field(dev: &mut Device, id: &DocId, path: &str) -> Option<Json> {
    dev.view(id).and_then(|v| json_at(&v.json, path))
}

#[test]
fn an_edit_writes_only_its_own_change() {
    let mut store = FakeStore::default();
    let mut dev = device(1);
    let id = new_case(&mut dev, "Nguyễn Văn An");
    let first = store.write(&mut dev, &id, true);
    assert!(first > 0);
    dev.now = 2_000.0;
    assert_eq!(dev.edit(&id, "person.ethnicity", &json!("Tày")), Ok(true));
    let second = store.write(&mut dev, &id, true);
    assert!(
        second < first,
        "an edit writes {second} bytes, the file {first}"
    );
    assert!(second < 400, "one field edit writes {second} bytes");
    // Nothing new: no chunk, only the metadata.
    assert_eq!(store.write(&mut dev, &id, true), 0);
    assert_eq!(store.chunks_of(&id).len(), 2);
}

#[test]
fn writing_the_same_value_again_adds_no_change() {
    let mut dev = device(1);
    let id = new_case(&mut dev, "Lê Thị Hà");
    assert_eq!(dev.edit(&id, "person.ethnicity", &json!("Kinh")), Ok(true));
    assert_eq!(dev.edit(&id, "person.ethnicity", &json!("Kinh")), Ok(false));
}

#[test]
fn two_tabs_editing_one_file_offline_lose_nothing() {
    let mut store = FakeStore::default();
    let mut a = device(1);
    let id = new_case(&mut a, "Trần Minh Đức");
    store.write(&mut a, &id, true);
    // Each tab writes with its own actor id (see `tabs`): two tabs sharing one would
    // make two different changes with the same sequence number.
    let mut b = store.open(2);
    assert!(b.hydrate(&id));
    // Different fields, written by two tabs that have not heard of each other.
    a.edit(&id, "person.ethnicity", &json!("Tày")).unwrap();
    b.edit(&id, "person.religion", &json!("Phật giáo")).unwrap();
    store.write(&mut a, &id, true);
    store.write(&mut b, &id, false);
    // The same field, too.
    a.edit(&id, "person.occupation", &json!("giáo viên"))
        .unwrap();
    b.edit(&id, "person.occupation", &json!("kỹ sư")).unwrap();
    store.write(&mut b, &id, false);
    store.write(&mut a, &id, true);
    // A third tab opening later sees every edit; the same-field edits as a conflict.
    let mut c = store.open(3);
    assert_eq!(field(&mut c, &id, "person.ethnicity"), Some(json!("Tày")));
    assert_eq!(
        field(&mut c, &id, "person.religion"),
        Some(json!("Phật giáo"))
    );
    let v = c.view(&id).unwrap();
    assert_eq!(v.conflicts.len(), 1);
    assert_eq!(v.conflicts[0].path, "person.occupation");
    // The open tabs catch up from the store when told.
    assert!(store.tell(&mut a, &id, true));
    assert_eq!(
        field(&mut a, &id, "person.religion"),
        Some(json!("Phật giáo"))
    );
    assert!(store.tell(&mut b, &id, false));
    assert_eq!(field(&mut b, &id, "person.ethnicity"), Some(json!("Tày")));
    // Everything either tab holds is stored: nothing more to write.
    assert_eq!(store.write(&mut a, &id, true), 0);
    assert_eq!(store.write(&mut b, &id, false), 0);
}

#[test]
fn a_tab_that_is_not_syncing_never_moves_acknowledged_heads_back() {
    let mut dev = device(1);
    let id = new_case(&mut dev, "Phạm Thu Lan");
    let heads = dev.replica.docs.get_mut(&id).unwrap().doc.get_heads();
    let stored = DocMeta {
        synced: heads.clone(),
        ..DocMeta::default()
    };
    let mine = DocMeta::default();
    let merged = dev.merge_meta(&id, mine.clone(), Some(stored.clone()), false);
    assert_eq!(merged.synced, heads);
    let merged = dev.merge_meta(&id, mine, Some(stored), true);
    assert_eq!(merged.synced, heads);
}

#[test]
fn a_stale_summary_is_marked_for_recompute() {
    let mut store = FakeStore::default();
    let mut a = device(1);
    let id = new_case(&mut a, "Vũ Ngọc Ánh");
    store.write(&mut a, &id, true);
    let mut b = store.open(2);
    b.hydrate(&id);
    b.now = 5_000.0;
    b.edit(&id, "person.full_name", &json!("Vũ Ngọc Ánh Dương"))
        .unwrap();
    store.write(&mut b, &id, false);
    // Tab a, which has not read b's edit, writes its (older) summary.
    a.edit(&id, "person.ethnicity", &json!("Kinh")).unwrap();
    store.write(&mut a, &id, true);
    assert!(store.meta[&id].summary_heads.is_empty());
    assert_eq!(store.meta[&id].unsynced_since, Some(1_000.0));
    // Opening again recomputes the summary from the union.
    let mut c = store.open(3);
    c.hydrate(&id);
    assert_eq!(c.row(&id).unwrap().s.name, "Vũ Ngọc Ánh Dương");
}

#[test]
fn the_list_opens_from_stored_summaries_before_parsing() {
    let mut store = FakeStore::default();
    let mut a = device(1);
    let id = new_case(&mut a, "Đỗ Văn Bình");
    store.write(&mut a, &id, true);
    let mut b = store.open(2);
    assert!(b.replica.docs.is_empty());
    let row = b.row(&id).unwrap();
    assert_eq!(row.s.name, "Đỗ Văn Bình");
    assert_eq!(row.unsynced_since, Some(1_000.0));
    assert_eq!(b.hydrate_some(10), vec![id.clone()]);
    assert_eq!(b.row(&id).unwrap(), row);
}

#[test]
fn a_file_with_no_readable_chunk_stays_raw_instead_of_vanishing() {
    let mut dev = device(1);
    let id = DocId::from_bytes([9; 16]);
    dev.add_raw(
        id.clone(),
        RawDoc {
            chunks: vec![Chunk {
                key: "x".into(),
                bytes: vec![1, 2, 3],
            }],
            meta: DocMeta::default(),
        },
    );
    assert!(!dev.hydrate(&id));
    assert!(dev.raw.contains_key(&id));
}

/// A response of the server with only the given parts (the rest empty).
fn response(cursor: u64, pull: Vec<DocChanges>) -> SyncResponse {
    SyncResponse {
        protocol: PROTOCOL_VERSION,
        accepted: vec![],
        rejected: vec![],
        pull,
        cursor,
        more: false,
        removed: vec![],
        whole: vec![],
        resume: None,
        remaining: None,
    }
}

fn ack_all(dev: &mut Device, cursor: u64) -> ReceiveReport {
    let (req, pending) = dev.replica.prepare(None);
    let mut resp = response(cursor, vec![]);
    resp.accepted = req.push.iter().map(|d| d.doc_id.clone()).collect();
    let report = dev.replica.receive(pending, resp).unwrap();
    dev.after_receive(&report);
    report
}

#[test]
fn only_unacknowledged_changes_are_pushed() {
    let mut dev = device(1);
    let id = new_case(&mut dev, "Bùi Thị Yến");
    assert_eq!(dev.to_push(), 1);
    assert_eq!(dev.unsynced_since(&id), Some(1_000.0));
    ack_all(&mut dev, 10);
    assert_eq!(dev.to_push(), 0);
    assert_eq!(dev.unsynced_since(&id), None);
    dev.now = 3_000.0;
    dev.edit(&id, "person.ethnicity", &json!("Mường")).unwrap();
    let (req, _) = dev.replica.prepare(None);
    assert_eq!(req.push.len(), 1);
    assert_eq!(req.push[0].changes.len(), 1, "only the new change goes");
    assert_eq!(dev.unsynced_since(&id), Some(3_000.0));
}

#[test]
fn a_refused_file_is_not_counted_as_waiting_to_push() {
    let mut dev = device(1);
    let id = new_case(&mut dev, "Hoàng Anh");
    dev.replica.docs.get_mut(&id).unwrap().rejected = Some(Rejection {
        doc_id: id.clone(),
        code: shared::api::RejectionCode::OutOfScope,
        message_vi: "ngoài phạm vi".into(),
        message_en: "out of scope".into(),
    });
    assert_eq!(dev.to_push(), 0);
    assert!(dev.row(&id).unwrap().rejected.is_some());
}

#[test]
fn pushes_are_cut_to_the_byte_budget_but_never_to_nothing() {
    let doc = |n: u8, size: usize| DocChanges {
        doc_id: DocId::from_bytes([n; 16]),
        changes: vec![ChangeBytes(vec![0; size])],
    };
    let mut req = SyncRequest {
        protocol: PROTOCOL_VERSION,
        cursor: 0,
        push: vec![doc(1, 600), doc(2, 300), doc(3, 300), doc(4, 100)],
        max_bytes: None,
        dropped: vec![],
        whole: false,
        resume: None,
        short_deps: false,
    };
    assert_eq!(cut_push(&mut req, 1000), 1);
    let kept: Vec<u8> = req
        .push
        .iter()
        .map(|d| d.doc_id.as_str().as_bytes()[1] - b'0')
        .collect();
    assert_eq!(kept, vec![1, 2, 4]);
    let mut big = SyncRequest {
        push: vec![doc(1, 5000)],
        ..req
    };
    assert_eq!(cut_push(&mut big, 1000), 0);
    assert_eq!(big.push.len(), 1);
}

#[test]
fn a_file_that_left_the_scope_goes_only_after_its_changes_are_on_the_server() {
    let mut dev = device(1);
    let id = new_case(&mut dev, "Ngô Đức Cường");
    // The server says the file left the scope while it still holds an unsent change.
    let (req, pending) = dev.replica.prepare(None);
    assert_eq!(req.push.len(), 1);
    dev.now = 9_000.0;
    dev.edit(&id, "person.ethnicity", &json!("Nùng")).unwrap();
    let resp = SyncResponse {
        protocol: PROTOCOL_VERSION,
        accepted: vec![id.clone()],
        rejected: vec![],
        pull: vec![],
        cursor: 5,
        more: false,
        removed: vec![id.clone()],
        whole: vec![],
        resume: None,
        remaining: None,
    };
    let report = dev.replica.receive(pending, resp).unwrap();
    dev.after_receive(&report);
    assert!(
        report.removed.is_empty(),
        "the later edit is not on the server yet"
    );
    assert!(dev.replica.docs.contains_key(&id));
    // Once that edit is acknowledged, the file goes.
    let report = ack_all(&mut dev, 6);
    assert!(report.removed.contains(&id));
    assert!(!dev.replica.docs.contains_key(&id));
    assert!(!dev.stored.contains_key(&id));
}

#[test]
fn the_first_layout_migrates_as_one_chunk() {
    let mut a = device(1);
    let id = new_case(&mut a, "Đặng Thu Hạnh");
    a.edit(&id, "person.ethnicity", &json!("Tày")).unwrap();
    // The first layout kept one saved document per file.
    let bytes = a.replica.docs.get_mut(&id).unwrap().doc.save();
    let mut b = device(1);
    b.add_raw(
        id.clone(),
        RawDoc {
            chunks: vec![Chunk {
                key: chunks::legacy_key(&bytes),
                bytes,
            }],
            meta: DocMeta {
                unsynced_since: Some(1_000.0),
                ..DocMeta::default()
            },
        },
    );
    assert_eq!(field(&mut b, &id, "person.ethnicity"), Some(json!("Tày")));
    // Its unsent changes are still unsent.
    assert_eq!(b.to_push(), 1);
}

#[test]
fn the_list_is_drawn_from_metadata_before_the_chunks_are_read() {
    let mut store = FakeStore::default();
    let mut a = device(1);
    let id = new_case(&mut a, "Lê Văn Dũng");
    store.write(&mut a, &id, true);
    let mut b = device(2);
    let orphan = DocId::from_bytes([3; 16]);
    for (k, meta) in &store.meta {
        b.add_raw(
            k.clone(),
            RawDoc {
                chunks: vec![],
                meta: meta.clone(),
            },
        );
    }
    b.add_raw(orphan.clone(), RawDoc::default());
    assert_eq!(b.row(&id).unwrap().s.name, "Lê Văn Dũng");
    assert!(!b.hydrate(&id), "no chunks yet");
    let mut chunks = BTreeMap::new();
    chunks.insert(id.clone(), store.chunks_of(&id));
    assert_eq!(b.fill_raw(chunks), vec![orphan.clone()]);
    assert!(b.hydrate(&id));
    assert!(b.row(&orphan).is_none());
}

#[test]
fn summaries_carry_what_duplicate_warnings_and_merges_need() {
    let mut dev = device(1);
    let a = new_case(&mut dev, "Nguyễn Văn Trùng");
    dev.edit(&a, "person.birth_date", &json!("2000-02-01"))
        .unwrap();
    dev.edit(&a, "person.id_number", &json!("031 200 000 777"))
        .unwrap();
    let b = dev
        .create(DocId::from_bytes([8; 16]), &CaseFile::default())
        .unwrap();
    let rows: Vec<Row> = [&a, &b].iter().filter_map(|id| dev.row(id)).collect();
    assert_eq!(rows[0].s.id_number, "031 200 000 777");
    // A new file typed as "trung van nguyen", same birth date: the first one is listed.
    let probe = duplicates::probe(
        "chi-bo-2",
        "trung van nguyen",
        Some(Date::from_ymd(2000, 2, 1).unwrap()),
        "",
    );
    let found = duplicates::files_like(&probe, rows.iter().map(|r| (&r.id, &r.s)), None);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, a);

    // The office merges `a` into `b`: the reviewer's change reaches the device.
    let rd = dev.replica.docs.get_mut(&a).unwrap();
    doc::set_field(
        &mut rd.doc,
        &doc::parse_path("review.merged_into"),
        &json!(b.to_string()),
    )
    .unwrap();
    rd.doc.commit();
    let row = dev.row(&a).unwrap();
    assert_eq!(row.s.merged_into, b.to_string());
    assert_eq!(dev.view(&a).unwrap().review.merged_into, b.to_string());
    let rows: Vec<Row> = [&a, &b].iter().filter_map(|id| dev.row(id)).collect();
    assert!(duplicates::files_like(&probe, rows.iter().map(|r| (&r.id, &r.s)), None).is_empty());
}

#[test]
fn a_summary_stored_by_an_older_version_is_computed_again() {
    let mut store = FakeStore::default();
    let mut a = device(1);
    let id = new_case(&mut a, "Phạm Thị Lan");
    a.edit(&id, "person.id_number", &json!("001199000123"))
        .unwrap();
    store.write(&mut a, &id, true);
    // As an older version stored it: no identity-card number, no version.
    let meta = store.meta.get_mut(&id).unwrap();
    meta.summary.id_number.clear();
    meta.summary.version = 0;
    let mut b = store.open(2);
    assert_eq!(b.row(&id).unwrap().s.id_number, "");
    b.hydrate(&id);
    let s = b.row(&id).unwrap().s;
    assert_eq!(s.id_number, "001199000123");
    assert_eq!(s.version, SUMMARY_VERSION);
}

#[test]
fn a_file_first_received_is_written_as_the_changes_received() {
    // Another device's file, with two changes, arrives in one response.
    let mut other = device(9);
    let id = new_case(&mut other, "Đỗ Văn Hùng");
    other.edit(&id, "person.ethnicity", &json!("Tày")).unwrap();
    let sent: Vec<automerge::Change> = other
        .replica
        .docs
        .get_mut(&id)
        .unwrap()
        .doc
        .get_changes(&[]);
    let mut dev = device(1);
    let (_, pending) = dev.replica.prepare(None);
    let resp = response(
        5,
        vec![DocChanges {
            doc_id: id.clone(),
            changes: sent
                .iter()
                .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
                .collect(),
        }],
    );
    dev.receive(pending, resp).unwrap();
    let mut store = FakeStore::default();
    store.write(&mut dev, &id, true);
    // The chunk is exactly the changes received, keyed as any tab would key them.
    let chunks = store.chunks_of(&id);
    assert_eq!(chunks, vec![chunks::changes_chunk(&sent).unwrap()]);
    // A later edit writes only its own change, as for any other file.
    dev.edit(&id, "person.ethnicity", &json!("Nùng")).unwrap();
    store.write(&mut dev, &id, true);
    let mut reopened = store.open(1);
    assert!(reopened.hydrate(&id));
    assert_eq!(
        field(&mut reopened, &id, "person.ethnicity"),
        Some(json!("Nùng"))
    );
    assert_eq!(store.chunks_of(&id).len(), 2);
}

#[test]
fn a_whole_document_is_kept_as_it_came_and_parsed_when_needed() {
    let mut other = device(9);
    let id = new_case(&mut other, "Hà Thị Mai");
    let ctx = EvalContext::new(other.today, &other.reference.rule_settings, &other.calendar);
    let rd = other.replica.docs.get_mut(&id).unwrap();
    let heads = rd.doc.get_heads();
    let whole = shared::sync::WholeDoc {
        doc_id: id.clone(),
        saved: ChangeBytes(rd.doc.save_nocompress()),
        heads: heads.clone(),
        summary: shared::summary::of_doc(&rd.doc, &ctx),
    };
    let mut dev = device(1);
    let (_, pending) = dev.replica.prepare(None);
    let mut resp = response(0, vec![]);
    resp.more = true;
    resp.whole = vec![whole];
    resp.resume = Some("9:x".into());
    resp.remaining = Some(3);
    let report = dev.receive(pending, resp).unwrap();
    assert!(report.new_docs.contains(&id) && report.touched.contains(&id));
    // Not parsed: the row comes from the summary sent with it.
    assert!(dev.raw.contains_key(&id) && !dev.replica.docs.contains_key(&id));
    assert_eq!(dev.row(&id).unwrap().s.name, "Hà Thị Mai");
    assert_eq!(dev.replica.resume.as_deref(), Some("9:x"));
    let mut store = FakeStore::default();
    store.write(&mut dev, &id, true);
    let chunks = store.chunks_of(&id);
    assert_eq!(chunks.len(), 1);
    assert!(chunks[0].key.starts_with("w1-"), "{}", chunks[0].key);
    assert_eq!(store.meta[&id].synced, heads);
    // Nothing to push for it.
    assert_eq!(dev.to_push(), 0);
    assert!(dev.hydrate_for_sync(10).is_empty());

    // Opened from storage later, it parses to the same document; a change pulled for
    // it meanwhile parses it first and applies on top.
    let mut later = store.open(1);
    other.edit(&id, "person.ethnicity", &json!("Dao")).unwrap();
    let rd = other.replica.docs.get_mut(&id).unwrap();
    let change = rd.doc.get_changes(&heads);
    let (_, pending) = later.replica.prepare(None);
    let resp = response(
        12,
        vec![DocChanges {
            doc_id: id.clone(),
            changes: change
                .iter()
                .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
                .collect(),
        }],
    );
    later.receive(pending, resp).unwrap();
    assert!(later.replica.docs.contains_key(&id));
    assert_eq!(
        field(&mut later, &id, "person.ethnicity"),
        Some(json!("Dao"))
    );
    let written = store.write(&mut later, &id, true);
    assert!(written > 0);
    assert_eq!(store.chunks_of(&id).len(), 2);
}
