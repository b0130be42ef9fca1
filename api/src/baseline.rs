//! The baseline snapshot (`/api/admin/baseline/*`): what was in force and how
//! the platform behaved, captured to compare against after tuning or rollout
//! changes.

use crate::other::OrOther;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::{Budgets, Environment, StopConditions};
use crate::validate::{self, ErrorKind, ValidationError, bounded};

pub mod compare;

pub use compare::{BaselineComparison, CompareGroup, CompareValue, ComparedRow, compare};

/// Paths of the baseline snapshot.
pub mod paths {
    /// POST [`super::BaselineCaptureRequest`] → [`super::BaselineSnapshot`]. A write.
    pub const BASELINE_CAPTURE: &str = "/api/admin/baseline/capture";
    /// GET [`super::BaselineSnapshot`]: the stored one; 404 until one is captured.
    pub const BASELINE_LATEST: &str = "/api/admin/baseline/latest";
    /// GET [`super::BaselineList`]: every kept capture, newest first; query
    /// [`super::BaselineListQuery`].
    pub const BASELINES: &str = "/api/admin/baseline";
    /// GET [`super::BaselineSnapshot`]: one capture as it was stored (the same
    /// bytes `latest` served while it was the newest). `{id}` is a
    /// [`super::parse_baseline_id`]; 404 when no capture has it.
    pub const BASELINE: &str = "/api/admin/baseline/{id}";

    /// The path of capture `id`.
    pub fn baseline(id: u64) -> String {
        BASELINE.replace("{id}", &id.to_string())
    }
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
    /// Why it is captured (`before raising the budget`), up to
    /// [`crate::validate::REASON_MAX`] characters; kept with the snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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
        if let Some(reason) = &self.reason {
            validate::reason(reason)?;
        }
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
    /// Why, when the capture said ([`BaselineCaptureRequest::reason`]). Left
    /// out rather than `null` when absent, so a snapshot without one reads as
    /// it did before reasons existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
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

/// Captures the list returns when the query gives no `limit`.
pub const BASELINE_LIST_DEFAULT_LIMIT: u32 = 20;
/// Largest `limit` the list accepts.
pub const BASELINE_LIST_MAX_LIMIT: u32 = 200;
/// Captures the platform keeps: the oldest beyond this many are dropped when
/// a new one is stored, so repeated captures cannot fill the disk.
pub const BASELINE_HISTORY_MAX: u32 = 1000;

/// Query of `GET` [`paths::BASELINES`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineListQuery {
    /// Most captures to list (1–[`BASELINE_LIST_MAX_LIMIT`], default
    /// [`BASELINE_LIST_DEFAULT_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl BaselineListQuery {
    /// The `limit` to apply, or an invalid `limit` naming its range.
    pub fn limit(&self) -> Result<u32, ValidationError> {
        bounded(
            "limit",
            self.limit,
            BASELINE_LIST_DEFAULT_LIMIT,
            BASELINE_LIST_MAX_LIMIT,
        )
    }
}

/// One kept capture in the list: who took it, when and why, and the figures
/// people pick two by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineSummary {
    /// The capture's id: read it at [`paths::baseline`]. Later captures have
    /// larger ids.
    pub id: u64,
    /// When captured (UTC).
    pub captured_at: DateTime<Utc>,
    /// Who asked for it (`X-Actor`).
    pub captured_by: Option<String>,
    /// Why, when the capture said.
    pub reason: Option<String>,
    /// The current or most recent run at capture time.
    pub run_id: Option<String>,
    /// `LLM_DAILY_BUDGET_USD_HARD` in force.
    pub llm_daily_budget_usd_hard: f64,
    /// LLM calls that UTC day.
    pub llm_calls_today: u64,
    /// LLM spend that UTC day, USD.
    pub llm_spend_today_usd: f64,
    /// Provider calls in the failure window: the failure rate's sample.
    pub provider_calls: u64,
    /// Provider failures among them.
    pub provider_failures: u64,
    /// Emergence windows computed.
    pub windows: u32,
    /// Width of each, minutes.
    pub window_minutes: u32,
    /// Agent actions over all windows.
    pub runtime_actions: u64,
}

impl BaselineSummary {
    /// The summary of `snapshot`, stored as capture `id`.
    pub fn of(id: u64, snapshot: &BaselineSnapshot) -> Self {
        let m = &snapshot.metrics;
        BaselineSummary {
            id,
            captured_at: snapshot.captured_at,
            captured_by: snapshot.captured_by.clone(),
            reason: snapshot.reason.clone(),
            run_id: snapshot.run_id.clone(),
            llm_daily_budget_usd_hard: snapshot.budgets.llm_daily_budget_usd_hard,
            llm_calls_today: m.llm_usage_today.calls,
            llm_spend_today_usd: m.llm_usage_today.spend_usd,
            provider_calls: m.provider_failures.calls,
            provider_failures: m.provider_failures.failures,
            windows: u32::try_from(m.windows.len()).unwrap_or(u32::MAX),
            window_minutes: m.window_minutes,
            runtime_actions: m.windows.iter().map(|w| w.runtime_actions).sum(),
        }
    }
}

/// `GET` [`paths::BASELINES`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineList {
    /// Newest first (largest id first), at most the query's `limit`.
    pub baselines: Vec<BaselineSummary>,
    /// How many captures the platform keeps in all.
    pub total: u64,
}

/// Longest id text echoed back in a refusal.
const ID_ECHO_MAX: usize = 40;

/// A capture id from a URL: a positive whole number in its one canonical
/// spelling (digits only, no sign, no leading zero), so one capture has one
/// path. Anything else is a malformed `id` (400).
pub fn parse_baseline_id(text: &str) -> Result<u64, ValidationError> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    // SQLite row ids are signed 64-bit: larger ids cannot exist.
    match text.parse::<i64>() {
        Ok(id) if canonical => Ok(id as u64),
        _ => {
            let shown: String = text.chars().take(ID_ECHO_MAX).collect();
            let cut = if shown.len() < text.len() { "…" } else { "" };
            Err(ValidationError {
                field: "id",
                message: format!(
                    "baseline id must be a positive whole number as listed (like 42, without sign or leading zeros) up to {}, got {shown:?}{cut}",
                    i64::MAX
                ),
                kind: ErrorKind::Malformed,
            })
        }
    }
}

/// The message of the 404 for an id no capture has.
pub fn baseline_unknown_message(id: u64) -> String {
    format!(
        "No baseline with id {id}; list the kept ones with GET {}",
        paths::BASELINES
    )
}

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
                reason: None,
            }
            .validate()
            .unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert_eq!(e.kind, ErrorKind::Invalid);
        }
        BaselineCaptureRequest {
            windows: Some(7),
            window_minutes: Some(1440),
            reason: Some("before raising the budget".into()),
        }
        .validate()
        .unwrap();
        let e = BaselineCaptureRequest {
            reason: Some("two\nlines".into()),
            ..BaselineCaptureRequest::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.field, "reason");
        let e = serde_json::from_str::<BaselineCaptureRequest>(r#"{"window":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn ids_have_one_spelling() {
        assert_eq!(parse_baseline_id("1"), Ok(1));
        assert_eq!(parse_baseline_id("42"), Ok(42));
        assert_eq!(
            parse_baseline_id("9223372036854775807"),
            Ok(i64::MAX as u64)
        );
        for bad in [
            "",
            "0",
            "042",
            "+4",
            "-4",
            "4.0",
            " 4",
            "latest2",
            "9223372036854775808",
            "１",
        ] {
            let e = parse_baseline_id(bad).unwrap_err();
            assert_eq!((e.field, e.kind), ("id", ErrorKind::Malformed), "{bad:?}");
            assert!(e.message.contains(&format!("{bad:?}")), "{e}");
        }
        // a long id is echoed cut short
        let e = parse_baseline_id(&"9".repeat(500)).unwrap_err();
        assert!(e.message.len() < 250, "{e}");
        assert!(e.message.ends_with('…'), "{e}");
        assert_eq!(paths::baseline(7), "/api/admin/baseline/7");
    }

    #[test]
    fn list_limit_defaults_and_names_its_range() {
        assert_eq!(BaselineListQuery::default().limit(), Ok(20));
        assert_eq!(BaselineListQuery { limit: Some(200) }.limit(), Ok(200));
        for bad in [0, 201] {
            let e = BaselineListQuery { limit: Some(bad) }.limit().unwrap_err();
            assert_eq!((e.field, e.kind), ("limit", ErrorKind::Invalid));
            assert!(e.message.contains("between 1 and 200"), "{e}");
        }
        let e = serde_json::from_str::<BaselineListQuery>(r#"{"limt":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }

    #[test]
    fn a_snapshot_without_a_reason_reads_and_writes_as_before() {
        let old = r#"{"captured_at":"2026-03-10T12:00:00Z","captured_by":null,
            "environment":"DEVELOPMENT","run_id":null,"simulation_active":false,
            "budgets":{"llm_daily_budget_usd_hard":5.0},
            "stop_conditions":{"provider_failure_threshold":25,"provider_failure_window_seconds":300,
              "db_pool_utilization_threshold":0.9,"db_pool_sustained_seconds":60},
            "metrics":{"captured_at":"2026-03-10T12:00:00Z",
              "llm_usage_today":{"day":"2026-03-10","calls":3,"spend_usd":0.5,"budget_usd_hard":5.0},
              "provider_failures":{"window_seconds":300,"calls":0,"failures":0,"rate":null},
              "window_minutes":5,"windows":[]}}"#;
        let s: BaselineSnapshot = serde_json::from_str(old).unwrap();
        assert_eq!(s.reason, None);
        let back = serde_json::to_string(&s).unwrap();
        assert!(!back.contains("reason"), "{back}");
        let summary = BaselineSummary::of(3, &s);
        assert_eq!(
            (summary.id, summary.llm_calls_today, summary.windows),
            (3, 3, 0)
        );
    }
}
