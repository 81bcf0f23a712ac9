//! Terms and targets as data, with their history: a term runs from one congress to the
//! next (its dates come from the congress resolutions, not from calendar years); a target
//! is set per organisation for a year or a term, and every revision keeps the old and new
//! value, the date it took effect and the decision behind it. Members at the start of
//! each year are kept the same way.

use crate::db::Connection;
use serde::Serialize;
use serde_json::json;
use shared::api::ErrorCode;
use shared::date::Date;

use crate::administration::audit;
use crate::auth::{Caller, now_secs};
use crate::casedocs::path_in_scope;
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::extract::Admin;

/// A target or sub-target is set by a resolution or decision, which must be named.
fn require_target_decision(decision: &str) -> AppResult<()> {
    if decision.trim().is_empty() {
        return Err(bad(
            ErrorCode::DecisionRequired,
            "Hãy ghi số, ngày nghị quyết hoặc quyết định giao chỉ tiêu.".into(),
            "Record the number and date of the resolution or decision setting the target.".into(),
        ));
    }
    Ok(())
}

fn bad(code: ErrorCode, vi: String, en: String) -> AppError {
    AppError::bad_request(code, vi, en)
}

fn check_org(conn: &Connection, caller: &Caller, org: &str) -> AppResult<()> {
    match crate::db::orgs::path_of(conn, org)? {
        Some(p) if path_in_scope(&p, &caller.scope_path) => Ok(()),
        _ => Err(bad(
            ErrorCode::BadOrg,
            format!("Tổ chức «{org}» không có hoặc nằm ngoài phạm vi quản trị của bạn."),
            format!("Organisation `{org}` does not exist or is outside your administrative scope."),
        )),
    }
}

fn who(caller: &Caller) -> String {
    format!("{} ({})", caller.display_name, caller.username)
}

/// One year of an organisation: members at its start and the admission target.
#[derive(Debug, Clone, Serialize)]
pub struct YearRow {
    pub year: i32,
    pub members_start: i64,
    pub target: i64,
}

/// One term of an organisation.
#[derive(Debug, Clone, Serialize)]
pub struct Term {
    pub name: String,
    pub start_date: String,
    pub end_date: String,
    pub decision: String,
    pub target: Option<i64>,
}

/// A revision of a target or a member count.
#[derive(Debug, Clone, Serialize)]
pub struct Revision {
    pub at: i64,
    pub period: String,
    pub field: String,
    pub old_value: Option<i64>,
    pub new_value: i64,
    pub effective: Option<String>,
    pub decision: String,
    pub by: String,
}

pub fn of_org(
    conn: &Connection,
    caller: &Admin,
    org: &str,
) -> AppResult<(Vec<YearRow>, Vec<Term>, Vec<Revision>)> {
    check_org(conn, caller, org)?;
    let years = crate::db::targets::years_of(conn, org)?;
    let terms = crate::db::targets::terms_with_targets(conn, org)?;
    let history = crate::db::targets::history_of(conn, org)?;
    Ok((years, terms, history))
}

/// Records one revision (nothing when the value did not change). `by` names who made it.
#[allow(clippy::too_many_arguments)]
pub fn record_revision(
    tx: &Connection,
    by: &str,
    org: &str,
    period: &str,
    field: &str,
    old: Option<i64>,
    new: i64,
    effective: Option<Date>,
    decision: &str,
) -> crate::db::Result<()> {
    if old == Some(new) {
        return Ok(());
    }
    crate::db::targets::insert_revision(
        tx,
        now_secs(),
        org,
        period,
        field,
        old,
        new,
        effective,
        decision.trim(),
        by,
    )
}

#[allow(clippy::too_many_arguments)]
fn revise(
    tx: &Connection,
    caller: &Caller,
    org: &str,
    period: &str,
    field: &str,
    old: Option<i64>,
    new: i64,
    effective: Date,
    decision: &str,
) -> crate::db::Result<()> {
    if old == Some(new) {
        return Ok(());
    }
    record_revision(
        tx,
        &who(caller),
        org,
        period,
        field,
        old,
        new,
        Some(effective),
        decision,
    )?;
    audit(
        tx,
        caller,
        &format!("targets.{field}"),
        &format!("{org} {period}"),
        old.map(|o| json!(o)).as_ref(),
        Some(&json!(new)),
        decision.trim(),
    )
}

/// Sets the part of a period's target reserved for a group, keeping the revision under
/// the field `target:<group>`.
#[allow(clippy::too_many_arguments)]
pub fn put_sub_target(
    tx: &Connection,
    by: &str,
    org: &str,
    period: &str,
    group: &str,
    value: i64,
    effective: Option<Date>,
    decision: &str,
) -> crate::db::Result<()> {
    let old = crate::db::targets::sub_target(tx, org, period, group)?;
    crate::db::targets::put_sub_target(tx, org, period, group, value)?;
    record_revision(
        tx,
        by,
        org,
        period,
        &format!("target:{group}"),
        old,
        value,
        effective,
        decision,
    )
}

/// Sets a sub-target from the administration page.
#[allow(clippy::too_many_arguments)]
pub fn set_sub_target(
    store: &Store,
    caller: &Admin,
    org: &str,
    period: &str,
    group: &str,
    value: i64,
    effective: Date,
    decision: &str,
) -> AppResult<()> {
    if crate::figures::TargetGroup::parse(group).is_none() || value < 0 || period.trim().is_empty()
    {
        return Err(bad(
            ErrorCode::BadSubTarget,
            "Chỉ tiêu thành phần cần kỳ, nhóm hợp lệ và số không âm.".into(),
            "A sub-target needs a period, a valid group and a non-negative number.".into(),
        ));
    }
    require_target_decision(decision)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    check_org(&tx, caller, org)?;
    put_sub_target(
        &tx,
        &who(caller),
        org,
        period.trim(),
        group,
        value,
        Some(effective),
        decision,
    )?;
    audit(
        &tx,
        caller,
        "targets.sub_target",
        &format!("{org} {} {group}", period.trim()),
        None,
        Some(&json!(value)),
        decision.trim(),
    )?;
    tx.commit()?;
    Ok(())
}

/// One sub-target of an organisation.
#[derive(Debug, Clone, Serialize)]
pub struct SubTarget {
    pub period: String,
    pub group: String,
    pub value: i64,
}

pub fn sub_targets_of(conn: &Connection, org: &str) -> crate::db::Result<Vec<SubTarget>> {
    crate::db::targets::sub_targets_of(conn, org)
}

/// The revisions of one organisation's figures for one period (a year or a term name),
/// oldest first.
pub fn revisions_of(
    conn: &Connection,
    org: &str,
    period: &str,
) -> crate::db::Result<Vec<Revision>> {
    crate::db::targets::revisions_of(conn, org, period)
}

/// A term with its congress dates.
#[derive(Debug, Clone, Serialize)]
pub struct TermDates {
    pub org_id: String,
    pub name: String,
    pub start: Date,
    pub end: Date,
    pub decision: String,
}

/// Digits of the years a term's name holds ("Nhiệm kỳ 2020–2025" → [2020, 2025]).
fn name_years(name: &str) -> Vec<i32> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|p| p.len() == 4)
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// The term named `name` of the organisation at `path` or its nearest ancestor that
/// records terms (a ward reports on the district's term when it has none of its own).
/// A name matches exactly, or by its years ("2020-2025" finds "Nhiệm kỳ 2020–2025").
pub fn find_term(
    conn: &Connection,
    orgs: &crate::reports::OrgIndex,
    org: &str,
    name: &str,
) -> crate::db::Result<Option<TermDates>> {
    let wanted = name_years(name);
    let mut cur = orgs.get(org);
    while let Some(o) = cur {
        let rows = crate::db::targets::terms_of(conn, &o.id)?;
        let found = rows.iter().find(|t| t.0.trim() == name.trim()).or_else(|| {
            rows.iter()
                .find(|t| !wanted.is_empty() && name_years(&t.0) == wanted)
        });
        if let Some((n, a, b, dec)) = found
            && let (Ok(a), Ok(b)) = (a.parse::<Date>(), b.parse::<Date>())
        {
            return Ok(Some(TermDates {
                org_id: o.id.clone(),
                name: n.clone(),
                start: a,
                end: b,
                decision: dec.clone(),
            }));
        }
        cur = o.parent_id.as_deref().and_then(|p| orgs.get(p));
    }
    Ok(None)
}

/// The term (of the organisation or its nearest ancestor with terms) running on `day`.
pub fn term_on(
    conn: &Connection,
    orgs: &crate::reports::OrgIndex,
    org: &str,
    day: Date,
) -> crate::db::Result<Option<TermDates>> {
    let mut cur = orgs.get(org);
    while let Some(o) = cur {
        let row = crate::db::targets::term_running_on(conn, &o.id, day)?;
        if let Some((n, a, b, dec)) = row
            && let (Ok(a), Ok(b)) = (a.parse::<Date>(), b.parse::<Date>())
        {
            return Ok(Some(TermDates {
                org_id: o.id.clone(),
                name: n,
                start: a,
                end: b,
                decision: dec,
            }));
        }
        cur = o.parent_id.as_deref().and_then(|p| orgs.get(p));
    }
    Ok(None)
}

/// Sets a year's target and members at its start, keeping the revisions.
#[allow(clippy::too_many_arguments)]
pub fn set_year(
    store: &Store,
    caller: &Admin,
    org: &str,
    year: i32,
    members_start: i64,
    target: i64,
    effective: Date,
    decision: &str,
) -> AppResult<()> {
    if !(1930..=2200).contains(&year) || members_start < 0 || target < 0 {
        return Err(bad(
            ErrorCode::BadNumber,
            "Năm, số đảng viên và chỉ tiêu phải là số hợp lệ, không âm.".into(),
            "Year, member count and target must be valid, non-negative numbers.".into(),
        ));
    }
    require_target_decision(decision)?;
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    check_org(&tx, caller, org)?;
    let old = crate::db::targets::year(&tx, org, year)?;
    crate::db::targets::put_year(&tx, org, year, members_start, target)?;
    let period = year.to_string();
    revise(
        &tx,
        caller,
        org,
        &period,
        "target",
        old.map(|o| o.1),
        target,
        effective,
        decision,
    )?;
    revise(
        &tx,
        caller,
        org,
        &period,
        "members_start",
        old.map(|o| o.0),
        members_start,
        effective,
        decision,
    )?;
    tx.commit()?;
    Ok(())
}

/// Adds or changes a term (congress to congress) and its target.
#[allow(clippy::too_many_arguments)]
pub fn set_term(
    store: &Store,
    caller: &Admin,
    org: &str,
    name: &str,
    start: Date,
    end: Date,
    target: Option<i64>,
    decision: &str,
) -> AppResult<()> {
    if name.trim().is_empty() || end <= start {
        return Err(bad(
            ErrorCode::BadTerm,
            "Nhiệm kỳ cần tên, và ngày kết thúc sau ngày bắt đầu.".into(),
            "A term needs a name, and an end after its start.".into(),
        ));
    }
    if decision.trim().is_empty() {
        return Err(bad(
            ErrorCode::DecisionRequired,
            "Hãy ghi nghị quyết đại hội.".into(),
            "Record the congress resolution.".into(),
        ));
    }
    let mut conn = store.conn();
    let tx = conn.transaction()?;
    check_org(&tx, caller, org)?;
    crate::db::targets::put_term(&tx, org, name.trim(), start, end, decision.trim())?;
    if let Some(t) = target {
        let old = crate::db::targets::term_target(&tx, org, name.trim())?;
        crate::db::targets::put_term_target(&tx, org, name.trim(), t)?;
        revise(
            &tx,
            caller,
            org,
            name.trim(),
            "target",
            old,
            t,
            start,
            decision,
        )?;
    }
    audit(
        &tx,
        caller,
        "terms.set",
        &format!("{org} {}", name.trim()),
        None,
        Some(&json!({"start": start.to_string(), "end": end.to_string(), "target": target})),
        decision.trim(),
    )?;
    tx.commit()?;
    Ok(())
}
