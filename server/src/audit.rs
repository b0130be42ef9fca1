//! The durable audit log: every write and every refusal, in SQLite.
//!
//! A write is recorded *before* it is forwarded (status still empty) and
//! completed with its status afterwards, so even a crash mid-request leaves a
//! row; if the row cannot be written the write is refused. Refusals are one
//! row each, written before the refusal is sent.

use chrono::{DateTime, SecondsFormat, Utc};
use opsdeck_api::console::{AuditRow, Guard};
use rusqlite::{Connection, params};

use crate::error::{AppError, Result};
use crate::store::Store;

/// What is known of a request when its audit row is written.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The request id.
    pub request_id: String,
    /// `X-Actor`, if given.
    pub actor: Option<String>,
    /// Client IP as the guard resolved it (or the peer, if resolution failed).
    pub ip: String,
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
}

/// Handle to the audit database; cheap to clone.
#[derive(Clone, Debug)]
pub struct AuditStore {
    store: Store,
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl AuditStore {
    /// The audit log in `store`.
    pub fn new(store: Store) -> AuditStore {
        AuditStore { store }
    }

    /// Run `f` on the store; any failure means the audit log is unavailable.
    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.store
            .with(move |c| f(c))
            .await
            .map_err(|e| AppError::AuditUnavailable(e.to_string()))
    }

    /// Record a finished request (a refusal, usually) in one row.
    pub async fn record(
        &self,
        entry: AuditEntry,
        status: u16,
        guard: Option<Guard>,
        reason: Option<String>,
    ) -> Result<i64> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit (at, request_id, actor, ip, method, path, status, guard, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    now(),
                    entry.request_id,
                    entry.actor,
                    entry.ip,
                    entry.method,
                    entry.path,
                    status,
                    guard.map(Guard::as_str),
                    reason
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// Record a write about to be attempted; complete it with [`AuditStore::finish`].
    pub async fn begin(&self, entry: AuditEntry) -> Result<i64> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO audit (at, request_id, actor, ip, method, path)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    now(),
                    entry.request_id,
                    entry.actor,
                    entry.ip,
                    entry.method,
                    entry.path
                ],
            )?;
            Ok(c.last_insert_rowid())
        })
        .await
    }

    /// Complete a row made by [`AuditStore::begin`].
    pub async fn finish(
        &self,
        id: i64,
        status: u16,
        guard: Option<Guard>,
        reason: Option<String>,
    ) -> Result<()> {
        self.with(move |c| {
            c.execute(
                "UPDATE audit SET status = ?2, guard = ?3, reason = ?4 WHERE id = ?1",
                params![id, status, guard.map(Guard::as_str), reason],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest `limit` rows, newest first.
    pub async fn recent(&self, limit: u32) -> Result<Vec<AuditRow>> {
        self.with(move |c| {
            let mut stmt = c.prepare(
                "SELECT id, at, request_id, actor, ip, method, path, status, guard, reason
                 FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit], |r| {
                let at: String = r.get(1)?;
                let guard: Option<String> = r.get(8)?;
                Ok(AuditRow {
                    id: r.get(0)?,
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                    request_id: r.get(2)?,
                    actor: r.get(3)?,
                    ip: r.get(4)?,
                    method: r.get(5)?,
                    path: r.get(6)?,
                    status: r.get(7)?,
                    guard: guard.as_deref().and_then(Guard::parse),
                    reason: r.get(9)?,
                })
            })?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str) -> AuditEntry {
        AuditEntry {
            request_id: id.into(),
            actor: Some("dana".into()),
            ip: "127.0.0.1".into(),
            method: "POST".into(),
            path: "/api/admin/control/run/start".into(),
        }
    }

    #[tokio::test]
    async fn rows_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.db");
        {
            let store = AuditStore::new(Store::open(&path).unwrap());
            store
                .record(
                    entry("r1"),
                    401,
                    Some(Guard::Token),
                    Some("invalid admin token".into()),
                )
                .await
                .unwrap();
            let id = store.begin(entry("r2")).await.unwrap();
            store.finish(id, 200, None, None).await.unwrap();
            store.begin(entry("r3")).await.unwrap();
        }
        let store = AuditStore::new(Store::open(&path).unwrap());
        let rows = store.recent(10).await.unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].request_id, "r3");
        assert_eq!(rows[0].status, None, "in-flight row keeps an empty status");
        assert_eq!(rows[1].status, Some(200));
        assert_eq!(rows[2].guard, Some(Guard::Token));
        assert_eq!(rows[2].reason.as_deref(), Some("invalid admin token"));
        assert_eq!(rows[2].actor.as_deref(), Some("dana"));
    }
}
