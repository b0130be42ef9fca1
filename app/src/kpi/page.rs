//! `/ops/kpi`: KPI alerts, funnel and trend charts, the rollup table, cohort
//! retention and the webhook log, over the range named in `?days=`.
//!
//! Everything here is a GET a viewer token may make; `Evaluate now` is the
//! only write, and it is disabled (and refused by the server) for viewers.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::hooks::use_polled::{use_polled, use_polled_by};
use crate::kpi::alerts_panel::KpiAlertsPanel;
use crate::kpi::charts_panel::KpiChartsPanel;
use crate::kpi::cohort_panel::CohortPanel;
use crate::kpi::model;
use crate::kpi::range_picker::KpiRange;
use crate::kpi::rollups_panel::KpiRollupsPanel;
use crate::kpi::webhook_panel::WebhookPanel;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;

/// The KPI page.
#[component]
pub fn KpiPage() -> impl IntoView {
    let query = use_query_map();
    let range = Memo::new(move |_| query.with(|q| model::parse_range(q.get_str("days"))));
    let rollups = use_polled_by(move || api::kpi_rollups(model::fetch_days(range.get())));
    let alerts = use_polled(api::kpi_alerts());
    let webhook = use_polled(api::webhook_deliveries(api::PANEL_ROWS));

    // All fetched days feed the charts' averages; the tables show the range.
    let fetched =
        Memo::new(move |_| rollups.with(|r| r.map(|r| r.days.clone()).unwrap_or_default()));
    let shown = Memo::new(move |_| fetched.with(|d| model::in_range(d, range.get()).to_vec()));
    let frame = rollups.frame();

    view! {
        <EnvBanner />
        <PageHead title="KPI">
            <KpiRange range />
        </PageHead>
        <div class="panels">
            <KpiAlertsPanel alerts />
            <KpiChartsPanel frame days=fetched range />
            <KpiRollupsPanel frame days=shown range />
            <CohortPanel frame days=shown />
            <WebhookPanel log=webhook alerts />
        </div>
    }
}
