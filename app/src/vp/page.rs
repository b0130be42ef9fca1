//! `/ops/vp`: one VP lane during a guarded rollout — health coloured by band,
//! the charts, the decision with its criteria and the evidence row, and (for
//! operators) the recent failures with their payload errors.
//!
//! Operators read the ops endpoint (the console adds the ops token); viewers
//! read the dashboard-safe wrapper and never ask for the other, so they cause
//! no refusals.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use opsdeck_api::console::Role;
use opsdeck_api::vp::VpProfile;

use crate::api;
use crate::hooks::use_polled::{use_polled, use_polled_by};
use crate::state::connection::use_connection;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;
use crate::vp::charts_panel::VpChartsPanel;
use crate::vp::decision_panel::VpDecisionPanel;
use crate::vp::failures_panel::VpFailuresPanel;
use crate::vp::health_panel::VpHealthPanel;
use crate::vp::lane_picker::VpLanePicker;
use crate::vp::model::{self, LaneSnapshot};

/// Hours of history the charts show.
pub const CHART_HOURS: u32 = 48;

/// The VP page.
#[component]
pub fn VpPage() -> impl IntoView {
    let query = use_query_map();
    let lane = Memo::new(move |_| query.with(|q| model::parse_lane(q.get_str("lane"))));
    let profile = Memo::new(move |_| query.with(|q| model::parse_profile(q.get_str("profile"))));
    let lanes = use_polled(api::vp_lanes());
    let conn = use_connection();
    let viewer =
        Memo::new(move |_| conn.with_session(|s| s.is_some_and(|s| s.role == Role::Viewer)));
    view! {
        <EnvBanner />
        <PageHead title="VP lanes">
            <VpLanePicker lanes lane profile />
        </PageHead>
        {move || view! { <VpContent operator=!viewer.get() lane profile /> }}
    }
}

/// The panels, polling the ops endpoint for operators and the dashboard
/// wrapper for viewers.
#[component]
fn VpContent(operator: bool, lane: Memo<String>, profile: Memo<VpProfile>) -> impl IntoView {
    let thresholds_polled = use_polled(api::vp_thresholds());
    let thresholds = Memo::new(move |_| thresholds_polled.data().get().unwrap_or_default());
    let series = use_polled_by(move || api::vp_series(&lane.get(), CHART_HOURS));
    let (snapshot, frame) = if operator {
        let p = use_polled_by(move || api::vp_ops_metrics(&lane.get()));
        (
            Memo::new(move |_| p.data().get().map(LaneSnapshot::Ops)),
            p.frame(),
        )
    } else {
        let p = use_polled_by(move || api::vp_dashboard_metrics(&lane.get()));
        (
            Memo::new(move |_| p.data().get().map(LaneSnapshot::Dashboard)),
            p.frame(),
        )
    };
    view! {
        <div class="panels">
            <VpHealthPanel frame snapshot thresholds />
            <VpDecisionPanel frame snapshot thresholds profile />
            <VpChartsPanel series snapshot thresholds lane />
            <VpFailuresPanel frame snapshot />
        </div>
    }
}
