//! Case-file generator and timing loop shared by the native example, the property tests
//! and the browser benchmark, so every platform measures the same workload.
//!
//! The clock is a parameter (`now_ms`): `std::time::Instant` natively and
//! `js_sys::Date::now()` in the browser, because `shared` itself may not read a clock.

#![allow(dead_code)] // Each including target uses a different subset.

use shared::calendar::WorkingCalendar;
use shared::date::Date;
use shared::model::*;
use shared::rand::XorShift;
use shared::rules::{EvalContext, RuleSettings, evaluate};

fn vote(date: Date, total: u32, temp: u32, exempt: u32, yes: u32) -> Vote {
    Vote {
        meeting_date: Some(date),
        attempt: Some(1),
        official_members_total: Some(total),
        excluded_temporary: Some(temp),
        excluded_exempt_absent: Some(exempt),
        present: Some(total.saturating_sub(temp + exempt)),
        votes_for: Some(yes),
        votes_against: Some(total.saturating_sub(temp + exempt).saturating_sub(yes)),
        invalid: Some(0),
        method: Some(VoteMethod::SecretBallot),
    }
}

/// A complete, valid file whose timeline starts at `start`; `cut` (0..=8) keeps the
/// facts up to that pipeline stage. Returns the file and a plausible "today".
pub fn timeline(start: Date, cut: u8, rng: &mut XorShift) -> (CaseFile, Date) {
    let at = |days: i32| Some(start.add_days(days));
    let mut c = CaseFile {
        id: format!("case-{}", rng.below(1_000_000)),
        org_id: format!("org-{}", rng.below(40)),
        ..CaseFile::default()
    };
    let age_years = 18 + rng.below(30) as i32;
    let p = &mut c.person;
    p.full_name = "Nguyễn Văn An".into();
    p.birth_date = Some(start.add_months(-12 * age_years - rng.below(12) as i32));
    p.sex = Some(if rng.chance(45) {
        Sex::Female
    } else {
        Sex::Male
    });
    p.ethnicity = if rng.chance(15) {
        "Tày".into()
    } else {
        "Kinh".into()
    };
    p.education_level = Some(if rng.chance(60) {
        EducationLevel::UpperSecondary
    } else {
        EducationLevel::University
    });
    p.residence_unit = "Thôn 1".into();
    p.workplace_unit = "Xã Tân Lập".into();
    let young = age_years <= 29;
    p.youth_union_member = young;
    p.trade_union_member = !young;
    c.source.origin_org = "youth_union".into();
    c.source.helper_member_id = "m-9".into();
    c.source.outstanding_list_date = at(0);
    c.source.unit_has_youth_union = Some(young);
    let mut today = start.add_days(10);
    if cut >= 1 {
        c.awareness_class = AwarenessClass {
            class_name: "Lớp nhận thức".into(),
            certificate_number: "1/CN".into(),
            issuer: "Trung tâm chính trị".into(),
            certificate_date: at(45),
            ..AwarenessClass::default()
        };
        today = start.add_days(50);
    }
    if cut >= 2 {
        c.application.letter_date = at(60);
        let b = &mut c.biography;
        b.declared_date = at(65);
        for relation in ["self", "father", "mother"] {
            b.verifications.push(Verification {
                target: relation.into(),
                relation: relation.into(),
                sent_date: at(70),
                reply_date: at(100),
                result: "Không có vấn đề".into(),
            });
        }
        b.chi_uy_comment_date = at(105);
        b.grassroots_certification_date = at(110);
        b.political_standard_cleared_by = "Đảng ủy xã".into();
        b.political_standard_cleared_date = at(110);
        c.introduction_path = Some(if young {
            IntroductionPath::YouthUnion
        } else {
            IntroductionPath::TwoMembers
        });
        let introducers = if young { 1 } else { 2 };
        for i in 0..introducers {
            c.introducers.push(Introducer {
                member_id: format!("m-{i}"),
                name: "Trần Văn Dũng".into(),
                official_since: at(-3000),
                co_working_since: at(-800),
                replacement: false,
                letter_date: at(125),
            });
        }
        if young {
            c.introducing_org = IntroducingOrg {
                kind: Some(IntroducingOrgKind::YouthUnion),
                resolution_number: "5-NQ/ĐTN".into(),
                resolution_date: at(126),
            };
        }
        c.opinions = Opinions {
            residence_date: at(130),
            workplace_date: at(132),
            summary_date: at(135),
        };
        today = start.add_days(140);
    }
    if cut >= 3 {
        c.branch_votes.push(vote(start.add_days(150), 12, 1, 1, 9));
        today = start.add_days(155);
    }
    if cut >= 4 {
        c.committee = CommitteeStep {
            authorised: false,
            members_total: Some(9),
            votes_for: Some(8),
            resolution_number: "12-NQ/ĐU".into(),
            resolution_date: at(160),
        };
        today = start.add_days(165);
    }
    if cut >= 5 {
        c.decision = Decision {
            number: "345-QĐ/ĐU".into(),
            date_signed: at(190),
            date_received: at(195),
            deciding_body: "Ban Thường vụ Đảng ủy xã".into(),
            extension_granted: false,
        };
        today = start.add_days(197);
    }
    let ceremony = start.add_days(210);
    let end = ceremony.add_months(12);
    if cut >= 6 {
        c.probation = Probation {
            ceremony_date: Some(ceremony),
            helper_member_id: "m-1".into(),
            helper_name: "Trần Văn Dũng".into(),
            course_certificate_number: "77".into(),
            course_certificate_date: at(330),
        };
        today = start.add_days(340);
    }
    if cut >= 7 {
        let r = &mut c.recognition;
        r.self_assessment_date = Some(end.add_days(2));
        r.helper_assessment_date = Some(end.add_days(3));
        r.opinions_summary_date = Some(end.add_days(5));
        r.votes.push(vote(end.add_days(10), 12, 0, 0, 10));
        r.committee_resolution_number = "30-NQ/ĐU".into();
        r.committee_resolution_date = Some(end.add_days(15));
        today = end.add_days(18);
    }
    if cut >= 8 {
        let r = &mut c.recognition;
        r.decision_number = "400-QĐ/ĐU".into();
        r.decision_date = Some(end.add_days(25));
        c.official_date = Some(end);
        c.card = PartyCard {
            number: "01234567".into(),
            handed_over_date: Some(end.add_days(60)),
        };
        today = end.add_days(70);
    }
    (c, today)
}

/// A mix of files across stages, with about one in four carrying a defect, so the
/// rules do realistic work (most files are fine, some are not).
pub fn generate(n: usize, seed: u64) -> Vec<(CaseFile, Date)> {
    let mut rng = XorShift::new(seed);
    let base = Date::from_ymd(2021, 8, 1).unwrap_or(Date::from_days_since_epoch(0));
    (0..n)
        .map(|_| {
            let start = base.add_days(rng.below(1500) as i32);
            let cut = rng.below(9) as u8;
            let (mut case, mut today) = timeline(start, cut, &mut rng);
            today = today.add_days(rng.below(60) as i32);
            match rng.below(16) {
                0 => case.person.birth_date = None,
                1 => {
                    if let Some(v) = case.branch_votes.first_mut() {
                        v.votes_for = Some(5);
                    }
                }
                2 => case.awareness_class.certificate_date = Some(start.add_days(-1900)),
                3 => {
                    if let Some(i) = case.introducers.first_mut() {
                        i.co_working_since = Some(start.add_days(-100));
                    }
                }
                4 => today = today.add_days(400),
                5 => case.stop.reason = Some(StopReason::Withdrew),
                _ => {}
            }
            (case, today)
        })
        .collect()
}

/// What one benchmark run measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub files: usize,
    pub millis: f64,
    pub files_per_second: f64,
    /// Total findings, so the work cannot be optimised away and runs can be compared.
    pub findings: usize,
}

impl BenchReport {
    /// The line every platform prints, e.g. `bench rules native: 100000 files in ...`.
    pub fn line(&self, platform: &str) -> String {
        format!(
            "bench rules {platform}: {} files in {:.1} ms = {:.0} files/s ({} findings)",
            self.files, self.millis, self.files_per_second, self.findings
        )
    }
}

/// Evaluates every file once and times the loop with the supplied clock.
pub fn run(cases: &[(CaseFile, Date)], now_ms: impl Fn() -> f64) -> BenchReport {
    let settings = RuleSettings::default();
    let calendar = WorkingCalendar::vietnam_2021_2027();
    let started = now_ms();
    let mut findings = 0;
    for (case, today) in cases {
        let ctx = EvalContext::new(*today, &settings, &calendar);
        findings += evaluate(case, &ctx).findings.len();
    }
    let millis = (now_ms() - started).max(1e-3);
    BenchReport {
        files: cases.len(),
        millis,
        files_per_second: cases.len() as f64 * 1000.0 / millis,
        findings,
    }
}
