//! The ops timeline on a chart: guardrail stops, alerts, operator actions
//! and VP decisions that fall on the chart's time axis, drawn as vertical
//! marks ([`crate::ui::line_chart::Mark`]) and listed under the chart in
//! words (`#{chart}-marks`), which is also what a screen reader gets.

use chrono::{DateTime, Duration, Utc};
use leptos::prelude::*;
use opsdeck_api::alerts::history::{Timeline, TimelineEntry, TimelineKind};
use plotters::style::RGBColor;

use crate::ui::format;
use crate::ui::line_chart::Mark;

/// Most marks one chart draws (the newest); the list says how many more.
pub const MOST: usize = 40;

/// One timeline entry on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Marked {
    /// Where on the axis, in point units.
    pub x: f64,
    /// What it is.
    pub kind: TimelineKind,
    /// When.
    pub at: DateTime<Utc>,
    /// What it says.
    pub summary: String,
}

/// Where `at` falls on an axis whose point `i` covers
/// `[starts[i], starts[i] + step)`: `i` plus the fraction of the step, kept
/// within the drawn range `0..=last`; `None` off the axis.
pub fn mark_x(at: DateTime<Utc>, starts: &[DateTime<Utc>], step: Duration) -> Option<f64> {
    let step_ms = step.num_milliseconds();
    if step_ms <= 0 {
        return None;
    }
    let i = starts.iter().rposition(|s| *s <= at)?;
    let into = (at - starts[i]).num_milliseconds();
    if into >= step_ms {
        return None;
    }
    let last = starts.len().saturating_sub(1) as f64;
    Some((i as f64 + into as f64 / step_ms as f64).min(last))
}

/// The entries of `timeline` (newest first) a chart marks on its axis,
/// oldest first, at most [`MOST`] (the newest).
pub fn marks_on(timeline: &Timeline, starts: &[DateTime<Utc>], step: Duration) -> Vec<Marked> {
    let mut marks: Vec<Marked> = timeline
        .entries
        .iter()
        .filter(|e| e.kind.marks_charts())
        .filter_map(|e: &TimelineEntry| {
            Some(Marked {
                x: mark_x(e.at, starts, step)?,
                kind: e.kind,
                at: e.at,
                summary: e.summary.clone(),
            })
        })
        .take(MOST)
        .collect();
    marks.reverse();
    marks
}

/// The colour a kind is marked in.
pub fn color(kind: TimelineKind) -> RGBColor {
    match kind {
        TimelineKind::GuardrailStop | TimelineKind::AlertFired => RGBColor(0xb4, 0x23, 0x18),
        TimelineKind::AlertResolved | TimelineKind::Delivery => RGBColor(0x17, 0x75, 0x3a),
        TimelineKind::VpDecision => RGBColor(0x6b, 0x3f, 0xa0),
        TimelineKind::OperatorAction => RGBColor(0x5c, 0x68, 0x77),
    }
}

/// The marks as the line chart draws them.
pub fn drawn(marks: &[Marked]) -> Vec<Mark> {
    marks
        .iter()
        .map(|m| Mark {
            x: m.x,
            color: color(m.kind),
        })
        .collect()
}

/// `<ul id="{id}-marks">`: each mark in words, oldest first.
#[component]
pub fn ChartMarks(
    /// The chart's element id.
    id: &'static str,
    /// Its marks.
    marks: Memo<Vec<Marked>>,
) -> impl IntoView {
    view! {
        <ul class="chart-marks" id=format!("{id}-marks") aria-label="Marked on the chart">
            {move || {
                marks
                    .get()
                    .into_iter()
                    .map(|m| {
                        view! {
                            <li data-kind=m.kind.key()>
                                <span class=format!(
                                    "chart-mark-key timeline-{}",
                                    m.kind.key(),
                                )>{m.kind.label()}</span>
                                " "
                                <span class="tnum">{format::utc(&m.at)}</span>
                                " "
                                {m.summary}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_instant_falls_inside_its_step_and_the_last_step_keeps_to_the_edge() {
        let starts = [
            t("2026-12-03T10:00:00Z"),
            t("2026-12-03T11:00:00Z"),
            t("2026-12-03T12:00:00Z"),
        ];
        let h = Duration::hours(1);
        assert_eq!(mark_x(t("2026-12-03T10:30:00Z"), &starts, h), Some(0.5));
        assert_eq!(mark_x(t("2026-12-03T11:00:00Z"), &starts, h), Some(1.0));
        // Inside the newest bucket: drawn at the right edge.
        assert_eq!(mark_x(t("2026-12-03T12:45:00Z"), &starts, h), Some(2.0));
        assert_eq!(mark_x(t("2026-12-03T13:00:00Z"), &starts, h), None);
        assert_eq!(mark_x(t("2026-12-03T09:59:59Z"), &starts, h), None);
        assert_eq!(mark_x(t("2026-12-03T10:30:00Z"), &[], h), None);
        assert_eq!(
            mark_x(t("2026-12-03T10:30:00Z"), &starts, Duration::zero()),
            None
        );
    }

    #[test]
    fn deliveries_are_not_marked_and_marks_come_oldest_first() {
        let entry = |at: &str, kind| TimelineEntry {
            at: t(at),
            kind,
            summary: kind.label().into(),
            actor: None,
            source: None,
            link: None,
        };
        let timeline = Timeline {
            since: t("2026-12-03T00:00:00Z"),
            until: t("2026-12-04T00:00:00Z"),
            entries: vec![
                entry("2026-12-03T12:10:00Z", TimelineKind::Delivery),
                entry("2026-12-03T12:05:00Z", TimelineKind::GuardrailStop),
                entry("2026-12-03T10:15:00Z", TimelineKind::OperatorAction),
                entry("2026-12-02T10:15:00Z", TimelineKind::AlertFired),
            ],
            truncated: false,
            operator_actions_hidden: false,
        };
        let starts = [
            t("2026-12-03T10:00:00Z"),
            t("2026-12-03T11:00:00Z"),
            t("2026-12-03T12:00:00Z"),
        ];
        let marks = marks_on(&timeline, &starts, Duration::hours(1));
        let kinds: Vec<_> = marks.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [TimelineKind::OperatorAction, TimelineKind::GuardrailStop]
        );
        assert_eq!(marks[0].x, 0.25);
        assert_eq!(drawn(&marks)[1].color, color(TimelineKind::GuardrailStop));
    }
}
