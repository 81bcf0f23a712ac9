//! The figures committees publish, read from the rollups the store keeps on every
//! projection write (`rollups.rs`, and `agg_stage` for the files per stage, maintained by
//! triggers), or, for checking, directly from the projections: admissions with who the
//! new members are, recognitions, class certificates, stages; the target groups of
//! sub-targets; cohort conversion.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::db::Connection;
use crate::db::rollups as db;
use serde::Serialize;
use shared::date::Date;
use shared::model::{Occupation, SourceKind};
use shared::rules::{CohortEntry, RuleSettings};
use shared::text::fold;

use crate::casedocs::scope_range;
use crate::error::AppResult;
use crate::reports::{OrgIndex, OrgInfo, Period, sector_label};
use crate::rollups::{self, Split};

/// Where figures are read from: the rollups (the dashboard), or the projection rows
/// (the reference the rollups are checked against).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Aggregates,
    Direct,
}

/// One admission read from the projection rows (the reference reading).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Admission {
    day: Date,
    org_id: String,
    female: bool,
    minority: bool,
    youth: bool,
    /// Aged 18 to 30 in whole years on the decision date.
    young: bool,
    education: String,
    occupation: String,
    source_kind: String,
}

/// Who the new members of a period are, summed over a subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub n: usize,
    pub female: usize,
    pub minority: usize,
    pub youth: usize,
    /// Aged 18 to 30 in whole years on the decision date.
    pub young: usize,
    /// Per education code (`none_recorded` when not recorded).
    pub education: BTreeMap<String, usize>,
    /// Per occupation code ("" when not recorded).
    pub occupations: BTreeMap<String, usize>,
    /// Per structured source code ("" when not recorded).
    pub sources: BTreeMap<String, usize>,
}

/// Admissions of a period under a subtree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admitted {
    pub tally: Tally,
    /// Per organisation of the files (not summed up the tree).
    pub per_org: BTreeMap<String, usize>,
    /// Counts over runs of days, each inside one month (or one year when the series is
    /// yearly), in order: what a trend or a per-year figure adds up.
    pub series: Vec<(Date, Date, usize)>,
}

fn subtree_sql(root: &OrgInfo) -> Option<(String, String)> {
    root.parent_id.as_ref().map(|_| scope_range(&root.path))
}

/// Admissions (decision signed) in `period` under `root`, read from the projections.
fn admissions_direct(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    period: Period,
) -> AppResult<Vec<Admission>> {
    let sub = subtree_sql(root);
    let mut out = Vec::new();
    db::each_admission(
        conn,
        &period.from.to_string(),
        &period.to.to_string(),
        sub.as_ref().map(|(lo, hi)| (lo.as_str(), hi.as_str())),
        |a| {
            let Ok(d) = a.decision_date.parse::<Date>() else {
                return;
            };
            if !orgs.in_subtree(&a.org_id, &root.path) {
                return;
            }
            let e = fold(&a.ethnicity);
            let young = a
                .birth_date
                .and_then(|b| b.parse::<Date>().ok())
                .is_some_and(|b| (18..=30).contains(&b.years_between(d)));
            out.push(Admission {
                day: d,
                org_id: a.org_id,
                female: a.sex.as_deref() == Some("female"),
                minority: !e.is_empty() && e != "kinh",
                youth: a.youth_union,
                young,
                education: a.education.unwrap_or_default(),
                occupation: a.occupation.unwrap_or_default(),
                source_kind: a.source_kind.unwrap_or_default(),
            });
        },
    )?;
    Ok(out)
}

/// Admissions (decision signed) in `period` under `root`: who, per organisation, and as a
/// series of months (`monthly`) or years.
pub fn admitted(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    period: Period,
    monthly: bool,
    via: Via,
) -> AppResult<Admitted> {
    match via {
        Via::Direct => {
            let list = admissions_direct(conn, orgs, root, period)?;
            let mut out = Admitted::default();
            let t = &mut out.tally;
            for a in &list {
                t.n += 1;
                t.female += usize::from(a.female);
                t.minority += usize::from(a.minority);
                t.youth += usize::from(a.youth);
                t.young += usize::from(a.young);
                let edu = if a.education.is_empty() {
                    "none_recorded"
                } else {
                    a.education.as_str()
                };
                *t.education.entry(edu.to_string()).or_insert(0) += 1;
                *t.occupations.entry(a.occupation.clone()).or_insert(0) += 1;
                *t.sources.entry(a.source_kind.clone()).or_insert(0) += 1;
                *out.per_org.entry(a.org_id.clone()).or_insert(0) += 1;
                out.series.push((a.day, a.day, 1));
            }
            out.series.sort();
            Ok(out)
        }
        Via::Aggregates => {
            let family = rollups::admitted();
            let cols: Vec<&str> = family.measures.iter().map(|(c, _)| c.as_str()).collect();
            let whole = Split {
                years: true,
                ..Split::default()
            };
            let sum = rollups::read(conn, &family, &root.path, period, &cols, whole)?;
            let mut tally = Tally::default();
            if let Some(s) = sum.first() {
                for (col, v) in cols.iter().zip(&s.values) {
                    let v = *v as usize;
                    let put = |m: &mut BTreeMap<String, usize>, key: &str| {
                        if v > 0 {
                            m.insert(key.to_string(), v);
                        }
                    };
                    match *col {
                        "n" => tally.n = v,
                        "female" => tally.female = v,
                        "minority" => tally.minority = v,
                        "youth" => tally.youth = v,
                        "young" => tally.young = v,
                        c => {
                            if let Some(code) = c.strip_prefix("edu_") {
                                put(&mut tally.education, code);
                            } else if let Some(code) = c.strip_prefix("occ_") {
                                put(
                                    &mut tally.occupations,
                                    if code == "none_recorded" { "" } else { code },
                                );
                            } else if let Some(code) = c.strip_prefix("src_") {
                                put(
                                    &mut tally.sources,
                                    if code == "none_recorded" { "" } else { code },
                                );
                            }
                        }
                    }
                }
            }
            let series = rollups::read(
                conn,
                &family,
                &root.path,
                period,
                &["n"],
                Split {
                    by_bucket: true,
                    years: !monthly,
                    ..Split::default()
                },
            )?
            .into_iter()
            .filter(|s| s.values[0] > 0)
            .map(|s| (s.from, s.to, s.values[0] as usize))
            .collect();
            Ok(Admitted {
                tally,
                per_org: admitted_per_org(conn, orgs, root, period, via)?,
                series,
            })
        }
    }
}

/// Admissions in `period` per organisation of the files under `root`.
pub fn admitted_per_org(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    period: Period,
    via: Via,
) -> AppResult<BTreeMap<String, usize>> {
    let mut out = BTreeMap::new();
    match via {
        Via::Direct => {
            for a in admissions_direct(conn, orgs, root, period)? {
                *out.entry(a.org_id).or_insert(0) += 1;
            }
        }
        Via::Aggregates => {
            let split = Split {
                by_org: true,
                years: true,
                ..Split::default()
            };
            for s in rollups::read(
                conn,
                &rollups::admitted(),
                &root.path,
                period,
                &["n"],
                split,
            )? {
                if let Some(org) = s.org_id
                    && s.values[0] > 0
                {
                    *out.entry(org).or_insert(0) += s.values[0] as usize;
                }
            }
        }
    }
    Ok(out)
}

/// Recognitions as official members (official date) in `period` under `root`.
pub fn officials(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    period: Period,
    via: Via,
) -> AppResult<usize> {
    count_dated(conn, orgs, &root.path, period, via, &rollups::official())
}

/// Class certificates dated in `period` under the subtree at `root_path`.
pub fn certified(
    conn: &Connection,
    orgs: &OrgIndex,
    root_path: &str,
    period: Period,
    via: Via,
) -> AppResult<usize> {
    count_dated(conn, orgs, root_path, period, via, &rollups::certified())
}

fn count_dated(
    conn: &Connection,
    orgs: &OrgIndex,
    root_path: &str,
    period: Period,
    via: Via,
    family: &rollups::Family,
) -> AppResult<usize> {
    match via {
        Via::Aggregates => {
            let whole = Split {
                years: true,
                ..Split::default()
            };
            let s = rollups::read(conn, family, root_path, period, &["n"], whole)?;
            Ok(s.first().map_or(0, |s| s.values[0] as usize))
        }
        Via::Direct => {
            let mut n = 0;
            db::each_dated_count(
                conn,
                family,
                &period.from.to_string(),
                &period.to.to_string(),
                |org, k| {
                    if orgs.in_subtree(&org, root_path) {
                        n += k as usize;
                    }
                },
            )?;
            Ok(n)
        }
    }
}

/// Files per stage under `root` now.
pub fn stages(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    via: Via,
) -> AppResult<HashMap<String, usize>> {
    let sub = subtree_sql(root);
    let within = sub.as_ref().map(|(lo, hi)| (lo.as_str(), hi.as_str()));
    let mut out = HashMap::new();
    let add = |org: String, stage: String, n: i64| {
        if orgs.in_subtree(&org, &root.path) {
            *out.entry(stage).or_insert(0) += n as usize;
        }
    };
    match via {
        Via::Aggregates => db::each_stage_count(conn, within, add)?,
        Via::Direct => db::each_stage_count_direct(conn, within, add)?,
    }
    Ok(out)
}

/// The organisations (any level) under `root` with at least one admission in `period`.
pub fn orgs_admitting(
    conn: &Connection,
    orgs: &OrgIndex,
    root: &OrgInfo,
    period: Period,
    via: Via,
) -> AppResult<BTreeSet<String>> {
    Ok(admitted_per_org(conn, orgs, root, period, via)?
        .into_keys()
        .collect())
}

/// A group a sub-target is reserved for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetGroup {
    Women,
    YouthUnion,
    Minority,
    Age18To30,
    Sector(String),
    Occupation(String),
    Source(String),
}

impl TargetGroup {
    /// Parses `women`, `youth_union`, `minority`, `age_18_30`, `sector:<code>`,
    /// `occupation:<code>` or `source:<code>`.
    pub fn parse(s: &str) -> Option<TargetGroup> {
        let s = s.trim();
        match s {
            "women" => return Some(TargetGroup::Women),
            "youth_union" => return Some(TargetGroup::YouthUnion),
            "minority" => return Some(TargetGroup::Minority),
            "age_18_30" => return Some(TargetGroup::Age18To30),
            _ => {}
        }
        let (kind, code) = s.split_once(':')?;
        let code = code.trim();
        match kind {
            "sector" if !code.is_empty() => Some(TargetGroup::Sector(code.into())),
            "occupation" => {
                Occupation::from_code(code).map(|_| TargetGroup::Occupation(code.into()))
            }
            "source" => SourceKind::from_code(code).map(|_| TargetGroup::Source(code.into())),
            _ => None,
        }
    }

    pub fn code(&self) -> String {
        match self {
            TargetGroup::Women => "women".into(),
            TargetGroup::YouthUnion => "youth_union".into(),
            TargetGroup::Minority => "minority".into(),
            TargetGroup::Age18To30 => "age_18_30".into(),
            TargetGroup::Sector(c) => format!("sector:{c}"),
            TargetGroup::Occupation(c) => format!("occupation:{c}"),
            TargetGroup::Source(c) => format!("source:{c}"),
        }
    }

    pub fn label(&self, en: bool) -> String {
        let t = |vi: &str, e: &str| if en { e.to_string() } else { vi.to_string() };
        match self {
            TargetGroup::Women => t("Nữ", "Women"),
            TargetGroup::YouthUnion => t("Đoàn viên thanh niên", "Youth Union members"),
            TargetGroup::Minority => t("Dân tộc thiểu số", "Ethnic minorities"),
            TargetGroup::Age18To30 => t("Tuổi 18–30", "Aged 18–30"),
            TargetGroup::Sector(c) => format!("{}: {}", t("Khối", "Sector"), sector_label(c, en)),
            TargetGroup::Occupation(c) => occupation_label(c, en),
            TargetGroup::Source(c) => format!("{}: {}", t("Nguồn", "Source"), source_label(c, en)),
        }
    }

    /// The admissions counted towards the group.
    pub fn count(&self, a: &Admitted, orgs: &OrgIndex) -> usize {
        let t = &a.tally;
        match self {
            TargetGroup::Women => t.female,
            TargetGroup::YouthUnion => t.youth,
            TargetGroup::Minority => t.minority,
            TargetGroup::Age18To30 => t.young,
            TargetGroup::Sector(c) => a
                .per_org
                .iter()
                .filter(|(org, _)| &orgs.sector_of(org) == c)
                .map(|(_, n)| n)
                .sum(),
            TargetGroup::Occupation(c) => t.occupations.get(c).copied().unwrap_or(0),
            TargetGroup::Source(c) => t.sources.get(c).copied().unwrap_or(0),
        }
    }

    /// The case-list filter selecting the group, for the figure's link.
    pub fn apply(&self, f: &mut crate::reports::CaseFilter) {
        use crate::reports::Recorded;
        match self {
            TargetGroup::Women => f.female = true,
            TargetGroup::YouthUnion => f.youth = true,
            TargetGroup::Minority => f.minority = true,
            TargetGroup::Age18To30 => f.age = true,
            TargetGroup::Sector(c) => f.sector = Some(c.clone()),
            TargetGroup::Occupation(c) => f.occupation = Recorded::parse(c, Occupation::from_code),
            TargetGroup::Source(c) => f.source = Recorded::parse(c, SourceKind::from_code),
        }
    }

    /// Every group the administration page offers, for a tree whose sectors are given.
    pub fn choices(sectors: &[String]) -> Vec<TargetGroup> {
        let mut out = vec![
            TargetGroup::Women,
            TargetGroup::YouthUnion,
            TargetGroup::Minority,
            TargetGroup::Age18To30,
        ];
        out.extend(sectors.iter().map(|s| TargetGroup::Sector(s.clone())));
        out.extend(
            Occupation::ALL
                .iter()
                .map(|o| TargetGroup::Occupation(o.code().into())),
        );
        out.extend(
            SourceKind::ALL
                .iter()
                .map(|s| TargetGroup::Source(s.code().into())),
        );
        out
    }
}

pub fn occupation_label(code: &str, en: bool) -> String {
    match Occupation::from_code(code) {
        Some(o) if en => o.label_en().into(),
        Some(o) => o.label_vi().into(),
        None if en => "Not recorded".into(),
        None => "Chưa ghi".into(),
    }
}

pub fn source_label(code: &str, en: bool) -> String {
    match SourceKind::from_code(code) {
        Some(s) if en => s.label_en().into(),
        Some(s) => s.label_vi().into(),
        None if en => "Not recorded".into(),
        None => "Chưa ghi".into(),
    }
}

/// One step count of a conversion.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Conversion {
    /// Files that entered the pipeline in the period (the cohort).
    pub entered: usize,
    /// Of those, files that attended an awareness class (a certificate or a class record).
    pub attended_class: usize,
    /// Of those, files admitted since (decision signed, at any date).
    pub admitted: usize,
    /// Admitted among those who attended a class.
    pub admitted_of_attendees: usize,
    pub attended_percent: Option<f64>,
    /// Admitted as a share of the cohort.
    pub admitted_percent: Option<f64>,
    /// Admitted as a share of those who attended a class.
    pub admitted_of_attendees_percent: Option<f64>,
}

impl Conversion {
    fn add(&mut self, class: bool, admitted: bool, n: usize) {
        self.entered += n;
        self.attended_class += n * usize::from(class);
        self.admitted += n * usize::from(admitted);
        self.admitted_of_attendees += n * usize::from(class && admitted);
    }

    fn finish(&mut self) {
        self.attended_percent =
            crate::reports::pct(self.attended_class as f64, self.entered as f64);
        self.admitted_percent = crate::reports::pct(self.admitted as f64, self.entered as f64);
        self.admitted_of_attendees_percent = crate::reports::pct(
            self.admitted_of_attendees as f64,
            self.attended_class as f64,
        );
    }
}

/// One line of a conversion breakdown.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConversionLine {
    pub code: String,
    pub label_vi: String,
    pub label_en: String,
    #[serde(flatten)]
    pub figures: Conversion,
}

/// Cohort conversion: the files that entered the pipeline in the period (by the date the
/// settings name), with every other filter applied, and what became of them.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cohort {
    pub entry: CohortEntry,
    pub period: Period,
    pub total: Conversion,
    pub by_source: Vec<ConversionLine>,
    pub by_occupation: Vec<ConversionLine>,
    /// Files matching the filter with no entry date recorded: in no cohort.
    pub without_entry_date: usize,
}

/// The entry-date column of the projection for a setting.
pub fn entry_column(entry: CohortEntry) -> &'static str {
    match entry {
        CohortEntry::OutstandingList => "outstanding_date",
        CohortEntry::ClassCertificate => "class_date",
        CohortEntry::ApplicationLetter => "application_date",
    }
}

/// The cohort conversion of grouped files: (attended a class, admitted, source code,
/// occupation code, number of files) — see `reports::cohort`.
pub fn conversion(
    groups: &[(bool, bool, String, String, usize)],
    entry: CohortEntry,
    period: Period,
    without_entry_date: usize,
) -> Cohort {
    let mut total = Conversion::default();
    let mut by_source: BTreeMap<String, Conversion> = BTreeMap::new();
    let mut by_occupation: BTreeMap<String, Conversion> = BTreeMap::new();
    for (class, admitted, source, occupation, n) in groups {
        total.add(*class, *admitted, *n);
        by_source
            .entry(source.clone())
            .or_default()
            .add(*class, *admitted, *n);
        by_occupation
            .entry(occupation.clone())
            .or_default()
            .add(*class, *admitted, *n);
    }
    conversion_of(
        total,
        by_source,
        by_occupation,
        entry,
        period,
        without_entry_date,
    )
}

/// The cohort conversion from its counts in total, per source and per occupation code
/// ("" when not recorded); a code with no file has no line.
fn conversion_of(
    mut total: Conversion,
    by_source: BTreeMap<String, Conversion>,
    by_occupation: BTreeMap<String, Conversion>,
    entry: CohortEntry,
    period: Period,
    without_entry_date: usize,
) -> Cohort {
    total.finish();
    let lines =
        |m: BTreeMap<String, Conversion>, label: fn(&str, bool) -> String, order: Vec<&str>| {
            let mut out = Vec::new();
            for code in order {
                if let Some(c) = m.get(code).filter(|c| c.entered > 0) {
                    let mut c = c.clone();
                    c.finish();
                    out.push(ConversionLine {
                        code: code.to_string(),
                        label_vi: label(code, false),
                        label_en: label(code, true),
                        figures: c,
                    });
                }
            }
            out
        };
    let mut src_order: Vec<&str> = SourceKind::ALL.iter().map(|s| s.code()).collect();
    src_order.push("");
    let mut occ_order: Vec<&str> = Occupation::ALL.iter().map(|o| o.code()).collect();
    occ_order.push("");
    Cohort {
        entry,
        period,
        by_source: lines(by_source, source_label, src_order),
        by_occupation: lines(by_occupation, occupation_label, occ_order),
        total,
        without_entry_date,
    }
}

/// The cohort conversion of every file under the subtree at `root_path` that entered the
/// pipeline in `period`, read from the rollup of the entry date the setting names.
pub fn cohort_rollup(
    conn: &Connection,
    root_path: &str,
    period: Period,
    entry: CohortEntry,
) -> AppResult<Cohort> {
    let family = rollups::cohort(entry_column(entry));
    let cols: Vec<&str> = family.measures.iter().map(|(c, _)| c.as_str()).collect();
    let split = Split {
        years: true,
        by_keys: true,
        ..Split::default()
    };
    let mut total = Conversion::default();
    let mut by_source: BTreeMap<String, Conversion> = BTreeMap::new();
    let mut by_occupation: BTreeMap<String, Conversion> = BTreeMap::new();
    for s in rollups::read(conn, &family, root_path, period, &cols, split)? {
        // Keys: attended a class, admitted.
        let (class, admitted) = (s.keys[0] != 0, s.keys[1] != 0);
        for (col, v) in cols.iter().zip(&s.values) {
            let n = *v as usize;
            if n == 0 {
                continue;
            }
            let code = |c: &str| if c == "none_recorded" { "" } else { c }.to_string();
            if *col == "n" {
                total.add(class, admitted, n);
            } else if let Some(c) = col.strip_prefix("src_") {
                by_source
                    .entry(code(c))
                    .or_default()
                    .add(class, admitted, n);
            } else if let Some(c) = col.strip_prefix("occ_") {
                by_occupation
                    .entry(code(c))
                    .or_default()
                    .add(class, admitted, n);
            }
        }
    }
    let without = rollups::undated(conn, &family, root_path)?;
    Ok(conversion_of(
        total,
        by_source,
        by_occupation,
        entry,
        period,
        without as usize,
    ))
}

/// The rule settings in force (the defaults until an administrator stores some). A
/// failed read or unreadable stored settings are an error: the figures they shape are
/// published, and must never be counted silently under the defaults instead.
pub fn settings(conn: &Connection) -> crate::db::Result<RuleSettings> {
    match crate::db::settings::rule_settings(conn)? {
        None => Ok(RuleSettings::default()),
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            crate::db::Error::Conversion(format!("stored rule settings unreadable: {e}"))
        }),
    }
}
