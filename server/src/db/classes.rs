//! Awareness classes: every statement on `classes`. The class figures also read who
//! named each class from `projections`, here because only they ask it.

use shared::date::Date;

use super::{Connection, OptionalExtension, Result, params};
use crate::classes::Class;

/// Adds or replaces a class.
pub fn put(conn: &Connection, c: &Class) -> Result<()> {
    conn.execute(
        "INSERT INTO classes(id, org_id, name, organiser, start_date, end_date, place, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name,
            organiser = excluded.organiser, start_date = excluded.start_date,
            end_date = excluded.end_date, place = excluded.place, note = excluded.note",
        params![
            c.id,
            c.org_id,
            c.name,
            c.organiser,
            c.start_date.to_string(),
            c.end_date.to_string(),
            c.place,
            c.note
        ],
    )?;
    Ok(())
}

fn row(r: &super::Row<'_>) -> Result<Class> {
    let date = |s: String| s.parse::<Date>().unwrap_or(Date::from_days_since_epoch(0));
    Ok(Class {
        id: r.get(0)?,
        org_id: r.get(1)?,
        name: r.get(2)?,
        organiser: r.get(3)?,
        start_date: date(r.get(4)?),
        end_date: date(r.get(5)?),
        place: r.get(6)?,
        note: r.get(7)?,
    })
}

const COLUMNS: &str = "id, org_id, name, organiser, start_date, end_date, place, note";

pub fn get(conn: &Connection, id: &str) -> Result<Option<Class>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM classes WHERE id = ?1"),
        [id],
        row,
    )
    .optional()
}

/// Every class, newest first.
pub fn all(conn: &Connection) -> Result<Vec<Class>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM classes ORDER BY start_date DESC, id"
    ))?
    .query_map((), row)?
    .collect()
}

pub fn count(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM classes", (), |r| r.get(0))
}

/// The classes whose first day lies in `[from, to]`, oldest first.
pub fn starting_between(conn: &Connection, from: Date, to: Date) -> Result<Vec<Class>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM classes WHERE start_date BETWEEN ?1 AND ?2 ORDER BY start_date, id"
    ))?
    .query_map([from.to_string(), to.to_string()], row)?
    .collect()
}

/// The case files naming a class: each one's organisation, whether it holds the class
/// certificate and whether it was admitted. It reads `projections`, kept here because
/// only the class figures ask it.
pub fn participants(conn: &Connection, class_id: &str) -> Result<Vec<(String, bool, bool)>> {
    conn.prepare_cached(
        "SELECT org_id, class_date IS NOT NULL, decision_date IS NOT NULL
         FROM projections WHERE class_id = ?1",
    )?
    .query_map([class_id], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, bool>(2)?,
        ))
    })?
    .collect()
}
