//! The console server's own API (`/api/console/*`, `/healthz`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::admin::Environment;

/// Paths of the console's own API.
pub mod paths {
    /// GET: [`super::Session`].
    pub const SESSION: &str = "/api/console/session";
    /// GET: [`super::AuditPage`]; query `limit` (1–500, default 50).
    pub const AUDIT: &str = "/api/console/audit";
    /// GET: [`super::Health`]; no token needed.
    pub const HEALTHZ: &str = "/healthz";
}

/// Largest `limit` the console's list endpoints accept.
pub const LIST_MAX_LIMIT: u32 = 500;

/// The server-side checks every admin request passes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// Client IP inside `ADMIN_IP_ALLOWLIST` (403 `Admin IP not allowed`).
    IpAllowlist,
    /// Too many failed tokens from this IP lately (429).
    RateLimit,
    /// `Authorization: Bearer` equals `ADMIN_API_TOKEN` (401).
    Token,
    /// Writes need `ADMIN_WRITE_ENABLED=true` (403).
    WriteEnabled,
}

impl Guard {
    /// The snake_case name used in bodies and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::IpAllowlist => "ip_allowlist",
            Guard::RateLimit => "rate_limit",
            Guard::Token => "token",
            Guard::WriteEnabled => "write_enabled",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Guard> {
        [
            Guard::IpAllowlist,
            Guard::RateLimit,
            Guard::Token,
            Guard::WriteEnabled,
        ]
        .into_iter()
        .find(|g| g.as_str() == s)
    }
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a console token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Holder of `ADMIN_API_TOKEN`: reads everything, writes when the write guard passes.
    Admin,
}

/// One guard's verdict for this session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardCheck {
    /// Which guard.
    pub guard: Guard,
    /// Whether this session passes it.
    pub pass: bool,
    /// Why, for people.
    pub detail: String,
}

/// Whether the console proxies to its embedded sim or a real platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamMode {
    /// The reference `sim` backend started in-process on loopback.
    Embedded,
    /// A platform given with `--upstream`.
    Remote,
}

/// Where admin calls go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamInfo {
    /// Embedded sim or remote platform.
    pub mode: UpstreamMode,
    /// Base URL the server calls.
    pub url: String,
}

/// `GET /api/console/session`: who the server thinks you are and what you may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Your role.
    pub role: Role,
    /// The actor name you sent in `X-Actor`.
    pub actor: Option<String>,
    /// Your IP as the server sees it (after trusted proxies).
    pub ip: String,
    /// The console's environment.
    pub environment: Environment,
    /// Whether writes would pass the write guard.
    pub write_enabled: bool,
    /// Why writes are off, when they are.
    pub writes_disabled_reason: Option<String>,
    /// Every guard's verdict, in the order they run.
    pub guards: Vec<GuardCheck>,
    /// Where admin calls go.
    pub upstream: UpstreamInfo,
    /// Server clock (UTC), to spot skew.
    pub server_time: DateTime<Utc>,
}

/// One audit row: a write or a refusal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Monotonic id; newer rows have larger ids.
    pub id: i64,
    /// When the request was decided (UTC).
    pub at: DateTime<Utc>,
    /// The request id (also in logs and the `x-request-id` header).
    pub request_id: String,
    /// `X-Actor` of the request, if given.
    pub actor: Option<String>,
    /// Client IP as the guard saw it.
    pub ip: String,
    /// HTTP method.
    pub method: String,
    /// Path (without query).
    pub path: String,
    /// Status sent to the client; `None` while a write is in flight (or if the
    /// server stopped before answering it).
    pub status: Option<u16>,
    /// The guard that refused, if one did.
    pub guard: Option<Guard>,
    /// Why it was refused or failed, if it was.
    pub reason: Option<String>,
}

/// Query of the console's list endpoints (audit, webhook deliveries).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitQuery {
    /// Most rows to return (1–500, default 50).
    pub limit: Option<u32>,
}

/// `GET /api/console/audit`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    /// Newest first.
    pub rows: Vec<AuditRow>,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// `ok` when the server and its store answer.
    pub status: String,
    /// Server version.
    pub version: String,
    /// Embedded sim or remote platform.
    pub upstream_mode: UpstreamMode,
    /// Seconds since start.
    pub uptime_seconds: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_names_round_trip() {
        for g in [
            Guard::IpAllowlist,
            Guard::RateLimit,
            Guard::Token,
            Guard::WriteEnabled,
        ] {
            assert_eq!(Guard::parse(g.as_str()), Some(g));
            assert_eq!(
                serde_json::to_string(&g).unwrap(),
                format!("\"{}\"", g.as_str())
            );
        }
        assert_eq!(Guard::parse("nope"), None);
    }
}
