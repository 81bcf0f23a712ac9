//! Administration in the browser: accounts, devices, rule settings, the calendar and the
//! audit log, through the real `/central/admin` pages (session cookie, form token,
//! origin), against the real server.

use serde_json::json;
use server::db::{inspect, members, targets};
use tests::{Device, TestApp, login_device, spawn_app};

/// A signed-in office browser: its session cookie and the form token of its pages.
struct Office {
    http: reqwest::Client,
    url: String,
    cookie: String,
}

impl Office {
    async fn login(app: &TestApp, username: &str, password: &str) -> Office {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = http
            .post(format!("{}/central/login", app.url))
            .header("origin", &app.url)
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 303, "login of {username}");
        let cookie = resp.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        Office {
            http,
            url: app.url.clone(),
            cookie,
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

    /// Posts a form with the page's token; returns the status and the redirect target.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let (_, html) = self.get("/central/admin/accounts").await;
        let csrf = csrf_of(&html);
        self.post_with(path, fields, &csrf, &self.url).await
    }

    async fn post_with(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        csrf: &str,
        origin: &str,
    ) -> (u16, String) {
        let mut all = vec![("csrf", csrf)];
        all.extend_from_slice(fields);
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .header("cookie", &self.cookie)
            .header("origin", origin)
            .form(&all)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = resp.text().await.unwrap_or_default();
        (status, if location.is_empty() { body } else { location })
    }
}

fn csrf_of(html: &str) -> String {
    let key = r#"name="csrf" value=""#;
    let at = html.find(key).expect("a form token");
    let rest = &html[at + key.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn query_param(location: &str, name: &str) -> String {
    let q = location.split_once('?').map(|x| x.1).unwrap_or("");
    q.split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .map(|v| {
            let bytes = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
        .unwrap_or_default()
}

fn account_id(html: &str, username: &str) -> i64 {
    let key = format!(">{username}</a>");
    let at = html.find(&key).expect("the account is listed");
    let before = &html[..at];
    let start =
        before.rfind("/central/admin/accounts/").unwrap() + "/central/admin/accounts/".len();
    before[start..before[start..].find('"').unwrap() + start]
        .parse()
        .unwrap()
}

fn org_count(dev: &Device, prefix: &str) -> usize {
    dev.doc_ids()
        .iter()
        .filter(|id| dev.case(id).unwrap().org_id.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn an_administrator_creates_a_cadre_narrows_the_scope_and_revokes_the_device_from_the_pages()
{
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let (status, location) = admin
        .post(
            "/central/admin/accounts",
            &[
                ("username", "canbo.moi"),
                ("display_name", "Phạm Văn Mới"),
                ("role", "cadre"),
                ("scope_org", "phuong-11"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let password = query_param(&location, "password");
    assert_eq!(password.len(), 12, "{location}");
    let (_, list) = admin.get("/central/admin/accounts?q=pham van").await;
    assert!(list.contains("canbo.moi") && list.contains("Chờ đổi mật khẩu"));
    let id = account_id(&list, "canbo.moi");

    // The cadre signs in on the PWA's API and sees exactly the ward's files.
    let login = app
        .http
        .post(format!("{}/api/login", app.url))
        .json(&json!({"username": "canbo.moi", "password": password, "device_name": "máy mới"}))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = login.json().await.unwrap();
    assert_eq!(body["must_change_password"], true);
    let mut dev = login_device(&app.http, &app.url, "canbo.moi", &password)
        .await
        .unwrap();
    dev.sync().await.unwrap();
    let ward = dev.doc_ids().len();
    assert!(ward > 0);
    assert_eq!(org_count(&dev, "phuong-11"), ward);
    let branch = org_count(&dev, "phuong-11-cb1");
    assert!(branch > 0 && branch < ward);

    // Narrowed to one branch: the other files leave the device at its next sync.
    let (status, location) = admin
        .post(
            &format!("/central/admin/accounts/{id}"),
            &[
                ("display_name", "Phạm Văn Mới"),
                ("role", "cadre"),
                ("scope_org", "phuong-11-cb1"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    dev.sync().await.unwrap();
    assert_eq!(dev.doc_ids().len(), branch);

    // Revoked from the page (after the confirmation naming the user): wiped next time.
    let (_, devices) = admin.get("/central/admin/devices").await;
    assert!(devices.contains("máy thử canbo.moi"));
    let (status, confirm) = admin
        .get(&format!("/central/admin/devices/{}/revoke", dev.device_id))
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Phạm Văn Mới"), "{confirm}");
    let (status, _) = admin
        .post(
            &format!("/central/admin/devices/{}/revoke", dev.device_id),
            &[],
        )
        .await;
    assert_eq!(status, 303);
    let err = dev.sync().await.unwrap_err().to_string();
    assert!(
        err.contains("410") && err.contains("DEVICE_REVOKED"),
        "{err}"
    );

    // Every step is in the audit log, which can be searched and exported.
    let (_, log) = admin.get("/central/admin/audit?q=canbo.moi").await;
    for action in ["account.create", "account.update", "device.revoke"] {
        assert!(log.contains(action), "{action} missing");
    }
    let csv = admin
        .get("/central/admin/audit?format=csv&q=canbo.moi")
        .await
        .1;
    assert!(csv.contains("account.update") && csv.contains("phuong-11-cb1"));
}

#[tokio::test]
async fn reviewers_and_cadres_get_403_on_every_admin_route_and_forged_forms_are_refused() {
    let app = spawn_app().await;
    let reviewer = Office::login(&app, "bantochuc", "demo2026").await;
    let cadre = app.device("canbo.lachtray").await.unwrap();
    for (path, method) in server::central::admin::ROUTES {
        let path = path.replace("{id}", "1");
        let url = format!("{}{path}", app.url);
        let as_reviewer = if *method == "GET" {
            reviewer.get(&path).await.0
        } else {
            let (_, html) = reviewer.get("/central").await;
            reviewer
                .post_with(&path, &[], &csrf_of(&html), &app.url)
                .await
                .0
        };
        assert_eq!(as_reviewer, 403, "{method} {path} as a reviewer");
        let req = if *method == "GET" {
            app.http.get(&url)
        } else {
            app.http.post(&url).header("origin", &app.url)
        };
        let status = req
            .bearer_auth(&cadre.token)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 403, "{method} {path} as a cadre");
    }
    let admin = Office::login(&app, "admin", "demo2026").await;
    let fields = [
        ("username", "ke.gia.mao"),
        ("display_name", "Giả mạo"),
        ("role", "admin"),
        ("scope_org", "ngo-quyen"),
    ];
    let (status, _) = admin
        .post_with("/central/admin/accounts", &fields, "token-gia", &app.url)
        .await;
    assert_eq!(status, 403);
    let (_, html) = admin.get("/central/admin/accounts").await;
    let (status, _) = admin
        .post_with(
            "/central/admin/accounts",
            &fields,
            &csrf_of(&html),
            "http://ke-xau.example",
        )
        .await;
    assert_eq!(status, 403);
    let (_, list) = admin.get("/central/admin/accounts").await;
    assert!(!list.contains("ke.gia.mao"));
}

#[tokio::test]
async fn changing_a_rule_setting_reevaluates_open_files_and_is_audited() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let evaluated_since =
        |t: i64| inspect::projections_updated_since(&app.store().conn(), t).unwrap();
    let started = server::auth::now_secs();
    let (_, page) = admin.get("/central/admin/settings").await;
    assert!(page.contains("name=\"s.verification_reply_working_days\""));
    let (status, location) = admin
        .post(
            "/central/admin/settings",
            &[
                ("s.verification_reply_working_days", "1"),
                ("s.age_reading", "day_precise"),
                ("effective", "01/12/2026"),
                ("reason", "Công văn 123-CV/TU ngày 25/11/2026"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert!(location.contains("reevaluated="), "{location}");
    let settings = app.state.rules().settings;
    assert_eq!(settings.verification_reply_working_days, Some(1));
    assert_eq!(settings.age_reading, shared::rules::AgeReading::DayPrecise);
    let (files, reevaluated) = evaluated_since(started);
    assert_eq!(files, reevaluated, "every file was evaluated again");
    let (_, log) = admin.get("/central/admin/audit?q=settings").await;
    assert!(log.contains("settings.rules") && log.contains("Công văn 123-CV/TU"));
    let (_, page) = admin.get("/central/admin/settings").await;
    assert!(page.contains("01/12/2026") || page.contains("2026-12-01"));
    // A bad value is refused with its name, and nothing changes.
    let (status, body) = admin
        .post(
            "/central/admin/settings",
            &[
                ("s.youth_age_max", "ba mươi"),
                ("effective", "01/12/2026"),
                ("reason", "thử"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("Tuổi thanh niên"), "{body}");
    assert_eq!(app.state.rules().settings.youth_age_max, 30);
}

#[tokio::test]
async fn a_calendar_year_is_edited_with_its_notice_and_a_bad_line_is_named() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let (_, page) = admin.get("/central/admin/calendar?year=2028").await;
    assert!(page.contains("2028"));
    let (status, body) = admin
        .post(
            "/central/admin/calendar",
            &[
                ("year", "2028"),
                ("holidays", "01/01/2028 Tết Dương lịch\n31/02/2028 Ngày sai"),
                ("working_days", ""),
                ("notice", "Thông báo 01/TB-BNV"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains("dòng 2"), "{body}");
    let (status, _) = admin
        .post(
            "/central/admin/calendar",
            &[
                ("year", "2028"),
                (
                    "holidays",
                    "01/01/2028 Tết Dương lịch\n25/01/2028 Tết Nguyên đán",
                ),
                ("working_days", "29/01/2028 Làm bù"),
                ("notice", "Thông báo 01/TB-BNV"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(app.state.rules().calendar.covers_year(2028));
    let (_, page) = admin.get("/central/admin/calendar").await;
    assert!(page.contains("Thông báo 01/TB-BNV"));
    let (_, log) = admin.get("/central/admin/audit?q=calendar").await;
    assert!(log.contains("settings.calendar"));
}

#[tokio::test]
async fn a_reset_password_must_be_changed_at_the_next_sign_in() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let (_, list) = admin.get("/central/admin/accounts").await;
    let id = account_id(&list, "bantochuc");
    let (status, location) = admin
        .post(
            &format!("/central/admin/accounts/{id}/password"),
            &[("password", "")],
        )
        .await;
    assert_eq!(status, 303);
    let password = query_param(&location, "password");
    assert_eq!(password.len(), 12);
    assert!(
        app.device("bantochuc").await.is_err(),
        "the old password is gone"
    );
    let reviewer = Office::login(&app, "bantochuc", &password).await;
    let resp = reviewer
        .http
        .get(format!("{}/central/conflicts", app.url))
        .header("cookie", &reviewer.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/central/password")
    );
    let (_, form) = reviewer.get("/central/password").await;
    let (status, _) = reviewer
        .post_with(
            "/central/password",
            &[
                ("current", password.as_str()),
                ("new", "mat-khau-moi-2026"),
                ("repeat", "mat-khau-moi-2026"),
            ],
            &csrf_of(&form),
            &app.url,
        )
        .await;
    assert_eq!(status, 303);
    let (status, _) = reviewer.get("/central/conflicts").await;
    assert_eq!(status, 200);
    // The administrator cannot lock themselves out.
    let own = account_id(&list, "admin");
    let (status, body) = admin
        .post(
            &format!("/central/admin/accounts/{own}"),
            &[
                ("display_name", "Quản trị"),
                ("role", "reviewer"),
                ("scope_org", "ngo-quyen"),
                ("active", "1"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

async fn cases_under(app: &TestApp, token: &str, org: &str) -> u64 {
    let (status, body) = app
        .get_json(token, &format!("/api/review/cases?org={org}"))
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    body["total"].as_u64().unwrap()
}

#[tokio::test]
async fn merging_two_branches_moves_their_files_and_the_tree_keeps_the_history() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let reviewer = app.device("bantochuc").await.unwrap();
    let from = cases_under(&app, &reviewer.token, "phuong-11-cb2").await;
    let into = cases_under(&app, &reviewer.token, "phuong-11-cb1").await;
    assert!(from > 0 && into > 0);
    let mut cadre = app.device("canbo.lachtray").await.unwrap();
    cadre.sync().await.unwrap();
    let (status, location) = admin
        .post(
            "/central/admin/orgs",
            &[
                ("action", "merge"),
                ("org", "phuong-11-cb2"),
                ("into", "phuong-11-cb1"),
                ("effective", "01/12/2026"),
                ("decision", "Quyết định 45-QĐ/ĐU ngày 28/11/2026"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(
        cases_under(&app, &reviewer.token, "phuong-11-cb1").await,
        from + into
    );
    assert_eq!(cases_under(&app, &reviewer.token, "phuong-11-cb2").await, 0);
    // The cadre's device follows: every file of the old branch now names the new one.
    cadre.sync().await.unwrap();
    assert_eq!(org_count(&cadre, "phuong-11-cb2"), 0);
    let (_, page) = admin.get("/central/admin/orgs?org=phuong-11-cb1").await;
    assert!(
        page.contains("Quyết định 45-QĐ/ĐU"),
        "the tree's history shows the merge"
    );
    assert!(page.contains("giải thể"));
    // A closed organisation takes no new accounts.
    let (status, _) = admin
        .post(
            "/central/admin/accounts",
            &[
                ("username", "canbo.cu"),
                ("display_name", "Cán bộ cũ"),
                ("role", "cadre"),
                ("scope_org", "phuong-11-cb2"),
            ],
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_branch_moved_to_another_ward_leaves_one_device_and_reaches_the_other() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let mut lachtray = app.device("canbo.lachtray").await.unwrap();
    let mut caute = app.device("canbo.caute").await.unwrap();
    lachtray.sync().await.unwrap();
    caute.sync().await.unwrap();
    let moving = org_count(&lachtray, "phuong-11-cb3");
    assert!(moving > 0);
    let before_caute = caute.doc_ids().len();
    let (status, location) = admin
        .post(
            "/central/admin/orgs",
            &[
                ("action", "move"),
                ("org", "phuong-11-cb3"),
                ("parent", "phuong-04"),
                ("effective", "01/07/2025"),
                ("decision", "Nghị quyết sắp xếp đơn vị hành chính"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    lachtray.sync().await.unwrap();
    caute.sync().await.unwrap();
    assert_eq!(org_count(&lachtray, "phuong-11-cb3"), 0);
    assert_eq!(caute.doc_ids().len(), before_caute + moving);
    // Adding, renaming and closing are kept in the history too.
    for fields in [
        vec![
            ("action", "add"),
            ("parent", "phuong-04"),
            ("id", "phuong-04-cb9"),
            ("name", "Chi bộ mới"),
            ("kind", "branch"),
        ],
        vec![
            ("action", "rename"),
            ("org", "phuong-04-cb9"),
            ("name", "Chi bộ khu 9"),
        ],
        vec![("action", "close"), ("org", "phuong-04-cb9")],
    ] {
        let mut all = fields.clone();
        all.extend([("effective", "02/07/2025"), ("decision", "QĐ 7")]);
        let (status, location) = admin.post("/central/admin/orgs", &all).await;
        assert_eq!(status, 303, "{fields:?}: {location}");
    }
    let (_, page) = admin.get("/central/admin/orgs?org=phuong-04-cb9").await;
    for action in ["add", "rename", "close"] {
        assert!(page.contains(&format!("<code>{action}</code>")), "{action}");
    }
    // A move under its own unit is refused.
    let (status, _) = admin
        .post(
            "/central/admin/orgs",
            &[
                ("action", "move"),
                ("org", "phuong-04"),
                ("parent", "phuong-11-cb3"),
                ("effective", "02/07/2025"),
                ("decision", "QĐ 8"),
            ],
        )
        .await;
    assert_eq!(status, 400);
}

fn members_of(app: &TestApp, org: &str) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = members::of_org(&app.store().conn(), org)
        .unwrap()
        .into_iter()
        .map(|m| (m.id, m.full_name))
        .collect();
    rows.sort();
    rows
}

async fn upload(admin: &Office, file: Vec<u8>, name: &str) -> (u16, String) {
    let (_, page) = admin.get("/central/admin/members").await;
    let csrf = csrf_of(&page);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(file).file_name(name.to_string()),
    );
    let resp = admin
        .http
        .post(format!(
            "{}/central/admin/members?csrf={}",
            admin.url,
            server::reports::url_encode(&csrf)
        ))
        .header("cookie", &admin.cookie)
        .header("origin", &admin.url)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_members_register_with_one_bad_row_stores_nothing_and_names_the_row() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    let before = members_of(&app, "phuong-11-cb1");
    assert!(!before.is_empty());
    let bad = "\u{feff}ma;to_chuc;ho_ten;ngay_chinh_thuc;trang_thai\n\
        DV-1;phuong-11-cb1;Nguyễn Văn Một;05/03/2010;chính thức\n\
        DV-2;phuong-11-cb1;Trần Thị Hai;31/02/2015;chính thức\n\
        DV-3;khong-co;Lê Văn Ba;;dự bị\n";
    let (status, html) = upload(&admin, bad.as_bytes().to_vec(), "dang-vien.csv").await;
    assert_eq!(status, 200);
    assert!(html.contains("Chưa có gì được lưu"), "{html}");
    assert!(
        html.contains("<td>3</td>") && html.contains("31/02/2015"),
        "{html}"
    );
    assert!(
        html.contains("<td>4</td>") && html.contains("khong-co"),
        "{html}"
    );
    assert_eq!(members_of(&app, "phuong-11-cb1"), before);

    // A good file: previewed, then stored when confirmed.
    let good = "ma,to_chuc,ho_ten,ngay_chinh_thuc,trang_thai\n\
        DV-1,phuong-11-cb1,Nguyễn Văn Một,05/03/2010,chính thức\n\
        DV-2,phuong-11-cb1,\"Trần Thị Hai, con\",2015-02-28,dự bị\n";
    let (status, html) = upload(&admin, good.as_bytes().to_vec(), "dang-vien.csv").await;
    assert_eq!(status, 200);
    assert!(html.contains("2 thêm mới"), "{html}");
    assert!(
        html.contains(&format!("{} xoá khỏi danh sách", before.len())),
        "{html}"
    );
    assert_eq!(
        members_of(&app, "phuong-11-cb1"),
        before,
        "nothing stored yet"
    );
    let token = {
        let key = r#"name="token" value=""#;
        let at = html.find(key).unwrap() + key.len();
        html[at..at + html[at..].find('"').unwrap()].to_string()
    };
    let (status, location) = admin
        .post("/central/admin/members/apply", &[("token", token.as_str())])
        .await;
    assert_eq!(status, 303, "{location}");
    let after = members_of(&app, "phuong-11-cb1");
    assert_eq!(
        after,
        vec![
            ("DV-1".to_string(), "Nguyễn Văn Một".to_string()),
            ("DV-2".to_string(), "Trần Thị Hai, con".to_string())
        ]
    );
    let (_, log) = admin.get("/central/admin/audit?q=members").await;
    assert!(log.contains("members.import"));
    // The same file as XLSX reads the same.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in [
        ["ma", "to_chuc", "ho_ten", "ngay_chinh_thuc", "trang_thai"],
        [
            "DV-9",
            "phuong-11-cb1",
            "Phạm Chín",
            "01/01/2020",
            "chính thức",
        ],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    let (status, html) = upload(&admin, book.save_to_buffer().unwrap(), "dv.xlsx").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("1 thêm mới") && html.contains("Phạm Chín"),
        "{html}"
    );
}

#[tokio::test]
async fn a_target_revised_mid_year_keeps_both_values_the_date_and_the_decision() {
    let app = spawn_app().await;
    let admin = Office::login(&app, "admin", "demo2026").await;
    for (target, date, decision) in [
        ("12", "15/01/2026", "Nghị quyết 01-NQ/ĐU"),
        ("15", "10/07/2026", "Nghị quyết 09-NQ/ĐU điều chỉnh"),
    ] {
        let (status, location) = admin
            .post(
                "/central/admin/targets",
                &[
                    ("org", "phuong-11"),
                    ("kind", "year"),
                    ("year", "2026"),
                    ("members_start", "1.234"),
                    ("target", target),
                    ("effective", date),
                    ("decision", decision),
                ],
            )
            .await;
        assert_eq!(status, 303, "{location}");
    }
    let (status, location) = admin
        .post(
            "/central/admin/targets",
            &[
                ("org", "phuong-11"),
                ("kind", "term"),
                ("name", "Nhiệm kỳ 2025–2030"),
                ("start", "12/06/2025"),
                ("end", "30/06/2030"),
                ("target", "70"),
                ("decision", "Nghị quyết Đại hội lần thứ XX"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = admin.get("/central/admin/targets?org=phuong-11").await;
    assert!(page.contains("12 → 15"), "old and new value");
    assert!(page.contains("10/07/2026") && page.contains("Nghị quyết 09-NQ/ĐU điều chỉnh"));
    assert!(page.contains("Nhiệm kỳ 2025–2030") && page.contains("12/06/2025"));
    let (_, target) = targets::year(&app.store().conn(), "phuong-11", 2026)
        .unwrap()
        .unwrap();
    assert_eq!(target, 15);
    let (_, log) = admin.get("/central/admin/audit?q=targets").await;
    assert!(log.contains("targets.target"));
}

/// Two server processes over one store (here two states over one SQLite file): a rule
/// setting changed through one is what the other evaluates with on its next request,
/// since nothing another process needs is kept only in memory.
#[tokio::test]
async fn a_rule_setting_changed_through_one_server_is_used_by_another_over_the_same_store() {
    use shared::rules::TermWithoutDates;
    let app = spawn_app().await;
    let other = server::AppState::new(app.open_store_again(), None);
    assert_eq!(
        other.rules().settings.term_without_dates,
        TermWithoutDates::Refuse
    );
    let admin = server::extract::Admin::check(server::auth::Caller {
        user_id: 1,
        username: "admin".into(),
        display_name: "Quản trị".into(),
        role: server::auth::Role::Admin,
        scope_org: "quan-ngo-quyen".into(),
        scope_path: "/".into(),
        device_id: "test".into(),
    })
    .unwrap();
    let mut settings = app.state.rules().settings;
    settings.term_without_dates = TermWithoutDates::CalendarYears;
    server::administration::set_rule_settings(
        &app.state.store,
        &app.state.rules,
        &admin,
        &settings,
        "01/01/2026",
        "Công văn thử",
    )
    .unwrap();
    assert_eq!(
        other.rules().settings.term_without_dates,
        TermWithoutDates::CalendarYears,
        "the other server reads the changed setting"
    );
    assert_eq!(app.state.rules().settings, settings);
}
