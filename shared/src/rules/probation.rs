//! Probation and recognition as an official member: the 12-month probation and its
//! helper (R24), the new-member course (R26), the branch deadline (R27), the vote
//! (R28), the effective date (R29), the three-attempt deadlock (R30), the recognition
//! dossier (R31) and the party card (R35).

use super::schedule::vote_denominator;
use super::votes::{Outcome, VoteKind, check_vote, two_thirds_of};
use super::{Eval, Severity};
use crate::model::latest_vote;
use crate::stage::Stage;

const RECOGNITION: VoteKind = VoteKind {
    rule: "R28",
    date_missing: "RECOGNITION_VOTE_DATE_MISSING",
    count_missing: "RECOGNITION_VOTE_COUNT_MISSING",
    inconsistent: "RECOGNITION_VOTE_COUNTS_INCONSISTENT",
    readings_disagree: "RECOGNITION_VOTE_DENOMINATOR_READINGS_DISAGREE",
    method_missing: "RECOGNITION_VOTE_METHOD_MISSING",
    f_date: "recognition.votes[].meeting_date",
    f_counts: "recognition.votes[].votes_for",
    f_method: "recognition.votes[].method",
    what_vi: "Biểu quyết công nhận đảng viên chính thức",
    what_en: "The recognition vote",
};

/// The most attempts a branch makes before the superior committee decides (R30).
const MAX_ATTEMPTS: usize = 3;

pub(super) fn check(e: &mut Eval<'_>) {
    let Some(ceremony) = e.case.probation.ceremony_date else {
        if e.stage > Stage::Probation && e.stage != Stage::Stopped {
            e.push(
                "CEREMONY_MISSING",
                Severity::Blocking,
                "probation.ceremony_date",
                "R24",
                "Điều lệ Đảng Điều 5 k1",
                "Đã có thông tin công nhận chính thức nhưng chưa ghi ngày lễ kết nạp; thời kỳ dự bị tính từ ngày đó. Hãy ghi ngày lễ.".into(),
                "Recognition facts are recorded but no ceremony date, from which probation runs. Record the ceremony date.".into(),
            );
        }
        card(e);
        return;
    };
    let end = e.schedule.probation_end.unwrap_or(ceremony.add_months(12));
    probation(e);
    dossier(e, end);
    votes(e, end);
    decision(e, end);
    card(e);
}

fn probation(e: &mut Eval<'_>) {
    let p = &e.case.probation;
    if super::blank(&p.helper_member_id) && super::blank(&p.helper_name) {
        e.push(
            "PROBATION_HELPER_MISSING",
            Severity::Warning,
            "probation.helper_member_id",
            "R24",
            "Điều lệ Đảng Điều 5 k1",
            "Chưa ghi đảng viên chính thức được phân công giúp đỡ đảng viên dự bị. Hãy phân công và ghi lại.".into(),
            "No official member is recorded as helping the probationary member. Assign one and record it.".into(),
        );
    }
}

fn dossier(e: &mut Eval<'_>, end: crate::date::Date) {
    let src =
        e.rs.pick("01-HD/TW 2021 §4", "01-HD/TW 2021 §4", "06-HD/TW §4");
    let src_r26 =
        e.rs.pick("01-HD/TW 2021 §4.1", "01-HD/TW 2021 §4.1", "06-HD/TW §4");
    let r = &e.case.recognition;
    if e.case.probation.course_certificate_date.is_none() {
        e.missing(
            Stage::Official,
            "NEW_MEMBER_COURSE_MISSING",
            "probation.course_certificate_date",
            "R26",
            src_r26,
            "Chưa ghi giấy chứng nhận lớp bồi dưỡng lý luận chính trị cho đảng viên mới. Đây là giấy bắt buộc trong hồ sơ công nhận chính thức.",
            "No certificate of the political course for new members is recorded. It is required in the recognition dossier.",
        );
    }
    match r.self_assessment_date {
        None => e.missing(
            Stage::Official,
            "SELF_ASSESSMENT_MISSING",
            "recognition.self_assessment_date",
            "R31",
            src,
            "Chưa có bản tự kiểm điểm của đảng viên dự bị (Mẫu 10-KNĐ), viết sau khi đủ 12 tháng dự bị.",
            "No self-assessment of the probationary member (form 10-KNĐ), written after the 12 months.",
        ),
        Some(d) if d <= end => e.push(
            "SELF_ASSESSMENT_TOO_EARLY",
            Severity::Blocking,
            "recognition.self_assessment_date",
            "R31",
            src,
            format!(
                "Bản tự kiểm điểm ngày {} viết trước khi hết 12 tháng dự bị ({}). Phải viết lại sau ngày đó.",
                d.format_vn(),
                end.format_vn()
            ),
            format!(
                "The self-assessment ({}) was written before the 12 months of probation ended ({}). It must be rewritten after that day.",
                d.format_vn(),
                end.format_vn()
            ),
        ),
        Some(_) => {}
    }
    if r.helper_assessment_date.is_none() {
        e.missing(
            Stage::Official,
            "HELPER_ASSESSMENT_MISSING",
            "recognition.helper_assessment_date",
            "R31",
            src,
            "Chưa có bản nhận xét của đảng viên được phân công giúp đỡ (Mẫu 11-KNĐ).",
            "No assessment by the assigned helper member (form 11-KNĐ).",
        );
    }
    if r.opinions_summary_date.is_none() {
        e.missing(
            Stage::Official,
            "RECOGNITION_OPINIONS_MISSING",
            "recognition.opinions_summary_date",
            "R31",
            src,
            "Chưa có tổng hợp ý kiến nhận xét của đoàn thể nơi làm việc và chi ủy nơi cư trú (Mẫu 12-KNĐ).",
            "No summary of opinions from the workplace organisations and the residence chi ủy (form 12-KNĐ).",
        );
    }
}

fn votes(e: &mut Eval<'_>, end: crate::date::Date) {
    let src_r27 =
        e.rs.pick("24-QĐ/TW §4.2.1", "232-QĐ/TW §4.2.1", "294-QĐ/TW §4.2");
    let src_r28 = "Điều lệ Đảng Điều 5 k2";
    let src_r30 =
        e.rs.pick("24-QĐ/TW §4.2.3", "232-QĐ/TW §4.2.3", "294-QĐ/TW §4.2.3");
    let votes = &e.case.recognition.votes;
    let decided = e.case.recognition.decision_date.is_some();
    let today = e.today();
    let due = e.schedule.recognition_vote_due;
    let first = votes.iter().filter_map(|v| v.meeting_date).min();
    match (first, due) {
        (None, Some(due)) if today > due => e.push(
            "RECOGNITION_VOTE_OVERDUE",
            Severity::Warning,
            "recognition.votes",
            "R27",
            src_r27,
            format!(
                "Quá 30 ngày làm việc sau khi hết dự bị (hạn {}) mà chi bộ chưa xét công nhận chính thức. Hãy họp xét ngay.",
                due.format_vn()
            ),
            format!(
                "More than 30 working days after probation ended (due {}) and the branch has not considered recognition. Hold the vote now.",
                due.format_vn()
            ),
        ),
        (Some(first), Some(due)) if first > due => e.push(
            "RECOGNITION_VOTE_LATE",
            Severity::Warning,
            "recognition.votes[].meeting_date",
            "R27",
            src_r27,
            format!(
                "Chi bộ xét công nhận ngày {}, quá hạn {} (30 ngày làm việc sau khi hết dự bị).",
                first.format_vn(),
                due.format_vn()
            ),
            format!(
                "The branch considered recognition on {}, after the due date {} (30 working days after probation).",
                first.format_vn(),
                due.format_vn()
            ),
        ),
        _ => {}
    }
    if votes.is_empty() {
        if decided {
            e.push(
                "RECOGNITION_VOTE_MISSING",
                Severity::Blocking,
                "recognition.votes",
                "R28",
                src_r28,
                "Đã có quyết định công nhận nhưng chưa ghi biểu quyết của chi bộ (Mẫu 13-KNĐ). Hãy ghi biểu quyết.".into(),
                "A recognition decision is recorded but no branch vote (form 13-KNĐ). Record the vote.".into(),
            );
        }
        return;
    }
    if let Some(early) = votes
        .iter()
        .filter_map(|v| v.meeting_date)
        .find(|d| *d <= end)
    {
        e.push(
            "RECOGNITION_VOTE_TOO_EARLY",
            Severity::Blocking,
            "recognition.votes[].meeting_date",
            "R24",
            "Điều lệ Đảng Điều 5 k1",
            format!(
                "Chi bộ xét công nhận ngày {} khi chưa hết 12 tháng dự bị ({}). Nghị quyết phải sau ngày hết dự bị.",
                early.format_vn(),
                end.format_vn()
            ),
            format!(
                "The branch considered recognition on {} before the 12 months of probation ended ({}). The resolution must come after that day.",
                early.format_vn(),
                end.format_vn()
            ),
        );
    }
    if votes.len() > MAX_ATTEMPTS {
        e.push(
            "RECOGNITION_TOO_MANY_ATTEMPTS",
            Severity::Blocking,
            "recognition.votes",
            "R30",
            src_r30,
            format!(
                "Đã ghi {} lần biểu quyết; sau 3 lần không đạt, chi bộ báo cáo cấp ủy cấp trên quyết định, không biểu quyết tiếp.",
                votes.len()
            ),
            format!(
                "{} votes are recorded; after 3 failed attempts the branch reports upward and the superior committee decides, with no further vote.",
                votes.len()
            ),
        );
    }
    let Some(latest) = latest_vote(votes) else {
        return;
    };
    if check_vote(e, latest, &RECOGNITION) != Outcome::Failed {
        return;
    }
    if votes.len() >= MAX_ATTEMPTS {
        e.push(
            "RECOGNITION_DEADLOCK",
            if decided { Severity::Info } else { Severity::Blocking },
            "recognition.votes",
            "R30",
            src_r30,
            "Ba lần biểu quyết không đạt hai phần ba: chi bộ báo cáo cấp ủy cấp trên trực tiếp và cấp ủy có thẩm quyền xem xét, quyết định.".into(),
            "Three votes without two-thirds: the branch reports to the direct superior and the competent committee, which decide.".into(),
        );
    } else {
        let yes = latest.votes_for.unwrap_or(0);
        let denom = vote_denominator(latest, e.settings().vote_denominator).unwrap_or(0);
        e.push(
            "RECOGNITION_VOTE_BELOW_TWO_THIRDS",
            Severity::Blocking,
            "recognition.votes[].votes_for",
            RECOGNITION.rule,
            src_r28,
            format!(
                "Lần {}: chỉ {yes}/{denom} đảng viên chính thức tán thành công nhận; cần ít nhất {}. Chi bộ có thể biểu quyết lại (tối đa 3 lần) hoặc đề nghị xóa tên.",
                votes.len(),
                two_thirds_of(denom)
            ),
            format!(
                "Attempt {}: only {yes} of {denom} official members approved recognition; at least {} are needed. The branch may vote again (3 attempts at most) or propose removing the name.",
                votes.len(),
                two_thirds_of(denom)
            ),
        );
    }
}

fn decision(e: &mut Eval<'_>, end: crate::date::Date) {
    let src_r21 =
        e.rs.pick("24-QĐ/TW §4.3.1", "232-QĐ/TW §4.3.1", "294-QĐ/TW §4.3.1");
    let src_r29 =
        e.rs.pick("24-QĐ/TW §4.2.2", "232-QĐ/TW §4.2.2", "294-QĐ/TW §4.2.2");
    let src_r31 =
        e.rs.pick("01-HD/TW 2021 §4", "01-HD/TW 2021 §4", "06-HD/TW §4");
    let r = &e.case.recognition;
    if let (Some(due), None) = (e.schedule.recognition_decision_due, r.decision_date)
        && e.today() > due
    {
        e.push(
            "RECOGNITION_DECISION_OVERDUE",
            Severity::Warning,
            "recognition.decision_date",
            "R21",
            src_r21,
            format!(
                "Quá 30 ngày làm việc kể từ nghị quyết chi bộ (hạn {}) mà chưa có quyết định công nhận chính thức. Hãy đôn đốc cấp ủy có thẩm quyền.",
                due.format_vn()
            ),
            format!(
                "More than 30 working days since the branch resolution (due {}) without a recognition decision. Chase the competent committee.",
                due.format_vn()
            ),
        );
    }
    if r.committee_resolution_date.is_none() && e.schedule.recognition_vote_passed.is_some() {
        e.missing(
            Stage::Official,
            "RECOGNITION_COMMITTEE_MISSING",
            "recognition.committee_resolution_date",
            "R31",
            src_r31,
            "Chưa ghi nghị quyết của đảng ủy cơ sở đề nghị công nhận chính thức (Mẫu 15-KNĐ).",
            "The grassroots committee resolution proposing recognition (form 15-KNĐ) is not recorded.",
        );
    }
    let Some(decided) = r.decision_date else {
        return;
    };
    if let Some(due) = e.schedule.recognition_decision_due
        && decided > due
    {
        e.push(
            "RECOGNITION_DECISION_LATE",
            Severity::Warning,
            "recognition.decision_date",
            "R21",
            src_r21,
            format!(
                "Quyết định công nhận ngày {}, quá hạn {} (30 ngày làm việc kể từ nghị quyết chi bộ).",
                decided.format_vn(),
                due.format_vn()
            ),
            format!(
                "The recognition decision of {} came after the due date {} (30 working days from the branch resolution).",
                decided.format_vn(),
                due.format_vn()
            ),
        );
    }
    if decided <= end {
        e.push(
            "RECOGNITION_DECISION_BEFORE_PROBATION_END",
            Severity::Blocking,
            "recognition.decision_date",
            "R24",
            "Điều lệ Đảng Điều 5 k1",
            format!(
                "Quyết định công nhận ({}) trước khi hết 12 tháng dự bị ({}). Hãy kiểm tra lại ngày.",
                decided.format_vn(),
                end.format_vn()
            ),
            format!(
                "The recognition decision ({}) predates the end of probation ({}). Check the dates.",
                decided.format_vn(),
                end.format_vn()
            ),
        );
    }
    match e.case.official_date {
        None => e.push(
            "OFFICIAL_DATE_MISSING",
            Severity::Info,
            "official_date",
            "R29",
            src_r29,
            format!("Ngày chính thức là ngày hết 12 tháng dự bị: {}. Hãy ghi ngày này.", end.format_vn()),
            format!("The official date is the end of the 12-month probation: {}. Record it.", end.format_vn()),
        ),
        Some(official) if official != end => e.push(
            "OFFICIAL_DATE_NOT_PROBATION_END",
            Severity::Warning,
            "official_date",
            "R29",
            src_r29,
            format!(
                "Ngày chính thức ghi {} nhưng phải đúng ngày hết 12 tháng dự bị ({}), dù chi bộ hay cấp trên xét muộn.",
                official.format_vn(),
                end.format_vn()
            ),
            format!(
                "The official date is recorded as {} but must be the end of probation ({}), even when the vote or decision came late.",
                official.format_vn(),
                end.format_vn()
            ),
        ),
        Some(_) => {}
    }
}

/// R35: the card goes to official members only, handed over at the nearest meeting.
fn card(e: &mut Eval<'_>) {
    let src =
        e.rs.pick("24-QĐ/TW §6.1", "232-QĐ/TW §6.1", "294-QĐ/TW §6.1");
    let card = &e.case.card;
    let decided = e.case.recognition.decision_date;
    match (card.handed_over_date, decided) {
        (Some(handed), None) => e.push(
            "CARD_BEFORE_OFFICIAL",
            Severity::Blocking,
            "card.handed_over_date",
            "R35",
            src,
            format!(
                "Đã ghi trao thẻ đảng ngày {} nhưng chưa có quyết định công nhận chính thức. Thẻ chỉ cấp cho đảng viên chính thức.",
                handed.format_vn()
            ),
            format!(
                "A party card was handed over on {} but no recognition decision is recorded. Cards go to official members only.",
                handed.format_vn()
            ),
        ),
        (Some(handed), Some(decided)) if handed < decided => e.push(
            "CARD_BEFORE_OFFICIAL",
            Severity::Blocking,
            "card.handed_over_date",
            "R35",
            src,
            format!(
                "Trao thẻ đảng ({}) trước quyết định công nhận chính thức ({}). Hãy kiểm tra lại ngày.",
                handed.format_vn(),
                decided.format_vn()
            ),
            format!(
                "The card was handed over ({}) before the recognition decision ({}). Check the dates.",
                handed.format_vn(),
                decided.format_vn()
            ),
        ),
        (None, Some(_)) => e.push(
            "CARD_NOT_HANDED_OVER",
            Severity::Info,
            "card.handed_over_date",
            "R35",
            src,
            "Đảng viên đã được công nhận chính thức: trao thẻ đảng tại kỳ sinh hoạt chi bộ gần nhất và ghi số thẻ, ngày trao.".into(),
            "Recognised as official: hand over the party card at the next branch meeting and record its number and date.".into(),
        ),
        _ => {}
    }
    if card.handed_over_date.is_some() && super::blank(&card.number) {
        e.push(
            "CARD_NUMBER_MISSING",
            Severity::Warning,
            "card.number",
            "R35",
            src,
            "Đã trao thẻ nhưng chưa ghi số thẻ đảng viên.".into(),
            "The card was handed over but its number is not recorded.".into(),
        );
    }
}
