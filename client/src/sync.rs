//! The sync loop around `shared::sync::Replica`: when to sync, one run of request /
//! receive / store, and what the header shows.
//!
//! A run repeats `prepare` → POST /api/sync → `receive` → store until nothing is left to
//! send and the server has no further page. Each response is stored (documents, their
//! acknowledged heads and the cursor, in one IndexedDB transaction) before the next
//! request, so a cut connection costs at most the request in flight, and a repeated
//! request is harmless on the server. Pushes are cut into batches of bounded size so a
//! slow link shows progress and a failure loses little work.
//!
//! Runs start on app start, on the `online` event, when the window gets focus, from the
//! button, a few seconds after an edit, and on a timer: every minute after a success,
//! with exponential backoff after a failure.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use shared::sync::{DocId, SyncRequest, SyncResponse};

use crate::api::{self, ApiError, Reference};
use crate::i18n::tr;
use crate::model::{self, now_ms, ui, with};

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
            if due {
                now();
            }
        },
        Duration::from_secs(1),
    );
    let on = window_event_listener(leptos::ev::online, |_| {
        ui().sync.update(|s| s.offline = false);
        now();
    });
    let focus = window_event_listener(leptos::ev::focus, |_| now());
    let off = window_event_listener(leptos::ev::offline, |_| {
        ui().sync.update(|s| s.offline = true);
    });
    // The listeners live as long as the page.
    std::mem::forget((on, focus, off));
    now();
}

/// Syncs as soon as possible (a running sync is followed by another).
pub fn now() {
    if model::with(|m| m.session.is_none()) || ui().relogin.get_untracked() {
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
        ui().sync.update(|s| {
            s.running = true;
            s.pushed = 0;
            s.to_push = 0;
            s.received = 0;
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
            Ok(()) => u.sync.update(|s| {
                s.last_ok = Some(now_ms());
                s.error = None;
                s.offline = false;
            }),
            Err(ApiError::Offline) => u.sync.update(|s| {
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
    ui().sync.update(|s| s.running = false);
}

async fn handle_error(e: ApiError) {
    let u = ui();
    match e.code() {
        "UNAUTHENTICATED" | "TOKEN_EXPIRED" => {
            stop();
            u.relogin.set(true);
        }
        "DEVICE_REVOKED" => {
            // The administrator revoked this device: its data must not stay on it.
            stop();
            crate::app::wipe_device().await;
            u.notice.set(Some(
                tr(
                    "Thiết bị này đã bị thu hồi quyền truy cập; dữ liệu trên máy đã được xóa.",
                    "This device's access was revoked; the data on it has been erased.",
                )
                .into(),
            ));
        }
        _ => u.sync.update(|s| s.error = Some(e.message())),
    }
}

/// One run: sends everything unsent and receives everything new, page by page.
async fn run_once() -> Result<(), ApiError> {
    let Some(token) = with(|m| m.session.as_ref().map(|s| s.token.clone())) else {
        return Ok(());
    };
    crate::app::hydrate_all().await;
    let u = ui();
    let to_push = with(|m| {
        m.replica
            .docs
            .values_mut()
            .map(|d| d.rejected.is_none() && d.has_unsynced())
            .filter(|&u| u)
            .count() as u32
    });
    u.sync.update(|s| s.to_push = to_push);
    let mut sent: BTreeSet<DocId> = BTreeSet::new();
    let mut first = true;
    let mut more = false;
    loop {
        let (req, pending, left) = with(|m| {
            let (mut req, pending) = m.replica.prepare(Some(PULL_PAGE));
            req.push.retain(|d| !sent.contains(&d.doc_id));
            let left = cut_push(&mut req);
            (req, pending, left)
        });
        if !first && req.push.is_empty() && !more {
            break;
        }
        first = false;
        let pushed: Vec<DocId> = req.push.iter().map(|d| d.doc_id.clone()).collect();
        let resp: SyncResponse = api::post("/api/sync", Some(&token), &req).await?;
        let received = resp
            .pull
            .iter()
            .map(|d| d.changes.len() as u32)
            .sum::<u32>();
        let outcome = with(|m| {
            let report = m.replica.receive(pending, resp)?;
            let ids: Vec<DocId> = report.touched.iter().cloned().collect();
            for id in &ids {
                m.cache.remove(id);
                m.refresh_unsynced(id);
            }
            Ok::<_, shared::sync::SyncError>((ids, report.more, m.replica.cursor))
        });
        let (ids, page_more, cursor) = outcome.map_err(|e| ApiError::Server {
            status: 0,
            code: "BAD_SYNC".into(),
            message_vi: e.to_string(),
            message_en: e.to_string(),
        })?;
        model::persist(&ids, &[("cursor", cursor.to_string())])
            .await
            .map_err(|e| ApiError::Server {
                status: 0,
                code: "STORAGE".into(),
                message_vi: format!("Không ghi được vào bộ nhớ máy: {e}"),
                message_en: format!("Could not write to device storage: {e}"),
            })?;
        model::refresh_rows(&ids);
        if !ids.is_empty() {
            u.doc_rev.update(|r| *r += 1);
        }
        sent.extend(pushed.iter().cloned());
        u.sync.update(|s| {
            s.pushed += pushed.len() as u32;
            s.received += received;
        });
        more = page_more;
        if !more && left == 0 {
            break;
        }
    }
    refresh_reference(&token).await;
    Ok(())
}

/// Keeps the pushes of one request under the byte budget; returns how many wait.
fn cut_push(req: &mut SyncRequest) -> usize {
    let mut used = 0usize;
    let mut keep = Vec::new();
    let mut left = 0;
    for d in std::mem::take(&mut req.push) {
        let size: usize = d.changes.iter().map(|c| c.0.len()).sum();
        if keep.is_empty() || used + size <= PUSH_BUDGET {
            used += size;
            keep.push(d);
        } else {
            left += 1;
        }
    }
    req.push = keep;
    left
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
            let _ = store.put(&[], &[("reference", json)]).await;
        }
        model::rebuild_rows();
    }
}

/// Runs a sync now and waits for it (and any run already going) to finish.
pub async fn run_and_wait() {
    while running() {
        crate::app::sleep(100).await;
    }
    // `run` marks itself running before its first await, so no timer run slips in.
    run().await;
}
