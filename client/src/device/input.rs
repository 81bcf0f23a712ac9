//! What a cadre types, read strictly: dates as written by hand in Vietnam.
//!
//! Accepted: `dd/mm/yyyy`, `d/m/yyyy` (also with `-` or `.`), and eight digits
//! `ddmmyyyy`. A value that is refused is never dropped by the caller: it stays on
//! screen as a draft with the error until it is fixed or discarded.

use shared::date::{Date, TypedDateError};

/// Why a typed date was refused, as a bilingual "vi / en" message.
pub const BAD_FORMAT: &str = "Ngày phải có dạng dd/mm/yyyy / Use dd/mm/yyyy";
pub const NO_SUCH_DATE: &str = "Ngày không tồn tại (kiểm tra ngày và tháng) / No such date";
pub const YEAR_DIGITS: &str = "Năm phải có 4 chữ số / The year needs 4 digits";

/// Parses a typed date ([`Date::parse_typed`]), with the message to show.
pub fn parse_vn_date(s: &str) -> Result<Date, &'static str> {
    Date::parse_typed(s).map_err(|e| match e {
        TypedDateError::Format => BAD_FORMAT,
        TypedDateError::Year => YEAR_DIGITS,
        TypedDateError::NoSuchDay => NO_SUCH_DATE,
    })
}

/// Parses a typed whole number (vote counts, members): empty is "no value".
pub fn parse_count(s: &str) -> Result<Option<u32>, &'static str> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<u32>() {
        Ok(n) if n <= 100_000 => Ok(Some(n)),
        _ => Err("Nhập số nguyên không âm, ví dụ 25 / Enter a whole number, e.g. 25"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<&str, &str>) {
        let got = parse_vn_date(input).map(|d| d.to_string());
        assert_eq!(got.as_deref().map_err(|e| *e), expect, "input {input:?}");
    }

    #[test]
    fn dates_are_read_as_cadres_write_them() {
        check("15/03/2000", Ok("2000-03-15"));
        check("5/3/2000", Ok("2000-03-05"));
        check("05-03-2000", Ok("2000-03-05"));
        check("5.3.2000", Ok("2000-03-05"));
        check(" 15032000 ", Ok("2000-03-15"));
        check("29/02/2024", Ok("2024-02-29"));
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused_with_a_reason() {
        check("31/02/2026", Err(NO_SUCH_DATE));
        check("31022026", Err(NO_SUCH_DATE));
        check("29/02/2025", Err(NO_SUCH_DATE));
        check("15/03/00", Err(YEAR_DIGITS));
        check("15/3", Err(BAD_FORMAT));
        check("1503200", Err(BAD_FORMAT));
        check("ab/cd/efgh", Err(BAD_FORMAT));
        check("123/1/2000", Err(BAD_FORMAT));
        check("", Err(BAD_FORMAT));
    }

    #[test]
    fn counts_are_whole_numbers() {
        assert_eq!(parse_count(" 25 "), Ok(Some(25)));
        assert_eq!(parse_count(""), Ok(None));
        assert!(parse_count("-1").is_err());
        assert!(parse_count("2,5").is_err());
    }
}
