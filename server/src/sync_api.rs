//! `POST /api/sync`: one request pushes a device's unacknowledged changes of many files
//! and pulls what it lacks. The response is sent only after the pushed changes are
//! committed, so an acknowledgement always means "durably stored". Requests are worked
//! on a few at a time, in the order they came ([`Turns`]).

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

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
    let turn = state.sync_turns.take().await?;
    let state2 = state.clone();
    let resp = blocking(move || {
        let _turn = turn;
        handle(&state2, &caller, req)
    })
    .await?;
    Ok(Json(resp))
}

/// Sync requests that may wait for their turn by default.
pub const DEFAULT_SYNC_QUEUE: usize = 1000;

/// How long a sync request waits for its turn by default before it is answered busy:
/// well within the app's 60 s timeout, so the device hears "busy" rather than nothing.
pub const DEFAULT_SYNC_MAX_WAIT: Duration = Duration::from_secs(20);

/// How many sync requests are worked on at once, how many more may wait, and for how
/// long.
#[derive(Debug, Clone, Copy)]
pub struct TurnsConfig {
    pub workers: usize,
    pub queue: usize,
    pub max_wait: Duration,
}

impl Default for TurnsConfig {
    /// Two requests per core: while one waits for the writer or for the disk, the
    /// other keeps the core busy. Up to a thousand more wait, each for at most 20 s: a
    /// device turned away tries again later (its back-off starts at 5 s and doubles up
    /// to 5 minutes).
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        TurnsConfig {
            workers: 2 * cores,
            queue: DEFAULT_SYNC_QUEUE,
            max_wait: DEFAULT_SYNC_MAX_WAIT,
        }
    }
}

/// Turns of the sync endpoint's work, handed out first come, first served. With every
/// request worked on at once, the cores are shared among all of them and each is
/// answered only when nearly all are; in turns, the first to come is the first
/// answered, and the slowest answer waits for the requests ahead of it, not for all.
/// Merging many files at once also holds all their documents in memory at once.
#[derive(Debug)]
pub struct Turns {
    slots: Arc<tokio::sync::Semaphore>,
    waiting: std::sync::atomic::AtomicUsize,
    config: TurnsConfig,
}

/// A request's turn: the next waiting request starts when it is dropped.
pub type Turn = tokio::sync::OwnedSemaphorePermit;

impl Turns {
    pub fn new(config: TurnsConfig) -> Turns {
        let config = TurnsConfig {
            workers: config.workers.max(1),
            ..config
        };
        Turns {
            slots: Arc::new(tokio::sync::Semaphore::new(config.workers)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            config,
        }
    }

    /// Waits for a turn, in arrival order; answers "busy" at once when the queue is
    /// full, or when the turn has not come after the longest wait.
    pub async fn take(&self) -> AppResult<Turn> {
        use std::sync::atomic::Ordering;
        if let Ok(turn) = self.slots.clone().try_acquire_owned() {
            return Ok(turn);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.config.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        // Counted out again when the turn comes or the request goes away.
        struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.config.max_wait, self.slots.clone().acquire_owned()).await {
            Ok(turn) => turn.map_err(|e| AppError::Internal(e.to_string())),
            Err(_) => Err(busy()),
        }
    }

    /// Takes every turn at once, waiting for those in use: requests wait until it is
    /// dropped (tests hold requests back with it).
    pub async fn take_all(&self) -> Turn {
        let n = u32::try_from(self.config.workers).unwrap_or(u32::MAX);
        self.slots
            .clone()
            .acquire_many_owned(n)
            .await
            .expect("the semaphore is never closed")
    }

    /// Requests waiting for a turn now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::SeqCst)
    }
}

fn busy() -> AppError {
    AppError::user(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServerBusy,
        "Máy chủ đang bận. Ứng dụng sẽ tự đồng bộ lại sau giây lát.",
        "The server is busy. The app will sync again shortly.",
    )
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
