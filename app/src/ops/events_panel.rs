//! **Guardrail stops / events**: the runtime event log, newest first, with
//! guardrail stops highlighted.

use leptos::prelude::*;
use opsdeck_api::admin::{EventsPage, RuntimeEvent, event_type};

use crate::hooks::use_polled::Polled;
use crate::state::clock::use_clock;
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::format;
use crate::ui::panel::Panel;

const COLUMNS: &[Column] = &[
    col("Time (UTC)"),
    col("Event"),
    col("Run"),
    col("Actor"),
    col("Reason / detail"),
];

/// `#panel-events`.
#[component]
pub fn EventsPanel(
    /// `GET /api/admin/events?limit=20`.
    events: Polled<EventsPage>,
) -> impl IntoView {
    let clock = use_clock();
    let data = events.data();
    // At most PANEL_ROWS rows, re-rendered (patched in place) when the data
    // changes: a keyed <For> would add about 4 KB of wasm per table for no
    // gain a reader could notice.
    let rows = move || data.with(|p| p.as_ref().map(|p| p.events.clone()).unwrap_or_default());
    let empty = move || data.with(|p| p.as_ref().is_some_and(|p| p.events.is_empty()));
    let row = move |ev: RuntimeEvent| {
        let guardrail = ev.event_type == event_type::SIMULATION_STOPPED_GUARDRAIL;
        let at = ev.created_at;
        let reason = format::or_dash(ev.reason.as_deref());
        view! {
            <tr class:event-guardrail=guardrail data-event-type=ev.event_type.clone()>
                <td class="nowrap tnum">
                    <time datetime=format::iso(&at)>{format::utc(&at)}</time>
                    <span class="age">
                        {move || format::ago(format::age_seconds(&at, clock.server_now_ms()))}
                    </span>
                </td>
                <td>
                    <code>{ev.event_type.clone()}</code>
                </td>
                <td>{format::or_dash(ev.run_id.as_deref())}</td>
                <td>{format::or_dash(ev.actor.as_deref())}</td>
                <td class="event-reason">
                    {if guardrail {
                        view! { <strong class="guardrail-reason">{reason}</strong> }.into_any()
                    } else {
                        reason.into_any()
                    }} {ev.detail.map(|d| view! { <span class="event-detail">{d}</span> })}
                </td>
            </tr>
        }
    };
    view! {
        <Panel id="panel-events" title="Guardrail stops / events" frame=events.frame() wide=true>
            <Show
                when=move || !empty()
                fallback=|| view! { <p class="panel-empty">"No runtime events yet"</p> }
            >
                <DataTable label="Runtime events" columns=COLUMNS>
                    {move || rows().into_iter().map(row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
