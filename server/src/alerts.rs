//! KPI alerts: the rule from `opsdeck-api` run over the upstream's rollups on a
//! schedule and on demand, with critical alerts sent to a webhook through the
//! persistent [`Outbox`].

use std::sync::Mutex;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use opsdeck_api::admin::Environment;
use opsdeck_api::alerts::model::AlertNotification;
use opsdeck_api::alerts::receiver::{ReceiverKind, ReceiverView};
use opsdeck_api::alerts::{
    KpiAlertPayload, KpiAlertsView, WebhookInfo, WebhookLog, WebhookLogEntry, paths,
};
use opsdeck_api::console::LimitQuery;
use opsdeck_api::kpi::{
    KpiAlertReport, KpiAlertThresholds, KpiRollups, Severity, evaluate_kpi_alerts,
};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::alerting::KpiHolds;
use crate::config::Secret;
use crate::console::{bounded_limit, parse_query};
use crate::error::Result;
use crate::outbox::{Attempt, Enqueued, Outbox, RetryPolicy};
use crate::proxy::Upstream;
use crate::startup::StartupError;
use crate::state::AppState;

/// Days of rollups fetched for an evaluation: the judged days and their baselines.
const EVALUATION_DAYS: u32 = 30;
/// Who the console acts as when it reads rollups for alerts.
const ALERTS_ACTOR: &str = "opsdeck-alerts";

/// KPI alert and webhook settings.
#[derive(Debug, Clone, clap::Args)]
pub struct AlertArgs {
    /// Relative drop (percent) against the 7-day average that raises a warning.
    #[arg(long, env = "KPI_ALERT_WARNING_DROP_PCT", default_value_t = 20.0)]
    pub kpi_alert_warning_drop_pct: f64,

    /// Relative drop (percent) that raises a critical alert.
    #[arg(long, env = "KPI_ALERT_CRITICAL_DROP_PCT", default_value_t = 40.0)]
    pub kpi_alert_critical_drop_pct: f64,

    /// Smallest cohort whose D1/D7 is judged.
    #[arg(long, env = "KPI_ALERT_MIN_COHORT", default_value_t = 50)]
    pub kpi_alert_min_cohort: u64,

    /// Fewest landings (CTR) or replay starts (completion) for a day to be judged.
    #[arg(long, env = "KPI_ALERT_MIN_SAMPLE", default_value_t = 100)]
    pub kpi_alert_min_sample: u64,

    /// Seconds between scheduled evaluations.
    #[arg(long, env = "KPI_ALERT_EVAL_INTERVAL_SECONDS", default_value_t = 300)]
    pub kpi_alert_eval_interval_seconds: u64,

    /// Send critical alerts to `KPI_ALERT_WEBHOOK_URL`.
    #[arg(long, env = "KPI_ALERT_WEBHOOK_ENABLED", default_value_t = false, action = clap::ArgAction::Set)]
    pub kpi_alert_webhook_enabled: bool,

    /// Where critical alerts are POSTed (JSON, with an `Idempotency-Key` header).
    #[arg(long, env = "KPI_ALERT_WEBHOOK_URL", hide_env_values = true)]
    pub kpi_alert_webhook_url: Option<Secret>,

    /// An identical payload is not sent again within this many minutes.
    #[arg(long, env = "KPI_ALERT_NOTIFY_COOLDOWN_MINUTES", default_value_t = 60)]
    pub kpi_alert_notify_cooldown_minutes: u64,

    /// Time allowed for one webhook attempt, in milliseconds.
    #[arg(long, env = "KPI_ALERT_WEBHOOK_TIMEOUT_MS", default_value_t = 5000)]
    pub kpi_alert_webhook_timeout_ms: u64,

    /// Delay before the first retry, in milliseconds; it doubles each time.
    #[arg(long, env = "KPI_ALERT_WEBHOOK_BACKOFF_MS", default_value_t = 2000)]
    pub kpi_alert_webhook_backoff_ms: u64,

    /// Longest delay between retries, in seconds.
    #[arg(
        long,
        env = "KPI_ALERT_WEBHOOK_MAX_BACKOFF_SECONDS",
        default_value_t = 300
    )]
    pub kpi_alert_webhook_max_backoff_seconds: u64,

    /// Attempts before a delivery is given up.
    #[arg(long, env = "KPI_ALERT_WEBHOOK_MAX_ATTEMPTS", default_value_t = 30)]
    pub kpi_alert_webhook_max_attempts: u32,
}

impl Default for AlertArgs {
    fn default() -> Self {
        crate::config::defaults_of()
    }
}

impl AlertArgs {
    /// The rule's thresholds.
    pub fn thresholds(&self) -> KpiAlertThresholds {
        KpiAlertThresholds {
            warning_drop_pct: self.kpi_alert_warning_drop_pct,
            critical_drop_pct: self.kpi_alert_critical_drop_pct,
            min_cohort: self.kpi_alert_min_cohort,
            min_sample: self.kpi_alert_min_sample,
        }
    }

    /// Refuse settings that cannot work, naming the variable.
    pub fn validate(&self) -> Result<(), String> {
        self.thresholds().validate()?;
        if self.kpi_alert_eval_interval_seconds == 0 {
            return Err("KPI_ALERT_EVAL_INTERVAL_SECONDS must be above 0".into());
        }
        if self.kpi_alert_webhook_max_attempts == 0 || self.kpi_alert_webhook_timeout_ms == 0 {
            return Err(
                "KPI_ALERT_WEBHOOK_MAX_ATTEMPTS and KPI_ALERT_WEBHOOK_TIMEOUT_MS must be above 0"
                    .into(),
            );
        }
        if self.kpi_alert_webhook_enabled {
            let Some(url) = self.kpi_alert_webhook_url.as_ref().map(Secret::expose) else {
                return Err("KPI_ALERT_WEBHOOK_ENABLED=true needs KPI_ALERT_WEBHOOK_URL".into());
            };
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| format!("KPI_ALERT_WEBHOOK_URL is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err("KPI_ALERT_WEBHOOK_URL must be http:// or https://".into());
            }
        }
        Ok(())
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            first_backoff: Duration::from_millis(self.kpi_alert_webhook_backoff_ms),
            max_backoff: Duration::from_secs(self.kpi_alert_webhook_max_backoff_seconds),
            max_attempts: self.kpi_alert_webhook_max_attempts,
        }
    }

    /// Where critical alerts go, when sending is on and the URL is usable.
    fn webhook_target(&self) -> Option<WebhookTarget> {
        if !self.kpi_alert_webhook_enabled {
            return None;
        }
        let url = reqwest::Url::parse(self.kpi_alert_webhook_url.as_ref()?.expose()).ok()?;
        Some(WebhookTarget {
            host: url.host_str().unwrap_or("?").to_owned(),
            pin: payload_key(url.as_str().as_bytes()),
            url,
        })
    }

    fn webhook_info(&self) -> WebhookInfo {
        // Scheme and host only: webhook URLs often carry their secret in the path.
        let target = self
            .kpi_alert_webhook_url
            .as_ref()
            .and_then(|u| reqwest::Url::parse(u.expose()).ok())
            .map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or("?")));
        WebhookInfo {
            enabled: self.kpi_alert_webhook_enabled && self.kpi_alert_webhook_url.is_some(),
            target,
            cooldown_minutes: self.kpi_alert_notify_cooldown_minutes,
        }
    }
}

/// The webhook in force.
struct WebhookTarget {
    url: reqwest::Url,
    /// Its host, the only part of it errors and logs name.
    host: String,
    /// SHA-256 of the URL, kept with each queued delivery.
    pin: String,
}

/// What went wrong reaching the receiver at `host`: the kind of failure and
/// its root cause, never the URL (whose path is often the secret).
pub(crate) fn describe(e: &reqwest::Error, host: &str) -> String {
    let kind = if e.is_connect() {
        "could not reach"
    } else {
        "the exchange failed with"
    };
    let mut cause = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = Some(s.to_string());
        source = s.source();
    }
    match cause {
        Some(cause) => format!("{kind} {host}: {cause}"),
        None => format!("{kind} {host}"),
    }
}

#[derive(Debug, Default)]
struct Latest {
    evaluated_at: Option<DateTime<Utc>>,
    report: Option<KpiAlertReport>,
    last_error: Option<String>,
}

/// The alert evaluator and webhook sender.
#[derive(Debug)]
pub struct Alerts {
    args: AlertArgs,
    environment: Environment,
    latest: Mutex<Latest>,
    outbox: Outbox,
    http: reqwest::Client,
    wake: Notify,
}

/// Most deliveries one round of the worker attempts.
const DELIVERIES_PER_ROUND: usize = 20;

/// How much longer than the webhook timeout a delivery's lease lasts: the
/// time to record the outcome. A lease that runs out means its replica died
/// (or stalled), and the delivery is another's.
const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// The idempotency key of a canonical payload: hex SHA-256.
pub fn payload_key(canonical: &[u8]) -> String {
    Sha256::digest(canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Alerts {
    /// Alerts with `args`, keeping the outbox in `outbox`.
    pub fn new(
        args: AlertArgs,
        environment: Environment,
        outbox: Outbox,
    ) -> std::result::Result<Alerts, StartupError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(args.kpi_alert_webhook_timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartupError(format!("cannot build the webhook client: {e}")))?;
        Ok(Alerts {
            args,
            environment,
            latest: Mutex::new(Latest::default()),
            outbox,
            http,
            wake: Notify::new(),
        })
    }

    /// What `GET /api/console/kpi/alerts` shows.
    pub fn view(&self) -> KpiAlertsView {
        let latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
        KpiAlertsView {
            evaluated_at: latest.evaluated_at,
            report: latest.report.clone(),
            last_error: latest.last_error.clone(),
            thresholds: self.args.thresholds(),
            interval_seconds: self.args.kpi_alert_eval_interval_seconds,
            webhook: self.args.webhook_info(),
        }
    }

    /// Read the rollups, run the rule, keep the result, and queue critical
    /// alerts for the webhook, except those `holds` holds (a silence, or a
    /// guardrail stop that explains them): the delivery log says why.
    pub async fn evaluate(&self, upstream: &Upstream, holds: &KpiHolds) -> Result<KpiAlertsView> {
        let query = format!("days={EVALUATION_DAYS}");
        let rollups = match upstream
            .get_json::<KpiRollups>(opsdeck_api::kpi::paths::ROLLUPS, Some(&query), ALERTS_ACTOR)
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.latest
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .last_error = Some(e.public_message());
                return Err(e);
            }
        };
        let report = evaluate_kpi_alerts(&rollups.days, &self.args.thresholds());
        let now = Utc::now();
        {
            let mut latest = self.latest.lock().unwrap_or_else(|p| p.into_inner());
            latest.evaluated_at = Some(now);
            latest.report = Some(report.clone());
            latest.last_error = None;
        }
        let (held, sent): (Vec<_>, Vec<_>) = report
            .alerts()
            .filter(|a| a.severity == Severity::Critical)
            .map(|a| (holds.why(a), a.clone()))
            .partition(|(why, _)| why.is_some());
        let target = self.args.webhook_target();
        if target.is_some() {
            for (why, a) in held {
                let key = opsdeck_api::alerts::model::kpi_alert(&a).key;
                let why = why.unwrap_or_default();
                self.outbox
                    .suppressed(&key, &why, now.timestamp_millis())
                    .await?;
            }
        }
        let sent = sent.into_iter().map(|(_, a)| a).collect();
        if let Some(target) = target
            && let Some(payload) = KpiAlertPayload::of(self.environment, sent, payload_key)
        {
            let cooldown = Duration::from_secs(self.args.kpi_alert_notify_cooldown_minutes * 60);
            if let Enqueued::Queued(id) = self
                .outbox
                .enqueue(payload, target.pin, cooldown, now.timestamp_millis())
                .await?
            {
                tracing::info!(outbox_id = id, "critical KPI alert queued for the webhook");
                self.wake.notify_one();
            }
        }
        Ok(self.view())
    }

    /// Queue a notification of the alert model for the webhook (with the
    /// same cooldown and idempotency as KPI payloads) and wake the sender.
    /// `None` when no webhook is set up.
    pub async fn notify(&self, n: &AlertNotification) -> Result<Option<Enqueued>> {
        let Some(target) = self.args.webhook_target() else {
            return Ok(None);
        };
        let cooldown = Duration::from_secs(self.args.kpi_alert_notify_cooldown_minutes * 60);
        let queued = self
            .outbox
            .enqueue_alert(n, target.pin, cooldown, Utc::now().timestamp_millis())
            .await?;
        if let Enqueued::Queued(id) = queued {
            tracing::info!(
                outbox_id = id,
                summary = n.summary(),
                "alert notification queued for the webhook"
            );
            self.wake.notify_one();
        }
        Ok(Some(queued))
    }

    /// Log that `n` was not queued, and why (a silence held it).
    pub async fn held(&self, n: &AlertNotification, why: &str) -> Result<()> {
        self.outbox
            .suppressed(&n.idempotency_key, why, Utc::now().timestamp_millis())
            .await
    }

    /// The webhook as the receivers' panel shows it, when one is set up.
    pub async fn receiver(&self) -> Result<Option<ReceiverView>> {
        let info = self.args.webhook_info();
        let Some(target) = info.target.filter(|_| info.enabled) else {
            return Ok(None);
        };
        let (ok, failed) = self.outbox.last_outcomes().await?;
        let last = match (&ok, &failed) {
            (Some(o), Some(f)) if f.id > o.id => Some(f),
            (Some(o), _) => Some(o),
            (None, f) => f.as_ref(),
        };
        Ok(Some(ReceiverView {
            kind: ReceiverKind::Webhook,
            target,
            last_status: last.and_then(|e| e.status_code),
            last_success_at: ok.map(|e| e.at),
            last_failure_at: failed.as_ref().map(|e| e.at),
            last_failure: failed.and_then(|e| e.detail),
        }))
    }

    /// The delivery log of the notifications with `keys`, newest first.
    pub async fn log_of(&self, keys: Vec<String>, limit: u32) -> Result<Vec<WebhookLogEntry>> {
        self.outbox.log_of(keys, limit).await
    }

    /// The console's environment, as notifications name it.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Attempt every due delivery once (at most [`DELIVERIES_PER_ROUND`]).
    /// Returns how many were attempted. A disabled webhook sends nothing; a
    /// delivery queued for another target than today's (the URL was changed)
    /// is never sent to this one. Each is claimed first, for longer than an
    /// attempt can take, so no other replica sends it meanwhile.
    pub async fn deliver_due(&self) -> Result<usize> {
        let Some(target) = self.args.webhook_target() else {
            return Ok(0);
        };
        let lease = Duration::from_millis(self.args.kpi_alert_webhook_timeout_ms) + LEASE_MARGIN;
        let mut count = 0;
        while count < DELIVERIES_PER_ROUND {
            let Some(due) = self
                .outbox
                .claim(Utc::now().timestamp_millis(), lease)
                .await?
            else {
                break;
            };
            count += 1;
            let (id, key, payload, attempts) = (due.id, due.key, due.payload, due.attempts);
            if due.pin.as_deref() != Some(target.pin.as_str()) {
                self.outbox
                    .discard(
                        id,
                        key,
                        "queued for another webhook target; not sent to the current one".into(),
                        Utc::now().timestamp_millis(),
                    )
                    .await?;
                continue;
            }
            let outcome = match self
                .http
                .post(target.url.clone())
                .header("content-type", "application/json")
                .header("idempotency-key", &key)
                .body(payload)
                .send()
                .await
            {
                Ok(r) => Attempt::from_status(r.status().as_u16()),
                Err(e) if e.is_timeout() => Attempt::Transient(
                    None,
                    format!(
                        "no answer within {} ms",
                        self.args.kpi_alert_webhook_timeout_ms
                    ),
                ),
                Err(e) => Attempt::Transient(None, describe(&e, &target.host)),
            };
            if !matches!(outcome, Attempt::Delivered(_)) {
                tracing::warn!(outbox_id = id, ?outcome, "webhook delivery failed");
            }
            self.outbox
                .record(
                    id,
                    key,
                    attempts,
                    outcome,
                    self.args.policy(),
                    Utc::now().timestamp_millis(),
                )
                .await?;
        }
        Ok(count)
    }

    /// The delivery log.
    pub async fn log(&self, limit: u32) -> Result<WebhookLog> {
        self.outbox.log(limit).await
    }
}

/// Start the scheduler (first run right away, then every interval) and the
/// delivery worker. The handles stop them when aborted.
pub fn spawn_tasks(state: AppState) -> Vec<JoinHandle<()>> {
    let scheduler = {
        let state = state.clone();
        tokio::spawn(async move {
            let every = Duration::from_secs(state.alerts.args.kpi_alert_eval_interval_seconds);
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                // One replica evaluates on schedule: the leader, which also
                // runs the alert model that reads this rule's report.
                state.store.wait_to_lead().await;
                let holds = KpiHolds::read(&state.store, Utc::now())
                    .await
                    .unwrap_or_default();
                if let Err(e) = state.alerts.evaluate(&state.upstream, &holds).await {
                    tracing::warn!(error = %e, "scheduled KPI alert evaluation failed");
                }
            }
        })
    };
    let worker = tokio::spawn(async move {
        loop {
            // Wake when something is queued, or at least twice a second for
            // retries that have come due.
            let _ = tokio::time::timeout(Duration::from_millis(500), state.alerts.wake.notified())
                .await;
            if let Err(e) = state.alerts.deliver_due().await {
                tracing::error!(error = %e, "webhook worker failed");
            }
        }
    });
    vec![scheduler, worker]
}

/// Routes under `/api/console/kpi`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::KPI_ALERTS, get(view))
        .route(paths::KPI_ALERTS_EVALUATE, post(evaluate))
        .route(paths::WEBHOOK_DELIVERIES, get(deliveries))
}

async fn view(State(state): State<AppState>) -> Json<KpiAlertsView> {
    Json(state.alerts.view())
}

async fn evaluate(State(state): State<AppState>) -> Result<Json<KpiAlertsView>> {
    let holds = KpiHolds::read(&state.store, Utc::now()).await?;
    state
        .alerts
        .evaluate(&state.upstream, &holds)
        .await
        .map(Json)
}

async fn deliveries(
    State(state): State<AppState>,
    query: std::result::Result<Query<LimitQuery>, QueryRejection>,
) -> Result<Json<WebhookLog>> {
    let limit = bounded_limit(parse_query(query)?.limit)?;
    state.alerts.log(limit).await.map(Json)
}
