//! **Funnel and trends**: the latest complete day's funnel, and each alerting
//! KPI over the range with its trailing 7-day average.

use leptos::prelude::*;
use opsdeck_api::alerts::history::TIMELINE_MAX_LIMIT;
use opsdeck_api::kpi::{KpiDay, KpiMetric};

use crate::api;
use crate::hooks::use_polled::{PanelFrame, use_polled_by};
use crate::kpi::funnel_chart::{self, FunnelData};
use crate::kpi::model;
use crate::kpi::trend_chart::{self, TrendData};
use crate::ui::chart::svg;
use crate::ui::chart_figure::ChartFigure;
use crate::ui::chart_marks::{ChartMarks, drawn, marks_on};
use crate::ui::panel::Panel;

/// `#panel-kpi-charts`.
#[component]
pub fn KpiChartsPanel(
    /// The rollups source.
    frame: PanelFrame,
    /// The fetched days (the range plus the week before), newest first.
    days: Memo<Vec<KpiDay>>,
    /// The range in days.
    range: Memo<u32>,
) -> impl IntoView {
    let funnel_data =
        Memo::new(move |_| days.with(|d| model::latest_complete(d).map(FunnelData::of)));
    let funnel_svg = Memo::new(move |_| {
        funnel_data.with(|f| {
            f.as_ref()
                .and_then(|f| svg(|area| funnel_chart::draw(area, f)))
        })
    });
    let funnel_title = Signal::derive(move || {
        funnel_data.with(|f| match f {
            Some(f) => format!("Funnel, {} (latest complete day)", f.day),
            None => "Funnel".into(),
        })
    });
    // The ops timeline over the range's days, marked on every trend.
    let axis = Memo::new(move |_| {
        days.with(|d| TrendData::of(KpiMetric::LandingToRunCtr, d, range.get() as usize).starts())
    });
    let timeline =
        use_polled_by(move || api::timeline(axis.with(|a| a.first().copied()), TIMELINE_MAX_LIMIT));
    let marks = Memo::new(move |_| {
        timeline.with(|t| {
            t.map(|t| axis.with(|a| marks_on(t, a, chrono::Duration::days(1))))
                .unwrap_or_default()
        })
    });
    let trends = move || {
        KpiMetric::ALL
            .into_iter()
            .map(|metric| {
                let data = Memo::new(move |_| {
                    days.with(|d| TrendData::of(metric, d, range.get() as usize))
                });
                let chart = Memo::new(move |_| {
                    let m = marks.with(|m| drawn(m));
                    data.with(|t| {
                        (!t.is_empty())
                            .then(|| svg(|area| trend_chart::draw(area, t, &m)))
                            .flatten()
                    })
                });
                let key = model::metric_key(metric);
                let title = Signal::derive(move || {
                    format!("{} by day, with 7-day average", metric.label())
                });
                view! {
                    <ChartFigure
                        id=format!("chart-{key}")
                        title
                        svg=chart
                        file=Signal::derive(move || format!("opsdeck-{key}-{}d.svg", range.get()))
                        empty="No mature days in this range yet"
                    />
                }
            })
            .collect_view()
    };
    view! {
        <Panel id="panel-kpi-charts" title="Funnel and trends" frame wide=true>
            <div class="chart-grid">
                <ChartFigure
                    id="chart-funnel".to_string()
                    title=funnel_title
                    svg=funnel_svg
                    file=Signal::derive(move || {
                        funnel_data
                            .with(|f| match f {
                                Some(f) => format!("opsdeck-funnel-{}.svg", f.day),
                                None => "opsdeck-funnel.svg".into(),
                            })
                    })
                    empty="No complete day yet"
                />
                {trends()}
            </div>
            <ChartMarks id="chart-kpi" marks />
        </Panel>
    }
}
