//! **Recent fallbacks and failures** with their payload errors: operators
//! only, since payloads can hold anything the lane wrote.

use leptos::prelude::*;

use crate::hooks::use_polled::PanelFrame;
use crate::ui::data_table::{Column, DataTable, col};
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

const COLUMNS: &[Column] = &[
    col("Time (UTC)"),
    col("Event"),
    col("Mission"),
    col("Reason"),
    col("Error"),
    col("Trace"),
];

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
                    view! {
                        <p class="panel-empty">"No fallbacks or failures in the recent events"</p>
                    }
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
                        <DataTable label="Recent failures" id="vp-failures" columns=COLUMNS>
                            {rows.into_iter().take(SHOWN).map(row).collect_view()}
                        </DataTable>
                    }
                        .into_any()
                }
            }}
        </Panel>
    }
}
