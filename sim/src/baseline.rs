//! The baseline snapshot's files and its rolling emergence windows.
//!
//! A capture writes the runbook's two outputs under the state root:
//! `baseline/baseline_latest.json` (the whole [`BaselineSnapshot`]) and
//! `baseline/metrics/metrics_latest.json` (its metrics half). `GET
//! /api/admin/baseline/latest` serves the first as it is on disk.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use opsdeck_api::baseline::{BASELINE_MISSING_MESSAGE, BaselineSnapshot, EmergenceWindow};
use rusqlite::{Connection, params};

use crate::error::{Result, SimError};

/// Indexes the window and digest queries need on the action tables.
pub const SCHEMA: &str = r#"
CREATE INDEX IF NOT EXISTS proposals_by_time ON proposals (created_ms);
CREATE INDEX IF NOT EXISTS votes_by_time ON votes (created_ms);
CREATE INDEX IF NOT EXISTS forum_posts_by_time ON forum_posts (created_ms);
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

/// Write both files of `snapshot`.
pub fn write(root: &Path, snapshot: &BaselineSnapshot) -> Result<()> {
    crate::retention::write_json(&metrics_path(root), &snapshot.metrics)?;
    crate::retention::write_json(&latest_path(root), snapshot)
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

    #[test]
    fn actions_fall_into_their_windows() {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(
            "CREATE TABLE proposals (run_id TEXT, created_ms INTEGER);
             CREATE TABLE votes (run_id TEXT, created_ms INTEGER);
             CREATE TABLE forum_posts (run_id TEXT, created_ms INTEGER);",
        )
        .unwrap();
        c.execute_batch(SCHEMA).unwrap();
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
}
