//! The party-awareness class certificate and its 60-month validity (R7, R33).

use super::{Eval, Severity};
use crate::stage::Stage;

/// How far ahead an approaching expiry is announced, in calendar days.
const EXPIRY_NOTICE_DAYS: i32 = 90;

pub(super) fn check(e: &mut Eval<'_>) {
    let src = e.rs.pick(
        "01-HD/TW 2021 §3.1, §5.4",
        "01-HD/TW 2021 §3.1, §5.4",
        "06-HD/TW §3, §5.4",
    );
    let class = &e.case.awareness_class;
    let Some(issued) = class.certificate_date else {
        e.missing(
            Stage::BranchVote,
            "CERTIFICATE_MISSING",
            "awareness_class.certificate_date",
            "R7",
            src,
            "Chưa ghi giấy chứng nhận học lớp bồi dưỡng nhận thức về Đảng. Hãy ghi số, nơi cấp và ngày cấp.",
            "No awareness-class certificate recorded. Enter its number, issuer and date.",
        );
        return;
    };
    if super::blank(&class.issuer) || super::blank(&class.certificate_number) {
        e.push(
            "CERTIFICATE_DETAILS_MISSING",
            Severity::Warning,
            "awareness_class.issuer",
            "R7",
            src,
            "Giấy chứng nhận chưa ghi đủ số và nơi cấp. Hãy bổ sung.".into(),
            "The certificate's number or issuer is missing. Add them.".into(),
        );
    }
    let Some(valid_until) = e.schedule.certificate_valid_until else {
        return;
    };
    if let Some(meeting) = e.meeting {
        if meeting < issued {
            e.push(
                "CERTIFICATE_AFTER_BRANCH_VOTE",
                Severity::Blocking,
                "awareness_class.certificate_date",
                "R7",
                src,
                format!(
                    "Giấy chứng nhận cấp ngày {} sau buổi họp chi bộ xét kết nạp ({}). Phải học lớp trước khi chi bộ xét. Hãy kiểm tra lại ngày.",
                    issued.format_vn(),
                    meeting.format_vn()
                ),
                format!(
                    "The certificate ({}) is dated after the branch meeting ({}). The class must come before the vote. Check the dates.",
                    issued.format_vn(),
                    meeting.format_vn()
                ),
            );
        } else if meeting > valid_until {
            e.push(
                "CERTIFICATE_EXPIRED",
                Severity::Blocking,
                "awareness_class.certificate_date",
                "R33",
                src,
                format!(
                    "Giấy chứng nhận cấp ngày {} hết hạn 60 tháng vào {}, trước buổi họp chi bộ ngày {}. Phải học lại lớp nhận thức về Đảng và xét lại.",
                    issued.format_vn(),
                    valid_until.format_vn(),
                    meeting.format_vn()
                ),
                format!(
                    "The certificate of {} expired after 60 months on {}, before the branch meeting of {}. The candidate must attend the class again and the branch vote again.",
                    issued.format_vn(),
                    valid_until.format_vn(),
                    meeting.format_vn()
                ),
            );
        }
        return;
    }
    let today = e.today();
    if today > valid_until {
        e.push(
            "CERTIFICATE_EXPIRED",
            Severity::Blocking,
            "awareness_class.certificate_date",
            "R33",
            src,
            format!(
                "Giấy chứng nhận cấp ngày {} đã hết hạn 60 tháng vào {}. Phải cử đi học lại lớp nhận thức về Đảng trước khi chi bộ xét.",
                issued.format_vn(),
                valid_until.format_vn()
            ),
            format!(
                "The certificate of {} expired after 60 months on {}. Send the candidate to the class again before the branch vote.",
                issued.format_vn(),
                valid_until.format_vn()
            ),
        );
    } else if today.days_until(valid_until) <= EXPIRY_NOTICE_DAYS {
        e.push(
            "CERTIFICATE_EXPIRES_SOON",
            Severity::Warning,
            "awareness_class.certificate_date",
            "R33",
            src,
            format!(
                "Giấy chứng nhận hết hạn ngày {}. Chi bộ cần xét trước ngày đó, nếu không phải học lại.",
                valid_until.format_vn()
            ),
            format!(
                "The certificate expires on {}. The branch must vote before then or the class must be repeated.",
                valid_until.format_vn()
            ),
        );
    }
}
