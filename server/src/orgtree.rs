//! Changes to the organisation tree made by administrators: add, rename, move under
//! another superior committee, merge one organisation into another, close. Since
//! 01/07/2025 districts are gone and communes and wards merged, so branches move and
//! merge under new committees; the product follows without a command line.
//!
//! Case files, accounts' scopes, member counts and targets follow the organisation. A
//! move rewrites the materialised paths of the subtree and marks its files as newly
//! placed in the change feed, so devices whose scope gained them receive them and
//! devices whose scope lost them drop them at their next sync. Every change is kept in
//! `org_history` with its date and decision, and in the audit log.

use crate::db::Connection;
use crate::db::orgs::OrgRow;
use serde::Serialize;
use serde_json::{Value, json};
use shared::api::{ErrorCode, ReviewChange};
use shared::date::Date;
use shared::doc;

use crate::admin::valid_org_id;
use crate::administration::audit;
use crate::auth::{Caller, now_secs};
use crate::casedocs::{RulesConfig, path_in_scope, scope_range};
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::extract::Admin;

fn bad(code: ErrorCode, vi: String, en: String) -> AppError {
    AppError::bad_request(code, vi, en)
}

/// The date and decision behind a change of the tree.
#[derive(Debug, Clone)]
pub struct Decision {
    pub effective: Date,
    pub reference: String,
}

impl Decision {
    fn check(&self) -> AppResult<()> {
        if self.reference.trim().is_empty() {
            return Err(bad(
                ErrorCode::DecisionRequired,
                "Hãy ghi số, ngày quyết định của cấp ủy.".into(),
                "Record the number and date of the committee's decision.".into(),
            ));
        }
        Ok(())
    }
}

fn org(conn: &Connection, caller: &Caller, id: &str) -> AppResult<OrgRow> {
    match crate::db::orgs::org(conn, id)? {
        Some(o) if path_in_scope(&o.path, &caller.scope_path) => Ok(o),
        _ => Err(bad(
            ErrorCode::BadOrg,
            format!("Tổ chức «{id}» không có hoặc nằm ngoài phạm vi quản trị của bạn."),
            format!("Organisation `{id}` does not exist or is outside your administrative scope."),
        )),
    }
}

fn open_org(conn: &Connection, caller: &Caller, id: &str) -> AppResult<OrgRow> {
    let o = org(conn, caller, id)?;
    if let Some(closed) = &o.closed_on {
        return Err(bad(
            ErrorCode::OrgClosed,
            format!("Tổ chức «{}» đã giải thể từ {closed}.", o.name),
            format!("Organisation `{}` was closed on {closed}.", o.name),
        ));
    }
    Ok(o)
}

fn record(
    conn: &Connection,
    caller: &Caller,
    org_id: &str,
    action: &str,
    detail: Value,
    d: &Decision,
) -> crate::db::Result<()> {
    let by = format!("{} ({})", caller.display_name, caller.username);
    crate::db::orgs::insert_change(
        conn,
        now_secs(),
        org_id,
        action,
        &detail.to_string(),
        d.effective,
        d.reference.trim(),
        &by,
    )?;
    audit(
        conn,
        caller,
        &format!("org.{action}"),
        org_id,
        None,
        Some(&detail),
        d.reference.trim(),
    )
}

/// Adds an organisation under `parent`.
#[allow(clippy::too_many_arguments)]
pub fn add(
    store: &Store,
    caller: &Admin,
    id: &str,
    parent: &str,
    name: &str,
    kind: &str,
    grassroots: bool,
    d: &Decision,
) -> AppResult<()> {
    d.check()?;
    if !valid_org_id(id) {
        return Err(bad(
            ErrorCode::BadOrgId,
            format!("Mã tổ chức «{id}» không hợp lệ: 1–64 chữ, số, '-', '_', '.'."),
            format!("Organisation id `{id}` is not valid: 1–64 letters, digits, '-', '_', '.'."),
        ));
    }
    if name.trim().is_empty() || !["committee", "branch", "sub_branch", "district"].contains(&kind)
    {
        return Err(bad(
            ErrorCode::BadOrg,
            "Hãy nhập tên và chọn loại tổ chức.".into(),
            "Enter a name and choose the kind of organisation.".into(),
        ));
    }
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let p = open_org(&tx, caller, parent)?;
    if crate::db::orgs::exists(&tx, id)? {
        return Err(bad(
            ErrorCode::OrgExists,
            format!("Mã tổ chức «{id}» đã được dùng."),
            format!("Organisation id `{id}` is taken."),
        ));
    }
    crate::db::orgs::insert(
        &tx,
        id,
        parent,
        name.trim(),
        kind,
        grassroots,
        &format!("{}{id}/", p.path),
    )?;
    record(
        &tx,
        caller,
        id,
        "add",
        json!({"parent": parent, "name": name.trim(), "kind": kind, "grassroots": grassroots}),
        d,
    )?;
    tx.commit()?;
    Ok(())
}

pub fn rename(store: &Store, caller: &Admin, id: &str, name: &str, d: &Decision) -> AppResult<()> {
    d.check()?;
    if name.trim().is_empty() {
        return Err(bad(
            ErrorCode::BadName,
            "Hãy nhập tên mới.".into(),
            "Enter the new name.".into(),
        ));
    }
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let o = open_org(&tx, caller, id)?;
    crate::db::orgs::rename(&tx, id, name.trim())?;
    record(
        &tx,
        caller,
        id,
        "rename",
        json!({"from": o.name, "to": name.trim()}),
        d,
    )?;
    tx.commit()?;
    Ok(())
}

/// Moves an organisation (with everything below it) under another superior committee.
pub fn move_under(
    store: &Store,
    caller: &Admin,
    id: &str,
    new_parent: &str,
    d: &Decision,
) -> AppResult<()> {
    d.check()?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let o = open_org(&tx, caller, id)?;
    let p = open_org(&tx, caller, new_parent)?;
    if path_in_scope(&p.path, &o.path) {
        return Err(bad(
            ErrorCode::OrgCycle,
            "Không thể chuyển một tổ chức vào chính nó hoặc tổ chức trực thuộc nó.".into(),
            "An organisation cannot move under itself or one of its own units.".into(),
        ));
    }
    let new_path = format!("{}{id}/", p.path);
    let (lo, hi) = scope_range(&o.path);
    crate::db::orgs::rewrite_subtree_paths(&tx, &new_path, &lo, &hi)?;
    crate::db::orgs::set_parent(&tx, id, new_parent)?;
    let (nlo, nhi) = scope_range(&new_path);
    // A fresh feed position with no change at it: files marked with it count as newly
    // placed for every device, whatever its cursor.
    let pos = crate::db::docs::next_feed_position(&tx)?;
    crate::db::docs::mark_files_placed(&tx, &nlo, &nhi, pos)?;
    record(
        &tx,
        caller,
        id,
        "move",
        json!({"from": o.parent_id, "to": new_parent}),
        d,
    )?;
    tx.commit()?;
    Ok(())
}

/// Merges `from` into `into`: its case files move (as the administrator's changes, so
/// devices follow), its sub-units move under `into`, accounts scoped to it are scoped to
/// `into`, its members and its yearly member counts and targets are added to `into`'s,
/// and it is closed. Returns the number of case files moved.
pub fn merge(
    store: &Store,
    rules: &RulesConfig,
    caller: &Admin,
    from: &str,
    into: &str,
    d: &Decision,
) -> AppResult<usize> {
    d.check()?;
    if from == into {
        return Err(bad(
            ErrorCode::OrgSame,
            "Hãy chọn hai tổ chức khác nhau.".into(),
            "Choose two different organisations.".into(),
        ));
    }
    // The files first, one ordinary change each, like any reviewer's edit.
    let files: Vec<String> = {
        let conn = store.conn();
        let f = open_org(&conn, caller, from)?;
        let t = open_org(&conn, caller, into)?;
        if path_in_scope(&t.path, &f.path) {
            return Err(bad(
                ErrorCode::OrgCycle,
                "Không thể gộp một tổ chức vào tổ chức trực thuộc nó.".into(),
                "An organisation cannot be merged into one of its own units.".into(),
            ));
        }
        crate::db::docs::doc_ids_of(&conn, from)?
    };
    let actor = crate::admin::caller_actor(store, caller)?;
    let target = Value::String(into.to_string());
    for id in &files {
        let conn = store.conn();
        crate::review::write_as_reviewer(
            &conn,
            rules,
            caller,
            actor.clone(),
            id,
            ReviewChange::MergeOrg {
                from: from.to_string(),
                into: into.to_string(),
            },
            |doc| {
                doc::set_field(doc, &doc::parse_path("case.org_id"), &target)
                    .map_err(|e| AppError::Internal(e.to_string()))
            },
        )?;
    }
    let children: Vec<String> = {
        let conn = store.conn();
        crate::db::orgs::open_children(&conn, from)?
    };
    for child in &children {
        move_under(store, caller, child, into, d)?;
    }
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let accounts = crate::db::accounts::rescope_accounts(&tx, from, into)?;
    let members = crate::db::members::move_to_org(&tx, from, into)?;
    crate::db::targets::add_years_into(&tx, from, into)?;
    crate::db::orgs::close(&tx, from, d.effective)?;
    record(
        &tx,
        caller,
        from,
        "merge",
        json!({"into": into, "case_files": files.len(), "accounts": accounts,
               "members": members, "sub_units": children}),
        d,
    )?;
    tx.commit()?;
    Ok(files.len())
}

/// Closes an organisation that has no case files and no open sub-units left.
pub fn close(store: &Store, caller: &Admin, id: &str, d: &Decision) -> AppResult<()> {
    d.check()?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    let o = open_org(&tx, caller, id)?;
    if o.parent_id.is_none() {
        return Err(bad(
            ErrorCode::OrgRoot,
            "Không thể giải thể tổ chức gốc.".into(),
            "The root organisation cannot be closed.".into(),
        ));
    }
    let (files, children, accounts) = crate::db::orgs::closing_blockers(&tx, id)?;
    if files + children + accounts > 0 {
        return Err(bad(
            ErrorCode::OrgNotEmpty,
            format!(
                "Tổ chức còn {files} hồ sơ, {children} đơn vị trực thuộc và {accounts} tài khoản: hãy gộp hoặc chuyển trước khi giải thể."
            ),
            format!(
                "The organisation still has {files} case files, {children} units and {accounts} accounts: merge or move them before closing it."
            ),
        ));
    }
    crate::db::orgs::close(&tx, id, d.effective)?;
    record(&tx, caller, id, "close", json!({"name": o.name}), d)?;
    tx.commit()?;
    Ok(())
}

/// One change of the tree, for its history.
#[derive(Debug, Clone, Serialize)]
pub struct OrgChange {
    pub at: i64,
    pub org_id: String,
    pub action: String,
    pub detail: String,
    pub effective: Option<String>,
    pub decision: String,
    pub by: String,
}

pub fn history(conn: &Connection, _proof: &Admin, org: Option<&str>) -> AppResult<Vec<OrgChange>> {
    let rows = crate::db::orgs::recent_changes(conn)?;
    // An organisation's history includes the changes that name it (merged into it, moved
    // under it).
    let quoted = org.map(|o| format!("\"{o}\""));
    Ok(rows
        .into_iter()
        .filter(|c| match (org, &quoted) {
            (Some(o), Some(q)) => c.org_id == o || c.detail.contains(q.as_str()),
            _ => true,
        })
        .collect())
}

/// Case files per organisation of a subtree (for the tree page).
pub fn file_counts(
    conn: &Connection,
    root_path: &str,
) -> AppResult<std::collections::HashMap<String, i64>> {
    let (lo, hi) = scope_range(root_path);
    Ok(crate::db::docs::file_counts(conn, &lo, &hi)?)
}
