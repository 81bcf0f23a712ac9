//! Awareness classes (lớp bồi dưỡng nhận thức về Đảng) as records: who opened them, when
//! and where. Case files name the class they attended (`awareness_class.class_id`, picked
//! on the device from the reference data), so participants and certificates are counted
//! from the files themselves and a class's list is the files that name it.

use crate::db::Connection;
use serde::Serialize;
use shared::api::ErrorCode;
use shared::date::Date;

use crate::casedocs::path_in_scope;
use crate::error::{AppError, AppResult};
use crate::extract::Admin;
use crate::figures::Via;
use crate::reports::{OrgIndex, Period};

/// One class as the office records it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Class {
    pub id: String,
    /// The party organisation that opened the class.
    pub org_id: String,
    pub name: String,
    /// Who taught it, e.g. the district's political centre.
    pub organiser: String,
    pub start_date: Date,
    pub end_date: Date,
    pub place: String,
    pub note: String,
}

/// Adds or replaces a class.
pub fn put(conn: &Connection, c: &Class) -> crate::db::Result<()> {
    crate::db::classes::put(conn, c)
}

pub fn get(conn: &Connection, id: &str) -> crate::db::Result<Option<Class>> {
    crate::db::classes::get(conn, id)
}

/// The classes a user of `scope_path` may see or pick: opened by an organisation of the
/// scope or by one above it (a district's class serves its wards), newest first.
pub fn visible(conn: &Connection, orgs: &OrgIndex, scope_path: &str) -> AppResult<Vec<Class>> {
    let all = crate::db::classes::all(conn)?;
    Ok(all
        .into_iter()
        .filter(|c| {
            orgs.get(&c.org_id).is_some_and(|o| {
                path_in_scope(&o.path, scope_path) || path_in_scope(scope_path, &o.path)
            })
        })
        .collect())
}

/// Creates or changes a class from the administration page.
pub fn save(conn: &mut Connection, orgs: &OrgIndex, caller: &Admin, c: Class) -> AppResult<String> {
    let org_ok = orgs
        .get(&c.org_id)
        .is_some_and(|o| path_in_scope(&o.path, &caller.scope_path));
    if !org_ok {
        return Err(AppError::bad_request(
            ErrorCode::BadOrg,
            format!(
                "Tổ chức «{}» không có hoặc nằm ngoài phạm vi quản trị của bạn.",
                c.org_id
            ),
            format!(
                "Organisation `{}` does not exist or is outside your administrative scope.",
                c.org_id
            ),
        ));
    }
    if c.name.trim().is_empty() || c.end_date < c.start_date {
        return Err(AppError::bad_request(
            ErrorCode::BadClass,
            "Lớp cần tên, và ngày kết thúc không trước ngày khai giảng.".to_string(),
            "A class needs a name, and an end no earlier than its start.".to_string(),
        ));
    }
    let tx = conn.transaction()?;
    let id = if c.id.trim().is_empty() {
        let n = crate::db::classes::count(&tx)?;
        let mut k = n + 1;
        loop {
            let id = format!("lop-{}-{k:03}", c.start_date.year());
            if get(&tx, &id)?.is_none() {
                break id;
            }
            k += 1;
        }
    } else {
        let existing = get(&tx, c.id.trim())?;
        if let Some(e) = &existing
            && !orgs
                .get(&e.org_id)
                .is_some_and(|o| path_in_scope(&o.path, &caller.scope_path))
        {
            return Err(AppError::forbidden());
        }
        c.id.trim().to_string()
    };
    let before = get(&tx, &id)?;
    let class = Class {
        id: id.clone(),
        ..c
    };
    put(&tx, &class)?;
    crate::administration::audit(
        &tx,
        caller,
        "class.save",
        &id,
        before
            .as_ref()
            .and_then(|b| serde_json::to_value(b).ok())
            .as_ref(),
        serde_json::to_value(&class).ok().as_ref(),
        "",
    )?;
    tx.commit()?;
    Ok(id)
}

/// A class with its participants from a subtree.
#[derive(Debug, Clone, Serialize)]
pub struct ClassFigure {
    pub id: String,
    pub name: String,
    pub organiser: String,
    pub org_name: String,
    pub start_date: Date,
    pub end_date: Date,
    pub place: String,
    /// Case files of the subtree naming the class.
    pub participants: usize,
    /// Of those, files holding the class certificate.
    pub certified: usize,
    /// Of those, files admitted since (decision signed, at any date).
    pub admitted: usize,
}

/// Classes and trainees of a period in a subtree.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClassesFigure {
    /// Classes that started in the period, opened inside the subtree or attended by one
    /// of its candidates.
    pub classes: usize,
    /// Candidates of the subtree sent to those classes.
    pub trainees: usize,
    pub certified: usize,
    /// Trainees admitted since (at any date).
    pub admitted: usize,
    /// Files of the subtree whose class certificate is dated in the period, with or
    /// without a class record.
    pub certificates_in_period: usize,
    pub list: Vec<ClassFigure>,
}

/// Counts classes and their trainees for a period: a class belongs to the period by its
/// first day.
pub fn figures(
    conn: &Connection,
    orgs: &OrgIndex,
    root_path: &str,
    period: Period,
) -> AppResult<ClassesFigure> {
    figures_via(conn, orgs, root_path, period, Via::Aggregates)
}

/// The class figures with the certificates of the period read from the rollups or, for
/// checking them, from the projections.
pub fn figures_via(
    conn: &Connection,
    orgs: &OrgIndex,
    root_path: &str,
    period: Period,
    via: Via,
) -> AppResult<ClassesFigure> {
    let classes = crate::db::classes::starting_between(conn, period.from, period.to)?;
    let mut out = ClassesFigure::default();
    for c in classes {
        let mut f = ClassFigure {
            org_name: orgs.name(&c.org_id),
            id: c.id.clone(),
            name: c.name.clone(),
            organiser: c.organiser.clone(),
            start_date: c.start_date,
            end_date: c.end_date,
            place: c.place.clone(),
            participants: 0,
            certified: 0,
            admitted: 0,
        };
        for (org, certified, admitted) in crate::db::classes::participants(conn, &c.id)? {
            if orgs.in_subtree(&org, root_path) {
                f.participants += 1;
                f.certified += usize::from(certified);
                f.admitted += usize::from(admitted);
            }
        }
        let opened_inside = orgs.in_subtree(&c.org_id, root_path);
        if opened_inside || f.participants > 0 {
            out.classes += 1;
            out.trainees += f.participants;
            out.certified += f.certified;
            out.admitted += f.admitted;
            out.list.push(f);
        }
    }
    out.certificates_in_period = crate::figures::certified(conn, orgs, root_path, period, via)?;
    Ok(out)
}
