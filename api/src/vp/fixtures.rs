//! What the VP unit tests share: the default thresholds, aggregates of a
//! chosen shape, and a platform reply carrying a secret in its free text.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    DEFAULT_VP_ID, VpAggregates, VpFallback, VpLatency, VpMissionTally, VpRecovery,
    VpSessionHealth, VpThresholds,
};
use crate::testing::at;

/// Text that must never reach a dashboard reply.
pub(super) const SECRET: &str = "SECRET-token-in-error";

/// The runbook's thresholds.
pub(super) fn t() -> VpThresholds {
    VpThresholds::default()
}

/// A snapshot with `missions` missions, `fallbacks` of them falling back,
/// and every duration `p95` seconds (no durations when `None`).
pub(super) fn agg(missions: u64, fallbacks: u64, p95: Option<f64>) -> VpAggregates {
    VpAggregates {
        generated_at: at("2026-02-16T14:07:42Z"),
        vp_id: DEFAULT_VP_ID.into(),
        mission_counts: BTreeMap::from([("completed".into(), missions)]),
        event_counts: BTreeMap::new(),
        session_event_counts: BTreeMap::new(),
        fallback: VpFallback::from_counts(fallbacks, missions),
        latency_seconds: VpLatency {
            count: if p95.is_some() { missions } else { 0 },
            avg_seconds: p95,
            p50_seconds: p95,
            p95_seconds: p95,
            max_seconds: p95,
        },
        recovery: VpRecovery::default(),
        session_health: VpSessionHealth::default(),
    }
}

/// The tally of `m` as if every considered mission were listed and finished:
/// the failed count comes from `mission_counts`, nothing is stale.
pub(super) fn listed(m: &VpAggregates) -> VpMissionTally {
    VpMissionTally {
        listed: m.fallback.missions_considered,
        ..VpMissionTally::of(m, [], &t())
    }
}

/// What the platform's ops endpoint returns, as the runbook's queries see it.
pub(super) fn ops_json() -> serde_json::Value {
    json!({
        "generated_at": "2026-02-16T14:07:42.123456+00:00",
        "vp_id": "vp.coder.primary",
        "session": {
            "vp_id": "vp.coder.primary",
            "runtime_id": "runtime.local",
            "session_id": "vp.coder.primary.session",
            "workspace_dir": "/srv/codie",
            "status": "active",
            "lease_owner": "worker-1",
            "lease_expires_at": "2026-02-16T14:10:00+00:00",
            "last_heartbeat_at": "2026-02-16T14:07:30+00:00",
            "last_error": format!("lease lost: {SECRET}"),
            "metadata_json": "{\"lane\":\"coder\"}",
            "metadata": {"lane": "coder"},
            "created_at": "2026-02-16T13:00:00+00:00",
            "updated_at": "2026-02-16T14:07:30+00:00"
        },
        "mission_counts": {"completed": 3, "failed": 1},
        "event_counts": {
            "vp.mission.dispatched": 4,
            "vp.mission.completed": 3,
            "vp.mission.fallback": 2,
            "vp.mission.failed": 1
        },
        "session_event_counts": {"vp.session.created": 1, "vp.session.degraded": 1, "vp.session.resumed": 1},
        "fallback": {"missions_with_fallback": 1, "missions_considered": 4, "rate": 0.25},
        "latency_seconds": {
            "count": 3, "avg_seconds": 0.4, "p50_seconds": 0.377, "p95_seconds": 0.534, "max_seconds": 0.534
        },
        "recovery": {"attempts": 1, "successes": 1, "success_rate": 1.0},
        "session_health": {"currently_orphaned": false, "orphan_signals": 0, "orphan_rate": 0.0},
        "recent_missions": [{
            "mission_id": "m-2",
            "status": "completed",
            "objective": format!("fix the build; token {SECRET}"),
            "run_id": "run-b",
            "started_at": "2026-02-16T14:06:00+00:00",
            "completed_at": "2026-02-16T14:06:00.534+00:00",
            "updated_at": "2026-02-16T14:06:00.534+00:00",
            "result_ref": "workspace:///srv/codie/m-2",
            "duration_seconds": 0.534,
            "fallback_seen": true
        }],
        "recent_events": [
            {
                "event_id": "m-2.fallback",
                "mission_id": "m-2",
                "vp_id": "vp.coder.primary",
                "event_type": "vp.mission.fallback",
                "payload": {"reason": "vp_execution_error", "error": format!("boom {SECRET}"), "trace_id": null},
                "created_at": "2026-02-16T14:06:00+00:00"
            },
            {
                "event_id": "m-3.fallback",
                "mission_id": "m-3",
                "vp_id": "vp.coder.primary",
                "event_type": "vp.mission.fallback",
                "payload": {"reason": "vp_execution_error", "error": format!("boom {SECRET}")},
                "created_at": "2026-02-16T14:06:10+00:00"
            },
            {
                "event_id": "m-4.failed",
                "mission_id": "m-4",
                "vp_id": "vp.coder.primary",
                "event_type": "vp.mission.failed",
                "payload": "not an object",
                "created_at": "2026-02-16T14:06:20+00:00"
            },
            {
                "event_id": "m-2.dispatch",
                "mission_id": "m-2",
                "vp_id": "vp.coder.primary",
                "event_type": "vp.mission.dispatched",
                "payload": null,
                "created_at": "2026-02-16T14:05:59+00:00"
            }
        ],
        "recent_session_events": [{
            "event_id": "s-1",
            "vp_id": "vp.coder.primary",
            "event_type": "vp.session.degraded",
            "payload": {"error": format!("heartbeat missed {SECRET}")},
            "created_at": "2026-02-16T13:30:00+00:00"
        }]
    })
}
