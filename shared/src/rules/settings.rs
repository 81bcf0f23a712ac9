//! The settings of the rules: every ambiguity of RULES.md as an explicit choice with a
//! default, set per province by the administrators and read by `evaluate`, the
//! schedule and the reports.

use serde::{Deserialize, Serialize};

use crate::calendar::WorkingDayConventions;

/// Every ambiguity of RULES.md as an explicit setting with a default. Administrators
/// set these per province; the defaults follow the recommendations in RULES.md.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuleSettings {
    /// R2: how "đủ 18 / đủ 60 tuổi, tính theo tháng" is computed.
    pub age_reading: AgeReading,
    /// R16–R17: who counts in the two-thirds denominator of a branch vote.
    pub vote_denominator: VoteDenominator,
    /// R19: whether a non-authorised grassroots committee also needs two-thirds of its
    /// members (standard practice, wording not found).
    pub committee_two_thirds_when_not_authorised: bool,
    /// R34: which document starts the 12-month staleness clock.
    pub staleness_anchor: StalenessAnchor,
    /// R12: the date up to which an introducer's 12 months of co-working are measured.
    pub co_working_anchor: CoWorkingAnchor,
    /// R11: which reading of the trade-union introduction path applies.
    pub trade_union_path: TradeUnionPath,
    /// K: how working days are counted.
    pub working_days: WorkingDayConventions,
    /// R10: working days a verification request may stay unanswered; none by default.
    pub verification_reply_working_days: Option<u32>,
    /// R45: which membership count is the denominator of the admission rate.
    pub admission_rate_denominator: RateDenominator,
    /// R11: the upper bound of "youth age" (Law on Youth 2020: 16–30).
    pub youth_age_max: u32,
    /// Reports: the date a candidate enters the pipeline, which places a file in a
    /// cohort of the conversion report.
    pub cohort_entry: CohortEntry,
    /// Reports: a term asked for by its years ("2020-2025") when the organisation has no
    /// term recorded with its congress dates.
    pub term_without_dates: TermWithoutDates,
}

/// Which recorded date starts a candidate's way through the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CohortEntry {
    /// Entry on the list of outstanding people (danh sách quần chúng ưu tú).
    OutstandingList,
    /// The awareness-class certificate.
    ClassCertificate,
    /// The application letter.
    ApplicationLetter,
}

/// What a term report does when no term with congress dates is recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermWithoutDates {
    /// Refuse, asking for the term's congress dates.
    Refuse,
    /// Read the years as whole calendar years (1 January to 31 December), saying so.
    CalendarYears,
}

/// R2 readings of "tính theo tháng".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeReading {
    /// Months = (year difference)·12 + (month difference); eligible for 216..=720.
    MonthGranular,
    /// The 18th birthday must have passed and the 60th not been exceeded, to the day.
    DayPrecise,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteDenominator {
    /// All official members minus those on temporary activity elsewhere and the exempt
    /// members who are absent (294-QĐ/TW §9.3.2).
    OfficialMinusExcluded,
    /// All official members of the branch, with no exclusion.
    AllOfficial,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StalenessAnchor {
    /// The earliest of the introduction letters, the union resolution and the opinion
    /// summary: the documents that must be redone.
    EarliestIntroductionDocument,
    /// The application letter.
    ApplicationLetter,
    /// The grassroots committee's certification of the biography.
    BiographyCertification,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoWorkingAnchor {
    LetterDate,
    BranchMeeting,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeUnionPath {
    /// Charter text: trade-union executive committee plus one official member, with a
    /// warning because a provincial answer reads it as two members.
    UnionCommitteePlusOne,
    /// The provincial reading: a trade-union member introduced by two official members.
    TwoMembers,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateDenominator {
    StartOfYear,
    EndOfYear,
}

impl Default for RuleSettings {
    fn default() -> Self {
        RuleSettings {
            age_reading: AgeReading::MonthGranular,
            vote_denominator: VoteDenominator::OfficialMinusExcluded,
            committee_two_thirds_when_not_authorised: true,
            staleness_anchor: StalenessAnchor::EarliestIntroductionDocument,
            co_working_anchor: CoWorkingAnchor::LetterDate,
            trade_union_path: TradeUnionPath::UnionCommitteePlusOne,
            working_days: WorkingDayConventions::default(),
            verification_reply_working_days: None,
            admission_rate_denominator: RateDenominator::StartOfYear,
            youth_age_max: 30,
            cohort_entry: CohortEntry::OutstandingList,
            term_without_dates: TermWithoutDates::Refuse,
        }
    }
}
