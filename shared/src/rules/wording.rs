//! The wording of every finding: a Vietnamese message is Vietnamese only (no English
//! words, no field paths), an English one has no Vietnamese words, and every finding
//! names its field by a label the forms know. Checked over files filled from the schema
//! with dates in the past, in the future and mixed, so most rules speak.

use super::*;
use crate::schema::{Kind, SECTIONS, field_by_pattern, list_by_path};
use serde_json::{Map, Value as Json};

/// A case with every fact of the schema filled: dates from `date`, counts `n`.
fn filled(date: &str, n: u64) -> CaseFile {
    fn set(root: &mut Json, path: &str, v: Json) {
        let mut cur = root;
        let segs: Vec<&str> = path.split('.').collect();
        for (i, s) in segs.iter().enumerate() {
            let obj = cur.as_object_mut().unwrap();
            if i + 1 == segs.len() {
                obj.insert(s.to_string(), v);
                return;
            }
            cur = obj
                .entry(s.to_string())
                .or_insert_with(|| Json::Object(Map::new()));
        }
    }
    let value = |k: Kind| match k {
        Kind::Date => Json::from(date),
        Kind::Num => Json::from(n),
        Kind::Text => Json::from("Nguyễn Văn An"),
        Kind::Bool => Json::from(true),
        Kind::Tri => Json::from(false),
        Kind::Choice(opts) => Json::from(opts[0].0),
    };
    let mut root = Json::Object(Map::new());
    // A stopped file says little: leave the stop out.
    for s in SECTIONS
        .iter()
        .filter(|s| s.stage != crate::stage::Stage::Stopped)
    {
        for f in s.fields {
            set(&mut root, f.path, value(f.kind));
        }
        for l in s.lists {
            let mut item = Json::Object(Map::new());
            for f in l.fields {
                set(&mut item, f.path, value(f.kind));
            }
            set(&mut root, l.path, Json::Array(vec![item.clone(), item]));
        }
    }
    serde_json::from_value(root).expect("the schema fits the model")
}

const ENGLISH: &[&str] = &[
    "the", "and", "or", "of", "is", "are", "not", "date", "vote", "file", "branch", "check",
    "record", "missing", "before", "after", "must", "field",
];
const VIETNAMESE: &[&str] = &["ngày", "và", "của", "hồ sơ", "chưa", "phải", "hãy"];

fn is_path_like(w: &str) -> bool {
    let w = w.trim_matches(|c: char| {
        !c.is_ascii_alphanumeric() && c != '_' && c != '.' && c != '[' && c != ']'
    });
    w.contains("[]")
        || (w.contains('.')
            && w.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')))
}

#[test]
fn every_message_speaks_one_language_and_names_no_path() {
    let cal = crate::calendar::WorkingCalendar::vietnam_2021_2027();
    let settings = RuleSettings::default();
    let mut seen = std::collections::BTreeSet::new();
    let cases = [
        CaseFile::default(),
        filled("2019-03-04", 1),
        filled("2031-05-06", 7),
        filled("2024-02-29", 0),
        filled("2025-12-31", 30),
    ];
    for case in &cases {
        for today in ["2026-06-01", "2027-12-30"] {
            let ctx = EvalContext::new(today.parse().unwrap(), &settings, &cal);
            let eval = evaluate(case, &ctx);
            for f in &eval.findings {
                seen.insert(f.code);
                for w in f.message_vi.split_whitespace() {
                    let bare = w
                        .trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase();
                    assert!(
                        !ENGLISH.contains(&bare.as_str()),
                        "{}: English «{w}» in {}",
                        f.code,
                        f.message_vi
                    );
                    assert!(
                        !is_path_like(w),
                        "{}: path «{w}» in {}",
                        f.code,
                        f.message_vi
                    );
                }
                for w in f.message_en.split_whitespace() {
                    assert!(
                        !is_path_like(w),
                        "{}: path «{w}» in {}",
                        f.code,
                        f.message_en
                    );
                }
                let en = f.message_en.to_lowercase();
                for v in VIETNAMESE {
                    let hit = en
                        .split(|c: char| !c.is_alphanumeric() && c != ' ')
                        .any(|part| format!(" {part} ").contains(&format!(" {v} ")));
                    assert!(!hit, "{}: Vietnamese «{v}» in {}", f.code, f.message_en);
                }
                if !f.field.is_empty() && f.field != "—" {
                    assert!(
                        field_by_pattern(f.field).is_some() || list_by_path(f.field).is_some(),
                        "{}: field {} has no label in the forms",
                        f.code,
                        f.field
                    );
                }
            }
        }
    }
    assert!(seen.len() >= 25, "too few rules spoke: {seen:?}");
}
