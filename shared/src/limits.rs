//! Bounds on the work one sync request may cause. Every limit is a named setting with a
//! default sized well above what a real case file needs, so an honest device never meets
//! one, while a hostile or broken one cannot make the server inflate, walk or store
//! without end.
//!
//! The checks run on the raw change bytes before Automerge parses them (a compressed
//! change chunk is inflated here with a cap first, because Automerge inflates it without
//! one), then on the decoded change (operations, string lengths).

use std::io::Read;

use automerge::{Change, ScalarValue};
use serde::{Deserialize, Serialize};

/// The limits in force; the server reads them from its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Size of one change once decompressed, in bytes.
    pub max_change_bytes: usize,
    /// Operations in one change.
    pub max_ops_per_change: usize,
    /// Length of one string value or map key, in bytes.
    pub max_string_bytes: usize,
    /// Nesting of maps and lists below the document root.
    pub max_depth: usize,
    /// Maps, lists and values in one document.
    pub max_nodes: usize,
    /// Stored size of one document's whole history, in bytes.
    pub max_doc_bytes: usize,
    /// Changes pushed for one document in one request.
    pub max_changes_per_push: usize,
    /// Operations in all the changes pushed for one document in one request. A change's
    /// columns can hold thousands of operations in a few bytes (a run of list
    /// insertions), so the byte limits alone do not bound the work and memory of
    /// applying a push.
    pub max_ops_per_push: usize,
    /// Operations a document holds over its whole history, once a push is applied. A
    /// list insertion stays in the history after its deletion, leaving neither a field
    /// (`max_nodes`) nor many bytes (`max_doc_bytes`), so only this bounds what every
    /// later load of the document costs.
    pub max_doc_ops: usize,
    /// Documents pushed in one request.
    pub max_docs_per_request: usize,
    /// Fields with concurrent values in one document.
    pub max_conflicts_per_doc: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_change_bytes: 1024 * 1024,
            max_ops_per_change: 20_000,
            max_string_bytes: 16 * 1024,
            max_depth: 12,
            max_nodes: 50_000,
            max_doc_bytes: 4 * 1024 * 1024,
            max_changes_per_push: 10_000,
            max_ops_per_push: 200_000,
            max_doc_ops: 500_000,
            max_docs_per_request: 5_000,
            max_conflicts_per_doc: 10_000,
        }
    }
}

/// Which limit a change or document broke, with the figures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("change too large: {size} bytes (limit {limit})")]
    ChangeBytes { size: usize, limit: usize },
    #[error("too many operations in one change: {count} (limit {limit})")]
    Ops { count: usize, limit: usize },
    #[error("string too long: {size} bytes (limit {limit})")]
    StringBytes { size: usize, limit: usize },
    #[error("nesting too deep: more than {limit} levels")]
    Depth { limit: usize },
    #[error("too many fields in the document (limit {limit})")]
    Nodes { limit: usize },
    #[error("document history too large: {size} bytes (limit {limit})")]
    DocBytes { size: usize, limit: usize },
    #[error("too many changes in one push: {count} (limit {limit})")]
    Changes { count: usize, limit: usize },
    #[error("too many operations in one push: more than {limit}")]
    PushOps { limit: usize },
    #[error("too many operations in the file's history: {count} (limit {limit})")]
    DocOps { count: usize, limit: usize },
    #[error("too many fields with concurrent values: {count} (limit {limit})")]
    Conflicts { count: usize, limit: usize },
    #[error("unreadable change: {0}")]
    Unreadable(String),
}

impl LimitError {
    /// The same, in Vietnamese, for the device's refusal message.
    pub fn message_vi(&self) -> String {
        match self {
            LimitError::ChangeBytes { size, limit } => {
                format!("Một thay đổi quá lớn: {size} byte (giới hạn {limit}).")
            }
            LimitError::Ops { count, limit } => {
                format!("Một thay đổi có quá nhiều thao tác: {count} (giới hạn {limit}).")
            }
            LimitError::StringBytes { size, limit } => {
                format!("Một nội dung văn bản quá dài: {size} byte (giới hạn {limit}).")
            }
            LimitError::Depth { limit } => {
                format!("Dữ liệu lồng nhau quá sâu: quá {limit} cấp.")
            }
            LimitError::Nodes { limit } => {
                format!("Hồ sơ có quá nhiều trường dữ liệu (giới hạn {limit}).")
            }
            LimitError::DocBytes { size, limit } => {
                format!("Lịch sử hồ sơ quá lớn: {size} byte (giới hạn {limit}).")
            }
            LimitError::Changes { count, limit } => {
                format!("Quá nhiều thay đổi trong một lần gửi: {count} (giới hạn {limit}).")
            }
            LimitError::PushOps { limit } => {
                format!("Quá nhiều thao tác trong một lần gửi: hơn {limit}.")
            }
            LimitError::DocOps { count, limit } => {
                format!("Lịch sử hồ sơ có quá nhiều thao tác: {count} (giới hạn {limit}).")
            }
            LimitError::Conflicts { count, limit } => {
                format!("Quá nhiều trường có giá trị xung đột: {count} (giới hạn {limit}).")
            }
            LimitError::Unreadable(e) => format!("Thay đổi không đọc được: {e}"),
        }
    }
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

/// Whether `bytes` are an Automerge chunk holding a deflated change.
pub fn is_compressed_chunk(bytes: &[u8]) -> bool {
    bytes.len() > 8 && bytes[..4] == MAGIC && bytes[8] == CHUNK_COMPRESSED
}

/// The deflated contents of a compressed change chunk.
fn deflated_body(chunk: &[u8]) -> Result<&[u8], &'static str> {
    let (len, used) = uleb128(&chunk[9..]).ok_or("bad chunk length")?;
    let start = 9 + used;
    let end = start
        .checked_add(usize::try_from(len).unwrap_or(usize::MAX))
        .filter(|e| *e <= chunk.len())
        .ok_or("truncated chunk")?;
    Ok(&chunk[start..end])
}

/// The uncompressed chunk of a compressed change chunk, byte for byte what Automerge
/// would give back after parsing it (`Change::raw_bytes`), without parsing or hashing:
/// the compressed chunk's header already carries the checksum of the uncompressed one.
/// Inflates at most `max` bytes; `None` when `chunk` is not a compressed change, is
/// unreadable, or inflates past `max`.
pub fn inflate_chunk(chunk: &[u8], max: usize) -> Option<Vec<u8>> {
    if !is_compressed_chunk(chunk) {
        return None;
    }
    let body = deflated_body(chunk).ok()?;
    let mut inflated = Vec::with_capacity(body.len() * 4);
    let cap = max as u64 + 1;
    flate2::read::DeflateDecoder::new(body)
        .take(cap)
        .read_to_end(&mut inflated)
        .ok()?;
    if inflated.len() > max {
        return None;
    }
    Some(write_chunk(&chunk[4..8], false, &inflated))
}

/// The checksum and the contents of an uncompressed change chunk; `None` for anything
/// else (a compressed or cut-off chunk, another kind of chunk).
pub fn change_contents(chunk: &[u8]) -> Option<(&[u8], &[u8])> {
    if chunk.len() < 9 || chunk[..4] != MAGIC || chunk[8] != CHUNK_CHANGE {
        return None;
    }
    let (len, used) = uleb128(&chunk[9..])?;
    let contents = &chunk[9 + used..];
    (contents.len() as u64 == len).then_some((&chunk[4..8], contents))
}

/// A change chunk: Automerge's header (its magic bytes, `checksum`, the kind, the length)
/// and `contents`, deflated when `compressed`.
pub fn write_chunk(checksum: &[u8], compressed: bool, contents: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(contents.len() + 19);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(checksum);
    out.push(if compressed {
        CHUNK_COMPRESSED
    } else {
        CHUNK_CHANGE
    });
    write_uleb128(&mut out, contents.len() as u64);
    out.extend_from_slice(contents);
    out
}

/// Below this many bytes of contents a change is kept as it is, as Automerge does.
const DEFLATE_MIN: usize = 256;

/// The form a change is stored in: `raw` (an uncompressed change chunk) as a compressed
/// chunk when that is smaller, else `raw` itself. The chunk is the one Automerge writes
/// (`Change::bytes`), with the same checksum and so the same change and the same level,
/// by a compressor each thread keeps: the server compresses every change it logs, and
/// Automerge sets up a new one for each.
pub fn stored_form(raw: &[u8]) -> Vec<u8> {
    deflate_chunk(raw).unwrap_or_else(|| raw.to_vec())
}

fn deflate_chunk(raw: &[u8]) -> Option<Vec<u8>> {
    thread_local! {
        /// A compressor kept per thread: setting one up costs about a quarter of
        /// compressing a case file's first change.
        static DEFLATE: std::cell::RefCell<flate2::Compress> =
            std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::default(), false));
    }
    let (checksum, contents) = change_contents(raw)?;
    if contents.len() <= DEFLATE_MIN {
        return None;
    }
    // Deflate's worst case adds a few bytes per stored block of 16 kB.
    let mut body = Vec::with_capacity(contents.len() + contents.len() / 1024 + 64);
    let done = DEFLATE.with(|z| {
        let mut z = z.borrow_mut();
        z.reset();
        z.compress_vec(contents, &mut body, flate2::FlushCompress::Finish)
    });
    if done.ok()? != flate2::Status::StreamEnd {
        return None;
    }
    let out = write_chunk(checksum, true, &body);
    (out.len() < raw.len()).then_some(out)
}

/// Parses change bytes after checking their size. A compressed chunk is inflated with a
/// cap before Automerge sees it, so a small request cannot expand into gigabytes.
pub fn decode_change(bytes: &[u8], limits: &Limits) -> Result<Change, LimitError> {
    if bytes.len() > limits.max_change_bytes {
        return Err(LimitError::ChangeBytes {
            size: bytes.len(),
            limit: limits.max_change_bytes,
        });
    }
    if is_compressed_chunk(bytes) {
        let body = deflated_body(bytes).map_err(|e| LimitError::Unreadable(e.into()))?;
        let cap = limits.max_change_bytes as u64 + 1;
        let mut sink = std::io::sink();
        let inflated = std::io::copy(
            &mut flate2::read::DeflateDecoder::new(body).take(cap),
            &mut sink,
        )
        .map_err(|e| LimitError::Unreadable(e.to_string()))?;
        if inflated >= cap {
            return Err(LimitError::ChangeBytes {
                size: inflated as usize,
                limit: limits.max_change_bytes,
            });
        }
    }
    let change = parse_change(bytes).map_err(LimitError::Unreadable)?;
    check_change(&change, limits)?;
    Ok(change)
}

/// Parses change bytes with Automerge. Its parser panics on some malformed changes (an
/// operation counter past `u32::MAX`, found by the `sync_request` fuzz target): such a
/// change is unreadable, like any other malformed one.
pub fn parse_change(bytes: &[u8]) -> Result<Change, String> {
    std::panic::catch_unwind(|| Change::from_bytes(bytes.to_vec()))
        .map_err(|_| "malformed operations".to_string())?
        .map_err(|e| e.to_string())
}

/// Automerge's expanded form of a change. A change whose operations name an actor index
/// it does not list parses, but makes Automerge panic while expanding it (found by the
/// `sync_request` fuzz target): that panic is a refusal here, not a failed request.
fn expand(change: &Change) -> Result<automerge::ExpandedChange, LimitError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| change.decode()))
        .map_err(|_| LimitError::Unreadable("an operation names an unknown actor".into()))
}

/// Checks the operations of a parsed change: their number and the size of keys and strings.
pub fn check_change(change: &Change, limits: &Limits) -> Result<(), LimitError> {
    if change.len() > limits.max_ops_per_change {
        return Err(LimitError::Ops {
            count: change.len(),
            limit: limits.max_ops_per_change,
        });
    }
    let too_long = |size: usize| {
        (size > limits.max_string_bytes).then_some(LimitError::StringBytes {
            size,
            limit: limits.max_string_bytes,
        })
    };
    for op in expand(change)?.operations {
        if let automerge::legacy::Key::Map(k) = &op.key
            && let Some(e) = too_long(k.len())
        {
            return Err(e);
        }
        if let automerge::legacy::OpType::Put(v) = &op.action {
            let size = match v {
                ScalarValue::Str(s) => s.len(),
                ScalarValue::Bytes(b) => b.len(),
                ScalarValue::Unknown { bytes, .. } => bytes.len(),
                _ => 0,
            };
            if let Some(e) = too_long(size) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Reads an unsigned LEB128 number (Automerge's lengths and counts): its value and the
/// bytes it took, or None when it is cut off or longer than ten bytes.
pub fn uleb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Writes `value` as unsigned LEB128.
pub fn write_uleb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjId, ObjType};

    fn change_with_name(name: &str) -> Change {
        let mut doc = AutoCommit::new();
        let case = doc.put_object(ObjId::Root, "case", ObjType::Map).unwrap();
        doc.put(&case, "name", name).unwrap();
        doc.get_last_local_change().unwrap().clone()
    }

    #[test]
    fn an_ordinary_change_passes() {
        let c = change_with_name("Nguyễn Văn An");
        let decoded = decode_change(c.raw_bytes(), &Limits::default()).unwrap();
        assert_eq!(decoded.hash(), c.hash());
    }

    #[test]
    fn a_compressed_change_that_inflates_past_the_limit_is_refused_before_parsing() {
        let mut c = change_with_name(&"a".repeat(200_000));
        let small = c.bytes().to_vec();
        assert!(small.len() < 10_000, "compressed to {} bytes", small.len());
        assert_eq!(small[8], CHUNK_COMPRESSED);
        let limits = Limits {
            max_change_bytes: 50_000,
            ..Limits::default()
        };
        assert!(matches!(
            decode_change(&small, &limits),
            Err(LimitError::ChangeBytes { .. })
        ));
    }

    /// The stored form is a chunk Automerge reads as the same change, and that the
    /// pulls' inflation gives back byte for byte; a small or incompressible change, and
    /// anything that is not an uncompressed change, is stored as it is.
    #[test]
    fn the_stored_form_is_the_same_change_for_automerge_and_for_the_pulls() {
        let mut compressed = 0;
        for name in [
            "An",
            &"Nguyễn Thị Bình ".repeat(40),
            &"b".repeat(10_000),
            &(0..3000u32)
                .map(|i| char::from_u32(0x1EA0 + (i * 7919) % 90).unwrap())
                .collect::<String>(),
        ] {
            let c = change_with_name(name);
            let raw = c.raw_bytes().to_vec();
            let stored = stored_form(&raw);
            if !is_compressed_chunk(&stored) {
                assert_eq!(stored, raw);
                continue;
            }
            compressed += 1;
            assert!(stored.len() < raw.len());
            let parsed = Change::from_bytes(stored.clone()).unwrap();
            assert_eq!(parsed.hash(), c.hash());
            assert_eq!(parsed.raw_bytes(), &raw[..]);
            assert_eq!(inflate_chunk(&stored, 1 << 20).unwrap(), raw);
            assert_eq!(
                decode_change(&stored, &Limits::default()).unwrap().hash(),
                c.hash()
            );
        }
        assert_eq!(compressed, 3);
        // A new case file's first change, as a device makes it: the size Automerge's
        // own compression gives, within a few bytes.
        let case = crate::model::CaseFile {
            org_id: "xa-yen-binh".into(),
            ..Default::default()
        };
        let mut doc = crate::doc::new_case_doc(&case).unwrap();
        let mut first = doc.get_last_local_change().unwrap().clone();
        let stored = stored_form(first.raw_bytes());
        assert!(is_compressed_chunk(&stored));
        assert!(
            stored.len() <= first.bytes().len() + 16,
            "{} bytes against {}",
            stored.len(),
            first.bytes().len()
        );
        let already = change_with_name(&"c".repeat(5000)).bytes().to_vec();
        assert_eq!(stored_form(&already), already);
        assert_eq!(stored_form(b"not a change"), b"not a change");
    }

    #[test]
    fn a_compressed_chunk_inflates_to_the_change_automerge_parses() {
        for name in ["An", &"Nguyễn Thị Bình ".repeat(40), &"b".repeat(20_000)] {
            let mut c = change_with_name(name);
            let raw = c.raw_bytes().to_vec();
            let stored = c.bytes().to_vec();
            if !is_compressed_chunk(&stored) {
                // Below Automerge's threshold it is kept uncompressed.
                assert_eq!(stored, raw);
                assert_eq!(inflate_chunk(&stored, 1 << 20), None);
                continue;
            }
            let parsed = Change::from_bytes(stored.clone()).unwrap();
            assert_eq!(inflate_chunk(&stored, 1 << 20).unwrap(), parsed.raw_bytes());
            assert_eq!(inflate_chunk(&stored, 1 << 20).unwrap(), raw);
            assert_eq!(inflate_chunk(&stored, raw.len() / 2), None);
            assert_eq!(inflate_chunk(&stored[..stored.len() - 3], 1 << 20), None);
        }
    }

    #[test]
    fn a_long_string_is_refused() {
        let c = change_with_name(&"x".repeat(20_000));
        assert!(matches!(
            decode_change(c.raw_bytes(), &Limits::default()),
            Err(LimitError::StringBytes { size: 20_000, .. })
        ));
    }

    #[test]
    fn too_many_operations_are_refused() {
        let mut doc = AutoCommit::new();
        let list = doc.put_object(ObjId::Root, "l", ObjType::List).unwrap();
        for i in 0..101 {
            doc.insert(&list, i, i as i64).unwrap();
        }
        let c = doc.get_last_local_change().unwrap().clone();
        let limits = Limits {
            max_ops_per_change: 100,
            ..Limits::default()
        };
        assert!(matches!(
            decode_change(c.raw_bytes(), &limits),
            Err(LimitError::Ops { count: 102, .. })
        ));
    }

    #[test]
    fn garbage_is_unreadable_not_a_panic() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, CHUNK_COMPRESSED, 0xff, 0xff, 0xff]);
        assert!(decode_change(&bytes, &Limits::default()).is_err());
        assert!(decode_change(&[1, 2, 3], &Limits::default()).is_err());
    }

    #[test]
    fn an_operation_naming_an_unknown_actor_is_unreadable_not_a_panic() {
        // A real change with one byte of its `pred` actor column changed, so an operation
        // names an actor index the change does not list
        // (fuzz/regressions/sync_request/pred-unknown-actor).
        let hex = "856f4a83a4c64872018201016d1609daad4b8eac4cebaa6c2efb250f089000ff9ab3811ad1ed9a837d134bd310a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a101800180909282e733000110b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b10a01020202150b34014202560257047002710273037f017f4b7f096574686e6963697479017f017f4654c3a0797f017f057fcf00";
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        assert!(matches!(
            decode_change(&bytes, &Limits::default()),
            Err(LimitError::Unreadable(_))
        ));
    }
}
