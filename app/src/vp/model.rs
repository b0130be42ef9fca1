//! The VP page's plain rules: the lane and profile in the URL, what the
//! operator and the viewer are shown of a snapshot, how criteria and bands
//! read, and the failures table.

use std::collections::BTreeMap;

use opsdeck_api::vp::{
    self, DEFAULT_VP_ID, EvidenceWindow, FallbackBand, VpAggregates, VpAssessment, VpCriterion,
    VpCriterionName, VpDashboardMetrics, VpDecision, VpLimits, VpOpsMetrics, VpProfile, VpSnapshot,
    VpThresholds,
};

use crate::ui::format;

/// `?lane=` when it is a valid lane id, else the runbook's lane.
pub fn parse_lane(query: Option<&str>) -> String {
    match query.map(str::trim) {
        Some(id) if vp::validate_vp_id(id).is_ok() => id.to_owned(),
        _ => DEFAULT_VP_ID.to_owned(),
    }
}

/// `?profile=`: `sustained`, else `rollout`.
pub fn parse_profile(query: Option<&str>) -> VpProfile {
    match query.map(str::trim) {
        Some("sustained") => VpProfile::Sustained,
        _ => VpProfile::Rollout,
    }
}

/// The profile's URL word.
pub fn profile_key(profile: VpProfile) -> &'static str {
    match profile {
        VpProfile::Rollout => "rollout",
        VpProfile::Sustained => "sustained",
    }
}

/// `/ops/vp`.
pub const VP_PAGE: &str = "/ops/vp";

/// The VP page's URL for a lane and profile.
pub fn href(lane: &str, profile: VpProfile) -> String {
    href_on(VP_PAGE, lane, profile)
}

/// `page`'s URL for a lane and profile (lane ids are URL-safe once valid).
pub fn href_on(page: &str, lane: &str, profile: VpProfile) -> String {
    format!("{page}?lane={lane}&profile={}", profile_key(profile))
}

/// `page`'s URL with the query limits too, left out when they are the default.
pub fn href_limited(page: &str, lane: &str, profile: VpProfile, limits: VpLimits) -> String {
    let base = href_on(page, lane, profile);
    if limits == VpLimits::default() {
        return base;
    }
    format!(
        "{base}&mission_limit={}&event_limit={}",
        limits.mission_limit, limits.event_limit
    )
}

/// What the page shows of a lane: the operator's snapshot with payloads, or
/// the dashboard-safe one a viewer may read.
#[derive(Debug, Clone, PartialEq)]
pub enum LaneSnapshot {
    /// `GET /api/v1/ops/metrics/coder-vp`.
    Ops(VpOpsMetrics),
    /// `GET /api/v1/dashboard/metrics/coder-vp`.
    Dashboard(VpDashboardMetrics),
}

impl LaneSnapshot {
    /// Counts, rates, latency and session health.
    pub fn aggregates(&self) -> &VpAggregates {
        match self {
            LaneSnapshot::Ops(m) => &m.aggregates,
            LaneSnapshot::Dashboard(m) => &m.aggregates,
        }
    }

    /// The session's status, if the lane has a session.
    pub fn session_status(&self) -> Option<String> {
        match self {
            LaneSnapshot::Ops(m) => m.session.as_ref().map(|s| s.session.status.to_string()),
            LaneSnapshot::Dashboard(m) => m.session.as_ref().map(|s| s.status.to_string()),
        }
    }

    /// The evidence-log row, exactly as `opsdeck capture` writes it.
    pub fn evidence_row(&self, window: &EvidenceWindow, assessment: &VpAssessment) -> String {
        match self {
            LaneSnapshot::Ops(m) => vp::evidence_row(window, m, assessment),
            LaneSnapshot::Dashboard(m) => vp::evidence_row(window, m, assessment),
        }
    }

    /// The snapshot as the JSON the endpoint sent, pretty-printed.
    pub fn json(&self) -> String {
        match self {
            LaneSnapshot::Ops(m) => serde_json::to_string_pretty(m),
            LaneSnapshot::Dashboard(m) => serde_json::to_string_pretty(m),
        }
        .unwrap_or_default()
    }
}

/// The class of a band: `band-healthy`, `band-monitor`, `band-investigate`,
/// or `band-none` when there is nothing to judge.
pub fn band_class(band: Option<FallbackBand>) -> &'static str {
    match band {
        Some(FallbackBand::Healthy) => "band-healthy",
        Some(FallbackBand::Monitor) => "band-monitor",
        Some(FallbackBand::Investigate) => "band-investigate",
        None => "band-none",
    }
}

/// The class of a decision: go, wait, or act.
pub fn decision_class(decision: VpDecision) -> &'static str {
    match decision {
        VpDecision::ReadyForLimitedCohortPilot | VpDecision::SustainedDefaultOnHealthy => {
            "decision-go"
        }
        VpDecision::HoldShadow | VpDecision::SustainedWatch => "decision-wait",
        VpDecision::SustainedForceFallback => "decision-act",
    }
}

/// Seconds as people read them: `12.3 s`, or `n/a`.
pub fn seconds(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".into(), |v| format!("{} s", format::fixed(v, 1)))
}

/// How a criterion's numbers read: rates as percentages, latencies in
/// seconds, the mission minimum as a count.
fn criterion_number(name: VpCriterionName, value: f64) -> String {
    match name {
        VpCriterionName::MinMissions => format::count(value.max(0.0).round() as u64),
        VpCriterionName::P95Latency | VpCriterionName::P95LatencyCritical => seconds(Some(value)),
        VpCriterionName::StaleMissions => format::count(value.max(0.0).round() as u64),
        VpCriterionName::FallbackRate
        | VpCriterionName::FallbackRateCritical
        | VpCriterionName::FailedRate
        | VpCriterionName::FailedRateCritical
        | VpCriterionName::StaleMissionsCritical
        | VpCriterionName::RecoverySuccessRate
        | VpCriterionName::OrphanRate => format::percent(value),
    }
}

/// A criterion's measured value, `n/a` when there was nothing to measure.
pub fn criterion_measured(c: &VpCriterion) -> String {
    c.measured
        .map_or_else(|| "n/a".into(), |v| criterion_number(c.name, v))
}

/// What a criterion requires: `< 5%`, `>= 20`, …
pub fn criterion_requirement(c: &VpCriterion) -> String {
    format!(
        "{} {}",
        c.comparison.symbol(),
        criterion_number(c.name, c.threshold)
    )
}

/// One recent fallback or failure, for the operators' table.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureRow {
    /// When (UTC text).
    pub at: String,
    /// `vp.mission.fallback` or `vp.mission.failed`.
    pub event_type: String,
    /// The mission.
    pub mission_id: String,
    /// `reason` of the payload.
    pub reason: String,
    /// `error` of the payload.
    pub error: String,
    /// `trace_id` of the payload.
    pub trace_id: String,
}

/// The fallback and failure events of an operator snapshot, newest first as sent.
pub fn failure_rows(m: &VpOpsMetrics) -> Vec<FailureRow> {
    m.recent_events
        .iter()
        .filter(|e| vp::event_type::FAILURES.contains(&e.event.event_type.as_str()))
        .map(|e| {
            let p = e.payload.as_ref();
            let text = |f: fn(&vp::VpEventPayload) -> Option<&String>| {
                p.and_then(f).cloned().unwrap_or_else(|| "—".into())
            };
            FailureRow {
                at: format::utc(&e.event.created_at),
                event_type: e.event.event_type.clone(),
                mission_id: e.event.mission_id.clone().unwrap_or_else(|| "—".into()),
                reason: text(|p| p.reason.as_ref()),
                error: text(|p| p.error.as_ref()),
                trace_id: text(|p| p.trace_id.as_ref()),
            }
        })
        .collect()
}

/// Event counts, largest first (then by name), for the event-mix chart.
pub fn event_mix(counts: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut mix: Vec<(String, u64)> = counts.iter().map(|(k, v)| (k.clone(), *v)).collect();
    mix.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    mix
}

/// The file name of a JSON snapshot download.
pub fn snapshot_file(vp_id: &str, generated_at: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "opsdeck-{vp_id}-{}.json",
        format::iso(generated_at).replace(':', "")
    )
}

/// Judge a snapshot as the page and `opsdeck capture` do.
pub fn assess(snapshot: &LaneSnapshot, profile: VpProfile, t: &VpThresholds) -> VpAssessment {
    match snapshot {
        LaneSnapshot::Ops(m) => m.assess(profile, t),
        LaneSnapshot::Dashboard(m) => m.assess(profile, t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> VpOpsMetrics {
        serde_json::from_value(serde_json::json!({
            "generated_at": "2026-03-20T12:00:00Z",
            "vp_id": "vp.coder.primary",
            "fallback": {"missions_with_fallback": 9, "missions_considered": 30, "rate": 0.3},
            "latency_seconds": {"count": 30, "avg_seconds": 20.0, "p50_seconds": 15.0, "p95_seconds": 50.0, "max_seconds": 80.0},
            "event_counts": {"vp.mission.completed": 21, "vp.mission.fallback": 9, "vp.mission.dispatched": 30},
            "session": null,
            "recent_events": [
                {"event_id": "e1", "mission_id": "m1", "vp_id": "vp.coder.primary",
                 "event_type": "vp.mission.fallback", "created_at": "2026-03-20T11:59:00Z",
                 "payload": {"reason": "vp_execution_error", "error": "provider timeout after 30s", "trace_id": "t-1"}},
                {"event_id": "e2", "mission_id": "m2", "vp_id": "vp.coder.primary",
                 "event_type": "vp.mission.completed", "created_at": "2026-03-20T11:58:00Z", "payload": null}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn lane_and_profile_come_from_the_url() {
        assert_eq!(
            parse_lane(Some("vp.research.primary")),
            "vp.research.primary"
        );
        assert_eq!(parse_lane(None), DEFAULT_VP_ID);
        assert_eq!(parse_lane(Some("")), DEFAULT_VP_ID);
        assert_eq!(parse_lane(Some("bad lane<script>")), DEFAULT_VP_ID);
        assert_eq!(parse_profile(Some("sustained")), VpProfile::Sustained);
        assert_eq!(parse_profile(Some("other")), VpProfile::Rollout);
        assert_eq!(
            href_limited(
                VP_PAGE,
                "vp.coder.primary",
                VpProfile::Sustained,
                VpLimits::SUSTAINED
            ),
            "/ops/vp?lane=vp.coder.primary&profile=sustained&mission_limit=60&event_limit=180"
        );
        assert_eq!(
            href_limited(
                VP_PAGE,
                "vp.coder.primary",
                VpProfile::Rollout,
                VpLimits::OPS
            ),
            "/ops/vp?lane=vp.coder.primary&profile=rollout"
        );
        assert_eq!(
            href("vp.coder.primary", VpProfile::Sustained),
            "/ops/vp?lane=vp.coder.primary&profile=sustained"
        );
    }

    #[test]
    fn a_degraded_lane_reads_investigate_and_hold() {
        let s = LaneSnapshot::Ops(ops());
        let t = VpThresholds::default();
        let band = s.aggregates().fallback.band(&t);
        assert_eq!(band_class(band), "band-investigate");
        let a = assess(&s, VpProfile::Rollout, &t);
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(decision_class(a.decision), "decision-wait");
        let fallback = a
            .criteria
            .iter()
            .find(|c| c.name == VpCriterionName::FallbackRate)
            .unwrap();
        assert!(!fallback.passed);
        assert_eq!(criterion_measured(fallback), "30%");
        assert_eq!(criterion_requirement(fallback), "< 5%");
        let min = a
            .criteria
            .iter()
            .find(|c| c.name == VpCriterionName::MinMissions)
            .unwrap();
        assert_eq!(criterion_requirement(min), ">= 20");
        let sustained = assess(&s, VpProfile::Sustained, &t);
        assert_eq!(decision_class(sustained.decision), "decision-act");
        assert_eq!(band_class(None), "band-none");
    }

    #[test]
    fn the_row_is_the_api_row_and_viewers_get_no_payload_text() {
        let t = VpThresholds::default();
        let window = EvidenceWindow {
            label: "w1".into(),
            scope: "s".into(),
        };
        let o = LaneSnapshot::Ops(ops());
        let a = assess(&o, VpProfile::Rollout, &t);
        assert_eq!(
            o.evidence_row(&window, &a),
            vp::evidence_row(&window, &ops(), &a)
        );
        assert!(o.evidence_row(&window, &a).contains("provider timeout"));
        let d = LaneSnapshot::Dashboard(ops().to_dashboard());
        assert!(!d.evidence_row(&window, &a).contains("provider timeout"));
        assert!(!d.json().contains("provider timeout"));
        assert!(o.json().contains("provider timeout"));
    }

    #[test]
    fn failures_and_mix() {
        let rows = failure_rows(&ops());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].error, "provider timeout after 30s");
        assert_eq!(rows[0].trace_id, "t-1");
        assert_eq!(rows[0].at, "2026-03-20 11:59:00 UTC");
        let mix = event_mix(&ops().aggregates.event_counts);
        assert_eq!(mix[0], ("vp.mission.dispatched".to_string(), 30));
        assert_eq!(mix[2], ("vp.mission.fallback".to_string(), 9));
        assert_eq!(seconds(Some(12.345)), "12.3 s");
        assert_eq!(seconds(None), "n/a");
        assert_eq!(
            snapshot_file("vp.coder.primary", &"2026-03-20T12:00:00Z".parse().unwrap()),
            "opsdeck-vp.coder.primary-2026-03-20T120000Z.json"
        );
    }
}
