//! `#vp-routing`, at the top of `/ops/vp`: whether the lane is forced to the
//! fallback path (the platform's `UA_CODER_VP_FORCE_FALLBACK`), since when,
//! by whom and why, and for admins on a writable console the switch itself,
//! confirmed and with a required reason, next to the way to the lane's
//! evidence log. Viewers see the state, no button and no log.

use leptos::prelude::*;
use opsdeck_api::vp::{VpDecision, VpProfile, VpReadiness, VpRoutingChange, VpRoutingResult};

use crate::api;
use crate::hooks::use_write::use_write;
use crate::ui::confirm_dialog::{ConfirmDialog, PendingWrite};
use crate::ui::write_button::{WriteBlocked, WriteButton};
use crate::vp::log_model::{RoutingState, evidence_href, routing_confirmation};

/// The switch's state, and for operators the switch.
#[component]
pub fn VpRoutingBar(
    /// The lane in the URL.
    lane: Memo<String>,
    /// The profile in the URL: the evidence log opens with it.
    profile: Memo<VpProfile>,
    /// The switch's state: who and why for operators, from the lane list
    /// for viewers.
    state: Memo<Option<RoutingState>>,
    /// Operators may switch.
    operator: bool,
    /// The automatic decision, for the confirmation.
    decision: Memo<Option<VpDecision>>,
    /// Whether a forced lane is ready to go back, for the confirmation.
    readiness: Memo<Option<VpReadiness>>,
) -> impl IntoView {
    let forced = move || state.with(|s| s.as_ref().is_some_and(|s| s.forced));
    let text = move || {
        state.with(|s| {
            s.as_ref().map_or_else(
                || "Routing: not known yet.".to_string(),
                RoutingState::describe,
            )
        })
    };
    view! {
        <section
            id="vp-routing"
            class="vp-routing"
            data-forced=move || forced().to_string()
            aria-live="polite"
        >
            <p class="vp-routing-text">{text}</p>
            {operator
                .then(|| {
                    view! {
                        <RoutingSwitch lane forced=Signal::derive(forced) decision readiness />
                        <a
                            id="vp-evidence-link"
                            class="btn btn-quiet"
                            rel="external"
                            href=move || evidence_href(&lane.get(), profile.get())
                        >
                            "Evidence log"
                        </a>
                    }
                })}
        </section>
    }
}

/// The switch: one button that forces or re-enables, and its confirmation.
#[component]
fn RoutingSwitch(
    lane: Memo<String>,
    forced: Signal<bool>,
    decision: Memo<Option<VpDecision>>,
    readiness: Memo<Option<VpReadiness>>,
) -> impl IntoView {
    let write = use_write(
        "switch a lane's routing",
        |creds, (vp_id, change): (String, VpRoutingChange)| async move {
            api::set_vp_routing(&creds, &vp_id, &change).await
        },
        |(vp_id, _), r: &VpRoutingResult| {
            let what = if r.routing.force_fallback {
                format!("{vp_id} forced to the fallback path")
            } else {
                format!("{vp_id} re-enabled")
            };
            Some(match (&r.evidence, &r.evidence_error) {
                (Some(row), _) => format!("{what}; evidence row #{} recorded", row.id),
                (None, Some(e)) => format!("{what}; no evidence row recorded: {e}"),
                (None, None) => what,
            })
        },
    );
    let pending = RwSignal::new(None::<PendingWrite<bool>>);
    let reason = RwSignal::new(String::new());
    let on_confirm = Callback::new(move |force: bool| {
        write.dispatch((
            lane.get_untracked(),
            VpRoutingChange {
                force_fallback: force,
                reason: reason.get_untracked().trim().to_owned(),
            },
        ))
    });
    let ask = Callback::new(move |()| {
        let force = !forced.get_untracked();
        pending.set(Some(PendingWrite {
            op: force,
            confirmation: routing_confirmation(
                &lane.get_untracked(),
                force,
                decision.get_untracked(),
                readiness.get_untracked().as_ref(),
            ),
        }));
    });
    view! {
        {move || {
            let label = if forced.get() { "Re-enable lane…" } else { "Force fallback…" };
            view! {
                <WriteButton
                    id="btn-vp-routing"
                    label
                    busy_label="Switching…"
                    hint="Switch the lane's routing on the platform (confirmed, audited, kept in the evidence log)"
                    blocked=write.blocked()
                    pending=write.pending()
                    on_click=ask
                />
            }
        }}
        <WriteBlocked id="vp-routing-blocked" blocked=write.blocked() />
        <ConfirmDialog pending on_confirm reason id="vp-routing" reason_required=true />
    }
}
