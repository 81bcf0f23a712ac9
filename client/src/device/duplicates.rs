//! Files on this device that look like the same person as the one being typed: the
//! warning shown when a file is created or a person's name, birth date or identity-card
//! number is entered. The matching is `shared::dedup` (the server's, so the device and
//! the office agree on what a duplicate is) applied to the list summaries, which hold
//! the name, birth date, identity-card number and branch of every file. It warns; it
//! never blocks.

use shared::date::Date;
use shared::dedup::{Reason, likely_same_person};
use shared::model::CaseFile;
use shared::sync::DocId;

use super::Summary;

/// A file on the device that looks like the same person.
#[derive(Clone, Debug, PartialEq)]
pub struct Duplicate {
    pub id: DocId,
    pub name: String,
    pub birth_date: Option<Date>,
    pub org_id: String,
    pub reason: Reason,
}

/// How many likely duplicates are listed at most (a name typed half-way could match many).
pub const MAX_SHOWN: usize = 5;

/// The files among `files` that look like the same person as `probe`, strongest reason
/// first, then by name. `except` is the file being edited; files merged into another are
/// left out (their survivor stands for them).
pub fn files_like<'a>(
    probe: &CaseFile,
    files: impl IntoIterator<Item = (&'a DocId, &'a Summary)>,
    except: Option<&DocId>,
) -> Vec<Duplicate> {
    let mut out: Vec<Duplicate> = files
        .into_iter()
        .filter(|(id, s)| Some(*id) != except && s.merged_into.is_empty())
        // Only the same birth date or an identity-card number can match: the others are
        // passed over without building anything.
        .filter(|(_, s)| {
            (probe.person.birth_date.is_some() && s.birth_date == probe.person.birth_date)
                || (!probe.person.id_number.is_empty() && !s.id_number.is_empty())
        })
        .filter_map(|(id, s)| {
            let other = CaseFile {
                org_id: s.org_id.clone(),
                person: shared::model::Person {
                    full_name: s.name.clone(),
                    birth_date: s.birth_date,
                    id_number: s.id_number.clone(),
                    ..Default::default()
                },
                ..Default::default()
            };
            likely_same_person(probe, &other).map(|reason| Duplicate {
                id: id.clone(),
                name: s.name.clone(),
                birth_date: s.birth_date,
                org_id: s.org_id.clone(),
                reason,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        a.reason
            .cmp(&b.reason)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    out.truncate(MAX_SHOWN);
    out
}

/// The person part of a file being typed in the new-file form: what [`files_like`]
/// compares. An empty or unreadable field is simply not compared.
pub fn probe(org_id: &str, full_name: &str, birth_date: Option<Date>, id_number: &str) -> CaseFile {
    CaseFile {
        org_id: org_id.to_string(),
        person: shared::model::Person {
            full_name: full_name.trim().to_string(),
            birth_date,
            id_number: id_number.trim().to_string(),
            ..Default::default()
        },
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> DocId {
        DocId::from_bytes([n; 16])
    }

    fn summary(name: &str, born: Option<&str>, org: &str, id_number: &str) -> Summary {
        Summary {
            name: name.into(),
            org_id: org.into(),
            birth_date: born.map(|b| b.parse().unwrap()),
            id_number: id_number.into(),
            ..Default::default()
        }
    }

    fn on_device() -> Vec<(DocId, Summary)> {
        vec![
            (
                id(1),
                summary("Nguyễn Thị Ánh", Some("2001-03-04"), "cb1", ""),
            ),
            (
                id(2),
                summary("Trần Văn Hùng", Some("1999-01-01"), "cb1", "031201000123"),
            ),
            (
                id(3),
                summary("Nguyễn Thị Ánh", Some("2001-03-05"), "cb1", ""),
            ),
            (id(4), summary("Lê Văn Bình", None, "cb2", "")),
        ]
    }

    fn like(probe: &CaseFile, except: Option<&DocId>) -> Vec<DocId> {
        let files = on_device();
        files_like(probe, files.iter().map(|(i, s)| (i, s)), except)
            .into_iter()
            .map(|d| d.id)
            .collect()
    }

    #[test]
    fn the_same_name_in_any_spelling_and_order_with_the_same_birth_date_matches() {
        let born = Some("2001-03-04".parse().unwrap());
        for name in [
            "Nguyễn Thị Ánh",
            "nguyen thi anh",
            "  ÁNH   Nguyễn thị ",
            "Anh Nguyen Thi",
        ] {
            assert_eq!(
                like(&probe("cb9", name, born, ""), None),
                vec![id(1)],
                "{name}"
            );
        }
        let files = on_device();
        let found = files_like(
            &probe("cb9", "nguyen thi anh", born, ""),
            files.iter().map(|(i, s)| (i, s)),
            None,
        );
        assert_eq!(found[0].reason, Reason::SameNameAndBirthDate);
        assert_eq!(found[0].name, "Nguyễn Thị Ánh");
        assert_eq!(found[0].org_id, "cb1");
    }

    #[test]
    fn a_name_alone_or_a_different_birth_date_does_not_match() {
        assert!(like(&probe("cb1", "Nguyễn Thị Ánh", None, ""), None).is_empty());
        let other_day = Some("2001-03-06".parse().unwrap());
        assert!(like(&probe("cb1", "Nguyễn Thị Ánh", other_day, ""), None).is_empty());
        // Nothing typed yet.
        assert!(like(&probe("cb1", "", None, ""), None).is_empty());
        // A file without a birth date is never matched by name.
        assert!(like(&probe("cb2", "Lê Văn Bình", None, ""), None).is_empty());
    }

    #[test]
    fn the_same_identity_card_number_matches_whatever_the_name() {
        let p = probe("cb5", "Hùng", None, "031 201 000 123");
        let files = on_device();
        let found = files_like(&p, files.iter().map(|(i, s)| (i, s)), None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, id(2));
        assert_eq!(found[0].reason, Reason::SameIdNumber);
    }

    #[test]
    fn the_file_being_edited_and_merged_files_are_left_out() {
        let born = Some("2001-03-04".parse().unwrap());
        let p = probe("cb1", "Nguyễn Thị Ánh", born, "");
        assert!(like(&p, Some(&id(1))).is_empty());
        let mut files = on_device();
        files[0].1.merged_into = id(7).to_string();
        assert!(files_like(&p, files.iter().map(|(i, s)| (i, s)), None).is_empty());
    }

    #[test]
    fn the_strongest_reason_comes_first_and_the_list_is_bounded() {
        let born = Some("1999-01-01".parse().unwrap());
        let mut files: Vec<(DocId, Summary)> = (10..30)
            .map(|n| {
                (
                    id(n),
                    summary("Trần Văn Hùng", Some("1999-01-01"), "cb1", ""),
                )
            })
            .collect();
        files.push((id(2), summary("Hùng Trần", None, "cb7", "031201000123")));
        let p = probe("cb1", "Tran Van Hung", born, "031201000123");
        let found = files_like(&p, files.iter().map(|(i, s)| (i, s)), None);
        assert_eq!(found.len(), MAX_SHOWN);
        assert_eq!(found[0].id, id(2));
        assert_eq!(found[0].reason, Reason::SameIdNumber);
        assert!(
            found[1..]
                .iter()
                .all(|d| d.reason == Reason::SameNameAndBirthDate)
        );
    }
}
