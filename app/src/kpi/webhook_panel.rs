//! **Webhook deliveries**: the critical-alert outbox and its log (attempts,
//! status codes, suppressed repeats).

use leptos::prelude::*;
use opsdeck_api::alerts::{KpiAlertsView, WebhookDelivery, WebhookLog, WebhookLogEntry};

use crate::hooks::use_polled::Polled;
use crate::kpi::model;
use crate::ui::data_table::{Column, DataTable, col, num};
use crate::ui::format;
use crate::ui::panel::Panel;

fn code(c: Option<u16>) -> String {
    c.map_or_else(|| "—".into(), |c| c.to_string())
}

fn delivery_row(d: WebhookDelivery) -> impl IntoView {
    let status = model::delivery_status(d.status);
    let when = match (d.delivered_at, d.next_attempt_at) {
        (Some(at), _) => format!("delivered {}", format::utc(&at)),
        (None, Some(at)) => format!("next attempt {}", format::utc(&at)),
        (None, None) => "—".into(),
    };
    view! {
        <tr data-key=d.idempotency_key.clone() data-status=status>
            <td class="nowrap tnum">{format::utc(&d.created_at)}</td>
            <td>
                <code title=d
                    .idempotency_key
                    .clone()>{model::short_key(&d.idempotency_key).to_string()}</code>
            </td>
            <td>{d.summary}</td>
            <td>
                <span class=format!("pill pill-{status}")>{status}</span>
            </td>
            <td class="num">{d.attempts}</td>
            <td class="num">{code(d.last_status_code)}</td>
            <td>{format::or_dash(d.last_error.as_deref())}</td>
            <td class="nowrap">{when}</td>
        </tr>
    }
}

fn event_row(e: WebhookLogEntry) -> impl IntoView {
    let event = model::delivery_event(e.event);
    view! {
        <tr data-event=event>
            <td class="nowrap tnum">{format::utc(&e.at)}</td>
            <td>
                <code title=e
                    .idempotency_key
                    .clone()>{model::short_key(&e.idempotency_key).to_string()}</code>
            </td>
            <td>{event}</td>
            <td class="num">{code(e.status_code)}</td>
            <td>{format::or_dash(e.detail.as_deref())}</td>
        </tr>
    }
}

const DELIVERY_COLUMNS: &[Column] = &[
    col("Queued (UTC)"),
    col("Key"),
    col("Alerts"),
    col("Status"),
    num("Attempts"),
    num("Last code"),
    col("Last error"),
    col("When"),
];

const EVENT_COLUMNS: &[Column] = &[
    col("Time (UTC)"),
    col("Key"),
    col("Event"),
    num("Code"),
    col("Detail"),
];

/// `#panel-webhook`.
#[component]
pub fn WebhookPanel(
    /// `GET /api/console/kpi/webhook/deliveries`.
    log: Polled<WebhookLog>,
    /// The alerts view, for the webhook's settings.
    alerts: Polled<KpiAlertsView>,
) -> impl IntoView {
    let data = log.data();
    let settings = move || {
        alerts.with(|v| match v.map(|v| &v.webhook) {
            None => String::new(),
            Some(w) if w.enabled => format!(
                "Critical alerts go to {}; identical payloads are sent once per {} min (KPI_ALERT_NOTIFY_COOLDOWN_MINUTES).",
                w.target.as_deref().unwrap_or("the webhook"),
                w.cooldown_minutes
            ),
            Some(_) => "Webhook off: set KPI_ALERT_WEBHOOK_ENABLED=true and KPI_ALERT_WEBHOOK_URL to deliver critical alerts.".into(),
        })
    };
    let deliveries =
        move || data.with(|l| l.as_ref().map(|l| l.deliveries.clone()).unwrap_or_default());
    let events = move || data.with(|l| l.as_ref().map(|l| l.events.clone()).unwrap_or_default());
    view! {
        <Panel id="panel-webhook" title="Webhook deliveries" frame=log.frame() wide=true>
            <p class="panel-caption" id="webhook-settings">
                {settings}
            </p>
            <Show
                when=move || {
                    data.with(|l| {
                        l.as_ref().is_some_and(|l| !l.deliveries.is_empty() || !l.events.is_empty())
                    })
                }
                fallback=|| view! { <p class="panel-empty">"No deliveries yet"</p> }
            >
                <h3 class="panel-subtitle">"Outbox"</h3>
                <DataTable label="Webhook outbox" id="webhook-deliveries" columns=DELIVERY_COLUMNS>
                    {move || deliveries().into_iter().map(delivery_row).collect_view()}
                </DataTable>
                <h3 class="panel-subtitle">"Log"</h3>
                <DataTable label="Webhook log" id="webhook-log" columns=EVENT_COLUMNS>
                    {move || events().into_iter().map(event_row).collect_view()}
                </DataTable>
            </Show>
        </Panel>
    }
}
