//! Branch votes and the grassroots committee: the two-thirds threshold over official
//! members (R16), who counts in the denominator (R17, R25), full recording of every
//! vote (R18) and the committee step (R19). The vote check is shared with recognition.

use super::schedule::vote_denominator;
use super::{Eval, Severity, VoteDenominator};
use crate::model::Vote;
use crate::stage::Stage;

/// Codes and field paths of one kind of vote, so admission and recognition share code.
pub(super) struct VoteKind {
    pub rule: &'static str,
    pub date_missing: &'static str,
    pub count_missing: &'static str,
    pub inconsistent: &'static str,
    pub readings_disagree: &'static str,
    pub method_missing: &'static str,
    pub f_date: &'static str,
    pub f_counts: &'static str,
    pub f_method: &'static str,
    pub what_vi: &'static str,
    pub what_en: &'static str,
}

pub(super) const ADMISSION: VoteKind = VoteKind {
    rule: "R16",
    date_missing: "BRANCH_VOTE_DATE_MISSING",
    count_missing: "BRANCH_VOTE_COUNT_MISSING",
    inconsistent: "BRANCH_VOTE_COUNTS_INCONSISTENT",
    readings_disagree: "BRANCH_VOTE_DENOMINATOR_READINGS_DISAGREE",
    method_missing: "BRANCH_VOTE_METHOD_MISSING",
    f_date: "branch_votes[].meeting_date",
    f_counts: "branch_votes[].votes_for",
    f_method: "branch_votes[].method",
    what_vi: "Biểu quyết của chi bộ đề nghị kết nạp",
    what_en: "The branch vote proposing admission",
};

/// The result of checking one recorded vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    Passed,
    Failed,
    /// Counts missing or contradictory: a finding was reported.
    Incomplete,
}

/// The smallest number of approvals that reaches two-thirds of `n`.
pub(crate) fn two_thirds_of(n: u32) -> u64 {
    // u64 so that absurd counts typed by mistake cannot overflow.
    (2 * u64::from(n)).div_ceil(3)
}

/// Checks that a vote is recorded completely and consistently and whether it passed.
pub(super) fn check_vote(e: &mut Eval<'_>, vote: &Vote, kind: &VoteKind) -> Outcome {
    let src_r17 =
        e.rs.pick("24-QĐ/TW §9.3.2", "232-QĐ/TW §9.3.2", "294-QĐ/TW §9.3.2");
    let src_r18 =
        e.rs.pick("01-HD/TW 2021 §5.1", "01-HD/TW 2021 §5.1", "06-HD/TW §5.1");
    if vote.meeting_date.is_none() {
        e.push(
            kind.date_missing,
            Severity::Blocking,
            kind.f_date,
            "R18",
            src_r18,
            format!(
                "{} chưa ghi ngày họp. Hãy ghi ngày họp chi bộ.",
                kind.what_vi
            ),
            format!(
                "{} has no meeting date. Record the date of the meeting.",
                kind.what_en
            ),
        );
    }
    let (Some(total), Some(yes)) = (vote.official_members_total, vote.votes_for) else {
        e.push(
            kind.count_missing,
            Severity::Blocking,
            kind.f_counts,
            "R18",
            src_r18,
            format!(
                "{} chưa ghi đủ tổng số đảng viên chính thức và số tán thành. Hãy ghi đầy đủ kết quả biểu quyết.",
                kind.what_vi
            ),
            format!(
                "{} lacks the number of official members or of votes for. Record the full result.",
                kind.what_en
            ),
        );
        return Outcome::Incomplete;
    };
    let excluded = u64::from(vote.excluded_temporary.unwrap_or(0))
        + u64::from(vote.excluded_exempt_absent.unwrap_or(0));
    let cast = u64::from(yes)
        + u64::from(vote.votes_against.unwrap_or(0))
        + u64::from(vote.invalid.unwrap_or(0));
    let setting = e.settings().vote_denominator;
    let denom = vote_denominator(vote, setting).unwrap_or(total);
    let contradiction = if excluded > u64::from(total) {
        Some("số đảng viên được trừ lớn hơn tổng số / more members excluded than exist")
    } else if vote.present.is_some_and(|p| p > total) {
        Some("số có mặt lớn hơn tổng số / more present than members")
    } else if vote.present.is_some_and(|p| cast > u64::from(p)) {
        Some("số phiếu lớn hơn số có mặt / more votes than members present")
    } else if yes > denom {
        Some("số tán thành lớn hơn số đảng viên được tính / more votes for than counted members")
    } else {
        None
    };
    if let Some(why) = contradiction {
        e.push(
            kind.inconsistent,
            Severity::Blocking,
            kind.f_counts,
            "R17",
            src_r17,
            format!(
                "{} có số liệu mâu thuẫn ({why}). Hãy kiểm tra lại biên bản.",
                kind.what_vi
            ),
            format!(
                "{} has contradictory counts ({why}). Check the minutes.",
                kind.what_en
            ),
        );
        return Outcome::Incomplete;
    }
    let passes = |n: u32| n > 0 && 3 * u64::from(yes) >= 2 * u64::from(n);
    let other = match setting {
        VoteDenominator::OfficialMinusExcluded => VoteDenominator::AllOfficial,
        VoteDenominator::AllOfficial => VoteDenominator::OfficialMinusExcluded,
    };
    let other_denom = vote_denominator(vote, other).unwrap_or(total);
    if passes(denom) != passes(other_denom) {
        e.push(
            kind.readings_disagree,
            Severity::Warning,
            kind.f_counts,
            "R17",
            src_r17,
            format!(
                "{}: {yes} tán thành đạt hai phần ba với mẫu số {} nhưng không đạt với mẫu số {} (có/không trừ đảng viên sinh hoạt tạm thời và miễn sinh hoạt vắng mặt). Hãy xin ý kiến cấp ủy cấp trên.",
                kind.what_vi,
                denom.min(other_denom),
                denom.max(other_denom)
            ),
            format!(
                "{}: {yes} votes for reach two-thirds of {} but not of {} (with or without excluding members on temporary activity and absent exempt members). Ask the superior committee.",
                kind.what_en,
                denom.min(other_denom),
                denom.max(other_denom)
            ),
        );
    }
    if denom < 3 {
        e.push(
            "BRANCH_TOO_SMALL",
            Severity::Warning,
            kind.f_counts,
            "R17",
            "Điều lệ Đảng Điều 21 k1 (per quiz Q12)",
            format!("Chi bộ chỉ có {denom} đảng viên chính thức được tính; chi bộ phải có ít nhất 3 đảng viên chính thức."),
            format!("Only {denom} official members count; a branch needs at least 3 official members."),
        );
    }
    if vote.method.is_none() {
        e.push(
            kind.method_missing,
            Severity::Warning,
            kind.f_method,
            "R18",
            src_r18,
            "Chưa ghi hình thức biểu quyết (bỏ phiếu kín hoặc giơ thẻ đảng viên).".into(),
            "The voting method is not recorded (secret ballot or show of party cards).".into(),
        );
    }
    if passes(denom) {
        Outcome::Passed
    } else {
        Outcome::Failed
    }
}

pub(super) fn check(e: &mut Eval<'_>) {
    branch(e);
    committee(e);
}

fn branch(e: &mut Eval<'_>) {
    let src = e.rs.pick(
        "Điều lệ Đảng Điều 4 k3; 01-HD/TW 2021 §3.6",
        "Điều lệ Đảng Điều 4 k3; 01-HD/TW 2021 §3.6",
        "Điều lệ Đảng Điều 4 k3; 06-HD/TW §3.6.b",
    );
    let Some(vote) = e.case.latest_branch_vote() else {
        if e.stage > Stage::BranchVote {
            e.push(
                "BRANCH_VOTE_MISSING",
                Severity::Blocking,
                "branch_votes",
                "R16",
                src,
                "Hồ sơ đã qua bước sau nhưng chưa ghi biểu quyết của chi bộ đề nghị kết nạp. Hãy ghi nghị quyết chi bộ (Mẫu 6-KNĐ).".into(),
                "Later steps are recorded but not the branch vote proposing admission. Record the branch resolution (form 6-KNĐ).".into(),
            );
        }
        return;
    };
    if check_vote(e, vote, &ADMISSION) == Outcome::Failed {
        let yes = vote.votes_for.unwrap_or(0);
        let denom = vote_denominator(vote, e.settings().vote_denominator).unwrap_or(0);
        e.push(
            "BRANCH_VOTE_BELOW_TWO_THIRDS",
            Severity::Blocking,
            "branch_votes[].votes_for",
            "R16",
            src,
            format!(
                "Chỉ {yes}/{denom} đảng viên chính thức tán thành; cần ít nhất {} (hai phần ba). Chi bộ không được đề nghị kết nạp.",
                two_thirds_of(denom)
            ),
            format!(
                "Only {yes} of {denom} official members approved; at least {} (two-thirds) are needed. The branch cannot propose admission.",
                two_thirds_of(denom)
            ),
        );
        let src_r18 =
            e.rs.pick("01-HD/TW 2021 §5.1", "01-HD/TW 2021 §5.1", "06-HD/TW §5.1");
        e.push(
            "VOTE_FAILED_MUST_BE_REPORTED",
            Severity::Info,
            "branch_votes",
            "R18",
            src_r18,
            "Biểu quyết không đạt tỷ lệ: phải báo cáo đầy đủ kết quả lên cấp ủy có thẩm quyền.".into(),
            "The vote did not reach the threshold: report the full result to the competent committee.".into(),
        );
    }
}

fn committee(e: &mut Eval<'_>) {
    let src = e.rs.pick(
        "01-HD/TW 2021 §3.7",
        "01-HD/TW 2021 §3.7",
        "06-HD/TW §3.7.a",
    );
    let c = &e.case.committee;
    let Some(date) = c.resolution_date else {
        if e.stage > Stage::Committee {
            e.push(
                "COMMITTEE_RESOLUTION_MISSING",
                Severity::Blocking,
                "committee.resolution_date",
                "R19",
                src,
                "Đã có quyết định nhưng chưa ghi nghị quyết của đảng ủy cơ sở (Mẫu 8-KNĐ). Hãy ghi số, ngày và kết quả biểu quyết.".into(),
                "A decision is recorded but not the grassroots committee's resolution (form 8-KNĐ). Record its number, date and vote.".into(),
            );
        }
        return;
    };
    if let Some(meeting) = e.meeting
        && date < meeting
    {
        e.push(
            "COMMITTEE_BEFORE_BRANCH_VOTE",
            Severity::Blocking,
            "committee.resolution_date",
            "R19",
            src,
            format!(
                "Nghị quyết đảng ủy cơ sở ({}) trước buổi họp chi bộ ({}). Hãy kiểm tra lại ngày.",
                date.format_vn(),
                meeting.format_vn()
            ),
            format!(
                "The committee resolution ({}) predates the branch meeting ({}). Check the dates.",
                date.format_vn(),
                meeting.format_vn()
            ),
        );
    }
    if super::blank(&c.resolution_number) {
        e.push(
            "COMMITTEE_RESOLUTION_NUMBER_MISSING",
            Severity::Warning,
            "committee.resolution_number",
            "R19",
            src,
            "Chưa ghi số nghị quyết của đảng ủy cơ sở.".into(),
            "The committee resolution number is missing.".into(),
        );
    }
    if !c.authorised && !e.settings().committee_two_thirds_when_not_authorised {
        return;
    }
    let (Some(total), Some(yes)) = (c.members_total, c.votes_for) else {
        e.push(
            "COMMITTEE_COUNT_MISSING",
            Severity::Blocking,
            "committee.votes_for",
            "R19",
            src,
            "Chưa ghi tổng số cấp ủy viên và số tán thành của đảng ủy cơ sở. Hãy ghi kết quả biểu quyết.".into(),
            "The number of committee members or of votes for is missing. Record the committee's vote.".into(),
        );
        return;
    };
    if yes > total {
        e.push(
            "COMMITTEE_COUNTS_INCONSISTENT",
            Severity::Blocking,
            "committee.votes_for",
            "R19",
            src,
            format!(
                "Số tán thành ({yes}) lớn hơn tổng số cấp ủy viên ({total}). Hãy kiểm tra lại."
            ),
            format!("More votes for ({yes}) than committee members ({total}). Check the record."),
        );
    } else if 3 * u64::from(yes) < 2 * u64::from(total) || total == 0 {
        e.push(
            "COMMITTEE_BELOW_TWO_THIRDS",
            Severity::Blocking,
            "committee.votes_for",
            "R19",
            src,
            format!(
                "Chỉ {yes}/{total} cấp ủy viên tán thành; cần ít nhất {} (hai phần ba tổng số cấp ủy viên).",
                two_thirds_of(total)
            ),
            format!(
                "Only {yes} of {total} committee members approved; at least {} (two-thirds of all members) are needed.",
                two_thirds_of(total)
            ),
        );
    }
}
