//! Admission rules: every machine-checkable rule of RULES.md as a pure function of the
//! recorded facts, today's date, the settings and the working-day calendar.
//!
//! `evaluate` never panics and never refuses a file: incomplete data yields findings
//! ("no birth date recorded") instead of errors, so the cadre offline and the reviewer
//! online see the same list for the same facts. The rule set is chosen by the date the
//! rule speaks of: the branch meeting for eligibility, the event date for deadlines.
//!
//! # Layout
//! One file per area: `eligibility` (R2–R5, R37), `awareness` (R7, R33), `dossier`
//! (R6, R8–R10, R15, R34), `introduction` (R11–R14), `votes` (R16–R19), `decision`
//! (R20–R23), `probation` (R24–R31, R35) and `readmission` (R36). Beside them:
//! `settings` (`RuleSettings`, every ambiguity as a choice with its default) and
//! `schedule` (the dates the rules and the deadline list derive from, and the two-thirds
//! arithmetic of votes; public as `crate::deadlines`).

mod awareness;
mod decision;
mod dossier;
mod eligibility;
mod introduction;
mod names;
mod probation;
mod readmission;
pub(crate) mod schedule;
mod settings;
#[cfg(test)]
mod tests;
mod votes;
#[cfg(test)]
mod wording;

pub use names::{UNNUMBERED, is_finding_code, rule_number};
pub use settings::{
    AgeReading, CoWorkingAnchor, CohortEntry, RateDenominator, RuleSettings, StalenessAnchor,
    TermWithoutDates, TradeUnionPath, VoteDenominator,
};

use serde::{Deserialize, Serialize};

use crate::calendar::WorkingCalendar;
use crate::date::Date;
use crate::model::CaseFile;
use crate::stage::{Stage, derive_stage};
use schedule::{Deadline, Schedule};

/// Everything `evaluate` needs besides the case: no clock, no I/O.
#[derive(Clone, Copy, Debug)]
pub struct EvalContext<'a> {
    pub today: Date,
    pub settings: &'a RuleSettings,
    pub calendar: &'a WorkingCalendar,
}

impl<'a> EvalContext<'a> {
    /// The context of an evaluation on `today` under `settings` and `calendar`.
    pub fn new(
        today: Date,
        settings: &'a RuleSettings,
        calendar: &'a WorkingCalendar,
    ) -> EvalContext<'a> {
        EvalContext {
            today,
            settings,
            calendar,
        }
    }
}

/// The answer to "can this candidate go forward, what is missing, what is due when".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub rule_set: RuleSetId,
    pub stage: Stage,
    pub findings: Vec<Finding>,
    pub deadlines: Vec<Deadline>,
}

/// One observation about a case file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable machine code, e.g. "AGE_BELOW_18"; never renamed once shipped.
    pub code: &'static str,
    pub severity: Severity,
    pub message_vi: String,
    pub message_en: String,
    /// Document and clause the rule comes from, for the rule set in force.
    pub source: &'static str,
    /// Path of the fact in the model, e.g. "person.birth_date".
    pub field: &'static str,
    /// Rule number in RULES.md, e.g. "R2".
    pub rule: &'static str,
}

impl Finding {
    /// The rule as both apps name it ("R16"), if the check is a numbered rule.
    pub fn rule_name(&self) -> Option<&'static str> {
        Some(self.rule).filter(|r| !r.is_empty() && *r != "—")
    }

    /// The document and clause, if one is known.
    pub fn source_name(&self) -> Option<&'static str> {
        Some(self.source).filter(|s| !s.trim().is_empty() && *s != "—")
    }
}

/// How a finding affects the move to the next stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The case cannot move forward until this is fixed.
    Blocking,
    /// Needs a human look; does not block.
    Warning,
    /// Context or the next thing to do.
    Info,
}

/// Versions of the central rules, keyed by their effective date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RuleSetId {
    /// 24-QĐ/TW + 01-HD/TW 2021 + 12-HD/BTCTW 2022, from 30/07/2021.
    #[serde(rename = "RS-2021")]
    Rs2021,
    /// 232-QĐ/TW with the 2021 guidance, from 20/01/2025.
    #[serde(rename = "RS-2025a")]
    Rs2025a,
    /// 294-QĐ/TW + 06-HD/TW, from 01/07/2025.
    #[serde(rename = "RS-2025b")]
    Rs2025b,
}

impl RuleSetId {
    pub const ALL: [RuleSetId; 3] = [RuleSetId::Rs2021, RuleSetId::Rs2025a, RuleSetId::Rs2025b];

    /// The stable version string recorded beside stored findings.
    pub fn version(self) -> &'static str {
        match self {
            RuleSetId::Rs2021 => "RS-2021",
            RuleSetId::Rs2025a => "RS-2025a",
            RuleSetId::Rs2025b => "RS-2025b",
        }
    }

    /// The first day the rule set applies.
    pub fn effective_from(self) -> Date {
        let (y, m, d) = match self {
            RuleSetId::Rs2021 => (2021, 7, 30),
            RuleSetId::Rs2025a => (2025, 1, 20),
            RuleSetId::Rs2025b => (2025, 7, 1),
        };
        Date::from_ymd(y, m, d).unwrap_or(Date::from_days_since_epoch(0))
    }

    /// The rule set in force on `date`. Dates before 30/07/2021 get RS-2021, the oldest
    /// set encoded, and an info finding says so.
    pub fn for_date(date: Date) -> RuleSetId {
        let days = date.days_since_epoch();
        // 2025-07-01 and 2025-01-20 as day numbers, so this hot path does no conversion.
        if days >= 20_270 {
            RuleSetId::Rs2025b
        } else if days >= 20_108 {
            RuleSetId::Rs2025a
        } else {
            RuleSetId::Rs2021
        }
    }

    /// Picks the clause reference of this rule set from the three versions.
    pub fn pick(
        self,
        rs2021: &'static str,
        rs2025a: &'static str,
        rs2025b: &'static str,
    ) -> &'static str {
        match self {
            RuleSetId::Rs2021 => rs2021,
            RuleSetId::Rs2025a => rs2025a,
            RuleSetId::Rs2025b => rs2025b,
        }
    }
}

/// Evaluates every rule against one case file.
pub fn evaluate(case: &CaseFile, ctx: &EvalContext<'_>) -> Evaluation {
    let stage = derive_stage(case);
    let meeting = case.latest_branch_vote().and_then(|v| v.meeting_date);
    let reference = meeting.unwrap_or(ctx.today);
    let rule_set = RuleSetId::for_date(reference);
    let schedule = schedule::schedule(case, ctx);
    let mut e = Eval {
        case,
        ctx,
        stage,
        rs: rule_set,
        meeting,
        reference,
        schedule,
        findings: Vec::new(),
    };
    if stage == Stage::Stopped {
        stopped(&mut e);
    } else {
        if reference < RuleSetId::Rs2021.effective_from() {
            e.push(
                "RULE_SET_BEFORE_2021",
                Severity::Info,
                "",
                "—",
                "",
                format!(
                    "Ngày tham chiếu {} trước 30/07/2021: áp dụng bộ quy tắc cũ nhất đã mã hóa (RS-2021); cần đối chiếu 29-QĐ/TW.",
                    reference.format_vn()
                ),
                format!(
                    "Reference date {} is before 30/07/2021: the oldest encoded rule set (RS-2021) is applied; check against 29-QĐ/TW.",
                    reference.format_vn()
                ),
            );
        }
        eligibility::check(&mut e);
        readmission::check(&mut e);
        awareness::check(&mut e);
        dossier::check(&mut e);
        introduction::check(&mut e);
        votes::check(&mut e);
        decision::check(&mut e);
        probation::check(&mut e);
        future_dates(&mut e);
    }
    let deadlines = if stage == Stage::Stopped {
        Vec::new()
    } else {
        schedule::deadlines(&e.schedule, case, ctx)
    };
    Evaluation {
        rule_set,
        stage,
        findings: e.findings,
        deadlines,
    }
}

/// Whether the case may move to the next stage: not while any blocking finding stands.
pub fn can_advance(eval: &Evaluation) -> Result<(), Vec<&Finding>> {
    let blocking: Vec<&Finding> = eval
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Blocking)
        .collect();
    if blocking.is_empty() {
        Ok(())
    } else {
        Err(blocking)
    }
}

/// The state shared by the rule areas while one case is evaluated.
pub(crate) struct Eval<'a> {
    pub case: &'a CaseFile,
    pub ctx: &'a EvalContext<'a>,
    pub stage: Stage,
    pub rs: RuleSetId,
    /// Date of the latest branch vote on admission, if any.
    pub meeting: Option<Date>,
    /// The branch meeting, or today when the branch has not met: the date eligibility
    /// is judged at.
    pub reference: Date,
    pub schedule: Schedule,
    pub findings: Vec<Finding>,
}

impl Eval<'_> {
    pub fn settings(&self) -> &RuleSettings {
        self.ctx.settings
    }

    pub fn today(&self) -> Date {
        self.ctx.today
    }

    #[allow(clippy::too_many_arguments)] // A finding has this many parts; a builder would only hide them.
    pub fn push(
        &mut self,
        code: &'static str,
        severity: Severity,
        field: &'static str,
        rule: &'static str,
        source: &'static str,
        message_vi: String,
        message_en: String,
    ) {
        // The office's pages name the rule from the code: the table must agree (checked
        // by every rules test).
        #[cfg(test)]
        assert!(
            is_finding_code(code),
            "{code} is not in the registry (names.rs)"
        );
        #[cfg(test)]
        assert_eq!(
            rule_number(code, field),
            Some(rule).filter(|r| !r.is_empty() && *r != "—"),
            "rule number of {code} ({field})"
        );
        self.findings.push(Finding {
            code,
            severity,
            message_vi,
            message_en,
            source,
            field,
            rule,
        });
    }

    /// The severity of a missing fact that is required to enter `gate`: blocking when
    /// the next move (or an earlier one) needs it, info one step earlier as a heads-up,
    /// and nothing before that, so early files are not buried in findings.
    pub fn missing_severity(&self, gate: Stage) -> Option<Severity> {
        let here = self.stage.index();
        let gate = gate.index();
        if here + 1 >= gate {
            Some(Severity::Blocking)
        } else if here + 2 == gate {
            Some(Severity::Info)
        } else {
            None
        }
    }

    /// Reports a missing fact needed to enter `gate`, with the severity that suits the
    /// current stage. Messages are built only when the finding is reported.
    #[allow(clippy::too_many_arguments)] // Same parts as a finding plus the gate.
    pub fn missing(
        &mut self,
        gate: Stage,
        code: &'static str,
        field: &'static str,
        rule: &'static str,
        source: &'static str,
        message_vi: &str,
        message_en: &str,
    ) {
        if let Some(severity) = self.missing_severity(gate) {
            self.push(
                code,
                severity,
                field,
                rule,
                source,
                message_vi.to_owned(),
                message_en.to_owned(),
            );
        }
    }

    /// Severity for an eligibility condition that fails at the reference date: blocking
    /// once the branch has met or the file is being prepared, a warning before that
    /// because the situation may change by the time the branch meets.
    pub fn eligibility_severity(&self) -> Severity {
        if self.meeting.is_some() || self.stage >= Stage::FilePreparation {
            Severity::Blocking
        } else {
            Severity::Warning
        }
    }

    /// "at the branch meeting of dd/mm/yyyy" or "today (dd/mm/yyyy)", in both languages.
    pub fn reference_label(&self) -> (String, String) {
        match self.meeting {
            Some(m) => (
                format!("tại ngày chi bộ họp xét {}", m.format_vn()),
                format!("at the branch meeting of {}", m.format_vn()),
            ),
            None => (
                format!("tính đến hôm nay {}", self.reference.format_vn()),
                format!("as of today {}", self.reference.format_vn()),
            ),
        }
    }
}

/// Whether a recorded text is empty or only ASCII whitespace. Cheaper than
/// `trim().is_empty()` on this hot path; a field holding only exotic Unicode spaces
/// counts as filled, which is harmless.
pub(crate) fn blank(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_whitespace())
}

/// A stopped file only needs its stop recorded properly.
fn stopped(e: &mut Eval<'_>) {
    let stop = &e.case.stop;
    if stop.reason.is_none() {
        e.push(
            "STOP_REASON_MISSING",
            Severity::Warning,
            "stop.reason",
            "—",
            "12-HD/BTCTW 2022",
            "Hồ sơ đã dừng nhưng chưa ghi lý do (xin rút, không được kết nạp, xóa tên, khác). Hãy ghi lý do dừng.".into(),
            "The file is stopped but no reason is recorded (withdrew, not admitted, name removed, other). Record the reason.".into(),
        );
    }
    if stop.date.is_none() {
        e.push(
            "STOP_DATE_MISSING",
            Severity::Warning,
            "stop.date",
            "—",
            "12-HD/BTCTW 2022",
            "Hồ sơ đã dừng nhưng chưa ghi ngày dừng. Hãy ghi ngày.".into(),
            "The file is stopped but no stop date is recorded. Record the date.".into(),
        );
    }
}

/// Dates after today are almost always typing errors (a year off, day and month swapped).
fn future_dates(e: &mut Eval<'_>) {
    let c = e.case;
    let today = e.today();
    let candidates: [(&'static str, Option<Date>); 10] = [
        ("person.birth_date", c.person.birth_date),
        (
            "awareness_class.certificate_date",
            c.awareness_class.certificate_date,
        ),
        ("application.letter_date", c.application.letter_date),
        ("biography.declared_date", c.biography.declared_date),
        (
            "branch_votes[].meeting_date",
            c.latest_branch_vote().and_then(|v| v.meeting_date),
        ),
        ("committee.resolution_date", c.committee.resolution_date),
        ("decision.date_signed", c.decision.date_signed),
        ("decision.date_received", c.decision.date_received),
        ("probation.ceremony_date", c.probation.ceremony_date),
        ("recognition.decision_date", c.recognition.decision_date),
    ];
    for (field, date) in candidates {
        if let Some(d) = date
            && d > today
        {
            let (what_vi, what_en) = crate::schema::path_label(field);
            e.push(
                "DATE_IN_FUTURE",
                Severity::Warning,
                field,
                "—",
                "—",
                format!(
                    "{what_vi} là {}, sau hôm nay ({}): kiểm tra lại năm, ngày và tháng.",
                    d.format_vn(),
                    today.format_vn()
                ),
                format!(
                    "{what_en} is {}, after today ({}): check the year and whether day and month are swapped.",
                    d.format_vn(),
                    today.format_vn()
                ),
            );
        }
    }
}
