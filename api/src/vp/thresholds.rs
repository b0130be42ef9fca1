//! The decision thresholds, named as their configuration variables, and the
//! check that they can work together.

use serde::{Deserialize, Serialize};

use super::{defaults, env};

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
    /// `VP_MAX_FAILED_RATE`: share of missions that may fail outright (a
    /// `vp.mission.failed` with no fallback) for a ready or healthy lane.
    pub max_failed_rate: f64,
    /// `VP_FAILED_RATE_CRITICAL`: share of failed missions from which a
    /// default-on lane is forced to fallback.
    pub failed_rate_critical: f64,
    /// `VP_MISSION_STALE_SECONDS`: a mission dispatched longer ago than this
    /// with no terminal event is stale (the runbook's "missing completion
    /// events").
    pub mission_stale_seconds: f64,
    /// `VP_MAX_STALE_MISSIONS`: most stale missions a ready or healthy lane
    /// may have.
    pub max_stale_missions: u64,
    /// `VP_STALE_RATE_CRITICAL`: share of stale missions from which a
    /// default-on lane is forced to fallback.
    pub stale_rate_critical: f64,
}

impl Default for VpThresholds {
    fn default() -> Self {
        VpThresholds {
            fallback_monitor_rate: defaults::FALLBACK_MONITOR_RATE,
            fallback_investigate_rate: defaults::FALLBACK_INVESTIGATE_RATE,
            p95_latency_slo_seconds: defaults::P95_LATENCY_SLO_SECONDS,
            p95_latency_critical_seconds: defaults::P95_LATENCY_CRITICAL_SECONDS,
            min_missions: defaults::MIN_MISSIONS,
            min_recovery_success_rate: defaults::MIN_RECOVERY_SUCCESS_RATE,
            max_orphan_rate: defaults::MAX_ORPHAN_RATE,
            max_failed_rate: defaults::MAX_FAILED_RATE,
            failed_rate_critical: defaults::FAILED_RATE_CRITICAL,
            mission_stale_seconds: defaults::MISSION_STALE_SECONDS,
            max_stale_missions: defaults::MAX_STALE_MISSIONS,
            stale_rate_critical: defaults::STALE_RATE_CRITICAL,
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
        open_rate(env::MAX_FAILED_RATE, self.max_failed_rate)?;
        open_rate(env::FAILED_RATE_CRITICAL, self.failed_rate_critical)?;
        if self.failed_rate_critical < self.max_failed_rate {
            return Err(format!(
                "{} ({}) must not be below {} ({})",
                env::FAILED_RATE_CRITICAL,
                self.failed_rate_critical,
                env::MAX_FAILED_RATE,
                self.max_failed_rate
            ));
        }
        seconds(env::MISSION_STALE_SECONDS, self.mission_stale_seconds)?;
        open_rate(env::STALE_RATE_CRITICAL, self.stale_rate_critical)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vp::FallbackBand;

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
        bad(|t| t.max_failed_rate = 0.0, "VP_MAX_FAILED_RATE");
        bad(|t| t.failed_rate_critical = 2.0, "VP_FAILED_RATE_CRITICAL");
        bad(|t| t.failed_rate_critical = 0.01, "VP_FAILED_RATE_CRITICAL");
        bad(
            |t| t.mission_stale_seconds = f64::INFINITY,
            "VP_MISSION_STALE_SECONDS",
        );
        bad(|t| t.stale_rate_critical = 0.0, "VP_STALE_RATE_CRITICAL");
        // equal bands are allowed: the monitor band is then empty
        let t = VpThresholds {
            fallback_investigate_rate: 0.05,
            ..VpThresholds::default()
        };
        t.validate().unwrap();
        assert_eq!(FallbackBand::of(0.05, &t), Some(FallbackBand::Investigate));
    }

    #[test]
    fn thresholds_round_trip() {
        let t = VpThresholds::default();
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["min_missions"], 20);
        assert_eq!(serde_json::from_value::<VpThresholds>(json).unwrap(), t);
    }
}
