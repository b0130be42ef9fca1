//! `/ops/vp/evidence`: a lane's kept evidence log — every rollout window
//! recorded from the page, by `opsdeck capture --record` or by the lane
//! switch — with the form that records the window now.
//!
//! Operators only: the rows' failure signatures quote payload errors, so the
//! server refuses the log to viewers, and a viewer's page says so without
//! asking for it. It is a page of its own rather than a panel of `/ops/vp` so
//! that the lane page's bundle stays within its size budget.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use opsdeck_api::pages::VP_EVIDENCE_PAGE;

use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;
use crate::vp::cadence_bar::VpCadenceBar;
use crate::vp::evidence_log_panel::VpEvidenceLogPanel;
use crate::vp::lane_picker::VpLanePicker;
use crate::vp::log_model;
use crate::vp::model;
use crate::vp::page::LaneView;

/// The evidence log page.
#[component]
pub fn VpEvidencePage() -> impl IntoView {
    let LaneView {
        lane,
        profile,
        lanes,
        viewer,
        ..
    } = LaneView::new();
    let query = use_query_map();
    let taken = Memo::new(move |_| query.with(|q| log_model::parse_taken(q.get_str("taken"))));
    let before = Memo::new(move |_| query.with(|q| log_model::parse_before(q.get_str("before"))));
    view! {
        <EnvBanner />
        <PageHead title="VP evidence log">
            <VpLanePicker lanes lane profile page=VP_EVIDENCE_PAGE />
        </PageHead>
        <p class="panel-note">
            "The rollout windows kept for this lane, newest first. "
            <a
                id="evidence-lane-link"
                rel="external"
                href=move || model::href(&lane.get(), profile.get())
            >
                "Back to the lane"
            </a>
        </p>
        {move || {
            if viewer.get() {
                view! {
                    <p class="panel-empty" id="evidence-log-operators-only">
                        "The evidence log is for operators: its failure signatures quote payload errors, which a viewer token may not read."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <VpCadenceBar lane />
                    <div class="panels">
                        <VpEvidenceLogPanel lane profile taken before />
                    </div>
                }
                    .into_any()
            }
        }}
    }
}
