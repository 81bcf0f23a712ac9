//! Deadlines computed from the recorded facts, and the next actions they imply.
//!
//! Every date here is computed once per evaluation into a `Schedule`, which both the
//! rules (to judge lateness) and the deadline list (to show due dates) read, so the two
//! can never disagree. Working days come from the calendar passed in; month-based
//! limits use `Date::add_months` with its end-of-month clamp.

use serde::Serialize;

use crate::date::Date;
use crate::model::{CaseFile, Vote};
use crate::rules::{EvalContext, Evaluation, RuleSetId, Severity, VoteDenominator};

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

/// One line of "what to do next".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextAction {
    pub code: &'static str,
    pub label_vi: String,
    pub label_en: String,
    pub due: Option<Date>,
    pub overdue: bool,
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
pub fn dossier_anchor(case: &CaseFile, anchor: crate::rules::StalenessAnchor) -> Option<Date> {
    use crate::rules::StalenessAnchor::*;
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

/// How far ahead a validity limit (a certificate or introductions that lapse) counts as
/// something to act on: further away it is only a date to know, not a task.
pub const EXPIRY_HORIZON_DAYS: i32 = 90;

/// Whether a deadline is a validity limit (the file lapses if nothing happens) rather
/// than a step someone must take by a date.
pub fn is_expiry(code: &str) -> bool {
    matches!(code, "DL_CERTIFICATE_EXPIRY" | "DL_DOSSIER_STALE")
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

/// The nearest deadline someone must act on: open, not the end of probation (it comes
/// by itself), and a validity limit only once it is within [`EXPIRY_HORIZON_DAYS`].
pub fn next_real_deadline(deadlines: &[Deadline], today: Date) -> Option<&Deadline> {
    deadlines
        .iter()
        .filter(|d| !d.done && d.code != "DL_PROBATION_END")
        .filter(|d| !is_expiry(d.code) || today.days_until(d.due) <= EXPIRY_HORIZON_DAYS)
        .min_by_key(|d| (d.due, d.code))
}

/// What is missing and what is due next: open deadlines by due date, then blocking
/// findings in rule order.
pub fn next_actions(eval: &Evaluation) -> Vec<NextAction> {
    let mut open: Vec<&Deadline> = eval
        .deadlines
        .iter()
        .filter(|d| !d.done && d.code != "DL_PROBATION_END")
        .collect();
    open.sort_by_key(|d| (d.due, d.code));
    let mut out: Vec<NextAction> = open
        .into_iter()
        .map(|d| NextAction {
            code: d.code,
            label_vi: d.label_vi.to_owned(),
            label_en: d.label_en.to_owned(),
            due: Some(d.due),
            overdue: d.overdue,
        })
        .collect();
    out.extend(
        eval.findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .map(|f| NextAction {
                code: f.code,
                label_vi: f.message_vi.clone(),
                label_en: f.message_en.clone(),
                due: None,
                overdue: false,
            }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dl(code: &'static str, due: &str, done: bool) -> Deadline {
        Deadline {
            code,
            label_vi: "",
            label_en: "",
            due: due.parse().unwrap(),
            done,
            overdue: false,
            source: "",
        }
    }

    #[test]
    fn a_far_expiry_is_no_task_but_a_near_one_and_every_step_are() {
        let today: Date = "2026-06-01".parse().unwrap();
        let far = [dl("DL_CERTIFICATE_EXPIRY", "2031-06-16", false)];
        assert_eq!(next_real_deadline(&far, today), None, "1,841 days away");
        let near = [dl("DL_CERTIFICATE_EXPIRY", "2026-08-01", false)];
        assert_eq!(
            next_real_deadline(&near, today).map(|d| d.code),
            Some("DL_CERTIFICATE_EXPIRY")
        );
        let steps = [
            dl("DL_CERTIFICATE_EXPIRY", "2031-06-16", false),
            dl("DL_PROBATION_END", "2026-06-10", false),
            dl("DL_CEREMONY", "2026-05-20", true),
            dl("DL_DECISION", "2026-09-30", false),
        ];
        assert_eq!(
            next_real_deadline(&steps, today).map(|d| d.code),
            Some("DL_DECISION")
        );
        assert_eq!(short_label("DL_DECISION").0, "Quyết định kết nạp");
    }
}
