//! What the VP unit tests share: the two lanes, a seeded in-memory database,
//! a dump of every table, and forced configurations.

use chrono::{DateTime, Utc};
use opsdeck_api::vp::VpMetricsQuery;
use rusqlite::Connection;

use super::{SCHEMA, reseed};
use crate::config::{LaneRate, SimConfig};

pub(super) const CODER: &str = "vp.coder.primary";
pub(super) const RESEARCH: &str = "vp.research.primary";

pub(super) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub(super) fn t0() -> DateTime<Utc> {
    at("2026-02-16T14:07:42Z")
}

pub(super) fn seeded_conn(seed: u64, config: &SimConfig, now: DateTime<Utc>) -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(SCHEMA).unwrap();
    reseed(&conn, seed, config, now).unwrap();
    conn
}

/// Every row of every VP table, in an order that does not depend on
/// insertion order. Sessions' `updated_ms` is left out: an idle/active
/// flip is stamped when an advance notices it.
pub(super) fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT vp_id, display_name, mission_count, running FROM vp_lanes ORDER BY vp_id",
        "SELECT vp_id, session_id, status, runtime_id, lease_owner, workspace_dir,
                lease_expires_ms, last_heartbeat_ms, last_error, created_ms
         FROM vp_sessions ORDER BY vp_id",
        "SELECT * FROM vp_missions ORDER BY id",
        "SELECT event_id, mission_id, vp_id, event_type, payload, created_ms
         FROM vp_events ORDER BY event_id",
        "SELECT event_id, session_id, vp_id, event_type, payload, created_ms
         FROM vp_session_events ORDER BY event_id",
        "SELECT next_at_ms, applied, plan FROM vp_pending ORDER BY next_at_ms, plan",
        "SELECT * FROM vp_state",
    ] {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                .collect();
            out.push(cells.join("|"));
        }
    }
    out
}

pub(super) fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

pub(super) fn query(vp_id: &str, missions: u32, events: u32) -> VpMetricsQuery {
    VpMetricsQuery {
        vp_id: Some(vp_id.into()),
        mission_limit: Some(missions),
        event_limit: Some(events),
    }
}

pub(super) fn forced(rate: f64) -> SimConfig {
    SimConfig {
        sim_vp_force_fallback_rate: vec![LaneRate {
            vp_id: CODER.into(),
            rate,
        }],
        ..SimConfig::default()
    }
}
