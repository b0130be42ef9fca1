//! What the rules read from the mission rows beyond the aggregates: missions
//! that failed outright, and missions that never finished.
//!
//! The aggregates' fallback rate and p95 see neither. A mission that fails
//! without a fallback event keeps the fallback rate low, and one that never
//! completes adds no duration, so the p95 is computed only over the missions
//! that did finish. The runbook names both ("any sustained
//! `vp.mission.failed`", "missing completion events over multiple recent
//! missions") as escalation indicators; this is where they are counted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{VpAggregates, VpMission, VpThresholds};

/// Mission statuses that end a mission. Any other status, known (`queued`,
/// `running`) or not, is unfinished unless the row has a `completed_at`.
pub const TERMINAL_STATUSES: [&str; 3] = ["completed", "failed", "cancelled"];

/// Failed and unfinished missions among those considered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpMissionTally {
    /// Missions considered (`fallback.missions_considered`).
    pub considered: u64,
    /// Considered missions whose status is `failed` (`mission_counts`).
    pub failed: u64,
    /// Mission rows the snapshot listed: the sample of the two counts below.
    pub listed: u64,
    /// Listed missions with no terminal status and no `completed_at`.
    pub unfinished: u64,
    /// Unfinished missions dispatched more than `VP_MISSION_STALE_SECONDS`
    /// before `generated_at`. A row with no start or update time is
    /// unfinished but never stale: its age is unknown.
    pub stale: u64,
    /// Age of the oldest unfinished mission, in seconds.
    pub oldest_unfinished_seconds: Option<f64>,
}

impl VpMissionTally {
    /// Count `missions` (the snapshot's rows) against `m` as of its `generated_at`.
    pub fn of<'a>(
        m: &VpAggregates,
        missions: impl IntoIterator<Item = &'a VpMission>,
        t: &VpThresholds,
    ) -> Self {
        let mut tally = VpMissionTally {
            considered: m.fallback.missions_considered,
            failed: m.mission_counts.get("failed").copied().unwrap_or(0),
            ..VpMissionTally::default()
        };
        for mission in missions {
            tally.listed += 1;
            if finished(mission) {
                continue;
            }
            tally.unfinished += 1;
            let Some(age) = age_seconds(mission, m.generated_at) else {
                continue;
            };
            if age > t.mission_stale_seconds {
                tally.stale += 1;
            }
            if tally.oldest_unfinished_seconds.is_none_or(|o| age > o) {
                tally.oldest_unfinished_seconds = Some(age);
            }
        }
        tally
    }
}

fn finished(m: &VpMission) -> bool {
    m.completed_at.is_some() || TERMINAL_STATUSES.contains(&m.status.as_str())
}

fn age_seconds(m: &VpMission, now: DateTime<Utc>) -> Option<f64> {
    let since = m.started_at.or(m.updated_at)?;
    Some((now - since).num_milliseconds().max(0) as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;
    use crate::vp::fixtures::{agg, t};

    fn mission(status: &str, started: Option<&str>, completed: Option<&str>) -> VpMission {
        VpMission {
            mission_id: format!("m-{status}"),
            status: status.into(),
            run_id: None,
            started_at: started.map(at),
            completed_at: completed.map(at),
            updated_at: None,
            duration_seconds: None,
            fallback_seen: false,
        }
    }

    #[test]
    fn counts_failed_from_the_aggregates_and_stale_from_the_rows() {
        // generated at 14:07:42
        let mut m = agg(10, 0, Some(5.0));
        m.mission_counts.insert("failed".into(), 3);
        let rows = [
            mission(
                "completed",
                Some("2026-02-16T13:00:00Z"),
                Some("2026-02-16T13:00:10Z"),
            ),
            mission("failed", Some("2026-02-16T13:00:00Z"), None),
            // just past ten minutes: stale
            mission("running", Some("2026-02-16T13:57:41.999Z"), None),
            // exactly ten minutes: not yet
            mission("running", Some("2026-02-16T13:57:42Z"), None),
            // an unknown status with a completion time is finished
            mission(
                "timed_out",
                Some("2026-02-16T12:00:00Z"),
                Some("2026-02-16T12:30:00Z"),
            ),
            // an unknown status without one is not
            mission("parked", Some("2026-02-16T12:00:00Z"), None),
            // no time at all: unfinished, age unknown
            mission("queued", None, None),
        ];
        let tally = VpMissionTally::of(&m, &rows, &t());
        assert_eq!(
            tally,
            VpMissionTally {
                considered: 10,
                failed: 3,
                listed: 7,
                unfinished: 4,
                stale: 2,
                oldest_unfinished_seconds: Some(7662.0),
            }
        );
    }

    #[test]
    fn no_rows_no_unfinished() {
        let tally = VpMissionTally::of(&agg(0, 0, None), [], &t());
        assert_eq!(tally, VpMissionTally::default());
    }
}
