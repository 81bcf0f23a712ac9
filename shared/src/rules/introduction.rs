//! Who introduces the candidate (R11), the introducers' qualifications (R12), the
//! replacement introducer (R13) and the union introducing resolution (R14).

use super::{CoWorkingAnchor, Eval, Severity, TradeUnionPath};
use crate::model::{IntroducingOrgKind, IntroductionPath};
use crate::stage::Stage;

const CHARTER_ART4: &str = "Điều lệ Đảng Điều 4 k1";

pub(super) fn check(e: &mut Eval<'_>) {
    let c = e.case;
    let nothing_recorded = c.introducers.is_empty() && c.introducing_org.resolution_date.is_none();
    // An unrecorded path is inferred from the documents so the other checks still run.
    let path = c.introduction_path.or(match c.introducing_org.kind {
        Some(IntroducingOrgKind::YouthUnion) => Some(IntroductionPath::YouthUnion),
        Some(IntroducingOrgKind::TradeUnion) => Some(IntroductionPath::TradeUnion),
        _ if c.introducers.len() >= 2 => Some(IntroductionPath::TwoMembers),
        _ => None,
    });
    if c.introduction_path.is_none() && nothing_recorded {
        e.missing(
            Stage::BranchVote,
            "INTRODUCTION_MISSING",
            "introduction_path",
            "R11",
            CHARTER_ART4,
            "Chưa có người giới thiệu. Chọn cách giới thiệu (hai đảng viên chính thức, hoặc BCH Đoàn/Công đoàn cơ sở và một đảng viên) và ghi giấy giới thiệu.",
            "No introduction recorded. Choose the path (two official members, or the Youth Union / trade-union committee plus one member) and record the letters.",
        );
        return;
    }
    path_rules(e, path);
    introducers(e, path);
}

fn path_rules(e: &mut Eval<'_>, path: Option<IntroductionPath>) {
    let c = e.case;
    let p = &c.person;
    let youth = p
        .birth_date
        .map(|b| b.years_between(e.reference) <= e.settings().youth_age_max as i32);
    if c.source.unit_has_youth_union == Some(true)
        && youth == Some(true)
        && path.is_some_and(|p| p != IntroductionPath::YouthUnion)
    {
        e.push(
            "YOUTH_UNION_PATH_REQUIRED",
            Severity::Blocking,
            "introduction_path",
            "R11",
            CHARTER_ART4,
            "Người trong độ tuổi thanh niên ở nơi có tổ chức Đoàn phải là đoàn viên và do BCH Đoàn cơ sở cùng một đảng viên chính thức giới thiệu. Hãy đổi cách giới thiệu.".into(),
            "A candidate of youth age where a Youth Union organisation exists must be a member and be introduced by the grassroots Youth Union committee plus one official member. Change the introduction path.".into(),
        );
    }
    match path {
        None => {}
        Some(IntroductionPath::YouthUnion) => {
            if !p.youth_union_member {
                e.push(
                    "YOUTH_UNION_MEMBERSHIP_MISSING",
                    Severity::Blocking,
                    "person.youth_union_member",
                    "R11",
                    CHARTER_ART4,
                    "Giới thiệu qua Đoàn nhưng người vào Đảng chưa được ghi là đoàn viên. Hãy ghi đoàn viên và đơn vị Đoàn, hoặc đổi cách giới thiệu.".into(),
                    "Introduced through the Youth Union, but the candidate is not recorded as a member. Record membership and unit, or change the path.".into(),
                );
            }
            if youth == Some(false) {
                e.push(
                    "YOUTH_UNION_PATH_OVER_AGE",
                    Severity::Warning,
                    "introduction_path",
                    "R11",
                    CHARTER_ART4,
                    "Người vào Đảng đã quá độ tuổi thanh niên nhưng được giới thiệu qua Đoàn. Hãy kiểm tra cách giới thiệu.".into(),
                    "The candidate is past youth age but introduced through the Youth Union. Check the introduction path.".into(),
                );
            }
        }
        Some(IntroductionPath::TradeUnion) => {
            if !p.trade_union_member {
                e.push(
                    "TRADE_UNION_MEMBERSHIP_MISSING",
                    Severity::Blocking,
                    "person.trade_union_member",
                    "R11",
                    CHARTER_ART4,
                    "Giới thiệu qua Công đoàn nhưng người vào Đảng chưa được ghi là đoàn viên công đoàn. Hãy bổ sung hoặc đổi cách giới thiệu.".into(),
                    "Introduced through the trade union, but the candidate is not recorded as a union member. Record it or change the path.".into(),
                );
            }
            match e.settings().trade_union_path {
                TradeUnionPath::UnionCommitteePlusOne => e.push(
                    "TRADE_UNION_PATH_READING",
                    Severity::Warning,
                    "introduction_path",
                    "R11",
                    CHARTER_ART4,
                    "Giới thiệu qua BCH Công đoàn cơ sở và một đảng viên theo Điều lệ; có nơi hiểu là phải hai đảng viên chính thức. Hãy thống nhất với cấp ủy cấp trên.".into(),
                    "Introduced by the trade-union committee plus one member per the Charter; one provincial reading requires two official members. Agree the reading with the superior committee.".into(),
                ),
                TradeUnionPath::TwoMembers => e.push(
                    "TRADE_UNION_PATH_NOT_ACCEPTED",
                    Severity::Blocking,
                    "introduction_path",
                    "R11",
                    CHARTER_ART4,
                    "Theo cài đặt của tỉnh, đoàn viên công đoàn phải do hai đảng viên chính thức giới thiệu. Hãy đổi cách giới thiệu.".into(),
                    "Under this province's settings a trade-union member must be introduced by two official members. Change the path.".into(),
                ),
            }
        }
        Some(IntroductionPath::TwoMembers) => {}
        Some(IntroductionPath::Other) => e.push(
            "INTRODUCTION_PATH_UNRECOGNISED",
            Severity::Blocking,
            "introduction_path",
            "R11",
            CHARTER_ART4,
            "Cách giới thiệu không đúng danh mục. Hãy chọn lại.".into(),
            "The introduction path is not one of the listed values. Choose it again.".into(),
        ),
    }
    let union_kind = match path {
        Some(IntroductionPath::YouthUnion) => Some(IntroducingOrgKind::YouthUnion),
        Some(IntroductionPath::TradeUnion) => Some(IntroducingOrgKind::TradeUnion),
        _ => None,
    };
    if let Some(kind) = union_kind {
        let src =
            e.rs.pick("24-QĐ/TW §3.1", "232-QĐ/TW §3.1", "294-QĐ/TW §3.1");
        let org = &c.introducing_org;
        if org.resolution_date.is_none() {
            e.missing(
                Stage::BranchVote,
                "INTRODUCING_RESOLUTION_MISSING",
                "introducing_org.resolution_date",
                "R14",
                src,
                "Chưa có nghị quyết giới thiệu của BCH Đoàn/Công đoàn cơ sở (Mẫu 4-KNĐ/4A-KNĐ). Hãy ghi số và ngày.",
                "No introducing resolution of the Youth Union / trade-union committee (form 4-KNĐ/4A-KNĐ). Record its number and date.",
            );
        } else if org.kind.is_some_and(|k| k != kind) {
            e.push(
                "INTRODUCING_RESOLUTION_KIND_MISMATCH",
                Severity::Blocking,
                "introducing_org.kind",
                "R14",
                src,
                "Nghị quyết giới thiệu không cùng loại tổ chức với cách giới thiệu đã chọn (Đoàn hay Công đoàn). Hãy sửa lại.".into(),
                "The introducing resolution is from a different organisation than the chosen path (Youth Union vs trade union). Correct it.".into(),
            );
        }
    }
    let required = match path {
        Some(IntroductionPath::TwoMembers) => 2,
        Some(IntroductionPath::YouthUnion | IntroductionPath::TradeUnion) => 1,
        _ => return,
    };
    let count = c.introducers.len();
    if count < required {
        let (vi, en) = if required == 2 {
            (
                "Cần hai đảng viên chính thức giới thiệu; hiện chưa đủ. Hãy ghi người giới thiệu còn thiếu.",
                "Two official members must introduce the candidate; fewer are recorded. Record the missing introducer.",
            )
        } else {
            (
                "Cần một đảng viên chính thức cùng giới thiệu với tổ chức Đoàn/Công đoàn. Hãy ghi người giới thiệu.",
                "One official member must introduce together with the union committee. Record the introducer.",
            )
        };
        e.missing(
            Stage::BranchVote,
            "INTRODUCERS_TOO_FEW",
            "introducers",
            "R11",
            CHARTER_ART4,
            vi,
            en,
        );
    } else if count > required {
        e.push(
            "INTRODUCERS_TOO_MANY",
            Severity::Warning,
            "introducers",
            "R11",
            CHARTER_ART4,
            format!("Ghi {count} người giới thiệu, trong khi cách giới thiệu này cần {required}. Hãy bỏ người đã được thay thế."),
            format!("{count} introducers are recorded where this path needs {required}. Remove any who were replaced."),
        );
    }
}

fn introducers(e: &mut Eval<'_>, _path: Option<IntroductionPath>) {
    let c = e.case;
    let src = e.rs.pick(
        "Điều lệ Đảng Điều 4 k2; 24-QĐ/TW §3.2.1",
        "Điều lệ Đảng Điều 4 k2; 232-QĐ/TW §3.2.1",
        "Điều lệ Đảng Điều 4 k2; 294-QĐ/TW §3.2.1",
    );
    let src_r13 =
        e.rs.pick("24-QĐ/TW §3.2.2", "232-QĐ/TW §3.2.2", "294-QĐ/TW §3.2.2");
    for (i, intro) in c.introducers.iter().enumerate() {
        // Built lazily: most introducers produce no finding and need no name string.
        let who = || who_of(intro, i + 1);
        let id = intro.member_id.trim();
        if id.is_empty() && super::blank(&intro.name) {
            e.push(
                "INTRODUCER_UNIDENTIFIED",
                Severity::Blocking,
                "introducers[].member_id",
                "R12",
                src,
                format!("Người giới thiệu {} chưa có tên hoặc mã đảng viên. Hãy chọn từ danh sách đảng viên.", who()),
                format!("Introducer {} has no name or member id. Pick them from the member register.", who()),
            );
        }
        if !id.is_empty() && c.introducers[..i].iter().any(|o| o.member_id.trim() == id) {
            e.push(
                "INTRODUCER_DUPLICATE",
                Severity::Blocking,
                "introducers[].member_id",
                "R11",
                CHARTER_ART4,
                format!("Người giới thiệu {} được ghi hai lần. Hai người giới thiệu phải là hai đảng viên khác nhau.", who()),
                format!("Introducer {} is recorded twice. The introducers must be different members.", who()),
            );
        }
        if intro.letter_date.is_none() {
            e.missing(
                Stage::BranchVote,
                "INTRODUCER_LETTER_MISSING",
                "introducers[].letter_date",
                "R12",
                src,
                "Có người giới thiệu chưa ghi ngày giấy giới thiệu (Mẫu 3-KNĐ). Hãy ghi ngày.",
                "An introducer's letter (form 3-KNĐ) has no date. Record it.",
            );
        }
        // The date the introducer's status is judged at: the letter, else the meeting or today.
        let at = intro.letter_date.unwrap_or(e.reference);
        match intro.official_since {
            None => e.missing(
                Stage::BranchVote,
                "INTRODUCER_OFFICIAL_SINCE_MISSING",
                "introducers[].official_since",
                "R12",
                src,
                "Chưa ghi ngày người giới thiệu trở thành đảng viên chính thức. Người giới thiệu phải là đảng viên chính thức.",
                "The date the introducer became an official member is missing. Introducers must be official members.",
            ),
            Some(since) if since > at => e.push(
                "INTRODUCER_NOT_OFFICIAL",
                Severity::Blocking,
                "introducers[].official_since",
                "R12",
                src,
                format!(
                    "{} là đảng viên chính thức từ {} nhưng giới thiệu ngày {}; đảng viên dự bị không được giới thiệu. Hãy phân công đảng viên chính thức khác.",
                    who(),
                    since.format_vn(),
                    at.format_vn()
                ),
                format!(
                    "{} became official on {} but introduced on {}; probationary members cannot introduce. Assign another official member.",
                    who(),
                    since.format_vn(),
                    at.format_vn()
                ),
            ),
            Some(_) => {}
        }
        if intro.replacement {
            e.push(
                "INTRODUCER_REPLACEMENT",
                Severity::Info,
                "introducers[].replacement",
                "R13",
                src_r13,
                format!("{} là người giới thiệu thay thế do chi bộ phân công: không cần đủ 12 tháng cùng công tác.", who()),
                format!("{} is a replacement introducer assigned by the branch: the 12-month co-working test does not apply.", who()),
            );
            continue;
        }
        let co_at = match e.settings().co_working_anchor {
            CoWorkingAnchor::LetterDate => at,
            CoWorkingAnchor::BranchMeeting => e.reference,
        };
        match intro.co_working_since {
            None => e.missing(
                Stage::BranchVote,
                "INTRODUCER_CO_WORKING_MISSING",
                "introducers[].co_working_since",
                "R12",
                src,
                "Chưa ghi ngày người giới thiệu bắt đầu cùng công tác, học tập hoặc sinh hoạt nơi cư trú với người vào Đảng. Hãy ghi để kiểm tra đủ 12 tháng.",
                "The date the introducer started working, studying or living in the same unit as the candidate is missing. Record it to check the 12 months.",
            ),
            Some(since) => {
                let enough = since.add_months(12);
                if enough > co_at {
                    e.push(
                        "INTRODUCER_CO_WORKING_SHORT",
                        Severity::Blocking,
                        "introducers[].co_working_since",
                        "R12",
                        src,
                        format!(
                            "{} mới cùng công tác/sinh hoạt với người vào Đảng từ {}, chưa đủ 12 tháng tại ngày {} (đủ từ {}). Hãy chờ đủ thời gian hoặc phân công người khác.",
                            who(),
                            since.format_vn(),
                            co_at.format_vn(),
                            enough.format_vn()
                        ),
                        format!(
                            "{} has worked or lived with the candidate only since {}, under 12 months on {} (complete on {}). Wait or assign another introducer.",
                            who(),
                            since.format_vn(),
                            co_at.format_vn(),
                            enough.format_vn()
                        ),
                    );
                }
            }
        }
    }
}

fn who_of(intro: &crate::model::Introducer, n: usize) -> String {
    let name = intro.name.trim();
    if name.is_empty() {
        format!("#{n}")
    } else {
        name.to_owned()
    }
}
