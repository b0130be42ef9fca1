//! One KPI over the range, day by day, with its trailing 7-day average.

use chrono::{Datelike, NaiveDate};
use opsdeck_api::kpi::{KpiDay, KpiMetric};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::kpi::model;
use crate::ui::chart::{AVERAGE, DrawResult, SERIES};
use crate::ui::format;
use crate::ui::line_chart::{self as line, Line, Mark};

/// What a trend chart draws: complete days, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendData {
    /// Which metric.
    pub metric: KpiMetric,
    /// The days on the x axis.
    pub days: Vec<NaiveDate>,
    /// The metric on each day (`None`: undefined, or an immature cohort).
    pub values: Vec<Option<f64>>,
    /// The trailing 7-day average on each day.
    pub average: Vec<Option<f64>>,
}

impl TrendData {
    /// `metric` over the newest `range` complete days of `days` (any order);
    /// the days before the range feed the first averages.
    pub fn of(metric: KpiMetric, days: &[KpiDay], range: usize) -> Self {
        let mut complete: Vec<&KpiDay> = days.iter().filter(|d| d.complete).collect();
        complete.sort_by_key(|d| d.day);
        let value = model::metric_value(metric);
        let all: Vec<Option<f64>> = complete.iter().map(|d| value(d)).collect();
        let average = model::weekly_average(&all);
        let skip = complete.len().saturating_sub(range);
        TrendData {
            metric,
            days: complete[skip..].iter().map(|d| d.day).collect(),
            values: all[skip..].to_vec(),
            average: average[skip..].to_vec(),
        }
    }

    /// Whether there is anything to draw.
    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

impl TrendData {
    /// Where each day starts (UTC midnight), for the timeline's marks.
    pub fn starts(&self) -> Vec<chrono::DateTime<chrono::Utc>> {
        self.days
            .iter()
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
            .collect()
    }
}

/// Paint the daily series, its average and `marks` on `area`.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &TrendData,
    marks: &[Mark],
) -> DrawResult<DB> {
    let day = |i: usize| {
        data.days
            .get(i)
            .map(|d| format!("{:02}-{:02}", d.month(), d.day()))
            .unwrap_or_default()
    };
    line::draw(
        area,
        &[
            Line {
                name: "daily",
                values: &data.values,
                color: SERIES,
            },
            Line {
                name: "7-day average",
                values: &data.average,
                color: AVERAGE,
            },
        ],
        &[],
        marks,
        &day,
        &|v| format::percent(*v),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpi_day(date: NaiveDate, complete: bool, ctr: Option<f64>) -> KpiDay {
        KpiDay {
            day: date,
            complete,
            visits: 10,
            landings: 10,
            run_clicks: 3,
            replay_starts: 1,
            replay_completions: 1,
            landing_to_run_ctr: ctr,
            run_to_replay_start: None,
            replay_completion: None,
            cohort_size: 0,
            d1_retained: None,
            d1_rate: None,
            d7_retained: None,
            d7_rate: None,
            retention: Vec::new(),
        }
    }

    fn newest_first(n: u32) -> Vec<KpiDay> {
        let today: NaiveDate = "2026-03-20".parse().unwrap();
        (0..n)
            .map(|i| {
                let date = today - chrono::Days::new(u64::from(i));
                kpi_day(date, i > 0, Some(0.2 + f64::from(i % 3) / 100.0))
            })
            .collect()
    }

    #[test]
    fn the_range_keeps_complete_days_oldest_first_with_warm_averages() {
        let t = TrendData::of(KpiMetric::LandingToRunCtr, &newest_first(30), 14);
        assert_eq!(t.days.len(), 14);
        assert_eq!(t.days.last().unwrap().to_string(), "2026-03-19");
        assert!(t.days.windows(2).all(|w| w[0] < w[1]));
        // The week before the range makes the first average defined.
        assert!(t.average[0].is_some());
        assert!(!t.is_empty());
        let none = TrendData::of(KpiMetric::D7, &newest_first(30), 14);
        assert!(none.is_empty());
    }

    #[test]
    fn draws_both_lines_with_date_and_percent_labels() {
        let t = TrendData::of(KpiMetric::LandingToRunCtr, &newest_first(40), 30);
        let svg = crate::ui::chart::svg(|area| draw(area, &t, &[])).unwrap();
        assert!(!svg.contains("style="), "inline style in {svg}");
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(svg.contains("7-day average"));
        assert!(svg.contains("03-15"), "{svg}");
        assert!(svg.contains('%'));
        // An empty series still draws its axes.
        let empty = TrendData::of(KpiMetric::D7, &newest_first(3), 30);
        assert!(crate::ui::chart::svg(|area| draw(area, &empty, &[])).is_some());
    }
}
