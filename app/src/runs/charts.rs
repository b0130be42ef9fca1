//! A run's counters and its LLM spend over time, from its start: a line per
//! series, and a vertical line at the guardrail stop (red) and at each
//! operator action (grey), each labelled with what it was.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::runs::model::{Marker, MarkerKind, RunSeries};
use crate::ui::chart::{AVERAGE, DrawResult, FONT, SERIES, WIDTH, downsample};
use crate::ui::format;
use crate::ui::line_chart::{frame, legend};

const STOP: RGBColor = RGBColor(0xb4, 0x23, 0x18);
const ACTION: RGBColor = RGBColor(0x6b, 0x72, 0x80);
const VOTES: RGBColor = RGBColor(0x2e, 0x8b, 0x57);
const FORUM: RGBColor = RGBColor(0x8e, 0x44, 0xad);

/// The colour of a marker's line.
fn marker_color(kind: MarkerKind) -> RGBColor {
    match kind {
        MarkerKind::Guardrail => STOP,
        MarkerKind::Operator => ACTION,
    }
}

/// `12:30`-style elapsed time for the x axis: minutes and seconds, or hours
/// and minutes past an hour.
fn elapsed(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

fn draw_lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x: &[f64],
    lines: &[(&str, &[f64], RGBColor)],
    span: f64,
    markers: &[Marker],
    y_label: &dyn Fn(&f64) -> String,
) -> DrawResult<DB> {
    let highest = lines
        .iter()
        .flat_map(|l| l.1.iter())
        .fold(0.0_f64, |m, v| m.max(*v));
    let top = if highest > 0.0 { highest * 1.2 } else { 1.0 };
    let mut chart = frame(area, 0f64..span, top, 6, &|v| elapsed(*v), y_label)?;
    let tag = TextStyle::from((FONT, 12).into_font()).pos(Pos::new(HPos::Left, VPos::Top));
    for (i, m) in markers.iter().enumerate() {
        let color = marker_color(m.kind);
        // Labels step down in three rows, so markers close together stay readable.
        let label_y = top * (1.0 - 0.07 * (i % 3) as f64);
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(m.x, 0.0), (m.x, top)],
            color.stroke_width(if m.kind == MarkerKind::Guardrail {
                2
            } else {
                1
            }),
        )))?;
        chart.draw_series(std::iter::once(Text::new(
            m.label.to_string(),
            (m.x, label_y),
            tag.clone().color(&color),
        )))?;
    }
    for (_, values, color) in lines {
        let points: Vec<(f64, f64)> = x.iter().copied().zip(values.iter().copied()).collect();
        chart.draw_series(std::iter::once(PathElement::new(
            downsample(&points, WIDTH as usize),
            color.stroke_width(2),
        )))?;
    }
    let items: Vec<(&str, RGBColor)> = lines.iter().map(|l| (l.0, l.2)).collect();
    legend(area, &items)
}

/// The four action counters, cumulative.
pub fn draw_counters<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &RunSeries,
    markers: &[Marker],
) -> DrawResult<DB> {
    draw_lines(
        area,
        &s.x,
        &[
            ("Actions", &s.runtime, SERIES),
            ("Proposals", &s.proposals, AVERAGE),
            ("Votes", &s.votes, VOTES),
            ("Forum", &s.forum, FORUM),
        ],
        s.span(markers),
        markers,
        &|v| format::count(v.max(0.0).round() as u64),
    )
}

/// LLM spend so far, USD.
pub fn draw_spend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &RunSeries,
    markers: &[Marker],
) -> DrawResult<DB> {
    draw_lines(
        area,
        &s.x,
        &[("LLM spend", &s.spend, SERIES)],
        s.span(markers),
        markers,
        &|v| format::usd(*v),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    #[test]
    fn elapsed_time_reads_as_minutes_then_hours() {
        assert_eq!(elapsed(0.0), "0:00");
        assert_eq!(elapsed(95.0), "1:35");
        assert_eq!(elapsed(3_725.0), "1h02");
    }

    #[test]
    fn markers_are_drawn_with_their_labels() {
        let s = RunSeries {
            x: vec![0.0, 60.0],
            runtime: vec![0.0, 10.0],
            proposals: vec![0.0, 1.0],
            votes: vec![0.0, 2.0],
            forum: vec![0.0, 3.0],
            spend: vec![0.0, 0.5],
        };
        let marker = |x, kind, label| Marker {
            x,
            at: DateTime::<Utc>::UNIX_EPOCH,
            kind,
            label,
            text: String::new(),
        };
        let markers = [
            marker(30.0, MarkerKind::Guardrail, "guardrail stop"),
            marker(45.0, MarkerKind::Operator, "override"),
        ];
        let svg = crate::ui::chart::svg(|a| draw_spend(a, &s, &markers)).unwrap();
        assert!(svg.contains("guardrail stop"), "{svg}");
        assert!(svg.contains("override"), "{svg}");
        assert!(svg.contains("#B42318"), "the stop is red: {svg}");
        let svg = crate::ui::chart::svg(|a| draw_counters(a, &s, &[])).unwrap();
        assert!(svg.contains("Proposals"), "{svg}");
    }
}
