//! Building blocks for the central office's reports over a list of case files.
//!
//! These are the figures committee reports quote (RULES.md section N): admissions per
//! year and against membership, files per stage, pipeline conversion, breakdowns of new
//! members and organisations without admissions. They are pure functions so the server
//! and an offline client compute identical numbers; rendering and targets live elsewhere.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::date::Date;
use crate::model::{CaseFile, EducationLevel, Sex};
use crate::rules::{Evaluation, RateDenominator, RuleSettings};
use crate::stage::{Stage, derive_stage};

/// Number of case files at one stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StageCount {
    pub stage: Stage,
    pub count: usize,
}

/// Files per stage, every stage listed (zeros included) in pipeline order.
pub fn count_by_stage<'a>(cases: impl IntoIterator<Item = &'a CaseFile>) -> Vec<StageCount> {
    let mut counts = [0usize; Stage::ALL.len()];
    for case in cases {
        counts[derive_stage(case).index() as usize] += 1;
    }
    Stage::ALL
        .iter()
        .map(|&stage| StageCount {
            stage,
            count: counts[stage.index() as usize],
        })
        .collect()
}

/// The admission date used by reports: the date the decision was signed.
pub fn admission_date(case: &CaseFile) -> Option<Date> {
    case.decision.date_signed
}

/// Admissions per calendar year of the decision.
pub fn admitted_per_year<'a>(
    cases: impl IntoIterator<Item = &'a CaseFile>,
) -> BTreeMap<i32, usize> {
    let mut out = BTreeMap::new();
    for date in cases.into_iter().filter_map(admission_date) {
        *out.entry(date.year()).or_insert(0) += 1;
    }
    out
}

/// Party membership at the two ends of a year, for the admission rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub start_of_year: u32,
    pub end_of_year: u32,
}

/// Admissions in `year` as a percentage of membership (NQ 21-NQ/TW target 3–4%),
/// with the denominator chosen by the settings. `None` when membership is zero.
pub fn admission_rate_percent<'a>(
    cases: impl IntoIterator<Item = &'a CaseFile>,
    year: i32,
    membership: Membership,
    settings: &RuleSettings,
) -> Option<f64> {
    let members = match settings.admission_rate_denominator {
        RateDenominator::StartOfYear => membership.start_of_year,
        RateDenominator::EndOfYear => membership.end_of_year,
    };
    if members == 0 {
        return None;
    }
    let admitted = cases
        .into_iter()
        .filter_map(admission_date)
        .filter(|d| d.year() == year)
        .count();
    Some(admitted as f64 * 100.0 / f64::from(members))
}

/// Pipeline conversion: introduced → attended the class → admitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Conversion {
    /// Case files of people put forward (every file counts: a file is an introduction).
    pub introduced: usize,
    /// Of those, how many hold an awareness-class certificate.
    pub attended_class: usize,
    /// Of those, how many were admitted (decision signed).
    pub admitted: usize,
}

impl Conversion {
    /// Share of the introduced who attended the class, in percent.
    pub fn class_rate_percent(&self) -> Option<f64> {
        percent(self.attended_class, self.introduced)
    }

    /// Share of the introduced who were admitted, in percent.
    pub fn admission_rate_percent(&self) -> Option<f64> {
        percent(self.admitted, self.introduced)
    }
}

fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

/// Conversion over the files accepted by `filter` (e.g. Youth Union members only).
pub fn conversion<'a>(
    cases: impl IntoIterator<Item = &'a CaseFile>,
    filter: impl Fn(&CaseFile) -> bool,
) -> Conversion {
    let mut out = Conversion::default();
    for case in cases.into_iter().filter(|c| filter(c)) {
        out.introduced += 1;
        if case.awareness_class.certificate_date.is_some() {
            out.attended_class += 1;
        }
        if admission_date(case).is_some() {
            out.admitted += 1;
        }
    }
    out
}

/// Who the new members of a year are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    pub total: usize,
    pub women: usize,
    pub ethnic_minority: usize,
    /// Aged 18 to 30 (whole years) on the decision date.
    pub age_18_30: usize,
    pub youth_union: usize,
    pub trade_union: usize,
    pub private_business_owner: usize,
    /// Count per education level; files without a level are under `None`.
    pub education: BTreeMap<String, usize>,
}

/// Breakdown of the files admitted in `year` (by decision date).
pub fn breakdown<'a>(cases: impl IntoIterator<Item = &'a CaseFile>, year: i32) -> Breakdown {
    let mut out = Breakdown::default();
    for case in cases {
        let Some(admitted) = admission_date(case).filter(|d| d.year() == year) else {
            continue;
        };
        let p = &case.person;
        out.total += 1;
        if p.sex == Some(Sex::Female) {
            out.women += 1;
        }
        if case.is_ethnic_minority() {
            out.ethnic_minority += 1;
        }
        if p.birth_date
            .is_some_and(|b| (18..=30).contains(&b.years_between(admitted)))
        {
            out.age_18_30 += 1;
        }
        if p.youth_union_member {
            out.youth_union += 1;
        }
        if p.trade_union_member {
            out.trade_union += 1;
        }
        if p.private_business_owner {
            out.private_business_owner += 1;
        }
        let level = p.education_level.map_or("none_recorded", education_code);
        *out.education.entry(level.to_owned()).or_insert(0) += 1;
    }
    out
}

/// The stable snake_case code of an education level (as in the stored model).
pub fn education_code(level: EducationLevel) -> &'static str {
    match level {
        EducationLevel::None => "none",
        EducationLevel::Literate => "literate",
        EducationLevel::Primary => "primary",
        EducationLevel::LowerSecondaryEquivalent => "lower_secondary_equivalent",
        EducationLevel::LowerSecondary => "lower_secondary",
        EducationLevel::UpperSecondary => "upper_secondary",
        EducationLevel::Vocational => "vocational",
        EducationLevel::College => "college",
        EducationLevel::University => "university",
        EducationLevel::Postgraduate => "postgraduate",
        EducationLevel::Unknown => "unknown",
    }
}

/// Organisations (from `org_ids`, the organisation tree's list) that admitted nobody in
/// any of the years `first..=last`: "N consecutive years without admission".
pub fn orgs_without_admission<'a>(
    cases: impl IntoIterator<Item = &'a CaseFile>,
    org_ids: &[String],
    first: i32,
    last: i32,
) -> Vec<String> {
    let mut admitted: Vec<&str> = cases
        .into_iter()
        .filter(|c| admission_date(c).is_some_and(|d| (first..=last).contains(&d.year())))
        .map(|c| c.org_id.as_str())
        .collect();
    admitted.sort_unstable();
    admitted.dedup();
    org_ids
        .iter()
        .filter(|id| admitted.binary_search(&id.as_str()).is_err())
        .cloned()
        .collect()
}

/// Deadline counts across evaluated files: overdue now, and due within `within_days`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeadlineSummary {
    pub overdue: usize,
    pub due_soon: usize,
}

pub fn deadline_summary<'a>(
    evaluations: impl IntoIterator<Item = &'a Evaluation>,
    today: Date,
    within_days: i32,
) -> DeadlineSummary {
    let mut out = DeadlineSummary::default();
    for d in evaluations.into_iter().flat_map(|e| e.deadlines.iter()) {
        if d.done || d.code == "DL_PROBATION_END" {
            continue;
        }
        if d.overdue {
            out.overdue += 1;
        } else if today.days_until(d.due) <= within_days {
            out.due_soon += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn admitted(org: &str, decided: &str, sex: Sex, ethnicity: &str, born: &str) -> CaseFile {
        let mut c = CaseFile {
            org_id: org.into(),
            ..CaseFile::default()
        };
        c.decision.date_signed = Some(d(decided));
        c.person.sex = Some(sex);
        c.person.ethnicity = ethnicity.into();
        c.person.birth_date = Some(d(born));
        c.awareness_class.certificate_date = Some(d("2023-01-01"));
        c
    }

    fn sample() -> Vec<CaseFile> {
        vec![
            admitted("a", "2024-03-01", Sex::Female, "Tày", "2000-01-01"),
            admitted("a", "2024-06-01", Sex::Male, "Kinh", "1990-01-01"),
            admitted("b", "2023-06-01", Sex::Female, "Kinh", "1994-06-02"),
            CaseFile {
                org_id: "c".into(),
                ..CaseFile::default()
            },
        ]
    }

    #[test]
    fn admissions_are_counted_per_decision_year() {
        let per_year = admitted_per_year(&sample());
        assert_eq!(per_year.get(&2024), Some(&2));
        assert_eq!(per_year.get(&2023), Some(&1));
    }

    #[test]
    fn the_admission_rate_uses_the_configured_denominator() {
        let cases = sample();
        let m = Membership {
            start_of_year: 50,
            end_of_year: 100,
        };
        let start = admission_rate_percent(&cases, 2024, m, &RuleSettings::default());
        assert_eq!(start, Some(4.0));
        let settings = RuleSettings {
            admission_rate_denominator: RateDenominator::EndOfYear,
            ..RuleSettings::default()
        };
        assert_eq!(
            admission_rate_percent(&cases, 2024, m, &settings),
            Some(2.0)
        );
        assert_eq!(
            admission_rate_percent(&cases, 2024, Membership::default(), &settings),
            None
        );
    }

    #[test]
    fn the_breakdown_counts_women_minorities_and_young_members() {
        let b = breakdown(&sample(), 2024);
        assert_eq!(
            (b.total, b.women, b.ethnic_minority, b.age_18_30),
            (2, 1, 1, 1)
        );
        // Born 1994-06-02, decided 2023-06-01: still 28, inside 18–30.
        assert_eq!(breakdown(&sample(), 2023).age_18_30, 1);
    }

    #[test]
    fn conversion_and_stage_counts_cover_every_file() {
        let cases = sample();
        let conv = conversion(&cases, |_| true);
        assert_eq!(
            (conv.introduced, conv.attended_class, conv.admitted),
            (4, 3, 3)
        );
        let per_stage = count_by_stage(&cases);
        assert_eq!(per_stage.len(), Stage::ALL.len());
        assert_eq!(per_stage.iter().map(|s| s.count).sum::<usize>(), 4);
    }

    #[test]
    fn organisations_without_admissions_over_the_years_are_listed() {
        let orgs = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(
            orgs_without_admission(&sample(), &orgs, 2024, 2024),
            ["b", "c"]
        );
        assert_eq!(orgs_without_admission(&sample(), &orgs, 2023, 2024), ["c"]);
    }
}
