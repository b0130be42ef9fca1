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

use std::collections::BTreeMap;
use std::f64::consts::TAU;

use chrono::{DateTime, Utc};
use opsdeck_api::vp::{
    MISSION_MAX_LIMIT, VpAggregates, VpEvent, VpEventPayload, VpFallback, VpLane, VpLanes,
    VpLatency, VpMetricsQuery, VpMission, VpOpsEvent, VpOpsMetrics, VpOpsMission, VpOpsSession,
    VpRecovery, VpSeries, VpSeriesBucket, VpSeriesQuery, VpSession, VpSessionHealth,
    VpSessionStatus, event_type,
};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::SimConfig;
use crate::error::{Result, SimError};
use crate::rng::Rng;

/// Tables of the VP lanes. `vp_lanes` keeps each lane's maintained totals;
/// `vp_pending` the planned steps not yet due; `vp_state` how far planning got.
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
CREATE TABLE IF NOT EXISTS vp_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    first_hour       INTEGER NOT NULL,
    seeded_hour      INTEGER NOT NULL,
    planned_through  INTEGER NOT NULL,
    next_mission_row INTEGER NOT NULL
);
"#;

const HOUR_MS: i64 = 3_600_000;
/// A steady session's heartbeat cadence and lease length.
const HEARTBEAT_MS: i64 = 15_000;
const LEASE_MS: i64 = 60_000;
/// Forcing covers at least this many of the newest backfilled hours.
const FORCE_MIN_HOURS: i64 = 6;
/// Who holds the lanes' leases.
const LEASE_OWNER: &str = "ua-gateway-01";

/// One lane of the model: who it is and how it behaves when nothing is forced.
#[derive(Debug)]
pub struct Lane {
    /// Lane id (`vp.coder.primary`).
    pub vp_id: &'static str,
    /// What people call it.
    pub display_name: &'static str,
    /// Share of `SIM_VP_MISSIONS_PER_HOUR` the lane runs.
    pub weight: f64,
    /// Typical chance a mission falls back, before drift and bad hours.
    fallback_base: f64,
    /// Typical chance a mission fails outright (no fallback).
    failed_base: f64,
    /// Median mission duration in seconds, before drift and load.
    median_s: f64,
    /// Spread of the lognormal duration (p95 is `median · e^(1.645 σ)`).
    sigma: f64,
    /// Session incidents (`vp.session.degraded`) an hour.
    incidents_per_hour: f64,
    /// Chance a recovery resumes the session rather than orphaning it.
    recovery_p: f64,
    workspace_dir: &'static str,
    objectives: &'static [&'static str],
    progress_steps: &'static [&'static str],
}

/// How many lanes the model runs.
pub const LANE_COUNT: usize = 2;

/// The lanes this platform runs, in a fixed order (it is part of the seed).
pub static LANES: [Lane; LANE_COUNT] = [
    Lane {
        vp_id: "vp.coder.primary",
        display_name: "CODIE",
        weight: 1.0,
        fallback_base: 0.018,
        failed_base: 0.006,
        median_s: 13.0,
        sigma: 0.6,
        incidents_per_hour: 1.0 / 12.0,
        recovery_p: 0.97,
        workspace_dir: "/var/lib/ua/vp/vp_coder_primary",
        objectives: &[
            "Fix flaky test tests/gateway/test_resume.py::test_resume_after_restart",
            "Add exponential backoff with jitter to the webhook sender",
            "Refactor lease renewal in the VP session registry",
            "Bump tokio to 1.48 and fix the deprecation warnings",
            "Add an index on vp_events (vp_id, created_at) with a migration",
            "Port the CSV exporter to streaming writes",
            "Investigate the p95 regression on GET /api/v1/sessions",
            "Add type hints to universal_agent/durable/state.py",
        ],
        progress_steps: &["workspace ready", "running tests", "applying patch"],
    },
    Lane {
        vp_id: "vp.research.primary",
        display_name: "Research",
        weight: 0.4,
        fallback_base: 0.045,
        failed_base: 0.01,
        median_s: 19.0,
        sigma: 0.55,
        incidents_per_hour: 1.0 / 6.0,
        recovery_p: 0.85,
        workspace_dir: "/var/lib/ua/vp/vp_research_primary",
        objectives: &[
            "Summarise this week's papers on speculative decoding",
            "Compare managed vector databases for 10M embeddings",
            "Collect LLM provider pricing changes since January",
            "Survey retry strategies for long-running agent tool calls",
            "Draft a brief on EU AI Act duties for agent platforms",
        ],
        progress_steps: &["searching sources", "reading documents", "drafting summary"],
    },
];

/// The lane called `vp_id`, with its index in [`LANES`].
pub fn lane(vp_id: &str) -> Option<(usize, &'static Lane)> {
    LANES.iter().enumerate().find(|(_, l)| l.vp_id == vp_id)
}

/// `vp.coder.primary, vp.research.primary`: for error messages.
pub fn lane_list() -> String {
    LANES.iter().map(|l| l.vp_id).collect::<Vec<_>>().join(", ")
}

/// How long after a failure starts the lane gives up.
#[derive(Debug, Clone, Copy)]
enum Timing {
    /// An error answered at once (a few seconds).
    Fast,
    /// Work that ran a while first (tens of seconds).
    Slow,
    /// A timeout: this many seconds.
    After(f64),
}

/// A failure the model writes into a payload: `reason`, `error`, and when it strikes.
#[derive(Debug)]
pub struct Failure {
    /// Payload `reason`.
    pub reason: &'static str,
    /// Payload `error`: operator-only text.
    pub error: &'static str,
    timing: Timing,
    weight: u64,
}

/// Why missions fall back to the primary path.
pub static FALLBACK_FAILURES: [Failure; 7] = [
    Failure {
        reason: "vp_execution_error",
        error: "anthropic: 529 overloaded_error: Overloaded",
        timing: Timing::Fast,
        weight: 5,
    },
    Failure {
        reason: "provider_timeout",
        error: "provider timeout: no first token from claude-sonnet-4 within 45s",
        timing: Timing::After(45.0),
        weight: 4,
    },
    Failure {
        reason: "vp_execution_error",
        error: "openai: 429 rate_limit_exceeded: Rate limit reached for gpt-4.1 (tokens per min)",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "vp_execution_error",
        error: "tool bash exited 137 (OOM killed) while running the test suite",
        timing: Timing::Slow,
        weight: 2,
    },
    Failure {
        reason: "context_overflow",
        error: "prompt is too long: 214882 tokens > 200000 maximum",
        timing: Timing::Fast,
        weight: 1,
    },
    Failure {
        reason: "vp_timeout",
        error: "mission exceeded its 120s wall-clock budget",
        timing: Timing::After(120.0),
        weight: 2,
    },
    Failure {
        reason: "adapter_error",
        error: "ProcessTurnAdapter: stream closed before the final message (ECONNRESET)",
        timing: Timing::Slow,
        weight: 2,
    },
];

/// Why missions dispatched while the lane's session is down fall back.
pub static SESSION_UNAVAILABLE: Failure = Failure {
    reason: "vp_session_unavailable",
    error: "no live VP session: lease expired, recovery in progress",
    timing: Timing::Fast,
    weight: 1,
};

/// Why missions fail outright.
pub static MISSION_FAILURES: [Failure; 3] = [
    Failure {
        reason: "workspace_error",
        error: "git clone failed: remote: Repository not found",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "budget_exceeded",
        error: "mission token budget exhausted (150000 tokens)",
        timing: Timing::Slow,
        weight: 2,
    },
    Failure {
        reason: "mission_rejected",
        error: "objective failed validation: path outside the workspace",
        timing: Timing::Fast,
        weight: 1,
    },
];

/// Why sessions degrade (also their `last_error`).
pub static SESSION_FAILURES: [Failure; 3] = [
    Failure {
        reason: "lease_heartbeat_failed",
        error: "heartbeat missed 3 times; last seen 95s ago",
        timing: Timing::Fast,
        weight: 3,
    },
    Failure {
        reason: "runtime_unreachable",
        error: "runtime unreachable: connect ECONNREFUSED 10.0.3.14:7443",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "worker_crashed",
        error: "worker process exited with signal SIGKILL",
        timing: Timing::Fast,
        weight: 1,
    },
];

/// Every free-text error the model writes into payloads and `last_error`:
/// what only operators may see.
pub fn payload_errors() -> impl Iterator<Item = &'static Failure> {
    FALLBACK_FAILURES
        .iter()
        .chain(std::iter::once(&SESSION_UNAVAILABLE))
        .chain(MISSION_FAILURES.iter())
        .chain(SESSION_FAILURES.iter())
}

fn pick<'a>(rng: &mut Rng, failures: &'a [Failure]) -> &'a Failure {
    let total: u64 = failures.iter().map(|f| f.weight).sum();
    let mut roll = rng.below(total);
    for f in failures {
        if roll < f.weight {
            return f;
        }
        roll -= f.weight;
    }
    &failures[0]
}

fn seconds_to(rng: &mut Rng, timing: Timing) -> f64 {
    match timing {
        Timing::Fast => lognormal(rng, 2.5, 0.6).clamp(0.2, 20.0),
        Timing::Slow => lognormal(rng, 25.0, 0.5).clamp(5.0, 300.0),
        Timing::After(s) => s + rng.range(0.05, 1.5),
    }
}

// ---------------------------------------------------------------------------
// Seeded randomness
// ---------------------------------------------------------------------------

/// Stream ids, so each part of a lane-hour draws from its own generator and
/// changing one part of the model does not reshuffle the others.
mod stream {
    pub const PHASE_SLOW: u64 = 1;
    pub const PHASE_MID: u64 = 2;
    pub const BAD_HOUR: u64 = 3;
    pub const MISSIONS: u64 = 4;
    pub const SESSIONS: u64 = 5;
    pub const BOOTSTRAP: u64 = 6;
}

/// A generator for (seed, lane, hour, stream), independent of when it is asked for.
fn rng_for(seed: u64, lane: usize, hour: i64, stream: u64) -> Rng {
    let mut mix = Rng::new(seed ^ 0x5650_4c41_4e45_u64);
    let base = mix.next_u64();
    let mut rng = Rng::new(
        base ^ (hour as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ ((lane as u64 + 1) << 56)
            ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93),
    );
    // Let nearby inputs drift apart before the first draw that matters.
    rng.next_u64();
    rng
}

fn lognormal(rng: &mut Rng, median: f64, sigma: f64) -> f64 {
    median * (sigma * rng.normal()).exp()
}

fn poisson(rng: &mut Rng, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 30.0 {
        // Knuth: fine for small means.
        let limit = (-mean).exp();
        let mut k = 0;
        let mut p = rng.unit();
        while p > limit {
            k += 1;
            p *= rng.unit();
        }
        k
    } else {
        (mean + mean.sqrt() * rng.normal()).round().max(0.0) as u64
    }
}

fn hex(rng: &mut Rng, digits: usize) -> String {
    let v = rng.next_u64();
    format!("{v:016x}")[..digits.min(16)].to_owned()
}

fn ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS)
}

fn to_time(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

// ---------------------------------------------------------------------------
// The lane model
// ---------------------------------------------------------------------------

/// How a lane behaves during one hour.
#[derive(Debug, Clone, Copy)]
struct Health {
    /// Mission arrival relative to nominal (daily rhythm and drift).
    load: f64,
    fallback_p: f64,
    failed_p: f64,
    /// Multiplies the lane's median duration.
    latency: f64,
    /// Multiplies the session incident rate.
    incidents: f64,
}

fn health(seed: u64, lane_ix: usize, hour: i64) -> Health {
    let lane = &LANES[lane_ix];
    let t = hour as f64;
    let phase = |s| rng_for(seed, lane_ix, 0, s).unit() * TAU;
    // Two slow waves make a wandering drift in [-1, 1]: charts show trends.
    let slow = (TAU * t / (47.0 + 6.0 * lane_ix as f64) + phase(stream::PHASE_SLOW)).sin();
    let mid = (TAU * t / 17.0 + phase(stream::PHASE_MID)).sin();
    let drift = 0.65 * slow + 0.35 * mid;
    // Busiest mid-afternoon UTC, quietest before dawn.
    let hour_of_day = hour.rem_euclid(24) as f64;
    let load = (1.0 + 0.45 * (TAU * (hour_of_day - 9.0) / 24.0).sin()) * (1.0 + 0.1 * drift);
    let mut h = Health {
        load,
        fallback_p: lane.fallback_base * (0.9 * drift).exp(),
        failed_p: lane.failed_base,
        // Busy hours queue: latency rises with load.
        latency: (0.18 * drift).exp() * (1.0 + 0.15 * (load - 1.0)),
        incidents: 1.0,
    };
    // Now and then an hour of adapter instability.
    if rng_for(seed, lane_ix, hour, stream::BAD_HOUR).chance(0.025) {
        h.fallback_p = (h.fallback_p * 5.0).min(0.6);
        h.latency *= 1.5;
        h.incidents = 4.0;
    }
    h
}

/// A stretch during which the lane's session is down (degraded, then
/// recovering, until resumed or replaced).
#[derive(Debug, Clone, Copy)]
struct Outage {
    from_ms: i64,
    until_ms: i64,
}

/// A session incident as planned.
#[derive(Debug, Clone)]
struct Incident {
    at_ms: i64,
    recovering_ms: i64,
    resolved_ms: i64,
    failure: &'static Failure,
    resumed: bool,
    id: String,
    new_session: String,
    new_runtime: String,
    trace: String,
}

/// Incidents drawn for a lane-hour before overlaps are removed.
fn raw_incidents(seed: u64, lane_ix: usize, hour: i64) -> Vec<Incident> {
    let lane = &LANES[lane_ix];
    let h = health(seed, lane_ix, hour);
    let mut rng = rng_for(seed, lane_ix, hour, stream::SESSIONS);
    let n = poisson(&mut rng, lane.incidents_per_hour * h.incidents);
    let start = hour * HOUR_MS;
    let mut out: Vec<Incident> = (0..n)
        .map(|_| {
            let at_ms = start + rng.below(HOUR_MS as u64) as i64;
            let failure = pick(&mut rng, &SESSION_FAILURES);
            let resumed = rng.chance(lane.recovery_p);
            let recovering_ms = at_ms + ms(rng.range(5.0, 20.0));
            let resolved_ms = if resumed {
                recovering_ms + ms(lognormal(&mut rng, 40.0, 0.6).clamp(5.0, 600.0))
            } else {
                // Orphaned until a replacement session is created.
                at_ms + ms(rng.range(240.0, 900.0))
            };
            Incident {
                at_ms,
                recovering_ms,
                resolved_ms,
                failure,
                resumed,
                id: format!("vp-incident-{}", hex(&mut rng, 12)),
                new_session: format!("{}.session.{}", lane.vp_id, hex(&mut rng, 8)),
                new_runtime: format!("rt-{}", hex(&mut rng, 8)),
                trace: format!("trace-{}", hex(&mut rng, 16)),
            }
        })
        .collect();
    out.sort_by_key(|i| i.at_ms);
    out
}

/// The incidents that happen in a lane-hour: those that start at least a
/// minute after every earlier one (of this hour and the one before) ended.
/// Incidents last under an hour, so looking one hour back is enough.
fn incidents(seed: u64, lane_ix: usize, hour: i64) -> Vec<Incident> {
    let mut busy_until = raw_incidents(seed, lane_ix, hour - 1)
        .iter()
        .map(|i| i.resolved_ms)
        .max()
        .unwrap_or(i64::MIN);
    let mut out = Vec::new();
    for i in raw_incidents(seed, lane_ix, hour) {
        if i.at_ms > busy_until.saturating_add(60_000) {
            busy_until = i.resolved_ms;
            out.push(i);
        }
    }
    out
}

/// What the planner needs to know beyond the lane-hour itself.
#[derive(Debug, Clone, Copy)]
struct PlanCtx<'a> {
    seed: u64,
    config: &'a SimConfig,
    /// The first planned hour: incidents before it never happened.
    first_hour: i64,
    /// The hour the world was seeded in (the end of the backfill).
    seeded_hour: i64,
}

impl PlanCtx<'_> {
    /// The forced fallback rate of a lane in `hour`, if any: live hours, and
    /// the newest backfilled hours long enough to hold [`MISSION_MAX_LIMIT`]
    /// missions twice over at the lane's nominal rate (at least
    /// [`FORCE_MIN_HOURS`]), so every metrics window sees the forced lane
    /// from the moment the sim starts.
    fn forced(&self, lane_ix: usize, hour: i64) -> Option<f64> {
        let lane = &LANES[lane_ix];
        let rate = self
            .config
            .sim_vp_force_fallback_rate
            .iter()
            .find(|f| f.vp_id == lane.vp_id)?
            .rate;
        let per_hour = f64::from(self.config.sim_vp_missions_per_hour) * lane.weight;
        let window = if per_hour > 0.0 {
            ((2.0 * f64::from(MISSION_MAX_LIMIT) / per_hour).ceil() as i64).max(FORCE_MIN_HOURS)
        } else {
            FORCE_MIN_HOURS
        };
        (hour > self.seeded_hour - window).then_some(rate)
    }
}

/// Plan what happens on a lane in an hour: its session incidents and its
/// missions. `next_row` hands out mission row ids in planning order.
fn plan_hour(ctx: &PlanCtx<'_>, lane_ix: usize, hour: i64, next_row: &mut i64) -> Vec<Plan> {
    let lane = &LANES[lane_ix];
    let h = health(ctx.seed, lane_ix, hour);
    let mut plans = Vec::new();

    let here = incidents(ctx.seed, lane_ix, hour);
    let mut outages: Vec<Outage> = here
        .iter()
        .map(|i| Outage {
            from_ms: i.at_ms,
            until_ms: i.resolved_ms,
        })
        .collect();
    if hour > ctx.first_hour {
        outages.extend(
            incidents(ctx.seed, lane_ix, hour - 1)
                .iter()
                .map(|i| Outage {
                    from_ms: i.at_ms,
                    until_ms: i.resolved_ms,
                }),
        );
    }
    for i in here {
        plans.push(Plan::Session(session_plan(lane_ix, &i)));
    }

    let mut rng = rng_for(ctx.seed, lane_ix, hour, stream::MISSIONS);
    let mean = f64::from(ctx.config.sim_vp_missions_per_hour) * lane.weight * h.load;
    let n = poisson(&mut rng, mean);
    let start = hour * HOUR_MS;
    let mut times: Vec<i64> = (0..n)
        .map(|_| start + rng.below(HOUR_MS as u64) as i64)
        .collect();
    times.sort_unstable();
    // One dispatch per millisecond per lane, so "newest first" has no ties.
    for i in 1..times.len() {
        if times[i] <= times[i - 1] {
            times[i] = times[i - 1] + 1;
        }
    }
    let forced = ctx.forced(lane_ix, hour);
    // Forced fallbacks are spread evenly (a random offset, then every
    // 1/rate-th mission), so any window of recent missions shows the rate.
    let offset = rng.unit();
    let mut counted = 0u64;
    for at in times {
        let down = outages.iter().any(|o| o.from_ms <= at && at < o.until_ms);
        let falls_back = if down {
            false
        } else if let Some(rate) = forced {
            let k = counted as f64;
            counted += 1;
            ((k + 1.0) * rate + offset).floor() > (k * rate + offset).floor()
        } else {
            rng.chance(h.fallback_p)
        };
        let row = *next_row;
        *next_row += 1;
        plans.push(Plan::Mission(mission_plan(
            &mut rng, lane_ix, &h, row, at, down, falls_back,
        )));
    }
    plans
}

fn mission_plan(
    rng: &mut Rng,
    lane_ix: usize,
    h: &Health,
    row: i64,
    at: i64,
    session_down: bool,
    falls_back: bool,
) -> MissionPlan {
    let lane = &LANES[lane_ix];
    let mission_id = format!("vp-mission-{}", hex(rng, 16));
    let run_id = format!("run_{}", hex(rng, 12));
    let objective = lane.objectives[rng.below(lane.objectives.len() as u64) as usize].to_owned();
    let trace = format!("trace-{}", hex(rng, 16));
    let mut steps = vec![Step {
        at_ms: at,
        kind: StepKind::Dispatched,
        payload: Some(json!({ "run_id": run_id })),
    }];
    let progress = |steps: &mut Vec<Step>, rng: &mut Rng, until: f64, count: u64| {
        let mut fractions: Vec<f64> = (0..count).map(|_| rng.range(0.15, 0.9)).collect();
        fractions.sort_by(f64::total_cmp);
        for f in fractions {
            let step = lane.progress_steps[rng.below(lane.progress_steps.len() as u64) as usize];
            steps.push(Step {
                at_ms: at + ms(until * f),
                kind: StepKind::Progress,
                payload: Some(json!({ "step": step, "percent": (f * 100.0).round() as u32 })),
            });
        }
    };
    let failure_payload = |f: &Failure, trace: &str| json!({ "reason": f.reason, "error": f.error, "trace_id": trace });
    let mut result_ref = None;
    if session_down || falls_back {
        let failure = if session_down {
            &SESSION_UNAVAILABLE
        } else {
            pick(rng, &FALLBACK_FAILURES)
        };
        let gave_up = seconds_to(rng, failure.timing);
        if gave_up > 10.0 && rng.chance(0.6) {
            progress(&mut steps, rng, gave_up, 1);
        }
        steps.push(Step {
            at_ms: at + ms(gave_up),
            kind: StepKind::Fallback,
            payload: Some(failure_payload(failure, &trace)),
        });
        // The primary path picks the mission up and finishes it.
        let done = gave_up + lognormal(rng, 9.0, 0.5).clamp(1.0, 300.0);
        steps.push(Step {
            at_ms: at + ms(done),
            kind: StepKind::Completed,
            payload: Some(json!({ "trace_id": trace, "route": "primary" })),
        });
        result_ref = Some(format!("primary://missions/{mission_id}"));
    } else if rng.chance(h.failed_p) {
        let failure = pick(rng, &MISSION_FAILURES);
        let failed = seconds_to(rng, failure.timing);
        steps.push(Step {
            at_ms: at + ms(failed),
            kind: StepKind::Failed,
            payload: Some(failure_payload(failure, &trace)),
        });
    } else {
        let d = lognormal(rng, lane.median_s * h.latency, lane.sigma).clamp(1.5, 900.0);
        let count = if d > 8.0 { rng.below(3) } else { 0 };
        progress(&mut steps, rng, d, count);
        steps.push(Step {
            at_ms: at + ms(d),
            kind: StepKind::Completed,
            payload: Some(json!({ "trace_id": trace })),
        });
        result_ref = Some(format!(
            "workspace://{}/missions/{mission_id}",
            lane.vp_id.replace('.', "_")
        ));
    }
    // Steps are in time order already except that rounding could tie.
    steps.sort_by_key(|s| s.at_ms);
    MissionPlan {
        row,
        lane: lane_ix,
        mission_id,
        run_id,
        objective,
        result_ref,
        steps,
    }
}

fn session_plan(lane_ix: usize, i: &Incident) -> SessionPlan {
    let mut steps = vec![
        SessionStep {
            at_ms: i.at_ms,
            kind: SessionStepKind::Degraded,
            payload: Some(json!({
                "reason": i.failure.reason,
                "error": i.failure.error,
                "trace_id": i.trace,
                "attempt": 1,
            })),
        },
        SessionStep {
            at_ms: i.recovering_ms,
            kind: SessionStepKind::Recovering,
            payload: None,
        },
    ];
    if i.resumed {
        steps.push(SessionStep {
            at_ms: i.resolved_ms,
            kind: SessionStepKind::Resumed,
            payload: Some(json!({
                "outcome": "resumed",
                "recovery_seconds": (i.resolved_ms - i.at_ms) as f64 / 1000.0,
            })),
        });
    } else {
        steps.push(SessionStep {
            at_ms: i.resolved_ms,
            kind: SessionStepKind::Created {
                session_id: i.new_session.clone(),
                runtime_id: i.new_runtime.clone(),
            },
            payload: Some(json!({
                "reason": "recovery_failed",
                "session_id": i.new_session,
                "runtime_id": i.new_runtime,
            })),
        });
    }
    SessionPlan {
        lane: lane_ix,
        id: i.id.clone(),
        steps,
    }
}

// ---------------------------------------------------------------------------
// Plans and how they are applied
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
enum Plan {
    Mission(MissionPlan),
    Session(SessionPlan),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MissionPlan {
    row: i64,
    lane: usize,
    mission_id: String,
    run_id: String,
    objective: String,
    result_ref: Option<String>,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Step {
    at_ms: i64,
    kind: StepKind,
    payload: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum StepKind {
    Dispatched,
    Progress,
    Fallback,
    Completed,
    Failed,
}

impl StepKind {
    fn event_type(self) -> &'static str {
        match self {
            StepKind::Dispatched => event_type::MISSION_DISPATCHED,
            StepKind::Progress => event_type::MISSION_PROGRESS,
            StepKind::Fallback => event_type::MISSION_FALLBACK,
            StepKind::Completed => event_type::MISSION_COMPLETED,
            StepKind::Failed => event_type::MISSION_FAILED,
        }
    }

    fn suffix(self) -> &'static str {
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
struct SessionPlan {
    lane: usize,
    id: String,
    steps: Vec<SessionStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionStep {
    at_ms: i64,
    kind: SessionStepKind,
    payload: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
enum SessionStepKind {
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
    fn len(&self) -> usize {
        match self {
            Plan::Mission(m) => m.steps.len(),
            Plan::Session(s) => s.steps.len(),
        }
    }

    fn at(&self, i: usize) -> i64 {
        match self {
            Plan::Mission(m) => m.steps[i].at_ms,
            Plan::Session(s) => s.steps[i].at_ms,
        }
    }
}

/// Applies plans, keeping lane totals in memory until [`Applier::finish`].
struct Applier<'c> {
    conn: &'c Connection,
    /// Per lane: missions dispatched, and the change in running missions.
    deltas: [(i64, i64); LANE_COUNT],
}

impl<'c> Applier<'c> {
    fn new(conn: &'c Connection) -> Self {
        Applier {
            conn,
            deltas: [(0, 0); LANE_COUNT],
        }
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
    fn apply_or_queue(&mut self, plan: &Plan, until_ms: i64) -> Result<()> {
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
    fn finish(self, now_ms: i64) -> Result<()> {
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

fn encode(plan: &Plan) -> Result<String> {
    serde_json::to_string(plan).map_err(|e| SimError::Task(format!("cannot queue a VP plan: {e}")))
}

/// Apply every queued step due by `until_ms`, in time order.
fn apply_pending(a: &mut Applier<'_>, until_ms: i64) -> Result<()> {
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
            let plan: Plan = serde_json::from_str(&text)
                .map_err(|e| SimError::Task(format!("unreadable queued VP plan {id}: {e}")))?;
            let next = a.apply(&plan, applied as usize, until_ms)?;
            if next < plan.len() {
                a.conn
                    .prepare_cached(
                        "UPDATE vp_pending SET next_at_ms = ?2, applied = ?3 WHERE id = ?1",
                    )?
                    .execute(params![id, plan.at(next), next as i64])?;
            } else {
                a.conn
                    .prepare_cached("DELETE FROM vp_pending WHERE id = ?1")?
                    .execute(params![id])?;
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Seeding and growth
// ---------------------------------------------------------------------------

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
    let mut a = Applier::new(conn);
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
    let mut a = Applier::new(conn);
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

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

fn known_lane(vp_id: &str) -> Result<&'static Lane> {
    lane(vp_id).map(|(_, l)| l).ok_or_else(|| {
        SimError::NotFound(format!(
            "unknown VP lane {vp_id:?}: this platform runs {}",
            lane_list()
        ))
    })
}

/// `GET /api/v1/ops/metrics/coder-vp` as of `now`: the newest
/// `mission_limit` missions and `event_limit` events of each kind.
pub fn ops_metrics(
    conn: &Connection,
    query: &VpMetricsQuery,
    now: DateTime<Utc>,
) -> Result<VpOpsMetrics> {
    query.validate()?;
    let lane = known_lane(query.vp_id())?;
    let missions = recent_missions(conn, lane.vp_id, query.mission_limit())?;
    let events = recent_events(conn, "vp_events", lane.vp_id, query.event_limit())?;
    let session_events = recent_events(conn, "vp_session_events", lane.vp_id, query.event_limit())?;
    let session = session(conn, lane.vp_id)?;

    let mut mission_counts: BTreeMap<String, u64> = BTreeMap::new();
    for m in &missions {
        *mission_counts.entry(m.mission.status.clone()).or_default() += 1;
    }
    let with_fallback = missions.iter().filter(|m| m.mission.fallback_seen).count() as u64;
    let durations: Vec<f64> = missions
        .iter()
        .filter_map(|m| m.mission.duration_seconds)
        .collect();
    let count = |events: &[VpOpsEvent]| {
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for e in events {
            *counts.entry(e.event.event_type.clone()).or_default() += 1;
        }
        counts
    };
    let (recovery, session_health) = recovery(
        session_events
            .iter()
            .rev()
            .map(|e| e.event.event_type.as_str()),
        session.as_ref().map(|s| &s.session.status),
    );
    Ok(VpOpsMetrics {
        aggregates: VpAggregates {
            generated_at: now,
            vp_id: lane.vp_id.to_owned(),
            mission_counts,
            event_counts: count(&events),
            session_event_counts: count(&session_events),
            fallback: VpFallback::from_counts(with_fallback, missions.len() as u64),
            latency_seconds: VpLatency::from_samples(&durations),
            recovery,
            session_health,
        },
        session,
        recent_missions: missions,
        recent_events: events,
        recent_session_events: session_events,
    })
}

/// The ops snapshot straight from a sim database file, as of `now`, without
/// running the sim: the capture helper's direct mode. The file is opened
/// read-only, so a sim serving it keeps running undisturbed; a sim that is
/// not running has stopped growing, so the snapshot is as of its last tick.
pub fn read_ops_metrics(
    path: &std::path::Path,
    query: &VpMetricsQuery,
    now: DateTime<Utc>,
) -> Result<VpOpsMetrics> {
    query.validate()?;
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let has_lanes: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'vp_state')",
        [],
        |r| r.get(0),
    )?;
    if !has_lanes || !seeded(&conn)? {
        return Err(SimError::NotFound(format!(
            "{} holds no VP lanes: it is not a sim database, or its sim predates them",
            path.display()
        )));
    }
    ops_metrics(&conn, query, now)
}

/// Recoveries from session event types, oldest first: each
/// `vp.session.degraded` is an attempt, the next `vp.session.resumed` its
/// success; attempts never resumed are orphan signals, and a session that is
/// degraded or recovering now counts as one even when its degrade fell
/// outside the window.
pub fn recovery<'a>(
    oldest_first: impl Iterator<Item = &'a str>,
    status: Option<&VpSessionStatus>,
) -> (VpRecovery, VpSessionHealth) {
    let (mut attempts, mut successes, mut open) = (0u64, 0u64, 0u64);
    for kind in oldest_first {
        if kind == event_type::SESSION_DEGRADED {
            attempts += 1;
            open += 1;
        } else if kind == event_type::SESSION_RESUMED && open > 0 {
            successes += 1;
            open -= 1;
        }
    }
    let orphaned = status.is_some_and(VpSessionStatus::needs_attention);
    if orphaned && open == 0 {
        open = 1;
    }
    let orphan_rate = if attempts > 0 {
        open as f64 / attempts as f64
    } else if orphaned {
        1.0
    } else {
        0.0
    };
    (
        VpRecovery {
            attempts,
            successes,
            success_rate: (attempts > 0).then(|| successes as f64 / attempts as f64),
        },
        VpSessionHealth {
            currently_orphaned: orphaned,
            orphan_signals: open,
            orphan_rate: Some(orphan_rate),
        },
    )
}

fn recent_missions(conn: &Connection, vp_id: &str, limit: u32) -> Result<Vec<VpOpsMission>> {
    let mut stmt = conn.prepare_cached(
        "SELECT mission_id, status, run_id, started_ms, completed_ms, updated_ms, duration_ms,
                fallback, objective, result_ref
         FROM vp_missions WHERE vp_id = ?1 ORDER BY dispatched_ms DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![vp_id, limit], |r| {
        Ok(VpOpsMission {
            mission: VpMission {
                mission_id: r.get(0)?,
                status: r.get(1)?,
                run_id: r.get(2)?,
                started_at: r.get::<_, Option<i64>>(3)?.map(to_time),
                completed_at: r.get::<_, Option<i64>>(4)?.map(to_time),
                updated_at: r.get::<_, Option<i64>>(5)?.map(to_time),
                duration_seconds: r.get::<_, Option<i64>>(6)?.map(|d| d as f64 / 1000.0),
                fallback_seen: r.get(7)?,
            },
            objective: r.get(8)?,
            result_ref: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The newest `limit` rows of `vp_events` or `vp_session_events` for a lane.
fn recent_events(
    conn: &Connection,
    table: &'static str,
    vp_id: &str,
    limit: u32,
) -> Result<Vec<VpOpsEvent>> {
    let subject = if table == "vp_events" {
        "mission_id"
    } else {
        "NULL"
    };
    // `table` is one of two fixed names, never input.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT event_id, {subject}, event_type, payload, created_ms FROM {table}
         WHERE vp_id = ?1 ORDER BY created_ms DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![vp_id, limit], |r| {
        let payload: Option<String> = r.get(3)?;
        Ok(VpOpsEvent {
            event: VpEvent {
                event_id: r.get(0)?,
                mission_id: r.get(1)?,
                vp_id: vp_id.to_owned(),
                event_type: r.get(2)?,
                created_at: to_time(r.get(4)?),
            },
            payload: payload
                .and_then(|p| serde_json::from_str(&p).ok())
                .and_then(VpEventPayload::from_json),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn session(conn: &Connection, vp_id: &str) -> Result<Option<VpOpsSession>> {
    Ok(conn
        .prepare_cached(
            "SELECT status, session_id, runtime_id, lease_expires_ms, last_heartbeat_ms,
                    created_ms, updated_ms, lease_owner, workspace_dir, last_error
             FROM vp_sessions WHERE vp_id = ?1",
        )?
        .query_row(params![vp_id], |r| {
            Ok(VpOpsSession {
                session: VpSession {
                    vp_id: vp_id.to_owned(),
                    status: VpSessionStatus::from(r.get::<_, String>(0)?),
                    session_id: r.get(1)?,
                    runtime_id: r.get(2)?,
                    lease_expires_at: r.get::<_, Option<i64>>(3)?.map(to_time),
                    last_heartbeat_at: r.get::<_, Option<i64>>(4)?.map(to_time),
                    created_at: Some(to_time(r.get(5)?)),
                    updated_at: Some(to_time(r.get(6)?)),
                },
                lease_owner: r.get(7)?,
                workspace_dir: r.get(8)?,
                last_error: r.get(9)?,
            })
        })
        .optional()?)
}

/// `GET /api/v1/dashboard/metrics/vp/lanes`: every lane, most recently active first.
pub fn lanes(conn: &Connection, now: DateTime<Utc>) -> Result<VpLanes> {
    let mut out = Vec::with_capacity(LANES.len());
    for lane in &LANES {
        let mission_count: i64 = conn
            .prepare_cached("SELECT mission_count FROM vp_lanes WHERE vp_id = ?1")?
            .query_row(params![lane.vp_id], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        // MAX over the (vp_id, created_ms) indexes: one seek each.
        let newest = |table: &str| -> Result<Option<i64>> {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT MAX(created_ms) FROM {table} WHERE vp_id = ?1"
                ))?
                .query_row(params![lane.vp_id], |r| r.get(0))?)
        };
        let last = newest("vp_events")?.max(newest("vp_session_events")?);
        out.push(VpLane {
            vp_id: lane.vp_id.to_owned(),
            display_name: lane.display_name.to_owned(),
            mission_count: mission_count.max(0) as u64,
            last_activity_at: last.map(to_time),
        });
    }
    out.sort_by(|a, b| {
        b.last_activity_at
            .cmp(&a.last_activity_at)
            .then_with(|| a.vp_id.cmp(&b.vp_id))
    });
    Ok(VpLanes {
        generated_at: now,
        lanes: out,
    })
}

/// `GET /api/v1/dashboard/metrics/vp/series`: `buckets` buckets of
/// `bucket_minutes` (aligned to the epoch, the newest holding `now`), oldest
/// first, each over the missions dispatched in it. One range read of the
/// covering `(vp_id, dispatched_ms, duration_ms, fallback)` index.
pub fn series(conn: &Connection, query: &VpSeriesQuery, now: DateTime<Utc>) -> Result<VpSeries> {
    query.validate()?;
    let lane = known_lane(query.vp_id())?;
    let width = i64::from(query.bucket_minutes()) * 60_000;
    let count = query.buckets() as usize;
    let now_ms = now.timestamp_millis();
    let newest = now_ms - now_ms.rem_euclid(width);
    let first = newest - (count as i64 - 1) * width;
    let mut tallies: Vec<(u64, u64, Vec<f64>)> = vec![(0, 0, Vec::new()); count];
    let mut stmt = conn.prepare_cached(
        "SELECT dispatched_ms, duration_ms, fallback FROM vp_missions
         WHERE vp_id = ?1 AND dispatched_ms >= ?2 AND dispatched_ms < ?3",
    )?;
    let mut rows = stmt.query(params![lane.vp_id, first, newest + width])?;
    while let Some(row) = rows.next()? {
        let at: i64 = row.get(0)?;
        let i = ((at - first) / width) as usize;
        let Some(t) = tallies.get_mut(i) else {
            continue;
        };
        t.0 += 1;
        if row.get::<_, bool>(2)? {
            t.1 += 1;
        }
        if let Some(d) = row.get::<_, Option<i64>>(1)? {
            t.2.push(d as f64 / 1000.0);
        }
    }
    let buckets = tallies
        .into_iter()
        .enumerate()
        .map(|(i, (missions, fallbacks, durations))| VpSeriesBucket {
            start: to_time(first + i as i64 * width),
            fallback: VpFallback::from_counts(fallbacks, missions),
            latency_seconds: VpLatency::from_samples(&durations),
        })
        .collect();
    Ok(VpSeries {
        generated_at: now,
        vp_id: lane.vp_id.to_owned(),
        bucket_minutes: query.bucket_minutes(),
        buckets,
    })
}

/// Missions in the tables, all lanes.
pub fn mission_total(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COALESCE(SUM(mission_count), 0) FROM vp_lanes",
        [],
        |r| r.get(0),
    )?;
    Ok(n.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LaneRate;
    use opsdeck_api::vp::{
        FallbackBand, VpCriterionName, VpDecision, VpProfile, VpThresholds, assess,
    };

    const CODER: &str = "vp.coder.primary";
    const RESEARCH: &str = "vp.research.primary";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn t0() -> DateTime<Utc> {
        at("2026-02-16T14:07:42Z")
    }

    fn seeded_conn(seed: u64, config: &SimConfig, now: DateTime<Utc>) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        reseed(&conn, seed, config, now).unwrap();
        conn
    }

    /// Every row of every VP table, in an order that does not depend on
    /// insertion order. Sessions' `updated_ms` is left out: an idle/active
    /// flip is stamped when an advance notices it.
    fn dump(conn: &Connection) -> Vec<String> {
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

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn query(vp_id: &str, missions: u32, events: u32) -> VpMetricsQuery {
        VpMetricsQuery {
            vp_id: Some(vp_id.into()),
            mission_limit: Some(missions),
            event_limit: Some(events),
        }
    }

    fn forced(rate: f64) -> SimConfig {
        SimConfig {
            sim_vp_force_fallback_rate: vec![LaneRate {
                vp_id: CODER.into(),
                rate,
            }],
            ..SimConfig::default()
        }
    }

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

    #[test]
    fn the_model_looks_like_a_lane_in_production() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        for (vp_id, p50s, p95s, rates) in [
            (CODER, 10.0..17.0, 30.0..50.0, 0.005..0.06),
            (RESEARCH, 14.0..26.0, 38.0..70.0, 0.02..0.15),
        ] {
            let mut stmt = conn
                .prepare(
                    "SELECT duration_ms, fallback FROM vp_missions
                     WHERE vp_id = ?1 AND status <> 'running'",
                )
                .unwrap();
            let rows: Vec<(Option<i64>, bool)> = stmt
                .query_map(params![vp_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let durations: Vec<f64> = rows
                .iter()
                .filter_map(|(d, _)| d.map(|d| d as f64 / 1000.0))
                .collect();
            let l = VpLatency::from_samples(&durations);
            let rate = rows.iter().filter(|(_, f)| *f).count() as f64 / rows.len() as f64;
            assert!(p50s.contains(&l.p50_seconds.unwrap()), "{vp_id} {l:?}");
            assert!(p95s.contains(&l.p95_seconds.unwrap()), "{vp_id} {l:?}");
            assert!(rates.contains(&rate), "{vp_id} fallback rate {rate}");
            assert!(rows.len() > 500, "{vp_id}: {} missions", rows.len());
        }
        // Every fallback and failure says why, with a trace to follow.
        let mut stmt = conn
            .prepare(
                "SELECT payload FROM vp_events
                 WHERE event_type IN ('vp.mission.fallback', 'vp.mission.failed')",
            )
            .unwrap();
        let payloads: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(payloads.len() > 50, "{}", payloads.len());
        for p in &payloads {
            let p = VpEventPayload::from_json(serde_json::from_str(p).unwrap()).unwrap();
            assert!(p.reason.is_some() && p.error.is_some(), "{p:?}");
            assert!(p.trace_id.unwrap().starts_with("trace-"));
        }
        // Every finished mission went dispatched → … → completed or failed.
        let unfinished = count(
            &conn,
            "SELECT COUNT(*) FROM vp_missions m WHERE status <> 'running' AND NOT EXISTS (
                 SELECT 1 FROM vp_events e WHERE e.mission_id = m.mission_id
                 AND e.event_type IN ('vp.mission.completed', 'vp.mission.failed'))",
        );
        assert_eq!(unfinished, 0);
        assert_eq!(
            count(
                &conn,
                "SELECT COUNT(*) FROM vp_events WHERE event_type = 'vp.mission.dispatched'"
            ),
            count(&conn, "SELECT COUNT(*) FROM vp_missions")
        );
        // Sessions: created, degraded, resumed, and now and then orphaned.
        let kinds = |kind: &str| {
            count(
                &conn,
                &format!("SELECT COUNT(*) FROM vp_session_events WHERE event_type = '{kind}'"),
            )
        };
        assert!(kinds(event_type::SESSION_CREATED) >= 2);
        assert!(kinds(event_type::SESSION_DEGRADED) >= 5);
        assert!(kinds(event_type::SESSION_RESUMED) >= 3);
        assert!(
            kinds(event_type::SESSION_DEGRADED) > kinds(event_type::SESSION_RESUMED),
            "some recovery should have failed in 72 hours"
        );
    }

    #[test]
    fn ops_metrics_follow_the_runbook() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        let m = ops_metrics(&conn, &query(CODER, 100, 400), t0()).unwrap();
        let a = &m.aggregates;
        assert_eq!(a.vp_id, CODER);
        assert_eq!(a.generated_at, t0());
        assert_eq!(a.fallback.missions_considered, 100);
        assert_eq!(m.recent_missions.len(), 100);
        assert_eq!(m.recent_events.len(), 400);
        assert_eq!(a.mission_counts.values().sum::<u64>(), 100);
        assert_eq!(a.event_counts.values().sum::<u64>(), 400);
        // newest first
        assert!(
            m.recent_missions
                .windows(2)
                .all(|w| w[0].mission.started_at > w[1].mission.started_at)
        );
        assert!(
            m.recent_events
                .windows(2)
                .all(|w| w[0].event.created_at >= w[1].event.created_at)
        );
        let fallbacks = m
            .recent_missions
            .iter()
            .filter(|m| m.mission.fallback_seen)
            .count() as u64;
        assert_eq!(a.fallback.missions_with_fallback, fallbacks);
        let timed = m
            .recent_missions
            .iter()
            .filter(|m| m.mission.duration_seconds.is_some())
            .count() as u64;
        assert_eq!(a.latency_seconds.count, timed);
        let s = m.session.as_ref().expect("the lane has a session");
        assert!(s.session.session_id.as_deref().unwrap().starts_with(CODER));
        assert!(s.lease_owner.is_some() && s.workspace_dir.is_some());
        assert!(a.session_event_counts[event_type::SESSION_CREATED] >= 1);
        // the limits are the api's: clamped, never refused
        let m = ops_metrics(&conn, &query(CODER, 10_000, 0), t0()).unwrap();
        assert_eq!(m.aggregates.fallback.missions_considered, 500);
        assert_eq!(m.recent_events.len(), 1);
    }

    #[test]
    fn unknown_and_invalid_lanes_are_refused() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        let err = ops_metrics(&conn, &query("vp.nobody.primary", 10, 10), t0()).unwrap_err();
        assert!(matches!(err, SimError::NotFound(_)), "{err}");
        assert!(err.to_string().contains("vp.nobody.primary"), "{err}");
        assert!(err.to_string().contains(CODER), "{err}");
        let err = ops_metrics(&conn, &query("vp coder", 10, 10), t0()).unwrap_err();
        assert!(
            matches!(&err, SimError::Invalid(v) if v.field == "vp_id"),
            "{err}"
        );
        let err = series(
            &conn,
            &VpSeriesQuery {
                vp_id: Some("vp.nobody.primary".into()),
                ..Default::default()
            },
            t0(),
        )
        .unwrap_err();
        assert!(matches!(err, SimError::NotFound(_)), "{err}");
    }

    #[test]
    fn a_forced_lane_reads_investigate_and_is_held_or_forced_to_fallback() {
        let conn = seeded_conn(7, &forced(0.3), t0());
        let t = VpThresholds::default();
        for limit in [20, 60, 100, 500] {
            let m = ops_metrics(&conn, &query(CODER, limit, 500), t0()).unwrap();
            let rate = m.aggregates.fallback.measured_rate().unwrap();
            assert!((0.2..0.4).contains(&rate), "limit {limit}: rate {rate}");
            assert_eq!(
                m.aggregates.fallback.band(&t),
                Some(FallbackBand::Investigate)
            );
            let rollout = assess(VpProfile::Rollout, &m.aggregates, &t);
            assert_eq!(rollout.decision, VpDecision::HoldShadow);
            assert!(
                rollout
                    .failed()
                    .any(|c| c.name == VpCriterionName::FallbackRate)
            );
            let sustained = assess(VpProfile::Sustained, &m.aggregates, &t);
            assert_eq!(sustained.decision, VpDecision::SustainedForceFallback);
            let critical: Vec<_> = sustained
                .failed()
                .filter(|c| c.critical)
                .map(|c| c.name)
                .collect();
            assert!(
                critical.contains(&VpCriterionName::FallbackRateCritical),
                "{critical:?}"
            );
        }
        // The other lane is not forced.
        let m = ops_metrics(&conn, &query(RESEARCH, 100, 500), t0()).unwrap();
        assert!(m.aggregates.fallback.measured_rate().unwrap() < 0.2);
        // Older history is not forced: the series shows the step.
        let s = series(
            &conn,
            &VpSeriesQuery {
                vp_id: Some(CODER.into()),
                bucket_minutes: Some(60),
                buckets: Some(73),
            },
            t0(),
        )
        .unwrap();
        let rate = |buckets: &[VpSeriesBucket]| {
            let (f, n) = buckets.iter().fold((0, 0), |(f, n), b| {
                (
                    f + b.fallback.missions_with_fallback,
                    n + b.fallback.missions_considered,
                )
            });
            f as f64 / n as f64
        };
        assert!(rate(&s.buckets[..24]) < 0.1, "{}", rate(&s.buckets[..24]));
        assert!(rate(&s.buckets[50..]) > 0.25, "{}", rate(&s.buckets[50..]));
        // Live missions are forced too.
        let later = t0() + chrono::Duration::hours(5);
        advance(&conn, 7, &forced(0.3), later).unwrap();
        let m = ops_metrics(&conn, &query(CODER, 100, 500), later).unwrap();
        assert!(
            m.recent_missions
                .iter()
                .all(|x| x.mission.started_at.unwrap() > t0())
        );
        assert!(m.aggregates.fallback.measured_rate().unwrap() >= 0.2);
    }

    #[test]
    fn a_lane_forced_to_zero_has_no_vp_fallbacks_beyond_outages() {
        let conn = seeded_conn(7, &forced(0.0), t0());
        let reasons: Vec<String> = conn
            .prepare(
                "SELECT json_extract(e.payload, '$.reason') FROM vp_events e
                 JOIN vp_missions m ON m.mission_id = e.mission_id
                 WHERE e.vp_id = ?1 AND e.event_type = 'vp.mission.fallback'
                   AND m.dispatched_ms > ?2",
            )
            .unwrap()
            .query_map(
                params![
                    CODER,
                    (t0() - chrono::Duration::hours(6)).timestamp_millis()
                ],
                |r| r.get(0),
            )
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            reasons.iter().all(|r| r == SESSION_UNAVAILABLE.reason),
            "{reasons:?}"
        );
    }

    #[test]
    fn series_buckets_sum_to_the_missions() {
        let conn = seeded_conn(11, &SimConfig::default(), t0());
        for lane in &LANES {
            let total = count(
                &conn,
                &format!(
                    "SELECT mission_count FROM vp_lanes WHERE vp_id = '{}'",
                    lane.vp_id
                ),
            ) as u64;
            let raw = count(
                &conn,
                &format!(
                    "SELECT COUNT(*) FROM vp_missions WHERE vp_id = '{}'",
                    lane.vp_id
                ),
            ) as u64;
            assert_eq!(total, raw, "maintained count of {}", lane.vp_id);
            let fallbacks = count(
                &conn,
                &format!(
                    "SELECT COUNT(*) FROM vp_missions WHERE vp_id = '{}' AND fallback = 1",
                    lane.vp_id
                ),
            ) as u64;
            // 73 hours cover the 72 backfilled and the current one; 720
            // buckets of 7 minutes cover 84 hours.
            for (minutes, buckets) in [(60, 73), (7, 720), (1440, 4)] {
                let s = series(
                    &conn,
                    &VpSeriesQuery {
                        vp_id: Some(lane.vp_id.into()),
                        bucket_minutes: Some(minutes),
                        buckets: Some(buckets),
                    },
                    t0(),
                )
                .unwrap();
                assert_eq!(s.buckets.len(), buckets as usize);
                assert_eq!(s.bucket_minutes, minutes);
                let width = chrono::Duration::minutes(i64::from(minutes));
                assert!(
                    s.buckets
                        .windows(2)
                        .all(|w| w[1].start - w[0].start == width)
                );
                let last = s.buckets.last().unwrap().start;
                assert!(last <= t0() && t0() < last + width);
                let sum = |f: fn(&VpSeriesBucket) -> u64| s.buckets.iter().map(f).sum::<u64>();
                assert_eq!(sum(|b| b.missions()), total, "{minutes}×{buckets}");
                assert_eq!(sum(|b| b.fallback.missions_with_fallback), fallbacks);
                for b in &s.buckets {
                    assert!(b.latency_seconds.count <= b.missions());
                    assert_eq!(b.fallback.rate.is_some(), b.missions() > 0);
                }
            }
        }
    }

    #[test]
    fn lanes_lists_both_lanes_most_recent_first() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        let l = lanes(&conn, t0()).unwrap();
        let ids: Vec<&str> = l.lanes.iter().map(|l| l.vp_id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&CODER) && ids.contains(&RESEARCH));
        assert!(l.lanes[0].last_activity_at >= l.lanes[1].last_activity_at);
        for lane in &l.lanes {
            assert!(lane.mission_count > 100, "{lane:?}");
            assert!(lane.last_activity_at.unwrap() <= t0());
        }
        let codie = l.lanes.iter().find(|l| l.vp_id == CODER).unwrap();
        assert_eq!(codie.display_name, "CODIE");
    }

    #[test]
    fn metrics_queries_walk_indexes_not_tables() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        let plan = |sql: &str| -> String {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows: Vec<String> = stmt
                .query_map(params![CODER, 100], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.join("; ")
        };
        for sql in [
            "SELECT mission_id, status FROM vp_missions WHERE vp_id = ?1 ORDER BY dispatched_ms DESC LIMIT ?2",
            "SELECT event_id FROM vp_events WHERE vp_id = ?1 ORDER BY created_ms DESC, id DESC LIMIT ?2",
            "SELECT event_id FROM vp_session_events WHERE vp_id = ?1 ORDER BY created_ms DESC, id DESC LIMIT ?2",
            "SELECT dispatched_ms, duration_ms, fallback FROM vp_missions WHERE vp_id = ?1 AND dispatched_ms >= ?2 AND dispatched_ms < 1",
        ] {
            let p = plan(sql);
            assert!(p.contains("USING"), "{sql}: {p}");
            assert!(!p.contains("TEMP B-TREE"), "{sql}: {p}");
        }
        let p = plan(
            "SELECT dispatched_ms, duration_ms, fallback FROM vp_missions WHERE vp_id = ?1 AND dispatched_ms >= ?2 AND dispatched_ms < 1",
        );
        assert!(p.contains("COVERING INDEX"), "{p}");
    }

    #[test]
    fn a_snapshot_can_be_read_straight_from_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA).unwrap();
            reseed(&conn, 7, &SimConfig::default(), t0()).unwrap();
        }
        let q = query(RESEARCH, 50, 100);
        let direct = read_ops_metrics(&path, &q, t0()).unwrap();
        let conn = Connection::open(&path).unwrap();
        assert_eq!(direct, ops_metrics(&conn, &q, t0()).unwrap());
        assert_eq!(direct.recent_missions.len(), 50);
        let err = read_ops_metrics(&path, &query("vp.nobody.primary", 1, 1), t0()).unwrap_err();
        assert!(matches!(err, SimError::NotFound(_)), "{err}");
        // not a sim database, and no file at all
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = read_ops_metrics(&other, &q, t0()).unwrap_err();
        assert!(err.to_string().contains("holds no VP lanes"), "{err}");
        assert!(read_ops_metrics(&dir.path().join("missing.db"), &q, t0()).is_err());
    }

    #[test]
    fn recovery_counts_attempts_successes_and_orphans() {
        use event_type::{SESSION_CREATED as C, SESSION_DEGRADED as D, SESSION_RESUMED as R};
        let active = VpSessionStatus::Active;
        let recovering = VpSessionStatus::Recovering;
        let (r, h) = recovery([C, D, R, D, R].into_iter(), Some(&active));
        assert_eq!((r.attempts, r.successes, r.success_rate), (2, 2, Some(1.0)));
        assert_eq!(
            (h.currently_orphaned, h.orphan_signals, h.orphan_rate),
            (false, 0, Some(0.0))
        );
        // one orphaned, replaced by a new session; one still recovering now
        let (r, h) = recovery([D, C, D, R, D].into_iter(), Some(&recovering));
        assert_eq!((r.attempts, r.successes), (3, 1));
        assert_eq!(h.orphan_signals, 2);
        assert!(h.currently_orphaned);
        assert_eq!(h.orphan_rate, Some(2.0 / 3.0));
        // a resume before any degrade in the window is not a success
        let (r, _) = recovery([R, C].into_iter(), Some(&active));
        assert_eq!((r.attempts, r.successes, r.success_rate), (0, 0, None));
        // orphaned with the degrade outside the window
        let (_, h) = recovery(std::iter::empty(), Some(&VpSessionStatus::Degraded));
        assert_eq!((h.orphan_signals, h.orphan_rate), (1, Some(1.0)));
        let (_, h) = recovery(std::iter::empty(), None);
        assert_eq!((h.currently_orphaned, h.orphan_rate), (false, Some(0.0)));
    }

    #[test]
    fn sessions_are_down_while_degraded_and_missions_fall_back_then() {
        let conn = seeded_conn(7, &SimConfig::default(), t0());
        // Find a degrade and check the session events around it.
        let (vp_id, degraded_ms): (String, i64) = conn
            .query_row(
                "SELECT vp_id, created_ms FROM vp_session_events
                 WHERE event_type = 'vp.session.degraded' ORDER BY created_ms LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let next: (String, i64) = conn
            .query_row(
                "SELECT event_type, created_ms FROM vp_session_events
                 WHERE vp_id = ?1 AND created_ms > ?2 ORDER BY created_ms LIMIT 1",
                params![vp_id, degraded_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert!(
            next.0 == event_type::SESSION_RESUMED || next.0 == event_type::SESSION_CREATED,
            "{next:?}"
        );
        // Missions dispatched in that stretch fell back for want of a session.
        let mut stmt = conn
            .prepare(
                "SELECT fallback FROM vp_missions WHERE vp_id = ?1
                 AND dispatched_ms >= ?2 AND dispatched_ms < ?3",
            )
            .unwrap();
        let flags: Vec<bool> = stmt
            .query_map(params![vp_id, degraded_ms, next.1], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(flags.iter().all(|f| *f), "{flags:?}");
    }
}
