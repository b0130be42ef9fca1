//! The seeded lane model: each lane-hour's health, session incidents and
//! mission plans, drawn from (seed, lane, hour) alone.

use std::f64::consts::TAU;

use chrono::{DateTime, Utc};
use opsdeck_api::vp::MISSION_MAX_LIMIT;
use serde_json::json;

use super::HOUR_MS;
use super::apply::{MissionPlan, Plan, SessionPlan, SessionStep, SessionStepKind, Step, StepKind};
use super::lanes::{
    FALLBACK_FAILURES, Failure, LANES, MISSION_FAILURES, SESSION_FAILURES, SESSION_UNAVAILABLE,
    pick, seconds_to,
};
use crate::config::{LaneRate, SimConfig};
use crate::rng::Rng;

/// Forcing covers at least this many of the newest backfilled hours.
const FORCE_MIN_HOURS: i64 = 6;

/// Stream ids, so each part of a lane-hour draws from its own generator and
/// changing one part of the model does not reshuffle the others.
pub(super) mod stream {
    pub const PHASE_SLOW: u64 = 1;
    pub const PHASE_MID: u64 = 2;
    pub const BAD_HOUR: u64 = 3;
    pub const MISSIONS: u64 = 4;
    pub const SESSIONS: u64 = 5;
    pub const BOOTSTRAP: u64 = 6;
    pub const FORCED_FAILED: u64 = 7;
    pub const FORCED_STALE: u64 = 8;
}

/// A generator for (seed, lane, hour, stream), independent of when it is asked for.
pub(super) fn rng_for(seed: u64, lane: usize, hour: i64, stream: u64) -> Rng {
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

pub(super) fn lognormal(rng: &mut Rng, median: f64, sigma: f64) -> f64 {
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

pub(super) fn hex(rng: &mut Rng, digits: usize) -> String {
    let v = rng.next_u64();
    format!("{v:016x}")[..digits.min(16)].to_owned()
}

fn ms(seconds: f64) -> i64 {
    (seconds * 1000.0).round() as i64
}

pub(super) fn hour_of(ms: i64) -> i64 {
    ms.div_euclid(HOUR_MS)
}

pub(super) fn to_time(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

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
pub(super) struct PlanCtx<'a> {
    pub(super) seed: u64,
    pub(super) config: &'a SimConfig,
    /// The first planned hour: incidents before it never happened.
    pub(super) first_hour: i64,
    /// The hour the world was seeded in (the end of the backfill).
    pub(super) seeded_hour: i64,
}

impl PlanCtx<'_> {
    /// The rate `rates` force on a lane in `hour`, if any: live hours, and
    /// the newest backfilled hours long enough to hold [`MISSION_MAX_LIMIT`]
    /// missions twice over at the lane's nominal rate (at least
    /// [`FORCE_MIN_HOURS`]), so every metrics window sees the forced lane
    /// from the moment the sim starts.
    fn forced(&self, rates: &[LaneRate], lane_ix: usize, hour: i64) -> Option<f64> {
        let lane = &LANES[lane_ix];
        let rate = rates.iter().find(|f| f.vp_id == lane.vp_id)?.rate;
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
pub(super) fn plan_hour(
    ctx: &PlanCtx<'_>,
    lane_ix: usize,
    hour: i64,
    next_row: &mut i64,
) -> Vec<Plan> {
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
    let forced = ctx.forced(&ctx.config.sim_vp_force_fallback_rate, lane_ix, hour);
    // Forced outcomes are spread evenly (a random offset, then every
    // 1/rate-th mission), so any window of recent missions shows the rate.
    let mut fallbacks = Spread::new(forced, rng.unit());
    // The other knobs draw their offsets from streams of their own, so an
    // unforced lane's history is the same with or without them.
    let mut failures = Spread::new(
        ctx.forced(&ctx.config.sim_vp_force_failed_rate, lane_ix, hour),
        rng_for(ctx.seed, lane_ix, hour, stream::FORCED_FAILED).unit(),
    );
    let mut stalls = Spread::new(
        ctx.forced(&ctx.config.sim_vp_force_stale_rate, lane_ix, hour),
        rng_for(ctx.seed, lane_ix, hour, stream::FORCED_STALE).unit(),
    );
    for at in times {
        let down = outages.iter().any(|o| o.from_ms <= at && at < o.until_ms);
        let outcome = if down {
            Outcome::SessionDown
        } else if fallbacks.forced() {
            match fallbacks.next() {
                true => Outcome::Fallback,
                false => Outcome::Model,
            }
        } else if rng.chance(h.fallback_p) {
            Outcome::Fallback
        } else {
            Outcome::Model
        };
        // Failing and stalling apply to missions that would not fall back.
        let outcome = match outcome {
            Outcome::Model if failures.next() => Outcome::Failed,
            Outcome::Model if stalls.next() => Outcome::Stale,
            other => other,
        };
        let row = *next_row;
        *next_row += 1;
        plans.push(Plan::Mission(mission_plan(
            &mut rng, lane_ix, &h, row, at, outcome,
        )));
    }
    plans
}

/// Every `1/rate`-th mission, from a random offset: a forced share spread
/// evenly over the missions it is asked about.
struct Spread {
    rate: Option<f64>,
    offset: f64,
    asked: u64,
}

impl Spread {
    fn new(rate: Option<f64>, offset: f64) -> Self {
        Spread {
            rate,
            offset,
            asked: 0,
        }
    }

    fn forced(&self) -> bool {
        self.rate.is_some()
    }

    /// Whether this mission takes the forced outcome (never when unforced).
    fn next(&mut self) -> bool {
        let Some(rate) = self.rate else {
            return false;
        };
        let k = self.asked as f64;
        self.asked += 1;
        ((k + 1.0) * rate + self.offset).floor() > (k * rate + self.offset).floor()
    }
}

/// How a mission is planned to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Dispatched while the session is down: falls back for want of one.
    SessionDown,
    /// Falls back with a provider error, then completes on the primary path.
    Fallback,
    /// Fails outright, no fallback (`SIM_VP_FORCE_FAILED_RATE`).
    Failed,
    /// Never finishes (`SIM_VP_FORCE_STALE_RATE`).
    Stale,
    /// As the lane's model draws it: completes, or now and then fails.
    Model,
}

fn mission_plan(
    rng: &mut Rng,
    lane_ix: usize,
    h: &Health,
    row: i64,
    at: i64,
    outcome: Outcome,
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
    if matches!(outcome, Outcome::SessionDown | Outcome::Fallback) {
        let failure = if outcome == Outcome::SessionDown {
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
    } else if outcome == Outcome::Stale {
        // Picked up, perhaps reports once, then is never heard of again.
        if rng.chance(0.5) {
            progress(&mut steps, rng, 20.0, 1);
        }
    } else if outcome == Outcome::Failed || rng.chance(h.failed_p) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::fixtures::{CODER, RESEARCH, count, forced, seeded_conn, t0};
    use opsdeck_api::vp::{VpEventPayload, VpLatency, event_type};
    use rusqlite::params;

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
