//! A calendar date without time or time zone, with the month arithmetic the rules need.
//!
//! Party deadlines and ages are counted in whole days and calendar months, never in
//! instants, so a plain day number is both enough and the same on every platform.
//! Internally a `Date` is the number of days since 1970-01-01 in the proleptic
//! Gregorian calendar, which makes comparisons and day arithmetic single integer ops.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Gregorian calendar date between years 1 and 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

/// Why a date could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("year {0} is outside 1..=9999")]
    YearOutOfRange(i32),
    #[error("month {0} is outside 1..=12")]
    MonthOutOfRange(u32),
    #[error("day {day} does not exist in {year:04}-{month:02}")]
    DayOutOfRange { year: i32, month: u32, day: u32 },
    #[error("`{0}` is not a date in the form YYYY-MM-DD")]
    Syntax(String),
}

/// Day of the week, Monday first as in Vietnamese usage (thứ Hai is the first working day).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// Saturday and Sunday are the weekly rest days of the civil service.
    pub fn is_weekend(self) -> bool {
        matches!(self, Weekday::Saturday | Weekday::Sunday)
    }
}

const MIN_DAYS: i32 = -719_162; // 0001-01-01
const MAX_DAYS: i32 = 2_932_896; // 9999-12-31

/// Vietnam's offset from UTC, the same all year (the country keeps no summer time).
pub const VIETNAM_UTC_OFFSET_SECS: i64 = 7 * 3600;

const SECS_PER_DAY: i64 = 86_400;

impl Date {
    /// Builds a date, rejecting impossible ones such as 2023-02-29.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(1..=9999).contains(&year) {
            return Err(DateError::YearOutOfRange(year));
        }
        if !(1..=12).contains(&month) {
            return Err(DateError::MonthOutOfRange(month));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(DateError::DayOutOfRange { year, month, day });
        }
        Ok(Date {
            days: days_from_civil(year, month, day),
        })
    }

    /// The date `days` after 1970-01-01, clamped to the supported range.
    pub fn from_days_since_epoch(days: i32) -> Date {
        Date {
            days: days.clamp(MIN_DAYS, MAX_DAYS),
        }
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    pub fn year(self) -> i32 {
        civil_from_days(self.days).0
    }

    pub fn month(self) -> u32 {
        civil_from_days(self.days).1
    }

    pub fn day(self) -> u32 {
        civil_from_days(self.days).2
    }

    /// Year, month and day in one conversion, for callers that need more than one.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.days)
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday.
        match (self.days + 3).rem_euclid(7) {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            _ => Weekday::Sunday,
        }
    }

    /// Adds (or with a negative `n` subtracts) days; saturates at the supported range
    /// so that bad input can never panic.
    pub fn add_days(self, n: i32) -> Date {
        Date::from_days_since_epoch(self.days.saturating_add(n))
    }

    /// Adds calendar months keeping the day of the month, clamped to the last day of
    /// the target month (31/01 + 1 month = 28/02 or 29/02; 29/02 + 12 months = 28/02).
    /// This is the end-of-month policy for every month-based rule (age, probation,
    /// certificate validity, staleness, re-admission waiting time).
    pub fn add_months(self, n: i32) -> Date {
        let (y, m, d) = self.ymd();
        let index = i64::from(y) * 12 + i64::from(m) - 1 + i64::from(n);
        let year = index.div_euclid(12);
        let month = (index.rem_euclid(12) + 1) as u32;
        if year < 1 {
            return Date { days: MIN_DAYS };
        }
        if year > 9999 {
            return Date { days: MAX_DAYS };
        }
        let year = year as i32;
        let day = d.min(days_in_month(year, month));
        Date {
            days: days_from_civil(year, month, day),
        }
    }

    /// Number of whole calendar months from `self` to `later`: the largest `k >= 0` with
    /// `self.add_months(k) <= later`, and the negated count when `later` is earlier
    /// (so the result truncates toward zero in both directions).
    pub fn months_between(self, later: Date) -> i32 {
        if later < self {
            return -later.months_between(self);
        }
        let (y1, m1, _) = self.ymd();
        let (y2, m2, _) = later.ymd();
        let k = (y2 - y1) * 12 + (m2 as i32 - m1 as i32);
        // The month difference overshoots by one when the day of the month has not been
        // reached yet; add_months is monotone, so one correction step suffices.
        if k > 0 && self.add_months(k) > later {
            k - 1
        } else {
            k
        }
    }

    /// Whole years from `self` to `later`, i.e. the age on `later` of someone born on `self`.
    pub fn years_between(self, later: Date) -> i32 {
        self.months_between(later).div_euclid(12)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i32 {
        later.days - self.days
    }

    /// The calendar day in Vietnam (UTC+7) at an instant given as seconds since the Unix
    /// epoch: the day rules are evaluated at and reports count to, whatever the time zone
    /// of the machine. The caller reads the clock; instants beyond the supported range
    /// give its first or last day.
    pub fn vietnam_day(unix_secs: i64) -> Date {
        Date::vietnam_day_and_seconds(unix_secs).0
    }

    /// The day in Vietnam at `unix_secs` ([`Date::vietnam_day`]) and the seconds since
    /// its local midnight (0 to 86,399), for showing a time of day.
    pub fn vietnam_day_and_seconds(unix_secs: i64) -> (Date, u32) {
        let local = unix_secs.saturating_add(VIETNAM_UTC_OFFSET_SECS);
        let days = local.div_euclid(SECS_PER_DAY);
        let days = days.clamp(i64::from(MIN_DAYS), i64::from(MAX_DAYS)) as i32;
        (
            Date::from_days_since_epoch(days),
            local.rem_euclid(SECS_PER_DAY) as u32,
        )
    }

    /// The Vietnamese display form "dd/mm/yyyy".
    pub fn format_vn(&self) -> String {
        let (y, m, d) = self.ymd();
        format!("{d:02}/{m:02}/{y:04}")
    }
}

/// Whether `year` has a 29 February.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Length of a month; 0 for an invalid month so callers reject every day.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil: exact for the whole proleptic Gregorian calendar.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl Date {
    /// A date as a person types it: `dd/mm/yyyy`, `d/m/yyyy` (also with `-` or `.`) or
    /// eight digits `ddmmyyyy` (numeric keypads), year 1900–2100; the error says why.
    pub fn parse_typed(s: &str) -> Result<Date, TypedDateError> {
        let t = s.trim();
        let (d, m, y) = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
            (&t[0..2], &t[2..4], &t[4..8])
        } else {
            let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
            match parts.as_slice() {
                [d, m, y] => (*d, *m, *y),
                _ => return Err(TypedDateError::Format),
            }
        };
        let num = |p: &str| {
            let p = p.trim();
            (!p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse::<u32>().ok())
                .flatten()
        };
        match (num(d), num(m), num(y)) {
            (Some(dd), Some(mm), Some(yy)) if d.trim().len() <= 2 && m.trim().len() <= 2 => {
                if y.trim().len() != 4 || !(1900..=2100).contains(&yy) {
                    return Err(TypedDateError::Year);
                }
                Date::from_ymd(yy as i32, mm, dd).map_err(|_| TypedDateError::NoSuchDay)
            }
            _ => Err(TypedDateError::Format),
        }
    }

    /// A date as typed ([`Date::parse_typed`], years 1900–2100) or in ISO `yyyy-mm-dd`
    /// (any year a `Date` holds, as links and exports write it); `None` otherwise. The
    /// one reader of a date typed into a form or a query; callers word the refusal.
    pub fn parse_vn(s: &str) -> Option<Date> {
        s.trim()
            .parse::<Date>()
            .ok()
            .or_else(|| Date::parse_typed(s).ok())
    }
}

/// Why a typed date was refused; each caller turns it into its own message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TypedDateError {
    /// Not `dd/mm/yyyy`, `d/m/yyyy` or `ddmmyyyy`.
    #[error("not a date in the form dd/mm/yyyy")]
    Format,
    /// The year is not four digits between 1900 and 2100.
    #[error("the year is not four digits between 1900 and 2100")]
    Year,
    /// A day the calendar does not have (31/02, or month 13).
    #[error("no such day in the calendar")]
    NoSuchDay,
}

impl FromStr for Date {
    type Err = DateError;

    /// Parses exactly "YYYY-MM-DD"; anything looser would let two devices store the
    /// same day under different strings.
    fn from_str(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        let syntax = || DateError::Syntax(s.to_owned());
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(syntax());
        }
        let num = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            b[range].iter().try_fold(0u32, |acc, &c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u32::from(c - b'0'))
                } else {
                    Err(syntax())
                }
            })
        };
        let year = num(0..4)? as i32;
        let month = num(5..7)?;
        let day = num(8..10)?;
        Date::from_ymd(year, month, day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Date;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date string YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Date, E> {
                v.parse()
                    .map_err(|e: DateError| E::custom(format!("invalid date `{v}`: {e}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_people_type_them() {
        let d = Date::from_ymd(2026, 3, 7).unwrap();
        for s in [
            "07/03/2026",
            "7/3/2026",
            "07-03-2026",
            "07.03.2026",
            "07032026",
            "2026-03-07",
            " 7/03/2026 ",
        ] {
            assert_eq!(Date::parse_vn(s), Some(d), "{s}");
        }
        for s in [
            "31/02/2026",
            "7/3/26",
            "0703202",
            "",
            "a/b/cccc",
            "1/1/2026/1",
        ] {
            assert_eq!(Date::parse_vn(s), None, "{s}");
        }
    }

    fn check_typed(input: &str, expect: Result<&str, TypedDateError>) {
        let got = Date::parse_typed(input).map(|d| d.to_string());
        assert_eq!(got.as_deref().map_err(|e| *e), expect, "input {input:?}");
    }

    #[test]
    fn a_typed_date_is_refused_with_the_reason() {
        check_typed("1/2/2024", Ok("2024-02-01"));
        check_typed("29/02/2024", Ok("2024-02-29"));
        check_typed("31/12/2100", Ok("2100-12-31"));
        check_typed("01/01/1900", Ok("1900-01-01"));
        check_typed("31/02/2024", Err(TypedDateError::NoSuchDay));
        check_typed("29/02/2023", Err(TypedDateError::NoSuchDay));
        check_typed("31/04/2025", Err(TypedDateError::NoSuchDay));
        check_typed("0/1/2025", Err(TypedDateError::NoSuchDay));
        check_typed("1/13/2025", Err(TypedDateError::NoSuchDay));
        check_typed("1/0/2025", Err(TypedDateError::NoSuchDay));
        check_typed("31/12/1899", Err(TypedDateError::Year));
        check_typed("1/1/2101", Err(TypedDateError::Year));
        check_typed("1/1/0000", Err(TypedDateError::Year));
        check_typed("1/1/9999", Err(TypedDateError::Year));
        check_typed("1/1/99", Err(TypedDateError::Year));
        check_typed("1/1/10000", Err(TypedDateError::Format));
        check_typed("+1/1/2025", Err(TypedDateError::Format));
        check_typed("-1/1/2025", Err(TypedDateError::Format));
        check_typed("001/1/2025", Err(TypedDateError::Format));
        check_typed("2025/01/01", Err(TypedDateError::Format));
        check_typed("١/١/٢٠٢٥", Err(TypedDateError::Format));
    }

    #[test]
    fn an_iso_date_is_read_over_the_whole_range_a_date_holds() {
        assert_eq!(Date::parse_vn("0001-01-01"), Some(d("0001-01-01")));
        assert_eq!(Date::parse_vn("9999-12-31"), Some(d("9999-12-31")));
        assert_eq!(Date::parse_vn("0000-12-31"), None);
        assert_eq!(Date::parse_vn("2024-02-30"), None);
        assert_eq!(Date::parse_vn("31/02/2024"), None);
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// Seconds since the epoch of `hh:mm:ss` UTC on the ISO day `day`.
    fn utc(day: &str, h: i64, m: i64, s: i64) -> i64 {
        i64::from(d(day).days_since_epoch()) * 86_400 + h * 3600 + m * 60 + s
    }

    #[test]
    fn the_vietnamese_day_turns_at_midnight_utc_plus_seven() {
        assert_eq!(
            Date::vietnam_day(utc("2026-03-06", 16, 59, 59)),
            d("2026-03-06")
        );
        assert_eq!(
            Date::vietnam_day(utc("2026-03-06", 17, 0, 0)),
            d("2026-03-07")
        );
        assert_eq!(
            Date::vietnam_day(utc("2026-03-07", 0, 0, 0)),
            d("2026-03-07")
        );
        assert_eq!(
            Date::vietnam_day(utc("2026-03-07", 16, 59, 59)),
            d("2026-03-07")
        );
        assert_eq!(
            Date::vietnam_day(utc("2025-12-31", 17, 0, 0)),
            d("2026-01-01")
        );
        assert_eq!(Date::vietnam_day(0), d("1970-01-01"));
        assert_eq!(Date::vietnam_day(-25_201), d("1969-12-31"));
        assert_eq!(Date::vietnam_day(-25_200), d("1970-01-01"));
    }

    #[test]
    fn the_vietnamese_time_of_day_counts_from_local_midnight() {
        let at = |h, m, s| Date::vietnam_day_and_seconds(utc("2026-03-06", h, m, s));
        assert_eq!(at(16, 59, 59), (d("2026-03-06"), 86_399));
        assert_eq!(at(17, 0, 0), (d("2026-03-07"), 0));
        assert_eq!(at(1, 30, 0), (d("2026-03-06"), 8 * 3600 + 30 * 60));
        assert_eq!(
            Date::vietnam_day_and_seconds(-25_201),
            (d("1969-12-31"), 86_399)
        );
    }

    #[test]
    fn an_instant_beyond_the_range_gives_the_first_or_last_day() {
        assert_eq!(Date::vietnam_day(i64::MAX), d("9999-12-31"));
        assert_eq!(Date::vietnam_day(i64::MIN), d("0001-01-01"));
    }

    fn check_add_months(start: &str, n: i32, expected: &str) {
        assert_eq!(
            d(start).add_months(n).to_string(),
            expected,
            "{start} + {n} months"
        );
    }

    #[test]
    fn months_are_added_with_an_end_of_month_clamp() {
        check_add_months("2024-01-31", 1, "2024-02-29");
        check_add_months("2023-01-31", 1, "2023-02-28");
        check_add_months("2024-02-29", 12, "2025-02-28");
        check_add_months("2024-02-29", 48, "2028-02-29");
        check_add_months("2020-01-15", 60, "2025-01-15");
        check_add_months("2025-03-31", -1, "2025-02-28");
        check_add_months("2025-12-15", 1, "2026-01-15");
        check_add_months("2025-01-15", -13, "2023-12-15");
        check_add_months("2025-05-31", 0, "2025-05-31");
    }

    #[test]
    fn months_between_counts_only_completed_months() {
        assert_eq!(d("2007-03-15").months_between(d("2025-03-14")), 215);
        assert_eq!(d("2007-03-15").months_between(d("2025-03-15")), 216);
        assert_eq!(d("2024-01-31").months_between(d("2024-02-29")), 1);
        assert_eq!(d("2024-01-31").months_between(d("2024-02-28")), 0);
        assert_eq!(d("2025-03-15").months_between(d("2025-01-20")), -1);
        assert_eq!(d("2025-03-15").months_between(d("2025-01-15")), -2);
    }

    #[test]
    fn iso_strings_round_trip_and_bad_ones_are_rejected() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-02-29").to_string(), "2000-02-29");
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023-2-28".parse::<Date>().is_err());
        assert!("2023-02-2x".parse::<Date>().is_err());
        assert!("+023-02-28".parse::<Date>().is_err());
        assert!("0000-01-01".parse::<Date>().is_err());
        assert!("".parse::<Date>().is_err());
        assert!("2025-01-0١".parse::<Date>().is_err());
    }

    #[test]
    fn weekdays_match_the_calendar() {
        assert_eq!(d("1970-01-01").weekday(), Weekday::Thursday);
        assert_eq!(d("2025-01-29").weekday(), Weekday::Wednesday);
        assert_eq!(d("2026-02-17").weekday(), Weekday::Tuesday);
        assert_eq!(d("1969-12-28").weekday(), Weekday::Sunday);
    }

    #[test]
    fn vietnamese_format_is_day_month_year() {
        assert_eq!(d("2025-07-01").format_vn(), "01/07/2025");
    }

    #[test]
    fn serde_uses_the_iso_string_and_names_the_bad_value() {
        let json = serde_json::to_string(&d("2025-07-01")).unwrap();
        assert_eq!(json, "\"2025-07-01\"");
        let err = serde_json::from_str::<Date>("\"2025-13-01\"").unwrap_err();
        assert!(err.to_string().contains("2025-13-01"), "{err}");
    }

    #[test]
    fn arithmetic_saturates_instead_of_panicking() {
        let max = d("9999-12-31");
        assert_eq!(max.add_days(i32::MAX), max);
        assert_eq!(max.add_months(i32::MAX), max);
        assert_eq!(d("0001-01-01").add_months(i32::MIN), d("0001-01-01"));
    }
}
