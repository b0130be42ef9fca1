//! `/ops`: environment, status, run controls, metrics, guardrails, the KPI
//! summary, prod checks, baseline capture, the weekly digest, config, events, audit.
//!
//! Each panel polls its own source, so one failing endpoint degrades one panel
//! and the rest of the page keeps working.

use leptos::prelude::*;
use opsdeck_api::console::Role;

use crate::api;
use crate::hooks::use_polled::use_polled;
use crate::kpi::summary_panel::{KpiSummaryPanel, SUMMARY_DAYS};
use crate::ops::audit_panel::AuditPanel;
use crate::ops::baseline_panel::BaselinePanel;
use crate::ops::config_panel::ConfigPanel;
use crate::ops::controls_panel::ControlsPanel;
use crate::ops::digest_panel::DigestPanel;
use crate::ops::events_panel::EventsPanel;
use crate::ops::guardrails_panel::GuardrailsPanel;
use crate::ops::metrics_panel::MetricsPanel;
use crate::ops::overrides_panel::OverridesPanel;
use crate::ops::prodchecks_panel::{ProdChecksAlert, ProdChecksPanel, RUNS_SHOWN};
use crate::ops::recovery_panel::RecoveryPanel;
use crate::ops::status_panel::StatusPanel;
use crate::state::connection::use_connection;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;

/// The ops console: the operator's panels, or for a viewer token the way
/// to the pages it may read (polling the admin panels would only collect
/// refusals in the audit log).
#[component]
pub fn OpsPage() -> impl IntoView {
    let conn = use_connection();
    let viewer =
        Memo::new(move |_| conn.with_session(|s| s.is_some_and(|s| s.role == Role::Viewer)));
    move || {
        if viewer.get() {
            view! { <ViewerHome /> }.into_any()
        } else {
            view! { <OperatorPanels /> }.into_any()
        }
    }
}

/// What a viewer sees at `/ops`.
#[component]
fn ViewerHome() -> impl IntoView {
    view! {
        <EnvBanner />
        <PageHead title="Ops" />
        <section class="panel" id="viewer-home" aria-labelledby="viewer-home-title">
            <h2 class="panel-title" id="viewer-home-title">
                "Read-only access"
            </h2>
            <p>
                "This token is a viewer token: run controls, runtime status and the audit log are for operators. Open the pages it may read:"
            </p>
            <ul class="viewer-links">
                <li>
                    <a href="/ops/kpi" rel="external">
                        "KPI rollups, funnel, cohorts and alerts"
                    </a>
                </li>
                <li>
                    <a href="/ops/vp" rel="external">
                        "VP lanes and rollout decisions"
                    </a>
                </li>
                <li>
                    <a href="/ops/retention" rel="external">
                        "Retention sweeps and geocoding coverage"
                    </a>
                </li>
                <li>
                    <a href="/ops/runs" rel="external">
                        "Run history"
                    </a>
                </li>
            </ul>
        </section>
    }
}

/// The operator's panels, each polling its own source.
#[component]
fn OperatorPanels() -> impl IntoView {
    let status = use_polled(api::status());
    let metrics = use_polled(api::run_metrics());
    let config = use_polled(api::config());
    let events = use_polled(api::events(api::PANEL_ROWS));
    let audit = use_polled(api::audit(api::PANEL_ROWS));
    let stops = use_polled(api::guardrail_stops(api::PANEL_ROWS));
    let kpi_rollups = use_polled(api::kpi_rollups(SUMMARY_DAYS));
    let kpi_alerts = use_polled(api::kpi_alerts());
    let prod_checks = use_polled(api::prod_checks(RUNS_SHOWN));

    view! {
        <EnvBanner status />
        <PageHead title="Ops" />
        <ProdChecksAlert checks=prod_checks />
        <div class="panels">
            <RecoveryPanel status metrics config />
            <StatusPanel status />
            <ControlsPanel status />
            <MetricsPanel metrics />
            <GuardrailsPanel metrics config stops />
            <ProdChecksPanel checks=prod_checks />
            <KpiSummaryPanel rollups=kpi_rollups alerts=kpi_alerts />
            <BaselinePanel />
            <DigestPanel />
            <ConfigPanel config />
            <OverridesPanel config status />
            <EventsPanel events />
            <AuditPanel audit />
        </div>
    }
}
