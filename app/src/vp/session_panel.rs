//! **Session and lease** (`#panel-vp-session`): what the playbook's lease and
//! recovery drill reads (section 3.4) — the session's lease holder and
//! expiry, last heartbeat and last error, its recent events — with the
//! drill flagged when the session keeps degrading, and what a missing
//! session means.

use leptos::prelude::*;
use opsdeck_api::vp::NULL_SESSION_MEANING;

use crate::hooks::use_polled::PanelFrame;
use crate::ui::data_table::{Column, DataTable, col};
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;
use crate::vp::model::LaneSnapshot;
use crate::vp::session_model::{SESSION_EVENTS_SHOWN, SessionDetail};

const COLUMNS: &[Column] = &[col("Time (UTC)"), col("Event"), col("Reason and error")];

/// `#panel-vp-session`.
#[component]
pub fn VpSessionPanel(
    /// The snapshot's source.
    frame: PanelFrame,
    /// The lane's snapshot.
    snapshot: Memo<Option<LaneSnapshot>>,
) -> impl IntoView {
    let detail = Memo::new(move |_| snapshot.with(|s| s.as_ref().map(SessionDetail::of)));
    let drill = move || {
        detail.with(|d| {
            d.as_ref()
                .and_then(|d| d.drill.as_ref())
                .map(|x| x.summary())
        })
    };
    let fields = move || {
        detail.with(|d| match d.as_ref().map(|d| d.rows.clone()) {
            Some(Some(rows)) => view! {
                <dl class="kv">
                    {rows
                        .into_iter()
                        .map(|(label, field, value)| {
                            view! { <KvRow label field value=Signal::stored(value) /> }
                        })
                        .collect_view()}
                </dl>
            }
            .into_any(),
            Some(None) => view! {
                <p class="panel-empty" id="vp-session-none">
                    {NULL_SESSION_MEANING}
                </p>
            }
            .into_any(),
            None => ().into_any(),
        })
    };
    let events = move || {
        let d = detail.get()?;
        Some(if d.events.is_empty() {
            view! { <p class="panel-empty">"No session events in the snapshot."</p> }.into_any()
        } else {
            let caption = if d.events_total > SESSION_EVENTS_SHOWN {
                format!(
                    "The newest {SESSION_EVENTS_SHOWN} of {} session events in the snapshot.",
                    d.events_total,
                )
            } else {
                format!("{} session events in the snapshot.", d.events_total)
            };
            view! {
                <p class="panel-caption">{caption}</p>
                <DataTable label="Recent session events" id="vp-session-events" columns=COLUMNS>
                    {d
                        .events
                        .into_iter()
                        .map(|e| {
                            let kind = e.event_type.clone();
                            view! {
                                <tr data-event=kind>
                                    <td class="nowrap tnum">{e.at}</td>
                                    <td>
                                        <code>{e.event_type}</code>
                                    </td>
                                    <td class="payload-error">{e.detail}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </DataTable>
            }
            .into_any()
        })
    };
    view! {
        <Panel id="panel-vp-session" title="Session and lease" frame wide=true>
            {move || {
                drill()
                    .map(|text| {
                        view! {
                            <p id="vp-lease-drill" class="lease-drill" role="status">
                                {text}
                            </p>
                        }
                    })
            }}
            {fields}
            {events}
        </Panel>
    }
}
