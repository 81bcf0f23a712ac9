//! Changes on the wire with their dependencies named by a prefix of their hash.
//!
//! An Automerge change names each change it follows by its whole SHA-256 hash: 32 bytes
//! that no compression can shrink. A device receiving a change holds, all but always,
//! the changes it depends on, so a few bytes of each hash are enough for it to find them:
//! the server sends each dependency as its first [`PREFIX`] bytes and the device puts the
//! whole hash back from the document it holds. A change whose dependencies are wrong no
//! longer has its hash, and Automerge's chunk keeps the first four bytes of that hash as
//! a checksum: the device rebuilds the change, hashes it and compares, so a wrong guess is
//! refused, never stored. A device that cannot rebuild a change asks again for whole
//! hashes ([`crate::sync::Replica`] does this on its own).
//!
//! The short form: the byte [`SHORT`] (never the first byte of an Automerge chunk), the
//! chunk's checksum, the number of dependencies (LEB128), their prefixes, then the rest
//! of the change chunk's contents as they were. Only uncompressed change chunks are
//! shortened; anything else goes as it is.

use automerge::{Change, ChangeHash};

/// First byte of a shortened change.
pub const SHORT: u8 = 0xC5;
/// Bytes of each dependency's hash that are sent.
pub const PREFIX: usize = 4;

/// A prefix that matches several known changes is tried with each; past this many
/// combinations the change is refused (the device asks for whole hashes).
const MAX_TRIES: usize = 16;

/// Why a shortened change could not be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error("thay đổi rút gọn bị cắt cụt / truncated short change")]
    Truncated,
    #[error("không tìm thấy thay đổi mà nó dựa vào / a change it depends on is not held here")]
    Unknown,
    #[error("mã kiểm tra không khớp / checksum does not match")]
    Checksum,
}

/// The short form of `chunk`, or `chunk` itself when it is not an uncompressed change.
pub fn shorten(chunk: &[u8]) -> Vec<u8> {
    try_shorten(chunk).unwrap_or_else(|| chunk.to_vec())
}

fn try_shorten(chunk: &[u8]) -> Option<Vec<u8>> {
    let (checksum, contents) = crate::limits::change_contents(chunk)?;
    let (n, used) = crate::limits::uleb128(contents)?;
    let n = usize::try_from(n).ok()?;
    let deps = contents.get(used..used.checked_add(n.checked_mul(32)?)?)?;
    let rest = &contents[used + deps.len()..];
    let mut out = Vec::with_capacity(1 + 4 + used + n * PREFIX + rest.len());
    out.push(SHORT);
    out.extend_from_slice(checksum);
    out.extend_from_slice(&contents[..used]);
    for dep in deps.chunks_exact(32) {
        out.extend_from_slice(&dep[..PREFIX]);
    }
    out.extend_from_slice(rest);
    Some(out)
}

/// Whether `bytes` is a shortened change.
pub fn is_short(bytes: &[u8]) -> bool {
    bytes.first() == Some(&SHORT)
}

/// Rebuilds the change of a short form; `known` gives the changes held whose hash begins
/// with a prefix.
pub fn expand(
    bytes: &[u8],
    known: &mut dyn FnMut(&[u8]) -> Vec<ChangeHash>,
) -> Result<Change, ExpandError> {
    if !is_short(bytes) {
        return Err(ExpandError::Truncated);
    }
    let checksum = bytes.get(1..5).ok_or(ExpandError::Truncated)?;
    let (n, used) = crate::limits::uleb128(&bytes[5..]).ok_or(ExpandError::Truncated)?;
    let count_bytes = &bytes[5..5 + used];
    let n = usize::try_from(n).map_err(|_| ExpandError::Truncated)?;
    let start = 5 + used;
    let prefixes = n
        .checked_mul(PREFIX)
        .and_then(|len| bytes.get(start..start.checked_add(len)?))
        .ok_or(ExpandError::Truncated)?;
    let rest = &bytes[start + prefixes.len()..];
    let mut choices: Vec<Vec<ChangeHash>> = Vec::with_capacity(n);
    let mut tries = 1usize;
    for prefix in prefixes.chunks_exact(PREFIX) {
        let found = known(prefix);
        if found.is_empty() {
            return Err(ExpandError::Unknown);
        }
        tries = tries.saturating_mul(found.len());
        choices.push(found);
    }
    if tries > MAX_TRIES {
        return Err(ExpandError::Unknown);
    }
    let mut pick = vec![0usize; n];
    loop {
        let mut contents = Vec::with_capacity(count_bytes.len() + n * 32 + rest.len());
        contents.extend_from_slice(count_bytes);
        for (options, &i) in choices.iter().zip(&pick) {
            contents.extend_from_slice(&options[i].0);
        }
        contents.extend_from_slice(rest);
        let chunk = crate::limits::write_chunk(checksum, false, &contents);
        if let Ok(change) = crate::limits::parse_change(&chunk)
            && change.hash().0[..4] == *checksum
        {
            return Ok(change);
        }
        // The next combination, as an odometer over the candidates of each prefix.
        let mut k = 0;
        loop {
            if k == n {
                return Err(ExpandError::Checksum);
            }
            pick[k] += 1;
            if pick[k] < choices[k].len() {
                break;
            }
            pick[k] = 0;
            k += 1;
        }
    }
}

/// The hashes of `changes` that begin with `prefix`.
pub fn matching<'a>(
    prefix: &[u8],
    hashes: impl IntoIterator<Item = &'a ChangeHash>,
) -> Vec<ChangeHash> {
    hashes
        .into_iter()
        .filter(|h| h.0.starts_with(prefix))
        .copied()
        .collect()
}

/// Rebuilds the short changes of one document, in order; a change that is not short is
/// left to `parse`, and a short one that cannot be rebuilt is `refused`. Dependencies are
/// looked for among the document's heads and the changes before them in `changes`, then
/// (rarely: a change that follows one that is no longer a head) among every change the
/// document holds.
pub fn expand_all<E>(
    changes: &[&[u8]],
    heads: &[ChangeHash],
    all_hashes: &mut dyn FnMut() -> Vec<ChangeHash>,
    parse: impl Fn(&[u8]) -> Result<Change, E>,
    refused: impl Fn(ExpandError) -> E,
) -> Result<Vec<Change>, E> {
    let mut near: Vec<ChangeHash> = heads.to_vec();
    let mut everything: Option<Vec<ChangeHash>> = None;
    let mut out = Vec::with_capacity(changes.len());
    for bytes in changes {
        let change = if is_short(bytes) {
            expand(bytes, &mut |prefix| {
                let found = matching(prefix, &near);
                if !found.is_empty() {
                    return found;
                }
                matching(
                    prefix,
                    everything.get_or_insert_with(&mut *all_hashes).iter(),
                )
            })
            .map_err(&refused)?
        } else {
            parse(bytes)?
        };
        near.push(change.hash());
        out.push(change);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::{AutoCommit, ROOT, transaction::Transactable};

    #[derive(Debug, PartialEq)]
    enum Failed {
        Parse(String),
        Refused(ExpandError),
    }

    fn parse(bytes: &[u8]) -> Result<Change, Failed> {
        crate::limits::parse_change(bytes).map_err(Failed::Parse)
    }

    fn edit(doc: &mut AutoCommit, key: &str, value: &str) -> Change {
        doc.put(ROOT, key, value).unwrap();
        doc.get_last_local_change().unwrap().clone()
    }

    #[test]
    fn a_change_rebuilds_from_its_short_form_and_the_document_it_follows() {
        let mut a = AutoCommit::new();
        edit(&mut a, "name", "Lò Thị Mai");
        let mut b = a.fork();
        let change = edit(&mut b, "ethnicity", "Tày");
        let full = change.raw_bytes().to_vec();
        let short = shorten(&full);
        assert!(is_short(&short));
        assert!(short.len() + (32 - PREFIX) + 4 <= full.len());
        let got = expand_all(
            &[&short],
            &a.get_heads(),
            &mut Vec::new,
            parse,
            Failed::Refused,
        )
        .unwrap();
        assert_eq!(got[0].hash(), change.hash());
        assert_eq!(got[0].raw_bytes(), &full[..]);
    }

    #[test]
    fn a_change_that_follows_one_no_longer_a_head_is_found_in_the_history() {
        let mut a = AutoCommit::new();
        edit(&mut a, "name", "A");
        let base = a.get_heads();
        let mut b = a.fork();
        let mut c = a.fork();
        let first = edit(&mut b, "x", "1");
        let second = edit(&mut c, "y", "2");
        // The receiver applied `first` already: `base` is not a head any more.
        a.apply_changes([first.clone()]).unwrap();
        let all = a
            .get_changes(&[])
            .iter()
            .map(|c| c.hash())
            .collect::<Vec<_>>();
        assert!(!a.get_heads().contains(&base[0]));
        let short = shorten(second.raw_bytes());
        let got = expand_all(
            &[&short],
            &a.get_heads(),
            &mut || all.clone(),
            parse,
            Failed::Refused,
        )
        .unwrap();
        assert_eq!(got[0].hash(), second.hash());
    }

    #[test]
    fn several_changes_of_one_document_follow_each_other() {
        let mut a = AutoCommit::new();
        edit(&mut a, "name", "A");
        let mut b = a.fork();
        let changes: Vec<Change> = (0..5).map(|i| edit(&mut b, "n", &i.to_string())).collect();
        let short: Vec<Vec<u8>> = changes.iter().map(|c| shorten(c.raw_bytes())).collect();
        let short: Vec<&[u8]> = short.iter().map(Vec::as_slice).collect();
        let got = expand_all(
            &short,
            &a.get_heads(),
            &mut Vec::new,
            parse,
            Failed::Refused,
        )
        .unwrap();
        let hashes: Vec<_> = got.iter().map(Change::hash).collect();
        assert_eq!(hashes, changes.iter().map(Change::hash).collect::<Vec<_>>());
    }

    #[test]
    fn a_wrong_or_missing_dependency_is_refused() {
        let mut a = AutoCommit::new();
        edit(&mut a, "name", "A");
        let mut b = a.fork();
        let change = edit(&mut b, "x", "1");
        let short = shorten(change.raw_bytes());
        // Nothing held begins with the prefix.
        assert_eq!(
            expand_all(&[&short], &[], &mut Vec::new, parse, Failed::Refused).unwrap_err(),
            Failed::Refused(ExpandError::Unknown)
        );
        // A held change that shares the prefix but is another change.
        let mut forged = a.get_heads()[0];
        forged.0[31] ^= 1;
        let err = expand(&short, &mut |_| vec![forged]).unwrap_err();
        assert_eq!(err, ExpandError::Checksum);
        // The right one among impostors is found.
        let right = a.get_heads()[0];
        let got = expand(&short, &mut |_| vec![forged, right]).unwrap();
        assert_eq!(got.raw_bytes(), change.raw_bytes());
        // Cut anywhere, the short form is refused without a panic.
        for cut in 0..short.len() {
            let _ = expand(&short[..cut], &mut |_| vec![right]);
        }
    }

    #[test]
    fn what_is_not_an_uncompressed_change_goes_as_it_is() {
        let mut a = AutoCommit::new();
        edit(&mut a, "name", "A");
        let saved = a.save();
        assert_eq!(shorten(&saved), saved);
        assert_eq!(shorten(&[1, 2, 3]), vec![1, 2, 3]);
        let first = a.get_changes(&[])[0].raw_bytes().to_vec();
        // A change with no dependency still shortens (by nothing but the magic bytes).
        let got = expand(&shorten(&first), &mut |_| Vec::new()).unwrap();
        assert_eq!(got.raw_bytes(), &first[..]);
    }
}
