//! The query strings of the metrics and series endpoints: their defaults,
//! their limits (clamped, never refused) and the lane id rule.

use serde::{Deserialize, Serialize};

use crate::validate::{self, ValidationError};

/// The lane the runbook watches, used when a query names none.
pub const DEFAULT_VP_ID: &str = "vp.coder.primary";
/// Longest `vp_id` accepted.
pub const VP_ID_MAX: usize = 64;
/// Most missions one metrics call considers (the capture helper's cap).
pub const MISSION_MAX_LIMIT: u32 = 500;
/// Missions considered when the query does not say (the capture helper's default).
pub const MISSION_DEFAULT_LIMIT: u32 = 100;
/// Most events (mission and session each) one metrics call returns (the capture helper's cap).
pub const EVENT_MAX_LIMIT: u32 = 1000;
/// Events returned when the query does not say (the capture helper's default).
pub const EVENT_DEFAULT_LIMIT: u32 = 500;
/// Most buckets one series call returns: 30 days of hours, wider than any chart.
pub const SERIES_MAX_BUCKETS: u32 = 720;
/// Buckets returned when the query does not say: two days of hours.
pub const SERIES_DEFAULT_BUCKETS: u32 = 48;
/// Widest bucket: one day.
pub const SERIES_MAX_BUCKET_MINUTES: u32 = 1440;
/// Bucket width when the query does not say.
pub const SERIES_DEFAULT_BUCKET_MINUTES: u32 = 60;

/// Query of both metrics endpoints: `?vp_id=&mission_limit=&event_limit=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpMetricsQuery {
    /// Lane to report (default [`DEFAULT_VP_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_id: Option<String>,
    /// Newest missions to consider (1–[`MISSION_MAX_LIMIT`], default [`MISSION_DEFAULT_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mission_limit: Option<u32>,
    /// Newest events to return (1–[`EVENT_MAX_LIMIT`], default [`EVENT_DEFAULT_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_limit: Option<u32>,
}

impl VpMetricsQuery {
    /// The lane, or [`DEFAULT_VP_ID`] when absent or empty.
    pub fn vp_id(&self) -> &str {
        non_empty_or(&self.vp_id, DEFAULT_VP_ID)
    }

    /// `mission_limit` with its default, clamped to 1–[`MISSION_MAX_LIMIT`].
    pub fn mission_limit(&self) -> u32 {
        limit(self.mission_limit, MISSION_DEFAULT_LIMIT, MISSION_MAX_LIMIT)
    }

    /// `event_limit` with its default, clamped to 1–[`EVENT_MAX_LIMIT`].
    pub fn event_limit(&self) -> u32 {
        limit(self.event_limit, EVENT_DEFAULT_LIMIT, EVENT_MAX_LIMIT)
    }

    /// The query with every field filled in and in range, as the app sends it.
    pub fn clamped(&self) -> Self {
        VpMetricsQuery {
            vp_id: Some(self.vp_id().to_owned()),
            mission_limit: Some(self.mission_limit()),
            event_limit: Some(self.event_limit()),
        }
    }

    /// Check the lane id (limits are clamped, never refused).
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.vp_id.as_deref().map_or(Ok(()), validate_vp_id)
    }
}

/// The mission and event limits of one metrics query. The playbook queries
/// with three pairs ([`VpLimits::PRESETS`]); the page offers those and keeps
/// the pair in its URL as the endpoint's own `mission_limit` and
/// `event_limit`, clamped exactly as the endpoint clamps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VpLimits {
    /// Newest missions to consider.
    pub mission_limit: u32,
    /// Newest events to return.
    pub event_limit: u32,
}

impl VpLimits {
    /// The direct ops query (playbook 2.1): 100 missions, 400 events. The page's default.
    pub const OPS: VpLimits = VpLimits::new(100, 400);
    /// The dashboard-facing query (playbook 2.2): 50 missions, 200 events.
    pub const DASHBOARD: VpLimits = VpLimits::new(50, 200);
    /// The low-cost sustained snapshot (playbook 7.2): 60 missions, 180 events.
    pub const SUSTAINED: VpLimits = VpLimits::new(60, 180);
    /// The playbook's pairs, each with the name the page shows.
    pub const PRESETS: [(&'static str, VpLimits); 3] = [
        ("ops query", VpLimits::OPS),
        ("dashboard query", VpLimits::DASHBOARD),
        ("sustained snapshot", VpLimits::SUSTAINED),
    ];

    const fn new(mission_limit: u32, event_limit: u32) -> Self {
        VpLimits {
            mission_limit,
            event_limit,
        }
    }

    /// The pair from a URL's `mission_limit` and `event_limit`: a value that
    /// is absent or not a whole number takes [`VpLimits::OPS`]'s, and each is
    /// clamped to the endpoint's range, so the page asks for what it shows.
    pub fn parse(mission_limit: Option<&str>, event_limit: Option<&str>) -> Self {
        let read = |value: Option<&str>, default: u32, max: u32| {
            let value = value.and_then(|v| v.trim().parse::<u64>().ok());
            limit(value.map(|v| v.min(u64::from(max)) as u32), default, max)
        };
        VpLimits::new(
            read(mission_limit, Self::OPS.mission_limit, MISSION_MAX_LIMIT),
            read(event_limit, Self::OPS.event_limit, EVENT_MAX_LIMIT),
        )
    }

    /// The name of the playbook's pair this is, if it is one.
    pub fn preset(&self) -> Option<&'static str> {
        Self::PRESETS
            .iter()
            .find(|(_, p)| p == self)
            .map(|(name, _)| *name)
    }

    /// `100 / 400`: missions, then events.
    pub fn label(&self) -> String {
        format!("{} / {}", self.mission_limit, self.event_limit)
    }

    /// The query string pairs, in the endpoint's names.
    pub fn query(&self) -> [(&'static str, String); 2] {
        [
            ("mission_limit", self.mission_limit.to_string()),
            ("event_limit", self.event_limit.to_string()),
        ]
    }
}

impl Default for VpLimits {
    fn default() -> Self {
        Self::OPS
    }
}

/// Query of [`super::paths::DASHBOARD_SERIES`]: `?vp_id=&bucket_minutes=&buckets=`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpSeriesQuery {
    /// Lane to chart (default [`DEFAULT_VP_ID`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vp_id: Option<String>,
    /// Bucket width (1–[`SERIES_MAX_BUCKET_MINUTES`], default [`SERIES_DEFAULT_BUCKET_MINUTES`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket_minutes: Option<u32>,
    /// Buckets back from now (1–[`SERIES_MAX_BUCKETS`], default [`SERIES_DEFAULT_BUCKETS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<u32>,
}

impl VpSeriesQuery {
    /// The lane, or [`DEFAULT_VP_ID`] when absent or empty.
    pub fn vp_id(&self) -> &str {
        non_empty_or(&self.vp_id, DEFAULT_VP_ID)
    }

    /// `bucket_minutes` with its default, clamped to 1–[`SERIES_MAX_BUCKET_MINUTES`].
    pub fn bucket_minutes(&self) -> u32 {
        limit(
            self.bucket_minutes,
            SERIES_DEFAULT_BUCKET_MINUTES,
            SERIES_MAX_BUCKET_MINUTES,
        )
    }

    /// `buckets` with its default, clamped to 1–[`SERIES_MAX_BUCKETS`].
    pub fn buckets(&self) -> u32 {
        limit(self.buckets, SERIES_DEFAULT_BUCKETS, SERIES_MAX_BUCKETS)
    }

    /// The query with every field filled in and in range, as the app sends it.
    pub fn clamped(&self) -> Self {
        VpSeriesQuery {
            vp_id: Some(self.vp_id().to_owned()),
            bucket_minutes: Some(self.bucket_minutes()),
            buckets: Some(self.buckets()),
        }
    }

    /// Check the lane id (sizes are clamped, never refused).
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.vp_id.as_deref().map_or(Ok(()), validate_vp_id)
    }
}

fn non_empty_or<'a>(value: &'a Option<String>, default: &'a str) -> &'a str {
    value
        .as_deref()
        .filter(|s| !s.is_empty())
        .unwrap_or(default)
}

fn limit(value: Option<u32>, default: u32, max: u32) -> u32 {
    value.unwrap_or(default).clamp(1, max)
}

/// A lane id: 1–64 characters of letters, digits, `.`, `_`, `:` and `-`
/// (`vp.coder.primary`), so it is safe in a query string and a log line.
pub fn validate_vp_id(value: &str) -> Result<(), ValidationError> {
    validate::identifier("vp_id", value, VP_ID_MAX, &format!("for {DEFAULT_VP_ID}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::ErrorKind;
    use serde_json::json;

    #[test]
    fn metrics_query_defaults_and_clamps() {
        let q = VpMetricsQuery::default();
        assert_eq!(
            (q.vp_id(), q.mission_limit(), q.event_limit()),
            ("vp.coder.primary", 100, 500)
        );
        let q = VpMetricsQuery {
            vp_id: Some(String::new()),
            mission_limit: Some(0),
            event_limit: Some(u32::MAX),
        };
        assert_eq!(
            (q.vp_id(), q.mission_limit(), q.event_limit()),
            ("vp.coder.primary", 1, EVENT_MAX_LIMIT)
        );
        let q = VpMetricsQuery {
            mission_limit: Some(501),
            event_limit: Some(1000),
            ..Default::default()
        };
        assert_eq!((q.mission_limit(), q.event_limit()), (500, 1000));
        assert_eq!(
            q.clamped(),
            VpMetricsQuery {
                vp_id: Some("vp.coder.primary".into()),
                mission_limit: Some(500),
                event_limit: Some(1000),
            }
        );
    }

    #[test]
    fn metrics_query_reads_the_runbooks_query_strings() {
        let q: VpMetricsQuery = serde_json::from_value(json!({
            "vp_id": "vp.coder.primary", "mission_limit": 60, "event_limit": 180
        }))
        .unwrap();
        assert_eq!((q.mission_limit(), q.event_limit()), (60, 180));
        assert!(serde_json::from_value::<VpMetricsQuery>(json!({"limit": 5})).is_err());
        assert_eq!(
            serde_json::to_value(VpMetricsQuery::default()).unwrap(),
            json!({})
        );
    }

    #[test]
    fn limits_are_the_playbooks_pairs_or_clamped_to_the_endpoints_range() {
        assert_eq!(VpLimits::parse(None, None), VpLimits::OPS);
        assert_eq!(VpLimits::OPS.label(), "100 / 400");
        assert_eq!(
            VpLimits::parse(Some("60"), Some("180")).preset(),
            Some("sustained snapshot")
        );
        assert_eq!(
            VpLimits::parse(Some("50"), Some("200")).preset(),
            Some("dashboard query")
        );
        let custom = VpLimits::parse(Some("500"), Some("1000"));
        assert_eq!(
            (custom.mission_limit, custom.event_limit, custom.preset()),
            (500, 1000, None)
        );
        // Past the range, zero, signs and junk: clamped or the default, never refused.
        assert_eq!(
            VpLimits::parse(Some("501"), Some("99999999999")),
            VpLimits {
                mission_limit: MISSION_MAX_LIMIT,
                event_limit: EVENT_MAX_LIMIT
            }
        );
        assert_eq!(
            VpLimits::parse(Some("0"), Some("-5")),
            VpLimits {
                mission_limit: 1,
                event_limit: 400
            }
        );
        assert_eq!(
            VpLimits::parse(Some("1e3"), Some(" 180 ")).label(),
            "100 / 180"
        );
        assert_eq!(
            VpLimits::SUSTAINED.query(),
            [
                ("mission_limit", "60".to_string()),
                ("event_limit", "180".to_string())
            ]
        );
    }

    #[test]
    fn series_query_defaults_and_clamps() {
        let q = VpSeriesQuery::default();
        assert_eq!((q.bucket_minutes(), q.buckets()), (60, 48));
        let q = VpSeriesQuery {
            vp_id: Some("vp.general.primary".into()),
            bucket_minutes: Some(0),
            buckets: Some(100_000),
        };
        assert_eq!(
            q.clamped(),
            VpSeriesQuery {
                vp_id: Some("vp.general.primary".into()),
                bucket_minutes: Some(1),
                buckets: Some(SERIES_MAX_BUCKETS),
            }
        );
        q.validate().unwrap();
        let q = VpSeriesQuery {
            bucket_minutes: Some(10_000),
            ..Default::default()
        };
        assert_eq!(q.bucket_minutes(), SERIES_MAX_BUCKET_MINUTES);
    }

    #[test]
    fn vp_ids_are_checked() {
        validate_vp_id("vp.coder.primary").unwrap();
        validate_vp_id(&"v".repeat(VP_ID_MAX)).unwrap();
        let e = validate_vp_id(&"v".repeat(VP_ID_MAX + 1)).unwrap_err();
        assert_eq!(e.message, "vp_id is 65 characters; the limit is 64");
        assert_eq!(e.field, "vp_id");
        let e = validate_vp_id("vp coder").unwrap_err();
        assert!(e.message.contains("' ' at position 3"), "{e}");
        assert!(validate_vp_id("").is_err());
        assert!(validate_vp_id("a&b=c").is_err());
        let q = VpMetricsQuery {
            vp_id: Some("x|y".into()),
            ..Default::default()
        };
        assert_eq!(q.validate().unwrap_err().kind, ErrorKind::Invalid);
        VpMetricsQuery::default().validate().unwrap();
    }
}
