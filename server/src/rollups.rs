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
//! The migration that creates the tables and triggers is generated from the families
//! below and kept in `rollups.sql` (a test checks that the file is what the families
//! generate; a change of a family needs a new migration).

use std::collections::BTreeMap;

use crate::db::{Connection, Value as SqlValue, params_from_iter};
use shared::date::{Date, days_in_month};
use shared::model::{Occupation, SourceKind};

use crate::casedocs::scope_range;
use crate::error::AppResult;
use crate::reports::Period;

/// Education codes as the projections store them (`EducationLevel` in snake case).
pub const EDUCATION_CODES: [&str; 11] = [
    "none",
    "literate",
    "primary",
    "lower_secondary_equivalent",
    "lower_secondary",
    "upper_secondary",
    "vocational",
    "college",
    "university",
    "postgraduate",
    "unknown",
];

/// A row of a rollup table: level, bucket, organisation, then the keys and measures.
pub type Row = (String, String, String, Vec<i64>);

/// One rolled-up figure family.
#[derive(Debug, Clone)]
pub struct Family {
    pub table: &'static str,
    /// The projection column that places a file in a bucket.
    pub date: &'static str,
    /// Files without the date are counted too, at level `y` under the bucket `''`.
    pub undated: bool,
    /// Integer columns of the key beyond the bucket and organisation, with the
    /// expression over a projection row that gives each.
    pub keys: Vec<(&'static str, String)>,
    /// Measures: a column of the rollup and the expression over a projection row (`{r}`
    /// stands for the row) it sums. The first is the number of files.
    pub measures: Vec<(String, String)>,
    /// The projection columns the measures read.
    pub deps: Vec<&'static str>,
}

fn is(col: &str, code: &str) -> String {
    format!("{{r}}.{col} IS '{code}'")
}

fn none(col: &str) -> String {
    format!("COALESCE({{r}}.{col}, '') = ''")
}

/// Admissions by decision date, with who the new members are.
pub fn admitted() -> Family {
    let mut m: Vec<(String, String)> = vec![
        ("n".into(), "1".into()),
        ("female".into(), is("sex", "female")),
        ("minority".into(), "{r}.minority".into()),
        ("youth".into(), "{r}.youth_union".into()),
        ("young".into(), "{r}.decision_age BETWEEN 18 AND 30".into()),
    ];
    for c in EDUCATION_CODES {
        m.push((format!("edu_{c}"), is("education", c)));
    }
    m.push(("edu_none_recorded".into(), none("education")));
    coded(
        &mut m,
        "occ",
        "occupation",
        Occupation::ALL.iter().map(|o| o.code()),
    );
    coded(
        &mut m,
        "src",
        "source_kind",
        SourceKind::ALL.iter().map(|s| s.code()),
    );
    Family {
        table: "roll_admitted",
        date: "decision_date",
        undated: false,
        keys: vec![],
        measures: m,
        deps: vec![
            "decision_date",
            "sex",
            "minority",
            "youth_union",
            "decision_age",
            "education",
            "occupation",
            "source_kind",
        ],
    }
}

/// Recognitions as official members by official date.
pub fn official() -> Family {
    Family {
        table: "roll_official",
        date: "official_date",
        undated: false,
        keys: vec![],
        measures: vec![("n".into(), "1".into())],
        deps: vec!["official_date"],
    }
}

/// Awareness-class certificates by certificate date.
pub fn certified() -> Family {
    Family {
        table: "roll_certified",
        date: "class_date",
        undated: false,
        keys: vec![],
        measures: vec![("n".into(), "1".into())],
        deps: vec!["class_date"],
    }
}

/// One count per code of a coded column (`{prefix}_{code}`), then files without a value.
fn coded(
    m: &mut Vec<(String, String)>,
    prefix: &str,
    column: &str,
    codes: impl Iterator<Item = &'static str>,
) {
    for c in codes {
        m.push((format!("{prefix}_{c}"), is(column, c)));
    }
    m.push((format!("{prefix}_none_recorded"), none(column)));
}

/// A cohort by the entry date `date` (one family per `cohort_entry` setting): what became
/// of the files (keys `cls`, attended a class, and `adm`, admitted since), in total, by
/// source and by occupation.
pub fn cohort(date: &'static str) -> Family {
    let mut m: Vec<(String, String)> = vec![("n".into(), "1".into())];
    coded(
        &mut m,
        "src",
        "source_kind",
        SourceKind::ALL.iter().map(|s| s.code()),
    );
    coded(
        &mut m,
        "occ",
        "occupation",
        Occupation::ALL.iter().map(|o| o.code()),
    );
    Family {
        table: match date {
            "outstanding_date" => "roll_cohort_outstanding",
            "application_date" => "roll_cohort_application",
            _ => "roll_cohort_class",
        },
        date,
        undated: true,
        keys: vec![
            (
                "cls",
                "({r}.class_id <> '' OR {r}.class_date IS NOT NULL)".into(),
            ),
            ("adm", "{r}.decision_date IS NOT NULL".into()),
        ],
        measures: m,
        deps: {
            let mut d = vec![
                date,
                "class_id",
                "class_date",
                "decision_date",
                "source_kind",
                "occupation",
            ];
            d.dedup();
            d.sort();
            d.dedup();
            d
        },
    }
}

/// Every family, in the order of the migration.
pub fn families() -> Vec<Family> {
    vec![
        admitted(),
        official(),
        certified(),
        cohort("outstanding_date"),
        cohort("application_date"),
        cohort("class_date"),
    ]
}

/// The SQL dialect a family's statements are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    /// PostgreSQL: a comparison is a boolean, not a number, and `IS` compares only with
    /// NULL or a boolean.
    Postgres,
}

/// One measure or key expression over the row `row`, as a number in `dialect`.
fn number(e: &str, row: &str, dialect: Dialect) -> String {
    let e = e.replace("{r}", row);
    match dialect {
        Dialect::Sqlite => format!("COALESCE(({e}), 0)"),
        Dialect::Postgres => format!(
            "COALESCE(CAST(({}) AS INTEGER), 0)",
            e.replace(" IS '", " IS NOT DISTINCT FROM '")
        ),
    }
}

impl Family {
    fn expr(&self, i: usize, row: &str) -> String {
        number(&self.measures[i].1, row, Dialect::Sqlite)
    }

    fn key_expr(&self, i: usize, row: &str) -> String {
        number(&self.keys[i].1, row, Dialect::Sqlite)
    }

    fn bucket(&self, level: char, row: &str) -> String {
        let len = if level == 'y' { 4 } else { 7 };
        let b = format!("substr({row}.{}, 1, {len})", self.date);
        if self.undated && level == 'y' {
            format!("COALESCE({b}, '')")
        } else {
            b
        }
    }

    /// The key's columns beyond the organisation, each after a comma.
    fn key_columns(&self) -> String {
        self.keys.iter().map(|(k, _)| format!(", {k}")).collect()
    }

    fn key_names(&self) -> String {
        self.keys.iter().map(|(k, _)| format!("{k}, ")).collect()
    }

    /// Adds (`sign` 1) or removes (`sign` -1) the projection row `row` (`NEW`/`OLD`) at
    /// both levels: the measures are computed once, in a subquery.
    fn apply(&self, row: &str, sign: i32) -> String {
        self.apply_in(row, sign, Dialect::Sqlite)
    }

    fn apply_in(&self, row: &str, sign: i32, dialect: Dialect) -> String {
        let t = self.table;
        let expr = |i: usize| number(&self.measures[i].1, row, dialect);
        let key_expr = |i: usize| number(&self.keys[i].1, row, dialect);
        let neg = if sign < 0 { "-" } else { "" };
        let mut inner = vec![
            format!("{} AS y", self.bucket('y', row)),
            format!("{} AS m", self.bucket('m', row)),
        ];
        let mut outer = vec![
            "l.v".to_string(),
            "CASE l.v WHEN 'y' THEN x.y ELSE x.m END".to_string(),
            format!("{row}.org_id"),
        ];
        for (i, (k, _)) in self.keys.iter().enumerate() {
            inner.push(format!("{} AS {k}", key_expr(i)));
            outer.push(format!("x.{k}"));
        }
        for (i, (c, _)) in self.measures.iter().enumerate() {
            inner.push(format!("{neg}{} AS {c}", expr(i)));
            outer.push(format!("x.{c}"));
        }
        // PostgreSQL names the conflict's key, and the table's own column beside `excluded`.
        let (target, own) = match dialect {
            Dialect::Sqlite => (String::new(), String::new()),
            Dialect::Postgres => (
                format!("(level, bucket, org_id{}) ", self.key_columns()),
                format!("{t}."),
            ),
        };
        let sets: Vec<String> = self
            .measures
            .iter()
            .map(|(c, _)| format!("{c} = {own}{c} + excluded.{c}"))
            .collect();
        let mut out = format!(
            "    INSERT INTO {t} SELECT {o}\n        FROM (SELECT {i}) x, (SELECT 'y' AS v UNION ALL SELECT 'm') l\n        WHERE (CASE l.v WHEN 'y' THEN x.y ELSE x.m END) IS NOT NULL\n        ON CONFLICT {target}DO UPDATE SET {s};\n",
            o = outer.join(", "),
            i = inner.join(", "),
            s = sets.join(", "),
        );
        if sign < 0 {
            let keys: String = (0..self.keys.len())
                .map(|i| format!(" AND {} = {}", self.keys[i].0, key_expr(i)))
                .collect();
            for level in ['y', 'm'] {
                out.push_str(&format!(
                    "    DELETE FROM {t} WHERE level = '{level}' AND bucket = {b} AND org_id = {row}.org_id{keys} AND n = 0;\n",
                    b = self.bucket(level, row)
                ));
            }
        }
        out
    }

    /// The rollup of one level computed from the projections.
    fn select_level(&self, level: char) -> String {
        let mut cols = vec![
            format!("'{level}'"),
            self.bucket(level, "projections"),
            "org_id".to_string(),
        ];
        for i in 0..self.keys.len() {
            cols.push(self.key_expr(i, "projections"));
        }
        for i in 0..self.measures.len() {
            cols.push(format!("SUM({})", self.expr(i, "projections")));
        }
        let groups: Vec<String> = (2..4 + self.keys.len()).map(|i| i.to_string()).collect();
        format!(
            "SELECT {}\n    FROM projections WHERE {} IS NOT NULL GROUP BY {}",
            cols.join(", "),
            self.bucket(level, "projections"),
            groups.join(", ")
        )
    }

    /// The migration creating the family's table, filling it from the projections and
    /// installing its triggers.
    /// The table's definition: `create` opens it, `integer` names the integer type and
    /// `tail` ends it (SQLite's `WITHOUT ROWID`).
    fn table_sql(&self, create: &str, integer: &str, tail: &str) -> String {
        let t = self.table;
        let cols: String = self
            .keys
            .iter()
            .map(|(k, _)| format!("    {k} {integer} NOT NULL,\n"))
            .chain(
                self.measures
                    .iter()
                    .map(|(c, _)| format!("    {c} {integer} NOT NULL DEFAULT 0,\n")),
            )
            .collect();
        format!(
            "{create} {t} (\n    level TEXT NOT NULL,\n    bucket TEXT NOT NULL,\n    org_id TEXT NOT NULL,\n{cols}    PRIMARY KEY (level, bucket, org_id{})\n){tail};\n",
            self.key_columns()
        )
    }

    pub fn migration(&self) -> String {
        let t = self.table;
        let mut out = self.table_sql("CREATE TABLE", "INTEGER", " WITHOUT ROWID");
        for level in ['y', 'm'] {
            out.push_str(&format!("INSERT INTO {t} {};\n", self.select_level(level)));
        }
        let mut changed = vec!["OLD.org_id IS NOT NEW.org_id".to_string()];
        changed.extend(self.deps.iter().map(|c| format!("OLD.{c} IS NOT NEW.{c}")));
        out.push_str(&format!(
            "CREATE TRIGGER {t}_ins AFTER INSERT ON projections BEGIN\n{}END;\n",
            self.apply("NEW", 1)
        ));
        out.push_str(&format!(
            "CREATE TRIGGER {t}_del AFTER DELETE ON projections BEGIN\n{}END;\n",
            self.apply("OLD", -1)
        ));
        out.push_str(&format!(
            "CREATE TRIGGER {t}_upd AFTER UPDATE ON projections\nWHEN {} BEGIN\n{}{}END;\n",
            changed.join(" OR "),
            self.apply("OLD", -1),
            self.apply("NEW", 1)
        ));
        out
    }

    /// The family's trigger in PostgreSQL's dialect: one PL/pgSQL function that removes
    /// the old row and adds the new one, run after every insert, delete, and update of a
    /// column the family reads (re-runnable: the schema is applied at every start).
    pub fn postgres_trigger(&self) -> String {
        let t = self.table;
        let mut changed = vec!["OLD.org_id IS DISTINCT FROM NEW.org_id".to_string()];
        changed.extend(
            self.deps
                .iter()
                .map(|c| format!("OLD.{c} IS DISTINCT FROM NEW.{c}")),
        );
        format!(
            "CREATE OR REPLACE FUNCTION {t}_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n{old}  END IF;\n  IF TG_OP <> 'DELETE' THEN\n{new}  END IF;\n  RETURN NULL;\nEND\n$fn$;\n\
             CREATE OR REPLACE TRIGGER {t}_ins AFTER INSERT ON projections FOR EACH ROW EXECUTE FUNCTION {t}_apply();\n\
             CREATE OR REPLACE TRIGGER {t}_del AFTER DELETE ON projections FOR EACH ROW EXECUTE FUNCTION {t}_apply();\n\
             CREATE OR REPLACE TRIGGER {t}_upd AFTER UPDATE ON projections FOR EACH ROW\n    WHEN ({when}) EXECUTE FUNCTION {t}_apply();\n",
            old = self.apply_in("OLD", -1, Dialect::Postgres),
            new = self.apply_in("NEW", 1, Dialect::Postgres),
            when = changed.join(" OR "),
        )
    }

    /// The rollup computed from scratch from the projections, as rows of the table
    /// (level, bucket, organisation, keys and measures) in key order: what the triggers
    /// must keep.
    pub fn recompute(&self, conn: &Connection) -> AppResult<Vec<Row>> {
        let mut out = Vec::new();
        for level in ['y', 'm'] {
            out.extend(self.rows(conn, &self.select_level(level))?);
        }
        out.sort();
        Ok(out)
    }

    /// The rows the table holds, in key order.
    pub fn stored(&self, conn: &Connection) -> AppResult<Vec<Row>> {
        let cols: Vec<&str> = self.measures.iter().map(|(c, _)| c.as_str()).collect();
        let sql = format!(
            "SELECT level, bucket, org_id, {}{} FROM {}",
            self.key_names(),
            cols.join(", "),
            self.table
        );
        let mut out = self.rows(conn, &sql)?;
        out.sort();
        Ok(out)
    }

    fn rows(&self, conn: &Connection, sql: &str) -> AppResult<Vec<Row>> {
        let k = self.keys.len() + self.measures.len();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map((), |r| {
            let mut v = Vec::with_capacity(k);
            for i in 0..k {
                v.push(r.get::<_, i64>(3 + i)?);
            }
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, v))
        })?;
        Ok(rows.collect::<crate::db::Result<_>>()?)
    }

    fn index(&self, col: &str) -> usize {
        self.measures
            .iter()
            .position(|(c, _)| c == col)
            .unwrap_or_else(|| panic!("{} has no measure {col}", self.table))
    }
}

/// The rollups' tables and triggers in PostgreSQL's dialect, from the same definitions
/// as the SQLite migration.
pub fn postgres_tables() -> String {
    families()
        .iter()
        .map(|f| f.table_sql("CREATE TABLE IF NOT EXISTS", "BIGINT", "") + &f.postgres_trigger())
        .collect()
}

/// The migration of every family, as `rollups.sql` holds it.
pub fn migration() -> String {
    let mut out = String::from(
        "-- Generated by server/src/rollups.rs (`families`); see the module's documentation.\n\
         -- The day-level aggregates of admissions and recognitions are replaced by rollups.\n\
         DROP TRIGGER agg_admitted_ins;\nDROP TRIGGER agg_admitted_del;\n\
         DROP TRIGGER agg_admitted_upd_old;\nDROP TRIGGER agg_admitted_upd_new;\n\
         DROP TRIGGER agg_official_ins;\nDROP TRIGGER agg_official_del;\n\
         DROP TRIGGER agg_official_upd_old;\nDROP TRIGGER agg_official_upd_new;\n\
         DROP TABLE agg_admitted;\nDROP TABLE agg_official;\n",
    );
    for f in families() {
        out.push_str(&f.migration());
    }
    out
}

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
    let whole_tree = is_whole_tree(conn, &lo, &hi)?;
    let mut combined = false;
    let dialect = match conn.backend() {
        crate::db::Backend::Sqlite => Dialect::Sqlite,
        crate::db::Backend::Postgres => Dialect::Postgres,
    };
    for read in plan_reads(period, split.years) {
        let part = read.part;
        let composite = read.span != (part.from, part.to);
        combined |= composite;
        let days = part.level == Level::Days;
        // Grouping columns: bucket, organisation, keys, in that order.
        let mut keys: Vec<String> = Vec::new();
        let bucketed = split.by_bucket && !days;
        if bucketed {
            keys.push("r.bucket".into());
        }
        if split.by_org {
            keys.push(if days { "p.org_id" } else { "r.org_id" }.into());
        }
        for i in 0..nk {
            keys.push(if days {
                number(&family.keys[i].1, "p", dialect)
            } else {
                format!("r.{}", family.keys[i].0)
            });
        }
        let sums: Vec<String> = idx
            .iter()
            .map(|&i| {
                if days {
                    format!(
                        "COALESCE(SUM({}), 0)",
                        number(&family.measures[i].1, "p", dialect)
                    )
                } else {
                    format!("COALESCE(SUM(r.{}), 0)", family.measures[i].0)
                }
            })
            .collect();
        let select: String = keys.iter().map(|k| format!("{k}, ")).collect();
        let group = if keys.is_empty() {
            String::new()
        } else {
            let n: Vec<String> = (1..=keys.len()).map(|i| i.to_string()).collect();
            format!(" GROUP BY {}", n.join(", "))
        };
        // The subtree's organisations, unless it is the whole tree (the province's
        // dashboard): checking each row against `orgs` costs more than the sums.
        let alias = if days { "p" } else { "r" };
        let within = if whole_tree {
            String::new()
        } else {
            format!(" AND {alias}.org_id IN (SELECT id FROM orgs WHERE path >= ?3 AND path < ?4)")
        };
        let sql = if days {
            format!(
                "SELECT {select}{s} FROM projections p WHERE p.{d} BETWEEN ?1 AND ?2{within}{group}",
                s = sums.join(", "),
                d = family.date,
            )
        } else {
            format!(
                "SELECT {select}{s} FROM {t} r
                 WHERE r.level = '{l}' AND r.bucket BETWEEN ?1 AND ?2{within}{group}",
                s = sums.join(", "),
                t = family.table,
                l = if part.level == Level::Years { 'y' } else { 'm' },
            )
        };
        let (a, b) = if days {
            (part.from.to_string(), part.to.to_string())
        } else {
            (
                bucket_of(part.level, part.from),
                bucket_of(part.level, part.to),
            )
        };
        let mut args: Vec<SqlValue> = vec![a.into(), b.into()];
        if !whole_tree {
            args.extend([lo.clone().into(), hi.clone().into()]);
        }
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args), |r| {
            let mut at = 0;
            let bucket: Option<String> = if bucketed {
                at += 1;
                Some(r.get(0)?)
            } else {
                None
            };
            let org: Option<String> = if split.by_org {
                at += 1;
                Some(r.get(at - 1)?)
            } else {
                None
            };
            let mut k = Vec::with_capacity(nk);
            for _ in 0..nk {
                k.push(r.get::<_, i64>(at)?);
                at += 1;
            }
            let mut v = Vec::with_capacity(idx.len());
            for i in 0..idx.len() {
                v.push(r.get::<_, i64>(at + i)?);
            }
            Ok((bucket, org, k, v))
        })?;
        for row in rows {
            let (bucket, org_id, keys, mut values) = row?;
            let (from, to) = if composite {
                read.span
            } else {
                bucket
                    .as_deref()
                    .and_then(bucket_range)
                    .unwrap_or((part.from, part.to))
            };
            for v in &mut values {
                *v *= read.sign;
            }
            out.push(Sum {
                from,
                to,
                org_id,
                keys,
                values,
            });
        }
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

/// Whether the subtree between `lo` and `hi` holds every organisation.
fn is_whole_tree(conn: &Connection, lo: &str, hi: &str) -> AppResult<bool> {
    Ok(conn
        .prepare_cached("SELECT NOT EXISTS (SELECT 1 FROM orgs WHERE path < ?1 OR path >= ?2)")?
        .query_row([lo, hi], |r| r.get(0))?)
}

/// Files of the subtree without the family's date (families counting undated files).
pub fn undated(conn: &Connection, family: &Family, root_path: &str) -> AppResult<i64> {
    let (lo, hi) = scope_range(root_path);
    // SQLite joins in the order written after CROSS JOIN (the rollup first); PostgreSQL
    // plans the order itself and writes the same join as JOIN.
    let join = match conn.backend() {
        crate::db::Backend::Sqlite => "CROSS JOIN",
        crate::db::Backend::Postgres => "JOIN",
    };
    Ok(conn
        .prepare_cached(&format!(
            "SELECT COALESCE(SUM(r.n), 0) FROM {} r {join} orgs o ON o.id = r.org_id
             WHERE r.level = 'y' AND r.bucket = '' AND o.path >= ?1 AND o.path < ?2",
            family.table
        ))?
        .query_row([lo, hi], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::model::EducationLevel;

    #[test]
    fn the_stored_migration_is_what_the_families_generate() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/rollups.sql");
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
        let paths: Vec<(String, String)> = conn
            .prepare("SELECT id, path FROM orgs")
            .unwrap()
            .query_map((), |x| Ok((x.get(0)?, x.get(1)?)))
            .unwrap()
            .collect::<crate::db::Result<_>>()
            .unwrap();
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
                let keys: String = (0..f.keys.len())
                    .map(|i| format!(", {}", f.key_expr(i, "p")))
                    .collect();
                let sums: Vec<String> = (0..cols.len())
                    .map(|i| format!("SUM({})", f.expr(i, "p")))
                    .collect();
                let sql = format!(
                    "SELECT p.org_id, p.{d}{keys}, {s} FROM projections p JOIN orgs o ON o.id = p.org_id
                     WHERE p.{d} BETWEEN ?1 AND ?2 AND o.path >= ?3 AND o.path < ?4
                     GROUP BY 1, 2{g}",
                    d = f.date,
                    s = sums.join(", "),
                    g = (0..f.keys.len()).map(|i| format!(", {}", i + 3)).collect::<String>(),
                );
                let mut stmt = conn.prepare(&sql).unwrap();
                let rows: Vec<(String, Date, Vec<i64>, Vec<i64>)> = stmt
                    .query_map(
                        crate::db::params![period.from.to_string(), period.to.to_string(), lo, hi],
                        |x| {
                            let nk = f.keys.len();
                            let k = (0..nk)
                                .map(|i| x.get(2 + i))
                                .collect::<crate::db::Result<_>>()?;
                            let v = (0..cols.len())
                                .map(|i| x.get(2 + nk + i))
                                .collect::<crate::db::Result<_>>()?;
                            Ok((x.get(0)?, x.get::<_, String>(1)?.parse().unwrap(), k, v))
                        },
                    )
                    .unwrap()
                    .collect::<crate::db::Result<_>>()
                    .unwrap();
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
            let want: i64 = conn
                .query_row(
                    "SELECT COUNT(*) FROM projections p JOIN orgs o ON o.id = p.org_id
                     WHERE p.application_date IS NULL AND o.path >= ?1 AND o.path < ?2",
                    [&lo, &hi],
                    |x| x.get(0),
                )
                .unwrap();
            assert_eq!(undated, want);
        }
    }

    #[test]
    fn rollups_equal_a_recomputation_after_random_writes_moves_and_merges() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let conn = store.conn();
        for (id, parent, path) in [
            ("t", None, "/t/"),
            ("a", Some("t"), "/t/a/"),
            ("a1", Some("a"), "/t/a/a1/"),
            ("a2", Some("a"), "/t/a/a2/"),
            ("b", Some("t"), "/t/b/"),
            ("b1", Some("b"), "/t/b/b1/"),
        ] {
            conn.execute(
                "INSERT INTO orgs(id, parent_id, name, kind, sector, grassroots, path)
                 VALUES (?1, ?2, ?1, 'branch', '', 1, ?3)",
                crate::db::params![id, parent, path],
            )
            .unwrap();
        }
        let mut r = Rng(shared::rand::XorShift::new(0x0bad_cafe));
        let mut live: Vec<String> = Vec::new();
        let set: String = COLS
            .iter()
            .map(|c| format!(", {c} = excluded.{c}"))
            .collect();
        let upsert =
            format!(
            "INSERT INTO projections(doc_id, stage, full_name, rule_set, evaluated_on, case_json,
                eval_json, updated_at, {cols})
             VALUES (?1, 'source', 'x', 'r', '2026-01-01', '', '', 0, {marks})
             ON CONFLICT(doc_id) DO UPDATE SET stage = excluded.stage{set}",
            cols = COLS.join(", "),
            marks = (2..=COLS.len() + 1).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", "),
        );
        for step in 0..1500 {
            match r.below(10) {
                // A new file, or a rewrite of one (as a merge or an import writes it).
                0..=3 => {
                    let id = if live.is_empty() || r.below(3) == 0 {
                        let id = format!("{step:032x}");
                        conn.execute(
                            "INSERT INTO docs(id, org_id, org_seq, created_at, updated_at)
                             VALUES (?1, 't', 0, 0, 0)",
                            [&id],
                        )
                        .unwrap();
                        live.push(id.clone());
                        id
                    } else {
                        live[r.below(live.len() as u64) as usize].clone()
                    };
                    let mut args = vec![SqlValue::Text(id)];
                    args.extend(random_row(&mut r));
                    conn.execute(&upsert, params_from_iter(args)).unwrap();
                }
                // One column changed, the file moved to another organisation, or a
                // change that touches no figure.
                4..=6 if !live.is_empty() => {
                    let id = live[r.below(live.len() as u64) as usize].clone();
                    let row = random_row(&mut r);
                    let c = r.below(COLS.len() as u64 + 1) as usize;
                    if c == COLS.len() {
                        conn.execute(
                            "UPDATE projections SET full_name = full_name || 'y' WHERE doc_id = ?1",
                            [&id],
                        )
                        .unwrap();
                    } else {
                        conn.execute(
                            &format!("UPDATE projections SET {} = ?2 WHERE doc_id = ?1", COLS[c]),
                            crate::db::params![id, row[c]],
                        )
                        .unwrap();
                    }
                }
                // Every file of one organisation merged into another, in one statement.
                7 => {
                    conn.execute(
                        "UPDATE projections SET org_id = ?2 WHERE org_id = ?1",
                        [r.pick(&ORGS), r.pick(&ORGS)],
                    )
                    .unwrap();
                }
                // A file merged away or removed: it leaves every count.
                8 if !live.is_empty() => {
                    let id = live.swap_remove(r.below(live.len() as u64) as usize);
                    conn.execute("DELETE FROM projections WHERE doc_id = ?1", [&id])
                        .unwrap();
                }
                // An organisation moved to the other district: paths change, rollups not.
                _ => {
                    let (org, to) = if r.below(2) == 0 {
                        ("a2", r.pick(&["/t/a/a2/", "/t/b/a2/"]))
                    } else {
                        ("b1", r.pick(&["/t/b/b1/", "/t/a/b1/"]))
                    };
                    conn.execute("UPDATE orgs SET path = ?2 WHERE id = ?1", [org, to])
                        .unwrap();
                }
            }
            if step % 100 == 99 {
                check_tables(&conn, step);
                check_reads(&conn, &mut r);
            }
        }
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM roll_admitted", (), |x| x.get(0))
            .unwrap();
        assert!(n > 20, "the random writes leave admissions to count");
    }
}
