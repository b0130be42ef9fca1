//! The funnel of one complete day: landings → run clicks → replay starts →
//! completions, each bar labelled with its count and its share of the step before.

use chrono::NaiveDate;
use opsdeck_api::kpi::{KpiDay, ratio};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::ui::chart::{DrawResult, FONT, GRID, INK, SERIES};
use crate::ui::format;

/// The step names, in funnel order.
pub const STEPS: [&str; 4] = ["Landings", "Run clicks", "Replay starts", "Completions"];

/// What the funnel chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct FunnelData {
    /// The day shown.
    pub day: NaiveDate,
    /// Visitors at each of [`STEPS`].
    pub counts: [u64; 4],
}

impl FunnelData {
    /// The funnel of `day`.
    pub fn of(day: &KpiDay) -> Self {
        FunnelData {
            day: day.day,
            counts: [
                day.landings,
                day.run_clicks,
                day.replay_starts,
                day.replay_completions,
            ],
        }
    }

    /// Each bar's label: the count, and from the second step on its share of
    /// the step before (`n/a` after an empty step).
    pub fn labels(&self) -> [String; 4] {
        std::array::from_fn(|i| {
            let count = format::count(self.counts[i]);
            if i == 0 {
                count
            } else {
                let share = ratio(self.counts[i], self.counts[i - 1])
                    .map_or_else(|| "n/a".into(), format::percent);
                format!("{count} ({share})")
            }
        })
    }
}

/// Paint the funnel as four bars on `area`.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    data: &FunnelData,
) -> DrawResult<DB> {
    let top = data.counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.15;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..4f64, 0f64..top)?;
    let label_style = TextStyle::from((FONT, 14).into_font()).color(&INK);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(5)
        .y_label_formatter(&|v| format::count(v.max(0.0).round() as u64))
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(INK)
        .label_style(label_style.clone())
        .draw()?;
    chart.draw_series(data.counts.iter().enumerate().map(|(i, &n)| {
        let x = i as f64;
        Rectangle::new([(x + 0.18, 0.0), (x + 0.82, n as f64)], SERIES.filled())
    }))?;
    let above = label_style.pos(Pos::new(HPos::Center, VPos::Bottom));
    let below = label_style.pos(Pos::new(HPos::Center, VPos::Top));
    let labels = data.labels();
    chart.draw_series(
        data.counts
            .iter()
            .zip(&labels)
            .enumerate()
            .map(|(i, (&n, label))| {
                EmptyElement::at((i as f64 + 0.5, n as f64))
                    + Text::new(label.clone(), (0, -4), above.clone())
            }),
    )?;
    chart.draw_series(STEPS.iter().enumerate().map(|(i, step)| {
        EmptyElement::at((i as f64 + 0.5, 0.0)) + Text::new(*step, (0, 8), below.clone())
    }))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> FunnelData {
        FunnelData {
            day: "2026-03-19".parse().unwrap(),
            counts: [1000, 300, 120, 0],
        }
    }

    #[test]
    fn labels_show_counts_and_step_shares() {
        assert_eq!(
            data().labels(),
            ["1,000", "300 (30%)", "120 (40%)", "0 (0%)"]
        );
        let empty = FunnelData {
            counts: [0; 4],
            ..data()
        };
        assert_eq!(empty.labels()[1], "0 (n/a)");
    }

    #[test]
    fn draws_four_bars_and_their_labels_without_inline_styles() {
        let svg = crate::ui::chart::svg(|area| draw(area, &data())).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("style="), "inline style in {svg}");
        for step in STEPS {
            assert!(svg.contains(step), "{step} missing");
        }
        assert!(svg.contains("300 (30%)"));
        assert!(svg.matches("<rect").count() >= 3, "{svg}");
    }
}
