//! Rollups of the published figures: small tables of counts per organisation and per
//! month and year, kept in step with `projections` by SQLite triggers in the transaction of
//! every projection write, so that a dashboard over a million case files reads thousands
//! of rows instead of hundreds of thousands.
//!
//! Each family counts the projection rows that carry one date (admissions by decision
//! date, recognitions by official date, class certificates by certificate date, a cohort
//! by its entry date) in a table keyed by `(level, bucket, org_id)`: `level` is `y`
//! (bucket `YYYY`) or `m` (bucket `YYYY-MM`), and `org_id` is the file's own
//! organisation. A row holds one column per measure (the number of files, and those that
//! are women, of each occupation, …), so a breakdown is a sum of columns, not a group of
//! rows. Rows that fall to zero are deleted.
//!
//! A period is read as whole years from the `y` rows, whole months from the `m` rows, and
//! the days left at its edges (a term from one congress to the next starts and ends
//! mid-month) straight from the projections through the index on the date, with the same
//! measure expressions. A subtree is a semi-join on the organisation tree by the range of
//! materialised paths (`path >= '/a/b/' AND path < '/a/b0'`): keying the rollups by the
//! file's own organisation means that moving an organisation changes no rollup row.
//!
//! The families, their tables and triggers and the statements that read them are
//! `crate::db::rollups`; the migration that creates the tables and triggers is generated
//! from the families and kept in `db/rollups.sql` (a test checks that the file is what the
//! families generate; a change of a family needs a new migration). This module plans the
//! reads of a period and puts their sums together.

use std::collections::BTreeMap;

use crate::db::Connection;
use crate::db::rollups::{self as db, SumRead};
use shared::date::{Date, days_in_month};

use crate::casedocs::scope_range;
use crate::error::AppResult;
use crate::reports::Period;

pub use crate::db::rollups::{
    EDUCATION_CODES, Family, Row, admitted, certified, cohort, families, migration, official,
};

/// How a part of a period is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Years,
    Months,
    Days,
}

/// A run of whole years, whole months or days of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub level: Level,
    pub from: Date,
    pub to: Date,
}

fn month_end(d: Date) -> Date {
    let (y, m, _) = d.ymd();
    Date::from_ymd(y, m, days_in_month(y, m)).unwrap_or(d)
}

fn year_end(y: i32) -> Date {
    Period::year(y).to
}

/// Splits a period into runs of whole years (when `years`), whole months and days, in
/// order. No part crosses a year; a part of days lies inside one month.
pub fn parts(p: Period, years: bool) -> Vec<Part> {
    let mut out = Vec::new();
    let mut cur = p.from;
    while cur <= p.to {
        let (y, m, d) = cur.ymd();
        if years && m == 1 && d == 1 && year_end(y) <= p.to {
            let mut last = y;
            // 9999 is the last year a date can hold (an open-ended period ends there).
            while last < 9999 && year_end(last + 1) <= p.to {
                last += 1;
            }
            out.push(Part {
                level: Level::Years,
                from: cur,
                to: year_end(last),
            });
            cur = year_end(last).add_days(1);
        } else if d == 1 && month_end(cur) <= p.to {
            let mut last = month_end(cur);
            while last.month() < 12 && month_end(last.add_days(1)) <= p.to {
                last = month_end(last.add_days(1));
            }
            out.push(Part {
                level: Level::Months,
                from: cur,
                to: last,
            });
            cur = last.add_days(1);
        } else {
            let to = month_end(cur).min(p.to);
            out.push(Part {
                level: Level::Days,
                from: cur,
                to,
            });
            cur = to.add_days(1);
        }
        // The last day a date can hold has no next day (adding saturates there).
        if out.last().is_some_and(|x| x.to >= p.to) {
            break;
        }
    }
    out
}

/// One read of a period: a part with its sign, and the days of the period it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    pub part: Part,
    /// +1, or -1 for a part taken away from a whole year.
    pub sign: i64,
    /// The days of the period this read is counted under (a part alone stands for itself;
    /// a year and the parts taken from it stand together for what is left).
    pub span: (Date, Date),
}

/// What reading a part costs, in month buckets: a bucket of months holds a row per
/// organisation, a day is read from the projections' date index (a fraction of that).
fn cost(p: &Part) -> f64 {
    match p.level {
        Level::Years => 1.0,
        Level::Months => f64::from(p.to.month() - p.from.month() + 1),
        Level::Days => 0.15 * f64::from(p.from.days_until(p.to) + 1),
    }
}

/// The reads that give a period's sums: [`parts`], except that where a period holds most
/// of a calendar year (when whole years may be read), the year's row minus what lies
/// outside the period is read instead of its months one by one: the counts are sums, so
/// January–September is the year less October–December.
pub fn plan_reads(p: Period, years: bool) -> Vec<Read> {
    let plain = |part: Part| Read {
        part,
        sign: 1,
        span: (part.from, part.to),
    };
    let all = parts(p, years);
    if !years {
        return all.into_iter().map(plain).collect();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < all.len() {
        if all[i].level == Level::Years {
            out.push(plain(all[i]));
            i += 1;
            continue;
        }
        // The run of months and days inside one calendar year.
        let y = all[i].from.year();
        let mut j = i;
        while j < all.len() && all[j].level != Level::Years && all[j].from.year() == y {
            j += 1;
        }
        let (a, b) = (all[i].from, all[j - 1].to);
        let year = Period::year(y);
        let mut outside = Vec::new();
        if a > year.from {
            outside.extend(parts(
                Period {
                    from: year.from,
                    to: a.add_days(-1),
                },
                false,
            ));
        }
        if b < year.to {
            outside.extend(parts(
                Period {
                    from: b.add_days(1),
                    to: year.to,
                },
                false,
            ));
        }
        let direct: f64 = all[i..j].iter().map(cost).sum();
        let complement = 1.0 + outside.iter().map(cost).sum::<f64>();
        if complement < direct {
            let whole = Part {
                level: Level::Years,
                from: year.from,
                to: year.to,
            };
            out.push(Read {
                part: whole,
                sign: 1,
                span: (a, b),
            });
            out.extend(outside.into_iter().map(|part| Read {
                part,
                sign: -1,
                span: (a, b),
            }));
        } else {
            out.extend(all[i..j].iter().copied().map(plain));
        }
        i = j;
    }
    out
}

fn bucket_of(level: Level, d: Date) -> String {
    match level {
        Level::Years => format!("{:04}", d.year()),
        _ => format!("{:04}-{:02}", d.year(), d.month()),
    }
}

fn bucket_range(bucket: &str) -> Option<(Date, Date)> {
    let y: i32 = bucket.get(0..4)?.parse().ok()?;
    match bucket.get(5..7) {
        Some(m) => {
            let from = Date::from_ymd(y, m.parse().ok()?, 1).ok()?;
            Some((from, month_end(from)))
        }
        None => Some((Period::year(y).from, year_end(y))),
    }
}

/// Sums of measures of a family under a subtree, summed over the period or kept apart per
/// organisation, per bucket and/or per key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sum {
    /// The days the sum covers (a bucket, or a part of days, or the whole period).
    pub from: Date,
    pub to: Date,
    pub org_id: Option<String>,
    /// The family's keys, when kept apart.
    pub keys: Vec<i64>,
    pub values: Vec<i64>,
}

/// A sum's span, organisation and keys.
type SumKey = (Date, Date, Option<String>, Vec<i64>);

/// What a reading keeps apart.
#[derive(Debug, Clone, Copy, Default)]
pub struct Split {
    pub by_org: bool,
    /// Per month or year bucket (and per part of days).
    pub by_bucket: bool,
    /// Per value of the family's keys.
    pub by_keys: bool,
    /// Read whole years from the `y` rows; without it a year is read as twelve months
    /// (what a monthly series needs).
    pub years: bool,
}

/// Reads `cols` of `family` for the subtree at `root_path` over `period`.
pub fn read(
    conn: &Connection,
    family: &Family,
    root_path: &str,
    period: Period,
    cols: &[&str],
    split: Split,
) -> AppResult<Vec<Sum>> {
    let (lo, hi) = scope_range(root_path);
    let idx: Vec<usize> = cols.iter().map(|c| family.index(c)).collect();
    let nk = if split.by_keys { family.keys.len() } else { 0 };
    let mut out: Vec<Sum> = Vec::new();
    let whole_tree = crate::db::orgs::holds_every_org(conn, &lo, &hi)?;
    let mut combined = false;
    for read in plan_reads(period, split.years) {
        let part = read.part;
        let composite = read.span != (part.from, part.to);
        combined |= composite;
        let (source, from, to) = match part.level {
            Level::Days => (db::Source::Days, part.from.to_string(), part.to.to_string()),
            level => (
                if level == Level::Years {
                    db::Source::Years
                } else {
                    db::Source::Months
                },
                bucket_of(level, part.from),
                bucket_of(level, part.to),
            ),
        };
        let query = SumRead {
            source,
            from,
            to,
            measures: &idx,
            by_bucket: split.by_bucket,
            by_org: split.by_org,
            keys: nk,
            within: (!whole_tree).then_some((lo.as_str(), hi.as_str())),
        };
        db::each_sum(conn, family, &query, |row| {
            let (from, to) = if composite {
                read.span
            } else {
                row.bucket
                    .as_deref()
                    .and_then(bucket_range)
                    .unwrap_or((part.from, part.to))
            };
            let mut values = row.values;
            for v in &mut values {
                *v *= read.sign;
            }
            out.push(Sum {
                from,
                to,
                org_id: row.org_id,
                keys: row.keys,
                values,
            });
        })?;
    }
    if combined && (split.by_org || split.by_bucket) {
        // A year and the parts taken from it become one sum per span, organisation and
        // keys; a sum that comes to nothing is dropped, as a bucket without rows would be.
        let mut merged: BTreeMap<SumKey, Vec<i64>> = BTreeMap::new();
        for s in out {
            let at = merged
                .entry((s.from, s.to, s.org_id, s.keys))
                .or_insert_with(|| vec![0; s.values.len()]);
            for (t, v) in at.iter_mut().zip(&s.values) {
                *t += v;
            }
        }
        out = merged
            .into_iter()
            .filter(|(_, v)| v.iter().any(|x| *x != 0))
            .map(|((from, to, org_id, keys), values)| Sum {
                from,
                to,
                org_id,
                keys,
                values,
            })
            .collect();
    }
    if !split.by_org && !split.by_bucket {
        // One sum over the whole period per value of the keys.
        let mut merged: Vec<Sum> = Vec::new();
        for s in out {
            match merged.iter_mut().find(|m| m.keys == s.keys) {
                Some(m) => {
                    for (t, v) in m.values.iter_mut().zip(&s.values) {
                        *t += v;
                    }
                }
                None => merged.push(Sum {
                    from: period.from,
                    to: period.to,
                    ..s
                }),
            }
        }
        if merged.is_empty() && nk == 0 {
            merged.push(Sum {
                from: period.from,
                to: period.to,
                org_id: None,
                keys: vec![],
                values: vec![0; cols.len()],
            });
        }
        merged.sort_by(|a, b| a.keys.cmp(&b.keys));
        return Ok(merged);
    }
    Ok(out)
}

/// Files of the subtree without the family's date (families counting undated files).
pub fn undated(conn: &Connection, family: &Family, root_path: &str) -> AppResult<i64> {
    let (lo, hi) = scope_range(root_path);
    Ok(db::undated_files(conn, family, &lo, &hi)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value as SqlValue;
    use crate::db::rollups::checks;
    use shared::model::EducationLevel;

    #[test]
    fn the_stored_migration_is_what_the_families_generate() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/rollups.sql");
        if std::env::var_os("WRITE_ROLLUPS_SQL").is_some() {
            std::fs::write(path, migration()).unwrap();
        }
        let stored = std::fs::read_to_string(path).unwrap();
        assert!(
            stored == migration(),
            "rollups.sql differs from the families; a changed family needs a new migration"
        );
    }

    #[test]
    fn the_stored_guard_migration_is_what_the_families_generate() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/db/rollups_guard.sql");
        if std::env::var_os("WRITE_ROLLUPS_SQL").is_some() {
            std::fs::write(path, crate::db::rollups::guard_migration()).unwrap();
        }
        let stored = std::fs::read_to_string(path).unwrap();
        assert!(
            stored == crate::db::rollups::guard_migration(),
            "rollups_guard.sql differs from the families; a changed family needs a new migration"
        );
    }

    #[test]
    fn education_codes_are_the_models() {
        for c in EDUCATION_CODES {
            let e: EducationLevel = serde_json::from_str(&format!("\"{c}\"")).unwrap();
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{c}\""));
        }
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// A period of up to about four years starting around 2020.
    fn random_period(rng: &mut shared::rand::XorShift) -> (Date, Date) {
        let from = d("2019-12-20").add_days(rng.below(900) as i32);
        (from, from.add_days(rng.below(1500) as i32))
    }

    #[test]
    fn a_period_splits_into_years_months_and_days_that_cover_it_once() {
        let p = Period {
            from: d("2020-10-14"),
            to: d("2025-10-11"),
        };
        let got: Vec<(Level, String, String)> = parts(p, true)
            .iter()
            .map(|x| (x.level, x.from.to_string(), x.to.to_string()))
            .collect();
        let want = [
            (Level::Days, "2020-10-14", "2020-10-31"),
            (Level::Months, "2020-11-01", "2020-12-31"),
            (Level::Years, "2021-01-01", "2024-12-31"),
            (Level::Months, "2025-01-01", "2025-09-30"),
            (Level::Days, "2025-10-01", "2025-10-11"),
        ];
        assert_eq!(got, want.map(|(l, a, b)| (l, a.to_string(), b.to_string())));
        // An open-ended period (to the last day a date can hold) ends in one part.
        let open = parts(
            Period {
                from: d("2020-01-01"),
                to: Date::from_ymd(9999, 12, 31).unwrap(),
            },
            true,
        );
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].to, Date::from_ymd(9999, 12, 31).unwrap());
        // Without years, a whole year is twelve months in one part.
        assert_eq!(
            parts(Period::year(2024), false),
            vec![Part {
                level: Level::Months,
                from: d("2024-01-01"),
                to: d("2024-12-31")
            }]
        );
        // Every day of many periods is covered exactly once, parts in order.
        let mut rng = shared::rand::XorShift::new(7);
        for _ in 0..300 {
            let (from, to) = random_period(&mut rng);
            for years in [true, false] {
                let ps = parts(Period { from, to }, years);
                let mut next = from;
                for x in &ps {
                    assert_eq!(x.from, next);
                    assert!(x.to >= x.from);
                    if x.level != Level::Years {
                        assert_eq!(x.from.year(), x.to.year());
                    }
                    if x.level == Level::Days {
                        assert_eq!(x.from.month(), x.to.month());
                    }
                    next = x.to.add_days(1);
                }
                assert_eq!(next, to.add_days(1));
            }
        }
    }

    #[test]
    fn a_year_less_what_lies_outside_counts_each_day_of_the_period_once() {
        let term = Period {
            from: d("2020-10-14"),
            to: d("2025-10-11"),
        };
        let got: Vec<(Level, String, String, i64)> = plan_reads(term, true)
            .iter()
            .map(|r| {
                (
                    r.part.level,
                    r.part.from.to_string(),
                    r.part.to.to_string(),
                    r.sign,
                )
            })
            .collect();
        let want = [
            (Level::Days, "2020-10-14", "2020-10-31", 1),
            (Level::Months, "2020-11-01", "2020-12-31", 1),
            (Level::Years, "2021-01-01", "2024-12-31", 1),
            // January to 11 October: the year less 12 October to December.
            (Level::Years, "2025-01-01", "2025-12-31", 1),
            (Level::Days, "2025-10-12", "2025-10-31", -1),
            (Level::Months, "2025-11-01", "2025-12-31", -1),
        ];
        assert_eq!(
            got,
            want.map(|(l, a, b, s)| (l, a.to_string(), b.to_string(), s))
        );
        // Monthly readings keep their months.
        assert!(plan_reads(term, false).iter().all(|r| r.sign == 1));
        // Over many periods, every day inside counts once and every day outside nets to
        // nothing, and each read is counted under a span inside the period.
        let mut rng = shared::rand::XorShift::new(11);
        for _ in 0..300 {
            let (from, to) = random_period(&mut rng);
            let reads = plan_reads(Period { from, to }, true);
            let mut day = d("2019-01-01");
            while day <= d("2025-12-31") {
                let n: i64 = reads
                    .iter()
                    .filter(|r| r.part.from <= day && day <= r.part.to)
                    .map(|r| r.sign)
                    .sum();
                let inside = from <= day && day <= to;
                assert_eq!(n, i64::from(inside), "{day} in {from}..{to}");
                day = day.add_days(1);
            }
            for r in &reads {
                assert!(from <= r.span.0 && r.span.1 <= to && r.span.0 <= r.span.1);
            }
        }
    }

    struct Rng(shared::rand::XorShift);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0.below(n)
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len() as u64) as usize]
        }
        fn date(&mut self) -> Option<String> {
            (self.below(5) > 0).then(|| {
                d("2021-11-20")
                    .add_days(self.below(1000) as i32)
                    .to_string()
            })
        }
    }

    const ORGS: [&str; 6] = ["t", "a", "a1", "a2", "b", "b1"];

    fn text(r: &mut Rng, xs: &[&str]) -> Option<String> {
        let v = r.pick(xs);
        (!v.is_empty()).then(|| v.to_string())
    }

    /// Random values for every column the rollups read.
    fn random_row(r: &mut Rng) -> Vec<SqlValue> {
        let v = |o: Option<String>| o.map_or(SqlValue::Null, SqlValue::Text);
        vec![
            SqlValue::Text(r.pick(&ORGS).into()),
            v(text(r, &["female", "male", ""])),
            SqlValue::Integer(r.below(2) as i64),
            SqlValue::Integer(r.below(2) as i64),
            if r.below(4) == 0 {
                SqlValue::Null
            } else {
                SqlValue::Integer(15 + r.below(20) as i64)
            },
            v(text(r, &["university", "upper_secondary", "unknown", ""])),
            v(text(r, &["worker", "high_school_student", "other", ""])),
            v(text(r, &["youth_union", "trade_union", ""])),
            SqlValue::Text(r.pick(&["", "", "lop-1", "lop-2"]).into()),
            v(r.date()),
            v(r.date()),
            v(r.date()),
            v(r.date()),
            v(r.date()),
        ]
    }

    const COLS: [&str; 14] = [
        "org_id",
        "sex",
        "minority",
        "youth_union",
        "decision_age",
        "education",
        "occupation",
        "source_kind",
        "class_id",
        "class_date",
        "decision_date",
        "official_date",
        "outstanding_date",
        "application_date",
    ];

    fn check_tables(conn: &Connection, step: usize) {
        for f in families() {
            let stored = f.stored(conn).unwrap();
            assert!(
                stored.iter().all(|r| r.3[f.keys.len()] > 0),
                "{} has empty rows",
                f.table
            );
            assert_eq!(
                stored,
                f.recompute(conn).unwrap(),
                "{} after step {step}",
                f.table
            );
        }
    }

    /// Reads every split of random periods and subtrees and compares them with counts
    /// made from the projection rows.
    fn check_reads(conn: &Connection, r: &mut Rng) {
        let paths = crate::db::orgs::all_paths(conn).unwrap();
        for _ in 0..8 {
            let (_, root) = &paths[r.below(paths.len() as u64) as usize];
            let from = d("2021-10-01").add_days(r.below(700) as i32);
            let period = Period {
                from,
                to: from.add_days(r.below(900) as i32),
            };
            let (lo, hi) = scope_range(root);
            for f in [admitted(), cohort("outstanding_date")] {
                let cols: Vec<&str> = f.measures.iter().map(|(c, _)| c.as_str()).collect();
                // The reference: each measure summed over the rows, per organisation, day
                // and keys.
                let rows: Vec<(String, Date, Vec<i64>, Vec<i64>)> = checks::reference_sums(
                    conn,
                    &f,
                    &period.from.to_string(),
                    &period.to.to_string(),
                    &lo,
                    &hi,
                )
                .unwrap()
                .into_iter()
                .map(|(org, day, k, v)| (org, day.parse().unwrap(), k, v))
                .collect();
                for years in [true, false] {
                    for by_org in [true, false] {
                        for by_keys in [true, false] {
                            let split = Split {
                                by_org,
                                by_bucket: by_org,
                                by_keys,
                                years,
                            };
                            let got = read(conn, &f, root, period, &cols, split).unwrap();
                            // Every sum equals the rows it covers.
                            for s in &got {
                                let mut want = vec![0; cols.len()];
                                for (org, day, k, v) in &rows {
                                    if s.org_id.as_ref().is_none_or(|o| o == org)
                                        && (!by_keys || &s.keys == k)
                                        && s.from <= *day
                                        && *day <= s.to
                                    {
                                        for (w, x) in want.iter_mut().zip(v) {
                                            *w += x;
                                        }
                                    }
                                }
                                assert_eq!(
                                    s.values, want,
                                    "{} {root} {period:?} {split:?}",
                                    f.table
                                );
                            }
                            // And together they cover every row once.
                            let total: i64 = got.iter().map(|s| s.values[0]).sum();
                            let want: i64 = rows.iter().map(|x| x.3[0]).sum();
                            assert_eq!(total, want, "{} {root} {period:?} {split:?}", f.table);
                        }
                    }
                }
            }
            let undated = undated(conn, &cohort("application_date"), root).unwrap();
            let want =
                checks::undated_reference(conn, &cohort("application_date"), &lo, &hi).unwrap();
            assert_eq!(undated, want);
        }
    }

    #[test]
    fn rollups_equal_a_recomputation_after_random_writes_moves_and_merges() {
        let store = crate::db::store::Store::open_in_memory().unwrap();
        let conn = store.conn();
        for (id, parent, path) in [
            ("t", None, "/t/"),
            ("a", Some("t"), "/t/a/"),
            ("a1", Some("a"), "/t/a/a1/"),
            ("a2", Some("a"), "/t/a/a2/"),
            ("b", Some("t"), "/t/b/"),
            ("b1", Some("b"), "/t/b/b1/"),
        ] {
            let org = shared::api::Org {
                id: id.into(),
                parent_id: parent.map(String::from),
                name: id.into(),
                kind: "branch".into(),
                sector: String::new(),
                grassroots: true,
            };
            crate::db::orgs::upsert(&conn, &org, path).unwrap();
        }
        let mut r = Rng(shared::rand::XorShift::new(0x0bad_cafe));
        let mut live: Vec<String> = Vec::new();
        for step in 0..1500 {
            match r.below(10) {
                // A new file, or a rewrite of one (as a merge or an import writes it).
                0..=3 => {
                    let id = if live.is_empty() || r.below(3) == 0 {
                        let id = format!("{step:032x}");
                        crate::db::docs::insert_doc(&conn, &id, "t", 0).unwrap();
                        live.push(id.clone());
                        id
                    } else {
                        live[r.below(live.len() as u64) as usize].clone()
                    };
                    let mut args = vec![SqlValue::Text(id)];
                    args.extend(random_row(&mut r));
                    checks::upsert_projection(&conn, &COLS, args).unwrap();
                }
                // One column changed, the file moved to another organisation, or a
                // change that touches no figure.
                4..=6 if !live.is_empty() => {
                    let id = live[r.below(live.len() as u64) as usize].clone();
                    let row = random_row(&mut r);
                    let c = r.below(COLS.len() as u64 + 1) as usize;
                    if c == COLS.len() {
                        checks::touch_name(&conn, &id).unwrap();
                    } else {
                        checks::set_column(&conn, &id, COLS[c], &row[c]).unwrap();
                    }
                }
                // Every file of one organisation merged into another, in one statement.
                7 => {
                    let (from, to) = (r.pick(&ORGS), r.pick(&ORGS));
                    checks::move_files(&conn, from, to).unwrap();
                }
                // A file merged away or removed: it leaves every count.
                8 if !live.is_empty() => {
                    let id = live.swap_remove(r.below(live.len() as u64) as usize);
                    checks::delete_projection(&conn, &id).unwrap();
                }
                // An organisation moved to the other district: paths change, rollups not.
                _ => {
                    let (org, to) = if r.below(2) == 0 {
                        ("a2", r.pick(&["/t/a/a2/", "/t/b/a2/"]))
                    } else {
                        ("b1", r.pick(&["/t/b/b1/", "/t/a/b1/"]))
                    };
                    checks::set_org_path(&conn, org, to).unwrap();
                }
            }
            if step % 100 == 99 {
                check_tables(&conn, step);
                check_reads(&conn, &mut r);
            }
        }
        let n = checks::row_count(&conn, &admitted()).unwrap();
        assert!(n > 20, "the random writes leave admissions to count");
    }
}
