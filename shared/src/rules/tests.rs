//! Boundary tests of the rules: one `check` helper and many one-line cases.
//!
//! Every case starts from a complete, valid file (`official()`) cut back to the stage
//! under test, changes one fact, and says which finding must (or must not) appear.

use super::*;
use crate::model::*;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn vote(date: &str, total: u32, temp: u32, exempt_absent: u32, yes: u32) -> Vote {
    Vote {
        meeting_date: Some(d(date)),
        attempt: None,
        official_members_total: Some(total),
        excluded_temporary: Some(temp),
        excluded_exempt_absent: Some(exempt_absent),
        present: Some(total - temp - exempt_absent),
        votes_for: Some(yes),
        votes_against: Some(0),
        invalid: Some(0),
        method: Some(VoteMethod::SecretBallot),
    }
}

/// A complete file recognised as official, valid in every respect.
pub(crate) fn official() -> CaseFile {
    let mut c = CaseFile {
        id: "case-1".into(),
        org_id: "org-1".into(),
        ..CaseFile::default()
    };
    let p = &mut c.person;
    p.full_name = "Nguyễn Văn An".into();
    p.birth_date = Some(d("2000-05-10"));
    p.sex = Some(Sex::Male);
    p.ethnicity = "Kinh".into();
    p.education_level = Some(EducationLevel::UpperSecondary);
    p.residence_unit = "Thôn 1".into();
    p.workplace_unit = "Trường THCS Tân Lập".into();
    p.youth_union_member = true;
    p.youth_union_unit = "Chi đoàn giáo viên".into();
    c.source.origin_org = "youth_union".into();
    c.source.helper_member_id = "m-9".into();
    c.source.outstanding_list_date = Some(d("2024-09-01"));
    c.source.unit_has_youth_union = Some(true);
    c.awareness_class = AwarenessClass {
        class_name: "Lớp nhận thức 10/2024".into(),
        certificate_number: "123/CN".into(),
        issuer: "Trung tâm chính trị".into(),
        certificate_date: Some(d("2024-10-15")),
        ..AwarenessClass::default()
    };
    c.application.letter_date = Some(d("2024-11-01"));
    let b = &mut c.biography;
    b.declared_date = Some(d("2024-11-05"));
    for (target, relation) in [
        ("Nguyễn Văn An", "self"),
        ("Nguyễn Văn Bình", "father"),
        ("Lê Thị Cúc", "mother"),
    ] {
        b.verifications.push(Verification {
            target: target.into(),
            relation: relation.into(),
            sent_date: Some(d("2024-11-10")),
            reply_date: Some(d("2024-12-10")),
            result: "Không có vấn đề".into(),
        });
    }
    b.chi_uy_comment_date = Some(d("2024-12-15"));
    b.grassroots_certification_date = Some(d("2024-12-20"));
    b.political_standard_cleared_by = "Đảng ủy xã".into();
    b.political_standard_cleared_date = Some(d("2024-12-20"));
    c.introduction_path = Some(IntroductionPath::YouthUnion);
    c.introducers.push(Introducer {
        member_id: "m-1".into(),
        name: "Trần Văn Dũng".into(),
        official_since: Some(d("2015-01-01")),
        co_working_since: Some(d("2022-01-01")),
        replacement: false,
        letter_date: Some(d("2025-01-05")),
    });
    c.introducing_org = IntroducingOrg {
        kind: Some(IntroducingOrgKind::YouthUnion),
        resolution_number: "05-NQ/ĐTN".into(),
        resolution_date: Some(d("2025-01-06")),
    };
    c.opinions = Opinions {
        residence_date: Some(d("2025-01-10")),
        workplace_date: Some(d("2025-01-12")),
        summary_date: Some(d("2025-01-15")),
    };
    c.branch_votes.push(vote("2025-07-10", 12, 1, 1, 9));
    c.committee = CommitteeStep {
        authorised: false,
        members_total: Some(9),
        votes_for: Some(8),
        resolution_number: "12-NQ/ĐU".into(),
        resolution_date: Some(d("2025-07-20")),
    };
    c.decision = Decision {
        number: "345-QĐ/ĐU".into(),
        date_signed: Some(d("2025-08-20")),
        date_received: Some(d("2025-08-25")),
        deciding_body: "Ban Thường vụ Đảng ủy xã".into(),
        extension_granted: false,
    };
    c.probation = Probation {
        ceremony_date: Some(d("2025-09-05")),
        helper_member_id: "m-1".into(),
        helper_name: "Trần Văn Dũng".into(),
        course_certificate_number: "77".into(),
        course_certificate_date: Some(d("2026-01-10")),
    };
    let r = &mut c.recognition;
    r.self_assessment_date = Some(d("2026-09-07"));
    r.helper_assessment_date = Some(d("2026-09-08"));
    r.opinions_summary_date = Some(d("2026-09-10"));
    r.votes.push(vote("2026-09-15", 12, 0, 0, 10));
    r.committee_resolution_number = "30-NQ/ĐU".into();
    r.committee_resolution_date = Some(d("2026-09-20"));
    r.decision_number = "400-QĐ/ĐU".into();
    r.decision_date = Some(d("2026-10-01"));
    c.official_date = Some(d("2026-09-05"));
    c.card = PartyCard {
        number: "01234567".into(),
        handed_over_date: Some(d("2026-11-03")),
    };
    c
}

/// The complete file cut back to `stage` (facts of later stages removed).
pub(crate) fn at(stage: Stage) -> CaseFile {
    let mut c = official();
    if stage < Stage::Official {
        c.card = PartyCard::default();
        c.official_date = None;
        c.recognition.decision_date = None;
        c.recognition.decision_number.clear();
    }
    if stage < Stage::Recognition {
        c.recognition = Recognition::default();
    }
    if stage < Stage::Probation {
        c.probation = Probation::default();
    }
    if stage < Stage::Decision {
        c.decision = Decision::default();
    }
    if stage < Stage::Committee {
        c.committee = CommitteeStep::default();
    }
    if stage < Stage::BranchVote {
        c.branch_votes.clear();
    }
    if stage < Stage::FilePreparation {
        c.application = Application::default();
        c.biography = Biography::default();
        c.introducers.clear();
        c.introducing_org = IntroducingOrg::default();
        c.introduction_path = None;
        c.opinions = Opinions::default();
    }
    if stage < Stage::AwarenessClass {
        c.awareness_class = AwarenessClass::default();
    }
    c
}

fn eval_with(case: &CaseFile, today: &str, settings: &RuleSettings) -> Evaluation {
    let cal = WorkingCalendar::vietnam_2021_2027();
    evaluate(case, &EvalContext::new(d(today), settings, &cal))
}

fn codes(eval: &Evaluation) -> Vec<(&'static str, Severity)> {
    eval.findings.iter().map(|f| (f.code, f.severity)).collect()
}

/// Starts from `stage`, applies `edit`, evaluates on `today` with `settings`, and
/// asserts that `code` appears with `expected` severity, or not at all for `None`.
fn check_with(
    settings: &RuleSettings,
    stage: Stage,
    today: &str,
    edit: impl FnOnce(&mut CaseFile),
    code: &str,
    expected: Option<Severity>,
) {
    let mut case = at(stage);
    edit(&mut case);
    let eval = eval_with(&case, today, settings);
    let found: Vec<Severity> = eval
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| f.severity)
        .collect();
    match expected {
        Some(sev) => assert!(
            found.contains(&sev),
            "expected {code} as {sev:?}, got findings {:?}",
            codes(&eval)
        ),
        None => assert!(
            found.is_empty(),
            "expected no {code}, got findings {:?}",
            codes(&eval)
        ),
    }
}

fn check(
    stage: Stage,
    today: &str,
    edit: impl FnOnce(&mut CaseFile),
    code: &str,
    expected: Option<Severity>,
) {
    check_with(&RuleSettings::default(), stage, today, edit, code, expected);
}

fn born(s: &str) -> impl FnOnce(&mut CaseFile) {
    let date = d(s);
    move |c: &mut CaseFile| c.person.birth_date = Some(date)
}

fn day_precise() -> RuleSettings {
    RuleSettings {
        age_reading: AgeReading::DayPrecise,
        ..RuleSettings::default()
    }
}

use Severity::{Blocking, Info, Warning};
use Stage::{BranchVote, Committee, FilePreparation, Official, Source, Stopped};
// Stage names that collide with model structs are spelled out.
const AWARENESS: Stage = Stage::AwarenessClass;
const DECISION: Stage = Stage::Decision;
const PROBATION: Stage = Stage::Probation;
const RECOGNITION: Stage = Stage::Recognition;

const VOTED: &str = "2025-07-15"; // a few days after the branch meeting of 10/07/2025

// ----- the complete file -----

#[test]
fn the_complete_file_has_no_blocking_or_warning_finding_at_any_stage() {
    let today = [
        (Source, "2024-09-10"),
        (AWARENESS, "2024-10-20"),
        (FilePreparation, "2025-01-20"),
        (BranchVote, VOTED),
        (Committee, "2025-07-25"),
        (DECISION, "2025-08-26"),
        (PROBATION, "2026-01-15"),
        (RECOGNITION, "2026-09-25"),
        (Official, "2026-11-10"),
    ];
    for (stage, today) in today {
        let case = at(stage);
        let eval = eval_with(&case, today, &RuleSettings::default());
        assert_eq!(eval.stage, stage);
        let bad: Vec<_> = eval
            .findings
            .iter()
            .filter(|f| f.severity != Info)
            .map(|f| f.code)
            .collect();
        // The trade-union reading warning does not apply: this file uses the Youth Union.
        assert!(bad.is_empty(), "{stage:?}: {bad:?}");
        if stage == FilePreparation || stage == BranchVote {
            assert!(can_advance(&eval).is_ok());
        }
    }
}

#[test]
fn the_rule_set_follows_the_branch_meeting_date() {
    let case = at(BranchVote);
    assert_eq!(
        eval_with(&case, "2025-07-15", &RuleSettings::default()).rule_set,
        RuleSetId::Rs2025b
    );
    let mut early = case.clone();
    early.branch_votes[0].meeting_date = Some(d("2025-06-30"));
    assert_eq!(
        eval_with(&early, "2025-07-15", &RuleSettings::default()).rule_set,
        RuleSetId::Rs2025a
    );
    early.branch_votes[0].meeting_date = Some(d("2025-01-19"));
    assert_eq!(
        eval_with(&early, "2025-07-15", &RuleSettings::default()).rule_set,
        RuleSetId::Rs2021
    );
    assert_eq!(RuleSetId::for_date(d("2025-07-01")), RuleSetId::Rs2025b);
    assert_eq!(RuleSetId::for_date(d("2025-01-20")), RuleSetId::Rs2025a);
    assert_eq!(RuleSetId::Rs2025b.version(), "RS-2025b");
}

#[test]
fn an_empty_file_never_panics_and_asks_for_the_person() {
    let eval = eval_with(&CaseFile::default(), "2025-07-15", &RuleSettings::default());
    assert_eq!(eval.stage, Source);
    assert!(codes(&eval).contains(&("BIRTH_DATE_MISSING", Blocking)));
    assert!(codes(&eval).contains(&("NAME_MISSING", Blocking)));
    assert!(can_advance(&eval).is_err());
}

// ----- R2 age: meeting on 10/07/2025 -----

#[test]
fn born_in_the_meeting_month_eighteen_years_earlier_is_old_enough_by_month() {
    check(BranchVote, VOTED, born("2007-07-31"), "AGE_BELOW_18", None);
}
#[test]
fn born_a_month_later_is_too_young_by_month() {
    check(
        BranchVote,
        VOTED,
        born("2007-08-01"),
        "AGE_BELOW_18",
        Some(Blocking),
    );
}
#[test]
fn the_readings_disagree_when_the_eighteenth_birthday_is_after_the_meeting_in_the_same_month() {
    check(
        BranchVote,
        VOTED,
        born("2007-07-11"),
        "AGE_READINGS_DISAGREE",
        Some(Warning),
    );
}
#[test]
fn day_precise_reading_accepts_the_eighteenth_birthday_on_the_meeting_day() {
    check_with(
        &day_precise(),
        BranchVote,
        VOTED,
        born("2007-07-10"),
        "AGE_BELOW_18",
        None,
    );
}
#[test]
fn day_precise_reading_rejects_the_day_before_the_eighteenth_birthday() {
    check_with(
        &day_precise(),
        BranchVote,
        VOTED,
        born("2007-07-11"),
        "AGE_BELOW_18",
        Some(Blocking),
    );
}
#[test]
fn the_readings_agree_on_a_plain_adult() {
    check(
        BranchVote,
        VOTED,
        born("2000-05-10"),
        "AGE_READINGS_DISAGREE",
        None,
    );
}
#[test]
fn a_29_february_birthday_turns_18_on_28_february_under_the_day_reading() {
    let mut s = day_precise();
    s.co_working_anchor = CoWorkingAnchor::LetterDate;
    check_with(
        &s,
        BranchVote,
        VOTED,
        |c| {
            c.person.birth_date = Some(d("2008-02-29"));
            c.branch_votes[0].meeting_date = Some(d("2026-02-28"));
        },
        "AGE_BELOW_18",
        None,
    );
    check_with(
        &day_precise(),
        BranchVote,
        VOTED,
        |c| {
            c.person.birth_date = Some(d("2008-02-29"));
            c.branch_votes[0].meeting_date = Some(d("2026-02-27"));
        },
        "AGE_BELOW_18",
        Some(Blocking),
    );
}
#[test]
fn sixty_in_the_meeting_month_is_still_eligible_by_month() {
    check(BranchVote, VOTED, born("1965-07-01"), "AGE_OVER_60", None);
}
#[test]
fn sixty_and_one_month_needs_the_over_60_approval() {
    check(
        BranchVote,
        VOTED,
        born("1965-06-30"),
        "AGE_OVER_60",
        Some(Warning),
    );
}
#[test]
fn over_60_without_approval_blocks_once_the_committee_has_acted() {
    check(
        Committee,
        "2025-07-25",
        born("1960-01-01"),
        "AGE_OVER_60",
        Some(Blocking),
    );
}
#[test]
fn over_60_with_approval_before_the_decision_passes() {
    check(
        DECISION,
        "2025-08-26",
        |c| {
            c.person.birth_date = Some(d("1960-01-01"));
            c.approvals.over_60 = WrittenApproval {
                number: "1".into(),
                date: Some(d("2025-08-01")),
                body: "BTV Tỉnh ủy".into(),
                basis: "no_party_organisation".into(),
            };
        },
        "AGE_OVER_60",
        None,
    );
}
#[test]
fn an_over_60_approval_dated_after_the_decision_blocks() {
    check(
        DECISION,
        "2025-08-26",
        |c| {
            c.person.birth_date = Some(d("1960-01-01"));
            c.approvals.over_60 = WrittenApproval {
                number: "1".into(),
                date: Some(d("2025-08-21")),
                body: "BTV".into(),
                basis: "x".into(),
            };
        },
        "OVER_60_APPROVAL_AFTER_DECISION",
        Some(Blocking),
    );
}
#[test]
fn day_precise_reading_rejects_the_day_after_the_sixtieth_birthday() {
    check_with(
        &day_precise(),
        BranchVote,
        VOTED,
        born("1965-07-09"),
        "AGE_OVER_60",
        Some(Warning),
    );
    check_with(
        &day_precise(),
        BranchVote,
        VOTED,
        born("1965-07-10"),
        "AGE_OVER_60",
        None,
    );
}
#[test]
fn a_seventeen_year_old_source_gets_a_warning_not_a_block() {
    check(
        Source,
        "2024-09-10",
        born("2008-01-01"),
        "AGE_BELOW_18",
        Some(Warning),
    );
}

// ----- R4, R5 education -----

#[test]
fn lower_secondary_is_enough() {
    check(
        BranchVote,
        VOTED,
        |c| c.person.education_level = Some(EducationLevel::LowerSecondary),
        "EDUCATION_BELOW_LOWER_SECONDARY",
        None,
    );
}
#[test]
fn primary_without_an_exception_blocks() {
    check(
        BranchVote,
        VOTED,
        |c| c.person.education_level = Some(EducationLevel::Primary),
        "EDUCATION_BELOW_LOWER_SECONDARY",
        Some(Blocking),
    );
}
#[test]
fn an_equivalent_certificate_is_sent_for_review() {
    check(
        BranchVote,
        VOTED,
        |c| c.person.education_level = Some(EducationLevel::LowerSecondaryEquivalent),
        "EDUCATION_EQUIVALENT_REVIEW",
        Some(Warning),
    );
}
#[test]
fn primary_in_a_difficult_area_is_enough() {
    check(
        BranchVote,
        VOTED,
        |c| {
            c.person.education_level = Some(EducationLevel::Primary);
            c.person.education_exception = Some(EducationException::DifficultArea);
        },
        "EDUCATION_EXCEPTION_APPLIED",
        Some(Info),
    );
}
#[test]
fn literacy_alone_in_a_difficult_area_is_not_enough() {
    check(
        BranchVote,
        VOTED,
        |c| {
            c.person.education_level = Some(EducationLevel::Literate);
            c.person.education_exception = Some(EducationException::DifficultArea);
        },
        "EDUCATION_BELOW_PRIMARY",
        Some(Blocking),
    );
}
#[test]
fn a_literate_village_elder_needs_the_written_approval_before_the_decision() {
    check(
        Committee,
        "2025-07-25",
        |c| {
            c.person.education_level = Some(EducationLevel::Literate);
            c.person.education_exception = Some(EducationException::PrestigiousPerson);
        },
        "LITERACY_APPROVAL_MISSING",
        Some(Blocking),
    );
}
#[test]
fn an_illiterate_village_elder_cannot_be_admitted() {
    check(
        BranchVote,
        VOTED,
        |c| {
            c.person.education_level = Some(EducationLevel::None);
            c.person.education_exception = Some(EducationException::PrestigiousPerson);
        },
        "EDUCATION_NOT_LITERATE",
        Some(Blocking),
    );
}
#[test]
fn missing_education_blocks_file_preparation_but_not_the_source_stage() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.person.education_level = None,
        "EDUCATION_MISSING",
        Some(Blocking),
    );
    check(
        Source,
        "2024-09-10",
        |c| c.person.education_level = None,
        "EDUCATION_MISSING",
        None,
    );
    check(
        AWARENESS,
        "2024-10-20",
        |c| c.person.education_level = None,
        "EDUCATION_MISSING",
        Some(Info),
    );
}

// ----- R7, R33 certificate: 15/01/2020 + 60 months = 15/01/2025 (quiz Q7) -----

fn cert(date: &str, meeting: &str) -> impl FnOnce(&mut CaseFile) {
    let (date, meeting) = (d(date), d(meeting));
    move |c: &mut CaseFile| {
        c.awareness_class.certificate_date = Some(date);
        c.branch_votes[0].meeting_date = Some(meeting);
    }
}

#[test]
fn a_certificate_is_still_valid_on_its_sixtieth_month_anniversary() {
    check(
        BranchVote,
        VOTED,
        cert("2020-01-15", "2025-01-15"),
        "CERTIFICATE_EXPIRED",
        None,
    );
}
#[test]
fn a_certificate_is_expired_the_day_after() {
    check(
        BranchVote,
        VOTED,
        cert("2020-01-15", "2025-01-16"),
        "CERTIFICATE_EXPIRED",
        Some(Blocking),
    );
}
#[test]
fn the_quiz_example_of_a_vote_on_3_february_2025_is_invalid() {
    check(
        BranchVote,
        VOTED,
        cert("2020-01-15", "2025-02-03"),
        "CERTIFICATE_EXPIRED",
        Some(Blocking),
    );
}
#[test]
fn an_expiry_on_a_saturday_rolls_to_monday_by_default() {
    // 2020-02-29 + 60 months = 2025-02-28 (Friday); 2020-03-01 + 60 = 2025-03-01 (Saturday) → Monday 03/03.
    check(
        BranchVote,
        VOTED,
        cert("2020-03-01", "2025-03-03"),
        "CERTIFICATE_EXPIRED",
        None,
    );
    check(
        BranchVote,
        VOTED,
        cert("2020-02-29", "2025-03-03"),
        "CERTIFICATE_EXPIRED",
        Some(Blocking),
    );
}
#[test]
fn without_roll_forward_a_saturday_expiry_is_final() {
    let mut s = RuleSettings::default();
    s.working_days.roll_forward = false;
    check_with(
        &s,
        BranchVote,
        VOTED,
        cert("2020-03-01", "2025-03-03"),
        "CERTIFICATE_EXPIRED",
        Some(Blocking),
    );
}
#[test]
fn a_certificate_dated_after_the_meeting_blocks() {
    check(
        BranchVote,
        VOTED,
        cert("2025-07-11", "2025-07-10"),
        "CERTIFICATE_AFTER_BRANCH_VOTE",
        Some(Blocking),
    );
}
#[test]
fn an_expired_certificate_before_the_vote_blocks_preparation() {
    check(
        FilePreparation,
        "2029-10-16",
        |_| {},
        "CERTIFICATE_EXPIRED",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2029-10-15",
        |_| {},
        "CERTIFICATE_EXPIRED",
        None,
    );
}
#[test]
fn a_missing_certificate_blocks_the_branch_vote() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.awareness_class = AwarenessClass::default(),
        "CERTIFICATE_MISSING",
        Some(Blocking),
    );
}

// ----- R8–R10 dossier -----

#[test]
fn a_biography_declared_before_the_letter_blocks() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.declared_date = Some(d("2024-10-31")),
        "BIOGRAPHY_BEFORE_APPLICATION",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.declared_date = Some(d("2024-11-01")),
        "BIOGRAPHY_BEFORE_APPLICATION",
        None,
    );
}
#[test]
fn the_chi_uy_may_not_comment_before_the_last_verification_reply() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.chi_uy_comment_date = Some(d("2024-12-09")),
        "CHI_UY_COMMENT_BEFORE_VERIFICATION",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.chi_uy_comment_date = Some(d("2024-12-10")),
        "CHI_UY_COMMENT_BEFORE_VERIFICATION",
        None,
    );
}
#[test]
fn certification_while_a_reply_is_outstanding_blocks() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.verifications[2].reply_date = None,
        "CERTIFICATION_BEFORE_VERIFICATION",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.biography.verifications[2].reply_date = None,
        "VERIFICATION_REPLY_MISSING",
        Some(Blocking),
    );
}
#[test]
fn a_verification_reply_deadline_applies_only_when_configured() {
    let edit = |c: &mut CaseFile| c.biography.verifications[0].reply_date = None;
    check(
        FilePreparation,
        "2025-06-01",
        edit,
        "VERIFICATION_OVERDUE",
        None,
    );
    let s = RuleSettings {
        verification_reply_working_days: Some(20),
        ..RuleSettings::default()
    };
    check_with(
        &s,
        FilePreparation,
        "2025-06-01",
        edit,
        "VERIFICATION_OVERDUE",
        Some(Warning),
    );
}

// ----- R11–R14 introducers -----

#[test]
fn an_introducer_official_after_the_letter_is_not_official() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.introducers[0].official_since = Some(d("2025-01-06")),
        "INTRODUCER_NOT_OFFICIAL",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.introducers[0].official_since = Some(d("2025-01-05")),
        "INTRODUCER_NOT_OFFICIAL",
        None,
    );
}
#[test]
fn twelve_months_of_co_working_are_met_on_the_anniversary() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.introducers[0].co_working_since = Some(d("2024-01-05")),
        "INTRODUCER_CO_WORKING_SHORT",
        None,
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.introducers[0].co_working_since = Some(d("2024-01-06")),
        "INTRODUCER_CO_WORKING_SHORT",
        Some(Blocking),
    );
}
#[test]
fn co_working_can_be_measured_at_the_branch_meeting() {
    let s = RuleSettings {
        co_working_anchor: CoWorkingAnchor::BranchMeeting,
        ..RuleSettings::default()
    };
    check_with(
        &s,
        BranchVote,
        VOTED,
        |c| c.introducers[0].co_working_since = Some(d("2024-07-10")),
        "INTRODUCER_CO_WORKING_SHORT",
        None,
    );
    check_with(
        &s,
        BranchVote,
        VOTED,
        |c| c.introducers[0].co_working_since = Some(d("2024-07-11")),
        "INTRODUCER_CO_WORKING_SHORT",
        Some(Blocking),
    );
}
#[test]
fn a_replacement_introducer_needs_no_twelve_months() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| {
            c.introducers[0].co_working_since = Some(d("2024-12-01"));
            c.introducers[0].replacement = true;
        },
        "INTRODUCER_CO_WORKING_SHORT",
        None,
    );
}
#[test]
fn a_youth_of_thirty_where_the_union_exists_must_go_through_the_union() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| c.introduction_path = Some(IntroductionPath::TwoMembers),
        "YOUTH_UNION_PATH_REQUIRED",
        Some(Blocking),
    );
    check(
        FilePreparation,
        "2025-01-20",
        |c| {
            c.introduction_path = Some(IntroductionPath::TwoMembers);
            c.person.birth_date = Some(d("1994-01-19"));
        },
        "YOUTH_UNION_PATH_REQUIRED",
        None,
    );
}
#[test]
fn the_trade_union_path_warns_by_default_and_blocks_under_the_two_member_reading() {
    let tu = |c: &mut CaseFile| {
        c.source.unit_has_youth_union = Some(false);
        c.introduction_path = Some(IntroductionPath::TradeUnion);
        c.introducing_org.kind = Some(IntroducingOrgKind::TradeUnion);
        c.person.trade_union_member = true;
    };
    check(
        FilePreparation,
        "2025-01-20",
        tu,
        "TRADE_UNION_PATH_READING",
        Some(Warning),
    );
    let s = RuleSettings {
        trade_union_path: TradeUnionPath::TwoMembers,
        ..RuleSettings::default()
    };
    check_with(
        &s,
        FilePreparation,
        "2025-01-20",
        tu,
        "TRADE_UNION_PATH_NOT_ACCEPTED",
        Some(Blocking),
    );
}
#[test]
fn two_members_are_needed_on_the_two_member_path() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| {
            c.source.unit_has_youth_union = Some(false);
            c.introduction_path = Some(IntroductionPath::TwoMembers);
        },
        "INTRODUCERS_TOO_FEW",
        Some(Blocking),
    );
}
#[test]
fn the_same_member_cannot_introduce_twice() {
    check(
        FilePreparation,
        "2025-01-20",
        |c| {
            c.source.unit_has_youth_union = Some(false);
            c.introduction_path = Some(IntroductionPath::TwoMembers);
            let again = c.introducers[0].clone();
            c.introducers.push(again);
        },
        "INTRODUCER_DUPLICATE",
        Some(Blocking),
    );
}

// ----- R34 staleness: earliest document 05/01/2025 → valid until 05/01/2026 (Monday) -----

#[test]
fn the_dossier_is_fresh_on_its_first_anniversary() {
    check(FilePreparation, "2026-01-05", |_| {}, "DOSSIER_STALE", None);
}
#[test]
fn the_dossier_lapses_the_day_after_its_first_anniversary() {
    check(
        FilePreparation,
        "2026-01-06",
        |_| {},
        "DOSSIER_STALE",
        Some(Blocking),
    );
}
#[test]
fn a_branch_vote_after_the_lapse_is_blocked() {
    check(
        BranchVote,
        VOTED,
        |c| c.branch_votes[0].meeting_date = Some(d("2026-01-06")),
        "DOSSIER_STALE",
        Some(Blocking),
    );
}
#[test]
fn the_staleness_anchor_can_be_the_application_letter() {
    let s = RuleSettings {
        staleness_anchor: StalenessAnchor::ApplicationLetter,
        ..RuleSettings::default()
    };
    check_with(
        &s,
        FilePreparation,
        "2025-11-04",
        |_| {},
        "DOSSIER_STALE",
        Some(Blocking),
    );
    check(FilePreparation, "2025-11-04", |_| {}, "DOSSIER_STALE", None);
}

// ----- R16–R19 votes: 12 official members, 1 on temporary activity, 1 exempt absent → 10 -----

fn votes_for(total: u32, temp: u32, exempt: u32, yes: u32) -> impl FnOnce(&mut CaseFile) {
    move |c: &mut CaseFile| c.branch_votes[0] = vote("2025-07-10", total, temp, exempt, yes)
}

#[test]
fn exactly_two_thirds_of_counted_members_passes() {
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 2, 6),
        "BRANCH_VOTE_BELOW_TWO_THIRDS",
        None,
    );
}
#[test]
fn one_vote_short_of_two_thirds_blocks() {
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 2, 5),
        "BRANCH_VOTE_BELOW_TWO_THIRDS",
        Some(Blocking),
    );
}
#[test]
fn seven_of_ten_passes_and_six_of_ten_fails() {
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 1, 7),
        "BRANCH_VOTE_BELOW_TWO_THIRDS",
        None,
    );
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 1, 6),
        "BRANCH_VOTE_BELOW_TWO_THIRDS",
        Some(Blocking),
    );
}
#[test]
fn excluded_members_count_when_the_setting_keeps_everyone() {
    let s = RuleSettings {
        vote_denominator: VoteDenominator::AllOfficial,
        ..RuleSettings::default()
    };
    check_with(
        &s,
        BranchVote,
        VOTED,
        votes_for(12, 1, 1, 7),
        "BRANCH_VOTE_BELOW_TWO_THIRDS",
        Some(Blocking),
    );
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 1, 7),
        "BRANCH_VOTE_DENOMINATOR_READINGS_DISAGREE",
        Some(Warning),
    );
}
#[test]
fn more_votes_for_than_counted_members_is_a_contradiction() {
    check(
        BranchVote,
        VOTED,
        votes_for(12, 1, 1, 11),
        "BRANCH_VOTE_COUNTS_INCONSISTENT",
        Some(Blocking),
    );
}
#[test]
fn a_branch_of_two_official_members_is_too_small() {
    check(
        BranchVote,
        VOTED,
        votes_for(2, 0, 0, 2),
        "BRANCH_TOO_SMALL",
        Some(Warning),
    );
}
#[test]
fn a_vote_without_counts_blocks() {
    check(
        BranchVote,
        VOTED,
        |c| c.branch_votes[0].votes_for = None,
        "BRANCH_VOTE_COUNT_MISSING",
        Some(Blocking),
    );
}
#[test]
fn the_committee_needs_two_thirds_of_all_its_members() {
    check(
        Committee,
        "2025-07-25",
        |c| c.committee.votes_for = Some(6),
        "COMMITTEE_BELOW_TWO_THIRDS",
        None,
    );
    check(
        Committee,
        "2025-07-25",
        |c| c.committee.votes_for = Some(5),
        "COMMITTEE_BELOW_TWO_THIRDS",
        Some(Blocking),
    );
}

// ----- R21 decision within 60 working days of 10/07/2025 -----

#[test]
fn the_decision_deadline_counts_sixty_working_days_over_the_national_day() {
    let case = at(BranchVote);
    let eval = eval_with(&case, VOTED, &RuleSettings::default());
    let dl = eval
        .deadlines
        .iter()
        .find(|d| d.code == "DL_DECISION")
        .unwrap();
    // 60 working days after Thu 10/07/2025, skipping the 01–02/09 holidays: Mon 06/10/2025.
    assert_eq!(dl.due, d("2025-10-06"));
    assert!(!dl.done && !dl.overdue);
}
#[test]
fn a_decision_signed_on_the_due_day_is_in_time_and_the_next_day_is_late() {
    check(
        DECISION,
        "2025-10-10",
        |c| c.decision.date_signed = Some(d("2025-10-06")),
        "DECISION_LATE",
        None,
    );
    check(
        DECISION,
        "2025-10-10",
        |c| {
            c.decision.date_signed = Some(d("2025-10-07"));
            c.decision.date_received = Some(d("2025-10-08"));
        },
        "DECISION_LATE",
        Some(Warning),
    );
}
#[test]
fn the_extension_adds_thirty_working_days() {
    check(
        DECISION,
        "2025-11-20",
        |c| {
            c.decision.extension_granted = true;
            c.decision.date_signed = Some(d("2025-11-17"));
            c.decision.date_received = Some(d("2025-11-18"));
        },
        "DECISION_LATE",
        None,
    );
}
#[test]
fn no_decision_after_the_deadline_is_overdue() {
    check(Committee, "2025-10-06", |_| {}, "DECISION_OVERDUE", None);
    check(
        Committee,
        "2025-10-07",
        |_| {},
        "DECISION_OVERDUE",
        Some(Warning),
    );
}

// ----- R22, R23 ceremony: received Mon 25/08/2025 → 30 working days → 08/10/2025 -----

#[test]
fn the_ceremony_is_due_thirty_working_days_after_receipt() {
    check(
        PROBATION,
        "2026-01-15",
        |c| c.probation.ceremony_date = Some(d("2025-10-08")),
        "CEREMONY_LATE",
        None,
    );
    check(
        PROBATION,
        "2026-01-15",
        |c| c.probation.ceremony_date = Some(d("2025-10-09")),
        "CEREMONY_LATE",
        Some(Warning),
    );
}
#[test]
fn a_ceremony_before_the_decision_was_received_blocks() {
    check(
        PROBATION,
        "2026-01-15",
        |c| c.probation.ceremony_date = Some(d("2025-08-24")),
        "CEREMONY_BEFORE_DECISION",
        Some(Blocking),
    );
}
#[test]
fn a_decision_without_a_receipt_date_blocks_the_ceremony() {
    check(
        DECISION,
        "2025-08-26",
        |c| c.decision.date_received = None,
        "DECISION_RECEIVED_DATE_MISSING",
        Some(Blocking),
    );
}

// ----- R24–R31 probation and recognition: ceremony 05/09/2025 → end 05/09/2026 -----

#[test]
fn a_recognition_vote_on_the_last_day_of_probation_is_too_early() {
    check(
        RECOGNITION,
        "2026-09-25",
        |c| c.recognition.votes[0].meeting_date = Some(d("2026-09-05")),
        "RECOGNITION_VOTE_TOO_EARLY",
        Some(Blocking),
    );
    check(
        RECOGNITION,
        "2026-09-25",
        |c| c.recognition.votes[0].meeting_date = Some(d("2026-09-06")),
        "RECOGNITION_VOTE_TOO_EARLY",
        None,
    );
}
#[test]
fn a_probation_that_starts_on_29_february_ends_on_28_february() {
    let mut case = at(PROBATION);
    case.probation.ceremony_date = Some(d("2028-02-29"));
    case.decision.date_signed = Some(d("2028-02-01"));
    case.decision.date_received = Some(d("2028-02-02"));
    let eval = eval_with(&case, "2028-03-01", &RuleSettings::default());
    let end = eval
        .deadlines
        .iter()
        .find(|d| d.code == "DL_PROBATION_END")
        .unwrap();
    assert_eq!(end.due, d("2029-02-28"));
}
#[test]
fn the_recognition_vote_is_due_thirty_working_days_after_probation() {
    // Probation ends Sat 05/09/2026; the 30th working day after it is Fri 16/10/2026.
    check(
        PROBATION,
        "2026-10-16",
        |_| {},
        "RECOGNITION_VOTE_OVERDUE",
        None,
    );
    check(
        PROBATION,
        "2026-10-17",
        |_| {},
        "RECOGNITION_VOTE_OVERDUE",
        Some(Warning),
    );
}
#[test]
fn the_official_date_must_be_the_end_of_probation() {
    check(
        Official,
        "2026-11-10",
        |c| c.official_date = Some(d("2026-10-01")),
        "OFFICIAL_DATE_NOT_PROBATION_END",
        Some(Warning),
    );
}
#[test]
fn a_failed_recognition_vote_blocks_until_the_third_attempt_goes_up() {
    let fail = |n: usize| {
        move |c: &mut CaseFile| {
            c.recognition.votes = (0..n)
                .map(|i| vote(&format!("2026-09-1{i}"), 12, 0, 0, 7))
                .collect()
        }
    };
    check(
        RECOGNITION,
        "2026-09-25",
        fail(1),
        "RECOGNITION_VOTE_BELOW_TWO_THIRDS",
        Some(Blocking),
    );
    check(
        RECOGNITION,
        "2026-09-25",
        fail(3),
        "RECOGNITION_DEADLOCK",
        Some(Blocking),
    );
    check(
        RECOGNITION,
        "2026-09-25",
        fail(4),
        "RECOGNITION_TOO_MANY_ATTEMPTS",
        Some(Blocking),
    );
}
#[test]
fn a_self_assessment_before_the_end_of_probation_blocks() {
    check(
        RECOGNITION,
        "2026-09-25",
        |c| c.recognition.self_assessment_date = Some(d("2026-09-05")),
        "SELF_ASSESSMENT_TOO_EARLY",
        Some(Blocking),
    );
}
#[test]
fn the_new_member_course_is_required_for_recognition() {
    check(
        RECOGNITION,
        "2026-09-25",
        |c| c.probation.course_certificate_date = None,
        "NEW_MEMBER_COURSE_MISSING",
        Some(Blocking),
    );
    check(
        PROBATION,
        "2026-01-15",
        |c| c.probation.course_certificate_date = None,
        "NEW_MEMBER_COURSE_MISSING",
        Some(Info),
    );
}
#[test]
fn a_card_before_recognition_blocks() {
    check(
        RECOGNITION,
        "2026-09-25",
        |c| c.card.handed_over_date = Some(d("2026-09-20")),
        "CARD_BEFORE_OFFICIAL",
        Some(Blocking),
    );
}

// ----- R36 re-admission -----

fn readmit(exit: &str, reason: ExitReason) -> impl FnOnce(&mut CaseFile) {
    let exit = d(exit);
    move |c: &mut CaseFile| {
        c.person.readmission = Readmission {
            is_readmission: true,
            previous_exit_date: Some(exit),
            exit_reason: Some(reason),
            provincial_approval_date: Some(d("2025-07-15")),
            ..Readmission::default()
        }
    }
}

#[test]
fn re_admission_waits_thirty_six_months_from_the_exit() {
    check(
        BranchVote,
        VOTED,
        readmit("2022-07-10", ExitReason::Other),
        "READMISSION_TOO_SOON",
        None,
    );
    check(
        BranchVote,
        VOTED,
        readmit("2022-07-11", ExitReason::Other),
        "READMISSION_TOO_SOON",
        Some(Blocking),
    );
}
#[test]
fn people_who_abandoned_activities_are_never_re_admitted() {
    check(
        BranchVote,
        VOTED,
        readmit("2015-01-01", ExitReason::AbandonedActivities),
        "READMISSION_EXCLUDED",
        Some(Blocking),
    );
    check(
        BranchVote,
        VOTED,
        readmit("2015-01-01", ExitReason::AppliedToLeaveFamilyHardship),
        "READMISSION_EXCLUDED",
        None,
    );
}
#[test]
fn a_less_serious_crime_waits_sixty_months_from_expunging() {
    let edit = |expunged: &'static str| {
        move |c: &mut CaseFile| {
            readmit("2015-01-01", ExitReason::LessSeriousCrime)(c);
            c.person.readmission.expunge_date = Some(d(expunged));
        }
    };
    check(
        BranchVote,
        VOTED,
        edit("2020-07-10"),
        "READMISSION_EXPUNGE_TOO_SOON",
        None,
    );
    check(
        BranchVote,
        VOTED,
        edit("2020-07-11"),
        "READMISSION_EXPUNGE_TOO_SOON",
        Some(Blocking),
    );
}

// ----- gating -----

#[test]
fn can_advance_lists_exactly_the_blocking_findings() {
    let mut case = at(BranchVote);
    case.branch_votes[0].votes_for = Some(1);
    let eval = eval_with(&case, VOTED, &RuleSettings::default());
    let blocking = can_advance(&eval).unwrap_err();
    assert!(blocking.iter().all(|f| f.severity == Blocking));
    assert!(
        blocking
            .iter()
            .any(|f| f.code == "BRANCH_VOTE_BELOW_TWO_THIRDS")
    );
}

#[test]
fn a_stopped_file_has_no_deadlines() {
    let mut case = at(DECISION);
    case.stop = Stop {
        date: Some(d("2025-09-01")),
        reason: Some(StopReason::Withdrew),
        note: String::new(),
    };
    let eval = eval_with(&case, "2025-10-01", &RuleSettings::default());
    assert_eq!(eval.stage, Stopped);
    assert!(eval.deadlines.is_empty() && eval.findings.is_empty());
}
