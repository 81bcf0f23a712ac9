//! The central office's reads (its pages, dashboards, lists and exports) run on threads
//! of lower CPU priority than the field's syncs.
//!
//! A sync is short and a cadre waits on a slow network for it; a province's dashboard
//! or a year's export can keep a core busy for a long time. On SQLite both are CPU work
//! in this process, so while the office asks for page after page they share the cores,
//! and the syncs' latency grows with the office's load. Here the office's reads run on
//! a few threads with a higher nice value: when the cores are busy the kernel's
//! scheduler gives the syncs the larger share, and when they are idle the office's
//! reads run at full speed. Lowering a thread's priority needs no privilege.
//!
//! Only reads go here. A thread of low priority holding the writer would make every
//! sync wait on it (priority inversion), so taking the writer from one of these threads
//! is a bug that debug builds stop on (every way to the store's writer checks it);
//! writes run on tokio's blocking pool ([`crate::blocking`]).

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{AppError, AppResult};

/// Threads serving the office's reads: a few at once, so that one long export does not
/// hold up every other page, and fewer than the store's read connections, so that
/// pulls always find one free.
const THREADS: usize = 3;

/// The nice value of those threads (0 is the default; 19 the lowest priority). At 10 a
/// busy thread gets about a tenth of a core that a sync's thread also wants.
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    static OFFICE_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is one of the office's read threads.
pub fn on_office_thread() -> bool {
    OFFICE_THREAD.with(Cell::get)
}

/// Runs read-only store work for the office on its threads of lower priority.
pub async fn office<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    if let Err(refused) = jobs().send(job) {
        // No office thread could be started: the work runs at the usual priority.
        tokio::task::spawn_blocking(refused.0);
    }
    match rx.await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(AppError::Internal("an office read panicked".into())),
        Err(_) => Err(AppError::Internal("an office read was dropped".into())),
    }
}

/// The queue of the office's threads, started on first use.
fn jobs() -> &'static Sender<Job> {
    static JOBS: OnceLock<Sender<Job>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        // The threads see the runtime as tokio's blocking pool does.
        let runtime = tokio::runtime::Handle::try_current().ok();
        for i in 0..THREADS {
            let rx = rx.clone();
            let runtime = runtime.clone();
            let started = std::thread::Builder::new()
                .name(format!("office-{i}"))
                .spawn(move || {
                    let _entered = runtime.as_ref().map(|r| r.enter());
                    OFFICE_THREAD.with(|c| c.set(true));
                    lower_priority();
                    serve(&rx);
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "starting an office read thread failed");
            }
        }
        tx
    })
}

fn serve(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// Raises this thread's nice value (Linux keeps one per thread).
#[cfg(target_os = "linux")]
fn lower_priority() {
    let me = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(me), NICENESS) {
        tracing::warn!(error = %e, "lowering an office thread's priority failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// This thread's nice value.
    fn current_niceness() -> i32 {
        rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap_or(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn office_reads_run_on_threads_of_lower_priority_and_return_their_answer() {
        let (office_nice, flagged) = office(|| Ok((current_niceness(), on_office_thread())))
            .await
            .unwrap();
        let (sync_nice, sync_flagged) =
            crate::blocking(|| Ok((current_niceness(), on_office_thread())))
                .await
                .unwrap();
        assert!(flagged && !sync_flagged);
        assert_eq!(office_nice, sync_nice + NICENESS);
        // Errors and panics come back as errors; the threads go on serving.
        let e = office::<()>(|| Err(AppError::not_found("hồ sơ", "case file"))).await;
        assert!(matches!(e, Err(AppError::User { status, .. }) if status == 404));
        let p = office::<()>(|| panic!("an office read that fails")).await;
        assert!(matches!(p, Err(AppError::Internal(_))));
        let (tx, rx) = std::sync::mpsc::channel();
        let waiting: Vec<_> = (0..3 * THREADS)
            .map(|i| {
                let tx = tx.clone();
                tokio::spawn(office(move || {
                    tx.send(std::thread::current().name().map(str::to_string))
                        .unwrap();
                    Ok(i * 2)
                }))
            })
            .collect();
        let mut answers = Vec::new();
        for w in waiting {
            answers.push(w.await.unwrap().unwrap());
        }
        assert_eq!(answers, (0..3 * THREADS).map(|i| i * 2).collect::<Vec<_>>());
        drop(tx);
        assert!(
            rx.iter()
                .all(|n| n.is_some_and(|n| n.starts_with("office-")))
        );
    }
}
