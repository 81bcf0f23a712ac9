//! Typed edges of the JSON API: a body or a query string that does not parse is refused
//! through [`AppError`] (the bilingual JSON error body) rather than axum's plain text,
//! and a caller's role is proven by the type a handler takes ([`Reviewer`], [`Admin`])
//! instead of a check each handler must remember.

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use shared::api::ErrorCode;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{AppError, AppResult};

/// A JSON request body; one that does not parse answers 400 (415 without the JSON
/// content type, 422 when the fields do not fit, 413 when too large) with the bilingual
/// error body.
#[derive(Debug, Clone)]
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(e) => Err(json_error(e)),
        }
    }
}

fn json_error(e: JsonRejection) -> AppError {
    let detail = e.body_text();
    let (vi, en) = match &e {
        JsonRejection::MissingJsonContentType(_) => (
            "Yêu cầu phải gửi nội dung JSON (Content-Type: application/json).".to_string(),
            "The request must send JSON (Content-Type: application/json).".to_string(),
        ),
        JsonRejection::JsonDataError(_) => (
            format!("Nội dung JSON không đúng các trường cần có: {detail}"),
            format!("The JSON body does not have the expected fields: {detail}"),
        ),
        _ => (
            format!("Nội dung JSON không đọc được: {detail}"),
            format!("The JSON body could not be read: {detail}"),
        ),
    };
    AppError::user(e.status(), ErrorCode::BadJson, vi, en)
}

/// A query string; one that does not fit answers 400 with the bilingual error body.
#[derive(Debug, Clone)]
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(AppQuery(v)),
            Err(e) => Err(query_error(e)),
        }
    }
}

pub(crate) fn query_error(e: QueryRejection) -> AppError {
    let detail = e.body_text();
    AppError::user(
        e.status(),
        ErrorCode::BadQuery,
        format!("Tham số truy vấn không hợp lệ: {detail}"),
        format!("Invalid query parameters: {detail}"),
    )
}

/// The refusal of a form body that does not fit (the central pages' forms).
pub(crate) fn form_error(e: FormRejection) -> AppError {
    let detail = e.body_text();
    AppError::user(
        e.status(),
        ErrorCode::BadBody,
        format!("Nội dung biểu mẫu không hợp lệ: {detail}"),
        format!("The form's fields could not be read: {detail}"),
    )
}

/// Proof that the caller may use the reviewer's screens: a reviewer or an administrator.
/// Only [`Reviewer::check`] makes one; it reads as the [`Caller`] it proves.
#[derive(Debug, Clone)]
pub struct Reviewer(Caller);

impl Reviewer {
    /// The proof for `caller`, or 403 for a cadre.
    pub fn check(caller: Caller) -> AppResult<Reviewer> {
        if caller.role.reviews() {
            Ok(Reviewer(caller))
        } else {
            Err(AppError::forbidden())
        }
    }
}

impl Deref for Reviewer {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequestParts<Arc<AppState>> for Reviewer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> AppResult<Self> {
        Reviewer::check(Caller::from_request_parts(parts, state).await?)
    }
}

/// Proof that the caller is an administrator (who is also a reviewer). Only
/// [`Admin::check`] makes one; it reads as the [`Reviewer`] and [`Caller`] it proves.
#[derive(Debug, Clone)]
pub struct Admin(Reviewer);

impl Admin {
    /// The proof for `caller`, or 403 for a cadre or a reviewer.
    pub fn check(caller: Caller) -> AppResult<Admin> {
        if caller.role == Role::Admin {
            Ok(Admin(Reviewer(caller)))
        } else {
            Err(AppError::forbidden())
        }
    }
}

impl Deref for Admin {
    type Target = Reviewer;
    fn deref(&self) -> &Reviewer {
        &self.0
    }
}

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> AppResult<Self> {
        Admin::check(Caller::from_request_parts(parts, state).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            user_id: 1,
            username: "u".into(),
            display_name: "U".into(),
            role,
            scope_org: "o".into(),
            scope_path: "/o/".into(),
            device_id: "d".into(),
        }
    }

    #[test]
    fn only_reviewers_and_admins_get_a_reviewers_proof_and_only_admins_an_admins() {
        let status = |r: AppResult<()>| r.err().map(|e| e.status().as_u16());
        for (role, reviewer, admin) in [
            (Role::Cadre, Some(403), Some(403)),
            (Role::Reviewer, None, Some(403)),
            (Role::Admin, None, None),
        ] {
            assert_eq!(status(Reviewer::check(caller(role)).map(drop)), reviewer);
            assert_eq!(status(Admin::check(caller(role)).map(drop)), admin);
        }
        let proof = Admin::check(caller(Role::Admin)).unwrap();
        let as_caller: &Caller = &proof;
        assert_eq!(as_caller.scope_path, "/o/");
    }
}
