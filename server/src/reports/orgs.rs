//! The organisation tree in memory, and the subtree a request reports on.

use std::collections::HashMap;

use crate::db::Connection;
use serde::Serialize;

use crate::auth::Caller;
use crate::casedocs::path_in_scope;
use crate::error::{AppError, AppResult};

/// One organisation with what reports need to place a case file.
#[derive(Debug, Clone, Serialize)]
pub struct OrgInfo {
    pub id: String,
    pub parent_id: Option<String>,
    pub name: String,
    pub kind: String,
    pub sector: String,
    pub grassroots: bool,
    pub path: String,
    /// The nearest ancestor-or-self with `grassroots = 1`: where admissions are counted.
    pub grassroots_id: Option<String>,
}

impl From<&OrgInfo> for shared::api::Org {
    fn from(o: &OrgInfo) -> shared::api::Org {
        shared::api::Org {
            id: o.id.clone(),
            parent_id: o.parent_id.clone(),
            name: o.name.clone(),
            kind: o.kind.clone(),
            sector: o.sector.clone(),
            grassroots: o.grassroots,
        }
    }
}

/// The organisation tree in memory. It is small beside the case files (a province has
/// thousands of organisations, not millions), so placing a file is a hash lookup instead
/// of a `LIKE` join per row.
#[derive(Debug, Default)]
pub struct OrgIndex {
    by_id: HashMap<String, OrgInfo>,
    by_path: Vec<String>,
}

impl OrgIndex {
    pub fn load(conn: &Connection) -> AppResult<OrgIndex> {
        let mut by_id = HashMap::new();
        let rows = crate::db::orgs::in_path_order(conn)?;
        let mut by_path = Vec::new();
        for row in rows {
            let o = row?;
            by_path.push(o.id.clone());
            by_id.insert(o.id.clone(), o);
        }
        // Rows come in path order, so a parent is placed before its children.
        for id in &by_path {
            let (grassroots, parent) = match by_id.get(id) {
                Some(o) => (o.grassroots, o.parent_id.clone()),
                None => continue,
            };
            let g = if grassroots {
                Some(id.clone())
            } else {
                parent.and_then(|p| by_id.get(&p).and_then(|p| p.grassroots_id.clone()))
            };
            if let Some(o) = by_id.get_mut(id) {
                o.grassroots_id = g;
            }
        }
        Ok(OrgIndex { by_id, by_path })
    }

    pub fn get(&self, id: &str) -> Option<&OrgInfo> {
        self.by_id.get(id)
    }

    pub fn name(&self, id: &str) -> String {
        self.get(id).map(|o| o.name.clone()).unwrap_or_default()
    }

    /// Organisations of the subtree rooted at `path`, in tree order.
    pub fn subtree<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a OrgInfo> + 'a {
        self.by_path
            .iter()
            .filter_map(|id| self.by_id.get(id))
            .filter(move |o| o.path.starts_with(path))
    }

    /// The name followed by its parents up to (not including) the root, so that two
    /// branches of the same name in different wards can be told apart:
    /// "Chi bộ tổ dân phố số 5 — Đảng bộ phường Lạch Tray".
    pub fn name_with_parents(&self, id: &str) -> String {
        let mut parts = Vec::new();
        let mut cur = self.get(id);
        while let Some(o) = cur {
            let parent = o.parent_id.as_deref().and_then(|p| self.get(p));
            if parent.is_none() && !parts.is_empty() {
                break;
            }
            parts.push(o.name.clone());
            cur = parent;
        }
        parts.join(" — ")
    }

    pub fn in_subtree(&self, org_id: &str, path: &str) -> bool {
        self.get(org_id).is_some_and(|o| o.path.starts_with(path))
    }

    /// The grassroots organisation a case file of `org_id` is counted under.
    pub fn grassroots_of(&self, org_id: &str) -> Option<&OrgInfo> {
        self.get(org_id)
            .and_then(|o| o.grassroots_id.as_deref())
            .and_then(|g| self.get(g))
    }

    /// The sector of a file's organisation: its grassroots organisation's, else its own.
    pub fn sector_of(&self, org_id: &str) -> String {
        self.grassroots_of(org_id)
            .or_else(|| self.get(org_id))
            .map(|o| o.sector.clone())
            .unwrap_or_default()
    }
}

/// The organisation subtree a request reports on, checked against the caller's scope.
pub fn resolve_org<'a>(
    orgs: &'a OrgIndex,
    caller: &Caller,
    org: Option<&str>,
) -> AppResult<&'a OrgInfo> {
    let id = org
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&caller.scope_org);
    let info = orgs
        .get(id)
        .ok_or_else(|| AppError::not_found("tổ chức", "Organisation"))?;
    if !path_in_scope(&info.path, &caller.scope_path) {
        return Err(AppError::forbidden());
    }
    Ok(info)
}
