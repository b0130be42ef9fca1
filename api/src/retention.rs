//! Retention sweeps and geocoding coverage (`/api/admin/retention/*`), the
//! baseline snapshot (`/api/admin/baseline/*`) and the weekly digest with its
//! evidence gate (`/api/admin/digest/weekly`).
//!
//! Field names are the runbooks': a retention report has `summaries` per
//! tenant, `total_removed`, `tenant_count`, `warning_counts` (a severity
//! histogram) and `tag_counts`; a geocoding report has `tenant_id`, `ratio` and
//! `status` (`ok`, `warning`, `critical`). The platform keeps them as JSON files
//! under its state root (`retention/latest.json`, `retention/<YYYY-MM-DD>.json`,
//! `geocoding/<tenant>.json`) and serves them as they are on disk.
//!
//! The rules here are pure: the geocoding status of a ratio, the aggregation of
//! per-tenant summaries into a report, the digest's evidence window and gate,
//! and the digest's markdown template.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::{Budgets, Environment, StopConditions};
use crate::validate::{ErrorKind, ValidationError};

/// Paths of the retention, baseline and digest part of the contract.
pub mod paths {
    use chrono::NaiveDate;

    /// GET [`super::RetentionReport`]: the newest sweep (`retention/latest.json`).
    pub const LATEST: &str = "/api/admin/retention/latest";
    /// GET [`super::RetentionDays`]: the days with a stored sweep.
    pub const DAYS: &str = "/api/admin/retention/days";
    /// GET [`super::RetentionReport`] of one day (`retention/<YYYY-MM-DD>.json`),
    /// in axum's route syntax; build a concrete path with [`day`]. 404 names the
    /// day when there is no sweep for it, 422 when it is not a date.
    pub const DAY: &str = "/api/admin/retention/{day}";
    /// GET [`super::GeocodingReports`]: the newest geocoding report of every tenant.
    pub const GEOCODING: &str = "/api/admin/retention/geocoding";
    /// GET NDJSON (`application/x-ndjson`), one [`super::RetentionNdjsonLine`]
    /// per tenant of the newest sweep.
    pub const RETENTION_NDJSON: &str = "/api/admin/retention/retention.ndjson";
    /// GET NDJSON (`application/x-ndjson`), one [`super::GeocodingNdjsonLine`]
    /// per tenant.
    pub const GEOCODING_NDJSON: &str = "/api/admin/retention/geocoding.ndjson";
    /// POST [`crate::admin::ControlRequest`] → [`super::SweepRunResponse`]: run
    /// today's sweep now. A write: refused with 403 in PRODUCTION or when admin
    /// writes are disabled.
    pub const SWEEP_RUN: &str = "/api/admin/retention/sweep/run";
    /// POST [`super::BaselineCaptureRequest`] → [`super::BaselineSnapshot`]. A write.
    pub const BASELINE_CAPTURE: &str = "/api/admin/baseline/capture";
    /// GET [`super::BaselineSnapshot`]: the stored one; 404 until one is captured.
    pub const BASELINE_LATEST: &str = "/api/admin/baseline/latest";
    /// POST [`super::WeeklyDigestRequest`] → [`super::WeeklyDigestResponse`]. A
    /// write; 409 for a second draft of the same anchor unless
    /// `allow_duplicate_anchor` is true.
    pub const DIGEST_WEEKLY: &str = "/api/admin/digest/weekly";

    /// The concrete path of [`DAY`] for `day`.
    pub fn day(day: NaiveDate) -> String {
        format!("/api/admin/retention/{}", day.format("%Y-%m-%d"))
    }
}

/// Content type of the two NDJSON exports.
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";

/// Configuration variables of the rules here, as the platform reads them.
pub mod env {
    /// [`super::EvidenceThresholds::min_events`] (runbook default 25).
    pub const ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS: &str = "ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS";
    /// [`super::EvidenceThresholds::min_llm_calls`] (runbook default 5).
    pub const ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS: &str = "ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS";
    /// [`super::GeocodingThresholds::ok_min_ratio`].
    pub const GEOCODING_OK_MIN_RATIO: &str = "GEOCODING_OK_MIN_RATIO";
    /// [`super::GeocodingThresholds::warning_min_ratio`].
    pub const GEOCODING_WARNING_MIN_RATIO: &str = "GEOCODING_WARNING_MIN_RATIO";
}

/// Event types these writes add to the runtime event log.
pub mod event_type {
    /// A retention sweep ran on demand (`POST` [`super::paths::SWEEP_RUN`]).
    pub const RETENTION_SWEEP_RUN: &str = "retention_sweep_run";
    /// A baseline snapshot was captured.
    pub const BASELINE_CAPTURED: &str = "baseline_captured";
    /// A weekly digest draft was created.
    pub const WEEKLY_DIGEST_DRAFTED: &str = "weekly_digest_drafted";
}

// ---------------------------------------------------------------------------
// Retention sweeps
// ---------------------------------------------------------------------------

/// Most removed paths a tenant summary lists; `removed_count` counts them all.
pub const REMOVED_PATHS_SAMPLE: usize = 5;

/// How serious a sweep warning is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningSeverity {
    /// Worth knowing; nothing to do.
    Info,
    /// Needs a look (a path not removed, coverage slipping).
    Warning,
    /// Needs action (coverage too low for the plan's weather joins).
    Critical,
}

impl WarningSeverity {
    /// All three, mildest first.
    pub const ALL: [WarningSeverity; 3] = [
        WarningSeverity::Info,
        WarningSeverity::Warning,
        WarningSeverity::Critical,
    ];

    /// `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningSeverity::Info => "info",
            WarningSeverity::Warning => "warning",
            WarningSeverity::Critical => "critical",
        }
    }
}

impl fmt::Display for WarningSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One warning a tenant's sweep raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionWarning {
    /// How serious.
    pub severity: WarningSeverity,
    /// Stable machine name (`delete_failed`, `geocoding_coverage_low`, …).
    pub code: String,
    /// What happened, for people.
    pub message: String,
}

/// One tenant's removal results: an element of `summaries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRetentionSummary {
    /// The tenant.
    pub tenant_id: String,
    /// Its display name.
    #[serde(default)]
    pub tenant_name: String,
    /// The tenant's retention window in days: artifacts older are removed.
    #[serde(default)]
    pub retention_days: u32,
    /// A sample of the removed paths (at most [`REMOVED_PATHS_SAMPLE`]).
    pub removed_paths: Vec<String>,
    /// How many paths were removed in all.
    pub removed_count: u64,
    /// Context tags the sweep attached (`source:shopify`, `geocoding:warning`, …).
    pub tags: Vec<String>,
    /// Warnings raised, each with its severity.
    pub warnings: Vec<RetentionWarning>,
}

impl TenantRetentionSummary {
    /// The most serious warning the sweep raised for the tenant, if any.
    pub fn max_severity(&self) -> Option<WarningSeverity> {
        self.warnings.iter().map(|w| w.severity).max()
    }
}

/// A sweep's report: `retention/latest.json` and `retention/<YYYY-MM-DD>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// The UTC day the sweep ran for.
    pub day: NaiveDate,
    /// When it was written (UTC).
    pub generated_at: DateTime<Utc>,
    /// Per-tenant removal results, by `tenant_id`.
    pub summaries: Vec<TenantRetentionSummary>,
    /// Sum of every summary's `removed_count`.
    pub total_removed: u64,
    /// Tenants swept (the length of `summaries`).
    pub tenant_count: u64,
    /// Warnings by severity across tenants; every severity is present, 0 when none.
    pub warning_counts: BTreeMap<WarningSeverity, u64>,
    /// How many tenants each tag was attached to.
    pub tag_counts: BTreeMap<String, u64>,
}

impl RetentionReport {
    /// The report of `summaries`, with every total computed from them (so the
    /// totals cannot disagree with the rows). Summaries are sorted by tenant.
    pub fn from_summaries(
        day: NaiveDate,
        generated_at: DateTime<Utc>,
        mut summaries: Vec<TenantRetentionSummary>,
    ) -> Self {
        summaries.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        let mut warning_counts: BTreeMap<WarningSeverity, u64> =
            WarningSeverity::ALL.iter().map(|s| (*s, 0)).collect();
        let mut tag_counts: BTreeMap<String, u64> = BTreeMap::new();
        for s in &summaries {
            for w in &s.warnings {
                *warning_counts.entry(w.severity).or_default() += 1;
            }
            for t in &s.tags {
                *tag_counts.entry(t.clone()).or_default() += 1;
            }
        }
        RetentionReport {
            day,
            generated_at,
            total_removed: summaries.iter().map(|s| s.removed_count).sum(),
            tenant_count: summaries.len() as u64,
            warning_counts,
            tag_counts,
            summaries,
        }
    }

    /// The export lines of this report, one per tenant.
    pub fn ndjson_lines(&self) -> Vec<RetentionNdjsonLine> {
        self.summaries
            .iter()
            .map(|s| RetentionNdjsonLine {
                day: self.day,
                generated_at: self.generated_at,
                tenant_id: s.tenant_id.clone(),
                removed_count: s.removed_count,
                tags: s.tags.clone(),
                warning_count: s.warnings.len() as u64,
                max_severity: s.max_severity(),
            })
            .collect()
    }
}

/// `GET` [`paths::DAYS`]: the days with a stored sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionDays {
    /// Newest first.
    pub days: Vec<NaiveDate>,
    /// The day `latest.json` is for, if there is one.
    pub latest: Option<NaiveDate>,
}

/// One line of `retention.ndjson`: a tenant's row of the newest sweep, flat
/// for BigQuery or Loki.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionNdjsonLine {
    /// The sweep's day.
    pub day: NaiveDate,
    /// When the sweep was written.
    pub generated_at: DateTime<Utc>,
    /// The tenant.
    pub tenant_id: String,
    /// Paths removed.
    pub removed_count: u64,
    /// Context tags.
    pub tags: Vec<String>,
    /// Warnings raised.
    pub warning_count: u64,
    /// The worst of them; `null` with none.
    pub max_severity: Option<WarningSeverity>,
}

/// Answer to `POST` [`paths::SWEEP_RUN`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRunResponse {
    /// Always true on a 2xx.
    pub ok: bool,
    /// What happened, for people.
    pub message: String,
    /// The report now in `retention/latest.json`.
    pub report: RetentionReport,
}

/// Parse a `YYYY-MM-DD` day as the `{day}` path segment carries it; the error
/// names the value and the expected form.
pub fn parse_day(value: &str) -> Result<NaiveDate, ValidationError> {
    let ok_shape = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let parsed = ok_shape
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    parsed.ok_or_else(|| ValidationError {
        field: "day",
        message: format!("day must be a date written YYYY-MM-DD, got {value:?}"),
        kind: ErrorKind::Invalid,
    })
}

// ---------------------------------------------------------------------------
// Geocoding coverage
// ---------------------------------------------------------------------------

/// A tenant's geocoding coverage verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeocodingStatus {
    /// At or above [`GeocodingThresholds::ok_min_ratio`].
    Ok,
    /// At or above [`GeocodingThresholds::warning_min_ratio`], below ok.
    Warning,
    /// Below the warning ratio (or not a number): weather joins will degrade the plan.
    Critical,
}

impl GeocodingStatus {
    /// `ok`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            GeocodingStatus::Ok => "ok",
            GeocodingStatus::Warning => "warning",
            GeocodingStatus::Critical => "critical",
        }
    }
}

impl fmt::Display for GeocodingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Ratios that separate the statuses, named as their configuration variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeocodingThresholds {
    /// `GEOCODING_OK_MIN_RATIO` (default 0.95): lowest ratio that is `ok`.
    pub ok_min_ratio: f64,
    /// `GEOCODING_WARNING_MIN_RATIO` (default 0.80): lowest ratio that is
    /// `warning`; anything below is `critical`.
    pub warning_min_ratio: f64,
}

impl Default for GeocodingThresholds {
    fn default() -> Self {
        GeocodingThresholds {
            ok_min_ratio: 0.95,
            warning_min_ratio: 0.80,
        }
    }
}

impl GeocodingThresholds {
    /// Refuse thresholds that cannot work, naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [
            (env::GEOCODING_OK_MIN_RATIO, self.ok_min_ratio),
            (env::GEOCODING_WARNING_MIN_RATIO, self.warning_min_ratio),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(format!("{name} must be a ratio from 0 to 1, got {v}"));
            }
        }
        if self.warning_min_ratio > self.ok_min_ratio {
            return Err(format!(
                "{} ({}) must not be above {} ({})",
                env::GEOCODING_WARNING_MIN_RATIO,
                self.warning_min_ratio,
                env::GEOCODING_OK_MIN_RATIO,
                self.ok_min_ratio
            ));
        }
        Ok(())
    }
}

/// The status of a coverage `ratio`: `ok` at or above `ok_min_ratio`,
/// `warning` at or above `warning_min_ratio`, else `critical`. A ratio that is
/// not a number is `critical`: coverage that cannot be measured is not coverage.
pub fn geocoding_status(ratio: f64, t: &GeocodingThresholds) -> GeocodingStatus {
    if ratio.is_nan() {
        GeocodingStatus::Critical
    } else if ratio >= t.ok_min_ratio {
        GeocodingStatus::Ok
    } else if ratio >= t.warning_min_ratio {
        GeocodingStatus::Warning
    } else {
        GeocodingStatus::Critical
    }
}

/// A tenant's geocoding validation: `geocoding/<tenant>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeocodingReport {
    /// The tenant.
    pub tenant_id: String,
    /// `geocoded_rows / checked_rows` (0 with nothing checked).
    pub ratio: f64,
    /// The verdict of [`geocoding_status`] on `ratio`.
    pub status: GeocodingStatus,
    /// The day validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<NaiveDate>,
    /// Rows checked: the sample size of `ratio`.
    #[serde(default)]
    pub checked_rows: u64,
    /// Rows with coordinates.
    #[serde(default)]
    pub geocoded_rows: u64,
    /// When written (UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<DateTime<Utc>>,
}

impl GeocodingReport {
    /// The report for `geocoded` of `checked` rows, judged by `t`.
    pub fn from_counts(
        tenant_id: impl Into<String>,
        day: NaiveDate,
        geocoded: u64,
        checked: u64,
        generated_at: DateTime<Utc>,
        t: &GeocodingThresholds,
    ) -> Self {
        let ratio = if checked == 0 {
            0.0
        } else {
            geocoded as f64 / checked as f64
        };
        GeocodingReport {
            tenant_id: tenant_id.into(),
            ratio,
            status: geocoding_status(ratio, t),
            day: Some(day),
            checked_rows: checked,
            geocoded_rows: geocoded,
            generated_at: Some(generated_at),
        }
    }
}

/// One line of `geocoding.ndjson`: the tenant's report as stored.
pub type GeocodingNdjsonLine = GeocodingReport;

/// `GET` [`paths::GEOCODING`]: every tenant's newest report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeocodingReports {
    /// One per tenant, by `tenant_id`.
    pub reports: Vec<GeocodingReport>,
    /// Tenants per status; every status is present, 0 when none.
    pub status_counts: BTreeMap<GeocodingStatus, u64>,
}

impl GeocodingReports {
    /// The collection of `reports`, sorted by tenant, with its status counts.
    pub fn new(mut reports: Vec<GeocodingReport>) -> Self {
        reports.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        let mut status_counts: BTreeMap<GeocodingStatus, u64> = [
            GeocodingStatus::Ok,
            GeocodingStatus::Warning,
            GeocodingStatus::Critical,
        ]
        .into_iter()
        .map(|s| (s, 0))
        .collect();
        for r in &reports {
            *status_counts.entry(r.status).or_default() += 1;
        }
        GeocodingReports {
            reports,
            status_counts,
        }
    }
}

// ---------------------------------------------------------------------------
// Baseline snapshot
// ---------------------------------------------------------------------------

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
        let invalid = |field: &'static str, message: String| ValidationError {
            field,
            message,
            kind: ErrorKind::Invalid,
        };
        let (windows, minutes) = (self.windows(), self.window_minutes());
        if windows == 0 || windows > BASELINE_MAX_WINDOWS {
            return Err(invalid(
                "windows",
                format!("windows must be between 1 and {BASELINE_MAX_WINDOWS}, got {windows}"),
            ));
        }
        if minutes == 0 || minutes > BASELINE_MAX_WINDOW_MINUTES {
            return Err(invalid(
                "window_minutes",
                format!(
                    "window_minutes must be between 1 and {BASELINE_MAX_WINDOW_MINUTES}, got {minutes}"
                ),
            ));
        }
        let span = u64::from(windows) * u64::from(minutes);
        if span > u64::from(BASELINE_MAX_SPAN_MINUTES) {
            return Err(invalid(
                "windows",
                format!(
                    "windows × window_minutes is {span} minutes; the limit is {BASELINE_MAX_SPAN_MINUTES} (7 days)"
                ),
            ));
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
    pub environment: Environment,
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

// ---------------------------------------------------------------------------
// Weekly digest
// ---------------------------------------------------------------------------

/// Days a digest looks back when the request does not say (`--lookback-days 7`).
pub const DIGEST_DEFAULT_LOOKBACK_DAYS: u32 = 7;
/// Longest lookback accepted.
pub const DIGEST_MAX_LOOKBACK_DAYS: u32 = 90;

/// Body of `POST` [`paths::DIGEST_WEEKLY`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyDigestRequest {
    /// Days of evidence, ending with the anchor day (1–[`DIGEST_MAX_LOOKBACK_DAYS`],
    /// default [`DIGEST_DEFAULT_LOOKBACK_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback_days: Option<u32>,
    /// The digest's date, `YYYY-MM-DD` (default: today, UTC). Not in the future.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_date: Option<NaiveDate>,
    /// Create a second draft for an anchor that already has one.
    #[serde(default)]
    pub allow_duplicate_anchor: bool,
}

impl WeeklyDigestRequest {
    /// `lookback_days` with its default.
    pub fn lookback_days(&self) -> u32 {
        self.lookback_days.unwrap_or(DIGEST_DEFAULT_LOOKBACK_DAYS)
    }

    /// The anchor, or `today`.
    pub fn anchor(&self, today: NaiveDate) -> NaiveDate {
        self.anchor_date.unwrap_or(today)
    }

    /// Refuse values out of range, naming the field.
    pub fn validate(&self, today: NaiveDate) -> Result<(), ValidationError> {
        let lookback = self.lookback_days();
        if lookback == 0 || lookback > DIGEST_MAX_LOOKBACK_DAYS {
            return Err(ValidationError {
                field: "lookback_days",
                message: format!(
                    "lookback_days must be between 1 and {DIGEST_MAX_LOOKBACK_DAYS}, got {lookback}"
                ),
                kind: ErrorKind::Invalid,
            });
        }
        let anchor = self.anchor(today);
        if anchor > today {
            return Err(ValidationError {
                field: "anchor_date",
                message: format!("anchor_date {anchor} is in the future (today is {today}, UTC)"),
                kind: ErrorKind::Invalid,
            });
        }
        Ok(())
    }
}

/// The UTC days a digest covers: `lookback_days` days ending with `anchor`,
/// both ends inclusive.
pub fn digest_window(anchor: NaiveDate, lookback_days: u32) -> (NaiveDate, NaiveDate) {
    let back = u64::from(lookback_days.max(1) - 1);
    (anchor - Days::new(back), anchor)
}

/// What a digest rests on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceCounts {
    /// Agent actions (proposals, votes, forum posts) in the window.
    pub events: u64,
    /// LLM calls in the window.
    pub llm_calls: u64,
}

/// The evidence gate's minimums, named as their configuration variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceThresholds {
    /// `ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS` (default 25).
    pub min_events: u64,
    /// `ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS` (default 5).
    pub min_llm_calls: u64,
}

impl Default for EvidenceThresholds {
    fn default() -> Self {
        EvidenceThresholds {
            min_events: 25,
            min_llm_calls: 5,
        }
    }
}

/// One minimum the evidence did not reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceShortfall {
    /// `events` or `llm_calls`.
    pub metric: String,
    /// What was observed.
    pub observed: u64,
    /// What is required.
    pub required: u64,
    /// The variable setting the minimum.
    pub variable: String,
}

/// The gate's verdict: met, or the minimums missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceVerdict {
    /// Whether a draft may be created.
    pub met: bool,
    /// Minimums not reached; empty when met.
    pub shortfalls: Vec<EvidenceShortfall>,
}

/// The runbook's evidence gate: a draft needs at least `min_events` events
/// and at least `min_llm_calls` LLM calls (reaching a minimum exactly is enough).
pub fn evidence_gate(observed: &EvidenceCounts, required: &EvidenceThresholds) -> EvidenceVerdict {
    let mut shortfalls = Vec::new();
    for (metric, o, r, variable) in [
        (
            "events",
            observed.events,
            required.min_events,
            env::ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS,
        ),
        (
            "llm_calls",
            observed.llm_calls,
            required.min_llm_calls,
            env::ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS,
        ),
    ] {
        if o < r {
            shortfalls.push(EvidenceShortfall {
                metric: metric.into(),
                observed: o,
                required: r,
                variable: variable.into(),
            });
        }
    }
    EvidenceVerdict {
        met: shortfalls.is_empty(),
        shortfalls,
    }
}

/// A run that contributed evidence: the digest's evidence link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRun {
    /// The run id.
    pub run_id: String,
    /// Its agent actions inside the window.
    pub events: u64,
}

/// A guardrail stop inside the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestStop {
    /// When it tripped.
    pub at: DateTime<Utc>,
    /// The run stopped.
    pub run_id: Option<String>,
    /// One of [`crate::admin::guardrail_reason`].
    pub reason: String,
}

/// Everything the digest template is filled from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestFacts {
    /// The anchor day.
    pub anchor_date: NaiveDate,
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window (the anchor).
    pub window_end: NaiveDate,
    /// Days covered.
    pub lookback_days: u32,
    /// Evidence totals.
    pub observed: EvidenceCounts,
    /// Proposals in the window.
    pub proposal_actions: u64,
    /// Votes in the window.
    pub vote_actions: u64,
    /// Forum posts in the window.
    pub forum_actions: u64,
    /// LLM spend over the window's days, USD.
    pub llm_spend_usd: f64,
    /// Runs with actions in the window, most active first.
    pub runs: Vec<DigestRun>,
    /// Guardrail stops in the window, oldest first.
    pub guardrail_stops: Vec<DigestStop>,
}

/// The locked template: title, window, evidence totals, activity, guardrail
/// stops and the runs the numbers come from (each as a `run:<id>` link, which
/// the console resolves to the run's events).
pub fn render_weekly_digest(f: &DigestFacts) -> String {
    let mut md = String::new();
    md.push_str(&format!(
        "# Weekly digest — week ending {}\n\n",
        f.anchor_date
    ));
    md.push_str(&format!(
        "_Window: {} to {} ({} days, UTC)._\n\n",
        f.window_start, f.window_end, f.lookback_days
    ));
    md.push_str("## Evidence\n\n");
    md.push_str(&format!(
        "- Events (agent actions): {}\n",
        f.observed.events
    ));
    md.push_str(&format!("- LLM calls: {}\n", f.observed.llm_calls));
    md.push_str(&format!("- LLM spend: {:.2} USD\n\n", f.llm_spend_usd));
    md.push_str("## Activity\n\n");
    md.push_str("| Proposals | Votes | Forum posts |\n| ---: | ---: | ---: |\n");
    md.push_str(&format!(
        "| {} | {} | {} |\n\n",
        f.proposal_actions, f.vote_actions, f.forum_actions
    ));
    md.push_str("## Guardrail stops\n\n");
    if f.guardrail_stops.is_empty() {
        md.push_str("None this week.\n\n");
    } else {
        for s in &f.guardrail_stops {
            let run = s.run_id.as_deref().unwrap_or("unnamed");
            md.push_str(&format!(
                "- {} `{}` stopped [{run}](run:{run})\n",
                s.at.format("%Y-%m-%d %H:%M UTC"),
                s.reason
            ));
        }
        md.push('\n');
    }
    md.push_str("## Evidence links\n\n");
    for r in &f.runs {
        md.push_str(&format!(
            "- [{id}](run:{id}) — {} events\n",
            r.events,
            id = r.run_id
        ));
    }
    md
}

/// A created draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeeklyDigestDraft {
    /// The draft's id (increasing).
    pub draft_id: i64,
    /// When created (UTC).
    pub created_at: DateTime<Utc>,
    /// Who asked for it (`X-Actor`).
    pub created_by: Option<String>,
    /// Whether another draft already existed for this anchor.
    pub duplicate_anchor: bool,
    /// The minimums it passed.
    pub required: EvidenceThresholds,
    /// What it was built from.
    pub facts: DigestFacts,
    /// The publish-ready markdown.
    pub markdown: String,
}

/// The gate refused: no draft was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsufficientEvidence {
    /// The anchor day.
    pub anchor_date: NaiveDate,
    /// First day of the window.
    pub window_start: NaiveDate,
    /// Last day of the window.
    pub window_end: NaiveDate,
    /// What was observed.
    pub observed: EvidenceCounts,
    /// What is required.
    pub required: EvidenceThresholds,
    /// The minimums missed.
    pub shortfalls: Vec<EvidenceShortfall>,
    /// Why, for people: observed vs required.
    pub message: String,
}

impl InsufficientEvidence {
    /// The refusal for `verdict`, with its message.
    pub fn new(
        anchor_date: NaiveDate,
        lookback_days: u32,
        observed: EvidenceCounts,
        required: EvidenceThresholds,
        verdict: EvidenceVerdict,
    ) -> Self {
        let (window_start, window_end) = digest_window(anchor_date, lookback_days);
        let missed: Vec<String> = verdict
            .shortfalls
            .iter()
            .map(|s| {
                format!(
                    "{} {} < {} required ({})",
                    s.metric, s.observed, s.required, s.variable
                )
            })
            .collect();
        InsufficientEvidence {
            anchor_date,
            window_start,
            window_end,
            observed,
            required,
            message: format!(
                "Draft skipped: minimum evidence not met from {window_start} to {window_end}: {}",
                missed.join("; ")
            ),
            shortfalls: verdict.shortfalls,
        }
    }
}

/// Answer to `POST` [`paths::DIGEST_WEEKLY`], tagged by `status`:
/// `drafted` or `insufficient_evidence`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WeeklyDigestResponse {
    /// A draft was created.
    Drafted(WeeklyDigestDraft),
    /// The evidence gate was not met; nothing was stored.
    InsufficientEvidence(InsufficientEvidence),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn geocoding_status_bands_at_the_default_thresholds() {
        let t = GeocodingThresholds::default();
        for (ratio, want) in [
            (1.0, GeocodingStatus::Ok),
            (0.95, GeocodingStatus::Ok),
            (0.949_999, GeocodingStatus::Warning),
            (0.80, GeocodingStatus::Warning),
            (0.799_999, GeocodingStatus::Critical),
            (0.0, GeocodingStatus::Critical),
            (f64::NAN, GeocodingStatus::Critical),
        ] {
            assert_eq!(geocoding_status(ratio, &t), want, "{ratio}");
        }
        let strict = GeocodingThresholds {
            ok_min_ratio: 0.99,
            warning_min_ratio: 0.9,
        };
        assert_eq!(geocoding_status(0.95, &strict), GeocodingStatus::Warning);
        assert_eq!(geocoding_status(0.89, &strict), GeocodingStatus::Critical);
        assert_eq!(
            serde_json::to_value(GeocodingStatus::Critical).unwrap(),
            "critical"
        );
    }

    #[test]
    fn geocoding_thresholds_are_checked() {
        GeocodingThresholds::default().validate().unwrap();
        let e = GeocodingThresholds {
            ok_min_ratio: 0.7,
            warning_min_ratio: 0.8,
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("GEOCODING_WARNING_MIN_RATIO"), "{e}");
        let e = GeocodingThresholds {
            ok_min_ratio: 1.5,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(e.contains("GEOCODING_OK_MIN_RATIO"), "{e}");
    }

    #[test]
    fn geocoding_report_from_counts_is_consistent() {
        let t = GeocodingThresholds::default();
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let r = GeocodingReport::from_counts("acme", date("2026-03-01"), 850, 1000, at, &t);
        assert_eq!(r.ratio, 0.85);
        assert_eq!(r.status, GeocodingStatus::Warning);
        let empty = GeocodingReport::from_counts("acme", date("2026-03-01"), 0, 0, at, &t);
        assert_eq!(
            (empty.ratio, empty.status),
            (0.0, GeocodingStatus::Critical)
        );
        let all = GeocodingReports::new(vec![r, empty]);
        assert_eq!(all.status_counts[&GeocodingStatus::Critical], 1);
        assert_eq!(all.status_counts[&GeocodingStatus::Ok], 0);
    }

    fn summary(
        id: &str,
        removed: u64,
        tags: &[&str],
        sev: &[WarningSeverity],
    ) -> TenantRetentionSummary {
        TenantRetentionSummary {
            tenant_id: id.into(),
            tenant_name: id.into(),
            retention_days: 30,
            removed_paths: (0..removed.min(REMOVED_PATHS_SAMPLE as u64))
                .map(|i| format!("storage/{id}/{i}.parquet"))
                .collect(),
            removed_count: removed,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            warnings: sev
                .iter()
                .map(|s| RetentionWarning {
                    severity: *s,
                    code: "x".into(),
                    message: "x".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn report_totals_come_from_the_summaries() {
        let r = RetentionReport::from_summaries(
            date("2026-03-01"),
            DateTime::<Utc>::UNIX_EPOCH,
            vec![
                summary(
                    "b",
                    7,
                    &["source:shopify", "geocoding:warning"],
                    &[WarningSeverity::Warning],
                ),
                summary(
                    "a",
                    3,
                    &["source:shopify"],
                    &[WarningSeverity::Critical, WarningSeverity::Warning],
                ),
                summary("c", 0, &[], &[]),
            ],
        );
        assert_eq!(r.total_removed, 10);
        assert_eq!(r.tenant_count, 3);
        assert_eq!(r.summaries[0].tenant_id, "a");
        assert_eq!(r.warning_counts[&WarningSeverity::Warning], 2);
        assert_eq!(r.warning_counts[&WarningSeverity::Critical], 1);
        assert_eq!(r.warning_counts[&WarningSeverity::Info], 0);
        assert_eq!(r.tag_counts["source:shopify"], 2);
        assert_eq!(r.tag_counts["geocoding:warning"], 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["warning_counts"]["critical"], 1);
        assert_eq!(json["day"], "2026-03-01");
        let back: RetentionReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);

        let lines = r.ndjson_lines();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].max_severity, Some(WarningSeverity::Critical));
        assert_eq!(lines[2].max_severity, None);
        assert_eq!(lines[1].removed_count, 7);
    }

    #[test]
    fn days_parse_strictly_and_say_what_they_want() {
        assert_eq!(parse_day("2026-02-28").unwrap(), date("2026-02-28"));
        for bad in [
            "2026-02-30",
            "2026-2-28",
            "20260228",
            "latest",
            "2026-02-28x",
            "",
        ] {
            let e = parse_day(bad).unwrap_err();
            assert_eq!(e.field, "day");
            assert_eq!(e.kind, ErrorKind::Invalid);
            assert!(e.message.contains("YYYY-MM-DD"), "{e}");
        }
        assert_eq!(
            paths::day(date("2026-03-05")),
            "/api/admin/retention/2026-03-05"
        );
    }

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

    #[test]
    fn evidence_gate_boundaries() {
        let req = EvidenceThresholds::default();
        assert_eq!((req.min_events, req.min_llm_calls), (25, 5));
        let gate = |events, llm_calls| evidence_gate(&EvidenceCounts { events, llm_calls }, &req);
        // exactly the minimums is enough
        assert!(gate(25, 5).met);
        assert!(gate(25, 5).shortfalls.is_empty());
        assert!(gate(1000, 1000).met);
        // one short on either side, or both
        let v = gate(24, 5);
        assert!(!v.met);
        assert_eq!(v.shortfalls.len(), 1);
        assert_eq!(v.shortfalls[0].metric, "events");
        assert_eq!(
            (v.shortfalls[0].observed, v.shortfalls[0].required),
            (24, 25)
        );
        assert_eq!(v.shortfalls[0].variable, "ARCHIVE_WEEKLY_DRAFT_MIN_EVENTS");
        let v = gate(25, 4);
        assert_eq!(v.shortfalls.len(), 1);
        assert_eq!(v.shortfalls[0].metric, "llm_calls");
        assert_eq!(
            v.shortfalls[0].variable,
            "ARCHIVE_WEEKLY_DRAFT_MIN_LLM_CALLS"
        );
        let v = gate(0, 0);
        assert_eq!(v.shortfalls.len(), 2);
        assert!(!gate(24, 4).met);
        assert!(!gate(u64::MAX, 0).met);
        // zero minimums let anything through
        let none = EvidenceThresholds {
            min_events: 0,
            min_llm_calls: 0,
        };
        assert!(evidence_gate(&EvidenceCounts::default(), &none).met);
    }

    #[test]
    fn insufficient_evidence_says_observed_vs_required() {
        let req = EvidenceThresholds::default();
        let observed = EvidenceCounts {
            events: 3,
            llm_calls: 9,
        };
        let r = InsufficientEvidence::new(
            date("2026-03-08"),
            7,
            observed,
            req,
            evidence_gate(&observed, &req),
        );
        assert_eq!(r.window_start, date("2026-03-02"));
        assert!(
            r.message.contains("events 3 < 25 required"),
            "{}",
            r.message
        );
        let json = serde_json::to_value(WeeklyDigestResponse::InsufficientEvidence(r)).unwrap();
        assert_eq!(json["status"], "insufficient_evidence");
        assert_eq!(json["observed"]["events"], 3);
        assert_eq!(json["required"]["min_events"], 25);
    }

    #[test]
    fn digest_window_and_request_rules() {
        assert_eq!(
            digest_window(date("2026-03-08"), 7),
            (date("2026-03-02"), date("2026-03-08"))
        );
        assert_eq!(
            digest_window(date("2026-03-08"), 1),
            (date("2026-03-08"), date("2026-03-08"))
        );
        let today = date("2026-03-08");
        let r: WeeklyDigestRequest = serde_json::from_str(
            r#"{"lookback_days":7,"anchor_date":"2026-03-01","allow_duplicate_anchor":true}"#,
        )
        .unwrap();
        r.validate(today).unwrap();
        assert_eq!(r.anchor(today), date("2026-03-01"));
        assert_eq!(WeeklyDigestRequest::default().anchor(today), today);
        assert_eq!(WeeklyDigestRequest::default().lookback_days(), 7);
        for (body, field) in [
            (r#"{"lookback_days":0}"#, "lookback_days"),
            (r#"{"lookback_days":91}"#, "lookback_days"),
            (r#"{"anchor_date":"2026-03-09"}"#, "anchor_date"),
        ] {
            let r: WeeklyDigestRequest = serde_json::from_str(body).unwrap();
            assert_eq!(r.validate(today).unwrap_err().field, field, "{body}");
        }
        assert!(serde_json::from_str::<WeeklyDigestRequest>(r#"{"anchor":"2026-03-01"}"#).is_err());
    }

    #[test]
    fn the_template_links_runs_and_lists_stops() {
        let facts = DigestFacts {
            anchor_date: date("2026-03-08"),
            window_start: date("2026-03-02"),
            window_end: date("2026-03-08"),
            lookback_days: 7,
            observed: EvidenceCounts {
                events: 40,
                llm_calls: 30,
            },
            proposal_actions: 5,
            vote_actions: 20,
            forum_actions: 15,
            llm_spend_usd: 0.0123,
            runs: vec![DigestRun {
                run_id: "smoke-1".into(),
                events: 40,
            }],
            guardrail_stops: vec![DigestStop {
                at: "2026-03-05T10:00:00Z".parse().unwrap(),
                run_id: Some("smoke-1".into()),
                reason: "budget_exceeded".into(),
            }],
        };
        let md = render_weekly_digest(&facts);
        assert!(
            md.starts_with("# Weekly digest — week ending 2026-03-08"),
            "{md}"
        );
        assert!(md.contains("- Events (agent actions): 40"), "{md}");
        assert!(md.contains("[smoke-1](run:smoke-1) — 40 events"), "{md}");
        assert!(
            md.contains("`budget_exceeded` stopped [smoke-1](run:smoke-1)"),
            "{md}"
        );
        assert!(md.contains("| 5 | 20 | 15 |"), "{md}");
        let quiet = DigestFacts {
            guardrail_stops: Vec::new(),
            ..facts
        };
        assert!(render_weekly_digest(&quiet).contains("None this week."));
    }
}
