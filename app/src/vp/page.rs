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
use opsdeck_api::vp::{VpLanes, VpLimits, VpProfile, VpReadiness, VpRouting};

use crate::api;
use crate::hooks::use_polled::{Polled, use_polled, use_polled_by};
use crate::state::connection::use_connection;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;
use crate::vp::cadence_bar::VpCadenceBar;
use crate::vp::charts_panel::VpChartsPanel;
use crate::vp::decision_panel::VpDecisionPanel;
use crate::vp::failures_panel::VpFailuresPanel;
use crate::vp::health_panel::VpHealthPanel;
use crate::vp::lane_picker::{VpLanePicker, VpLimitsPicker};
use crate::vp::log_model::RoutingState;
use crate::vp::model::{self, LaneSnapshot};
use crate::vp::recovery_panel::VpRecoveryPanel;
use crate::vp::routing_panel::VpRoutingBar;
use crate::vp::session_panel::VpSessionPanel;

/// Hours of history the charts show.
pub const CHART_HOURS: u32 = 48;

/// What both VP pages start from: the lane, profile and query limits in the
/// URL, the lane list, and whether the session is a viewer's.
pub(crate) struct LaneView {
    pub lane: Memo<String>,
    pub profile: Memo<VpProfile>,
    pub limits: Memo<VpLimits>,
    pub lanes: Polled<VpLanes>,
    pub viewer: Memo<bool>,
}

impl LaneView {
    pub(crate) fn new() -> Self {
        let query = use_query_map();
        let conn = use_connection();
        LaneView {
            lane: Memo::new(move |_| query.with(|q| model::parse_lane(q.get_str("lane")))),
            profile: Memo::new(move |_| query.with(|q| model::parse_profile(q.get_str("profile")))),
            limits: Memo::new(move |_| {
                query
                    .with(|q| VpLimits::parse(q.get_str("mission_limit"), q.get_str("event_limit")))
            }),
            lanes: use_polled(api::vp_lanes()),
            viewer: Memo::new(move |_| {
                conn.with_session(|s| s.is_some_and(|s| s.role == Role::Viewer))
            }),
        }
    }
}

/// The VP page.
#[component]
pub fn VpPage() -> impl IntoView {
    let LaneView {
        lane,
        profile,
        limits,
        lanes,
        viewer,
    } = LaneView::new();
    view! {
        <EnvBanner />
        <PageHead title="VP lanes">
            <VpLanePicker lanes lane profile limits />
            <VpLimitsPicker lane profile limits />
        </PageHead>
        {move || view! { <VpContent operator=!viewer.get() lane profile limits lanes /> }}
    }
}

/// The panels, polling the ops endpoint for operators and the dashboard
/// wrapper for viewers.
#[component]
fn VpContent(
    operator: bool,
    lane: Memo<String>,
    profile: Memo<VpProfile>,
    limits: Memo<VpLimits>,
    lanes: Polled<VpLanes>,
) -> impl IntoView {
    let thresholds_polled = use_polled(api::vp_thresholds());
    let thresholds = Memo::new(move |_| thresholds_polled.data().get().unwrap_or_default());
    let series = use_polled_by(move || api::vp_series(&lane.get(), CHART_HOURS));
    let (snapshot, frame) = if operator {
        let p = use_polled_by(move || api::vp_ops_metrics(&lane.get(), limits.get()));
        (
            Memo::new(move |_| p.data().get().map(LaneSnapshot::Ops)),
            p.frame(),
        )
    } else {
        let p = use_polled_by(move || api::vp_dashboard_metrics(&lane.get(), limits.get()));
        (
            Memo::new(move |_| p.data().get().map(LaneSnapshot::Dashboard)),
            p.frame(),
        )
    };
    // The sustained decision, which is the one that says force fallback.
    let decision = Memo::new(move |_| {
        snapshot.with(|s| {
            s.as_ref()
                .map(|s| thresholds.with(|t| model::assess(s, VpProfile::Sustained, t).decision))
        })
    });
    // Who forced the lane and why only operators read; viewers see the list's flag.
    let routing: Option<Polled<VpRouting>> =
        operator.then(|| use_polled_by(move || api::vp_routing(&lane.get())));
    let routing_state = Memo::new(move |_| {
        let current = lane.get();
        let r = routing.and_then(|r| r.data().get());
        lanes.with(|l| RoutingState::of(&current, r.as_ref(), l))
    });
    let readiness = Memo::new(move |_| {
        let since =
            routing_state.with(|s| s.as_ref().filter(|s| s.forced).and_then(|s| s.since))?;
        snapshot.with(|s| match s {
            Some(LaneSnapshot::Ops(m)) => Some(thresholds.with(|t| VpReadiness::of(m, since, t))),
            _ => None,
        })
    });
    view! {
        <VpRoutingBar lane profile state=routing_state operator decision readiness />
        {operator.then(|| view! { <VpCadenceBar lane /> })}
        <div class="panels">
            {operator
                .then(|| {
                    view! {
                        <VpRecoveryPanel
                            lane
                            frame
                            snapshot
                            routing=routing_state
                            decision
                            readiness
                        />
                    }
                })} <VpHealthPanel frame snapshot thresholds />
            <VpDecisionPanel frame snapshot thresholds profile /> <VpSessionPanel frame snapshot />
            <VpChartsPanel series snapshot thresholds lane /> <VpFailuresPanel frame snapshot />
        </div>
    }
}
