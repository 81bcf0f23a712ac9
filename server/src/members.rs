//! The members register, imported by administrators from a CSV or XLSX file: every row is
//! checked first, and a file with any bad row stores nothing and names each bad row and
//! its problem. A good file is shown as a preview of what will change (added, changed,
//! removed members of the organisations it lists) and stored, in one transaction, only
//! when the administrator confirms.
//!
//! Columns (header row, Vietnamese or English names, any order): `ma` / `id`,
//! `to_chuc` / `org_id`, `ho_ten` / `full_name`, `ngay_chinh_thuc` / `official_since`
//! (dd/mm/yyyy or yyyy-mm-dd, may be empty), `trang_thai` / `status` (`chính thức` /
//! `official`, `dự bị` / `probationary`).

use std::collections::{BTreeMap, BTreeSet};

use crate::db::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use shared::api::ErrorCode;
use shared::date::Date;

use crate::administration::audit;
use crate::auth::{Caller, now_secs, random_token};
use crate::casedocs::path_in_scope;
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::extract::Admin;

/// One member as the register holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub org_id: String,
    pub full_name: String,
    pub official_since: Option<String>,
    pub status: String,
}

/// A problem with one row of the file (row 1 is the header).
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    pub row: usize,
    pub message_vi: String,
    pub message_en: String,
}

/// What storing the file would do.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Preview {
    pub token: String,
    pub added: Vec<MemberRow>,
    /// Before and after.
    pub changed: Vec<(MemberRow, MemberRow)>,
    pub removed: Vec<MemberRow>,
    pub unchanged: usize,
    pub orgs: Vec<String>,
}

/// Reads the table of a CSV (UTF-8, with or without BOM; `,` or `;`) or XLSX file.
pub fn read_table(bytes: &[u8]) -> Result<Vec<Vec<String>>, AppError> {
    if bytes.starts_with(b"PK") {
        use calamine::Reader;
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).map_err(|e| {
                AppError::bad_request(
                    ErrorCode::BadFile,
                    format!("Không đọc được tệp XLSX: {e}"),
                    format!("The XLSX file cannot be read: {e}"),
                )
            })?;
        let range = book
            .worksheet_range_at(0)
            .transpose()
            .ok()
            .flatten()
            .ok_or_else(|| {
                AppError::bad_request(
                    ErrorCode::BadFile,
                    "Tệp XLSX không có trang tính nào.",
                    "The XLSX file has no sheet.",
                )
            })?;
        return Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        // Excel counts days from 30/12/1899; 25,569 of them to 01/01/1970.
                        calamine::Data::DateTime(d) => {
                            Date::from_days_since_epoch(d.as_f64() as i32 - 25_569).to_string()
                        }
                        calamine::Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect());
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        AppError::bad_request(
            ErrorCode::BadFile,
            "Tệp CSV phải được lưu bằng mã UTF-8.",
            "The CSV file must be saved as UTF-8.",
        )
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or("");
    let sep = if first.matches(';').count() > first.matches(',').count() {
        ';'
    } else {
        ','
    };
    Ok(parse_csv(text, sep))
}

/// RFC 4180 fields: quotes, doubled quotes, separators and line breaks inside quotes.
fn parse_csv(text: &str, sep: char) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, c) if c == sep => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn column(header: &[String], names: &[&str]) -> Option<usize> {
    header.iter().position(|h| {
        let h = shared::text::fold(h).replace([' ', '-'], "_");
        names.contains(&h.as_str())
    })
}

/// Checks every row of the table against the organisations the caller administers.
pub fn parse_rows(
    conn: &Connection,
    caller: &Caller,
    table: &[Vec<String>],
) -> AppResult<Result<Vec<MemberRow>, Vec<RowError>>> {
    let Some(header) = table.first() else {
        return Ok(Err(vec![RowError {
            row: 1,
            message_vi: "Tệp trống.".into(),
            message_en: "The file is empty.".into(),
        }]));
    };
    let cols = [
        column(header, &["ma", "id", "ma_dang_vien", "member_id"]),
        column(header, &["to_chuc", "org_id", "ma_to_chuc", "org"]),
        column(header, &["ho_ten", "full_name", "ho_va_ten", "name"]),
        column(
            header,
            &[
                "ngay_chinh_thuc",
                "official_since",
                "ngay_vao_dang_chinh_thuc",
            ],
        ),
        column(header, &["trang_thai", "status"]),
    ];
    let names = ["ma", "to_chuc", "ho_ten", "ngay_chinh_thuc", "trang_thai"];
    let missing: Vec<&str> = cols
        .iter()
        .zip(names)
        .filter(|(c, n)| c.is_none() && *n != "ngay_chinh_thuc")
        .map(|(_, n)| n)
        .collect();
    if !missing.is_empty() {
        return Ok(Err(vec![RowError {
            row: 1,
            message_vi: format!("Thiếu cột: {}.", missing.join(", ")),
            message_en: format!("Missing columns: {}.", missing.join(", ")),
        }]));
    }
    let mut orgs: BTreeMap<String, bool> = BTreeMap::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in table.iter().enumerate().skip(1) {
        let row = i + 1;
        let cell = |c: Option<usize>| {
            c.and_then(|c| r.get(c))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let mut err = |vi: String, en: String| {
            errors.push(RowError {
                row,
                message_vi: vi,
                message_en: en,
            })
        };
        let id = cell(cols[0]);
        let org = cell(cols[1]);
        let name = cell(cols[2]);
        let since = cell(cols[3]);
        let status_text = shared::text::fold(&cell(cols[4]));
        if id.is_empty() || id.len() > 64 {
            err(
                "mã đảng viên trống hoặc quá dài".into(),
                "member id is empty or too long".into(),
            );
        } else if let Some(first) = seen.insert(id.clone(), row) {
            err(
                format!("mã {id} trùng với dòng {first}"),
                format!("id {id} repeats row {first}"),
            );
        }
        if name.is_empty() {
            err("họ tên trống".into(), "name is empty".into());
        }
        let ok_org = *orgs.entry(org.clone()).or_insert_with(|| {
            crate::db::orgs::open_path_of(conn, &org)
                .ok()
                .flatten()
                .is_some_and(|p| path_in_scope(&p, &caller.scope_path))
        });
        if !ok_org {
            err(
                format!("tổ chức «{org}» không có, đã giải thể hoặc ngoài phạm vi"),
                format!("organisation `{org}` does not exist, is closed or is out of scope"),
            );
        }
        let official_since = if since.is_empty() {
            None
        } else {
            match Date::parse_vn(&since) {
                Some(d) => Some(d.to_string()),
                None => {
                    err(
                        format!("ngày chính thức «{since}» không hợp lệ"),
                        format!("official date `{since}` is not valid"),
                    );
                    None
                }
            }
        };
        let status = match status_text.as_str() {
            "chinh thuc" | "official" | "" => "official",
            "du bi" | "probationary" => "probationary",
            other => {
                err(
                    format!("trạng thái «{other}» không hợp lệ (chính thức, dự bị)"),
                    format!("status `{other}` is not valid (official, probationary)"),
                );
                "official"
            }
        };
        out.push(MemberRow {
            id,
            org_id: org,
            full_name: name,
            official_since,
            status: status.into(),
        });
    }
    Ok(if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    })
}

fn current(conn: &Connection, orgs: &BTreeSet<String>) -> AppResult<BTreeMap<String, MemberRow>> {
    let mut out = BTreeMap::new();
    for org in orgs {
        for r in crate::db::members::of_org(conn, org)? {
            out.insert(r.id.clone(), r);
        }
    }
    Ok(out)
}

/// Checks a file and, when every row is good, keeps it pending and returns the preview.
pub fn preview(
    store: &Store,
    caller: &Admin,
    bytes: &[u8],
) -> AppResult<Result<Preview, Vec<RowError>>> {
    let table = read_table(bytes)?;
    let conn = store.read();
    let rows = match parse_rows(&conn, caller, &table)? {
        Ok(rows) => rows,
        Err(errors) => return Ok(Err(errors)),
    };
    let orgs: BTreeSet<String> = rows.iter().map(|r| r.org_id.clone()).collect();
    let mut before = current(&conn, &orgs)?;
    let mut p = Preview {
        orgs: orgs.iter().cloned().collect(),
        ..Default::default()
    };
    for r in &rows {
        // A member listed under another organisation than before counts as changed.
        let old = before
            .remove(&r.id)
            .or_else(|| crate::db::members::get(&conn, &r.id).ok().flatten());
        match old {
            None => p.added.push(r.clone()),
            Some(o) if &o == r => p.unchanged += 1,
            Some(o) => p.changed.push((o, r.clone())),
        }
    }
    p.removed = before.into_values().collect();
    p.token = random_token();
    drop(conn);
    crate::db::settings::put_setting(
        &store.conn(),
        &format!("pending_members:{}", p.token),
        &json!({"by": caller.user_id, "at": now_secs(), "rows": rows}).to_string(),
    )?;
    Ok(Ok(p))
}

/// Stores a previewed file, all of it or nothing. Returns the preview it applied.
pub fn apply(store: &Store, caller: &Admin, token: &str) -> AppResult<(usize, usize, usize)> {
    let key = format!("pending_members:{token}");
    let pending = store.get_setting(&key)?.ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::PreviewExpired,
            "Bản xem trước không còn; hãy tải tệp lên lại.",
            "The preview is gone; upload the file again.",
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&pending).map_err(|e| AppError::Internal(e.to_string()))?;
    if v["by"].as_i64() != Some(caller.user_id) {
        return Err(AppError::forbidden());
    }
    let rows: Vec<MemberRow> =
        serde_json::from_value(v["rows"].clone()).map_err(|e| AppError::Internal(e.to_string()))?;
    let orgs: BTreeSet<String> = rows.iter().map(|r| r.org_id.clone()).collect();
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    // Re-checked inside the transaction: the tree may have changed since the preview.
    let table: Vec<Vec<String>> = std::iter::once(
        ["ma", "to_chuc", "ho_ten", "ngay_chinh_thuc", "trang_thai"]
            .map(String::from)
            .to_vec(),
    )
    .chain(rows.iter().map(|r| {
        vec![
            r.id.clone(),
            r.org_id.clone(),
            r.full_name.clone(),
            r.official_since.clone().unwrap_or_default(),
            r.status.clone(),
        ]
    }))
    .collect();
    if let Err(errors) = parse_rows(&tx, caller, &table)? {
        return Err(AppError::bad_request(
            ErrorCode::ImportInvalid,
            format!(
                "Tệp không còn hợp lệ: dòng {} — {}.",
                errors[0].row, errors[0].message_vi
            ),
            format!(
                "The file is no longer valid: row {} — {}.",
                errors[0].row, errors[0].message_en
            ),
        ));
    }
    let before = current(&tx, &orgs)?;
    let listed: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut removed = 0;
    for id in before.keys().filter(|id| !listed.contains(id.as_str())) {
        removed += crate::db::members::delete(&tx, id)?;
    }
    crate::db::members::put_all(&tx, &rows)?;
    crate::db::settings::delete_setting(&tx, &key)?;
    audit(
        &tx,
        caller,
        "members.import",
        &orgs.iter().cloned().collect::<Vec<_>>().join(", "),
        Some(&json!({"members": before.len()})),
        Some(&json!({"members": rows.len(), "removed": removed})),
        "",
    )?;
    tx.commit()?;
    Ok((rows.len(), removed, orgs.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_keep_quotes_separators_and_line_breaks() {
        let rows = parse_csv("a;\"b;c\";\"d \"\"e\"\"\"\r\n1;\"x\ny\";\n", ';');
        assert_eq!(rows[0], vec!["a", "b;c", "d \"e\""]);
        assert_eq!(rows[1], vec!["1", "x\ny", ""]);
    }
}
