//! **Lane over time**: fallback rate against its bands, p50/p95 latency
//! against the SLO (hourly buckets), the snapshot's event mix, and the
//! playbook's reading of the first two (section 3.2) under them.

use leptos::prelude::*;
use opsdeck_api::alerts::history::TIMELINE_MAX_LIMIT;
use opsdeck_api::vp::{Trend, VpSeries, VpThresholds};

use crate::api;
use crate::hooks::use_polled::{Polled, use_polled_by};
use crate::ui::chart::{svg, svg_measured};
use crate::ui::chart_figure::ChartFigure;
use crate::ui::chart_marks::{ChartMarks, drawn as drawn_marks, marks_on};
use crate::ui::line_chart::Mark;
use crate::ui::panel::Panel;
use crate::vp::charts::{self as vp_charts, LaneSeries};
use crate::vp::model::{self, LaneSnapshot};

/// `#panel-vp-charts`.
#[component]
pub fn VpChartsPanel(
    /// `GET /api/v1/dashboard/metrics/vp/series`.
    series: Polled<VpSeries>,
    /// The lane's snapshot, for the event mix.
    snapshot: Memo<Option<LaneSnapshot>>,
    /// Thresholds in force.
    thresholds: Memo<VpThresholds>,
    /// The lane, for file names.
    lane: Memo<String>,
) -> impl IntoView {
    let data =
        Memo::new(move |_| series.with(|s| s.map(|s| thresholds.with(|t| LaneSeries::of(s, t)))));
    // The ops timeline over the same hours, marked on both charts.
    let since =
        Memo::new(move |_| data.with(|d| d.as_ref().and_then(|d| d.starts.first().copied())));
    let timeline = use_polled_by(move || api::timeline(since.get(), TIMELINE_MAX_LIMIT));
    let marks = Memo::new(move |_| {
        let step = chrono::Duration::minutes(i64::from(
            series.with(|s| s.map_or(60, |s| s.bucket_minutes)),
        ));
        timeline.with(|t| {
            data.with(|d| match (t, d) {
                (Some(t), Some(d)) => marks_on(t, &d.starts, step),
                _ => Vec::new(),
            })
        })
    });
    let drawn = move |draw: fn(&LaneSeries, &[Mark]) -> Option<String>| {
        Memo::new(move |_| {
            let m = marks.with(|m| drawn_marks(m));
            data.with(|d| {
                d.as_ref()
                    .filter(|d| !d.is_empty())
                    .and_then(|d| draw(d, &m))
            })
        })
    };
    let fallback = drawn(|d, m| svg(|a| vp_charts::draw_fallback(a, d, m)));
    let latency = drawn(|d, m| {
        svg_measured(vp_charts::LATENCY_MEASURE, |a| {
            vp_charts::draw_latency(a, d, m)
        })
    });
    let mix = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| model::event_mix(&s.aggregates().event_counts))
                .filter(|m| !m.is_empty())
                .and_then(|m| svg(|a| vp_charts::draw_mix(a, &m)))
        })
    });
    let file = move |what: &'static str| {
        Signal::derive(move || format!("opsdeck-{}-{what}.svg", lane.get()))
    };
    let hours = move || series.with(|s| s.map_or(0, |s| s.buckets.len()));
    let reading = move || {
        series.with(|s| {
            s.map(|s| {
                let r = s.reading();
                let trend = |t: Option<Trend>| t.map_or("unknown", Trend::as_str);
                view! {
                    <p
                        id="vp-chart-reading"
                        class="chart-reading"
                        data-p95=trend(r.p95)
                        data-fallback=trend(r.fallback)
                    >
                        <strong>{r.verdict()}</strong>
                        " "
                        {r.detail(s.bucket_minutes)}
                    </p>
                }
            })
        })
    };
    view! {
        <Panel id="panel-vp-charts" title="Lane over time" frame=series.frame() wide=true>
            <div class="chart-grid">
                <ChartFigure
                    id="chart-vp-fallback".to_string()
                    title=Signal::derive(move || {
                        format!("Fallback rate per hour, last {} h", hours())
                    })
                    svg=fallback
                    file=file("fallback")
                    empty="No missions in this window"
                />
                <ChartFigure
                    id="chart-vp-latency".to_string()
                    title=Signal::derive(move || {
                        format!("Mission latency p50 / p95 per hour, last {} h", hours())
                    })
                    svg=latency
                    file=file("latency")
                    empty="No completed missions in this window"
                />
                <ChartFigure
                    id="chart-vp-mix".to_string()
                    title=Signal::derive(|| "Event mix of the snapshot".to_string())
                    svg=mix
                    file=file("event-mix")
                    empty="No events"
                />
            </div>
            <ChartMarks id="chart-vp" marks />
            {reading}
        </Panel>
    }
}
