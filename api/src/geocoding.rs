//! Geocoding coverage per tenant (`/api/admin/retention/geocoding*`): a
//! report has `tenant_id`, `ratio` and `status` (`ok`, `warning`, `critical`),
//! kept as `geocoding/<tenant>.json` under the platform's state root and
//! served as it is on disk. The status of a ratio is a pure rule here.

use crate::other::OrOther;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Paths of geocoding coverage, under the retention prefix.
pub mod paths {
    /// GET [`super::GeocodingReports`]: the newest geocoding report of every tenant.
    pub const GEOCODING: &str = "/api/admin/retention/geocoding";
    /// GET NDJSON (`application/x-ndjson`), one [`super::GeocodingNdjsonLine`]
    /// per tenant.
    pub const GEOCODING_NDJSON: &str = "/api/admin/retention/geocoding.ndjson";
}

/// Configuration variables of the status thresholds, as the platform reads them.
pub mod env {
    /// [`super::GeocodingThresholds::ok_min_ratio`].
    pub const GEOCODING_OK_MIN_RATIO: &str = "GEOCODING_OK_MIN_RATIO";
    /// [`super::GeocodingThresholds::warning_min_ratio`].
    pub const GEOCODING_WARNING_MIN_RATIO: &str = "GEOCODING_WARNING_MIN_RATIO";
}

/// Default of each threshold, beside its variable in [`mod@env`]: what
/// [`GeocodingThresholds::default`] holds and the platform's flags fall back to.
pub mod defaults {
    /// [`super::env::GEOCODING_OK_MIN_RATIO`]: 95 rows in 100 geocoded.
    pub const OK_MIN_RATIO: f64 = 0.95;
    /// [`super::env::GEOCODING_WARNING_MIN_RATIO`]: below it weather joins degrade.
    pub const WARNING_MIN_RATIO: f64 = 0.80;
}

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
    /// `GEOCODING_OK_MIN_RATIO`: lowest ratio that is `ok`.
    pub ok_min_ratio: f64,
    /// `GEOCODING_WARNING_MIN_RATIO`: lowest ratio that is
    /// `warning`; anything below is `critical`.
    pub warning_min_ratio: f64,
}

impl Default for GeocodingThresholds {
    fn default() -> Self {
        GeocodingThresholds {
            ok_min_ratio: defaults::OK_MIN_RATIO,
            warning_min_ratio: defaults::WARNING_MIN_RATIO,
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
    /// The verdict of [`geocoding_status`] on `ratio` (one this build does not
    /// know is kept as sent).
    pub status: OrOther<GeocodingStatus>,
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
            status: geocoding_status(ratio, t).into(),
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
    /// Tenants per status; every known status is present, 0 when none.
    pub status_counts: BTreeMap<OrOther<GeocodingStatus>, u64>,
}

impl GeocodingReports {
    /// The collection of `reports`, sorted by tenant, with its status counts.
    pub fn new(mut reports: Vec<GeocodingReport>) -> Self {
        reports.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        let mut status_counts: BTreeMap<OrOther<GeocodingStatus>, u64> = [
            GeocodingStatus::Ok,
            GeocodingStatus::Warning,
            GeocodingStatus::Critical,
        ]
        .into_iter()
        .map(|s| (s.into(), 0))
        .collect();
        for r in &reports {
            *status_counts.entry(r.status.clone()).or_default() += 1;
        }
        GeocodingReports {
            reports,
            status_counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::date;

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
        assert!(r.status.is(&GeocodingStatus::Warning));
        let empty = GeocodingReport::from_counts("acme", date("2026-03-01"), 0, 0, at, &t);
        assert_eq!(
            (empty.ratio, empty.status.clone()),
            (0.0, GeocodingStatus::Critical.into())
        );
        let all = GeocodingReports::new(vec![r, empty]);
        assert_eq!(all.status_counts[&GeocodingStatus::Critical.into()], 1);
        assert_eq!(all.status_counts[&GeocodingStatus::Ok.into()], 0);
    }
}
