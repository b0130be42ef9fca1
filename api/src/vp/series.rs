//! The lane picker and the per-lane time series the charts draw.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{VpFallback, VpLatency};
use crate::Rate;

/// One lane in the picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpLane {
    /// Lane id (`vp.coder.primary`).
    pub vp_id: String,
    /// What people call it (`CODIE`).
    pub display_name: String,
    /// Missions the lane has run.
    pub mission_count: u64,
    /// Its newest mission or session event; `None` if it never ran.
    pub last_activity_at: Option<DateTime<Utc>>,
    /// Its missions are forced to the fallback path (see [`super::VpRouting`]).
    /// Absent from platforms without the switch: `false`.
    #[serde(default)]
    pub force_fallback: bool,
    /// Since when, while forced.
    #[serde(default)]
    pub force_fallback_since: Option<DateTime<Utc>>,
}

/// `GET /api/v1/dashboard/metrics/vp/lanes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpLanes {
    /// When listed (UTC).
    pub generated_at: DateTime<Utc>,
    /// Most recently active first.
    pub lanes: Vec<VpLane>,
}

/// One time bucket of a lane: the runbook's `fallback` and `latency_seconds`
/// blocks over the missions that started in it, so every rate comes with its
/// sample size and every percentile with its count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpSeriesBucket {
    /// Start of the bucket (UTC); it lasts `bucket_minutes`.
    pub start: DateTime<Utc>,
    /// Missions started in the bucket and those that fell back.
    pub fallback: VpFallback,
    /// Durations of those missions (p50 and p95 drawn, count as sample).
    pub latency_seconds: VpLatency,
}

impl VpSeriesBucket {
    /// Missions started in the bucket.
    pub fn missions(&self) -> u64 {
        self.fallback.missions_considered
    }

    /// Fallback rate with its sample size (`n/a` on small samples).
    pub fn fallback_rate(&self) -> Rate {
        self.fallback.as_rate()
    }
}

/// `GET /api/v1/dashboard/metrics/vp/series`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VpSeries {
    /// When computed (UTC).
    pub generated_at: DateTime<Utc>,
    /// The lane.
    pub vp_id: String,
    /// Width of every bucket.
    pub bucket_minutes: u32,
    /// Oldest first, contiguous: empty buckets are present with zero counts,
    /// so the x axis is time and gaps show as gaps.
    pub buckets: Vec<VpSeriesBucket>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::at;

    #[test]
    fn lanes_and_series_round_trip() {
        let lanes = VpLanes {
            generated_at: at("2026-02-16T14:07:42Z"),
            lanes: vec![
                VpLane {
                    vp_id: "vp.coder.primary".into(),
                    display_name: "CODIE".into(),
                    mission_count: 42,
                    last_activity_at: Some(at("2026-02-16T14:06:00Z")),
                    force_fallback: true,
                    force_fallback_since: Some(at("2026-02-16T14:00:00Z")),
                },
                VpLane {
                    vp_id: "vp.general.primary".into(),
                    display_name: "Generalist".into(),
                    mission_count: 0,
                    last_activity_at: None,
                    force_fallback: false,
                    force_fallback_since: None,
                },
            ],
        };
        let json = serde_json::to_value(&lanes).unwrap();
        assert_eq!(json["lanes"][0]["display_name"], "CODIE");
        assert!(json["lanes"][1]["last_activity_at"].is_null());
        assert_eq!(serde_json::from_value::<VpLanes>(json).unwrap(), lanes);

        let bucket = |h: u32, missions, fallbacks, samples: &[f64]| VpSeriesBucket {
            start: at(&format!("2026-02-16T{h:02}:00:00Z")),
            fallback: VpFallback::from_counts(fallbacks, missions),
            latency_seconds: VpLatency::from_samples(samples),
        };
        let series = VpSeries {
            generated_at: at("2026-02-16T14:07:42Z"),
            vp_id: "vp.coder.primary".into(),
            bucket_minutes: 60,
            buckets: vec![bucket(12, 0, 0, &[]), bucket(13, 12, 3, &[1.0, 2.0, 30.0])],
        };
        let json = serde_json::to_value(&series).unwrap();
        assert_eq!(
            json["buckets"][0]["fallback"]["rate"],
            serde_json::Value::Null
        );
        assert_eq!(json["buckets"][1]["fallback"]["rate"], 0.25);
        assert_eq!(json["buckets"][1]["latency_seconds"]["p95_seconds"], 30.0);
        assert_eq!(serde_json::from_value::<VpSeries>(json).unwrap(), series);
        assert_eq!(series.buckets[1].missions(), 12);
        assert_eq!(
            series.buckets[1].fallback_rate().describe(),
            "25.0% (3 of 12)"
        );
        assert_eq!(series.buckets[0].fallback_rate().percent(), "n/a");
    }
}
