//! The playbook's recovery loop (section 4) as checks the page shows while a
//! lane is forced to the fallback path: whether it is ready to be re-enabled.
//!
//! Once a lane is forced, every new mission takes the fallback path, so its
//! fallback rate says nothing about the lane: it is 100% by design. What
//! tells the operator the lane can go back is the rest of the rollout bar,
//! judged over the missions dispatched since the switch alone: enough of them
//! (`VP_MIN_MISSIONS`), few failed, no more than a stray stale one, and p95
//! below its SLO — the same rules, thresholds and wording as the decision.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::decision::{failed_rate, min_missions, p95_latency, stale_missions};
use super::{
    VpAggregates, VpCriterion, VpFallback, VpLatency, VpMission, VpMissionTally, VpOpsMetrics,
    VpRecovery, VpSessionHealth, VpThresholds,
};
use crate::kpi::ratio;

/// Whether a forced lane may be re-enabled, and the checks that say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpReadiness {
    /// When the lane was forced: the missions judged were dispatched since.
    pub since: DateTime<Utc>,
    /// Missions listed in the snapshot that were dispatched since the switch.
    pub missions: u64,
    /// Minimum missions, failed rate, stale missions and p95, in that order.
    pub criteria: Vec<VpCriterion>,
    /// Every criterion passed.
    pub ready: bool,
}

impl VpReadiness {
    /// Judge the missions of `m` dispatched at or after `since` (a row with
    /// no start time counts from its last update; one with neither is left
    /// out, as its age is unknown).
    pub fn of(m: &VpOpsMetrics, since: DateTime<Utc>, t: &VpThresholds) -> Self {
        let rows: Vec<&VpMission> = m
            .recent_missions
            .iter()
            .map(|r| &r.mission)
            .filter(|r| r.started_at.or(r.updated_at).is_some_and(|at| at >= since))
            .collect();
        let n = rows.len() as u64;
        let mut mission_counts: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rows {
            *mission_counts.entry(r.status.clone()).or_default() += 1;
        }
        let fell_back = rows.iter().filter(|r| r.fallback_seen).count() as u64;
        let durations: Vec<f64> = rows.iter().filter_map(|r| r.duration_seconds).collect();
        let since_switch = VpAggregates {
            generated_at: m.aggregates.generated_at,
            vp_id: m.aggregates.vp_id.clone(),
            mission_counts,
            event_counts: BTreeMap::new(),
            session_event_counts: BTreeMap::new(),
            fallback: VpFallback {
                missions_with_fallback: fell_back,
                missions_considered: n,
                rate: ratio(fell_back, n),
            },
            latency_seconds: VpLatency::from_samples(&durations),
            recovery: VpRecovery::default(),
            session_health: VpSessionHealth::default(),
        };
        let tally = VpMissionTally::of(&since_switch, rows.iter().copied(), t);
        let criteria = vec![
            min_missions(&since_switch, t),
            failed_rate(&tally, t, false),
            stale_missions(&tally, t, false),
            p95_latency(&since_switch, &tally, t, false),
        ];
        VpReadiness {
            since,
            missions: n,
            ready: criteria.iter().all(|c| c.passed),
            criteria,
        }
    }

    /// One line: ready, or what is still missing.
    pub fn summary(&self) -> String {
        if self.ready {
            return format!(
                "Ready to re-enable: {} missions since the switch, all checks met",
                self.missions
            );
        }
        let unmet: Vec<&str> = self
            .criteria
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        format!(
            "Not ready to re-enable: {} missions since the switch; not met: {}",
            self.missions,
            unmet.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;
    use crate::vp::VpCriterionName;
    use crate::vp::VpOpsMission;
    use crate::vp::fixtures::{agg, t};

    /// A snapshot generated at 14:07:42 listing `rows`: (minute of 13:xx it
    /// started, status, duration).
    fn snapshot(rows: &[(u32, &str, Option<f64>)]) -> VpOpsMetrics {
        VpOpsMetrics {
            aggregates: agg(100, 100, Some(5.0)),
            session: None,
            recent_missions: rows
                .iter()
                .enumerate()
                .map(|(i, (minute, status, duration))| VpOpsMission {
                    mission: VpMission {
                        mission_id: format!("m-{i}"),
                        status: (*status).into(),
                        run_id: None,
                        started_at: Some(at(&format!("2026-02-16T13:{minute:02}:00Z"))),
                        completed_at: duration
                            .map(|_| at(&format!("2026-02-16T13:{minute:02}:30Z"))),
                        updated_at: None,
                        duration_seconds: *duration,
                        fallback_seen: true,
                    },
                    objective: None,
                    result_ref: None,
                })
                .collect(),
            recent_events: Vec::new(),
            recent_session_events: Vec::new(),
        }
    }

    fn passed(r: &VpReadiness) -> Vec<(VpCriterionName, bool)> {
        r.criteria.iter().map(|c| (c.name, c.passed)).collect()
    }

    #[test]
    fn only_missions_since_the_switch_count_and_fallbacks_do_not() {
        // 20 healthy missions after 13:30, and 30 failed ones before it.
        let mut rows: Vec<(u32, &str, Option<f64>)> =
            (30..50).map(|m| (m, "completed", Some(8.0))).collect();
        rows.extend((0..30).map(|m| (m, "failed", None)));
        let since = at("2026-02-16T13:30:00Z");
        let r = VpReadiness::of(&snapshot(&rows), since, &t());
        assert_eq!(r.missions, 20);
        assert!(r.ready, "{r:#?}");
        assert!(r.summary().starts_with("Ready to re-enable: 20 missions"));
        // Every one of them fell back, as a forced lane's do: not judged.
        assert!(
            r.criteria
                .iter()
                .all(|c| c.config != "VP_FALLBACK_MONITOR_RATE")
        );
    }

    #[test]
    fn each_check_holds_the_lane_back_at_its_threshold() {
        let since = at("2026-02-16T13:00:00Z");
        let healthy = |n: u32| -> Vec<(u32, &str, Option<f64>)> {
            (0..n).map(|m| (m, "completed", Some(8.0))).collect()
        };
        // 19 missions: one short of VP_MIN_MISSIONS 20.
        let r = VpReadiness::of(&snapshot(&healthy(19)), since, &t());
        assert_eq!(passed(&r)[0], (VpCriterionName::MinMissions, false));
        assert!(!r.ready);
        assert!(
            r.summary().ends_with("not met: min_missions"),
            "{}",
            r.summary()
        );

        // 1 failed in 20 is 5%: not below VP_MAX_FAILED_RATE 0.05.
        let mut rows = healthy(19);
        rows.push((19, "failed", None));
        let r = VpReadiness::of(&snapshot(&rows), since, &t());
        assert_eq!(passed(&r)[1], (VpCriterionName::FailedRate, false));
        // 1 in 21 is below it.
        rows.push((20, "completed", Some(8.0)));
        let r = VpReadiness::of(&snapshot(&rows), since, &t());
        assert!(r.ready, "{r:#?}");

        // Two missions unfinished after 10 minutes: above VP_MAX_STALE_MISSIONS 1.
        let mut rows = healthy(20);
        rows.extend([(40, "running", None), (41, "running", None)]);
        let r = VpReadiness::of(&snapshot(&rows), since, &t());
        assert_eq!(passed(&r)[2], (VpCriterionName::StaleMissions, false));

        // p95 at the SLO (45 s) is not below it.
        let rows: Vec<(u32, &str, Option<f64>)> =
            (0..20).map(|m| (m, "completed", Some(45.0))).collect();
        let r = VpReadiness::of(&snapshot(&rows), since, &t());
        assert_eq!(passed(&r)[3], (VpCriterionName::P95Latency, false));
        assert!(
            r.criteria[3].detail.contains("(20 timed missions)"),
            "{}",
            r.criteria[3].detail
        );
    }
}
