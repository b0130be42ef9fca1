//! Plans and how they are applied: the timed steps of a mission or a session
//! incident, written to the tables as their time comes and queued in
//! `vp_pending` until then, with the lanes' totals kept as they go.

use opsdeck_api::vp::event_type;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::lanes::{LANE_COUNT, LANES};
use super::routing;
use crate::error::{Result, SimError};

/// A steady session's heartbeat cadence and lease length.
const HEARTBEAT_MS: i64 = 15_000;
const LEASE_MS: i64 = 60_000;
/// Who holds the lanes' leases.
const LEASE_OWNER: &str = "ua-gateway-01";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Plan {
    Mission(MissionPlan),
    Session(SessionPlan),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct MissionPlan {
    pub(super) row: i64,
    pub(super) lane: usize,
    pub(super) mission_id: String,
    pub(super) run_id: String,
    pub(super) objective: String,
    pub(super) result_ref: Option<String>,
    pub(super) steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Step {
    pub(super) at_ms: i64,
    pub(super) kind: StepKind,
    pub(super) payload: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum StepKind {
    Dispatched,
    Progress,
    Fallback,
    Completed,
    Failed,
}

impl StepKind {
    pub(super) fn event_type(self) -> &'static str {
        match self {
            StepKind::Dispatched => event_type::MISSION_DISPATCHED,
            StepKind::Progress => event_type::MISSION_PROGRESS,
            StepKind::Fallback => event_type::MISSION_FALLBACK,
            StepKind::Completed => event_type::MISSION_COMPLETED,
            StepKind::Failed => event_type::MISSION_FAILED,
        }
    }

    pub(super) fn suffix(self) -> &'static str {
        match self {
            StepKind::Dispatched => "dispatched",
            StepKind::Progress => "progress",
            StepKind::Fallback => "fallback",
            StepKind::Completed => "completed",
            StepKind::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SessionPlan {
    pub(super) lane: usize,
    pub(super) id: String,
    pub(super) steps: Vec<SessionStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SessionStep {
    pub(super) at_ms: i64,
    pub(super) kind: SessionStepKind,
    pub(super) payload: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum SessionStepKind {
    /// A new session (at bootstrap, or replacing an orphaned one).
    Created {
        session_id: String,
        runtime_id: String,
    },
    Degraded,
    /// Status only: the platform writes no event for it.
    Recovering,
    Resumed,
}

impl Plan {
    pub(super) fn len(&self) -> usize {
        match self {
            Plan::Mission(m) => m.steps.len(),
            Plan::Session(s) => s.steps.len(),
        }
    }

    pub(super) fn at(&self, i: usize) -> i64 {
        match self {
            Plan::Mission(m) => m.steps[i].at_ms,
            Plan::Session(s) => s.steps[i].at_ms,
        }
    }
}

/// Applies plans, keeping lane totals in memory until [`Applier::finish`].
pub(super) struct Applier<'c> {
    pub(super) conn: &'c Connection,
    /// Per lane: missions dispatched, and the change in running missions.
    pub(super) deltas: [(i64, i64); LANE_COUNT],
    /// Per lane: since when its missions are forced to the fallback path.
    forced_since: [Option<i64>; LANE_COUNT],
}

impl<'c> Applier<'c> {
    pub(super) fn new(conn: &'c Connection) -> Result<Self> {
        Ok(Applier {
            conn,
            deltas: [(0, 0); LANE_COUNT],
            forced_since: routing::forced_since(conn)?,
        })
    }

    /// The plan as the lane's routing runs it, when that differs: a mission
    /// not yet dispatched, on a lane forced since before its dispatch, is
    /// rerouted to the fallback path.
    fn routed(&self, plan: &Plan, from: usize) -> Option<Plan> {
        let Plan::Mission(m) = plan else {
            return None;
        };
        let since = self.forced_since[m.lane]?;
        (from == 0 && m.steps[0].at_ms >= since).then(|| Plan::Mission(routing::reroute(m)))
    }

    /// Apply `plan` from step `from` through every step due by `until_ms`;
    /// returns the index of the first step not applied.
    fn apply(&mut self, plan: &Plan, from: usize, until_ms: i64) -> Result<usize> {
        let mut next = from;
        while next < plan.len() && plan.at(next) <= until_ms {
            next += 1;
        }
        if next > from {
            match plan {
                Plan::Mission(m) => self.apply_mission(m, from, next)?,
                Plan::Session(s) => {
                    for step in &s.steps[from..next] {
                        self.apply_session_step(s, step)?;
                    }
                }
            }
        }
        Ok(next)
    }

    /// Apply `plan`, queueing what is not due yet.
    pub(super) fn apply_or_queue(&mut self, plan: &Plan, until_ms: i64) -> Result<()> {
        let routed = self.routed(plan, 0);
        let plan = routed.as_ref().unwrap_or(plan);
        let next = self.apply(plan, 0, until_ms)?;
        if next < plan.len() {
            self.conn
                .prepare_cached(
                    "INSERT INTO vp_pending (next_at_ms, applied, plan) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![plan.at(next), next as i64, encode(plan)?])?;
        }
        Ok(())
    }

    fn apply_mission(&mut self, m: &MissionPlan, from: usize, to: usize) -> Result<()> {
        let lane = &LANES[m.lane];
        {
            let mut insert = self.conn.prepare_cached(
                "INSERT INTO vp_events (event_id, mission_id, vp_id, event_type, payload, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (i, step) in m.steps.iter().enumerate().take(to).skip(from) {
                let event_id = if step.kind == StepKind::Progress {
                    format!("{}.progress.{i}", m.mission_id)
                } else {
                    format!("{}.{}", m.mission_id, step.kind.suffix())
                };
                insert.execute(params![
                    event_id,
                    m.mission_id,
                    lane.vp_id,
                    step.kind.event_type(),
                    step.payload.as_ref().map(Value::to_string),
                    step.at_ms,
                ])?;
            }
        }
        // The mission's state once steps[..to] have happened.
        let dispatched = m.steps[0].at_ms;
        let done = m.steps[..to]
            .iter()
            .find(|s| matches!(s.kind, StepKind::Completed | StepKind::Failed));
        let status = match done.map(|s| s.kind) {
            Some(StepKind::Completed) => "completed",
            Some(_) => "failed",
            None => "running",
        };
        let completed = done.map(|s| s.at_ms);
        let duration = completed.map(|c| c - dispatched);
        let fallback = m.steps[..to].iter().any(|s| s.kind == StepKind::Fallback);
        let result_ref = done
            .filter(|s| s.kind == StepKind::Completed)
            .and(m.result_ref.as_deref());
        let updated = m.steps[to - 1].at_ms;
        if from == 0 {
            self.conn
                .prepare_cached(
                    "INSERT INTO vp_missions (id, mission_id, vp_id, run_id, status, objective,
                         result_ref, dispatched_ms, started_ms, completed_ms, updated_ms,
                         duration_ms, fallback)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12)",
                )?
                .execute(params![
                    m.row,
                    m.mission_id,
                    lane.vp_id,
                    m.run_id,
                    status,
                    m.objective,
                    result_ref,
                    dispatched,
                    completed,
                    updated,
                    duration,
                    fallback,
                ])?;
            self.deltas[m.lane].0 += 1;
            self.deltas[m.lane].1 += 1;
        } else {
            self.conn
                .prepare_cached(
                    "UPDATE vp_missions SET status = ?2, result_ref = ?3, completed_ms = ?4,
                         updated_ms = ?5, duration_ms = ?6, fallback = ?7
                     WHERE id = ?1",
                )?
                .execute(params![
                    m.row, status, result_ref, completed, updated, duration, fallback
                ])?;
        }
        if m.steps[from..to]
            .iter()
            .any(|s| matches!(s.kind, StepKind::Completed | StepKind::Failed))
        {
            self.deltas[m.lane].1 -= 1;
        }
        Ok(())
    }

    fn apply_session_step(&mut self, plan: &SessionPlan, step: &SessionStep) -> Result<()> {
        let lane = &LANES[plan.lane];
        let current: Option<String> = self
            .conn
            .prepare_cached("SELECT session_id FROM vp_sessions WHERE vp_id = ?1")?
            .query_row(params![lane.vp_id], |r| r.get(0))
            .optional()?;
        let at = step.at_ms;
        let (event, session_id) = match &step.kind {
            SessionStepKind::Created {
                session_id,
                runtime_id,
            } => {
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO vp_sessions (vp_id, session_id, status, runtime_id,
                             lease_owner, workspace_dir, lease_expires_ms, last_heartbeat_ms,
                             last_error, created_ms, updated_ms)
                         VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6, ?7, NULL, ?7, ?7)",
                    )?
                    .execute(params![
                        lane.vp_id,
                        session_id,
                        runtime_id,
                        LEASE_OWNER,
                        lane.workspace_dir,
                        at + LEASE_MS,
                        at,
                    ])?;
                (Some(event_type::SESSION_CREATED), session_id.clone())
            }
            SessionStepKind::Degraded => {
                let error = step
                    .payload
                    .as_ref()
                    .and_then(|p| p.get("error"))
                    .and_then(Value::as_str);
                self.conn
                    .prepare_cached(
                        "UPDATE vp_sessions SET status = 'degraded', last_error = ?2,
                             last_heartbeat_ms = ?3, lease_expires_ms = ?4, updated_ms = ?4
                         WHERE vp_id = ?1",
                    )?
                    .execute(params![lane.vp_id, error, at - 95_000, at])?;
                (
                    Some(event_type::SESSION_DEGRADED),
                    current.unwrap_or_default(),
                )
            }
            SessionStepKind::Recovering => {
                self.conn
                    .prepare_cached(
                        "UPDATE vp_sessions SET status = 'recovering', updated_ms = ?2 WHERE vp_id = ?1",
                    )?
                    .execute(params![lane.vp_id, at])?;
                (None, current.unwrap_or_default())
            }
            SessionStepKind::Resumed => {
                self.conn
                    .prepare_cached(
                        "UPDATE vp_sessions SET status = 'active', last_heartbeat_ms = ?2,
                             lease_expires_ms = ?3, updated_ms = ?2
                         WHERE vp_id = ?1",
                    )?
                    .execute(params![lane.vp_id, at, at + LEASE_MS])?;
                (
                    Some(event_type::SESSION_RESUMED),
                    current.unwrap_or_default(),
                )
            }
        };
        if let Some(kind) = event {
            let mut payload = step.payload.clone().unwrap_or_else(|| json!({}));
            if let Some(map) = payload.as_object_mut() {
                map.entry("session_id")
                    .or_insert_with(|| Value::String(session_id.clone()));
            }
            let suffix = kind.rsplit('.').next().unwrap_or(kind);
            self.conn
                .prepare_cached(
                    "INSERT INTO vp_session_events (event_id, session_id, vp_id, event_type, payload, created_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    format!("{}.{suffix}", plan.id),
                    session_id,
                    lane.vp_id,
                    kind,
                    payload.to_string(),
                    at,
                ])?;
        }
        Ok(())
    }

    /// Write the lane totals, then bring the sessions' heartbeat and
    /// active/idle status up to `now_ms`.
    pub(super) fn finish(self, now_ms: i64) -> Result<()> {
        for (lane, (missions, running)) in LANES.iter().zip(self.deltas) {
            if missions != 0 || running != 0 {
                self.conn
                    .prepare_cached(
                        "UPDATE vp_lanes SET mission_count = mission_count + ?2,
                             running = running + ?3 WHERE vp_id = ?1",
                    )?
                    .execute(params![lane.vp_id, missions, running])?;
            }
        }
        let beat = now_ms - now_ms.rem_euclid(HEARTBEAT_MS);
        self.conn
            .prepare_cached(
                "UPDATE vp_sessions SET last_heartbeat_ms = ?1, lease_expires_ms = ?2
                 WHERE status IN ('active', 'idle') AND COALESCE(last_heartbeat_ms, 0) < ?1",
            )?
            .execute(params![beat, beat + LEASE_MS])?;
        self.conn
            .prepare_cached(
                "UPDATE vp_sessions SET
                     status = CASE WHEN (SELECT running FROM vp_lanes l
                                         WHERE l.vp_id = vp_sessions.vp_id) > 0
                                   THEN 'active' ELSE 'idle' END,
                     updated_ms = ?1
                 WHERE status IN ('active', 'idle')
                   AND status <> CASE WHEN (SELECT running FROM vp_lanes l
                                            WHERE l.vp_id = vp_sessions.vp_id) > 0
                                      THEN 'active' ELSE 'idle' END",
            )?
            .execute(params![now_ms])?;
        Ok(())
    }
}

pub(super) fn encode(plan: &Plan) -> Result<String> {
    serde_json::to_string(plan).map_err(|e| SimError::Task(format!("cannot queue a VP plan: {e}")))
}

/// Apply every queued step due by `until_ms`, in time order.
pub(super) fn apply_pending(a: &mut Applier<'_>, until_ms: i64) -> Result<()> {
    loop {
        let due: Vec<(i64, i64, String)> = {
            let mut stmt = a.conn.prepare_cached(
                "SELECT id, applied, plan FROM vp_pending WHERE next_at_ms <= ?1
                 ORDER BY next_at_ms, id LIMIT 512",
            )?;
            let rows =
                stmt.query_map(params![until_ms], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if due.is_empty() {
            return Ok(());
        }
        for (id, applied, text) in due {
            let queued: Plan = serde_json::from_str(&text)
                .map_err(|e| SimError::Task(format!("unreadable queued VP plan {id}: {e}")))?;
            let routed = a.routed(&queued, applied as usize);
            let plan = routed.as_ref().unwrap_or(&queued);
            let next = a.apply(plan, applied as usize, until_ms)?;
            if next < plan.len() {
                // A rerouted plan is queued as rerouted.
                let text = match &routed {
                    Some(p) => encode(p)?,
                    None => text,
                };
                a.conn
                    .prepare_cached(
                        "UPDATE vp_pending SET next_at_ms = ?2, applied = ?3, plan = ?4 WHERE id = ?1",
                    )?
                    .execute(params![id, plan.at(next), next as i64, text])?;
            } else {
                a.conn
                    .prepare_cached("DELETE FROM vp_pending WHERE id = ?1")?
                    .execute(params![id])?;
            }
        }
    }
}
