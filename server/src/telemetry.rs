//! Request ids, JSON logs and `/healthz`.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opsdeck_api::REQUEST_ID_HEADER;
use opsdeck_api::console::Health;
use tracing::Instrument;

use crate::config::LogFormat;
use crate::state::AppState;

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

/// `GET /healthz`: 200 when the server and its store answer.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let ok = state.store.ping().await.is_ok();
    let body = Health {
        status: if ok { "ok" } else { "store unavailable" }.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        upstream_mode: state.upstream.mode(),
        uptime_seconds: state.started.elapsed().as_secs(),
    };
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
