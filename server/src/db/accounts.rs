//! Accounts, devices, their actor ids, sessions and login throttling: every statement
//! on `users`, `devices`, `actors`, `sessions` and `login_failures`. Statements that
//! scope accounts and devices join `orgs` for the paths, and removing unused devices
//! drops what they held (`device_docs`) in the same step.

use std::collections::HashSet;

use super::{Connection, OptionalExtension, Result, params};
use crate::admin::DeviceRow;
use crate::administration::{Account, DeviceInfo};

/// Adds an account (with the table's defaults for the rest) and returns its id.
pub fn insert_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    role: &str,
    scope_org: &str,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO users(username, display_name, password_hash, role, scope_org)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![username, display_name, password_hash, role, scope_org],
    )?;
    conn.last_insert_rowid()
}

/// What a sign-in checks of an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: i64,
    pub password_hash: String,
    pub active: bool,
}

/// The credentials of the account named `username`.
pub fn credentials(conn: &Connection, username: &str) -> Result<Option<Credentials>> {
    conn.query_row(
        "SELECT id, password_hash, active FROM users WHERE username = ?1",
        [username],
        |r| {
            Ok(Credentials {
                user_id: r.get(0)?,
                password_hash: r.get(1)?,
                active: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The device an actor id is bound to, with its user and revocation time.
#[derive(Debug, Clone)]
pub struct ActorBinding {
    pub device_id: String,
    pub user_id: i64,
    pub revoked_at: Option<i64>,
}

/// The device, user and revocation of the device `actor` writes with.
pub fn actor_binding(conn: &Connection, actor: &str) -> Result<Option<ActorBinding>> {
    conn.query_row(
        "SELECT a.device_id, a.user_id, d.revoked_at FROM actors a
                     JOIN devices d ON d.id = a.device_id WHERE a.actor = ?1",
        [actor],
        |r| {
            Ok(ActorBinding {
                device_id: r.get(0)?,
                user_id: r.get(1)?,
                revoked_at: r.get(2)?,
            })
        },
    )
    .optional()
}

/// Registers a new device of `user_id`, seen `now`, scoped to the user's organisation.
pub fn insert_device(
    conn: &Connection,
    device_id: &str,
    user_id: i64,
    name: &str,
    now: i64,
) -> Result<()> {
    conn.execute(
        // A new device holds nothing yet: it is served its scope from the start.
        "INSERT INTO devices(id, user_id, name, created_at, last_seen, scope_path)
                     VALUES (?1, ?2, ?3, ?4, ?4, (SELECT o.path FROM users u
                        JOIN orgs o ON o.id = u.scope_org WHERE u.id = ?2))",
        params![device_id, user_id, name, now],
    )?;
    Ok(())
}

/// Opens a session, known only by the hash of its token.
pub fn insert_session(
    conn: &Connection,
    token_hash: &[u8],
    user_id: i64,
    device_id: &str,
    expires_at: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, device_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user_id, device_id, expires_at],
    )?;
    Ok(())
}

pub fn set_last_login(conn: &Connection, user_id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE users SET last_login = ?2 WHERE id = ?1",
        params![user_id, now],
    )?;
    Ok(())
}

/// Whether the user must change their password at this sign-in.
pub fn must_change_password(conn: &Connection, user_id: i64) -> Result<bool> {
    conn.query_row(
        "SELECT must_change_password FROM users WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
}

/// Until when the throttle key `key` is locked out, if it has a record.
pub fn locked_until(conn: &Connection, key: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT locked_until FROM login_failures WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// The failures counted for `key` and the time of the last one.
pub fn failures(conn: &Connection, key: &str) -> Result<Option<(i64, i64)>> {
    conn.prepare_cached("SELECT failures, last_at FROM login_failures WHERE key = ?1")?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

/// Stores the failure count of `key`, its last failure and its lock-out (0 for none).
pub fn put_failures(
    conn: &Connection,
    key: &str,
    failures: i64,
    last_at: i64,
    locked_until: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO login_failures(key, failures, last_at, locked_until) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(key) DO UPDATE SET failures = excluded.failures,
                last_at = excluded.last_at, locked_until = excluded.locked_until",
    )?
    .execute(params![key, failures, last_at, locked_until])?;
    Ok(())
}

/// Forgets the failures counted for `key`.
pub fn clear_failures(conn: &Connection, key: &str) -> Result<()> {
    conn.execute("DELETE FROM login_failures WHERE key = ?1", [key])?;
    Ok(())
}

/// Removes sessions expired by `now`; returns how many.
pub fn delete_expired_sessions(conn: &Connection, now: i64) -> Result<usize> {
    conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
}

/// Removes failure counts that lock nothing any more and are over a day old.
pub fn delete_stale_failures(conn: &Connection, now: i64) -> Result<()> {
    conn.execute(
        "DELETE FROM login_failures WHERE locked_until <= ?1 AND last_at <= ?1 - 86400",
        [now],
    )?;
    Ok(())
}

/// Removes devices not seen since `cutoff` that never wrote, are not revoked and have no
/// session, with their document lists and actor ids; returns how many devices.
pub fn delete_unused_devices(conn: &Connection, cutoff: i64) -> Result<usize> {
    let unused = "SELECT d.id FROM devices d WHERE COALESCE(d.last_seen, d.created_at) <= ?1
        AND d.wrote_at IS NULL AND d.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.device_id = d.id)";
    conn.execute(
        &format!("DELETE FROM device_docs WHERE device_id IN ({unused})"),
        [cutoff],
    )?;
    conn.execute(
        &format!("DELETE FROM actors WHERE device_id IN ({unused})"),
        [cutoff],
    )?;
    conn.execute(
        &format!("DELETE FROM devices WHERE id IN ({unused})"),
        [cutoff],
    )
}

/// Counts `n` more refused pushes of a device, the last at `now`.
pub fn add_rejections(conn: &Connection, device_id: &str, n: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE devices SET rejected_count = rejected_count + ?2, last_rejected_at = ?3
             WHERE id = ?1",
        params![device_id, n, now],
    )?;
    Ok(())
}

/// The password hash of an account.
pub fn password_hash(conn: &Connection, user_id: i64) -> Result<Option<String>> {
    conn.query_row(
        "SELECT password_hash FROM users WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .optional()
}

/// The device `actor` is bound to.
pub fn actor_device(conn: &Connection, actor: &str) -> Result<Option<String>> {
    conn.query_row(
        "SELECT device_id FROM actors WHERE actor = ?1",
        [actor],
        |r| r.get(0),
    )
    .optional()
}

/// The actor ids registered to a device (sync checks the authorship of every push
/// against them).
pub fn device_actors(conn: &Connection, device_id: &str) -> Result<HashSet<String>> {
    let mut stmt = conn.prepare_cached("SELECT actor FROM actors WHERE device_id = ?1")?;
    stmt.query_map([device_id], |r| r.get(0))?
        .collect::<Result<HashSet<String>>>()
}

/// The user and device names behind an actor id, when it is registered (conflicts and
/// history name the owner of every change they show).
pub fn actor_owner(conn: &Connection, actor: &str) -> Result<Option<(String, String)>> {
    conn.prepare_cached(
        "SELECT u.display_name || ' (' || u.username || ')', d.name FROM actors a
         JOIN users u ON u.id = a.user_id JOIN devices d ON d.id = a.device_id WHERE a.actor = ?1",
    )?
    .query_row([actor], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Binds `actor` to a device of `user_id`.
pub fn insert_actor(conn: &Connection, actor: &str, device_id: &str, user_id: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO actors(actor, device_id, user_id) VALUES (?1, ?2, ?3)",
        params![actor, device_id, user_id],
    )?;
    Ok(())
}

/// Marks a device revoked at `now` unless it already is; returns how many rows changed.
pub fn revoke_device(conn: &Connection, device_id: &str, now: i64) -> Result<usize> {
    conn.execute(
        "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![device_id, now],
    )
}

/// Ends the session whose token hashes to `token_hash`.
pub fn delete_session(conn: &Connection, token_hash: &[u8]) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

/// An account with its scope organisation's path.
#[derive(Debug, Clone)]
pub struct ScopedUser {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub scope_org: String,
    pub scope_path: String,
}

pub fn scoped_user(conn: &Connection, user_id: i64) -> Result<ScopedUser> {
    conn.query_row(
        "SELECT u.id, u.username, u.display_name, u.role, u.scope_org, o.path
         FROM users u JOIN orgs o ON o.id = u.scope_org WHERE u.id = ?1",
        [user_id],
        |r| {
            Ok(ScopedUser {
                user_id: r.get(0)?,
                username: r.get(1)?,
                display_name: r.get(2)?,
                role: r.get(3)?,
                scope_org: r.get(4)?,
                scope_path: r.get(5)?,
            })
        },
    )
}

/// A session with what authenticating it checks of its device and account.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: i64,
    pub device_id: String,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub active: bool,
    pub last_seen: Option<i64>,
}

/// The session whose token hashes to `token_hash`, expired or not.
pub fn session(conn: &Connection, token_hash: &[u8]) -> Result<Option<Session>> {
    conn.query_row(
        "SELECT s.user_id, s.device_id, s.expires_at, d.revoked_at, u.active, d.last_seen
             FROM sessions s JOIN devices d ON d.id = s.device_id JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1",
        [token_hash],
        |r| {
            Ok(Session {
                user_id: r.get(0)?,
                device_id: r.get(1)?,
                expires_at: r.get(2)?,
                revoked_at: r.get(3)?,
                active: r.get(4)?,
                last_seen: r.get(5)?,
            })
        },
    )
    .optional()
}

/// Records that a device was seen `now`, unless it was within the last minute.
pub fn touch_device(conn: &Connection, device_id: &str, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE devices SET last_seen = ?2 WHERE id = ?1 AND (last_seen IS NULL OR last_seen < ?2 - 60)",
        params![device_id, now],
    )?;
    Ok(())
}

/// Marks the first write of a device (every commit of a push records it in the push's
/// transaction).
pub fn mark_device_wrote(conn: &Connection, device_id: &str, now: i64) -> Result<()> {
    conn.send(
        "UPDATE devices SET wrote_at = ?2 WHERE id = ?1 AND wrote_at IS NULL",
        params![device_id, now],
    )?;
    Ok(())
}

/// The scope a device was last served: `None` for an unknown device, `Some(None)` for a
/// device that predates this record.
pub fn served_scope(conn: &Connection, device_id: &str) -> Result<Option<Option<String>>> {
    conn.prepare_cached("SELECT scope_path FROM devices WHERE id = ?1")?
        .query_row([device_id], |r| r.get(0))
        .optional()
}

/// Records the scope a device was served (a pull records it in the transaction of the
/// files it hands out).
pub fn set_served_scope(conn: &Connection, device_id: &str, scope_path: &str) -> Result<()> {
    conn.prepare_cached("UPDATE devices SET scope_path = ?2 WHERE id = ?1")?
        .execute([device_id, scope_path])?;
    Ok(())
}

/// Accounts whose scope organisation's path lies in `[lo, hi)`, by username, with their
/// unrevoked devices counted.
pub fn accounts_in_range(conn: &Connection, lo: &str, hi: &str) -> Result<Vec<Account>> {
    conn.prepare(
        "SELECT u.id, u.username, u.display_name, u.role, u.scope_org, u.active,
                    u.must_change_password, u.last_login,
                    (SELECT COUNT(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL)
             FROM users u JOIN orgs o ON o.id = u.scope_org
             WHERE o.path >= ?1 AND o.path < ?2 ORDER BY u.username",
    )?
    .query_map(params![lo, hi], |r| {
        Ok(Account {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: r.get(3)?,
            scope_org: r.get(4)?,
            active: r.get(5)?,
            must_change_password: r.get(6)?,
            last_login: r.get(7)?,
            devices: r.get(8)?,
        })
    })?
    .collect()
}

/// The id of the account named `username`.
pub fn user_id_by_name(conn: &Connection, username: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM users WHERE username = ?1",
        [username],
        |r| r.get(0),
    )
    .optional()
}

/// Adds an account created by an administrator (who must change the password at the
/// first sign-in) and returns its id.
pub fn insert_account(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    role: &str,
    scope_org: &str,
    created_at: i64,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO users(username, display_name, password_hash, role, scope_org,
                           must_change_password, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)",
        params![
            username,
            display_name,
            password_hash,
            role,
            scope_org,
            created_at
        ],
    )?;
    conn.last_insert_rowid()
}

/// Changes an account's name, role, scope and state.
pub fn update_user(
    conn: &Connection,
    id: i64,
    display_name: &str,
    role: &str,
    scope_org: &str,
    active: bool,
) -> Result<()> {
    conn.execute(
        "UPDATE users SET display_name = ?2, role = ?3, scope_org = ?4, active = ?5 WHERE id = ?1",
        params![id, display_name, role, scope_org, active],
    )?;
    Ok(())
}

/// Scopes the accounts scoped to `from` to `into`; returns how many.
pub fn rescope_accounts(conn: &Connection, from: &str, into: &str) -> Result<usize> {
    conn.execute(
        "UPDATE users SET scope_org = ?2 WHERE scope_org = ?1",
        params![from, into],
    )
}

/// Ends every session of an account.
pub fn delete_sessions_of_user(conn: &Connection, user_id: i64) -> Result<()> {
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
}

/// Sets a password the user must change at the next sign-in.
pub fn set_temporary_password(conn: &Connection, user_id: i64, password_hash: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, must_change_password = 1 WHERE id = ?1",
        params![user_id, password_hash],
    )?;
    Ok(())
}

/// Sets the password the user chose themselves.
pub fn set_own_password(conn: &Connection, user_id: i64, password_hash: &str) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, must_change_password = 0 WHERE id = ?1",
        params![user_id, password_hash],
    )?;
    Ok(())
}

/// Devices of accounts whose scope organisation's path lies in `[lo, hi)`: working ones
/// first, the most recently seen first.
pub fn devices_in_range(conn: &Connection, lo: &str, hi: &str) -> Result<Vec<DeviceInfo>> {
    conn.prepare(
        "SELECT d.id, u.username, u.display_name, d.name, d.created_at, d.last_seen,
                    d.revoked_at, d.rejected_count, d.last_rejected_at
             FROM devices d JOIN users u ON u.id = d.user_id JOIN orgs o ON o.id = u.scope_org
             WHERE o.path >= ?1 AND o.path < ?2
             ORDER BY d.revoked_at IS NOT NULL, COALESCE(d.last_seen, d.created_at) DESC",
    )?
    .query_map(params![lo, hi], |r| {
        Ok(DeviceInfo {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            name: r.get(3)?,
            first_seen: r.get(4)?,
            last_sync: r.get(5)?,
            revoked_at: r.get(6)?,
            rejected: r.get(7)?,
            last_rejected_at: r.get(8)?,
        })
    })?
    .collect()
}

/// Every device, newest first.
pub fn all_devices(conn: &Connection) -> Result<Vec<DeviceRow>> {
    conn.prepare(
        "SELECT d.id, u.username, d.name, d.created_at, d.last_seen, d.revoked_at
                 FROM devices d JOIN users u ON u.id = d.user_id ORDER BY d.created_at DESC",
    )?
    .query_map((), |r| {
        Ok(DeviceRow {
            id: r.get(0)?,
            username: r.get(1)?,
            name: r.get(2)?,
            created_at: r.get(3)?,
            last_seen: r.get(4)?,
            revoked_at: r.get(5)?,
        })
    })?
    .collect()
}

/// Adds or replaces an account from a reference import, by username.
pub fn upsert_imported_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
    role: &str,
    scope_org: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO users(username, display_name, password_hash, role, scope_org)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(username) DO UPDATE SET display_name = excluded.display_name,
               password_hash = excluded.password_hash, role = excluded.role,
               scope_org = excluded.scope_org",
        params![username, display_name, password_hash, role, scope_org],
    )?;
    Ok(())
}

/// The actor id the server's own device writes with.
pub fn system_device_actor(conn: &Connection) -> Result<Option<String>> {
    conn.query_row(
        "SELECT a.actor FROM actors a JOIN devices d ON d.id = a.device_id WHERE d.id = 'system'",
        (),
        |r| r.get(0),
    )
    .optional()
}

/// Adds the disabled system account, scoped to `root`, unless it exists.
pub fn insert_system_user(conn: &Connection, root: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO users(username, display_name, password_hash, role, scope_org, active)
         VALUES ('he-thong', 'Hệ thống', '!', 'admin', ?1, 0)",
        [root],
    )?;
    Ok(())
}

/// The id of the system account.
pub fn system_user_id(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT id FROM users WHERE username = 'he-thong'",
        (),
        |r| r.get(0),
    )
}

/// Adds the server's own device, owned by the system account, unless it exists.
pub fn insert_system_device(conn: &Connection, user_id: i64, now: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO devices(id, user_id, name, created_at) VALUES ('system', ?1, 'máy chủ', ?2)",
        params![user_id, now],
    )?;
    Ok(())
}

/// Binds `actor` to the server's own device.
pub fn insert_system_actor(conn: &Connection, actor: &str, user_id: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO actors(actor, device_id, user_id) VALUES (?1, 'system', ?2)",
        params![actor, user_id],
    )?;
    Ok(())
}

/// Registers a device that has been in use, unless it exists: created, last seen and
/// first written at `now`, and already served the scope `scope_path`.
pub fn insert_device_in_use(
    conn: &Connection,
    device_id: &str,
    user_id: i64,
    name: &str,
    now: i64,
    scope_path: &str,
) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO devices(id, user_id, name, created_at, last_seen, scope_path, wrote_at)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?4)",
        params![device_id, user_id, name, now, scope_path],
    )?;
    Ok(())
}

/// The number of active accounts.
pub fn count_active_users(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM users WHERE active = 1", (), |r| {
        r.get(0)
    })
}

/// The number of devices not revoked.
pub fn count_working_devices(conn: &Connection) -> Result<i64> {
    conn.query_row(
        "SELECT COUNT(*) FROM devices WHERE revoked_at IS NULL",
        (),
        |r| r.get(0),
    )
}
