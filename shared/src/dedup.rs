//! Likely duplicate case files: two files that seem to describe the same person, opened
//! offline by two people (or twice by one). The device warns with these keys as a file is
//! created; the server records the pairs after every merge for the office to merge or
//! dismiss. Pure functions of the case files.
//!
//! Reasons, strongest first:
//! - the same identity-card number;
//! - the same birth date and the same name once diacritics, case, spacing and the order of
//!   the words are ignored ("Nguyễn Thị Ánh" = "nguyen thi anh" = "Ánh Nguyễn Thị");
//! - the same birth date, the same branch and a name one or two letters apart ("Nguyễn
//!   Thị Ánh" and "Nguyễn Thị Anh" once folded are equal; "Nguyễn Thi Ánh" and "Nguyễn
//!   Thị Ảnh" too; "Trần Văn Hùng" and "Trần Văn Hưng" are one letter apart).

use serde::{Deserialize, Serialize};

use crate::model::CaseFile;
use crate::text::fold;

/// Why two files look like the same person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    SameIdNumber,
    SameNameAndBirthDate,
    SimilarNameSameBirthDateAndBranch,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::SameIdNumber => "same_id_number",
            Reason::SameNameAndBirthDate => "same_name_and_birth_date",
            Reason::SimilarNameSameBirthDateAndBranch => "similar_name_same_birth_date_and_branch",
        }
    }

    pub fn from_code(code: &str) -> Option<Reason> {
        [
            Reason::SameIdNumber,
            Reason::SameNameAndBirthDate,
            Reason::SimilarNameSameBirthDateAndBranch,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Reason::SameIdNumber => "Trùng số căn cước/CMND",
            Reason::SameNameAndBirthDate => "Trùng họ tên và ngày sinh",
            Reason::SimilarNameSameBirthDateAndBranch => {
                "Họ tên gần giống, cùng ngày sinh và cùng chi bộ"
            }
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Reason::SameIdNumber => "Same identity-card number",
            Reason::SameNameAndBirthDate => "Same name and birth date",
            Reason::SimilarNameSameBirthDateAndBranch => {
                "Similar name, same birth date and same branch"
            }
        }
    }
}

/// A name folded and with its words sorted: equal for the same name written with or
/// without diacritics, in any case, spacing or word order.
pub fn name_key(full_name: &str) -> String {
    key_of_folded(&fold(full_name))
}

fn key_of_folded(folded: &str) -> String {
    let mut words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    words.sort_unstable();
    words.join(" ")
}

/// One person's name, folded once, to compare with the names of many files born the same
/// day (the server compares a merged file with every such file of its branch).
#[derive(Debug, Clone)]
pub struct SameDayName {
    folded: String,
    key: String,
}

impl SameDayName {
    pub fn new(full_name: &str) -> SameDayName {
        let folded = fold(full_name);
        let key = key_of_folded(&folded);
        SameDayName { folded, key }
    }

    /// Why a file born the same day and named `other` looks like this person: the same
    /// name, or (when `same_branch`) a name at most two letters apart.
    pub fn compare(&self, other: &SameDayName, same_branch: bool) -> Option<Reason> {
        if self.key.is_empty() || other.key.is_empty() {
            return None;
        }
        if self.key == other.key {
            return Some(Reason::SameNameAndBirthDate);
        }
        if same_branch && within_two_edits(&self.folded, &other.folded) {
            return Some(Reason::SimilarNameSameBirthDateAndBranch);
        }
        None
    }
}

/// An identity-card number reduced to its digits and letters, upper case; empty when
/// fewer than 6 remain (not a number anyone would match on).
pub fn id_number_key(id_number: &str) -> String {
    let key: String = id_number
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if key.len() >= 6 { key } else { String::new() }
}

/// The exact-match keys of a file, for lookup in an index: `(reason, key)`.
pub fn identity_keys(case: &CaseFile) -> Vec<(Reason, String)> {
    let mut keys = Vec::new();
    let id = id_number_key(&case.person.id_number);
    if !id.is_empty() {
        keys.push((Reason::SameIdNumber, id));
    }
    let name = name_key(&case.person.full_name);
    if let (false, Some(born)) = (name.is_empty(), case.person.birth_date) {
        keys.push((Reason::SameNameAndBirthDate, format!("{born}|{name}")));
    }
    keys
}

/// Whether two files look like the same person, and why (the strongest reason).
pub fn likely_same_person(a: &CaseFile, b: &CaseFile) -> Option<Reason> {
    let (pa, pb) = (&a.person, &b.person);
    let id = id_number_key(&pa.id_number);
    if !id.is_empty() && id == id_number_key(&pb.id_number) {
        return Some(Reason::SameIdNumber);
    }
    let born = pa.birth_date?;
    if pb.birth_date != Some(born) {
        return None;
    }
    SameDayName::new(&pa.full_name).compare(&SameDayName::new(&pb.full_name), a.org_id == b.org_id)
}

/// Whether two strings are at most two single-character edits apart (Levenshtein),
/// in time linear in their length.
fn within_two_edits(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return false;
    }
    const K: usize = 2;
    // Banded dynamic programming: only cells within K of the diagonal matter.
    let inf = usize::MAX / 2;
    let mut prev = vec![inf; b.len() + 1];
    for (j, p) in prev.iter_mut().enumerate().take(K.min(b.len()) + 1) {
        *p = j;
    }
    for i in 1..=a.len() {
        let mut cur = vec![inf; b.len() + 1];
        if i <= K {
            cur[0] = i;
        }
        let lo = i.saturating_sub(K).max(1);
        let hi = (i + K).min(b.len());
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        prev = cur;
    }
    prev[b.len()] <= K
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::model::Person;

    fn case(org: &str, name: &str, born: Option<&str>, id: &str) -> CaseFile {
        CaseFile {
            org_id: org.into(),
            person: Person {
                full_name: name.into(),
                birth_date: born.map(|b| b.parse::<Date>().unwrap()),
                id_number: id.into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_same_name_without_diacritics_in_another_order_is_the_same_person() {
        let a = case("cb1", "Nguyễn Thị Ánh", Some("2001-03-04"), "");
        let b = case("cb2", "  nguyen   THI anh ", Some("2001-03-04"), "");
        let c = case("cb2", "Ánh Nguyễn Thị", Some("2001-03-04"), "");
        assert_eq!(
            likely_same_person(&a, &b),
            Some(Reason::SameNameAndBirthDate)
        );
        assert_eq!(
            likely_same_person(&a, &c),
            Some(Reason::SameNameAndBirthDate)
        );
        assert_eq!(identity_keys(&a), identity_keys(&b));
    }

    #[test]
    fn a_different_birth_date_is_a_different_person() {
        let a = case("cb1", "Nguyễn Thị Ánh", Some("2001-03-04"), "");
        let b = case("cb1", "Nguyễn Thị Ánh", Some("2001-03-05"), "");
        assert_eq!(likely_same_person(&a, &b), None);
        let no_date = case("cb1", "Nguyễn Thị Ánh", None, "");
        assert_eq!(likely_same_person(&no_date, &no_date), None);
    }

    #[test]
    fn the_same_identity_number_is_the_same_person_whatever_the_names() {
        let a = case("cb1", "Nguyễn Thị Ánh", None, "031 201 000 123");
        let b = case("cb9", "Nguyễn Ánh", Some("2001-03-04"), "031201000123");
        assert_eq!(likely_same_person(&a, &b), Some(Reason::SameIdNumber));
        // Too short to mean anything.
        let c = case("cb1", "A", None, "12");
        assert!(identity_keys(&c).is_empty());
    }

    #[test]
    fn a_name_a_letter_or_two_apart_matches_only_in_the_same_branch() {
        let a = case("cb1", "Trần Văn Hùng", Some("1999-01-01"), "");
        let b = case("cb1", "Trần Văn Hưng", Some("1999-01-01"), "");
        let far = case("cb1", "Trần Văn Minh", Some("1999-01-01"), "");
        let elsewhere = case("cb2", "Tran Van Hunh", Some("1999-01-01"), "");
        // "hung" vs "hung" once folded: the same name.
        assert_eq!(
            likely_same_person(&a, &b),
            Some(Reason::SameNameAndBirthDate)
        );
        assert_eq!(likely_same_person(&a, &far), None);
        assert_eq!(likely_same_person(&a, &elsewhere), None);
        let typo = case("cb1", "Tran Van Hunh", Some("1999-01-01"), "");
        assert_eq!(
            likely_same_person(&a, &typo),
            Some(Reason::SimilarNameSameBirthDateAndBranch)
        );
    }

    #[test]
    fn edit_distance_is_bounded_at_two() {
        assert!(within_two_edits("nguyen van an", "nguyen van an"));
        assert!(within_two_edits("nguyen van an", "nguyen van anh"));
        assert!(within_two_edits("nguyen van an", "nguyen vn anh"));
        assert!(!within_two_edits("nguyen van an", "nguyen v anhh"));
        assert!(within_two_edits("", "ab"));
        assert!(!within_two_edits("", "abc"));
    }
}
