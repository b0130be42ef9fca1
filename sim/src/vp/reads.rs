//! What the VP endpoints read: the ops metrics (and the capture helper's
//! direct read of a database file), recoveries, the lane list and the series.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsdeck_api::vp::{
    VpAggregates, VpEvent, VpEventPayload, VpFallback, VpLane, VpLanes, VpLatency, VpMetricsQuery,
    VpMission, VpOpsEvent, VpOpsMetrics, VpOpsMission, VpOpsSession, VpRecovery, VpSeries,
    VpSeriesBucket, VpSeriesQuery, VpSession, VpSessionHealth, VpSessionStatus, event_type,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::lanes::{LANES, Lane, lane, lane_list};
use super::model::to_time;
use super::seeded;
use crate::error::{Result, SimError};

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
        let routing = super::routing(conn, lane.vp_id)?;
        out.push(VpLane {
            vp_id: lane.vp_id.to_owned(),
            display_name: lane.display_name.to_owned(),
            mission_count: mission_count.max(0) as u64,
            last_activity_at: last.map(to_time),
            force_fallback: routing.force_fallback,
            force_fallback_since: routing.changed_at.filter(|_| routing.force_fallback),
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
    use crate::config::{LaneRate, SimConfig};
    use crate::vp::fixtures::{CODER, RESEARCH, count, forced, query, seeded_conn, t0};
    use crate::vp::{SCHEMA, advance, reseed};
    use opsdeck_api::vp::{
        FallbackBand, VpCriterionName, VpDecision, VpProfile, VpSnapshot, VpThresholds,
    };

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
    fn a_lane_failing_or_stalling_without_fallbacks_is_held_or_forced_to_fallback() {
        let t = VpThresholds::default();
        let knob = |failed: bool| {
            let rates = vec![LaneRate {
                vp_id: CODER.into(),
                rate: 0.3,
            }];
            if failed {
                SimConfig {
                    sim_vp_force_failed_rate: rates,
                    ..SimConfig::default()
                }
            } else {
                SimConfig {
                    sim_vp_force_stale_rate: rates,
                    ..SimConfig::default()
                }
            }
        };
        for (failed, watch, critical) in [
            (
                true,
                VpCriterionName::FailedRate,
                VpCriterionName::FailedRateCritical,
            ),
            (
                false,
                VpCriterionName::StaleMissions,
                VpCriterionName::StaleMissionsCritical,
            ),
        ] {
            let conn = seeded_conn(7, &knob(failed), t0());
            // Read an hour on: the newest missions are old enough to be stale.
            let now = t0() + chrono::Duration::hours(1);
            let m = ops_metrics(&conn, &query(CODER, 100, 400), now).unwrap();
            // The fallback rate does not see it.
            let band = m.aggregates.fallback.band(&t);
            assert_ne!(band, Some(FallbackBand::Investigate), "{band:?}");
            let rollout = m.assess(VpProfile::Rollout, &t);
            assert_eq!(rollout.decision, VpDecision::HoldShadow);
            let c = rollout.criteria.iter().find(|c| c.name == watch).unwrap();
            assert!(!c.passed, "{c:?}");
            let sustained = m.assess(VpProfile::Sustained, &t);
            assert_eq!(
                sustained.decision,
                VpDecision::SustainedForceFallback,
                "{sustained:#?}"
            );
            let c = sustained
                .criteria
                .iter()
                .find(|c| c.name == critical)
                .unwrap();
            let share = c.measured.unwrap();
            assert!((0.25..0.4).contains(&share), "{critical}: {share}");
        }
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
            let rollout = m.assess(VpProfile::Rollout, &t);
            assert_eq!(rollout.decision, VpDecision::HoldShadow);
            assert!(
                rollout
                    .failed()
                    .any(|c| c.name == VpCriterionName::FallbackRate)
            );
            let sustained = m.assess(VpProfile::Sustained, &t);
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
}
