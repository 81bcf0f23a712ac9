//! The one boundary between the server and its database: a connection, statements,
//! rows, values and transactions with the same shape on SQLite (rusqlite) and on
//! PostgreSQL (the `postgres` client), so that every module writes its SQL once.
//!
//! SQL is written in the subset both dialects accept, with SQLite's placeholders
//! (`?1`, `?2` or `?`); on PostgreSQL they become `$1`, `$2`, and `INSERT OR IGNORE`
//! becomes `INSERT … ON CONFLICT DO NOTHING` (see [`translate`]). Values are SQLite's
//! five kinds ([`Value`]); on PostgreSQL a value takes the type the server expects for
//! its parameter (an integer sent to an `INTEGER` column goes as 32 bits, to a
//! `BOOLEAN` one as a boolean), and a column is read back by its type.
//!
//! The API follows rusqlite's (the server was written against it): `prepare_cached`,
//! `query_row`, `query_map`, `execute`, `params!`, `optional()`, `transaction()` and
//! `savepoint()`; both backends take `&self`, as rusqlite does (a PostgreSQL connection
//! keeps its prepared statements in a `RefCell`).

pub mod accounts;
pub mod classes;
pub mod docs;
pub mod duplicates;
pub mod inspect;
pub mod members;
pub mod orgs;
mod pg;
pub mod pgfeed;
mod pglink;
pub mod reports;
pub mod rollups;
pub mod schema;
pub mod settings;
pub mod store;
pub mod targets;
pub mod views;

use std::cell::RefCell;
use std::collections::HashMap;

pub use pg::translate;

/// What a query can fail with, on either backend.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("query returned no rows")]
    NoRows,
    #[error(transparent)]
    Sqlite(rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection to PostgreSQL could be opened.
    #[error("cannot reach PostgreSQL: {0}")]
    Unreachable(std::io::Error),
    /// A value that does not convert to the type asked for, or a stored value found
    /// unreadable.
    #[error("{0}")]
    Conversion(String),
    /// The shared transaction a write was part of did not become durable: the write is
    /// not stored.
    #[error("the shared commit failed: {0}")]
    NotDurable(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            rusqlite::Error::ToSqlConversionFailure(inner) => match inner.downcast::<Error>() {
                Ok(e) => *e,
                Err(other) => Error::Conversion(other.to_string()),
            },
            e => Error::Sqlite(e),
        }
    }
}

impl Error {
    /// A uniqueness or key constraint refused the write.
    pub fn is_constraint(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            Error::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Rows read by a statement, in its order, each converted on its own.
pub type Rows<T> = std::vec::IntoIter<Result<T>>;

/// A PostgreSQL error with what the server said (its code, message and detail), where
/// the client's own text is only "db error".
fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "{} ({}){}",
            db.message(),
            db.code().code(),
            db.detail().map(|d| format!(": {d}")).unwrap_or_default()
        ),
        None => e.to_string(),
    }
}

/// `Ok(None)` for a query that found no row.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An owned value, as SQLite types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Value {
    pub fn from_ref(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// A value that can be bound to a parameter.
pub trait ToSql {
    fn to_sql(&self) -> Result<ValueRef<'_>>;
}

macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> Result<ValueRef<'_>> {
                i64::try_from(*self)
                    .map(ValueRef::Integer)
                    .map_err(|_| Error::Conversion(format!("{self} does not fit 64 bits")))
            }
        }
    )*};
}
int_to_sql!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl ToSql for bool {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Integer(i64::from(*self)))
    }
}
impl ToSql for f64 {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Real(*self))
    }
}
impl ToSql for str {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for String {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for [u8] {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Blob(self))
    }
}
impl ToSql for Vec<u8> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Blob(self))
    }
}
impl<const N: usize> ToSql for [u8; N] {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Blob(self))
    }
}
impl ToSql for Value {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(self.as_ref())
    }
}
impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(*self)
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ValueRef::Null),
        }
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        (**self).to_sql()
    }
}
impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        (**self).to_sql()
    }
}
impl ToSql for std::borrow::Cow<'_, str> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}

/// A parameter's value, owned.
pub fn to_value(v: &(impl ToSql + ?Sized)) -> Result<Value> {
    v.to_sql().map(Value::from_ref)
}

/// The parameters of one statement.
pub trait Params {
    fn values(&self) -> Result<Vec<ValueRef<'_>>>;
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        self.iter().map(ToSql::to_sql).collect()
    }
}
impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        self.iter().map(ToSql::to_sql).collect()
    }
}
impl Params for &[&dyn ToSql] {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        self.iter().map(|v| v.to_sql()).collect()
    }
}
impl Params for () {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        Ok(Vec::new())
    }
}

macro_rules! tuple_params {
    ($($t:ident $i:tt),+) => {
        impl<$($t: ToSql),+> Params for ($($t,)+) {
            fn values(&self) -> Result<Vec<ValueRef<'_>>> {
                Ok(vec![$(self.$i.to_sql()?),+])
            }
        }
    };
}
tuple_params!(A 0);
tuple_params!(A 0, B 1);
tuple_params!(A 0, B 1, C 2);
tuple_params!(A 0, B 1, C 2, D 3);
tuple_params!(A 0, B 1, C 2, D 3, E 4);
tuple_params!(A 0, B 1, C 2, D 3, E 4, F 5);

/// Parameters from an iterator of values (a query built at run time).
pub struct ParamsFromIter(Vec<Value>);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter
where
    I: IntoIterator,
    I::Item: Into<Value>,
{
    ParamsFromIter(iter.into_iter().map(Into::into).collect())
}

impl Params for ParamsFromIter {
    fn values(&self) -> Result<Vec<ValueRef<'_>>> {
        Ok(self.0.iter().map(Value::as_ref).collect())
    }
}

impl From<&Value> for Value {
    fn from(v: &Value) -> Value {
        v.clone()
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Integer(i)
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Blob(b)
    }
}
impl From<Option<String>> for Value {
    fn from(s: Option<String>) -> Value {
        s.map_or(Value::Null, Value::Text)
    }
}

/// Parameters written in place: `params![a, b]`.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::db::ToSql),+] as &[&dyn $crate::db::ToSql]
    };
}
pub use crate::params;

/// A value read from a column.
pub trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> Result<Self>;
}

fn wrong(v: ValueRef<'_>, want: &str) -> Error {
    Error::Conversion(format!("{v:?} read as {want}"))
}

macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_sql(v: ValueRef<'_>) -> Result<Self> {
                match v {
                    ValueRef::Integer(i) => <$t>::try_from(i).map_err(|_| wrong(v, stringify!($t))),
                    _ => Err(wrong(v, stringify!($t))),
                }
            }
        }
    )*};
}
int_from_sql!(i8, i16, i32, i64, u8, u16, u32, u64, usize, isize);

impl FromSql for bool {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Integer(i) => Ok(i != 0),
            _ => Err(wrong(v, "bool")),
        }
    }
}
impl FromSql for f64 {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Integer(i) => Ok(i as f64),
            _ => Err(wrong(v, "f64")),
        }
    }
}
impl FromSql for String {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(s) => Ok(s.to_string()),
            _ => Err(wrong(v, "text")),
        }
    }
}
impl FromSql for Vec<u8> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            _ => Err(wrong(v, "blob")),
        }
    }
}
impl FromSql for Value {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}

/// A column, by position or by name.
pub trait RowIndex {
    fn index(&self, names: &mut dyn Iterator<Item = &str>) -> Result<usize>;
}
impl RowIndex for usize {
    fn index(&self, _: &mut dyn Iterator<Item = &str>) -> Result<usize> {
        Ok(*self)
    }
}
impl RowIndex for &str {
    fn index(&self, names: &mut dyn Iterator<Item = &str>) -> Result<usize> {
        for (i, n) in names.enumerate() {
            if n.eq_ignore_ascii_case(self) {
                return Ok(i);
            }
        }
        Err(Error::Conversion(format!("no column named {self}")))
    }
}

/// One row of a result.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Pg(&'a tokio_postgres::Row),
}

impl Row<'_> {
    pub fn get<I: RowIndex, T: FromSql>(&self, i: I) -> Result<T> {
        match &self.0 {
            RowInner::Sqlite(r) => {
                let stmt = r.as_ref();
                let at = i.index(
                    &mut (0..stmt.column_count()).filter_map(|c| stmt.column_name(c).ok()),
                )?;
                T::from_sql(from_rusqlite(r.get_ref(at)?))
            }
            RowInner::Pg(r) => {
                let at = i.index(&mut r.columns().iter().map(|c| c.name()))?;
                let v: pg::Any = r.try_get(at)?;
                T::from_sql(v.as_ref())
            }
        }
    }
}

fn from_rusqlite(v: rusqlite::types::ValueRef<'_>) -> ValueRef<'_> {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => ValueRef::Null,
        R::Integer(i) => ValueRef::Integer(i),
        R::Real(f) => ValueRef::Real(f),
        // Text that is not UTF-8 is handed over as bytes; reading it as a string fails.
        R::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => ValueRef::Text(s),
            Err(_) => ValueRef::Blob(t),
        },
        R::Blob(b) => ValueRef::Blob(b),
    }
}

/// A value bound to a SQLite parameter.
struct SqliteBind<'a>(ValueRef<'a>);

impl rusqlite::ToSql for SqliteBind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => R::Null,
            ValueRef::Integer(i) => R::Integer(i),
            ValueRef::Real(f) => R::Real(f),
            ValueRef::Text(s) => R::Text(s.as_bytes()),
            ValueRef::Blob(b) => R::Blob(b),
        }))
    }
}

fn sqlite_params<'a>(values: &'a [ValueRef<'a>]) -> impl rusqlite::Params + 'a {
    rusqlite::params_from_iter(values.iter().map(|v| SqliteBind(*v)))
}

/// A user error carried through rusqlite's row callbacks and back.
fn carry(e: Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Rows (or values of an `IN` list) per statement when many are written or looked up
/// at once: well under both dialects' limits on parameters, and few enough statement
/// texts for the statement caches.
pub const ROWS_PER_STATEMENT: usize = 200;

/// One statement of many rows, and its rows.
type RowsSql<'r> = (String, &'r [Vec<Value>]);

/// The statements that insert `rows` (all of one width) after `head`, up to
/// [`ROWS_PER_STATEMENT`] rows each, with `tail` after the rows; each with its rows.
fn many_rows_sql<'r>(head: &str, rows: &'r [Vec<Value>], tail: &str) -> Result<Vec<RowsSql<'r>>> {
    let mut out = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let width = chunk[0].len();
        let mut sql = String::with_capacity(head.len() + chunk.len() * width * 6);
        sql.push_str(head);
        sql.push_str(" VALUES ");
        for (r, row) in chunk.iter().enumerate() {
            if row.len() != width {
                return Err(Error::Conversion("rows of different widths".into()));
            }
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push('?');
                sql.push_str(&(r * width + c + 1).to_string());
            }
            sql.push(')');
        }
        sql.push_str(tail);
        out.push((sql, chunk));
    }
    Ok(out)
}

/// `n` numbered placeholders from `?first`: `?2, ?3, ?4`.
pub fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A connection to either backend.
pub struct Connection(Inner);

enum Inner {
    Sqlite(rusqlite::Connection),
    Pg(Box<pg::PgConn>),
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Connection({:?})", self.backend())
    }
}

impl From<rusqlite::Connection> for Connection {
    fn from(c: rusqlite::Connection) -> Connection {
        Connection(Inner::Sqlite(c))
    }
}

impl Connection {
    /// A connection to PostgreSQL (`postgres://…` or `host=… dbname=…`).
    pub fn postgres(url: &str) -> Result<Connection> {
        Ok(Connection(Inner::Pg(Box::new(pg::PgConn::connect(url)?))))
    }

    /// A PostgreSQL connection that the server closed or lost (SQLite's never close).
    pub fn is_closed(&self) -> bool {
        match &self.0 {
            Inner::Sqlite(_) => false,
            Inner::Pg(p) => p.is_closed(),
        }
    }

    pub fn backend(&self) -> Backend {
        match &self.0 {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Pg(_) => Backend::Postgres,
        }
    }

    /// The SQLite connection underneath, for what only SQLite has (pragmas, backups).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Inner::Sqlite(c) => Some(c),
            Inner::Pg(_) => None,
        }
    }

    pub fn sqlite_mut(&mut self) -> Option<&mut rusqlite::Connection> {
        match &mut self.0 {
            Inner::Sqlite(c) => Some(c),
            Inner::Pg(_) => None,
        }
    }

    /// A statement kept prepared on this connection.
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement(match &self.0 {
            Inner::Sqlite(c) => StmtInner::Sqlite(c.prepare_cached(sql)?),
            Inner::Pg(p) => StmtInner::Pg(p, p.prepare(sql)?),
        }))
    }

    /// A statement (on PostgreSQL also kept: a server prepares a statement once).
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    pub fn execute(&self, sql: &str, params: impl Params) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Runs a write whose row count the caller does not need. On PostgreSQL, inside a
    /// transaction, it goes out without waiting for its answer: the next statement that
    /// waits carries it, and reports its failure if it failed (the `COMMIT` at the
    /// latest, which then fails, so nothing of a failed write is ever committed). The
    /// writes of one merge thus share round trips. On SQLite it runs at once.
    pub fn send(&self, sql: &str, params: impl Params) -> Result<()> {
        match &self.0 {
            Inner::Sqlite(_) => self.execute(sql, params).map(|_| ()),
            Inner::Pg(p) => {
                let stmt = p.prepare(sql)?;
                p.send(&stmt, &params.values()?)
            }
        }
    }

    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Inserts `rows` (all of one width) with `head` (`INSERT INTO t(a, b)`), many rows
    /// per statement. Returns the number of rows inserted.
    pub fn insert_many(&self, head: &str, rows: &[Vec<Value>]) -> Result<usize> {
        self.insert_many_then(head, rows, "")
    }

    /// [`Connection::insert_many`] with `tail` after the rows of each statement (an
    /// `ON CONFLICT` clause). An upsert may not touch one row twice in a statement:
    /// callers pass rows with distinct keys.
    pub fn insert_many_then(&self, head: &str, rows: &[Vec<Value>], tail: &str) -> Result<usize> {
        let mut n = 0;
        for (sql, chunk) in many_rows_sql(head, rows, tail)? {
            n += self.execute(&sql, params_from_iter(chunk.iter().flatten()))?;
        }
        Ok(n)
    }

    /// [`Connection::insert_many`] through [`Connection::send`]: the rows go out without
    /// waiting for the count.
    pub fn send_many(&self, head: &str, rows: &[Vec<Value>]) -> Result<()> {
        for (sql, chunk) in many_rows_sql(head, rows, "")? {
            self.send(&sql, params_from_iter(chunk.iter().flatten()))?;
        }
        Ok(())
    }

    /// Runs several statements without parameters, as written: batches are transaction
    /// control, pragmas and each dialect's own schema, which [`translate`] (made for one
    /// statement of the shared subset) is not for.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Pg(p) => p.batch(sql),
        }
    }

    /// The id of the row the last `INSERT` added (SQLite's rowid; on PostgreSQL the
    /// value the last sequence gave in this session).
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.0 {
            Inner::Sqlite(c) => Ok(c.last_insert_rowid()),
            Inner::Pg(_) => self.query_row("SELECT lastval()", (), |r| r.get(0)),
        }
    }

    /// Tells a PostgreSQL connection that a transaction began or ended (see
    /// [`Connection::send`]).
    fn mark_transaction(&self, on: bool) {
        if let Inner::Pg(p) = &self.0 {
            p.set_in_transaction(on);
        }
    }

    /// Begins a transaction; it rolls back when dropped without [`Transaction::commit`].
    /// On PostgreSQL it reads one snapshot throughout (REPEATABLE READ), as a SQLite
    /// transaction does.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.begin()?;
        Ok(Transaction {
            conn: self,
            depth: 0,
            first_part: false,
            done: false,
        })
    }

    /// Begins a transaction that no [`Transaction`] owns: the store's shared transaction
    /// of several requests' writes, committed with [`Connection::end`].
    fn begin(&self) -> Result<()> {
        self.execute_batch(match self.backend() {
            Backend::Sqlite => "BEGIN",
            Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ",
        })?;
        self.mark_transaction(true);
        Ok(())
    }

    /// Commits the transaction [`Connection::begin`] opened; when the commit fails,
    /// everything since is rolled back.
    fn end(&self) -> Result<()> {
        let out = self.execute_batch("COMMIT");
        if out.is_err() {
            let _ = self.execute_batch("ROLLBACK");
        }
        self.mark_transaction(false);
        out
    }

    /// One request's part of the shared transaction [`Connection::begin`] opened, undone
    /// alone when dropped without a commit: a savepoint, but for the transaction's
    /// `first` part, which needs none (undoing it is rolling the transaction back, as it
    /// holds nothing else) and for which SQLite then keeps no copy of the pages it
    /// changes.
    fn part(&mut self, first: bool) -> Result<Transaction<'_>> {
        if !first {
            self.execute_batch("SAVEPOINT sp1")?;
        }
        Ok(Transaction {
            conn: self,
            depth: u32::from(!first),
            first_part: first,
            done: false,
        })
    }
}

/// A prepared statement.
pub struct Statement<'c>(StmtInner<'c>);

enum StmtInner<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Pg(&'c pg::PgConn, tokio_postgres::Statement),
}

impl Statement<'_> {
    pub fn execute(&mut self, params: impl Params) -> Result<usize> {
        let values = params.values()?;
        match &mut self.0 {
            StmtInner::Sqlite(s) => Ok(s.execute(sqlite_params(&values))?),
            StmtInner::Pg(p, s) => Ok(p.execute(s, &values)? as usize),
        }
    }

    /// Every row, each turned into a value by `f`.
    pub fn query_map<T, F>(
        &mut self,
        params: impl Params,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let values = params.values()?;
        let out: Vec<Result<T>> = match &mut self.0 {
            StmtInner::Sqlite(s) => s
                .query_map(sqlite_params(&values), |r| {
                    f(&Row(RowInner::Sqlite(r))).map_err(carry)
                })?
                .map(|r| r.map_err(Error::from))
                .collect(),
            StmtInner::Pg(p, s) => p
                .query(s, &values)?
                .iter()
                .map(|r| f(&Row(RowInner::Pg(r))))
                .collect(),
        };
        Ok(out.into_iter())
    }

    /// The first row, turned into a value by `f`; [`Error::NoRows`] when there is none.
    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let values = params.values()?;
        match &mut self.0 {
            StmtInner::Sqlite(s) => {
                let mut rows = s.query(sqlite_params(&values))?;
                match rows.next()? {
                    Some(r) => f(&Row(RowInner::Sqlite(r))),
                    None => Err(Error::NoRows),
                }
            }
            StmtInner::Pg(p, s) => match p.query(s, &values)?.first() {
                Some(r) => f(&Row(RowInner::Pg(r))),
                None => Err(Error::NoRows),
            },
        }
    }
}

/// A transaction (or a savepoint inside one); it derefs to its connection.
pub struct Transaction<'c> {
    conn: &'c mut Connection,
    /// 0 for the transaction, n for the savepoint `spn` nested n deep.
    depth: u32,
    /// The first part of a shared transaction, written without a savepoint: its commit
    /// leaves the transaction open for the store to commit, and undoing it rolls the
    /// whole transaction back (it holds nothing else).
    first_part: bool,
    done: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl std::ops::DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        match self.depth {
            0 if self.first_part => Ok(()),
            0 => {
                // A write sent without waiting that failed fails the COMMIT here (the
                // server has rolled the transaction back).
                let out = self.conn.execute_batch("COMMIT");
                self.conn.mark_transaction(false);
                out
            }
            n => self.conn.execute_batch(&format!("RELEASE SAVEPOINT sp{n}")),
        }
    }

    fn undo(&mut self) -> Result<()> {
        match self.depth {
            0 => {
                let out = self.conn.execute_batch("ROLLBACK");
                self.conn.mark_transaction(false);
                out
            }
            n => self.conn.execute_batch(&format!(
                "ROLLBACK TO SAVEPOINT sp{n}; RELEASE SAVEPOINT sp{n}"
            )),
        }
    }

    /// A savepoint: its work is undone when dropped without [`Transaction::commit`],
    /// the rest of the transaction stays.
    pub fn savepoint(&mut self) -> Result<Transaction<'_>> {
        let depth = self.depth + 1;
        self.conn.execute_batch(&format!("SAVEPOINT sp{depth}"))?;
        Ok(Transaction {
            conn: self.conn,
            depth,
            first_part: false,
            done: false,
        })
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.undo();
        }
    }
}

/// Statements kept prepared by a PostgreSQL connection, by their SQL.
type StmtCache = RefCell<HashMap<String, tokio_postgres::Statement>>;
