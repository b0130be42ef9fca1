//! KPI alerts as the console serves them, and the critical-alert webhook:
//! its payload, outbox and delivery log; [`model`] is the alert model every
//! source is moving to, and [`receiver`] what its alerts look like to
//! Alertmanager.

pub mod history;
pub mod model;
pub mod receiver;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::Environment;
use crate::kpi::{KpiAlert, KpiAlertReport, KpiAlertThresholds, Severity};

/// Paths of the console's KPI alert API.
pub mod paths {
    /// GET [`super::KpiAlertsView`].
    pub const KPI_ALERTS: &str = "/api/console/kpi/alerts";
    /// POST (no body) → [`super::KpiAlertsView`]: evaluate now.
    pub const KPI_ALERTS_EVALUATE: &str = "/api/console/kpi/alerts/evaluate";
    /// GET [`super::WebhookLog`]; query `limit` (1–500, default 50).
    pub const WEBHOOK_DELIVERIES: &str = "/api/console/kpi/webhook/deliveries";
}

/// The webhook as configured (the URL is shown as scheme and host only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookInfo {
    /// `KPI_ALERT_WEBHOOK_ENABLED` and a URL is set.
    pub enabled: bool,
    /// Scheme and host of `KPI_ALERT_WEBHOOK_URL` (never the path or query:
    /// webhook URLs often carry their secret there).
    pub target: Option<String>,
    /// `KPI_ALERT_NOTIFY_COOLDOWN_MINUTES`.
    pub cooldown_minutes: u64,
}

/// `GET /api/console/kpi/alerts`: the latest evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiAlertsView {
    /// When the rule last ran successfully.
    pub evaluated_at: Option<DateTime<Utc>>,
    /// Its result.
    pub report: Option<KpiAlertReport>,
    /// Why the last attempt failed, if it did (the report is then older).
    pub last_error: Option<String>,
    /// Thresholds in force.
    pub thresholds: KpiAlertThresholds,
    /// Seconds between scheduled evaluations.
    pub interval_seconds: u64,
    /// Webhook settings.
    pub webhook: WebhookInfo,
}

/// What the webhook receives for critical alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiAlertPayload {
    /// Always `opsdeck.kpi_alert`.
    pub kind: String,
    /// The console's environment.
    pub environment: Environment,
    /// The critical alerts, in metric order.
    pub alerts: Vec<KpiAlert>,
    /// Hash of the above; identical payloads share it.
    pub idempotency_key: String,
}

impl KpiAlertPayload {
    /// The payload for `report`'s critical alerts, or `None` when there are none.
    /// `key` turns the canonical JSON of environment and alerts into the
    /// idempotency key (the server hashes it).
    pub fn critical(
        environment: Environment,
        report: &KpiAlertReport,
        key: impl FnOnce(&[u8]) -> String,
    ) -> Option<KpiAlertPayload> {
        Self::of(
            environment,
            report
                .alerts()
                .filter(|a| a.severity == Severity::Critical)
                .cloned()
                .collect(),
            key,
        )
    }

    /// The payload of `alerts` (in metric order), or `None` when there are none.
    pub fn of(
        environment: Environment,
        alerts: Vec<KpiAlert>,
        key: impl FnOnce(&[u8]) -> String,
    ) -> Option<KpiAlertPayload> {
        if alerts.is_empty() {
            return None;
        }
        let canonical = serde_json::to_vec(&(environment, &alerts)).unwrap_or_default();
        Some(KpiAlertPayload {
            kind: "opsdeck.kpi_alert".into(),
            environment,
            idempotency_key: key(&canonical),
            alerts,
        })
    }

    /// A one-line summary for the delivery log.
    pub fn summary(&self) -> String {
        self.alerts
            .iter()
            .map(|a| {
                format!(
                    "{} {} -{:.1}%",
                    a.measurement.day, a.measurement.metric, a.measurement.drop_pct
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up: a permanent refusal, or the attempt cap.
    Failed,
}

/// One payload in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Outbox id.
    pub id: i64,
    /// The payload's idempotency key (also sent as `Idempotency-Key`).
    pub idempotency_key: String,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// The day of its newest alert.
    pub day: Option<NaiveDate>,
    /// What it says.
    pub summary: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// Status code of the last attempt, if the receiver answered.
    pub last_status_code: Option<u16>,
    /// What went wrong last, if anything.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What happened in one line of the delivery log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryEvent {
    /// A new payload was queued.
    Queued,
    /// An identical payload was already queued within the cooldown.
    Suppressed,
    /// An attempt failed and another is scheduled.
    Retrying,
    /// The receiver accepted it.
    Delivered,
    /// Given up.
    GaveUp,
}

/// One line of the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookLogEntry {
    /// Log id.
    pub id: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Which payload.
    pub idempotency_key: String,
    /// What happened.
    pub event: DeliveryEvent,
    /// The receiver's status code, when it answered.
    pub status_code: Option<u16>,
    /// Detail for people.
    pub detail: Option<String>,
}

/// `GET /api/console/kpi/webhook/deliveries`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookLog {
    /// Newest first.
    pub deliveries: Vec<WebhookDelivery>,
    /// Newest first.
    pub events: Vec<WebhookLogEntry>,
}
