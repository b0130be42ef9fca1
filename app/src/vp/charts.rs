//! A VP lane over time: fallback rate against its bands, p50/p95 latency
//! against the SLO, and the event mix of the latest snapshot.

use chrono::{DateTime, Timelike, Utc};
use opsdeck_api::vp::{VpSeries, VpThresholds};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ui::chart::{AVERAGE, DrawResult, FONT, GRID, INK, SERIES};
use crate::ui::format;
use crate::ui::line_chart::{self as line, Line, Mark, Rule};

/// The monitor band line (amber) and the investigate line (red).
/// Name of the measure the latency chart records per draw
/// ([`crate::ui::chart::svg_measured`]; a benchmark reads it).
pub const LATENCY_MEASURE: &str = "opsdeck:vp-latency-chart";

const MONITOR: RGBColor = RGBColor(0xd9, 0x8e, 0x04);
const INVESTIGATE: RGBColor = RGBColor(0xb4, 0x23, 0x18);

/// One series over the buckets: values (`None` where the bucket had no
/// missions) and the bucket starts.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneSeries {
    /// Bucket starts, oldest first.
    pub starts: Vec<DateTime<Utc>>,
    /// Fallback rate per bucket.
    pub fallback: Vec<Option<f64>>,
    /// p50 latency (s) per bucket.
    pub p50: Vec<Option<f64>>,
    /// p95 latency (s) per bucket.
    pub p95: Vec<Option<f64>>,
    /// Missions per bucket (the sample of each point).
    pub missions: Vec<u64>,
    /// The thresholds the lines are drawn at.
    pub thresholds: VpThresholds,
}

impl LaneSeries {
    /// The chart data of `series`.
    pub fn of(series: &VpSeries, thresholds: &VpThresholds) -> Self {
        LaneSeries {
            starts: series.buckets.iter().map(|b| b.start).collect(),
            fallback: series
                .buckets
                .iter()
                .map(|b| b.fallback.measured_rate())
                .collect(),
            p50: series
                .buckets
                .iter()
                .map(|b| b.latency_seconds.p50_seconds)
                .collect(),
            p95: series
                .buckets
                .iter()
                .map(|b| b.latency_seconds.p95_seconds)
                .collect(),
            missions: series.buckets.iter().map(|b| b.missions()).collect(),
            thresholds: thresholds.clone(),
        }
    }

    /// Whether any bucket had a mission.
    pub fn is_empty(&self) -> bool {
        self.missions.iter().all(|m| *m == 0)
    }
}

/// `HH:MM` of bucket `i`.
fn hour_label(starts: &[DateTime<Utc>], i: usize) -> String {
    starts
        .get(i)
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .unwrap_or_default()
}

/// Fallback rate per bucket with the monitor and investigate lines.
pub fn draw_fallback<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &LaneSeries,
    marks: &[Mark],
) -> DrawResult<DB> {
    let t = &data.thresholds;
    line::draw(
        area,
        &[Line {
            name: "fallback rate",
            values: &data.fallback,
            color: SERIES,
        }],
        &[
            Rule {
                name: "monitor",
                value: t.fallback_monitor_rate,
                color: MONITOR,
            },
            Rule {
                name: "investigate",
                value: t.fallback_investigate_rate,
                color: INVESTIGATE,
            },
        ],
        marks,
        &|i| hour_label(&data.starts, i),
        &|v| format::percent(*v),
    )
}

/// p50 and p95 latency per bucket with the p95 SLO line.
pub fn draw_latency<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &LaneSeries,
    marks: &[Mark],
) -> DrawResult<DB> {
    line::draw(
        area,
        &[
            Line {
                name: "p50",
                values: &data.p50,
                color: SERIES,
            },
            Line {
                name: "p95",
                values: &data.p95,
                color: AVERAGE,
            },
        ],
        &[Rule {
            name: "p95 SLO",
            value: data.thresholds.p95_latency_slo_seconds,
            color: INVESTIGATE,
        }],
        marks,
        &|i| hour_label(&data.starts, i),
        &|v| format!("{} s", format::fixed(*v, 0)),
    )
}

/// The event mix as horizontal bars, largest first.
pub fn draw_mix<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    mix: &[(String, u64)],
) -> DrawResult<DB> {
    let n = mix.len().max(1);
    let top = mix.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1) as f64 * 1.25;
    let style = TextStyle::from((FONT, 13).into_font()).color(&INK);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(24)
        .y_label_area_size(8)
        .build_cartesian_2d(0f64..top, 0f64..n as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(5)
        .x_label_formatter(&|v| format::count(v.max(0.0).round() as u64))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(style.clone())
        .draw()?;
    let row = |i: usize| (n - 1 - i) as f64;
    chart.draw_series(mix.iter().enumerate().map(|(i, (_, c))| {
        Rectangle::new(
            [(0.0, row(i) + 0.2), (*c as f64, row(i) + 0.8)],
            SERIES.filled(),
        )
    }))?;
    let label = style.pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(mix.iter().enumerate().map(|(i, (name, c))| {
        EmptyElement::at((0.0, row(i) + 0.5))
            + Text::new(
                format!("{name}  {}", format::count(*c)),
                (6, 0),
                label.clone(),
            )
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series() -> VpSeries {
        let buckets: Vec<serde_json::Value> = (0..6)
            .map(|i| {
                let missions = if i == 2 { 0 } else { 10 };
                serde_json::json!({
                    "start": format!("2026-03-20T{:02}:00:00Z", 6 + i),
                    "fallback": {"missions_with_fallback": if i == 5 { 4 } else { 0 }, "missions_considered": missions, "rate": null},
                    "latency_seconds": if missions == 0 {
                        serde_json::json!({"count": 0})
                    } else {
                        serde_json::json!({"count": missions, "p50_seconds": 12.0, "p95_seconds": 40.0 + f64::from(i)})
                    }
                })
            })
            .collect();
        serde_json::from_value(serde_json::json!({
            "generated_at": "2026-03-20T12:00:00Z",
            "vp_id": "vp.coder.primary",
            "bucket_minutes": 60,
            "buckets": buckets
        }))
        .unwrap()
    }

    #[test]
    fn empty_buckets_are_gaps_not_zeros() {
        let s = LaneSeries::of(&series(), &VpThresholds::default());
        assert_eq!(s.fallback[2], None);
        assert_eq!(s.fallback[5], Some(0.4));
        assert_eq!(s.p95[2], None);
        assert!(!s.is_empty());
        assert_eq!(hour_label(&s.starts, 1), "07:00");
        assert_eq!(hour_label(&s.starts, 99), "");
    }

    #[test]
    fn charts_draw_lines_rules_and_bars_without_inline_styles() {
        let s = LaneSeries::of(&series(), &VpThresholds::default());
        for svg in [
            crate::ui::chart::svg(|a| draw_fallback(a, &s, &[])).unwrap(),
            crate::ui::chart::svg(|a| draw_latency(a, &s, &[])).unwrap(),
        ] {
            assert!(!svg.contains("style="), "{svg}");
            assert!(svg.matches("<polyline").count() >= 3, "{svg}");
        }
        let fallback = crate::ui::chart::svg(|a| draw_fallback(a, &s, &[])).unwrap();
        assert!(
            fallback.contains("investigate") && fallback.contains("20%"),
            "{fallback}"
        );
        let mix = vec![
            ("vp.mission.completed".to_string(), 21),
            ("vp.mission.fallback".to_string(), 9),
        ];
        let bars = crate::ui::chart::svg(|a| draw_mix(a, &mix)).unwrap();
        assert!(bars.contains("vp.mission.fallback  9"), "{bars}");
        assert!(bars.matches("<rect").count() >= 2);
    }
}
