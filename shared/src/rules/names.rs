//! The registry of finding codes: the rule each code comes from (its number in RULES.md),
//! so the office's pages, which keep findings by code, name a rule exactly as the cadre's
//! app does, and the codes of checks that are no numbered rule. Every finding the rules
//! push is checked against it (in every rules test).

/// The codes of checks that are no numbered rule.
pub const UNNUMBERED: [&str; 4] = [
    "DATE_IN_FUTURE",
    "RULE_SET_BEFORE_2021",
    "STOP_DATE_MISSING",
    "STOP_REASON_MISSING",
];

/// Whether some rule emits findings with `code`.
pub fn is_finding_code(code: &str) -> bool {
    rule_number(code, "").is_some() || UNNUMBERED.contains(&code)
}

/// The rule number ("R16") of a finding code, given the field it is about (one code is
/// shared by rules on several documents); `None` for checks that are no numbered rule
/// (a date in the future, a stopped file's reason).
pub fn rule_number(code: &str, field: &str) -> Option<&'static str> {
    Some(match code {
        "DOCUMENT_AFTER_BRANCH_VOTE" => match field {
            "application.letter_date" => "R8",
            "biography.grassroots_certification_date" => "R10",
            "opinions.summary_date" => "R15",
            "introducing_org.resolution_date" => "R14",
            _ => "R12",
        },
        "NAME_MISSING" => "R1",
        "AGE_BELOW_18" | "AGE_READINGS_DISAGREE" | "BIRTH_DATE_MISSING" => "R2",
        "AGE_OVER_60" | "OVER_60_APPROVAL_AFTER_DECISION" | "OVER_60_BASIS_MISSING" => "R3",
        "EDUCATION_BELOW_LOWER_SECONDARY"
        | "EDUCATION_EQUIVALENT_REVIEW"
        | "EDUCATION_MISSING"
        | "EDUCATION_UNRECOGNISED" => "R4",
        "EDUCATION_BELOW_PRIMARY"
        | "EDUCATION_EXCEPTION_APPLIED"
        | "EDUCATION_NOT_LITERATE"
        | "LITERACY_APPROVAL_AFTER_DECISION"
        | "LITERACY_APPROVAL_MISSING" => "R5",
        "POLITICAL_STANDARD_NOT_CLEARED" => "R6",
        "CERTIFICATE_AFTER_BRANCH_VOTE" | "CERTIFICATE_DETAILS_MISSING" | "CERTIFICATE_MISSING" => {
            "R7"
        }
        "APPLICATION_LETTER_MISSING" | "BIOGRAPHY_BEFORE_APPLICATION" => "R8",
        "BIOGRAPHY_MISSING" => "R9",
        "CERTIFICATION_BEFORE_CHI_UY_COMMENT"
        | "CERTIFICATION_BEFORE_VERIFICATION"
        | "CERTIFICATION_MISSING"
        | "CHI_UY_COMMENT_BEFORE_VERIFICATION"
        | "CHI_UY_COMMENT_MISSING"
        | "VERIFICATION_BEFORE_BIOGRAPHY"
        | "VERIFICATION_MISSING"
        | "VERIFICATION_NOT_SENT"
        | "VERIFICATION_OVERDUE"
        | "VERIFICATION_REPLY_MISSING"
        | "VERIFICATION_RESULT_MISSING" => "R10",
        "INTRODUCERS_TOO_FEW"
        | "INTRODUCERS_TOO_MANY"
        | "INTRODUCER_DUPLICATE"
        | "INTRODUCTION_MISSING"
        | "INTRODUCTION_PATH_UNRECOGNISED"
        | "TRADE_UNION_MEMBERSHIP_MISSING"
        | "TRADE_UNION_PATH_NOT_ACCEPTED"
        | "TRADE_UNION_PATH_READING"
        | "YOUTH_UNION_MEMBERSHIP_MISSING"
        | "YOUTH_UNION_PATH_OVER_AGE"
        | "YOUTH_UNION_PATH_REQUIRED" => "R11",
        "INTRODUCER_CO_WORKING_MISSING"
        | "INTRODUCER_CO_WORKING_SHORT"
        | "INTRODUCER_LETTER_MISSING"
        | "INTRODUCER_NOT_OFFICIAL"
        | "INTRODUCER_OFFICIAL_SINCE_MISSING"
        | "INTRODUCER_UNIDENTIFIED" => "R12",
        "INTRODUCER_REPLACEMENT" => "R13",
        "INTRODUCING_RESOLUTION_KIND_MISMATCH" | "INTRODUCING_RESOLUTION_MISSING" => "R14",
        "OPINIONS_SUMMARY_MISSING" | "OPINION_RESIDENCE_MISSING" | "OPINION_WORKPLACE_MISSING" => {
            "R15"
        }
        "BRANCH_VOTE_BELOW_TWO_THIRDS" | "BRANCH_VOTE_MISSING" => "R16",
        "BRANCH_TOO_SMALL"
        | "BRANCH_VOTE_COUNTS_INCONSISTENT"
        | "BRANCH_VOTE_DENOMINATOR_READINGS_DISAGREE"
        | "RECOGNITION_VOTE_COUNTS_INCONSISTENT"
        | "RECOGNITION_VOTE_DENOMINATOR_READINGS_DISAGREE" => "R17",
        "BRANCH_VOTE_COUNT_MISSING"
        | "BRANCH_VOTE_DATE_MISSING"
        | "BRANCH_VOTE_METHOD_MISSING"
        | "RECOGNITION_VOTE_COUNT_MISSING"
        | "RECOGNITION_VOTE_DATE_MISSING"
        | "RECOGNITION_VOTE_METHOD_MISSING"
        | "VOTE_FAILED_MUST_BE_REPORTED" => "R18",
        "COMMITTEE_BEFORE_BRANCH_VOTE"
        | "COMMITTEE_BELOW_TWO_THIRDS"
        | "COMMITTEE_COUNTS_INCONSISTENT"
        | "COMMITTEE_COUNT_MISSING"
        | "COMMITTEE_RESOLUTION_MISSING"
        | "COMMITTEE_RESOLUTION_NUMBER_MISSING"
        | "DECISION_BEFORE_COMMITTEE" => "R19",
        "DECIDING_BODY_MISSING" | "DECISION_NUMBER_MISSING" | "DECISION_SIGNED_DATE_MISSING" => {
            "R20"
        }
        "DECISION_BEFORE_BRANCH_VOTE"
        | "DECISION_EXTENSION_USED"
        | "DECISION_LATE"
        | "DECISION_OVERDUE"
        | "RECOGNITION_DECISION_LATE"
        | "RECOGNITION_DECISION_OVERDUE" => "R21",
        "CEREMONY_LATE"
        | "CEREMONY_OVERDUE"
        | "DECISION_RECEIVED_BEFORE_SIGNED"
        | "DECISION_RECEIVED_DATE_MISSING" => "R22",
        "CEREMONY_BEFORE_DECISION" | "DECISION_MISSING" => "R23",
        "CEREMONY_MISSING"
        | "PROBATION_HELPER_MISSING"
        | "RECOGNITION_DECISION_BEFORE_PROBATION_END"
        | "RECOGNITION_VOTE_TOO_EARLY" => "R24",
        "NEW_MEMBER_COURSE_MISSING" => "R26",
        "RECOGNITION_VOTE_LATE" | "RECOGNITION_VOTE_OVERDUE" => "R27",
        "RECOGNITION_VOTE_BELOW_TWO_THIRDS" | "RECOGNITION_VOTE_MISSING" => "R28",
        "OFFICIAL_DATE_MISSING" | "OFFICIAL_DATE_NOT_PROBATION_END" => "R29",
        "RECOGNITION_DEADLOCK" | "RECOGNITION_TOO_MANY_ATTEMPTS" => "R30",
        "HELPER_ASSESSMENT_MISSING"
        | "RECOGNITION_COMMITTEE_MISSING"
        | "RECOGNITION_OPINIONS_MISSING"
        | "SELF_ASSESSMENT_MISSING"
        | "SELF_ASSESSMENT_TOO_EARLY" => "R31",
        "CERTIFICATE_EXPIRED" | "CERTIFICATE_EXPIRES_SOON" => "R33",
        "BIOGRAPHY_SUPPLEMENT_MISSING" | "DOSSIER_STALE" => "R34",
        "CARD_BEFORE_OFFICIAL" | "CARD_NOT_HANDED_OVER" | "CARD_NUMBER_MISSING" => "R35",
        "READMISSION_APPROVAL_AFTER_DECISION"
        | "READMISSION_APPROVAL_MISSING"
        | "READMISSION_EXIT_DATE_MISSING"
        | "READMISSION_EXIT_REASON_MISSING"
        | "READMISSION_EXPUNGE_DATE_MISSING"
        | "READMISSION_EXPUNGE_TOO_SOON"
        | "READMISSION_ONLY_ONCE"
        | "READMISSION_POPULATION_POLICY"
        | "READMISSION_TOO_SOON" => "R36",
        "READMISSION_EXCLUDED" => "R36b",
        "HELPING_BRANCH_MISSING" => "R37",
        "RELIGION_REVIEW" => "R39",
        "PRIVATE_BUSINESS_OWNER_REVIEW" => "R40",
        _ => return None,
    })
}
