//! The summary of a case file that a list row shows: its name, stage, what blocks it,
//! the next deadline someone must act on, conflicts, and what duplicate warnings compare.
//! The device computes it from the document; the server computes the same one when it
//! hands a device whole documents on a first sync, so the list is drawn before the device
//! has parsed them.

use automerge::ReadDoc;
use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::doc::{self, ReviewNote};
use crate::model::CaseFile;
use crate::rules::{self, EvalContext, Evaluation, Severity};

/// What the list shows of a case file; stored with the document so the list opens at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Summary {
    pub name: String,
    pub org_id: String,
    /// Stage code (`shared::stage::Stage::code`).
    pub stage: String,
    pub blocking: u32,
    /// The nearest deadline someone must act on (`shared::deadlines::next_real_deadline`).
    pub next_due: Option<Date>,
    /// Its code, so the row can say what is due.
    pub next_due_code: String,
    pub conflicts: u32,
    /// Returned by the reviewer with a comment.
    pub returned: bool,
    pub birth_date: Option<Date>,
    /// The day the summary was computed: due dates and findings move with the date.
    pub day: Option<Date>,
    /// Identity-card number as written (to warn of duplicate files).
    pub id_number: String,
    /// The file the office merged this one into, if it did.
    pub merged_into: String,
    /// [`SUMMARY_VERSION`] when computed; an older stored summary is computed again.
    pub version: u32,
}

/// The version of [`Summary`]'s fields: a stored summary of another version lacks some
/// (the identity-card number, the merge, what is due) and is computed again when its
/// file is parsed.
pub const SUMMARY_VERSION: u32 = 2;

/// The list summary of a case and its evaluation.
pub fn summarize(
    case: &CaseFile,
    eval: &Evaluation,
    conflicts: u32,
    returned: bool,
    today: Date,
) -> Summary {
    let next = crate::deadlines::next_real_deadline(&eval.deadlines, today);
    Summary {
        name: case.person.full_name.clone(),
        org_id: case.org_id.clone(),
        stage: eval.stage.code().to_string(),
        blocking: eval
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Blocking)
            .count() as u32,
        next_due: next.map(|d| d.due),
        next_due_code: next.map(|d| d.code.to_string()).unwrap_or_default(),
        conflicts,
        returned,
        birth_date: case.person.birth_date,
        day: Some(today),
        id_number: case.person.id_number.clone(),
        merged_into: String::new(),
        version: SUMMARY_VERSION,
    }
}

/// The summary of a document as it stands, evaluated with `ctx` (one walk of the
/// document for the case, the reviewer's note and the count of conflicting fields).
pub fn of_doc(doc: &impl ReadDoc, ctx: &EvalContext<'_>) -> Summary {
    let (parts, conflicts) = doc::read_parts_counting_conflicts(doc);
    let (case, review) = parts.unwrap_or_else(|_| (CaseFile::default(), doc::read_review(doc)));
    let eval = rules::evaluate(&case, ctx);
    of_parts(&case, &review, &eval, conflicts, ctx.today)
}

/// The summary of a file already read and evaluated (the server's merge has all of it).
pub fn of_parts(
    case: &CaseFile,
    review: &ReviewNote,
    eval: &Evaluation,
    conflicts: usize,
    today: Date,
) -> Summary {
    let mut s = summarize(case, eval, conflicts as u32, review.returned, today);
    s.merged_into = review.merged_into.clone();
    s
}
