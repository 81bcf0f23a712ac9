//! One error type for every route: user errors become a 4xx with a bilingual message and
//! are not logged; internal errors become an opaque 500 and are logged once, here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::api::{ErrorBody, ErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A request the user can fix: bad input, wrong credentials, no permission.
    #[error("{code}: {message_en}")]
    User {
        status: StatusCode,
        code: ErrorCode,
        message_vi: String,
        message_en: String,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn user(
        status: StatusCode,
        code: ErrorCode,
        message_vi: impl Into<String>,
        message_en: impl Into<String>,
    ) -> AppError {
        AppError::User {
            status,
            code,
            message_vi: message_vi.into(),
            message_en: message_en.into(),
        }
    }

    pub fn bad_request(code: ErrorCode, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::user(StatusCode::BAD_REQUEST, code, vi, en)
    }

    pub fn unauthorized() -> Self {
        Self::user(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "Phiên đăng nhập không hợp lệ hoặc đã hết hạn. Hãy đăng nhập lại.",
            "The session is invalid or has expired. Please log in again.",
        )
    }

    pub fn forbidden() -> Self {
        Self::user(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "Tài khoản không có quyền thực hiện thao tác này.",
            "This account may not do this.",
        )
    }

    pub fn not_found(what_vi: &str, what_en: &str) -> Self {
        Self::user(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("Không tìm thấy {what_vi}."),
            format!("{what_en} not found."),
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::User { status, .. } => *status,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::User {
                status,
                code,
                message_vi,
                message_en,
            } => (status, Json(ErrorBody::new(code, message_vi, message_en))).into_response(),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(ErrorBody::new(
                        ErrorCode::Internal,
                        "Lỗi máy chủ. Dữ liệu của bạn không bị mất; hãy thử lại sau.".into(),
                        "Server error. Your data is not lost; try again later.".into(),
                    )),
                )
                    .into_response()
            }
        }
    }
}

impl From<crate::db::Error> for AppError {
    fn from(e: crate::db::Error) -> Self {
        AppError::Internal(format!("database: {e}"))
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("task: {e}"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A request body read in full, at most `LIMIT` bytes. Failures answer through
/// [`AppError`]: 413 when too large, 408 when the client stopped sending (the server's
/// body read timeout), 400 otherwise, each with a bilingual message.
#[derive(Debug)]
pub struct BodyBytes<const LIMIT: usize>(pub axum::body::Bytes);

impl<S: Send + Sync, const LIMIT: usize> axum::extract::FromRequest<S> for BodyBytes<LIMIT> {
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, AppError> {
        match axum::body::to_bytes(req.into_body(), LIMIT).await {
            Ok(b) => Ok(BodyBytes(b)),
            Err(e) => Err(body_error(e)),
        }
    }
}

fn body_error(e: axum::Error) -> AppError {
    let inner = e.into_inner();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(inner.as_ref());
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return AppError::user(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::RequestTimeout,
                "Yêu cầu gửi quá chậm hoặc bị ngắt giữa chừng. Ứng dụng sẽ gửi lại.",
                "The request was sent too slowly or cut off. The app will send it again.",
            );
        }
        if c.is::<http_body_util::LengthLimitError>() {
            return AppError::user(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::BodyTooLarge,
                "Nội dung yêu cầu quá lớn.",
                "The request body is too large.",
            );
        }
        cause = c.source();
    }
    AppError::bad_request(
        ErrorCode::BadBody,
        format!("Không đọc được nội dung yêu cầu: {inner}"),
        format!("The request body could not be read: {inner}"),
    )
}
