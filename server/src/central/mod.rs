//! The central office's screens: server-rendered HTML pages under `/central/…` for the
//! reviewer and admin roles, over the same queries as the JSON API (`review`, `reports`).
//!
//! Pages are plain HTML with inline SVG charts and no script framework: the office works
//! online on ordinary desktops, and a page that renders on the server is one request,
//! prints well and can be linked from a report. Vietnamese comes first; `?lang=en` (kept
//! in a cookie) switches to English. Sign-in sets an HttpOnly, SameSite=Strict session
//! cookie; every form that changes data carries a per-session token and must come from
//! this origin. The HTML is written with `maud`'s compile-time templates: every value
//! placed in a page is escaped unless it is explicitly `PreEscaped`.

pub mod admin;
mod admin_classes;
mod admin_members;
mod admin_targets;
mod admin_tree;
mod cases;
mod dashboard;
mod duplicates;
mod handoff;
mod present;
mod queues;

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use maud::{DOCTYPE, Markup, html};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::auth::{self, Caller, Role, SESSION_COOKIE};
use crate::error::{AppError, AppResult};
use crate::office::office;
use crate::{AppState, blocking};
use shared::api::ErrorCode;

/// Cookie remembering the chosen language of the pages.
const LANG_COOKIE: &str = "hoso_lang";

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/central", get(dashboard::show))
        .route("/central/", get(dashboard::show))
        .route("/central/app.css", get(stylesheet))
        .route("/central/login", get(login_form).post(login))
        .route("/central/logout", post(logout))
        .route(
            "/central/password",
            get(password_form).post(change_password),
        )
        .route("/central/plan", get(dashboard::plan_page))
        .route("/central/cohort", get(dashboard::cohort_page))
        .route("/central/cases", get(cases::list))
        .route("/central/cases/{id}", get(cases::detail))
        .route("/central/cases/{id}/return", post(cases::return_case))
        .route("/central/conflicts", get(queues::conflicts))
        .route("/central/conflicts/{id}/resolve", post(queues::resolve))
        .route("/central/findings", get(queues::findings))
        .route("/central/deadlines", get(queues::deadlines))
        .merge(admin::routes())
        .route(
            "/central/handoff",
            get(handoff::show)
                .post(handoff::upload)
                .layer(axum::extract::DefaultBodyLimit::max(crate::MAX_SYNC_BODY)),
        )
        .route("/central/duplicates", get(duplicates::list))
        .route("/central/duplicates/{id}", get(duplicates::detail))
        .route("/central/duplicates/{id}/merge", post(duplicates::merge))
        .route(
            "/central/duplicates/{id}/dismiss",
            post(duplicates::dismiss),
        )
}

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lang {
    pub en: bool,
}

impl Lang {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        if self.en { en } else { vi }
    }

    /// A whole number with the thousands separator of the language (11.971 / 11,971).
    pub fn int(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let sep = if self.en { ',' } else { '.' };
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(sep);
            }
            out.push(c);
        }
        if n < 0 { format!("-{out}") } else { out }
    }

    /// A percentage with one decimal and the decimal mark of the language.
    pub fn pct(&self, x: Option<f64>) -> String {
        match x {
            None => "–".into(),
            Some(x) => {
                let s = format!("{x:.1}");
                if self.en {
                    format!("{s} %")
                } else {
                    format!("{} %", s.replace('.', ","))
                }
            }
        }
    }
}

/// A signed-in reviewer or admin on a page, with the page's language and form token.
#[derive(Debug, Clone)]
pub struct Reviewer {
    /// The proof of the caller's role, read as the caller.
    pub caller: crate::extract::Reviewer,
    pub lang: Lang,
    /// Set when `?lang=` changed the language: the response stores it in a cookie.
    pub lang_changed: bool,
    pub csrf: String,
    /// The path and query of the request, for the language switch.
    pub uri: String,
}

fn csrf_for(token: &str) -> String {
    let digest = Sha256::digest(format!("hoso-csrf:{token}").as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

fn lang_of(parts: &Parts) -> (Lang, bool) {
    let query = parts.uri.query().unwrap_or("");
    for kv in query.split('&') {
        match kv {
            "lang=en" => return (Lang { en: true }, true),
            "lang=vi" => return (Lang { en: false }, true),
            _ => {}
        }
    }
    let en = auth::cookie_value(&parts.headers, LANG_COOKIE).as_deref() == Some("en");
    (Lang { en }, false)
}

/// A page's query string; one that does not fit answers with the error page (in the
/// page's language) rather than axum's plain text.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(PageQuery(v)),
            Err(e) => Err(error_page(
                lang_of(parts).0,
                &crate::extract::query_error(e),
            )),
        }
    }
}

/// A page's form body; one that does not fit answers with the error page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        let lang = lang_of(&parts).0;
        match Form::<T>::from_request(Request::from_parts(parts, body), state).await {
            Ok(Form(v)) => Ok(PageForm(v)),
            Err(e) => Err(error_page(lang, &crate::extract::form_error(e))),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Reviewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let (lang, lang_changed) = lang_of(parts);
        let uri = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/central".into());
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(c) => c,
            Err(e) if e.status() == StatusCode::UNAUTHORIZED || e.status() == StatusCode::GONE => {
                // Only a page read leads to the sign-in form; a refused form post is an error.
                if parts.method.is_safe() {
                    let next = crate::reports::url_encode(&uri);
                    return Err(
                        Redirect::to(&format!("/central/login?next={next}")).into_response()
                    );
                }
                return Err(error_page(lang, &e));
            }
            Err(e) => return Err(error_page(lang, &e)),
        };
        let caller = crate::extract::Reviewer::check(caller).map_err(|e| error_page(lang, &e))?;
        // After a reset by an administrator, every page leads to the password form first.
        // A failed read fails closed: the error page, never the page itself.
        if parts.uri.path() != "/central/password"
            && must_change_password(state, caller.user_id).map_err(|e| error_page(lang, &e))?
        {
            let next = crate::reports::url_encode(&uri);
            return Err(Redirect::to(&format!("/central/password?next={next}")).into_response());
        }
        let token = auth::bearer(&parts.headers)
            .or_else(|| auth::cookie_value(&parts.headers, SESSION_COOKIE))
            .unwrap_or_default();
        Ok(Reviewer {
            caller,
            lang,
            lang_changed,
            csrf: csrf_for(&token),
            uri,
        })
    }
}

impl Reviewer {
    pub fn t<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        self.lang.t(vi, en)
    }

    /// The refusal of a form whose token is not this session's, if it is not.
    pub fn refuse_bad_csrf(&self, token: &str) -> Option<Response> {
        if !token.is_empty() && token == self.csrf {
            None
        } else {
            Some(error_page(
                self.lang,
                &AppError::user(
                    StatusCode::FORBIDDEN,
                    ErrorCode::Csrf,
                    "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Hãy tải lại trang và thử lại.",
                    "The form has expired or did not come from this site. Reload the page and try again.",
                ),
            ))
        }
    }

    /// The form token itself (for a form that carries it in its address).
    pub fn csrf_token(&self) -> &str {
        &self.csrf
    }

    /// The hidden form field carrying the token.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

pub use crate::export::{date, format_time, value_text};

const STYLE: &str = r#"
.chart{max-width:700px;background:#fff;border:1px solid #ddd}
.chart.wide{max-width:920px}
label.choice{flex-direction:row;gap:.3rem}
main.narrow{max-width:26rem}
td.indent-1{padding-left:1.5rem} td.indent-2{padding-left:3rem} td.indent-3{padding-left:4.5rem}
td.indent-4{padding-left:6rem} td.indent-5,td.indent-6{padding-left:7.5rem}
nav.subnav{margin:.5rem 0 1rem} nav.subnav a[aria-current]{font-weight:bold}
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem .75rem;border-radius:4px}
form.filters.stacked{flex-direction:column;align-items:stretch}
body{font-family:system-ui,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1c1c1c;background:#f6f6f4}
header{background:#a50e0e;color:#fff;padding:.5rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;padding:.25rem .5rem;border-radius:4px}
header a.on{background:rgba(255,255,255,.2)} header .me{margin-left:auto;font-size:.9rem}
header form{display:inline} header button{background:none;border:1px solid #fff;color:#fff;border-radius:4px;cursor:pointer}
main{padding:1rem;max-width:1300px;margin:auto}
h1{font-size:1.4rem} h2{font-size:1.15rem;margin-top:1.5rem}
table{border-collapse:collapse;background:#fff;margin:.5rem 0;width:100%}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}
th{background:#eee} td.n,th.n{text-align:right}
.cards{display:flex;flex-wrap:wrap;gap:.75rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;min-width:11rem}
.card .v{font-size:1.6rem;font-weight:600} .card .v a{color:inherit}
.ok{color:#176c2c} .bad{color:#b00020} .warn{color:#9a6200}
form.filters{background:#fff;border:1px solid #ddd;padding:.5rem;display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}
.sev-blocking{color:#b00020;font-weight:600} .sev-warning{color:#9a6200}
.muted{color:#666;font-size:.85rem} .err{background:#fde8e8;border:1px solid #b00020;padding:.75rem}
.values{display:flex;gap:.75rem;flex-wrap:wrap} .value{background:#fff;border:1px solid #ccc;border-radius:6px;padding:.5rem;min-width:14rem}
.value.win{border-color:#176c2c} svg a:hover rect{opacity:.8} svg text{font-size:12px}
select,input{max-width:100%} form.filters label{min-width:0;max-width:100%}
.banner.done{background:#e6f4ea;border-color:#176c2c}
.case-file{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,26rem),1fr));gap:0 1rem}
.case-file h3{font-size:1rem;margin:1rem 0 .25rem} table.record caption{text-align:left;font-weight:600;padding:.25rem 0}
form.resolve fieldset{border:0;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.5rem}
@media (max-width:1024px){main{padding:.75rem} th,td{overflow-wrap:anywhere} header{gap:.5rem}}
"#;

/// Wraps a page body in the common layout and sends it.
pub fn page(r: &Reviewer, title: &str, active: &str, body: Markup) -> Response {
    let l = r.lang;
    let nav = [
        ("dashboard", "/central", l.t("Tổng quan", "Dashboard")),
        (
            "conflicts",
            "/central/conflicts",
            l.t("Xung đột", "Conflicts"),
        ),
        (
            "findings",
            "/central/findings",
            l.t("Phát hiện", "Findings"),
        ),
        (
            "deadlines",
            "/central/deadlines",
            l.t("Thời hạn", "Deadlines"),
        ),
        (
            "duplicates",
            "/central/duplicates",
            l.t("Hồ sơ trùng", "Duplicates"),
        ),
        ("cases", "/central/cases", l.t("Hồ sơ", "Case files")),
        (
            "handoff",
            "/central/handoff",
            l.t("Tệp bàn giao", "Hand-off files"),
        ),
    ];
    let admin_link = (
        "admin",
        "/central/admin/accounts",
        l.t("Quản trị", "Administration"),
    );
    let nav: Vec<(&str, &str, &str)> = if r.caller.role == Role::Admin {
        nav.into_iter().chain(std::iter::once(admin_link)).collect()
    } else {
        nav.to_vec()
    };
    let switch = switch_lang_href(&r.uri, !l.en);
    let app = l.t("Văn phòng cấp ủy", "Central office");
    let html = html! {
        (DOCTYPE)
        html lang=(if l.en { "en" } else { "vi" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · " (app) }
                link rel="stylesheet" href="/central/app.css";
            }
            body {
                header {
                    strong { (app) }
                    @for (key, href, label) in &nav {
                        a href=(href) class=[(*key == active).then_some("on")] { (label) }
                    }
                    span.me {
                        (r.caller.display_name) " (" (r.caller.username) ") · "
                        a href=(switch) { (if l.en { "Tiếng Việt" } else { "English" }) }
                        form method="post" action="/central/logout" {
                            (r.csrf_field())
                            button { (l.t("Đăng xuất", "Log out")) }
                        }
                    }
                }
                main { h1 { (title) } (body) }
            }
        }
    };
    let mut resp = Html(html.into_string()).into_response();
    secure_headers(resp.headers_mut());
    if r.lang_changed {
        set_cookie(&mut resp, &lang_cookie(l.en));
    }
    resp
}

fn switch_lang_href(uri: &str, en: bool) -> String {
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let mut parts: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let lang = if en { "lang=en" } else { "lang=vi" };
    parts.push(lang);
    format!("{path}?{}", parts.join("&"))
}

/// Pages are private and must not be framed by another site (clickjacking) or cached.
/// The pages' one stylesheet: the Content-Security-Policy allows no inline styles.
async fn stylesheet() -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

fn secure_headers(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
}

/// An error as a small page with its status, in the page's language.
/// The bytes of the `file` field of an uploaded form (empty when there is none), or the
/// error page when the upload broke off.
pub async fn uploaded_file(
    form: &mut axum::extract::Multipart,
    lang: Lang,
) -> Result<Vec<u8>, Response> {
    let mut bytes = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            match field.bytes().await {
                Ok(b) => bytes = b.to_vec(),
                Err(e) => {
                    return Err(error_page(
                        lang,
                        &AppError::bad_request(
                            ErrorCode::BadFile,
                            format!("Không nhận được tệp: {e}"),
                            format!("The file did not arrive: {e}"),
                        ),
                    ));
                }
            }
        }
    }
    Ok(bytes)
}

pub fn error_page(lang: Lang, e: &AppError) -> Response {
    let status = e.status();
    let message = match e {
        AppError::User {
            message_vi,
            message_en,
            ..
        } => lang.t(message_vi, message_en).to_string(),
        AppError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            lang.t(
                "Lỗi máy chủ. Dữ liệu không bị mất; hãy thử lại sau.",
                "Server error. No data is lost; try again later.",
            )
            .to_string()
        }
    };
    let html = html! {
        (DOCTYPE)
        html lang=(if lang.en { "en" } else { "vi" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (status.as_u16()) }
                link rel="stylesheet" href="/central/app.css";
            }
            body {
                main {
                    div.err { strong { (status.as_u16()) } " " (message) }
                    p {
                        a href="/central" { (lang.t("Về trang tổng quan", "Back to the dashboard")) }
                        " · "
                        a href="/central/login" { (lang.t("Đăng nhập", "Log in")) }
                    }
                }
            }
        }
    };
    let mut resp = (status, Html(html.into_string())).into_response();
    secure_headers(resp.headers_mut());
    resp
}

fn must_change_password(state: &AppState, user_id: i64) -> AppResult<bool> {
    Ok(crate::db::accounts::must_change_password(
        &state.store.read(),
        user_id,
    )?)
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
    next: Option<String>,
}

async fn password_form(r: Reviewer, PageQuery(q): PageQuery<LoginQuery>) -> Response {
    let l = r.lang;
    let next = safe_next(q.next.as_deref());
    let body = html! {
        p { (l.t(
            "Hãy đặt mật khẩu mới (ít nhất 8 ký tự) trước khi tiếp tục.",
            "Choose a new password (at least 8 characters) before going on.",
        )) }
        form method="post" action="/central/password" class="filters stacked" {
            (r.csrf_field())
            input type="hidden" name="next" value=(next);
            label { (l.t("Mật khẩu hiện tại", "Current password"))
                input name="current" type="password" autocomplete="current-password" required; }
            label { (l.t("Mật khẩu mới", "New password"))
                input name="new" type="password" autocomplete="new-password" minlength="8" required; }
            label { (l.t("Nhập lại mật khẩu mới", "New password again"))
                input name="repeat" type="password" autocomplete="new-password" minlength="8" required; }
            button { (l.t("Đổi mật khẩu", "Change the password")) }
        }
    };
    page(&r, l.t("Đổi mật khẩu", "Change your password"), "", body)
}

async fn change_password(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    PageForm(f): PageForm<PasswordForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&f.csrf) {
        return resp;
    }
    let lang = r.lang;
    let next = safe_next(f.next.as_deref());
    run_form(lang, move || {
        if f.new != f.repeat {
            return Err(AppError::bad_request(
                ErrorCode::PasswordsDiffer,
                "Hai lần nhập mật khẩu mới không khớp.",
                "The two new passwords differ.",
            ));
        }
        crate::administration::change_own_password(&state.store, &r.caller, &f.current, &f.new)?;
        Ok(Redirect::to(&next).into_response())
    })
    .await
}

/// A warning for pages that show deadlines falling in years the working-day calendar does
/// not cover (only weekends count as days off there until an administrator adds them).
pub fn calendar_warning(l: Lang, years: &[i32]) -> Markup {
    if years.is_empty() {
        return html! {};
    }
    let list = years
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let text = if l.en {
        format!(
            "Some deadlines fall in {list}, which the working-day calendar does not cover yet: they count weekends only."
        )
    } else {
        format!(
            "Có thời hạn rơi vào năm {list}, chưa có lịch ngày nghỉ: tạm chỉ tính nghỉ thứ Bảy, Chủ nhật."
        )
    };
    html! {
        p.banner role="status" {
            (text) " "
            a href="/central/admin/calendar" { (l.t("Cập nhật lịch", "Update the calendar")) }
        }
    }
}

/// Runs a page's reads on the office's threads of lower priority (see
/// [`crate::office`]) and renders its error, if any, as a page. The work must not write.
pub async fn run_page(
    lang: Lang,
    f: impl FnOnce() -> Result<Response, AppError> + Send + 'static,
) -> Response {
    shown(lang, office(f).await)
}

/// Runs a form's work, which may write, on tokio's blocking pool and renders its error,
/// if any, as a page.
pub async fn run_form(
    lang: Lang,
    f: impl FnOnce() -> Result<Response, AppError> + Send + 'static,
) -> Response {
    shown(lang, blocking(f).await)
}

fn shown(lang: Lang, answer: Result<Response, AppError>) -> Response {
    match answer {
        Ok(r) => r,
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
    error: Option<String>,
}

fn login_html(lang: Lang, next: &str, error: Option<&str>) -> String {
    let title = lang.t("Đăng nhập — Văn phòng cấp ủy", "Log in — Central office");
    let other_code = if lang.en { "vi" } else { "en" };
    let switch = format!(
        "/central/login?lang={other_code}&next={}",
        crate::reports::url_encode(next)
    );
    html! {
        (DOCTYPE)
        html lang=(if lang.en { "en" } else { "vi" }) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                link rel="stylesheet" href="/central/app.css";
            }
            body {
                main.narrow {
                    h1 { (title) }
                    @if let Some(e) = error { p.err { (e) } }
                    form method="post" action="/central/login" class="filters stacked" {
                        input type="hidden" name="next" value=(next);
                        label { (lang.t("Tên đăng nhập", "Username"))
                            input name="username" autocomplete="username" required; }
                        label { (lang.t("Mật khẩu", "Password"))
                            input name="password" type="password" autocomplete="current-password" required; }
                        button { (lang.t("Đăng nhập", "Log in")) }
                    }
                    p.muted { a href=(switch) { (if lang.en { "Tiếng Việt" } else { "English" }) } }
                }
            }
        }
    }
    .into_string()
}

/// Only paths of these pages may follow a sign-in: never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/central") && !n.contains("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/central".into(),
    }
}

async fn login_form(headers: HeaderMap, PageQuery(q): PageQuery<LoginQuery>) -> Response {
    let en = match q.lang.as_deref() {
        Some(l) => l == "en",
        None => auth::cookie_value(&headers, LANG_COOKIE).as_deref() == Some("en"),
    };
    let lang = Lang { en };
    let error = q.error.map(|_| {
        lang.t(
            "Sai tên đăng nhập hoặc mật khẩu.",
            "Wrong username or password.",
        )
        .to_string()
    });
    let mut resp = Html(login_html(
        lang,
        &safe_next(q.next.as_deref()),
        error.as_deref(),
    ))
    .into_response();
    secure_headers(resp.headers_mut());
    if let Some(l) = q.lang.as_deref().filter(|l| *l == "en" || *l == "vi") {
        set_cookie(&mut resp, &lang_cookie(l == "en"));
    }
    resp
}

/// The language cookie of the central pages, kept a year.
fn lang_cookie(en: bool) -> Cookie<'static> {
    Cookie::build((LANG_COOKIE, if en { "en" } else { "vi" }))
        .path("/central")
        .max_age(cookie::time::Duration::days(365))
        .same_site(SameSite::Strict)
        .build()
}

/// The HttpOnly session cookie; `token` empty and `days` 0 clear it.
fn session_cookie(token: String, days: i64, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .path("/")
        .max_age(cookie::time::Duration::days(days))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .build()
}

/// Adds `Set-Cookie` for `c` to a response.
fn set_cookie(resp: &mut Response, c: &Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// Signs in with the login form: checks the origin (login CSRF), refuses cadre accounts
/// (their work is on the device app) and sets the HttpOnly session cookie.
async fn login(
    State(state): State<Arc<AppState>>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Response {
    let lang = Lang {
        en: auth::cookie_value(&headers, LANG_COOKIE).as_deref() == Some("en"),
    };
    if headers.contains_key(header::ORIGIN) && !origin_matches(&headers) {
        return error_page(lang, &AppError::forbidden());
    }
    let next = safe_next(form.next.as_deref());
    let store = state.store.clone();
    let req = auth::LoginRequest {
        username: form.username.trim().to_string(),
        password: form.password,
        device_name: "Trình duyệt — văn phòng cấp ủy".into(),
        actor: None,
    };
    let peer = crate::peer_ip(&ext);
    let throttle = state.config.throttle.clone();
    let secure = state.config.secure_cookies;
    let result = blocking(move || {
        let resp = auth::login_throttled(&store, &req, peer, &throttle)?;
        if resp.user.role == Role::Cadre {
            auth::logout(&store, &resp.token)?;
            return Err(AppError::forbidden());
        }
        Ok(resp)
    })
    .await;
    match result {
        Ok(resp) => {
            let cookie = session_cookie(resp.token, auth::SESSION_DAYS, secure);
            let to = if resp.must_change_password {
                format!(
                    "/central/password?next={}",
                    crate::reports::url_encode(&next)
                )
            } else {
                next.clone()
            };
            let mut r = Redirect::to(&to).into_response();
            set_cookie(&mut r, &cookie);
            r
        }
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => {
            let mut resp = (
                StatusCode::UNAUTHORIZED,
                Html(login_html(
                    lang,
                    &next,
                    Some(lang.t(
                        "Sai tên đăng nhập hoặc mật khẩu.",
                        "Wrong username or password.",
                    )),
                )),
            )
                .into_response();
            secure_headers(resp.headers_mut());
            resp
        }
        Err(e) => error_page(lang, &e),
    }
}

fn origin_matches(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    match (host, origin) {
        (Some(h), Some(o)) => o
            .strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(h)),
        _ => false,
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    csrf: String,
}

async fn logout(
    State(state): State<Arc<AppState>>,
    r: Reviewer,
    headers: HeaderMap,
    PageForm(form): PageForm<TokenForm>,
) -> Response {
    if let Some(resp) = r.refuse_bad_csrf(&form.csrf) {
        return resp;
    }
    if let Some(token) = auth::cookie_value(&headers, SESSION_COOKIE) {
        let store = state.store.clone();
        let _ = blocking(move || auth::logout(&store, &token)).await;
    }
    let mut resp = Redirect::to("/central/login").into_response();
    set_cookie(
        &mut resp,
        &session_cookie(String::new(), 0, state.config.secure_cookies),
    );
    resp
}

/// `<option>`s of the organisations a reviewer can report on (branches below grassroots
/// level are left out: they are reached through their organisation's lists).
pub fn org_options(orgs: &crate::reports::OrgIndex, root_path: &str, selected: &str) -> Markup {
    let base = root_path.matches('/').count();
    html! {
        @for o in orgs.subtree(root_path).filter(|o| o.kind != "sub_branch") {
            option value=(o.id) selected[o.id == selected] {
                ("· ".repeat(o.path.matches('/').count().saturating_sub(base))) (o.name)
            }
        }
    }
}

/// A `<select>` over `(code, label)` options with an empty choice first, the current
/// value selected.
pub fn select_field(name: &str, current: Option<&str>, opts: &[(String, String)]) -> Markup {
    html! {
        select name=(name) {
            option value="" { "—" }
            @for (code, label) in opts {
                option value=(code) selected[current == Some(code.as_str())] { (label) }
            }
        }
    }
}

/// Links to download the report at `report` with `query` as XLSX and CSV.
pub fn export_links(l: Lang, report: &str, query: &str) -> Markup {
    let q = if query.is_empty() {
        String::new()
    } else {
        format!("&{query}")
    };
    let lang = if l.en { "&lang=en" } else { "" };
    html! {
        p.muted {
            (l.t("Xuất", "Export")) ": "
            a href={ "/api/review/export/" (report) "?format=xlsx" (q) (lang) } { "XLSX" }
            " · "
            a href={ "/api/review/export/" (report) "?format=csv" (q) (lang) } { "CSV" }
        }
    }
}
