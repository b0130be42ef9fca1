//! The schema of each store, as migrations, oldest first: `SQLITE[i]` and
//! `POSTGRES[i]` take a store to version `i + 1`. Append only: a released
//! migration is never edited, so every `console.db` and every database
//! made by an older build still opens.
//!
//! SQLite's version lives in `user_version`. Each migration runs in its own
//! transaction together with the version bump, so a crash leaves the file at
//! one version or the next, never between. Version 1 is the schema the
//! console had before migrations existed, written with `IF NOT EXISTS`, so a
//! file made by that console is adopted as version 1 without losing a row.
//!
//! PostgreSQL's version lives in the one row of `schema_version`. Its first
//! migration is SQLite's schema at version 9, with integers as `BIGINT` and
//! ids as identity columns, and the `leases` table replicas take the leader
//! lease in (a SQLite file is one node's, which always leads); later ones
//! follow SQLite's changes. Replicas
//! starting together migrate one after the other: all of it runs in one
//! transaction that first takes an advisory lock.

use rusqlite::Connection;

use super::{StoreError, StoreResult};

/// The SQLite migrations.
pub const SQLITE: &[&str] = &[
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
    // 9: an outbox row is sent by the sender holding its lease (owner and
    // expiry; an expired lease is anyone's): one code path for one node
    // and for PostgreSQL's replicas.
    r#"
ALTER TABLE webhook_outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE webhook_outbox ADD COLUMN lease_until_ms INTEGER;
"#,
];

/// The PostgreSQL migrations.
pub const POSTGRES: &[&str] = &[
    // 1: everything SQLite has at its version 9.
    r#"
CREATE TABLE audit (
    id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at            TEXT NOT NULL,
    request_id    TEXT NOT NULL,
    actor         TEXT,
    ip            TEXT NOT NULL,
    method        TEXT NOT NULL,
    path          TEXT NOT NULL,
    status        BIGINT,
    guard         TEXT,
    reason        TEXT,
    last_at       TEXT,
    count         BIGINT NOT NULL DEFAULT 1,
    token_name    TEXT,
    role          TEXT,
    actor_claimed BIGINT NOT NULL DEFAULT 0,
    kind          TEXT NOT NULL DEFAULT 'refusal'
);
CREATE INDEX audit_by_request ON audit (request_id);
CREATE INDEX audit_by_kind ON audit (kind, id);
CREATE INDEX audit_by_time ON audit (at);
CREATE TABLE webhook_outbox (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    idempotency_key  TEXT NOT NULL,
    created_ms       BIGINT NOT NULL,
    day              TEXT,
    summary          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms  BIGINT,
    last_status_code BIGINT,
    last_error       TEXT,
    delivered_ms     BIGINT,
    target           TEXT,
    lease_owner      TEXT,
    lease_until_ms   BIGINT
);
CREATE INDEX outbox_by_key ON webhook_outbox (idempotency_key, created_ms);
CREATE INDEX outbox_due ON webhook_outbox (status, next_attempt_ms);
CREATE TABLE webhook_log (
    id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at_ms           BIGINT NOT NULL,
    idempotency_key TEXT NOT NULL,
    event           TEXT NOT NULL,
    status_code     BIGINT,
    detail          TEXT
);
CREATE INDEX webhook_log_by_key ON webhook_log (idempotency_key, id);
CREATE INDEX webhook_log_by_time ON webhook_log (at_ms);
CREATE TABLE prod_checks (
    id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    at      TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor   TEXT,
    passed  BIGINT NOT NULL,
    body    TEXT NOT NULL
);
CREATE TABLE vp_evidence (
    id             BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    vp_id          TEXT NOT NULL,
    recorded_at    TEXT NOT NULL,
    decision_taken TEXT NOT NULL,
    body           TEXT NOT NULL
);
CREATE INDEX vp_evidence_by_lane ON vp_evidence (vp_id, id);
CREATE INDEX vp_evidence_by_decision ON vp_evidence (vp_id, decision_taken, id);
CREATE INDEX vp_evidence_by_time ON vp_evidence (recorded_at);
CREATE TABLE vp_cadence (
    vp_id           TEXT PRIMARY KEY,
    mode            TEXT,
    mode_set_by     TEXT,
    mode_set_at     TEXT,
    follow_up_after TEXT,
    follow_up_since TEXT,
    follow_up_row   BIGINT
);
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
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    key      TEXT NOT NULL,
    at       TEXT NOT NULL,
    event    TEXT NOT NULL,
    severity TEXT NOT NULL,
    detail   TEXT
);
CREATE INDEX alert_events_by_key ON alert_events (key, id);
CREATE INDEX alert_events_by_time ON alert_events (at);
CREATE TABLE alert_silences (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_at TEXT NOT NULL,
    ends_at    TEXT NOT NULL,
    body       TEXT NOT NULL
);
CREATE TABLE receiver_status (
    receiver        TEXT PRIMARY KEY,
    target          TEXT NOT NULL,
    last_success_at TEXT,
    last_failure_at TEXT,
    last_failure    TEXT,
    last_status     BIGINT
);
CREATE TABLE leases (
    name     TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
"#,
];

/// Any two ids would do; these say "opsdeck" and "migrations".
const MIGRATION_LOCK: i64 = 0x6f70_7364_6563_6b01;

fn newer(found: i64, ours: usize, what: &str) -> StoreError {
    StoreError::Schema(format!(
        "{what} is at schema version {found}, newer than this build's {ours}; \
         run the newer opsdeck or restore a backup"
    ))
}

/// Bring `conn` to the newest SQLite schema version.
pub(super) fn migrate_sqlite(conn: &mut Connection) -> StoreResult<()> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current as usize > SQLITE.len() {
        return Err(newer(current.into(), SQLITE.len(), "console.db"));
    }
    for (i, sql) in SQLITE.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Bring the database behind `client` to the newest PostgreSQL schema version.
pub(super) fn migrate_postgres(client: &mut postgres::Client) -> StoreResult<()> {
    let mut tx = client.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
    let current: i64 = match tx.query_opt("SELECT version FROM schema_version", &[])? {
        Some(row) => row.try_get(0)?,
        None => {
            tx.execute("INSERT INTO schema_version (version) VALUES (0)", &[])?;
            0
        }
    };
    if current as usize > POSTGRES.len() {
        return Err(newer(current, POSTGRES.len(), "the PostgreSQL store"));
    }
    for sql in POSTGRES.iter().skip(current as usize) {
        tx.batch_execute(sql)?;
    }
    tx.execute(
        "UPDATE schema_version SET version = $1",
        &[&(POSTGRES.len() as i64)],
    )?;
    tx.commit()?;
    Ok(())
}
