//! What administrators do, as operations on the store: accounts, devices, rule settings,
//! the working-day calendar. Every operation checks the administrator's scope and writes
//! one line to the audit log (who, when, what, before → after) in the same transaction as
//! the change. The pages under `/central/admin` call these; so could any other front end.

use crate::db::Connection;
use serde::Serialize;
use serde_json::{Value, json};
use shared::api::ErrorCode;
use shared::calendar::{CalendarData, WorkingCalendar};
use shared::rules::RuleSettings;

use crate::auth::{self, Caller, Role, hash_password, now_secs, random_token};
use crate::casedocs::{self, RulesConfig, scope_range};
use crate::db::store::Store;
use crate::db::{
    accounts as db_accounts, orgs as db_orgs, settings as db_settings, views as db_views,
};
use crate::error::{AppError, AppResult};
use crate::extract::Admin;

/// Writes one line of the audit log.
pub fn audit(
    conn: &Connection,
    caller: &Caller,
    action: &str,
    target: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    note: &str,
) -> crate::db::Result<()> {
    db_settings::insert_audit(
        conn,
        now_secs(),
        &format!("{} ({})", caller.display_name, caller.username),
        action,
        target,
        before.map(Value::to_string),
        after.map(Value::to_string),
        note,
    )
}

fn bad(code: ErrorCode, vi: String, en: String) -> AppError {
    AppError::bad_request(code, vi, en)
}

/// An organisation the administrator may assign: it exists, is open and lies in their
/// scope.
pub fn org_in_admin_scope(conn: &Connection, caller: &Caller, org: &str) -> AppResult<()> {
    let row = db_orgs::org(conn, org)?;
    match row.map(|o| (o.path, o.closed_on)) {
        Some((path, None)) if casedocs::path_in_scope(&path, &caller.scope_path) => Ok(()),
        Some((_, Some(closed))) => Err(bad(
            ErrorCode::OrgClosed,
            format!("Tổ chức «{org}» đã giải thể từ {closed}."),
            format!("Organisation `{org}` was closed on {closed}."),
        )),
        _ => Err(bad(
            ErrorCode::BadOrg,
            format!("Tổ chức «{org}» không có hoặc nằm ngoài phạm vi quản trị của bạn."),
            format!("Organisation `{org}` does not exist or is outside your administrative scope."),
        )),
    }
}

/// One account as the administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope_org: String,
    pub active: bool,
    pub must_change_password: bool,
    pub last_login: Option<i64>,
    pub devices: i64,
}

/// Accounts whose scope lies in the administrator's, matching `search` (name or
/// username, without diacritics).
pub fn accounts(conn: &Connection, caller: &Admin, search: &str) -> AppResult<Vec<Account>> {
    let (lo, hi) = scope_range(&caller.scope_path);
    let rows = db_accounts::accounts_in_range(conn, &lo, &hi)?;
    let needle = shared::text::fold(search.trim());
    Ok(rows
        .into_iter()
        .filter(|a| {
            needle.is_empty()
                || shared::text::fold(&a.username).contains(&needle)
                || shared::text::fold(&a.display_name).contains(&needle)
        })
        .collect())
}

fn account(conn: &Connection, caller: &Admin, id: i64) -> AppResult<Account> {
    accounts(conn, caller, "")?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| AppError::not_found("tài khoản", "Account"))
}

fn account_json(a: &Account) -> Value {
    json!({"username": a.username, "display_name": a.display_name, "role": a.role,
           "scope_org": a.scope_org, "active": a.active})
}

/// A usable username: 3–64 lowercase ASCII letters, digits, `.`, `-`, `_`.
pub fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        })
}

/// A random password to show once: 12 characters from an unambiguous alphabet.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    random_token()
        .bytes()
        .take(12)
        .map(|b| ALPHABET[b as usize % ALPHABET.len()] as char)
        .collect()
}

/// The password the administrator typed (checked), or a generated one.
fn chosen_password(typed: Option<&str>) -> AppResult<String> {
    match typed.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => {
            check_password(p)?;
            Ok(p.to_string())
        }
        None => Ok(new_password()),
    }
}

fn check_password(p: &str) -> AppResult<()> {
    if p.chars().count() < 8 {
        return Err(bad(
            ErrorCode::WeakPassword,
            "Mật khẩu cần ít nhất 8 ký tự.".into(),
            "The password needs at least 8 characters.".into(),
        ));
    }
    Ok(())
}

/// Creates an account. Without a password, one is generated; either way the user must
/// change it at the first sign-in. Returns the account's id and the password to hand over.
pub fn create_account(
    store: &Store,
    caller: &Admin,
    username: &str,
    display_name: &str,
    role: Role,
    scope_org: &str,
    password: Option<&str>,
) -> AppResult<(i64, String)> {
    let username = username.trim().to_lowercase();
    if !valid_username(&username) {
        return Err(bad(
            ErrorCode::BadUsername,
            format!(
                "Tên đăng nhập «{username}» không hợp lệ: 3–64 chữ thường không dấu, số, '.', '-', '_'."
            ),
            format!(
                "Username `{username}` is not valid: 3–64 lowercase ASCII letters, digits, '.', '-', '_'."
            ),
        ));
    }
    if display_name.trim().is_empty() {
        return Err(bad(
            ErrorCode::BadName,
            "Hãy nhập họ tên.".into(),
            "Enter the person's name.".into(),
        ));
    }
    let password = chosen_password(password)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    org_in_admin_scope(&tx, caller, scope_org)?;
    let taken = db_accounts::user_id_by_name(&tx, &username)?;
    if taken.is_some() {
        return Err(bad(
            ErrorCode::UsernameTaken,
            format!("Tên đăng nhập «{username}» đã có người dùng."),
            format!("The username `{username}` is taken."),
        ));
    }
    let id = db_accounts::insert_account(
        &tx,
        &username,
        display_name.trim(),
        &hash_password(&password),
        role.as_str(),
        scope_org,
        now_secs(),
    )?;
    audit(
        &tx,
        caller,
        "account.create",
        &username,
        None,
        Some(
            &json!({"display_name": display_name.trim(), "role": role.as_str(),
                     "scope_org": scope_org}),
        ),
        "",
    )?;
    tx.commit()?;
    Ok((id, password))
}

/// Changes an account's name, role, scope or state. The caller cannot lock themselves
/// out: they may not disable their own account or take away their own admin role.
pub fn update_account(
    store: &Store,
    caller: &Admin,
    id: i64,
    display_name: &str,
    role: Role,
    scope_org: &str,
    active: bool,
) -> AppResult<()> {
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let before = account(&tx, caller, id)?;
    org_in_admin_scope(&tx, caller, scope_org)?;
    if id == caller.user_id && (!active || role != Role::Admin) {
        return Err(bad(
            ErrorCode::SelfLockout,
            "Bạn không thể tự khoá hoặc tự bỏ quyền quản trị của mình.".into(),
            "You cannot disable your own account or remove your own admin role.".into(),
        ));
    }
    let name = if display_name.trim().is_empty() {
        before.display_name.clone()
    } else {
        display_name.trim().to_string()
    };
    db_accounts::update_user(&tx, id, &name, role.as_str(), scope_org, active)?;
    if !active {
        // A disabled account's sessions end now; its devices keep their data until they
        // are revoked.
        db_accounts::delete_sessions_of_user(&tx, id)?;
    }
    let after = json!({"username": before.username, "display_name": name, "role": role.as_str(),
                       "scope_org": scope_org, "active": active});
    audit(
        &tx,
        caller,
        "account.update",
        &before.username,
        Some(&account_json(&before)),
        Some(&after),
        "",
    )?;
    tx.commit()?;
    Ok(())
}

/// Sets a new password (given, or generated and returned to show once); the user must
/// change it at the next sign-in, and their sessions end.
pub fn reset_password(
    store: &Store,
    caller: &Admin,
    id: i64,
    password: Option<&str>,
) -> AppResult<String> {
    let password = chosen_password(password)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let a = account(&tx, caller, id)?;
    db_accounts::set_temporary_password(&tx, id, &hash_password(&password))?;
    db_accounts::delete_sessions_of_user(&tx, id)?;
    audit(
        &tx,
        caller,
        "account.reset_password",
        &a.username,
        None,
        None,
        "",
    )?;
    tx.commit()?;
    Ok(password)
}

/// The signed-in user changes their own password (required after a reset).
pub fn change_own_password(
    store: &Store,
    caller: &Caller,
    current: &str,
    new: &str,
) -> AppResult<()> {
    check_password(new)?;
    if !auth::check_user_password(store, caller.user_id, current)? {
        return Err(AppError::user(
            axum::http::StatusCode::UNAUTHORIZED,
            ErrorCode::BadCredentials,
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
        ));
    }
    let conn = store.conn();
    db_accounts::set_own_password(&conn, caller.user_id, &hash_password(new))?;
    audit(
        &conn,
        caller,
        "account.change_password",
        &caller.username,
        None,
        None,
        "",
    )?;
    Ok(())
}

/// One device as the administrator sees it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceInfo {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub name: String,
    pub first_seen: i64,
    pub last_sync: Option<i64>,
    pub revoked_at: Option<i64>,
    pub rejected: i64,
    pub last_rejected_at: Option<i64>,
}

pub fn devices(conn: &Connection, caller: &Admin) -> AppResult<Vec<DeviceInfo>> {
    let (lo, hi) = scope_range(&caller.scope_path);
    Ok(db_accounts::devices_in_range(conn, &lo, &hi)?)
}

/// Revokes a device of the administrator's scope: it wipes itself at its next contact.
pub fn revoke_device(store: &Store, caller: &Admin, id: &str) -> AppResult<DeviceInfo> {
    let d = {
        let conn = store.read();
        devices(&conn, caller)?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| AppError::not_found("thiết bị", "Device"))?
    };
    auth::revoke_device(store, id)?;
    let conn = store.conn();
    audit(
        &conn,
        caller,
        "device.revoke",
        &format!("{} — {}", d.username, d.name),
        None,
        None,
        "",
    )?;
    Ok(d)
}

/// Replaces the rule settings from `effective` on, re-evaluating every stored file so
/// findings and deadlines follow at once. Returns how many files were re-evaluated.
pub fn set_rule_settings(
    store: &Store,
    rules: &std::sync::RwLock<RulesConfig>,
    caller: &Admin,
    settings: &RuleSettings,
    effective: &str,
    reason: &str,
) -> AppResult<usize> {
    if reason.trim().is_empty() {
        return Err(bad(
            ErrorCode::ReasonRequired,
            "Hãy ghi lý do thay đổi (văn bản, quyết định).".into(),
            "State the reason for the change (document, decision).".into(),
        ));
    }
    let old = rules.read().map(|r| r.settings.clone()).unwrap_or_default();
    let old_json = serde_json::to_value(&old).unwrap_or_default();
    let new_json = serde_json::to_value(settings).unwrap_or_default();
    {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        db_settings::put_rule_settings(&tx, &new_json.to_string())?;
        crate::admin::rules_changed(&tx)?;
        db_settings::insert_rule_settings_change(
            &tx,
            now_secs(),
            &old_json.to_string(),
            &new_json.to_string(),
            effective,
            reason.trim(),
            &format!("{} ({})", caller.display_name, caller.username),
        )?;
        audit(
            &tx,
            caller,
            "settings.rules",
            "rule_settings",
            Some(&old_json),
            Some(&new_json),
            reason.trim(),
        )?;
        tx.commit()?;
    }
    let cfg = {
        let mut w = rules
            .write()
            .map_err(|_| AppError::Internal("rules lock poisoned".into()))?;
        w.settings = settings.clone();
        w.clone()
    };
    reevaluate_all(store, &cfg)
}

/// Re-evaluates every stored file under `rules` (after a setting or the calendar changed).
pub fn reevaluate_all(store: &Store, rules: &RulesConfig) -> AppResult<usize> {
    let ids = db_views::projected_doc_ids(&store.read())?;
    let today = casedocs::today_vn();
    // In batches, so syncs are not held up behind one long transaction.
    for chunk in ids.chunks(200) {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        for id in chunk {
            if let Some((_, mut doc)) = casedocs::load_doc(&tx, id)?
                && let Ok(parts) = shared::doc::read_parts(&doc)
            {
                casedocs::refresh_views(
                    &tx,
                    rules,
                    id,
                    &mut doc,
                    (&parts.0, &parts.1),
                    today,
                    "he-thong",
                )?;
            }
        }
        tx.commit()?;
    }
    Ok(ids.len())
}

/// Changes of the rule settings, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct SettingChange {
    pub at: i64,
    pub key: String,
    pub old_value: Option<String>,
    pub new_value: String,
    pub effective: Option<String>,
    pub reason: String,
    pub by: String,
}

pub fn setting_history(conn: &Connection) -> AppResult<Vec<SettingChange>> {
    Ok(db_settings::setting_history(conn)?)
}

/// The calendar in force, as data, and the government notice recorded for each year.
pub fn calendar(store: &Store) -> AppResult<(CalendarData, serde_json::Map<String, Value>)> {
    let data = match store.get_setting("calendar")? {
        Some(json) => serde_json::from_str(&json).map_err(|e| AppError::Internal(e.to_string()))?,
        None => shared::calendar::bundled_vietnam_data(),
    };
    let notices = store
        .get_setting("calendar_notices")?
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Ok((data, notices))
}

/// Replaces one year of the calendar (its holidays and make-up working days) and records
/// the government notice it follows; re-evaluates every file.
pub fn set_calendar_year(
    store: &Store,
    rules: &std::sync::RwLock<RulesConfig>,
    caller: &Admin,
    year: i32,
    holidays: Vec<shared::calendar::CalendarEntry>,
    working_days: Vec<shared::calendar::CalendarEntry>,
    notice: &str,
) -> AppResult<usize> {
    if notice.trim().is_empty() {
        return Err(bad(
            ErrorCode::NoticeRequired,
            "Hãy ghi số và ngày văn bản thông báo lịch nghỉ của năm.".into(),
            "Record the number and date of the year's holiday notice.".into(),
        ));
    }
    for e in holidays.iter().chain(&working_days) {
        if e.date.year() != year {
            return Err(bad(
                ErrorCode::WrongYear,
                format!("Ngày {} không thuộc năm {year}.", e.date.format_vn()),
                format!("{} is not in {year}.", e.date.format_vn()),
            ));
        }
    }
    let (mut data, mut notices) = calendar(store)?;
    let before = json!({
        "holidays": data.holidays.iter().filter(|e| e.date.year() == year).collect::<Vec<_>>(),
        "working_days": data.working_days.iter().filter(|e| e.date.year() == year).collect::<Vec<_>>(),
        "notice": notices.get(&year.to_string()),
    });
    data.holidays.retain(|e| e.date.year() != year);
    data.working_days.retain(|e| e.date.year() != year);
    data.holidays.extend(holidays);
    data.working_days.extend(working_days);
    data.holidays.sort_by_key(|e| e.date);
    data.working_days.sort_by_key(|e| e.date);
    notices.insert(year.to_string(), Value::String(notice.trim().to_string()));
    let after = json!({
        "holidays": data.holidays.iter().filter(|e| e.date.year() == year).collect::<Vec<_>>(),
        "working_days": data.working_days.iter().filter(|e| e.date.year() == year).collect::<Vec<_>>(),
        "notice": notice.trim(),
    });
    let json = serde_json::to_string(&data).map_err(|e| AppError::Internal(e.to_string()))?;
    {
        let mut conn = store.conn();
        let tx = conn.transaction()?;
        db_settings::put_calendar(&tx, &json)?;
        crate::admin::rules_changed(&tx)?;
        db_settings::put_calendar_notices(&tx, &Value::Object(notices).to_string())?;
        audit(
            &tx,
            caller,
            "settings.calendar",
            &year.to_string(),
            Some(&before),
            Some(&after),
            notice.trim(),
        )?;
        tx.commit()?;
    }
    let cfg = {
        let mut w = rules
            .write()
            .map_err(|_| AppError::Internal("rules lock poisoned".into()))?;
        w.calendar = WorkingCalendar::from_data(&data);
        w.clone()
    };
    reevaluate_all(store, &cfg)
}

/// Years that open deadlines fall in but the calendar does not cover: deadlines there
/// count weekends only, and every page that shows them says so.
pub fn uncovered_deadline_years(conn: &Connection, rules: &RulesConfig) -> AppResult<Vec<i32>> {
    let years = db_views::open_deadline_years(conn)?;
    Ok(years
        .into_iter()
        .filter(|y| !rules.calendar.covers_year(*y))
        .collect())
}

/// One line of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub note: String,
}

/// The audit log, newest first, filtered by text (actor, action, target, note).
pub fn audit_log(
    conn: &Connection,
    _proof: &Admin,
    search: &str,
    limit: usize,
) -> AppResult<Vec<AuditEntry>> {
    let needle = shared::text::fold(search.trim());
    let mut out = Vec::new();
    for row in db_settings::audit_entries(conn)? {
        let e = row?;
        let hay = shared::text::fold(&format!("{} {} {} {}", e.actor, e.action, e.target, e.note));
        if needle.is_empty() || hay.contains(&needle) {
            out.push(e);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}
