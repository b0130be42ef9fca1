//! `#vp-lanes`, `#vp-profile` and `#vp-limits`: which lane, which decision
//! profile and which query limits, all in the URL so a link opens the same view.

use leptos::prelude::*;
use opsdeck_api::vp::{VpLanes, VpLimits, VpProfile};

use crate::hooks::use_polled::Polled;
use crate::ui::format;
use crate::vp::model;

/// One link per lane (with its mission count) and one per profile.
#[component]
pub fn VpLanePicker(
    /// `GET /api/v1/dashboard/metrics/vp/lanes`.
    lanes: Polled<VpLanes>,
    /// The lane in the URL.
    lane: Memo<String>,
    /// The profile in the URL.
    profile: Memo<VpProfile>,
    /// The page the links open: this one.
    #[prop(default = model::VP_PAGE)]
    page: &'static str,
    /// The query limits in the URL, kept by every link (`/ops/vp` only).
    #[prop(optional)]
    limits: Option<Memo<VpLimits>>,
) -> impl IntoView {
    let limits = move || limits.map(|l| l.get()).unwrap_or_default();
    // The lane in the URL is listed even before (or without) the lane list.
    let ids = Memo::new(move |_| {
        let mut ids: Vec<(String, String, bool)> = lanes.with(|l| {
            l.map(|l| {
                l.lanes
                    .iter()
                    .map(|x| {
                        let forced = if x.force_fallback {
                            "; forced to the fallback path"
                        } else {
                            ""
                        };
                        (
                            x.vp_id.clone(),
                            format!("{} missions{forced}", format::count(x.mission_count)),
                            x.force_fallback,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
        });
        let current = lane.get();
        if !ids.iter().any(|(id, _, _)| *id == current) {
            ids.insert(0, (current, String::new(), false));
        }
        ids
    });
    let profiles = [VpProfile::Rollout, VpProfile::Sustained];
    view! {
        <nav id="vp-lanes" class="range-picker" aria-label="Lane">
            {move || {
                ids.get()
                    .into_iter()
                    .map(|(id, missions, forced)| {
                        let current = id.clone();
                        view! {
                            <a
                                href=move || model::href_limited(page, &id, profile.get(), limits())
                                data-lane=current.clone()
                                data-forced=forced.to_string()
                                title=missions
                                aria-current=move || (lane.get() == current).then_some("true")
                            >
                                {current.clone()}
                                {forced
                                    .then_some(
                                        view! { <span class="lane-forced">" · fallback"</span> },
                                    )}
                            </a>
                        }
                    })
                    .collect_view()
            }}
        </nav>
        <nav id="vp-profile" class="range-picker" aria-label="Decision profile">
            {profiles
                .into_iter()
                .map(|p| {
                    view! {
                        <a
                            href=move || model::href_limited(page, &lane.get(), p, limits())
                            data-profile=model::profile_key(p)
                            aria-current=move || (profile.get() == p).then_some("true")
                        >
                            {model::profile_key(p)}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}

/// The playbook's mission / event limit pairs, and the URL's own pair when it
/// is none of them.
#[component]
pub fn VpLimitsPicker(
    /// The lane in the URL.
    lane: Memo<String>,
    /// The profile in the URL.
    profile: Memo<VpProfile>,
    /// The limits in the URL.
    limits: Memo<VpLimits>,
) -> impl IntoView {
    let link =
        move |l: VpLimits| model::href_limited(model::VP_PAGE, &lane.get(), profile.get(), l);
    view! {
        <nav id="vp-limits" class="range-picker" aria-label="Query limits: missions / events">
            <span class="range-label">"missions / events"</span>
            {VpLimits::PRESETS
                .into_iter()
                .map(|(name, l)| {
                    view! {
                        <a
                            href=move || link(l)
                            data-limits=l.label()
                            title=format!("The playbook's {name}")
                            aria-current=move || (limits.get() == l).then_some("true")
                        >
                            {l.label()}
                        </a>
                    }
                })
                .collect_view()}
            {move || {
                let l = limits.get();
                l.preset()
                    .is_none()
                    .then(|| {
                        view! {
                            <a href=link(l) data-limits=l.label() aria-current="true">
                                {format!("custom {}", l.label())}
                            </a>
                        }
                    })
            }}
        </nav>
    }
}
