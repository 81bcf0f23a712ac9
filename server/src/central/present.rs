//! How the office's pages name things people recognise: a field by its label in the
//! forms (never its path), a value as the forms show it, a change as old → new, and a
//! device by its model and browser (never a raw User-Agent string).

use automerge::{AutoCommit, ChangeHash, ObjId, ObjType, Prop, ReadDoc, ScalarValue, Value};
use maud::{Markup, html};

use super::Lang;

/// A document path ("case.person.ethnicity", "case.branch_votes.0.present") as its
/// label in the forms: "Dân tộc", "Lần biểu quyết 1 — Số có mặt".
pub fn field_label(path: &str, l: Lang) -> String {
    let rel = path.strip_prefix("case.").unwrap_or(path);
    let (vi, en) = shared::schema::path_label(rel);
    if l.en { en } else { vi }
}

/// A stored value as the forms show it (choice labels, dd/mm/yyyy, Có/Không).
pub fn value_label(path: &str, v: &serde_json::Value, l: Lang) -> String {
    let rel = path.strip_prefix("case.").unwrap_or(path);
    shared::schema::value_label(rel, v, !l.en)
}

/// A device as people tell devices apart: the name its owner gave it, or the model,
/// system and browser read from a User-Agent string ("SM-A045F · Android 13 · Chrome
/// 120"), with the start of the device's id so two alike devices of one user differ.
pub fn device_label(name: &str, id: Option<&str>) -> String {
    let id = id.map(|i| i.chars().take(4).collect::<String>().to_uppercase());
    let base = if name.contains("Mozilla/") || name.contains("AppleWebKit") {
        from_user_agent(name)
    } else if name.trim().is_empty() || name == "?" {
        String::new()
    } else {
        name.trim().to_string()
    };
    match (base.is_empty(), id) {
        (true, Some(id)) => format!("#{id}"),
        (true, None) => "?".into(),
        (false, Some(id)) => format!("{base} (#{id})"),
        (false, None) => base,
    }
}

fn from_user_agent(ua: &str) -> String {
    let inside = ua
        .split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(i, _)| i)
        .unwrap_or("");
    let parts: Vec<&str> = inside.split(';').map(str::trim).collect();
    let mut system = String::new();
    let mut model = String::new();
    if let Some(a) = parts.iter().find(|p| p.starts_with("Android")) {
        system = a.to_string();
        // The part after the Android version is the model, when the browser tells it.
        if let Some(m) = parts
            .iter()
            .skip_while(|p| !p.starts_with("Android"))
            .nth(1)
            .filter(|m| !m.is_empty() && **m != "K" && !m.starts_with("wv"))
        {
            model = m.split(" Build").next().unwrap_or(m).to_string();
        }
    } else if parts.iter().any(|p| p.starts_with("iPhone")) {
        model = "iPhone".into();
        system = os_version(&parts, "OS ", "iOS");
    } else if parts.iter().any(|p| p.starts_with("iPad")) {
        model = "iPad".into();
        system = os_version(&parts, "OS ", "iPadOS");
    } else if parts.iter().any(|p| p.starts_with("Windows")) {
        system = "Windows".into();
    } else if parts.iter().any(|p| p.starts_with("Macintosh")) {
        system = "macOS".into();
    } else if parts
        .iter()
        .any(|p| p.contains("Linux") || p.starts_with("X11"))
    {
        system = "Linux".into();
    }
    let browser = browser_of(ua);
    [model, system, browser]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ")
}

fn os_version(parts: &[&str], marker: &str, name: &str) -> String {
    parts
        .iter()
        .find_map(|p| p.split_once(marker).map(|(_, v)| v))
        .and_then(|v| v.split_whitespace().next())
        .map(|v| format!("{name} {}", v.replace('_', ".")))
        .unwrap_or_else(|| name.to_string())
}

fn browser_of(ua: &str) -> String {
    let version = |key: &str| {
        ua.split_once(key).map(|(_, r)| {
            r.split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap_or_default()
                .to_string()
        })
    };
    let named = [
        ("Zalo", "Zalo/"),
        ("Cốc Cốc", "coc_coc_browser/"),
        ("Samsung Internet", "SamsungBrowser/"),
        ("Edge", "Edg/"),
        ("Opera", "OPR/"),
        ("Firefox", "Firefox/"),
        ("Chrome", "HeadlessChrome/"),
        ("Chrome", "Chrome/"),
        ("Chrome", "CriOS/"),
        ("Safari", "Version/"),
    ];
    for (name, key) in named {
        if let Some(v) = version(key) {
            return if v.is_empty() {
                name.to_string()
            } else {
                format!("{name} {v}")
            };
        }
    }
    String::new()
}

/// The value at a document path as of `heads` (None where the path does not exist).
fn value_at(doc: &AutoCommit, path: &str, heads: &[ChangeHash]) -> Option<serde_json::Value> {
    let mut obj = automerge::ROOT;
    let segs: Vec<&str> = path.split('.').collect();
    for (i, seg) in segs.iter().enumerate() {
        let prop: Prop = match seg.parse::<usize>() {
            Ok(n) => Prop::Seq(n),
            Err(_) => Prop::Map(seg.to_string()),
        };
        let (v, id) = doc.get_at(&obj, prop, heads).ok()??;
        if i + 1 == segs.len() {
            return Some(to_json(doc, &v, &id, heads));
        }
        match v {
            Value::Object(_) => obj = id,
            Value::Scalar(_) => return None,
        }
    }
    None
}

fn to_json(doc: &AutoCommit, v: &Value<'_>, id: &ObjId, heads: &[ChangeHash]) -> serde_json::Value {
    match v {
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(t) => serde_json::Value::String(t.to_string()),
            ScalarValue::Int(n) => serde_json::Value::from(*n),
            ScalarValue::Uint(n) => serde_json::Value::from(*n),
            ScalarValue::F64(n) => serde_json::Value::from(*n),
            ScalarValue::Boolean(b) => serde_json::Value::Bool(*b),
            ScalarValue::Null => serde_json::Value::Null,
            other => serde_json::Value::String(other.to_string()),
        },
        Value::Object(ObjType::List) | Value::Object(ObjType::Text) => {
            serde_json::Value::Array(vec![serde_json::Value::Null; doc.length_at(id, heads)])
        }
        Value::Object(_) => serde_json::Value::Object(Default::default()),
    }
}

/// "Dân tộc: Kinh → Tày" for each field a change wrote: its label and its value just
/// before and just after the change. Whole records added or removed read as such.
pub fn change_lines(doc: &AutoCommit, hash: &str, fields: &[String], l: Lang) -> Vec<String> {
    let Ok(hash) = hash.parse::<ChangeHash>() else {
        return fields.iter().map(|f| field_label(f, l)).collect();
    };
    let Some(change) = doc.get_change_by_hash(&hash) else {
        return fields.iter().map(|f| field_label(f, l)).collect();
    };
    let before: Vec<ChangeHash> = change.deps().to_vec();
    let after = [hash];
    let mut out = Vec::new();
    for f in fields {
        if f.is_empty() || f == "case" || f == "review" {
            continue;
        }
        let label = field_label(f, l);
        let old = value_at(doc, f, &before);
        let new = value_at(doc, f, &after);
        // A new empty map or an empty fact says nothing: its filled leaves follow.
        let is_record = f
            .rsplit('.')
            .next()
            .is_some_and(|s| s.parse::<usize>().is_ok());
        let empty = |v: &Option<serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => true,
            Some(serde_json::Value::String(s)) => s.is_empty(),
            Some(serde_json::Value::Object(_)) => !is_record,
            _ => false,
        };
        if old.is_none() && empty(&new) {
            continue;
        }
        let show = |v: &Option<serde_json::Value>| match v {
            None => (if l.en { "(none)" } else { "(chưa có)" }).to_string(),
            Some(v) => value_label(f, v, l),
        };
        if old == new {
            out.push(label);
        } else {
            out.push(format!("{label}: {} → {}", show(&old), show(&new)));
        }
    }
    out
}

/// The whole case file as the forms group it: one table per stage section with every
/// fact and its value, and each record of a list (introducers, verifications, votes)
/// as its own table. Facts not recorded read "—".
pub fn case_file_html(case: &serde_json::Value, l: Lang) -> Markup {
    use shared::schema::SECTIONS;
    fn at<'a>(v: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
        path.split('.').try_fold(v, |v, k| v.get(k))
    }
    let shown = |path: &str, v: Option<&serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "—".to_string(),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => "—".to_string(),
        Some(v) => shared::schema::value_label(path, v, !l.en),
    };
    let items = |path: &str| {
        at(case, path)
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
    };
    html! {
        div.case-file {
            @for s in SECTIONS {
                section.case-section {
                    h3 { (if l.en { s.en } else { s.vi }) }
                    table { tbody {
                        @for f in s.fields {
                            tr {
                                th scope="row" { (if l.en { f.en } else { f.vi }) }
                                td { (shown(f.path, at(case, f.path))) }
                            }
                        }
                    } }
                    @for list in s.lists {
                        @let records = items(list.path);
                        @let item_label = if l.en { list.item_en } else { list.item_vi };
                        @if records.is_empty() {
                            p.muted { (item_label) ": " (l.t("chưa có", "none recorded")) }
                        }
                        @for (i, item) in records.iter().enumerate() {
                            table.record {
                                caption { (item_label) " " (i + 1) }
                                tbody {
                                    @for f in list.fields {
                                        tr {
                                            th scope="row" { (if l.en { f.en } else { f.vi }) }
                                            td { (shown(&format!("{}.{i}.{}", list.path, f.path), at(item, f.path))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The note the server wrote with a change ("giải quyết xung đột case.person.ethnicity —
/// …"), with each path replaced by its field label and, in English, the known
/// actions translated, so a page in one language reads in that language.
pub fn message_label(m: &str, l: Lang) -> String {
    let mut out: Vec<String> = m
        .split(' ')
        .map(|w| {
            if w.starts_with("case.") && w.len() > 5 {
                format!("«{}»", field_label(w, l))
            } else {
                w.to_string()
            }
        })
        .collect();
    if l.en {
        let joined = out.join(" ");
        for (vi, en) in [
            ("giải quyết xung đột", "resolved the conflict on"),
            ("bỏ trả lại hồ sơ", "withdrew the return of the file"),
            ("trả lại hồ sơ", "returned the file"),
            ("gộp hồ sơ trùng", "merged the duplicate file"),
        ] {
            if let Some(rest) = joined.strip_prefix(vi) {
                return format!("{en}{rest}");
            }
        }
        out = vec![joined];
    }
    out.join(" ")
}

/// The case filter of a list read once, and what is wrong with it (each message naming
/// the box by its label on the form, in the page's language). When something is wrong,
/// the filter keeps only the organisation, so the page and its form still show.
pub fn read_filter(
    q: &crate::review::ReportQuery,
    l: Lang,
) -> (crate::reports::CaseFilter, Vec<String>) {
    use crate::reports::CaseFilter;
    let (filter, mut out) = match CaseFilter::parse(&q.filter) {
        Ok(f) => (f, Vec::new()),
        Err(errors) => (
            CaseFilter {
                org: q.filter.org_id(),
                ..CaseFilter::default()
            },
            errors.iter().map(|e| e.message(l.en)).collect(),
        ),
    };
    if let Some(d) = q.days.as_deref().map(str::trim).filter(|s| !s.is_empty())
        && !d.parse::<u32>().is_ok_and(|d| d <= 3660)
    {
        out.push(if l.en {
            format!(
                "«Days ahead»: {d} is not a number of days. Type a whole number, for example 30."
            )
        } else {
            format!("«Số ngày tới»: {d} không phải là số ngày. Hãy gõ một số nguyên, ví dụ 30.")
        });
    }
    (filter, out)
}

/// The errors of [`read_filter`] as a block shown above a list, read out at once.
pub fn filter_errors_html(errors: &[String], l: Lang) -> Markup {
    if errors.is_empty() {
        return html! {};
    }
    html! {
        div.err role="alert" id="filter-errors" {
            strong { (l.t(
                "Bộ lọc chưa dùng được, hãy sửa lại:",
                "The filters cannot be used yet; please correct them:",
            )) }
            ul { @for e in errors { li { (e) } } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_by_model_system_and_browser() {
        let ua = "Mozilla/5.0 (Linux; Android 13; SM-A045F Build/TP1A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36";
        assert_eq!(
            device_label(ua, Some("k7x2abcd")),
            "SM-A045F · Android 13 · Chrome 120 (#K7X2)"
        );
        let ios = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(ios, None), "iPhone · iOS 16.6 · Safari 16");
        assert_eq!(
            device_label("Máy của Hùng", Some("ab12")),
            "Máy của Hùng (#AB12)"
        );
        assert_eq!(device_label("", Some("zz9")), "#ZZ9");
        assert_eq!(
            message_label(
                "giải quyết xung đột case.person.ethnicity — A (a)",
                Lang { en: false }
            ),
            "giải quyết xung đột «Dân tộc» — A (a)"
        );
        assert_eq!(
            message_label(
                "giải quyết xung đột case.person.ethnicity — A (a)",
                Lang { en: true }
            ),
            "resolved the conflict on «Ethnicity» — A (a)"
        );
        let head = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/140.0.0.0 Safari/537.36";
        assert_eq!(device_label(head, None), "Linux · Chrome 140");
    }
}
