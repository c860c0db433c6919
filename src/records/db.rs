//! One way to talk to either database: SQLite (embedded, the default) or
//! PostgreSQL (shared deployments). Statements are written once, with
//! PostgreSQL's `$1` placeholders (SQLite reads them as `?1`), in the SQL both
//! understand (`IS [NOT] DISTINCT FROM`, `ON CONFLICT`, `RETURNING`). Values
//! travel as [`Value`]; PostgreSQL columns are BIGINT, DOUBLE PRECISION or TEXT.

use postgres::types::{IsNull, ToSql, Type};
use r2d2_postgres::PostgresConnectionManager;
use r2d2_sqlite::SqliteConnectionManager;

/// A parameter or a column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

macro_rules! int_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Int(v as i64)
            }
        }
    )*};
}
int_value!(i64, i32, u32, u16, usize);

impl From<u64> for Value {
    fn from(v: u64) -> Value {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Real(f64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// `vals![a, b, c]`: a parameter list.
#[allow(unused_macros)]
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::records::db::Value::from($v)),*][..] };
}
#[allow(unused_imports)]
pub(crate) use vals;

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => f.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A row, read by column index.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Value>);

/// A Rust type a column converts to.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<i64> {
        match v {
            Value::Int(i) => Some(*i),
            Value::Real(f) => Some(*f as i64),
            _ => None,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<$t> {
                i64::from_value(v).and_then(|i| <$t>::try_from(i).ok())
            }
        }
    )*};
}
from_int!(u64, u32, u16, usize, i32);

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<bool> {
        i64::from_value(v).map(|i| i != 0)
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<f64> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromValue for f32 {
    fn from_value(v: &Value) -> Option<f32> {
        f64::from_value(v).map(|f| f as f32)
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Option<T>> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Postgres(#[from] postgres::Error),
    /// No connection could be had from the pool in time (the database is
    /// down or every connection is busy); the last connection error is inside.
    #[error("{0}")]
    Pool(#[from] r2d2::Error),
    #[error("column {index} of a row is {value:?}, not {wanted}")]
    Type {
        index: usize,
        value: Value,
        wanted: &'static str,
    },
}

impl Row {
    pub fn get<T: FromValue>(&self, i: usize) -> Result<T, DbError> {
        let v = self.0.get(i).unwrap_or(&Value::Null);
        T::from_value(v).ok_or_else(|| DbError::Type {
            index: i,
            value: v.clone(),
            wanted: std::any::type_name::<T>(),
        })
    }
}

/// `$1` → `?1` for SQLite.
pub(crate) fn for_sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

fn sqlite_value(v: rusqlite::types::ValueRef) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
    }
}

fn pg_value(row: &postgres::Row, i: usize) -> Result<Value, postgres::Error> {
    let ty = row.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.into(),
        Type::INT4 => row.try_get::<_, Option<i32>>(i)?.into(),
        Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from).into(),
        Type::BOOL => row.try_get::<_, Option<bool>>(i)?.into(),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.into(),
        Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.into(),
        _ => row.try_get::<_, Option<String>>(i)?.into(),
    })
}

fn pg_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

/// What runs statements: a SQLite connection, a PostgreSQL client or transaction.
pub enum Exec<'a, 'b> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut postgres::Client),
    PostgresTx(&'a mut postgres::Transaction<'b>),
}

impl Exec<'_, '_> {
    pub fn is_sqlite(&self) -> bool {
        matches!(self, Exec::Sqlite(_))
    }

    /// Runs a statement; the number of rows changed.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DbError> {
        Ok(match self {
            Exec::Sqlite(c) => {
                let mut stmt = c.prepare_cached(&for_sqlite(sql))?;
                stmt.execute(rusqlite::params_from_iter(params.iter().map(sqlite_param)))? as u64
            }
            Exec::Postgres(c) => c.execute(sql, &pg_params(params))?,
            Exec::PostgresTx(t) => t.execute(sql, &pg_params(params))?,
        })
    }

    /// Runs several statements without parameters (migrations).
    pub fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        match self {
            Exec::Sqlite(c) => c.execute_batch(sql)?,
            Exec::Postgres(c) => c.batch_execute(sql)?,
            Exec::PostgresTx(t) => t.batch_execute(sql)?,
        }
        Ok(())
    }

    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, DbError> {
        let mut out = Vec::new();
        self.scan(sql, params, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, DbError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first column of the first row (e.g. `COUNT(*)`, `RETURNING id`).
    pub fn value<T: FromValue>(&mut self, sql: &str, params: &[Value]) -> Result<T, DbError> {
        let row = self
            .query_opt(sql, params)?
            .unwrap_or(Row(vec![Value::Null]));
        row.get(0)
    }

    /// Hands each row to `f` as it is read, without collecting them.
    pub fn scan(
        &mut self,
        sql: &str,
        params: &[Value],
        mut f: impl FnMut(Row) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        match self {
            Exec::Sqlite(c) => {
                let mut stmt = c.prepare_cached(&for_sqlite(sql))?;
                let n = stmt.column_count();
                let mut rows =
                    stmt.query(rusqlite::params_from_iter(params.iter().map(sqlite_param)))?;
                while let Some(r) = rows.next()? {
                    let mut vals = Vec::with_capacity(n);
                    for i in 0..n {
                        vals.push(sqlite_value(r.get_ref(i)?));
                    }
                    f(Row(vals))?;
                }
            }
            Exec::Postgres(c) => pg_scan(&mut **c, sql, params, &mut f)?,
            Exec::PostgresTx(t) => pg_scan(&mut **t, sql, params, &mut f)?,
        }
        Ok(())
    }
}

fn pg_scan(
    c: &mut impl postgres::GenericClient,
    sql: &str,
    params: &[Value],
    f: &mut impl FnMut(Row) -> Result<(), DbError>,
) -> Result<(), DbError> {
    use postgres::fallible_iterator::FallibleIterator;
    let mut rows = c.query_raw(sql, params.iter())?;
    while let Some(r) = rows.next()? {
        let vals = (0..r.len())
            .map(|i| pg_value(&r, i))
            .collect::<Result<Vec<_>, _>>()?;
        f(Row(vals))?;
    }
    Ok(())
}

pub(crate) fn sqlite_param(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match v {
        Value::Null => V::Null,
        Value::Int(i) => V::Integer(*i),
        Value::Real(f) => V::Real(*f),
        Value::Text(s) => V::Text(s.clone()),
    }
}

/// Connections to one database. Each call takes a connection from a pool and
/// gives it back: callers share `&Db` across threads, a broken connection (the
/// server restarted) is dropped and replaced by a new one on the next call.
#[derive(Clone)]
pub enum Db {
    Sqlite(r2d2::Pool<SqliteConnectionManager>),
    Postgres(r2d2::Pool<PostgresConnectionManager<postgres::NoTls>>),
}

/// How many connections a process keeps at most, and how long a call waits
/// for one before it fails (and, for a worker, is retried).
pub struct PoolSize {
    pub max: u32,
    pub wait: std::time::Duration,
}

impl Default for PoolSize {
    fn default() -> PoolSize {
        PoolSize {
            max: 16,
            wait: std::time::Duration::from_secs(10),
        }
    }
}

impl Db {
    /// A pool of SQLite connections to `path`, each set up the same way
    /// (WAL, full sync, foreign keys, a 30 s busy wait for the write lock).
    pub fn sqlite(path: &std::path::Path, size: &PoolSize) -> Result<Db, DbError> {
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            c.busy_timeout(std::time::Duration::from_secs(30))?;
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "synchronous", "FULL")?;
            c.pragma_update(None, "foreign_keys", "ON")
        });
        // One connection at once, so a file that cannot be opened says why.
        let pool = r2d2::Pool::builder()
            .max_size(size.max.max(1))
            .min_idle(Some(0))
            .connection_timeout(size.wait)
            .build_unchecked(manager);
        drop(pool.get()?);
        Ok(Db::Sqlite(pool))
    }

    /// A pool of PostgreSQL connections. The first connection is made here,
    /// so a wrong URL or a server down is told at once with its own error.
    pub fn postgres(url: &str, size: &PoolSize) -> Result<Db, DbError> {
        let config: postgres::Config = url.parse()?;
        drop(config.connect(postgres::NoTls)?);
        let manager = PostgresConnectionManager::new(config, postgres::NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(size.max.max(1))
            .min_idle(Some(0))
            .connection_timeout(size.wait)
            // Each call runs its statements on a connection checked to work.
            .test_on_check_out(true)
            .error_handler(Box::new(r2d2::LoggingErrorHandler))
            .build_unchecked(manager);
        Ok(Db::Postgres(pool))
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Db::Sqlite(_))
    }

    /// Runs `f` outside a transaction (each statement commits on its own).
    pub fn run<T>(&self, f: impl FnOnce(&mut Exec) -> Result<T, DbError>) -> Result<T, DbError> {
        match self {
            Db::Sqlite(p) => {
                let c = p.get()?;
                f(&mut Exec::Sqlite(&c))
            }
            Db::Postgres(p) => {
                let mut c = p.get()?;
                f(&mut Exec::Postgres(&mut c))
            }
        }
    }

    /// Runs `f` in one transaction: committed if it returns `Ok`, rolled back otherwise.
    /// SQLite takes the write lock at the start (`BEGIN IMMEDIATE`), so two writers
    /// wait for each other instead of failing halfway.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&mut Exec) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        match self {
            Db::Sqlite(p) => {
                let c = p.get()?;
                let tx = rusqlite::Transaction::new_unchecked(
                    &c,
                    rusqlite::TransactionBehavior::Immediate,
                )?;
                let out = f(&mut Exec::Sqlite(&tx))?;
                tx.commit()?;
                Ok(out)
            }
            Db::Postgres(p) => {
                let mut c = p.get()?;
                let mut tx = c.transaction()?;
                let out = f(&mut Exec::PostgresTx(&mut tx))?;
                tx.commit()?;
                Ok(out)
            }
        }
    }

    /// A SQLite connection of the pool, for the one hot path that reads rows in place.
    pub fn sqlite_conn(
        &self,
    ) -> Option<Result<r2d2::PooledConnection<SqliteConnectionManager>, DbError>> {
        match self {
            Db::Sqlite(p) => Some(p.get().map_err(DbError::from)),
            Db::Postgres(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_for_sqlite() {
        assert_eq!(
            for_sqlite("SELECT $1, $12 WHERE a = '$x'"),
            "SELECT ?1, ?12 WHERE a = '$x'"
        );
    }

    #[test]
    fn values_round_trip_through_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::sqlite(&dir.path().join("t.db"), &PoolSize::default()).unwrap();
        db.run(|e| {
            e.batch("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, x REAL, s TEXT)")?;
            let id: i64 = e.value(
                "INSERT INTO t (n, x, s) VALUES ($1, $2, $3) RETURNING id",
                vals![7u32, 1.5f32, "Đồng Lê"],
            )?;
            e.execute(
                "INSERT INTO t (n, x, s) VALUES ($1, $2, $3)",
                vals![None::<i64>, None::<f64>, None::<String>],
            )?;
            let rows = e.query("SELECT id, n, x, s FROM t ORDER BY id", &[])?;
            assert_eq!(rows[0].get::<i64>(0)?, id);
            assert_eq!(rows[0].get::<u32>(1)?, 7);
            assert_eq!(rows[0].get::<f32>(2)?, 1.5);
            assert_eq!(rows[0].get::<String>(3)?, "Đồng Lê");
            assert_eq!(rows[1].get::<Option<u32>>(1)?, None);
            assert!(rows[1].get::<String>(3).is_err());
            Ok(())
        })
        .unwrap();
        // A failed transaction leaves nothing behind.
        let r: Result<(), DbError> = db.transaction(|e| {
            e.execute("INSERT INTO t (n) VALUES ($1)", vals![1])?;
            e.execute("INSERT INTO nowhere VALUES (1)", &[])?;
            Ok(())
        });
        assert!(r.is_err());
        assert_eq!(
            db.run(|e| e.value::<i64>("SELECT COUNT(*) FROM t", &[]))
                .unwrap(),
            2
        );
    }
}
