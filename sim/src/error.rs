//! The sim's one error type, answered as the contract's `{"error": ...}` body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use opsdeck_api::ErrorBody;
use opsdeck_api::validate::{ErrorKind, ValidationError};
use opsdeck_api::vp::OPS_TOKEN_HEADER;

/// Everything a sim endpoint can fail with.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// No or wrong bearer token.
    #[error("missing or invalid admin token")]
    Unauthorized,
    /// No or wrong `x-ua-ops-token` on an ops endpoint; says which.
    #[error("{0}")]
    OpsUnauthorized(String),
    /// The platform's own write flag or environment forbids this.
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the run state (already active, nothing to stop, …).
    #[error("{0}")]
    Conflict(String),
    /// The input was malformed or broke a rule.
    #[error("{0}")]
    Invalid(ValidationError),
    /// No such endpoint or item.
    #[error("{0}")]
    NotFound(String),
    /// Storage failed.
    #[error("storage error: {0}")]
    Store(#[from] rusqlite::Error),
    /// Reading or writing the state root failed.
    #[error("state file error: {0}")]
    Io(String),
    /// A background task died.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// `Result` with [`SimError`].
pub type Result<T, E = SimError> = std::result::Result<T, E>;

impl From<ValidationError> for SimError {
    fn from(e: ValidationError) -> Self {
        SimError::Invalid(e)
    }
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            SimError::Unauthorized => (StatusCode::UNAUTHORIZED, ErrorBody::new(self.to_string())),
            SimError::OpsUnauthorized(m) => (
                StatusCode::UNAUTHORIZED,
                ErrorBody {
                    error: m.clone(),
                    field: Some(OPS_TOKEN_HEADER.to_owned()),
                    ..Default::default()
                },
            ),
            SimError::Forbidden(m) => (StatusCode::FORBIDDEN, ErrorBody::new(m.clone())),
            SimError::Conflict(m) => (StatusCode::CONFLICT, ErrorBody::new(m.clone())),
            SimError::NotFound(m) => (StatusCode::NOT_FOUND, ErrorBody::new(m.clone())),
            SimError::Invalid(v) => (
                match v.kind {
                    ErrorKind::Malformed => StatusCode::BAD_REQUEST,
                    ErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                },
                ErrorBody {
                    error: v.message.clone(),
                    field: Some(v.field.to_string()),
                    ..Default::default()
                },
            ),
            SimError::Store(_) | SimError::Io(_) | SimError::Task(_) => {
                tracing::error!(error = %self, "sim request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorBody::new("internal error in the sim; see its log"),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
