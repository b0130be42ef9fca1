//! `#panel-alert-history`: the alert named in `?alert=` — what raised it
//! (the evidence, the next step, the page that shows it), what happened to
//! it, and each of its notifications with the receiver's status codes.

use leptos::prelude::*;
use opsdeck_api::alerts::WebhookLogEntry;
use opsdeck_api::alerts::history::{AlertHistory, HistoryEntry};
use opsdeck_api::alerts::model::AlertEvidence;

use crate::alerts::model::{Filters, state_text};
use crate::api;
use crate::hooks::use_polled::use_polled_by;
use crate::kpi::model::delivery_event;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;

const EVIDENCE: &[Column] = &[
    col("Measured"),
    col("Value"),
    col("Threshold"),
    num("Sample"),
];
const ENTRIES: &[Column] = &[
    col("Time (UTC)"),
    col("Event"),
    col("Severity"),
    col("Detail"),
];
const DELIVERIES: &[Column] = &[col("Time (UTC)"), col("Event"), num("Code"), col("Detail")];

fn evidence_row(e: AlertEvidence) -> impl IntoView {
    view! {
        <tr>
            <td>
                <code>{e.name}</code>
            </td>
            <td class="tnum">{e.measured}</td>
            <td class="tnum">{e.threshold}</td>
            <td class="num">{e.sample.map_or_else(|| "—".to_owned(), format::count)}</td>
        </tr>
    }
}

fn entry_row(e: HistoryEntry) -> impl IntoView {
    view! {
        <tr data-event=e.event.key()>
            <td class="nowrap tnum">{format::utc(&e.at)}</td>
            <td>{e.event.key()}</td>
            <td>{e.severity.key()}</td>
            <td>{format::or_dash(e.detail.as_deref())}</td>
        </tr>
    }
}

fn delivery_row(d: WebhookLogEntry) -> impl IntoView {
    let event = delivery_event(d.event);
    view! {
        <tr data-event=event>
            <td class="nowrap tnum">{format::utc(&d.at)}</td>
            <td>{event}</td>
            <td class="num">{d.status_code.map_or_else(|| "—".to_owned(), |c| c.to_string())}</td>
            <td>{format::or_dash(d.detail.as_deref())}</td>
        </tr>
    }
}

fn body(h: AlertHistory) -> impl IntoView {
    let a = h.status.alert.clone();
    let state = state_text(&h.status);
    let has_deliveries = !h.deliveries.is_empty();
    view! {
        <p class="panel-caption" id="alert-history-summary" data-key=h.key.clone()>
            <strong>{a.summary}</strong>
            " — "
            <span id="alert-history-state">{state}</span>
            " · "
            <a href=a.link rel="external">
                "Open the page that shows it"
            </a>
        </p>
        {a.next_step.map(|n| view! { <p class="alert-next">"Next step: " {n}</p> })}
        {(!a.evidence.is_empty())
            .then(|| {
                view! {
                    <h3 class="panel-subtitle">"Evidence"</h3>
                    <DataTable label="Evidence" id="alert-history-evidence" columns=EVIDENCE>
                        {a.evidence.into_iter().map(evidence_row).collect_view()}
                    </DataTable>
                }
            })}
        <h3 class="panel-subtitle">"History"</h3>
        <DataTable label="History" id="alert-history-entries" columns=ENTRIES>
            {h.entries.into_iter().map(entry_row).collect_view()}
        </DataTable>
        <h3 class="panel-subtitle">"Deliveries"</h3>
        {if has_deliveries {
            view! {
                <DataTable label="Deliveries" id="alert-history-deliveries" columns=DELIVERIES>
                    {h.deliveries.into_iter().map(delivery_row).collect_view()}
                </DataTable>
            }
                .into_any()
        } else {
            view! {
                <p class="panel-empty" id="alert-history-no-deliveries">
                    "No notification of this alert went to the webhook (KPI alerts have their own, on the KPI page; a silenced one is held)."
                </p>
            }
                .into_any()
        }}
    }
}

/// `#panel-alert-history`, for `key`.
#[component]
pub fn AlertHistoryPanel(
    /// The alert's key (from the URL).
    key: String,
    /// The URL's filters, for the close link.
    filters: Memo<Filters>,
) -> impl IntoView {
    let history = use_polled_by(move || api::alert_history(&key));
    let data = history.data();
    let close = move || {
        let mut f = filters.get();
        f.alert = None;
        f.href()
    };
    view! {
        <Panel id="panel-alert-history" title="Alert history" frame=history.frame() wide=true>
            <p class="panel-note">
                <a id="alert-history-close" href=close>
                    "Close"
                </a>
            </p>
            {move || data.get().map(body)}
        </Panel>
    }
}
