//! The one typed HTTP client of the app.
//!
//! Every call carries the operator's credentials and answers `Result<T, ApiError>`.
//! gloo-net's `send()` resolves for any HTTP status, so the status is checked here
//! and a non-2xx body is read as [`opsdeck_api::ErrorBody`]; components never see
//! a URL, a header or a JSON string.

use std::fmt;

use gloo_net::http::{Request, RequestBuilder, Response};
use opsdeck_api::admin::{
    self, AdminConfig, AdminStatus, ControlRequest, ControlResponse, EventsPage, RunMetrics,
    StartRunRequest, WorldResetResponse,
};
use opsdeck_api::console::{self, AuditPage, Guard, Session};
use opsdeck_api::{ACTOR_HEADER, ErrorBody, REQUEST_ID_HEADER};
use serde::Serialize;
use serde::de::DeserializeOwned;

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
    /// The guard that refused, when one did.
    pub guard: Option<Guard>,
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
        if let Some(guard) = self.guard {
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

/// `GET /api/console/session`: who the server thinks we are.
pub async fn session(creds: &Credentials) -> Result<Session, ApiError> {
    get(creds, console::paths::SESSION, &[]).await
}

/// `GET /api/admin/status`.
pub async fn status(creds: &Credentials) -> Result<AdminStatus, ApiError> {
    get(creds, admin::paths::STATUS, &[]).await
}

/// `GET /api/admin/config`.
pub async fn config(creds: &Credentials) -> Result<AdminConfig, ApiError> {
    get(creds, admin::paths::CONFIG, &[]).await
}

/// `GET /api/admin/events?limit=`, newest first.
pub async fn events(creds: &Credentials, limit: u32) -> Result<EventsPage, ApiError> {
    let limit = limit.clamp(1, admin::EVENTS_MAX_LIMIT).to_string();
    get(creds, admin::paths::EVENTS, &[("limit", &limit)]).await
}

/// `GET /api/admin/metrics/run`.
pub async fn run_metrics(creds: &Credentials) -> Result<RunMetrics, ApiError> {
    get(creds, admin::paths::METRICS_RUN, &[]).await
}

/// `GET /api/console/audit?limit=`, newest first.
pub async fn audit(creds: &Credentials, limit: u32) -> Result<AuditPage, ApiError> {
    let limit = limit.clamp(1, console::AUDIT_MAX_LIMIT).to_string();
    get(creds, console::paths::AUDIT, &[("limit", &limit)]).await
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

async fn get<T: DeserializeOwned>(
    creds: &Credentials,
    path: &str,
    query: &[(&str, &str)],
) -> Result<T, ApiError> {
    let mut builder = authorize(Request::get(path), creds);
    if !query.is_empty() {
        builder = builder.query(query.iter().copied());
    }
    let request = builder
        .build()
        .map_err(|e| ApiError::network(e.to_string()))?;
    read(request.send().await).await
}

async fn post<B: Serialize, T: DeserializeOwned>(
    creds: &Credentials,
    path: &str,
    body: &B,
) -> Result<T, ApiError> {
    let request = authorize(Request::post(path), creds)
        .json(body)
        .map_err(|e| ApiError::network(e.to_string()))?;
    read(request.send().await).await
}

async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ApiError> {
    let response = sent.map_err(|e| ApiError::network(e.to_string()))?;
    let status = response.status();
    let request_id = response.headers().get(REQUEST_ID_HEADER);
    // A body that cannot even be read as text is treated like an empty one: the
    // status alone still says what happened.
    let body = response.text().await.unwrap_or_default();
    if (200..300).contains(&status) {
        serde_json::from_str(&body).map_err(|e| ApiError::unexpected_body(status, &e, request_id))
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
        assert_eq!(e.guard, Some(Guard::Token));
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
