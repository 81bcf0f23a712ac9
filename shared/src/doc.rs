//! The Automerge representation of a case file: one document per file, every fact a
//! scalar leaf in nested maps and lists, so two devices editing different facts never
//! collide and two editing the same fact produce a field-level conflict that people see.
//!
//! Layout of a document's root map:
//! - `case`: the [`crate::model::CaseFile`] as nested maps (the JSON shape of its serde form);
//! - `review`: the reviewer-to-field loop (`returned`, `comment`, `by`, `at`).
//!
//! Every map the model has is created when the document is created, so later edits only
//! put scalars: concurrent creation of the same nested map would otherwise hide one side.

use automerge::transaction::Transactable;
use automerge::{
    AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, ScalarValueRef, Value, ValueRef,
};
use serde_json::{Map, Number, Value as Json};

use crate::limits::{LimitError, Limits};
use crate::model::CaseFile;

/// Errors from reading or editing a case-file document.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum DocError {
    #[error("tài liệu không khớp mô hình hồ sơ: {0} / document does not fit the case-file model")]
    Model(String),
    #[error("đường dẫn không hợp lệ: {0} / invalid path")]
    Path(String),
    #[error("lỗi Automerge: {0} / Automerge error")]
    Automerge(String),
}

impl From<automerge::AutomergeError> for DocError {
    fn from(e: automerge::AutomergeError) -> Self {
        DocError::Automerge(e.to_string())
    }
}

/// One step of a path into the document: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// Parses a dotted path such as `case.branch_votes.0.votes_for`: numbers are list indices.
pub fn parse_path(path: &str) -> Vec<Seg> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(|s| match s.parse::<usize>() {
            Ok(i) => Seg::Index(i),
            Err(_) => Seg::Key(s.to_string()),
        })
        .collect()
}

/// Renders a path back into its dotted form.
pub fn path_string(path: &[Seg]) -> String {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Creates the document of a new case file, written by the caller's actor.
pub fn new_case_doc(case: &CaseFile) -> Result<AutoCommit, DocError> {
    let mut doc = AutoCommit::new();
    init_case_doc(&mut doc, case)?;
    Ok(doc)
}

/// Writes the full skeleton and the facts of `case` into an empty document.
pub fn init_case_doc(doc: &mut impl Transactable, case: &CaseFile) -> Result<(), DocError> {
    let json = serde_json::to_value(case).map_err(|e| DocError::Model(e.to_string()))?;
    let case_obj = doc.put_object(ObjId::Root, "case", ObjType::Map)?;
    write_map(doc, &case_obj, &json)?;
    let review = doc.put_object(ObjId::Root, "review", ObjType::Map)?;
    doc.put(&review, "returned", false)?;
    doc.put(&review, "comment", "")?;
    Ok(())
}

fn write_map(doc: &mut impl Transactable, obj: &ObjId, json: &Json) -> Result<(), DocError> {
    let Json::Object(map) = json else {
        return Err(DocError::Model("expected an object".into()));
    };
    for (k, v) in map {
        match v {
            Json::Object(_) => {
                let child = doc.put_object(obj, k.as_str(), ObjType::Map)?;
                write_map(doc, &child, v)?;
            }
            Json::Array(items) => {
                let list = doc.put_object(obj, k.as_str(), ObjType::List)?;
                for (i, item) in items.iter().enumerate() {
                    insert_json(doc, &list, i, item)?;
                }
            }
            scalar => doc.put(obj, k.as_str(), to_scalar(scalar))?,
        }
    }
    Ok(())
}

fn insert_json(
    doc: &mut impl Transactable,
    list: &ObjId,
    index: usize,
    v: &Json,
) -> Result<(), DocError> {
    match v {
        Json::Object(_) => {
            let child = doc.insert_object(list, index, ObjType::Map)?;
            write_map(doc, &child, v)
        }
        Json::Array(items) => {
            let child = doc.insert_object(list, index, ObjType::List)?;
            for (i, item) in items.iter().enumerate() {
                insert_json(doc, &child, i, item)?;
            }
            Ok(())
        }
        scalar => Ok(doc.insert(list, index, to_scalar(scalar))?),
    }
}

fn to_scalar(v: &Json) -> ScalarValue {
    match v {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        // Objects and arrays are handled by the callers.
        Json::Array(_) | Json::Object(_) => ScalarValue::Null,
    }
}

fn scalar_ref_json(s: &ScalarValueRef<'_>) -> Json {
    match s {
        ScalarValueRef::Str(s) => Json::String(s.to_string()),
        ScalarValueRef::Int(i) => Json::Number((*i).into()),
        ScalarValueRef::Uint(u) => Json::Number((*u).into()),
        ScalarValueRef::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        ScalarValueRef::Boolean(b) => Json::Bool(*b),
        ScalarValueRef::Timestamp(t) => Json::Number((*t).into()),
        ScalarValueRef::Counter(c) => Json::Number((*c).into()),
        ScalarValueRef::Null | ScalarValueRef::Bytes(_) | ScalarValueRef::Unknown { .. } => {
            Json::Null
        }
    }
}

fn scalar_json(s: &ScalarValue) -> Json {
    scalar_ref_json(&ScalarValueRef::from(s.clone()))
}

/// Deepest nesting any walk of a document follows. Documents accepted by the server are
/// far shallower ([`crate::limits::Limits::max_depth`]); this only keeps a walk of an
/// unchecked document from exhausting the stack.
const WALK_DEPTH: usize = 64;

/// The current (winning) value of every field, as JSON. Objects nested deeper than the
/// walk's bound read as null.
pub fn to_json(doc: &impl ReadDoc) -> Json {
    Walk::lenient()
        .obj(doc, &ObjId::Root, 0)
        .unwrap_or(Json::Null)
}

/// The document as JSON, refusing one deeper, larger or with longer strings than the
/// limits allow. The walk is bounded by `limits.max_depth`, so it cannot overflow.
pub fn to_json_checked(doc: &impl ReadDoc, limits: &Limits) -> Result<Json, LimitError> {
    checked_walk(doc, limits).map(|(json, _)| json)
}

/// [`to_json_checked`], and whether any field it passed holds concurrent values.
fn checked_walk(doc: &impl ReadDoc, limits: &Limits) -> Result<(Json, bool), LimitError> {
    let mut walk = Walk {
        max_depth: limits.max_depth.min(WALK_DEPTH),
        max_nodes: limits.max_nodes,
        max_string: limits.max_string_bytes,
        nodes: 0,
        strict: true,
        conflicted: false,
    };
    let json = walk.obj(doc, &ObjId::Root, 0)?;
    Ok((json, walk.conflicted))
}

struct Walk {
    max_depth: usize,
    max_nodes: usize,
    max_string: usize,
    nodes: usize,
    strict: bool,
    /// A field passed holds concurrent values.
    conflicted: bool,
}

impl Walk {
    /// A walk that never fails: past the depth bound objects read as null.
    fn lenient() -> Walk {
        Walk {
            max_depth: WALK_DEPTH,
            max_nodes: usize::MAX,
            max_string: usize::MAX,
            nodes: 0,
            strict: false,
            conflicted: false,
        }
    }

    fn count(&mut self) -> Result<(), LimitError> {
        self.nodes += 1;
        if self.nodes > self.max_nodes {
            return Err(LimitError::Nodes {
                limit: self.max_nodes,
            });
        }
        Ok(())
    }

    /// One field's value; the id of an object is asked for only when it is one (making
    /// it allocates, and most fields are scalars).
    fn value(
        &mut self,
        doc: &impl ReadDoc,
        value: &ValueRef<'_>,
        id: impl FnOnce() -> ObjId,
        depth: usize,
    ) -> Result<Json, LimitError> {
        self.count()?;
        match value {
            ValueRef::Scalar(s) => Ok(scalar_ref_json(s)),
            ValueRef::Object(_) if depth >= self.max_depth => {
                if self.strict {
                    Err(LimitError::Depth {
                        limit: self.max_depth,
                    })
                } else {
                    Ok(Json::Null)
                }
            }
            ValueRef::Object(_) => self.obj(doc, &id(), depth + 1),
        }
    }

    fn obj(&mut self, doc: &impl ReadDoc, obj: &ObjId, depth: usize) -> Result<Json, LimitError> {
        match doc.object_type(obj) {
            Ok(ObjType::Map) | Ok(ObjType::Table) => {
                let mut out = Map::new();
                for item in doc.map_range(obj, ..) {
                    self.conflicted |= item.conflict;
                    let v = self.value(doc, &item.value, || item.id(), depth)?;
                    out.insert(item.key.to_string(), v);
                }
                Ok(Json::Object(out))
            }
            Ok(ObjType::List) => {
                let mut out = Vec::new();
                for item in doc.list_range(obj, ..) {
                    self.conflicted |= item.conflict;
                    out.push(self.value(doc, &item.value, || item.id(), depth)?);
                }
                Ok(Json::Array(out))
            }
            Ok(ObjType::Text) => {
                let text = doc.text(obj).unwrap_or_default();
                if self.strict && text.len() > self.max_string {
                    return Err(LimitError::StringBytes {
                        size: text.len(),
                        limit: self.max_string,
                    });
                }
                Ok(Json::String(text))
            }
            Err(_) => Ok(Json::Null),
        }
    }
}

fn value_json(doc: &impl ReadDoc, value: &Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Scalar(s) => scalar_json(s),
        Value::Object(_) => Walk::lenient().obj(doc, id, 0).unwrap_or(Json::Null),
    }
}

/// Reads the case file out of a document; a document that does not fit the model is an error.
pub fn read_case(doc: &impl ReadDoc) -> Result<CaseFile, DocError> {
    case_of(to_json(doc))
}

/// The case file and the reviewer's note in one walk of the document, for the merge path
/// where both are needed.
pub fn read_parts(doc: &impl ReadDoc) -> Result<(CaseFile, ReviewNote), DocError> {
    let json = to_json(doc);
    let review = review_of(&json);
    Ok((case_of(json)?, review))
}

/// [`read_parts`] and the number of fields holding concurrent values
/// (`conflicts(doc).len()`), in one pass: what a list row needs.
pub fn read_parts_counting_conflicts(
    doc: &impl ReadDoc,
) -> (Result<(CaseFile, ReviewNote), DocError>, usize) {
    let (json, conflicts) = to_json_one_pass(doc);
    let review = review_of(&json);
    let parts = case_of(json).map(|case| (case, review));
    (parts, conflicts)
}

/// What [`to_json`] gives, and the number of fields holding concurrent values, read in
/// one pass over the document's operations (`ReadDoc::iter`, object after object)
/// instead of a range per object: each range starts its own seek into every column of
/// the operation set, which was most of the cost of a list row's summary.
fn to_json_one_pass(doc: &impl ReadDoc) -> (Json, usize) {
    use automerge::iter::DocItem;
    use std::collections::HashMap;
    use std::sync::Arc;

    /// A field's value: a scalar, or the object it holds (built once all are read).
    enum Slot {
        Value(Json),
        Obj(ObjId, ObjType),
    }
    enum Node {
        Map(Vec<(String, Slot)>),
        List(Vec<Slot>),
        Text(String),
    }
    fn slot(value: &ValueRef<'_>, id: impl FnOnce() -> ObjId) -> Slot {
        match value {
            ValueRef::Scalar(s) => Slot::Value(scalar_ref_json(s)),
            ValueRef::Object(t) => Slot::Obj(id(), *t),
        }
    }
    fn build(nodes: &mut HashMap<ObjId, Node>, id: &ObjId, typ: ObjType, depth: usize) -> Json {
        let resolve = |nodes: &mut HashMap<ObjId, Node>, s: Slot| match s {
            Slot::Value(v) => v,
            // As the range walk: objects past the depth bound read as null.
            Slot::Obj(_, _) if depth >= WALK_DEPTH => Json::Null,
            Slot::Obj(child, t) => build(nodes, &child, t, depth + 1),
        };
        match nodes.remove(id) {
            Some(Node::Map(fields)) => {
                let mut out = Map::new();
                for (k, s) in fields {
                    let v = resolve(nodes, s);
                    out.insert(k, v);
                }
                Json::Object(out)
            }
            Some(Node::List(items)) => {
                Json::Array(items.into_iter().map(|s| resolve(nodes, s)).collect())
            }
            Some(Node::Text(t)) => Json::String(t),
            None => match typ {
                ObjType::Map | ObjType::Table => Json::Object(Map::new()),
                ObjType::List => Json::Array(Vec::new()),
                ObjType::Text => Json::String(String::new()),
            },
        }
    }

    let mut nodes: HashMap<ObjId, Node> = HashMap::new();
    let mut current: Option<(Arc<ObjId>, Node)> = None;
    let mut conflicts = 0;
    for it in doc.iter() {
        if !current
            .as_ref()
            .is_some_and(|(o, _)| Arc::ptr_eq(o, &it.obj))
        {
            if let Some((o, n)) = current.take() {
                nodes.insert((*o).clone(), n);
            }
            let fresh = match &it.item {
                DocItem::Map(_) => Node::Map(Vec::new()),
                DocItem::List(_) => Node::List(Vec::new()),
                DocItem::Text(_) => Node::Text(String::new()),
            };
            current = Some((it.obj.clone(), fresh));
        }
        let Some((_, node)) = current.as_mut() else {
            continue;
        };
        match (node, &it.item) {
            (Node::Map(fields), DocItem::Map(m)) => {
                conflicts += usize::from(m.conflict);
                fields.push((m.key.to_string(), slot(&m.value, || m.id())));
            }
            (Node::List(items), DocItem::List(l)) => {
                conflicts += usize::from(l.conflict);
                items.push(slot(&l.value, || l.id()));
            }
            (Node::Text(text), DocItem::Text(automerge::iter::Span::Text { text: t, .. })) => {
                text.push_str(t);
            }
            _ => {}
        }
    }
    if let Some((o, n)) = current.take() {
        nodes.insert((*o).clone(), n);
    }
    (build(&mut nodes, &ObjId::Root, ObjType::Map, 0), conflicts)
}

/// Like [`read_parts`], for a document from outside: its size and shape are checked
/// against `limits` first, and its root may hold only `case` and `review`.
pub fn read_parts_checked(
    doc: &impl ReadDoc,
    limits: &Limits,
) -> Result<(CaseFile, ReviewNote), DocError> {
    read_checked(doc, limits).map(|(case, review, _)| (case, review))
}

/// [`read_parts_checked`] and the document's [`conflicts`], for the merge path. The walk
/// that reads the parts passes every field a conflict could be in and notes whether any
/// holds concurrent values: when none does (all but always) the conflicts are not looked
/// for again.
pub fn read_parts_and_conflicts_checked(
    doc: &impl ReadDoc,
    limits: &Limits,
) -> Result<(CaseFile, ReviewNote, Vec<FieldConflict>), DocError> {
    let (case, review, conflicted) = read_checked(doc, limits)?;
    let conflicts = if conflicted {
        conflicts(doc)
    } else {
        Vec::new()
    };
    Ok((case, review, conflicts))
}

fn read_checked(
    doc: &impl ReadDoc,
    limits: &Limits,
) -> Result<(CaseFile, ReviewNote, bool), DocError> {
    let (json, conflicted) =
        checked_walk(doc, limits).map_err(|e| DocError::Model(e.to_string()))?;
    if let Json::Object(root) = &json
        && let Some(k) = root.keys().find(|k| *k != "case" && *k != "review")
    {
        return Err(DocError::Model(format!(
            "unexpected field `{k}` at the root"
        )));
    }
    let review = review_of(&json);
    Ok((case_of(json)?, review, conflicted))
}

/// Takes the case out of the document's JSON (no copy of the subtree), through the one
/// deserializer the model is compiled for (a second would add its code to the bundle).
fn case_of(mut json: Json) -> Result<CaseFile, DocError> {
    let case = json
        .get_mut("case")
        .map(Json::take)
        .ok_or_else(|| DocError::Model("missing `case`".into()))?;
    serde_json::from_value(case).map_err(|e| DocError::Model(e.to_string()))
}

/// The reviewer's return note carried in the document.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ReviewNote {
    pub returned: bool,
    pub comment: String,
    pub by: String,
    pub at: String,
    /// Set when the office merged this file into another (a duplicate of the same
    /// person): the id of the file that survives. A merged file leaves every count and
    /// list; its history stays readable.
    pub merged_into: String,
}

pub fn read_review(doc: &impl ReadDoc) -> ReviewNote {
    review_of(&to_json(doc))
}

fn review_of(json: &Json) -> ReviewNote {
    json.get("review")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Sets one scalar field by path, creating missing maps on the way (a list index one past
/// the end appends a new map). `value` is JSON: a string, number, boolean or null; an object
/// or array is written as a nested structure.
pub fn set_field(doc: &mut impl Transactable, path: &[Seg], value: &Json) -> Result<(), DocError> {
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| DocError::Path("empty path".into()))?;
    let mut obj = ObjId::Root;
    for (i, seg) in parents.iter().enumerate() {
        let next_is_index = matches!(path.get(i + 1), Some(Seg::Index(_)));
        obj = child_obj(doc, &obj, seg, next_is_index)?;
    }
    put_json(doc, &obj, last, value)
}

fn child_obj(
    doc: &mut impl Transactable,
    obj: &ObjId,
    seg: &Seg,
    list_wanted: bool,
) -> Result<ObjId, DocError> {
    let kind = if list_wanted {
        ObjType::List
    } else {
        ObjType::Map
    };
    match seg {
        Seg::Key(k) => match doc.get(obj, k.as_str())? {
            Some((Value::Object(_), id)) => Ok(id),
            _ => Ok(doc.put_object(obj, k.as_str(), kind)?),
        },
        Seg::Index(i) => {
            let len = doc.length(obj);
            if *i < len {
                match doc.get(obj, *i)? {
                    Some((Value::Object(_), id)) => Ok(id),
                    _ => Ok(doc.put_object(obj, *i, kind)?),
                }
            } else if *i == len {
                Ok(doc.insert_object(obj, *i, kind)?)
            } else {
                Err(DocError::Path(format!("index {i} past the end ({len})")))
            }
        }
    }
}

fn put_json(doc: &mut impl Transactable, obj: &ObjId, seg: &Seg, v: &Json) -> Result<(), DocError> {
    match (seg, v) {
        (Seg::Key(k), Json::Object(_)) => {
            let child = doc.put_object(obj, k.as_str(), ObjType::Map)?;
            write_map(doc, &child, v)
        }
        (Seg::Key(k), Json::Array(items)) => {
            let list = doc.put_object(obj, k.as_str(), ObjType::List)?;
            for (i, item) in items.iter().enumerate() {
                insert_json(doc, &list, i, item)?;
            }
            Ok(())
        }
        (Seg::Key(k), scalar) => Ok(doc.put(obj, k.as_str(), to_scalar(scalar))?),
        (Seg::Index(i), v) => {
            let len = doc.length(obj);
            if *i == len {
                insert_json(doc, obj, *i, v)
            } else if *i < len {
                match v {
                    Json::Object(_) | Json::Array(_) => {
                        doc.delete(obj, *i)?;
                        insert_json(doc, obj, *i, v)
                    }
                    scalar => Ok(doc.put(obj, *i, to_scalar(scalar))?),
                }
            } else {
                Err(DocError::Path(format!("index {i} past the end ({len})")))
            }
        }
    }
}

/// Removes a list element or a map key.
pub fn delete_at(doc: &mut impl Transactable, path: &[Seg]) -> Result<(), DocError> {
    let (last, parents) = path
        .split_last()
        .ok_or_else(|| DocError::Path("empty path".into()))?;
    let mut obj = ObjId::Root;
    for seg in parents {
        obj = match doc.get(&obj, seg_prop(seg))? {
            Some((Value::Object(_), id)) => id,
            _ => return Err(DocError::Path(path_string(path))),
        };
    }
    Ok(doc.delete(&obj, seg_prop(last))?)
}

fn seg_prop(seg: &Seg) -> automerge::Prop {
    match seg {
        Seg::Key(k) => automerge::Prop::Map(k.clone()),
        Seg::Index(i) => automerge::Prop::Seq(*i),
    }
}

/// A field holding concurrent values: two devices set it without seeing each other.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FieldConflict {
    pub path: String,
    pub values: Vec<ConflictValue>,
}

/// One of the competing values, with the op that wrote it (its actor and counter).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConflictValue {
    pub value: Json,
    pub actor: String,
    pub counter: u64,
    /// True for the value Automerge shows as current (the deterministic winner).
    pub winner: bool,
}

/// Every field of the document that holds more than one concurrent value.
pub fn conflicts(doc: &impl ReadDoc) -> Vec<FieldConflict> {
    let mut out = Vec::new();
    walk_conflicts(doc, &ObjId::Root, &mut Vec::new(), &mut out);
    out
}

fn walk_conflicts(
    doc: &impl ReadDoc,
    obj: &ObjId,
    path: &mut Vec<Seg>,
    out: &mut Vec<FieldConflict>,
) {
    // One pass over the object says which fields hold concurrent values and which hold
    // objects; only those are looked at again (a lookup per field would cost a search of
    // the document each).
    let props: Vec<(Seg, bool, Option<ObjId>)> = match doc.object_type(obj) {
        Ok(ObjType::Map) | Ok(ObjType::Table) => doc
            .map_range(obj, ..)
            .map(|it| {
                let child = matches!(it.value, automerge::ValueRef::Object(_)).then(|| it.id());
                (Seg::Key(it.key.into_owned()), it.conflict, child)
            })
            .collect(),
        Ok(ObjType::List) => doc
            .list_range(obj, ..)
            .map(|it| {
                let child = matches!(it.value, automerge::ValueRef::Object(_)).then(|| it.id());
                (Seg::Index(it.index), it.conflict, child)
            })
            .collect(),
        _ => return,
    };
    for (seg, conflict, child) in props {
        if !conflict && child.is_none() {
            continue;
        }
        let all = if conflict {
            match doc.get_all(obj, seg_prop(&seg)) {
                Ok(all) => all,
                Err(_) => continue,
            }
        } else {
            Vec::new()
        };
        path.push(seg);
        if all.len() > 1 {
            let values = all
                .iter()
                .enumerate()
                .map(|(i, (v, id))| {
                    let (actor, counter) = op_author(id);
                    ConflictValue {
                        value: value_json(doc, v, id),
                        actor,
                        counter,
                        // get_all lists values in op order; the last one wins.
                        winner: i + 1 == all.len(),
                    }
                })
                .collect();
            out.push(FieldConflict {
                path: path_string(path),
                values,
            });
        }
        // The visible value (the winner) is the one walked into.
        if let Some(id) = &child
            && path.len() < WALK_DEPTH
        {
            walk_conflicts(doc, id, path, out);
        }
        path.pop();
    }
}

/// The actor (hex) and counter of the op that created a value.
pub fn op_author(id: &ObjId) -> (String, u64) {
    match id {
        ObjId::Id(counter, actor, _) => (actor.to_hex_string(), *counter),
        ObjId::Root => (String::new(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CaseFile {
        CaseFile {
            org_id: "cb-01".into(),
            person: shared_person("Nguyễn Văn An"),
            ..Default::default()
        }
    }

    fn shared_person(name: &str) -> crate::model::Person {
        crate::model::Person {
            full_name: name.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_case_file_round_trips_through_its_document() {
        let case = sample();
        let doc = new_case_doc(&case).unwrap();
        assert_eq!(read_case(&doc).unwrap(), case);
    }

    #[test]
    fn setting_a_field_by_path_changes_only_that_field() {
        let mut doc = new_case_doc(&sample()).unwrap();
        set_field(
            &mut doc,
            &parse_path("case.person.full_name"),
            &Json::String("Trần Thị Bình".into()),
        )
        .unwrap();
        let case = read_case(&doc).unwrap();
        assert_eq!(case.person.full_name, "Trần Thị Bình");
        assert_eq!(case.org_id, "cb-01");
    }

    #[test]
    fn concurrent_edits_of_one_field_are_a_conflict_with_both_authors() {
        let mut a = new_case_doc(&sample()).unwrap();
        let mut b = a.fork().with_actor(automerge::ActorId::from([2u8; 16]));
        let path = parse_path("case.person.full_name");
        set_field(&mut a, &path, &Json::String("A".into())).unwrap();
        set_field(&mut b, &path, &Json::String("B".into())).unwrap();
        a.merge(&mut b).unwrap();
        let found = conflicts(&a);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "case.person.full_name");
        let values: Vec<_> = found[0].values.iter().map(|v| v.value.clone()).collect();
        assert!(values.contains(&Json::String("A".into())));
        assert!(values.contains(&Json::String("B".into())));
        // Writing the field again resolves the conflict.
        set_field(&mut a, &path, &Json::String("A".into())).unwrap();
        assert!(conflicts(&a).is_empty());
    }

    #[test]
    fn concurrent_edits_of_different_fields_merge_without_conflict() {
        let mut a = new_case_doc(&sample()).unwrap();
        let mut b = a.fork().with_actor(automerge::ActorId::from([2u8; 16]));
        set_field(&mut a, &parse_path("case.person.sex"), &"female".into()).unwrap();
        set_field(&mut b, &parse_path("case.person.ethnicity"), &"Tày".into()).unwrap();
        a.merge(&mut b).unwrap();
        assert!(conflicts(&a).is_empty());
        let case = read_case(&a).unwrap();
        assert_eq!(case.person.ethnicity, "Tày");
    }

    /// The plain way to find conflicts: every field looked up with `get_all`.
    fn conflicts_by_lookup(doc: &AutoCommit, obj: &ObjId, path: &str, out: &mut Vec<String>) {
        let segs: Vec<(String, automerge::Prop)> = match doc.object_type(obj) {
            Ok(ObjType::Map) => doc
                .keys(obj)
                .map(|k| (k.clone(), automerge::Prop::Map(k)))
                .collect(),
            Ok(ObjType::List) => (0..doc.length(obj))
                .map(|i| (i.to_string(), automerge::Prop::Seq(i)))
                .collect(),
            _ => return,
        };
        for (name, prop) in segs {
            let all = doc.get_all(obj, prop).unwrap();
            let here = if path.is_empty() {
                name
            } else {
                format!("{path}.{name}")
            };
            if all.len() > 1 {
                out.push(here.clone());
            }
            if let Some((Value::Object(_), id)) = all.last() {
                conflicts_by_lookup(doc, id, &here, out);
            }
        }
    }

    #[test]
    fn the_one_pass_walk_finds_the_same_conflicts_as_looking_up_every_field() {
        use automerge::transaction::Transactable;
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        let mut seen = 0;
        for round in 0..40 {
            let mut a = new_case_doc(&sample()).unwrap();
            let case = a.get(ObjId::Root, "case").unwrap().unwrap().1;
            let list = a.put_object(&case, "notes_list", ObjType::List).unwrap();
            for i in 0..4 {
                a.insert(&list, i, format!("n{i}")).unwrap();
            }
            let mut b = a
                .fork()
                .with_actor(automerge::ActorId::from([round as u8 + 2; 16]));
            for doc in [&mut a, &mut b] {
                for _ in 0..6 {
                    let person = doc.get(&case, "person").unwrap().unwrap().1;
                    match next(4) {
                        // A scalar, the same field on both sides now and then.
                        0 => {
                            let field = ["full_name", "sex", "ethnicity"][next(3) as usize];
                            doc.put(&person, field, format!("v{}", next(100))).unwrap();
                        }
                        // A list item.
                        1 => {
                            let i = next(4) as usize;
                            doc.put(&list, i, format!("x{}", next(100))).unwrap();
                        }
                        // An object written concurrently: the winner is walked into.
                        2 => {
                            let m = doc.put_object(&case, "extra", ObjType::Map).unwrap();
                            doc.put(&m, "k", next(3) as i64).unwrap();
                        }
                        _ => {
                            doc.put(&case, "note", format!("n{}", next(3))).unwrap();
                        }
                    }
                }
            }
            a.merge(&mut b).unwrap();
            let mut expected = Vec::new();
            conflicts_by_lookup(&a, &ObjId::Root, "", &mut expected);
            let mut found: Vec<String> = conflicts(&a).into_iter().map(|c| c.path).collect();
            expected.sort();
            found.sort();
            assert_eq!(found, expected, "round {round}");
            // The count a list row takes from the one pass over the values, and the
            // values it reads: those of the walk object by object.
            assert_eq!(
                read_parts_counting_conflicts(&a).1,
                found.len(),
                "round {round}"
            );
            assert_eq!(to_json_one_pass(&a).0, to_json(&a), "round {round}");
            // The checked walk of the merge path notes a conflict exactly when there is one.
            let (_, conflicted) = checked_walk(&a, &Limits::default()).unwrap();
            assert_eq!(conflicted, !found.is_empty(), "round {round}");
            seen += found.len();
        }
        assert!(seen > 40, "the rounds made conflicts to find ({seen})");
    }

    #[test]
    fn the_one_pass_reads_what_the_walk_reads_empty_text_and_too_deep_objects_included() {
        use automerge::transaction::Transactable;
        let mut doc = AutoCommit::new();
        let case = doc.put_object(ObjId::Root, "case", ObjType::Map).unwrap();
        doc.put_object(&case, "empty_map", ObjType::Map).unwrap();
        doc.put_object(&case, "empty_list", ObjType::List).unwrap();
        let text = doc.put_object(&case, "text", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "Lò Thị Mai").unwrap();
        let list = doc.put_object(&case, "introducers", ObjType::List).unwrap();
        for i in 0..3 {
            let m = doc.insert_object(&list, i, ObjType::Map).unwrap();
            doc.put(&m, "name", format!("Người {i}")).unwrap();
            doc.put(&m, "member", i % 2 == 0).unwrap();
            doc.put(&m, "score", 1.5 * i as f64).unwrap();
        }
        doc.put(&case, "gone", "x").unwrap();
        doc.delete(&case, "gone").unwrap();
        let mut deep = doc.put_object(&case, "deep", ObjType::Map).unwrap();
        for _ in 0..WALK_DEPTH + 3 {
            deep = doc.put_object(&deep, "d", ObjType::Map).unwrap();
        }
        doc.put(&deep, "bottom", 1).unwrap();
        let (json, conflicts) = to_json_one_pass(&doc);
        assert_eq!(json, to_json(&doc));
        assert_eq!(conflicts, 0);
        assert_eq!(json["case"]["text"], "Lò Thị Mai");
        assert_eq!(json["case"]["introducers"][2]["name"], "Người 2");
        assert!(json["case"].get("gone").is_none());
    }
}
