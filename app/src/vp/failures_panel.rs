//! **Recent fallbacks and failures** with their payload errors: operators
//! only, since payloads can hold anything the lane wrote.

use leptos::prelude::*;

use crate::hooks::use_polled::PanelFrame;
use crate::ui::panel::Panel;
use crate::vp::model::{self, FailureRow, LaneSnapshot};

fn row(r: FailureRow) -> impl IntoView {
    let event = r.event_type.clone();
    view! {
        <tr data-event=event>
            <td class="nowrap tnum">{r.at}</td>
            <td>
                <code>{r.event_type}</code>
            </td>
            <td>
                <code>{r.mission_id}</code>
            </td>
            <td>{r.reason}</td>
            <td class="payload-error">{r.error}</td>
            <td>
                <code>{r.trace_id}</code>
            </td>
        </tr>
    }
}

/// Rows the table shows; the rest are counted.
const SHOWN: usize = 50;

/// `#panel-vp-failures`.
#[component]
pub fn VpFailuresPanel(
    /// The snapshot's source.
    frame: PanelFrame,
    /// The lane's snapshot.
    snapshot: Memo<Option<LaneSnapshot>>,
) -> impl IntoView {
    let rows = move || {
        snapshot.with(|s| match s {
            Some(LaneSnapshot::Ops(m)) => Some(model::failure_rows(m)),
            _ => None,
        })
    };
    view! {
        <Panel id="panel-vp-failures" title="Recent fallbacks and failures" frame wide=true>
            {move || match rows() {
                None => {
                    view! {
                        <p class="panel-empty" id="vp-failures-hidden">
                            "Payload errors are shown to operators only; this viewer session sees the dashboard-safe counts."
                        </p>
                    }
                        .into_any()
                }
                Some(rows) if rows.is_empty() => {
                    view! { <p class="panel-empty">"No fallbacks or failures in the recent events"</p> }
                        .into_any()
                }
                Some(rows) => {
                    let total = rows.len();
                    let caption = if total > SHOWN {
                        format!("The newest {SHOWN} of {total} in the snapshot's recent events.")
                    } else {
                        format!("{total} in the snapshot's recent events.")
                    };
                    view! {
                        <p class="panel-caption">{caption}</p>
                        <div class="table-wrap" tabindex="0" role="region" aria-label="Recent failures">
                            <table class="data-table" id="vp-failures">
                                <thead>
                                    <tr>
                                        <th scope="col">"Time (UTC)"</th>
                                        <th scope="col">"Event"</th>
                                        <th scope="col">"Mission"</th>
                                        <th scope="col">"Reason"</th>
                                        <th scope="col">"Error"</th>
                                        <th scope="col">"Trace"</th>
                                    </tr>
                                </thead>
                                <tbody>{rows.into_iter().take(SHOWN).map(row).collect_view()}</tbody>
                            </table>
                        </div>
                    }
                        .into_any()
                }
            }}
        </Panel>
    }
}
