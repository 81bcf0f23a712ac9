//! Terms, targets and member counts: every statement on `terms`, `term_targets`,
//! `sub_targets`, `target_history` and `org_years`.

use shared::date::Date;

use super::{Connection, OptionalExtension, Result, Rows, params};
use crate::targets::{Revision, SubTarget, Term, YearRow};

/// A term's name, start date, end date and decision, as stored.
pub type TermRow = (String, String, String, String);

/// The years of an organisation: members at the start and targets, oldest first.
pub fn years_of(conn: &Connection, org: &str) -> Result<Vec<YearRow>> {
    conn.prepare(
        "SELECT year, members_start, target FROM org_years WHERE org_id = ?1 ORDER BY year",
    )?
    .query_map([org], |r| {
        Ok(YearRow {
            year: r.get(0)?,
            members_start: r.get(1)?,
            target: r.get(2)?,
        })
    })?
    .collect()
}

/// The terms of an organisation with their targets, by start date.
pub fn terms_with_targets(conn: &Connection, org: &str) -> Result<Vec<Term>> {
    conn.prepare(
        "SELECT t.name, t.start_date, t.end_date, t.decision, tt.target FROM terms t
             LEFT JOIN term_targets tt ON tt.org_id = t.org_id AND tt.term = t.name
             WHERE t.org_id = ?1 ORDER BY t.start_date",
    )?
    .query_map([org], |r| {
        Ok(Term {
            name: r.get(0)?,
            start_date: r.get(1)?,
            end_date: r.get(2)?,
            decision: r.get(3)?,
            target: r.get(4)?,
        })
    })?
    .collect()
}

fn revision(r: &super::Row<'_>) -> Result<Revision> {
    Ok(Revision {
        at: r.get(0)?,
        period: r.get(1)?,
        field: r.get(2)?,
        old_value: r.get(3)?,
        new_value: r.get(4)?,
        effective: r.get(5)?,
        decision: r.get(6)?,
        by: r.get(7)?,
    })
}

/// Every revision of an organisation's figures, newest first.
pub fn history_of(conn: &Connection, org: &str) -> Result<Vec<Revision>> {
    conn.prepare(
        "SELECT at, period, field, old_value, new_value, effective, decision, by
             FROM target_history WHERE org_id = ?1 ORDER BY id DESC",
    )?
    .query_map([org], revision)?
    .collect()
}

/// The revisions of one organisation's figures for one period, member counts left out,
/// oldest first.
pub fn revisions_of(conn: &Connection, org: &str, period: &str) -> Result<Vec<Revision>> {
    conn.prepare_cached(
        "SELECT at, period, field, old_value, new_value, effective, decision, by
         FROM target_history WHERE org_id = ?1 AND period = ?2 AND field <> 'members_start'
         ORDER BY id",
    )?
    .query_map([org, period], revision)?
    .collect()
}

/// Keeps one revision of a figure.
#[allow(clippy::too_many_arguments)]
pub fn insert_revision(
    conn: &Connection,
    at: i64,
    org: &str,
    period: &str,
    field: &str,
    old: Option<i64>,
    new: i64,
    effective: Option<Date>,
    decision: &str,
    by: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO target_history(at, org_id, period, field, old_value, new_value, effective,
                                    decision, by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            at,
            org,
            period,
            field,
            old,
            new,
            effective.map(|e| e.to_string()),
            decision,
            by
        ],
    )?;
    Ok(())
}

/// The part of a period's target reserved for `group`, if set.
pub fn sub_target(conn: &Connection, org: &str, period: &str, group: &str) -> Result<Option<i64>> {
    conn.query_row(
        "SELECT value FROM sub_targets WHERE org_id = ?1 AND period = ?2 AND grp = ?3",
        params![org, period, group],
        |r| r.get(0),
    )
    .optional()
}

pub fn put_sub_target(
    conn: &Connection,
    org: &str,
    period: &str,
    group: &str,
    value: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO sub_targets(org_id, period, grp, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(org_id, period, grp) DO UPDATE SET value = excluded.value",
        params![org, period, group, value],
    )?;
    Ok(())
}

/// The sub-targets of an organisation, by period and group.
pub fn sub_targets_of(conn: &Connection, org: &str) -> Result<Vec<SubTarget>> {
    conn.prepare_cached(
        "SELECT period, grp, value FROM sub_targets WHERE org_id = ?1 ORDER BY period, grp",
    )?
    .query_map([org], |r| {
        Ok(SubTarget {
            period: r.get(0)?,
            group: r.get(1)?,
            value: r.get(2)?,
        })
    })?
    .collect()
}

/// The terms an organisation records itself, by start date.
pub fn terms_of(conn: &Connection, org: &str) -> Result<Vec<TermRow>> {
    conn.prepare_cached(
        "SELECT name, start_date, end_date, decision FROM terms WHERE org_id = ?1
         ORDER BY start_date",
    )?
    .query_map([org], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
    .collect()
}

/// The latest-starting term the organisation records itself that runs on `day`.
pub fn term_running_on(conn: &Connection, org: &str, day: Date) -> Result<Option<TermRow>> {
    conn.prepare_cached(
        "SELECT name, start_date, end_date, decision FROM terms
         WHERE org_id = ?1 AND start_date <= ?2 AND end_date >= ?2
         ORDER BY start_date DESC LIMIT 1",
    )?
    .query_row(params![org, day.to_string()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .optional()
}

/// Members at the start and target of one year, if recorded.
pub fn year(conn: &Connection, org: &str, year: i32) -> Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT members_start, target FROM org_years WHERE org_id = ?1 AND year = ?2",
        params![org, year],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A figure of `org_years`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgYearFigure {
    /// Members at the start of the year.
    MembersStart,
    /// The year's admission target.
    Target,
}

/// One figure of every organisation for a year: (organisation, value).
pub fn year_figures(
    conn: &Connection,
    year: i32,
    figure: OrgYearFigure,
) -> Result<Rows<(String, i64)>> {
    let sql = match figure {
        OrgYearFigure::MembersStart => {
            "SELECT org_id, members_start FROM org_years WHERE year = ?1"
        }
        OrgYearFigure::Target => "SELECT org_id, target FROM org_years WHERE year = ?1",
    };
    let mut stmt = conn.prepare_cached(sql)?;
    stmt.query_map([year], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })
}

/// Stores the members at the start and the target of one year, replacing those recorded
/// (where [`add_years_into`] adds to them).
pub fn put_year(
    conn: &Connection,
    org: &str,
    year: i32,
    members_start: i64,
    target: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO org_years(org_id, year, members_start, target) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(org_id, year) DO UPDATE SET members_start = excluded.members_start,
            target = excluded.target",
        params![org, year, members_start, target],
    )?;
    Ok(())
}

/// Adds the yearly member counts and targets of `from` to those of `into`.
pub fn add_years_into(conn: &Connection, from: &str, into: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO org_years(org_id, year, members_start, target)
         SELECT ?2, year, members_start, target FROM org_years WHERE org_id = ?1
         ON CONFLICT(org_id, year) DO UPDATE SET
            members_start = org_years.members_start + excluded.members_start,
            target = org_years.target + excluded.target",
        params![from, into],
    )?;
    Ok(())
}

/// Adds or changes a term's dates and congress resolution.
pub fn put_term(
    conn: &Connection,
    org: &str,
    name: &str,
    start: Date,
    end: Date,
    decision: &str,
) -> Result<()> {
    conn.execute(
        "INSERT INTO terms(org_id, name, start_date, end_date, decision) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(org_id, name) DO UPDATE SET start_date = excluded.start_date,
            end_date = excluded.end_date, decision = excluded.decision",
        params![org, name, start.to_string(), end.to_string(), decision],
    )?;
    Ok(())
}

/// A term's target, if set, by the term's name. The statement is cached: the plan of a
/// subtree asks it of each organisation.
pub fn term_target(conn: &Connection, org: &str, term: &str) -> Result<Option<i64>> {
    conn.prepare_cached("SELECT target FROM term_targets WHERE org_id = ?1 AND term = ?2")?
        .query_row([org, term], |r| r.get::<_, i64>(0))
        .optional()
}

/// Stores a term's target, replacing the one recorded.
pub fn put_term_target(conn: &Connection, org: &str, term: &str, target: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO term_targets(org_id, term, target) VALUES (?1, ?2, ?3)
             ON CONFLICT(org_id, term) DO UPDATE SET target = excluded.target",
        params![org, term, target],
    )?;
    Ok(())
}
