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

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::Rate;
use crate::validate::{ErrorKind, ValidationError};

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
}

/// Header carrying `UA_OPS_TOKEN` to the platform's ops endpoint. Only the
/// console server sends it; browsers never hold that token.
pub const OPS_TOKEN_HEADER: &str = "x-ua-ops-token";
/// The lane the runbook watches, used when a query names none.
pub const DEFAULT_VP_ID: &str = "vp.coder.primary";
/// Longest `vp_id` accepted.
pub const VP_ID_MAX: usize = 64;
/// Most missions one metrics call considers (the capture helper's cap).
pub const MISSION_MAX_LIMIT: u32 = 500;
/// Missions considered when the query does not say (the capture helper's default).
pub const MISSION_DEFAULT_LIMIT: u32 = 100;
/// Most events (mission and session each) one metrics call returns (the capture helper's cap).
pub const EVENT_MAX_LIMIT: u32 = 1000;
/// Events returned when the query does not say (the capture helper's default).
pub const EVENT_DEFAULT_LIMIT: u32 = 500;
/// Most buckets one series call returns: 30 days of hours, wider than any chart.
pub const SERIES_MAX_BUCKETS: u32 = 720;
/// Buckets returned when the query does not say: two days of hours.
pub const SERIES_DEFAULT_BUCKETS: u32 = 48;
/// Widest bucket: one day.
pub const SERIES_MAX_BUCKET_MINUTES: u32 = 1440;
/// Bucket width when the query does not say.
pub const SERIES_DEFAULT_BUCKET_MINUTES: u32 = 60;
/// Most failure signatures an evidence row lists; the rest are counted.
pub const EVIDENCE_MAX_SIGNATURES: usize = 3;
/// Longest failure signature text kept, in characters.
pub const SIGNATURE_MAX_CHARS: usize = 120;

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
}

// ---------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------

/// Query of both metrics endpoints: `?vp_id=&mission_limit=&event_limit=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpMetricsQuery {
    /// Lane to report (default [`DEFAULT_VP_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_id: Option<String>,
    /// Newest missions to consider (1–[`MISSION_MAX_LIMIT`], default [`MISSION_DEFAULT_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_limit: Option<u32>,
    /// Newest events to return (1–[`EVENT_MAX_LIMIT`], default [`EVENT_DEFAULT_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_limit: Option<u32>,
}

impl VpMetricsQuery {
    /// The lane, or [`DEFAULT_VP_ID`] when absent or empty.
    pub fn vp_id(&self) -> &str {
        non_empty_or(&self.vp_id, DEFAULT_VP_ID)
    }

    /// `mission_limit` with its default, clamped to 1–[`MISSION_MAX_LIMIT`].
    pub fn mission_limit(&self) -> u32 {
        limit(self.mission_limit, MISSION_DEFAULT_LIMIT, MISSION_MAX_LIMIT)
    }

    /// `event_limit` with its default, clamped to 1–[`EVENT_MAX_LIMIT`].
    pub fn event_limit(&self) -> u32 {
        limit(self.event_limit, EVENT_DEFAULT_LIMIT, EVENT_MAX_LIMIT)
    }

    /// The query with every field filled in and in range, as the app sends it.
    pub fn clamped(&self) -> Self {
        VpMetricsQuery {
            vp_id: Some(self.vp_id().to_owned()),
            mission_limit: Some(self.mission_limit()),
            event_limit: Some(self.event_limit()),
        }
    }

    /// Check the lane id (limits are clamped, never refused).
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.vp_id.as_deref().map_or(Ok(()), validate_vp_id)
    }
}

/// Query of [`paths::DASHBOARD_SERIES`]: `?vp_id=&bucket_minutes=&buckets=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpSeriesQuery {
    /// Lane to chart (default [`DEFAULT_VP_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_id: Option<String>,
    /// Bucket width (1–[`SERIES_MAX_BUCKET_MINUTES`], default [`SERIES_DEFAULT_BUCKET_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_minutes: Option<u32>,
    /// Buckets back from now (1–[`SERIES_MAX_BUCKETS`], default [`SERIES_DEFAULT_BUCKETS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<u32>,
}

impl VpSeriesQuery {
    /// The lane, or [`DEFAULT_VP_ID`] when absent or empty.
    pub fn vp_id(&self) -> &str {
        non_empty_or(&self.vp_id, DEFAULT_VP_ID)
    }

    /// `bucket_minutes` with its default, clamped to 1–[`SERIES_MAX_BUCKET_MINUTES`].
    pub fn bucket_minutes(&self) -> u32 {
        limit(
            self.bucket_minutes,
            SERIES_DEFAULT_BUCKET_MINUTES,
            SERIES_MAX_BUCKET_MINUTES,
        )
    }

    /// `buckets` with its default, clamped to 1–[`SERIES_MAX_BUCKETS`].
    pub fn buckets(&self) -> u32 {
        limit(self.buckets, SERIES_DEFAULT_BUCKETS, SERIES_MAX_BUCKETS)
    }

    /// The query with every field filled in and in range, as the app sends it.
    pub fn clamped(&self) -> Self {
        VpSeriesQuery {
            vp_id: Some(self.vp_id().to_owned()),
            bucket_minutes: Some(self.bucket_minutes()),
            buckets: Some(self.buckets()),
        }
    }

    /// Check the lane id (sizes are clamped, never refused).
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.vp_id.as_deref().map_or(Ok(()), validate_vp_id)
    }
}

fn non_empty_or<'a>(value: &'a Option<String>, default: &'a str) -> &'a str {
    value
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(default)
}

fn limit(value: Option<u32>, default: u32, max: u32) -> u32 {
    value.unwrap_or(default).clamp(1, max)
}

/// A lane id: 1–64 characters of letters, digits, `.`, `_`, `:` and `-`
/// (`vp.coder.primary`), so it is safe in a query string and a log line.
pub fn validate_vp_id(value: &str) -> Result<(), ValidationError> {
    let invalid = |message: String| ValidationError {
        field: "vp_id",
        message,
        kind: ErrorKind::Invalid,
    };
    let len = value.chars().count();
    if len == 0 {
        return Err(invalid(format!(
            "vp_id is empty; leave it out for {DEFAULT_VP_ID}"
        )));
    }
    if len > VP_ID_MAX {
        return Err(invalid(format!(
            "vp_id is {len} characters; the limit is {VP_ID_MAX}"
        )));
    }
    if let Some((pos, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        return Err(invalid(format!(
            "vp_id may contain only letters, digits, '.', '_', ':' and '-'; found {c:?} at position {}",
            pos + 1
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Aggregates both endpoints share
// ---------------------------------------------------------------------------

/// `fallback`: missions that fell back, of those considered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpFallback {
    /// Considered missions with a `vp.mission.fallback` event.
    pub missions_with_fallback: u64,
    /// Missions considered (the newest `mission_limit`): the sample size.
    pub missions_considered: u64,
    /// `missions_with_fallback / missions_considered`; `null` with no missions
    /// (some platforms send `0` then: [`VpFallback::measured_rate`] ignores it).
    pub rate: Option<f64>,
}

impl VpFallback {
    /// The block for `with` fallbacks among `considered` missions.
    pub fn from_counts(with: u64, considered: u64) -> Self {
        VpFallback {
            missions_with_fallback: with,
            missions_considered: considered,
            rate: ratio(with, considered),
        }
    }

    /// The rate the rules judge, recomputed from the counts so the value and
    /// its sample size cannot disagree; `None` with no missions.
    pub fn measured_rate(&self) -> Option<f64> {
        ratio(self.missions_with_fallback, self.missions_considered)
    }

    /// The rate with its sample size, for display (`n/a` on small samples).
    pub fn as_rate(&self) -> Rate {
        Rate::new(self.missions_with_fallback, self.missions_considered)
    }

    /// The runbook band of the measured rate; `None` with no missions.
    pub fn band(&self, t: &VpThresholds) -> Option<FallbackBand> {
        self.measured_rate().and_then(|r| FallbackBand::of(r, t))
    }
}

/// `latency_seconds`: mission durations (`completed_at - started_at`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpLatency {
    /// Missions with a duration: the sample size of the figures below.
    pub count: u64,
    /// Mean duration.
    pub avg_seconds: Option<f64>,
    /// Median duration.
    pub p50_seconds: Option<f64>,
    /// 95th percentile: the runbook's primary SLO signal.
    pub p95_seconds: Option<f64>,
    /// Longest duration.
    pub max_seconds: Option<f64>,
}

impl VpLatency {
    /// Statistics of `samples` (seconds, any order). Samples that are not a
    /// finite, non-negative number are dropped; none left gives count 0 and
    /// no figures. Percentiles use the platform's nearest-rank rule: index
    /// `round((n - 1) * q)` into the sorted samples, ties to even.
    pub fn from_samples(samples: &[f64]) -> Self {
        let mut s: Vec<f64> = samples
            .iter()
            .copied()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .collect();
        if s.is_empty() {
            return VpLatency::default();
        }
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let at = |q: f64| s[(((n - 1) as f64) * q).round_ties_even() as usize];
        VpLatency {
            count: n as u64,
            avg_seconds: Some(s.iter().sum::<f64>() / n as f64),
            p50_seconds: Some(at(0.50)),
            p95_seconds: Some(at(0.95)),
            max_seconds: Some(s[n - 1]),
        }
    }
}

/// `recovery`: session recoveries, counted from session events (each
/// `vp.session.degraded` is an attempt; a later `vp.session.resumed` its success).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpRecovery {
    /// Recovery attempts: the sample size.
    pub attempts: u64,
    /// Attempts that resumed.
    pub successes: u64,
    /// `successes / attempts`; `null` with no attempts.
    pub success_rate: Option<f64>,
}

/// `session_health`: lane-local drift indicators.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpSessionHealth {
    /// The session is `degraded` or `recovering` now.
    pub currently_orphaned: bool,
    /// Recoveries not (yet) resumed.
    pub orphan_signals: u64,
    /// `orphan_signals / attempts` (1 when orphaned with no attempts, else 0).
    pub orphan_rate: Option<f64>,
}

/// `session.status` as the platform writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum VpSessionStatus {
    /// Working: expected in steady state.
    Active,
    /// Waiting for work: expected in steady state.
    Idle,
    /// Lost its lease or runtime; repeated, it calls for a recovery drill.
    Degraded,
    /// Being recovered; repeated, it calls for a recovery drill.
    Recovering,
    /// A status this console does not know, kept as sent.
    Other(String),
}

impl VpSessionStatus {
    /// The platform's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            VpSessionStatus::Active => "active",
            VpSessionStatus::Idle => "idle",
            VpSessionStatus::Degraded => "degraded",
            VpSessionStatus::Recovering => "recovering",
            VpSessionStatus::Other(s) => s,
        }
    }

    /// `active` or `idle`: what the runbook expects in steady state.
    pub fn is_steady(&self) -> bool {
        matches!(self, VpSessionStatus::Active | VpSessionStatus::Idle)
    }

    /// `degraded` or `recovering`: repeated, these call for a lease/recovery drill.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            VpSessionStatus::Degraded | VpSessionStatus::Recovering
        )
    }
}

impl From<String> for VpSessionStatus {
    fn from(s: String) -> Self {
        match s.as_str() {
            "active" => VpSessionStatus::Active,
            "idle" => VpSessionStatus::Idle,
            "degraded" => VpSessionStatus::Degraded,
            "recovering" => VpSessionStatus::Recovering,
            _ => VpSessionStatus::Other(s),
        }
    }
}

impl From<VpSessionStatus> for String {
    fn from(s: VpSessionStatus) -> Self {
        match s {
            VpSessionStatus::Other(s) => s,
            known => known.as_str().to_owned(),
        }
    }
}

impl fmt::Display for VpSessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything both metrics endpoints report except rows: counts, rates,
/// latency and session health. Flattened into [`VpOpsMetrics`] and
/// [`VpDashboardMetrics`], and all the rules need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpAggregates {
    /// When the platform computed the snapshot (UTC): the evidence timestamp.
    pub generated_at: DateTime<Utc>,
    /// The lane.
    pub vp_id: String,
    /// Considered missions by status (`completed`, `failed`, …).
    #[serde(default)]
    pub mission_counts: BTreeMap<String, u64>,
    /// Returned mission events by type (the event mix).
    #[serde(default)]
    pub event_counts: BTreeMap<String, u64>,
    /// Returned session events by type (the lifecycle sequence).
    #[serde(default)]
    pub session_event_counts: BTreeMap<String, u64>,
    /// Fallback rate with its counts.
    pub fallback: VpFallback,
    /// Mission latency.
    pub latency_seconds: VpLatency,
    /// Session recoveries.
    #[serde(default)]
    pub recovery: VpRecovery,
    /// Orphaning indicators.
    #[serde(default)]
    pub session_health: VpSessionHealth,
}

// ---------------------------------------------------------------------------
// Rows: dashboard-safe, and the operator's with payloads
// ---------------------------------------------------------------------------

/// `session` without anything free-form: safe for dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpSession {
    /// The lane.
    pub vp_id: String,
    /// `active`, `idle`, `degraded`, `recovering`, …
    pub status: VpSessionStatus,
    /// The session the lane runs in.
    pub session_id: Option<String>,
    /// The runtime hosting it.
    pub runtime_id: Option<String>,
    /// When the current lease runs out.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// Last heartbeat seen.
    pub last_heartbeat_at: Option<DateTime<Utc>>,
    /// When the session was registered.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
}

/// `session` as operators see it: the safe part plus lease holder, workspace
/// and the last error text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpOpsSession {
    /// The dashboard-safe fields.
    #[serde(flatten)]
    pub session: VpSession,
    /// Who holds the lease.
    pub lease_owner: Option<String>,
    /// Where the lane works on disk.
    pub workspace_dir: Option<String>,
    /// The last error the session recorded (free text: operators only).
    pub last_error: Option<String>,
}

/// One of `recent_missions`, without objective or result location: safe for dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpMission {
    /// Mission id.
    pub mission_id: String,
    /// `queued`, `running`, `completed`, `failed`, …
    pub status: String,
    /// The run it belongs to.
    pub run_id: Option<String>,
    /// When the lane started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it finished.
    pub completed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: Option<DateTime<Utc>>,
    /// `completed_at - started_at`, when both are known.
    pub duration_seconds: Option<f64>,
    /// Whether a `vp.mission.fallback` event names it.
    #[serde(default)]
    pub fallback_seen: bool,
}

/// One of `recent_missions` as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpOpsMission {
    /// The dashboard-safe fields.
    #[serde(flatten)]
    pub mission: VpMission,
    /// What the mission was asked to do (user text: operators only).
    pub objective: Option<String>,
    /// Where its result is.
    pub result_ref: Option<String>,
}

/// One of `recent_events` or `recent_session_events`, without payload: safe for dashboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpEvent {
    /// Event id.
    pub event_id: String,
    /// The mission it concerns (`None` for session events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_id: Option<String>,
    /// The lane.
    pub vp_id: String,
    /// One of [`event_type`], or another type the platform writes.
    pub event_type: String,
    /// When (UTC).
    pub created_at: DateTime<Utc>,
}

/// An event as operators see it: with its payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpOpsEvent {
    /// The dashboard-safe fields.
    #[serde(flatten)]
    pub event: VpEvent,
    /// The parsed payload; `None` when the platform stored none or it was not JSON.
    #[serde(default, deserialize_with = "lenient_payload")]
    pub payload: Option<VpEventPayload>,
}

/// An event payload: the fields the runbook reads, and the rest as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VpEventPayload {
    /// Why (`vp_execution_error`, …), on fallbacks and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The error text, on fallbacks and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Trace to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Any other fields, untouched.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl VpEventPayload {
    /// Read any JSON as a payload, never failing: an object whose known
    /// fields have unexpected types keeps them all in `extra`, and a bare
    /// value is kept under `extra["value"]`. One odd payload must not cost
    /// the operator the whole panel.
    pub fn from_json(value: serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::Null => None,
            serde_json::Value::Object(map) => Some(
                serde_json::from_value(serde_json::Value::Object(map.clone())).unwrap_or(
                    VpEventPayload {
                        extra: map.into_iter().collect(),
                        ..VpEventPayload::default()
                    },
                ),
            ),
            other => Some(VpEventPayload {
                extra: BTreeMap::from([("value".to_owned(), other)]),
                ..VpEventPayload::default()
            }),
        }
    }

    /// `reason: error` (either alone when only one is set), whitespace folded
    /// to single spaces and cut to [`SIGNATURE_MAX_CHARS`]; `None` when neither is set.
    pub fn signature(&self) -> Option<String> {
        let parts: Vec<&str> = [self.reason.as_deref(), self.error.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() {
            return None;
        }
        let folded = parts
            .join(": ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Some(if folded.chars().count() > SIGNATURE_MAX_CHARS {
            let cut: String = folded.chars().take(SIGNATURE_MAX_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            folded
        })
    }
}

fn lenient_payload<'de, D: Deserializer<'de>>(d: D) -> Result<Option<VpEventPayload>, D::Error> {
    Ok(Option::<serde_json::Value>::deserialize(d)?.and_then(VpEventPayload::from_json))
}

// ---------------------------------------------------------------------------
// The two responses
// ---------------------------------------------------------------------------

/// `GET /api/v1/ops/metrics/coder-vp`: the operator's snapshot, payload errors included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpOpsMetrics {
    /// Counts, rates, latency and session health.
    #[serde(flatten)]
    pub aggregates: VpAggregates,
    /// The lane's session; `null` before bootstrap or when the runtime DB is unavailable.
    pub session: Option<VpOpsSession>,
    /// Considered missions, newest first.
    #[serde(default)]
    pub recent_missions: Vec<VpOpsMission>,
    /// Mission events, newest first.
    #[serde(default)]
    pub recent_events: Vec<VpOpsEvent>,
    /// Session events, newest first.
    #[serde(default)]
    pub recent_session_events: Vec<VpOpsEvent>,
}

impl VpOpsMetrics {
    /// The dashboard-safe view: every aggregate, every row, no free text.
    pub fn to_dashboard(&self) -> VpDashboardMetrics {
        VpDashboardMetrics {
            aggregates: self.aggregates.clone(),
            session: self.session.as_ref().map(|s| s.session.clone()),
            recent_missions: self
                .recent_missions
                .iter()
                .map(|m| m.mission.clone())
                .collect(),
            recent_events: self.recent_events.iter().map(|e| e.event.clone()).collect(),
            recent_session_events: self
                .recent_session_events
                .iter()
                .map(|e| e.event.clone())
                .collect(),
        }
    }
}

impl From<VpOpsMetrics> for VpDashboardMetrics {
    fn from(m: VpOpsMetrics) -> Self {
        VpDashboardMetrics {
            aggregates: m.aggregates,
            session: m.session.map(|s| s.session),
            recent_missions: m.recent_missions.into_iter().map(|m| m.mission).collect(),
            recent_events: m.recent_events.into_iter().map(|e| e.event).collect(),
            recent_session_events: m
                .recent_session_events
                .into_iter()
                .map(|e| e.event)
                .collect(),
        }
    }
}

/// `GET /api/v1/dashboard/metrics/coder-vp`: the same shape as
/// [`VpOpsMetrics`], built from row types with no field for payloads, error
/// text or objectives (see the module docs for why a separate type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpDashboardMetrics {
    /// Counts, rates, latency and session health.
    #[serde(flatten)]
    pub aggregates: VpAggregates,
    /// The lane's session (status and times only).
    pub session: Option<VpSession>,
    /// Considered missions, newest first (status and times only).
    #[serde(default)]
    pub recent_missions: Vec<VpMission>,
    /// Mission events, newest first (no payloads).
    #[serde(default)]
    pub recent_events: Vec<VpEvent>,
    /// Session events, newest first (no payloads).
    #[serde(default)]
    pub recent_session_events: Vec<VpEvent>,
}

// ---------------------------------------------------------------------------
// Charts: lanes and time series
// ---------------------------------------------------------------------------

/// One lane in the picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpLane {
    /// Lane id (`vp.coder.primary`).
    pub vp_id: String,
    /// What people call it (`CODIE`).
    pub display_name: String,
    /// Missions the lane has run.
    pub mission_count: u64,
    /// Its newest mission or session event; `None` if it never ran.
    pub last_activity_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/dashboard/metrics/vp/lanes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpLanes {
    /// When listed (UTC).
    pub generated_at: DateTime<Utc>,
    /// Most recently active first.
    pub lanes: Vec<VpLane>,
}

/// One time bucket of a lane: the runbook's `fallback` and `latency_seconds`
/// blocks over the missions that started in it, so every rate comes with its
/// sample size and every percentile with its count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpSeriesBucket {
    /// Start of the bucket (UTC); it lasts `bucket_minutes`.
    pub start: DateTime<Utc>,
    /// Missions started in the bucket and those that fell back.
    pub fallback: VpFallback,
    /// Durations of those missions (p50 and p95 drawn, count as sample).
    pub latency_seconds: VpLatency,
}

impl VpSeriesBucket {
    /// Missions started in the bucket.
    pub fn missions(&self) -> u64 {
        self.fallback.missions_considered
    }

    /// Fallback rate with its sample size (`n/a` on small samples).
    pub fn fallback_rate(&self) -> Rate {
        self.fallback.as_rate()
    }
}

/// `GET /api/v1/dashboard/metrics/vp/series`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpSeries {
    /// When computed (UTC).
    pub generated_at: DateTime<Utc>,
    /// The lane.
    pub vp_id: String,
    /// Width of every bucket.
    pub bucket_minutes: u32,
    /// Oldest first, contiguous: empty buckets are present with zero counts,
    /// so the x axis is time and gaps show as gaps.
    pub buckets: Vec<VpSeriesBucket>,
}

// ---------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------

/// The runbook's fallback-rate bands (§3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FallbackBand {
    /// `rate < 0.05`: healthy for guarded rollout.
    Healthy,
    /// `0.05 <= rate < 0.20`: monitor; inspect recent fallback payload errors.
    Monitor,
    /// `rate >= 0.20`: investigate now; consider forcing the fallback lane.
    Investigate,
}

impl FallbackBand {
    /// The band of `rate`: the monitor and investigate thresholds themselves
    /// belong to the worse band. `None` for a rate that is not a finite,
    /// non-negative number. No tolerance is needed: `k / n` that equals a
    /// threshold exactly rounds to the same double as the threshold.
    pub fn of(rate: f64, t: &VpThresholds) -> Option<FallbackBand> {
        if !rate.is_finite() || rate < 0.0 {
            None
        } else if rate >= t.fallback_investigate_rate {
            Some(FallbackBand::Investigate)
        } else if rate >= t.fallback_monitor_rate {
            Some(FallbackBand::Monitor)
        } else {
            Some(FallbackBand::Healthy)
        }
    }

    /// `healthy`, `monitor` or `investigate`.
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackBand::Healthy => "healthy",
            FallbackBand::Monitor => "monitor",
            FallbackBand::Investigate => "investigate",
        }
    }
}

impl fmt::Display for FallbackBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which decision profile a snapshot is judged by (the capture helper's
/// `--assessment-profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VpProfile {
    /// Promotion gate during guarded rollout.
    Rollout,
    /// Low-cost monitoring once the lane is default-on.
    Sustained,
}

/// A decision, spelled as the runbook spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VpDecision {
    /// Rollout: stay in shadow; a criterion failed.
    HoldShadow,
    /// Rollout: every criterion passed; move to the limited cohort pilot.
    ReadyForLimitedCohortPilot,
    /// Sustained: keep default-on and the scheduled checks.
    SustainedDefaultOnHealthy,
    /// Sustained: snapshot more often and inspect recent fallback payloads.
    SustainedWatch,
    /// Sustained: set `UA_CODER_VP_FORCE_FALLBACK=1`, recover, re-evaluate.
    SustainedForceFallback,
}

impl VpDecision {
    /// The runbook's spelling (`HOLD_SHADOW`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            VpDecision::HoldShadow => "HOLD_SHADOW",
            VpDecision::ReadyForLimitedCohortPilot => "READY_FOR_LIMITED_COHORT_PILOT",
            VpDecision::SustainedDefaultOnHealthy => "SUSTAINED_DEFAULT_ON_HEALTHY",
            VpDecision::SustainedWatch => "SUSTAINED_WATCH",
            VpDecision::SustainedForceFallback => "SUSTAINED_FORCE_FALLBACK",
        }
    }

    /// The profile that yields this decision.
    pub fn profile(self) -> VpProfile {
        match self {
            VpDecision::HoldShadow | VpDecision::ReadyForLimitedCohortPilot => VpProfile::Rollout,
            _ => VpProfile::Sustained,
        }
    }
}

impl fmt::Display for VpDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a measured value must compare with its threshold to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Comparison {
    /// `measured < threshold`.
    #[serde(rename = "<")]
    Below,
    /// `measured <= threshold`.
    #[serde(rename = "<=")]
    AtMost,
    /// `measured >= threshold`.
    #[serde(rename = ">=")]
    AtLeast,
}

impl Comparison {
    /// `<`, `<=` or `>=`.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Below => "<",
            Comparison::AtMost => "<=",
            Comparison::AtLeast => ">=",
        }
    }

    /// Whether `measured` passes against `threshold` (never for NaN).
    pub fn holds(self, measured: f64, threshold: f64) -> bool {
        match self {
            Comparison::Below => measured < threshold,
            Comparison::AtMost => measured <= threshold,
            Comparison::AtLeast => measured >= threshold,
        }
    }

    fn verb(self, passed: bool) -> &'static str {
        match (self, passed) {
            (Comparison::Below, true) => "is below",
            (Comparison::Below, false) => "is not below",
            (Comparison::AtMost, true) => "is at most",
            (Comparison::AtMost, false) => "is above",
            (Comparison::AtLeast, true) => "is at least",
            (Comparison::AtLeast, false) => "is below",
        }
    }
}

/// What a criterion checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VpCriterionName {
    /// Enough missions considered to judge at all (`VP_MIN_MISSIONS`).
    MinMissions,
    /// Fallback rate below the monitor band (`VP_FALLBACK_MONITOR_RATE`).
    FallbackRate,
    /// Fallback rate below the investigate band (`VP_FALLBACK_INVESTIGATE_RATE`).
    FallbackRateCritical,
    /// p95 latency below its SLO (`VP_P95_LATENCY_SLO_SECONDS`).
    P95Latency,
    /// p95 latency below its critical level (`VP_P95_LATENCY_CRITICAL_SECONDS`).
    P95LatencyCritical,
    /// Recoveries mostly resume (`VP_MIN_RECOVERY_SUCCESS_RATE`).
    RecoverySuccessRate,
    /// Few recoveries left orphaned (`VP_MAX_ORPHAN_RATE`).
    OrphanRate,
}

impl VpCriterionName {
    /// The snake_case name (`min_missions`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            VpCriterionName::MinMissions => "min_missions",
            VpCriterionName::FallbackRate => "fallback_rate",
            VpCriterionName::FallbackRateCritical => "fallback_rate_critical",
            VpCriterionName::P95Latency => "p95_latency",
            VpCriterionName::P95LatencyCritical => "p95_latency_critical",
            VpCriterionName::RecoverySuccessRate => "recovery_success_rate",
            VpCriterionName::OrphanRate => "orphan_rate",
        }
    }
}

impl fmt::Display for VpCriterionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check behind a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpCriterion {
    /// What it checks.
    pub name: VpCriterionName,
    /// The configuration variable holding its threshold.
    pub config: String,
    /// The value measured; `None` when there was nothing to measure (or it was not a number).
    pub measured: Option<f64>,
    /// The threshold in force.
    pub threshold: f64,
    /// How `measured` must compare with `threshold` to pass.
    pub comparison: Comparison,
    /// Observations behind `measured` (missions, timed missions, recovery attempts).
    pub sample: u64,
    /// Whether it passed.
    pub passed: bool,
    /// A failure forces fallback (sustained profile only).
    pub critical: bool,
    /// The verdict in words, naming the variable and both numbers.
    pub detail: String,
}

/// A decision and the criteria that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpAssessment {
    /// The profile judged by.
    pub profile: VpProfile,
    /// The decision.
    pub decision: VpDecision,
    /// Band of the fallback rate; `None` with no missions.
    pub band: Option<FallbackBand>,
    /// Every check, in a fixed order (min missions first).
    pub criteria: Vec<VpCriterion>,
}

impl VpAssessment {
    /// The criteria that failed.
    pub fn failed(&self) -> impl Iterator<Item = &VpCriterion> {
        self.criteria.iter().filter(|c| !c.passed)
    }
}

/// Thresholds of the rules, named as their configuration variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpThresholds {
    /// `VP_FALLBACK_MONITOR_RATE`: fallback rate from which the lane is
    /// monitored, not healthy (runbook: 0.05).
    pub fallback_monitor_rate: f64,
    /// `VP_FALLBACK_INVESTIGATE_RATE`: fallback rate from which to investigate
    /// now and, sustained, force fallback (runbook: 0.20).
    pub fallback_investigate_rate: f64,
    /// `VP_P95_LATENCY_SLO_SECONDS`: p95 must stay below this to be ready or
    /// healthy (the runbook's capture helper watches from 45 s).
    pub p95_latency_slo_seconds: f64,
    /// `VP_P95_LATENCY_CRITICAL_SECONDS`: p95 from which a default-on lane is
    /// forced to fallback (the capture helper's 90 s).
    pub p95_latency_critical_seconds: f64,
    /// `VP_MIN_MISSIONS`: fewest missions considered before any ready or
    /// healthy verdict. 20 is the smallest sample on which the 0.05 band is
    /// resolvable: below it, one fallback alone lands in the monitor band.
    pub min_missions: u64,
    /// `VP_MIN_RECOVERY_SUCCESS_RATE`: share of recovery attempts that must
    /// have resumed (0.90: at most one orphan in ten).
    pub min_recovery_success_rate: f64,
    /// `VP_MAX_ORPHAN_RATE`: share of recovery attempts that may be left
    /// orphaned (0.10, the complement of the above).
    pub max_orphan_rate: f64,
}

impl Default for VpThresholds {
    fn default() -> Self {
        VpThresholds {
            fallback_monitor_rate: 0.05,
            fallback_investigate_rate: 0.20,
            p95_latency_slo_seconds: 45.0,
            p95_latency_critical_seconds: 90.0,
            min_missions: 20,
            min_recovery_success_rate: 0.90,
            max_orphan_rate: 0.10,
        }
    }
}

impl VpThresholds {
    /// Refuse thresholds that cannot work, naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        let open_rate = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 && v <= 1.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a rate above 0 and at most 1, got {v}"
                ))
            }
        };
        let closed_rate = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be a rate from 0 to 1, got {v}"))
            }
        };
        let seconds = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!(
                    "{name} must be a number of seconds above 0, got {v}"
                ))
            }
        };
        open_rate(env::FALLBACK_MONITOR_RATE, self.fallback_monitor_rate)?;
        open_rate(
            env::FALLBACK_INVESTIGATE_RATE,
            self.fallback_investigate_rate,
        )?;
        if self.fallback_investigate_rate < self.fallback_monitor_rate {
            return Err(format!(
                "{} ({}) must not be below {} ({})",
                env::FALLBACK_INVESTIGATE_RATE,
                self.fallback_investigate_rate,
                env::FALLBACK_MONITOR_RATE,
                self.fallback_monitor_rate
            ));
        }
        seconds(env::P95_LATENCY_SLO_SECONDS, self.p95_latency_slo_seconds)?;
        seconds(
            env::P95_LATENCY_CRITICAL_SECONDS,
            self.p95_latency_critical_seconds,
        )?;
        if self.p95_latency_critical_seconds < self.p95_latency_slo_seconds {
            return Err(format!(
                "{} ({}) must not be below {} ({})",
                env::P95_LATENCY_CRITICAL_SECONDS,
                self.p95_latency_critical_seconds,
                env::P95_LATENCY_SLO_SECONDS,
                self.p95_latency_slo_seconds
            ));
        }
        if self.min_missions == 0 {
            return Err(format!(
                "{} must be at least 1: no verdict may rest on no missions",
                env::MIN_MISSIONS
            ));
        }
        closed_rate(
            env::MIN_RECOVERY_SUCCESS_RATE,
            self.min_recovery_success_rate,
        )?;
        closed_rate(env::MAX_ORPHAN_RATE, self.max_orphan_rate)?;
        Ok(())
    }
}

/// Judge `m` by `profile`.
pub fn assess(profile: VpProfile, m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
    match profile {
        VpProfile::Rollout => assess_rollout(m, t),
        VpProfile::Sustained => assess_sustained(m, t),
    }
}

/// The rollout profile: `READY_FOR_LIMITED_COHORT_PILOT` when every criterion
/// passes (enough missions, fallback rate in the healthy band, p95 below its
/// SLO, recoveries resuming, few orphans), else `HOLD_SHADOW`. A criterion
/// with nothing to measure fails here unless its absence is itself good news
/// (no recovery attempts).
pub fn assess_rollout(m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
    let criteria = vec![
        min_missions(m, t),
        fallback_rate(m, t, false),
        p95_latency(m, t, false),
        recovery_success(m, t),
        orphan_rate(m, t),
    ];
    let decision = if criteria.iter().all(|c| c.passed) {
        VpDecision::ReadyForLimitedCohortPilot
    } else {
        VpDecision::HoldShadow
    };
    finish(VpProfile::Rollout, decision, m, t, criteria)
}

/// The sustained profile: `SUSTAINED_FORCE_FALLBACK` when a critical criterion
/// fails (fallback rate in the investigate band, or p95 at its critical
/// level), `SUSTAINED_DEFAULT_ON_HEALTHY` when every criterion passes, else
/// `SUSTAINED_WATCH`.
///
/// Too few missions never reads healthy, but it does not shield a lane that
/// is already failing: a small sample cannot prove health, yet 5 fallbacks in
/// 8 missions is harm enough, and forcing fallback is the safe, reversible
/// move. Critical criteria with nothing to measure pass (no evidence of harm).
pub fn assess_sustained(m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
    let criteria = vec![
        min_missions(m, t),
        fallback_rate(m, t, false),
        fallback_rate(m, t, true),
        p95_latency(m, t, false),
        p95_latency(m, t, true),
        recovery_success(m, t),
        orphan_rate(m, t),
    ];
    let decision = if criteria.iter().any(|c| c.critical && !c.passed) {
        VpDecision::SustainedForceFallback
    } else if criteria.iter().all(|c| c.passed) {
        VpDecision::SustainedDefaultOnHealthy
    } else {
        VpDecision::SustainedWatch
    };
    finish(VpProfile::Sustained, decision, m, t, criteria)
}

fn finish(
    profile: VpProfile,
    decision: VpDecision,
    m: &VpAggregates,
    t: &VpThresholds,
    criteria: Vec<VpCriterion>,
) -> VpAssessment {
    VpAssessment {
        profile,
        decision,
        band: m.fallback.band(t),
        criteria,
    }
}

#[derive(Clone, Copy)]
enum Unit {
    Count,
    Ratio,
    Seconds,
}

impl Unit {
    fn show(self, v: f64) -> String {
        match self {
            Unit::Count if v.is_finite() && v >= 0.0 => (v.round() as u64).to_string(),
            Unit::Seconds if v.is_finite() => format!("{}s", fixed3(v)),
            Unit::Count | Unit::Ratio | Unit::Seconds => fixed3(v),
        }
    }
}

/// One check before judging.
struct Check {
    name: VpCriterionName,
    config: &'static str,
    label: &'static str,
    unit: Unit,
    measured: Option<f64>,
    threshold: f64,
    comparison: Comparison,
    sample: u64,
    /// What the sample counts, for the detail; `None` when it is the measure.
    sample_of: Option<&'static str>,
    critical: bool,
    /// Verdict, and why, when there is nothing to measure.
    when_missing: (bool, &'static str),
}

impl Check {
    fn judge(self) -> VpCriterion {
        let measured = self.measured.filter(|v| v.is_finite());
        let (passed, detail) = match measured {
            Some(v) => {
                let passed = self.comparison.holds(v, self.threshold);
                let sample = self
                    .sample_of
                    .map(|of| format!(" ({} {of})", self.sample))
                    .unwrap_or_default();
                (
                    passed,
                    format!(
                        "{} {}{sample} {} {} {}",
                        self.label,
                        self.unit.show(v),
                        self.comparison.verb(passed),
                        self.config,
                        self.unit.show(self.threshold),
                    ),
                )
            }
            None => (
                self.when_missing.0,
                format!("{}: {}", self.label, self.when_missing.1),
            ),
        };
        VpCriterion {
            name: self.name,
            config: self.config.to_owned(),
            measured,
            threshold: self.threshold,
            comparison: self.comparison,
            sample: self.sample,
            passed,
            critical: self.critical,
            detail,
        }
    }
}

fn min_missions(m: &VpAggregates, t: &VpThresholds) -> VpCriterion {
    let n = m.fallback.missions_considered;
    let mut c = Check {
        name: VpCriterionName::MinMissions,
        config: env::MIN_MISSIONS,
        label: "missions considered",
        unit: Unit::Count,
        measured: Some(n as f64),
        threshold: t.min_missions as f64,
        comparison: Comparison::AtLeast,
        sample: n,
        sample_of: None,
        critical: false,
        when_missing: (false, "not reported"),
    }
    .judge();
    if !c.passed {
        c.detail
            .push_str(": too few to call the lane ready or healthy");
    }
    c
}

fn fallback_rate(m: &VpAggregates, t: &VpThresholds, critical: bool) -> VpCriterion {
    let (name, config, threshold, when_missing) = if critical {
        (
            VpCriterionName::FallbackRateCritical,
            env::FALLBACK_INVESTIGATE_RATE,
            t.fallback_investigate_rate,
            (
                true,
                "no missions considered, so nothing to force fallback on",
            ),
        )
    } else {
        (
            VpCriterionName::FallbackRate,
            env::FALLBACK_MONITOR_RATE,
            t.fallback_monitor_rate,
            (false, "no missions considered, so no rate to judge"),
        )
    };
    Check {
        name,
        config,
        label: "fallback rate",
        unit: Unit::Ratio,
        measured: m.fallback.measured_rate(),
        threshold,
        comparison: Comparison::Below,
        sample: m.fallback.missions_considered,
        sample_of: Some("missions"),
        critical,
        when_missing,
    }
    .judge()
}

fn p95_latency(m: &VpAggregates, t: &VpThresholds, critical: bool) -> VpCriterion {
    let (name, config, threshold, when_missing) = if critical {
        (
            VpCriterionName::P95LatencyCritical,
            env::P95_LATENCY_CRITICAL_SECONDS,
            t.p95_latency_critical_seconds,
            (
                true,
                "no mission durations, so nothing to force fallback on",
            ),
        )
    } else {
        (
            VpCriterionName::P95Latency,
            env::P95_LATENCY_SLO_SECONDS,
            t.p95_latency_slo_seconds,
            (
                false,
                "no mission durations (no completed missions) to judge",
            ),
        )
    };
    Check {
        name,
        config,
        label: "p95 latency",
        unit: Unit::Seconds,
        measured: m.latency_seconds.p95_seconds,
        threshold,
        comparison: Comparison::Below,
        sample: m.latency_seconds.count,
        sample_of: Some("timed missions"),
        critical,
        when_missing,
    }
    .judge()
}

fn recovery_success(m: &VpAggregates, t: &VpThresholds) -> VpCriterion {
    let r = &m.recovery;
    Check {
        name: VpCriterionName::RecoverySuccessRate,
        config: env::MIN_RECOVERY_SUCCESS_RATE,
        label: "recovery success rate",
        unit: Unit::Ratio,
        // From the counts, like the fallback rate, so value and sample agree.
        measured: ratio(r.successes, r.attempts),
        threshold: t.min_recovery_success_rate,
        comparison: Comparison::AtLeast,
        sample: r.attempts,
        sample_of: Some("recovery attempts"),
        critical: false,
        when_missing: (
            true,
            "no recovery attempts (no vp.session.degraded) to judge",
        ),
    }
    .judge()
}

fn orphan_rate(m: &VpAggregates, t: &VpThresholds) -> VpCriterion {
    let h = &m.session_health;
    Check {
        name: VpCriterionName::OrphanRate,
        config: env::MAX_ORPHAN_RATE,
        label: "orphan rate",
        unit: Unit::Ratio,
        // An orphaned session with no rate reported is fully orphaned.
        measured: h.orphan_rate.or(h.currently_orphaned.then_some(1.0)),
        threshold: t.max_orphan_rate,
        comparison: Comparison::AtMost,
        sample: m.recovery.attempts,
        sample_of: Some("recovery attempts"),
        critical: false,
        when_missing: (true, "not reported and the session is not orphaned"),
    }
    .judge()
}

fn ratio(count: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| count as f64 / total as f64)
}

/// `v` with three decimals (`0.050`, `-1.250`), or `n/a` when not finite.
/// Printed from whole thousandths rather than with `{:.3}`, which would bring
/// the float-printing code into the browser app's wasm (see [`Rate::percent`]).
fn fixed3(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let thousandths = (v.abs() * 1000.0).round() as u64;
    let sign = if v < 0.0 && thousandths > 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000)
}

// ---------------------------------------------------------------------------
// Evidence log
// ---------------------------------------------------------------------------

/// Fallbacks or failures that share an event type and payload text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSignature {
    /// `vp.mission.fallback` or `vp.mission.failed`.
    pub event_type: String,
    /// `reason: error` from the payload; `None` on the dashboard (no payloads)
    /// or when the payload says nothing.
    pub signature: Option<String>,
    /// How many recent events share it.
    pub count: u64,
}

impl FailureSignature {
    fn show(&self) -> String {
        match &self.signature {
            Some(s) => format!("{}× {} ({s})", self.count, self.event_type),
            None => format!("{}× {}", self.count, self.event_type),
        }
    }
}

/// A metrics snapshot an evidence row can be written from.
pub trait VpSnapshot {
    /// Counts, rates, latency and session health.
    fn aggregates(&self) -> &VpAggregates;

    /// Recent fallback and failure events grouped by type and payload text,
    /// most frequent first (then by type and text, so the order is stable).
    fn failure_signatures(&self) -> Vec<FailureSignature>;
}

/// Aggregates alone have no events, so no signatures.
impl VpSnapshot for VpAggregates {
    fn aggregates(&self) -> &VpAggregates {
        self
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        Vec::new()
    }
}

impl VpSnapshot for VpOpsMetrics {
    fn aggregates(&self) -> &VpAggregates {
        &self.aggregates
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        group_signatures(self.recent_events.iter().map(|e| {
            (
                e.event.event_type.as_str(),
                e.payload.as_ref().and_then(VpEventPayload::signature),
            )
        }))
    }
}

impl VpSnapshot for VpDashboardMetrics {
    fn aggregates(&self) -> &VpAggregates {
        &self.aggregates
    }

    fn failure_signatures(&self) -> Vec<FailureSignature> {
        group_signatures(
            self.recent_events
                .iter()
                .map(|e| (e.event_type.as_str(), None)),
        )
    }
}

fn group_signatures<'a>(
    events: impl Iterator<Item = (&'a str, Option<String>)>,
) -> Vec<FailureSignature> {
    let mut counts: BTreeMap<(&str, Option<String>), u64> = BTreeMap::new();
    for (kind, text) in events.filter(|(kind, _)| event_type::FAILURES.contains(kind)) {
        *counts.entry((kind, text)).or_default() += 1;
    }
    let mut out: Vec<FailureSignature> = counts
        .into_iter()
        .map(|((kind, signature), count)| FailureSignature {
            event_type: kind.to_owned(),
            signature,
            count,
        })
        .collect();
    // Stable sort: ties keep the map's (type, text) order.
    out.sort_by_key(|s| std::cmp::Reverse(s.count));
    out
}

/// Header and separator of the evidence table: the window and its scope (the
/// capture helper's `--window-label` and `--scope`), then one column per item
/// the runbook says to record (§5), in its order.
pub const EVIDENCE_HEADER: &str = "| Window | Scope | Query timestamp (generated_at) | Fallback metrics | Latency metrics | Notable failure signatures | Decision |\n|---|---|---|---|---|---|---|";

/// Which rollout window an evidence row records, in the operator's words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceWindow {
    /// `--window-label`, e.g. `Limited cohort window #1`.
    pub label: String,
    /// `--scope`, e.g. `vp.coder.primary limited cohort`.
    pub scope: String,
}

/// The copy-ready evidence-log row for `snapshot` and its `assessment`,
/// matching [`EVIDENCE_HEADER`]: `generated_at` (UTC, seconds, `Z`);
/// `missions_with_fallback`, `missions_considered`, `rate`; `avg_seconds`,
/// `p95_seconds`, `max_seconds`; the [`EVIDENCE_MAX_SIGNATURES`] most frequent
/// failure signatures; the decision with the criteria that failed. Missing
/// numbers read `n/a`, never `0`. Pipes in any text are escaped and line
/// breaks folded, so the row stays one table row.
/// An empty label or scope reads `—`.
pub fn evidence_row<S: VpSnapshot + ?Sized>(
    window: &EvidenceWindow,
    snapshot: &S,
    assessment: &VpAssessment,
) -> String {
    let m = snapshot.aggregates();
    let opt = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), fixed3);
    let f = &m.fallback;
    let l = &m.latency_seconds;
    let signatures = snapshot.failure_signatures();
    let mut shown: Vec<String> = signatures
        .iter()
        .take(EVIDENCE_MAX_SIGNATURES)
        .map(FailureSignature::show)
        .collect();
    if signatures.len() > EVIDENCE_MAX_SIGNATURES {
        shown.push(format!(
            "+{} more",
            signatures.len() - EVIDENCE_MAX_SIGNATURES
        ));
    }
    let failed: Vec<&str> = assessment.failed().map(|c| c.name.as_str()).collect();
    let decision = if failed.is_empty() {
        assessment.decision.as_str().to_owned()
    } else {
        format!("{} (failed: {})", assessment.decision, failed.join(", "))
    };
    let words = |text: &str| {
        if text.trim().is_empty() {
            "—".to_owned()
        } else {
            text.trim().to_owned()
        }
    };
    let cells = [
        words(&window.label),
        words(&window.scope),
        m.generated_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        format!(
            "missions_with_fallback={}, missions_considered={}, rate={}",
            f.missions_with_fallback,
            f.missions_considered,
            opt(f.measured_rate())
        ),
        format!(
            "avg_seconds={}, p95_seconds={}, max_seconds={}",
            opt(l.avg_seconds),
            opt(l.p95_seconds),
            opt(l.max_seconds)
        ),
        if shown.is_empty() {
            "none".to_owned()
        } else {
            shown.join("; ")
        },
        decision,
    ];
    let mut row = String::from("|");
    for cell in &cells {
        row.push(' ');
        row.push_str(&escape_cell(cell));
        row.push_str(" |");
    }
    row
}

/// Text safe inside one markdown table cell: `|` escaped, line breaks folded.
fn escape_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "SECRET-token-in-error";

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn t() -> VpThresholds {
        VpThresholds::default()
    }

    /// A snapshot with `missions` missions, `fallbacks` of them falling back,
    /// and every duration `p95` seconds (no durations when `None`).
    fn agg(missions: u64, fallbacks: u64, p95: Option<f64>) -> VpAggregates {
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

    fn healthy() -> VpAggregates {
        agg(20, 0, Some(10.0))
    }

    fn criterion(a: &VpAssessment, name: VpCriterionName) -> &VpCriterion {
        a.criteria.iter().find(|c| c.name == name).unwrap()
    }

    fn failed_names(a: &VpAssessment) -> Vec<VpCriterionName> {
        a.failed().map(|c| c.name).collect()
    }

    // --- bands -------------------------------------------------------------

    #[test]
    fn bands_put_each_threshold_in_the_worse_band() {
        use FallbackBand::*;
        for (rate, want) in [
            (0.0, Some(Healthy)),
            (0.049_999_999, Some(Healthy)),
            (0.05, Some(Monitor)),
            (0.050_000_001, Some(Monitor)),
            (0.199_999_999, Some(Monitor)),
            (0.20, Some(Investigate)),
            (0.200_000_001, Some(Investigate)),
            (1.0, Some(Investigate)),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (-0.01, None),
        ] {
            assert_eq!(FallbackBand::of(rate, &t()), want, "rate {rate}");
        }
    }

    #[test]
    fn bands_from_counts_hit_the_boundaries_exactly() {
        use FallbackBand::*;
        for (with, of, want) in [
            (1, 21, Some(Healthy)),
            (1, 20, Some(Monitor)),
            (3, 60, Some(Monitor)),
            (3, 61, Some(Healthy)),
            (4, 20, Some(Investigate)),
            (12, 60, Some(Investigate)),
            (11, 60, Some(Monitor)),
            (0, 0, None),
        ] {
            assert_eq!(
                VpFallback::from_counts(with, of).band(&t()),
                want,
                "{with}/{of}"
            );
        }
    }

    #[test]
    fn band_and_decision_names_are_the_runbooks() {
        let s = |v: &dyn erased::Ser| v.json();
        assert_eq!(s(&FallbackBand::Healthy), json!("healthy"));
        assert_eq!(s(&FallbackBand::Monitor), json!("monitor"));
        assert_eq!(s(&FallbackBand::Investigate), json!("investigate"));
        for d in [
            VpDecision::HoldShadow,
            VpDecision::ReadyForLimitedCohortPilot,
            VpDecision::SustainedDefaultOnHealthy,
            VpDecision::SustainedWatch,
            VpDecision::SustainedForceFallback,
        ] {
            assert_eq!(s(&d), json!(d.as_str()));
            let back: VpDecision = serde_json::from_value(json!(d.as_str())).unwrap();
            assert_eq!(back, d);
        }
        assert_eq!(
            VpDecision::ReadyForLimitedCohortPilot.to_string(),
            "READY_FOR_LIMITED_COHORT_PILOT"
        );
        assert_eq!(VpDecision::SustainedWatch.profile(), VpProfile::Sustained);
        assert_eq!(VpDecision::HoldShadow.profile(), VpProfile::Rollout);
        assert_eq!(s(&VpProfile::Sustained), json!("sustained"));
        for (c, sym) in [
            (Comparison::Below, "<"),
            (Comparison::AtMost, "<="),
            (Comparison::AtLeast, ">="),
        ] {
            assert_eq!(s(&c), json!(sym));
            assert_eq!(c.symbol(), sym);
        }
        for n in [
            VpCriterionName::MinMissions,
            VpCriterionName::FallbackRate,
            VpCriterionName::FallbackRateCritical,
            VpCriterionName::P95Latency,
            VpCriterionName::P95LatencyCritical,
            VpCriterionName::RecoverySuccessRate,
            VpCriterionName::OrphanRate,
        ] {
            assert_eq!(s(&n), json!(n.as_str()));
        }
    }

    /// Serialize heterogeneous values in one table.
    mod erased {
        pub trait Ser {
            fn json(&self) -> serde_json::Value;
        }
        impl<T: serde::Serialize> Ser for T {
            fn json(&self) -> serde_json::Value {
                serde_json::to_value(self).unwrap()
            }
        }
    }

    // --- rollout profile ----------------------------------------------------

    #[test]
    fn rollout_ready_when_every_criterion_passes() {
        let a = assess_rollout(&healthy(), &t());
        assert_eq!(a.decision, VpDecision::ReadyForLimitedCohortPilot);
        assert_eq!(a.profile, VpProfile::Rollout);
        assert_eq!(a.band, Some(FallbackBand::Healthy));
        assert!(failed_names(&a).is_empty(), "{a:#?}");
        let names: Vec<_> = a.criteria.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                VpCriterionName::MinMissions,
                VpCriterionName::FallbackRate,
                VpCriterionName::P95Latency,
                VpCriterionName::RecoverySuccessRate,
                VpCriterionName::OrphanRate,
            ]
        );
        assert!(a.criteria.iter().all(|c| !c.critical));
    }

    #[test]
    fn rollout_min_missions_boundary() {
        // one below: held, and the criterion says why
        let a = assess_rollout(&agg(19, 0, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(failed_names(&a), [VpCriterionName::MinMissions]);
        let c = criterion(&a, VpCriterionName::MinMissions);
        assert_eq!(
            (c.measured, c.threshold, c.sample, c.comparison),
            (Some(19.0), 20.0, 19, Comparison::AtLeast)
        );
        assert_eq!(c.config, "VP_MIN_MISSIONS");
        assert_eq!(
            c.detail,
            "missions considered 19 is below VP_MIN_MISSIONS 20: too few to call the lane ready or healthy"
        );
        // equal: enough
        let a = assess_rollout(&agg(20, 0, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::ReadyForLimitedCohortPilot);
        assert_eq!(
            criterion(&a, VpCriterionName::MinMissions).detail,
            "missions considered 20 is at least VP_MIN_MISSIONS 20"
        );
    }

    #[test]
    fn rollout_holds_with_no_traffic() {
        let a = assess_rollout(&agg(0, 0, None), &t());
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(a.band, None);
        assert_eq!(
            failed_names(&a),
            [
                VpCriterionName::MinMissions,
                VpCriterionName::FallbackRate,
                VpCriterionName::P95Latency
            ]
        );
        let c = criterion(&a, VpCriterionName::FallbackRate);
        assert_eq!((c.measured, c.sample), (None, 0));
        assert_eq!(
            c.detail,
            "fallback rate: no missions considered, so no rate to judge"
        );
    }

    #[test]
    fn rollout_fallback_boundary_at_0_05() {
        // 1 of 20 is exactly 0.05: monitor band, held
        let a = assess_rollout(&agg(20, 1, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(a.band, Some(FallbackBand::Monitor));
        assert_eq!(failed_names(&a), [VpCriterionName::FallbackRate]);
        let c = criterion(&a, VpCriterionName::FallbackRate);
        assert_eq!(
            (c.measured, c.threshold, c.sample, c.comparison),
            (Some(0.05), 0.05, 20, Comparison::Below)
        );
        assert_eq!(
            c.detail,
            "fallback rate 0.050 (20 missions) is not below VP_FALLBACK_MONITOR_RATE 0.050"
        );
        // 1 of 21 is just below
        let a = assess_rollout(&agg(21, 1, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::ReadyForLimitedCohortPilot);
        // 0.20 and above: still only held (rollout has no harsher outcome)
        let a = assess_rollout(&agg(20, 4, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(a.band, Some(FallbackBand::Investigate));
    }

    #[test]
    fn rollout_p95_boundary_and_missing_latency() {
        for (p95, want) in [
            (Some(44.999), VpDecision::ReadyForLimitedCohortPilot),
            (Some(45.0), VpDecision::HoldShadow),
            (Some(45.001), VpDecision::HoldShadow),
            (None, VpDecision::HoldShadow),
            (Some(f64::NAN), VpDecision::HoldShadow),
        ] {
            let a = assess_rollout(&agg(20, 0, p95), &t());
            assert_eq!(a.decision, want, "p95 {p95:?}");
            let c = criterion(&a, VpCriterionName::P95Latency);
            assert_eq!(c.passed, want == VpDecision::ReadyForLimitedCohortPilot);
            if p95.is_none_or(f64::is_nan) {
                assert_eq!(c.measured, None, "NaN is reported as no value");
            }
        }
        let a = assess_rollout(&agg(20, 0, Some(45.0)), &t());
        assert_eq!(
            criterion(&a, VpCriterionName::P95Latency).detail,
            "p95 latency 45.000s (20 timed missions) is not below VP_P95_LATENCY_SLO_SECONDS 45.000s"
        );
    }

    #[test]
    fn rollout_recovery_and_orphan_boundaries() {
        let with = |attempts, successes, orphan_rate: Option<f64>, orphaned| {
            let mut m = healthy();
            m.recovery = VpRecovery {
                attempts,
                successes,
                success_rate: ratio(successes, attempts),
            };
            m.session_health = VpSessionHealth {
                currently_orphaned: orphaned,
                orphan_signals: attempts - successes,
                orphan_rate,
            };
            assess_rollout(&m, &t())
        };
        // 9 of 10 resumed: exactly at both limits, passes
        let a = with(10, 9, Some(0.1), false);
        assert_eq!(a.decision, VpDecision::ReadyForLimitedCohortPilot, "{a:#?}");
        // 8 of 10: below the success minimum, above the orphan maximum
        let a = with(10, 8, Some(0.2), false);
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(
            failed_names(&a),
            [
                VpCriterionName::RecoverySuccessRate,
                VpCriterionName::OrphanRate
            ]
        );
        assert_eq!(
            criterion(&a, VpCriterionName::RecoverySuccessRate).detail,
            "recovery success rate 0.800 (10 recovery attempts) is below VP_MIN_RECOVERY_SUCCESS_RATE 0.900"
        );
        assert_eq!(
            criterion(&a, VpCriterionName::OrphanRate).detail,
            "orphan rate 0.200 (10 recovery attempts) is above VP_MAX_ORPHAN_RATE 0.100"
        );
        // no attempts at all: nothing degraded, both pass
        let a = with(0, 0, Some(0.0), false);
        assert_eq!(a.decision, VpDecision::ReadyForLimitedCohortPilot);
        assert_eq!(
            criterion(&a, VpCriterionName::RecoverySuccessRate).measured,
            None
        );
        // orphaned right now with no rate reported counts as fully orphaned
        let a = with(0, 0, None, true);
        assert_eq!(failed_names(&a), [VpCriterionName::OrphanRate]);
        assert_eq!(
            criterion(&a, VpCriterionName::OrphanRate).measured,
            Some(1.0)
        );
    }

    // --- sustained profile --------------------------------------------------

    #[test]
    fn sustained_every_outcome() {
        let d = |m: &VpAggregates| assess_sustained(m, &t()).decision;
        use VpDecision::*;
        assert_eq!(d(&healthy()), SustainedDefaultOnHealthy);
        // fallback bands: just below 0.05, at 0.05, just below 0.20, at 0.20
        assert_eq!(d(&agg(21, 1, Some(10.0))), SustainedDefaultOnHealthy);
        assert_eq!(d(&agg(20, 1, Some(10.0))), SustainedWatch);
        assert_eq!(d(&agg(21, 4, Some(10.0))), SustainedWatch);
        assert_eq!(d(&agg(20, 4, Some(10.0))), SustainedForceFallback);
        assert_eq!(d(&agg(20, 20, Some(10.0))), SustainedForceFallback);
        // latency: below SLO, at SLO, just below critical, at critical
        assert_eq!(d(&agg(20, 0, Some(44.999))), SustainedDefaultOnHealthy);
        assert_eq!(d(&agg(20, 0, Some(45.0))), SustainedWatch);
        assert_eq!(d(&agg(20, 0, Some(89.999))), SustainedWatch);
        assert_eq!(d(&agg(20, 0, Some(90.0))), SustainedForceFallback);
        // no durations, or NaN: cannot be healthy, but no evidence of harm
        assert_eq!(d(&agg(20, 0, None)), SustainedWatch);
        assert_eq!(d(&agg(20, 0, Some(f64::NAN))), SustainedWatch);
    }

    #[test]
    fn sustained_too_few_missions_watches_but_does_not_shield_a_failing_lane() {
        let a = assess_sustained(&agg(19, 0, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::SustainedWatch);
        assert_eq!(failed_names(&a), [VpCriterionName::MinMissions]);
        let a = assess_sustained(&agg(20, 0, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::SustainedDefaultOnHealthy);
        // 5 of 8 fell back: too few to be healthy, enough to force fallback
        let a = assess_sustained(&agg(8, 5, Some(10.0)), &t());
        assert_eq!(a.decision, VpDecision::SustainedForceFallback);
        assert_eq!(
            failed_names(&a),
            [
                VpCriterionName::MinMissions,
                VpCriterionName::FallbackRate,
                VpCriterionName::FallbackRateCritical
            ]
        );
        // no traffic at all: watch, and the critical checks pass for want of data
        let a = assess_sustained(&agg(0, 0, None), &t());
        assert_eq!(a.decision, VpDecision::SustainedWatch);
        let c = criterion(&a, VpCriterionName::FallbackRateCritical);
        assert!(c.passed && c.critical && c.measured.is_none());
        assert!(criterion(&a, VpCriterionName::P95LatencyCritical).passed);
    }

    #[test]
    fn sustained_session_drift_watches() {
        let mut m = healthy();
        m.recovery = VpRecovery {
            attempts: 1,
            successes: 0,
            success_rate: Some(0.0),
        };
        m.session_health = VpSessionHealth {
            currently_orphaned: true,
            orphan_signals: 1,
            orphan_rate: Some(1.0),
        };
        let a = assess_sustained(&m, &t());
        assert_eq!(a.decision, VpDecision::SustainedWatch);
        assert_eq!(
            failed_names(&a),
            [
                VpCriterionName::RecoverySuccessRate,
                VpCriterionName::OrphanRate
            ]
        );
    }

    #[test]
    fn sustained_marks_its_critical_criteria() {
        let a = assess(VpProfile::Sustained, &healthy(), &t());
        assert_eq!(a.profile, VpProfile::Sustained);
        let critical: Vec<_> = a
            .criteria
            .iter()
            .filter(|c| c.critical)
            .map(|c| (c.name, c.config.as_str(), c.threshold))
            .collect();
        assert_eq!(
            critical,
            [
                (
                    VpCriterionName::FallbackRateCritical,
                    "VP_FALLBACK_INVESTIGATE_RATE",
                    0.20
                ),
                (
                    VpCriterionName::P95LatencyCritical,
                    "VP_P95_LATENCY_CRITICAL_SECONDS",
                    90.0
                ),
            ]
        );
        assert_eq!(
            assess(VpProfile::Rollout, &healthy(), &t()).profile,
            VpProfile::Rollout
        );
    }

    #[test]
    fn custom_thresholds_move_the_boundaries() {
        let t = VpThresholds {
            fallback_monitor_rate: 0.10,
            fallback_investigate_rate: 0.30,
            min_missions: 5,
            ..VpThresholds::default()
        };
        t.validate().unwrap();
        assert_eq!(
            assess_rollout(&agg(10, 0, Some(1.0)), &t).decision,
            VpDecision::ReadyForLimitedCohortPilot
        );
        assert_eq!(
            assess_sustained(&agg(10, 1, Some(1.0)), &t).decision,
            VpDecision::SustainedWatch
        );
        assert_eq!(
            assess_sustained(&agg(10, 3, Some(1.0)), &t).decision,
            VpDecision::SustainedForceFallback
        );
    }

    #[test]
    fn nan_thresholds_never_pass() {
        let t = VpThresholds {
            p95_latency_slo_seconds: f64::NAN,
            ..VpThresholds::default()
        };
        assert!(
            t.validate()
                .unwrap_err()
                .contains("VP_P95_LATENCY_SLO_SECONDS")
        );
        let a = assess_rollout(&healthy(), &t);
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(
            criterion(&a, VpCriterionName::P95Latency).detail,
            "p95 latency 10.000s (20 timed missions) is not below VP_P95_LATENCY_SLO_SECONDS n/a"
        );
    }

    #[test]
    fn an_assessment_serializes_with_its_criteria() {
        let a = assess_rollout(&agg(19, 1, Some(12.5)), &t());
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["profile"], "rollout");
        assert_eq!(v["decision"], "HOLD_SHADOW");
        assert_eq!(v["band"], "monitor");
        assert_eq!(v["criteria"][0]["name"], "min_missions");
        assert_eq!(v["criteria"][0]["comparison"], ">=");
        assert_eq!(v["criteria"][0]["passed"], false);
        assert_eq!(v["criteria"][1]["config"], "VP_FALLBACK_MONITOR_RATE");
        assert_eq!(v["criteria"][1]["sample"], 19);
        assert_eq!(v["criteria"][3]["measured"], serde_json::Value::Null);
        let back: VpAssessment = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
    }

    // --- thresholds ---------------------------------------------------------

    #[test]
    fn default_thresholds_are_the_runbooks_and_valid() {
        let t = VpThresholds::default();
        t.validate().unwrap();
        assert_eq!(
            (t.fallback_monitor_rate, t.fallback_investigate_rate),
            (0.05, 0.20)
        );
    }

    #[test]
    fn bad_thresholds_name_their_variable() {
        let bad = |f: fn(&mut VpThresholds), var: &str| {
            let mut t = VpThresholds::default();
            f(&mut t);
            let e = t.validate().unwrap_err();
            assert!(e.starts_with(var), "{var}: {e}");
        };
        bad(
            |t| t.fallback_monitor_rate = 0.0,
            "VP_FALLBACK_MONITOR_RATE",
        );
        bad(
            |t| t.fallback_monitor_rate = 1.5,
            "VP_FALLBACK_MONITOR_RATE",
        );
        bad(
            |t| t.fallback_investigate_rate = f64::NAN,
            "VP_FALLBACK_INVESTIGATE_RATE",
        );
        bad(
            |t| t.fallback_investigate_rate = 0.04,
            "VP_FALLBACK_INVESTIGATE_RATE",
        );
        bad(
            |t| t.p95_latency_slo_seconds = 0.0,
            "VP_P95_LATENCY_SLO_SECONDS",
        );
        bad(
            |t| t.p95_latency_critical_seconds = -1.0,
            "VP_P95_LATENCY_CRITICAL_SECONDS",
        );
        bad(
            |t| t.p95_latency_critical_seconds = 30.0,
            "VP_P95_LATENCY_CRITICAL_SECONDS",
        );
        bad(|t| t.min_missions = 0, "VP_MIN_MISSIONS");
        bad(
            |t| t.min_recovery_success_rate = 1.1,
            "VP_MIN_RECOVERY_SUCCESS_RATE",
        );
        bad(|t| t.max_orphan_rate = -0.1, "VP_MAX_ORPHAN_RATE");
        // equal bands are allowed: the monitor band is then empty
        let t = VpThresholds {
            fallback_investigate_rate: 0.05,
            ..VpThresholds::default()
        };
        t.validate().unwrap();
        assert_eq!(FallbackBand::of(0.05, &t), Some(FallbackBand::Investigate));
    }

    // --- queries ------------------------------------------------------------

    #[test]
    fn metrics_query_defaults_and_clamps() {
        let q = VpMetricsQuery::default();
        assert_eq!(
            (q.vp_id(), q.mission_limit(), q.event_limit()),
            ("vp.coder.primary", 100, 500)
        );
        let q = VpMetricsQuery {
            vp_id: Some(String::new()),
            mission_limit: Some(0),
            event_limit: Some(u32::MAX),
        };
        assert_eq!(
            (q.vp_id(), q.mission_limit(), q.event_limit()),
            ("vp.coder.primary", 1, EVENT_MAX_LIMIT)
        );
        let q = VpMetricsQuery {
            mission_limit: Some(501),
            event_limit: Some(1000),
            ..Default::default()
        };
        assert_eq!((q.mission_limit(), q.event_limit()), (500, 1000));
        assert_eq!(
            q.clamped(),
            VpMetricsQuery {
                vp_id: Some("vp.coder.primary".into()),
                mission_limit: Some(500),
                event_limit: Some(1000),
            }
        );
    }

    #[test]
    fn metrics_query_reads_the_runbooks_query_strings() {
        let q: VpMetricsQuery = serde_json::from_value(json!({
            "vp_id": "vp.coder.primary", "mission_limit": 60, "event_limit": 180
        }))
        .unwrap();
        assert_eq!((q.mission_limit(), q.event_limit()), (60, 180));
        assert!(serde_json::from_value::<VpMetricsQuery>(json!({"limit": 5})).is_err());
        assert_eq!(
            serde_json::to_value(VpMetricsQuery::default()).unwrap(),
            json!({})
        );
    }

    #[test]
    fn series_query_defaults_and_clamps() {
        let q = VpSeriesQuery::default();
        assert_eq!((q.bucket_minutes(), q.buckets()), (60, 48));
        let q = VpSeriesQuery {
            vp_id: Some("vp.general.primary".into()),
            bucket_minutes: Some(0),
            buckets: Some(100_000),
        };
        assert_eq!(
            q.clamped(),
            VpSeriesQuery {
                vp_id: Some("vp.general.primary".into()),
                bucket_minutes: Some(1),
                buckets: Some(SERIES_MAX_BUCKETS),
            }
        );
        q.validate().unwrap();
        let q = VpSeriesQuery {
            bucket_minutes: Some(10_000),
            ..Default::default()
        };
        assert_eq!(q.bucket_minutes(), SERIES_MAX_BUCKET_MINUTES);
    }

    #[test]
    fn vp_ids_are_checked() {
        validate_vp_id("vp.coder.primary").unwrap();
        validate_vp_id(&"v".repeat(VP_ID_MAX)).unwrap();
        let e = validate_vp_id(&"v".repeat(VP_ID_MAX + 1)).unwrap_err();
        assert_eq!(e.message, "vp_id is 65 characters; the limit is 64");
        assert_eq!(e.field, "vp_id");
        let e = validate_vp_id("vp coder").unwrap_err();
        assert!(e.message.contains("' ' at position 3"), "{e}");
        assert!(validate_vp_id("").is_err());
        assert!(validate_vp_id("a&b=c").is_err());
        let q = VpMetricsQuery {
            vp_id: Some("x|y".into()),
            ..Default::default()
        };
        assert_eq!(q.validate().unwrap_err().kind, ErrorKind::Invalid);
        VpMetricsQuery::default().validate().unwrap();
    }

    // --- latency and rates --------------------------------------------------

    #[test]
    fn latency_from_samples() {
        assert_eq!(VpLatency::from_samples(&[]), VpLatency::default());
        assert_eq!(
            VpLatency::from_samples(&[f64::NAN, f64::INFINITY, -1.0]),
            VpLatency::default()
        );
        let l = VpLatency::from_samples(&[2.0, f64::NAN, 1.0]);
        assert_eq!(l.count, 2);
        // (2 - 1) * 0.5 = 0.5 rounds to even: index 0, as the platform does
        assert_eq!(l.p50_seconds, Some(1.0));
        assert_eq!(l.p95_seconds, Some(2.0));
        assert_eq!(l.avg_seconds, Some(1.5));
        assert_eq!(l.max_seconds, Some(2.0));
        let samples: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let l = VpLatency::from_samples(&samples);
        // index round(99 * 0.5) = round(49.5) = 50 (even), round(99 * 0.95) = 94
        assert_eq!((l.p50_seconds, l.p95_seconds), (Some(51.0), Some(95.0)));
        assert_eq!(l.avg_seconds, Some(50.5));
        let l = VpLatency::from_samples(&[0.377]);
        assert_eq!(
            (l.count, l.p50_seconds, l.p95_seconds),
            (1, Some(0.377), Some(0.377))
        );
    }

    #[test]
    fn fallback_rate_comes_from_the_counts() {
        let f = VpFallback {
            missions_with_fallback: 0,
            missions_considered: 0,
            rate: Some(0.0), // what some platforms send for an empty window
        };
        assert_eq!(f.measured_rate(), None);
        assert_eq!(f.as_rate().percent(), "n/a");
        let f = VpFallback::from_counts(1, 4);
        assert_eq!((f.rate, f.measured_rate()), (Some(0.25), Some(0.25)));
        assert_eq!(f.as_rate().describe(), "n/a (1 of 4, fewer than 10)");
        assert_eq!(VpFallback::from_counts(3, 40).as_rate().percent(), "7.5%");
    }

    #[test]
    fn fixed_point_formatting() {
        assert_eq!(fixed3(0.0), "0.000");
        assert_eq!(fixed3(0.05), "0.050");
        assert_eq!(fixed3(0.3774), "0.377");
        assert_eq!(fixed3(0.3775), "0.378");
        assert_eq!(fixed3(123.4), "123.400");
        assert_eq!(fixed3(-1.25), "-1.250");
        assert_eq!(fixed3(-0.0001), "0.000");
        assert_eq!(fixed3(f64::NAN), "n/a");
        assert_eq!(Unit::Count.show(20.0), "20");
    }

    // --- wire types ---------------------------------------------------------

    /// What the platform's ops endpoint returns, as the runbook's queries see it.
    fn ops_json() -> serde_json::Value {
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

    #[test]
    fn ops_metrics_parse_the_platforms_reply() {
        let m: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let a = &m.aggregates;
        assert_eq!(a.generated_at, at("2026-02-16T14:07:42.123456Z"));
        assert_eq!(a.fallback, VpFallback::from_counts(1, 4));
        assert_eq!(a.latency_seconds.p95_seconds, Some(0.534));
        assert_eq!(a.event_counts["vp.mission.fallback"], 2);
        assert_eq!(a.recovery.success_rate, Some(1.0));
        let s = m.session.as_ref().unwrap();
        assert_eq!(s.session.status, VpSessionStatus::Active);
        assert!(s.last_error.as_deref().unwrap().contains(SECRET));
        assert!(m.recent_missions[0].mission.fallback_seen);
        let p = m.recent_events[0].payload.as_ref().unwrap();
        assert_eq!(p.reason.as_deref(), Some("vp_execution_error"));
        assert_eq!(p.trace_id, None);
        // a payload that is not an object is kept, not fatal
        let odd = m.recent_events[2].payload.as_ref().unwrap();
        assert_eq!(odd.extra["value"], json!("not an object"));
        assert_eq!(m.recent_events[3].payload, None);
        assert_eq!(m.recent_session_events[0].event.mission_id, None);
    }

    #[test]
    fn ops_metrics_round_trip() {
        let m: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["fallback"]["rate"], 0.25);
        assert_eq!(json["latency_seconds"]["p50_seconds"], 0.377);
        assert_eq!(json["session"]["status"], "active");
        let back: VpOpsMetrics = serde_json::from_value(json).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn older_platforms_without_recovery_blocks_still_parse() {
        let m: VpOpsMetrics = serde_json::from_value(json!({
            "generated_at": "2026-02-15T10:00:00+00:00",
            "vp_id": "vp.coder.primary",
            "session": null,
            "fallback": {"missions_with_fallback": 0, "missions_considered": 0, "rate": 0.0},
            "latency_seconds": {"count": 0, "avg_seconds": null, "p95_seconds": null, "max_seconds": null}
        }))
        .unwrap();
        assert_eq!(m.aggregates.recovery, VpRecovery::default());
        assert_eq!(m.aggregates.latency_seconds.p50_seconds, None);
        assert!(m.session.is_none() && m.recent_events.is_empty());
    }

    #[test]
    fn payloads_with_unexpected_types_are_kept_whole() {
        let p = VpEventPayload::from_json(json!({"reason": 7, "error": "x"})).unwrap();
        assert_eq!(p.reason, None);
        assert_eq!(p.extra["reason"], json!(7));
        assert_eq!(p.extra["error"], json!("x"));
        assert_eq!(VpEventPayload::from_json(json!(null)), None);
        let p = VpEventPayload::from_json(json!({"reason": "r", "attempt": 2})).unwrap();
        assert_eq!(p.extra["attempt"], json!(2));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"reason": "r", "attempt": 2})
        );
    }

    #[test]
    fn session_status_keeps_unknown_values() {
        for s in ["active", "idle", "degraded", "recovering", "warming_up"] {
            let v: VpSessionStatus = serde_json::from_value(json!(s)).unwrap();
            assert_eq!(v.as_str(), s);
            assert_eq!(serde_json::to_value(&v).unwrap(), json!(s));
        }
        assert!(VpSessionStatus::Idle.is_steady());
        assert!(VpSessionStatus::Recovering.needs_attention());
        let other = VpSessionStatus::from("warming_up".to_owned());
        assert!(!other.is_steady() && !other.needs_attention());
        assert_eq!(other.to_string(), "warming_up");
    }

    #[test]
    fn dashboard_metrics_round_trip_with_the_same_shape() {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let dash = ops.to_dashboard();
        assert_eq!(dash, VpDashboardMetrics::from(ops.clone()));
        let json = serde_json::to_value(&dash).unwrap();
        // the runbook's jq paths work on both
        for key in [
            "generated_at",
            "vp_id",
            "session",
            "fallback",
            "latency_seconds",
            "event_counts",
            "recent_events",
            "session_event_counts",
            "recovery",
            "session_health",
            "recent_session_events",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert_eq!(
            json["recent_events"][0]["event_type"],
            "vp.mission.fallback"
        );
        let back: VpDashboardMetrics = serde_json::from_value(json).unwrap();
        assert_eq!(back, dash);
        assert_eq!(dash.aggregates, ops.aggregates);
    }

    #[test]
    fn the_dashboard_type_cannot_carry_payload_text() {
        // The platform's ops reply carries error text in payloads, the
        // session's last_error and mission objectives.
        let raw = ops_json().to_string();
        assert!(raw.contains(SECRET));
        // Converted: none of it survives.
        let ops: VpOpsMetrics = serde_json::from_str(&raw).unwrap();
        let converted = serde_json::to_string(&ops.to_dashboard()).unwrap();
        // Parsed straight from the over-sharing reply (a platform that leaks
        // on its dashboard route): there is nowhere to keep it either.
        let parsed: VpDashboardMetrics = serde_json::from_str(&raw).unwrap();
        let reparsed = serde_json::to_string(&parsed).unwrap();
        for out in [&converted, &reparsed] {
            assert!(!out.contains(SECRET), "{out}");
            for field in [
                "\"payload\"",
                "\"last_error\"",
                "\"objective\"",
                "\"lease_owner\"",
                "\"workspace_dir\"",
                "\"result_ref\"",
            ] {
                assert!(!out.contains(field), "{field} in {out}");
            }
        }
        assert_eq!(parsed, ops.to_dashboard());
        // And the rows are still there, just without text.
        assert_eq!(parsed.recent_events.len(), 4);
        assert_eq!(parsed.recent_missions[0].mission_id, "m-2");
    }

    #[test]
    fn lanes_and_series_round_trip() {
        let lanes = VpLanes {
            generated_at: at("2026-02-16T14:07:42Z"),
            lanes: vec![
                VpLane {
                    vp_id: "vp.coder.primary".into(),
                    display_name: "CODIE".into(),
                    mission_count: 42,
                    last_activity_at: Some(at("2026-02-16T14:06:00Z")),
                },
                VpLane {
                    vp_id: "vp.general.primary".into(),
                    display_name: "Generalist".into(),
                    mission_count: 0,
                    last_activity_at: None,
                },
            ],
        };
        let json = serde_json::to_value(&lanes).unwrap();
        assert_eq!(json["lanes"][0]["display_name"], "CODIE");
        assert!(json["lanes"][1]["last_activity_at"].is_null());
        assert_eq!(serde_json::from_value::<VpLanes>(json).unwrap(), lanes);

        let bucket = |h: u32, missions, fallbacks, samples: &[f64]| VpSeriesBucket {
            start: at(&format!("2026-02-16T{h:02}:00:00Z")),
            fallback: VpFallback::from_counts(fallbacks, missions),
            latency_seconds: VpLatency::from_samples(samples),
        };
        let series = VpSeries {
            generated_at: at("2026-02-16T14:07:42Z"),
            vp_id: "vp.coder.primary".into(),
            bucket_minutes: 60,
            buckets: vec![bucket(12, 0, 0, &[]), bucket(13, 12, 3, &[1.0, 2.0, 30.0])],
        };
        let json = serde_json::to_value(&series).unwrap();
        assert_eq!(
            json["buckets"][0]["fallback"]["rate"],
            serde_json::Value::Null
        );
        assert_eq!(json["buckets"][1]["fallback"]["rate"], 0.25);
        assert_eq!(json["buckets"][1]["latency_seconds"]["p95_seconds"], 30.0);
        assert_eq!(serde_json::from_value::<VpSeries>(json).unwrap(), series);
        assert_eq!(series.buckets[1].missions(), 12);
        assert_eq!(
            series.buckets[1].fallback_rate().describe(),
            "25.0% (3 of 12)"
        );
        assert_eq!(series.buckets[0].fallback_rate().percent(), "n/a");
    }

    #[test]
    fn thresholds_round_trip() {
        let t = VpThresholds::default();
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["min_missions"], 20);
        assert_eq!(serde_json::from_value::<VpThresholds>(json).unwrap(), t);
    }

    // --- evidence row -------------------------------------------------------

    #[test]
    fn evidence_row_follows_the_runbooks_five_items() {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let a = assess_rollout(&ops.aggregates, &t());
        let window = EvidenceWindow {
            label: "Limited cohort window #1".into(),
            scope: "vp.coder.primary | limited".into(),
        };
        let row = evidence_row(&window, &ops, &a);
        assert_eq!(
            row,
            "| Limited cohort window #1 | vp.coder.primary \\| limited | 2026-02-16T14:07:42Z \
             | missions_with_fallback=1, missions_considered=4, rate=0.250 \
             | avg_seconds=0.400, p95_seconds=0.534, max_seconds=0.534 \
             | 2× vp.mission.fallback (vp_execution_error: boom SECRET-token-in-error); 1× vp.mission.failed \
             | HOLD_SHADOW (failed: min_missions, fallback_rate) |"
        );
        // header and row have the same number of columns
        let cols = |s: &str| s.matches(" |").count();
        assert_eq!(cols(EVIDENCE_HEADER.lines().next().unwrap()), cols(&row));
        assert_eq!(
            EVIDENCE_HEADER.lines().nth(1),
            Some("|---|---|---|---|---|---|---|")
        );
    }

    #[test]
    fn evidence_row_for_a_ready_window_and_for_no_traffic() {
        let m = agg(20, 0, Some(0.377));
        let a = assess_rollout(&m, &t());
        assert_eq!(
            evidence_row(&EvidenceWindow::default(), &m, &a),
            "| — | — | 2026-02-16T14:07:42Z | missions_with_fallback=0, missions_considered=20, rate=0.000 \
             | avg_seconds=0.377, p95_seconds=0.377, max_seconds=0.377 | none | READY_FOR_LIMITED_COHORT_PILOT |"
        );
        let m = agg(0, 0, None);
        let a = assess_sustained(&m, &t());
        let row = evidence_row(&EvidenceWindow::default(), &m, &a);
        assert!(row.contains("missions_considered=0, rate=n/a |"), "{row}");
        assert!(
            row.contains("avg_seconds=n/a, p95_seconds=n/a, max_seconds=n/a"),
            "{row}"
        );
        assert!(
            row.ends_with("| SUSTAINED_WATCH (failed: min_missions, fallback_rate, p95_latency) |"),
            "{row}"
        );
    }

    #[test]
    fn evidence_row_escapes_pipes_and_folds_lines() {
        let mut ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        ops.recent_events[0].payload = Some(VpEventPayload {
            reason: Some("adapter|crash".into()),
            error: Some("line one\nline | two\r\n".into()),
            ..Default::default()
        });
        let a = assess_sustained(&ops.aggregates, &t());
        let row = evidence_row(&EvidenceWindow::default(), &ops, &a);
        assert!(!row.contains('\n') && !row.contains('\r'), "{row}");
        assert!(
            row.contains("(adapter\\|crash: line one line \\| two)"),
            "{row}"
        );
        // every unescaped pipe is a column border: 8 borders for 7 columns
        let borders = row
            .char_indices()
            .filter(|&(i, c)| c == '|' && (i == 0 || &row[i - 1..i] != "\\"))
            .count();
        assert_eq!(borders, 8, "{row}");
        assert!(row.contains("SUSTAINED_FORCE_FALLBACK"), "{row}");
        assert_eq!(escape_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn evidence_row_lists_the_most_frequent_signatures_first() {
        let mut ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let event = |i: usize, kind: &str, error: &str| VpOpsEvent {
            event: VpEvent {
                event_id: format!("e{i}"),
                mission_id: Some(format!("m{i}")),
                vp_id: DEFAULT_VP_ID.into(),
                event_type: kind.into(),
                created_at: at("2026-02-16T14:00:00Z"),
            },
            payload: VpEventPayload::from_json(json!({"error": error})),
        };
        ops.recent_events = vec![
            event(1, event_type::MISSION_FALLBACK, "a"),
            event(2, event_type::MISSION_FALLBACK, "b"),
            event(3, event_type::MISSION_FALLBACK, "b"),
            event(4, event_type::MISSION_FAILED, "c"),
            event(5, event_type::MISSION_FAILED, "d"),
            event(6, event_type::MISSION_COMPLETED, "ignored"),
            event(7, event_type::MISSION_FALLBACK, "b"),
        ];
        let sigs = ops.failure_signatures();
        assert_eq!(sigs.len(), 4);
        assert_eq!(
            (sigs[0].signature.as_deref(), sigs[0].count),
            (Some("b"), 3)
        );
        let row = evidence_row(
            &EvidenceWindow::default(),
            &ops,
            &assess_rollout(&ops.aggregates, &t()),
        );
        assert!(
            row.contains(
                "| 3× vp.mission.fallback (b); 1× vp.mission.failed (c); 1× vp.mission.failed (d); +1 more |"
            ),
            "{row}"
        );
    }

    #[test]
    fn dashboard_evidence_rows_name_event_types_only() {
        let ops: VpOpsMetrics = serde_json::from_value(ops_json()).unwrap();
        let dash = ops.to_dashboard();
        let row = evidence_row(
            &EvidenceWindow::default(),
            &dash,
            &assess_rollout(&dash.aggregates, &t()),
        );
        assert!(
            row.contains("| 2× vp.mission.fallback; 1× vp.mission.failed |"),
            "{row}"
        );
        assert!(!row.contains(SECRET));
    }

    #[test]
    fn signatures_fold_whitespace_and_are_cut() {
        let p = VpEventPayload {
            reason: Some("  timeout ".into()),
            error: Some("a\t\tb".into()),
            ..Default::default()
        };
        assert_eq!(p.signature().as_deref(), Some("timeout: a b"));
        let p = VpEventPayload {
            error: Some("x".repeat(500)),
            ..Default::default()
        };
        let s = p.signature().unwrap();
        assert_eq!(s.chars().count(), SIGNATURE_MAX_CHARS);
        assert!(s.ends_with('…'));
        assert_eq!(VpEventPayload::default().signature(), None);
        let p = VpEventPayload {
            reason: Some(" ".into()),
            ..Default::default()
        };
        assert_eq!(p.signature(), None);
    }
}
