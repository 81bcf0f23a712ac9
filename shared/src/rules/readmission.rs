//! Re-admission of a former member (R36, R36b): waiting times, excluded exit reasons,
//! provincial approval and the once-only limit.

use super::{Eval, Severity};
use crate::model::ExitReason;
use crate::stage::Stage;

pub(super) fn check(e: &mut Eval<'_>) {
    let r = &e.case.person.readmission;
    if !r.is_readmission {
        return;
    }
    let src =
        e.rs.pick("24-QĐ/TW §3.5", "232-QĐ/TW §3.5", "294-QĐ/TW §3.5.1");
    let src_excluded =
        e.rs.pick("24-QĐ/TW §3.5", "232-QĐ/TW §3.5", "294-QĐ/TW §3.5.2");

    if r.previously_readmitted {
        e.push(
            "READMISSION_ONLY_ONCE",
            Severity::Blocking,
            "person.readmission.previously_readmitted",
            "R36",
            src,
            "Người này đã được kết nạp lại một lần; chỉ được kết nạp lại một lần. Không thể xét tiếp.".into(),
            "This person was already re-admitted once; re-admission is allowed only once. The case cannot proceed.".into(),
        );
    }

    match r.exit_reason {
        None => e.missing(
            Stage::BranchVote,
            "READMISSION_EXIT_REASON_MISSING",
            "person.readmission.exit_reason",
            "R36",
            src,
            "Chưa ghi lý do ra khỏi Đảng trước đây. Hãy ghi lý do để kiểm tra điều kiện kết nạp lại.",
            "The reason for leaving the Party is not recorded. Record it so re-admission conditions can be checked.",
        ),
        Some(
            reason @ (ExitReason::AbandonedActivities
            | ExitReason::AppliedToLeave
            | ExitReason::SeriousDisunity
            | ExitReason::CorruptionConviction
            | ExitReason::SeriousCrime),
        ) => {
            let (vi, en) = match reason {
                ExitReason::AbandonedActivities => ("tự bỏ sinh hoạt đảng", "abandoned party activities"),
                ExitReason::AppliedToLeave => ("xin ra khỏi Đảng (không vì hoàn cảnh gia đình đặc biệt khó khăn)", "applied to leave (not for especially difficult family reasons)"),
                ExitReason::SeriousDisunity => ("gây mất đoàn kết nội bộ nghiêm trọng", "caused serious internal disunity"),
                ExitReason::CorruptionConviction => ("bị kết án về tội tham nhũng", "was convicted of corruption"),
                _ => ("bị kết án về tội nghiêm trọng trở lên", "was convicted of a serious crime or worse"),
            };
            e.push(
                "READMISSION_EXCLUDED",
                Severity::Blocking,
                "person.readmission.exit_reason",
                "R36b",
                src_excluded,
                format!("Không xét kết nạp lại người đã ra khỏi Đảng vì {vi}. Hãy dừng hồ sơ."),
                format!("A person who left because they {en} cannot be re-admitted. Stop the case."),
            );
        }
        Some(ExitReason::PopulationPolicy) => e.push(
            "READMISSION_POPULATION_POLICY",
            Severity::Warning,
            "person.readmission.exit_reason",
            "R36",
            src,
            "Ra khỏi Đảng do vi phạm chính sách dân số: áp dụng quy định riêng của Ban Bí thư. Hãy xin ý kiến cấp ủy cấp trên.".into(),
            "Left for violating population policy: a separate Secretariat rule applies. Ask the superior committee.".into(),
        ),
        Some(_) => {}
    }

    match r.previous_exit_date {
        None => e.missing(
            Stage::BranchVote,
            "READMISSION_EXIT_DATE_MISSING",
            "person.readmission.previous_exit_date",
            "R36",
            src,
            "Chưa ghi ngày ra khỏi Đảng. Hãy ghi ngày để tính thời gian 36 tháng.",
            "The date of leaving the Party is not recorded. Record it to check the 36-month wait.",
        ),
        Some(exit) => {
            let earliest = exit.add_months(36);
            if e.reference < earliest {
                let (at_vi, at_en) = e.reference_label();
                let severity = e.eligibility_severity();
                e.push(
                    "READMISSION_TOO_SOON",
                    severity,
                    "person.readmission.previous_exit_date",
                    "R36",
                    src,
                    format!(
                        "Chưa đủ 36 tháng kể từ khi ra khỏi Đảng ({}) {at_vi}. Chỉ xét từ ngày {}.",
                        exit.format_vn(),
                        earliest.format_vn()
                    ),
                    format!(
                        "Less than 36 months since leaving the Party ({}) {at_en}. Consider from {} onwards.",
                        exit.format_vn(),
                        earliest.format_vn()
                    ),
                );
            }
        }
    }

    if r.exit_reason == Some(ExitReason::LessSeriousCrime) {
        match r.expunge_date {
            None => e.missing(
                Stage::BranchVote,
                "READMISSION_EXPUNGE_DATE_MISSING",
                "person.readmission.expunge_date",
                "R36",
                src,
                "Người bị kết án tội ít nghiêm trọng: chưa ghi ngày được xóa án tích. Hãy ghi ngày để tính 60 tháng.",
                "Convicted of a less serious crime: the date the record was expunged is missing. Record it to check the 60-month wait.",
            ),
            Some(expunged) => {
                let earliest = expunged.add_months(60);
                if e.reference < earliest {
                    let (at_vi, at_en) = e.reference_label();
                    let severity = e.eligibility_severity();
                    e.push(
                        "READMISSION_EXPUNGE_TOO_SOON",
                        severity,
                        "person.readmission.expunge_date",
                        "R36",
                        src,
                        format!(
                            "Chưa đủ 60 tháng kể từ khi được xóa án tích ({}) {at_vi}. Chỉ xét từ ngày {}.",
                            expunged.format_vn(),
                            earliest.format_vn()
                        ),
                        format!(
                            "Less than 60 months since the criminal record was expunged ({}) {at_en}. Consider from {} onwards.",
                            expunged.format_vn(),
                            earliest.format_vn()
                        ),
                    );
                }
            }
        }
    }

    match (r.provincial_approval_date, e.case.decision.date_signed) {
        (None, _) => e.missing(
            Stage::Decision,
            "READMISSION_APPROVAL_MISSING",
            "person.readmission.provincial_approval_date",
            "R36",
            src,
            "Kết nạp lại cần văn bản đồng ý của ban thường vụ tỉnh ủy, thành ủy (hoặc tương đương) trước khi cấp có thẩm quyền xem xét. Hãy ghi văn bản đó.",
            "Re-admission needs the written agreement of the provincial standing committee (or equivalent) before the competent committee decides. Record it.",
        ),
        (Some(approved), Some(signed)) if approved > signed => e.push(
            "READMISSION_APPROVAL_AFTER_DECISION",
            Severity::Blocking,
            "person.readmission.provincial_approval_date",
            "R36",
            src,
            format!(
                "Văn bản đồng ý kết nạp lại ({}) sau quyết định kết nạp ({}). Hãy kiểm tra lại ngày.",
                approved.format_vn(),
                signed.format_vn()
            ),
            format!(
                "The re-admission approval ({}) is dated after the admission decision ({}). Check the dates.",
                approved.format_vn(),
                signed.format_vn()
            ),
        ),
        _ => {}
    }
}
