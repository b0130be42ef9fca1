//! The lanes' force-fallback switch (`UA_CODER_VP_FORCE_FALLBACK` per lane):
//! kept in `vp_routing`, read by the lane list, and honoured as missions are
//! dispatched. It is the platform's setting, not the world's, so a world
//! reset leaves it as it was.

use chrono::{DateTime, Utc};
use opsdeck_api::vp::{VpRouting, VpRoutingChange};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::apply::{MissionPlan, Step, StepKind};
use super::lanes::{LANE_COUNT, LANES};
use super::model::{lognormal, to_time};
use crate::error::Result;
use crate::rng::Rng;

/// Written in the fallback payload of every mission a forced lane reroutes.
pub const FORCED_REASON: &str = "forced_fallback";

/// `GET /api/v1/ops/lanes/{vp_id}/routing` of a known lane.
pub fn routing(conn: &Connection, vp_id: &str) -> Result<VpRouting> {
    let row = conn
        .prepare_cached(
            "SELECT force_fallback, reason, changed_by, changed_ms FROM vp_routing WHERE vp_id = ?1",
        )?
        .query_row(params![vp_id], |r| {
            Ok((
                r.get::<_, bool>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ))
        })
        .optional()?;
    let (force_fallback, reason, changed_by, changed_ms) = row.unwrap_or((false, None, None, None));
    Ok(VpRouting {
        vp_id: vp_id.to_owned(),
        force_fallback,
        reason,
        changed_by,
        changed_at: changed_ms.map(to_time),
    })
}

/// Set a known lane's switch as of `now`. Missions dispatched from `now` on
/// follow it; those already dispatched finish as they began.
pub fn set_routing(
    conn: &Connection,
    vp_id: &str,
    change: &VpRoutingChange,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<VpRouting> {
    conn.prepare_cached(
        "INSERT INTO vp_routing (vp_id, force_fallback, reason, changed_by, changed_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (vp_id) DO UPDATE SET force_fallback = ?2, reason = ?3,
             changed_by = ?4, changed_ms = ?5",
    )?
    .execute(params![
        vp_id,
        change.force_fallback,
        change.reason,
        actor,
        now.timestamp_millis()
    ])?;
    routing(conn, vp_id)
}

/// Per lane (in [`LANES`] order), since when it is forced, if it is.
pub(super) fn forced_since(conn: &Connection) -> Result<[Option<i64>; LANE_COUNT]> {
    let mut out = [None; LANE_COUNT];
    for (slot, lane) in out.iter_mut().zip(&LANES) {
        *slot = conn
            .prepare_cached(
                "SELECT changed_ms FROM vp_routing WHERE vp_id = ?1 AND force_fallback = 1",
            )?
            .query_row(params![lane.vp_id], |r| r.get(0))
            .optional()?
            .flatten();
    }
    Ok(out)
}

/// `m` as a forced lane runs it: dispatched, handed straight to the
/// fallback path, and finished there. The primary path's duration is drawn
/// from the mission id, so a replay reroutes it the same way.
pub(super) fn reroute(m: &MissionPlan) -> MissionPlan {
    let dispatched = m.steps[0].at_ms;
    let mut rng = Rng::new(fnv1a(m.mission_id.as_bytes()));
    let trace = format!("trace-forced-{:016x}", rng.next_u64());
    let handed_over = dispatched + 200;
    let done = handed_over + (lognormal(&mut rng, 9.0, 0.5).clamp(1.0, 300.0) * 1000.0) as i64;
    MissionPlan {
        result_ref: Some(format!("primary://missions/{}", m.mission_id)),
        steps: vec![
            m.steps[0].clone(),
            Step {
                at_ms: handed_over,
                kind: StepKind::Fallback,
                payload: Some(json!({
                    "reason": FORCED_REASON,
                    "error": "lane forced to the fallback path (UA_CODER_VP_FORCE_FALLBACK=1)",
                    "trace_id": trace,
                })),
            },
            Step {
                at_ms: done,
                kind: StepKind::Completed,
                payload: Some(json!({ "trace_id": trace, "route": "primary" })),
            },
        ],
        ..m.clone()
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
