//! Entry points for the fuzz targets in `fuzz/` and for the regression tests that replay
//! every input that ever made one of them fail.
//!
//! Each `run_*` function takes the fuzzer's bytes, drives the real code path on an
//! in-memory store and panics when an invariant breaks; an input that is merely refused
//! is a normal outcome. The store is restored from a template before every input, so a
//! run depends on its input alone.
//!
//! - [`run_sync_request`]: `shared::sync::decode_request`, every change decoded within the
//!   limits as the endpoint does, and the request re-encoded and decoded to the same value.
//! - [`run_push`]: the bytes become a push (see [`PushBuilder`] for the format: raw change
//!   bytes, change chunks whose header and checksum are rebuilt, or scripts of document
//!   edits that produce real Automerge changes) merged by [`DocStore::apply_push`] for one
//!   cadre device; then every accepted document must load and fit the model, refused ones
//!   must leave no trace, a repeated push must change nothing, and the pull feed,
//!   history and compaction must cope with whatever was stored.
//! - [`run_import_reference`] and [`run_import_cases`]: the admin import functions; a
//!   refused import stores nothing, an accepted one leaves a consistent organisation tree
//!   or case files that read back as imported.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Mutex, OnceLock};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ObjId, ObjType, ReadDoc, ScalarValue};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use shared::date::Date;
use shared::doc::{self, Seg};
use shared::limits::Limits;
use shared::model::CaseFile;
use shared::sync::{ChangeBytes, DocChanges, DocId};

use crate::admin;
use crate::casedocs::{self, RulesConfig};
use crate::db::store::Store;
use crate::db::{accounts, inspect, orgs};
use crate::docstore::{DocStore, MergeConfig};
use crate::merge::Pusher;

/// The organisation tree of every fuzzed store: a district with two ward committees.
pub const ORGS: [&str; 6] = [
    "huyen", "phuong-a", "chibo-a1", "chibo-a2", "phuong-b", "chibo-b1",
];
/// The fuzzed device belongs to a cadre of `phuong-a`.
pub const SCOPE_PATH: &str = "/huyen/phuong-a/";
pub const USERNAME: &str = "canbo.a";
pub const DEVICE: &str = "dev-a";
/// Actors: two registered to the fuzzed device, one of another cadre's device, one unknown.
pub const ACTORS: [[u8; 16]; 4] = [[0xa1; 16], [0xa2; 16], [0xb1; 16], [0xf0; 16]];
/// Document ids a push may name: a stored file in scope, two new ids, a stored file out
/// of scope.
pub const DOC_IDS: [&str; 4] = [
    "000000000000000000000000000000a1",
    "000000000000000000000000000000a2",
    "000000000000000000000000000000a3",
    "000000000000000000000000000000b1",
];
/// Rules are evaluated at a fixed date, so a run depends on its input alone.
pub fn today() -> Date {
    Date::from_ymd(2026, 6, 1).expect("a valid date")
}

/// Timestamp (ms) of the changes the template and the seeds write.
const SEED_TIME: i64 = 1_780_000_000_000;

fn actor(i: usize) -> ActorId {
    ActorId::from(&ACTORS[i % ACTORS.len()][..])
}

fn doc_id(i: usize) -> DocId {
    DocId::try_from(DOC_IDS[i % DOC_IDS.len()].to_string()).expect("a valid document id")
}

fn rules() -> &'static RulesConfig {
    static RULES: OnceLock<RulesConfig> = OnceLock::new();
    RULES.get_or_init(RulesConfig::default)
}

/// A small, fully filled case file of `org`, used by templates, seeds and scripts.
pub fn sample_case(org: &str, name: &str) -> CaseFile {
    serde_json::from_value(json!({
        "org_id": org,
        "person": {
            "full_name": name,
            "birth_date": "1998-03-14",
            "sex": "female",
            "ethnicity": "Kinh",
            "youth_union_member": true,
            "residence_unit": "Tổ dân phố 3",
        },
        "awareness_class": {"certificate_date": "2025-04-20"},
        "introducers": [{}],
        "branch_votes": [{}],
    }))
    .unwrap_or_else(|_| CaseFile {
        org_id: org.to_string(),
        ..CaseFile::default()
    })
}

struct Template {
    store: Store,
    /// The stored documents (in scope, out of scope), as a device that has synced holds them.
    docs: [AutoCommit; 2],
}

/// The template store: org tree, two cadres with their devices and actors, the system
/// actor, and one stored case file in each ward.
fn template() -> &'static Mutex<Template> {
    static T: OnceLock<Mutex<Template>> = OnceLock::new();
    T.get_or_init(|| Mutex::new(build_template().expect("the fuzzing template builds")))
}

fn build_template() -> Result<Template, String> {
    let store = Store::open_in_memory().map_err(|e| e.to_string())?;
    let orgs: Vec<Json> = ORGS
        .iter()
        .map(|id| {
            let (parent, kind) = match *id {
                "huyen" => (None, "district"),
                "phuong-a" | "phuong-b" => (Some("huyen"), "committee"),
                "chibo-b1" => (Some("phuong-b"), "branch"),
                _ => (Some("phuong-a"), "branch"),
            };
            json!({"id": id, "parent_id": parent, "name": id, "kind": kind})
        })
        .collect();
    admin::import_reference(&store, &json!({ "orgs": orgs }).to_string())
        .map_err(|e| e.to_string())?;
    {
        let conn = store.conn();
        for (user, scope, device, actors) in [
            (USERNAME, "phuong-a", DEVICE, &[0usize, 1][..]),
            ("canbo.b", "phuong-b", "dev-b", &[2][..]),
        ] {
            let uid = accounts::insert_user(&conn, user, user, "!", "cadre", scope)
                .map_err(|e| e.to_string())?;
            inspect::insert_idle_device(&conn, device, uid, device).map_err(|e| e.to_string())?;
            for a in actors {
                accounts::insert_actor(&conn, &actor(*a).to_hex_string(), device, uid)
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    admin::system_actor(&store).map_err(|e| e.to_string())?;
    let mut docs = Vec::new();
    for (slot, org, who, scope, user, device) in [
        (0, "chibo-a1", 0, SCOPE_PATH, USERNAME, DEVICE),
        (3, "phuong-b", 2, "/huyen/phuong-b/", "canbo.b", "dev-b"),
    ] {
        let mut d = AutoCommit::new().with_actor(actor(who));
        doc::init_case_doc(&mut d, &sample_case(org, "Nguyễn Thị Lan"))
            .map_err(|e| e.to_string())?;
        d.commit_with(CommitOptions::default().with_time(SEED_TIME));
        let changes = d
            .get_changes(&[])
            .iter()
            .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
            .collect();
        let actors: HashSet<String> = [actor(who).to_hex_string()].into();
        let pusher = Pusher {
            actors: &actors,
            scope_path: scope,
            username: user,
            device_id: device,
            may_review: false,
        };
        let push = [DocChanges {
            doc_id: doc_id(slot),
            changes,
        }];
        let out = store
            .apply_push(
                MergeConfig {
                    rules: rules(),
                    limits: &Limits::default(),
                    today: today(),
                },
                &pusher,
                &push,
            )
            .map_err(|e| e.to_string())?;
        if out.accepted.len() != 1 {
            return Err(format!("template document refused: {:?}", out.rejected));
        }
        docs.push(d);
    }
    // The fuzzed device also holds the out-of-scope file, as when the office has moved a
    // file it was given: it may still push edits of it, but not move it.
    crate::db::docs::hold_docs(&store.conn(), DEVICE, [DOC_IDS[3]]).map_err(|e| e.to_string())?;
    casedocs::compact(&store.conn(), 1).map_err(|e| e.to_string())?;
    let [a, b]: [AutoCommit; 2] = docs.try_into().map_err(|_| "two documents".to_string())?;
    Ok(Template {
        store,
        docs: [a, b],
    })
}

/// A store holding exactly the template, reused between runs of one process.
fn fresh_store() -> std::sync::MutexGuard<'static, Store> {
    static WORK: OnceLock<Mutex<Store>> = OnceLock::new();
    let work =
        WORK.get_or_init(|| Mutex::new(Store::open_in_memory().expect("an in-memory store opens")));
    let guard = work.lock().unwrap_or_else(|p| p.into_inner());
    {
        let t = template().lock().unwrap_or_else(|p| p.into_inner());
        let from = t.store.conn();
        let mut to = guard.conn();
        inspect::copy_sqlite(&from, &mut to).expect("the template copies");
    }
    guard
}

/// The template's stored document in slot 0 (in scope) or 3 (out of scope), forked.
fn template_doc(slot: usize) -> AutoCommit {
    let mut t = template().lock().unwrap_or_else(|p| p.into_inner());
    let i = usize::from(slot % DOC_IDS.len() == 3);
    t.docs[i].fork()
}

// ---------------------------------------------------------------------------------------
// sync_request

/// Prepares a fuzz target's process. libFuzzer's Rust glue makes every panic abort, even
/// one the server catches and turns into a refusal; with this hook only a panic that
/// escapes the entry point fails the run (the glue aborts on it). Each panic is printed on
/// one line, without a backtrace: caught ones are frequent and would fill the log.
pub fn init() {
    std::panic::set_hook(Box::new(|info| eprintln!("{info}")));
}

/// Decodes a sync request body as the endpoint does (every change within the limits); a
/// decoded request must survive re-encoding unchanged.
pub fn run_sync_request(data: &[u8]) {
    let Ok(req) = shared::sync::decode_request(data) else {
        return;
    };
    let limits = Limits::default();
    for doc in &req.push {
        if let Ok(changes) = crate::merge::decode_push(doc, &limits) {
            for (change, bytes) in changes.iter().zip(&doc.changes) {
                let again = bytes
                    .decode()
                    .expect("a change the limits accept decodes again");
                assert_eq!(again.hash(), change.hash(), "a change's hash is stable");
            }
        }
    }
    let bytes = serde_json::to_vec(&req).expect("a request serialises");
    let back = shared::sync::decode_request(&bytes).expect("a re-encoded request decodes");
    assert_eq!(back, req, "a request survives re-encoding");
}

// ---------------------------------------------------------------------------------------
// push

/// Record kinds of a push input (the low two bits of a record's tag).
pub const REC_RAW: u8 = 0;
pub const REC_CHUNK: u8 = 1;
pub const REC_SCRIPT: u8 = 2;
/// Tag bit: a script's changes are sent in Automerge's compressed form when large.
pub const REC_COMPRESSED: u8 = 4;

/// Script opcodes (see [`run_script`]).
pub mod op {
    pub const INIT: u8 = 0;
    pub const SET: u8 = 1;
    pub const DELETE: u8 = 2;
    pub const PUT_SCALAR: u8 = 3;
    pub const NEST: u8 = 4;
    pub const COMMIT: u8 = 5;
    pub const ACTOR: u8 = 6;
    pub const INSERT: u8 = 7;
    pub const INCREMENT: u8 = 8;
    pub const TEXT: u8 = 9;
    pub const COUNT: u8 = 10;
}

/// Builds push inputs in the format [`run_push`] reads, for seeds and tests.
///
/// An input is a sequence of records `tag:u8 doc:u8 len:u16le payload[len]`. The low two
/// bits of `doc` pick one of [`DOC_IDS`]; consecutive records naming the same document
/// form one entry of the push, so a push may name a document twice. By kind:
/// - raw: the payload is sent as the change's bytes;
/// - chunk: the payload is a chunk type byte and the chunk's data; the header (magic,
///   checksum, length) is rebuilt, so mutations reach the change decoder's insides;
/// - script: the payload is a script of edits (see [`run_script`]) applied to the
///   device's copy of that document; the changes it makes are sent.
#[derive(Debug, Default, Clone)]
pub struct PushBuilder {
    bytes: Vec<u8>,
}

impl PushBuilder {
    pub fn record(mut self, tag: u8, doc: u8, payload: &[u8]) -> Self {
        let len = payload.len().min(usize::from(u16::MAX));
        self.bytes.push(tag);
        self.bytes.push(doc);
        self.bytes.extend((len as u16).to_le_bytes());
        self.bytes.extend(&payload[..len]);
        self
    }

    /// One change as a chunk record (header stripped).
    pub fn change(self, doc: u8, change: &Change) -> Self {
        let payload = chunk_payload(change.raw_bytes()).unwrap_or_default();
        self.record(REC_CHUNK, doc, &payload)
    }

    pub fn raw(self, doc: u8, bytes: &[u8]) -> Self {
        self.record(REC_RAW, doc, bytes)
    }

    pub fn script(self, doc: u8, script: &Script) -> Self {
        self.record(REC_SCRIPT, doc, &script.bytes)
    }

    pub fn build(self) -> Vec<u8> {
        self.bytes
    }
}

/// Builds a script of edits, for seeds and tests.
#[derive(Debug, Default, Clone)]
pub struct Script {
    bytes: Vec<u8>,
}

impl Script {
    pub fn init(mut self, org: u8) -> Self {
        self.bytes.extend([op::INIT, org]);
        self
    }

    pub fn set(mut self, path: &str, value: &Json) -> Self {
        self.bytes.push(op::SET);
        self.path(path);
        self.value(value);
        self
    }

    pub fn delete(mut self, path: &str) -> Self {
        self.bytes.push(op::DELETE);
        self.path(path);
        self
    }

    pub fn nest(mut self, path: &str, depth: u16) -> Self {
        self.bytes.push(op::NEST);
        self.path(path);
        self.bytes.extend(depth.to_le_bytes());
        self
    }

    pub fn commit(mut self, seconds: u32) -> Self {
        self.bytes.push(op::COMMIT);
        self.bytes.extend(seconds.to_le_bytes());
        self
    }

    pub fn actor(mut self, i: u8) -> Self {
        self.bytes.extend([op::ACTOR, i]);
        self
    }

    pub fn insert(mut self, path: &str, value: &Json) -> Self {
        self.bytes.push(op::INSERT);
        self.path(path);
        self.value(value);
        self
    }

    pub fn text(mut self, path: &str, s: &str) -> Self {
        self.bytes.push(op::TEXT);
        self.path(path);
        self.string(s);
        self
    }

    pub fn counter(mut self, path: &str, start: i8, by: i8) -> Self {
        self.bytes.push(op::PUT_SCALAR);
        self.path(path);
        self.bytes.extend([3, start as u8]);
        self.bytes.push(op::INCREMENT);
        self.path(path);
        self.bytes.push(by as u8);
        self
    }

    fn path(&mut self, path: &str) {
        let segs = doc::parse_path(path);
        self.bytes.push(segs.len() as u8);
        for s in segs {
            match s {
                Seg::Index(i) => self.bytes.push(0xC0 + (i.min(47) as u8)),
                Seg::Key(k) => match keys().iter().position(|x| *x == k) {
                    Some(p) if p < 0xC0 => self.bytes.push(p as u8),
                    _ => {
                        let k = &k.as_bytes()[..k.len().min(15)];
                        self.bytes.push(0xF0 | k.len() as u8);
                        self.bytes.extend(k);
                    }
                },
            }
        }
    }

    fn string(&mut self, s: &str) {
        let b = &s.as_bytes()[..s.len().min(255)];
        self.bytes.push(b.len() as u8);
        self.bytes.extend(b);
    }

    fn value(&mut self, v: &Json) {
        match v {
            Json::Null => self.bytes.push(0),
            Json::Bool(b) => self.bytes.extend([1, u8::from(*b)]),
            Json::Number(n) => {
                self.bytes.push(2);
                self.bytes.extend(n.as_i64().unwrap_or(0).to_le_bytes());
            }
            Json::String(s) => {
                self.bytes.push(4);
                self.string(s);
            }
            Json::Object(_) => self.bytes.push(6),
            Json::Array(_) => self.bytes.push(7),
        }
    }
}

/// The keys scripts name by index: every key of the model's JSON form, sorted.
fn keys() -> &'static [String] {
    static KEYS: OnceLock<Vec<String>> = OnceLock::new();
    KEYS.get_or_init(|| {
        fn walk(v: &Json, out: &mut BTreeSet<String>) {
            match v {
                Json::Object(m) => {
                    for (k, v) in m {
                        out.insert(k.clone());
                        walk(v, out);
                    }
                }
                Json::Array(items) => items.iter().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut set = BTreeSet::new();
        for k in ["case", "review", "returned", "comment", "by", "at"] {
            set.insert(k.to_string());
        }
        walk(
            &serde_json::to_value(sample_case("x", "x")).unwrap_or_default(),
            &mut set,
        );
        set.into_iter().collect()
    })
}

/// Splits a change's bytes into the chunk type and data, dropping the header.
pub fn chunk_payload(bytes: &[u8]) -> Option<Vec<u8>> {
    let rest = bytes.get(8..)?;
    let (&kind, rest) = rest.split_first()?;
    let mut len: u64 = 0;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = *rest.get(i)?;
        len |= u64::from(b & 0x7f) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let data = rest.get(i..i + usize::try_from(len).ok()?)?;
    let mut out = vec![kind];
    out.extend(data);
    Some(out)
}

/// Wraps a chunk type and data in a header with a correct checksum.
fn chunk_bytes(payload: &[u8]) -> Vec<u8> {
    let Some((&kind, data)) = payload.split_first() else {
        return Vec::new();
    };
    let mut body = vec![kind];
    shared::limits::write_uleb128(&mut body, data.len() as u64);
    body.extend(data);
    // The checksum covers the type, the length and the data.
    let digest = Sha256::digest(&body);
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83];
    out.extend(&digest[..4]);
    out.extend(body);
    out
}

/// A cursor over the fuzzer's bytes that yields zeros once they run out.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let b = self.take(N);
        out[..b.len()].copy_from_slice(b);
        out
    }

    fn string(&mut self) -> String {
        let n = usize::from(self.u8());
        String::from_utf8_lossy(self.take(n)).into_owned()
    }

    fn path(&mut self) -> Vec<Seg> {
        let n = self.u8() % 7;
        (0..n)
            .map(|_| match self.u8() {
                b @ 0..0xC0 => Seg::Key(keys()[usize::from(b) % keys().len()].clone()),
                b @ 0xC0..0xF0 => Seg::Index(usize::from(b - 0xC0)),
                b => {
                    let k = self.take(usize::from(b & 0x0f));
                    Seg::Key(String::from_utf8_lossy(k).into_owned())
                }
            })
            .collect()
    }

    fn json(&mut self) -> Json {
        match self.u8() % 9 {
            0 => Json::Null,
            1 => Json::Bool(self.u8() & 1 == 1),
            2 => json!(i64::from_le_bytes(self.array())),
            3 => json!(self.u8()),
            4 => Json::String(self.string()),
            5 => {
                let y = u16::from_le_bytes(self.array()) % 10_000;
                let (m, d) = (self.u8() % 13, self.u8() % 32);
                Json::String(format!("{y:04}-{m:02}-{d:02}"))
            }
            6 => json!({}),
            7 => json!([]),
            _ => json!(f64::from_le_bytes(self.array())),
        }
    }

    fn scalar(&mut self) -> ScalarValue {
        match self.u8() % 10 {
            0 => ScalarValue::Null,
            1 => ScalarValue::Boolean(self.u8() & 1 == 1),
            2 => ScalarValue::Int(i64::from_le_bytes(self.array())),
            3 => ScalarValue::Counter(i64::from(self.u8() as i8).into()),
            4 => ScalarValue::Str(self.string().into()),
            5 => ScalarValue::Uint(u64::from_le_bytes(self.array())),
            6 => ScalarValue::F64(f64::from_le_bytes(self.array())),
            7 => ScalarValue::Timestamp(i64::from_le_bytes(self.array())),
            8 => {
                let n = usize::from(self.u8());
                ScalarValue::Bytes(self.take(n).to_vec())
            }
            _ => ScalarValue::Unknown {
                type_code: self.u8(),
                bytes: {
                    let n = usize::from(self.u8());
                    self.take(n).to_vec()
                },
            },
        }
    }
}

/// The object at `path` (all of it), if it exists.
fn object_at(doc: &AutoCommit, path: &[Seg]) -> Option<ObjId> {
    let mut obj = ObjId::Root;
    for seg in path {
        obj = match doc.get(&obj, prop(seg)).ok()?? {
            (automerge::Value::Object(_), id) => id,
            _ => return None,
        };
    }
    Some(obj)
}

fn prop(seg: &Seg) -> automerge::Prop {
    match seg {
        Seg::Key(k) => automerge::Prop::Map(k.clone()),
        Seg::Index(i) => automerge::Prop::Seq(*i),
    }
}

/// Puts `value` at `seg` of `obj`: a map key, or a list index (set, or append one past
/// the end).
fn put_scalar(doc: &mut AutoCommit, obj: &ObjId, seg: &Seg, value: ScalarValue) {
    let _ = match seg {
        Seg::Key(k) => doc.put(obj, k.as_str(), value),
        Seg::Index(i) if *i >= doc.length(obj) => doc.insert(obj, doc.length(obj), value),
        Seg::Index(i) => doc.put(obj, *i, value),
    };
}

fn put_object(doc: &mut AutoCommit, obj: &ObjId, seg: &Seg, kind: ObjType) -> Option<ObjId> {
    match seg {
        Seg::Key(k) => doc.put_object(obj, k.as_str(), kind).ok(),
        Seg::Index(i) if *i >= doc.length(obj) => {
            doc.insert_object(obj, doc.length(obj), kind).ok()
        }
        Seg::Index(i) => doc.put_object(obj, *i, kind).ok(),
    }
}

/// Runs a script of edits on the device's copy of a document. Each op is an opcode byte
/// (modulo [`op::COUNT`]) and its arguments; paths are a segment count and segments (a
/// byte below 0xC0 names a model key, 0xC0–0xEF a list index, 0xF0 | n a literal key of
/// n bytes). Failing edits are skipped, as a buggy or hostile client might send anything.
fn run_script(doc: &mut AutoCommit, script: &[u8], clock: &mut i64) {
    let mut r = Reader { data: script };
    while !r.is_empty() {
        match r.u8() % op::COUNT {
            op::INIT => {
                let org = ORGS[usize::from(r.u8()) % ORGS.len()];
                let _ = doc::init_case_doc(doc, &sample_case(org, "Trần Văn Bình"));
            }
            op::SET => {
                let path = r.path();
                let value = r.json();
                let _ = doc::set_field(doc, &path, &value);
            }
            op::DELETE => {
                let path = r.path();
                let _ = doc::delete_at(doc, &path);
            }
            op::PUT_SCALAR => {
                let path = r.path();
                let value = r.scalar();
                if let Some((last, parents)) = path.split_last()
                    && let Some(obj) = object_at(doc, parents)
                {
                    put_scalar(doc, &obj, last, value);
                }
            }
            op::NEST => {
                let path = r.path();
                // Deep enough to pass every limit and to overflow an unbounded walk's stack,
                // without the script itself taking seconds (building the chain is quadratic).
                let depth = u16::from_le_bytes(r.array()) % 4096;
                if let Some((last, parents)) = path.split_last()
                    && let Some(obj) = object_at(doc, parents)
                    && let Some(mut child) = put_object(doc, &obj, last, ObjType::Map)
                {
                    for i in 0..depth {
                        let kind = if i % 2 == 0 {
                            ObjType::Map
                        } else {
                            ObjType::List
                        };
                        let next = match doc.object_type(&child) {
                            Ok(ObjType::List) => doc.insert_object(&child, 0, kind),
                            _ => doc.put_object(&child, "x", kind),
                        };
                        match next {
                            Ok(c) => child = c,
                            Err(_) => break,
                        }
                    }
                }
            }
            op::COMMIT => {
                *clock += i64::from(u32::from_le_bytes(r.array())) * 1000;
                doc.commit_with(CommitOptions::default().with_time(*clock));
            }
            op::ACTOR => {
                let a = actor(usize::from(r.u8()));
                doc.set_actor(a);
            }
            op::INSERT => {
                let path = r.path();
                let value = r.json();
                if let Some(list) = object_at(doc, &path) {
                    let at = doc.length(&list);
                    let _ = match &value {
                        Json::Object(_) => doc.insert_object(&list, at, ObjType::Map).map(drop),
                        Json::Array(_) => doc.insert_object(&list, at, ObjType::List).map(drop),
                        v => doc.insert(&list, at, json_scalar(v)),
                    };
                }
            }
            op::INCREMENT => {
                let path = r.path();
                let by = i64::from(r.u8() as i8);
                if let Some((last, parents)) = path.split_last()
                    && let Some(obj) = object_at(doc, parents)
                {
                    let _ = doc.increment(&obj, prop(last), by);
                }
            }
            _ => {
                let path = r.path();
                let s = r.string();
                if let Some((last, parents)) = path.split_last()
                    && let Some(obj) = object_at(doc, parents)
                    && let Some(text) = put_object(doc, &obj, last, ObjType::Text)
                {
                    let _ = doc.splice_text(&text, 0, 0, &s);
                }
            }
        }
    }
    doc.commit_with(CommitOptions::default().with_time(*clock));
}

fn json_scalar(v: &Json) -> ScalarValue {
    match v {
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        _ => ScalarValue::Null,
    }
}

/// Turns the fuzzer's bytes into a push (see [`PushBuilder`] for the format).
pub fn decode_push(data: &[u8]) -> Vec<DocChanges> {
    let mut r = Reader { data };
    let mut push: Vec<DocChanges> = Vec::new();
    let mut working: BTreeMap<usize, AutoCommit> = BTreeMap::new();
    let mut clock = SEED_TIME;
    while !r.is_empty() {
        let tag = r.u8();
        let slot = usize::from(r.u8() & 3);
        let len = usize::from(u16::from_le_bytes(r.array()));
        let payload = r.take(len);
        let mut changes: Vec<ChangeBytes> = match tag & 3 {
            REC_RAW => vec![ChangeBytes(payload.to_vec())],
            REC_CHUNK => vec![ChangeBytes(chunk_bytes(payload))],
            REC_SCRIPT => {
                let doc = working.entry(slot).or_insert_with(|| {
                    let d = if slot == 0 || slot == 3 {
                        template_doc(slot)
                    } else {
                        AutoCommit::new()
                    };
                    d.with_actor(actor(0))
                });
                let before = doc.get_heads();
                run_script(doc, payload, &mut clock);
                doc.get_changes(&before)
                    .into_iter()
                    .map(|mut c| {
                        if tag & REC_COMPRESSED != 0 {
                            ChangeBytes(c.bytes().into_owned())
                        } else {
                            ChangeBytes(c.raw_bytes().to_vec())
                        }
                    })
                    .collect()
            }
            // Kind 3 sends nothing new: it repeats the previous record's changes under this
            // record's document, as a confused client might.
            _ => push.last().map(|d| d.changes.clone()).unwrap_or_default(),
        };
        let id = doc_id(slot);
        match push.last_mut() {
            Some(last) if last.doc_id == id => last.changes.append(&mut changes),
            _ => push.push(DocChanges {
                doc_id: id,
                changes,
            }),
        }
    }
    push
}

/// The organisation and the stored change hashes of every document slot.
fn stored_state(store: &Store) -> Vec<Option<(String, String)>> {
    let conn = store.conn();
    DOC_IDS
        .iter()
        .map(|id| {
            let org = crate::db::docs::doc_org(&conn, id).expect("reading a document row");
            let hashes = inspect::change_hashes_of(&conn, id).expect("reading change hashes");
            org.map(|o| (o, hashes))
        })
        .collect()
}

/// Merges the push made from `data` as the fuzzed cadre device and checks the store.
pub fn run_push(data: &[u8]) {
    let push = decode_push(data);
    if push.is_empty() {
        return;
    }
    let store = fresh_store();
    let before = stored_state(&store);
    let actors: HashSet<String> = [actor(0).to_hex_string(), actor(1).to_hex_string()].into();
    let pusher = Pusher {
        actors: &actors,
        scope_path: SCOPE_PATH,
        username: USERNAME,
        device_id: DEVICE,
        may_review: false,
    };
    let limits = Limits::default();
    let cfg = MergeConfig {
        rules: rules(),
        limits: &limits,
        today: today(),
    };
    let out = store
        .apply_push(cfg, &pusher, &push)
        .unwrap_or_else(|e| panic!("a push failed with a server error: {e}"));
    let accepted: BTreeSet<&str> = out.accepted.iter().map(DocId::as_str).collect();
    let after = stored_state(&store);
    let mut heads = BTreeMap::new();
    {
        let conn = store.conn();
        for id in &accepted {
            let loaded = casedocs::load_doc(&conn, id)
                .unwrap_or_else(|e| panic!("accepted document {id} does not load: {e}"));
            // A push naming a file without any change is acknowledged and stores nothing.
            let Some((org, mut d)) = loaded else {
                assert!(
                    push.iter()
                        .filter(|p| p.doc_id.as_str() == *id)
                        .all(|p| p.changes.is_empty()),
                    "accepted document {id} is not stored"
                );
                continue;
            };
            doc::read_parts(&d)
                .unwrap_or_else(|e| panic!("accepted document {id} does not fit the model: {e}"));
            // Outside the scope only a file the device holds, left where the office put it.
            if !casedocs::org_in_scope(&conn, &org, SCOPE_PATH).expect("scope query") {
                let slot = DOC_IDS.iter().position(|d| d == id).unwrap_or(0);
                assert!(
                    casedocs::device_holds(&conn, DEVICE, id).expect("holdings query")
                        && before[slot].as_ref().map(|b| b.0.as_str()) == Some(org.as_str()),
                    "accepted document {id} is outside the device's scope ({org})"
                );
            }
            casedocs::history(&conn, &mut d).expect("the history of an accepted document reads");
            heads.insert(id.to_string(), d.get_heads());
        }
        for hash in &out.pushed {
            let n = inspect::changes_with_hash(&conn, &hash.0).expect("looking up a change");
            assert_eq!(n, 1, "acknowledged change {hash} is not in the log");
        }
    }
    for (i, id) in DOC_IDS.iter().enumerate() {
        if !accepted.contains(id) {
            assert_eq!(
                before[i], after[i],
                "refused document {id} changed the store"
            );
        }
    }
    // A lost response makes the device send the same request again: nothing may change.
    let again = store
        .apply_push(cfg, &pusher, &push)
        .unwrap_or_else(|e| panic!("a repeated push failed with a server error: {e}"));
    for id in &accepted {
        assert!(
            again.accepted.iter().any(|d| d.as_str() == *id),
            "document {id} accepted once is refused when pushed again: {:?}",
            again.rejected
        );
    }
    assert_eq!(
        stored_state(&store),
        after,
        "a repeated push changed the store"
    );
    let conn = store.conn();
    let feed = casedocs::Feed {
        device_id: DEVICE,
        scope_path: SCOPE_PATH,
        dropped: &[],
        whole: None,
    };
    let page = casedocs::pull(&conn, &feed, 0, &HashSet::new(), u64::MAX)
        .unwrap_or_else(|e| panic!("the pull feed fails: {e}"));
    for d in &page.docs {
        for c in &d.changes {
            c.decode().expect("every change in the pull feed decodes");
        }
    }
    // The template's files are already compacted: this folds what the push stored.
    casedocs::compact(&conn, 1).unwrap_or_else(|e| panic!("compaction fails: {e}"));
    for (id, h) in &heads {
        let (_, mut d) = casedocs::load_doc(&conn, id)
            .unwrap_or_else(|e| panic!("document {id} does not load after compaction: {e}"))
            .unwrap_or_else(|| panic!("document {id} is gone after compaction"));
        assert_eq!(&d.get_heads(), h, "compaction changed document {id}");
    }
}

// ---------------------------------------------------------------------------------------
// imports

fn table_counts(store: &Store) -> Vec<i64> {
    use inspect::Table;
    let conn = store.conn();
    [
        Table::Orgs,
        Table::OrgYears,
        Table::TermTargets,
        Table::Members,
        Table::Users,
        Table::Settings,
        Table::Docs,
        Table::Changes,
        Table::Projections,
    ]
    .into_iter()
    .map(|t| inspect::count_rows(&conn, t).expect("counting rows"))
    .collect()
}

/// Every organisation's path is its parent's path and its own id, and no parent chain
/// loops: scope checks compare these paths.
fn check_org_tree(store: &Store) {
    let conn = store.conn();
    let rows: BTreeMap<String, (Option<String>, String)> = orgs::in_path_order(&conn)
        .expect("reading orgs")
        .map(|o| o.map(|o| (o.id, (o.parent_id, o.path))))
        .collect::<Result<_, _>>()
        .expect("reading orgs");
    for (id, (parent, path)) in &rows {
        let expected = match parent {
            None => format!("/{id}/"),
            Some(p) => {
                let parent_path = &rows
                    .get(p)
                    .unwrap_or_else(|| panic!("org {id} has an unknown parent {p}"))
                    .1;
                format!("{parent_path}{id}/")
            }
        };
        assert_eq!(
            path, &expected,
            "org {id}: stored path does not follow its parent"
        );
        let mut seen = BTreeSet::new();
        let mut at = Some(id.clone());
        while let Some(o) = at {
            assert!(seen.insert(o.clone()), "org {id}: its parent chain loops");
            at = rows.get(&o).and_then(|(p, _)| p.clone());
        }
    }
}

/// Imports reference data; a refused import stores nothing, an accepted one leaves a
/// consistent tree and settings the server can load.
pub fn run_import_reference(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    // Each imported account costs one argon2 hash (tens of milliseconds): more than one
    // per input would slow the fuzzer a hundredfold and test nothing new.
    if let Ok(parsed) = serde_json::from_str::<admin::ReferenceImport>(&text)
        && parsed.users.len() > 1
    {
        return;
    }
    let store = fresh_store();
    let before = table_counts(&store);
    match admin::import_reference(&store, &text) {
        Err(e) => {
            assert!(
                e.status().is_client_error(),
                "a reference import failed with a server error: {e}"
            );
            assert_eq!(
                table_counts(&store),
                before,
                "a refused reference import stored something"
            );
        }
        Ok(_) => {
            check_org_tree(&store);
            assert!(
                admin::load_rules_config(&store).is_some(),
                "imported rule settings or calendar do not load back"
            );
        }
    }
}

/// Imports case files; a refused import stores nothing, an accepted one reads back as
/// imported and exports again.
pub fn run_import_cases(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let store = fresh_store();
    let before = table_counts(&store);
    match admin::import_case_files(&store, rules(), &text) {
        Err(e) => {
            assert!(
                e.status().is_client_error(),
                "a case-file import failed with a server error: {e}"
            );
            assert_eq!(
                table_counts(&store),
                before,
                "a refused case-file import stored something"
            );
        }
        Ok(_) => {
            let parsed: admin::CaseFilesExport =
                serde_json::from_str(&text).expect("an accepted import parses");
            let mut last: BTreeMap<&str, &admin::CaseFileRecord> = BTreeMap::new();
            for rec in &parsed.case_files {
                last.insert(rec.id.as_str(), rec);
            }
            let conn = store.conn();
            for (id, rec) in last {
                let (_, d) = casedocs::load_doc(&conn, id)
                    .unwrap_or_else(|e| panic!("imported file {id} does not load: {e}"))
                    .unwrap_or_else(|| panic!("imported file {id} is not stored"));
                let (case, review) = doc::read_parts(&d)
                    .unwrap_or_else(|e| panic!("imported file {id} does not fit the model: {e}"));
                let mut expected = rec.case.clone();
                expected.id = id.to_string();
                assert_eq!(case, expected, "imported file {id} reads back differently");
                assert_eq!(
                    review, rec.review,
                    "imported file {id}: review reads back differently"
                );
            }
            drop(conn);
            admin::export_case_files(&store, "/")
                .unwrap_or_else(|e| panic!("export after an import fails: {e}"));
        }
    }
}

// ---------------------------------------------------------------------------------------
// seeds

/// The seed corpus of each target: real requests, pushes and import files made from the
/// model. `(target, name, bytes)`.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| {
        out.push((target, name.to_string(), bytes));
    };

    // Changes a cadre device really makes: a new file, then edits of it and of the stored one.
    let mut new_doc = AutoCommit::new().with_actor(actor(0));
    let _ = doc::init_case_doc(&mut new_doc, &sample_case("chibo-a2", "Lê Văn Cường"));
    new_doc.commit_with(CommitOptions::default().with_time(SEED_TIME));
    let first = new_doc.get_heads();
    let _ = doc::set_field(
        &mut new_doc,
        &doc::parse_path("case.branch_votes.0.meeting_date"),
        &json!("2026-05-02"),
    );
    let _ = doc::set_field(
        &mut new_doc,
        &doc::parse_path("case.person.workplace_unit"),
        &json!("Hợp tác xã"),
    );
    new_doc.commit_with(CommitOptions::default().with_time(SEED_TIME + 60_000));
    let new_changes = new_doc.get_changes(&[]);
    let later = new_doc.get_changes(&first);

    let mut stored = template_doc(0).with_actor(actor(1));
    let _ = doc::set_field(
        &mut stored,
        &doc::parse_path("case.person.full_name"),
        &json!("Nguyễn Thị Lan Anh"),
    );
    stored.commit_with(CommitOptions::default().with_time(SEED_TIME + 120_000));
    let mut concurrent = template_doc(0).with_actor(actor(0));
    let _ = doc::set_field(
        &mut concurrent,
        &doc::parse_path("case.person.full_name"),
        &json!("Nguyễn Lan"),
    );
    concurrent.commit_with(CommitOptions::default().with_time(SEED_TIME + 130_000));
    let template_heads = template_doc(0).get_heads();
    let edit = stored.get_changes(&template_heads);
    let concurrent_edit = concurrent.get_changes(&template_heads);

    let mut out_doc = template_doc(3).with_actor(actor(0));
    let _ = doc::set_field(
        &mut out_doc,
        &doc::parse_path("case.person.ethnicity"),
        &json!("Tày"),
    );
    out_doc.commit_with(CommitOptions::default().with_time(SEED_TIME));
    let out_heads = template_doc(3).get_heads();
    let out_edit = out_doc.get_changes(&out_heads);

    // sync_request: real bodies as the device sends them.
    let body = |push: Vec<DocChanges>, cursor: u64| {
        serde_json::to_vec(&shared::sync::SyncRequest {
            protocol: shared::sync::PROTOCOL_VERSION,
            cursor,
            push,
            max_bytes: Some(512 * 1024),
            dropped: vec![doc_id(2)],
            whole: false,
            resume: None,
            short_deps: false,
        })
        .unwrap_or_default()
    };
    let bytes_of = |cs: &[Change]| -> Vec<ChangeBytes> {
        cs.iter()
            .map(|c| ChangeBytes(c.raw_bytes().to_vec()))
            .collect()
    };
    add("sync_request", "empty", body(Vec::new(), 0));
    add(
        "sync_request",
        "new-file",
        body(
            vec![DocChanges {
                doc_id: doc_id(1),
                changes: bytes_of(&new_changes),
            }],
            17,
        ),
    );
    add(
        "sync_request",
        "two-files",
        body(
            vec![
                DocChanges {
                    doc_id: doc_id(0),
                    changes: bytes_of(&edit),
                },
                DocChanges {
                    doc_id: doc_id(3),
                    changes: bytes_of(&out_edit),
                },
            ],
            3,
        ),
    );

    // push: the same changes as records, scripts of edits, and refusals.
    let mut p = PushBuilder::default();
    for c in &new_changes {
        p = p.change(1, c);
    }
    add("push", "new-file", p.build());
    let mut p = PushBuilder::default();
    for c in &edit {
        p = p.change(0, c);
    }
    add("push", "edit-stored", p.build());
    let mut p = PushBuilder::default();
    for c in edit.iter().chain(&concurrent_edit) {
        p = p.change(0, c);
    }
    add("push", "concurrent-edits", p.build());
    let mut p = PushBuilder::default();
    for c in &later {
        p = p.change(2, c);
    }
    add("push", "missing-deps", p.build());
    let mut p = PushBuilder::default();
    for c in &out_edit {
        p = p.raw(3, c.raw_bytes());
    }
    add("push", "out-of-scope", p.build());
    add(
        "push",
        "script-new-file",
        PushBuilder::default()
            .script(
                1,
                &Script::default()
                    .init(3)
                    .commit(1)
                    .set("case.person.full_name", &json!("Phạm Thu Hà"))
                    .set("case.person.birth_date", &json!("2001-09-30"))
                    .insert("case.introducers", &json!({}))
                    .set("case.introducers.1.member_id", &json!("dv-17"))
                    .commit(60),
            )
            .build(),
    );
    add(
        "push",
        "script-edit-stored",
        PushBuilder::default()
            .script(
                0,
                &Script::default()
                    .actor(1)
                    .set(
                        "case.awareness_class.certificate_date",
                        &json!("2025-05-01"),
                    )
                    .delete("case.person.residence_unit")
                    .set("review.comment", &json!("đã bổ sung"))
                    .commit(30)
                    .set("case.org_id", &json!("chibo-a2")),
            )
            .build(),
    );
    add(
        "push",
        "script-move-out-of-scope",
        PushBuilder::default()
            .script(0, &Script::default().set("case.org_id", &json!("chibo-b1")))
            .build(),
    );
    add(
        "push",
        "script-foreign-actor",
        PushBuilder::default()
            .script(
                0,
                &Script::default()
                    .actor(3)
                    .set("case.person.ethnicity", &json!("Mường")),
            )
            .build(),
    );
    add(
        "push",
        "script-odd-values",
        PushBuilder::default()
            .script(
                0,
                &Script::default()
                    .text("case.person.religion", "Không")
                    .counter("case.person.extra", 1, 2)
                    .nest("case.person.notes", 4)
                    .set("case.person.youth_union_member", &json!("có")),
            )
            .build(),
    );
    add(
        "push",
        "script-two-files-compressed",
        PushBuilder::default()
            .record(
                REC_SCRIPT | REC_COMPRESSED,
                1,
                &Script::default()
                    .init(2)
                    .set("case.person.residence_unit", &json!("x".repeat(200)))
                    .commit(5)
                    .bytes,
            )
            .script(
                0,
                &Script::default().set("case.person.workplace_unit", &json!("UBND")),
            )
            .build(),
    );

    // import_reference: the documented format, with each optional part.
    let reference = json!({
        "orgs": [
            {"id": "phuong-c", "parent_id": "huyen", "name": "Đảng bộ phường C", "kind": "committee", "grassroots": true},
            {"id": "chibo-c1", "parent_id": "phuong-c", "name": "Chi bộ khu phố 1", "kind": "branch", "sector": "ward"},
            {"id": "chibo-a1", "parent_id": "phuong-a", "name": "Chi bộ khu 1 (đổi tên)", "kind": "branch"}
        ],
        "org_years": [{"org_id": "phuong-c", "year": 2026, "members_start": 120, "target": 6}],
        "term_targets": [{"org_id": "phuong-c", "term": "2025-2030", "target": 30}],
        "members": [
            {"id": "dv-1", "org_id": "chibo-c1", "full_name": "Đỗ Văn Hùng", "official_since": "2010-05-19"},
            {"id": "dv-2", "org_id": "chibo-c1", "full_name": "Vũ Thị Mai", "status": "probation"}
        ]
    });
    add(
        "import_reference",
        "tree-members-targets",
        reference.to_string().into_bytes(),
    );
    add(
        "import_reference",
        "one-user",
        json!({"users": [{"username": "canbo.c", "display_name": "Cán bộ C", "password": "x", "role": "cadre", "scope_org": "phuong-a"}]})
            .to_string()
            .into_bytes(),
    );
    add(
        "import_reference",
        "settings-calendar",
        json!({
            "rule_settings": serde_json::to_value(shared::rules::RuleSettings::default()).unwrap_or_default(),
            "calendar": serde_json::from_str::<Json>(shared::calendar::VN_2021_2027_JSON).unwrap_or_default(),
        })
        .to_string()
        .into_bytes(),
    );

    // import_cases: the exchange format, a new file and an update of the stored one.
    let record = |id: usize, case: CaseFile| json!({"id": DOC_IDS[id], "case": case, "review": {"returned": id == 0, "comment": "xem lại"}});
    let mut moved = sample_case("chibo-a2", "Nguyễn Thị Lan");
    moved.branch_votes.clear();
    add(
        "import_cases",
        "new-and-update",
        json!({
            "format": admin::CASE_FILES_FORMAT,
            "case_files": [record(1, sample_case("chibo-b1", "Hoàng Văn Nam")), record(0, moved)],
        })
        .to_string()
        .into_bytes(),
    );
    add(
        "import_cases",
        "empty",
        json!({"format": admin::CASE_FILES_FORMAT, "case_files": []})
            .to_string()
            .into_bytes(),
    );
    out
}
