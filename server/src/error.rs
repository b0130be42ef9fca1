//! The server's one error type. 4xx bodies say exactly what was wrong and which
//! guard refused; 5xx bodies say little and the log says everything.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsdeck_api::ErrorBody;
use opsdeck_api::console::Guard;
use opsdeck_api::validate::{ErrorKind, ValidationError};

/// Why a response failed, attached to it so the audit row can say.
#[derive(Debug, Clone)]
pub struct AuditNote {
    /// The guard that refused, if one did.
    pub guard: Option<Guard>,
    /// What went wrong.
    pub reason: String,
}

/// Everything a console request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A guard refused the request.
    #[error("{message}")]
    Refused {
        /// 401, 403 or 429.
        status: StatusCode,
        /// Which guard.
        guard: Guard,
        /// What the client must know.
        message: String,
        /// The IP the server saw, on IP refusals.
        ip: Option<String>,
        /// Seconds to wait, on rate limiting.
        retry_after: Option<u64>,
    },
    /// Input could not be read or broke a rule.
    #[error("{0}")]
    Invalid(ValidationError),
    /// Body over the limit.
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The body did not arrive within `REQUEST_BODY_TIMEOUT_MS`.
    #[error("the request body did not arrive within REQUEST_BODY_TIMEOUT_MS")]
    BodyTimeout,
    /// The upstream could not be reached or broke the connection.
    #[error("upstream {upstream} is unavailable: {detail}")]
    UpstreamUnavailable {
        /// Base URL of the upstream.
        upstream: String,
        /// What failed.
        detail: String,
    },
    /// The upstream did not answer in time.
    #[error("upstream {upstream} did not answer within {timeout_ms} ms")]
    UpstreamTimeout {
        /// Base URL of the upstream.
        upstream: String,
        /// The limit that was hit.
        timeout_ms: u64,
    },
    /// The upstream refused the console's own credential: a server-side misconfiguration.
    #[error("upstream {upstream} refused the console's credential (check UPSTREAM_ADMIN_TOKEN)")]
    UpstreamAuth {
        /// Base URL of the upstream.
        upstream: String,
    },
    /// The upstream's answer is over `UPSTREAM_MAX_RESPONSE_BYTES`.
    #[error("the upstream's answer is larger than UPSTREAM_MAX_RESPONSE_BYTES ({limit} bytes)")]
    UpstreamTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The upstream refused a call the console made for an admin (4xx), and
    /// said why: answered with the same status and words.
    #[error("the platform refused it ({status}): {message}")]
    UpstreamRefused {
        /// The upstream's 4xx status.
        status: StatusCode,
        /// What it said.
        message: String,
    },
    /// The upstream breaker is open: the platform was not called.
    #[error("{}", breaker_words(.0))]
    BreakerOpen(opsdeck_api::console::BreakerView),
    /// An upstream failure as a viewer is told of it: no URL, no detail.
    #[error("the platform is unavailable right now; an admin can see why in the console's log")]
    PlatformUnavailable(StatusCode),
    /// An ops endpoint was asked for but the console has no `UA_OPS_TOKEN`.
    #[error(
        "UA_OPS_TOKEN is not set on this console, so it cannot call the platform's ops endpoints (/api/v1/ops/*)"
    )]
    OpsTokenMissing,
    /// The audit log could not record a write, so the write was not attempted.
    #[error("audit log unavailable: {0}")]
    AuditUnavailable(String),
    /// Anything else that is our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

/// `Result` with [`AppError`].
pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl From<ValidationError> for AppError {
    fn from(e: ValidationError) -> Self {
        AppError::Invalid(e)
    }
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Refused { status, .. } => *status,
            AppError::Invalid(v) => match v.kind {
                ErrorKind::Malformed => StatusCode::BAD_REQUEST,
                ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            },
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            AppError::UpstreamUnavailable { .. }
            | AppError::UpstreamAuth { .. }
            | AppError::UpstreamTooLarge { .. } => StatusCode::BAD_GATEWAY,
            AppError::PlatformUnavailable(status) | AppError::UpstreamRefused { status, .. } => {
                *status
            }
            AppError::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            AppError::AuditUnavailable(_)
            | AppError::OpsTokenMissing
            | AppError::BreakerOpen(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        match self {
            AppError::Refused {
                guard,
                message,
                ip,
                retry_after,
                ..
            } => ErrorBody {
                error: message.clone(),
                guard: Some((*guard).into()),
                ip: ip.clone(),
                retry_after_seconds: *retry_after,
                ..Default::default()
            },
            AppError::Invalid(v) => ErrorBody {
                error: v.message.clone(),
                field: Some(v.field.to_string()),
                ..Default::default()
            },
            AppError::UpstreamUnavailable { upstream, .. } => ErrorBody {
                // The detail (connection refused, reset, …) is useful to operators.
                error: self.to_string(),
                upstream: Some(upstream.clone()),
                ..Default::default()
            },
            AppError::UpstreamTimeout { upstream, .. } | AppError::UpstreamAuth { upstream } => {
                ErrorBody {
                    error: self.to_string(),
                    upstream: Some(upstream.clone()),
                    ..Default::default()
                }
            }
            AppError::BreakerOpen(view) => ErrorBody {
                error: self.to_string(),
                retry_after_seconds: breaker_retry_after(view),
                breaker: Some(*view),
                ..Default::default()
            },
            AppError::AuditUnavailable(_) => {
                ErrorBody::new("audit log unavailable; writes are refused until it recovers")
            }
            AppError::Internal(_) => ErrorBody::new("internal error; see the server log"),
            AppError::TooLarge(_)
            | AppError::BodyTimeout
            | AppError::OpsTokenMissing
            | AppError::UpstreamTooLarge { .. }
            | AppError::PlatformUnavailable(_)
            | AppError::UpstreamRefused { .. } => ErrorBody::new(self.to_string()),
        }
    }
}

/// The breaker's 503 in words: that it is the console's breaker, since when,
/// and when it tries the platform again.
fn breaker_words(view: &opsdeck_api::console::BreakerView) -> String {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "now".into())
    };
    let next = match view.phase {
        opsdeck_api::console::BreakerPhase::HalfOpen => "a probe call is deciding now".to_owned(),
        _ => format!("the next try is at {}", time(view.retry_at)),
    };
    format!(
        "the console's upstream breaker is open (since {}, after {} failed calls in a row); \
         the platform was not called; {next}",
        time(view.since),
        view.consecutive_failures,
    )
}

/// Whole seconds until the breaker's next try (at least 1).
fn breaker_retry_after(view: &opsdeck_api::console::BreakerView) -> Option<u64> {
    let left = view.retry_at? - chrono::Utc::now();
    Some(left.num_seconds().max(1) as u64)
}

impl AppError {
    /// The error as `role` may see it: viewers learn that the platform
    /// failed, never where it is or what it said (the log keeps both).
    pub fn for_role(self, role: opsdeck_api::console::Role) -> AppError {
        let upstream = matches!(
            self,
            AppError::UpstreamUnavailable { .. }
                | AppError::UpstreamTimeout { .. }
                | AppError::UpstreamAuth { .. }
                | AppError::UpstreamTooLarge { .. }
                | AppError::OpsTokenMissing
        );
        if role == opsdeck_api::console::Role::Viewer && upstream {
            tracing::warn!(error = %self, "upstream failure, shown to a viewer without detail");
            return AppError::PlatformUnavailable(self.status());
        }
        self
    }

    /// What went wrong in words fit for any reader: upstream failures without
    /// the upstream's address or what it said.
    pub fn public_message(&self) -> String {
        match self {
            AppError::UpstreamUnavailable { .. } | AppError::UpstreamAuth { .. } => {
                "the platform is unavailable".into()
            }
            AppError::UpstreamTimeout { timeout_ms, .. } => {
                format!("the platform did not answer within {timeout_ms} ms")
            }
            other => other.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, status = status.as_u16(), "request failed");
        }
        let note = AuditNote {
            guard: match &self {
                AppError::Refused { guard, .. } => Some(*guard),
                _ => None,
            },
            reason: self.to_string(),
        };
        let retry_after = match &self {
            AppError::Refused {
                retry_after: Some(s),
                ..
            } => Some(*s),
            AppError::BreakerOpen(view) => breaker_retry_after(view),
            _ => None,
        };
        let mut resp = (status, Json(self.body())).into_response();
        if let Some(s) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"opsdeck\""),
            );
        }
        resp.extensions_mut().insert(note);
        resp
    }
}
