//! Settings, the calendar, rule settings and the audit log: every statement on
//! `settings`, `setting_history` and `audit_log`. The administrator's statistics are
//! gathered here too: each table group's module counts its rows, and the size of the
//! SQLite file is read here.

use super::{Connection, OptionalExtension, Result, params};
use crate::admin::Stats;
use crate::administration::{AuditEntry, SettingChange};

/// Writes one line of the audit log.
#[allow(clippy::too_many_arguments)]
pub fn insert_audit(
    conn: &Connection,
    at: i64,
    actor: &str,
    action: &str,
    target: &str,
    before_json: Option<String>,
    after_json: Option<String>,
    note: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log(at, actor, action, target, before_json, after_json, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        at,
        actor,
        action,
        target,
        before_json,
        after_json,
        note
    ])?;
    Ok(())
}

/// The audit log, newest first.
pub fn audit_entries(conn: &Connection) -> Result<std::vec::IntoIter<Result<AuditEntry>>> {
    conn.prepare(
        "SELECT at, actor, action, target, before_json, after_json, note FROM audit_log
         ORDER BY id DESC",
    )?
    .query_map((), |r| {
        Ok(AuditEntry {
            at: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            target: r.get(3)?,
            before: r.get(4)?,
            after: r.get(5)?,
            note: r.get(6)?,
        })
    })
}

/// The value stored under `key`.
pub fn setting(conn: &Connection, key: &str) -> Result<Option<String>> {
    conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

/// Stores `value` under `key`, replacing what was there.
pub fn put_setting(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Forgets the setting stored under `key`.
pub fn delete_setting(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM settings WHERE key = ?1", [key])?;
    Ok(())
}

/// The stored rule settings (JSON).
pub fn rule_settings(conn: &Connection) -> Result<Option<String>> {
    setting(conn, "rule_settings")
}

/// Stores the rule settings (JSON).
pub fn put_rule_settings(conn: &Connection, json: &str) -> Result<()> {
    put_setting(conn, "rule_settings", json)
}

/// Stores the working-day calendar (JSON).
pub fn put_calendar(conn: &Connection, json: &str) -> Result<()> {
    put_setting(conn, "calendar", json)
}

/// Stores the government notice of each calendar year (JSON).
pub fn put_calendar_notices(conn: &Connection, json: &str) -> Result<()> {
    put_setting(conn, "calendar_notices", json)
}

/// Stores the bounds on the work of one sync request (JSON).
pub fn put_limits(conn: &Connection, json: &str) -> Result<()> {
    put_setting(conn, "limits", json)
}

/// Counts one more change of the rule settings or the calendar.
pub fn bump_rules_version(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO settings(key, value) VALUES ('rules_version', '1')
         ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT)",
        (),
    )
    .map(|_| ())
}

/// Records a change of the rule settings: when, from what to what, in force from when,
/// why and by whom.
pub fn insert_rule_settings_change(
    conn: &Connection,
    at: i64,
    old_value: &str,
    new_value: &str,
    effective: &str,
    reason: &str,
    by: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO setting_history(at, key, old_value, new_value, effective, reason, by)
             VALUES (?1, 'rule_settings', ?2, ?3, ?4, ?5, ?6)",
        params![at, old_value, new_value, effective, reason, by],
    )?;
    Ok(())
}

/// The last 200 changes of settings, newest first.
pub fn setting_history(conn: &Connection) -> Result<Vec<SettingChange>> {
    conn.prepare(
        "SELECT at, key, old_value, new_value, effective, reason, by FROM setting_history
             ORDER BY id DESC LIMIT 200",
    )?
    .query_map((), |r| {
        Ok(SettingChange {
            at: r.get(0)?,
            key: r.get(1)?,
            old_value: r.get(2)?,
            new_value: r.get(3)?,
            effective: r.get(4)?,
            reason: r.get(5)?,
            by: r.get(6)?,
        })
    })?
    .collect()
}

/// The counts the administrator's statistics show, and the database's size.
pub fn stats(conn: &Connection) -> Result<Stats> {
    Ok(Stats {
        orgs: super::orgs::count(conn)?,
        members: super::members::count(conn)?,
        users: super::accounts::count_active_users(conn)?,
        devices: super::accounts::count_working_devices(conn)?,
        case_files: super::docs::count(conn)?,
        changes: super::docs::count_changes(conn)?,
        open_conflicts: super::views::count_open_conflicts(conn)?,
        database_bytes: conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            (),
            |r| r.get(0),
        )?,
    })
}
