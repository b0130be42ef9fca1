//! Retention sweeps (`/api/admin/retention/*`): per-tenant removal summaries,
//! the report they add up to, the stored days and the NDJSON export.
//!
//! Field names are the runbooks': a retention report has `summaries` per
//! tenant, `total_removed`, `tenant_count`, `warning_counts` (a severity
//! histogram) and `tag_counts`. The platform keeps reports as JSON files
//! under its state root (`retention/latest.json`, `retention/<YYYY-MM-DD>.json`)
//! and serves them as they are on disk. Geocoding coverage, served under the
//! same prefix, is [`crate::geocoding`].

use crate::other::OrOther;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{ErrorKind, ValidationError};

/// Paths of the retention sweeps.
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
    /// GET NDJSON (`application/x-ndjson`), one [`super::RetentionNdjsonLine`]
    /// per tenant of the newest sweep.
    pub const RETENTION_NDJSON: &str = "/api/admin/retention/retention.ndjson";
    /// POST [`crate::admin::ControlRequest`] → [`super::SweepRunResponse`]: run
    /// today's sweep now. A write: refused with 403 in PRODUCTION or when admin
    /// writes are disabled.
    pub const SWEEP_RUN: &str = "/api/admin/retention/sweep/run";

    /// The concrete path of [`DAY`] for `day`.
    pub fn day(day: NaiveDate) -> String {
        format!("/api/admin/retention/{}", day.format("%Y-%m-%d"))
    }
}

/// Content type of the NDJSON exports (this one and [`crate::geocoding`]'s).
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";

/// Event types the sweep writes add to the runtime event log.
pub mod event_type {
    /// A retention sweep ran on demand (`POST` [`super::paths::SWEEP_RUN`]).
    pub const RETENTION_SWEEP_RUN: &str = "retention_sweep_run";
}

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
    /// How serious (a severity this build does not know is kept as sent).
    pub severity: OrOther<WarningSeverity>,
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
    /// An unknown severity counts as more serious than any known one.
    pub fn max_severity(&self) -> Option<OrOther<WarningSeverity>> {
        self.warnings.iter().map(|w| w.severity.clone()).max()
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
    /// Warnings by severity across tenants; every known severity is present,
    /// 0 when none.
    pub warning_counts: BTreeMap<OrOther<WarningSeverity>, u64>,
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
        let mut warning_counts: BTreeMap<OrOther<WarningSeverity>, u64> = WarningSeverity::ALL
            .iter()
            .map(|s| ((*s).into(), 0))
            .collect();
        let mut tag_counts: BTreeMap<String, u64> = BTreeMap::new();
        for s in &summaries {
            for w in &s.warnings {
                *warning_counts.entry(w.severity.clone()).or_default() += 1;
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
    pub max_severity: Option<OrOther<WarningSeverity>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

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
                    severity: (*s).into(),
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
        assert_eq!(r.warning_counts[&WarningSeverity::Warning.into()], 2);
        assert_eq!(r.warning_counts[&WarningSeverity::Critical.into()], 1);
        assert_eq!(r.warning_counts[&WarningSeverity::Info.into()], 0);
        assert_eq!(r.tag_counts["source:shopify"], 2);
        assert_eq!(r.tag_counts["geocoding:warning"], 1);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["warning_counts"]["critical"], 1);
        assert_eq!(json["day"], "2026-03-01");
        let back: RetentionReport = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);

        let lines = r.ndjson_lines();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0].max_severity,
            Some(WarningSeverity::Critical.into())
        );
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
}
