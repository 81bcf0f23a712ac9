//! Administration pages under `/central/admin`, for the admin role only: accounts,
//! devices, rule settings, the working-day calendar and the audit log. Same session,
//! form token and origin checks as every central page; every change is written to the
//! audit log by `crate::administration`.
//!
//! [`ROUTES`] lists every route of this module with its method; the router is built from
//! it, and the role test walks the same list, so no route can go untested.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::Value;
use shared::calendar::CalendarEntry;
use shared::date::Date;
use shared::rules::RuleSettings;

use maud::{Markup, html};

use super::{PageForm, PageQuery};
use super::{Reviewer, error_page, format_time, page, run_form, run_page};
use crate::AppState;
use crate::administration as ops;
use crate::auth::Role;
use crate::error::AppError;
use crate::reports::{OrgIndex, url_encode};
use shared::api::ErrorCode;

/// An administration page's context with the proof that the caller is an administrator,
/// which the administration operations take.
pub struct Admin(pub Reviewer, pub crate::extract::Admin);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let r = Reviewer::from_request_parts(parts, state).await?;
        match crate::extract::Admin::check(crate::auth::Caller::clone(&r.caller)) {
            Ok(proof) => Ok(Admin(r, proof)),
            Err(e) => Err(error_page(r.lang, &e)),
        }
    }
}

/// Every administration route: path, method, and whether it changes data.
pub const ROUTES: &[(&str, &str)] = &[
    ("/central/admin", "GET"),
    ("/central/admin/accounts", "GET"),
    ("/central/admin/accounts", "POST"),
    ("/central/admin/accounts/{id}", "GET"),
    ("/central/admin/accounts/{id}", "POST"),
    ("/central/admin/accounts/{id}/password", "POST"),
    ("/central/admin/devices", "GET"),
    ("/central/admin/devices/{id}/revoke", "GET"),
    ("/central/admin/devices/{id}/revoke", "POST"),
    ("/central/admin/settings", "GET"),
    ("/central/admin/settings", "POST"),
    ("/central/admin/calendar", "GET"),
    ("/central/admin/calendar", "POST"),
    ("/central/admin/audit", "GET"),
    ("/central/admin/orgs", "GET"),
    ("/central/admin/orgs", "POST"),
    ("/central/admin/members", "GET"),
    ("/central/admin/members", "POST"),
    ("/central/admin/members/apply", "POST"),
    ("/central/admin/targets", "GET"),
    ("/central/admin/targets", "POST"),
    ("/central/admin/classes", "GET"),
    ("/central/admin/classes", "POST"),
];

fn handler(path: &str, method: &str) -> MethodRouter<Arc<AppState>> {
    match (path, method) {
        ("/central/admin", "GET") => get(home),
        ("/central/admin/accounts", "GET") => get(accounts),
        ("/central/admin/accounts", "POST") => post(create_account),
        ("/central/admin/accounts/{id}", "GET") => get(account_form),
        ("/central/admin/accounts/{id}", "POST") => post(update_account),
        ("/central/admin/accounts/{id}/password", "POST") => post(reset_password),
        ("/central/admin/devices", "GET") => get(devices),
        ("/central/admin/devices/{id}/revoke", "GET") => get(confirm_revoke),
        ("/central/admin/devices/{id}/revoke", "POST") => post(revoke),
        ("/central/admin/settings", "GET") => get(settings),
        ("/central/admin/settings", "POST") => post(save_settings),
        ("/central/admin/calendar", "GET") => get(calendar),
        ("/central/admin/calendar", "POST") => post(save_calendar),
        ("/central/admin/audit", "GET") => get(audit),
        ("/central/admin/orgs", "GET") => get(super::admin_tree::tree),
        ("/central/admin/orgs", "POST") => post(super::admin_tree::change),
        ("/central/admin/members", "GET") => get(super::admin_members::show),
        ("/central/admin/members", "POST") => post(super::admin_members::upload)
            .layer(axum::extract::DefaultBodyLimit::max(32 * 1024 * 1024)),
        ("/central/admin/members/apply", "POST") => post(super::admin_members::apply),
        ("/central/admin/targets", "GET") => get(super::admin_targets::show),
        ("/central/admin/targets", "POST") => post(super::admin_targets::save),
        ("/central/admin/classes", "GET") => get(super::admin_classes::show),
        ("/central/admin/classes", "POST") => post(super::admin_classes::save),
        _ => unreachable!("every entry of ROUTES has a handler"),
    }
}

pub fn routes() -> axum::Router<Arc<AppState>> {
    let mut by_path: BTreeMap<&str, MethodRouter<Arc<AppState>>> = BTreeMap::new();
    for (path, method) in ROUTES {
        let h = handler(path, method);
        let merged = match by_path.remove(path) {
            Some(existing) => existing.merge(h),
            None => h,
        };
        by_path.insert(path, merged);
    }
    by_path
        .into_iter()
        .fold(axum::Router::new(), |r, (p, m)| r.route(p, m))
}

fn nav(a: &Reviewer, active: &str) -> Markup {
    let l = a.lang;
    let items = [
        (
            "accounts",
            "/central/admin/accounts",
            l.t("Tài khoản", "Accounts"),
        ),
        (
            "devices",
            "/central/admin/devices",
            l.t("Thiết bị", "Devices"),
        ),
        (
            "settings",
            "/central/admin/settings",
            l.t("Thiết lập quy tắc", "Rule settings"),
        ),
        (
            "calendar",
            "/central/admin/calendar",
            l.t("Lịch ngày làm việc", "Working-day calendar"),
        ),
        (
            "audit",
            "/central/admin/audit",
            l.t("Nhật ký quản trị", "Audit log"),
        ),
        (
            "targets",
            "/central/admin/targets",
            l.t("Nhiệm kỳ và chỉ tiêu", "Terms and targets"),
        ),
        (
            "classes",
            "/central/admin/classes",
            l.t("Lớp nhận thức", "Awareness classes"),
        ),
    ];
    html! {
        nav.subnav {
            @for (i, (k, href, label)) in items.iter().enumerate() {
                @if i > 0 { " · " }
                a href=(href) aria-current=[(*k == active).then_some("page")] { (label) }
            }
        }
    }
}

/// Checks a form's token, then runs the page work on the blocking pool; every form of
/// the administration goes through here.
pub async fn on_form(
    a: Reviewer,
    csrf: String,
    work: impl FnOnce(Reviewer) -> Result<Response, AppError> + Send + 'static,
) -> Response {
    if let Some(resp) = a.refuse_bad_csrf(&csrf) {
        return resp;
    }
    let lang = a.lang;
    run_form(lang, move || work(a)).await
}

pub fn admin_page(a: &Reviewer, title: &str, active: &str, body: Markup) -> Response {
    page(a, title, "admin", html! { (nav(a, active)) (body) })
}

pub fn notice(text: &str) -> Markup {
    html! { p.banner role="status" { (text) } }
}

async fn home(Admin(a, _): Admin) -> Response {
    let l = a.lang;
    let body = html! {
        p { (l.t(
            "Quản lý tài khoản, thiết bị, thiết lập quy tắc và lịch ngày làm việc. Mọi thao tác được ghi vào nhật ký quản trị.",
            "Manage accounts, devices, rule settings and the working-day calendar. Every action is written to the audit log.",
        )) }
    };
    admin_page(&a, l.t("Quản trị", "Administration"), "", body)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AccountQuery {
    q: String,
    created: Option<String>,
    password: Option<String>,
}

/// The path of the organisation the administrator's scope starts at.
pub fn scope_root(orgs: &OrgIndex, a: &Reviewer) -> String {
    orgs.get(&a.caller.scope_org)
        .map(|o| o.path.clone())
        .unwrap_or_else(|| a.caller.scope_path.clone())
}

fn role_label(role: &str, en: bool) -> &'static str {
    match (role, en) {
        ("cadre", false) => "Cán bộ cơ sở",
        ("cadre", true) => "Cadre",
        ("reviewer", false) => "Ban tổ chức (rà soát)",
        ("reviewer", true) => "Reviewer",
        (_, false) => "Quản trị",
        (_, true) => "Administrator",
    }
}

fn role_options(selected: &str, en: bool) -> Markup {
    html! {
        @for r in ["cadre", "reviewer", "admin"] {
            option value=(r) selected[r == selected] { (role_label(r, en)) }
        }
    }
}

fn scope_options(orgs: &OrgIndex, root: &str, selected: &str) -> Markup {
    html! {
        @for o in orgs.subtree(root) {
            option value=(o.id) selected[o.id == selected] { (orgs.name_with_parents(&o.id)) }
        }
    }
}

async fn accounts(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageQuery(q): PageQuery<AccountQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let (rows, orgs) = {
            let conn = store.read();
            (ops::accounts(&conn, &admin, &q.q)?, OrgIndex::load(&conn)?)
        };
        let l = a.lang;
        let created = match (&q.created, &q.password) {
            (Some(user), Some(pw)) => Some(notice(&if l.en {
                format!("Account {user} created. Password (shown once, the user changes it at the first sign-in): {pw}")
            } else {
                format!("Đã tạo tài khoản {user}. Mật khẩu (chỉ hiện một lần, người dùng phải đổi khi đăng nhập lần đầu): {pw}")
            })),
            _ => None,
        };
        let scope_root = orgs
            .get(&a.caller.scope_org)
            .map(|o| o.path.clone())
            .unwrap_or_else(|| a.caller.scope_path.clone());
        let h = html! {
            @if let Some(n) = created { (n) }
            form method="get" action="/central/admin/accounts" class="filters" role="search" {
                label { (l.t("Tìm theo tên hoặc tên đăng nhập", "Find by name or username"))
                    input name="q" value=(q.q) type="search"; }
                button { (l.t("Tìm", "Find")) }
            }
            table {
                tr {
                    th { (l.t("Tên đăng nhập", "Username")) }
                    th { (l.t("Họ tên", "Name")) }
                    th { (l.t("Vai trò", "Role")) }
                    th { (l.t("Phạm vi", "Scope")) }
                    th { (l.t("Trạng thái", "State")) }
                    th { (l.t("Đăng nhập gần nhất", "Last sign-in")) }
                    th { (l.t("Thiết bị", "Devices")) }
                }
                @for r in &rows {
                    tr.account {
                        td { a href={ "/central/admin/accounts/" (r.id) } { (r.username) } }
                        td { (r.display_name) }
                        td { (role_label(&r.role, l.en)) }
                        td { (orgs.name_with_parents(&r.scope_org)) }
                        td { (match (r.active, r.must_change_password) {
                            (false, _) => l.t("Đã khoá", "Disabled"),
                            (true, true) => l.t("Chờ đổi mật khẩu", "Must change password"),
                            (true, false) => l.t("Đang dùng", "Active"),
                        }) }
                        td { (r.last_login.map(format_time).unwrap_or_else(|| "–".into())) }
                        td { (r.devices) }
                    }
                }
            }
            h2 { (l.t("Tạo tài khoản", "Create an account")) }
            form method="post" action="/central/admin/accounts" class="filters stacked" {
                (a.csrf_field())
                label { (l.t("Tên đăng nhập", "Username"))
                    input name="username" required autocomplete="off"; }
                label { (l.t("Họ tên", "Name"))
                    input name="display_name" required; }
                label { (l.t("Vai trò", "Role"))
                    select name="role" { (role_options("cadre", l.en)) } }
                label { (l.t("Phạm vi (tổ chức và các tổ chức trực thuộc)", "Scope (an organisation and everything below it)"))
                    select name="scope_org" { (scope_options(&orgs, &scope_root, "")) } }
                label { (l.t("Mật khẩu (để trống để tạo tự động)", "Password (leave empty to generate one)"))
                    input name="password" type="password" autocomplete="new-password"; }
                button { (l.t("Tạo tài khoản", "Create the account")) }
            }
        };
        Ok(admin_page(&a, l.t("Tài khoản", "Accounts"), "accounts", h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AccountForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    scope_org: String,
    password: String,
    active: Option<String>,
}

fn parse_role(s: &str) -> Result<Role, AppError> {
    Role::parse(s).ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::BadRole,
            format!("Vai trò không hợp lệ: {s}."),
            format!("Invalid role: {s}."),
        )
    })
}

async fn create_account(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<AccountForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        let role = parse_role(&f.role)?;
        let password = Some(f.password.as_str()).filter(|p| !p.is_empty());
        let (_, pw) = ops::create_account(
            &store,
            &admin,
            &f.username,
            &f.display_name,
            role,
            &f.scope_org,
            password,
        )?;
        // A password the administrator typed is not echoed back.
        let shown = if password.is_some() {
            "(đã đặt)".to_string()
        } else {
            pw
        };
        Ok(Redirect::to(&format!(
            "/central/admin/accounts?created={}&password={}",
            url_encode(f.username.trim()),
            url_encode(&shown)
        ))
        .into_response())
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AccountPageQuery {
    saved: Option<String>,
    password: Option<String>,
}

async fn account_form(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    Path(id): Path<i64>,
    PageQuery(q): PageQuery<AccountPageQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let (acc, orgs, devices) = {
            let conn = store.read();
            let acc = ops::accounts(&conn, &admin, "")?
                .into_iter()
                .find(|x| x.id == id)
                .ok_or_else(|| AppError::not_found("tài khoản", "Account"))?;
            let devices: Vec<_> = ops::devices(&conn, &admin)?
                .into_iter()
                .filter(|d| d.username == acc.username)
                .collect();
            (acc, OrgIndex::load(&conn)?, devices)
        };
        let l = a.lang;
        let password = q.password.as_ref().map(|pw| {
            notice(&if l.en {
                format!("New password (shown once; the user changes it at the next sign-in): {pw}")
            } else {
                format!("Mật khẩu mới (chỉ hiện một lần; người dùng phải đổi khi đăng nhập lần sau): {pw}")
            })
        });
        let scope_root = orgs
            .get(&a.caller.scope_org)
            .map(|o| o.path.clone())
            .unwrap_or_else(|| a.caller.scope_path.clone());
        let h = html! {
            @if q.saved.is_some() { (notice(l.t("Đã lưu.", "Saved."))) }
            @if let Some(n) = password { (n) }
            form method="post" action={ "/central/admin/accounts/" (id) } class="filters stacked" {
                (a.csrf_field())
                p {
                    strong { (acc.username) } " · " (l.t("đăng nhập gần nhất", "last sign-in")) ": "
                    (acc.last_login.map(format_time).unwrap_or_else(|| "–".into()))
                }
                label { (l.t("Họ tên", "Name"))
                    input name="display_name" value=(acc.display_name) required; }
                label { (l.t("Vai trò", "Role"))
                    select name="role" { (role_options(&acc.role, l.en)) } }
                label { (l.t("Phạm vi", "Scope"))
                    select name="scope_org" { (scope_options(&orgs, &scope_root, &acc.scope_org)) } }
                label.choice {
                    input type="checkbox" name="active" value="1" checked[acc.active];
                    " " (l.t("Cho phép đăng nhập", "May sign in"))
                }
                button { (l.t("Lưu", "Save")) }
            }
            h2 { (l.t("Đặt lại mật khẩu", "Reset the password")) }
            form method="post" action={ "/central/admin/accounts/" (id) "/password" } class="filters stacked" {
                (a.csrf_field())
                label { (l.t("Mật khẩu mới (để trống để tạo tự động)", "New password (leave empty to generate one)"))
                    input name="password" type="password" autocomplete="new-password"; }
                button { (l.t("Đặt lại mật khẩu", "Reset the password")) }
            }
            h2 { (l.t("Thiết bị", "Devices")) }
            (device_table(&a, &devices))
        };
        Ok(admin_page(&a, &acc.display_name, "accounts", h))
    })
    .await
}

async fn update_account(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    Path(id): Path<i64>,
    PageForm(f): PageForm<AccountForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        let role = parse_role(&f.role)?;
        ops::update_account(
            &store,
            &admin,
            id,
            &f.display_name,
            role,
            &f.scope_org,
            f.active.is_some(),
        )?;
        Ok(Redirect::to(&format!("/central/admin/accounts/{id}?saved=1")).into_response())
    })
    .await
}

async fn reset_password(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    Path(id): Path<i64>,
    PageForm(f): PageForm<AccountForm>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        let typed = Some(f.password.as_str()).filter(|p| !p.is_empty());
        let pw = ops::reset_password(&store, &admin, id, typed)?;
        let shown = if typed.is_some() {
            "(đã đặt)".to_string()
        } else {
            pw
        };
        Ok(Redirect::to(&format!(
            "/central/admin/accounts/{id}?password={}",
            url_encode(&shown)
        ))
        .into_response())
    })
    .await
}

fn device_table(a: &Reviewer, rows: &[ops::DeviceInfo]) -> Markup {
    let l = a.lang;
    html! {
        table {
            tr {
                th { (l.t("Người dùng", "User")) }
                th { (l.t("Thiết bị", "Device")) }
                th { (l.t("Lần đầu", "First seen")) }
                th { (l.t("Đồng bộ gần nhất", "Last sync")) }
                th { (l.t("Thay đổi bị từ chối", "Refused changes")) }
                th {}
            }
            @for d in rows {
                tr.device {
                    td { (d.display_name) " (" (d.username) ")" }
                    td { (d.name) }
                    td { (format_time(d.first_seen)) }
                    td { (d.last_sync.map(format_time).unwrap_or_else(|| "–".into())) }
                    td {
                        @if d.rejected > 0 {
                            (d.rejected) " (" (d.last_rejected_at.map(format_time).unwrap_or_default()) ")"
                        } @else { "0" }
                    }
                    td {
                        @match d.revoked_at {
                            Some(t) => { (l.t("Đã thu hồi", "Revoked")) " " (format_time(t)) }
                            None => {
                                a href={ "/central/admin/devices/" (url_encode(&d.id)) "/revoke" } {
                                    (l.t("Thu hồi…", "Revoke…"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn devices(State(state): State<Arc<AppState>>, Admin(a, admin): Admin) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let rows = ops::devices(&store.read(), &admin)?;
        let h = device_table(&a, &rows);
        Ok(admin_page(&a, a.t("Thiết bị", "Devices"), "devices", h))
    })
    .await
}

async fn confirm_revoke(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    Path(id): Path<String>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let d = ops::devices(&store.read(), &admin)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| AppError::not_found("thiết bị", "Device"))?;
        let l = a.lang;
        let question = if l.en {
            format!(
                "Revoke the device «{}» of {} ({})? At its next contact it wipes its data; changes it has not sent are lost.",
                d.name, d.display_name, d.username
            )
        } else {
            format!(
                "Thu hồi thiết bị «{}» của {} ({})? Lần kết nối tới, thiết bị sẽ tự xoá dữ liệu; các thay đổi chưa gửi sẽ mất.",
                d.name, d.display_name, d.username
            )
        };
        let h = html! {
            p { (question) }
            form method="post" action={ "/central/admin/devices/" (url_encode(&d.id)) "/revoke" } {
                (a.csrf_field())
                button { (l.t("Thu hồi thiết bị", "Revoke the device")) }
            }
            p { a href="/central/admin/devices" { (l.t("Huỷ", "Cancel")) } }
        };
        Ok(admin_page(&a, l.t("Thu hồi thiết bị", "Revoke a device"), "devices", h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

async fn revoke(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    Path(id): Path<String>,
    PageForm(f): PageForm<CsrfOnly>,
) -> Response {
    let store = state.store.clone();
    on_form(a, f.csrf.clone(), move |_| {
        ops::revoke_device(&store, &admin, &id)?;
        Ok(Redirect::to("/central/admin/devices").into_response())
    })
    .await
}

/// The choices of each rule setting, with what they mean.
fn setting_choices(key: &str) -> &'static [(&'static str, &'static str, &'static str)] {
    match key {
        "age_reading" => &[
            (
                "month_granular",
                "Tính theo tháng (năm·12 + tháng)",
                "By month (years·12 + months)",
            ),
            ("day_precise", "Tính đến ngày", "To the day"),
        ],
        "vote_denominator" => &[
            (
                "official_minus_excluded",
                "Đảng viên chính thức trừ người được miễn, đi vắng",
                "Official members minus the exempt and absent",
            ),
            (
                "all_official",
                "Toàn bộ đảng viên chính thức",
                "All official members",
            ),
        ],
        "staleness_anchor" => &[
            (
                "earliest_introduction_document",
                "Văn bản giới thiệu sớm nhất",
                "Earliest introduction document",
            ),
            (
                "application_letter",
                "Đơn xin vào Đảng",
                "Application letter",
            ),
            (
                "biography_certification",
                "Xác nhận lý lịch của cấp ủy cơ sở",
                "Certification of the biography",
            ),
        ],
        "co_working_anchor" => &[
            (
                "letter_date",
                "Ngày giấy giới thiệu",
                "Date of the introduction letter",
            ),
            (
                "branch_meeting",
                "Ngày họp chi bộ",
                "Date of the branch meeting",
            ),
        ],
        "trade_union_path" => &[
            (
                "union_committee_plus_one",
                "Ban chấp hành công đoàn + 1 đảng viên",
                "Union committee + 1 member",
            ),
            ("two_members", "Hai đảng viên", "Two members"),
        ],
        "admission_rate_denominator" => &[
            (
                "start_of_year",
                "Số đảng viên đầu năm",
                "Members at the start of the year",
            ),
            (
                "end_of_year",
                "Số đảng viên cuối năm",
                "Members at the end of the year",
            ),
        ],
        "working_days.count_from" => &[
            (
                "day_after_event",
                "Tính từ ngày sau sự kiện",
                "From the day after the event",
            ),
            (
                "event_day",
                "Tính cả ngày sự kiện",
                "Counting the event day",
            ),
        ],
        "cohort_entry" => &[
            (
                "outstanding_list",
                "Ngày vào danh sách quần chúng ưu tú",
                "Entry on the list of outstanding people",
            ),
            (
                "class_certificate",
                "Ngày cấp giấy chứng nhận lớp nhận thức",
                "Awareness-class certificate",
            ),
            (
                "application_letter",
                "Ngày đơn xin vào Đảng",
                "Application letter",
            ),
        ],
        "term_without_dates" => &[
            (
                "refuse",
                "Báo lỗi, yêu cầu nhập ngày đại hội",
                "Refuse, asking for the congress dates",
            ),
            (
                "calendar_years",
                "Tính theo năm dương lịch (ghi rõ trên báo cáo)",
                "Whole calendar years (stated on the report)",
            ),
        ],
        "committee_two_thirds_when_not_authorised" | "working_days.roll_forward" => {
            &[("true", "Có", "Yes"), ("false", "Không", "No")]
        }
        _ => &[],
    }
}

fn setting_label(key: &str, en: bool) -> &str {
    let (vi, e) = match key {
        "age_reading" => ("Cách tính tuổi (R2)", "Age reading (R2)"),
        "vote_denominator" => (
            "Mẫu số hai phần ba khi chi bộ biểu quyết (R16–R17)",
            "Two-thirds denominator of branch votes (R16–R17)",
        ),
        "committee_two_thirds_when_not_authorised" => (
            "Cấp ủy cơ sở không được ủy quyền cũng cần hai phần ba (R19)",
            "A non-authorised grassroots committee also needs two-thirds (R19)",
        ),
        "staleness_anchor" => (
            "Mốc tính 12 tháng hồ sơ quá hạn (R34)",
            "Start of the 12-month staleness clock (R34)",
        ),
        "co_working_anchor" => (
            "Mốc tính 12 tháng cùng công tác của người giới thiệu (R12)",
            "End of the introducer's 12 months of co-working (R12)",
        ),
        "trade_union_path" => (
            "Cách giới thiệu qua công đoàn (R11)",
            "Trade-union introduction path (R11)",
        ),
        "working_days.count_from" => ("Ngày làm việc tính từ", "Working days counted from"),
        "working_days.roll_forward" => (
            "Hạn rơi vào ngày nghỉ thì lùi sang ngày làm việc sau",
            "A deadline on a day off rolls forward",
        ),
        "verification_reply_working_days" => (
            "Số ngày làm việc chờ trả lời thẩm tra (trống: không đặt)",
            "Working days to answer a verification (empty: none)",
        ),
        "admission_rate_denominator" => (
            "Mẫu số tỷ lệ kết nạp (R45)",
            "Denominator of the admission rate (R45)",
        ),
        "youth_age_max" => ("Tuổi thanh niên tối đa (R11)", "Upper youth age (R11)"),
        "cohort_entry" => (
            "Báo cáo: mốc vào nguồn để xếp khóa (chuyển đổi theo khóa)",
            "Reports: date a candidate enters the pipeline (cohorts)",
        ),
        "term_without_dates" => (
            "Báo cáo: nhiệm kỳ chưa có ngày đại hội",
            "Reports: a term without congress dates",
        ),
        _ => (key, key),
    };
    if en { e } else { vi }
}

/// Rule settings as flat `(key, JSON value)` pairs: nested objects become `a.b`.
fn flat_settings(s: &RuleSettings) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Ok(Value::Object(m)) = serde_json::to_value(s) {
        for (k, v) in m {
            match v {
                Value::Object(inner) => {
                    for (k2, v2) in inner {
                        out.push((format!("{k}.{k2}"), v2));
                    }
                }
                other => out.push((k, other)),
            }
        }
    }
    out
}

async fn settings(State(state): State<Arc<AppState>>, Admin(a, _): Admin) -> Response {
    let store = state.store.clone();
    let current = state.rules().settings;
    let lang = a.lang;
    run_page(lang, move || {
        let history = ops::setting_history(&store.read())?;
        let l = a.lang;
        let h = html! {
            p { (l.t(
                "Mỗi điểm chưa rõ của quy định là một thiết lập. Khi lưu, phát hiện và thời hạn của mọi hồ sơ được tính lại.",
                "Every open reading of the rules is a setting. Saving re-evaluates the findings and deadlines of every file.",
            )) }
            form method="post" action="/central/admin/settings" class="filters stacked" {
                (a.csrf_field())
                @for (key, value) in flat_settings(&current) {
                    @let choices = setting_choices(&key);
                    @let name = format!("s.{key}");
                    label {
                        (setting_label(&key, l.en))
                        @if choices.is_empty() {
                            @let v = match &value {
                                Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            input name=(name) value=(v) inputmode="numeric";
                        } @else {
                            @let current = match &value {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            select name=(name) {
                                @for (v, vi, en) in choices {
                                    option value=(v) selected[*v == current] { (if l.en { en } else { vi }) }
                                }
                            }
                        }
                    }
                }
                label { (l.t("Áp dụng từ ngày", "In force from"))
                    input name="effective" placeholder="dd/mm/yyyy" required; }
                label { (l.t("Lý do (văn bản, quyết định)", "Reason (document, decision)"))
                    input name="reason" required; }
                button { (l.t("Lưu và tính lại", "Save and re-evaluate")) }
            }
            h2 { (l.t("Lịch sử thay đổi", "History of changes")) }
            table {
                tr {
                    th { (l.t("Thời điểm", "Time")) }
                    th { (l.t("Người đổi", "Changed by")) }
                    th { (l.t("Áp dụng từ", "In force from")) }
                    th { (l.t("Lý do", "Reason")) }
                }
                @for c in &history {
                    tr {
                        td { (format_time(c.at)) }
                        td { (c.by) }
                        td { (c.effective.as_deref().unwrap_or("–")) }
                        td { (c.reason) }
                    }
                }
            }
        };
        Ok(admin_page(&a, l.t("Thiết lập quy tắc", "Rule settings"), "settings", h))
    })
    .await
}

/// A date typed on an administration form, or the bilingual error naming the box.
pub fn parse_date(s: &str, what_vi: &str, what_en: &str) -> Result<Date, AppError> {
    Date::parse_vn(s).ok_or_else(|| {
        AppError::bad_request(
            ErrorCode::BadDate,
            format!("{what_vi}: ngày «{s}» không hợp lệ (dd/mm/yyyy)."),
            format!("{what_en}: `{s}` is not a valid date (dd/mm/yyyy)."),
        )
    })
}

async fn save_settings(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> Response {
    let field = move |form: &[(String, String)], k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Some(resp) = a.refuse_bad_csrf(&field(&form, "csrf")) {
        return resp;
    }
    let state2 = state.clone();
    let lang = a.lang;
    run_form(lang, move || {
        let field = |k: &str| field(&form, k);
        let effective = parse_date(&field("effective"), "Áp dụng từ", "In force from")?;
        let mut json = serde_json::to_value(state2.rules().settings).unwrap_or_default();
        for (k, v) in &form {
            let Some(key) = k.strip_prefix("s.") else {
                continue;
            };
            let value = if setting_choices(key).is_empty() {
                if v.trim().is_empty() {
                    Value::Null
                } else {
                    v.trim().parse::<u32>().map(Value::from).map_err(|_| {
                        AppError::bad_request(
                            ErrorCode::BadSetting,
                            format!("{}: «{v}» không phải số.", setting_label(key, false)),
                            format!("{}: `{v}` is not a number.", setting_label(key, true)),
                        )
                    })?
                }
            } else if v == "true" || v == "false" {
                Value::Bool(v == "true")
            } else {
                Value::String(v.clone())
            };
            match key.split_once('.') {
                Some((outer, inner)) => json[outer][inner] = value,
                None => json[key] = value,
            }
        }
        let settings: RuleSettings = serde_json::from_value(json).map_err(|e| {
            AppError::bad_request(
                ErrorCode::BadSetting,
                format!("Thiết lập không hợp lệ: {e}"),
                format!("Invalid setting: {e}"),
            )
        })?;
        let n = ops::set_rule_settings(
            &state2.store,
            &state2.rules,
            &admin,
            &settings,
            &effective.to_string(),
            &field("reason"),
        )?;
        Ok(Redirect::to(&format!("/central/admin/audit?reevaluated={n}")).into_response())
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct CalendarQuery {
    year: Option<i32>,
}

fn entries_text(entries: &[CalendarEntry], year: i32) -> String {
    entries
        .iter()
        .filter(|e| e.date.year() == year)
        .map(|e| format!("{} {}", e.date.format_vn(), e.name))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn calendar(
    State(state): State<Arc<AppState>>,
    Admin(a, _): Admin,
    PageQuery(q): PageQuery<CalendarQuery>,
) -> Response {
    let store = state.store.clone();
    let rules = state.rules();
    let lang = a.lang;
    run_page(lang, move || {
        let (data, notices) = ops::calendar(&store)?;
        let missing = ops::uncovered_deadline_years(&store.read(), &rules)?;
        let l = a.lang;
        let this_year = crate::casedocs::today_vn().year();
        let year = q.year.unwrap_or(this_year);
        let mut years: Vec<i32> = data.holidays.iter().map(|e| e.date.year()).collect();
        years.extend([this_year, this_year + 1, year]);
        years.sort_unstable();
        years.dedup();
        let warning = (!missing.is_empty()).then(|| {
            notice(&if l.en {
                format!("Open deadlines fall in years the calendar does not cover: {missing:?}. There only weekends are days off.")
            } else {
                format!("Có thời hạn rơi vào năm chưa có lịch nghỉ: {missing:?}. Trong các năm đó chỉ tính nghỉ thứ Bảy, Chủ nhật.")
            })
        });
        let note_of = |y: i32| notices.get(&y.to_string()).and_then(Value::as_str).unwrap_or("");
        let h = html! {
            @if let Some(w) = warning { (w) }
            table {
                tr {
                    th { (l.t("Năm", "Year")) }
                    th { (l.t("Ngày nghỉ", "Holidays")) }
                    th { (l.t("Ngày làm bù", "Make-up working days")) }
                    th { (l.t("Văn bản thông báo", "Government notice")) }
                }
                @for y in &years {
                    @let n_h = data.holidays.iter().filter(|e| e.date.year() == *y).count();
                    @let n_w = data.working_days.iter().filter(|e| e.date.year() == *y).count();
                    @let note = note_of(*y);
                    tr {
                        td { a href={ "/central/admin/calendar?year=" (y) } { (y) } }
                        td { @if n_h == 0 { (l.t("chưa có", "missing")) } @else { (n_h) } }
                        td { (n_w) }
                        td { (if note.is_empty() { l.t("chưa ghi", "not recorded") } else { note }) }
                    }
                }
            }
            h2 { (l.t("Lịch năm", "Calendar of")) " " (year) }
            form method="post" action="/central/admin/calendar" class="filters stacked" {
                (a.csrf_field())
                input type="hidden" name="year" value=(year);
                label { (l.t("Ngày nghỉ lễ, Tết, nghỉ bù — mỗi dòng: dd/mm/yyyy tên", "Holidays and days off in lieu — one per line: dd/mm/yyyy name"))
                    textarea name="holidays" rows="14" cols="60" { (entries_text(&data.holidays, year)) } }
                label { (l.t("Thứ Bảy, Chủ nhật làm bù — mỗi dòng: dd/mm/yyyy ghi chú", "Weekend days worked in lieu — one per line: dd/mm/yyyy note"))
                    textarea name="working_days" rows="4" cols="60" { (entries_text(&data.working_days, year)) } }
                label { (l.t("Số, ngày văn bản thông báo lịch nghỉ của năm", "Number and date of the year's holiday notice"))
                    input name="notice" value=(note_of(year)) required; }
                button { (l.t("Lưu lịch năm này", "Save this year's calendar")) }
            }
        };
        Ok(admin_page(&a, l.t("Lịch ngày làm việc", "Working-day calendar"), "calendar", h))
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct CalendarForm {
    csrf: String,
    year: i32,
    holidays: String,
    working_days: String,
    notice: String,
}

/// Lines of `dd/mm/yyyy name`; every bad line is named.
fn parse_entries(text: &str, what_vi: &str, what_en: &str) -> Result<Vec<CalendarEntry>, AppError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (date, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let date = parse_date(
            date,
            &format!("{what_vi}, dòng {}", i + 1),
            &format!("{what_en}, line {}", i + 1),
        )?;
        out.push(CalendarEntry {
            date,
            name: name.trim().to_string(),
        });
    }
    Ok(out)
}

async fn save_calendar(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageForm(f): PageForm<CalendarForm>,
) -> Response {
    on_form(a, f.csrf.clone(), move |_| {
        let holidays = parse_entries(&f.holidays, "Ngày nghỉ", "Holidays")?;
        let working = parse_entries(&f.working_days, "Ngày làm bù", "Make-up days")?;
        ops::set_calendar_year(
            &state.store,
            &state.rules,
            &admin,
            f.year,
            holidays,
            working,
            &f.notice,
        )?;
        Ok(Redirect::to(&format!("/central/admin/calendar?year={}", f.year)).into_response())
    })
    .await
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
struct AuditQuery {
    q: String,
    format: Option<String>,
    reevaluated: Option<usize>,
}

async fn audit(
    State(state): State<Arc<AppState>>,
    Admin(a, admin): Admin,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Response {
    let store = state.store.clone();
    let lang = a.lang;
    run_page(lang, move || {
        let rows = ops::audit_log(&store.read(), &admin, &q.q, 5000)?;
        let l = a.lang;
        if let Some(format) = q.format.as_deref() {
            let format = crate::export::ExportFormat::parse(Some(format))?;
            let mut sheet = crate::export::Sheet::new(
                l.t("Nhật ký quản trị", "Audit log"),
                &[
                    l.t("Thời điểm", "Time"),
                    l.t("Người thực hiện", "By"),
                    l.t("Thao tác", "Action"),
                    l.t("Đối tượng", "Target"),
                    l.t("Trước", "Before"),
                    l.t("Sau", "After"),
                    l.t("Ghi chú", "Note"),
                ],
            );
            for e in &rows {
                sheet.push(vec![
                    format_time(e.at).into(),
                    e.actor.as_str().into(),
                    e.action.as_str().into(),
                    e.target.as_str().into(),
                    e.before.clone().unwrap_or_default().into(),
                    e.after.clone().unwrap_or_default().into(),
                    e.note.as_str().into(),
                ]);
            }
            return crate::export::download(&[sheet], format, "nhat-ky-quan-tri");
        }
        let reevaluated = q.reevaluated.map(|n| {
            notice(&if l.en {
                format!("Settings saved; {n} files re-evaluated.")
            } else {
                format!("Đã lưu thiết lập; đã tính lại {n} hồ sơ.")
            })
        });
        let qe = url_encode(&q.q);
        let h = html! {
            @if let Some(n) = reevaluated { (n) }
            form method="get" action="/central/admin/audit" class="filters" role="search" {
                label { (l.t("Tìm", "Search")) input name="q" value=(q.q) type="search"; }
                button { (l.t("Tìm", "Search")) }
                a href={ "/central/admin/audit?format=xlsx&q=" (qe) } { "XLSX" }
                " "
                a href={ "/central/admin/audit?format=csv&q=" (qe) } { "CSV" }
            }
            table {
                tr {
                    th { (l.t("Thời điểm", "Time")) }
                    th { (l.t("Người thực hiện", "By")) }
                    th { (l.t("Thao tác", "Action")) }
                    th { (l.t("Đối tượng", "Target")) }
                    th { (l.t("Trước → sau", "Before → after")) }
                    th { (l.t("Ghi chú", "Note")) }
                }
                @for e in &rows {
                    tr.audit {
                        td { (format_time(e.at)) }
                        td { (e.actor) }
                        td { code { (e.action) } }
                        td { (e.target) }
                        td { (e.before.as_deref().unwrap_or("–")) " → " (e.after.as_deref().unwrap_or("–")) }
                        td { (e.note) }
                    }
                }
            }
        };
        Ok(admin_page(&a, l.t("Nhật ký quản trị", "Audit log"), "audit", h))
    })
    .await
}
