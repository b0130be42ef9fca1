//! The one typed HTTP client of the app.
//!
//! Every call carries the operator's credentials and answers `Result<T, ApiError>`.
//! gloo-net's `send()` resolves for any HTTP status, so the status is checked here
//! and a non-2xx body is read as [`opsdeck_api::ErrorBody`]; components never see
//! a URL, a header or a JSON string.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};

use gloo_net::http::{Request, RequestBuilder};
use opsdeck_api::admin::{
    self, AdminConfig, AdminStatus, ControlRequest, ControlResponse, EventsPage, RunMetrics,
    StartRunRequest, WorldResetResponse,
};
use opsdeck_api::alerts::history::{
    self as alert_history_api, AlertCounts, AlertHistory, Timeline,
};
use opsdeck_api::alerts::model::{
    self as alert_model, AckRequest, AlertNotification, AlertStatus, AlertsPage, Silence,
    SilenceRequest,
};
use opsdeck_api::alerts::{self, KpiAlertsView, WebhookLog};
use opsdeck_api::baseline::{self, BaselineCaptureRequest, BaselineList, BaselineSnapshot};
use opsdeck_api::console::{self, AuditPage, Guard, Session};
use opsdeck_api::digest::{self, WeeklyDigestRequest, WeeklyDigestResponse};
use opsdeck_api::geocoding::{self, GeocodingReports};
use opsdeck_api::kpi::{self, KpiRollups};
use opsdeck_api::other::OrOther;
use opsdeck_api::prodchecks::{self, ProdCheckRun, ProdChecksView};
use opsdeck_api::retention::{self, RetentionDays, RetentionReport, SweepRunResponse};
use opsdeck_api::runs::{self, OverridesRequest, OverridesResponse, RunDetail, RunsPage};
use opsdeck_api::vp::{
    self, DecisionTaken, EvidencePage, EvidenceRecord, EvidenceRow, VpCadence, VpCadenceChange,
    VpDashboardMetrics, VpLanes, VpLimits, VpOpsMetrics, VpRouting, VpRoutingChange,
    VpRoutingResult, VpSeries, VpThresholds,
};
use opsdeck_api::{ACTOR_HEADER, ErrorBody, REQUEST_ID_HEADER};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ui::format;

/// What the operator typed into the connect bar: the admin token and who is acting.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Sent as `Authorization: Bearer <token>`.
    pub token: String,
    /// Sent as `X-Actor`.
    pub actor: String,
}

// Hand-written so a token never ends up in a log line or a panic message.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("token", &"<redacted>")
            .field("actor", &self.actor)
            .finish()
    }
}

/// A failed call: the network failed (`status == 0`) or the server refused or failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApiError {
    /// HTTP status, or 0 when no response arrived.
    pub status: u16,
    /// What went wrong, for people.
    pub message: String,
    /// The guard that refused, when one did (a platform's own guard names
    /// are kept as sent).
    pub guard: Option<OrOther<Guard>>,
    /// The input field at fault (400/422).
    pub field: Option<String>,
    /// The upstream that failed or timed out (502/504).
    pub upstream: Option<String>,
    /// The client IP the server saw (IP refusals).
    pub ip: Option<String>,
    /// Seconds until a rate-limited client may try again.
    pub retry_after_seconds: Option<u64>,
    /// The request id, to find the audit row and log lines.
    pub request_id: Option<String>,
}

impl ApiError {
    /// No response at all: server down, connection refused, CORS, offline.
    pub fn network(message: impl Into<String>) -> Self {
        ApiError {
            status: 0,
            message: message.into(),
            ..Default::default()
        }
    }

    /// Build the error for a non-2xx answer from its status, status text, body and
    /// `x-request-id` header. A body that is not an [`ErrorBody`] (a proxy's HTML
    /// page, an empty 502) falls back to the status text.
    pub fn from_response(
        status: u16,
        status_text: &str,
        body: &str,
        header_request_id: Option<String>,
    ) -> Self {
        match serde_json::from_str::<ErrorBody>(body) {
            Ok(b) => ApiError {
                status,
                message: if b.error.trim().is_empty() {
                    fallback_message(status, status_text)
                } else {
                    b.error
                },
                guard: b.guard,
                field: b.field,
                upstream: b.upstream,
                ip: b.ip,
                retry_after_seconds: b.retry_after_seconds,
                request_id: b.request_id.or(header_request_id),
            },
            Err(_) => ApiError {
                status,
                message: fallback_message(status, status_text),
                request_id: header_request_id,
                ..Default::default()
            },
        }
    }

    /// A 2xx whose body is not the type the contract promises.
    pub fn unexpected_body(
        status: u16,
        err: &serde_json::Error,
        request_id: Option<String>,
    ) -> Self {
        ApiError {
            status,
            message: format!("the server's answer did not match the expected shape: {err}"),
            request_id,
            ..Default::default()
        }
    }

    /// `403 Admin IP not allowed`, or `Network error` when nothing answered.
    pub fn headline(&self) -> String {
        if self.status == 0 {
            format!("Network error: {}", self.message)
        } else {
            format!("{} {}", self.status, self.message)
        }
    }
}

fn fallback_message(status: u16, status_text: &str) -> String {
    let text = status_text.trim();
    if text.is_empty() {
        format!("HTTP {status}")
    } else {
        text.to_string()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if let Some(guard) = &self.guard {
            write!(f, " (guard: {guard})")?;
        }
        if let Some(field) = &self.field {
            write!(f, " (field: {field})")?;
        }
        if let Some(upstream) = &self.upstream {
            write!(f, " (upstream: {upstream})")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// How many rows the panels ask for.
pub const PANEL_ROWS: u32 = 20;

/// A GET of the admin or console API with its query parameters (`limit`,
/// `days`, `vp_id`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    path: String,
    query: Vec<(&'static str, String)>,
    /// Its answer, once given, cannot change (see [`Read::immutable`]).
    immutable: bool,
}

impl GetRequest {
    /// Whether a good answer to it is final: a poller need not ask again.
    pub fn is_immutable(&self) -> bool {
        self.immutable
    }

    /// Send it with the operator's credentials. The answer's status is checked;
    /// its body is left for [`Reply::decode`].
    pub async fn send(self, creds: &Credentials) -> Result<Reply, ApiError> {
        let mut builder = authorize(Request::get(&self.path), creds);
        if !self.query.is_empty() {
            builder = builder.query(self.query);
        }
        send(builder.build()).await
    }
}

/// A 2xx answer whose body is not read as its type yet.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    status: u16,
    body: String,
    request_id: Option<String>,
}

impl Reply {
    /// Read the body as the type the contract promises.
    // `ApiError` is large only on 64-bit hosts; every call of this client
    // answers it, and the async ones are simply not linted.
    #[allow(clippy::result_large_err)]
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        serde_json::from_str(&self.body)
            .map_err(|e| ApiError::unexpected_body(self.status, &e, self.request_id))
    }

    /// [`Reply::decode`], keeping the body as sent: for a download of the
    /// answer as the platform wrote it (no serializer of the type in the wasm).
    #[allow(clippy::result_large_err)]
    pub fn decode_with_text<T: DeserializeOwned>(self) -> Result<Texted<T>, ApiError> {
        match serde_json::from_str(&self.body) {
            Ok(value) => Ok(Texted {
                value,
                text: self.body,
            }),
            Err(e) => Err(ApiError::unexpected_body(self.status, &e, self.request_id)),
        }
    }
}

#[cfg(test)]
impl Reply {
    /// A 200 answer with `body`, as a stand-in server would send it.
    pub(crate) fn ok(body: &str) -> Self {
        Reply {
            status: 200,
            body: body.into(),
            request_id: None,
        }
    }
}

/// An answer and its JSON text as received.
#[derive(Debug, Clone, PartialEq)]
pub struct Texted<T> {
    /// The answer.
    pub value: T,
    /// Its body, as sent.
    pub text: String,
}

/// A GET whose answer is a `T`: what the panels poll.
///
/// Sending the [`GetRequest`] is the same code for every answer type and only
/// [`Reply::decode`] is per type. A poller that keeps the two apart carries one
/// copy of the fetching machinery in the wasm rather than one per panel.
pub struct Read<T> {
    request: GetRequest,
    answer: PhantomData<fn() -> T>,
}

// Not derived: the derive would require `T: Clone`, which is not needed here.
impl<T> Clone for Read<T> {
    fn clone(&self) -> Self {
        Read {
            request: self.request.clone(),
            answer: PhantomData,
        }
    }
}

impl<T> Read<T> {
    fn new(path: impl Into<String>, limit: Option<u32>) -> Self {
        Self::with_query(
            path,
            limit
                .map(|l| ("limit", l.to_string()))
                .into_iter()
                .collect(),
        )
    }

    fn with_query(path: impl Into<String>, query: Vec<(&'static str, String)>) -> Self {
        Read {
            request: GetRequest {
                path: path.into(),
                query,
                immutable: false,
            },
            answer: PhantomData,
        }
    }

    /// The request, without its answer type.
    pub fn request(&self) -> GetRequest {
        self.request.clone()
    }

    /// The same read, marked as one whose answer cannot change once given (a
    /// past day's report): polling stops at the first good answer.
    pub fn immutable(mut self) -> Self {
        self.request.immutable = true;
        self
    }
}

/// `GET /api/console/session`: who the server thinks we are.
pub async fn session(creds: &Credentials) -> Result<Session, ApiError> {
    Read::<Session>::new(console::paths::SESSION, None)
        .request()
        .send(creds)
        .await?
        .decode()
}

/// `GET /api/admin/status`.
pub fn status() -> Read<AdminStatus> {
    Read::new(admin::paths::STATUS, None)
}

/// `GET /api/admin/config`.
pub fn config() -> Read<AdminConfig> {
    Read::new(admin::paths::CONFIG, None)
}

/// `GET /api/admin/events?limit=`, newest first.
pub fn events(limit: u32) -> Read<EventsPage> {
    let limit = limit.clamp(1, admin::EVENTS_MAX_LIMIT);
    Read::new(admin::paths::EVENTS, Some(limit))
}

/// `GET /api/admin/events?event_type=simulation_stopped_guardrail&limit=`:
/// the guardrail stop history, newest first.
pub fn guardrail_stops(limit: u32) -> Read<EventsPage> {
    Read::with_query(
        admin::paths::EVENTS,
        vec![
            ("limit", limit.clamp(1, admin::EVENTS_MAX_LIMIT).to_string()),
            (
                "event_type",
                admin::event_type::SIMULATION_STOPPED_GUARDRAIL.to_string(),
            ),
        ],
    )
}

/// `GET /api/admin/metrics/run`.
pub fn run_metrics() -> Read<RunMetrics> {
    Read::new(admin::paths::METRICS_RUN, None)
}

/// `GET /api/console/audit?limit=`, newest first.
pub fn audit(limit: u32) -> Read<AuditPage> {
    let limit = limit.clamp(1, console::LIST_MAX_LIMIT);
    Read::new(console::paths::AUDIT, Some(limit))
}

/// `GET /api/console/audit?limit=&since=&until=`: the rows decided in a
/// time range (a run's span), newest first.
pub fn audit_within(
    limit: u32,
    since: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
) -> Read<AuditPage> {
    let mut query = vec![
        ("limit", limit.clamp(1, console::LIST_MAX_LIMIT).to_string()),
        ("since", format::stamp(since)),
    ];
    query.extend(until.map(|u| ("until", format::stamp(u))));
    Read::with_query(console::paths::AUDIT, query)
}

/// `GET /api/admin/runs?limit=&…`: past and current runs, newest first;
/// `query` is the filters' (`runs::model::Filters::query`).
pub fn runs(query: Vec<(&'static str, String)>) -> Read<RunsPage> {
    Read::with_query(runs::paths::RUNS, query)
}

/// `GET /api/admin/runs/{run_id}`: one run with its events and series.
/// The id is checked first (`validate::run_id`), so it needs no escaping.
pub fn run_detail(run_id: &str) -> Read<RunDetail> {
    Read::new(runs::paths::run(run_id), None)
}

/// `GET /api/admin/kpi/rollups?days=`, newest day first.
pub fn kpi_rollups(days: u32) -> Read<KpiRollups> {
    let days = days.clamp(1, kpi::ROLLUPS_MAX_DAYS);
    Read::with_query(kpi::paths::ROLLUPS, vec![("days", days.to_string())])
}

/// `GET /api/console/kpi/alerts`: the latest evaluation.
pub fn kpi_alerts() -> Read<KpiAlertsView> {
    Read::new(alerts::paths::KPI_ALERTS, None)
}

/// Most webhook deliveries the console lists.
pub const WEBHOOK_MAX_LIMIT: u32 = 500;

/// `GET /api/console/kpi/webhook/deliveries?limit=`, newest first.
pub fn webhook_deliveries(limit: u32) -> Read<WebhookLog> {
    let limit = limit.clamp(1, WEBHOOK_MAX_LIMIT);
    Read::new(alerts::paths::WEBHOOK_DELIVERIES, Some(limit))
}

/// `GET /api/v1/dashboard/metrics/vp/lanes`: the lane picker.
pub fn vp_lanes() -> Read<VpLanes> {
    Read::new(vp::paths::DASHBOARD_LANES, None)
}

/// `GET /api/console/vp/thresholds`: the thresholds decisions are judged by.
pub fn vp_thresholds() -> Read<VpThresholds> {
    Read::new(vp::paths::CONSOLE_THRESHOLDS, None)
}

fn vp_query(vp_id: &str, limits: VpLimits) -> Vec<(&'static str, String)> {
    let mut query = vec![("vp_id", vp_id.to_owned())];
    query.extend(limits.query());
    query
}

/// `GET /api/v1/ops/metrics/coder-vp`: the operator's view, payload errors
/// included (the console adds the ops token; viewers are refused).
pub fn vp_ops_metrics(vp_id: &str, limits: VpLimits) -> Read<VpOpsMetrics> {
    Read::with_query(vp::paths::OPS_METRICS, vp_query(vp_id, limits))
}

/// `GET /api/v1/dashboard/metrics/coder-vp`: the same without payloads.
pub fn vp_dashboard_metrics(vp_id: &str, limits: VpLimits) -> Read<VpDashboardMetrics> {
    Read::with_query(vp::paths::DASHBOARD_METRICS, vp_query(vp_id, limits))
}

/// `GET /api/v1/ops/lanes/{vp_id}/routing`: who forced the lane, when and
/// why (operators only; viewers read the switch from the lane list).
pub fn vp_routing(vp_id: &str) -> Read<VpRouting> {
    Read::new(vp::routing_path(vp_id), None)
}

/// `POST /api/console/vp/lanes/{vp_id}/routing`: switch the lane and record
/// the evidence row.
pub async fn set_vp_routing(
    creds: &Credentials,
    vp_id: &str,
    change: &VpRoutingChange,
) -> Result<VpRoutingResult, ApiError> {
    post(
        creds,
        &vp::paths::CONSOLE_ROUTING.replace("{vp_id}", vp_id),
        change,
    )
    .await
}

/// `GET /api/console/vp/cadence`: the lane's monitoring mode and next check.
pub fn vp_cadence(vp_id: &str) -> Read<VpCadence> {
    Read::with_query(
        vp::paths::CONSOLE_CADENCE,
        vec![("vp_id", vp_id.to_owned())],
    )
}

/// `POST /api/console/vp/cadence`: set the lane's monitoring mode.
pub async fn set_vp_cadence(
    creds: &Credentials,
    change: &VpCadenceChange,
) -> Result<VpCadence, ApiError> {
    post(creds, vp::paths::CONSOLE_CADENCE, change).await
}

/// `GET /api/console/vp/evidence`: the lane's kept rows, newest first, at
/// most `limit`, only those with `taken` when given, and only those older
/// than row `before` when given.
pub fn vp_evidence(
    vp_id: &str,
    taken: Option<DecisionTaken>,
    limit: u32,
    before: Option<i64>,
) -> Read<EvidencePage> {
    let mut query = vec![
        ("vp_id", vp_id.to_owned()),
        ("limit", limit.clamp(1, vp::EVIDENCE_MAX_LIMIT).to_string()),
    ];
    if let Some(t) = taken {
        query.push(("decision_taken", t.key().to_owned()));
    }
    if let Some(b) = before {
        query.push(("before", b.to_string()));
    }
    Read::with_query(vp::paths::CONSOLE_EVIDENCE, query)
}

/// `POST /api/console/vp/evidence`: record a window from a fresh read.
pub async fn record_evidence(
    creds: &Credentials,
    record: &EvidenceRecord,
) -> Result<EvidenceRow, ApiError> {
    post(creds, vp::paths::CONSOLE_EVIDENCE, record).await
}

/// `GET /api/v1/dashboard/metrics/vp/series`: hourly buckets for the charts.
pub fn vp_series(vp_id: &str, buckets: u32) -> Read<VpSeries> {
    Read::with_query(
        vp::paths::DASHBOARD_SERIES,
        vec![
            ("vp_id", vp_id.to_owned()),
            (
                "bucket_minutes",
                vp::SERIES_DEFAULT_BUCKET_MINUTES.to_string(),
            ),
            (
                "buckets",
                buckets.clamp(1, vp::SERIES_MAX_BUCKETS).to_string(),
            ),
        ],
    )
}

/// `GET /api/admin/retention/days`: the days with a stored sweep.
pub fn retention_days() -> Read<RetentionDays> {
    Read::new(retention::paths::DAYS, None)
}

/// `GET /api/admin/retention/latest`, or `/api/admin/retention/<day>` for a
/// past day: a sweep report as stored.
pub fn retention_report(day: Option<chrono::NaiveDate>) -> Read<RetentionReport> {
    match day {
        Some(day) => Read::new(retention::paths::day(day), None),
        None => Read::new(retention::paths::LATEST, None),
    }
}

/// `GET /api/admin/retention/geocoding`: every tenant's newest coverage report.
pub fn geocoding() -> Read<GeocodingReports> {
    Read::new(geocoding::paths::GEOCODING, None)
}

/// `GET /api/admin/baseline/latest`: the stored snapshot (404 before any).
pub fn baseline_latest() -> Read<BaselineSnapshot> {
    Read::new(baseline::paths::BASELINE_LATEST, None)
}

/// `GET /api/admin/baseline?limit=`: the kept captures, newest first.
pub fn baselines(limit: u32) -> Read<BaselineList> {
    let limit = limit.clamp(1, baseline::BASELINE_LIST_MAX_LIMIT);
    Read::new(baseline::paths::BASELINES, Some(limit))
}

/// `GET /api/admin/baseline/{id}`: one capture as the platform stored it.
pub fn baseline(id: u64) -> Read<BaselineSnapshot> {
    Read::new(baseline::paths::baseline(id), None)
}

/// `POST /api/admin/retention/sweep/run`: sweep today now.
pub async fn run_sweep(
    creds: &Credentials,
    body: &ControlRequest,
) -> Result<SweepRunResponse, ApiError> {
    post(creds, retention::paths::SWEEP_RUN, body).await
}

/// `POST /api/admin/baseline/capture`.
pub async fn capture_baseline(
    creds: &Credentials,
    body: &BaselineCaptureRequest,
) -> Result<Texted<BaselineSnapshot>, ApiError> {
    send(authorize(Request::post(baseline::paths::BASELINE_CAPTURE), creds).json(body))
        .await?
        .decode_with_text()
}

/// `POST /api/admin/digest/weekly`: a draft, or `insufficient_evidence`.
pub async fn weekly_digest(
    creds: &Credentials,
    body: &WeeklyDigestRequest,
) -> Result<Texted<WeeklyDigestResponse>, ApiError> {
    send(authorize(Request::post(digest::paths::DIGEST_WEEKLY), creds).json(body))
        .await?
        .decode_with_text()
}

/// `GET /api/console/prod-checks?limit=`: the prod checks' latest runs.
pub fn prod_checks(limit: u32) -> Read<ProdChecksView> {
    Read::new(
        prodchecks::paths::PROD_CHECKS,
        Some(limit.clamp(1, console::LIST_MAX_LIMIT)),
    )
}

/// `POST /api/console/prod-checks/run` (no body): run the prod checks now.
pub async fn run_prod_checks(creds: &Credentials) -> Result<ProdCheckRun, ApiError> {
    send(authorize(Request::post(prodchecks::paths::PROD_CHECKS_RUN), creds).build())
        .await?
        .decode()
}

/// `POST /api/console/kpi/alerts/evaluate` (no body): evaluate now.
pub async fn evaluate_kpi_alerts(creds: &Credentials) -> Result<KpiAlertsView, ApiError> {
    send(authorize(Request::post(alerts::paths::KPI_ALERTS_EVALUATE), creds).build())
        .await?
        .decode()
}

/// `GET /api/console/alerts`: firing, the newest resolved, silences.
pub fn alerts_page() -> Read<AlertsPage> {
    Read::new(alert_model::paths::ALERTS, None)
}

/// `GET /api/console/alerts/counts`: what the nav shows.
pub fn alert_counts() -> Read<AlertCounts> {
    Read::new(alert_history_api::paths::COUNTS, None)
}

/// `GET /api/console/alerts/history?key=`: one alert's history.
pub fn alert_history(key: &str) -> Read<AlertHistory> {
    Read::with_query(
        alert_history_api::paths::HISTORY,
        vec![("key", key.to_owned())],
    )
}

/// `GET /api/console/alerts/timeline`: the newest entries since `since`.
pub fn timeline(since: Option<DateTime<Utc>>, limit: u32) -> Read<Timeline> {
    let mut query = vec![("limit", limit.to_string())];
    if let Some(since) = since {
        query.push((
            "since",
            since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ));
    }
    Read::with_query(alert_history_api::paths::TIMELINE, query)
}

/// `POST /api/console/alerts/ack`.
pub async fn acknowledge(creds: &Credentials, ack: &AckRequest) -> Result<AlertStatus, ApiError> {
    post(creds, alert_model::paths::ACK, ack).await
}

/// `POST /api/console/alerts/silences`.
pub async fn silence(creds: &Credentials, req: &SilenceRequest) -> Result<Silence, ApiError> {
    post(creds, alert_model::paths::SILENCES, req).await
}

/// `POST /api/console/alerts/silences/{id}/expire` (no body): end it now.
pub async fn expire_silence(creds: &Credentials, id: i64) -> Result<Silence, ApiError> {
    let path = alert_model::paths::SILENCE_EXPIRE.replace("{id}", &id.to_string());
    send(authorize(Request::post(&path), creds).build())
        .await?
        .decode()
}

/// `POST /api/console/alerts/test` (no body): send a test notification.
pub async fn send_test_alert(creds: &Credentials) -> Result<AlertNotification, ApiError> {
    send(authorize(Request::post(alert_model::paths::TEST), creds).build())
        .await?
        .decode()
}

/// `POST /api/admin/control/run/start`.
pub async fn start_run(
    creds: &Credentials,
    body: &StartRunRequest,
) -> Result<ControlResponse, ApiError> {
    post(creds, admin::paths::RUN_START, body).await
}

/// `POST /api/admin/control/run/stop`.
pub async fn stop_run(
    creds: &Credentials,
    body: &ControlRequest,
) -> Result<ControlResponse, ApiError> {
    post(creds, admin::paths::RUN_STOP, body).await
}

/// `POST /api/admin/control/run/pause`.
pub async fn pause_run(
    creds: &Credentials,
    body: &ControlRequest,
) -> Result<ControlResponse, ApiError> {
    post(creds, admin::paths::RUN_PAUSE, body).await
}

/// `POST /api/admin/control/run/resume`.
pub async fn resume_run(
    creds: &Credentials,
    body: &ControlRequest,
) -> Result<ControlResponse, ApiError> {
    post(creds, admin::paths::RUN_RESUME, body).await
}

/// `POST /api/admin/config/overrides`: change budgets, stop thresholds or
/// the run switches, with a reason.
pub async fn set_overrides(
    creds: &Credentials,
    body: &OverridesRequest,
) -> Result<OverridesResponse, ApiError> {
    post(creds, runs::paths::CONFIG_OVERRIDES, body).await
}

/// `POST /api/admin/control/world/reset`.
pub async fn reset_world(
    creds: &Credentials,
    body: &ControlRequest,
) -> Result<WorldResetResponse, ApiError> {
    post(creds, admin::paths::WORLD_RESET, body).await
}

fn authorize(builder: RequestBuilder, creds: &Credentials) -> RequestBuilder {
    builder
        .header("Authorization", &format!("Bearer {}", creds.token))
        .header(ACTOR_HEADER, &creds.actor)
        .header("Accept", "application/json")
}

async fn post<B: Serialize, T: DeserializeOwned>(
    creds: &Credentials,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    send(authorize(Request::post(path), creds).json(body))
        .await?
        .decode()
}

/// Send a request and check its status. This part is the same for every answer
/// type, so it is not generic: each instantiation of an async fn carries its own
/// copy of the whole future into the wasm, and only [`Reply::decode`] need differ.
async fn send(request: Result<Request, gloo_net::Error>) -> Result<Reply, ApiError> {
    let request = request.map_err(|e| ApiError::network(e.to_string()))?;
    let response = request
        .send()
        .await
        .map_err(|e| ApiError::network(e.to_string()))?;
    let status = response.status();
    let request_id = response.headers().get(REQUEST_ID_HEADER);
    // A body that cannot even be read as text is treated like an empty one: the
    // status alone still says what happened.
    let body = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        Ok(Reply {
            status,
            body,
            request_id,
        })
    } else {
        Err(ApiError::from_response(
            status,
            &response.status_text(),
            &body,
            request_id,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_names_guard_and_request() {
        let e = ApiError::from_response(
            401,
            "Unauthorized",
            r#"{"error":"Token rejected","guard":"token","request_id":"r-1"}"#,
            Some("r-header".into()),
        );
        assert_eq!(e.status, 401);
        assert_eq!(e.message, "Token rejected");
        assert_eq!(e.guard, Some(Guard::Token.into()));
        assert_eq!(e.request_id.as_deref(), Some("r-1"));
        assert_eq!(
            e.to_string(),
            "401 Token rejected (guard: token) [request r-1]"
        );
    }

    #[test]
    fn non_json_body_falls_back_to_status_text() {
        let e = ApiError::from_response(502, "Bad Gateway", "<html>oops</html>", Some("r2".into()));
        assert_eq!(e.message, "Bad Gateway");
        assert_eq!(e.request_id.as_deref(), Some("r2"));
        let e = ApiError::from_response(504, "", "", None);
        assert_eq!(e.message, "HTTP 504");
        assert_eq!(e.to_string(), "504 HTTP 504");
    }

    #[test]
    fn field_and_upstream_are_kept() {
        let e = ApiError::from_response(
            422,
            "Unprocessable Entity",
            r#"{"error":"run_id is empty","field":"run_id"}"#,
            None,
        );
        assert_eq!(e.field.as_deref(), Some("run_id"));
        let e = ApiError::from_response(
            504,
            "Gateway Timeout",
            r#"{"error":"platform timed out","upstream":"http://127.0.0.1:9"}"#,
            None,
        );
        assert_eq!(e.upstream.as_deref(), Some("http://127.0.0.1:9"));
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_an_error_with_its_request_id() {
        let reply = Reply {
            status: 200,
            body: r#"{"rows":"not a list"}"#.into(),
            request_id: Some("r3".into()),
        };
        let e = reply.decode::<AuditPage>().unwrap_err();
        assert_eq!(e.status, 200);
        assert_eq!(e.request_id.as_deref(), Some("r3"));
        assert!(e.message.contains("expected shape"), "{e}");
    }

    #[test]
    fn row_limits_stay_within_what_the_server_accepts() {
        let q = |n: &'static str, v: u32| vec![(n, v.to_string())];
        assert_eq!(events(0).request().query, q("limit", 1));
        assert_eq!(
            audit(10_000).request().query,
            q("limit", console::LIST_MAX_LIMIT)
        );
        assert!(status().request().query.is_empty());
        assert_eq!(kpi_rollups(0).request().query, q("days", 1));
        assert_eq!(
            kpi_rollups(10_000).request().query,
            q("days", kpi::ROLLUPS_MAX_DAYS)
        );
        assert_eq!(
            webhook_deliveries(9_999).request().query,
            q("limit", WEBHOOK_MAX_LIMIT)
        );
        assert_eq!(baselines(0).request().query, q("limit", 1));
        assert_eq!(
            baselines(1_000).request().query,
            q("limit", baseline::BASELINE_LIST_MAX_LIMIT)
        );
        assert_eq!(baseline(12).request().path, "/api/admin/baseline/12");
        let m = vp_ops_metrics("vp.coder.primary", VpLimits::SUSTAINED).request();
        assert_eq!(m.path, vp::paths::OPS_METRICS);
        assert_eq!(
            m.query,
            vec![
                ("vp_id", "vp.coder.primary".to_string()),
                ("mission_limit", "60".to_string()),
                ("event_limit", "180".to_string()),
            ]
        );
    }

    #[test]
    fn network_errors_have_status_zero() {
        let e = ApiError::network("connection refused");
        assert_eq!(e.status, 0);
        assert_eq!(e.to_string(), "Network error: connection refused");
    }

    #[test]
    fn credentials_debug_hides_the_token() {
        let c = Credentials {
            token: "s3cret".into(),
            actor: "dana".into(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("dana"));
    }
}
