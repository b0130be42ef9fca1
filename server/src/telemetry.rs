//! Request ids, JSON logs and `/healthz`.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opsdeck_api::REQUEST_ID_HEADER;
use opsdeck_api::console::{Health, Readiness, ReadyCheck};
use tracing::Instrument;

use crate::config::LogFormat;
use crate::state::AppState;
use crate::store::params;

/// Install the global log subscriber (`RUST_LOG` filters; default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Give every request a fresh id (ignoring any the client sent, so audit ids
/// cannot be forged), log it with its outcome, and return it in `x-request-id`.
pub async fn request_id_and_log(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    let value = HeaderValue::from_str(&id).expect("a uuid is a valid header value");
    req.headers_mut().insert(REQUEST_ID_HEADER, value.clone());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let mut response = next.run(req).instrument(span.clone()).await;
    response.headers_mut().insert(REQUEST_ID_HEADER, value);
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(status, latency_ms, "request finished");
        } else {
            tracing::info!(status, latency_ms, "request finished");
        }
    });
    response
}

/// `GET /healthz`: liveness. 200 while the process serves; the body says
/// whether the store answers too, but readiness is `/readyz`'s to judge.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let ok = state.store.ping().await.is_ok();
    let body = Health {
        status: if ok { "ok" } else { "store unavailable" }.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        upstream_mode: state.upstream.mode(),
        uptime_seconds: state.started.elapsed().as_secs(),
    };
    (StatusCode::OK, Json(body)).into_response()
}

/// A pending notification overdue by more than this means nothing is
/// delivering: the outbox is stuck.
pub const OUTBOX_STUCK_AFTER_MS: i64 = 120_000;

/// `GET /readyz`: 200 when the store takes writes, the upstream answers
/// within its timeout and the outbox moves; otherwise 503 with each check
/// saying what it found.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = match store_writable(&state).await {
        Ok(()) => check("store_writable", true, "the store took a write lock".into()),
        Err(e) => check(
            "store_writable",
            false,
            format!("the store cannot take a write: {e}"),
        ),
    };
    let upstream = match state
        .upstream
        .get_json::<opsdeck_api::admin::AdminStatus>(
            opsdeck_api::admin::paths::STATUS,
            None,
            "opsdeck readiness",
        )
        .await
    {
        Ok(_) => check(
            "upstream_reachable",
            true,
            "GET /api/admin/status answered".into(),
        ),
        Err(e) => check("upstream_reachable", false, e.to_string()),
    };
    let outbox = match overdue_ms(&state).await {
        Ok(None) => check("outbox_moving", true, "no notification is overdue".into()),
        Ok(Some(ms)) if ms <= OUTBOX_STUCK_AFTER_MS => check(
            "outbox_moving",
            true,
            format!("the oldest due notification is {} s overdue", ms / 1000),
        ),
        Ok(Some(ms)) => check(
            "outbox_moving",
            false,
            format!(
                "a webhook notification has been due for {} s without an attempt (stuck after {} s)",
                ms / 1000,
                OUTBOX_STUCK_AFTER_MS / 1000
            ),
        ),
        Err(e) => check(
            "outbox_moving",
            false,
            format!("the outbox cannot be read: {e}"),
        ),
    };
    let checks = vec![store, upstream, outbox];
    let ready = checks.iter().all(|c| c.ok);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks })).into_response()
}

fn check(name: &str, ok: bool, detail: String) -> ReadyCheck {
    ReadyCheck {
        name: name.into(),
        ok,
        detail,
    }
}

/// Run a write that changes nothing: it fails where the store is read-only,
/// full or locked for longer than its busy timeout.
async fn store_writable(state: &AppState) -> crate::error::Result<()> {
    state
        .store
        .with(|c| {
            c.execute(
                "UPDATE webhook_outbox SET attempts = attempts WHERE id = -1",
                params![],
            )
            .map(|_| ())
        })
        .await
}

/// How long the most overdue pending notification has waited past its time.
async fn overdue_ms(state: &AppState) -> crate::error::Result<Option<i64>> {
    let now_ms = chrono::Utc::now().timestamp_millis();
    state
        .store
        .with(move |c| {
            let due: Option<i64> = c.query_row(
                "SELECT MIN(next_attempt_ms) FROM webhook_outbox WHERE status = 'pending'",
                params![],
                |r| r.get(0),
            )?;
            Ok(due.map(|d| now_ms - d).filter(|late| *late > 0))
        })
        .await
}
