//! The baseline snapshot's files, its history and its rolling emergence
//! windows.
//!
//! A capture writes the runbook's two outputs under the state root:
//! `baseline/baseline_latest.json` (the whole [`BaselineSnapshot`]) and
//! `baseline/metrics/metrics_latest.json` (its metrics half). `GET
//! /api/admin/baseline/latest` serves the first as it is on disk.
//!
//! Every capture is also kept in the `baselines` table: the snapshot's bytes
//! exactly as written to `baseline_latest.json`, so reading a capture by id
//! serves what `latest` served while it was the newest, beside the figures
//! the list shows, so listing reads no snapshot.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use opsdeck_api::baseline::{
    BASELINE_MISSING_MESSAGE, BaselineList, BaselineSnapshot, BaselineSummary, EmergenceWindow,
    baseline_unknown_message,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, SimError};

/// Indexes the window and digest queries need on the action tables, and the
/// kept captures.
pub const SCHEMA: &str = r#"
CREATE INDEX IF NOT EXISTS proposals_by_time ON proposals (created_ms);
CREATE INDEX IF NOT EXISTS votes_by_time ON votes (created_ms);
CREATE INDEX IF NOT EXISTS forum_posts_by_time ON forum_posts (created_ms);
CREATE TABLE IF NOT EXISTS baselines (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    captured_at               TEXT NOT NULL,
    captured_by               TEXT,
    reason                    TEXT,
    run_id                    TEXT,
    llm_daily_budget_usd_hard REAL NOT NULL,
    llm_calls_today           INTEGER NOT NULL,
    llm_spend_today_usd       REAL NOT NULL,
    provider_calls            INTEGER NOT NULL,
    provider_failures         INTEGER NOT NULL,
    windows                   INTEGER NOT NULL,
    window_minutes            INTEGER NOT NULL,
    runtime_actions           INTEGER NOT NULL,
    snapshot                  BLOB NOT NULL
);
"#;

/// `baseline/baseline_latest.json` under `root`.
pub fn latest_path(root: &Path) -> PathBuf {
    root.join("baseline").join("baseline_latest.json")
}

/// `baseline/metrics/metrics_latest.json` under `root`.
pub fn metrics_path(root: &Path) -> PathBuf {
    root.join("baseline")
        .join("metrics")
        .join("metrics_latest.json")
}

/// Agent actions per window: `windows` windows of `window_minutes`, the last
/// ending at `now`, oldest first.
pub fn emergence_windows(
    conn: &Connection,
    now: DateTime<Utc>,
    windows: u32,
    window_minutes: u32,
) -> Result<Vec<EmergenceWindow>> {
    let width = Duration::minutes(i64::from(window_minutes));
    let width_ms = width.num_milliseconds();
    let end_ms = now.timestamp_millis();
    let since_ms = end_ms - width_ms * i64::from(windows);
    let mut out: Vec<EmergenceWindow> = (0..windows)
        .map(|i| {
            let start = now - width * (windows - i) as i32;
            EmergenceWindow {
                start,
                end: start + width,
                runtime_actions: 0,
                proposal_actions: 0,
                vote_actions: 0,
                forum_actions: 0,
            }
        })
        .collect();
    for table in ["proposals", "votes", "forum_posts"] {
        // The newest window includes `now` itself: actions of a tick at the
        // capture instant belong to it.
        let mut stmt = conn.prepare(&format!(
            "SELECT MIN((created_ms - ?1) / ?2, ?4 - 1), COUNT(*) FROM {table}
             WHERE created_ms >= ?1 AND created_ms <= ?3 GROUP BY 1"
        ))?;
        let rows = stmt.query_map(
            params![since_ms, width_ms, end_ms, i64::from(windows)],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)),
        )?;
        for row in rows {
            let (ix, n) = row?;
            let Some(w) = usize::try_from(ix).ok().and_then(|i| out.get_mut(i)) else {
                continue;
            };
            match table {
                "proposals" => w.proposal_actions += n,
                "votes" => w.vote_actions += n,
                _ => w.forum_actions += n,
            }
            w.runtime_actions += n;
        }
    }
    Ok(out)
}

/// The bytes of `snapshot` as `baseline_latest.json` holds them.
pub fn encode(snapshot: &BaselineSnapshot) -> Result<Vec<u8>> {
    crate::retention::json_bytes(snapshot)
}

/// Write both files of `snapshot`, whose [`encode`]d form is `bytes`.
pub fn write(root: &Path, snapshot: &BaselineSnapshot, bytes: &[u8]) -> Result<()> {
    crate::retention::write_json(&metrics_path(root), &snapshot.metrics)?;
    crate::retention::write_atomic(&latest_path(root), bytes)
}

/// Keep `snapshot` (its [`encode`]d `bytes`) in the history, dropping the
/// oldest beyond the newest `keep`; its new id.
pub fn store(
    conn: &Connection,
    snapshot: &BaselineSnapshot,
    bytes: &[u8],
    keep: u32,
) -> Result<u64> {
    let s = BaselineSummary::of(0, snapshot);
    conn.execute(
        "INSERT INTO baselines (captured_at, captured_by, reason, run_id,
            llm_daily_budget_usd_hard, llm_calls_today, llm_spend_today_usd, provider_calls,
            provider_failures, windows, window_minutes, runtime_actions, snapshot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            // full precision: the summary's time is the snapshot's, to the nanosecond
            s.captured_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            s.captured_by,
            s.reason,
            s.run_id,
            s.llm_daily_budget_usd_hard,
            s.llm_calls_today as i64,
            s.llm_spend_today_usd,
            s.provider_calls as i64,
            s.provider_failures as i64,
            s.windows,
            s.window_minutes,
            s.runtime_actions as i64,
            bytes,
        ],
    )?;
    let id = conn.last_insert_rowid();
    conn.execute(
        "DELETE FROM baselines WHERE id NOT IN
            (SELECT id FROM baselines ORDER BY id DESC LIMIT ?1)",
        params![keep],
    )?;
    Ok(id as u64)
}

/// The newest `limit` kept captures, newest first, and how many are kept.
pub fn list(conn: &Connection, limit: u32) -> Result<BaselineList> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, captured_at, captured_by, reason, run_id, llm_daily_budget_usd_hard,
                llm_calls_today, llm_spend_today_usd, provider_calls, provider_failures,
                windows, window_minutes, runtime_actions
         FROM baselines ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit], |r| {
        let at: String = r.get(1)?;
        Ok(BaselineSummary {
            id: r.get::<_, i64>(0)? as u64,
            captured_at: DateTime::parse_from_rfc3339(&at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            captured_by: r.get(2)?,
            reason: r.get(3)?,
            run_id: r.get(4)?,
            llm_daily_budget_usd_hard: r.get(5)?,
            llm_calls_today: r.get::<_, i64>(6)? as u64,
            llm_spend_today_usd: r.get(7)?,
            provider_calls: r.get::<_, i64>(8)? as u64,
            provider_failures: r.get::<_, i64>(9)? as u64,
            windows: r.get(10)?,
            window_minutes: r.get(11)?,
            runtime_actions: r.get::<_, i64>(12)? as u64,
        })
    })?;
    let baselines = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let total: i64 = conn.query_row("SELECT COUNT(*) FROM baselines", [], |r| r.get(0))?;
    Ok(BaselineList {
        baselines,
        total: total as u64,
    })
}

/// The stored bytes of capture `id`; 404 naming it when none has it.
pub fn read(conn: &Connection, id: u64) -> Result<Vec<u8>> {
    let Ok(row) = i64::try_from(id) else {
        return Err(SimError::NotFound(baseline_unknown_message(id)));
    };
    conn.query_row(
        "SELECT snapshot FROM baselines WHERE id = ?1",
        params![row],
        |r| r.get(0),
    )
    .optional()?
    .ok_or_else(|| SimError::NotFound(baseline_unknown_message(id)))
}

/// Keep the `baseline_latest.json` a state root already holds, when the
/// history is empty: a platform upgraded from keeping only the latest
/// capture lists that one rather than nothing. A file that does not read as
/// a snapshot is left alone and not listed.
pub fn import_latest(conn: &Connection, root: &Path, keep: u32) -> Result<()> {
    let kept: i64 = conn.query_row("SELECT COUNT(*) FROM baselines", [], |r| r.get(0))?;
    if kept > 0 {
        return Ok(());
    }
    let bytes = match read_latest(root) {
        Ok(bytes) => bytes,
        Err(SimError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    match serde_json::from_slice::<BaselineSnapshot>(&bytes) {
        Ok(snapshot) => store(conn, &snapshot, &bytes, keep).map(drop),
        Err(e) => {
            tracing::warn!(error = %e, "baseline_latest.json is not a snapshot; not listed");
            Ok(())
        }
    }
}

/// The bytes of `baseline_latest.json`; 404 saying to capture first.
pub fn read_latest(root: &Path) -> Result<Vec<u8>> {
    let path = latest_path(root);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(SimError::NotFound(BASELINE_MISSING_MESSAGE.into()))
        }
        Err(e) => Err(SimError::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The action tables the windows read, and this module's schema.
    fn tables() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE proposals (run_id TEXT, created_ms INTEGER);
             CREATE TABLE votes (run_id TEXT, created_ms INTEGER);
             CREATE TABLE forum_posts (run_id TEXT, created_ms INTEGER);",
        )
        .unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c
    }

    #[test]
    fn actions_fall_into_their_windows() {
        let c = tables();
        let now: DateTime<Utc> = "2026-03-10T12:00:00Z".parse().unwrap();
        let ms = |m: i64| (now - Duration::minutes(m)).timestamp_millis();
        for (table, at) in [
            ("proposals", ms(1)),
            ("votes", ms(1)),
            ("votes", ms(0)),
            ("forum_posts", ms(7)),
            ("forum_posts", ms(15)), // outside three 5-minute windows
        ] {
            c.execute(
                &format!("INSERT INTO {table} VALUES ('r', ?1)"),
                params![at],
            )
            .unwrap();
        }
        let w = emergence_windows(&c, now, 3, 5).unwrap();
        assert_eq!(w.len(), 3);
        assert_eq!(w[2].end, now);
        assert_eq!(w[0].start, now - Duration::minutes(15));
        assert_eq!(
            (
                w[2].proposal_actions,
                w[2].vote_actions,
                w[2].runtime_actions
            ),
            (1, 2, 3)
        );
        assert_eq!(w[1].forum_actions, 1);
        // 15 minutes back is the first window's start: inclusive
        assert_eq!(w[0].forum_actions, 1);
    }

    fn snapshot(at: &str, calls: u64) -> BaselineSnapshot {
        let at: DateTime<Utc> = at.parse().unwrap();
        serde_json::from_value(serde_json::json!({
            "captured_at": at, "captured_by": "dana", "reason": "before",
            "environment": "DEVELOPMENT", "run_id": "r1", "simulation_active": true,
            "budgets": {"llm_daily_budget_usd_hard": 5.0},
            "stop_conditions": {"provider_failure_threshold": 25,
                "provider_failure_window_seconds": 300,
                "db_pool_utilization_threshold": 0.9, "db_pool_sustained_seconds": 60},
            "metrics": {"captured_at": at,
                "llm_usage_today": {"day": "2026-03-10", "calls": calls, "spend_usd": 0.5,
                    "budget_usd_hard": 5.0},
                "provider_failures": {"window_seconds": 300, "calls": 40, "failures": 2,
                    "rate": 0.05},
                "window_minutes": 5, "windows": []}
        }))
        .unwrap()
    }

    #[test]
    fn the_history_keeps_the_newest_and_lists_them_first() {
        let c = tables();
        let mut ids = Vec::new();
        for i in 0..5 {
            let s = snapshot("2026-03-10T12:00:00.123456789Z", i);
            let bytes = encode(&s).unwrap();
            ids.push(store(&c, &s, &bytes, 3).unwrap());
        }
        let list = list(&c, 10).unwrap();
        assert_eq!(list.total, 3);
        let listed: Vec<u64> = list.baselines.iter().map(|b| b.id).collect();
        assert_eq!(listed, [ids[4], ids[3], ids[2]]);
        let newest = &list.baselines[0];
        assert_eq!(newest.llm_calls_today, 4);
        assert_eq!(
            newest.captured_at,
            "2026-03-10T12:00:00.123456789Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
        assert_eq!(newest.reason.as_deref(), Some("before"));
        assert_eq!((newest.provider_failures, newest.provider_calls), (2, 40));
        assert_eq!(super::list(&c, 2).unwrap().baselines.len(), 2);
        // dropped, and never reused
        assert!(matches!(read(&c, ids[0]), Err(SimError::NotFound(_))));
        assert!(matches!(read(&c, u64::MAX), Err(SimError::NotFound(_))));
        let kept: BaselineSnapshot = serde_json::from_slice(&read(&c, ids[2]).unwrap()).unwrap();
        assert_eq!(kept.metrics.llm_usage_today.calls, 2);
        let s = snapshot("2026-03-10T12:00:00Z", 9);
        let next = store(&c, &s, &encode(&s).unwrap(), 3).unwrap();
        assert!(next > ids[4]);
    }
}
