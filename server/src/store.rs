//! Everything the console persists — the audit log, the webhook outbox and
//! its log, alert state and history, silences, prod check runs, the VP
//! evidence log and cadence, receiver status, leases — in one store: the
//! SQLite file `console.db` (the embedded default, one node) or PostgreSQL
//! (`--store postgres://…`, which any number of replicas share).
//!
//! Call sites see one API for both: [`Store::with`] runs a closure on a
//! [`Conn`] off the async threads, and every statement is written once, in
//! SQLite's numbered-parameter form (`?1`, `?2`, …), which [`Conn`] rewrites
//! to `$1`, `$2`, … for PostgreSQL. Values cross as [`Value`] (null, a 64-bit
//! integer, a float or text): booleans are stored as integers and times as
//! the text [`time_text`] writes, in both stores, so the schemas, and what
//! the code reads back, are the same. The few places where the dialects
//! really differ (row locks, advisory locks, JSON fields) are methods of
//! [`Conn`], here.
//!
//! Each store has its own migration list ([`migrations`]): SQLite's version
//! is its `user_version`, PostgreSQL's a `schema_version` row, migrated under
//! an advisory lock so replicas starting together do not race.
//!
//! Replicas agree through the store, not memory: the outbox hands each
//! delivery to one replica by a row lease ([`crate::outbox`]), and the
//! periodic jobs (alert evaluation, the KPI rule, Alertmanager resends, the
//! scheduled VP snapshots and prod checks) run only on the replica holding
//! the leader lease, a `leases` row renewed every third of its time to live.
//! A SQLite file is one node's, which always leads.

pub mod migrations;
mod pg;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::{AppError, Result};

pub use self::pg::PostgresUrl;

/// An instant the store wrote with [`time_text`], read back; `None` when it
/// is not one.
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// An instant as the store writes it: RFC 3339 in UTC with milliseconds and
/// `Z`, so stored times sort (and compare in SQL) as text.
pub fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The SQLite schema version this build writes.
pub fn schema_version() -> u32 {
    migrations::SQLITE.len() as u32
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `query_row` found nothing (see [`OptionalExt::optional`]).
    #[error("query returned no rows")]
    NoRows,
    /// SQLite said no.
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no, or could not be reached.
    #[error("{}", pg::describe(.0))]
    Postgres(#[from] postgres::Error),
    /// A column did not hold what the code reads from it.
    #[error("column {index}: expected {wanted}, found {found}")]
    Type {
        /// Column index.
        index: usize,
        /// The Rust type asked for.
        wanted: &'static str,
        /// What the column held.
        found: &'static str,
    },
    /// The schema is from a newer build, or cannot be migrated.
    #[error("{0}")]
    Schema(String),
    /// No connection could be had.
    #[error("{0}")]
    Unavailable(String),
}

/// `Result` with [`StoreError`], what [`Store::with`]'s closures return.
pub type StoreResult<T> = std::result::Result<T, StoreError>;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(format!("store: {e}"))
    }
}

/// `query_row`'s "no rows" as `None`.
pub trait OptionalExt<T> {
    /// `Ok(None)` for [`StoreError::NoRows`].
    fn optional(self) -> StoreResult<Option<T>>;
}

impl<T> OptionalExt<T> for StoreResult<T> {
    fn optional(self) -> StoreResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A value as both stores hold it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Any integer, and booleans (0 or 1).
    Int(i64),
    /// A float.
    Real(f64),
    /// Text, and times as [`time_text`] writes them.
    Text(String),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a float",
            Value::Text(_) => "text",
        }
    }
}

/// What can be a statement parameter.
pub trait ToValue {
    /// As a [`Value`].
    fn to_value(&self) -> Value;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i64, i32, i16, u32, u16, u8, bool);

impl ToValue for u64 {
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for usize {
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

/// Statement parameters: `params![a, b]` for `?1`, `?2`.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::ToValue]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::ToValue),+] as &[&dyn $crate::store::ToValue]
    };
}
pub(crate) use params;

/// What a column can be read as.
pub trait FromValue: Sized {
    /// `None` when the value is not one.
    fn from_value(v: &Value) -> Option<Self>;
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: &Value) -> Option<Self> {
                match v {
                    Value::Int(i) => <$t>::try_from(*i).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
int_from_value!(i64, i32, u64, u32, u16, u8);

impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}

impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// One result row, read out of either store.
#[derive(Debug, Clone)]
pub struct Row(Vec<Value>);

impl Row {
    /// Column `index` as a `T`.
    pub fn get<T: FromValue>(&self, index: usize) -> StoreResult<T> {
        let v = self.0.get(index).unwrap_or(&Value::Null);
        T::from_value(v).ok_or(StoreError::Type {
            index,
            wanted: std::any::type_name::<T>(),
            found: v.kind(),
        })
    }

    fn from_sqlite(r: &rusqlite::Row<'_>, columns: usize) -> StoreResult<Row> {
        use rusqlite::types::ValueRef;
        let mut out = Vec::with_capacity(columns);
        for i in 0..columns {
            out.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(n) => Value::Int(n),
                ValueRef::Real(f) => Value::Real(f),
                ValueRef::Text(t) | ValueRef::Blob(t) => {
                    Value::Text(String::from_utf8_lossy(t).into_owned())
                }
            });
        }
        Ok(Row(out))
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput;
        Ok(match self {
            Value::Null => ToSqlOutput::from(rusqlite::types::Null),
            Value::Int(i) => ToSqlOutput::from(*i),
            Value::Real(f) => ToSqlOutput::from(*f),
            Value::Text(s) => ToSqlOutput::from(s.as_str()),
        })
    }
}

/// Which store a [`Conn`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `console.db`.
    Sqlite,
    /// A PostgreSQL database.
    Postgres,
}

/// A connection of either store, lent to a [`Store::with`] closure.
pub struct Conn<'a>(ConnInner<'a>);

enum ConnInner<'a> {
    Sqlite(&'a Connection),
    Postgres(&'a mut pg::PgConn),
}

impl fmt::Debug for Conn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Conn").field(&self.backend()).finish()
    }
}

fn values(params: &[&dyn ToValue]) -> Vec<Value> {
    params.iter().map(|p| p.to_value()).collect()
}

impl Conn<'_> {
    /// Which store this is.
    pub fn backend(&self) -> Backend {
        match self.0 {
            ConnInner::Sqlite(_) => Backend::Sqlite,
            ConnInner::Postgres(_) => Backend::Postgres,
        }
    }

    /// Run one statement; how many rows it changed.
    pub fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> StoreResult<u64> {
        let params = values(params);
        match &mut self.0 {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            ConnInner::Postgres(c) => c.execute(sql, &params),
        }
    }

    /// Run a statement and read every row with `f`.
    pub fn query_map<T>(
        &mut self,
        sql: &str,
        params: &[&dyn ToValue],
        mut f: impl FnMut(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let params = values(params);
        match &mut self.0 {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row::from_sqlite(r, columns)?)?);
                }
                Ok(out)
            }
            ConnInner::Postgres(c) => c.query(sql, &params)?.iter().map(f).collect(),
        }
    }

    /// Run a statement and read its first row with `f`; [`StoreError::NoRows`]
    /// when there is none.
    pub fn query_row<T>(
        &mut self,
        sql: &str,
        params: &[&dyn ToValue],
        f: impl FnOnce(&Row) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut f = Some(f);
        let mut first = None;
        // Rows after the first are read and dropped, as rusqlite's query_row does.
        for v in self.query_map(sql, params, |r| Ok(r.clone()))? {
            if first.is_none() {
                first = Some(v);
            }
        }
        match (first, f.take()) {
            (Some(r), Some(f)) => f(&r),
            _ => Err(StoreError::NoRows),
        }
    }

    /// Run statements with no parameters, as they are (the migrations).
    pub fn execute_batch(&mut self, sql: &str) -> StoreResult<()> {
        match &mut self.0 {
            ConnInner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            ConnInner::Postgres(c) => c.batch(sql),
        }
    }

    /// Run `f` in a transaction: committed when it returns `Ok`, rolled back
    /// when it fails (or panics).
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Conn<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        match &mut self.0 {
            ConnInner::Sqlite(c) => {
                // The store's one connection is behind a mutex, so no other
                // transaction can be open on it; rolled back on drop.
                let tx = c.unchecked_transaction()?;
                let out = f(&mut Conn(ConnInner::Sqlite(&tx)))?;
                tx.commit()?;
                Ok(out)
            }
            ConnInner::Postgres(c) => {
                c.begin()?;
                match f(&mut Conn(ConnInner::Postgres(c))) {
                    Ok(out) => {
                        c.commit()?;
                        Ok(out)
                    }
                    Err(e) => {
                        c.rollback();
                        Err(e)
                    }
                }
            }
        }
    }

    /// Within a transaction, wait until no other transaction holds `key`,
    /// and hold it until this one ends: PostgreSQL's advisory lock. SQLite
    /// needs none: its one connection is already one writer at a time.
    pub fn lock_key(&mut self, key: &str) -> StoreResult<()> {
        match &mut self.0 {
            ConnInner::Sqlite(_) => Ok(()),
            ConnInner::Postgres(c) => c
                .execute(
                    "SELECT pg_advisory_xact_lock(hashtext(?1))",
                    &[Value::Text(key.to_owned())],
                )
                .map(drop),
        }
    }

    /// What ends a `SELECT` whose rows this transaction claims: rows another
    /// replica has locked are skipped rather than waited for. SQLite has no
    /// row locks and needs none (one writer at a time).
    pub fn skip_locked(&self) -> &'static str {
        match self.0 {
            ConnInner::Sqlite(_) => "",
            ConnInner::Postgres(_) => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// An SQL expression reading the text of the top-level `field` of the JSON
    /// object in `column`.
    pub fn json_text(&self, column: &str, field: &str) -> String {
        match self.0 {
            ConnInner::Sqlite(_) => format!("json_extract({column}, '$.{field}')"),
            ConnInner::Postgres(_) => format!("(({column})::jsonb ->> '{field}')"),
        }
    }
}

/// Where the console keeps what it persists: `--store` (`OPSDECK_STORE`).
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PostgresUrl),
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Shown in logs and errors: a PostgreSQL URL without its password.
impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Sqlite(p) => write!(f, "{}", p.display()),
            StoreLocation::Postgres(u) => fmt::Display::fmt(u, f),
        }
    }
}

impl StoreLocation {
    /// Read `--store`: a `postgres://` or `postgresql://` URL, or a path to a
    /// SQLite file. Anything else with a scheme (`mysql://`, `sqlite://`) is
    /// refused, so a typo is not taken for a file name.
    pub fn parse(s: &str) -> std::result::Result<StoreLocation, String> {
        match s.split_once("://") {
            Some((scheme, _)) if scheme == "postgres" || scheme == "postgresql" => {
                PostgresUrl::parse(s).map(StoreLocation::Postgres)
            }
            Some((scheme, _)) => Err(format!(
                "--store: unsupported scheme {scheme:?}: give a postgres:// (or postgresql://) URL, \
                 or a path to a SQLite file"
            )),
            None if s.trim().is_empty() => Err("--store is empty".into()),
            None => Ok(StoreLocation::Sqlite(PathBuf::from(s))),
        }
    }
}

enum Inner {
    Sqlite(Mutex<Connection>),
    // Boxed: the client's settings are large, and there is one per store.
    Postgres(Box<pg::Pool>),
}

/// How long the leader lease lasts unless renewed, unless configured.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(15);

/// The leader lease's row.
const LEADER: &str = "leader";

struct Shared {
    inner: Inner,
    /// This process's name in leases; unique per opened store.
    holder: String,
    lease: Duration,
    /// Until when this store holds the leader lease, by the local clock.
    leader_until: Mutex<Option<Instant>>,
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store(Arc<Shared>);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .field("holder", &self.0.holder)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Open or create the SQLite file at `path` and migrate it.
    pub fn open(path: &Path) -> StoreResult<Store> {
        Store::connect(&StoreLocation::Sqlite(path.to_owned()), DEFAULT_LEASE)
    }

    /// Open the store at `location` and migrate it; the leader lease lasts
    /// `lease` unless renewed.
    pub fn connect(location: &StoreLocation, lease: Duration) -> StoreResult<Store> {
        let inner = match location {
            StoreLocation::Sqlite(path) => {
                let mut conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                // FULL: a row acknowledged (an audit row above all) is a row on disk.
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.busy_timeout(Duration::from_secs(5))?;
                conn.set_prepared_statement_cache_capacity(128);
                migrations::migrate_sqlite(&mut conn)?;
                Inner::Sqlite(Mutex::new(conn))
            }
            StoreLocation::Postgres(url) => Inner::Postgres(Box::new(pg::Pool::open(url)?)),
        };
        Ok(Store(Arc::new(Shared {
            inner,
            holder: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            lease,
            leader_until: Mutex::new(None),
        })))
    }

    /// Which store this is.
    pub fn backend(&self) -> Backend {
        match self.0.inner {
            Inner::Sqlite(_) => Backend::Sqlite,
            Inner::Postgres(_) => Backend::Postgres,
        }
    }

    /// This process's name in the store's leases (outbox rows, the leader
    /// lease).
    pub fn holder(&self) -> &str {
        &self.0.holder
    }

    /// Run `f` on a connection off the async threads.
    pub async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn<'_>) -> StoreResult<T> + Send + 'static,
    {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || match &shared.inner {
            Inner::Sqlite(conn) => {
                let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                f(&mut Conn(ConnInner::Sqlite(&conn)))
            }
            Inner::Postgres(pool) => {
                let mut conn = pool.get()?;
                f(&mut Conn(ConnInner::Postgres(&mut conn)))
            }
        })
        .await
        .map_err(|e| AppError::Internal(format!("store task: {e}")))?
        .map_err(AppError::from)
    }

    /// Whether the store answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        self.with(|c| c.query_row("SELECT 1", params![], |_| Ok(())))
            .await
    }

    /// Whether this replica holds the leader lease now, and so runs the
    /// periodic jobs. A SQLite store is one node's alone, which always leads
    /// (so a restart takes its jobs up at once).
    pub fn is_leader(&self) -> bool {
        if self.backend() == Backend::Sqlite {
            return true;
        }
        self.0
            .leader_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| Instant::now() < t)
    }

    /// Whether this replica leads, as a periodic job asks before its turn:
    /// held, or taken now (the lease is free, expired or still ours), so a
    /// job due just after start or after a stall need not wait for the
    /// renewal task.
    pub async fn leads(&self) -> bool {
        self.is_leader() || self.renew_leadership().await
    }

    /// Return once this replica leads, trying every third of the lease:
    /// a periodic job waits here for its turn, so a replica that takes the
    /// lease over (its leader died, or it restarted) runs the job at once
    /// rather than an interval later.
    pub async fn wait_to_lead(&self) {
        while !self.leads().await {
            tokio::time::sleep(self.0.lease / 3).await;
        }
    }

    /// Take or renew the leader lease, if it is free, ours, or expired;
    /// returns whether this replica holds it.
    pub async fn renew_leadership(&self) -> bool {
        if self.backend() == Backend::Sqlite {
            return true;
        }
        let started = Instant::now();
        let (holder, lease) = (self.0.holder.clone(), self.0.lease);
        let now_ms = chrono::Utc::now().timestamp_millis();
        let until_ms = now_ms + lease.as_millis() as i64;
        let won = self
            .with(move |c| {
                c.execute(
                    "INSERT INTO leases (name, holder, until_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                         until_ms = excluded.until_ms
                     WHERE leases.holder = excluded.holder OR leases.until_ms < ?4",
                    params![LEADER, holder, until_ms, now_ms],
                )
            })
            .await;
        let held = match won {
            Ok(n) => n > 0,
            Err(e) => {
                tracing::warn!(error = %e, "could not renew the leader lease");
                false
            }
        };
        let mut until = self
            .0
            .leader_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let was = until.is_some_and(|t| Instant::now() < t);
        // Counted from before the call, so the local view never outlasts the row.
        *until = held.then(|| started + lease);
        if held != was {
            tracing::info!(holder = %self.0.holder, leader = held, "leader lease changed hands");
        }
        held
    }

    /// Give the leader lease up (at shutdown), so another replica takes
    /// over at once rather than when it expires.
    pub async fn release_leadership(&self) {
        if self.backend() == Backend::Sqlite {
            return;
        }
        let holder = self.0.holder.clone();
        *self
            .0
            .leader_until
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = None;
        let _ = self
            .with(move |c| {
                c.execute(
                    "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                    params![LEADER, holder],
                )
            })
            .await;
    }

    /// Keep renewing the leader lease, three times per time to live, until
    /// the task is dropped.
    pub fn spawn_leadership(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            if store.backend() == Backend::Sqlite {
                return;
            }
            let mut tick = tokio::time::interval(store.0.lease / 3);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                store.renew_leadership().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_file_gets_every_migration_and_reopening_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema_version());
        drop(conn);
        drop(Store::open(&path).unwrap());
    }

    #[test]
    fn a_file_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema_version() + 1)
            .unwrap();
        drop(conn);
        let err = Store::open(&path).unwrap_err().to_string();
        assert!(err.contains("newer than this build"), "{err}");
    }

    #[test]
    fn store_locations_are_read_and_bad_schemes_refused() {
        assert_eq!(
            StoreLocation::parse("/var/lib/opsdeck/console.db").unwrap(),
            StoreLocation::Sqlite("/var/lib/opsdeck/console.db".into())
        );
        let pg = StoreLocation::parse("postgresql://ops:hunter2@db.internal:5432/opsdeck").unwrap();
        assert!(matches!(pg, StoreLocation::Postgres(_)));
        let shown = format!("{pg} {pg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
        for bad in ["mysql://db/opsdeck", "sqlite:///tmp/x.db", "http://x", ""] {
            assert!(StoreLocation::parse(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn one_api_reads_back_what_it_wrote_and_rolls_back_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("console.db")).unwrap();
        let got = store
            .with(|c| {
                c.execute(
                    "INSERT INTO receiver_status (receiver, target, last_status) VALUES (?1, ?2, ?3)",
                    params!["a", "me", 5_i64],
                )?;
                let failed = c.transaction(|tx| {
                    tx.execute(
                        "UPDATE receiver_status SET last_status = ?2 WHERE receiver = ?1",
                        params!["a", 9_i64],
                    )?;
                    Err::<(), _>(StoreError::NoRows)
                });
                assert!(failed.is_err());
                let none = c
                    .query_row(
                        "SELECT target FROM receiver_status WHERE receiver = ?1",
                        params!["b"],
                        |r| r.get::<String>(0),
                    )
                    .optional()?;
                assert_eq!(none, None);
                c.query_row(
                    "SELECT target, last_status, NULL FROM receiver_status WHERE receiver = ?1",
                    params!["a"],
                    |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<Option<i64>>(2)?)),
                )
            })
            .await
            .unwrap();
        assert_eq!(got, ("me".to_owned(), 5, None));
    }

    #[tokio::test]
    async fn a_sqlite_store_always_leads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("console.db")).unwrap();
        assert!(store.is_leader());
        assert!(store.renew_leadership().await);
    }
}
