//! `#panel-receivers`: where notifications go, each receiver's last success
//! and last failure from the delivery log, and "Send test alert", which
//! takes the path a real alert takes and is labelled a test.

use leptos::prelude::*;
use opsdeck_api::alerts::model::AlertNotification;
use opsdeck_api::alerts::{DeliveryEvent, KpiAlertsView, WebhookLog, WebhookLogEntry};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_admin_action;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};

fn outcome(e: Option<&WebhookLogEntry>) -> String {
    e.map_or_else(
        || "never".to_owned(),
        |e| {
            let code = e
                .status_code
                .map_or_else(String::new, |c| format!(" (HTTP {c})"));
            let detail = e
                .detail
                .as_deref()
                .map_or_else(String::new, |d| format!(": {d}"));
            format!("{}{code}{detail}", format::utc(&e.at))
        },
    )
}

/// `#panel-receivers`.
#[component]
pub fn ReceiversPanel(
    /// The delivery log.
    webhook: Polled<WebhookLog>,
    /// The KPI alerts view, for the webhook's settings.
    kpi: Polled<KpiAlertsView>,
) -> impl IntoView {
    let test = use_admin_action(
        "send test alerts",
        |creds, ()| async move { api::send_test_alert(&creds).await },
        |_, n: &AlertNotification| {
            Some(format!(
                "Test alert queued for the webhook (key {}…)",
                n.idempotency_key.chars().take(12).collect::<String>()
            ))
        },
    );
    let target = move || {
        kpi.with(|v| match v.map(|v| &v.webhook) {
            None => "…".to_owned(),
            Some(w) if w.enabled => w.target.clone().unwrap_or_else(|| "set".into()),
            Some(_) => "off: set KPI_ALERT_WEBHOOK_ENABLED=true and KPI_ALERT_WEBHOOK_URL".into(),
        })
    };
    let last = move |ok: bool| {
        webhook.with(|l| {
            outcome(l.and_then(|l| {
                l.events.iter().find(|e| {
                    if ok {
                        e.event == DeliveryEvent::Delivered
                    } else {
                        matches!(e.event, DeliveryEvent::Retrying | DeliveryEvent::GaveUp)
                    }
                })
            }))
        })
    };
    view! {
        <Panel id="panel-receivers" title="Receivers" frame=webhook.frame()>
            <dl class="kv" id="receiver-webhook" data-receiver="webhook">
                <KvRow
                    label="Webhook"
                    field="webhook-target"
                    value=Signal::derive(target)
                    stacked=true
                />
                <KvRow
                    label="Last success"
                    field="webhook-success"
                    value=Signal::derive(move || last(true))
                    stacked=true
                />
                <KvRow
                    label="Last failure"
                    field="webhook-failure"
                    value=Signal::derive(move || last(false))
                    stacked=true
                />
            </dl>
            <div class="button-row">
                <WriteButton
                    id="btn-test-alert"
                    label="Send test alert"
                    busy_label="Sending…"
                    hint="Queue a test notification through the outbox, as a real alert goes (labelled test)"
                    blocked=test.blocked()
                    pending=test.pending()
                    on_click=Callback::new(move |()| test.dispatch(()))
                />
            </div>
            <WriteBlocked id="test-alert-blocked" blocked=test.blocked() />
        </Panel>
    }
}
