//! Counts per organisation, month and year: every statement on the `roll_*` and `agg_*`
//! tables, the tables and triggers that keep them, and the figures' readings of the
//! projections they are checked against.
//!
//! Each family counts the projection rows that carry one date in a table keyed by
//! `(level, bucket, org_id)` (see `crate::rollups`); its measures and keys are SQL
//! expressions over a projection row, written here once and turned into each dialect's
//! triggers, into the SQLite migration (`rollups.sql`) and into the reads of a period.
//!
//! The reads of a subtree also read `orgs`, and the readings for checking read
//! `projections`: those statements live here because they serve only the figures.

use shared::model::{Occupation, SourceKind};

use super::{Backend, Connection, Result, Value, params, params_from_iter};

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

    /// The migration creating the family's table, filling it from the projections and
    /// installing its triggers.
    pub fn migration(&self) -> String {
        let t = self.table;
        let mut out = self.table_sql("CREATE TABLE", "INTEGER", " WITHOUT ROWID");
        for level in ['y', 'm'] {
            out.push_str(&format!("INSERT INTO {t} {};\n", self.select_level(level)));
        }
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
            self.changed("IS NOT"),
            self.apply("OLD", -1),
            self.apply("NEW", 1)
        ));
        out
    }

    /// Whether the projection row `row` counts in this family at all: a dated family
    /// counts only the files that have its date (`None`: every file counts).
    fn counts(&self, row: &str) -> Option<String> {
        (!self.undated).then(|| format!("{row}.{} IS NOT NULL", self.date))
    }

    /// The columns whose change moves a file in this family, as a trigger's condition.
    fn changed(&self, distinct: &str) -> String {
        let mut changed = vec![format!("OLD.org_id {distinct} NEW.org_id")];
        changed.extend(
            self.deps
                .iter()
                .map(|c| format!("OLD.{c} {distinct} NEW.{c}")),
        );
        changed.join(" OR ")
    }

    /// The triggers of a dated family again, each run only when a file it counts is
    /// involved: a new file without the family's date (most files, for admissions and
    /// recognitions) no longer runs the family's statements at all. Empty for a family
    /// that counts every file.
    pub fn guarded_triggers(&self) -> String {
        let (Some(new), Some(old)) = (self.counts("NEW"), self.counts("OLD")) else {
            return String::new();
        };
        let t = self.table;
        format!(
            "DROP TRIGGER {t}_ins;
CREATE TRIGGER {t}_ins AFTER INSERT ON projections
WHEN {new} BEGIN
{}END;
             DROP TRIGGER {t}_del;
CREATE TRIGGER {t}_del AFTER DELETE ON projections
WHEN {old} BEGIN
{}END;
             DROP TRIGGER {t}_upd;
CREATE TRIGGER {t}_upd AFTER UPDATE ON projections
WHEN ({}) AND ({old} OR {new}) BEGIN
{}{}END;
",
            self.apply("NEW", 1),
            self.apply("OLD", -1),
            self.changed("IS NOT"),
            self.apply("OLD", -1),
            self.apply("NEW", 1)
        )
    }

    /// The family's trigger in PostgreSQL's dialect: one PL/pgSQL function that removes
    /// the old row and adds the new one, run after every insert, delete, and update of a
    /// column the family reads (re-runnable: the schema is applied at every start).
    pub fn postgres_trigger(&self) -> String {
        let t = self.table;
        // A dated family's triggers run only for files that have its date, as on SQLite.
        let (ins, del, upd) = match (self.counts("NEW"), self.counts("OLD")) {
            (Some(new), Some(old)) => (
                format!(" WHEN ({new})"),
                format!(" WHEN ({old})"),
                format!(" AND ({old} OR {new})"),
            ),
            _ => Default::default(),
        };
        format!(
            "CREATE OR REPLACE FUNCTION {t}_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n  IF TG_OP <> 'INSERT' THEN\n{old}  END IF;\n  IF TG_OP <> 'DELETE' THEN\n{new}  END IF;\n  RETURN NULL;\nEND\n$fn$;\n\
             CREATE OR REPLACE TRIGGER {t}_ins AFTER INSERT ON projections FOR EACH ROW{ins} EXECUTE FUNCTION {t}_apply();\n\
             CREATE OR REPLACE TRIGGER {t}_del AFTER DELETE ON projections FOR EACH ROW{del} EXECUTE FUNCTION {t}_apply();\n\
             CREATE OR REPLACE TRIGGER {t}_upd AFTER UPDATE ON projections FOR EACH ROW\n    WHEN (({when}){upd}) EXECUTE FUNCTION {t}_apply();\n",
            old = self.apply_in("OLD", -1, Dialect::Postgres),
            new = self.apply_in("NEW", 1, Dialect::Postgres),
            when = self.changed("IS DISTINCT FROM"),
        )
    }

    /// The rollup computed from scratch from the projections, as rows of the table
    /// (level, bucket, organisation, keys and measures) in key order: what the triggers
    /// must keep.
    pub fn recompute(&self, conn: &Connection) -> Result<Vec<Row>> {
        let mut out = Vec::new();
        for level in ['y', 'm'] {
            out.extend(self.rows(conn, &self.select_level(level))?);
        }
        out.sort();
        Ok(out)
    }

    /// The rows the table holds, in key order.
    pub fn stored(&self, conn: &Connection) -> Result<Vec<Row>> {
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

    fn rows(&self, conn: &Connection, sql: &str) -> Result<Vec<Row>> {
        let k = self.keys.len() + self.measures.len();
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map((), |r| {
            let mut v = Vec::with_capacity(k);
            for i in 0..k {
                v.push(r.get::<_, i64>(3 + i)?);
            }
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, v))
        })?;
        rows.collect()
    }

    /// The position of the measure `col` among the family's measures.
    pub fn index(&self, col: &str) -> usize {
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

/// The migration after `rollups.sql` that runs a dated family's triggers only for the
/// files it counts, as `rollups_guard.sql` holds it.
pub fn guard_migration() -> String {
    let mut out = String::from(
        "-- Generated by server/src/db/rollups.rs (`guard_migration`): the triggers of the\n\
         -- dated families run only for files that have the family's date.\n",
    );
    for f in families() {
        out.push_str(&f.guarded_triggers());
    }
    out
}

/// Which rows a read of a period sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The `y` rows of the rollup: buckets are years (`YYYY`).
    Years,
    /// The `m` rows of the rollup: buckets are months (`YYYY-MM`).
    Months,
    /// The projection rows themselves, by their date: bounds are days.
    Days,
}

/// One read of a family: which rows, between which buckets or days, which measures, and
/// what is kept apart.
#[derive(Debug, Clone)]
pub struct SumRead<'a> {
    pub source: Source,
    /// The first and last bucket (or day) read.
    pub from: String,
    pub to: String,
    /// The positions of the measures summed, among the family's measures.
    pub measures: &'a [usize],
    /// Per bucket (rollup rows only: days are never split).
    pub by_bucket: bool,
    pub by_org: bool,
    /// How many of the family's keys are kept apart (all or none).
    pub keys: usize,
    /// The range of organisation paths `lo..hi` of the subtree, or `None` for the whole
    /// tree.
    pub within: Option<(&'a str, &'a str)>,
}

/// One line of a read: the bucket and organisation when kept apart, the keys, the sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumRow {
    pub bucket: Option<String>,
    pub org_id: Option<String>,
    pub keys: Vec<i64>,
    pub values: Vec<i64>,
}

/// Calls `f` with every line of one read of `family` (reads `orgs` for a subtree).
pub fn each_sum(
    conn: &Connection,
    family: &Family,
    read: &SumRead<'_>,
    mut f: impl FnMut(SumRow),
) -> Result<()> {
    let dialect = match conn.backend() {
        Backend::Sqlite => Dialect::Sqlite,
        Backend::Postgres => Dialect::Postgres,
    };
    let days = read.source == Source::Days;
    let nk = read.keys;
    // Grouping columns: bucket, organisation, keys, in that order.
    let mut keys: Vec<String> = Vec::new();
    let bucketed = read.by_bucket && !days;
    if bucketed {
        keys.push("r.bucket".into());
    }
    if read.by_org {
        keys.push(if days { "p.org_id" } else { "r.org_id" }.into());
    }
    for i in 0..nk {
        keys.push(if days {
            number(&family.keys[i].1, "p", dialect)
        } else {
            format!("r.{}", family.keys[i].0)
        });
    }
    let sums: Vec<String> = read
        .measures
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
    let within = if read.within.is_none() {
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
            l = if read.source == Source::Years {
                'y'
            } else {
                'm'
            },
        )
    };
    let mut args: Vec<Value> = vec![read.from.clone().into(), read.to.clone().into()];
    if let Some((lo, hi)) = read.within {
        args.extend([lo.to_string().into(), hi.to_string().into()]);
    }
    let n = read.measures.len();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), |r| {
        let mut at = 0;
        let bucket: Option<String> = if bucketed {
            at += 1;
            Some(r.get(0)?)
        } else {
            None
        };
        let org_id: Option<String> = if read.by_org {
            at += 1;
            Some(r.get(at - 1)?)
        } else {
            None
        };
        let mut keys = Vec::with_capacity(nk);
        for _ in 0..nk {
            keys.push(r.get::<_, i64>(at)?);
            at += 1;
        }
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(r.get::<_, i64>(at + i)?);
        }
        Ok(SumRow {
            bucket,
            org_id,
            keys,
            values,
        })
    })?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

/// Files without the family's date (counted at level `y` under the bucket `''`) of the
/// organisations with paths in `lo..hi`.
pub fn undated_files(conn: &Connection, family: &Family, lo: &str, hi: &str) -> Result<i64> {
    // SQLite joins in the order written after CROSS JOIN (the rollup first); PostgreSQL
    // plans the order itself and writes the same join as JOIN.
    let join = match conn.backend() {
        Backend::Sqlite => "CROSS JOIN",
        Backend::Postgres => "JOIN",
    };
    conn.prepare_cached(&format!(
        "SELECT COALESCE(SUM(r.n), 0) FROM {} r {join} orgs o ON o.id = r.org_id
             WHERE r.level = 'y' AND r.bucket = '' AND o.path >= ?1 AND o.path < ?2",
        family.table
    ))?
    .query_row([lo, hi], |r| r.get(0))
}

/// An admission as the projection holds it, for the reading made without the rollups.
#[derive(Debug, Clone)]
pub struct AdmissionRow {
    pub decision_date: String,
    pub org_id: String,
    pub sex: Option<String>,
    pub ethnicity: String,
    pub youth_union: bool,
    pub birth_date: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub source_kind: Option<String>,
}

/// Calls `f` with every file whose decision date lies in `from..=to`, of the organisations
/// with paths in `within` (`lo..hi`) or of every organisation (reads `projections`).
pub fn each_admission(
    conn: &Connection,
    from: &str,
    to: &str,
    within: Option<(&str, &str)>,
    mut f: impl FnMut(AdmissionRow),
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT decision_date, org_id, sex, ethnicity, youth_union, birth_date, education,
                occupation, source_kind
         FROM projections WHERE decision_date BETWEEN ?1 AND ?2
         AND (CAST(?3 AS TEXT) IS NULL OR org_id IN (SELECT id FROM orgs WHERE path >= ?3 AND path < ?4))",
    )?;
    let rows = stmt.query_map(
        params![from, to, within.map(|w| w.0), within.map_or("", |w| w.1)],
        |r| {
            Ok(AdmissionRow {
                decision_date: r.get(0)?,
                org_id: r.get(1)?,
                sex: r.get(2)?,
                ethnicity: r.get(3)?,
                youth_union: r.get(4)?,
                birth_date: r.get(5)?,
                education: r.get(6)?,
                occupation: r.get(7)?,
                source_kind: r.get(8)?,
            })
        },
    )?;
    for row in rows {
        f(row?);
    }
    Ok(())
}

/// Calls `f` with every organisation and its number of files whose family date lies in
/// `from..=to` (reads `projections`).
pub fn each_dated_count(
    conn: &Connection,
    family: &Family,
    from: &str,
    to: &str,
    mut f: impl FnMut(String, i64),
) -> Result<()> {
    let sql = format!(
        "SELECT org_id, COUNT(*) FROM projections WHERE {} BETWEEN ?1 AND ?2 GROUP BY 1",
        family.date
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    for row in stmt.query_map([from, to], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (org, n) = row?;
        f(org, n);
    }
    Ok(())
}

/// Calls `f` with every organisation, stage and number of files of `agg_stage`, of the
/// organisations with paths in `within` (`lo..hi`) or of every organisation.
pub fn each_stage_count(
    conn: &Connection,
    within: Option<(&str, &str)>,
    f: impl FnMut(String, String, i64),
) -> Result<()> {
    stage_counts(
        conn,
        "SELECT org_id, stage, n FROM agg_stage
             WHERE CAST(?1 AS TEXT) IS NULL OR org_id IN (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)",
        within,
        f,
    )
}

/// [`each_stage_count`] counted from the projection rows instead (reads `projections`).
pub fn each_stage_count_direct(
    conn: &Connection,
    within: Option<(&str, &str)>,
    f: impl FnMut(String, String, i64),
) -> Result<()> {
    stage_counts(
        conn,
        "SELECT org_id, stage, COUNT(*) FROM projections
             WHERE CAST(?1 AS TEXT) IS NULL OR org_id IN (SELECT id FROM orgs WHERE path >= ?1 AND path < ?2)
             GROUP BY 1, 2",
        within,
        f,
    )
}

fn stage_counts(
    conn: &Connection,
    sql: &str,
    within: Option<(&str, &str)>,
    mut f: impl FnMut(String, String, i64),
) -> Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    for row in stmt.query_map(params![within.map(|w| w.0), within.map(|w| w.1)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (org, stage, n) = row?;
        f(org, stage, n);
    }
    Ok(())
}

/// Statements the tests of the rollups run directly: random writes to the projections
/// and the organisation tree that the triggers must follow, and readings of the
/// projections the rollups' sums are compared with. Used by tests only.
pub mod checks {
    use super::Family;
    use crate::db::{Connection, Result, Value, params, params_from_iter};

    /// One row of the reference reading: (organisation, day, keys, sums).
    pub type ReferenceSum = (String, String, Vec<i64>, Vec<i64>);

    /// Each measure of `family` summed over the projection rows dated in `from..=to` of
    /// the organisations with paths in `lo..hi`, per organisation, day and keys: rows of
    /// (organisation, day, keys, sums).
    pub fn reference_sums(
        conn: &Connection,
        family: &Family,
        from: &str,
        to: &str,
        lo: &str,
        hi: &str,
    ) -> Result<Vec<ReferenceSum>> {
        let f = family;
        let n = f.measures.len();
        let keys: String = (0..f.keys.len())
            .map(|i| format!(", {}", f.key_expr(i, "p")))
            .collect();
        let sums: Vec<String> = (0..n).map(|i| format!("SUM({})", f.expr(i, "p"))).collect();
        let sql = format!(
            "SELECT p.org_id, p.{d}{keys}, {s} FROM projections p JOIN orgs o ON o.id = p.org_id
                     WHERE p.{d} BETWEEN ?1 AND ?2 AND o.path >= ?3 AND o.path < ?4
                     GROUP BY 1, 2{g}",
            d = f.date,
            s = sums.join(", "),
            g = (0..f.keys.len())
                .map(|i| format!(", {}", i + 3))
                .collect::<String>(),
        );
        let mut stmt = conn.prepare(&sql)?;
        stmt.query_map(params![from, to, lo, hi], |x| {
            let nk = f.keys.len();
            let k = (0..nk).map(|i| x.get(2 + i)).collect::<Result<_>>()?;
            let v = (0..n).map(|i| x.get(2 + nk + i)).collect::<Result<_>>()?;
            Ok((x.get(0)?, x.get(1)?, k, v))
        })?
        .collect()
    }

    /// Files of the organisations with paths in `lo..hi` without the family's date,
    /// counted from the projection rows.
    pub fn undated_reference(
        conn: &Connection,
        family: &Family,
        lo: &str,
        hi: &str,
    ) -> Result<i64> {
        conn.query_row(
            &format!(
                "SELECT COUNT(*) FROM projections p JOIN orgs o ON o.id = p.org_id
                     WHERE p.{} IS NULL AND o.path >= ?1 AND o.path < ?2",
                family.date
            ),
            [lo, hi],
            |x| x.get(0),
        )
    }

    /// Writes the projection of `args[0]` with `args[1..]` as the values of `cols`, as a
    /// new row or over the stored one.
    pub fn upsert_projection(conn: &Connection, cols: &[&str], args: Vec<Value>) -> Result<()> {
        let set: String = cols
            .iter()
            .map(|c| format!(", {c} = excluded.{c}"))
            .collect();
        let upsert = format!(
            "INSERT INTO projections(doc_id, stage, full_name, rule_set, evaluated_on, case_json,
                eval_json, updated_at, {cols})
             VALUES (?1, 'source', 'x', 'r', '2026-01-01', '', '', 0, {marks})
             ON CONFLICT(doc_id) DO UPDATE SET stage = excluded.stage{set}",
            cols = cols.join(", "),
            marks = crate::db::placeholders(2, cols.len()),
        );
        conn.execute(&upsert, params_from_iter(args))?;
        Ok(())
    }

    /// Changes the name of a file's projection, a column no family reads.
    pub fn touch_name(conn: &Connection, id: &str) -> Result<()> {
        conn.execute(
            "UPDATE projections SET full_name = full_name || 'y' WHERE doc_id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Sets one column of a file's projection.
    pub fn set_column(conn: &Connection, id: &str, col: &str, value: &Value) -> Result<()> {
        conn.execute(
            &format!("UPDATE projections SET {col} = ?2 WHERE doc_id = ?1"),
            params![id, value],
        )?;
        Ok(())
    }

    /// Moves every projection of the organisation `from` to `to`, in one statement.
    pub fn move_files(conn: &Connection, from: &str, to: &str) -> Result<()> {
        conn.execute(
            "UPDATE projections SET org_id = ?2 WHERE org_id = ?1",
            [from, to],
        )?;
        Ok(())
    }

    pub fn delete_projection(conn: &Connection, id: &str) -> Result<()> {
        conn.execute("DELETE FROM projections WHERE doc_id = ?1", [id])?;
        Ok(())
    }

    pub fn set_org_path(conn: &Connection, id: &str, path: &str) -> Result<()> {
        conn.execute("UPDATE orgs SET path = ?2 WHERE id = ?1", [id, path])?;
        Ok(())
    }

    /// The number of rows of the family's table.
    pub fn row_count(conn: &Connection, family: &Family) -> Result<i64> {
        conn.query_row(&format!("SELECT COUNT(*) FROM {}", family.table), (), |x| {
            x.get(0)
        })
    }
}
