//! How a document is kept on the device: as a set of chunks, each holding some of its
//! changes, never as one record rewritten on every edit.
//!
//! A chunk is keyed by its content (the hashes of the changes it holds), so two tabs
//! writing the same changes write the same record, and no write can replace a record
//! holding other changes. A document is the union of its chunks, loaded in any order:
//! Automerge queues a change until its dependencies arrive. Compaction replaces exactly
//! the chunks it has read by one saved document holding all their changes.

use automerge::{AutoCommit, Change, ChangeHash};

/// Chunks of one document above this count are compacted into one.
pub const COMPACT_ABOVE: usize = 48;

/// One stored record: its key within the document and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub key: String,
    pub bytes: Vec<u8>,
}

/// A chunk holding `changes` (raw Automerge change chunks, concatenated), or None when
/// there is nothing to store.
pub fn changes_chunk(changes: &[Change]) -> Option<Chunk> {
    if changes.is_empty() {
        return None;
    }
    let hashes: Vec<ChangeHash> = changes.iter().map(Change::hash).collect();
    let mut bytes = Vec::with_capacity(changes.iter().map(|c| c.raw_bytes().len()).sum());
    for c in changes {
        bytes.extend_from_slice(c.raw_bytes());
    }
    Some(Chunk {
        key: format!("c{}-{}", hashes.len(), digest(&hashes)),
        bytes,
    })
}

/// A chunk holding the whole document (compaction), keyed by all its changes.
pub fn snapshot_chunk(doc: &mut AutoCommit) -> Chunk {
    let hashes: Vec<ChangeHash> = doc.get_changes(&[]).iter().map(Change::hash).collect();
    Chunk {
        key: format!("s{}-{}", hashes.len(), digest(&hashes)),
        bytes: doc.save(),
    }
}

/// A chunk holding a whole document as the server sent it (a first sync), keyed by its
/// heads: the heads name every change of the history, so the same document always gets
/// the same key, and compaction deletes it only once a snapshot holds all of it.
pub fn whole_chunk(saved: Vec<u8>, heads: &[ChangeHash]) -> Chunk {
    Chunk {
        key: format!("w{}-{}", heads.len(), digest(heads)),
        bytes: saved,
    }
}

/// The key of a record carried over from the first storage layout (one saved document).
pub fn legacy_key(bytes: &[u8]) -> String {
    let mut h = Fnv::new(0);
    h.write(bytes);
    format!("v1-{:016x}", h.finish())
}

/// A digest of a set of change hashes, independent of their order: 128 bits as hex.
fn digest(hashes: &[ChangeHash]) -> String {
    let mut sorted: Vec<&ChangeHash> = hashes.iter().collect();
    sorted.sort();
    let (mut a, mut b) = (Fnv::new(0), Fnv::new(0x9e37_79b9_7f4a_7c15));
    for h in sorted {
        a.write(&h.0);
        b.write(&h.0);
    }
    format!("{:016x}{:016x}", a.finish(), b.finish())
}

/// FNV-1a, 64 bits, with a seed: small, dependency-free and stable across builds.
struct Fnv(u64);

impl Fnv {
    fn new(seed: u64) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325 ^ seed)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Whether a chunk starts with a whole saved document (these load first).
fn is_document(bytes: &[u8]) -> bool {
    // Automerge chunk header: 4 magic bytes, 4 checksum bytes, then the chunk type.
    bytes.get(8) == Some(&0)
}

/// The outcome of loading a document from its chunks.
#[derive(Debug)]
pub struct Loaded {
    pub doc: AutoCommit,
    /// Keys of chunks that could not be read; their records are left untouched.
    pub unreadable: Vec<String>,
}

/// Loads the union of a document's chunks. A chunk that does not parse is skipped (and
/// reported) instead of making the whole document unreadable.
pub fn load<'a>(chunks: impl IntoIterator<Item = &'a Chunk>) -> Loaded {
    let mut doc = AutoCommit::new();
    let unreadable = merge_into(&mut doc, chunks);
    Loaded { doc, unreadable }
}

/// Applies chunks to a document already in memory (duplicates are no-ops); returns the
/// keys of unreadable ones.
pub fn merge_into<'a>(
    doc: &mut AutoCommit,
    chunks: impl IntoIterator<Item = &'a Chunk>,
) -> Vec<String> {
    let mut ordered: Vec<&Chunk> = chunks.into_iter().collect();
    // Saved documents first: loading one into an empty document is the fast path.
    ordered.sort_by_key(|c| !is_document(&c.bytes));
    let mut unreadable = Vec::new();
    for c in ordered {
        if doc.load_incremental(&c.bytes).is_err() {
            unreadable.push(c.key.clone());
        }
    }
    unreadable
}

/// Whether every change of the document has its dependencies (nothing is queued). Only
/// such a document may be compacted: saving would leave queued changes out.
pub fn complete(doc: &mut AutoCommit) -> bool {
    doc.get_missing_deps(&[]).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT, ReadDoc};

    fn doc_with(actor: u8, key: &str, value: &str) -> AutoCommit {
        let mut d = AutoCommit::new().with_actor(ActorId::from(vec![actor; 16]));
        d.put(ROOT, key, value).unwrap();
        d.commit();
        d
    }

    #[test]
    fn the_same_changes_get_the_same_key_whatever_their_order() {
        let mut d = doc_with(1, "a", "1");
        d.put(ROOT, "b", "2").unwrap();
        d.commit();
        let mut changes = d.get_changes(&[]);
        let k1 = changes_chunk(&changes).unwrap().key;
        changes.reverse();
        assert_eq!(changes_chunk(&changes).unwrap().key, k1);
        assert_ne!(changes_chunk(&changes[..1]).unwrap().key, k1);
        assert!(changes_chunk(&[]).is_none());
    }

    #[test]
    fn a_document_is_the_union_of_its_chunks_in_any_order() {
        let mut d = doc_with(1, "a", "1");
        let first = changes_chunk(&d.get_changes(&[])).unwrap();
        let heads = d.get_heads();
        d.put(ROOT, "b", "2").unwrap();
        d.commit();
        let second = changes_chunk(&d.get_changes(&heads)).unwrap();
        let loaded = load([&second, &first]);
        assert!(loaded.unreadable.is_empty());
        let mut doc = loaded.doc;
        assert!(complete(&mut doc));
        assert_eq!(doc.get_heads(), d.get_heads());
    }

    #[test]
    fn an_unreadable_chunk_does_not_hide_the_others() {
        let mut d = doc_with(1, "a", "1");
        let good = changes_chunk(&d.get_changes(&[])).unwrap();
        let bad = Chunk {
            key: "bad".into(),
            bytes: vec![0x85, 0x6f, 0x4a, 0x83, 1, 2, 3, 4, 1, 9, 9],
        };
        let loaded = load([&bad, &good]);
        assert_eq!(loaded.unreadable, vec!["bad".to_string()]);
        assert_eq!(
            loaded
                .doc
                .get(ROOT, "a")
                .unwrap()
                .map(|(v, _)| v.to_string()),
            Some("\"1\"".to_string())
        );
    }

    #[test]
    fn a_snapshot_and_the_chunks_it_replaced_load_the_same() {
        let mut d = doc_with(1, "a", "1");
        let c1 = changes_chunk(&d.get_changes(&[])).unwrap();
        let mut loaded = load([&c1]).doc;
        let snap = snapshot_chunk(&mut loaded);
        assert!(snap.key.starts_with("s1-"));
        let mut again = load([&snap, &c1]).doc;
        assert_eq!(again.get_heads(), d.get_heads());
    }

    #[test]
    fn a_chunk_missing_its_dependencies_waits_and_blocks_compaction() {
        let mut d = doc_with(1, "a", "1");
        let heads = d.get_heads();
        d.put(ROOT, "b", "2").unwrap();
        d.commit();
        let second = changes_chunk(&d.get_changes(&heads)).unwrap();
        let mut doc = load([&second]).doc;
        assert!(!complete(&mut doc));
    }
}
