//! The sync and review server: an axum application over one SQLite file.
//!
//! # Layout
//! - `store`: opening and migrating the SQLite file, settings, backups.
//! - `auth`: accounts, devices, sessions, actor ids and the caller's scope.
//! - `casedocs`: case-file documents: merge of pushes, projections, conflicts, pull feed.
//! - `docstore`: the narrow storage interface of sync, implemented for SQLite.
//! - `sync_api`: the batched sync endpoint over `shared::sync`.
//! - `review`: the central office's JSON API: queues, dashboards, audit history, exports.
//! - `reports`: report queries (dashboard, case lists behind figures, findings, deadlines).
//! - `export`: XLSX and CSV writers for every list and report.
//! - `central`: the central office's server-rendered pages under `/central/…`.
//! - `admin`: import and export of reference data and case files, statistics.
//! - `demo`: the demo district generated on first start.
//!
//! The server is embeddable: [`router`] builds the application from a state, and [`run`]
//! serves it on a bound listener until a shutdown future resolves, so tests start it on
//! `127.0.0.1:0` with a fresh database file.

pub mod admin;
pub mod auth;
pub mod casedocs;
pub mod central;
pub mod demo;
pub mod docstore;
pub mod error;
pub mod export;
pub mod reports;
pub mod review;
pub mod store;
pub mod sync_api;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Caller;
use crate::casedocs::RulesConfig;
use crate::error::{AppError, AppResult};
use crate::store::Store;

/// Largest compressed request body accepted by the sync endpoint.
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;
/// Largest request body once decompressed; guards against compression bombs.
pub const MAX_SYNC_BODY_INFLATED: usize = 32 * 1024 * 1024;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    pub rules: RwLock<RulesConfig>,
    /// The built PWA to serve, if any.
    pub dist: Option<PathBuf>,
}

impl AppState {
    pub fn new(store: Store, dist: Option<PathBuf>) -> Arc<AppState> {
        let rules = admin::load_rules_config(&store).unwrap_or_default();
        Arc::new(AppState {
            store: Arc::new(store),
            rules: RwLock::new(rules),
            dist,
        })
    }

    pub fn rules(&self) -> RulesConfig {
        self.rules.read().map(|r| r.clone()).unwrap_or_default()
    }
}

/// Runs blocking store work on tokio's blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f).await?
}

/// The whole HTTP application.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/health", get(|| async { "ok" }))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/actors", post(bind_actor))
        .route("/api/reference", get(admin::reference))
        .route(
            "/api/sync",
            post(sync_api::sync).layer(DefaultBodyLimit::max(MAX_SYNC_BODY)),
        )
        .merge(review::routes())
        .merge(admin::routes())
        .fallback(|| async { AppError::not_found("đường dẫn API", "API route") });
    let mut app = Router::new().merge(api).merge(central::routes());
    if let Some(dist) = &state.dist {
        // The service worker must be revalidated on every load so updates are noticed.
        let sw = Router::new()
            .route_service("/sw.js", ServeFile::new(dist.join("sw.js")))
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            ));
        let files = ServeDir::new(dist).fallback(ServeFile::new(dist.join("index.html")));
        app = app.merge(sw).fallback_service(files);
    }
    app.layer(CompressionLayer::new()).with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves; in-flight requests finish.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let compactor = tokio::spawn(compact_in_background(state.clone()));
    let result = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    compactor.abort();
    result
}

/// Folds long change logs into snapshots now and then, off the request path.
async fn compact_in_background(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let done = tokio::task::spawn_blocking(move || {
            let conn = store.conn();
            casedocs::compact(&conn, 50)
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "compaction failed");
        }
    }
}

async fn login(
    State(state): State<Arc<AppState>>,
    body: axum::body::Bytes,
) -> AppResult<Json<auth::LoginResponse>> {
    let req: auth::LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(
            "BAD_REQUEST",
            format!("Yêu cầu đăng nhập không đọc được: {e}"),
            format!("Unreadable login request: {e}"),
        )
    })?;
    // Each argon2id check holds 19 MiB for a few milliseconds: a burst of logins (a whole
    // commune coming back online) must queue rather than exhaust memory.
    static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let store = state.store.clone();
    Ok(Json(blocking(move || auth::login(&store, &req)).await?))
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> AppResult<()> {
    let token = auth::bearer(&headers).ok_or_else(AppError::unauthorized)?;
    let store = state.store.clone();
    blocking(move || auth::logout(&store, &token)).await
}

async fn me(caller: Caller) -> Json<Caller> {
    Json(caller)
}

#[derive(serde::Deserialize)]
struct ActorBody {
    actor: String,
}

async fn bind_actor(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Json(body): Json<ActorBody>,
) -> AppResult<()> {
    let store = state.store.clone();
    blocking(move || auth::bind_actor(&store, &caller, &body.actor)).await
}
