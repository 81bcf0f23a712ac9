//! The PostgreSQL side of the boundary: the dialect's translation, values bound by the
//! type the server expects, and columns read by their type.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Arc;

use bytes::BytesMut;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use super::pglink::{Link, Unanswered};
use super::{Result, StmtCache, Value, ValueRef};

/// One PostgreSQL client, the connection it talks through, and the statements it has
/// prepared.
///
/// The client is `tokio-postgres`'s; the calling thread drives its connection
/// ([`pglink`](super::pglink)), so a call needs no runtime and crosses no thread.
pub struct PgConn {
    client: Arc<tokio_postgres::Client>,
    link: RefCell<Link>,
    cache: StmtCache,
    /// Inside a transaction: only there may a write go without waiting, since its
    /// failure is told before the transaction can commit.
    in_transaction: Cell<bool>,
}

/// Statements a connection keeps prepared (SQLite's connections keep as many).
const STATEMENT_CACHE: usize = 256;

fn binds(values: &[ValueRef<'_>]) -> Vec<Bind> {
    values.iter().map(|v| Bind(Value::from_ref(*v))).collect()
}

fn refs(binds: &[Bind]) -> Vec<&(dyn ToSql + Sync)> {
    binds.iter().map(|b| b as _).collect()
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn> {
        let (client, link) = Link::connect(url)?;
        Ok(PgConn {
            client: Arc::new(client),
            link: RefCell::new(link),
            cache: RefCell::new(HashMap::new()),
            in_transaction: Cell::new(false),
        })
    }

    /// Waits for a call of the client, driving the connection meanwhile. A write sent
    /// earlier that failed is the call's error: it is the cause, where the call's own
    /// error would only say that the transaction was aborted.
    fn wait<T, E>(&self, fut: impl Future<Output = std::result::Result<T, E>>) -> Result<T>
    where
        super::Error: From<E>,
    {
        let mut link = self.link.borrow_mut();
        let out = link.wait(fut);
        if let Some(e) = link.take_failed() {
            return Err(e.into());
        }
        Ok(out?)
    }

    /// Marks the start or the end of a transaction.
    pub fn set_in_transaction(&self, on: bool) {
        self.in_transaction.set(on);
    }

    /// Runs a write whose answer is not needed now. Inside a transaction it is sent and
    /// not waited for: the next call that waits carries it, and reports its failure
    /// (at the latest the `COMMIT`, which then fails). Outside one it is an
    /// [`execute`](PgConn::execute).
    pub fn send(&self, stmt: &tokio_postgres::Statement, values: &[ValueRef<'_>]) -> Result<()> {
        if !self.in_transaction.get() {
            return self.execute(stmt, values).map(|_| ());
        }
        let binds = binds(values);
        let client = self.client.clone();
        let stmt = stmt.clone();
        let fut: Unanswered = Box::pin(async move { client.execute(&stmt, &refs(&binds)).await });
        self.link.borrow_mut().send(fut);
        Ok(())
    }

    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// The statement for `sql` (written in SQLite's form), prepared once.
    pub fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let stmt = self.wait(self.client.prepare(&translate(sql)))?;
        let mut cache = self.cache.borrow_mut();
        // Statements built at run time (reports, many-row inserts) vary: the cache is
        // emptied rather than let grow without bound.
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    pub fn execute(
        &self,
        stmt: &tokio_postgres::Statement,
        values: &[ValueRef<'_>],
    ) -> Result<u64> {
        let binds = binds(values);
        self.wait(self.client.execute(stmt, &refs(&binds)))
    }

    pub fn query(
        &self,
        stmt: &tokio_postgres::Statement,
        values: &[ValueRef<'_>],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let binds = binds(values);
        self.wait(self.client.query(stmt, &refs(&binds)))
    }

    /// Runs a batch as written. (The schema is created before any statement is
    /// prepared, and PostgreSQL plans a prepared statement again after a schema change.)
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.wait(self.client.batch_execute(sql))
    }
}

/// SQL written for SQLite, as PostgreSQL reads it: `?N` and `?` become `$N`, and
/// `INSERT OR IGNORE` becomes `INSERT … ON CONFLICT DO NOTHING`. Text inside quotes is
/// left alone.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut next = 1usize;
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                let n = if digits.is_empty() {
                    let n = next;
                    next += 1;
                    n
                } else {
                    let n: usize = digits.parse().unwrap_or(1);
                    next = next.max(n + 1);
                    n
                };
                out.push('$');
                out.push_str(&n.to_string());
            }
            _ => out.push(c),
        }
    }
    or_ignore(&out)
}

/// `INSERT OR IGNORE INTO …` → `INSERT INTO … ON CONFLICT DO NOTHING` (before any
/// `RETURNING`).
fn or_ignore(sql: &str) -> String {
    let upper = sql.to_ascii_uppercase();
    let Some(at) = upper.find("INSERT OR IGNORE INTO") else {
        return sql.to_string();
    };
    let mut out = String::with_capacity(sql.len() + 24);
    out.push_str(&sql[..at]);
    out.push_str("INSERT INTO");
    let rest = &sql[at + "INSERT OR IGNORE INTO".len()..];
    let rest_upper = &upper[at + "INSERT OR IGNORE INTO".len()..];
    let body = rest.trim_end().trim_end_matches(';');
    match rest_upper.rfind("RETURNING") {
        Some(r) => {
            out.push_str(&rest[..r]);
            out.push_str("ON CONFLICT DO NOTHING ");
            out.push_str(&rest[r..]);
        }
        None => {
            out.push_str(body);
            out.push_str(" ON CONFLICT DO NOTHING");
        }
    }
    out
}

/// A value bound as the type PostgreSQL expects for its parameter.
#[derive(Debug)]
struct Bind(Value);

type BoxError = Box<dyn StdError + Sync + Send>;

fn mismatch(v: &ValueRef<'_>, ty: &Type) -> BoxError {
    format!("{v:?} cannot be sent as {ty}").into()
}

impl ToSql for Bind {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let v = &self.0.as_ref();
        match *v {
            ValueRef::Null => return Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => out.extend_from_slice(&i.to_be_bytes()),
                Type::INT4 => out.extend_from_slice(&i32::try_from(i)?.to_be_bytes()),
                Type::INT2 => out.extend_from_slice(&i16::try_from(i)?.to_be_bytes()),
                Type::OID => out.extend_from_slice(&u32::try_from(i)?.to_be_bytes()),
                Type::BOOL => out.extend_from_slice(&[u8::from(i != 0)]),
                Type::FLOAT8 => out.extend_from_slice(&(i as f64).to_be_bytes()),
                Type::FLOAT4 => out.extend_from_slice(&(i as f32).to_be_bytes()),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    out.extend_from_slice(i.to_string().as_bytes())
                }
                Type::NUMERIC => return whole_numeric(&i.to_string(), out),
                _ if ty.name() == "xid8" => out.extend_from_slice(&(i as u64).to_be_bytes()),
                _ => return Err(mismatch(v, ty)),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => out.extend_from_slice(&f.to_be_bytes()),
                Type::FLOAT4 => out.extend_from_slice(&(f as f32).to_be_bytes()),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => {
                    out.extend_from_slice(f.to_string().as_bytes())
                }
                Type::NUMERIC => return whole_numeric(&f.to_string(), out),
                Type::INT8 if f.fract() == 0.0 => out.extend_from_slice(&(f as i64).to_be_bytes()),
                _ => return Err(mismatch(v, ty)),
            },
            ValueRef::Text(s) => match *ty {
                Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::UNKNOWN
                | Type::JSON => out.extend_from_slice(s.as_bytes()),
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                }
                Type::BYTEA => out.extend_from_slice(s.as_bytes()),
                // SQLite converts text to a number in a numeric column; so does this.
                Type::INT8 | Type::INT4 | Type::INT2 | Type::BOOL => {
                    let i: i64 = s.trim().parse().map_err(|_| mismatch(v, ty))?;
                    return Bind(Value::Integer(i)).to_sql(ty, out);
                }
                Type::FLOAT8 | Type::FLOAT4 => {
                    let f: f64 = s.trim().parse().map_err(|_| mismatch(v, ty))?;
                    return Bind(Value::Real(f)).to_sql(ty, out);
                }
                Type::NUMERIC => return whole_numeric(s, out),
                _ => return Err(mismatch(v, ty)),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => out.extend_from_slice(b),
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => {
                    out.extend_from_slice(std::str::from_utf8(b)?.as_bytes())
                }
                _ => return Err(mismatch(v, ty)),
            },
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A whole number (written in decimal) sent to a `NUMERIC` parameter, in its binary
/// form.
fn whole_numeric(text: &str, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    let s = text.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{text} is not a whole number").into());
    }
    let digits = digits.trim_start_matches('0');
    // Base-10000 groups, most significant first.
    let mut groups = Vec::new();
    let mut end = digits.len();
    while end > 0 {
        let start = end.saturating_sub(4);
        groups.push(digits[start..end].parse::<u16>()?);
        end = start;
    }
    groups.reverse();
    let weight = groups.len() as i16 - 1;
    out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&(if neg { 0x4000u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    for g in groups {
        out.extend_from_slice(&g.to_be_bytes());
    }
    Ok(IsNull::No)
}

/// Any column, read by its type into one of SQLite's kinds of value.
pub struct Any(Value);

impl Any {
    pub fn as_ref(&self) -> ValueRef<'_> {
        self.0.as_ref()
    }
}

fn be<const N: usize>(raw: &[u8]) -> Result<[u8; N], BoxError> {
    raw.try_into()
        .map_err(|_| format!("{} bytes where {N} were expected", raw.len()).into())
}

impl<'a> FromSql<'a> for Any {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Any, BoxError> {
        Ok(Any(match *ty {
            Type::BOOL => Value::Integer(i64::from(raw.first().copied().unwrap_or(0) != 0)),
            Type::INT2 => Value::Integer(i16::from_be_bytes(be(raw)?).into()),
            Type::INT4 => Value::Integer(i32::from_be_bytes(be(raw)?).into()),
            Type::INT8 => Value::Integer(i64::from_be_bytes(be(raw)?)),
            Type::OID => Value::Integer(u32::from_be_bytes(be(raw)?).into()),
            Type::FLOAT4 => Value::Real(f32::from_be_bytes(be(raw)?).into()),
            Type::FLOAT8 => Value::Real(f64::from_be_bytes(be(raw)?)),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSONB => Value::Text(std::str::from_utf8(raw.get(1..).unwrap_or(&[]))?.into()),
            _ if ty.name() == "xid8" => Value::Integer(u64::from_be_bytes(be(raw)?) as i64),
            _ => Value::Text(std::str::from_utf8(raw)?.to_string()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Any, BoxError> {
        Ok(Any(Value::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A `NUMERIC` (a `SUM` of integers, an `AVG`): whole numbers as integers, the rest as
/// reals.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<u16, BoxError> {
        Ok(u16::from_be_bytes(be(raw
            .get(i..i + 2)
            .ok_or("short numeric")?)?))
    };
    let ndigits = word(0)? as usize;
    let weight = word(2)? as i16;
    let sign = word(4)?;
    let dscale = word(6)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut whole: i128 = 0;
    let mut real = 0f64;
    for i in 0..ndigits {
        let d = word(8 + 2 * i)?;
        let power = i32::from(weight) - i as i32;
        real += f64::from(d) * 10000f64.powi(power);
        if power >= 0 {
            whole = whole
                .checked_mul(10000)
                .and_then(|w| w.checked_add(i128::from(d)))
                .ok_or("numeric too large")?;
        }
    }
    // Groups below the last digit given still scale the whole part.
    let last_power = i32::from(weight) - ndigits as i32 + 1;
    for _ in 0..last_power.max(0) {
        whole = whole.checked_mul(10000).ok_or("numeric too large")?;
    }
    let neg = sign == 0x4000;
    if dscale == 0 {
        let w = if neg { -whole } else { whole };
        return Ok(Value::Integer(i64::try_from(w)?));
    }
    Ok(Value::Real(if neg { -real } else { real }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_or_ignore_are_translated() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1"
        );
        assert_eq!(translate("VALUES (?, ?, '?')"), "VALUES ($1, $2, '?')");
        assert_eq!(
            translate("INSERT OR IGNORE INTO x(a) VALUES (?1)"),
            "INSERT INTO x(a) VALUES ($1) ON CONFLICT DO NOTHING"
        );
        assert_eq!(
            translate("INSERT OR IGNORE INTO x(a) VALUES (?1) RETURNING a"),
            "INSERT INTO x(a) VALUES ($1) ON CONFLICT DO NOTHING RETURNING a"
        );
    }

    #[test]
    fn numerics_read_as_sqlite_would() {
        // 123456789: weight 2, groups 1 2345 6789.
        let mut raw = Vec::new();
        for w in [3u16, 2, 0, 0, 1, 2345, 6789] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(numeric(&raw).unwrap(), Value::Integer(123_456_789));
        // 20000: one group (2) of weight 1.
        let mut raw = Vec::new();
        for w in [1u16, 1, 0x4000, 0, 2] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(numeric(&raw).unwrap(), Value::Integer(-20_000));
        let mut out = BytesMut::new();
        whole_numeric("123456789", &mut out).unwrap();
        let mut raw = Vec::new();
        for w in [3u16, 2, 0, 0, 1, 2345, 6789] {
            raw.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(&out[..], &raw[..]);
    }
}
