//! The console's own database, `console.db`: one SQLite handle that the audit
//! log and the webhook outbox share, opened once, with versioned migrations.
//!
//! The schema version lives in SQLite's `user_version`. Each migration runs in
//! its own transaction together with the version bump, so a crash leaves the
//! file at one version or the next, never between. Version 1 is the schema
//! the console had before migrations existed, written with `IF NOT EXISTS`,
//! so a file made by that console is adopted as version 1 without losing a row.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{AppError, Result};

/// The migrations, oldest first; `MIGRATIONS[i]` takes the file to version `i + 1`.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // 1: audit log, webhook outbox and its log, as first released.
    r#"
CREATE TABLE IF NOT EXISTS audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    request_id TEXT NOT NULL,
    actor      TEXT,
    ip         TEXT NOT NULL,
    method     TEXT NOT NULL,
    path       TEXT NOT NULL,
    status     INTEGER,
    guard      TEXT,
    reason     TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_request ON audit (request_id);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT NOT NULL,
    created_ms       INTEGER NOT NULL,
    day              TEXT,
    summary          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms  INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    delivered_ms     INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_by_key ON webhook_outbox (idempotency_key, created_ms);
CREATE INDEX IF NOT EXISTS outbox_due ON webhook_outbox (status, next_attempt_ms);
CREATE TABLE IF NOT EXISTS webhook_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms           INTEGER NOT NULL,
    idempotency_key TEXT NOT NULL,
    event           TEXT NOT NULL,
    status_code     INTEGER,
    detail          TEXT
);
"#,
    // 2: audit rows say which token authenticated, whether the actor was
    // only claimed, and how many identical refusals they stand for; outbox
    // rows remember which webhook target they were queued for.
    r#"
ALTER TABLE audit ADD COLUMN last_at TEXT;
ALTER TABLE audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit ADD COLUMN token_name TEXT;
ALTER TABLE audit ADD COLUMN role TEXT;
ALTER TABLE audit ADD COLUMN actor_claimed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit ADD COLUMN kind TEXT NOT NULL DEFAULT 'refusal';
-- Rows from before: the token was not recorded, so no actor is vouched for.
UPDATE audit SET last_at = at, actor_claimed = (actor IS NOT NULL);
UPDATE audit SET kind = 'write' WHERE guard IS NULL AND method NOT IN ('GET', 'HEAD');
CREATE INDEX audit_by_kind ON audit (kind, id);
CREATE INDEX audit_by_time ON audit (at);
ALTER TABLE webhook_outbox ADD COLUMN target TEXT;
"#,
    // 3: the prod checks' runs, each with its results as JSON.
    r#"
CREATE TABLE prod_checks (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor   TEXT,
    passed  INTEGER NOT NULL,
    body    TEXT NOT NULL
);
"#,
    // 4: the VP evidence log, append-only, each row as JSON.
    r#"
CREATE TABLE vp_evidence (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    vp_id          TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    decision_taken TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX vp_evidence_by_lane ON vp_evidence (vp_id, id);
"#,
    // 5: each VP lane's monitoring mode, and the follow-up its last routing
    // change calls for (pending while the lane has no evidence row newer
    // than follow_up_row); the evidence log filtered by decision taken reads
    // an index of its own, however rare the decision.
    r#"
CREATE INDEX vp_evidence_by_decision ON vp_evidence (vp_id, decision_taken, id);
CREATE TABLE vp_cadence (
    vp_id           TEXT PRIMARY KEY,
    mode            TEXT,
    mode_set_by     TEXT,
    mode_set_at     TEXT,
    follow_up_after TEXT,
    follow_up_since TEXT,
    follow_up_row   INTEGER
);
"#,
    // 6: the alert model's state, one row per alert key (with who
    // acknowledged it), its history, and the silences.
    r#"
CREATE TABLE alert_state (
    key         TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    severity    TEXT NOT NULL,
    state       TEXT NOT NULL,
    fired_at    TEXT NOT NULL,
    resolved_at TEXT,
    body        TEXT NOT NULL,
    ack_by      TEXT,
    ack_at      TEXT,
    ack_note    TEXT
);
CREATE INDEX alert_state_by_state ON alert_state (state, resolved_at);
CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    key      TEXT NOT NULL,
    at       TEXT NOT NULL,
    event    TEXT NOT NULL,
    severity TEXT NOT NULL
);
CREATE TABLE alert_silences (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    body       TEXT NOT NULL
);
"#,
    // 7: an alert's history says who acknowledged it and which notification
    // was queued or held; the history and the ops timeline read by key and
    // by time.
    r#"
ALTER TABLE alert_events ADD COLUMN detail TEXT;
CREATE INDEX alert_events_by_key ON alert_events (key, id);
CREATE INDEX alert_events_by_time ON alert_events (at);
CREATE INDEX webhook_log_by_key ON webhook_log (idempotency_key, id);
CREATE INDEX webhook_log_by_time ON webhook_log (at_ms);
CREATE INDEX vp_evidence_by_time ON vp_evidence (recorded_at);
"#,
    // 8: each receiver's last success and last failure (Alertmanager's
    // posts), for the alerts page, kept for the target they were made to.
    r#"
CREATE TABLE receiver_status (
    receiver        TEXT PRIMARY KEY,
    target          TEXT NOT NULL,
    last_success_at TEXT,
    last_failure_at TEXT,
    last_failure    TEXT,
    last_status     INTEGER
);
"#,
];

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

/// The schema version this build writes.
pub fn schema_version() -> u32 {
    MIGRATIONS.len() as u32
}

/// Handle to `console.db`; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Bring `conn` to the newest schema version.
fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > schema_version() {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
            Some(format!(
                "console.db is at schema version {current}, newer than this build's {}; \
                 run the newer opsdeck or restore a backup",
                schema_version()
            )),
        ));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
    }
    Ok(schema_version())
}

impl Store {
    /// Open or create the database at `path` and migrate it.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a row acknowledged (an audit row above all) is a row on disk.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrate(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Run `f` on the connection off the async threads.
    pub async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| AppError::Internal(format!("store task: {e}")))?
        .map_err(AppError::from)
    }

    /// Whether the store answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        self.with(|c| c.query_row("SELECT 1", [], |_| Ok(()))).await
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
}
