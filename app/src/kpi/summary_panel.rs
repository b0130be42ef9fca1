//! **KPI Rollups** on `/ops` (step 9 of the dev flow): the latest complete
//! day's funnel rates, the newest mature D1/D7, the alert counts, and the way
//! to the full page.

use leptos::prelude::*;
use opsdeck_api::alerts::KpiAlertsView;
use opsdeck_api::kpi::{KpiDay, KpiMetric, KpiRollups};

use crate::hooks::use_polled::Polled;
use crate::kpi::model;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;

/// Days the card fetches: D7 of the newest mature cohort is eight days back.
pub const SUMMARY_DAYS: u32 = 10;

/// `#panel-kpi-summary`.
#[component]
pub fn KpiSummaryPanel(
    /// `GET /api/admin/kpi/rollups?days=10`.
    rollups: Polled<KpiRollups>,
    /// `GET /api/console/kpi/alerts`.
    alerts: Polled<KpiAlertsView>,
) -> impl IntoView {
    let data = rollups.data();
    let latest = move |f: fn(&KpiDay) -> String| {
        Signal::derive(move || {
            data.with(|r| {
                r.as_ref()
                    .and_then(|r| model::latest_complete(&r.days))
                    .map_or_else(|| "n/a".into(), f)
            })
        })
    };
    let retention = move |metric: KpiMetric| {
        Signal::derive(move || {
            data.with(|r| {
                let value = model::metric_value(metric);
                match r.as_ref().and_then(|r| model::newest_with(&r.days, value)) {
                    Some(d) => format!(
                        "{} (cohort {}, {})",
                        format::rate(value(d)),
                        d.day,
                        format::count(d.cohort_size)
                    ),
                    None => "n/a (no mature cohort yet)".into(),
                }
            })
        })
    };
    let newest = Signal::derive(move || {
        data.with(|r| match r.as_ref().and_then(|r| r.days.first()) {
            Some(d) if d.complete => format!("{}: {} visits", d.day, format::count(d.visits)),
            Some(d) => format!("{} (so far): {} visits", d.day, format::count(d.visits)),
            None => "No rollups yet".into(),
        })
    });
    let counts = Signal::derive(move || {
        alerts.with(|v| match v.and_then(|v| v.report.as_ref()) {
            Some(r) => format!("{} critical, {} warning", r.critical, r.warning),
            None => "not evaluated yet".into(),
        })
    });
    let tone = Signal::derive(move || {
        alerts.with(|v| match v.and_then(|v| v.report.as_ref()) {
            Some(r) if r.critical > 0 => "tone-alert".to_string(),
            Some(r) if r.warning > 0 => "tone-warn".to_string(),
            _ => String::new(),
        })
    });
    let caption = latest(|d| format!("Latest complete day {}", d.day));
    view! {
        <Panel id="panel-kpi-summary" title="KPI Rollups" frame=rollups.frame()>
            <p class="panel-caption">{caption}</p>
            <dl class="kv">
                <KvRow label="Latest day" field="latest_day" value=newest />
                <KvRow
                    label="Landing -> Run CTR"
                    field="landing_to_run_ctr"
                    numeric=true
                    value=latest(|d| format::rate(d.landing_to_run_ctr))
                />
                <KvRow
                    label="Run -> Replay Start"
                    field="run_to_replay_start"
                    numeric=true
                    value=latest(|d| format::rate(d.run_to_replay_start))
                />
                <KvRow
                    label="Replay Completion"
                    field="replay_completion"
                    numeric=true
                    value=latest(|d| format::rate(d.replay_completion))
                />
                <KvRow label="D1" field="d1" numeric=true value=retention(KpiMetric::D1) />
                <KvRow label="D7" field="d7" numeric=true value=retention(KpiMetric::D7) />
                <KvRow label="KPI Alerts" field="kpi_alerts" value=counts tone />
            </dl>
            // Another bundle: a full page load (`rel="external"`).
            <a href="/ops/kpi" id="link-kpi" class="panel-link" rel="external">
                "Open KPI charts and tables →"
            </a>
        </Panel>
    }
}
