//! Eligibility of the person: identity, age window (R2–R3), education (R4–R5), places
//! without a party organisation (R37) and the special reviews of R39–R40.

use super::{AgeReading, Eval, Severity};
use crate::date::Date;
use crate::model::{EducationException, EducationLevel};
use crate::stage::Stage;

pub(super) fn check(e: &mut Eval<'_>) {
    identity(e);
    age(e);
    education(e);
    no_party_organisation(e);
    special_reviews(e);
}

fn identity(e: &mut Eval<'_>) {
    let p = &e.case.person;
    if super::blank(&p.full_name) {
        e.missing(
            Stage::AwarenessClass,
            "NAME_MISSING",
            "person.full_name",
            "R1",
            "Điều lệ Đảng Điều 1 k2",
            "Chưa ghi họ và tên. Hãy nhập họ tên theo căn cước công dân.",
            "No full name recorded. Enter the name as on the citizen ID card.",
        );
    }
    if p.birth_date.is_none() {
        let src =
            e.rs.pick("24-QĐ/TW §1.1.1", "232-QĐ/TW §1.1.1", "294-QĐ/TW §1.1.1");
        e.missing(
            Stage::AwarenessClass,
            "BIRTH_DATE_MISSING",
            "person.birth_date",
            "R2",
            src,
            "Chưa ghi ngày sinh nên chưa kiểm tra được tuổi đời. Hãy nhập ngày sinh theo giấy khai sinh.",
            "No birth date recorded, so the age window cannot be checked. Enter the date of birth as on the birth certificate.",
        );
    }
}

/// The age in months under the month-granular reading: only years and months count.
pub(crate) fn months_by_calendar_month(birth: Date, on: Date) -> i32 {
    let (by, bm, _) = birth.ymd();
    let (y, m, _) = on.ymd();
    (y - by) * 12 + (m as i32 - bm as i32)
}

/// (old enough, not too old) at `on` under one reading of R2.
pub(crate) fn age_window(birth: Date, on: Date, reading: AgeReading) -> (bool, bool) {
    match reading {
        AgeReading::MonthGranular => {
            let months = months_by_calendar_month(birth, on);
            (months >= 216, months <= 720)
        }
        AgeReading::DayPrecise => (birth.add_months(216) <= on, on <= birth.add_months(720)),
    }
}

fn age(e: &mut Eval<'_>) {
    let Some(birth) = e.case.person.birth_date else {
        return;
    };
    let on = e.reference;
    let reading = e.settings().age_reading;
    let (young_ok, old_ok) = age_window(birth, on, reading);
    let src =
        e.rs.pick("24-QĐ/TW §1.1.1", "232-QĐ/TW §1.1.1", "294-QĐ/TW §1.1.1");
    if !young_ok {
        let from = match reading {
            AgeReading::MonthGranular => {
                let d = birth.add_months(216);
                Date::from_ymd(d.year(), d.month(), 1).unwrap_or(d)
            }
            AgeReading::DayPrecise => birth.add_months(216),
        };
        let (at_vi, at_en) = e.reference_label();
        let severity = e.eligibility_severity();
        e.push(
            "AGE_BELOW_18",
            severity,
            "person.birth_date",
            "R2",
            src,
            format!(
                "Chưa đủ 18 tuổi {at_vi} (sinh ngày {}). Chi bộ chỉ được xét kết nạp từ ngày {}.",
                birth.format_vn(),
                from.format_vn()
            ),
            format!(
                "Not yet 18 {at_en} (born {}). The branch may consider admission from {} onwards.",
                birth.format_vn(),
                from.format_vn()
            ),
        );
    }
    if !old_ok {
        over_60(e);
    }
    let other = match reading {
        AgeReading::MonthGranular => AgeReading::DayPrecise,
        AgeReading::DayPrecise => AgeReading::MonthGranular,
    };
    // The day-precise window lies inside the month-granular one, so the readings can
    // only disagree in the 18th- or 60th-birthday month; skip the work otherwise.
    let boundary_month = matches!(months_by_calendar_month(birth, on), 216 | 720);
    if boundary_month && age_window(birth, on, other) != (young_ok, old_ok) {
        let (at_vi, at_en) = e.reference_label();
        e.push(
            "AGE_READINGS_DISAGREE",
            Severity::Warning,
            "person.birth_date",
            "R2",
            src,
            format!(
                "Tuổi đời {at_vi} (sinh ngày {}) đạt hoặc không đạt tùy cách hiểu \"tính theo tháng\" (theo tháng hay theo ngày). Hãy xin ý kiến cấp ủy cấp trên trước khi xét.",
                birth.format_vn()
            ),
            format!(
                "The age {at_en} (born {}) passes under one reading of \"counted by month\" and fails under the other (month-granular vs day-precise). Ask the superior committee before the vote.",
                birth.format_vn()
            ),
        );
    }
}

/// R3: over 60 needs health, prestige, a base without party members or a special
/// requirement, and the written approval of the standing committee under the Centre
/// before the decision.
fn over_60(e: &mut Eval<'_>) {
    let src = e.rs.pick(
        "24-QĐ/TW §1.1.2; 01-HD/TW 2021 §1.1",
        "232-QĐ/TW §1.1.2; 01-HD/TW 2021 §1.1",
        "294-QĐ/TW §1.1.2; 06-HD/TW §1",
    );
    let approval = &e.case.approvals.over_60;
    let Some(approved) = approval.date else {
        let severity = if e.stage >= Stage::Committee {
            Severity::Blocking
        } else {
            Severity::Warning
        };
        let (at_vi, at_en) = e.reference_label();
        e.push(
            "AGE_OVER_60",
            severity,
            "approvals.over_60.date",
            "R3",
            src,
            format!(
                "Trên 60 tuổi {at_vi}. Chỉ xét khi có sức khỏe, uy tín, ở nơi chưa có đảng viên hoặc có yêu cầu đặc biệt, và phải có văn bản đồng ý của ban thường vụ cấp ủy trực thuộc Trung ương trước khi ra quyết định. Hãy ghi văn bản đồng ý."
            ),
            format!(
                "Over 60 {at_en}. Admission needs health, prestige, a base with no party members or a special requirement, and the written approval of the standing committee under the Centre before the decision. Record that approval."
            ),
        );
        return;
    };
    if let Some(signed) = e.case.decision.date_signed
        && approved > signed
    {
        e.push(
            "OVER_60_APPROVAL_AFTER_DECISION",
            Severity::Blocking,
            "approvals.over_60.date",
            "R3",
            src,
            format!(
                "Văn bản đồng ý kết nạp người trên 60 tuổi ({}) sau quyết định kết nạp ({}); văn bản phải có trước. Hãy kiểm tra lại ngày.",
                approved.format_vn(),
                signed.format_vn()
            ),
            format!(
                "The over-60 approval ({}) is dated after the admission decision ({}); it must come first. Check the dates.",
                approved.format_vn(),
                signed.format_vn()
            ),
        );
    }
    if super::blank(&approval.basis) {
        e.push(
            "OVER_60_BASIS_MISSING",
            Severity::Warning,
            "approvals.over_60.basis",
            "R3",
            src,
            "Chưa ghi căn cứ kết nạp người trên 60 tuổi (nơi chưa có đảng viên, hoặc yêu cầu đặc biệt).".into(),
            "The basis for admitting a person over 60 is not recorded (base without party members, or special requirement).".into(),
        );
    }
}

fn education(e: &mut Eval<'_>) {
    let p = &e.case.person;
    let src_r4 =
        e.rs.pick("24-QĐ/TW §1.2.1", "232-QĐ/TW §1.2.1", "294-QĐ/TW §1.2.1");
    let src_r5 =
        e.rs.pick("01-HD/TW 2021 §1.2", "01-HD/TW 2021 §1.2", "06-HD/TW §1");
    let Some(level) = p.education_level else {
        e.missing(
            Stage::BranchVote,
            "EDUCATION_MISSING",
            "person.education_level",
            "R4",
            src_r4,
            "Chưa ghi trình độ học vấn. Hãy nhập trình độ theo văn bằng.",
            "No education level recorded. Enter the level shown on the diploma.",
        );
        return;
    };
    if level == EducationLevel::Unknown {
        e.push(
            "EDUCATION_UNRECOGNISED",
            Severity::Warning,
            "person.education_level",
            "R4",
            src_r4,
            "Trình độ học vấn ghi không đúng danh mục. Hãy chọn lại từ danh sách.".into(),
            "The education level is not one of the listed values. Choose it again from the list."
                .into(),
        );
        return;
    }
    let exception = p.education_exception;
    let minimum = match exception {
        Some(EducationException::DifficultArea) => EducationLevel::Primary,
        Some(EducationException::PrestigiousPerson) => EducationLevel::Literate,
        _ => EducationLevel::LowerSecondary,
    };
    if level >= EducationLevel::LowerSecondary {
        return;
    }
    if level < minimum {
        let (code, vi, en, src) = match exception {
            Some(EducationException::DifficultArea) => (
                "EDUCATION_BELOW_PRIMARY",
                "Trường hợp đặc biệt (vùng khó khăn, biên giới, hải đảo, ngư dân) phải ít nhất hoàn thành chương trình tiểu học. Hãy bổ sung văn bằng hoặc dừng xét.",
                "The special-area exception still needs primary school completed. Add the certificate or stop the case.",
                src_r5,
            ),
            Some(EducationException::PrestigiousPerson) => (
                "EDUCATION_NOT_LITERATE",
                "Già làng, trưởng bản, người có uy tín phải ít nhất biết đọc, biết viết chữ quốc ngữ. Hãy xác nhận việc biết chữ.",
                "A village elder, head or prestigious person must at least read and write the national script. Confirm literacy.",
                src_r5,
            ),
            _ if level == EducationLevel::LowerSecondaryEquivalent => {
                e.push(
                    "EDUCATION_EQUIVALENT_REVIEW",
                    Severity::Warning,
                    "person.education_level",
                    "R4",
                    src_r4,
                    "Bằng \"tương đương\" trung học cơ sở không còn được chấp nhận mặc nhiên từ 30/07/2021. Hãy đề nghị cấp ủy xem xét, hoặc ghi trường hợp đặc biệt nếu có.".into(),
                    "A certificate \"equivalent\" to lower secondary is no longer accepted automatically since 30/07/2021. Ask the committee to review it, or record a special-case exception if one applies.".into(),
                );
                return;
            }
            _ => (
                "EDUCATION_BELOW_LOWER_SECONDARY",
                "Chưa có bằng tốt nghiệp trung học cơ sở. Cần bằng THCS trở lên, hoặc ghi trường hợp đặc biệt (vùng khó khăn; già làng, người có uy tín) nếu thuộc diện đó.",
                "No lower-secondary diploma. Lower secondary or higher is required, unless a special case applies (difficult area; village elder or prestigious person): record it if so.",
                src_r4,
            ),
        };
        e.push(
            code,
            Severity::Blocking,
            "person.education_level",
            if code == "EDUCATION_BELOW_LOWER_SECONDARY" {
                "R4"
            } else {
                "R5"
            },
            src,
            vi.into(),
            en.into(),
        );
        return;
    }
    e.push(
        "EDUCATION_EXCEPTION_APPLIED",
        Severity::Info,
        "person.education_exception",
        "R5",
        src_r5,
        "Áp dụng trường hợp đặc biệt về học vấn; cấp ủy cần kiểm tra nơi cư trú thuộc danh mục vùng đặc biệt.".into(),
        "The special-case education minimum is applied; the committee should check the place is on the list of special areas.".into(),
    );
    if exception == Some(EducationException::PrestigiousPerson) && level < EducationLevel::Primary {
        literacy_approval(e, src_r5);
    }
}

/// R5b: literacy-only admission needs written approval before the decision.
fn literacy_approval(e: &mut Eval<'_>, src: &'static str) {
    let approval = &e.case.approvals.literacy;
    match (approval.date, e.case.decision.date_signed) {
        (None, _) => {
            let severity = if e.stage >= Stage::Committee {
                Severity::Blocking
            } else {
                Severity::Warning
            };
            e.push(
                "LITERACY_APPROVAL_MISSING",
                severity,
                "approvals.literacy.date",
                "R5",
                src,
                "Kết nạp người chỉ biết đọc, biết viết cần văn bản đồng ý của ban thường vụ cấp ủy trực thuộc Trung ương trước khi ra quyết định. Hãy ghi văn bản đó.".into(),
                "Admitting a person who is only literate needs the written approval of the standing committee under the Centre before the decision. Record it.".into(),
            );
        }
        (Some(approved), Some(signed)) if approved > signed => {
            e.push(
                "LITERACY_APPROVAL_AFTER_DECISION",
                Severity::Blocking,
                "approvals.literacy.date",
                "R5",
                src,
                format!(
                    "Văn bản đồng ý ({}) sau quyết định kết nạp ({}); văn bản phải có trước. Hãy kiểm tra lại ngày.",
                    approved.format_vn(),
                    signed.format_vn()
                ),
                format!(
                    "The literacy approval ({}) is dated after the admission decision ({}); it must come first. Check the dates.",
                    approved.format_vn(),
                    signed.format_vn()
                ),
            );
        }
        _ => {}
    }
}

/// R37: where the base has no party organisation, the superior committee assigns a
/// branch whose members help the candidate and which carries out the proposal.
fn no_party_organisation(e: &mut Eval<'_>) {
    if !e.case.source.no_party_organisation || !super::blank(&e.case.source.helping_branch) {
        return;
    }
    let src =
        e.rs.pick("24-QĐ/TW §3.4", "232-QĐ/TW §3.4", "294-QĐ/TW §3.4");
    e.missing(
        Stage::BranchVote,
        "HELPING_BRANCH_MISSING",
        "source.helping_branch",
        "R37",
        src,
        "Nơi người vào Đảng chưa có đảng viên/chi bộ nhưng chưa ghi chi bộ được cấp ủy cấp trên phân công giúp đỡ. Hãy ghi chi bộ đó.",
        "The candidate's base has no party organisation, but the branch assigned by the superior committee to help is not recorded. Record that branch.",
    );
}

/// R39, R40: cases that follow extra guidance the crate does not encode.
fn special_reviews(e: &mut Eval<'_>) {
    let p = &e.case.person;
    let religion = crate::text::fold(&p.religion);
    if !religion.is_empty() && religion != "khong" && religion != "none" {
        e.push(
            "RELIGION_REVIEW",
            Severity::Info,
            "person.religion",
            "R39",
            "06-QĐ/TW (28/08/2018)",
            "Người theo tôn giáo: xét theo Quy định 06-QĐ/TW.".into(),
            "Religious follower: consider under Regulation 06-QĐ/TW.".into(),
        );
    }
    if p.private_business_owner {
        e.push(
            "PRIVATE_BUSINESS_OWNER_REVIEW",
            Severity::Info,
            "person.private_business_owner",
            "R40",
            "08-HD/BTCTW (27/09/2021)",
            "Chủ doanh nghiệp tư nhân: áp dụng thêm điều kiện của Hướng dẫn 08-HD/BTCTW.".into(),
            "Private business owner: the extra conditions of Guidance 08-HD/BTCTW apply.".into(),
        );
    }
}
