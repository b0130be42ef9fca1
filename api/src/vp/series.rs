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

/// Buckets in each of the two windows a chart reading compares: the newest
/// six, against the six before them (six hours each at the default width).
pub const TREND_BUCKETS: usize = 6;
/// Finished missions each window needs before a trend is read.
pub const TREND_MIN_MISSIONS: u64 = 20;
/// p95 rises (or falls) when it moves by at least this factor…
pub const TREND_P95_RATIO: f64 = 1.2;
/// …and by at least this many seconds.
pub const TREND_P95_MIN_SECONDS: f64 = 1.0;
/// The fallback rate rises (or falls) when it moves by at least this much (2 points)…
pub const TREND_FALLBACK_POINTS: f64 = 0.02;
/// …and by at least this factor.
pub const TREND_FALLBACK_RATIO: f64 = 1.5;

/// Which way a series moved from the earlier window to the recent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    /// Up past both the factor and the absolute step.
    Rising,
    /// Neither up nor down past them.
    Steady,
    /// Down past both.
    Falling,
}

impl Trend {
    /// `recent` against `earlier`: a change counts only when it passes both
    /// the factor and the absolute step, so small numbers do not swing it.
    fn of(earlier: f64, recent: f64, ratio: f64, step: f64) -> Trend {
        if recent - earlier >= step && recent >= earlier * ratio {
            Trend::Rising
        } else if earlier - recent >= step && earlier >= recent * ratio {
            Trend::Falling
        } else {
            Trend::Steady
        }
    }

    /// `rising`, `steady`, `falling`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Rising => "rising",
            Trend::Steady => "steady",
            Trend::Falling => "falling",
        }
    }
}

/// One window of a reading: its missions, p95 and fallback rate.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendWindow {
    /// Missions started in the window.
    pub missions: u64,
    /// Missions with a duration: the p95's sample.
    pub finished: u64,
    /// The buckets' p95s, each weighted by its finished missions.
    pub p95_seconds: Option<f64>,
    /// Fallbacks over missions in the window.
    pub fallback_rate: Option<f64>,
}

impl TrendWindow {
    fn of(buckets: &[VpSeriesBucket]) -> Self {
        let missions = buckets.iter().map(VpSeriesBucket::missions).sum::<u64>();
        let fallbacks = buckets
            .iter()
            .map(|b| b.fallback.missions_with_fallback)
            .sum::<u64>();
        let (finished, weighted) = buckets
            .iter()
            .filter_map(|b| Some((b.latency_seconds.count, b.latency_seconds.p95_seconds?)))
            .fold((0u64, 0.0), |(n, sum), (count, p95)| {
                (n + count, sum + count as f64 * p95)
            });
        TrendWindow {
            missions,
            finished,
            p95_seconds: (finished > 0).then(|| weighted / finished as f64),
            fallback_rate: (missions > 0).then(|| fallbacks as f64 / missions as f64),
        }
    }

    fn enough(&self) -> bool {
        self.finished >= TREND_MIN_MISSIONS
    }
}

/// The playbook's reading of the two charts (section 3.2): rising p95 with a
/// stable fallback rate usually means load or queue pressure; both rising
/// usually means runtime degradation or adapter instability.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartReading {
    /// The [`TREND_BUCKETS`] before the recent ones.
    pub earlier: TrendWindow,
    /// The newest [`TREND_BUCKETS`].
    pub recent: TrendWindow,
    /// How p95 moved; `None` when a window has too few finished missions.
    pub p95: Option<Trend>,
    /// How the fallback rate moved; `None` likewise.
    pub fallback: Option<Trend>,
}

impl ChartReading {
    /// What the playbook's rule says, in a sentence.
    pub fn verdict(&self) -> &'static str {
        match (self.p95, self.fallback) {
            (Some(Trend::Rising), Some(Trend::Rising)) => {
                "p95 and the fallback rate are both rising: usually runtime degradation or adapter instability."
            }
            (Some(Trend::Rising), Some(_)) => {
                "p95 is rising with a stable fallback rate: usually load or queue pressure."
            }
            (Some(_), Some(Trend::Rising)) => {
                "The fallback rate is rising while p95 is not: inspect the recent fallback payload errors."
            }
            (Some(_), Some(_)) => "Neither p95 nor the fallback rate is rising.",
            _ => "Too few finished missions to read a trend.",
        }
    }

    /// The numbers behind the verdict: `last 6 h against the 6 h before:
    /// p95 12.0 s → 18.4 s (rising), fallback 2.0% → 2.3% (steady)`.
    pub fn detail(&self, bucket_minutes: u32) -> String {
        let span = duration(TREND_BUCKETS as u32 * bucket_minutes);
        let seconds = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.1} s"));
        let percent = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{:.1}%", v * 100.0));
        let trend = |t: Option<Trend>| t.map_or("too few missions", Trend::as_str);
        format!(
            "Last {span} against the {span} before ({} and {} finished missions): p95 {} → {} ({}), fallback {} → {} ({}).",
            self.recent.finished,
            self.earlier.finished,
            seconds(self.earlier.p95_seconds),
            seconds(self.recent.p95_seconds),
            trend(self.p95),
            percent(self.earlier.fallback_rate),
            percent(self.recent.fallback_rate),
            trend(self.fallback),
        )
    }
}

fn duration(minutes: u32) -> String {
    if minutes.is_multiple_of(60) {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

impl VpSeries {
    /// The playbook's reading of the newest [`TREND_BUCKETS`] against the
    /// ones before them. A series shorter than two windows compares what it
    /// has: the newest half against the older half.
    pub fn reading(&self) -> ChartReading {
        let n = self.buckets.len();
        let width = TREND_BUCKETS.min(n / 2);
        let recent = TrendWindow::of(&self.buckets[n - width..]);
        let earlier = TrendWindow::of(&self.buckets[n - 2 * width..n - width]);
        let both = earlier.enough() && recent.enough();
        let p95 = match (earlier.p95_seconds, recent.p95_seconds) {
            (Some(e), Some(r)) if both => {
                Some(Trend::of(e, r, TREND_P95_RATIO, TREND_P95_MIN_SECONDS))
            }
            _ => None,
        };
        let fallback = match (earlier.fallback_rate, recent.fallback_rate) {
            (Some(e), Some(r)) if both => {
                Some(Trend::of(e, r, TREND_FALLBACK_RATIO, TREND_FALLBACK_POINTS))
            }
            _ => None,
        };
        ChartReading {
            earlier,
            recent,
            p95,
            fallback,
        }
    }
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

    /// Twelve hourly buckets: six at `earlier` (missions, fallbacks, p95), six at `recent`.
    fn series(earlier: (u64, u64, f64), recent: (u64, u64, f64)) -> VpSeries {
        let bucket = |h: usize, (missions, fallbacks, p95): (u64, u64, f64)| VpSeriesBucket {
            start: at(&format!("2026-02-16T{h:02}:00:00Z")),
            fallback: VpFallback::from_counts(fallbacks, missions),
            latency_seconds: VpLatency {
                count: missions,
                p95_seconds: (missions > 0).then_some(p95),
                ..VpLatency::from_samples(&[])
            },
        };
        VpSeries {
            generated_at: at("2026-02-16T12:00:00Z"),
            vp_id: "vp.coder.primary".into(),
            bucket_minutes: 60,
            buckets: (0..12)
                .map(|h| bucket(h, if h < 6 { earlier } else { recent }))
                .collect(),
        }
    }

    #[test]
    fn the_chart_reading_follows_the_playbook() {
        // 30 missions an hour: 180 a window, fallback 2%.
        let calm = (30, 0, 12.0);
        let r = series(calm, calm).reading();
        assert_eq!(
            (r.p95, r.fallback),
            (Some(Trend::Steady), Some(Trend::Steady))
        );
        assert_eq!(r.verdict(), "Neither p95 nor the fallback rate is rising.");
        // p95 up 25% and 3 s, fallback flat: load or queue pressure.
        let r = series((30, 1, 12.0), (30, 1, 15.0)).reading();
        assert_eq!(
            (r.p95, r.fallback),
            (Some(Trend::Rising), Some(Trend::Steady))
        );
        assert!(
            r.verdict().contains("load or queue pressure"),
            "{}",
            r.verdict()
        );
        assert_eq!(
            r.detail(60),
            "Last 6 h against the 6 h before (180 and 180 finished missions): p95 12.0 s → 15.0 s (rising), fallback 3.3% → 3.3% (steady)."
        );
        // Both up: runtime degradation.
        let r = series((30, 1, 12.0), (30, 3, 15.0)).reading();
        assert!(
            r.verdict().contains("runtime degradation"),
            "{}",
            r.verdict()
        );
        // Fallback up alone.
        let r = series((30, 1, 12.0), (30, 3, 12.5)).reading();
        assert_eq!(
            (r.p95, r.fallback),
            (Some(Trend::Steady), Some(Trend::Rising))
        );
        assert!(r.verdict().contains("fallback payload errors"));
        // Below both steps: steady. p95 +19% is not rising; nor is +0.9 s on 3 s.
        assert_eq!(
            series((30, 1, 12.0), (30, 1, 14.28)).reading().p95,
            Some(Trend::Steady)
        );
        assert_eq!(
            series((30, 1, 3.0), (30, 1, 3.9)).reading().p95,
            Some(Trend::Steady)
        );
        // Fallback +3.3 points but under 1.5x: steady; falling the other way.
        assert_eq!(
            series((30, 3, 12.0), (30, 4, 12.0)).reading().fallback,
            Some(Trend::Steady)
        );
        let r = series((30, 3, 15.0), (30, 0, 12.0)).reading();
        assert_eq!(
            (r.p95, r.fallback),
            (Some(Trend::Falling), Some(Trend::Falling))
        );
        assert_eq!(r.verdict(), "Neither p95 nor the fallback rate is rising.");
        // Three missions an hour is 18 a window: too few.
        let r = series((3, 0, 12.0), (3, 3, 40.0)).reading();
        assert_eq!((r.p95, r.fallback), (None, None));
        assert_eq!(r.verdict(), "Too few finished missions to read a trend.");
        assert!(
            r.detail(60).contains("(too few missions)"),
            "{}",
            r.detail(60)
        );
    }

    #[test]
    fn a_short_or_empty_series_compares_what_it_has() {
        let mut s = series((30, 0, 12.0), (30, 0, 20.0));
        s.buckets.drain(..4);
        s.buckets.truncate(4);
        let r = s.reading();
        assert_eq!((r.earlier.missions, r.recent.missions), (60, 60));
        assert_eq!(r.p95, Some(Trend::Rising));
        s.buckets.clear();
        assert_eq!(s.reading().p95, None);
        s.bucket_minutes = 15;
        assert!(
            s.reading()
                .detail(15)
                .starts_with("Last 90 min against the 90 min before")
        );
    }
}
