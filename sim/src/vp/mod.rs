//! VP lanes: missions, their events and the lanes' sessions, generated from a
//! seeded model, and the metrics the runbook reads from them.
//!
//! Each lane-hour is planned once, from the world seed, the lane and the hour
//! itself (never from when it is generated), so the same seed gives the same
//! history whether it was backfilled at seeding or grew tick by tick. A plan
//! is a list of timed steps per mission (`vp.mission.dispatched`, optional
//! `vp.mission.progress`, then `vp.mission.completed`, `vp.mission.fallback`
//! followed by the primary path's `vp.mission.completed`, or
//! `vp.mission.failed`) and per session incident (`vp.session.degraded`, the
//! session `recovering`, then `vp.session.resumed`, or, when recovery fails, a
//! replacement `vp.session.created` after a stretch orphaned). Steps whose time
//! has come are written to `vp_missions`, `vp_events`, `vp_sessions` and
//! `vp_session_events`; the rest wait in `vp_pending` and are applied as the
//! engine ticks, so the tables only ever hold what has happened.
//!
//! Lane behaviour drifts: fallback probability and latency follow slow
//! seeded waves (periods of about two days and seventeen hours), traffic a
//! daily rhythm that also adds queueing delay, and now and then a bad hour
//! multiplies fallbacks. Durations are lognormal (on `vp.coder.primary` a p50
//! near 13 s and a p95 near 38 s); fallbacks carry `reason`, `error` and
//! `trace_id` payloads with provider errors and timeouts.
//!
//! Reads stay cheap at any history size: every metrics query walks an index
//! from the newest row (`(vp_id, dispatched_ms, …)` on missions,
//! `(vp_id, created_ms)` on both event tables) and stops at its limit; the
//! series reads only the buckets' range from a covering index; lane totals
//! and running counts are maintained as missions are applied.

mod apply;
#[cfg(test)]
mod fixtures;
mod lanes;
mod model;
mod reads;
mod routing;

pub use lanes::{
    FALLBACK_FAILURES, Failure, LANE_COUNT, LANES, Lane, MISSION_FAILURES, SESSION_FAILURES,
    SESSION_UNAVAILABLE, lane, lane_list, payload_errors,
};
pub use reads::{lanes, mission_total, ops_metrics, read_ops_metrics, recovery, series};
pub use routing::{FORCED_REASON, routing, set_routing};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use crate::config::SimConfig;
use crate::error::Result;
use apply::{Applier, Plan, SessionPlan, SessionStep, SessionStepKind, apply_pending};
use model::{PlanCtx, hex, hour_of, plan_hour, rng_for, stream};

/// Tables of the VP lanes. `vp_lanes` keeps each lane's maintained totals;
/// `vp_pending` the planned steps not yet due; `vp_state` how far planning
/// got; `vp_routing` the force-fallback switches (kept across resets).
pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS vp_lanes (
    vp_id         TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    mission_count INTEGER NOT NULL DEFAULT 0,
    running       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS vp_sessions (
    vp_id             TEXT PRIMARY KEY,
    session_id        TEXT NOT NULL,
    status            TEXT NOT NULL,
    runtime_id        TEXT,
    lease_owner       TEXT,
    workspace_dir     TEXT,
    lease_expires_ms  INTEGER,
    last_heartbeat_ms INTEGER,
    last_error        TEXT,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vp_missions (
    id            INTEGER PRIMARY KEY,
    mission_id    TEXT NOT NULL,
    vp_id         TEXT NOT NULL,
    run_id        TEXT,
    status        TEXT NOT NULL,
    objective     TEXT,
    result_ref    TEXT,
    dispatched_ms INTEGER NOT NULL,
    started_ms    INTEGER,
    completed_ms  INTEGER,
    updated_ms    INTEGER NOT NULL,
    duration_ms   INTEGER,
    fallback      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS vp_missions_by_lane
    ON vp_missions (vp_id, dispatched_ms, duration_ms, fallback);
CREATE TABLE IF NOT EXISTS vp_events (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL,
    mission_id TEXT NOT NULL,
    vp_id      TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload    TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vp_events_by_lane ON vp_events (vp_id, created_ms);
CREATE TABLE IF NOT EXISTS vp_session_events (
    id         INTEGER PRIMARY KEY,
    event_id   TEXT NOT NULL,
    session_id TEXT NOT NULL,
    vp_id      TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload    TEXT,
    created_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vp_session_events_by_lane ON vp_session_events (vp_id, created_ms);
CREATE TABLE IF NOT EXISTS vp_pending (
    id         INTEGER PRIMARY KEY,
    next_at_ms INTEGER NOT NULL,
    applied    INTEGER NOT NULL,
    plan       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vp_pending_by_time ON vp_pending (next_at_ms, id);
CREATE TABLE IF NOT EXISTS vp_routing (
    vp_id          TEXT PRIMARY KEY,
    force_fallback INTEGER NOT NULL,
    reason         TEXT,
    changed_by     TEXT,
    changed_ms     INTEGER
);
CREATE TABLE IF NOT EXISTS vp_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    first_hour       INTEGER NOT NULL,
    seeded_hour      INTEGER NOT NULL,
    planned_through  INTEGER NOT NULL,
    next_mission_row INTEGER NOT NULL
);
"#;

/// Milliseconds in an hour: lane-hours are the model's unit of planning.
const HOUR_MS: i64 = 3_600_000;

/// Whether seeding has happened.
pub fn seeded(conn: &Connection) -> Result<bool> {
    Ok(conn
        .query_row("SELECT 1 FROM vp_state WHERE id = 1", [], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Clear the lanes and backfill them from `seed`: `SIM_VP_BACKFILL_HOURS`
/// whole hours before the current one, and the current hour up to `now`.
pub fn reseed(conn: &Connection, seed: u64, config: &SimConfig, now: DateTime<Utc>) -> Result<()> {
    conn.execute_batch(
        "DELETE FROM vp_lanes; DELETE FROM vp_sessions; DELETE FROM vp_missions;
         DELETE FROM vp_events; DELETE FROM vp_session_events; DELETE FROM vp_pending;
         DELETE FROM vp_state;",
    )?;
    let now_ms = now.timestamp_millis();
    let now_hour = hour_of(now_ms);
    let first_hour = now_hour - i64::from(config.sim_vp_backfill_hours);
    conn.execute(
        "INSERT INTO vp_state (id, first_hour, seeded_hour, planned_through, next_mission_row)
         VALUES (1, ?1, ?2, ?3, 1)",
        params![first_hour, now_hour, first_hour - 1],
    )?;
    let mut a = Applier::new(conn)?;
    for (ix, lane) in LANES.iter().enumerate() {
        conn.execute(
            "INSERT INTO vp_lanes (vp_id, display_name) VALUES (?1, ?2)",
            params![lane.vp_id, lane.display_name],
        )?;
        let mut rng = rng_for(seed, ix, first_hour, stream::BOOTSTRAP);
        let session_id = format!("{}.session.{}", lane.vp_id, hex(&mut rng, 8));
        let runtime_id = format!("rt-{}", hex(&mut rng, 8));
        let plan = Plan::Session(SessionPlan {
            lane: ix,
            id: session_id.clone(),
            steps: vec![SessionStep {
                at_ms: first_hour * HOUR_MS,
                kind: SessionStepKind::Created {
                    session_id: session_id.clone(),
                    runtime_id: runtime_id.clone(),
                },
                payload: Some(json!({
                    "reason": "bootstrap",
                    "session_id": session_id,
                    "runtime_id": runtime_id,
                })),
            }],
        });
        a.apply_or_queue(&plan, now_ms)?;
    }
    a.finish(now_ms)?;
    advance(conn, seed, config, now)
}

/// Plan every lane-hour not yet planned up to the current one, and apply
/// every step whose time has come. Cheap when nothing is due. After a long
/// stop it catches up at most `SIM_VP_BACKFILL_HOURS` hours.
pub fn advance(conn: &Connection, seed: u64, config: &SimConfig, now: DateTime<Utc>) -> Result<()> {
    let Some((first_hour, seeded_hour, planned, mut next_row)) = conn
        .query_row(
            "SELECT first_hour, seeded_hour, planned_through, next_mission_row FROM vp_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?, r.get(3)?)),
        )
        .optional()?
    else {
        return Ok(());
    };
    let now_ms = now.timestamp_millis();
    let now_hour = hour_of(now_ms);
    let ctx = PlanCtx {
        seed,
        config,
        first_hour,
        seeded_hour,
    };
    let mut a = Applier::new(conn)?;
    let mut hour = (planned + 1).max(now_hour - i64::from(config.sim_vp_backfill_hours));
    while hour <= now_hour {
        // Finish what earlier hours left queued first, so each session's
        // steps land in time order.
        apply_pending(&mut a, hour * HOUR_MS - 1)?;
        for lane_ix in 0..LANES.len() {
            for plan in plan_hour(&ctx, lane_ix, hour, &mut next_row) {
                a.apply_or_queue(&plan, now_ms)?;
            }
        }
        conn.execute(
            "UPDATE vp_state SET planned_through = ?1, next_mission_row = ?2 WHERE id = 1",
            params![hour, next_row],
        )?;
        hour += 1;
    }
    apply_pending(&mut a, now_ms)?;
    a.finish(now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::fixtures::{count, dump, seeded_conn, t0};

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let config = SimConfig::default();
        let a = dump(&seeded_conn(7, &config, t0()));
        let b = dump(&seeded_conn(7, &config, t0()));
        assert!(a.len() > 5_000, "{} rows", a.len());
        assert_eq!(a, b);
        let c = dump(&seeded_conn(8, &config, t0()));
        assert_ne!(a, c);
    }

    #[test]
    fn growing_tick_by_tick_gives_the_same_rows_as_backfilling() {
        let config = SimConfig {
            sim_vp_backfill_hours: 6,
            sim_vp_missions_per_hour: 120,
            ..SimConfig::default()
        };
        let end = t0() + chrono::Duration::minutes(150);
        let ticked = seeded_conn(3, &config, t0());
        let mut now = t0();
        while now < end {
            now += chrono::Duration::seconds(7);
            advance(&ticked, 3, &config, now.min(end)).unwrap();
        }
        let jumped = seeded_conn(3, &config, t0());
        advance(&jumped, 3, &config, end).unwrap();
        let (a, b) = (dump(&ticked), dump(&jumped));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y);
        }
        // and it did grow: missions after the seeding time exist
        let later = count(
            &ticked,
            &format!(
                "SELECT COUNT(*) FROM vp_missions WHERE dispatched_ms > {}",
                t0().timestamp_millis()
            ),
        );
        assert!(later > 200, "{later}");
        // nothing in the tables lies in the future
        let end_ms = end.timestamp_millis();
        for table in ["vp_events", "vp_session_events"] {
            let n = count(
                &ticked,
                &format!("SELECT COUNT(*) FROM {table} WHERE created_ms > {end_ms}"),
            );
            assert_eq!(n, 0, "{table}");
        }
    }
}
