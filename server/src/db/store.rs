//! The SQLite store: opening, migrations and backups. One file holds the Automerge
//! documents (a snapshot plus the change log), the reference data, accounts and devices,
//! and the projections the review screens query.
//!
//! Every method is blocking; callers run them on tokio's blocking pool. One writer
//! connection behind a mutex serialises every write, which keeps the change log's sequence
//! numbers in commit order, as the pull feed relies on: a reader that sees sequence
//! number N also sees every smaller one. Beside it, a pool of read-only connections
//! (WAL readers, each on its own snapshot) serves pulls, reports, exports, central pages
//! and backups, so none of them waits for a merge and no merge waits for them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::db::{Backend, Connection, orgs, settings};

pub use crate::db::Error as DbError;

/// A handle on the database file.
pub struct Store {
    conn: Mutex<Writer>,
    /// Threads waiting for the writer: while one waits, a shared transaction is left open
    /// for it (see [`Store::grouped`]).
    waiting: AtomicUsize,
    groups: Groups,
    readers: ReadPool,
    durability: Durability,
    /// The PostgreSQL server's address, to connect again after a lost connection; None
    /// on SQLite.
    postgres: Option<String>,
    /// Copies the WAL into the database file beside the writer (a file-backed SQLite
    /// store only).
    checkpoints: Option<Checkpointer>,
    /// [`GROUP_MAX_AGE`], but for tests that need two writes to meet in one transaction
    /// on a slow machine.
    group_max_age: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("readers", &self.readers.size)
            .finish_non_exhaustive()
    }
}

/// Read-only connections to the database file, handed out one per caller. An empty pool
/// (an in-memory database, which other connections cannot open) lends the writer.
struct ReadPool {
    idle: Mutex<Vec<Connection>>,
    returned: Condvar,
    size: usize,
}

/// A connection for reading: pooled, or the writer when there is no pool.
pub struct ReadConn<'a>(Lent<'a>);

enum Lent<'a> {
    Pooled(&'a ReadPool, Option<Connection>),
    Writer(WriteConn<'a>),
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match &self.0 {
            Lent::Pooled(_, c) => c.as_ref().expect("held until dropped"),
            Lent::Writer(g) => g,
        }
    }
}

impl std::ops::DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        match &mut self.0 {
            Lent::Pooled(_, c) => c.as_mut().expect("held until dropped"),
            Lent::Writer(g) => g,
        }
    }
}

impl Drop for ReadConn<'_> {
    fn drop(&mut self) {
        if let Lent::Pooled(pool, c) = &mut self.0
            && let Some(c) = c.take()
        {
            // A read left open by a panic would pin its snapshot: end it before reuse.
            if c.sqlite().is_some_and(|s| !s.is_autocommit()) {
                let _ = c.execute_batch("ROLLBACK");
            }
            pool.idle.lock().unwrap_or_else(|p| p.into_inner()).push(c);
            pool.returned.notify_one();
        }
    }
}

/// The writer connection and the transaction shared by several requests' writes that
/// it may have open.
struct Writer {
    conn: Connection,
    group: Option<OpenGroup>,
    groups_opened: u64,
}

/// A transaction holding the writes of one or more requests, left open for the next.
struct OpenGroup {
    id: u64,
    opened: Instant,
    /// Requests' parts it holds.
    parts: usize,
    /// Requests waiting for its commit.
    members: usize,
    changes_at_open: u64,
}

/// A shared transaction closes once it holds this many requests' writes…
const GROUP_MAX_PARTS: usize = 16;

/// …or once it has been open this long, so its first request's answer waits no longer
/// for those after it. Every member waits idle for the commit: under sustained load a
/// longer age (40 ms was tried) leaves cores idle while requests wait for each other.
const GROUP_MAX_AGE: Duration = Duration::from_millis(2);

/// How long a member waits for its shared transaction's commit before committing it
/// itself (a part that panicked while holding the writer leaves it open, and nobody may
/// take the writer after it). Much longer than the age: the next writer commits an aged
/// transaction before writing, so this is only the rescue.
const GROUP_RESCUE_AFTER: Duration = Duration::from_millis(50);

/// What became of closed shared transactions, kept until each member has read it.
#[derive(Default)]
struct Groups {
    closed: Mutex<HashMap<u64, Closed>>,
    closing: Condvar,
    count: AtomicU64,
    members: AtomicU64,
}

struct Closed {
    /// The durability ticket of the commit (`None`: nothing was written), or why it
    /// failed.
    outcome: Result<Option<u64>, String>,
    unread: usize,
}

/// The writer, lent out. Dropping it releases the writer first, then waits until every
/// commit made through it is on disk, so other requests commit while this one waits.
pub struct WriteConn<'a> {
    guard: Option<MutexGuard<'a, Writer>>,
    durability: &'a Durability,
    changes_at_start: u64,
}

impl std::ops::Deref for WriteConn<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.guard.as_ref().expect("held until dropped").conn
    }
}

impl std::ops::DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.guard.as_mut().expect("held until dropped").conn
    }
}

impl Drop for WriteConn<'_> {
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        if guard.conn.backend() == Backend::Postgres {
            // (An open transaction was rolled back when dropped, before this.) A lost
            // connection has lost its lock with it.
            let _ = advisory_lock(&guard.conn, WRITER_LOCK, false);
            return;
        }
        // Rows written means a commit (an open transaction rolled back when dropped).
        let wrote = total_changes(&guard.conn) != self.changes_at_start;
        let ticket = wrote.then(|| self.durability.committed());
        drop(guard);
        if let Some(t) = ticket
            && !self.durability.wait(t)
            && !std::thread::panicking()
        {
            // The request that committed must not be answered as stored: fail it.
            panic!("the database's write-ahead log could not be synced to disk");
        }
    }
}

impl Writer {
    fn new(conn: Connection) -> Writer {
        Writer {
            conn,
            group: None,
            groups_opened: 0,
        }
    }
}

impl OpenGroup {
    fn full(&self, max_age: Duration) -> bool {
        self.parts >= GROUP_MAX_PARTS || self.opened.elapsed() >= max_age
    }
}

/// Group commit. The writer commits without syncing (`synchronous = NORMAL` in WAL mode
/// writes each commit to the WAL file and syncs only at checkpoints); each commit takes a
/// ticket, and its request is answered only once a sync of the WAL file covers that
/// ticket. One thread syncs at a time, for every commit made up to its start; those that
/// committed meanwhile share the next sync. An fsync on any descriptor of the file
/// flushes all of its written pages, so this is as durable as a sync per commit.
struct Durability {
    wal: Option<PathBuf>,
    file: Mutex<Option<std::fs::File>>,
    state: Mutex<SyncState>,
    synced: Condvar,
}

#[derive(Default)]
struct SyncState {
    committed: u64,
    durable: u64,
    syncing: bool,
    syncs: u64,
}

impl Durability {
    fn new(wal: Option<PathBuf>) -> Durability {
        Durability {
            wal,
            file: Mutex::new(None),
            state: Mutex::new(SyncState::default()),
            synced: Condvar::new(),
        }
    }

    /// A ticket for a commit just made (called while the writer is still held, so ticket
    /// order is commit order).
    fn committed(&self) -> u64 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.committed += 1;
        st.committed
    }

    /// Returns once the commit with `ticket` is durable (true), or false when the sync
    /// failed.
    fn wait(&self, ticket: u64) -> bool {
        let Some(wal) = &self.wal else {
            return true;
        };
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if st.durable >= ticket {
                return true;
            }
            if st.syncing {
                st = self.synced.wait(st).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            st.syncing = true;
            let upto = st.committed;
            drop(st);
            let ok = self.sync_wal(wal);
            st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.syncing = false;
            st.syncs += 1;
            self.synced.notify_all();
            if !ok {
                // Not durable, so not acknowledged: this request fails (the device sends
                // its changes again, which is harmless) and the next waiter syncs anew.
                tracing::error!(path = %wal.display(), "syncing the WAL failed");
                return false;
            }
            st.durable = st.durable.max(upto);
        }
    }

    fn sync_wal(&self, wal: &Path) -> bool {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if file.is_none() {
            *file = std::fs::OpenOptions::new().read(true).open(wal).ok();
        }
        let ok = file.as_ref().is_some_and(|f| f.sync_data().is_ok());
        if !ok {
            // Opened again next time, in case the file was replaced.
            *file = None;
        }
        ok
    }
}

/// The advisory lock the writers of every process over one PostgreSQL database share.
const WRITER_LOCK: i64 = 0x686f_736f_0001;

/// The advisory lock of [`Store::one_at_a_time`] (a start that fills an empty database).
const SETUP_LOCK: i64 = 0x686f_736f_0002;

/// Prepared statements kept per connection. A merge alone runs about thirty distinct
/// statements (some with many triggers to compile); with fewer slots each would be
/// compiled again for every file.
const STATEMENT_CACHE: usize = 256;

/// The writer's page cache, in KiB (negative: SQLite's `cache_size` then takes a size
/// rather than a page count).
const WRITER_CACHE_KIB: i64 = -16 * 1024;

/// How many read connections a file-backed store keeps: enough for every core and a few
/// requests waiting on the disk.
pub const DEFAULT_READERS: usize = 8;

impl Store {
    /// Opens (creating and migrating when needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Store, DbError> {
        Self::open_with_readers(path, DEFAULT_READERS)
    }

    /// Opens the database with `readers` read-only connections beside the writer.
    pub fn open_with_readers(path: &Path, readers: usize) -> Result<Store, DbError> {
        let conn = rusqlite::Connection::open(path)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut store = Self::setup(conn, Some(PathBuf::from(wal)))?;
        let path = PathBuf::from(path);
        store.checkpoints = Some(Checkpointer::start(&path)?);
        let mut idle = Vec::with_capacity(readers);
        for _ in 0..readers {
            idle.push(open_reader(&path)?);
        }
        store.readers = ReadPool {
            idle: Mutex::new(idle),
            returned: Condvar::new(),
            size: readers,
        };
        Ok(store)
    }

    pub fn open_in_memory() -> Result<Store, DbError> {
        Self::setup(rusqlite::Connection::open_in_memory()?, None)
    }

    fn setup(mut conn: rusqlite::Connection, wal: Option<PathBuf>) -> Result<Store, DbError> {
        // WAL lets the readers (pulls, reports, backups) run beside the writer. An
        // acknowledged commit must survive power loss, as the sync protocol promises: with
        // a WAL file, commits are written without a sync of their own and the writer's
        // guard syncs the WAL once for every commit made meanwhile (group commit, see
        // `Durability`); migrations, before that, run fully synchronous.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Statement journals (a multi-row write inside a transaction keeps the pages it
        // may have to undo) stay in memory rather than in a temporary file.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // The pages every merge touches (the change log's and the views' indexes, the
        // rollups) stay cached between requests; SQLite's default keeps 2 MB.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in super::schema::MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        if wal.is_some() {
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            // The writer never checkpoints: SQLite would do it inside the commit that
            // passes 1,000 pages of WAL, copying pages and syncing the database file while
            // every other write waits. The `Checkpointer` does it on its own connection.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            // Once a checkpoint lets the WAL start over, its file is cut back to this.
            conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        }
        Ok(Store {
            conn: Mutex::new(Writer::new(conn.into())),
            waiting: AtomicUsize::new(0),
            groups: Groups::default(),
            readers: ReadPool {
                idle: Mutex::new(Vec::new()),
                returned: Condvar::new(),
                size: 0,
            },
            durability: Durability::new(wal),
            postgres: None,
            checkpoints: None,
            group_max_age: GROUP_MAX_AGE,
        })
    }

    /// The writer connection, for the modules that own a table group. Hold it only to
    /// write (or to read what a write depends on): every other write waits meanwhile.
    /// Dropping it returns once what was committed through it is durable.
    ///
    /// On PostgreSQL the writer of every process sharing the database takes one
    /// advisory lock while lent: writes are made one at a time across replicas, as on
    /// SQLite, so the change log's sequence numbers are handed out in commit order and
    /// the pull's cursor stays correct (see ARCHITECTURE.md, "Server store").
    ///
    /// A shared transaction left open by [`Store::grouped`] is committed first.
    pub fn conn(&self) -> WriteConn<'_> {
        let mut guard = self.lock_writer();
        self.close_group(&mut guard);
        if self.postgres.is_some() {
            self.revive(&mut guard.conn, Connection::postgres);
            if let Err(e) = advisory_lock(&guard.conn, WRITER_LOCK, true) {
                tracing::error!(error = %e, "taking the writer lock failed");
            }
        }
        let changes_at_start = total_changes(&guard.conn);
        WriteConn {
            guard: Some(guard),
            durability: &self.durability,
            changes_at_start,
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        debug_assert!(
            !crate::office::on_office_thread(),
            "the writer taken from an office read thread of low priority"
        );
        self.waiting.fetch_add(1, Ordering::SeqCst);
        // A panic while holding the lock cannot leave SQLite inconsistent (transactions
        // roll back on drop), so a poisoned lock is safe to reuse.
        let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        if guard.group.is_some()
            && guard
                .conn
                .sqlite()
                .is_some_and(rusqlite::Connection::is_autocommit)
        {
            // The shared transaction is gone: a first part that panicked rolled it back
            // (it held nothing else, nobody waits for it), or SQLite rolled it back on its
            // own (a full disk, an I/O error) under a part that then panicked. Members
            // waiting for it are told it failed.
            if guard.group.as_ref().is_some_and(|g| g.members == 0) {
                guard.group = None;
            } else {
                self.close_group(&mut guard);
            }
        }
        guard
    }

    /// Runs `f` in a transaction it may share with other requests' writes, and returns
    /// once that transaction is committed and durable (or with an error, having stored
    /// nothing of `f`'s).
    ///
    /// When other requests are waiting for the writer as `f` finishes, the transaction is
    /// left open for them rather than committed: the commit, its write-ahead log pages
    /// (the indexes' and rollups' pages every request touches are written once) and
    /// SQLite's checkpoints are shared by all of them. Each request's part is a savepoint:
    /// when `f` fails, its part alone is undone. The transaction is committed when no one
    /// waits, when it holds [`GROUP_MAX_PARTS`] parts, when it has been open
    /// [`GROUP_MAX_AGE`], or when any other use of the writer needs it; on PostgreSQL
    /// at once, after each part.
    ///
    /// Parts are written one after another on the one writer, each seeing those before
    /// it, so the outcome is that of the same requests made one at a time.
    pub fn grouped<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut super::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let (value, id) = self.write_part(f, true)?;
        self.await_group(id)?;
        Ok(value)
    }

    /// Writes `f`'s part as [`Store::grouped`] does, but returns without waiting for the
    /// shared commit: for a record that may be lost with a crash or a failed commit and
    /// that no answer depends on (a device's last-seen time). It is committed with the
    /// shared transaction, before the writer is next free.
    pub fn write_soon<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut super::Transaction<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        self.write_part(f, false).map(|(value, _)| value)
    }

    /// Writes one part in the shared transaction; returns the transaction's id, which a
    /// member (`awaited`) waits for.
    fn write_part<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&mut super::Transaction<'_>) -> Result<T, E>,
        awaited: bool,
    ) -> Result<(T, u64), E> {
        let mut w = self.lock_writer();
        if w.group.as_ref().is_some_and(|g| g.full(self.group_max_age)) {
            self.close_group(&mut w);
        }
        let opened = w.group.is_none();
        if opened {
            self.open_group(&mut w)?;
        }
        let id = w.group.as_ref().map_or(0, |g| g.id);
        // The first part of a SQLite transaction needs no savepoint: undoing it is
        // rolling back the transaction. (On PostgreSQL each part is its own transaction,
        // which the advisory lock's release must follow.)
        let first = opened && w.conn.backend() == Backend::Sqlite;
        let done = match w.conn.part(first) {
            Ok(mut part) => match f(&mut part) {
                Ok(v) => part.commit().map(|()| v).map_err(E::from),
                Err(e) => Err(e),
            },
            Err(e) => Err(E::from(e)),
        };
        let value = match done {
            Ok(v) => v,
            Err(e) if first => {
                // Rolled back with the transaction, which held nothing else.
                w.group = None;
                return Err(e);
            }
            Err(e) => {
                // This part is undone (or the transaction with it, when the database
                // failed): the others' are committed now, or fail with it.
                self.close_group(&mut w);
                return Err(e);
            }
        };
        let Some(group) = w.group.as_mut() else {
            unreachable!("the group stays open until closed here or by another holder");
        };
        group.parts += 1;
        if awaited {
            group.members += 1;
        }
        // On PostgreSQL an open transaction holds the lock every replica's writer takes:
        // one replica adding its own waiting requests to it would starve the others, so
        // there each part is committed at once (PostgreSQL groups the syncs of concurrent
        // commits itself).
        if group.full(self.group_max_age)
            || self.waiting.load(Ordering::SeqCst) == 0
            || w.conn.backend() == Backend::Postgres
        {
            self.close_group(&mut w);
        }
        Ok((value, id))
    }

    fn open_group(&self, w: &mut Writer) -> Result<(), DbError> {
        if self.postgres.is_some() {
            self.revive(&mut w.conn, Connection::postgres);
            advisory_lock(&w.conn, WRITER_LOCK, true)?;
        }
        if let Err(e) = w.conn.begin() {
            if self.postgres.is_some() {
                let _ = advisory_lock(&w.conn, WRITER_LOCK, false);
            }
            return Err(e);
        }
        w.groups_opened += 1;
        w.group = Some(OpenGroup {
            id: w.groups_opened,
            opened: Instant::now(),
            parts: 0,
            members: 0,
            changes_at_open: total_changes(&w.conn),
        });
        Ok(())
    }

    /// Commits the shared transaction, if one is open, and tells its members.
    fn close_group(&self, w: &mut Writer) {
        let Some(g) = w.group.take() else {
            return;
        };
        let outcome =
            match w.conn.end() {
                // The ticket is taken while the writer is held: ticket order is commit order.
                // (PostgreSQL counts no changes here and has no WAL file of ours to sync.)
                Ok(()) => Ok((total_changes(&w.conn) != g.changes_at_open)
                    .then(|| self.durability.committed())),
                Err(e) => {
                    tracing::error!(error = %e, members = g.members, "a shared commit failed");
                    Err(e.to_string())
                }
            };
        if w.conn.backend() == Backend::Postgres {
            let _ = advisory_lock(&w.conn, WRITER_LOCK, false);
        }
        let committed = outcome.is_ok();
        if g.members > 0 {
            self.groups.count.fetch_add(1, Ordering::Relaxed);
            self.groups
                .members
                .fetch_add(g.members as u64, Ordering::Relaxed);
            let mut closed = self.groups.closed.lock().unwrap_or_else(|p| p.into_inner());
            closed.insert(
                g.id,
                Closed {
                    outcome,
                    unread: g.members,
                },
            );
            self.groups.closing.notify_all();
        }
        // After the members are told: their answers wait only for their WAL sync.
        if committed {
            self.top_up_checkpoint(&w.conn);
        }
    }

    /// Copies into the database file, on the writer between two transactions, the WAL
    /// frames the checkpointer has not copied yet, once the WAL has grown past
    /// [`WAL_TOP_UP_FRAMES`]. With every frame copied when the next transaction begins,
    /// SQLite starts the WAL over; otherwise it would grow while writes never pause, and
    /// every read would search a longer WAL index. The checkpointer has copied all but
    /// the last quarter second's frames, so this copy is short.
    fn top_up_checkpoint(&self, conn: &Connection) {
        let Some(c) = &self.checkpoints else {
            return;
        };
        if c.shared.wal_frames.load(Ordering::Relaxed) < WAL_TOP_UP_FRAMES {
            return;
        }
        // Busy when the checkpointer is copying at this moment: tried again after the
        // next commit.
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", (), |r| r.get::<_, i64>(0)) {
            Ok(0) => c.shared.wal_frames.store(0, Ordering::Relaxed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "a checkpoint of the WAL by the writer failed"),
        }
    }

    /// Waits until the shared transaction `id` is committed and durable.
    fn await_group(&self, id: u64) -> Result<(), DbError> {
        let mut closed = self.groups.closed.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = loop {
            if let Some(c) = closed.get_mut(&id) {
                c.unread -= 1;
                let outcome = c.outcome.clone();
                if c.unread == 0 {
                    closed.remove(&id);
                }
                break outcome;
            }
            let (again, waited) = self
                .groups
                .closing
                .wait_timeout(closed, GROUP_RESCUE_AFTER)
                .unwrap_or_else(|p| p.into_inner());
            closed = again;
            if waited.timed_out() && !closed.contains_key(&id) {
                // Nobody committed it: a later part panicked while holding the writer,
                // and nobody has taken the writer since. Commit it from here.
                drop(closed);
                let mut w = self.lock_writer();
                if w.group.as_ref().is_some_and(|g| g.id == id) {
                    self.close_group(&mut w);
                }
                drop(w);
                closed = self.groups.closed.lock().unwrap_or_else(|p| p.into_inner());
            }
        };
        drop(closed);
        match outcome {
            Ok(None) => Ok(()),
            Ok(Some(ticket)) if self.durability.wait(ticket) => Ok(()),
            Ok(Some(_)) => Err(DbError::NotDurable(
                "the write-ahead log could not be synced to disk".into(),
            )),
            Err(e) => Err(DbError::NotDurable(e)),
        }
    }

    /// Shared transactions committed so far with requests waiting for them, and how many
    /// requests waited: fewer transactions than requests is the sharing at work.
    pub fn group_counts(&self) -> (u64, u64) {
        (
            self.groups.count.load(Ordering::Relaxed),
            self.groups.members.load(Ordering::Relaxed),
        )
    }

    /// Commits made and WAL syncs done so far: fewer syncs than commits is group commit
    /// at work.
    pub fn durability_counts(&self) -> (u64, u64) {
        let st = self
            .durability
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        (st.committed, st.syncs)
    }

    /// A read-only connection: it sees every write committed before each of its
    /// statements (or before its transaction began), and waits for no writer.
    pub fn read(&self) -> ReadConn<'_> {
        let pool = &self.readers;
        if pool.size == 0 {
            return ReadConn(Lent::Writer(self.conn()));
        }
        let mut idle = pool.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(mut c) = idle.pop() {
                drop(idle);
                self.revive(&mut c, pg_reader);
                return ReadConn(Lent::Pooled(pool, Some(c)));
            }
            idle = pool.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// How many read-only connections the store keeps (0: reads share the writer).
    pub fn reader_count(&self) -> usize {
        self.readers.size
    }

    /// Copies the live database into `dest` with SQLite's online backup, from a read
    /// connection: merges go on meanwhile, and the copy is one consistent snapshot.
    pub fn backup_to(&self, dest: &Path) -> Result<(), DbError> {
        let conn = self.read();
        let Some(from) = conn.sqlite() else {
            return Err(DbError::Conversion(
                "a PostgreSQL database is backed up with pg_dump".into(),
            ));
        };
        let mut out = rusqlite::Connection::open(dest)?;
        let backup = rusqlite::backup::Backup::new(from, &mut out)?;
        // All pages in one step: the copy is one snapshot even while merges go on.
        backup.step(-1)?;
        Ok(())
    }

    /// Opens the PostgreSQL database at `url` (creating its schema when missing) with
    /// `readers` connections for reading beside the writer. Several processes may open
    /// the same database: they share nothing but it.
    pub fn open_postgres(url: &str, readers: usize) -> Result<Store, DbError> {
        let writer = Connection::postgres(url)?;
        // Replicas starting together create the schema once.
        advisory_lock(&writer, WRITER_LOCK, true)?;
        let migrated = writer.execute_batch(&super::schema::postgres());
        advisory_lock(&writer, WRITER_LOCK, false)?;
        migrated?;
        let mut idle = Vec::with_capacity(readers);
        for _ in 0..readers {
            idle.push(pg_reader(url)?);
        }
        Ok(Store {
            conn: Mutex::new(Writer::new(writer)),
            waiting: AtomicUsize::new(0),
            groups: Groups::default(),
            readers: ReadPool {
                idle: Mutex::new(idle),
                returned: Condvar::new(),
                size: readers,
            },
            durability: Durability::new(None),
            postgres: Some(url.to_string()),
            checkpoints: None,
            group_max_age: GROUP_MAX_AGE,
        })
    }

    /// A PostgreSQL connection that was lost (the database restarted, the network
    /// failed) is opened again with `open` before it is lent; if that fails too, the
    /// caller's query fails with the reason.
    fn revive(&self, c: &mut Connection, open: fn(&str) -> Result<Connection, DbError>) {
        if let Some(url) = &self.postgres
            && c.is_closed()
            && let Ok(fresh) = open(url)
        {
            *c = fresh;
        }
    }

    pub fn get_setting(&self, key: &str) -> Result<Option<String>, DbError> {
        settings::setting(&self.read(), key)
    }

    pub fn put_setting(&self, key: &str, value: &str) -> Result<(), DbError> {
        settings::put_setting(&self.conn(), key, value)
    }

    /// Runs `f` while no other process over the same database runs its own: on
    /// PostgreSQL under an advisory lock held by a connection of its own (so replicas
    /// started together on an empty database fill it once); a SQLite file is served by
    /// one process.
    pub fn one_at_a_time<T, E: From<DbError>>(
        &self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(url) = &self.postgres else {
            return f();
        };
        let c = Connection::postgres(url)?;
        advisory_lock(&c, SETUP_LOCK, true)?;
        let out = f();
        // Closing the connection gives the lock back as well.
        let _ = advisory_lock(&c, SETUP_LOCK, false);
        out
    }

    pub fn is_empty(&self) -> Result<bool, DbError> {
        Ok(orgs::count(&self.read())? == 0)
    }
}

/// A read-only connection to the file: it cannot write even by mistake.
fn open_reader(path: &Path) -> Result<Connection, DbError> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.pragma_update(None, "query_only", "ON")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn.into())
}

/// How often the checkpointer looks for new commits to copy into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// WAL frames past which the writer finishes the checkpointer's work after a commit,
/// so that the next transaction starts the WAL over (16 MB of 4 kB pages).
const WAL_TOP_UP_FRAMES: u64 = 4096;

/// The size, in bytes, the WAL file is cut back to when it starts over.
const WAL_SIZE_LIMIT: i64 = 32 * 1024 * 1024;

/// A thread with its own connection that copies committed WAL pages into the database
/// file (a passive checkpoint) whenever another connection has committed since its last
/// look. A passive checkpoint takes no lock a writer or reader waits for: commits go on
/// appending to the WAL while it copies, and SQLite starts the WAL over at the next
/// commit once everything in it is copied and no reader needs it.
struct Checkpointer {
    shared: std::sync::Arc<CheckpointState>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct CheckpointState {
    stopped: Mutex<bool>,
    wake: Condvar,
    /// Frames in the WAL at the last checkpoint: the WAL starts over only when a write
    /// transaction begins with every frame copied, which a writer that never pauses
    /// does not meet, so past [`WAL_TOP_UP_FRAMES`] the writer copies the few frames
    /// left itself (see `Store::close_group`).
    wal_frames: AtomicU64,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer, DbError> {
        let conn = rusqlite::Connection::open(path)?;
        // A checkpoint syncs the WAL before copying from it, and the database file after.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let shared = std::sync::Arc::new(CheckpointState::default());
        let state = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&conn, &state))
            .map_err(|e| DbError::NotDurable(format!("the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }
}

impl Checkpointer {
    /// Stops the thread and waits for it (a checkpoint under way is finished).
    fn stop(&mut self) {
        *self
            .shared
            .stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn checkpoint_loop(conn: &rusqlite::Connection, state: &CheckpointState) {
    // `data_version` changes when another connection commits.
    let version = || conn.query_row("PRAGMA data_version", (), |r| r.get::<_, i64>(0));
    let mut copied = None;
    loop {
        {
            let stopped = state.stopped.lock().unwrap_or_else(|p| p.into_inner());
            let (stopped, _) = state
                .wake
                .wait_timeout_while(stopped, CHECKPOINT_EVERY, |s| !*s)
                .unwrap_or_else(|p| p.into_inner());
            if *stopped {
                return;
            }
        }
        let now = version().ok();
        if now.is_none() || now == copied {
            continue;
        }
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", (), |r| r.get::<_, i64>(1)) {
            Ok(frames) => {
                copied = now;
                state
                    .wal_frames
                    .store(u64::try_from(frames).unwrap_or(0), Ordering::Relaxed);
            }
            Err(e) => tracing::warn!(error = %e, "a checkpoint of the WAL failed"),
        }
    }
}

/// Takes (or gives back) the advisory lock `lock` on PostgreSQL.
fn advisory_lock(c: &Connection, lock: i64, take: bool) -> Result<(), DbError> {
    let sql = match take {
        true => "SELECT pg_advisory_lock(?1)",
        false => "SELECT pg_advisory_unlock(?1)",
    };
    c.query_row(sql, [lock], |_| Ok(()))
}

/// A PostgreSQL connection for reading: like SQLite's readers, it cannot write even by
/// mistake.
fn pg_reader(url: &str) -> Result<Connection, DbError> {
    let c = Connection::postgres(url)?;
    c.execute_batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
    Ok(c)
}

/// Rows written through a connection since it opened (SQLite counts them; the group
/// commit waits only after a write).
fn total_changes(c: &Connection) -> u64 {
    c.sqlite().map_or(0, rusqlite::Connection::total_changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_reopening_keeps_data() {
        let dir = std::env::temp_dir().join(format!("store-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite");
        let _ = std::fs::remove_file(&path);
        {
            let s = Store::open(&path).unwrap();
            s.put_setting("k", "v").unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.get_setting("k").unwrap().as_deref(), Some("v"));
        std::fs::remove_dir_all(&dir).ok();
    }

    fn temp_store(name: &str, readers: usize) -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!("store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (
            Store::open_with_readers(&dir.join("db.sqlite"), readers).unwrap(),
            dir,
        )
    }

    #[test]
    fn reads_go_on_while_a_write_is_open_and_see_only_what_was_committed() {
        let (s, dir) = temp_store("concurrent", 2);
        s.put_setting("k", "old").unwrap();
        let mut w = s.conn();
        let tx = w.transaction().unwrap();
        tx.execute("UPDATE settings SET value = 'new' WHERE key = 'k'", ())
            .unwrap();
        // The writer is held with an open transaction: a read neither waits nor sees it.
        let seen = std::thread::scope(|t| t.spawn(|| s.get_setting("k").unwrap()).join().unwrap());
        assert_eq!(seen.as_deref(), Some("old"));
        tx.commit().unwrap();
        drop(w);
        assert_eq!(s.get_setting("k").unwrap().as_deref(), Some("new"));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Commits never copy the WAL into the database file themselves (that made the
    /// commit passing 1,000 pages of WAL sync the database file while every write
    /// waited); the checkpointer's thread does, soon after, and stops with the store.
    #[test]
    fn the_wal_is_copied_into_the_database_file_beside_the_writer() {
        let (s, dir) = temp_store("checkpoint", 1);
        let db = dir.join("db.sqlite");
        let auto: i64 = s
            .conn()
            .query_row("PRAGMA wal_autocheckpoint", (), |r| r.get(0))
            .unwrap();
        assert_eq!(auto, 0, "the writer checkpoints in its commits");
        let before = std::fs::metadata(&db).unwrap().len();
        let value = "x".repeat(4000);
        s.grouped(|tx| -> Result<(), DbError> {
            for i in 0..2000 {
                tx.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, ?2)",
                    (format!("big-{i}"), value.as_str()),
                )?;
            }
            Ok(())
        })
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&db).unwrap().len() < before + 8_000_000 {
            assert!(Instant::now() < deadline, "no checkpoint in 20 s");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(s.get_setting("big-1999").unwrap().as_deref(), Some(&*value));
        drop(s);
        let s = Store::open(&db).unwrap();
        assert_eq!(s.get_setting("big-0").unwrap().as_deref(), Some(&*value));
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// How many times the WAL has started over: the checkpoint sequence number SQLite
    /// keeps in bytes 12 to 15 of the WAL file's header (big-endian).
    fn wal_starts(wal: &Path) -> u32 {
        use std::io::Read as _;
        let mut head = [0u8; 16];
        std::fs::File::open(wal)
            .and_then(|mut f| f.read_exact(&mut head))
            .map_or(0, |()| {
                u32::from_be_bytes([head[12], head[13], head[14], head[15]])
            })
    }

    /// One write of 4 kB to each of `keys` settings (`k0`, `k1`, …), the value naming
    /// the round.
    fn write_round(s: &Store, round: usize, keys: usize) {
        let value = format!("{round:04}").repeat(1000);
        s.grouped(|tx| -> Result<(), DbError> {
            for i in 0..keys {
                tx.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (format!("k{i}"), value.as_str()),
                )?;
            }
            Ok(())
        })
        .unwrap();
    }

    /// Once the checkpointer has reported a long WAL, the writer's next commit copies the
    /// rest, and the transaction after it starts the WAL over. The checkpointer's thread
    /// is stopped here, so nothing else copies: without the writer's part the WAL never
    /// starts over.
    #[test]
    fn past_a_long_wal_the_writer_copies_the_rest_and_the_wal_starts_over() {
        let (mut s, dir) = temp_store("wal-top-up", 1);
        let wal = dir.join("db.sqlite-wal");
        s.checkpoints
            .as_mut()
            .expect("a file-backed store checkpoints")
            .stop();
        for round in 0..5 {
            write_round(&s, round, 50);
        }
        let first = wal_starts(&wal);
        for round in 5..10 {
            write_round(&s, round, 50);
        }
        assert_eq!(wal_starts(&wal), first, "nothing copies the WAL yet");
        let shared = &s.checkpoints.as_ref().unwrap().shared;
        shared
            .wal_frames
            .store(WAL_TOP_UP_FRAMES, Ordering::Relaxed);
        write_round(&s, 10, 50);
        assert_eq!(shared.wal_frames.load(Ordering::Relaxed), 0, "not copied");
        write_round(&s, 11, 50);
        assert_eq!(wal_starts(&wal), first + 1, "the WAL did not start over");
        assert_eq!(s.get_setting("k49").unwrap(), Some("0011".repeat(1000)));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// The same with the checkpointer running and writes that never pause: the WAL
    /// starts over again and again.
    #[test]
    fn the_wal_starts_over_while_writes_never_pause() {
        let (s, dir) = temp_store("wal-restart", 1);
        let wal = dir.join("db.sqlite-wal");
        let first = wal_starts(&wal);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut round = 0;
        // No pause between the writes: each rewrites the same 500 pages.
        while wal_starts(&wal) < first + 2 {
            assert!(
                Instant::now() < deadline,
                "the WAL never started over in 60 s: {} bytes after {round} writes",
                std::fs::metadata(&wal).map_or(0, |m| m.len())
            );
            round += 1;
            write_round(&s, round, 500);
        }
        let last = format!("{round:04}").repeat(1000);
        assert_eq!(s.get_setting("k499").unwrap(), Some(last));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_read_connection_cannot_write() {
        let (s, dir) = temp_store("readonly", 1);
        let r = s.read();
        assert!(
            r.execute("INSERT INTO settings(key, value) VALUES ('x', 'y')", ())
                .is_err()
        );
        drop(r);
        assert_eq!(s.get_setting("x").unwrap(), None);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn more_readers_than_connections_wait_their_turn_and_a_panic_returns_the_connection() {
        let (s, dir) = temp_store("pool", 2);
        s.put_setting("k", "v").unwrap();
        // A reader that panics inside a read transaction gives its connection back clean.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let c = s.read();
            c.execute_batch("BEGIN; SELECT 1;").unwrap();
            panic!("in the middle of a read");
        }));
        assert!(r.is_err());
        std::thread::scope(|t| {
            for _ in 0..16 {
                t.spawn(|| {
                    for _ in 0..20 {
                        assert_eq!(s.get_setting("k").unwrap().as_deref(), Some("v"));
                    }
                });
            }
        });
        assert_eq!(s.readers.idle.lock().unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn concurrent_commits_share_syncs_and_each_is_durable_when_its_writer_is_dropped() {
        let (s, dir) = temp_store("group", 2);
        let threads = 16;
        let each = 10;
        let barrier = std::sync::Barrier::new(threads);
        std::thread::scope(|t| {
            for i in 0..threads {
                let (s, barrier) = (&s, &barrier);
                t.spawn(move || {
                    barrier.wait();
                    for j in 0..each {
                        let conn = s.conn();
                        conn.execute(
                            "INSERT INTO settings(key, value) VALUES (?1, 'v')",
                            [format!("k{i}-{j}")],
                        )
                        .unwrap();
                        // The writer is held, so this commit's ticket is the next one.
                        let ticket = s.durability_counts().0 + 1;
                        drop(conn);
                        // Acknowledged: a sync that covers this commit has happened.
                        let st = s.durability.state.lock().unwrap();
                        assert!(st.durable >= ticket, "{} < {ticket}", st.durable);
                    }
                });
            }
        });
        let (commits, syncs) = s.durability_counts();
        assert_eq!(commits, (threads * each) as u64);
        assert!(syncs >= 1);
        assert!(
            syncs < commits,
            "{syncs} syncs for {commits} commits: concurrent commits share a sync"
        );
        let n: i64 = s
            .read()
            .query_row(
                "SELECT COUNT(*) FROM settings WHERE key LIKE 'k%'",
                (),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, (threads * each) as i64);
        // A writer that only read makes no commit and waits for no sync.
        let _ = s.conn().query_row("SELECT 1", (), |r| r.get::<_, i64>(0));
        assert_eq!(s.durability_counts().0, commits);
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Writes `key`, says so through `entered`, then holds the writer until another thread
    /// waits for it: a part that is left open for the next.
    fn write_then_await_a_waiter(
        s: &Store,
        tx: &Connection,
        key: &str,
        entered: &std::sync::mpsc::Sender<()>,
    ) -> Result<(), DbError> {
        tx.execute("INSERT INTO settings(key, value) VALUES (?1, 'v')", [key])?;
        entered.send(()).unwrap();
        while s.waiting.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Runs `first` as a grouped write that finishes only once another thread waits for
    /// the writer, and `second` as that other thread's grouped write; returns both
    /// results and whether they shared one transaction.
    fn two_grouped(
        s: &Store,
        first: &str,
        second: Result<&str, &str>,
    ) -> (Result<(), DbError>, Result<(), DbError>, bool) {
        let (groups, members) = s.group_counts();
        let insert = |tx: &Connection, key: &str| {
            tx.execute("INSERT INTO settings(key, value) VALUES (?1, 'v')", [key])
                .map(|_| ())
        };
        let (entered, enter) = std::sync::mpsc::channel();
        let (a, b) = std::thread::scope(|t| {
            let a = t.spawn(|| s.grouped(|tx| write_then_await_a_waiter(s, tx, first, &entered)));
            enter.recv().unwrap();
            let b = t.spawn(|| {
                s.grouped(|tx| match second {
                    Ok(key) => insert(tx, key),
                    Err(key) => {
                        insert(tx, key)?;
                        Err(DbError::Conversion("refused after writing".into()))
                    }
                })
            });
            (a.join().unwrap(), b.join().unwrap())
        });
        let after = s.group_counts();
        let shared = after.0 - groups == 1 && after.1 - members == 2;
        (a, b, shared)
    }

    fn has(s: &Store, key: &str) -> bool {
        s.get_setting(key).unwrap().is_some()
    }

    #[test]
    fn waiting_writes_share_one_transaction_and_each_is_durable_when_answered() {
        let (mut s, dir) = temp_store("grouped", 2);
        // Long enough for the second write to queue on a loaded machine.
        s.group_max_age = Duration::from_secs(1);
        // The first write waits for the second to queue, so they share a transaction
        // unless the first was held past the group's age limit (a very slow machine):
        // try a few times.
        let mut shared = 0;
        for i in 0..10 {
            let (commits, syncs) = s.durability_counts();
            let (a, b, together) = two_grouped(&s, &format!("a{i}"), Ok(&format!("b{i}")));
            a.unwrap();
            b.unwrap();
            // Both answered: both committed (a reader sees them) and synced.
            assert!(has(&s, &format!("a{i}")) && has(&s, &format!("b{i}")));
            let st = s.durability.state.lock().unwrap();
            assert_eq!(st.durable, st.committed);
            assert!(st.syncs > syncs);
            if together {
                shared += 1;
                assert_eq!(st.committed, commits + 1, "one commit for both");
            }
        }
        assert!(shared > 0, "no two waiting writes shared a transaction");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_failed_part_of_a_shared_transaction_is_undone_alone() {
        let (mut s, dir) = temp_store("grouped-fail", 2);
        // The failing write must share its transaction: its undo is then the savepoint's.
        s.group_max_age = Duration::from_secs(1);
        for i in 0..5 {
            let (a, b, _) = two_grouped(&s, &format!("kept{i}"), Err(&format!("undone{i}")));
            a.unwrap();
            assert!(b.is_err());
            assert!(has(&s, &format!("kept{i}")));
            assert!(!has(&s, &format!("undone{i}")));
        }
        // Many writers at once, every third failing after its write.
        std::thread::scope(|t| {
            for i in 0..12 {
                let s = &s;
                t.spawn(move || {
                    for j in 0..10 {
                        let out = s.grouped(|tx| {
                            tx.execute(
                                "INSERT INTO settings(key, value) VALUES (?1, 'v')",
                                [format!("m{i}-{j}")],
                            )?;
                            match (i + j) % 3 {
                                0 => Err(DbError::Conversion("refused".into())),
                                _ => Ok(()),
                            }
                        });
                        assert_eq!(out.is_ok(), (i + j) % 3 != 0);
                    }
                });
            }
        });
        for i in 0..12 {
            for j in 0..10 {
                assert_eq!(has(&s, &format!("m{i}-{j}")), (i + j) % 3 != 0, "m{i}-{j}");
            }
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// A part that panics, written first in its transaction and so without a savepoint,
    /// takes the transaction back with it; the next write opens a new one.
    #[test]
    fn a_part_that_panics_leaves_nothing_and_the_next_write_goes_on() {
        let (s, dir) = temp_store("grouped-panic", 1);
        for i in 0..3 {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                s.grouped(|tx| -> Result<(), DbError> {
                    tx.execute(
                        "INSERT INTO settings(key, value) VALUES (?1, 'v')",
                        [format!("lost{i}")],
                    )?;
                    panic!("in the middle of a part");
                })
            }));
            assert!(panicked.is_err());
            s.grouped(|tx| {
                tx.execute(
                    "INSERT INTO settings(key, value) VALUES (?1, 'v')",
                    [format!("after{i}")],
                )
            })
            .unwrap();
            assert!(!has(&s, &format!("lost{i}")));
            assert!(has(&s, &format!("after{i}")));
        }
        let st = s.durability.state.lock().unwrap();
        assert_eq!(st.durable, st.committed);
        drop(st);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_write_not_waited_for_is_committed_by_the_next_writer_or_at_once() {
        let (s, dir) = temp_store("soon", 2);
        // Nobody waits: committed before it returns.
        s.write_soon(|tx| tx.execute("INSERT INTO settings(key, value) VALUES ('alone', 'v')", ()))
            .unwrap();
        assert!(has(&s, "alone"));
        // Another request waits: the part is left open for it and committed with its own.
        let (entered, enter) = std::sync::mpsc::channel();
        std::thread::scope(|t| {
            t.spawn(|| {
                s.write_soon(|tx| write_then_await_a_waiter(&s, tx, "soon", &entered))
                    .unwrap();
            });
            enter.recv().unwrap();
            s.grouped(|tx| tx.execute("INSERT INTO settings(key, value) VALUES ('next', 'v')", ()))
                .unwrap();
        });
        assert!(has(&s, "soon") && has(&s, "next"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_writer_outside_the_shared_transaction_commits_it_first() {
        let (s, dir) = temp_store("grouped-conn", 2);
        let (entered, enter) = std::sync::mpsc::channel();
        std::thread::scope(|t| {
            let a = t.spawn(|| s.grouped(|tx| write_then_await_a_waiter(&s, tx, "g", &entered)));
            enter.recv().unwrap();
            // The grouped write sees this one waiting and leaves its transaction open:
            // taking the writer commits it, so this transaction of its own can begin.
            let mut w = s.conn();
            let tx = w.transaction().unwrap();
            tx.execute("INSERT INTO settings(key, value) VALUES ('own', 'v')", ())
                .unwrap();
            tx.commit().unwrap();
            drop(w);
            a.join().unwrap().unwrap();
        });
        assert!(has(&s, "g") && has(&s, "own"));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_acknowledged_commit_is_in_the_file_after_the_process_dies() {
        // The WAL synced by the group commit is what a restart reads back.
        let (s, dir) = temp_store("reopen", 1);
        s.put_setting("kept", "yes").unwrap();
        let (commits, syncs) = s.durability_counts();
        assert!(commits >= 1 && syncs >= 1);
        // Copy the files as they are on disk now (no checkpoint, no clean close).
        let copy = dir.join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        for name in ["db.sqlite", "db.sqlite-wal"] {
            std::fs::copy(dir.join(name), copy.join(name)).unwrap();
        }
        let again = Store::open(&copy.join("db.sqlite")).unwrap();
        assert_eq!(again.get_setting("kept").unwrap().as_deref(), Some("yes"));
        drop(s);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_in_memory_store_reads_through_its_writer() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.reader_count(), 0);
        s.put_setting("k", "v").unwrap();
        assert_eq!(s.get_setting("k").unwrap().as_deref(), Some("v"));
    }
}
