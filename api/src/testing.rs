//! Helpers the unit tests of several modules share.

use chrono::{DateTime, NaiveDate, Utc};

/// An RFC 3339 time written in a test, as UTC.
pub(crate) fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A `YYYY-MM-DD` day written in a test.
pub(crate) fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
