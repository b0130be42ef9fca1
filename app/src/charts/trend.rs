//! One KPI over the range, day by day, with its trailing 7-day average.

use chrono::{Datelike, NaiveDate};
use opsdeck_api::kpi::{KpiDay, KpiMetric};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{AVERAGE, DrawResult, FONT, GRID, INK, SERIES, WIDTH};
use crate::model::{format, kpi};

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
        let value = kpi::metric_value(metric);
        let all: Vec<Option<f64>> = complete.iter().map(|d| value(d)).collect();
        let average = kpi::weekly_average(&all);
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

/// The runs of defined values as `(day index, value)` points: a gap in the
/// data is a gap in the line, not a drop to zero.
pub fn segments(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i as f64, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Paint the daily series and its average on `area`.
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, data: &TrendData) -> DrawResult<DB> {
    let highest = data
        .values
        .iter()
        .chain(&data.average)
        .flatten()
        .fold(0.0_f64, |m, v| m.max(*v));
    let top = if highest > 0.0 { highest * 1.15 } else { 0.1 };
    let last = data.days.len().saturating_sub(1).max(1) as f64;
    let days = &data.days;
    let day_label = |x: &f64| {
        let i = x.round();
        match days.get(i as usize) {
            Some(d) if (x - i).abs() < 1e-6 && i >= 0.0 => {
                format!("{:02}-{:02}", d.month(), d.day())
            }
            _ => String::new(),
        }
    };
    let label_style = TextStyle::from((FONT, 14).into_font()).color(&INK);
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .margin_top(24)
        .x_label_area_size(24)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..last, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(7)
        .y_labels(5)
        .x_label_formatter(&day_label)
        .y_label_formatter(&|v| format::percent(*v))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(label_style.clone())
        .draw()?;
    // One column of pixels per point at most: more would only stack up.
    let columns = WIDTH as usize;
    for (series, color) in [(&data.values, SERIES), (&data.average, AVERAGE)] {
        chart.draw_series(
            segments(series)
                .into_iter()
                .map(|s| PathElement::new(kpi::downsample(&s, columns), color.stroke_width(2))),
        )?;
    }
    // The legend, top left above the plot, so a downloaded SVG explains itself.
    for (i, (name, color)) in [("daily", SERIES), ("7-day average", AVERAGE)]
        .into_iter()
        .enumerate()
    {
        let x = 58 + i as i32 * 90;
        area.draw(
            &(EmptyElement::at((x, 12))
                + PathElement::new(vec![(0, 0), (16, 0)], color.stroke_width(3))
                + Text::new(
                    name,
                    (20, 0),
                    label_style.pos(Pos::new(HPos::Left, VPos::Center)),
                )),
        )?;
    }
    Ok(())
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
    fn gaps_split_the_line() {
        let s = segments(&[None, Some(1.0), Some(2.0), None, Some(3.0)]);
        assert_eq!(s, vec![vec![(1.0, 1.0), (2.0, 2.0)], vec![(4.0, 3.0)]]);
        assert!(segments(&[None, None]).is_empty());
    }

    #[test]
    fn draws_both_lines_with_date_and_percent_labels() {
        let t = TrendData::of(KpiMetric::LandingToRunCtr, &newest_first(40), 30);
        let svg = crate::charts::svg(|area| draw(area, &t)).unwrap();
        assert!(!svg.contains("style="), "inline style in {svg}");
        assert!(svg.matches("<polyline").count() >= 2, "{svg}");
        assert!(svg.contains("7-day average"));
        assert!(svg.contains("03-15"), "{svg}");
        assert!(svg.contains('%'));
        // An empty series still draws its axes.
        let empty = TrendData::of(KpiMetric::D7, &newest_first(3), 30);
        assert!(crate::charts::svg(|area| draw(area, &empty)).is_some());
    }
}
