//! The runbook's stop conditions as a pure decision over one tick's readings.

use opsdeck_api::admin::guardrail_reason;

/// What the world measured this tick, and the thresholds in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Readings {
    /// LLM spend today (UTC day) in USD.
    pub spend_today_usd: f64,
    /// `LLM_DAILY_BUDGET_USD_HARD`.
    pub budget_usd: f64,
    /// Provider failures in the trailing window.
    pub failures_in_window: u64,
    /// `STOP_PROVIDER_FAILURE_THRESHOLD`.
    pub failure_threshold: u32,
    /// `STOP_PROVIDER_FAILURE_WINDOW_SECONDS`.
    pub failure_window_seconds: u32,
    /// DB pool use now (0–1).
    pub pool_utilization: f64,
    /// `STOP_DB_POOL_UTILIZATION_THRESHOLD`.
    pub pool_threshold: f64,
    /// `STOP_DB_POOL_SUSTAINED_SECONDS`.
    pub pool_sustained_seconds: u32,
}

/// A tripped stop condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Trip {
    /// One of [`guardrail_reason`].
    pub reason: &'static str,
    /// Measured value against the threshold, for people.
    pub detail: String,
}

/// The decision for this tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Keep running; `pressure_since_ms` carries the start of an ongoing
    /// stretch of DB pool pressure, if one is under way.
    Continue {
        /// Start (ms) of the current pressure stretch.
        pressure_since_ms: Option<i64>,
    },
    /// Stop the run.
    Stop(Trip),
}

/// Decide whether this tick stops the run. Budget is checked first, then
/// provider failures, then pool pressure, so the most expensive problem is the
/// one reported.
pub fn evaluate(r: &Readings, now_ms: i64, pressure_since_ms: Option<i64>) -> Verdict {
    if r.spend_today_usd >= r.budget_usd {
        return Verdict::Stop(Trip {
            reason: guardrail_reason::BUDGET_EXCEEDED,
            detail: format!(
                "LLM spend today ${:.4} reached LLM_DAILY_BUDGET_USD_HARD ${:.2}",
                r.spend_today_usd, r.budget_usd
            ),
        });
    }
    if r.failures_in_window >= u64::from(r.failure_threshold) {
        return Verdict::Stop(Trip {
            reason: guardrail_reason::PROVIDER_FAILURES_REPEATED,
            detail: format!(
                "{} provider failures in the last {} s reached STOP_PROVIDER_FAILURE_THRESHOLD {}",
                r.failures_in_window, r.failure_window_seconds, r.failure_threshold
            ),
        });
    }
    if r.pool_utilization < r.pool_threshold {
        return Verdict::Continue {
            pressure_since_ms: None,
        };
    }
    let since = pressure_since_ms.unwrap_or(now_ms);
    let sustained_ms = now_ms - since;
    if sustained_ms >= i64::from(r.pool_sustained_seconds) * 1000 {
        return Verdict::Stop(Trip {
            reason: guardrail_reason::DB_POOL_PRESSURE,
            detail: format!(
                "DB pool at {:.0}% for {:.1} s (STOP_DB_POOL_UTILIZATION_THRESHOLD {:.0}%, STOP_DB_POOL_SUSTAINED_SECONDS {})",
                r.pool_utilization * 100.0,
                sustained_ms as f64 / 1000.0,
                r.pool_threshold * 100.0,
                r.pool_sustained_seconds
            ),
        });
    }
    Verdict::Continue {
        pressure_since_ms: Some(since),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calm() -> Readings {
        Readings {
            spend_today_usd: 1.0,
            budget_usd: 25.0,
            failures_in_window: 3,
            failure_threshold: 25,
            failure_window_seconds: 300,
            pool_utilization: 0.4,
            pool_threshold: 0.9,
            pool_sustained_seconds: 60,
        }
    }

    fn reason(v: Verdict) -> &'static str {
        match v {
            Verdict::Stop(t) => t.reason,
            Verdict::Continue { .. } => "continue",
        }
    }

    #[test]
    fn calm_readings_continue() {
        assert_eq!(
            evaluate(&calm(), 0, None),
            Verdict::Continue {
                pressure_since_ms: None
            }
        );
    }

    #[test]
    fn budget_trips_at_the_threshold_not_before() {
        let mut r = calm();
        r.spend_today_usd = 24.9999;
        assert_eq!(reason(evaluate(&r, 0, None)), "continue");
        r.spend_today_usd = 25.0;
        assert_eq!(reason(evaluate(&r, 0, None)), "budget_exceeded");
    }

    #[test]
    fn provider_failures_trip_at_the_threshold() {
        let mut r = calm();
        r.failures_in_window = 24;
        assert_eq!(reason(evaluate(&r, 0, None)), "continue");
        r.failures_in_window = 25;
        assert_eq!(reason(evaluate(&r, 0, None)), "provider_failures_repeated");
    }

    #[test]
    fn budget_wins_over_other_trips() {
        let mut r = calm();
        r.spend_today_usd = 30.0;
        r.failures_in_window = 100;
        r.pool_utilization = 1.0;
        assert_eq!(reason(evaluate(&r, 0, Some(-100_000))), "budget_exceeded");
    }

    #[test]
    fn pool_pressure_must_be_sustained() {
        let mut r = calm();
        r.pool_utilization = 0.95;
        // pressure starts now
        assert_eq!(
            evaluate(&r, 1_000, None),
            Verdict::Continue {
                pressure_since_ms: Some(1_000)
            }
        );
        // 59.999 s later: still running
        assert_eq!(reason(evaluate(&r, 60_999, Some(1_000))), "continue");
        // 60 s later: stop
        assert_eq!(
            reason(evaluate(&r, 61_000, Some(1_000))),
            "db_pool_pressure"
        );
        // a dip below the threshold resets the stretch
        r.pool_utilization = 0.5;
        assert_eq!(
            evaluate(&r, 61_000, Some(1_000)),
            Verdict::Continue {
                pressure_since_ms: None
            }
        );
    }

    #[test]
    fn trips_explain_themselves() {
        let mut r = calm();
        r.spend_today_usd = 25.5;
        let Verdict::Stop(t) = evaluate(&r, 0, None) else {
            panic!("expected a stop")
        };
        assert!(
            t.detail.contains("LLM_DAILY_BUDGET_USD_HARD"),
            "{}",
            t.detail
        );
    }
}
