//! End-to-end tests of the central office: the dashboard's figures over the demo district
//! (the Ngô Quyền article), the conflict queue through the pages, exports read back,
//! refusal of cadre accounts on every central endpoint, and the audit history.

use std::collections::BTreeSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{Value, json};
use server::db::inspect;
use tests::{TestApp, spawn_app};

/// A browser session on the central pages: the session cookie and the form token.
struct Browser {
    http: reqwest::Client,
    url: String,
    cookie: String,
}

impl Browser {
    async fn login(app: &TestApp, username: &str) -> (u16, Option<Browser>) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = http
            .post(format!("{}/central/login", app.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("origin", &app.url)
            .body(format!(
                "username={username}&password={}&next=%2Fcentral%2Fconflicts",
                server::demo::DEMO_PASSWORD
            ))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        match cookie {
            Some(c) if status == 303 => {
                assert!(
                    c.contains("HttpOnly") && c.contains("SameSite=Strict"),
                    "{c}"
                );
                let pair = c.split(';').next().unwrap().to_string();
                (
                    status,
                    Some(Browser {
                        http,
                        url: app.url.clone(),
                        cookie: pair,
                    }),
                )
            }
            _ => (status, None),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .http
            .get(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn post_form(&self, path: &str, body: &str, origin: &str) -> u16 {
        self.http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

fn form_encode(s: &str) -> String {
    server::reports::url_encode(s)
}

fn csrf_of(html: &str) -> String {
    let at = html.find(r#"name="csrf" value=""#).expect("a form token");
    let rest = &html[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn reviewer_token(app: &TestApp) -> String {
    app.device("bantochuc").await.unwrap().token
}

async fn dashboard(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app
        .get_json(token, &format!("/api/review/dashboard?{query}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_list_shaped_by_unreadable_rule_settings_is_refused_not_counted_under_the_defaults() {
    let app = spawn_app().await;
    let token = reviewer_token(&app).await;
    let cohort = "/api/review/cases?year=2021&cohort=1";
    let (status, body) = app.get_json(&token, cohort).await.unwrap();
    assert_eq!(status, 200, "{body}");
    server::db::settings::put_setting(&app.store().conn(), "rule_settings", "{ không đọc được")
        .unwrap();
    let (status, body) = app.get_json(&token, cohort).await.unwrap();
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "INTERNAL", "{body}");
    assert!(!body["error"]["message_vi"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn the_dashboard_shows_the_figures_of_the_ngo_quyen_article() {
    let app = spawn_app().await;
    let token = reviewer_token(&app).await;
    let y2020 = dashboard(&app, &token, "year=2020").await;
    let y2021 = dashboard(&app, &token, "year=2021&years_without=2").await;
    let jan_may = dashboard(&app, &token, "from=2022-01-01&to=31/05/2022").await;
    assert_eq!(y2020["admitted"], 195);
    assert_eq!(y2021["admitted"], 200);
    assert_eq!(jan_may["admitted"], 51);
    // Against the yearly target of 200 and the members at the start of the year.
    assert_eq!(y2021["target"], 200);
    assert_eq!(y2021["target_percent"], 100.0);
    let y2022 = dashboard(&app, &token, "year=2022").await;
    assert_eq!(y2022["members_start"], 11_971);
    // The demo's history goes on after the published January–May 2022.
    assert!(y2022["admitted"].as_i64().unwrap() > 51);
    // 25 of the 86 grassroots organisations admitted nobody in 2020–2021.
    let none = &y2021["no_admission"];
    assert_eq!(
        (none["first_year"].as_i64(), none["last_year"].as_i64()),
        (Some(2020), Some(2021))
    );
    assert_eq!(none["grassroots_total"], 86);
    assert_eq!(none["orgs"].as_array().unwrap().len(), 25);
    // The term 2020–2025 and its target of 1,000.
    let term = dashboard(&app, &token, "term=2020-2025").await;
    assert_eq!(term["target"], 1000);
    // The term runs from congress to congress, not over whole calendar years: the same
    // dates asked as a period give the same count.
    let (from, to) = (
        term["period"]["from"].as_str().unwrap().to_string(),
        term["period"]["to"].as_str().unwrap().to_string(),
    );
    assert_ne!(from, "2020-01-01");
    let same = dashboard(&app, &token, &format!("from={from}&to={to}")).await;
    assert_eq!(term["admitted"], same["admitted"]);
    // The bars per organisation add up to the total.
    let per_org: i64 = y2021["per_org"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_i64().unwrap())
        .sum();
    assert_eq!(per_org, 200);

    // The page shows the same figures, and the list behind each has as many files.
    let (status, html) = get_page(&app, &token, "/central?year=2021").await;
    assert_eq!(status, 200);
    assert!(html.contains(">200</a>"), "admitted figure on the page");
    assert!(html.contains(">25/86</a>"));
    let (_, html22) = get_page(&app, &token, "/central?year=2022").await;
    assert!(html22.contains(r#"id="members">11.971<"#));
    let href = link_of(&html, r#"id="admitted" href=""#);
    assert!(href.starts_with("/central/cases?"), "{href}");
    let (_, list) = get_page(&app, &token, &href.replace("&amp;", "&")).await;
    assert!(list.contains(r#"<strong id="total">200</strong>"#));
    let api = href
        .replace("/central/cases?", "/api/review/cases?")
        .replace("&amp;", "&");
    let (_, page) = app.get_json(&token, &api).await.unwrap();
    assert_eq!(page["total"], 200);
    // Breakdown figures open their lists too.
    let women = y2021["breakdown"]["women"].as_i64().unwrap();
    let (_, w) = app
        .get_json(&token, "/api/review/cases?year=2021&admitted=1&female=1")
        .await
        .unwrap();
    assert_eq!(w["total"].as_i64().unwrap(), women);
    let stages: i64 = y2021["per_stage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["count"].as_i64().unwrap())
        .sum();
    let (_, every) = app
        .get_json(&token, "/api/review/cases?limit=1")
        .await
        .unwrap();
    assert_eq!(stages, every["total"].as_i64().unwrap());
}

async fn get_page(app: &TestApp, token: &str, path: &str) -> (u16, String) {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn link_of(html: &str, marker: &str) -> String {
    let at = html.find(marker).expect("the marker");
    let rest = &html[at + marker.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

#[tokio::test]
async fn a_conflict_resolved_in_the_central_view_reaches_a_device_and_leaves_the_queue() {
    let app = spawn_app().await;
    let mut a = app.device("canbo.lachtray").await.unwrap();
    let mut b = app.device("canbo.lachtray").await.unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // The demo comes with a few open conflicts of its own.
    let token = reviewer_token(&app).await;
    let (_, before) = app.get_json(&token, "/api/review/conflicts").await.unwrap();
    let open_before = before.as_array().unwrap().len();
    let id = a.doc_ids()[0].clone();
    a.edit(
        &id,
        "case.person.workplace_unit",
        json!("Trường THCS Lạch Tray"),
    )
    .unwrap();
    b.edit(
        &id,
        "case.person.workplace_unit",
        json!("Công ty <Cảng> Hải Phòng"),
    )
    .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    let (status, browser) = Browser::login(&app, "bantochuc").await;
    assert_eq!(status, 303);
    let browser = browser.unwrap();
    let (status, html) = browser.get("/central/conflicts").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!(
        r#"<strong id="conflict-count">{}</strong>"#,
        open_before + 1
    )));
    assert!(html.contains("Trường THCS Lạch Tray"));
    // Values are escaped, never injected as markup.
    assert!(html.contains("Công ty &lt;Cảng&gt; Hải Phòng"));
    assert!(!html.contains("<Cảng>"));
    assert!(html.contains("Trần Văn Hùng (canbo.lachtray)"));
    assert!(html.contains("máy thử canbo.lachtray"));
    let csrf = csrf_of(&html);
    let (_, list) = app.get_json(&token, "/api/review/conflicts").await.unwrap();
    let cid = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c.to_string().contains("workplace_unit"))
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/central/conflicts/{cid}/resolve");
    // A form without the session's token, or from another site, changes nothing.
    let typed = "choice=__new__&new_value=C%C3%B4ng+ty+C%E1%BA%A3ng+H%E1%BA%A3i+Ph%C3%B2ng";
    assert_eq!(browser.post_form(&path, typed, &app.url).await, 403);
    assert_eq!(
        browser
            .post_form(
                &path,
                &format!("csrf={csrf}&{typed}"),
                "http://evil.example"
            )
            .await,
        403
    );
    // The reviewer types a new value.
    assert_eq!(
        browser
            .post_form(
                &path,
                &format!("csrf={}&{typed}", form_encode(&csrf)),
                &app.url
            )
            .await,
        303
    );
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    for d in [&a, &b] {
        assert_eq!(
            d.case(&id).unwrap().person.workplace_unit,
            "Công ty Cảng Hải Phòng"
        );
        assert!(shared::doc::conflicts(&d.replica.docs[&id].doc).is_empty());
    }
    let (_, html) = browser.get("/central/conflicts").await;
    assert!(html.contains(&format!(
        r#"<strong id="conflict-count">{open_before}</strong>"#
    )));
    // Resolved conflicts keep their history.
    let (_, closed) = browser.get("/central/conflicts?state=closed").await;
    assert!(closed.contains("Nguyễn Thị Bích Ngọc (bantochuc)"));
    assert!(closed.contains("Trường THCS Lạch Tray"));
}

fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range(name).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

fn number(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

async fn download(app: &TestApp, token: &str, path: &str) -> (u16, String, Vec<u8>) {
    let resp = app
        .http
        .get(format!("{}{path}", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, kind, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn an_xlsx_export_read_back_holds_the_same_figures_as_the_screen() {
    let app = spawn_app().await;
    let token = reviewer_token(&app).await;
    let screen = dashboard(&app, &token, "year=2021&years_without=2").await;
    let (status, kind, bytes) = download(
        &app,
        &token,
        "/api/review/export/dashboard?format=xlsx&year=2021&years_without=2",
    )
    .await;
    assert_eq!(status, 200);
    assert!(kind.contains("spreadsheetml"), "{kind}");
    let summary = sheet(&bytes, "Tổng hợp");
    let value = |label: &str| {
        summary
            .iter()
            .skip(1)
            .find(|r| {
                let cell = r[0].to_string();
                cell == label
                    || (label.ends_with('…') && cell.starts_with(label.trim_end_matches('…')))
            })
            .map(|r| number(&r[1]))
            .unwrap_or_else(|| panic!("no row {label}"))
    };
    assert_eq!(value("Kết nạp đảng viên"), 200.0);
    assert_eq!(
        value("Kết nạp đảng viên"),
        screen["admitted"].as_f64().unwrap()
    );
    assert_eq!(value("Chỉ tiêu"), 200.0);
    assert_eq!(value("Tổ chức cơ sở đảng không…"), 25.0);
    assert_eq!(value("Tổ chức cơ sở đảng"), 86.0);
    assert_eq!(value("Nữ"), screen["breakdown"]["women"].as_f64().unwrap());
    let per_org = sheet(&bytes, "Theo tổ chức");
    let total: f64 = per_org.iter().skip(1).map(|r| number(&r[2])).sum();
    assert_eq!(total, 200.0);
    assert_eq!(sheet(&bytes, "Không kết nạp").len(), 26);

    // The case list behind the figure, as XLSX and CSV, in English too.
    let (_, _, cases) = download(
        &app,
        &token,
        "/api/review/export/cases?format=xlsx&year=2021&admitted=1&lang=en",
    )
    .await;
    let rows = sheet(&cases, "Case files");
    assert_eq!(rows.len(), 201);
    assert_eq!(rows[0][0].to_string(), "Full name");
    let (_, kind, csv) = download(
        &app,
        &token,
        "/api/review/export/cases?format=csv&year=2021&admitted=1",
    )
    .await;
    assert!(kind.starts_with("text/csv"));
    assert!(csv.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM for Excel");
    let text = String::from_utf8(csv).unwrap();
    assert_eq!(text.lines().count(), 201);
    assert!(text.contains("Họ và tên"));
    // Every other report exports too.
    for report in ["findings", "deadlines", "conflicts"] {
        let (status, _, bytes) = download(
            &app,
            &token,
            &format!("/api/review/export/{report}?format=xlsx"),
        )
        .await;
        assert_eq!(status, 200, "{report}");
        assert_eq!(&bytes[..2], b"PK");
    }
    let (status, _, json) =
        download(&app, &token, "/api/review/export/case-files?org=phuong-11").await;
    assert_eq!(status, 200);
    let data: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(data["format"], server::admin::CASE_FILES_FORMAT);
    assert!(!data["case_files"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_cadre_cannot_open_a_central_session_and_without_one_pages_lead_to_sign_in() {
    // Every route's refusal to the roles below its access is `roles.rs`, walked from the
    // router's access table; this test covers the sign-in form and the session.
    let app = spawn_app().await;
    // A cadre cannot open a central session with the login form either.
    let (status, browser) = Browser::login(&app, "canbo.lachtray").await;
    assert_eq!(status, 403);
    assert!(browser.is_none());
    // Without any session the pages lead to the sign-in form and the API says 401.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = http
        .get(format!("{}/central/findings", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/central/login")
    );
    let resp = http
        .get(format!("{}/api/review/cases", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn the_audit_history_names_the_right_users_and_devices() {
    let app = spawn_app().await;
    let mut dev = app.device("canbo.lachtray").await.unwrap();
    dev.sync().await.unwrap();
    let id = dev.doc_ids()[0].clone();
    dev.edit(&id, "case.person.workplace_unit", json!("Chợ Lạch Tray"))
        .unwrap();
    dev.sync().await.unwrap();
    let (status, browser) = Browser::login(&app, "bantochuc").await;
    assert_eq!(status, 303);
    let browser = browser.unwrap();
    let (status, html) = browser
        .get(&format!("/central/cases/{}", id.as_str()))
        .await;
    assert_eq!(status, 200);
    let csrf = csrf_of(&html);
    // The reviewer returns the file with a comment from the page.
    let status = browser
        .post_form(
            &format!("/central/cases/{}/return", id.as_str()),
            &format!(
                "csrf={}&action=return&comment={}",
                form_encode(&csrf),
                form_encode("Bổ sung lý lịch")
            ),
            &app.url,
        )
        .await;
    assert_eq!(status, 303);
    dev.sync().await.unwrap();
    let note = shared::doc::read_review(&dev.replica.docs[&id].doc);
    assert!(note.returned);
    assert_eq!(note.comment, "Bổ sung lý lịch");

    let token = reviewer_token(&app).await;
    let (status, history) = app
        .get_json(
            &token,
            &format!("/api/review/cases/{}/history", id.as_str()),
        )
        .await
        .unwrap();
    assert_eq!(status, 200);
    let entries = history.as_array().unwrap();
    let actor = dev.actor.to_hex_string();
    let cadre = entries
        .iter()
        .find(|e| e["actor"] == actor.as_str())
        .expect("the cadre's edit");
    assert!(
        cadre["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "case.person.workplace_unit")
    );
    assert_eq!(cadre["user"], "Trần Văn Hùng (canbo.lachtray)");
    assert_eq!(cadre["device"], "máy thử canbo.lachtray");
    let review = entries
        .iter()
        .rev()
        .find(|e| {
            e["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f == "review.comment")
        })
        .expect("the reviewer's return");
    assert_eq!(review["user"], "Nguyễn Thị Bích Ngọc (bantochuc)");
    assert_eq!(review["device"], "Trình duyệt — văn phòng cấp ủy");
    let first = &entries[0];
    assert_eq!(first["user"], "Hệ thống (he-thong)");
    // The page shows the same history, newest first.
    let (_, html) = browser
        .get(&format!("/central/cases/{}", id.as_str()))
        .await;
    let users: BTreeSet<&str> = [
        "Trần Văn Hùng (canbo.lachtray)",
        "Nguyễn Thị Bích Ngọc (bantochuc)",
    ]
    .into_iter()
    .filter(|u| html.contains(u))
    .collect();
    assert_eq!(users.len(), 2);
    assert!(html.contains("Bổ sung lý lịch"));
}

#[tokio::test]
async fn the_findings_and_deadline_queues_filter_by_organisation_code_and_stage() {
    let app = spawn_app().await;
    let token = reviewer_token(&app).await;
    let (status, all) = app.get_json(&token, "/api/review/findings").await.unwrap();
    assert_eq!(status, 200);
    let all = all.as_array().unwrap();
    assert!(!all.is_empty(), "the demo has candidates with findings");
    let code = all[0]["code"].as_str().unwrap().to_string();
    let (_, by_code) = app
        .get_json(
            &token,
            &format!("/api/review/findings?code={code}&org=phuong-11"),
        )
        .await
        .unwrap();
    for f in by_code.as_array().unwrap() {
        assert_eq!(f["code"], code.as_str());
    }
    let (_, blocking) = app
        .get_json(
            &token,
            "/api/review/findings?severity=blocking&stage=branch_vote",
        )
        .await
        .unwrap();
    for f in blocking.as_array().unwrap() {
        assert_eq!(f["severity"], "blocking");
        assert_eq!(f["stage"], "branch_vote");
    }
    let (status, d) = app
        .get_json(&token, "/api/review/deadlines?days=14")
        .await
        .unwrap();
    assert_eq!(status, 200);
    let per_org: i64 = d["per_org"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["overdue"].as_i64().unwrap() + o["upcoming"].as_i64().unwrap())
        .sum();
    assert_eq!(per_org as usize, d["rows"].as_array().unwrap().len());
    // The pages render in Vietnamese, and in English when asked.
    for path in [
        "/central/findings",
        "/central/deadlines",
        "/central/cases?q=nguyen",
    ] {
        let (status, html) = get_page(&app, &token, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains(r#"<html lang="vi">"#));
    }
    let (_, html) = get_page(&app, &token, "/central/findings?lang=en").await;
    assert!(html.contains("Findings queue"));
}

#[tokio::test]
async fn names_written_as_markup_show_escaped_on_every_central_page() {
    const HOSTILE: &str = r#"<script>alert(1)</script>"'&"#;
    const SHOWN: &str = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;";
    let app = spawn_app().await;
    let (status, admin) = Browser::login(&app, "admin").await;
    assert_eq!(status, 303);
    let admin = admin.unwrap();
    let (_, tree) = admin.get("/central/admin/orgs").await;
    let csrf = csrf_of(&tree);
    // An organisation, an account and a person, each named with markup.
    let status = admin
        .post_form(
            "/central/admin/orgs",
            &format!(
                "csrf={csrf}&action=rename&org=phuong-11&name={}&effective=01%2F12%2F2026&decision=QD-1",
                form_encode(HOSTILE)
            ),
            &app.url,
        )
        .await;
    assert_eq!(status, 303, "the organisation is renamed");
    let status = admin
        .post_form(
            "/central/admin/accounts",
            &format!(
                "csrf={csrf}&username=ke.la&display_name={}&role=reviewer&scope_org=phuong-11&password=",
                form_encode(HOSTILE)
            ),
            &app.url,
        )
        .await;
    assert_eq!(status, 303, "the account is created");
    let mut cadre = app.device("canbo.lachtray").await.unwrap();
    cadre.sync().await.unwrap();
    let id = cadre.doc_ids()[0].clone();
    cadre
        .edit(&id, "case.person.full_name", json!(HOSTILE))
        .unwrap();
    cadre.sync().await.unwrap();

    let case = format!("/central/cases/{id}");
    let search = format!("/central/cases?org=phuong-11&q={}", form_encode(HOSTILE));
    for path in [
        "/central",
        "/central/plan",
        "/central/cohort",
        "/central/cases?org=phuong-11",
        search.as_str(),
        case.as_str(),
        "/central/conflicts",
        "/central/findings",
        "/central/deadlines",
        "/central/duplicates",
        "/central/admin/accounts",
        "/central/admin/orgs",
        "/central/admin/targets",
        "/central/admin/members",
        "/central/admin/classes",
    ] {
        let (status, html) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script"), "{path} carries a script element");
        if path != "/central/conflicts" {
            assert!(html.contains(SHOWN), "{path} shows the escaped name");
        }
    }
    // The person's name in the page title and heading, the query in its input.
    let (_, html) = admin.get(&case).await;
    assert!(html.contains(&format!("<title>{SHOWN} · ")));
    assert!(html.contains(&format!("<h1>{SHOWN}</h1>")));
    let (_, html) = admin.get(&search).await;
    assert!(html.contains(&format!(r#"name="q" value="{SHOWN}""#)));
}

#[tokio::test]
async fn a_case_page_evaluates_its_file_as_the_queues_store_it() {
    // The store keeps findings and open deadlines only; the case detail evaluates the
    // document again. Both must agree, and met deadlines still show on the case.
    let app = spawn_app().await;
    let token = reviewer_token(&app).await;
    let (_, findings) = app
        .get_json(&token, "/api/review/findings?severity=blocking")
        .await
        .unwrap();
    let (_, deadlines) = app
        .get_json(&token, "/api/review/deadlines?days=366")
        .await
        .unwrap();
    let today: shared::date::Date = deadlines["today"].as_str().unwrap().parse().unwrap();
    let until = today.add_days(366).to_string();
    let deadlines = deadlines["rows"].as_array().unwrap();
    let ids: BTreeSet<String> = deadlines
        .iter()
        .map(|d| d["doc_id"].as_str().unwrap().to_string())
        .take(8)
        .collect();
    assert!(!ids.is_empty(), "the demo has open deadlines");
    let mut met = 0;
    let mut context = 0;
    for id in &ids {
        let (status, detail) = app
            .get_json(&token, &format!("/api/review/cases/{id}"))
            .await
            .unwrap();
        assert_eq!(status, 200, "{detail}");
        let eval = &detail["evaluation"];
        let stored_findings: BTreeSet<String> = findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["doc_id"] == id.as_str())
            .map(|f| format!("{} {}", f["code"], f["field"]))
            .collect();
        let evaluated_findings: BTreeSet<String> = eval["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "blocking")
            .map(|f| format!("{} {}", f["code"], f["field"]))
            .collect();
        assert_eq!(evaluated_findings, stored_findings, "{id}");
        let open: BTreeSet<String> = eval["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["done"] == false && d["code"] != "DL_PROBATION_END")
            .filter(|d| d["due"].as_str().unwrap() <= until.as_str())
            .map(|d| format!("{} {}", d["code"], d["due"]))
            .collect();
        let queued: BTreeSet<String> = deadlines
            .iter()
            .filter(|d| d["doc_id"] == id.as_str())
            .map(|d| format!("{} {}", d["code"], d["due"]))
            .collect();
        assert_eq!(open, queued, "{id}");
        met += eval["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["done"] == true)
            .count();
        context += eval["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "info")
            .count();
    }
    assert!(met > 0, "met deadlines are still part of the evaluation");
    // Context findings ("info") are shown on the case page from its evaluation; no queue
    // shows them, and they are not stored.
    assert!(context > 0, "the case page still shows context findings");
    let stored_info = inspect::findings_with_severity(&app.store().read(), "info").unwrap();
    assert_eq!(stored_info, 0);
}
