//! Who may call each route of the router. The table is checked against the routes the
//! sources register (`tests/tests/tidy.rs`), and the role test walks it
//! (`tests/tests/roles.rs`), so a route added without its access fails the suite and one
//! listed here is tested.

use crate::central::admin::ROUTES as ADMIN_PAGES;

/// The least a caller needs to use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: health, sign-in, the stylesheet.
    Public,
    /// Any signed-in account (a cadre's device included).
    Signed,
    /// A reviewer or an administrator.
    Reviewer,
    /// An administrator.
    Admin,
}

/// Method, path and access of every route registered with `.route(…)`; the
/// administration pages, built from [`ADMIN_PAGES`], come in [`all`].
pub const ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/api/health", Access::Public),
    ("POST", "/api/login", Access::Public),
    ("POST", "/api/logout", Access::Signed),
    ("GET", "/api/me", Access::Signed),
    ("POST", "/api/actors", Access::Signed),
    ("GET", "/api/reference", Access::Signed),
    ("POST", "/api/sync", Access::Signed),
    ("GET", "/api/review/conflicts", Access::Reviewer),
    (
        "POST",
        "/api/review/conflicts/{id}/resolve",
        Access::Reviewer,
    ),
    ("GET", "/api/review/cases/{id}", Access::Reviewer),
    ("POST", "/api/review/cases/{id}/return", Access::Reviewer),
    ("GET", "/api/review/cases/{id}/history", Access::Reviewer),
    ("POST", "/api/review/cases/{id}/move", Access::Reviewer),
    ("GET", "/api/review/cases", Access::Reviewer),
    ("GET", "/api/review/dashboard", Access::Reviewer),
    ("GET", "/api/review/findings", Access::Reviewer),
    ("GET", "/api/review/deadlines", Access::Reviewer),
    ("GET", "/api/review/export/{report}", Access::Reviewer),
    ("GET", "/api/review/duplicates", Access::Reviewer),
    ("GET", "/api/review/duplicates/{id}", Access::Reviewer),
    (
        "POST",
        "/api/review/duplicates/{id}/merge",
        Access::Reviewer,
    ),
    (
        "POST",
        "/api/review/duplicates/{id}/dismiss",
        Access::Reviewer,
    ),
    ("GET", "/api/admin/devices", Access::Admin),
    ("POST", "/api/admin/devices/{id}/revoke", Access::Admin),
    ("GET", "/api/admin/stats", Access::Admin),
    ("GET", "/central", Access::Reviewer),
    ("GET", "/central/", Access::Reviewer),
    ("GET", "/central/app.css", Access::Public),
    ("GET", "/central/login", Access::Public),
    ("POST", "/central/login", Access::Public),
    ("POST", "/central/logout", Access::Reviewer),
    ("GET", "/central/password", Access::Reviewer),
    ("POST", "/central/password", Access::Reviewer),
    ("GET", "/central/plan", Access::Reviewer),
    ("GET", "/central/cohort", Access::Reviewer),
    ("GET", "/central/cases", Access::Reviewer),
    ("GET", "/central/cases/{id}", Access::Reviewer),
    ("POST", "/central/cases/{id}/return", Access::Reviewer),
    ("GET", "/central/conflicts", Access::Reviewer),
    ("POST", "/central/conflicts/{id}/resolve", Access::Reviewer),
    ("GET", "/central/findings", Access::Reviewer),
    ("GET", "/central/deadlines", Access::Reviewer),
    ("GET", "/central/handoff", Access::Reviewer),
    ("POST", "/central/handoff", Access::Reviewer),
    ("GET", "/central/duplicates", Access::Reviewer),
    ("GET", "/central/duplicates/{id}", Access::Reviewer),
    ("POST", "/central/duplicates/{id}/merge", Access::Reviewer),
    ("POST", "/central/duplicates/{id}/dismiss", Access::Reviewer),
];

/// Every route of the router with its access: [`ACCESS`] and the administration pages.
pub fn all() -> Vec<(&'static str, &'static str, Access)> {
    ACCESS
        .iter()
        .copied()
        .chain(ADMIN_PAGES.iter().map(|(p, m)| (*m, *p, Access::Admin)))
        .collect()
}
