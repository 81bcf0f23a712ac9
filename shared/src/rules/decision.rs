//! The admission decision and the ceremony: authority (R20), the 60-working-day
//! deadline with its one extension (R21), the 30-working-day ceremony deadline from
//! receipt of the decision (R22) and one ceremony per person after the decision (R23).

use super::{Eval, Severity};
use crate::stage::Stage;

pub(super) fn check(e: &mut Eval<'_>) {
    decision(e);
    ceremony(e);
}

fn decision(e: &mut Eval<'_>) {
    let d = &e.case.decision;
    let src_r21 =
        e.rs.pick("24-QĐ/TW §4.3.1", "232-QĐ/TW §4.3.1", "294-QĐ/TW §4.3.1");
    let src_r20 =
        e.rs.pick("24-QĐ/TW §4.3.2", "232-QĐ/TW §4.3.2", "294-QĐ/TW §4.3.2");
    let src_r22 =
        e.rs.pick("24-QĐ/TW §4.1", "232-QĐ/TW §4.1", "294-QĐ/TW §4.1");

    if let (Some(due), None) = (e.schedule.decision_due, d.date_signed)
        && e.today() > due
    {
        e.push(
            "DECISION_OVERDUE",
            Severity::Warning,
            "decision.date_signed",
            "R21",
            src_r21,
            format!(
                "Quá hạn 60 ngày làm việc (đến {}) kể từ nghị quyết chi bộ mà cấp ủy có thẩm quyền chưa ra quyết định. Hãy đôn đốc và báo cáo cấp ủy cấp trên.",
                due.format_vn()
            ),
            format!(
                "The competent committee has not decided within 60 working days of the branch resolution (due {}). Chase it and report to the superior committee.",
                due.format_vn()
            ),
        );
    }
    let Some(signed) = d.date_signed else {
        if d.date_received.is_some() {
            e.push(
                "DECISION_SIGNED_DATE_MISSING",
                Severity::Blocking,
                "decision.date_signed",
                "R20",
                src_r20,
                "Đã ghi ngày nhận quyết định nhưng chưa ghi ngày ký. Tuổi đảng tính từ ngày ghi trong quyết định; hãy ghi ngày ký.".into(),
                "The decision's receipt date is recorded but not its signing date, from which party age counts. Record the signing date.".into(),
            );
        }
        return;
    };
    if let Some(meeting) = e.meeting
        && signed < meeting
    {
        e.push(
            "DECISION_BEFORE_BRANCH_VOTE",
            Severity::Blocking,
            "decision.date_signed",
            "R21",
            src_r21,
            format!(
                "Quyết định kết nạp ({}) trước nghị quyết chi bộ ({}). Hãy kiểm tra lại ngày.",
                signed.format_vn(),
                meeting.format_vn()
            ),
            format!(
                "The admission decision ({}) predates the branch resolution ({}). Check the dates.",
                signed.format_vn(),
                meeting.format_vn()
            ),
        );
    }
    if let Some(resolution) = e.case.committee.resolution_date
        && signed < resolution
    {
        e.push(
            "DECISION_BEFORE_COMMITTEE",
            Severity::Blocking,
            "decision.date_signed",
            "R19",
            src_r20,
            format!(
                "Quyết định kết nạp ({}) trước nghị quyết đảng ủy cơ sở ({}). Hãy kiểm tra lại ngày.",
                signed.format_vn(),
                resolution.format_vn()
            ),
            format!(
                "The admission decision ({}) predates the grassroots committee resolution ({}). Check the dates.",
                signed.format_vn(),
                resolution.format_vn()
            ),
        );
    }
    if let Some(due) = e.schedule.decision_due
        && signed > due
    {
        e.push(
            "DECISION_LATE",
            Severity::Warning,
            "decision.date_signed",
            "R21",
            src_r21,
            format!(
                "Quyết định ký ngày {}, sau hạn {} (60 ngày làm việc{} kể từ nghị quyết chi bộ). Cấp ủy chậm phải kiểm điểm trách nhiệm.",
                signed.format_vn(),
                due.format_vn(),
                if d.extension_granted { " + 30 ngày gia hạn" } else { "" }
            ),
            format!(
                "The decision was signed on {}, after the due date {} (60 working days{} from the branch resolution). The late committee must account for it.",
                signed.format_vn(),
                due.format_vn(),
                if d.extension_granted { " + 30-day extension" } else { "" }
            ),
        );
    }
    if d.extension_granted {
        e.push(
            "DECISION_EXTENSION_USED",
            Severity::Info,
            "decision.extension_granted",
            "R21",
            src_r21,
            "Đã dùng lần gia hạn duy nhất (tối đa 30 ngày làm việc).".into(),
            "The single extension (at most 30 working days) was used.".into(),
        );
    }
    if super::blank(&d.number) {
        e.push(
            "DECISION_NUMBER_MISSING",
            Severity::Warning,
            "decision.number",
            "R20",
            src_r20,
            "Chưa ghi số quyết định kết nạp (Mẫu 9-KNĐ).".into(),
            "The admission decision number (form 9-KNĐ) is missing.".into(),
        );
    }
    if super::blank(&d.deciding_body) {
        e.push(
            "DECIDING_BODY_MISSING",
            Severity::Warning,
            "decision.deciding_body",
            "R20",
            src_r20,
            "Chưa ghi cấp ủy ra quyết định kết nạp. Hãy ghi để kiểm tra thẩm quyền.".into(),
            "The body that decided is not recorded. Record it so authority can be checked.".into(),
        );
    }
    match d.date_received {
        None => e.missing(
            Stage::Probation,
            "DECISION_RECEIVED_DATE_MISSING",
            "decision.date_received",
            "R22",
            src_r22,
            "Chưa ghi ngày chi bộ nhận quyết định kết nạp; hạn tổ chức lễ (30 ngày làm việc) tính từ ngày này. Hãy ghi ngày nhận.",
            "The date the branch received the decision is missing; the 30-working-day ceremony deadline runs from it. Record it.",
        ),
        Some(received) if received < signed => e.push(
            "DECISION_RECEIVED_BEFORE_SIGNED",
            Severity::Blocking,
            "decision.date_received",
            "R22",
            src_r22,
            format!(
                "Ngày nhận quyết định ({}) trước ngày ký ({}). Hãy kiểm tra lại ngày.",
                received.format_vn(),
                signed.format_vn()
            ),
            format!(
                "The decision was received ({}) before it was signed ({}). Check the dates.",
                received.format_vn(),
                signed.format_vn()
            ),
        ),
        Some(_) => {}
    }
}

fn ceremony(e: &mut Eval<'_>) {
    let src_r22 =
        e.rs.pick("24-QĐ/TW §4.1", "232-QĐ/TW §4.1", "294-QĐ/TW §4.1");
    let d = &e.case.decision;
    let held = e.case.probation.ceremony_date;
    if let (Some(due), None) = (e.schedule.ceremony_due, held)
        && e.today() > due
    {
        e.push(
            "CEREMONY_OVERDUE",
            Severity::Warning,
            "probation.ceremony_date",
            "R22",
            src_r22,
            format!(
                "Quá 30 ngày làm việc kể từ khi nhận quyết định (hạn {}) mà chưa tổ chức lễ kết nạp. Phải báo cáo và được cấp ủy cấp trên đồng ý.",
                due.format_vn()
            ),
            format!(
                "More than 30 working days since the decision was received (due {}) without a ceremony. Report to and obtain consent of the superior committee.",
                due.format_vn()
            ),
        );
    }
    let Some(held) = held else {
        return;
    };
    if d.date_signed.is_none() && d.date_received.is_none() {
        e.push(
            "DECISION_MISSING",
            Severity::Blocking,
            "decision.date_signed",
            "R23",
            "Điều lệ Đảng Điều 4 k3",
            "Đã ghi lễ kết nạp nhưng chưa ghi quyết định kết nạp. Chỉ tổ chức lễ sau khi có quyết định; hãy ghi quyết định.".into(),
            "A ceremony is recorded but no admission decision. The ceremony follows the decision; record the decision.".into(),
        );
        return;
    }
    let after = d.date_received.or(d.date_signed);
    if let Some(after) = after
        && held < after
    {
        e.push(
            "CEREMONY_BEFORE_DECISION",
            Severity::Blocking,
            "probation.ceremony_date",
            "R23",
            "Điều lệ Đảng Điều 4 k3",
            format!(
                "Lễ kết nạp ({}) trước khi có/nhận quyết định ({}). Hãy kiểm tra lại ngày.",
                held.format_vn(),
                after.format_vn()
            ),
            format!(
                "The ceremony ({}) predates the decision or its receipt ({}). Check the dates.",
                held.format_vn(),
                after.format_vn()
            ),
        );
    }
    if let Some(due) = e.schedule.ceremony_due
        && held > due
    {
        e.push(
            "CEREMONY_LATE",
            Severity::Warning,
            "probation.ceremony_date",
            "R22",
            src_r22,
            format!(
                "Lễ kết nạp ngày {} quá hạn {} (30 ngày làm việc từ khi nhận quyết định). Cần có báo cáo và sự đồng ý của cấp ủy cấp trên.",
                held.format_vn(),
                due.format_vn()
            ),
            format!(
                "The ceremony on {} was after the due date {} (30 working days from receipt). The superior committee's consent is required.",
                held.format_vn(),
                due.format_vn()
            ),
        );
    }
}
