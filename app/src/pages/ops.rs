//! `/ops`: environment, status, run controls, metrics, the KPI summary,
//! config, events, audit.
//!
//! Each panel polls its own source, so one failing endpoint degrades one panel
//! and the rest of the page keeps working.

use leptos::prelude::*;

use crate::api;
use crate::components::audit_panel::AuditPanel;
use crate::components::config_panel::ConfigPanel;
use crate::components::controls_panel::ControlsPanel;
use crate::components::env_banner::EnvBanner;
use crate::components::events_panel::EventsPanel;
use crate::components::guardrails_panel::GuardrailsPanel;
use crate::components::kpi_summary_panel::{KpiSummaryPanel, SUMMARY_DAYS};
use crate::components::metrics_panel::MetricsPanel;
use crate::components::page_head::PageHead;
use crate::components::status_panel::StatusPanel;
use crate::hooks::use_polled::use_polled;

/// The ops console.
#[component]
pub fn OpsPage() -> impl IntoView {
    let status = use_polled(api::status());
    let metrics = use_polled(api::run_metrics());
    let config = use_polled(api::config());
    let events = use_polled(api::events(api::PANEL_ROWS));
    let audit = use_polled(api::audit(api::PANEL_ROWS));
    let stops = use_polled(api::guardrail_stops(api::PANEL_ROWS));
    let kpi_rollups = use_polled(api::kpi_rollups(SUMMARY_DAYS));
    let kpi_alerts = use_polled(api::kpi_alerts());

    view! {
        <EnvBanner status />
        <PageHead title="Ops" />
        <div class="panels">
            <StatusPanel status />
            <ControlsPanel status />
            <MetricsPanel metrics />
            <GuardrailsPanel metrics config stops />
            <KpiSummaryPanel rollups=kpi_rollups alerts=kpi_alerts />
            <ConfigPanel config />
            <EventsPanel events />
            <AuditPanel audit />
        </div>
    }
}
