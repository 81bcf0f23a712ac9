//! The demo district, modelled on the published figures of the Ngô Quyền district party
//! organisation (Hải Phòng): 86 grassroots organisations (36 party committees with their
//! branches, 50 branches) and 11,971 members in four sectors; 195 admissions in 2020, 200
//! in 2021 and 51 in January–May 2022; a target of 1,000 for the 2020–2025 term; 25 of the
//! 86 organisations admitted nobody in 2020–2021. After May 2022 the history goes on up to
//! the date the demo is created (an argument): about 200 admissions a year, terms from
//! congress to congress (illustrative dates), yearly targets with sub-targets, quarterly
//! awareness classes. Current candidates sit at every stage; a few files were returned by
//! the reviewer and a few carry open conflicts made by two devices of one cadre.
//!
//! Generation is deterministic (a fixed-seed generator), so reports over it are exact.

use automerge::ActorId;
use shared::date::Date;
use shared::model::*;
use shared::rand::XorShift;
use shared::sync::DocId;

use crate::admin::{
    self, CaseFileRecord, ClassImport, Member, Org, OrgYear, ReferenceImport, SubTargetImport,
    TermImport, TermTarget, UserImport,
};
use crate::casedocs::RulesConfig;
use crate::db::store::Store;
use crate::db::{accounts, orgs};
use crate::error::AppResult;

/// Password of every demo account, printed at first start.
pub const DEMO_PASSWORD: &str = "demo2026";
pub const ROOT_ORG: &str = "ngo-quyen";

/// Where the demo's generator starts: a fixed state, so the demo is the same on every
/// machine (a test pins what it generates).
const SEED_STATE: u64 = 0x5eed_2026_0000_0001;

/// One of `items`, which are never empty here: the demo's name lists and branches.
fn pick<'a, T>(rng: &mut XorShift, items: &'a [T]) -> &'a T {
    &items[rng.below(items.len() as u64) as usize]
}

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
    "Dương", "Lý", "Đào", "Đinh", "Lương", "Mai", "Trịnh", "Tô",
];
const MIDDLE_M: &[&str] = &[
    "Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Xuân",
];
const MIDDLE_F: &[&str] = &[
    "Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Phương", "Kim",
];
const GIVEN_M: &[&str] = &[
    "An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hùng", "Khánh", "Long", "Nam",
    "Phong", "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Vinh", "Đông",
];
const GIVEN_F: &[&str] = &[
    "Anh", "Châu", "Dung", "Hà", "Hạnh", "Hằng", "Hoa", "Huyền", "Lan", "Linh", "Mai", "Ngọc",
    "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Trang", "Uyên", "Yến",
];
const WARDS: &[&str] = &[
    "Máy Chai",
    "Máy Tơ",
    "Vạn Mỹ",
    "Cầu Tre",
    "Lạc Viên",
    "Gia Viên",
    "Đông Khê",
    "Cầu Đất",
    "Lê Lợi",
    "Đằng Giang",
    "Lạch Tray",
    "Đổng Quốc Bình",
];
const ENTERPRISES: &[&str] = &[
    "Công ty CP Nhựa Thiếu niên Tiền Phong",
    "Công ty CP Tập đoàn VLC",
    "Công ty CP Container Việt Nam",
    "Công ty CP Du lịch Hải Đăng",
    "Công ty CP Bia Hà Nội - Hải Phòng",
];

fn name(rng: &mut XorShift, female: bool) -> String {
    let (mid, given) = if female {
        (MIDDLE_F, GIVEN_F)
    } else {
        (MIDDLE_M, GIVEN_M)
    };
    format!(
        "{} {} {}",
        pick(rng, FAMILY),
        pick(rng, mid),
        pick(rng, given)
    )
}

fn any_name(rng: &mut XorShift) -> String {
    let female = rng.chance(50);
    name(rng, female)
}

fn d(y: i32, m: u32, day: u32) -> Date {
    Date::from_ymd(y, m, day).unwrap_or_else(|_| Date::from_days_since_epoch(0))
}

/// The demo's quarterly awareness class: opens on the 10th of the quarter's second
/// month, for five days.
fn class_dates(year: i32, quarter: u32) -> (Date, Date) {
    let a = d(year, quarter * 3 + 2, 10);
    (a, a.add_days(4))
}

fn class_id(year: i32, quarter: u32) -> String {
    format!("lop-nq-{year}-{}", quarter + 1)
}

/// The demo class that ended last on or before `day` (none before 2018).
fn class_before(day: Date) -> Option<(String, Date)> {
    let mut best = None;
    for year in (day.year() - 1)..=day.year() {
        for q in 0..4 {
            let (_, b) = class_dates(year, q);
            if b <= day && year >= 2018 {
                best = Some((class_id(year, q), b));
            }
        }
    }
    best
}

/// One grassroots organisation of the demo, with where its candidates are filed.
struct Grassroots {
    id: String,
    members: i64,
    /// Branches whose candidates belong to this organisation (itself for a branch).
    branches: Vec<String>,
}

/// Sector code, label, number of party committees, number of branches, members.
const SECTORS: &[(&str, &str, usize, usize, i64)] = &[
    ("phuong", "Khối phường", 12, 0, 9281),
    (
        "hcsn",
        "Khối lực lượng vũ trang, cơ quan hành chính, sự nghiệp công lập",
        6,
        8,
        952,
    ),
    (
        "dnnn",
        "Khối doanh nghiệp Nhà nước (từ 50% vốn trở lên)",
        6,
        12,
        414,
    ),
    (
        "dnk",
        "Khối doanh nghiệp ngoài Nhà nước, HTX, sự nghiệp ngoài công lập",
        12,
        30,
        1324,
    ),
];

/// Builds the reference data: the organisation tree, members, targets and accounts.
fn reference(rng: &mut XorShift, today: Date) -> (ReferenceImport, Vec<Grassroots>) {
    let mut r = ReferenceImport::default();
    r.orgs.push(Org {
        id: ROOT_ORG.into(),
        parent_id: None,
        name: "Đảng bộ quận Ngô Quyền".into(),
        kind: "district".into(),
        sector: String::new(),
        grassroots: false,
    });
    let mut grassroots = Vec::new();
    let mut enterprise = 0;
    for (sector, _label, committees, branches, members) in SECTORS {
        let n = committees + branches;
        // Spread the sector's members over its organisations, wards being the largest.
        let mut shares: Vec<i64> = (0..n).map(|_| 10 + rng.below(20) as i64).collect();
        let total: i64 = shares.iter().sum();
        let mut assigned = 0;
        for s in shares.iter_mut() {
            *s = *s * members / total;
            assigned += *s;
        }
        shares[0] += members - assigned;
        for i in 0..n {
            let is_committee = i < *committees;
            let id = format!("{sector}-{:02}", i + 1);
            let label = match (*sector, is_committee) {
                ("phuong", _) => format!("Đảng bộ phường {}", WARDS[i]),
                ("dnk", true) if enterprise < ENTERPRISES.len() => {
                    enterprise += 1;
                    format!("Đảng bộ {}", ENTERPRISES[enterprise - 1])
                }
                ("hcsn", true) => format!("Đảng bộ cơ quan số {}", i + 1),
                ("hcsn", false) => format!("Chi bộ đơn vị sự nghiệp số {}", i + 1),
                ("dnnn", true) => format!("Đảng bộ Công ty Nhà nước số {}", i + 1),
                ("dnnn", false) => format!("Chi bộ Công ty Nhà nước số {}", i + 1),
                (_, true) => format!("Đảng bộ Công ty số {}", i + 1),
                (_, false) => format!("Chi bộ Công ty số {}", i + 1),
            };
            r.orgs.push(Org {
                id: id.clone(),
                parent_id: Some(ROOT_ORG.into()),
                name: label,
                kind: if is_committee { "committee" } else { "branch" }.into(),
                sector: (*sector).into(),
                grassroots: true,
            });
            let mut branches = Vec::new();
            if is_committee {
                let subs = if *sector == "phuong" { 6 } else { 3 };
                for b in 0..subs {
                    let bid = format!("{id}-cb{}", b + 1);
                    let bname = if *sector == "phuong" {
                        format!("Chi bộ tổ dân phố số {}", b + 1)
                    } else {
                        format!("Chi bộ phòng ban số {}", b + 1)
                    };
                    r.orgs.push(Org {
                        id: bid.clone(),
                        parent_id: Some(id.clone()),
                        name: bname,
                        kind: "sub_branch".into(),
                        sector: (*sector).into(),
                        grassroots: false,
                    });
                    branches.push(bid);
                }
            } else {
                branches.push(id.clone());
            }
            grassroots.push(Grassroots {
                id,
                members: shares[i],
                branches,
            });
        }
    }
    // Members at the start of each year: 2022 holds the published 11,971; earlier years
    // are smaller by the admissions in between, later years grow slowly.
    let last_year = today.year().max(2022);
    for g in &grassroots {
        for year in 2020..=last_year {
            let delta = match year {
                2020 => -(g.members / 30),
                2021 => -(g.members / 60),
                2022 => 0,
                y => g.members * (y as i64 - 2022) / 100,
            };
            r.org_years.push(OrgYear {
                org_id: g.id.clone(),
                year,
                members_start: g.members + delta,
                target: 0,
                decision: String::new(),
                effective: None,
            });
        }
        // The members register: every member by name, filed in the organisation's branches.
        for k in 0..g.members {
            let female = rng.chance(45);
            let since = d(
                1975 + rng.below(47) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            );
            r.members.push(Member {
                id: format!("{}-m{:04}", g.id, k + 1),
                org_id: g.branches[(k as usize) % g.branches.len()].clone(),
                full_name: name(rng, female),
                official_since: Some(since.to_string()),
                status: "official".into(),
            });
        }
    }
    // The district's yearly target (200 on average), its terms from congress to congress
    // and their targets. The congress dates are illustrative.
    for year in 2020..=last_year {
        r.org_years.push(OrgYear {
            org_id: ROOT_ORG.into(),
            year,
            members_start: 0,
            target: 200,
            decision: format!("Nghị quyết Ban Chấp hành Đảng bộ quận năm {year}"),
            effective: Some(d(year, 1, 1).to_string()),
        });
        // Part of each year's target is reserved for the enterprises (non-state sector).
        r.sub_targets.push(SubTargetImport {
            org_id: ROOT_ORG.into(),
            period: year.to_string(),
            group: "sector:dnk".into(),
            value: 30,
            decision: format!("Nghị quyết Ban Chấp hành Đảng bộ quận năm {year}"),
            effective: Some(d(year, 1, 1).to_string()),
        });
        r.sub_targets.push(SubTargetImport {
            org_id: ROOT_ORG.into(),
            period: year.to_string(),
            group: "youth_union".into(),
            value: 120,
            decision: format!("Nghị quyết Ban Chấp hành Đảng bộ quận năm {year}"),
            effective: Some(d(year, 1, 1).to_string()),
        });
    }
    let mut start = d(2015, 6, 18);
    let mut first = 2015;
    while start <= today {
        let end = d(first + 5, 6, 18);
        let name = format!("{first}-{}", first + 5);
        r.terms.push(TermImport {
            org_id: ROOT_ORG.into(),
            name: name.clone(),
            start_date: start.to_string(),
            end_date: end.to_string(),
            decision: format!(
                "Nghị quyết Đại hội Đảng bộ quận Ngô Quyền nhiệm kỳ {first}–{}",
                first + 5
            ),
        });
        r.term_targets.push(TermTarget {
            org_id: ROOT_ORG.into(),
            term: name,
            target: 1000,
            decision: format!(
                "Nghị quyết Đại hội Đảng bộ quận Ngô Quyền nhiệm kỳ {first}–{}",
                first + 5
            ),
            effective: Some(start.to_string()),
        });
        start = end;
        first += 5;
    }
    // Awareness classes of the district's political centre, one a quarter.
    for year in 2018..=last_year {
        for q in 0..4u32 {
            let (a, b) = class_dates(year, q);
            if a > today {
                continue;
            }
            r.classes.push(ClassImport {
                id: class_id(year, q),
                org_id: ROOT_ORG.into(),
                name: format!("Lớp bồi dưỡng nhận thức về Đảng khóa {}/{year}", q + 1),
                organiser: "Trung tâm Chính trị quận Ngô Quyền".into(),
                start_date: a.to_string(),
                end_date: b.to_string(),
                place: "Trung tâm Chính trị quận Ngô Quyền".into(),
                note: String::new(),
            });
        }
    }
    let user = |u: &str, n: &str, role: &str, scope: &str| UserImport {
        username: u.into(),
        display_name: n.into(),
        password: DEMO_PASSWORD.into(),
        role: role.into(),
        scope_org: scope.into(),
    };
    r.users = vec![
        user("admin", "Quản trị hệ thống", "admin", ROOT_ORG),
        user("bantochuc", "Nguyễn Thị Bích Ngọc", "reviewer", ROOT_ORG),
        user("canbo.lachtray", "Trần Văn Hùng", "cadre", "phuong-11"),
        user("canbo.caute", "Lê Thị Hoa", "cadre", "phuong-04"),
    ];
    (r, grassroots)
}

/// A complete, rule-abiding admission whose decision was signed on `decision`.
fn admitted_case(rng: &mut XorShift, org: &str, decision: Date, today: Date) -> CaseFile {
    let female = rng.chance(46);
    let mut c = CaseFile {
        org_id: org.into(),
        ..Default::default()
    };
    let vote = decision.add_days(-(20 + rng.below(25) as i32));
    let age_years = if rng.chance(64) {
        19 + rng.below(11)
    } else {
        31 + rng.below(20)
    } as i32;
    c.person.full_name = name(rng, female);
    c.person.sex = Some(if female { Sex::Female } else { Sex::Male });
    c.person.birth_date = Some(vote.add_months(-(age_years * 12 + rng.below(11) as i32)));
    c.person.ethnicity = if rng.chance(3) {
        "Tày".into()
    } else {
        "Kinh".into()
    };
    c.person.religion = "Không".into();
    c.person.education_level = Some(*pick(
        rng,
        &[
            EducationLevel::University,
            EducationLevel::University,
            EducationLevel::University,
            EducationLevel::College,
            EducationLevel::UpperSecondary,
            EducationLevel::Postgraduate,
        ],
    ));
    c.person.youth_union_member = age_years <= 30;
    c.person.trade_union_member = age_years > 30;
    c.person.residence_unit = "Ngô Quyền, Hải Phòng".into();
    fill_file(rng, &mut c, vote);
    let v = c.branch_votes.first().cloned().unwrap_or_default();
    c.committee = CommitteeStep {
        authorised: false,
        members_total: Some(9),
        votes_for: Some(8),
        resolution_number: format!("{}-NQ/ĐU", 10 + rng.below(90)),
        resolution_date: Some(vote.add_days(7)),
    };
    let _ = v;
    c.decision = Decision {
        number: format!("{}-QĐ/QU", 100 + rng.below(900)),
        date_signed: Some(decision),
        date_received: Some(decision.add_days(3)),
        deciding_body: "Ban Thường vụ Quận ủy Ngô Quyền".into(),
        extension_granted: false,
    };
    let ceremony = decision.add_days(10 + rng.below(14) as i32);
    c.probation = Probation {
        ceremony_date: Some(ceremony),
        helper_member_id: String::new(),
        helper_name: name(rng, !female),
        course_certificate_number: format!("ĐVM-{}", 1000 + rng.below(9000)),
        course_certificate_date: Some(ceremony.add_months(4)),
    };
    let end = ceremony.add_months(12);
    if end < today {
        let rvote = end.add_days(10);
        c.recognition = Recognition {
            self_assessment_date: Some(end.add_days(2)),
            helper_assessment_date: Some(end.add_days(3)),
            opinions_summary_date: Some(end.add_days(5)),
            votes: vec![Vote {
                meeting_date: Some(rvote),
                attempt: Some(1),
                ..v.clone()
            }],
            committee_resolution_number: format!("{}-NQ/ĐU", 10 + rng.below(90)),
            committee_resolution_date: Some(rvote.add_days(5)),
            decision_number: format!("{}-QĐ/QU", 100 + rng.below(900)),
            decision_date: Some(rvote.add_days(20)),
        };
        c.official_date = Some(end);
        c.card = PartyCard {
            number: format!("{:08}", rng.below(100_000_000)),
            handed_over_date: Some(rvote.add_days(60)),
        };
    }
    c
}

/// An occupation fitting the candidate's age group and organisation's sector.
fn occupation(rng: &mut XorShift, young: bool, org: &str) -> Occupation {
    if org.starts_with("dn") {
        return *pick(
            rng,
            &[
                Occupation::Worker,
                Occupation::Worker,
                Occupation::EnterpriseEmployee,
                Occupation::EnterpriseOwner,
            ],
        );
    }
    if org.starts_with("hcsn") {
        return *pick(
            rng,
            &[
                Occupation::CivilServant,
                Occupation::Teacher,
                Occupation::HealthWorker,
                Occupation::ArmedForces,
            ],
        );
    }
    if young {
        *pick(
            rng,
            &[
                Occupation::HighSchoolStudent,
                Occupation::Student,
                Occupation::SelfEmployed,
                Occupation::Worker,
            ],
        )
    } else {
        *pick(
            rng,
            &[
                Occupation::SelfEmployed,
                Occupation::Worker,
                Occupation::Other,
                Occupation::EnterpriseOwner,
            ],
        )
    }
}

/// The file-preparation facts of a candidate whose branch meets on `vote`.
fn fill_file(rng: &mut XorShift, c: &mut CaseFile, vote: Date) {
    let youth = c.person.youth_union_member;
    c.source = Source {
        kind: Some(if youth {
            SourceKind::YouthUnion
        } else if rng.chance(80) {
            SourceKind::TradeUnion
        } else {
            SourceKind::OtherAssociation
        }),
        origin_org: if youth {
            "Đoàn TNCS Hồ Chí Minh"
        } else {
            "Công đoàn cơ sở"
        }
        .into(),
        helper_member_id: String::new(),
        helper_name: any_name(rng),
        outstanding_list_date: Some(vote.add_months(-10)),
        unit_has_youth_union: Some(true),
        no_party_organisation: false,
        helping_branch: String::new(),
    };
    let (class, certified) = match class_before(vote.add_months(-6)) {
        Some((id, end)) => (id, end),
        None => (String::new(), vote.add_months(-8)),
    };
    c.awareness_class = AwarenessClass {
        class_id: class,
        class_name: "Lớp bồi dưỡng nhận thức về Đảng".into(),
        certificate_number: format!("NT-{}", 1000 + rng.below(9000)),
        issuer: "Trung tâm Chính trị quận Ngô Quyền".into(),
        certificate_date: Some(certified),
    };
    c.person.occupation = Some(occupation(rng, c.person.youth_union_member, &c.org_id));
    c.application.letter_date = Some(vote.add_months(-6));
    c.biography = Biography {
        declared_date: Some(vote.add_months(-6).add_days(5)),
        verifications: vec![Verification {
            target: name(rng, false),
            relation: "cha".into(),
            sent_date: Some(vote.add_months(-5)),
            reply_date: Some(vote.add_months(-4)),
            result: "Đạt".into(),
        }],
        chi_uy_comment_date: Some(vote.add_months(-3)),
        grassroots_certification_date: Some(vote.add_months(-3).add_days(5)),
        political_standard_cleared_by: "Đảng ủy cơ sở".into(),
        political_standard_cleared_date: Some(vote.add_months(-3).add_days(5)),
        supplement_date: None,
    };
    let letter = vote.add_months(-2);
    c.introducers = vec![Introducer {
        member_id: String::new(),
        name: any_name(rng),
        official_since: Some(letter.add_months(-60)),
        co_working_since: Some(letter.add_months(-24)),
        replacement: false,
        letter_date: Some(letter),
    }];
    if youth {
        c.introduction_path = Some(IntroductionPath::YouthUnion);
        c.introducing_org = IntroducingOrg {
            kind: Some(IntroducingOrgKind::YouthUnion),
            resolution_number: format!("{}-NQ/ĐTN", 10 + rng.below(90)),
            resolution_date: Some(letter),
        };
    } else {
        c.introduction_path = Some(IntroductionPath::TwoMembers);
        c.introducers.push(Introducer {
            member_id: String::new(),
            name: any_name(rng),
            official_since: Some(letter.add_months(-100)),
            co_working_since: Some(letter.add_months(-36)),
            replacement: false,
            letter_date: Some(letter),
        });
    }
    c.opinions = Opinions {
        residence_date: Some(vote.add_months(-1)),
        workplace_date: Some(vote.add_months(-1)),
        summary_date: Some(vote.add_days(-20)),
    };
    let total = 15 + rng.below(20) as u32;
    c.branch_votes = vec![Vote {
        meeting_date: Some(vote),
        attempt: Some(1),
        official_members_total: Some(total),
        excluded_temporary: Some(0),
        excluded_exempt_absent: Some(0),
        present: Some(total - 1),
        votes_for: Some(total - 1),
        votes_against: Some(0),
        invalid: Some(0),
        method: Some(VoteMethod::ShowOfCards),
    }];
}

/// A current candidate at stage index `stage` (0 = source … 9 = stopped).
fn candidate(rng: &mut XorShift, org: &str, stage: usize, today: Date) -> CaseFile {
    let female = rng.chance(50);
    let mut c = CaseFile {
        org_id: org.into(),
        ..Default::default()
    };
    c.person.full_name = name(rng, female);
    c.person.sex = Some(if female { Sex::Female } else { Sex::Male });
    let young = rng.chance(70);
    let age = if young {
        19 + rng.below(10)
    } else {
        31 + rng.below(15)
    } as i32;
    c.person.birth_date = Some(today.add_months(-(age * 12 + rng.below(11) as i32)));
    c.person.ethnicity = if rng.chance(4) {
        "Mường".into()
    } else {
        "Kinh".into()
    };
    c.person.religion = "Không".into();
    c.person.education_level = Some(EducationLevel::University);
    c.person.youth_union_member = young;
    c.person.trade_union_member = !young;
    // The branch meeting (past or planned) anchors the other dates.
    let vote = match stage {
        0..=2 => today.add_days(30),
        3 => today.add_days(-(5 + rng.below(10) as i32)),
        4 | 5 => today.add_days(-(30 + rng.below(60) as i32)),
        6 => today.add_months(-(3 + rng.below(6) as i32)),
        7 => today.add_months(-15),
        _ => today.add_months(-20),
    };
    fill_file(rng, &mut c, vote);
    match stage {
        0 => {
            c.awareness_class = AwarenessClass::default();
            c.application.letter_date = None;
            c.biography = Biography::default();
            c.introducers.clear();
            c.introducing_org = IntroducingOrg::default();
            c.introduction_path = None;
            c.opinions = Opinions::default();
            c.branch_votes.clear();
        }
        1 => {
            c.application.letter_date = None;
            c.biography = Biography::default();
            c.introducers.clear();
            c.introducing_org = IntroducingOrg::default();
            c.introduction_path = None;
            c.opinions = Opinions::default();
            c.branch_votes.clear();
            // Some certificates have run out: a finding the cadre must act on.
            if rng.chance(30) {
                c.awareness_class.certificate_date = Some(today.add_months(-61));
            }
        }
        2 => {
            c.branch_votes.clear();
            if rng.chance(40) {
                c.opinions.summary_date = None;
            }
        }
        3 => {
            // One vote in three falls one vote short of two-thirds.
            if rng.chance(33)
                && let Some(v) = c.branch_votes.first_mut()
            {
                let total = v.official_members_total.unwrap_or(15);
                let need = (2 * total).div_ceil(3);
                v.votes_for = Some(need - 1);
                v.votes_against = Some(total - need);
            }
        }
        _ => {
            c.committee = CommitteeStep {
                authorised: false,
                members_total: Some(9),
                votes_for: Some(7),
                resolution_number: "12-NQ/ĐU".into(),
                resolution_date: Some(vote.add_days(10)),
            };
            if stage >= 5 {
                let signed = vote.add_days(40);
                c.decision = Decision {
                    number: format!("{}-QĐ/QU", 100 + rng.below(900)),
                    date_signed: Some(signed),
                    date_received: Some(signed.add_days(3)),
                    deciding_body: "Ban Thường vụ Quận ủy Ngô Quyền".into(),
                    extension_granted: false,
                };
            }
            if stage >= 6 {
                let ceremony = vote.add_days(60);
                c.probation.ceremony_date = Some(ceremony);
                c.probation.helper_name = name(rng, true);
            }
            if stage == 7 {
                c.recognition.self_assessment_date = Some(today.add_days(-5));
            }
            if stage == 9 {
                c.stop = Stop {
                    date: Some(today.add_months(-2)),
                    reason: Some(StopReason::Withdrew),
                    note: "Chuyển công tác ra ngoài địa bàn".into(),
                };
            }
        }
    }
    c
}

/// The demo district as data, before it is stored: the same for the same `today`.
struct Demo {
    reference: ReferenceImport,
    records: Vec<CaseFileRecord>,
    /// The actor ids of the Lạch Tray cadre's two devices.
    device_actors: [[u8; 16]; 2],
}

/// Seeds the demo district if the database holds no organisation yet; returns how many
/// case files it made, or None when there was something already. Server processes
/// started together over one empty database seed it once.
pub fn seed_if_empty(store: &Store, rules: &RulesConfig, today: Date) -> AppResult<Option<usize>> {
    store.one_at_a_time(|| match store.is_empty()? {
        true => seed(store, rules, today).map(Some),
        false => Ok(None),
    })
}

/// Fills an empty store with the demo district. Returns the number of case files.
pub fn seed(store: &Store, rules: &RulesConfig, today: Date) -> AppResult<usize> {
    let Demo {
        reference,
        records,
        device_actors,
    } = generate(today);
    admin::import_reference(
        store,
        &serde_json::to_string(&reference).unwrap_or_default(),
    )?;
    let actor: ActorId = admin::system_actor(store)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    for r in &records {
        admin::write_case_file(&tx, rules, &actor, r, today)?;
    }
    // Two devices of the Lạch Tray cadre edited the same fields of a few files offline:
    // open conflicts for the office to resolve.
    let devices = demo_devices(&tx, device_actors)?;
    let mut made = 0;
    for r in &records {
        if made == 3 {
            break;
        }
        if !r.case.org_id.starts_with("phuong-11") || r.case.decision.date_signed.is_some() {
            continue;
        }
        conflicting_edits(&tx, rules, r, &devices, made, today)?;
        made += 1;
    }
    tx.commit()?;
    Ok(records.len())
}

/// Generates the demo district: reference data, case files and the devices' actor ids,
/// all drawn from one fixed-seed generator in this order.
fn generate(today: Date) -> Demo {
    let mut rng = XorShift::from_state(SEED_STATE);
    let (reference, grassroots) = reference(&mut rng, today);
    let mut records = Vec::new();
    let mut rec = |rng: &mut XorShift, case: CaseFile| {
        records.push(CaseFileRecord {
            id: DocId::from_bytes(rng.bytes16()),
            case,
            review: Default::default(),
        });
    };
    // Admissions: the last 25 organisations (enterprises) admit nobody in 2020–2021; the other 61 share
    // 195 + 200 admissions, each at least one; 51 more in January–May 2022.
    let active: Vec<&Grassroots> = grassroots.iter().take(grassroots.len() - 25).collect();
    let yearly = |rng: &mut XorShift,
                  year: i32,
                  count: usize,
                  months: u32,
                  pool: &[&Grassroots],
                  cover: bool| {
        let mut out = Vec::new();
        for k in 0..count {
            let g = if cover && k < pool.len() {
                pool[k]
            } else {
                // Larger organisations admit more.
                let total: i64 = pool.iter().map(|g| g.members).sum();
                let mut pick = rng.below(total as u64) as i64;
                let mut chosen = pool[0];
                for g in pool {
                    if pick < g.members {
                        chosen = g;
                        break;
                    }
                    pick -= g.members;
                }
                chosen
            };
            let date = d(
                year,
                1 + rng.below(months as u64) as u32,
                1 + rng.below(28) as u32,
            );
            let branch = pick(rng, &g.branches).clone();
            out.push(admitted_case(rng, &branch, date, today));
        }
        out
    };
    let all: Vec<&Grassroots> = grassroots.iter().collect();
    let cases_2020 = yearly(&mut rng, 2020, 195, 12, &active, true);
    let cases_2021 = yearly(&mut rng, 2021, 200, 12, &active, false);
    let cases_2022 = yearly(&mut rng, 2022, 51, 5, &all, false);
    for c in cases_2020.into_iter().chain(cases_2021).chain(cases_2022) {
        rec(&mut rng, c);
    }
    // After the published figures the history goes on up to today: about 200 a year
    // (the published rate), the rest of 2022 and the current year pro rata.
    let mut later = Vec::new();
    let mut from = d(2022, 6, 1);
    while from <= today {
        let year = from.year();
        let end = d(year, 12, 31).min(today.add_days(-1));
        if end < from {
            break;
        }
        let days = from.days_until(end) + 1;
        let count = (195 + rng.below(15) as i32) * days / 365;
        for _ in 0..count {
            let g = all[rng.below(all.len() as u64) as usize];
            let g = if rng.chance(70) {
                // Larger organisations admit more: re-draw among the wards.
                all[rng.below(12) as usize]
            } else {
                g
            };
            let date = from.add_days(rng.below(days as u64) as i32);
            let branch = pick(&mut rng, &g.branches).clone();
            later.push(admitted_case(&mut rng, &branch, date, today));
        }
        from = d(year + 1, 1, 1);
    }
    for c in later {
        rec(&mut rng, c);
    }
    // Current candidates at every stage, in the cadres' demo organisations and elsewhere.
    for (i, g) in grassroots.iter().enumerate() {
        let n = if g.id == "phuong-11" || g.id == "phuong-04" {
            20
        } else if i % 3 == 0 {
            2
        } else {
            0
        };
        for k in 0..n {
            let branch = g.branches[k % g.branches.len()].clone();
            let case = candidate(&mut rng, &branch, k % 10, today);
            rec(&mut rng, case);
        }
    }
    // A few files at the preparation stage were returned by the reviewer.
    let mut returned = 0;
    for r in records.iter_mut() {
        if returned < 4
            && r.case.branch_votes.is_empty()
            && !r.case.biography.verifications.is_empty()
        {
            r.review = shared::doc::ReviewNote {
                returned: true,
                comment: "Lý lịch thiếu xác nhận của cấp ủy nơi cư trú; đề nghị bổ sung.".into(),
                by: "Nguyễn Thị Bích Ngọc (bantochuc)".into(),
                at: today.to_string(),
                merged_into: String::new(),
            };
            returned += 1;
        }
    }
    let device_actors = [rng.bytes16(), rng.bytes16()];
    Demo {
        reference,
        records,
        device_actors,
    }
}

/// Registers the two demo devices of the Lạch Tray cadre, one actor each.
fn demo_devices(tx: &crate::db::Connection, actors: [[u8; 16]; 2]) -> AppResult<[ActorId; 2]> {
    let uid = accounts::user_id_by_name(tx, "canbo.lachtray")?.ok_or(crate::db::Error::NoRows)?;
    let path = orgs::path_of(tx, "phuong-11")?.ok_or(crate::db::Error::NoRows)?;
    let now = crate::auth::now_secs();
    let mut out = Vec::new();
    for ((id, name), bytes) in [
        ("demo-tablet-lachtray", "Máy tính bảng chi bộ"),
        ("demo-phone-lachtray", "Điện thoại cán bộ"),
    ]
    .into_iter()
    .zip(actors)
    {
        accounts::insert_device_in_use(tx, id, uid, name, now, &path)?;
        let actor = ActorId::from(bytes.as_slice());
        accounts::insert_actor(tx, &actor.to_hex_string(), id, uid)?;
        out.push(actor);
    }
    Ok([out[0].clone(), out[1].clone()])
}

/// Makes two concurrent edits of one field from the two devices and stores them.
fn conflicting_edits(
    tx: &crate::db::Connection,
    rules: &RulesConfig,
    r: &CaseFileRecord,
    devices: &[ActorId; 2],
    k: usize,
    today: Date,
) -> AppResult<()> {
    let Some((_, mut doc)) = crate::casedocs::load_doc(tx, r.id.as_str())? else {
        return Ok(());
    };
    let since = doc.get_heads();
    let (path, values) = match k {
        0 => (
            "case.person.residence_unit",
            [
                "Tổ dân phố số 3, phường Lạch Tray",
                "Tổ dân phố số 5, phường Lạch Tray",
            ],
        ),
        1 => (
            "case.person.youth_union_unit",
            [
                "Chi đoàn tổ dân phố số 2",
                "Đoàn Thanh niên phường Lạch Tray",
            ],
        ),
        _ => ("case.source.helper_name", ["Trần Văn Hùng", "Lê Thị Hoa"]),
    };
    let mut forks = Vec::new();
    for (actor, value) in devices.iter().zip(values) {
        let mut f = doc.fork().with_actor(actor.clone());
        shared::doc::set_field(
            &mut f,
            &shared::doc::parse_path(path),
            &serde_json::Value::String(value.into()),
        )
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
        f.commit();
        forks.push(f);
    }
    for mut f in forks {
        doc.merge(&mut f)
            .map_err(|e| crate::error::AppError::Internal(e.to_string()))?;
    }
    crate::casedocs::store_server_changes(
        tx,
        rules,
        &r.id,
        &mut doc,
        &since,
        "canbo.lachtray",
        today,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    /// The demo is the same on every machine and in every version that does not mean to
    /// change it: the reports over it, and the figures quoted from it, stay exact.
    #[test]
    fn the_demo_district_is_generated_the_same_every_time() {
        let demo = generate(d(2026, 3, 15));
        let mut hash = Sha256::new();
        hash.update(serde_json::to_vec(&demo.reference).unwrap());
        hash.update(serde_json::to_vec(&demo.records).unwrap());
        hash.update(demo.device_actors.concat());
        let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(demo.records.len(), 1310);
        assert_eq!(
            digest,
            "0820e7565258a73b3840c65ffc2f3dec69e88b75ed7852481439c345bef604ac"
        );
    }
}
