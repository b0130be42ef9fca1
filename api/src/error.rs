//! The one error body every opsdeck refusal and failure uses.

use serde::{Deserialize, Serialize};

use crate::console::Guard;
use crate::other::OrOther;

/// `{"error": "...", ...}`: what went wrong, and where it is known, which guard
/// refused, which field was at fault, which upstream failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong, for people.
    pub error: String,
    /// The guard that refused the request (a platform's own guard names are
    /// kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<OrOther<Guard>>,
    /// The input field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The upstream that failed or timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// The client IP the server saw (on IP refusals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Seconds until a rate-limited client may try again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// The request id, to find the matching audit row and log lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The upstream breaker, when it answered instead of the platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<crate::console::BreakerView>,
}

impl ErrorBody {
    /// A body with just a message.
    pub fn new(error: impl Into<String>) -> Self {
        ErrorBody {
            error: error.into(),
            ..Default::default()
        }
    }
}
