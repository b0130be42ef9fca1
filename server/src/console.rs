//! The console's own API: who you are, the audit log, and the VP thresholds.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::Utc;
use opsdeck_api::console::{
    AuditPage, AuditQuery, Guard, GuardCheck, LIST_MAX_LIMIT, Role, Session, paths,
};
use opsdeck_api::validate;
use opsdeck_api::vp::{VpThresholds, paths as vp_paths};

use crate::error::Result;
use crate::guard::Caller;
use crate::state::AppState;

/// Routes under `/api/console`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::SESSION, get(session))
        .route(paths::AUDIT, get(audit))
        .route(vp_paths::CONSOLE_THRESHOLDS, get(vp_thresholds))
}

/// The VP decision thresholds in force (`VP_*`).
async fn vp_thresholds(State(state): State<AppState>) -> Json<VpThresholds> {
    Json(state.vp_thresholds.clone())
}

/// What the server thinks of this caller. Reaching this handler means the
/// IP, rate-limit and token guards passed; the write guard is reported.
async fn session(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Json<Session> {
    let g = &state.guard;
    let (write_enabled, writes_disabled_reason) = match caller.role {
        Role::Viewer => (false, Some("viewer tokens are read-only".to_string())),
        Role::Admin => (g.write_enabled, g.writes_disabled_reason.clone()),
    };
    let guards = vec![
        GuardCheck {
            guard: Guard::Path,
            pass: true,
            detail: "paths are in their one canonical form".into(),
        },
        GuardCheck {
            guard: Guard::IpAllowlist,
            pass: true,
            detail: format!("{} is inside ADMIN_IP_ALLOWLIST", caller.ip),
        },
        GuardCheck {
            guard: Guard::Origin,
            pass: true,
            detail: "requests come from the console's own pages".into(),
        },
        GuardCheck {
            guard: Guard::Host,
            pass: true,
            detail: "the console answers to this host name".into(),
        },
        GuardCheck {
            guard: Guard::Method,
            pass: true,
            detail: "GET, HEAD and POST".into(),
        },
        GuardCheck {
            guard: Guard::RateLimit,
            pass: true,
            detail: "fewer than AUTH_FAILURE_LIMIT failed tokens from this client lately".into(),
        },
        GuardCheck {
            guard: Guard::Token,
            pass: true,
            detail: format!("token {:?} accepted", caller.token_name),
        },
        GuardCheck {
            guard: Guard::Role,
            pass: true,
            detail: match caller.role {
                Role::Admin => "admin token: every console API".into(),
                Role::Viewer => {
                    "viewer token: KPI, VP, retention and run history reads only".into()
                }
            },
        },
        GuardCheck {
            guard: Guard::WriteEnabled,
            pass: write_enabled,
            detail: match &writes_disabled_reason {
                None => "writes enabled".into(),
                Some(why) => why.clone(),
            },
        },
    ];
    Json(Session {
        role: caller.role,
        token_name: caller.token_name,
        actor: caller.actor,
        ip: caller.ip.to_string(),
        environment: state.environment,
        write_enabled,
        writes_disabled_reason,
        guards,
        upstream: state.upstream.info(caller.role),
        server_time: Utc::now(),
    })
}

async fn audit(
    State(state): State<AppState>,
    query: std::result::Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditPage>> {
    let query = parse_query(query)?;
    let limit = bounded_limit(query.limit)?;
    query.check_range()?;
    let rows = state
        .audit
        .recent_within(limit, query.since, query.until)
        .await?;
    Ok(Json(AuditPage { rows }))
}

/// A query string read as `T`, or a 400 naming what was wrong.
pub fn parse_query<T>(query: std::result::Result<Query<T>, QueryRejection>) -> Result<T> {
    query
        .map(|Query(q)| q)
        .map_err(|e| validate::bad_query(e.body_text()).into())
}

/// A list `limit`: 50 when absent, else 1–[`LIST_MAX_LIMIT`] or a 422.
pub fn bounded_limit(limit: Option<u32>) -> Result<u32> {
    Ok(validate::bounded("limit", limit, 50, LIST_MAX_LIMIT)?)
}
