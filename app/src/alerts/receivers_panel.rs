//! `#panel-receivers`: where notifications go — the webhook through the
//! outbox, Alertmanager's v2 API — each with its last success and last
//! failure, and "Send test alert", which takes the path a real alert takes
//! through the outbox and is labelled a test.

use leptos::prelude::*;
use opsdeck_api::alerts::model::{AlertNotification, AlertsPage};
use opsdeck_api::alerts::receiver::{ReceiverKind, ReceiverView};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_admin_action;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;
use crate::ui::write_button::{WriteBlocked, WriteButton};

fn receiver(r: ReceiverView) -> impl IntoView {
    let success = r
        .last_success_at
        .as_ref()
        .map_or_else(|| "never".to_owned(), format::utc);
    let failure = match (&r.last_failure_at, &r.last_failure) {
        (Some(at), why) => format!(
            "{}{}",
            format::utc(at),
            why.as_deref()
                .map_or_else(String::new, |w| format!(": {w}"))
        ),
        (None, _) => "never".to_owned(),
    };
    let status = r
        .last_status
        .map_or_else(|| "—".to_owned(), |c| format!("HTTP {c}"));
    let name = r.kind.key();
    let label = match r.kind {
        ReceiverKind::Webhook => "Webhook",
        ReceiverKind::Alertmanager => "Alertmanager",
    };
    view! {
        <dl class="kv receiver" id=format!("receiver-{name}") data-receiver=name>
            <KvRow label field="target" value=r.target stacked=true />
            <KvRow label="Last success" field="last-success" value=success />
            <KvRow label="Last failure" field="last-failure" value=failure stacked=true />
            <KvRow label="Last answer" field="last-status" value=status />
        </dl>
    }
}

/// `#panel-receivers`.
#[component]
pub fn ReceiversPanel(
    /// `GET /api/console/alerts` (its receivers).
    alerts: Polled<AlertsPage>,
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
    let receivers = move || alerts.with(|p| p.map(|p| p.receivers.clone()).unwrap_or_default());
    view! {
        <Panel id="panel-receivers" title="Receivers" frame=alerts.frame()>
            <Show
                when=move || alerts.with(|p| p.is_some_and(|p| !p.receivers.is_empty()))
                fallback=|| {
                    view! {
                        <p class="panel-empty" id="receivers-none">
                            "No receiver is set up: alerts are shown here only. Set KPI_ALERT_WEBHOOK_ENABLED=true with KPI_ALERT_WEBHOOK_URL, or ALERTMANAGER_URL."
                        </p>
                    }
                }
            >
                {move || receivers().into_iter().map(receiver).collect_view()}
            </Show>
            <div class="button-row">
                <WriteButton
                    id="btn-test-alert"
                    label="Send test alert"
                    busy_label="Sending…"
                    hint="Queue a test notification for the webhook through the outbox, as a real alert goes (labelled test)"
                    blocked=test.blocked()
                    pending=test.pending()
                    on_click=Callback::new(move |()| test.dispatch(()))
                />
            </div>
            <WriteBlocked id="test-alert-blocked" blocked=test.blocked() />
        </Panel>
    }
}
