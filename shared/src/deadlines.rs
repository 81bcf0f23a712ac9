//! What to do next about a case: the open deadlines and blocking findings of an
//! evaluation in the order they should be acted on, and which deadlines count as tasks.
//!
//! The schedule, the deadline list and the vote arithmetic are computed inside the
//! rules (`rules/schedule.rs`, because `evaluate` returns the deadlines) and re-exported
//! here, their public path; this module reads the rules and is never read by them.

use serde::Serialize;

pub use crate::rules::schedule::{
    Deadline, Schedule, deadlines, dossier_anchor, is_deadline_code, schedule, short_label,
    vote_denominator, vote_passes,
};

use crate::date::Date;
use crate::rules::{Evaluation, Severity};

/// One line of "what to do next".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextAction {
    pub code: &'static str,
    pub label_vi: String,
    pub label_en: String,
    pub due: Option<Date>,
    pub overdue: bool,
}

/// How far ahead a validity limit (a certificate or introductions that lapse) counts as
/// something to act on: further away it is only a date to know, not a task.
pub const EXPIRY_HORIZON_DAYS: i32 = 90;

/// Whether a deadline is a validity limit (the file lapses if nothing happens) rather
/// than a step someone must take by a date.
pub fn is_expiry(code: &str) -> bool {
    matches!(code, "DL_CERTIFICATE_EXPIRY" | "DL_DOSSIER_STALE")
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
