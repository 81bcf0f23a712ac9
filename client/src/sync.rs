//! The sync loop around `shared::sync::Replica`: when to sync, one run of request /
//! receive / store, and what the header shows. Only the tab holding the sync lock runs
//! it (see `tabs`); the others ask it to ("sync now") and show the state it shares.
//!
//! A run repeats `prepare` → POST /api/sync → `receive` → store until nothing is left to
//! send and the server has no further page. Each response is stored (new chunks, their
//! acknowledged heads, files that left the scope, the cursor, in one IndexedDB
//! transaction) before the next request, so a cut connection costs at most the request
//! in flight, and a repeated request is harmless on the server. Pushes are cut into
//! batches of bounded size so a slow link shows progress and a failure loses little
//! work. Only changes already stored on the device are pushed: the run waits for this
//! tab's pending writes first (other tabs' edits reach it through IndexedDB).
//!
//! Runs start when the tab becomes the sync tab, on the `online` event, when the window
//! gets focus, from the button, a few seconds after an edit, and on a timer: every
//! minute after a success, with exponential backoff after a failure.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use shared::api::ErrorCode;
use shared::sync::{DocId, Pending, SyncRequest, SyncResponse};

use crate::api::{self, ApiError, Reference};
use crate::device::cut_push;
use crate::i18n::tr;
use crate::model::{self, SyncView, now_ms, ui, with};
use crate::tabs::{self, Msg};

/// Largest page of changes asked from the server per response (bytes).
const PULL_PAGE: u64 = 512 * 1024;
/// Largest push per request (bytes of changes, before base64).
const PUSH_BUDGET: usize = 512 * 1024;
const PERIOD_MS: f64 = 60_000.0;
const AFTER_EDIT_MS: f64 = 3_000.0;

#[derive(Default)]
struct Loop {
    running: bool,
    again: bool,
    next_at: f64,
    failures: u32,
    started: bool,
    /// Reference data is refreshed once per app start, at the first good sync.
    reference_fresh: bool,
}

thread_local! {
    static LOOP: RefCell<Loop> = RefCell::new(Loop::default());
    static ON_REVOKED: RefCell<Option<Rc<dyn Fn()>>> = const { RefCell::new(None) };
}

/// What to do when the server says this device was revoked (wipe it): registered by
/// the layer above, which owns sign-out.
pub fn on_revoked(f: impl Fn() + 'static) {
    ON_REVOKED.with(|h| *h.borrow_mut() = Some(Rc::new(f)));
}

/// Starts the scheduler: a one-second tick plus the browser events that mean "try now".
pub fn start() {
    let first = LOOP.with(|l| {
        let mut l = l.borrow_mut();
        let first = !l.started;
        l.started = true;
        l.next_at = 0.0;
        first
    });
    if !first {
        now();
        return;
    }
    set_interval(
        || {
            let t = now_ms();
            ui().now.set(t);
            let due = LOOP.with(|l| {
                let l = l.borrow();
                !l.running && l.next_at > 0.0 && t >= l.next_at
            });
            if due && ui().leader.get_untracked() {
                now();
            }
        },
        Duration::from_secs(1),
    );
    let on = window_event_listener(leptos::ev::online, |_| {
        update_view(|s| s.offline = false);
        now();
    });
    let focus = window_event_listener(leptos::ev::focus, |_| now());
    let off = window_event_listener(leptos::ev::offline, |_| {
        update_view(|s| s.offline = true);
    });
    // The listeners live as long as the page.
    std::mem::forget((on, focus, off));
    now();
}

/// This tab now holds the sync lock: take over the profile's sync state as stored (the
/// previous sync tab may have moved it on) and sync.
pub async fn become_leader() {
    ui().leader.set(true);
    if let Some(store) = model::store() {
        let cursor: u64 = store.get_meta("cursor").await.ok().flatten().unwrap_or(0);
        let leaving: BTreeSet<DocId> = store
            .get_meta("leaving")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        let dropped: BTreeSet<DocId> = store
            .get_meta("dropped")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        // An interrupted first sync goes on where its last stored page ended.
        let resume: Option<String> = store.get_meta("resume").await.ok().flatten().flatten();
        with(|m| {
            if m.replica.cursor == 0 && cursor == 0 && m.replica.resume.is_none() {
                m.replica.resume = resume;
            }
            m.replica.cursor = m.replica.cursor.max(cursor);
            m.replica.leaving.extend(leaving);
            m.replica.dropped.extend(dropped);
        });
    }
    LOOP.with(|l| l.borrow_mut().next_at = now_ms());
    now();
}

/// Changes the sync state shown, and shares it with the other tabs.
fn update_view(f: impl FnOnce(&mut SyncView)) {
    let u = ui();
    u.sync.update(f);
    if u.leader.get_untracked() {
        tabs::post(&Msg::Sync {
            view: u.sync.get_untracked(),
        });
    }
}

/// Syncs as soon as possible (a running sync is followed by another). In a tab that
/// is not the sync tab, asks the sync tab.
pub fn now() {
    if model::with(|m| m.session.is_none()) || ui().relogin.get_untracked() {
        return;
    }
    if !ui().leader.get_untracked() {
        tabs::post(&Msg::SyncNow);
        return;
    }
    let busy = LOOP.with(|l| {
        let mut l = l.borrow_mut();
        if l.running {
            l.again = true;
        }
        l.running
    });
    if !busy {
        leptos::task::spawn_local(run());
    }
}

/// Schedules a sync shortly, so a burst of edits goes in one request.
pub fn soon() {
    LOOP.with(|l| {
        let mut l = l.borrow_mut();
        let t = now_ms() + AFTER_EDIT_MS;
        if l.next_at == 0.0 || t < l.next_at {
            l.next_at = t;
        }
    });
}

/// Stops the timer-driven runs (after logout or a revoked device).
pub fn stop() {
    LOOP.with(|l| {
        let mut l = l.borrow_mut();
        l.next_at = 0.0;
        l.again = false;
        l.reference_fresh = false;
    });
}

/// Whether a run is in progress.
pub fn running() -> bool {
    LOOP.with(|l| l.borrow().running)
}

async fn run() {
    LOOP.with(|l| l.borrow_mut().running = true);
    loop {
        update_view(|s| {
            s.running = true;
            s.pushed = 0;
            s.to_push = 0;
            s.received = 0;
            s.files = 0;
            s.remaining = None;
        });
        let result = run_once().await;
        let u = ui();
        let delay = LOOP.with(|l| {
            let mut l = l.borrow_mut();
            match &result {
                Ok(()) => {
                    l.failures = 0;
                    PERIOD_MS
                }
                Err(_) => {
                    l.failures += 1;
                    // 5 s, 10 s, 20 s … up to 5 minutes.
                    (5_000.0 * 2f64.powi(l.failures.min(6) as i32 - 1)).min(300_000.0)
                }
            }
        });
        LOOP.with(|l| l.borrow_mut().next_at = now_ms() + delay);
        match result {
            Ok(()) => update_view(|s| {
                s.last_ok = Some(now_ms());
                s.error = None;
                s.offline = false;
            }),
            Err(ApiError::Offline) => update_view(|s| {
                s.offline = true;
                s.error = None;
            }),
            Err(e) => handle_error(e).await,
        }
        let again = LOOP.with(|l| std::mem::take(&mut l.borrow_mut().again));
        if !again || model::with(|m| m.session.is_none()) || u.relogin.get_untracked() {
            break;
        }
    }
    LOOP.with(|l| l.borrow_mut().running = false);
    update_view(|s| s.running = false);
    // Files received whole are parsed in the background, a few at a time, so that the
    // first open or edit of each does not wait for it.
    if with(|m| !m.raw.is_empty()) {
        model::hydrate_in_background(running);
    }
}

async fn handle_error(e: ApiError) {
    let u = ui();
    match e.code() {
        Some(ErrorCode::Unauthenticated | ErrorCode::TokenExpired) => {
            stop();
            u.relogin.set(true);
            tabs::post(&Msg::Relogin);
        }
        Some(ErrorCode::DeviceRevoked) => {
            // The administrator revoked this device: its data must not stay on it.
            stop();
            if let Some(f) = ON_REVOKED.with(|h| h.borrow().clone()) {
                f();
            }
            u.notice.set(Some(
                tr(
                    "Thiết bị này đã bị thu hồi quyền truy cập; dữ liệu trên máy đã được xóa.",
                    "This device's access was revoked; the data on it has been erased.",
                )
                .into(),
            ));
        }
        _ => update_view(|s| s.error = Some(e.messages())),
    }
}

fn storage_error(e: String) -> ApiError {
    ApiError::Server {
        status: 0,
        code: ErrorCode::Other("STORAGE".into()),
        message_vi: format!("Không ghi được vào bộ nhớ máy: {e}"),
        message_en: format!("Could not write to device storage: {e}"),
    }
}

/// One run: sends everything unsent and receives everything new, page by page.
async fn run_once() -> Result<(), ApiError> {
    let Some(token) = with(|m| m.session.as_ref().map(|s| s.token.clone())) else {
        return Ok(());
    };
    model::hydrate_for_sync().await;
    // A refusal to register a tab's actor id must not stop the other files' sync: the
    // server then refuses only the changes written with it, and the next run retries.
    if let Err(e) = tabs::bind_actors(&token).await
        && (e == ApiError::Offline
            || matches!(
                e.code(),
                Some(
                    ErrorCode::Unauthenticated | ErrorCode::TokenExpired | ErrorCode::DeviceRevoked
                )
            ))
    {
        return Err(e);
    }
    let mut sent: BTreeSet<DocId> = BTreeSet::new();
    let mut first = true;
    let mut more = false;
    // Files deleted here are reported to the server with the next request; one more
    // request in this run does it at once.
    let mut report_drops = false;
    // The next page of a pull, asked for while this one is applied and stored.
    let mut ahead: Option<(SyncRequest, Ahead)> = None;
    loop {
        // Push only what this device has stored: wait for this tab's pending writes.
        while ui().saving.get_untracked() > 0 {
            model::sleep(20).await;
        }
        let (req, pending, left, resp) = match ahead.take() {
            Some((req, slot)) => {
                let resp = slot.wait().await?;
                (req, Pending::default(), 0, resp)
            }
            None => {
                let (req, pending, left, to_push) = with(|m| {
                    let (mut req, pending) = m.replica.prepare(Some(PULL_PAGE));
                    // What this run has to send, counted from the first request's files
                    // (not refused) rather than by asking every file again.
                    let to_push = first.then(|| {
                        req.push
                            .iter()
                            .filter(|d| {
                                m.replica
                                    .docs
                                    .get(&d.doc_id)
                                    .is_some_and(|rd| rd.rejected.is_none())
                            })
                            .count() as u32
                    });
                    req.push.retain(|d| !sent.contains(&d.doc_id));
                    let left = cut_push(&mut req, PUSH_BUDGET);
                    (req, pending, left, to_push)
                });
                if let Some(n) = to_push {
                    update_view(|s| s.to_push = n);
                }
                if !first && req.push.is_empty() && !more && !report_drops {
                    break;
                }
                let resp: SyncResponse = api::post("/api/sync", Some(&token), &req).await?;
                (req, pending, left, resp)
            }
        };
        first = false;
        // A page of a pull that sends nothing: the server is asked for the next page
        // now, so that it reads it while this one is applied and stored. (Were this
        // page lost with the tab, the stored cursor asks for it again.)
        if resp.more
            && req.push.is_empty()
            && req.dropped.is_empty()
            && resp.removed.is_empty()
            && left == 0
        {
            let mut next = req.clone();
            next.cursor = req.cursor.max(resp.cursor);
            next.resume = resp.resume.clone();
            ahead = Some((next.clone(), Ahead::fetch(token.clone(), next)));
        }
        let pushed: Vec<DocId> = req.push.iter().map(|d| d.doc_id.clone()).collect();
        let received = resp
            .pull
            .iter()
            .map(|d| d.changes.len() as u32)
            .sum::<u32>();
        let files = resp.whole.len() as u32;
        let remaining = resp.remaining;
        let outcome = with(|m| {
            let report = m.receive(pending, resp)?;
            let leaving = serde_json::to_string(&m.replica.leaving).unwrap_or_default();
            let dropped = serde_json::to_string(&m.replica.dropped).unwrap_or_default();
            let resume = serde_json::to_string(&m.replica.resume).unwrap_or_default();
            Ok::<_, shared::sync::SyncError>((report, m.replica.cursor, leaving, dropped, resume))
        });
        // A change whose short dependencies could not be rebuilt here: nothing of the
        // response was taken, and the replica now asks for whole hashes.
        if let Err(shared::sync::SyncError::ShortDeps(..)) = &outcome {
            ahead = None;
            more = true;
            continue;
        }
        let (report, cursor, leaving, dropped, resume) = outcome.map_err(|e| ApiError::Server {
            status: 0,
            code: ErrorCode::Other("BAD_SYNC".into()),
            message_vi: e.to_string(),
            message_en: e.to_string(),
        })?;
        let ids: Vec<DocId> = report.touched.iter().cloned().collect();
        let removed: Vec<DocId> = report.removed.iter().cloned().collect();
        ui().saving.update(|n| *n += 1);
        let stored = model::persist(
            &ids,
            &removed,
            vec![
                ("leaving", leaving),
                ("dropped", dropped),
                ("resume", resume),
            ],
            Some(cursor),
        )
        .await;
        ui().saving.update(|n| *n = n.saturating_sub(1));
        stored.map_err(storage_error)?;
        let mut changed = ids.clone();
        changed.extend(removed.iter().cloned());
        model::refresh_rows(&changed);
        if !changed.is_empty() {
            ui().doc_rev.update(|r| *r += 1);
        }
        sent.extend(pushed.iter().cloned());
        update_view(|s| {
            s.pushed += pushed.len() as u32;
            s.received += received;
            s.files += files;
            s.remaining = remaining;
        });
        more = report.more;
        report_drops = !report.removed.is_empty();
        if !more && left == 0 && !report_drops {
            break;
        }
    }
    refresh_reference(&token).await;
    Ok(())
}

/// A sync request already on its way; its answer is waited for later.
struct Ahead(Rc<RefCell<Option<Result<SyncResponse, ApiError>>>>);

impl Ahead {
    fn fetch(token: String, req: SyncRequest) -> Ahead {
        let slot = Rc::new(RefCell::new(None));
        let fill = slot.clone();
        leptos::task::spawn_local(async move {
            let resp = api::post("/api/sync", Some(&token), &req).await;
            *fill.borrow_mut() = Some(resp);
        });
        Ahead(slot)
    }

    async fn wait(self) -> Result<SyncResponse, ApiError> {
        loop {
            if let Some(r) = self.0.borrow_mut().take() {
                return r;
            }
            model::sleep(5).await;
        }
    }
}

/// Fetches the reference data of the scope once per app start (names of branches,
/// members, rule settings and the calendar can change on the server).
async fn refresh_reference(token: &str) {
    if LOOP.with(|l| l.borrow().reference_fresh) {
        return;
    }
    if let Ok(r) = api::get::<Reference>("/api/reference", Some(token)).await {
        LOOP.with(|l| l.borrow_mut().reference_fresh = true);
        let json = serde_json::to_string(&r).unwrap_or_default();
        let same = with(|m| serde_json::to_string(&m.reference).unwrap_or_default() == json);
        if same {
            return;
        }
        ui().orgs.set(r.orgs.clone());
        with(|m| {
            m.set_reference(r);
            // Settings or the calendar changed: every summary is stale.
            m.cache.clear();
        });
        if let Some(store) = model::store() {
            let _ = store.put_meta(&[("reference", json)]).await;
            tabs::post(&Msg::Reference);
        }
        model::rebuild_rows();
    }
}

/// Runs a sync now and waits for it (and any run already going) to finish. In a tab
/// that is not the sync tab, asks the sync tab and waits for the state it shares.
pub async fn run_and_wait() {
    if !ui().leader.get_untracked() {
        tabs::post(&Msg::SyncNow);
        let start = now_ms();
        // Give the sync tab a moment to start, then wait while it runs.
        model::sleep(500).await;
        while ui().sync.get_untracked().running && now_ms() - start < 120_000.0 {
            model::sleep(100).await;
        }
        return;
    }
    while running() {
        model::sleep(100).await;
    }
    // `run` marks itself running before its first await, so no timer run slips in.
    run().await;
}
