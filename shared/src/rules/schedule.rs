//! The schedule of a case and its deadline list: every date the rules and the due dates
//! derive from, computed once per evaluation, and the two-thirds arithmetic of votes.
//!
//! The rules (to judge lateness) and the deadline list (to show due dates) read the same
//! `Schedule`, so the two can never disagree. Working days come from the calendar passed
//! in; month-based limits use `Date::add_months` with its end-of-month clamp. The public
//! path of these items is `crate::deadlines`, which re-exports them.

use serde::Serialize;

use super::settings::{StalenessAnchor, VoteDenominator};
use super::{EvalContext, RuleSetId};
use crate::date::Date;
use crate::model::{CaseFile, Vote};

/// A due date shown to the cadre and the reviewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// Stable code, e.g. "DL_DECISION".
    pub code: &'static str,
    pub label_vi: &'static str,
    pub label_en: &'static str,
    pub due: Date,
    /// The action was taken (in time or not; lateness is a finding).
    pub done: bool,
    /// Not done and `today` is after `due`.
    pub overdue: bool,
    pub source: &'static str,
}

/// The dates every deadline and lateness rule is derived from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Latest branch vote on admission that reached two-thirds, if any.
    pub admission_vote_passed: Option<Date>,
    /// R7/R33: last day the certificate is valid (rolled per the conventions).
    pub certificate_valid_until: Option<Date>,
    /// R34: last day the introductions and opinions are valid.
    pub dossier_valid_until: Option<Date>,
    /// The document that started the staleness clock.
    pub dossier_anchor: Option<Date>,
    /// R21: the decision is due by this day.
    pub decision_due: Option<Date>,
    /// R22: the ceremony is due by this day.
    pub ceremony_due: Option<Date>,
    /// R24: the day the 12 months of probation are complete.
    pub probation_end: Option<Date>,
    /// R27: the branch must consider recognition by this day.
    pub recognition_vote_due: Option<Date>,
    /// Latest recognition vote that reached two-thirds.
    pub recognition_vote_passed: Option<Date>,
    /// R21: the recognition decision is due by this day.
    pub recognition_decision_due: Option<Date>,
    /// R10 (setting): the earliest unanswered verification request is due by this day.
    pub verification_reply_due: Option<Date>,
}

/// Whether a vote reached two-thirds of the denominator chosen by the settings.
pub fn vote_passes(vote: &Vote, denominator: VoteDenominator) -> bool {
    match (vote_denominator(vote, denominator), vote.votes_for) {
        (Some(n), Some(yes)) => n > 0 && 3 * u64::from(yes) >= 2 * u64::from(n),
        _ => false,
    }
}

/// The two-thirds denominator of a vote (R16–R17), or `None` when counts are missing.
pub fn vote_denominator(vote: &Vote, denominator: VoteDenominator) -> Option<u32> {
    let total = vote.official_members_total?;
    Some(match denominator {
        VoteDenominator::AllOfficial => total,
        VoteDenominator::OfficialMinusExcluded => total
            .saturating_sub(vote.excluded_temporary.unwrap_or(0))
            .saturating_sub(vote.excluded_exempt_absent.unwrap_or(0)),
    })
}

/// Computes every date the rules and deadlines need, once.
pub fn schedule(case: &CaseFile, ctx: &EvalContext<'_>) -> Schedule {
    let s = ctx.settings;
    let cal = ctx.calendar;
    let conv = &s.working_days;
    let mut out = Schedule::default();

    out.admission_vote_passed = case
        .latest_branch_vote()
        .filter(|v| vote_passes(v, s.vote_denominator))
        .and_then(|v| v.meeting_date);

    out.certificate_valid_until = case
        .awareness_class
        .certificate_date
        .map(|d| cal.roll(d.add_months(60), conv));

    out.dossier_anchor = dossier_anchor(case, s.staleness_anchor);
    out.dossier_valid_until = out.dossier_anchor.map(|d| cal.roll(d.add_months(12), conv));

    if let Some(passed) = out.admission_vote_passed {
        let days = if case.decision.extension_granted {
            90
        } else {
            60
        };
        out.decision_due = Some(cal.add_working_days(passed, days, conv));
    }
    if let Some(received) = case.decision.date_received {
        out.ceremony_due = Some(cal.add_working_days(received, 30, conv));
    }
    if let Some(ceremony) = case.probation.ceremony_date {
        let end = ceremony.add_months(12);
        out.probation_end = Some(end);
        out.recognition_vote_due = Some(cal.add_working_days(end, 30, conv));
    }
    out.recognition_vote_passed = crate::model::latest_vote(&case.recognition.votes)
        .filter(|v| vote_passes(v, s.vote_denominator))
        .and_then(|v| v.meeting_date);
    if let Some(passed) = out.recognition_vote_passed {
        out.recognition_decision_due = Some(cal.add_working_days(passed, 30, conv));
    }
    if let Some(days) = s.verification_reply_working_days {
        out.verification_reply_due = case
            .biography
            .verifications
            .iter()
            .filter(|v| v.reply_date.is_none())
            .filter_map(|v| v.sent_date)
            .min()
            .map(|sent| cal.add_working_days(sent, days, conv));
    }
    out
}

/// The date that starts the 12-month staleness clock of R34 under the chosen anchor.
pub fn dossier_anchor(case: &CaseFile, anchor: StalenessAnchor) -> Option<Date> {
    use StalenessAnchor::*;
    match anchor {
        EarliestIntroductionDocument => case
            .introducers
            .iter()
            .filter_map(|i| i.letter_date)
            .chain(case.introducing_org.resolution_date)
            .chain(case.opinions.summary_date)
            .min(),
        ApplicationLetter => case.application.letter_date,
        BiographyCertification => case.biography.grassroots_certification_date,
    }
}

/// The deadline list of a case, in pipeline order.
pub fn deadlines(sched: &Schedule, case: &CaseFile, ctx: &EvalContext<'_>) -> Vec<Deadline> {
    let today = ctx.today;
    let meeting = case.latest_branch_vote().and_then(|v| v.meeting_date);
    let mut out = Vec::new();
    let mut push = |code: &'static str, label_vi, label_en, due: Date, done: bool, source| {
        debug_assert!(is_deadline_code(code), "{code} has no short label");
        out.push(Deadline {
            code,
            label_vi,
            label_en,
            due,
            done,
            overdue: !done && today > due,
            source,
        });
    };
    if let Some(due) = sched.verification_reply_due {
        let rs = RuleSetId::for_date(due);
        push(
            "DL_VERIFICATION_REPLY",
            "Hạn trả lời thẩm tra lý lịch (theo cài đặt)",
            "Biography verification reply (per settings)",
            due,
            false,
            rs.pick("01-HD/TW 2021 §3.4", "01-HD/TW 2021 §3.4", "06-HD/TW §3.4"),
        );
    }
    if let Some(due) = sched.certificate_valid_until {
        let rs = RuleSetId::for_date(due);
        push(
            "DL_CERTIFICATE_EXPIRY",
            "Giấy chứng nhận lớp nhận thức về Đảng hết hạn (60 tháng)",
            "Awareness-class certificate expires (60 months)",
            due,
            meeting.is_some_and(|m| m <= due),
            rs.pick("01-HD/TW 2021 §5.4", "01-HD/TW 2021 §5.4", "06-HD/TW §5.4"),
        );
    }
    if let Some(due) = sched.dossier_valid_until {
        let rs = RuleSetId::for_date(due);
        push(
            "DL_DOSSIER_STALE",
            "Giới thiệu và nhận xét hết hiệu lực (12 tháng chưa xét)",
            "Introductions and opinions lapse (12 months without a branch vote)",
            due,
            meeting.is_some_and(|m| m <= due),
            rs.pick(
                "01-HD/TW 2021 §5.4b",
                "01-HD/TW 2021 §5.4b",
                "06-HD/TW §5.4",
            ),
        );
    }
    if let (Some(due), Some(base)) = (sched.decision_due, sched.admission_vote_passed) {
        let rs = RuleSetId::for_date(base);
        push(
            "DL_DECISION",
            "Cấp ủy có thẩm quyền ra quyết định kết nạp (60 ngày làm việc)",
            "Competent committee decides on admission (60 working days)",
            due,
            case.decision.date_signed.is_some(),
            rs.pick("24-QĐ/TW §4.3.1", "232-QĐ/TW §4.3.1", "294-QĐ/TW §4.3.1"),
        );
    }
    if let (Some(due), Some(base)) = (sched.ceremony_due, case.decision.date_received) {
        let rs = RuleSetId::for_date(base);
        push(
            "DL_CEREMONY",
            "Tổ chức lễ kết nạp (30 ngày làm việc từ khi nhận quyết định)",
            "Hold the admission ceremony (30 working days from receiving the decision)",
            due,
            case.probation.ceremony_date.is_some(),
            rs.pick("24-QĐ/TW §4.1", "232-QĐ/TW §4.1", "294-QĐ/TW §4.1"),
        );
    }
    if let Some(end) = sched.probation_end {
        push(
            "DL_PROBATION_END",
            "Hết 12 tháng dự bị",
            "End of the 12-month probation",
            end,
            today >= end,
            "Điều lệ Đảng Điều 5 k1",
        );
    }
    if let (Some(due), Some(end)) = (sched.recognition_vote_due, sched.probation_end) {
        let rs = RuleSetId::for_date(end);
        push(
            "DL_RECOGNITION_VOTE",
            "Chi bộ xét công nhận đảng viên chính thức (30 ngày làm việc sau khi hết dự bị)",
            "Branch considers recognition as official (30 working days after probation)",
            due,
            case.recognition
                .votes
                .iter()
                .any(|v| v.meeting_date.is_some()),
            rs.pick("24-QĐ/TW §4.2.1", "232-QĐ/TW §4.2.1", "294-QĐ/TW §4.2"),
        );
    }
    if let (Some(due), Some(base)) = (
        sched.recognition_decision_due,
        sched.recognition_vote_passed,
    ) {
        let rs = RuleSetId::for_date(base);
        push(
            "DL_RECOGNITION_DECISION",
            "Cấp ủy có thẩm quyền quyết định công nhận chính thức (30 ngày làm việc)",
            "Competent committee decides on recognition (30 working days)",
            due,
            case.recognition.decision_date.is_some(),
            rs.pick("24-QĐ/TW §4.3.1", "232-QĐ/TW §4.3.1", "294-QĐ/TW §4.3.1"),
        );
    }
    out
}

/// A short name of a deadline, for a list row or a badge.
pub fn short_label(code: &str) -> (&'static str, &'static str) {
    known_label(code).unwrap_or(("Mốc hạn", "Deadline"))
}

/// Whether `code` is a deadline code (each has its short label): the registry of them.
pub fn is_deadline_code(code: &str) -> bool {
    known_label(code).is_some()
}

fn known_label(code: &str) -> Option<(&'static str, &'static str)> {
    Some(match code {
        "DL_VERIFICATION_REPLY" => ("Trả lời thẩm tra lý lịch", "Biography verification reply"),
        "DL_CERTIFICATE_EXPIRY" => ("Giấy chứng nhận hết hạn", "Certificate expires"),
        "DL_DOSSIER_STALE" => ("Giới thiệu hết hiệu lực", "Introductions lapse"),
        "DL_DECISION" => ("Quyết định kết nạp", "Admission decision"),
        "DL_CEREMONY" => ("Lễ kết nạp", "Admission ceremony"),
        "DL_PROBATION_END" => ("Hết dự bị", "End of probation"),
        "DL_RECOGNITION_VOTE" => ("Chi bộ xét chính thức", "Recognition vote"),
        "DL_RECOGNITION_DECISION" => ("Quyết định công nhận", "Recognition decision"),
        _ => return None,
    })
}
