//! The baseline snapshot (`/api/admin/baseline/*`): what was in force and how
//! the platform behaved, captured to compare against after tuning or rollout
//! changes.

use crate::other::OrOther;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::{Budgets, Environment, StopConditions};
use crate::validate::{ErrorKind, ValidationError, bounded};

/// Paths of the baseline snapshot.
pub mod paths {
    /// POST [`super::BaselineCaptureRequest`] → [`super::BaselineSnapshot`]. A write.
    pub const BASELINE_CAPTURE: &str = "/api/admin/baseline/capture";
    /// GET [`super::BaselineSnapshot`]: the stored one; 404 until one is captured.
    pub const BASELINE_LATEST: &str = "/api/admin/baseline/latest";
}

/// Event types the capture adds to the runtime event log.
pub mod event_type {
    /// A baseline snapshot was captured.
    pub const BASELINE_CAPTURED: &str = "baseline_captured";
}

/// Windows when the request does not say (the runbook's `--windows 24`).
pub const BASELINE_DEFAULT_WINDOWS: u32 = 24;
/// Window width when the request does not say (`--window-minutes 5`).
pub const BASELINE_DEFAULT_WINDOW_MINUTES: u32 = 5;
/// Most windows one capture computes.
pub const BASELINE_MAX_WINDOWS: u32 = 288;
/// Widest window: one day.
pub const BASELINE_MAX_WINDOW_MINUTES: u32 = 1440;
/// Longest span (`windows × window_minutes`) one capture looks back: 7 days.
pub const BASELINE_MAX_SPAN_MINUTES: u32 = 7 * 1440;

/// Body of `POST` [`paths::BASELINE_CAPTURE`]: `{windows, window_minutes}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineCaptureRequest {
    /// Rolling windows to compute (1–[`BASELINE_MAX_WINDOWS`], default
    /// [`BASELINE_DEFAULT_WINDOWS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<u32>,
    /// Width of each window in minutes (1–[`BASELINE_MAX_WINDOW_MINUTES`],
    /// default [`BASELINE_DEFAULT_WINDOW_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_minutes: Option<u32>,
}

impl BaselineCaptureRequest {
    /// `windows` with its default.
    pub fn windows(&self) -> u32 {
        self.windows.unwrap_or(BASELINE_DEFAULT_WINDOWS)
    }

    /// `window_minutes` with its default.
    pub fn window_minutes(&self) -> u32 {
        self.window_minutes
            .unwrap_or(BASELINE_DEFAULT_WINDOW_MINUTES)
    }

    /// Refuse values out of range, naming the field; the span of all windows
    /// together may not pass [`BASELINE_MAX_SPAN_MINUTES`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        let windows = bounded(
            "windows",
            self.windows,
            BASELINE_DEFAULT_WINDOWS,
            BASELINE_MAX_WINDOWS,
        )?;
        let minutes = bounded(
            "window_minutes",
            self.window_minutes,
            BASELINE_DEFAULT_WINDOW_MINUTES,
            BASELINE_MAX_WINDOW_MINUTES,
        )?;
        let span = u64::from(windows) * u64::from(minutes);
        if span > u64::from(BASELINE_MAX_SPAN_MINUTES) {
            return Err(ValidationError {
                field: "windows",
                message: format!(
                    "windows × window_minutes is {span} minutes; the limit is {BASELINE_MAX_SPAN_MINUTES} (7 days)"
                ),
                kind: ErrorKind::Invalid,
            });
        }
        Ok(())
    }
}

/// Today's LLM usage against the hard budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlmUsageToday {
    /// The UTC day counted.
    pub day: NaiveDate,
    /// LLM calls that day, all runs.
    pub calls: u64,
    /// LLM spend that day in USD, all runs.
    pub spend_usd: f64,
    /// `LLM_DAILY_BUDGET_USD_HARD`.
    pub budget_usd_hard: f64,
}

/// Provider failures over the trailing stop-condition window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderFailureReading {
    /// `STOP_PROVIDER_FAILURE_WINDOW_SECONDS`.
    pub window_seconds: u32,
    /// Provider calls in the window: the sample size.
    pub calls: u64,
    /// Failures among them.
    pub failures: u64,
    /// `failures / calls`; `null` with no calls.
    pub rate: Option<f64>,
}

/// Agent actions in one rolling window: the emergence metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmergenceWindow {
    /// Window start (inclusive).
    pub start: DateTime<Utc>,
    /// Window end (exclusive).
    pub end: DateTime<Utc>,
    /// Agent actions of any kind.
    pub runtime_actions: u64,
    /// Proposals created.
    pub proposal_actions: u64,
    /// Votes cast.
    pub vote_actions: u64,
    /// Forum posts and replies.
    pub forum_actions: u64,
}

/// The metrics half of a snapshot (`metrics/metrics_latest.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineMetrics {
    /// When read (UTC).
    pub captured_at: DateTime<Utc>,
    /// Current daily LLM spend and call counters.
    pub llm_usage_today: LlmUsageToday,
    /// Recent provider failure rate.
    pub provider_failures: ProviderFailureReading,
    /// Width of each emergence window.
    pub window_minutes: u32,
    /// Rolling emergence metric windows, oldest first, the last ending at `captured_at`.
    pub windows: Vec<EmergenceWindow>,
}

/// A baseline snapshot (`baseline_latest.json`): what was in force and how
/// the platform behaved, to compare against after tuning or rollout changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSnapshot {
    /// When captured (UTC).
    pub captured_at: DateTime<Utc>,
    /// Who asked for it (`X-Actor`).
    pub captured_by: Option<String>,
    /// The platform's environment.
    pub environment: OrOther<Environment>,
    /// The current or most recent run.
    pub run_id: Option<String>,
    /// Whether a run was active.
    pub simulation_active: bool,
    /// Active budget.
    pub budgets: Budgets,
    /// Active stop-condition thresholds.
    pub stop_conditions: StopConditions,
    /// Counters, failure rate and emergence windows.
    pub metrics: BaselineMetrics,
}

/// The message of the 404 before any capture.
pub const BASELINE_MISSING_MESSAGE: &str =
    "No baseline snapshot yet; capture one first (POST /api/admin/baseline/capture)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_request_defaults_and_limits_name_their_field() {
        let r = BaselineCaptureRequest::default();
        assert_eq!((r.windows(), r.window_minutes()), (24, 5));
        r.validate().unwrap();
        let cases = [
            (Some(0), None, "windows"),
            (Some(289), None, "windows"),
            (None, Some(0), "window_minutes"),
            (None, Some(1441), "window_minutes"),
            (Some(288), Some(60), "windows"),
        ];
        for (windows, window_minutes, field) in cases {
            let e = BaselineCaptureRequest {
                windows,
                window_minutes,
            }
            .validate()
            .unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert_eq!(e.kind, ErrorKind::Invalid);
        }
        BaselineCaptureRequest {
            windows: Some(7),
            window_minutes: Some(1440),
        }
        .validate()
        .unwrap();
        let e = serde_json::from_str::<BaselineCaptureRequest>(r#"{"window":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}
