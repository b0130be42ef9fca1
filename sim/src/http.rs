//! The admin contract over HTTP: bearer token, JSON in and out. The VP ops
//! endpoint answers to `x-ua-ops-token` instead, as the platform's does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use opsdeck_api::ACTOR_HEADER;
use opsdeck_api::admin::{
    AdminConfig, AdminStatus, ControlBody, ControlRequest, ControlResponse, EVENTS_DEFAULT_LIMIT,
    EVENTS_MAX_LIMIT, EventsPage, EventsQuery, RunMetrics, StartRunRequest, WorldResetResponse,
    paths,
};
use opsdeck_api::baseline::{
    BaselineCaptureRequest, BaselineList, BaselineListQuery, parse_baseline_id,
    paths as baseline_paths,
};
use opsdeck_api::digest::{WeeklyDigestRequest, WeeklyDigestResponse, paths as digest_paths};
use opsdeck_api::geocoding::{GeocodingReports, paths as geocoding_paths};
use opsdeck_api::kpi::{
    KpiRollups, KpiRollupsQuery, ROLLUPS_DEFAULT_DAYS, ROLLUPS_MAX_DAYS, paths as kpi_paths,
};
use opsdeck_api::retention::{
    NDJSON_CONTENT_TYPE, RetentionDays, SweepRunResponse, parse_day, paths as retention_paths,
};
use opsdeck_api::runs::{
    OverridesRequest, OverridesResponse, RunDetail, RunsPage, RunsQuery, paths as runs_paths,
};
use opsdeck_api::validate::{self, ErrorKind, ValidationError};
use opsdeck_api::vp::{
    OPS_TOKEN_HEADER, VpDashboardMetrics, VpLanes, VpMetricsQuery, VpOpsMetrics, VpRouting,
    VpRoutingChange, VpSeries, VpSeriesQuery, paths as vp_paths,
};
use subtle::ConstantTimeEq;

use crate::error::{Result, SimError};
use crate::world::World;
use crate::{baseline, retention};

/// Shared between the HTTP handlers and the engine.
#[derive(Clone)]
pub struct SimState {
    world: Arc<Mutex<World>>,
    /// Read without the world lock: its files are replaced atomically.
    state_root: Arc<Path>,
    token: Arc<str>,
    ops_token: Arc<str>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState").finish_non_exhaustive()
    }
}

impl SimState {
    /// Wrap an opened world.
    pub fn new(world: World) -> Self {
        let token = world.settings().admin_token.clone().into();
        let ops_token = world.settings().ops_token.clone().into();
        let state_root: PathBuf = world.state_root().to_owned();
        SimState {
            state_root: state_root.into(),
            world: Arc::new(Mutex::new(world)),
            token,
            ops_token,
        }
    }

    /// Run `f` on the world off the async threads: SQLite calls block.
    pub async fn with_world<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut World) -> Result<T> + Send + 'static,
    {
        let world = self.world.clone();
        tokio::task::spawn_blocking(move || {
            // A panic mid-operation leaves SQLite consistent (transactions roll
            // back), so a poisoned lock is safe to reuse.
            let mut w = world.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut w)
        })
        .await
        .map_err(|e| SimError::Task(e.to_string()))?
    }

    /// Run `f` on the state root off the async threads: file reads block.
    async fn with_files<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> Result<T> + Send + 'static,
    {
        let root = self.state_root.clone();
        tokio::task::spawn_blocking(move || f(&root))
            .await
            .map_err(|e| SimError::Task(e.to_string()))?
    }
}

/// The sim's router: the admin contract and the VP dashboard endpoints behind
/// the bearer token, the VP ops endpoint behind `x-ua-ops-token`, and `/healthz`.
pub fn router(state: SimState) -> Router {
    let admin = Router::new()
        .route(paths::STATUS, get(status))
        .route(paths::CONFIG, get(config))
        .route(paths::EVENTS, get(events))
        .route(paths::METRICS_RUN, get(metrics))
        .route(paths::RUN_START, post(start))
        .route(paths::RUN_STOP, post(stop))
        .route(paths::RUN_PAUSE, post(pause))
        .route(paths::RUN_RESUME, post(resume))
        .route(paths::WORLD_RESET, post(reset))
        .route(kpi_paths::ROLLUPS, get(kpi_rollups))
        .route(vp_paths::DASHBOARD_METRICS, get(vp_dashboard_metrics))
        .route(vp_paths::DASHBOARD_LANES, get(vp_lanes))
        .route(vp_paths::DASHBOARD_SERIES, get(vp_series))
        .route(retention_paths::LATEST, get(retention_latest))
        .route(retention_paths::DAYS, get(retention_days))
        .route(geocoding_paths::GEOCODING, get(geocoding))
        .route(retention_paths::RETENTION_NDJSON, get(retention_ndjson))
        .route(geocoding_paths::GEOCODING_NDJSON, get(geocoding_ndjson))
        .route(retention_paths::DAY, get(retention_day))
        .route(retention_paths::SWEEP_RUN, post(sweep_run))
        .route(baseline_paths::BASELINE_CAPTURE, post(baseline_capture))
        .route(baseline_paths::BASELINE_LATEST, get(baseline_latest))
        .route(baseline_paths::BASELINES, get(baselines))
        .route(baseline_paths::BASELINE, get(baseline_by_id))
        .route(digest_paths::DIGEST_WEEKLY, post(digest_weekly))
        .route(runs_paths::RUNS, get(runs_list))
        .route(runs_paths::RUN, get(run_detail))
        .route(runs_paths::CONFIG_OVERRIDES, post(config_overrides))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    // Not behind the bearer token: the platform guards its ops routes with
    // UA_OPS_TOKEN alone.
    let ops = Router::new()
        .route(vp_paths::OPS_METRICS, get(vp_ops_metrics))
        .route(vp_paths::LANE_ROUTING, get(vp_routing).post(set_vp_routing))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_ops_token,
        ));
    Router::new()
        .merge(admin)
        .merge(ops)
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .fallback(not_found)
        .with_state(state)
}

async fn require_token(
    State(state): State<SimState>,
    req: Request,
    next: Next,
) -> Result<Response> {
    let presented = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if bool::from(presented.as_bytes().ct_eq(state.token.as_bytes())) && !presented.is_empty() {
        Ok(next.run(req).await)
    } else {
        Err(SimError::Unauthorized)
    }
}

async fn require_ops_token(
    State(state): State<SimState>,
    req: Request,
    next: Next,
) -> Result<Response> {
    let Some(presented) = req.headers().get(OPS_TOKEN_HEADER) else {
        return Err(SimError::OpsUnauthorized(format!(
            "missing {OPS_TOKEN_HEADER} header: this ops endpoint needs the platform's UA_OPS_TOKEN"
        )));
    };
    let presented = presented.as_bytes();
    if !presented.is_empty()
        && !state.ops_token.is_empty()
        && bool::from(presented.ct_eq(state.ops_token.as_bytes()))
    {
        Ok(next.run(req).await)
    } else {
        Err(SimError::OpsUnauthorized(format!(
            "invalid {OPS_TOKEN_HEADER} header: it does not match the platform's UA_OPS_TOKEN"
        )))
    }
}

async fn not_found(method: Method, uri: Uri) -> SimError {
    SimError::NotFound(format!("no such endpoint: {method} {}", uri.path()))
}

fn actor(headers: &HeaderMap) -> Result<Option<String>> {
    Ok(validate::actor_header(
        headers.get(ACTOR_HEADER).map(|v| v.as_bytes()),
    )?)
}

fn parse_query<T>(query: std::result::Result<Query<T>, QueryRejection>) -> Result<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| validate::bad_query(e.body_text()).into())
}

fn parse_body<T: serde::de::DeserializeOwned + Default>(
    kind: ControlBody,
    body: &Bytes,
) -> Result<T> {
    kind.check(body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| SimError::Invalid(ValidationError::body(&e)))
}

async fn status(State(s): State<SimState>) -> Result<Json<AdminStatus>> {
    s.with_world(|w| Ok(w.status())).await.map(Json)
}

async fn config(State(s): State<SimState>) -> Result<Json<AdminConfig>> {
    s.with_world(|w| Ok(w.config())).await.map(Json)
}

async fn events(
    State(s): State<SimState>,
    query: std::result::Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Json<EventsPage>> {
    let q = parse_query(query)?;
    let limit = validate::bounded("limit", q.limit, EVENTS_DEFAULT_LIMIT, EVENTS_MAX_LIMIT)?;
    let kind = q.event_type;
    s.with_world(move |w| w.events(limit, kind.as_deref()))
        .await
        .map(|events| Json(EventsPage { events }))
}

async fn kpi_rollups(
    State(s): State<SimState>,
    query: std::result::Result<Query<KpiRollupsQuery>, QueryRejection>,
) -> Result<Json<KpiRollups>> {
    let q = parse_query(query)?;
    let days = validate::bounded("days", q.days, ROLLUPS_DEFAULT_DAYS, ROLLUPS_MAX_DAYS)?;
    s.with_world(move |w| w.kpi_rollups(Utc::now(), days))
        .await
        .map(Json)
}

async fn metrics(State(s): State<SimState>) -> Result<Json<RunMetrics>> {
    s.with_world(|w| w.metrics(Utc::now())).await.map(Json)
}

async fn start(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>> {
    let actor = actor(&headers)?;
    let req: StartRunRequest = parse_body(ControlBody::Start, &body)?;
    s.with_world(move |w| w.start(&req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}

type ControlFn =
    fn(&mut World, &ControlRequest, Option<&str>, chrono::DateTime<Utc>) -> Result<ControlResponse>;

async fn control(
    s: SimState,
    headers: HeaderMap,
    body: Bytes,
    f: ControlFn,
) -> Result<Json<ControlResponse>> {
    let actor = actor(&headers)?;
    let req: ControlRequest = parse_body(ControlBody::Control, &body)?;
    s.with_world(move |w| f(w, &req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}

async fn stop(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>> {
    control(s, headers, body, World::stop).await
}

async fn pause(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>> {
    control(s, headers, body, World::pause).await
}

async fn resume(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ControlResponse>> {
    control(s, headers, body, World::resume).await
}

async fn reset(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WorldResetResponse>> {
    let actor = actor(&headers)?;
    let req: ControlRequest = parse_body(ControlBody::Control, &body)?;
    s.with_world(move |w| w.reset(&req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}

async fn vp_ops_metrics(
    State(s): State<SimState>,
    query: std::result::Result<Query<VpMetricsQuery>, QueryRejection>,
) -> Result<Json<VpOpsMetrics>> {
    let q = parse_query(query)?;
    s.with_world(move |w| w.vp_ops_metrics(Utc::now(), &q))
        .await
        .map(Json)
}

async fn vp_routing(
    State(s): State<SimState>,
    UrlPath(vp_id): UrlPath<String>,
) -> Result<Json<VpRouting>> {
    s.with_world(move |w| w.vp_routing(&vp_id)).await.map(Json)
}

async fn set_vp_routing(
    State(s): State<SimState>,
    UrlPath(vp_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<VpRouting>> {
    let actor = actor(&headers)?;
    let change = VpRoutingChange::check_body(&body)?;
    s.with_world(move |w| w.set_vp_routing(Utc::now(), &vp_id, &change, actor.as_deref()))
        .await
        .map(Json)
}

async fn vp_dashboard_metrics(
    State(s): State<SimState>,
    query: std::result::Result<Query<VpMetricsQuery>, QueryRejection>,
) -> Result<Json<VpDashboardMetrics>> {
    let q = parse_query(query)?;
    s.with_world(move |w| w.vp_dashboard_metrics(Utc::now(), &q))
        .await
        .map(Json)
}

async fn vp_lanes(State(s): State<SimState>) -> Result<Json<VpLanes>> {
    s.with_world(|w| w.vp_lanes(Utc::now())).await.map(Json)
}

async fn vp_series(
    State(s): State<SimState>,
    query: std::result::Result<Query<VpSeriesQuery>, QueryRejection>,
) -> Result<Json<VpSeries>> {
    let q = parse_query(query)?;
    s.with_world(move |w| w.vp_series(Utc::now(), &q))
        .await
        .map(Json)
}

/// A body that is empty (`{}`) or a JSON object of `T`; anything else is a
/// 400 naming the problem.
fn parse_object<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ValidationError {
            field: "body",
            message: "request body must be a JSON object".into(),
            kind: ErrorKind::Malformed,
        }
        .into());
    }
    serde_json::from_slice(body).map_err(|e| SimError::Invalid(ValidationError::body(&e)))
}

/// A stored JSON file, served byte for byte.
fn json_file(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

fn ndjson(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, NDJSON_CONTENT_TYPE)], bytes).into_response()
}

async fn retention_latest(State(s): State<SimState>) -> Result<Response> {
    s.with_files(retention::read_latest).await.map(json_file)
}

async fn retention_days(State(s): State<SimState>) -> Result<Json<RetentionDays>> {
    s.with_files(retention::days).await.map(Json)
}

async fn retention_day(
    State(s): State<SimState>,
    UrlPath(day): UrlPath<String>,
) -> Result<Response> {
    let day = parse_day(&day)?;
    s.with_files(move |root| retention::read_day(root, day))
        .await
        .map(json_file)
}

async fn geocoding(State(s): State<SimState>) -> Result<Json<GeocodingReports>> {
    s.with_files(retention::geocoding).await.map(Json)
}

async fn retention_ndjson(State(s): State<SimState>) -> Result<Response> {
    s.with_files(|root| retention::ndjson(&retention::latest_report(root)?.ndjson_lines()))
        .await
        .map(ndjson)
}

async fn geocoding_ndjson(State(s): State<SimState>) -> Result<Response> {
    s.with_files(|root| retention::ndjson(&retention::geocoding(root)?.reports))
        .await
        .map(ndjson)
}

async fn sweep_run(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SweepRunResponse>> {
    let actor = actor(&headers)?;
    let req: ControlRequest = parse_body(ControlBody::Control, &body)?;
    s.with_world(move |w| w.run_retention_sweep(&req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}

async fn baseline_capture(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let actor = actor(&headers)?;
    let req: BaselineCaptureRequest = parse_object(&body)?;
    s.with_world(move |w| w.capture_baseline(&req, actor.as_deref(), Utc::now()))
        .await
        .map(|snapshot| Json(snapshot).into_response())
}

async fn baseline_latest(State(s): State<SimState>) -> Result<Response> {
    s.with_files(baseline::read_latest).await.map(json_file)
}

async fn baselines(
    State(s): State<SimState>,
    query: std::result::Result<Query<BaselineListQuery>, QueryRejection>,
) -> Result<Json<BaselineList>> {
    let limit = parse_query(query)?.limit()?;
    s.with_world(move |w| w.baselines(limit)).await.map(Json)
}

async fn baseline_by_id(
    State(s): State<SimState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response> {
    let id = parse_baseline_id(&id)?;
    s.with_world(move |w| w.baseline(id)).await.map(json_file)
}

async fn digest_weekly(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WeeklyDigestResponse>> {
    let actor = actor(&headers)?;
    let req: WeeklyDigestRequest = parse_object(&body)?;
    s.with_world(move |w| w.weekly_digest(&req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}

async fn runs_list(
    State(s): State<SimState>,
    query: std::result::Result<Query<RunsQuery>, QueryRejection>,
) -> Result<Json<RunsPage>> {
    let filter = parse_query(query)?.check()?;
    s.with_world(move |w| w.runs(&filter, Utc::now()))
        .await
        .map(Json)
}

async fn run_detail(
    State(s): State<SimState>,
    UrlPath(run_id): UrlPath<String>,
) -> Result<Json<RunDetail>> {
    validate::run_id(&run_id)?;
    s.with_world(move |w| w.run_detail(&run_id, Utc::now()))
        .await
        .map(Json)
}

async fn config_overrides(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<OverridesResponse>> {
    let actor = actor(&headers)?;
    let req = OverridesRequest::check_body(&body)?;
    s.with_world(move |w| w.set_overrides(&req, actor.as_deref(), Utc::now()))
        .await
        .map(Json)
}
