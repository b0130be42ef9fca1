//! The runbook's rules: fallback-rate bands, the `rollout` and `sustained`
//! decision profiles, and the criteria behind every verdict.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{VpAggregates, VpMissionTally, VpThresholds, env};
use crate::kpi::ratio;

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
    /// Few missions failed outright (`VP_MAX_FAILED_RATE`).
    FailedRate,
    /// Failed missions below their critical share (`VP_FAILED_RATE_CRITICAL`).
    FailedRateCritical,
    /// Few missions left without a terminal event (`VP_MAX_STALE_MISSIONS`).
    StaleMissions,
    /// Stale missions below their critical share (`VP_STALE_RATE_CRITICAL`).
    StaleMissionsCritical,
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
            VpCriterionName::FailedRate => "failed_rate",
            VpCriterionName::FailedRateCritical => "failed_rate_critical",
            VpCriterionName::StaleMissions => "stale_missions",
            VpCriterionName::StaleMissionsCritical => "stale_missions_critical",
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

/// Judge `m`, whose mission rows counted `tally`, by `profile`.
pub fn assess(
    profile: VpProfile,
    m: &VpAggregates,
    tally: &VpMissionTally,
    t: &VpThresholds,
) -> VpAssessment {
    match profile {
        VpProfile::Rollout => assess_rollout(m, tally, t),
        VpProfile::Sustained => assess_sustained(m, tally, t),
    }
}

/// The rollout profile: `READY_FOR_LIMITED_COHORT_PILOT` when every criterion
/// passes (enough missions, fallback rate in the healthy band, few failed
/// and no more than a stray stale mission, p95 below its SLO, recoveries
/// resuming, few orphans), else `HOLD_SHADOW`. A criterion with nothing to
/// measure fails here unless its absence is itself good news (no recovery
/// attempts).
pub fn assess_rollout(m: &VpAggregates, tally: &VpMissionTally, t: &VpThresholds) -> VpAssessment {
    let criteria = vec![
        min_missions(m, t),
        fallback_rate(m, t, false),
        failed_rate(tally, t, false),
        stale_missions(tally, t, false),
        p95_latency(m, tally, t, false),
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
/// fails (fallback rate in the investigate band, failed or stale missions at
/// their critical share, or p95 at its critical level),
/// `SUSTAINED_DEFAULT_ON_HEALTHY` when every criterion passes, else
/// `SUSTAINED_WATCH`.
///
/// Too few missions never reads healthy, but it does not shield a lane that
/// is already failing: a small sample cannot prove health, yet 5 fallbacks in
/// 8 missions is harm enough, and forcing fallback is the safe, reversible
/// move. Critical criteria with nothing to measure pass (no evidence of harm).
pub fn assess_sustained(
    m: &VpAggregates,
    tally: &VpMissionTally,
    t: &VpThresholds,
) -> VpAssessment {
    let criteria = vec![
        min_missions(m, t),
        fallback_rate(m, t, false),
        fallback_rate(m, t, true),
        failed_rate(tally, t, false),
        failed_rate(tally, t, true),
        stale_missions(tally, t, false),
        stale_missions(tally, t, true),
        p95_latency(m, tally, t, false),
        p95_latency(m, tally, t, true),
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
    label: String,
    unit: Unit,
    measured: Option<f64>,
    threshold: f64,
    comparison: Comparison,
    sample: u64,
    /// What the sample counts, for the detail; `None` when it is the measure.
    sample_of: Option<String>,
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
                    .as_ref()
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

pub(super) fn min_missions(m: &VpAggregates, t: &VpThresholds) -> VpCriterion {
    let n = m.fallback.missions_considered;
    let mut c = Check {
        name: VpCriterionName::MinMissions,
        config: env::MIN_MISSIONS,
        label: "missions considered".into(),
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
        label: "fallback rate".into(),
        unit: Unit::Ratio,
        measured: m.fallback.measured_rate(),
        threshold,
        comparison: Comparison::Below,
        sample: m.fallback.missions_considered,
        sample_of: Some("missions".into()),
        critical,
        when_missing,
    }
    .judge()
}

/// p95 over the missions that finished; the unfinished ones, which have no
/// duration yet, are named beside the sample rather than silently left out.
pub(super) fn p95_latency(
    m: &VpAggregates,
    tally: &VpMissionTally,
    t: &VpThresholds,
    critical: bool,
) -> VpCriterion {
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
        label: "p95 latency".into(),
        unit: Unit::Seconds,
        measured: m.latency_seconds.p95_seconds,
        threshold,
        comparison: Comparison::Below,
        sample: m.latency_seconds.count,
        sample_of: Some(match tally.unfinished {
            0 => "timed missions".into(),
            n => format!("timed missions, {n} unfinished"),
        }),
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
        label: "recovery success rate".into(),
        unit: Unit::Ratio,
        // From the counts, like the fallback rate, so value and sample agree.
        measured: ratio(r.successes, r.attempts),
        threshold: t.min_recovery_success_rate,
        comparison: Comparison::AtLeast,
        sample: r.attempts,
        sample_of: Some("recovery attempts".into()),
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
        label: "orphan rate".into(),
        unit: Unit::Ratio,
        // An orphaned session with no rate reported is fully orphaned.
        measured: h.orphan_rate.or(h.currently_orphaned.then_some(1.0)),
        threshold: t.max_orphan_rate,
        comparison: Comparison::AtMost,
        sample: m.recovery.attempts,
        sample_of: Some("recovery attempts".into()),
        critical: false,
        when_missing: (true, "not reported and the session is not orphaned"),
    }
    .judge()
}

pub(super) fn failed_rate(tally: &VpMissionTally, t: &VpThresholds, critical: bool) -> VpCriterion {
    let (name, config, threshold, when_missing) = if critical {
        (
            VpCriterionName::FailedRateCritical,
            env::FAILED_RATE_CRITICAL,
            t.failed_rate_critical,
            (
                true,
                "no missions considered, so nothing to force fallback on",
            ),
        )
    } else {
        (
            VpCriterionName::FailedRate,
            env::MAX_FAILED_RATE,
            t.max_failed_rate,
            (false, "no missions considered, so no rate to judge"),
        )
    };
    Check {
        name,
        config,
        label: "failed-mission rate".into(),
        unit: Unit::Ratio,
        measured: ratio(tally.failed, tally.considered),
        threshold,
        comparison: Comparison::Below,
        sample: tally.considered,
        sample_of: Some("missions".into()),
        critical,
        when_missing,
    }
    .judge()
}

/// Stale missions as a count against `VP_MAX_STALE_MISSIONS` (one stray may
/// be slow), and as a share of the listed missions against the critical level.
pub(super) fn stale_missions(
    tally: &VpMissionTally,
    t: &VpThresholds,
    critical: bool,
) -> VpCriterion {
    let sample_of = Some(format!(
        "listed, unfinished after {} {}",
        env::MISSION_STALE_SECONDS,
        Unit::Seconds.show(t.mission_stale_seconds)
    ));
    let check = if critical {
        Check {
            name: VpCriterionName::StaleMissionsCritical,
            config: env::STALE_RATE_CRITICAL,
            label: "stale-mission share".into(),
            unit: Unit::Ratio,
            measured: ratio(tally.stale, tally.listed),
            threshold: t.stale_rate_critical,
            comparison: Comparison::Below,
            sample: tally.listed,
            sample_of,
            critical,
            when_missing: (true, "no missions listed, so nothing to force fallback on"),
        }
    } else {
        Check {
            name: VpCriterionName::StaleMissions,
            config: env::MAX_STALE_MISSIONS,
            label: "stale missions".into(),
            unit: Unit::Count,
            measured: (tally.listed > 0).then_some(tally.stale as f64),
            threshold: t.max_stale_missions as f64,
            comparison: Comparison::AtMost,
            sample: tally.listed,
            sample_of,
            critical,
            when_missing: (false, "no missions listed, so none to judge"),
        }
    };
    check.judge()
}

/// `v` with three decimals (`0.050`, `-1.250`), or `n/a` when not finite.
/// Printed from whole thousandths rather than with `{:.3}`, which would bring
/// the float-printing code into the browser app's wasm (see [`crate::Rate::percent`]).
pub(super) fn fixed3(v: f64) -> String {
    if !v.is_finite() {
        return "n/a".into();
    }
    let thousandths = (v.abs() * 1000.0).round() as u64;
    let sign = if v < 0.0 && thousandths > 0 { "-" } else { "" };
    format!("{sign}{}.{:03}", thousandths / 1000, thousandths % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::fixtures::{agg, listed, t};
    use crate::vp::{VpFallback, VpRecovery, VpSessionHealth};
    use serde_json::json;
    use std::collections::BTreeMap;

    // The rules on aggregates whose every mission is listed and finished,
    // unless a test says otherwise.
    fn assess_rollout(m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
        super::assess_rollout(m, &listed(m), t)
    }

    fn assess_sustained(m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
        super::assess_sustained(m, &listed(m), t)
    }

    fn assess(profile: VpProfile, m: &VpAggregates, t: &VpThresholds) -> VpAssessment {
        super::assess(profile, m, &listed(m), t)
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
            VpCriterionName::FailedRate,
            VpCriterionName::FailedRateCritical,
            VpCriterionName::StaleMissions,
            VpCriterionName::StaleMissionsCritical,
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
                VpCriterionName::FailedRate,
                VpCriterionName::StaleMissions,
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
                VpCriterionName::FailedRate,
                VpCriterionName::StaleMissions,
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
                    VpCriterionName::FailedRateCritical,
                    "VP_FAILED_RATE_CRITICAL",
                    0.20
                ),
                (
                    VpCriterionName::StaleMissionsCritical,
                    "VP_STALE_RATE_CRITICAL",
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

    // --- failed and stale missions ------------------------------------------

    /// `missions` considered and listed, all completed in 10 s, with
    /// `failed` of them failed outright (no fallback) and `stale` unfinished
    /// for longer than `VP_MISSION_STALE_SECONDS`.
    fn failing(missions: u64, failed: u64, stale: u64) -> (VpAggregates, VpMissionTally) {
        let mut m = agg(missions, 0, Some(10.0));
        m.mission_counts = BTreeMap::from([
            ("completed".into(), missions - failed - stale),
            ("failed".into(), failed),
            ("running".into(), stale),
        ]);
        let tally = VpMissionTally {
            considered: missions,
            failed,
            listed: missions,
            unfinished: stale,
            stale,
            oldest_unfinished_seconds: (stale > 0).then_some(900.0),
        };
        (m, tally)
    }

    #[test]
    fn a_lane_failing_without_fallbacks_cannot_read_ready_or_healthy() {
        // 30% failed outright: the fallback rate stays at zero
        let (m, tally) = failing(100, 30, 0);
        assert_eq!(m.fallback.measured_rate(), Some(0.0));
        let a = super::assess_rollout(&m, &tally, &t());
        assert_eq!(a.decision, VpDecision::HoldShadow);
        assert_eq!(failed_names(&a), [VpCriterionName::FailedRate]);
        let c = criterion(&a, VpCriterionName::FailedRate);
        assert_eq!(
            (c.measured, c.threshold, c.sample, c.config.as_str()),
            (Some(0.3), 0.05, 100, "VP_MAX_FAILED_RATE")
        );
        assert_eq!(
            c.detail,
            "failed-mission rate 0.300 (100 missions) is not below VP_MAX_FAILED_RATE 0.050"
        );
        let a = super::assess_sustained(&m, &tally, &t());
        assert_eq!(a.decision, VpDecision::SustainedForceFallback);
        assert_eq!(
            failed_names(&a),
            [
                VpCriterionName::FailedRate,
                VpCriterionName::FailedRateCritical
            ]
        );
        // below the critical level it only watches
        let (m, tally) = failing(100, 10, 0);
        let a = super::assess_sustained(&m, &tally, &t());
        assert_eq!(a.decision, VpDecision::SustainedWatch);
        assert_eq!(failed_names(&a), [VpCriterionName::FailedRate]);
    }

    #[test]
    fn failed_rate_boundaries() {
        use VpDecision::*;
        for (failed, of, rollout, sustained) in [
            (1, 21, ReadyForLimitedCohortPilot, SustainedDefaultOnHealthy),
            (1, 20, HoldShadow, SustainedWatch),
            (4, 21, HoldShadow, SustainedWatch),
            (4, 20, HoldShadow, SustainedForceFallback),
        ] {
            let (m, tally) = failing(of, failed, 0);
            assert_eq!(
                super::assess_rollout(&m, &tally, &t()).decision,
                rollout,
                "{failed}/{of}"
            );
            assert_eq!(
                super::assess_sustained(&m, &tally, &t()).decision,
                sustained,
                "{failed}/{of}"
            );
        }
    }

    #[test]
    fn stale_mission_boundaries() {
        use VpDecision::*;
        for (stale, of, rollout, sustained) in [
            // one stray stale mission may be a slow one
            (1, 20, ReadyForLimitedCohortPilot, SustainedDefaultOnHealthy),
            (2, 20, HoldShadow, SustainedWatch),
            (4, 21, HoldShadow, SustainedWatch),
            (4, 20, HoldShadow, SustainedForceFallback),
            (30, 100, HoldShadow, SustainedForceFallback),
        ] {
            let (m, tally) = failing(of, 0, stale);
            assert_eq!(
                super::assess_rollout(&m, &tally, &t()).decision,
                rollout,
                "{stale}/{of}"
            );
            assert_eq!(
                super::assess_sustained(&m, &tally, &t()).decision,
                sustained,
                "{stale}/{of}"
            );
        }
        let (m, tally) = failing(100, 0, 30);
        let a = super::assess_sustained(&m, &tally, &t());
        assert_eq!(
            criterion(&a, VpCriterionName::StaleMissions).detail,
            "stale missions 30 (100 listed, unfinished after VP_MISSION_STALE_SECONDS 600.000s) \
             is above VP_MAX_STALE_MISSIONS 1"
        );
        let c = criterion(&a, VpCriterionName::StaleMissionsCritical);
        assert_eq!((c.measured, c.critical), (Some(0.3), true));
        // p95 is over the finished missions, with the unfinished beside it
        assert_eq!(
            criterion(&a, VpCriterionName::P95Latency).detail,
            "p95 latency 10.000s (100 timed missions, 30 unfinished) is below \
             VP_P95_LATENCY_SLO_SECONDS 45.000s"
        );
        // no rows listed: the gate cannot pass, the critical check has no evidence
        let mut tally = tally;
        tally.listed = 0;
        tally.stale = 0;
        let a = super::assess_sustained(&m, &tally, &t());
        let c = criterion(&a, VpCriterionName::StaleMissions);
        assert!(!c.passed && c.measured.is_none(), "{c:?}");
        assert!(criterion(&a, VpCriterionName::StaleMissionsCritical).passed);
        assert_eq!(a.decision, VpDecision::SustainedWatch);
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
        assert_eq!(v["criteria"][3]["name"], "stale_missions");
        assert_eq!(v["criteria"][3]["measured"], 0.0);
        assert_eq!(v["criteria"][5]["name"], "recovery_success_rate");
        assert_eq!(v["criteria"][5]["measured"], serde_json::Value::Null);
        let back: VpAssessment = serde_json::from_value(v).unwrap();
        assert_eq!(back, a);
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
}
