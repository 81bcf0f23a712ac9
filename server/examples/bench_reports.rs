//! Benchmark of the central office's report queries over a province-size store, and of
//! an XLSX export of 100,000 rows. Run with
//! `cargo run --release -p server --example bench_reports [case files]`.
//!
//! The store is generated directly with batched SQL inserts of projection rows (plus
//! their `docs`, `findings` and `deadlines` rows), not Automerge documents: the reports
//! read only those tables, and building a million real documents would take hours. The
//! projections' `case_json` and `eval_json` columns hold a 200-byte stand-in instead of
//! the full JSON (about 3 KB), so table scans here touch fewer pages than on a real
//! store; the indexed queries the dashboard uses are not affected by it.

use std::time::Instant;

use server::auth::{Caller, Role};
use server::db::inspect::{self, GeneratedProjection};
use server::db::store::Store;
use server::db::{docs, orgs, targets};
use server::figures::Via;
use server::reports::{self, Admitted, CaseFilter, OrgId, OrgIndex, Recorded};
use shared::api::Org;
use shared::date::Date;

/// Districts of the generated province, and grassroots organisations per district.
const DISTRICTS: usize = 20;
const GRASSROOTS_PER_DISTRICT: usize = 60;

use shared::rand::XorShift as Rng;

const FAMILY: &[&str] = &["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"];
const MIDDLE: &[&str] = &["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Hà", "Lan", "Hùng", "Mai", "Sơn", "Yến", "Đạt",
];
const STAGES: &[&str] = &[
    "source",
    "awareness_class",
    "file_preparation",
    "branch_vote",
    "committee",
];

const SOURCES: &[&str] = &["youth_union", "trade_union", "other_association", "other"];
const OCCUPATIONS: &[&str] = &[
    "high_school_student",
    "student",
    "worker",
    "farmer",
    "civil_servant",
    "enterprise_owner",
];

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    println!("{label:<58} {:>9.1} ms", t.elapsed().as_secs_f64() * 1000.0);
    out
}

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    // `BENCH_REPORTS_STORE=FILE` keeps the generated store in FILE and, when FILE already
    // holds one, measures it again without generating.
    let kept = std::env::var_os("BENCH_REPORTS_STORE").map(std::path::PathBuf::from);
    let dir = std::env::temp_dir().join(format!("bench-reports-{}", std::process::id()));
    let path = match &kept {
        Some(p) => p.clone(),
        None => {
            std::fs::create_dir_all(&dir)?;
            dir.join("store.sqlite")
        }
    };
    let reuse = kept.is_some() && path.exists();
    let store = Store::open(&path)?;
    let today = Date::from_ymd(2026, 6, 1)?;
    if !reuse {
        generate(&store, total, today)?;
    }
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("database file: {:.0} MB\n", bytes as f64 / 1e6);
    measure(&store, today)?;
    drop(store);
    if kept.is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
    Ok(())
}

/// An organisation of the generated tree.
fn org(
    id: &str,
    parent: Option<&str>,
    name: &str,
    kind: &str,
    sector: &str,
    grassroots: bool,
) -> Org {
    Org {
        id: id.into(),
        parent_id: parent.map(String::from),
        name: name.into(),
        kind: kind.into(),
        sector: sector.into(),
        grassroots,
    }
}

/// Generates the province and `total` case files into an empty store.
fn generate(store: &Store, total: usize, today: Date) -> anyhow::Result<()> {
    let mut rng = Rng::new(0x2026_0806);

    // The organisation tree: province → districts → committees (with branches) and branches.
    let t = Instant::now();
    let mut leaf_orgs: Vec<String> = Vec::new();
    let mut grassroots: Vec<String> = Vec::new();
    {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        orgs::upsert(
            &tx,
            &org("tinh", None, "Đảng bộ tỉnh", "province", "", false),
            "/tinh/",
        )?;
        for y in 2015..=2026 {
            targets::put_year(&tx, "tinh", y, 0, 6000)?;
        }
        targets::put_term(
            &tx,
            "tinh",
            "2020-2025",
            Date::from_ymd(2020, 10, 14)?,
            Date::from_ymd(2025, 10, 12)?,
            "Đại hội XVII",
        )?;
        targets::put_term_target(&tx, "tinh", "2020-2025", 30000)?;
        let sectors = ["phuong", "hcsn", "dnnn", "dnk"];
        for d in 0..DISTRICTS {
            let did = format!("h{d:02}");
            let dpath = format!("/tinh/{did}/");
            orgs::upsert(
                &tx,
                &org(
                    &did,
                    Some("tinh"),
                    &format!("Đảng bộ huyện số {d}"),
                    "district",
                    "",
                    false,
                ),
                &dpath,
            )?;
            for g in 0..GRASSROOTS_PER_DISTRICT {
                let gid = format!("{did}-g{g:03}");
                let gpath = format!("{dpath}{gid}/");
                let committee = g % 2 == 0;
                orgs::upsert(
                    &tx,
                    &org(
                        &gid,
                        Some(&did),
                        &format!("Tổ chức cơ sở đảng {d}-{g}"),
                        if committee { "committee" } else { "branch" },
                        sectors[g % 4],
                        true,
                    ),
                    &gpath,
                )?;
                for y in 2015..=2026 {
                    targets::put_year(&tx, &gid, y, 100 + rng.below(900) as i64, 0)?;
                }
                grassroots.push(gid.clone());
                if committee {
                    for b in 0..4 {
                        let bid = format!("{gid}-cb{b}");
                        orgs::upsert(
                            &tx,
                            &org(
                                &bid,
                                Some(&gid),
                                &format!("Chi bộ {b}"),
                                "sub_branch",
                                sectors[g % 4],
                                false,
                            ),
                            &format!("{gpath}{bid}/"),
                        )?;
                        leaf_orgs.push(bid);
                    }
                } else {
                    leaf_orgs.push(gid);
                }
            }
        }
        tx.commit()?;
    }
    println!(
        "generated {} organisations ({} grassroots) in {:.1} s",
        leaf_orgs.len() + grassroots.len() / 2 + DISTRICTS + 1,
        grassroots.len(),
        t.elapsed().as_secs_f64()
    );

    // The case files' projections, in batches of 50,000 rows per transaction.
    let t = Instant::now();
    let filler = "x".repeat(200);
    let mut done = 0;
    while done < total {
        let batch = (total - done).min(50_000);
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        {
            let mut rows = inspect::file_rows(&tx)?;
            for i in done..done + batch {
                let id = format!("{i:032x}");
                let org = &leaf_orgs[rng.below(leaf_orgs.len() as u64) as usize];
                let name = format!(
                    "{} {} {}",
                    FAMILY[rng.below(FAMILY.len() as u64) as usize],
                    MIDDLE[rng.below(MIDDLE.len() as u64) as usize],
                    GIVEN[rng.below(GIVEN.len() as u64) as usize]
                );
                let admitted = rng.below(100) < 45;
                let decision = admitted.then(|| {
                    Date::from_days_since_epoch(
                        Date::from_ymd(2015, 1, 1)
                            .map(|d| d.days_since_epoch())
                            .unwrap_or(0)
                            + rng.below(11 * 365 + 150) as i32,
                    )
                });
                let stage = match decision {
                    Some(d) if d.add_months(14) < today => "official",
                    Some(d) if d.add_months(1) < today => "probation",
                    Some(_) => "decision",
                    None => STAGES[rng.below(STAGES.len() as u64) as usize],
                };
                let age = 18 + rng.below(30) as i32;
                let birth = decision.unwrap_or(today).add_months(-(age * 12) - 3);
                let class = (admitted || rng.below(2) == 0)
                    .then(|| decision.unwrap_or(today).add_months(-10));
                let minority = rng.below(100) < 8;
                let entered = decision
                    .unwrap_or(today.add_days(-(rng.below(900) as i32)))
                    .add_months(-14);
                let official = decision.map(|d| d.add_months(13)).filter(|d| *d < today);
                docs::insert_doc(&tx, &id, org, 0)?;
                rows.projection(&GeneratedProjection {
                    doc_id: &id,
                    org_id: org,
                    stage,
                    full_name: &name,
                    sex: if rng.below(2) == 0 { "female" } else { "male" },
                    ethnicity: if minority { "Tày" } else { "Kinh" },
                    birth_date: birth.to_string(),
                    education: "university",
                    youth_union: age <= 30,
                    introduced: admitted || rng.below(2) == 0,
                    class_date: class.map(|d| d.to_string()),
                    branch_vote_date: decision.map(|d| d.add_days(-40).to_string()),
                    decision_date: decision.map(|d| d.to_string()),
                    ceremony_date: decision.map(|d| d.add_days(20).to_string()),
                    official_date: official.map(|d| d.to_string()),
                    stopped: false,
                    blocking: i64::from(!admitted && rng.below(100) < 5),
                    warnings: i64::from(rng.below(100) < 10),
                    returned: false,
                    evaluated_on: today.to_string(),
                    json: &filler,
                    source_kind: SOURCES[rng.below(SOURCES.len() as u64) as usize],
                    occupation: OCCUPATIONS[rng.below(OCCUPATIONS.len() as u64) as usize],
                    class_id: class
                        .map(|d| format!("lop-{}-{}", d.year(), (d.month() - 1) / 3))
                        .unwrap_or_default(),
                    outstanding_date: entered.to_string(),
                    minority,
                    decision_age: decision.map(|_| age),
                })?;
                if rng.below(100) < 10 {
                    rows.finding(&id, "AGE_NEAR_LIMIT", "warning")?;
                }
                if !admitted && rng.below(100) < 20 {
                    let due = today.add_days(rng.below(60) as i32 - 30);
                    rows.deadline(&id, &due.to_string())?;
                }
            }
        }
        tx.commit()?;
        done += batch;
    }
    println!(
        "generated {total} projection rows in {:.1} s ({:.0} rows/s)",
        t.elapsed().as_secs_f64(),
        total as f64 / t.elapsed().as_secs_f64()
    );
    inspect::analyze(&store.conn())?;
    Ok(())
}

/// Times the report queries over the store.
fn measure(store: &Store, today: Date) -> anyhow::Result<()> {
    let caller = Caller {
        user_id: 1,
        username: "bantochuc".into(),
        display_name: "Ban Tổ chức Tỉnh ủy".into(),
        role: Role::Reviewer,
        scope_org: "tinh".into(),
        scope_path: "/tinh/".into(),
        device_id: "bench".into(),
    };
    let conn = store.conn();
    let orgs = timed("load the organisation tree", || OrgIndex::load(&conn))?;
    let year = |y: i32, org: Option<&str>| CaseFilter {
        year: Some(y),
        org: org.map(OrgId::from),
        ..CaseFilter::default()
    };
    for (label, filter) in [
        ("dashboard, whole province, year 2024", year(2024, None)),
        (
            "dashboard, one district, year 2024",
            year(2024, Some("h03")),
        ),
        (
            "dashboard, one grassroots organisation, year 2024",
            year(2024, Some("h03-g010")),
        ),
        (
            "dashboard, whole province, term 2020-2025",
            CaseFilter {
                term: Some("2020-2025".into()),
                ..CaseFilter::default()
            },
        ),
    ] {
        let d = timed(label, || {
            reports::dashboard(&conn, &orgs, &caller, &filter, 2, today)
        })?;
        println!(
            "    admitted {}, official {}, members {:?}, cohort {}, no admission {}/{}",
            d.admitted,
            d.official,
            d.members_start,
            d.cohort.total.entered,
            d.no_admission.orgs.len(),
            d.no_admission.grassroots_total
        );
    }
    // Where the province's term goes, figure by figure.
    {
        let root = orgs.get("tinh").cloned().expect("the province");
        let filter = CaseFilter {
            term: Some("2020-2025".into()),
            ..CaseFilter::default()
        };
        let period = filter.resolve(&conn, &orgs, &root, today)?.period;
        let adm = timed(
            "  of the term: admissions (who, per organisation, per year)",
            || server::figures::admitted(&conn, &orgs, &root, period, false, Via::Aggregates),
        )?;
        let off = timed("  of the term: recognitions", || {
            server::figures::officials(&conn, &orgs, &root, period, Via::Aggregates)
        })?;
        let coh = timed("  of the term: cohort conversion", || {
            reports::cohort(&conn, &orgs, &caller, &filter, today)
        })?;
        let cls = timed("  of the term: classes and certificates", || {
            server::classes::figures(&conn, &orgs, &root.path, period)
        })?;
        println!(
            "    admitted {}, official {off}, cohort {}, certificates {}",
            adm.tally.n, coh.total.entered, cls.certificates_in_period
        );
    }
    let direct = timed(
        "dashboard read from the projections (no rollups), province 2024",
        || {
            reports::dashboard_via(
                &conn,
                &orgs,
                &caller,
                &year(2024, None),
                2,
                today,
                Via::Direct,
            )
        },
    )?;
    println!("    admitted {}", direct.admitted);
    let plan = timed("plan vs done, whole province, year 2024", || {
        reports::plan(
            &conn,
            &orgs,
            &caller,
            &year(2024, None),
            today,
            Via::Aggregates,
        )
    })?;
    println!(
        "    {} organisations, {} at 0 %",
        plan.rows.len(),
        plan.rows
            .iter()
            .filter(|r| r.status == reports::PlanStatus::Zero)
            .count()
    );
    let cohort = timed("cohort conversion, whole province, year 2024", || {
        reports::cohort(&conn, &orgs, &caller, &year(2024, None), today)
    })?;
    println!(
        "    entered {}, attended {}, admitted {}",
        cohort.total.entered, cohort.total.attended_class, cohort.total.admitted
    );
    let youth = timed("cohort conversion, one district, Youth Union, 2024", || {
        reports::cohort(
            &conn,
            &orgs,
            &caller,
            &CaseFilter {
                source: Some(Recorded::Is(shared::model::SourceKind::YouthUnion)),
                ..year(2024, Some("h03"))
            },
            today,
        )
    })?;
    println!(
        "    entered {}, admitted {}",
        youth.total.entered, youth.total.admitted
    );
    let list = timed("case list: admitted in 2024, whole province", || {
        reports::cases(
            &conn,
            &orgs,
            &caller,
            &CaseFilter {
                admitted: Some(Admitted::InPeriod),
                ..year(2024, None)
            },
            today,
        )
    })?;
    println!("    {} rows", list.len());
    let women = timed("case list: women admitted in 2024, one district", || {
        reports::cases(
            &conn,
            &orgs,
            &caller,
            &CaseFilter {
                admitted: Some(Admitted::InPeriod),
                female: true,
                ..year(2024, Some("h03"))
            },
            today,
        )
    })?;
    println!("    {} rows", women.len());
    let search = timed(
        "case list: name search \"nguyen van an\", one district",
        || {
            reports::cases(
                &conn,
                &orgs,
                &caller,
                &CaseFilter {
                    org: Some("h05".into()),
                    q: Some("nguyen van an".into()),
                    ..CaseFilter::default()
                },
                today,
            )
        },
    )?;
    println!("    {} rows", search.len());
    let stage = timed("case list: stage branch_vote, one district", || {
        reports::cases(
            &conn,
            &orgs,
            &caller,
            &CaseFilter {
                org: Some("h05".into()),
                stage: Some(shared::stage::Stage::BranchVote),
                ..CaseFilter::default()
            },
            today,
        )
    })?;
    println!("    {} rows", stage.len());
    let f = timed("findings queue, one district", || {
        reports::findings(
            &conn,
            &orgs,
            &caller,
            &CaseFilter {
                org: Some("h07".into()),
                ..CaseFilter::default()
            },
            today,
        )
    })?;
    println!("    {} findings", f.len());
    let d = timed("deadlines, whole province, 14 days", || {
        reports::deadlines(&conn, &orgs, &caller, None, 14, today)
    })?;
    println!("    {} overdue, {} upcoming", d.overdue, d.upcoming);

    // XLSX of 100,000 rows: the admissions of several years across the province.
    let rows = reports::cases(
        &conn,
        &orgs,
        &caller,
        &CaseFilter {
            admitted: Some(Admitted::InPeriod),
            from: "2016-01-01".parse().ok(),
            to: "2026-12-31".parse().ok(),
            ..CaseFilter::default()
        },
        today,
    )?;
    drop(conn);
    let rows: Vec<_> = rows.into_iter().take(100_000).collect();
    let sheet = server::export::cases_sheet(&rows, false);
    let bytes = timed(&format!("XLSX export of {} rows", rows.len()), || {
        server::export::xlsx(std::slice::from_ref(&sheet))
    })?;
    println!("    {:.1} MB", bytes.len() as f64 / 1e6);
    let csv = timed(&format!("CSV export of {} rows", rows.len()), || {
        server::export::csv(&sheet)
    });
    println!("    {:.1} MB", csv.len() as f64 / 1e6);
    Ok(())
}
