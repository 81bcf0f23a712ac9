//! The sync and review server: an axum application over one SQLite file.
//!
//! # Layout
//! - `store`: opening and migrating the SQLite file, settings, backups.
//! - `auth`: accounts, devices, sessions, actor ids and the caller's scope.
//! - `casedocs`: case-file documents: merge of pushes, projections, conflicts, pull feed.
//! - `merge`: the merge policy as pure code: limits, authorship, writable fields, model fit.
//! - `docstore`: the narrow storage interface of sync, implemented for SQLite.
//! - `sync_api`: the batched sync endpoint over `shared::sync`.
//! - `duplicates`: likely duplicate files: found after every merge, merged or dismissed.
//! - `review`: the central office's JSON API: queues, dashboards, audit history, exports.
//! - `rollups`: counts per organisation, month and year kept by triggers for the figures.
//! - `reports`: report queries (dashboard, case lists behind figures, findings, deadlines).
//! - `export`: XLSX and CSV writers for every list and report.
//! - `extract`: typed edges: JSON and query extractors that answer through `error`, and
//!   the proofs of role (`Reviewer`, `Admin`) handlers take.
//! - `routes`: who may call each route (the table the role test walks).
//! - `central`: the central office's server-rendered pages under `/central/…`.
//! - `administration`: accounts, devices, rule settings, calendar, with the audit log.
//! - `members`: the members register imported from CSV/XLSX, previewed, then stored.
//! - `targets`: terms (congress to congress) and targets with their revisions.
//! - `orgtree`: changes to the organisation tree: add, rename, move, merge, close.
//! - `admin`: import and export of reference data and case files, statistics.
//! - `demo`: the demo district generated on first start.
//! - `fuzzing`: entry points of the fuzz targets in `fuzz/` and their regression tests.
//!
//! The server is embeddable: [`router`] builds the application from a state, and [`run`]
//! serves it on a bound listener until a shutdown future resolves, so tests start it on
//! `127.0.0.1:0` with a fresh database file.

pub mod admin;
pub mod administration;
pub mod auth;
pub mod casedocs;
pub mod central;
pub mod classes;
pub mod db;
pub mod demo;
pub mod docstore;
pub mod duplicates;
pub mod error;
pub mod export;
pub mod extract;
pub mod figures;
pub mod fuzzing;
pub mod handoff;
pub mod members;
pub mod merge;
pub mod office;
pub mod orgtree;
pub mod reports;
pub mod review;
pub mod rollups;
pub mod routes;
pub mod sync_api;
pub mod targets;

/// The allocator the server's processes use. A merge makes many small allocations on
/// several threads at once (Automerge's columns, rows, JSON); mimalloc serves them from
/// per-thread pages. A `perf` profile of the server under the sync benchmark found the
/// system allocator's functions in about an eighth of its samples. A binary that runs the server declares it
/// as its global allocator.
pub use mimalloc::MiMalloc as Allocator;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::auth::Caller;
use crate::casedocs::RulesConfig;
use crate::db::store::Store;
use crate::error::{AppError, AppResult};
use crate::extract::AppJson;
use shared::api::ErrorCode;
use shared::limits::Limits;

/// Largest compressed request body accepted by the sync endpoint.
pub const MAX_SYNC_BODY: usize = 8 * 1024 * 1024;
/// Largest request body once decompressed; guards against compression bombs.
pub const MAX_SYNC_BODY_INFLATED: usize = 32 * 1024 * 1024;

/// Settings of a running server that are not stored data.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bounds on the work one request may cause.
    pub limits: Limits,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// How long a client may take to send a request's headers, and then its body.
    pub read_timeout: Duration,
    /// How long a graceful shutdown waits for requests in flight.
    pub shutdown_deadline: Duration,
    /// Login throttling.
    pub throttle: auth::Throttle,
    /// How many sync requests are worked on at once, and how many more may wait for
    /// their turn ([`sync_api::Turns`]).
    pub sync_turns: sync_api::TurnsConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            secure_cookies: false,
            read_timeout: Duration::from_secs(30),
            shutdown_deadline: Duration::from_secs(10),
            throttle: auth::Throttle::default(),
            sync_turns: sync_api::TurnsConfig::default(),
        }
    }
}

/// Everything a request handler needs.
#[derive(Debug)]
pub struct AppState {
    pub store: Arc<Store>,
    /// The rule configuration as last read from the store; `rules()` reads it again when
    /// the store says it changed (another process may have changed it).
    pub rules: RwLock<RulesConfig>,
    /// The store's `rules_version` that `rules` was read at.
    rules_version: RwLock<Option<String>>,
    /// The built PWA to serve, if any.
    pub dist: Option<PathBuf>,
    pub config: ServerConfig,
    /// Turns of the sync endpoint's work, handed out first come, first served.
    pub sync_turns: sync_api::Turns,
}

impl AppState {
    pub fn new(store: Store, dist: Option<PathBuf>) -> Arc<AppState> {
        Self::with_config(store, dist, ServerConfig::default())
    }

    pub fn with_config(
        store: Store,
        dist: Option<PathBuf>,
        mut config: ServerConfig,
    ) -> Arc<AppState> {
        let rules_version = store.get_setting("rules_version").ok().flatten();
        let rules = admin::load_rules_config(&store).unwrap_or_default();
        if let Ok(Some(limits)) = store.get_setting("limits")
            && let Ok(limits) = serde_json::from_str(&limits)
        {
            config.limits = limits;
        }
        Arc::new(AppState {
            sync_turns: sync_api::Turns::new(config.sync_turns),
            store: Arc::new(store),
            rules: RwLock::new(rules),
            rules_version: RwLock::new(rules_version),
            dist,
            config,
        })
    }

    /// The rule configuration (settings and working-day calendar). Nothing another
    /// server process needs is kept only here: one indexed read per call tells whether
    /// the store's copy changed, and it is read again then.
    pub fn rules(&self) -> RulesConfig {
        let stored = self.store.get_setting("rules_version").ok().flatten();
        let cached = self.rules_version.read().map(|v| v.clone()).ok().flatten();
        if stored != cached
            && let Some(fresh) = admin::load_rules_config(&self.store)
        {
            if let Ok(mut r) = self.rules.write() {
                *r = fresh;
            }
            if let Ok(mut v) = self.rules_version.write() {
                *v = stored;
            }
        }
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
        .merge(duplicates::routes())
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
    let body_timeout = state.config.read_timeout;
    app.layer(CompressionLayer::new())
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            body_timeout,
        ))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves. Requests in flight may
/// finish within the configured deadline; then the remaining connections are dropped. A
/// client that does not send its request headers within the read timeout is disconnected,
/// and a request body that stalls for as long is refused (408).
pub async fn run(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::server::graceful::GracefulShutdown;

    let compactor = tokio::spawn(compact_in_background(state.clone()));
    let purger = tokio::spawn(purge_in_background(state.clone()));
    let cfg = state.config.clone();
    let app = router(state);
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(cfg.read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(cfg.read_timeout));
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let svc =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let mut app = app.clone();
                async move {
                    use tower::Service as _;
                    app.call(req).await
                }
            });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), svc)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(cfg.shutdown_deadline, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("shutdown deadline reached; dropping the remaining connections");
    }
    compactor.abort();
    purger.abort();
    Ok(())
}

/// Removes expired sessions and unused devices every hour.
async fn purge_in_background(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let done = tokio::task::spawn_blocking(move || auth::purge(&store, 30)).await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "purge failed");
        }
    }
}

/// Folds long change logs into snapshots now and then, off the request path.
async fn compact_in_background(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let store = state.store.clone();
        // Loading and saving documents runs on a reader; only storing the snapshots takes
        // the writer, in batches, so merges never wait behind a long compaction.
        let done = tokio::task::spawn_blocking(move || -> crate::db::Result<usize> {
            let mut compacted = 0;
            let mut after = String::new();
            loop {
                let (folded, last) = casedocs::compact_prepare(&store.read(), 50, &after, 100)?;
                if !folded.is_empty() {
                    let mut conn = store.conn();
                    let tx = conn.transaction()?;
                    compacted += casedocs::compact_store(&tx, &folded)?;
                    tx.commit()?;
                }
                match last {
                    Some(id) => after = id,
                    None => return Ok(compacted),
                }
            }
        })
        .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "compaction failed");
        }
    }
}

/// The address of the client, when the server's own accept loop recorded it.
pub fn peer_ip(ext: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

async fn login(
    State(state): State<Arc<AppState>>,
    ext: axum::http::Extensions,
    error::BodyBytes(body): error::BodyBytes<{ 64 * 1024 }>,
) -> AppResult<Json<auth::LoginResponse>> {
    let req: auth::LoginRequest = serde_json::from_slice(&body).map_err(|e| {
        AppError::bad_request(
            ErrorCode::BadRequest,
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
    let peer = peer_ip(&ext);
    let throttle = state.config.throttle.clone();
    Ok(Json(
        blocking(move || auth::login_throttled(&store, &req, peer, &throttle)).await?,
    ))
}

async fn logout(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> AppResult<()> {
    let token = auth::bearer(&headers).ok_or_else(AppError::unauthorized)?;
    let store = state.store.clone();
    blocking(move || auth::logout(&store, &token)).await
}

async fn me(caller: Caller) -> Json<shared::api::User> {
    Json(caller.user())
}

#[derive(serde::Deserialize)]
struct ActorBody {
    actor: String,
}

async fn bind_actor(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    AppJson(body): AppJson<ActorBody>,
) -> AppResult<()> {
    let store = state.store.clone();
    blocking(move || auth::bind_actor(&store, &caller, &body.actor)).await
}
