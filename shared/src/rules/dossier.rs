//! The admission dossier: application letter (R8), biography and its verification
//! (R9, R10, R6), opinions (R15) and the 12-month staleness rule (R34).

use super::{Eval, Severity};
use crate::date::Date;
use crate::stage::Stage;

pub(super) fn check(e: &mut Eval<'_>) {
    application_and_biography(e);
    verification(e);
    opinions(e);
    staleness(e);
    documents_before_vote(e);
}

fn application_and_biography(e: &mut Eval<'_>) {
    let src_r8 = e.rs.pick(
        "Điều lệ Đảng Điều 4 k1; 01-HD/TW 2021 §3",
        "Điều lệ Đảng Điều 4 k1; 01-HD/TW 2021 §3",
        "Điều lệ Đảng Điều 4 k1; 06-HD/TW §3",
    );
    let src_r9 =
        e.rs.pick("01-HD/TW 2021 §3.3", "01-HD/TW 2021 §3.3", "06-HD/TW §3");
    let letter = e.case.application.letter_date;
    let declared = e.case.biography.declared_date;
    if letter.is_none() {
        e.missing(
            Stage::BranchVote,
            "APPLICATION_LETTER_MISSING",
            "application.letter_date",
            "R8",
            src_r8,
            "Chưa có đơn xin vào Đảng (Mẫu 1-KNĐ). Người vào Đảng tự viết đơn; hãy ghi ngày của đơn.",
            "No application letter (form 1-KNĐ). The candidate writes it personally; record its date.",
        );
    }
    if declared.is_none() {
        e.missing(
            Stage::BranchVote,
            "BIOGRAPHY_MISSING",
            "biography.declared_date",
            "R9",
            src_r9,
            "Chưa có lý lịch người xin vào Đảng (Mẫu 2-KNĐ). Hãy ghi ngày khai lý lịch.",
            "No biography (form 2-KNĐ). Record the date it was declared.",
        );
    }
    if let (Some(l), Some(b)) = (letter, declared)
        && b < l
    {
        e.push(
            "BIOGRAPHY_BEFORE_APPLICATION",
            Severity::Blocking,
            "biography.declared_date",
            "R8",
            src_r8,
            format!(
                "Lý lịch khai ngày {} trước đơn xin vào Đảng ngày {}; đơn phải có trước. Hãy kiểm tra lại ngày.",
                b.format_vn(),
                l.format_vn()
            ),
            format!(
                "The biography ({}) is dated before the application letter ({}); the letter comes first. Check the dates.",
                b.format_vn(),
                l.format_vn()
            ),
        );
    }
}

fn verification(e: &mut Eval<'_>) {
    let src =
        e.rs.pick("01-HD/TW 2021 §3.4", "01-HD/TW 2021 §3.4", "06-HD/TW §3.4");
    let src_r6 = e.rs.pick(
        "58-QĐ/TW ch. III; 24-QĐ/TW §3.3",
        "58-QĐ/TW ch. III; 232-QĐ/TW §3.3",
        "58-QĐ/TW ch. III; 294-QĐ/TW §3.3",
    );
    let b = &e.case.biography;
    if b.verifications.is_empty() {
        e.missing(
            Stage::BranchVote,
            "VERIFICATION_MISSING",
            "biography.verifications",
            "R10",
            src,
            "Chưa ghi công văn thẩm tra lý lịch nào (bản thân, cha mẹ, vợ/chồng, con đủ năng lực hành vi...). Hãy ghi các yêu cầu đã gửi.",
            "No biography verification request recorded (self, parents, spouse, adult children...). Record the requests sent.",
        );
    }
    let mut unsent = 0;
    let mut unanswered = 0;
    let mut no_result = 0;
    let mut last_reply: Option<Date> = None;
    for v in &b.verifications {
        match (v.sent_date, v.reply_date) {
            (None, _) => unsent += 1,
            (Some(_), None) => unanswered += 1,
            (Some(_), Some(r)) => {
                last_reply = last_reply.max(Some(r));
                if super::blank(&v.result) {
                    no_result += 1;
                }
            }
        }
    }
    if unsent > 0 {
        e.missing(
            Stage::BranchVote,
            "VERIFICATION_NOT_SENT",
            "biography.verifications[].sent_date",
            "R10",
            src,
            "Có yêu cầu thẩm tra chưa ghi ngày gửi. Hãy gửi công văn thẩm tra và ghi ngày.",
            "A verification request has no sent date. Send it and record the date.",
        );
    }
    if unanswered > 0 {
        e.missing(
            Stage::BranchVote,
            "VERIFICATION_REPLY_MISSING",
            "biography.verifications[].reply_date",
            "R10",
            src,
            "Còn công văn thẩm tra chưa có kết quả trả lời. Chi ủy chỉ nhận xét và đảng ủy chỉ chứng nhận lý lịch sau khi có kết quả.",
            "A verification request has no reply yet. The chi ủy comments and the committee certifies only after the results.",
        );
    }
    if no_result > 0 {
        e.push(
            "VERIFICATION_RESULT_MISSING",
            Severity::Warning,
            "biography.verifications[].result",
            "R10",
            src,
            "Có kết quả thẩm tra chưa ghi nội dung kết luận. Hãy ghi kết quả.".into(),
            "A verification reply has no recorded result. Record the conclusion.".into(),
        );
    }
    if let Some(due) = e.schedule.verification_reply_due
        && e.today() > due
    {
        e.push(
            "VERIFICATION_OVERDUE",
            Severity::Warning,
            "biography.verifications[].reply_date",
            "R10",
            src,
            format!(
                "Công văn thẩm tra quá hạn trả lời (hạn {} theo cài đặt). Hãy đôn đốc nơi được đề nghị thẩm tra.",
                due.format_vn()
            ),
            format!(
                "A verification request is past its reply date ({} per settings). Chase the committee asked to verify.",
                due.format_vn()
            ),
        );
    }
    if let Some(declared) = b.declared_date
        && b.verifications
            .iter()
            .any(|v| v.sent_date.is_some_and(|s| s < declared))
    {
        e.push(
            "VERIFICATION_BEFORE_BIOGRAPHY",
            Severity::Warning,
            "biography.verifications[].sent_date",
            "R10",
            src,
            "Có công văn thẩm tra gửi trước ngày khai lý lịch. Hãy kiểm tra lại ngày.".into(),
            "A verification request was sent before the biography was declared. Check the dates."
                .into(),
        );
    }

    let all_answered = !b.verifications.is_empty() && unsent == 0 && unanswered == 0;
    for (date, code, field, vi_what, en_what, missing_code, missing_vi, missing_en) in [
        (
            b.chi_uy_comment_date,
            "CHI_UY_COMMENT_BEFORE_VERIFICATION",
            "biography.chi_uy_comment_date",
            "Chi ủy nhận xét lý lịch",
            "The chi ủy's comment on the biography",
            "CHI_UY_COMMENT_MISSING",
            "Chi ủy chưa ghi nhận xét vào lý lịch. Ghi ngày nhận xét sau khi có kết quả thẩm tra.",
            "The chi ủy has not commented on the biography. Record the date once verification results are in.",
        ),
        (
            b.grassroots_certification_date,
            "CERTIFICATION_BEFORE_VERIFICATION",
            "biography.grassroots_certification_date",
            "Đảng ủy cơ sở chứng nhận lý lịch",
            "The grassroots committee's certification",
            "CERTIFICATION_MISSING",
            "Đảng ủy cơ sở chưa chứng nhận lý lịch. Ghi ngày chứng nhận sau khi có kết quả thẩm tra.",
            "The grassroots committee has not certified the biography. Record the date once verification results are in.",
        ),
    ] {
        match date {
            None => e.missing(
                Stage::BranchVote,
                missing_code,
                field,
                "R10",
                src,
                missing_vi,
                missing_en,
            ),
            Some(d) => {
                let premature = match last_reply {
                    Some(r) => d < r || !all_answered,
                    None => true,
                };
                if premature {
                    e.push(
                        code,
                        Severity::Blocking,
                        field,
                        "R10",
                        src,
                        format!(
                            "{vi_what} ngày {} trước khi có đủ kết quả thẩm tra. Phải nhận xét/chứng nhận lại sau khi có kết quả.",
                            d.format_vn()
                        ),
                        format!(
                            "{en_what} ({}) predates the complete verification results. Redo it after the results.",
                            d.format_vn()
                        ),
                    );
                }
            }
        }
    }
    if let (Some(c), Some(g)) = (b.chi_uy_comment_date, b.grassroots_certification_date)
        && g < c
    {
        e.push(
            "CERTIFICATION_BEFORE_CHI_UY_COMMENT",
            Severity::Warning,
            "biography.grassroots_certification_date",
            "R10",
            src,
            "Đảng ủy chứng nhận lý lịch trước khi chi ủy nhận xét. Hãy kiểm tra lại thứ tự.".into(),
            "The committee certified the biography before the chi ủy commented. Check the order."
                .into(),
        );
    }
    if b.political_standard_cleared_date.is_none() {
        e.missing(
            Stage::BranchVote,
            "POLITICAL_STANDARD_NOT_CLEARED",
            "biography.political_standard_cleared_date",
            "R6",
            src_r6,
            "Chưa ghi kết luận tiêu chuẩn chính trị (cấp kết luận và ngày) sau thẩm tra lý lịch.",
            "No political-standard conclusion (body and date) recorded after the biography verification.",
        );
    }
}

fn opinions(e: &mut Eval<'_>) {
    let src = "Điều lệ Đảng Điều 4 k3; Mẫu 5-KNĐ";
    let o = &e.case.opinions;
    if o.summary_date.is_none() {
        e.missing(
            Stage::BranchVote,
            "OPINIONS_SUMMARY_MISSING",
            "opinions.summary_date",
            "R15",
            src,
            "Chưa có bản tổng hợp ý kiến nhận xét của đoàn thể nơi làm việc và chi ủy nơi cư trú (Mẫu 5-KNĐ). Hãy thu thập và ghi ngày.",
            "No summary of opinions from the workplace organisations and the residence chi ủy (form 5-KNĐ). Collect them and record the date.",
        );
        return;
    }
    if o.residence_date.is_none() {
        e.push(
            "OPINION_RESIDENCE_MISSING",
            Severity::Warning,
            "opinions.residence_date",
            "R15",
            src,
            "Bản tổng hợp chưa có ý kiến của chi ủy/chi bộ nơi cư trú (Mẫu 5B-KNĐ).".into(),
            "The summary lacks the opinion of the residence chi ủy or branch (form 5B-KNĐ).".into(),
        );
    }
    if o.workplace_date.is_none() && !super::blank(&e.case.person.workplace_unit) {
        e.push(
            "OPINION_WORKPLACE_MISSING",
            Severity::Warning,
            "opinions.workplace_date",
            "R15",
            src,
            "Bản tổng hợp chưa có ý kiến của đoàn thể nơi làm việc (Mẫu 5C-KNĐ).".into(),
            "The summary lacks the opinion of the workplace organisations (form 5C-KNĐ).".into(),
        );
    }
}

/// R34: after 12 months without a branch vote the introductions and opinions lapse.
fn staleness(e: &mut Eval<'_>) {
    let (Some(anchor), Some(valid_until)) =
        (e.schedule.dossier_anchor, e.schedule.dossier_valid_until)
    else {
        return;
    };
    let src = e.rs.pick(
        "01-HD/TW 2021 §5.4b",
        "01-HD/TW 2021 §5.4b",
        "06-HD/TW §5.4",
    );
    let at = match e.meeting {
        Some(m) => m,
        None if e.stage <= Stage::FilePreparation => e.today(),
        None => return,
    };
    if at <= valid_until {
        return;
    }
    let (at_vi, at_en) = e.reference_label();
    e.push(
        "DOSSIER_STALE",
        Severity::Blocking,
        "introducers[].letter_date",
        "R34",
        src,
        format!(
            "Quá 12 tháng kể từ khi lập hồ sơ ({}; hết hiệu lực sau {}) mà chi bộ chưa xét, {at_vi}. Phải làm lại giấy giới thiệu, nghị quyết giới thiệu của đoàn thể và tổng hợp nhận xét.",
            anchor.format_vn(),
            valid_until.format_vn()
        ),
        format!(
            "More than 12 months since the dossier was made ({}; valid until {}) without a branch vote, {at_en}. Redo the introductions, the union resolution and the opinion summary.",
            anchor.format_vn(),
            valid_until.format_vn()
        ),
    );
    let supplemented = e
        .case
        .biography
        .supplement_date
        .is_some_and(|d| d > valid_until);
    if !supplemented {
        e.push(
            "BIOGRAPHY_SUPPLEMENT_MISSING",
            Severity::Info,
            "biography.supplement_date",
            "R34",
            src,
            "Có thể cần bổ sung lý lịch cho giai đoạn từ khi đảng ủy chứng nhận đến khi chi bộ xét (chưa xác minh trong văn bản hiện hành).".into(),
            "A supplementary biography for the period since certification may be required (not verified in the current text).".into(),
        );
    }
}

/// The dossier must be complete before the branch considers the case.
fn documents_before_vote(e: &mut Eval<'_>) {
    let Some(meeting) = e.meeting else {
        return;
    };
    let c = e.case;
    let docs = [
        ("application.letter_date", c.application.letter_date, "R8"),
        (
            "biography.grassroots_certification_date",
            c.biography.grassroots_certification_date,
            "R10",
        ),
        ("opinions.summary_date", c.opinions.summary_date, "R15"),
        (
            "introducing_org.resolution_date",
            c.introducing_org.resolution_date,
            "R14",
        ),
        (
            "introducers[].letter_date",
            c.introducers.iter().filter_map(|i| i.letter_date).max(),
            "R12",
        ),
    ];
    for (field, date, rule) in docs {
        if let Some(d) = date
            && d > meeting
        {
            let (what_vi, what_en) = crate::schema::path_label(field);
            e.push(
                "DOCUMENT_AFTER_BRANCH_VOTE",
                Severity::Blocking,
                field,
                rule,
                "Điều lệ Đảng Điều 4 k3",
                format!(
                    "{what_vi}: {} là sau buổi họp chi bộ xét kết nạp ({}). Hồ sơ phải đủ trước khi chi bộ xét. Hãy kiểm tra lại ngày.",
                    d.format_vn(),
                    meeting.format_vn()
                ),
                format!(
                    "{what_en}: {} is after the branch meeting ({}). The dossier must be complete before the vote. Check the dates.",
                    d.format_vn(),
                    meeting.format_vn()
                ),
            );
        }
    }
}
