//! The weekly digest: evidence over the lookback window, and stored drafts.
//!
//! Events are agent actions (proposals, votes, forum posts) created inside
//! the window's UTC days; LLM calls are the daily usage counters of those
//! days. Drafts are stored by anchor in SQLite, so a second draft for the
//! same anchor can be refused (409) unless the request allows it.

use chrono::{DateTime, Days, NaiveDate, SecondsFormat, Utc};
use opsdeck_api::admin::event_type;
use opsdeck_api::digest::{
    DigestFacts, DigestRun, DigestStop, EvidenceCounts, WeeklyDigestDraft, digest_window,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, SimError};

/// Stored drafts.
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS weekly_digests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    anchor_date TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS weekly_digests_by_anchor ON weekly_digests (anchor_date, id);
"#;

fn day_str(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn day_start(d: NaiveDate) -> DateTime<Utc> {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// What the window ending at `anchor` holds.
pub fn facts(conn: &Connection, anchor: NaiveDate, lookback_days: u32) -> Result<DigestFacts> {
    let (start, end) = digest_window(anchor, lookback_days);
    let from = day_start(start);
    let until = day_start(end + Days::new(1));
    let (from_ms, until_ms) = (from.timestamp_millis(), until.timestamp_millis());
    let count = |table: &str| -> Result<u64> {
        Ok(conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE created_ms >= ?1 AND created_ms < ?2"),
            params![from_ms, until_ms],
            |r| r.get::<_, i64>(0),
        )? as u64)
    };
    let proposal_actions = count("proposals")?;
    let vote_actions = count("votes")?;
    let forum_actions = count("forum_posts")?;
    let (llm_calls, llm_spend_usd) = conn.query_row(
        "SELECT COALESCE(SUM(calls), 0), COALESCE(SUM(spend_usd), 0.0) FROM llm_usage_daily
         WHERE day >= ?1 AND day <= ?2",
        params![day_str(start), day_str(end)],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, f64>(1)?)),
    )?;
    let mut stmt = conn.prepare(
        "SELECT run_id, COUNT(*) AS n FROM (
            SELECT run_id FROM proposals WHERE created_ms >= ?1 AND created_ms < ?2
            UNION ALL SELECT run_id FROM votes WHERE created_ms >= ?1 AND created_ms < ?2
            UNION ALL SELECT run_id FROM forum_posts WHERE created_ms >= ?1 AND created_ms < ?2
         ) GROUP BY run_id ORDER BY n DESC, run_id",
    )?;
    let runs = stmt
        .query_map(params![from_ms, until_ms], |r| {
            Ok(DigestRun {
                run_id: r.get(0)?,
                events: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut stmt = conn.prepare(
        "SELECT created_at, run_id, reason FROM events
         WHERE event_type = ?1 AND created_at >= ?2 AND created_at < ?3 ORDER BY id",
    )?;
    let guardrail_stops = stmt
        .query_map(
            params![
                event_type::SIMULATION_STOPPED_GUARDRAIL,
                ts(from),
                ts(until)
            ],
            |r| {
                Ok(DigestStop {
                    at: DateTime::parse_from_rfc3339(&r.get::<_, String>(0)?)
                        .map(|t| t.with_timezone(&Utc))
                        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
                    run_id: r.get(1)?,
                    reason: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                })
            },
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(DigestFacts {
        anchor_date: anchor,
        window_start: start,
        window_end: end,
        lookback_days,
        observed: EvidenceCounts {
            events: proposal_actions + vote_actions + forum_actions,
            llm_calls,
        },
        proposal_actions,
        vote_actions,
        forum_actions,
        llm_spend_usd,
        runs,
        guardrail_stops,
    })
}

/// The newest stored draft id for `anchor`, if any.
pub fn existing_draft(conn: &Connection, anchor: NaiveDate) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT MAX(id) FROM weekly_digests WHERE anchor_date = ?1",
            params![day_str(anchor)],
            |r| r.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// Store a draft; `build` receives the new id and returns the draft.
pub fn store(
    conn: &Connection,
    anchor: NaiveDate,
    created_at: DateTime<Utc>,
    created_by: Option<&str>,
    build: impl FnOnce(i64) -> WeeklyDigestDraft,
) -> Result<WeeklyDigestDraft> {
    conn.execute(
        "INSERT INTO weekly_digests (anchor_date, created_at, created_by, body) VALUES (?1, ?2, ?3, '')",
        params![
            day_str(anchor),
            created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            created_by
        ],
    )?;
    let id = conn.last_insert_rowid();
    let draft = build(id);
    let body = serde_json::to_string(&draft)
        .map_err(|e| SimError::Task(format!("cannot encode the digest draft: {e}")))?;
    conn.execute(
        "UPDATE weekly_digests SET body = ?2 WHERE id = ?1",
        params![id, body],
    )?;
    Ok(draft)
}
