//! `opsdeck-server`: the console server.
//!
//! It serves the built browser app, and stands in front of the platform's
//! admin API as a guarded, audited proxy. [`app`] composes every area's router
//! in one place so tests can drive it without a socket; [`startup`] checks the
//! configuration, opens the store, starts the embedded sim and serves.

pub mod alerting;
pub mod alertmanager;
pub mod alerts;
pub mod audit;
pub mod breaker;
pub mod cadence;
pub mod capture;
pub mod config;
pub mod console;
pub mod error;
pub mod evidence;
pub mod guard;
pub mod listen;
pub mod metrics;
pub mod outbox;
pub mod prodchecks;
pub mod proxy;
pub mod reads;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod timeline;
pub mod viewer;
pub mod web;

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::get;
use axum::{Router, middleware};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

use crate::state::AppState;

pub use crate::startup::{Prepared, Running, prepare, serve, serve_sim, spawn};

/// Answers smaller than this are not compressed.
pub const COMPRESS_ABOVE_BYTES: u16 = 1024;

/// The whole HTTP surface, composed in one readable place.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    let headers = ServiceBuilder::new()
        // The console's policy on every answer, proxied ones included.
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            state.web.csp().clone(),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        // API answers are live data: never cache them. Static handlers set
        // their own; the proxy passes no upstream caching headers on.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .merge(console::router())
        .merge(alerts::router())
        .merge(prodchecks::router())
        .merge(evidence::router())
        .merge(cadence::router())
        .merge(alerting::router())
        .merge(proxy::router())
        .merge(web::router())
        .route(
            opsdeck_api::console::paths::HEALTHZ,
            get(telemetry::healthz),
        )
        .route(opsdeck_api::console::paths::READYZ, get(telemetry::readyz))
        .fallback(web::fallback)
        // Every /api/* request, a known endpoint or not, passes the guard first.
        .layer(middleware::from_fn_with_state(state.clone(), guard::layer))
        .layer(RequestBodyTimeoutLayer::new(limits.request_body_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        // Counted by route template, with the status the client gets.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(headers)
        // Small answers go as they are: gzip of a few hundred bytes of JSON
        // costs more time than the bytes it saves.
        .layer(
            CompressionLayer::new().compress_when(
                SizeAbove::new(COMPRESS_ABOVE_BYTES)
                    .and(NotForContentType::GRPC)
                    .and(NotForContentType::IMAGES)
                    .and(NotForContentType::SSE),
            ),
        )
        .layer(middleware::from_fn(telemetry::request_id_and_log))
        .with_state(state)
}
