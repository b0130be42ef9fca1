//! What both metrics endpoints answer: the aggregates they share, the
//! dashboard-safe rows and the operator's rows with payloads, and the two
//! responses built from them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::{FallbackBand, VpThresholds};
use crate::Rate;
use crate::kpi::ratio;

/// Longest failure signature text kept, in characters.
pub const SIGNATURE_MAX_CHARS: usize = 120;

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
    /// One of [`super::event_type`], or another type the platform writes.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;
    use crate::vp::fixtures::{SECRET, ops_json};
    use serde_json::json;

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
