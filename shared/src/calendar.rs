//! Working-day calendar built from data: public holidays and make-up working Saturdays.
//!
//! Party texts count many deadlines in "ngày làm việc" without defining them (RULES.md
//! section K). The assumption here is Monday to Friday minus statutory holidays and the
//! government's compensatory days off, plus the Saturdays the government declares as
//! make-up working days. Lunar holidays move every year, so the calendar is data that
//! an administrator can replace; a bundled Vietnamese calendar for 2021–2027 is the
//! default.

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// A working-day calendar. Cheap to query: a bitmap covers the years the data names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkingCalendar {
    name: String,
    holidays: Vec<Date>,
    working_days: Vec<Date>,
    /// Days since epoch of the first day covered by `off`.
    base: i32,
    /// One bit per day from `base`: set when the day is not a working day.
    off: Vec<u64>,
}

/// The serialised form of a calendar, as stored by the administrator and bundled here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CalendarData {
    pub name: String,
    pub note: String,
    pub holidays: Vec<CalendarEntry>,
    /// Weekend days declared as working days (làm bù).
    pub working_days: Vec<CalendarEntry>,
}

/// One dated line of calendar data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEntry {
    pub date: Date,
    #[serde(default)]
    pub name: String,
}

/// How a count of working days is anchored to its triggering event (RULES.md K).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorkingDayConventions {
    pub count_from: CountFrom,
    /// When a due date computed in calendar months falls on a non-working day, move it
    /// to the next working day (civil-law custom; UNVERIFIED for party deadlines).
    pub roll_forward: bool,
}

/// Whether the day of the event itself is the first day counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountFrom {
    /// Day 1 is the first working day after the event (default, civil-law custom).
    DayAfterEvent,
    /// Day 1 is the event day itself when it is a working day.
    EventDay,
}

/// Why calendar data could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("calendar data is not valid: {0}")]
pub struct CalendarError(String);

impl Default for WorkingDayConventions {
    fn default() -> Self {
        WorkingDayConventions {
            count_from: CountFrom::DayAfterEvent,
            roll_forward: true,
        }
    }
}

/// The bundled data, kept beside this file so reviewers can read and diff it.
pub const VN_2021_2027_JSON: &str = include_str!("calendar/vn_2021_2027.json");

/// The bundled Vietnamese calendar as data, for an administrator to start editing from.
pub fn bundled_vietnam_data() -> CalendarData {
    serde_json::from_str(VN_2021_2027_JSON).unwrap_or_default()
}

impl WorkingCalendar {
    /// A calendar from plain lists of holidays and make-up working days.
    pub fn new(
        name: impl Into<String>,
        holidays: impl IntoIterator<Item = Date>,
        working_days: impl IntoIterator<Item = Date>,
    ) -> WorkingCalendar {
        let mut holidays: Vec<Date> = holidays.into_iter().collect();
        let mut working_days: Vec<Date> = working_days.into_iter().collect();
        holidays.sort_unstable();
        holidays.dedup();
        working_days.sort_unstable();
        working_days.dedup();
        let mut cal = WorkingCalendar {
            name: name.into(),
            holidays,
            working_days,
            base: 0,
            off: Vec::new(),
        };
        cal.build_bitmap();
        cal
    }

    /// Monday to Friday with no holidays, for tests and as a last resort.
    pub fn weekends_only() -> WorkingCalendar {
        WorkingCalendar::new("weekends only", [], [])
    }

    pub fn from_data(data: &CalendarData) -> WorkingCalendar {
        WorkingCalendar::new(
            data.name.clone(),
            data.holidays.iter().map(|e| e.date),
            data.working_days.iter().map(|e| e.date),
        )
    }

    pub fn from_json(json: &str) -> Result<WorkingCalendar, CalendarError> {
        let data: CalendarData =
            serde_json::from_str(json).map_err(|e| CalendarError(e.to_string()))?;
        Ok(WorkingCalendar::from_data(&data))
    }

    /// The bundled Vietnamese calendar 2021–2027. The bundled file is checked by a
    /// test; should it ever fail to parse, weekends alone are used rather than panic.
    pub fn vietnam_2021_2027() -> WorkingCalendar {
        WorkingCalendar::from_json(VN_2021_2027_JSON)
            .unwrap_or_else(|_| WorkingCalendar::weekends_only())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the data names any holiday of `year`: a year without one is not covered
    /// (every year has statutory holidays), and its deadlines count weekends only.
    pub fn covers_year(&self, year: i32) -> bool {
        self.holidays.iter().any(|d| d.year() == year)
    }

    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    pub fn working_weekend_days(&self) -> &[Date] {
        &self.working_days
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        let offset = date.days_since_epoch() - self.base;
        if offset >= 0 {
            let offset = offset as usize;
            if let Some(word) = self.off.get(offset / 64) {
                return word & (1u64 << (offset % 64)) == 0;
            }
        }
        // Outside the years the data covers only the weekly rest days are known.
        !date.weekday().is_weekend()
    }

    /// The `n`-th working day counted from `event` under `conventions`. With `n == 0`
    /// the event day itself, rolled forward when the conventions say so.
    pub fn add_working_days(
        &self,
        event: Date,
        n: u32,
        conventions: &WorkingDayConventions,
    ) -> Date {
        if n == 0 {
            return self.roll(event, conventions);
        }
        let mut day = match conventions.count_from {
            CountFrom::DayAfterEvent => event,
            CountFrom::EventDay => event.add_days(-1),
        };
        let mut remaining = n;
        // Fast path inside the bitmap: skip whole 64-day words by counting their
        // working days, then find the exact day bit by bit in the last word.
        loop {
            let offset = i64::from(day.days_since_epoch()) - i64::from(self.base) + 1;
            if offset < 0 {
                break;
            }
            let offset = offset as usize;
            let Some(&word) = self.off.get(offset / 64) else {
                break;
            };
            let shift = offset % 64;
            // Working days are zero bits; look only at days from `offset` onwards.
            let working = !word >> shift;
            let in_word = (64 - shift) as u32;
            let count = if in_word == 64 {
                working.count_ones()
            } else {
                (working & ((1u64 << in_word) - 1)).count_ones()
            };
            if count >= remaining {
                let mut bits = working;
                let mut step = 0;
                loop {
                    if bits & 1 == 1 {
                        remaining -= 1;
                        if remaining == 0 {
                            return day.add_days(step + 1);
                        }
                    }
                    bits >>= 1;
                    step += 1;
                }
            }
            remaining -= count;
            day = day.add_days(in_word as i32);
        }
        while remaining > 0 {
            let next = day.add_days(1);
            if next == day {
                // The end of the supported range: saturate rather than loop forever.
                return day;
            }
            day = next;
            if self.is_working_day(day) {
                remaining -= 1;
            }
        }
        day
    }

    /// Working days `d` with `from < d <= to`; negative when `to` is before `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> i32 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let mut count = 0;
        let mut day = from;
        while day < to {
            day = day.add_days(1);
            if self.is_working_day(day) {
                count += 1;
            }
        }
        count
    }

    /// Moves a calendar due date onto the next working day when the conventions say so.
    pub fn roll(&self, date: Date, conventions: &WorkingDayConventions) -> Date {
        if !conventions.roll_forward {
            return date;
        }
        let mut day = date;
        // Holidays never run longer than a few weeks; the bound keeps bad data harmless.
        for _ in 0..366 {
            if self.is_working_day(day) {
                return day;
            }
            day = day.add_days(1);
        }
        date
    }

    fn build_bitmap(&mut self) {
        let (Some(first), Some(last)) = (
            self.holidays
                .first()
                .into_iter()
                .chain(self.working_days.first())
                .min()
                .copied(),
            self.holidays
                .last()
                .into_iter()
                .chain(self.working_days.last())
                .max()
                .copied(),
        ) else {
            return;
        };
        // Cover whole years so the boundary between data and no-data is easy to explain.
        let start = Date::from_ymd(first.year(), 1, 1).unwrap_or(first);
        let end = Date::from_ymd(last.year(), 12, 31).unwrap_or(last);
        self.base = start.days_since_epoch();
        let len = (end.days_since_epoch() - self.base + 1) as usize;
        self.off = vec![0; len.div_ceil(64)];
        // The padding after the last covered day follows the weekly rule too, so that
        // lookups there agree with the no-data path.
        for i in 0..self.off.len() * 64 {
            let day = start.add_days(i as i32);
            if day.weekday().is_weekend() {
                self.set_off(i, true);
            }
        }
        for h in self.holidays.clone() {
            self.set_off((h.days_since_epoch() - self.base) as usize, true);
        }
        // A make-up working day wins over a holiday listed for the same date.
        for w in self.working_days.clone() {
            self.set_off((w.days_since_epoch() - self.base) as usize, false);
        }
    }

    fn set_off(&mut self, offset: usize, off: bool) {
        if let Some(word) = self.off.get_mut(offset / 64) {
            if off {
                *word |= 1u64 << (offset % 64);
            } else {
                *word &= !(1u64 << (offset % 64));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn vn() -> WorkingCalendar {
        WorkingCalendar::vietnam_2021_2027()
    }

    #[test]
    fn the_bundled_calendar_parses_and_covers_every_year() {
        let cal = WorkingCalendar::from_json(VN_2021_2027_JSON).unwrap();
        for year in 2021..=2027 {
            assert!(
                cal.holidays().iter().filter(|h| h.year() == year).count() >= 9,
                "{year}"
            );
        }
    }

    #[test]
    fn tet_days_are_not_working_days() {
        let cal = vn();
        for tet in [
            "2021-02-12",
            "2022-02-01",
            "2023-01-22",
            "2024-02-10",
            "2025-01-29",
            "2026-02-17",
            "2027-02-06",
        ] {
            let tet = d(tet);
            for offset in -1..=3 {
                assert!(!cal.is_working_day(tet.add_days(offset)), "{tet} {offset}");
            }
        }
    }

    #[test]
    fn make_up_saturdays_are_working_days() {
        let cal = vn();
        assert!(cal.is_working_day(d("2025-02-08")));
        assert!(cal.is_working_day(d("2024-05-04")));
        assert!(!cal.is_working_day(d("2025-02-15")));
    }

    #[test]
    fn working_days_start_the_day_after_the_event_by_default() {
        let cal = WorkingCalendar::weekends_only();
        let conv = WorkingDayConventions::default();
        // Friday + 1 working day is the next Monday.
        assert_eq!(
            cal.add_working_days(d("2025-03-07"), 1, &conv),
            d("2025-03-10")
        );
        assert_eq!(
            cal.add_working_days(d("2025-03-07"), 5, &conv),
            d("2025-03-14")
        );
        let event_day = WorkingDayConventions {
            count_from: CountFrom::EventDay,
            roll_forward: true,
        };
        assert_eq!(
            cal.add_working_days(d("2025-03-07"), 1, &event_day),
            d("2025-03-07")
        );
        assert_eq!(
            cal.add_working_days(d("2025-03-08"), 1, &event_day),
            d("2025-03-10")
        );
    }

    #[test]
    fn thirty_working_days_across_tet_2025_skip_the_holiday_week() {
        let cal = vn();
        let conv = WorkingDayConventions::default();
        // 20/01/2025 (Mon): the Tết break 25/01–02/02 and the make-up Saturday 08/02.
        let due = cal.add_working_days(d("2025-01-20"), 30, &conv);
        assert_eq!(cal.working_days_between(d("2025-01-20"), due), 30);
        assert_eq!(due, d("2025-03-07"));
    }

    #[test]
    fn rolling_forward_moves_weekend_dates_to_monday() {
        let cal = WorkingCalendar::weekends_only();
        let conv = WorkingDayConventions::default();
        assert_eq!(cal.roll(d("2025-03-08"), &conv), d("2025-03-10"));
        let no_roll = WorkingDayConventions {
            roll_forward: false,
            ..conv
        };
        assert_eq!(cal.roll(d("2025-03-08"), &no_roll), d("2025-03-08"));
    }

    #[test]
    fn the_fast_path_agrees_with_counting_day_by_day() {
        let cal = vn();
        let conv = WorkingDayConventions::default();
        let mut start = d("2020-12-01");
        while start < d("2028-02-01") {
            for n in [1, 5, 30, 60, 90] {
                let due = cal.add_working_days(start, n, &conv);
                assert!(cal.is_working_day(due), "{start} + {n}");
                assert_eq!(
                    cal.working_days_between(start, due),
                    n as i32,
                    "{start} + {n}"
                );
            }
            start = start.add_days(3);
        }
    }

    #[test]
    fn working_days_between_is_antisymmetric() {
        let cal = vn();
        let (a, b) = (d("2024-12-20"), d("2025-02-20"));
        assert_eq!(
            cal.working_days_between(a, b),
            -cal.working_days_between(b, a)
        );
        assert_eq!(cal.working_days_between(a, a), 0);
    }
}
