//! `#vp-cadence`: the lane's monitoring cadence (playbook section 7.1) — its
//! mode, when the next check is due and whether it is overdue, including the
//! follow-up a routing change calls for — and, for admins, the mode switch
//! (console state, so allowed on a read-only console too). Operators only:
//! the cadence lives with the evidence log.

use leptos::prelude::*;
use opsdeck_api::vp::{MonitoringMode, VpCadence, VpCadenceChange};

use crate::api;
use crate::hooks::use_polled::use_polled_by;
use crate::hooks::use_write::use_admin_action;
use crate::ui::write_button::WriteBlocked;
use crate::vp::log_model::cadence_text;

/// The cadence line and the mode switch.
#[component]
pub fn VpCadenceBar(
    /// The lane in the URL.
    lane: Memo<String>,
) -> impl IntoView {
    let polled = use_polled_by(move || api::vp_cadence(&lane.get()));
    let cadence = polled.data();
    let write = use_admin_action(
        "change a lane's monitoring mode",
        |creds, change: VpCadenceChange| async move { api::set_vp_cadence(&creds, &change).await },
        |change, _: &VpCadence| {
            Some(format!(
                "{} now monitored as {}",
                change.vp_id,
                change.mode.key()
            ))
        },
    );
    let shown = move || cadence.with(|c| c.as_ref().map(cadence_text));
    let mode = move || cadence.with(|c| c.as_ref().map(|c| c.mode));
    view! {
        <section
            id="vp-cadence"
            class="vp-routing"
            data-mode=move || mode().map_or("", MonitoringMode::key)
            data-overdue=move || {
                cadence.with(|c| c.as_ref().is_some_and(VpCadence::overdue).to_string())
            }
            aria-live="polite"
        >
            <p class="vp-routing-text">
                {move || shown().unwrap_or_else(|| "Monitoring cadence: loading…".into())}
            </p>
            <div class="button-row" role="group" aria-label="Monitoring mode">
                {MonitoringMode::ALL
                    .into_iter()
                    .map(|m| {
                        view! {
                            <button
                                type="button"
                                class="btn btn-quiet"
                                data-mode=m.key()
                                aria-pressed=move || (mode() == Some(m)).to_string()
                                title=move || {
                                    write.blocked().get().unwrap_or_else(|| m.describe().into())
                                }
                                disabled=move || {
                                    write.blocked().with(Option::is_some) || write.pending().get()
                                        || mode() == Some(m)
                                }
                                on:click=move |_| {
                                    write
                                        .dispatch(VpCadenceChange {
                                            vp_id: lane.get_untracked(),
                                            mode: m,
                                        })
                                }
                            >
                                {m.key()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
            <WriteBlocked id="vp-cadence-blocked" blocked=write.blocked() />
        </section>
    }
}
