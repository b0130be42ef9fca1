//! Helpers the unit tests of several modules share.

use chrono::{DateTime, NaiveDate, Utc};

use crate::admin::StopConditions;

/// An RFC 3339 time written in a test, as UTC.
pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A `YYYY-MM-DD` day written in a test.
pub(crate) fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// The stop-condition thresholds the platform ships with.
pub(crate) fn stop_conditions() -> StopConditions {
    StopConditions {
        provider_failure_threshold: 25,
        provider_failure_window_seconds: 300,
        db_pool_utilization_threshold: 0.9,
        db_pool_sustained_seconds: 60,
    }
}
