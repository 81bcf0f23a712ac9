//! The figures committees publish, reproduced from imported data through the product's
//! own reports: the Hội Hợp ward article (classes, admissions, recognitions in the first
//! eight months of 2018), terms bounded by congress dates, a target revised in mid-year,
//! sub-targets, cohort conversion with a filter, every dashboard section in the CSV, and
//! the rollups agreeing with the projections on a generated province.

use serde_json::{Value, json};
use server::admin::{self, CASE_FILES_FORMAT, CaseFileRecord};
use server::auth::{Caller, Role};
use server::casedocs::RulesConfig;
use server::db::store::Store;
use server::db::{inspect, views};
use server::extract::Admin;
use server::figures::Via;
use server::reports::{self, Admitted, CaseFilter, OrgIndex, Recorded};
use shared::date::Date;
use shared::model::{CaseFile, Occupation, Sex, SourceKind};
use shared::sync::DocId;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn caller(scope: &str, path: &str) -> Caller {
    Caller {
        user_id: 1,
        username: "bantochuc".into(),
        display_name: "Ban Tổ chức".into(),
        role: Role::Admin,
        scope_org: scope.into(),
        scope_path: path.into(),
        device_id: "test".into(),
    }
}

struct Ids(u64);

impl Ids {
    fn next(&mut self) -> DocId {
        self.0 += 1;
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.0.to_le_bytes());
        b[8..].copy_from_slice(&(self.0 ^ 0x9e37_79b9_7f4a_7c15).to_le_bytes());
        DocId::from_bytes(b)
    }
}

fn store_with(reference: Value) -> Store {
    let store = Store::open_in_memory().unwrap();
    admin::import_reference(&store, &reference.to_string()).unwrap();
    store
}

fn import(store: &Store, ids: &mut Ids, cases: Vec<CaseFile>) {
    let records: Vec<Value> = cases
        .into_iter()
        .map(|case| {
            serde_json::to_value(CaseFileRecord {
                id: ids.next(),
                case,
                review: Default::default(),
            })
            .unwrap()
        })
        .collect();
    let body = json!({"format": CASE_FILES_FORMAT, "case_files": records});
    admin::import_case_files(store, &RulesConfig::default(), &body.to_string()).unwrap();
}

fn person(org: &str, name: &str) -> CaseFile {
    let mut c = CaseFile {
        org_id: org.into(),
        ..CaseFile::default()
    };
    c.person.full_name = name.into();
    c.person.sex = Some(Sex::Male);
    c.person.birth_date = Some(d("1996-04-02"));
    c.person.ethnicity = "Kinh".into();
    c
}

fn admitted(org: &str, name: &str, decision: &str) -> CaseFile {
    let mut c = person(org, name);
    c.decision.date_signed = Some(d(decision));
    c
}

fn dashboard(store: &Store, c: &Caller, f: CaseFilter, today: Date) -> reports::Dashboard {
    let conn = store.conn();
    let orgs = OrgIndex::load(&conn).unwrap();
    reports::dashboard(&conn, &orgs, c, &f, 2, today).unwrap()
}

/// Vĩnh Yên city, Hội Hợp ward and its branches, with the city's awareness classes.
fn vinh_yen() -> Value {
    json!({
        "orgs": [
            {"id": "vinh-yen", "name": "Đảng bộ thành phố Vĩnh Yên", "kind": "district"},
            {"id": "hoi-hop", "parent_id": "vinh-yen", "name": "Đảng bộ phường Hội Hợp",
             "kind": "committee", "sector": "phuong", "grassroots": true},
            {"id": "hoi-hop-cb1", "parent_id": "hoi-hop", "name": "Chi bộ tổ dân phố Vinh Thịnh",
             "kind": "sub_branch", "sector": "phuong"},
            {"id": "hoi-hop-cb2", "parent_id": "hoi-hop", "name": "Chi bộ tổ dân phố Hợp Thịnh",
             "kind": "sub_branch", "sector": "phuong"},
            {"id": "dong-tam", "parent_id": "vinh-yen", "name": "Đảng bộ phường Đồng Tâm",
             "kind": "committee", "sector": "phuong", "grassroots": true}
        ],
        "classes": [
            {"id": "vy-2017-4", "org_id": "vinh-yen", "name": "Lớp nhận thức về Đảng khóa 4/2017",
             "organiser": "Trung tâm Bồi dưỡng chính trị thành phố Vĩnh Yên",
             "start_date": "2017-10-09", "end_date": "2017-10-13"},
            {"id": "vy-2018-1", "org_id": "vinh-yen", "name": "Lớp nhận thức về Đảng khóa 1/2018",
             "organiser": "Trung tâm Bồi dưỡng chính trị thành phố Vĩnh Yên",
             "start_date": "2018-03-12", "end_date": "2018-03-16"},
            {"id": "vy-2018-2", "org_id": "vinh-yen", "name": "Lớp nhận thức về Đảng khóa 2/2018",
             "organiser": "Trung tâm Bồi dưỡng chính trị thành phố Vĩnh Yên",
             "start_date": "2018-07-09", "end_date": "2018-07-13"},
            {"id": "vy-2018-3", "org_id": "vinh-yen", "name": "Lớp nhận thức về Đảng khóa 3/2018",
             "start_date": "2018-10-08", "end_date": "2018-10-12"}
        ]
    })
}

#[test]
fn the_hoi_hop_ward_figures_of_the_article_come_out_of_the_reports() {
    // "Kết quả trong 8 tháng đầu năm 2018, Đảng ủy phường đã cử gần 30 quần chúng ưu tú
    // đi học các lớp cảm tình Đảng …; đã kết nạp được 06 đảng viên mới; chuyển đảng chính
    // thức cho 15 đảng viên dự bị." (seed article 004). "Gần 30" is read as 29.
    let store = store_with(vinh_yen());
    let mut ids = Ids(0);
    let mut cases = Vec::new();
    for k in 0..29 {
        let (class, end) = if k < 17 {
            ("vy-2018-1", "2018-03-16")
        } else {
            ("vy-2018-2", "2018-07-13")
        };
        let mut c = person(
            if k % 2 == 0 {
                "hoi-hop-cb1"
            } else {
                "hoi-hop-cb2"
            },
            &format!("Quần chúng {k}"),
        );
        c.awareness_class.class_id = class.into();
        c.awareness_class.class_name = "Lớp nhận thức về Đảng".into();
        // Two of the July class had not received their certificate by the end of August.
        if k < 27 {
            c.awareness_class.certificate_date = Some(d(end));
        }
        cases.push(c);
    }
    // Six admissions in January–August 2018, trained at the end of 2017.
    for (k, day) in [
        "2018-01-19",
        "2018-03-02",
        "2018-05-11",
        "2018-06-22",
        "2018-08-03",
        "2018-08-30",
    ]
    .iter()
    .enumerate()
    {
        let mut c = admitted("hoi-hop-cb1", &format!("Đảng viên mới {k}"), day);
        c.awareness_class.class_id = "vy-2017-4".into();
        c.awareness_class.certificate_date = Some(d("2017-10-13"));
        cases.push(c);
    }
    // Fifteen probationary members admitted in 2017 became official in 2018 (by August).
    for k in 0..15u32 {
        let decided = d("2017-01-05").add_days(k as i32 * 12);
        let mut c = admitted("hoi-hop-cb2", &format!("Dự bị {k}"), &decided.to_string());
        c.probation.ceremony_date = Some(decided.add_days(10));
        c.official_date = Some(decided.add_days(10).add_months(12));
        cases.push(c);
    }
    // Outside the period or the ward: not counted.
    cases.push(admitted("hoi-hop-cb1", "Kết nạp tháng 9", "2018-09-04"));
    cases.push(admitted("dong-tam", "Phường khác", "2018-04-04"));
    let mut other = person("dong-tam", "Học viên phường khác");
    other.awareness_class.class_id = "vy-2018-1".into();
    cases.push(other);
    import(&store, &mut ids, cases);

    let c = caller("vinh-yen", "/vinh-yen/");
    let f = CaseFilter {
        org: Some("hoi-hop".into()),
        from: Some(d("2018-01-01")),
        to: Some(d("2018-08-31")),
        ..CaseFilter::default()
    };
    let dash = dashboard(&store, &c, f.clone(), d("2018-09-10"));
    assert_eq!(dash.classes.trainees, 29, "sent to the awareness classes");
    assert_eq!(dash.classes.classes, 2);
    assert_eq!(dash.classes.certified, 27);
    assert_eq!(dash.admitted, 6, "admitted");
    assert_eq!(dash.official, 15, "recognised as official members");
    // The lists behind the figures hold the same files.
    let conn = store.conn();
    let orgs = OrgIndex::load(&conn).unwrap();
    let official = reports::cases(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            official: true,
            ..f.clone()
        },
        d("2018-09-10"),
    )
    .unwrap();
    assert_eq!(official.len(), 15);
    let class_list = reports::cases(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            class_id: Some("vy-2018-1".into()),
            ..f
        },
        d("2018-09-10"),
    )
    .unwrap();
    assert_eq!(class_list.len(), 17);
}

fn district_with_terms(extra: Value) -> Value {
    let mut r = json!({
        "orgs": [
            {"id": "q", "name": "Đảng bộ quận", "kind": "district"},
            {"id": "p1", "parent_id": "q", "name": "Đảng bộ phường 1", "kind": "committee",
             "sector": "phuong", "grassroots": true},
            {"id": "dn1", "parent_id": "q", "name": "Chi bộ Công ty A", "kind": "branch",
             "sector": "dnk", "grassroots": true}
        ],
        "terms": [
            {"org_id": "q", "name": "Nhiệm kỳ 2015–2020", "start_date": "2015-10-20",
             "end_date": "2020-10-15", "decision": "Nghị quyết Đại hội lần thứ XXIII"},
            {"org_id": "q", "name": "Nhiệm kỳ 2020–2025", "start_date": "2020-10-15",
             "end_date": "2025-10-10", "decision": "Nghị quyết Đại hội lần thứ XXIV"}
        ],
        "term_targets": [{"org_id": "q", "term": "Nhiệm kỳ 2020–2025", "target": 10}]
    });
    if let (Some(r), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            r.insert(k.clone(), v.clone());
        }
    }
    r
}

#[test]
fn a_term_runs_from_congress_to_congress() {
    let store = store_with(district_with_terms(json!({})));
    let mut ids = Ids(100);
    import(
        &store,
        &mut ids,
        vec![
            admitted("p1", "Trước đại hội", "2020-10-14"),
            admitted("p1", "Ngày đại hội", "2020-10-15"),
            admitted("dn1", "Cuối nhiệm kỳ", "2025-10-09"),
            admitted("p1", "Đại hội sau", "2025-10-10"),
            admitted("p1", "Cùng năm, nhiệm kỳ sau", "2025-12-01"),
        ],
    );
    let c = caller("q", "/q/");
    let term = |t: &str| CaseFilter {
        term: Some(t.into()),
        ..CaseFilter::default()
    };
    // Asked by its years or by its name, the term is the recorded one.
    for asked in ["2020-2025", "Nhiệm kỳ 2020–2025"] {
        let dash = dashboard(&store, &c, term(asked), d("2026-01-10"));
        assert_eq!(dash.admitted, 2, "{asked}");
        assert_eq!(dash.period.from, d("2020-10-15"));
        assert_eq!(dash.period.to, d("2025-10-09"));
        assert_eq!(dash.target, Some(10));
        assert_eq!(dash.target_percent, Some(20.0));
        assert!(!dash.term_calendar_years);
    }
    // The list behind the figure agrees.
    let conn = store.conn();
    let orgs = OrgIndex::load(&conn).unwrap();
    let list = reports::cases(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            admitted: Some(Admitted::InPeriod),
            ..term("2020-2025")
        },
        d("2026-01-10"),
    )
    .unwrap();
    assert_eq!(list.len(), 2);
    // A ward without terms of its own reports on the district's.
    let ward = reports::dashboard(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            org: Some("p1".into()),
            ..term("2020-2025")
        },
        2,
        d("2026-01-10"),
    )
    .unwrap();
    assert_eq!(ward.admitted, 1);
    // A term without congress dates is refused by default …
    let err =
        reports::dashboard(&conn, &orgs, &c, &term("2010-2015"), 2, d("2026-01-10")).unwrap_err();
    assert!(
        matches!(
            err,
            server::error::AppError::User {
                code: shared::api::ErrorCode::TermNotRecorded,
                ..
            }
        ),
        "{err:?}"
    );
    drop(conn);
    // … or read as whole calendar years when the setting says so, and flagged.
    let settings = shared::rules::RuleSettings {
        term_without_dates: shared::rules::TermWithoutDates::CalendarYears,
        ..Default::default()
    };
    store
        .put_setting("rule_settings", &serde_json::to_string(&settings).unwrap())
        .unwrap();
    let dash = dashboard(&store, &c, term("2025-2026"), d("2026-01-10"));
    assert!(dash.term_calendar_years);
    assert_eq!(dash.period.from, d("2025-01-01"));
    assert_eq!(dash.admitted, 3);
}

#[test]
fn a_target_revised_in_mid_year_shows_both_values_and_sub_targets_count_their_own() {
    let store = store_with(district_with_terms(json!({
        "terms": [
            {"org_id": "q", "name": "Nhiệm kỳ 2020–2025", "start_date": "2020-10-15",
             "end_date": "2025-10-10", "decision": "Nghị quyết Đại hội lần thứ XXIV"},
            {"org_id": "q", "name": "Nhiệm kỳ 2025–2030", "start_date": "2025-10-10",
             "end_date": "2030-10-01", "decision": "Nghị quyết Đại hội lần thứ XXV"}
        ],
        "term_targets": [{"org_id": "q", "term": "Nhiệm kỳ 2025–2030", "target": 10}],
        "org_years": [{"org_id": "q", "year": 2026, "members_start": 0, "target": 10,
                       "decision": "Nghị quyết 05-NQ/QU ngày 10/01/2026", "effective": "2026-01-10"}],
        "sub_targets": [
            {"org_id": "q", "period": "2026", "group": "sector:dnk", "value": 3,
             "decision": "Nghị quyết 05-NQ/QU ngày 10/01/2026"},
            {"org_id": "q", "period": "2026", "group": "occupation:high_school_student", "value": 2,
             "decision": "Nghị quyết 05-NQ/QU ngày 10/01/2026"}
        ]
    })));
    let c = caller("q", "/q/");
    // In July the committee raises the target.
    let admin = Admin::check(c.clone()).unwrap();
    server::targets::set_year(
        &store,
        &admin,
        "q",
        2026,
        0,
        14,
        d("2026-07-15"),
        "Nghị quyết 19-NQ/QU ngày 15/07/2026",
    )
    .unwrap();
    let mut ids = Ids(200);
    let mut student = admitted("p1", "Học sinh", "2026-05-02");
    student.person.occupation = Some(Occupation::HighSchoolStudent);
    import(
        &store,
        &mut ids,
        vec![
            admitted("dn1", "Công nhân 1", "2026-03-02"),
            admitted("dn1", "Công nhân 2", "2026-09-02"),
            admitted("p1", "Phường 1", "2026-04-02"),
            admitted("p1", "Phường 2", "2026-10-02"),
            admitted("dn1", "Năm trước", "2025-11-02"),
            student,
        ],
    );
    let dash = dashboard(
        &store,
        &c,
        CaseFilter {
            year: Some(2026),
            ..CaseFilter::default()
        },
        d("2026-11-30"),
    );
    assert_eq!(dash.admitted, 5);
    assert_eq!(dash.target, Some(14));
    let target: Vec<_> = dash
        .target_revisions
        .iter()
        .filter(|r| r.field == "target")
        .collect();
    assert_eq!(target.len(), 2, "{:?}", dash.target_revisions);
    assert_eq!((target[0].old_value, target[0].new_value), (None, 10));
    assert_eq!((target[1].old_value, target[1].new_value), (Some(10), 14));
    assert_eq!(target[1].effective.as_deref(), Some("2026-07-15"));
    assert!(target[1].decision.contains("19-NQ/QU"));
    let sub = |g: &str| dash.sub_targets.iter().find(|s| s.group == g).unwrap();
    assert_eq!(
        (sub("sector:dnk").target, sub("sector:dnk").admitted),
        (3, 2)
    );
    assert_eq!(sub("occupation:high_school_student").admitted, 1);
    // The plan vs done table puts the enterprise branch and the ward side by side.
    let conn = store.conn();
    let orgs = OrgIndex::load(&conn).unwrap();
    let plan = reports::plan(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            year: Some(2026),
            ..CaseFilter::default()
        },
        d("2026-11-30"),
        Via::Aggregates,
    )
    .unwrap();
    let root = plan.rows.iter().find(|r| r.org_id == "q").unwrap();
    assert_eq!((root.target, root.admitted), (Some(14), 5));
    assert_eq!(root.term_admitted, Some(6));
    assert_eq!(root.term_target, Some(10));
    assert_eq!(
        plan.rows
            .iter()
            .find(|r| r.org_id == "dn1")
            .unwrap()
            .admitted,
        2
    );
}

#[test]
fn cohort_conversion_counts_only_the_cohort_of_the_period_and_filter() {
    let store = store_with(district_with_terms(json!({})));
    let mut ids = Ids(300);
    let entered = |org: &str,
                   name: &str,
                   day: &str,
                   source: SourceKind,
                   class: bool,
                   decision: Option<&str>| {
        let mut c = person(org, name);
        c.source.outstanding_list_date = Some(d(day));
        c.source.kind = Some(source);
        c.person.youth_union_member = source == SourceKind::YouthUnion;
        if class {
            c.awareness_class.certificate_date = Some(d(day).add_months(2));
        }
        c.decision.date_signed = decision.map(d);
        c
    };
    import(
        &store,
        &mut ids,
        vec![
            // The 2025 cohort of the Youth Union: 4 entered, 3 attended, 2 admitted (one of
            // them without a class recorded), 1 admitted among attendees.
            entered(
                "p1",
                "A",
                "2025-02-01",
                SourceKind::YouthUnion,
                true,
                Some("2025-11-01"),
            ),
            entered("p1", "B", "2025-03-01", SourceKind::YouthUnion, true, None),
            entered("dn1", "C", "2025-04-01", SourceKind::YouthUnion, true, None),
            entered(
                "dn1",
                "D",
                "2025-05-01",
                SourceKind::YouthUnion,
                false,
                Some("2026-01-01"),
            ),
            // Same year, other source.
            entered(
                "p1",
                "E",
                "2025-06-01",
                SourceKind::TradeUnion,
                true,
                Some("2025-12-01"),
            ),
            // Youth Union, another year's cohort (admitted in 2025 all the same).
            entered(
                "p1",
                "F",
                "2024-06-01",
                SourceKind::YouthUnion,
                true,
                Some("2025-03-01"),
            ),
            entered(
                "p1",
                "G",
                "2024-07-01",
                SourceKind::YouthUnion,
                true,
                Some("2025-04-01"),
            ),
        ],
    );
    let c = caller("q", "/q/");
    let conn = store.conn();
    let orgs = OrgIndex::load(&conn).unwrap();
    let youth_2025 = CaseFilter {
        year: Some(2025),
        source: Some(Recorded::Is(shared::model::SourceKind::YouthUnion)),
        ..CaseFilter::default()
    };
    let k = reports::cohort(&conn, &orgs, &c, &youth_2025, d("2026-03-01")).unwrap();
    assert_eq!(
        (k.total.entered, k.total.attended_class, k.total.admitted),
        (4, 3, 2)
    );
    assert_eq!(k.total.admitted_of_attendees, 1);
    assert_eq!(k.total.admitted_percent, Some(50.0));
    assert_eq!(k.total.admitted_of_attendees_percent, Some(33.3));
    // The funnel of every file under the organisation would have seen 7 files and 5
    // admissions: the cohort sees neither the other source nor the 2024 cohort.
    assert_ne!(k.total.entered, 7);
    // Filters compose: the enterprise sector's part of that cohort.
    let dn = reports::cohort(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            sector: Some("dnk".into()),
            ..youth_2025.clone()
        },
        d("2026-03-01"),
    )
    .unwrap();
    assert_eq!((dn.total.entered, dn.total.admitted), (2, 1));
    // Broken down by source over the whole 2025 cohort.
    let all = reports::cohort(
        &conn,
        &orgs,
        &c,
        &CaseFilter {
            year: Some(2025),
            ..CaseFilter::default()
        },
        d("2026-03-01"),
    )
    .unwrap();
    let line = |code: &str| {
        all.by_source
            .iter()
            .find(|l| l.code == code)
            .unwrap()
            .figures
            .clone()
    };
    assert_eq!(line("youth_union").entered, 4);
    assert_eq!(line("trade_union").admitted, 1);
    assert_eq!(all.total.entered, 5);
    // The grouped query (no filter beyond the period) agrees with the case list.
    let listed = reports::with_cohort_listed(|| {
        reports::cohort(
            &conn,
            &orgs,
            &c,
            &CaseFilter {
                year: Some(2025),
                ..CaseFilter::default()
            },
            d("2026-03-01"),
        )
    })
    .unwrap();
    assert_eq!(all, listed);
}

#[tokio::test]
async fn the_office_pages_show_plan_trend_classes_and_export_every_section() {
    let app = tests::spawn_app().await;
    let token = app.device("bantochuc").await.unwrap().token;
    let get = |path: String| {
        let http = app.http.clone();
        let url = format!("{}{path}", app.url);
        let token = token.clone();
        async move {
            let resp = http.get(url).bearer_auth(token).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.bytes().await.unwrap().to_vec())
        }
    };
    let (status, page) = get("/central".into()).await;
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    for marker in [
        r#"id="trend-desc""#,
        r#"id="trend-table""#,
        r#"id="classes-summary""#,
        r#"id="cohort""#,
        r#"id="sub-targets""#,
        r#"id="official""#,
        "/central/plan?",
    ] {
        assert!(page.contains(marker), "{marker}");
    }
    let (status, plan) = get("/central/plan?sort=name".into()).await;
    assert_eq!(status, 200);
    let plan = String::from_utf8(plan).unwrap();
    assert!(plan.contains(r#"id="plan""#) && plan.contains(r#"data-org="ngo-quyen""#));
    let (status, csv) = get("/api/review/export/dashboard?format=csv".into()).await;
    assert_eq!(status, 200);
    let csv = String::from_utf8(csv).unwrap();
    for section in [
        "Tổng hợp",
        "Theo năm",
        "Chỉ tiêu thành phần",
        "Diễn biến",
        "Theo tổ chức",
        "Theo giai đoạn",
        "Chuyển đổi theo khóa",
        "Lớp nhận thức",
        "Cơ cấu",
    ] {
        assert!(csv.contains(&format!("\r\n{section},")), "{section}");
    }
    let (status, xlsx) = get("/api/review/export/plan?format=xlsx&year=2022".into()).await;
    assert_eq!(status, 200);
    assert!(xlsx.starts_with(b"PK"));
    let (status, plan_csv) = get("/api/review/export/plan?format=csv".into()).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(plan_csv).unwrap().contains("ngo-quyen"));
    // Cohort conversion with filters, on its page and exported.
    let (status, cohort) =
        get("/central/cohort?year=2025&source=youth_union&female=1".into()).await;
    assert_eq!(status, 200);
    let cohort = String::from_utf8(cohort).unwrap();
    assert!(cohort.contains(r#"id="cohort-all""#));
    assert!(cohort.contains("cohort=1"), "links open the cohort's files");
    let (status, cohort_csv) = get("/api/review/export/cohort?format=csv&year=2025".into()).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8(cohort_csv).unwrap().contains("Tất cả"));
    // The case list names a term by its congress dates (the demo's 2020–2025 term runs
    // from 18/06/2020 to the day before the next congress), not as calendar years.
    let (status, list) = get("/central/cases?term=2020-2025&admitted=1".into()).await;
    assert_eq!(status, 200);
    let list = String::from_utf8(list).unwrap();
    assert!(
        list.contains("kết nạp nhiệm kỳ 2020-2025 (18/06/2020 – 17/06/2025)"),
        "the active filter names the term"
    );
    assert!(!list.contains("01/01/2020 – 31/12/2025"));
    // Every filter added for the published figures has an input on the form, and a
    // search keeps what was chosen.
    let (status, list) = get(
        "/central/cases?year=2025&source=youth_union&occupation=worker&official=1&cohort=1&class_id=lop-nq-2025-1&admitted=any".into(),
    )
    .await;
    assert_eq!(status, 200);
    let list = String::from_utf8(list).unwrap();
    let form = &list[list.find(r#"<form class="filters""#).unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    for marker in [
        r#"<input name="term""#,
        r#"<option value="youth_union" selected>"#,
        r#"<option value="worker" selected>"#,
        r#"<option value="lop-nq-2025-1" selected>"#,
        r#"<option value="any" selected>"#,
        r#"name="official" value="1" checked"#,
        r#"name="cohort" value="1" checked"#,
    ] {
        assert!(form.contains(marker), "{marker}");
    }
    assert!(!form.contains(r#"type="hidden" name="source""#));
    assert!(
        list.contains("nguồn: Đoàn Thanh niên"),
        "the active filters are named"
    );
    // The device receives the classes to pick from.
    let (status, reference) = app.get_json(&token, "/api/reference").await.unwrap();
    assert_eq!(status, 200);
    assert!(reference["classes"].as_array().unwrap().len() >= 4);
}

#[test]
fn the_dashboard_csv_holds_every_section() {
    let store = Store::open_in_memory().unwrap();
    let rules = RulesConfig::default();
    let today = d("2026-11-30");
    server::demo::seed(&store, &rules, today).unwrap();
    let c = caller("ngo-quyen", "/ngo-quyen/");
    let dash = dashboard(
        &store,
        &c,
        CaseFilter {
            year: Some(2026),
            ..CaseFilter::default()
        },
        today,
    );
    // The demo lives in the present: admissions this year near the published rate, a
    // target with sub-targets, classes, a cohort.
    assert!(dash.admitted > 150, "{}", dash.admitted);
    assert!(dash.no_admission.orgs.len() < 40);
    assert!(!dash.sub_targets.is_empty());
    assert!(dash.classes.classes >= 4);
    assert!(dash.cohort.total.entered > 0);
    let sheets = server::export::dashboard_sheets(&dash, false);
    let csv = String::from_utf8(server::export::csv_long(&sheets)).unwrap();
    for s in &sheets {
        let lines = csv
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{},", s.name)) || l.starts_with(&format!("\"{}\",", s.name))
            })
            .count();
        let cells: usize = s.rows.iter().map(|r| r.len().saturating_sub(1)).sum();
        assert_eq!(lines, cells, "section {}", s.name);
    }
    // Numbers stay machine-readable: the admitted figure without grouping.
    assert!(csv.contains(&format!(",{}\r\n", dash.admitted)));
    // Open conflicts and returned files to look at.
    let conn = store.conn();
    let open = views::count_open_conflicts(&conn).unwrap();
    let returned = inspect::returned_files(&conn).unwrap();
    assert!(open >= 3, "{open}");
    assert!(returned >= 3, "{returned}");
    // Every demo file is one a device may edit and push back: it passes the same model
    // check as a pushed document (its conflicts sit inside `case`, nothing else at the root).
    let ids = inspect::doc_ids(&conn).unwrap();
    for id in &ids {
        let (_, doc) = server::casedocs::load_doc(&conn, id).unwrap().unwrap();
        shared::doc::read_parts_checked(&doc, &shared::limits::Limits::default())
            .unwrap_or_else(|e| panic!("demo file {id} does not fit the model: {e}"));
    }
}

/// The deterministic generator of the generated province.
use shared::rand::XorShift as Rng;

#[test]
fn aggregates_agree_with_the_projections_on_a_generated_province() {
    let mut orgs = vec![json!({"id": "t", "name": "Tỉnh", "kind": "province"})];
    let mut leaves = Vec::new();
    for h in 0..3 {
        orgs.push(json!({"id": format!("h{h}"), "parent_id": "t", "name": format!("Huyện {h}"), "kind": "district"}));
        for g in 0..4 {
            let gid = format!("h{h}g{g}");
            let sector = ["phuong", "dnk"][g % 2];
            orgs.push(
                json!({"id": gid, "parent_id": format!("h{h}"), "name": format!("Cơ sở {h}-{g}"),
                "kind": "committee", "grassroots": true, "sector": sector}),
            );
            for b in 0..2 {
                let bid = format!("{gid}b{b}");
                orgs.push(json!({"id": bid, "parent_id": gid, "name": format!("Chi bộ {b}"), "kind": "sub_branch"}));
                leaves.push(bid);
            }
        }
    }
    // Terms from congress to congress, mid-month, so that reports read their edges day
    // by day; the second district has its own.
    let store = store_with(json!({
        "orgs": orgs,
        "org_years": [{"org_id": "t", "year": 2025, "members_start": 0, "target": 100}],
        "users": [{"username": "bantochuc", "display_name": "Ban Tổ chức", "password": "mat-khau-dai-2026", "role": "admin", "scope_org": "t"}],
        "terms": [
            {"org_id": "t", "name": "2020-2025", "start_date": "2020-10-14", "end_date": "2025-10-12"},
            {"org_id": "t", "name": "2025-2030", "start_date": "2025-10-12", "end_date": "2030-10-20"},
            {"org_id": "h1", "name": "2020-2025", "start_date": "2020-09-03", "end_date": "2025-08-21"},
            {"org_id": "h1", "name": "2025-2030", "start_date": "2025-08-21", "end_date": "2030-08-30"}
        ],
        "term_targets": [
            {"org_id": "t", "term": "2020-2025", "target": 300},
            {"org_id": "h1", "term": "2020-2025", "target": 90},
            {"org_id": "h1", "term": "2025-2030", "target": 80}
        ]
    }));
    let mut rng = Rng::new(0x1234_5678);
    let mut ids = Ids(1000);
    let mut cases = Vec::new();
    let ethnicities = ["Kinh", "kinh", "Tày", "Mường", "", "KINH"];
    let educations = [
        None,
        Some(shared::model::EducationLevel::University),
        Some(shared::model::EducationLevel::UpperSecondary),
    ];
    for k in 0..600 {
        let org = &leaves[rng.below(leaves.len() as u64) as usize];
        let mut c = person(org, &format!("Người {k}"));
        c.person.sex = Some(if rng.below(2) == 0 {
            Sex::Female
        } else {
            Sex::Male
        });
        c.person.ethnicity = ethnicities[rng.below(6) as usize].into();
        // Birthdays on 29 February and near the 18/30 boundaries.
        c.person.birth_date = Some(match rng.below(4) {
            0 => d("1996-02-29"),
            1 => d("2006-06-15"),
            _ => d("1990-01-01").add_days(rng.below(6000) as i32),
        });
        c.person.education_level = educations[rng.below(3) as usize];
        c.person.youth_union_member = rng.below(2) == 0;
        c.person.occupation = Occupation::ALL.get(rng.below(15) as usize).copied();
        c.source.kind = SourceKind::ALL.get(rng.below(5) as usize).copied();
        if rng.below(4) > 0 {
            let entered = d("2022-06-01").add_days(rng.below(1400) as i32);
            c.source.outstanding_list_date = Some(entered);
            match rng.below(3) {
                0 => c.awareness_class.certificate_date = Some(entered.add_months(3)),
                1 => c.awareness_class.class_id = "lop-1".into(),
                _ => {}
            }
        }
        if rng.below(3) > 0 {
            let day = d("2023-01-01").add_days(rng.below(1200) as i32);
            c.decision.date_signed = Some(day);
            if rng.below(2) == 0 {
                c.official_date = Some(day.add_months(12));
            }
        }
        cases.push(c);
    }
    import(&store, &mut ids, cases.clone());
    // Re-import a third of them changed (organisation, decision, ethnicity): updates.
    let rules = RulesConfig::default();
    let actor = admin::system_actor(&store).unwrap();
    {
        let mut conn = store.conn();
        let tx = conn.transaction().unwrap();
        let mut ids = Ids(1000);
        for c in cases.iter_mut() {
            let id = ids.next();
            match rng.below(6) {
                0 => c.org_id = leaves[rng.below(leaves.len() as u64) as usize].clone(),
                1 => c.decision.date_signed = None,
                2 => c.decision.date_signed = Some(d("2025-02-28")),
                3 => c.person.ethnicity = "Thái".into(),
                _ => continue,
            }
            let mut review = shared::doc::ReviewNote::default();
            if rng.below(10) == 0 {
                // Merged into another file: it leaves every count.
                review.merged_into = "00000000000000000000000000000001".into();
            }
            let rec = CaseFileRecord {
                id,
                case: c.clone(),
                review,
            };
            admin::write_case_file(&tx, &rules, &actor, &rec, d("2026-01-01")).unwrap();
        }
        tx.commit().unwrap();
    }
    let c = caller("t", "/t/");
    // The tree changes under the files: a grassroots organisation moves to another
    // district, and a branch is merged into one of a third district (its files move, one
    // change each).
    let decision = server::orgtree::Decision {
        effective: d("2025-03-01"),
        reference: "QĐ 12-QĐ/TU".into(),
    };
    inspect::insert_idle_device(&store.conn(), &c.device_id, c.user_id, "test").unwrap();
    let admin = Admin::check(c.clone()).unwrap();
    server::orgtree::move_under(&store, &admin, "h0g1", "h2", &decision).unwrap();
    let moved = server::orgtree::merge(
        &store,
        &RulesConfig::default(),
        &admin,
        "h1g2b0",
        "h0g3b1",
        &decision,
    )
    .unwrap();
    assert!(moved > 0, "the merged organisation had files");
    let conn = store.conn();
    // Every rollup equals its recomputation from the projections.
    for f in server::rollups::families() {
        assert_eq!(
            f.stored(&conn).unwrap(),
            f.recompute(&conn).unwrap(),
            "{}",
            f.table
        );
    }
    let orgs = OrgIndex::load(&conn).unwrap();
    let today = d("2026-06-30");
    let filters = [
        CaseFilter {
            year: Some(2025),
            ..CaseFilter::default()
        },
        CaseFilter {
            from: Some(d("2023-03-01")),
            to: Some(d("2026-02-28")),
            ..CaseFilter::default()
        },
        CaseFilter {
            org: Some("h1".into()),
            year: Some(2024),
            ..CaseFilter::default()
        },
        CaseFilter {
            org: Some("h2g1".into()),
            from: Some(d("2023-01-01")),
            to: Some(d("2026-12-31")),
            ..CaseFilter::default()
        },
        CaseFilter {
            term: Some("2020-2025".into()),
            ..CaseFilter::default()
        },
        CaseFilter {
            org: Some("h1".into()),
            term: Some("2025-2030".into()),
            ..CaseFilter::default()
        },
        CaseFilter {
            org: Some("h2".into()),
            from: Some(d("2023-05-17")),
            to: Some(d("2025-02-03")),
            ..CaseFilter::default()
        },
    ];
    let mut nonzero = 0;
    let mut nonzero_cohorts = 0;
    for f in &filters {
        let a = reports::dashboard_via(&conn, &orgs, &c, f, 2, today, Via::Aggregates).unwrap();
        let b = reports::dashboard_via(&conn, &orgs, &c, f, 2, today, Via::Direct).unwrap();
        nonzero += usize::from(a.admitted > 0 && a.official > 0 && a.breakdown.age_18_30 > 0);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::to_value(&b).unwrap(),
            "{f:?}"
        );
        let ka = reports::cohort(&conn, &orgs, &c, f, today).unwrap();
        let kb =
            reports::with_cohort_listed(|| reports::cohort(&conn, &orgs, &c, f, today)).unwrap();
        assert_eq!(ka, kb);
        nonzero_cohorts += usize::from(ka.total.entered > 0 && ka.total.admitted_of_attendees > 0);
        let pa = reports::plan(&conn, &orgs, &c, f, today, Via::Aggregates).unwrap();
        let pb = reports::plan(&conn, &orgs, &c, f, today, Via::Direct).unwrap();
        assert_eq!(
            serde_json::to_value(&pa).unwrap(),
            serde_json::to_value(&pb).unwrap()
        );
    }
    assert_eq!(
        nonzero,
        filters.len(),
        "every compared dashboard has figures"
    );
    assert_eq!(
        nonzero_cohorts,
        filters.len(),
        "every compared cohort has figures"
    );
    // The aggregate tables hold no empty rows.
    let empty = inspect::empty_aggregate_rows(&conn).unwrap();
    assert_eq!(empty, 0);
}
