//! The case file (hồ sơ) of a candidate for Party membership, as recorded facts.
//!
//! The model is stored field by field in an Automerge document, so every leaf is a
//! scalar (string, integer, bool, ISO date string) inside plain structs and lists of
//! structs; enums carry no data. Every struct is `#[serde(default)]` so that a partial
//! document (a new file, or one written by an older client) still deserialises, and
//! unknown enum strings fall back to an `Other`/`Unknown` variant instead of failing.
//! The stage is deliberately absent: it is derived from these facts (`stage.rs`).

use serde::{Deserialize, Serialize};

use crate::date::Date;

/// Everything recorded about one candidate, from source to party card.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaseFile {
    /// The case file's own id (owned by the document layer; kept here for reports).
    pub id: String,
    /// The branch or organisation the candidate belongs to.
    pub org_id: String,
    pub person: Person,
    pub source: Source,
    pub awareness_class: AwarenessClass,
    pub application: Application,
    pub biography: Biography,
    /// The individual introducers currently assigned (a replaced one is removed).
    pub introducers: Vec<Introducer>,
    /// The Youth Union / trade-union resolution introducing the candidate.
    pub introducing_org: IntroducingOrg,
    pub introduction_path: Option<IntroductionPath>,
    pub opinions: Opinions,
    /// Every branch vote on the admission proposal, failed ones included (R18).
    pub branch_votes: Vec<Vote>,
    pub committee: CommitteeStep,
    pub approvals: Approvals,
    pub decision: Decision,
    pub probation: Probation,
    pub recognition: Recognition,
    /// The date official membership takes effect; by R29 it equals the probation end.
    pub official_date: Option<Date>,
    pub card: PartyCard,
    pub stop: Stop,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Person {
    pub full_name: String,
    pub birth_date: Option<Date>,
    /// Identity-card (căn cước / CMND) number as written; used to find duplicate files.
    pub id_number: String,
    pub sex: Option<Sex>,
    /// Ethnicity as written on the biography ("Kinh", "Tày", ...).
    pub ethnicity: String,
    /// Religion as written, empty or "Không" for none.
    pub religion: String,
    pub education_level: Option<EducationLevel>,
    pub education_exception: Option<EducationException>,
    pub residence_unit: String,
    pub workplace_unit: String,
    pub youth_union_member: bool,
    pub youth_union_unit: String,
    pub trade_union_member: bool,
    pub private_business_owner: bool,
    /// What the candidate does (for reports: conversion of high-school students, of
    /// workers…); `None` when not recorded. Older documents lack it.
    pub occupation: Option<Occupation>,
    pub readmission: Readmission,
}

/// The candidate's occupation, as committee reports group new members.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occupation {
    HighSchoolStudent,
    /// University, college or vocational student.
    Student,
    Worker,
    Farmer,
    /// Civil servant or public employee (cán bộ, công chức, viên chức).
    CivilServant,
    ArmedForces,
    /// Owner of a private enterprise (chủ doanh nghiệp tư nhân).
    EnterpriseOwner,
    /// Employee of an enterprise other than a worker (office, technical staff).
    EnterpriseEmployee,
    Teacher,
    HealthWorker,
    SelfEmployed,
    Religious,
    #[serde(other)]
    Other,
}

impl Occupation {
    pub const ALL: [Occupation; 13] = [
        Occupation::HighSchoolStudent,
        Occupation::Student,
        Occupation::Worker,
        Occupation::Farmer,
        Occupation::CivilServant,
        Occupation::ArmedForces,
        Occupation::EnterpriseOwner,
        Occupation::EnterpriseEmployee,
        Occupation::Teacher,
        Occupation::HealthWorker,
        Occupation::SelfEmployed,
        Occupation::Religious,
        Occupation::Other,
    ];

    /// The stable snake_case code stored in documents and projections.
    pub fn code(self) -> &'static str {
        match self {
            Occupation::HighSchoolStudent => "high_school_student",
            Occupation::Student => "student",
            Occupation::Worker => "worker",
            Occupation::Farmer => "farmer",
            Occupation::CivilServant => "civil_servant",
            Occupation::ArmedForces => "armed_forces",
            Occupation::EnterpriseOwner => "enterprise_owner",
            Occupation::EnterpriseEmployee => "enterprise_employee",
            Occupation::Teacher => "teacher",
            Occupation::HealthWorker => "health_worker",
            Occupation::SelfEmployed => "self_employed",
            Occupation::Religious => "religious",
            Occupation::Other => "other",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Occupation::HighSchoolStudent => "Học sinh trung học phổ thông",
            Occupation::Student => "Sinh viên",
            Occupation::Worker => "Công nhân",
            Occupation::Farmer => "Nông dân",
            Occupation::CivilServant => "Cán bộ, công chức, viên chức",
            Occupation::ArmedForces => "Lực lượng vũ trang",
            Occupation::EnterpriseOwner => "Chủ doanh nghiệp tư nhân",
            Occupation::EnterpriseEmployee => "Người lao động trong doanh nghiệp",
            Occupation::Teacher => "Giáo viên",
            Occupation::HealthWorker => "Y tế",
            Occupation::SelfEmployed => "Lao động tự do",
            Occupation::Religious => "Chức sắc, nhà tu hành",
            Occupation::Other => "Khác",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Occupation::HighSchoolStudent => "High-school student",
            Occupation::Student => "Student",
            Occupation::Worker => "Worker",
            Occupation::Farmer => "Farmer",
            Occupation::CivilServant => "Civil servant",
            Occupation::ArmedForces => "Armed forces",
            Occupation::EnterpriseOwner => "Private enterprise owner",
            Occupation::EnterpriseEmployee => "Enterprise employee",
            Occupation::Teacher => "Teacher",
            Occupation::HealthWorker => "Health worker",
            Occupation::SelfEmployed => "Self-employed",
            Occupation::Religious => "Religious dignitary",
            Occupation::Other => "Other",
        }
    }

    pub fn from_code(code: &str) -> Option<Occupation> {
        Occupation::ALL.into_iter().find(|o| o.code() == code)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
    #[serde(other)]
    Other,
}

/// General-education attainment, in increasing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationLevel {
    /// Cannot read and write the national script.
    None,
    /// Can read and write chữ quốc ngữ (R5b minimum).
    Literate,
    /// Completed primary school (R5a minimum).
    Primary,
    /// A certificate "equivalent" to lower secondary: not accepted automatically (R4).
    LowerSecondaryEquivalent,
    LowerSecondary,
    UpperSecondary,
    Vocational,
    College,
    University,
    Postgraduate,
    #[serde(other)]
    Unknown,
}

/// The special-case category that lowers the education minimum (R5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EducationException {
    /// Mountainous, border, island, ethnic-minority or especially difficult area, or a
    /// fisherman working at sea: primary school completed suffices (R5a).
    DifficultArea,
    /// Village elder, village head or prestigious person in such an area: literacy
    /// suffices, with written approval (R5b).
    PrestigiousPerson,
    #[serde(other)]
    Other,
}

/// Facts for re-admission of a former member (R36).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Readmission {
    pub is_readmission: bool,
    pub previous_exit_date: Option<Date>,
    pub exit_reason: Option<ExitReason>,
    /// Date the criminal record was expunged (xóa án tích), for a less serious crime.
    pub expunge_date: Option<Date>,
    pub provincial_approval_number: String,
    pub provincial_approval_date: Option<Date>,
    /// Whether the person was already re-admitted once before (allowed only once).
    pub previously_readmitted: bool,
}

/// Why a former member left the Party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    AbandonedActivities,
    AppliedToLeave,
    AppliedToLeaveFamilyHardship,
    SeriousDisunity,
    CorruptionConviction,
    SeriousCrime,
    LessSeriousCrime,
    PopulationPolicy,
    #[serde(other)]
    Other,
}

/// Where the candidate comes from (tạo nguồn).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Source {
    /// The organisation that proposed the candidate (Youth Union, trade union, ...).
    pub origin_org: String,
    /// The kind of that organisation, for reports (conversion by source); `None` when not
    /// recorded. Older documents have only `origin_org`.
    pub kind: Option<SourceKind>,
    pub helper_member_id: String,
    pub helper_name: String,
    /// Date of entry on the list of outstanding people (quần chúng ưu tú).
    pub outstanding_list_date: Option<Date>,
    /// The unit where the candidate works or studies has a Youth Union organisation.
    pub unit_has_youth_union: Option<bool>,
    /// The candidate's base has no party organisation or no members (R37).
    pub no_party_organisation: bool,
    /// The branch assigned by the superior committee to help in that case (R37).
    pub helping_branch: String,
}

/// Where a candidate was put forward from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    YouthUnion,
    TradeUnion,
    /// Another mass organisation (Women's Union, Veterans, Farmers' Association…).
    OtherAssociation,
    #[serde(other)]
    Other,
}

impl SourceKind {
    pub const ALL: [SourceKind; 4] = [
        SourceKind::YouthUnion,
        SourceKind::TradeUnion,
        SourceKind::OtherAssociation,
        SourceKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SourceKind::YouthUnion => "youth_union",
            SourceKind::TradeUnion => "trade_union",
            SourceKind::OtherAssociation => "other_association",
            SourceKind::Other => "other",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            SourceKind::YouthUnion => "Đoàn Thanh niên",
            SourceKind::TradeUnion => "Công đoàn",
            SourceKind::OtherAssociation => "Đoàn thể, hội khác",
            SourceKind::Other => "Khác",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            SourceKind::YouthUnion => "Youth Union",
            SourceKind::TradeUnion => "Trade union",
            SourceKind::OtherAssociation => "Other association",
            SourceKind::Other => "Other",
        }
    }

    pub fn from_code(code: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|o| o.code() == code)
    }
}

/// The party-awareness class and its certificate (R7, R33).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AwarenessClass {
    /// The class record the office entered (`classes` reference data), when picked from
    /// the list; empty when only the name was typed.
    pub class_id: String,
    pub class_name: String,
    pub certificate_number: String,
    pub issuer: String,
    pub certificate_date: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Application {
    /// Date of the application letter (Mẫu 1-KNĐ).
    pub letter_date: Option<Date>,
}

/// The biography (Mẫu 2-KNĐ) and its verification (R9, R10, R6).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Biography {
    pub declared_date: Option<Date>,
    pub verifications: Vec<Verification>,
    pub chi_uy_comment_date: Option<Date>,
    pub grassroots_certification_date: Option<Date>,
    pub political_standard_cleared_by: String,
    pub political_standard_cleared_date: Option<Date>,
    /// Supplementary declaration after 12 months without a branch vote (R34).
    pub supplement_date: Option<Date>,
}

/// One verification request (công văn đề nghị thẩm tra).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Verification {
    /// Who is verified (the applicant or a relative's name).
    pub target: String,
    /// Relation to the applicant: "self", "father", "mother", "spouse", ...
    pub relation: String,
    pub sent_date: Option<Date>,
    pub reply_date: Option<Date>,
    pub result: String,
}

/// One individual introducer (người giới thiệu).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Introducer {
    pub member_id: String,
    pub name: String,
    /// Date the introducer became an official member.
    pub official_since: Option<Date>,
    /// Start of working, studying or living in the same unit as the candidate.
    pub co_working_since: Option<Date>,
    /// Assigned by the branch to replace an introducer (R13): no 12-month test.
    pub replacement: bool,
    /// Date of the introduction letter (Mẫu 3-KNĐ).
    pub letter_date: Option<Date>,
}

/// The Youth Union / trade-union resolution introducing the candidate (R14).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntroducingOrg {
    pub kind: Option<IntroducingOrgKind>,
    pub resolution_number: String,
    pub resolution_date: Option<Date>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntroducingOrgKind {
    YouthUnion,
    TradeUnion,
    #[serde(other)]
    Other,
}

/// Which introduction the branch chose (R11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntroductionPath {
    /// Two official members.
    TwoMembers,
    /// Grassroots Youth Union executive committee plus one official member.
    YouthUnion,
    /// Grassroots trade-union executive committee plus one official member.
    TradeUnion,
    #[serde(other)]
    Other,
}

/// Opinions of mass organisations and of the residence branch (R15).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Opinions {
    pub residence_date: Option<Date>,
    pub workplace_date: Option<Date>,
    /// The summary (Mẫu 5-KNĐ).
    pub summary_date: Option<Date>,
}

/// One vote of a branch (admission or recognition), recorded in full (R16–R18).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Vote {
    pub meeting_date: Option<Date>,
    /// Attempt number, 1-based; used for the three-attempt rule at recognition (R30).
    pub attempt: Option<u32>,
    /// All official members of the branch.
    pub official_members_total: Option<u32>,
    /// Official members on temporary activity in another organisation.
    pub excluded_temporary: Option<u32>,
    /// Official members exempt from activities and absent from this meeting.
    pub excluded_exempt_absent: Option<u32>,
    pub present: Option<u32>,
    pub votes_for: Option<u32>,
    pub votes_against: Option<u32>,
    pub invalid: Option<u32>,
    pub method: Option<VoteMethod>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VoteMethod {
    SecretBallot,
    ShowOfCards,
    #[serde(other)]
    Other,
}

/// The grassroots party committee step (R19).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommitteeStep {
    /// The grassroots committee is authorised to admit (decides itself).
    pub authorised: bool,
    pub members_total: Option<u32>,
    pub votes_for: Option<u32>,
    pub resolution_number: String,
    pub resolution_date: Option<Date>,
}

/// Written approvals of the standing committee under the Centre (R3, R5b).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Approvals {
    pub over_60: WrittenApproval,
    pub literacy: WrittenApproval,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WrittenApproval {
    pub number: String,
    pub date: Option<Date>,
    pub body: String,
    /// For over-60: "no_party_organisation" or "special_requirement" (R3 condition 2).
    pub basis: String,
}

/// The admission decision (R20–R22).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Decision {
    pub number: String,
    pub date_signed: Option<Date>,
    /// Date the branch received it; the ceremony deadline runs from here (R22).
    pub date_received: Option<Date>,
    pub deciding_body: String,
    /// The one extension of up to 30 working days was granted (R21).
    pub extension_granted: bool,
}

/// Ceremony and probation (R22–R26).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Probation {
    pub ceremony_date: Option<Date>,
    pub helper_member_id: String,
    pub helper_name: String,
    pub course_certificate_number: String,
    pub course_certificate_date: Option<Date>,
}

/// Recognition as an official member (R27–R31).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recognition {
    pub self_assessment_date: Option<Date>,
    pub helper_assessment_date: Option<Date>,
    pub opinions_summary_date: Option<Date>,
    pub votes: Vec<Vote>,
    pub committee_resolution_number: String,
    pub committee_resolution_date: Option<Date>,
    pub decision_number: String,
    pub decision_date: Option<Date>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartyCard {
    pub number: String,
    pub handed_over_date: Option<Date>,
}

/// The case was stopped (dừng).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Stop {
    pub date: Option<Date>,
    pub reason: Option<StopReason>,
    pub note: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Withdrew,
    NotAdmitted,
    NameRemoved,
    #[serde(other)]
    Other,
}

impl CaseFile {
    /// The latest branch vote on admission, by meeting date then position.
    pub fn latest_branch_vote(&self) -> Option<&Vote> {
        latest_vote(&self.branch_votes)
    }

    /// Whether the ethnicity is recorded and is not Kinh (reports count minorities).
    pub fn is_ethnic_minority(&self) -> bool {
        let e = crate::text::fold(&self.person.ethnicity);
        !e.is_empty() && e != "kinh"
    }
}

/// The latest vote of a list: by meeting date, undated votes counting as earliest.
pub fn latest_vote(votes: &[Vote]) -> Option<&Vote> {
    // max_by_key keeps the last of equal keys, so a later entry wins a tie.
    votes.iter().max_by_key(|v| v.meeting_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_document_deserialises_to_the_default_case() {
        let case: CaseFile = serde_json::from_str("{}").unwrap();
        assert_eq!(case, CaseFile::default());
    }

    #[test]
    fn unknown_enum_strings_do_not_break_the_document() {
        let case: CaseFile = serde_json::from_str(
            r#"{"person":{"sex":"x","education_level":"phd_abroad"},"stop":{"reason":"moved"}}"#,
        )
        .unwrap();
        assert_eq!(case.person.sex, Some(Sex::Other));
        assert_eq!(case.person.education_level, Some(EducationLevel::Unknown));
        assert_eq!(case.stop.reason, Some(StopReason::Other));
    }

    #[test]
    fn enums_and_dates_serialise_as_snake_case_and_iso_strings() {
        let mut case = CaseFile::default();
        case.person.education_level = Some(EducationLevel::LowerSecondary);
        case.person.birth_date = Some("2000-02-29".parse().unwrap());
        let json = serde_json::to_value(&case).unwrap();
        assert_eq!(json["person"]["education_level"], "lower_secondary");
        assert_eq!(json["person"]["birth_date"], "2000-02-29");
        let back: CaseFile = serde_json::from_value(json).unwrap();
        assert_eq!(back, case);
    }

    #[test]
    fn kinh_in_any_case_is_not_an_ethnic_minority() {
        let mut case = CaseFile::default();
        assert!(!case.is_ethnic_minority());
        case.person.ethnicity = "KINH".into();
        assert!(!case.is_ethnic_minority());
        case.person.ethnicity = "Tày".into();
        assert!(case.is_ethnic_minority());
    }
}
