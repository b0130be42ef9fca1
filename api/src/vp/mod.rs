//! VP lane metrics (`GET /api/v1/ops/metrics/coder-vp` and its dashboard-safe
//! wrapper), the lane list and time series the charts draw, and the runbook's
//! rules: fallback-rate bands, the `rollout` and `sustained` decision profiles,
//! and the copy-ready evidence-log row.
//!
//! The two metrics responses share every aggregate ([`VpAggregates`], flattened
//! into both) and differ only in their rows. The operator's [`VpOpsMetrics`]
//! carries event payloads (fallback errors), the session's `last_error` and
//! mission objectives; the dashboard's [`VpDashboardMetrics`] is made of row
//! types that have no field for any of them. That is deliberate: an `Option`
//! payload the dashboard merely leaves empty would depend on every producer
//! remembering to, while here there is nowhere to put the text, and parsing an
//! over-sharing upstream reply into the dashboard type drops it.
//!
//! Every rule returns the criteria that produced its verdict, each with its
//! measured value, threshold, comparison and sample size, so the console can
//! show why a lane is held. No verdict says "ready" or "healthy" on fewer than
//! `VP_MIN_MISSIONS` missions.

mod cadence;
mod decision;
mod evidence;
#[cfg(test)]
mod fixtures;
mod log;
mod metrics;
mod query;
mod recovery;
mod routing;
mod series;
mod session;
mod tally;
mod thresholds;

pub use cadence::{
    FOLLOW_UP_DUE_MINUTES, FOLLOW_UP_WITHIN_MINUTES, MonitoringMode, VpCadence, VpCadenceChange,
    VpCadenceQuery, VpFollowUp,
};
pub use decision::{
    Comparison, FallbackBand, VpAssessment, VpCriterion, VpCriterionName, VpDecision, VpProfile,
    assess, assess_rollout, assess_sustained,
};
pub use evidence::{
    EVIDENCE_HEADER, EVIDENCE_MAX_SIGNATURES, EvidenceWindow, FailureSignature, RankedSignature,
    SIGNATURE_EXAMPLES, VpSnapshot, evidence_row,
};
pub use log::{
    DecisionTaken, EVIDENCE_LOG_COLUMNS, EVIDENCE_MAX_LIMIT, EvidencePage, EvidenceQuery,
    EvidenceRecord, EvidenceRow, EvidenceSource, NOTE_MAX, WINDOW_TEXT_MAX, evidence_log_csv,
    evidence_log_markdown,
};
pub use metrics::{
    SIGNATURE_MAX_CHARS, VpAggregates, VpDashboardMetrics, VpEvent, VpEventPayload, VpFallback,
    VpLatency, VpMission, VpOpsEvent, VpOpsMetrics, VpOpsMission, VpOpsSession, VpRecovery,
    VpSession, VpSessionHealth, VpSessionStatus,
};
pub use query::{
    DEFAULT_VP_ID, EVENT_DEFAULT_LIMIT, EVENT_MAX_LIMIT, MISSION_DEFAULT_LIMIT, MISSION_MAX_LIMIT,
    SERIES_DEFAULT_BUCKET_MINUTES, SERIES_DEFAULT_BUCKETS, SERIES_MAX_BUCKET_MINUTES,
    SERIES_MAX_BUCKETS, VP_ID_MAX, VpLimits, VpMetricsQuery, VpSeriesQuery, validate_vp_id,
};
pub use recovery::VpReadiness;
pub use routing::{
    VpRouting, VpRoutingChange, VpRoutingResult, console_routing_lane, routing_lane, routing_path,
};
pub use series::{
    ChartReading, TREND_BUCKETS, TREND_FALLBACK_POINTS, TREND_FALLBACK_RATIO, TREND_MIN_MISSIONS,
    TREND_P95_MIN_SECONDS, TREND_P95_RATIO, Trend, TrendWindow, VpLane, VpLanes, VpSeries,
    VpSeriesBucket,
};
pub use session::{
    LEASE_DRILL_REPEATS, LEASE_DRILL_WINDOW_HOURS, LeaseDrill, NULL_SESSION_MEANING,
};
pub use tally::{TERMINAL_STATUSES, VpMissionTally};
pub use thresholds::VpThresholds;

/// Paths of the VP part of the contract.
pub mod paths {
    /// GET [`super::VpOpsMetrics`]; query [`super::VpMetricsQuery`]; needs
    /// [`super::OPS_TOKEN_HEADER`]. Operators only: it carries payload errors.
    pub const OPS_METRICS: &str = "/api/v1/ops/metrics/coder-vp";
    /// GET [`super::VpDashboardMetrics`]; query [`super::VpMetricsQuery`].
    /// The dashboard-safe wrapper: same aggregates, no payload contents.
    pub const DASHBOARD_METRICS: &str = "/api/v1/dashboard/metrics/coder-vp";
    /// GET [`super::VpLanes`]: the lane picker. Not in the runbook; lives under
    /// `/api/v1/dashboard/` because it is as safe as the wrapper.
    pub const DASHBOARD_LANES: &str = "/api/v1/dashboard/metrics/vp/lanes";
    /// GET [`super::VpSeries`]; query [`super::VpSeriesQuery`]: the fallback and
    /// latency charts. Not in the runbook; dashboard-safe like the wrapper.
    pub const DASHBOARD_SERIES: &str = "/api/v1/dashboard/metrics/vp/series";
    /// GET [`super::VpThresholds`]: the console's decision thresholds, so the
    /// page judges a snapshot exactly as `opsdeck capture` does.
    pub const CONSOLE_THRESHOLDS: &str = "/api/console/vp/thresholds";
    /// GET [`super::VpRouting`]; POST [`super::VpRoutingChange`]: the lane's
    /// force-fallback switch. Needs [`super::OPS_TOKEN_HEADER`]; a POST needs
    /// `X-Actor` and admin writes. Build it with [`super::routing_path`].
    pub const LANE_ROUTING: &str = "/api/v1/ops/lanes/{vp_id}/routing";
    /// GET [`super::EvidencePage`] (query [`super::EvidenceQuery`]); POST
    /// [`super::EvidenceRecord`], answered with the [`super::EvidenceRow`] kept.
    pub const CONSOLE_EVIDENCE: &str = "/api/console/vp/evidence";
    /// POST [`super::VpRoutingChange`]: switch the lane through the console,
    /// which also records the evidence row; answered with [`super::VpRoutingResult`].
    pub const CONSOLE_ROUTING: &str = "/api/console/vp/lanes/{vp_id}/routing";
    /// GET [`super::VpCadence`] (query [`super::VpCadenceQuery`]); POST
    /// [`super::VpCadenceChange`], answered with the lane's new cadence.
    pub const CONSOLE_CADENCE: &str = "/api/console/vp/cadence";
}

/// Header carrying `UA_OPS_TOKEN` to the platform's ops endpoint. Only the
/// console server sends it; browsers never hold that token.
pub const OPS_TOKEN_HEADER: &str = "x-ua-ops-token";

/// Event types the platform writes to `vp_events` and `vp_session_events`.
pub mod event_type {
    /// A mission was handed to the lane.
    pub const MISSION_DISPATCHED: &str = "vp.mission.dispatched";
    /// Optional progress report.
    pub const MISSION_PROGRESS: &str = "vp.mission.progress";
    /// The mission finished on the lane.
    pub const MISSION_COMPLETED: &str = "vp.mission.completed";
    /// The mission fell back to the primary path; the payload says why.
    pub const MISSION_FALLBACK: &str = "vp.mission.fallback";
    /// The mission failed.
    pub const MISSION_FAILED: &str = "vp.mission.failed";
    /// The lane's session was created.
    pub const SESSION_CREATED: &str = "vp.session.created";
    /// The session resumed (after a degrade, a recovery success).
    pub const SESSION_RESUMED: &str = "vp.session.resumed";
    /// The session degraded (a recovery attempt begins).
    pub const SESSION_DEGRADED: &str = "vp.session.degraded";

    /// Event types an evidence row reports as failure signatures.
    pub const FAILURES: [&str; 2] = [MISSION_FALLBACK, MISSION_FAILED];
}

/// Configuration variables of the thresholds, as the server reads them.
pub mod env {
    /// [`super::VpThresholds::fallback_monitor_rate`].
    pub const FALLBACK_MONITOR_RATE: &str = "VP_FALLBACK_MONITOR_RATE";
    /// [`super::VpThresholds::fallback_investigate_rate`].
    pub const FALLBACK_INVESTIGATE_RATE: &str = "VP_FALLBACK_INVESTIGATE_RATE";
    /// [`super::VpThresholds::p95_latency_slo_seconds`].
    pub const P95_LATENCY_SLO_SECONDS: &str = "VP_P95_LATENCY_SLO_SECONDS";
    /// [`super::VpThresholds::p95_latency_critical_seconds`].
    pub const P95_LATENCY_CRITICAL_SECONDS: &str = "VP_P95_LATENCY_CRITICAL_SECONDS";
    /// [`super::VpThresholds::min_missions`].
    pub const MIN_MISSIONS: &str = "VP_MIN_MISSIONS";
    /// [`super::VpThresholds::min_recovery_success_rate`].
    pub const MIN_RECOVERY_SUCCESS_RATE: &str = "VP_MIN_RECOVERY_SUCCESS_RATE";
    /// [`super::VpThresholds::max_orphan_rate`].
    pub const MAX_ORPHAN_RATE: &str = "VP_MAX_ORPHAN_RATE";
    /// [`super::VpThresholds::max_failed_rate`].
    pub const MAX_FAILED_RATE: &str = "VP_MAX_FAILED_RATE";
    /// [`super::VpThresholds::failed_rate_critical`].
    pub const FAILED_RATE_CRITICAL: &str = "VP_FAILED_RATE_CRITICAL";
    /// [`super::VpThresholds::mission_stale_seconds`].
    pub const MISSION_STALE_SECONDS: &str = "VP_MISSION_STALE_SECONDS";
    /// [`super::VpThresholds::max_stale_missions`].
    pub const MAX_STALE_MISSIONS: &str = "VP_MAX_STALE_MISSIONS";
    /// [`super::VpThresholds::stale_rate_critical`].
    pub const STALE_RATE_CRITICAL: &str = "VP_STALE_RATE_CRITICAL";
}

/// Default of each threshold, beside its variable in [`mod@env`]: what
/// [`VpThresholds::default`] holds, and what the server's flags fall back to.
pub mod defaults {
    /// [`super::env::FALLBACK_MONITOR_RATE`]: the runbook's healthy band ends here.
    pub const FALLBACK_MONITOR_RATE: f64 = 0.05;
    /// [`super::env::FALLBACK_INVESTIGATE_RATE`]: the runbook's investigate band starts here.
    pub const FALLBACK_INVESTIGATE_RATE: f64 = 0.20;
    /// [`super::env::P95_LATENCY_SLO_SECONDS`]: where the capture helper starts watching.
    pub const P95_LATENCY_SLO_SECONDS: f64 = 45.0;
    /// [`super::env::P95_LATENCY_CRITICAL_SECONDS`]: the capture helper's forcing level.
    pub const P95_LATENCY_CRITICAL_SECONDS: f64 = 90.0;
    /// [`super::env::MIN_MISSIONS`]: the smallest sample that resolves the healthy band.
    pub const MIN_MISSIONS: u64 = 20;
    /// [`super::env::MIN_RECOVERY_SUCCESS_RATE`]: at most one orphan in ten.
    pub const MIN_RECOVERY_SUCCESS_RATE: f64 = 0.90;
    /// [`super::env::MAX_ORPHAN_RATE`]: the complement of the success minimum.
    pub const MAX_ORPHAN_RATE: f64 = 0.10;
    /// [`super::env::MAX_FAILED_RATE`]: outright failures are watched from the
    /// same share as fallbacks.
    pub const MAX_FAILED_RATE: f64 = 0.05;
    /// [`super::env::FAILED_RATE_CRITICAL`]: and force fallback from the same
    /// share as fallbacks do.
    pub const FAILED_RATE_CRITICAL: f64 = 0.20;
    /// [`super::env::MISSION_STALE_SECONDS`]: ten minutes, well past the
    /// 90 s critical p95, so only a mission that will not finish is stale.
    pub const MISSION_STALE_SECONDS: f64 = 600.0;
    /// [`super::env::MAX_STALE_MISSIONS`]: one stuck mission may be a slow
    /// one; the runbook escalates on "multiple recent missions".
    pub const MAX_STALE_MISSIONS: u64 = 1;
    /// [`super::env::STALE_RATE_CRITICAL`]: a fifth of the window never
    /// finishing is as bad as a fifth falling back.
    pub const STALE_RATE_CRITICAL: f64 = 0.20;
}
