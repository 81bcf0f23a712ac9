//! `POST /api/sync`: one request pushes a device's unacknowledged changes of many files
//! and pulls what it lacks. The response is sent only after the pushed changes are
//! committed, so an acknowledgement always means "durably stored".

use std::io::Read;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use shared::api::ErrorCode;
use shared::sync::{self, PROTOCOL_VERSION, SyncRequest, SyncResponse};

use crate::auth::{Caller, Role};
use crate::casedocs::{Feed, Resume, Whole, today_vn};
use crate::docstore::{DocStore, MergeConfig};
use crate::error::{AppError, AppResult, BodyBytes};
use crate::merge::Pusher;
use crate::{AppState, MAX_SYNC_BODY, MAX_SYNC_BODY_INFLATED, blocking};

/// Default size of one pull page, tuned for slow links: a cut connection loses at most this.
pub const DEFAULT_PAGE_BYTES: u64 = 512 * 1024;
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

pub async fn sync(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes<MAX_SYNC_BODY>,
) -> AppResult<Json<SyncResponse>> {
    let body = inflate(&headers, &body)?;
    let req = sync::decode_request(&body).map_err(|e| {
        AppError::bad_request(ErrorCode::MalformedSync, e.to_string(), e.to_string())
    })?;
    let state2 = state.clone();
    let resp = blocking(move || handle(&state2, &caller, req)).await?;
    Ok(Json(resp))
}

/// Decompresses a gzip body, refusing anything that inflates past the limit.
fn inflate(headers: &HeaderMap, body: &[u8]) -> AppResult<Vec<u8>> {
    let gz = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gz {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    let limit = MAX_SYNC_BODY_INFLATED as u64 + 1;
    flate2::read::GzDecoder::new(body)
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| {
            AppError::bad_request(
                ErrorCode::MalformedSync,
                format!("Nội dung nén gzip bị hỏng: {e}"),
                format!("Corrupt gzip body: {e}"),
            )
        })?;
    if out.len() as u64 >= limit {
        return Err(too_large());
    }
    Ok(out)
}

pub fn too_large() -> AppError {
    AppError::user(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BodyTooLarge,
        "Gói đồng bộ quá lớn. Ứng dụng sẽ gửi thành nhiều phần nhỏ hơn.",
        "The sync request is too large. The app will send it in smaller parts.",
    )
}

fn handle(state: &AppState, caller: &Caller, req: SyncRequest) -> AppResult<SyncResponse> {
    let limits = &state.config.limits;
    if req.push.len() > limits.max_docs_per_request {
        return Err(AppError::user(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooManyDocuments,
            format!(
                "Gói đồng bộ có {} hồ sơ, quá giới hạn {}. Ứng dụng sẽ gửi thành nhiều phần.",
                req.push.len(),
                limits.max_docs_per_request
            ),
            format!(
                "The sync request carries {} files, over the limit of {}. The app will send it in parts.",
                req.push.len(),
                limits.max_docs_per_request
            ),
        ));
    }
    let docs: &dyn DocStore = state.store.as_ref();
    let actors = docs.device_actors(&caller.device_id)?;
    let pusher = Pusher {
        actors: &actors,
        scope_path: &caller.scope_path,
        username: &caller.username,
        device_id: &caller.device_id,
        may_review: matches!(caller.role, Role::Reviewer | Role::Admin),
    };
    let rules = state.rules();
    let cfg = MergeConfig {
        rules: &rules,
        limits,
        today: today_vn(),
    };
    let pushed = docs.apply_push(cfg, &pusher, &req.push)?;
    crate::auth::record_rejections(&state.store, &caller.device_id, pushed.rejected.len())?;
    let max = req
        .max_bytes
        .unwrap_or(DEFAULT_PAGE_BYTES)
        .clamp(1, MAX_PAGE_BYTES);
    let resume = match req.resume.as_deref().map(Resume::parse) {
        None => None,
        Some(Some(r)) => Some(r),
        Some(None) => {
            return Err(AppError::bad_request(
                ErrorCode::MalformedSync,
                "Điểm tiếp tục đồng bộ không hợp lệ.",
                "The sync resume point is not valid.",
            ));
        }
    };
    let feed = Feed {
        device_id: &caller.device_id,
        scope_path: &caller.scope_path,
        dropped: &req.dropped,
        whole: req.whole.then_some(Whole {
            resume: resume.as_ref(),
            rules: &rules,
            today: cfg.today,
        }),
    };
    let mut page = docs.pull(&feed, req.cursor, &pushed.pushed, max)?;
    if req.short_deps {
        for dc in &mut page.docs {
            for c in &mut dc.changes {
                c.0 = shared::short_deps::shorten(&c.0);
            }
        }
    }
    Ok(SyncResponse {
        protocol: PROTOCOL_VERSION,
        accepted: pushed.accepted,
        rejected: pushed.rejected,
        pull: page.docs,
        cursor: page.cursor,
        more: page.more,
        removed: page.removed,
        whole: page.whole,
        resume: page.resume.map(|r| r.token()),
        remaining: page.remaining,
    })
}
