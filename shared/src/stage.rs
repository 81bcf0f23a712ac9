//! The stage of a case file, derived from its recorded facts and never stored.
//!
//! Storing the stage beside the facts would let two offline edits disagree about it;
//! deriving it means every device and the server compute the same stage from the
//! merged facts. The stage is the furthest milestone whose fact is recorded, so adding
//! a fact can never move a file backwards (a property test checks this).

use serde::{Deserialize, Serialize};

use crate::model::CaseFile;

/// Pipeline stages in order. `Stopped` sorts last and overrides every other stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Outstanding person identified, helper assigned (tạo nguồn).
    Source,
    /// Attended the awareness class, certificate recorded.
    AwarenessClass,
    /// Application, biography, introductions and opinions being completed.
    FilePreparation,
    /// The branch has voted on the admission proposal.
    BranchVote,
    /// The grassroots committee has passed its resolution.
    Committee,
    /// The competent committee has signed the admission decision.
    Decision,
    /// The ceremony was held; the member is on probation.
    Probation,
    /// Recognition as official member is under way.
    Recognition,
    /// Recognised as an official member (card follows).
    Official,
    /// The case was stopped: withdrawn, not admitted or name removed.
    Stopped,
}

impl Stage {
    pub const ALL: [Stage; 10] = [
        Stage::Source,
        Stage::AwarenessClass,
        Stage::FilePreparation,
        Stage::BranchVote,
        Stage::Committee,
        Stage::Decision,
        Stage::Probation,
        Stage::Recognition,
        Stage::Official,
        Stage::Stopped,
    ];

    /// A stable code for storage, URLs and exports; never renamed.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Source => "source",
            Stage::AwarenessClass => "awareness_class",
            Stage::FilePreparation => "file_preparation",
            Stage::BranchVote => "branch_vote",
            Stage::Committee => "committee",
            Stage::Decision => "decision",
            Stage::Probation => "probation",
            Stage::Recognition => "recognition",
            Stage::Official => "official",
            Stage::Stopped => "stopped",
        }
    }

    pub fn from_code(code: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Stage::Source => "Tạo nguồn",
            Stage::AwarenessClass => "Lớp nhận thức về Đảng",
            Stage::FilePreparation => "Hoàn thiện hồ sơ",
            Stage::BranchVote => "Chi bộ xét kết nạp",
            Stage::Committee => "Đảng ủy cơ sở",
            Stage::Decision => "Quyết định kết nạp",
            Stage::Probation => "Đảng viên dự bị",
            Stage::Recognition => "Xét công nhận chính thức",
            Stage::Official => "Đảng viên chính thức",
            Stage::Stopped => "Dừng",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Stage::Source => "Source",
            Stage::AwarenessClass => "Awareness class",
            Stage::FilePreparation => "File preparation",
            Stage::BranchVote => "Branch vote",
            Stage::Committee => "Grassroots committee",
            Stage::Decision => "Admission decision",
            Stage::Probation => "Probation",
            Stage::Recognition => "Recognition",
            Stage::Official => "Official member",
            Stage::Stopped => "Stopped",
        }
    }

    /// Position in the pipeline, 0 for `Source`.
    pub fn index(self) -> u8 {
        self as u8
    }
}

/// The furthest milestone reached by the recorded facts, or `Stopped`.
pub fn derive_stage(case: &CaseFile) -> Stage {
    if case.stop.reason.is_some() || case.stop.date.is_some() {
        return Stage::Stopped;
    }
    let r = &case.recognition;
    if r.decision_date.is_some()
        || case.official_date.is_some()
        || case.card.handed_over_date.is_some()
    {
        return Stage::Official;
    }
    if r.self_assessment_date.is_some()
        || r.helper_assessment_date.is_some()
        || r.opinions_summary_date.is_some()
        || !r.votes.is_empty()
        || r.committee_resolution_date.is_some()
    {
        return Stage::Recognition;
    }
    if case.probation.ceremony_date.is_some() {
        return Stage::Probation;
    }
    if case.decision.date_signed.is_some() || case.decision.date_received.is_some() {
        return Stage::Decision;
    }
    if case.committee.resolution_date.is_some() {
        return Stage::Committee;
    }
    if case.branch_votes.iter().any(|v| v.meeting_date.is_some()) {
        return Stage::BranchVote;
    }
    let b = &case.biography;
    if case.application.letter_date.is_some()
        || b.declared_date.is_some()
        || !b.verifications.is_empty()
        || !case.introducers.is_empty()
        || case.introducing_org.resolution_date.is_some()
        || case.opinions.summary_date.is_some()
    {
        return Stage::FilePreparation;
    }
    if case.awareness_class.certificate_date.is_some() {
        return Stage::AwarenessClass;
    }
    Stage::Source
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_order_follows_the_pipeline() {
        for s in Stage::ALL {
            assert_eq!(Stage::from_code(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
        assert!(Stage::Source < Stage::Official && Stage::Official < Stage::Stopped);
    }

    #[test]
    fn an_empty_case_is_at_source_and_a_stop_overrides_everything() {
        let mut case = CaseFile::default();
        assert_eq!(derive_stage(&case), Stage::Source);
        case.probation.ceremony_date = Some("2025-01-01".parse().unwrap());
        assert_eq!(derive_stage(&case), Stage::Probation);
        case.stop.reason = Some(crate::model::StopReason::Withdrew);
        assert_eq!(derive_stage(&case), Stage::Stopped);
    }
}
