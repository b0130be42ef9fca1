//! The PostgreSQL side of the store: a URL that never shows its password, a
//! few connections in a small pool (the sync client, used from
//! `spawn_blocking` like SQLite's connection), each with its prepared
//! statements, and the conversions between [`Value`] and PostgreSQL's types.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use super::{Row, StoreError, StoreResult, Value};

/// Most connections one console opens.
const POOL_SIZE: usize = 4;
/// How long a call waits for a free connection before failing.
const WAIT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection.
const STATEMENTS: usize = 256;

/// A `postgres://` URL. `Display` and `Debug` show it with the password
/// replaced, so no log line, banner or error carries it.
#[derive(Clone)]
pub struct PostgresUrl {
    url: String,
}

impl PartialEq for PostgresUrl {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for PostgresUrl {}

impl PostgresUrl {
    /// Read and check `url`.
    pub fn parse(url: &str) -> Result<PostgresUrl, String> {
        url.parse::<postgres::Config>()
            .map_err(|e| format!("--store: not a PostgreSQL URL: {e}"))?;
        Ok(PostgresUrl {
            url: url.to_owned(),
        })
    }

    /// The URL as shown: `postgres://user:***@host/db`.
    fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.url.split_once("://") else {
            return "postgres://…".into();
        };
        // userinfo ends at the last '@' before the path.
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let authority = match authority.rsplit_once('@') {
            Some((user, host)) => match user.split_once(':') {
                Some((name, _)) => format!("{name}:***@{host}"),
                None => format!("{user}@{host}"),
            },
            None => authority.to_owned(),
        };
        // A password may also come as a query parameter.
        let tail = match tail.split_once('?') {
            Some((path, query)) => {
                let query: Vec<String> = query
                    .split('&')
                    .map(|kv| match kv.split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                        _ => kv.to_owned(),
                    })
                    .collect();
                format!("{path}?{}", query.join("&"))
            }
            None => tail.to_owned(),
        };
        format!("{scheme}://{authority}{tail}")
    }
}

impl fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PostgresUrl({})", self.redacted())
    }
}

/// A PostgreSQL error as one line: the server's message when it sent one.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

/// `?N` placeholders as PostgreSQL's `$N`, outside quoted text.
fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for ch in sql.chars() {
        match ch {
            '\'' => {
                quoted = !quoted;
                out.push(ch);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(ch),
        }
    }
    out
}

/// One connection and the statements prepared on it.
pub(super) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
    in_transaction: bool,
}

impl PgConn {
    fn statement(&mut self, sql: &str) -> StoreResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        if self.statements.len() >= STATEMENTS {
            self.statements.clear();
        }
        let s = self.client.prepare(&placeholders(sql))?;
        self.statements.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
        values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
    }

    pub(super) fn execute(&mut self, sql: &str, values: &[Value]) -> StoreResult<u64> {
        let stmt = self.statement(sql)?;
        Ok(self.client.execute(&stmt, &Self::params(values))?)
    }

    pub(super) fn query(&mut self, sql: &str, values: &[Value]) -> StoreResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        self.client
            .query(&stmt, &Self::params(values))?
            .iter()
            .map(row)
            .collect()
    }

    pub(super) fn batch(&mut self, sql: &str) -> StoreResult<()> {
        Ok(self.client.batch_execute(sql)?)
    }

    pub(super) fn begin(&mut self) -> StoreResult<()> {
        self.client.batch_execute("BEGIN")?;
        self.in_transaction = true;
        Ok(())
    }

    pub(super) fn commit(&mut self) -> StoreResult<()> {
        self.client.batch_execute("COMMIT")?;
        self.in_transaction = false;
        Ok(())
    }

    pub(super) fn rollback(&mut self) {
        if self.client.batch_execute("ROLLBACK").is_ok() {
            self.in_transaction = false;
        }
    }
}

fn row(r: &postgres::Row) -> StoreResult<Row> {
    let mut out = Vec::with_capacity(r.len());
    for (i, column) in r.columns().iter().enumerate() {
        let ty = column.type_();
        let v = if *ty == Type::INT8 {
            r.try_get::<_, Option<i64>>(i)?.map(Value::Int)
        } else if *ty == Type::INT4 {
            r.try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(n.into()))
        } else if *ty == Type::INT2 {
            r.try_get::<_, Option<i16>>(i)?
                .map(|n| Value::Int(n.into()))
        } else if *ty == Type::BOOL {
            r.try_get::<_, Option<bool>>(i)?
                .map(|b| Value::Int(b.into()))
        } else if *ty == Type::FLOAT8 {
            r.try_get::<_, Option<f64>>(i)?.map(Value::Real)
        } else if *ty == Type::FLOAT4 {
            r.try_get::<_, Option<f32>>(i)?
                .map(|f| Value::Real(f.into()))
        } else if [Type::TEXT, Type::VARCHAR, Type::BPCHAR, Type::NAME].contains(ty) {
            r.try_get::<_, Option<String>>(i)?.map(Value::Text)
        } else {
            return Err(StoreError::Type {
                index: i,
                wanted: "an integer, float or text column",
                found: "another PostgreSQL type",
            });
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(Row(out))
}

/// A [`Value`] as the parameter type PostgreSQL inferred for it: integers fit
/// any integer column (or a boolean), text any text column.
impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                _ => Err(format!("an integer cannot be a {ty} parameter").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("a float cannot be a {ty} parameter").into()),
            },
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A few connections, opened when first needed and dropped when broken.
pub(super) struct Pool {
    config: postgres::Config,
    slots: Mutex<Slots>,
    freed: Condvar,
}

struct Slots {
    idle: Vec<PgConn>,
    open: usize,
}

/// A connection lent by the pool, returned when dropped.
pub(super) struct Lent<'a> {
    pool: &'a Pool,
    conn: Option<PgConn>,
}

impl std::ops::Deref for Lent<'_> {
    type Target = PgConn;

    fn deref(&self) -> &PgConn {
        self.conn.as_ref().expect("lent until dropped")
    }
}

impl std::ops::DerefMut for Lent<'_> {
    fn deref_mut(&mut self) -> &mut PgConn {
        self.conn.as_mut().expect("lent until dropped")
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut slots = self.pool.slots.lock().unwrap_or_else(|p| p.into_inner());
        // A broken connection, or one a panic left inside a transaction, is
        // closed (which rolls the transaction back) and replaced when needed.
        if conn.client.is_closed() || conn.in_transaction {
            slots.open -= 1;
        } else {
            slots.idle.push(conn);
        }
        self.pool.freed.notify_one();
    }
}

impl Drop for Pool {
    /// The sync client blocks on its own runtime when it closes, which
    /// panics on an async thread (where the last `Store` is often dropped):
    /// the connections are closed on a thread of their own.
    fn drop(&mut self) {
        let idle =
            std::mem::take(&mut self.slots.get_mut().unwrap_or_else(|p| p.into_inner()).idle);
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("opsdeck-store-close".into())
                .spawn(move || drop(idle));
        }
    }
}

impl Pool {
    /// Connect once (so a wrong URL fails at start) and migrate.
    pub(super) fn open(url: &PostgresUrl) -> StoreResult<Pool> {
        let mut config: postgres::Config = url.url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        if config.get_application_name().is_none() {
            config.application_name("opsdeck");
        }
        let pool = Pool {
            config,
            slots: Mutex::new(Slots {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        };
        let mut first = pool.get()?;
        super::migrations::migrate_postgres(&mut first.client)?;
        drop(first);
        Ok(pool)
    }

    fn connect(&self) -> StoreResult<PgConn> {
        Ok(PgConn {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
            in_transaction: false,
        })
    }

    /// An idle connection, a new one while fewer than [`POOL_SIZE`] are
    /// open, or the first one freed within [`WAIT`].
    pub(super) fn get(&self) -> StoreResult<Lent<'_>> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = slots.idle.pop() {
                return Ok(Lent {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if slots.open < POOL_SIZE {
                slots.open += 1;
                drop(slots);
                return match self.connect() {
                    Ok(conn) => Ok(Lent {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                        slots.open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(slots, WAIT)
                .unwrap_or_else(|p| p.into_inner());
            slots = next;
            if timeout.timed_out() && slots.idle.is_empty() && slots.open >= POOL_SIZE {
                return Err(StoreError::Unavailable(format!(
                    "no PostgreSQL connection came free within {} s",
                    WAIT.as_secs()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            placeholders("SELECT ?1, '?2' FROM t WHERE a = ?12 AND b = 'it''s ?'"),
            "SELECT $1, '?2' FROM t WHERE a = $12 AND b = 'it''s ?'"
        );
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        for (url, shown) in [
            (
                "postgres://ops:s3cret@db:5432/opsdeck",
                "postgres://ops:***@db:5432/opsdeck",
            ),
            (
                "postgresql://ops@127.0.0.1/opsdeck?password=s3cret&sslmode=disable",
                "postgresql://ops@127.0.0.1/opsdeck?password=***&sslmode=disable",
            ),
            ("postgres://127.0.0.1:5433/x", "postgres://127.0.0.1:5433/x"),
        ] {
            let u = PostgresUrl::parse(url).unwrap();
            assert_eq!(u.to_string(), shown);
            assert!(!format!("{u:?}").contains("s3cret"));
        }
    }
}
