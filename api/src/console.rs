//! The console server's own API (`/api/console/*`, `/healthz`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

use crate::admin::Environment;
use crate::validate::ValidationError;

/// Paths of the console's own API.
pub mod paths {
    /// GET: [`super::Session`].
    pub const SESSION: &str = "/api/console/session";
    /// GET: [`super::AuditPage`]; query `limit` (1–500, default 50).
    pub const AUDIT: &str = "/api/console/audit";
    /// GET: [`super::Health`]; no token needed. Liveness: 200 while the
    /// process serves.
    pub const HEALTHZ: &str = "/healthz";
    /// GET: [`super::Readiness`]; no token needed. 200 when ready for
    /// traffic, 503 saying why not.
    pub const READYZ: &str = "/readyz";
}

/// Largest `limit` the console's list endpoints accept.
pub const LIST_MAX_LIMIT: u32 = 500;

/// The server-side checks every admin request passes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Guard {
    /// The path is in its one canonical form: no dot segments, empty
    /// segments, backslashes or percent-escapes (400).
    Path,
    /// Client IP inside `ADMIN_IP_ALLOWLIST` (403 `Admin IP not allowed`).
    IpAllowlist,
    /// The request comes from the console's own pages or a non-browser
    /// client: no cross-site `Sec-Fetch-Site`, no foreign `Origin` (403).
    Origin,
    /// The `Host` is one the console answers to (`OPSDECK_ALLOWED_HOSTS`),
    /// which also closes DNS rebinding (403).
    Host,
    /// The method is GET, HEAD or POST (405; OPTIONS is answered by the console).
    Method,
    /// Too many failed tokens from this IP lately (429).
    RateLimit,
    /// `Authorization: Bearer` is a known token (401).
    Token,
    /// The token's role allows this request: viewers read KPI, VP and
    /// retention data only (403).
    Role,
    /// Writes need `ADMIN_WRITE_ENABLED=true` (403).
    WriteEnabled,
}

impl Guard {
    /// The snake_case name used in bodies and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::Path => "path",
            Guard::IpAllowlist => "ip_allowlist",
            Guard::Origin => "origin",
            Guard::Host => "host",
            Guard::Method => "method",
            Guard::RateLimit => "rate_limit",
            Guard::Token => "token",
            Guard::Role => "role",
            Guard::WriteEnabled => "write_enabled",
        }
    }

    /// Parse the snake_case name.
    pub fn parse(s: &str) -> Option<Guard> {
        Guard::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Every guard, in the order they run.
    pub const ALL: [Guard; 9] = [
        Guard::Path,
        Guard::IpAllowlist,
        Guard::Origin,
        Guard::Host,
        Guard::Method,
        Guard::RateLimit,
        Guard::Token,
        Guard::Role,
        Guard::WriteEnabled,
    ];
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a console token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything, writes when the write guard passes (`ADMIN_API_TOKEN`).
    Admin,
    /// Reads KPI, VP (dashboard-safe) and retention data; never writes or
    /// controls runs (`VIEWER_API_TOKEN`, or a tokens file entry).
    Viewer,
}

impl Role {
    /// `admin` or `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }
}

/// Path prefixes a viewer token may GET: KPI, the dashboard-safe VP wrapper,
/// retention, run history (the digest's evidence), and the console's session,
/// KPI alert views, the alert list and VP thresholds. Not the VP evidence log: its failure
/// signatures quote payload errors, which are for operators.
pub const VIEWER_READABLE: &[&str] = &[
    "/api/console/session",
    "/api/console/kpi/",
    crate::vp::paths::CONSOLE_THRESHOLDS,
    crate::alerts::model::paths::ALERTS,
    "/api/admin/kpi/",
    "/api/admin/retention/",
    "/api/admin/runs",
    "/api/v1/dashboard/",
];

/// Console POSTs the write guard lets through when writes are off: they
/// change nothing upstream. Running the prod checks is one: in PRODUCTION,
/// where writes are off, is where they matter (their write probe is sent by
/// the server itself, to be refused by the platform). Recording VP evidence
/// is another: rollout windows are watched in production, and the log is
/// the console's own; so is setting a lane's monitoring cadence, which
/// matters most after a production incident; and a test alert, which proves
/// the webhook where it matters. They are still admin only,
/// need an actor, and are audited as writes.
pub const WRITE_GUARD_EXEMPT: &[&str] = &[
    crate::prodchecks::paths::PROD_CHECKS_RUN,
    crate::vp::paths::CONSOLE_EVIDENCE,
    crate::vp::paths::CONSOLE_CADENCE,
    crate::alerts::model::paths::TEST,
];

/// Whether `role` may make a `method` request to `path` (the role guard).
pub fn role_allows(role: Role, method: &str, path: &str) -> bool {
    match role {
        Role::Admin => true,
        Role::Viewer => {
            matches!(method, "GET" | "HEAD") && VIEWER_READABLE.iter().any(|p| path.starts_with(p))
        }
    }
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
    /// Base URL the server calls; admins only (viewers get `None`).
    pub url: Option<String>,
    /// The console's breaker in front of it.
    #[serde(default)]
    pub breaker: BreakerView,
}

/// Where the upstream breaker stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerPhase {
    /// Calls go through.
    #[default]
    Closed,
    /// Calls are answered at once with 503 until `retry_at`.
    Open,
    /// One probe call is deciding whether to close.
    HalfOpen,
}

impl BreakerPhase {
    /// The word used on the wire, in `/metrics` and on the page.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerPhase::Closed => "closed",
            BreakerPhase::Open => "open",
            BreakerPhase::HalfOpen => "half_open",
        }
    }
}

/// The upstream breaker's state, as the session, `/readyz` and 503s report it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerView {
    /// Closed, open or half-open.
    pub phase: BreakerPhase,
    /// When it last opened (kept while it stays open or half-open).
    pub since: Option<DateTime<Utc>>,
    /// Failures in a row, as counted now.
    pub consecutive_failures: u32,
    /// While open: when the next probe may go.
    pub retry_at: Option<DateTime<Utc>>,
    /// Failures in a row that open it (0: never).
    pub threshold: u32,
}

/// `GET /api/console/session`: who the server thinks you are and what you may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Your role.
    pub role: Role,
    /// The name of the token you presented (`admin`, `viewer`, or its tokens-file name).
    pub token_name: String,
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

/// One audit row: a write, or a refusal (identical refusals from one client
/// and guard within a short window share one row, with their count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Monotonic id; newer rows have larger ids.
    pub id: i64,
    /// When the request was decided (UTC); for a coalesced row, the first one.
    pub at: DateTime<Utc>,
    /// The newest request of a coalesced row (equal to `at` for one request).
    pub last_at: DateTime<Utc>,
    /// How many requests this row stands for (1 unless coalesced).
    pub count: u64,
    /// The request id (also in logs and the `x-request-id` header); for a
    /// coalesced row, the first request's.
    pub request_id: String,
    /// Who acted: a viewer token's name, an admin's `X-Actor`, or what an
    /// unauthenticated request claimed in `X-Actor` (see `actor_claimed`).
    pub actor: Option<String>,
    /// The actor was only claimed: no token authenticated the request.
    pub actor_claimed: bool,
    /// The name of the token that authenticated the request; `None` when none did.
    pub token_name: Option<String>,
    /// That token's role.
    pub role: Option<Role>,
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

/// Query of `GET /api/console/audit`: the newest rows, optionally only those
/// decided within a time range (a run's page asks for its run's span).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Most rows to return (1–500, default 50).
    pub limit: Option<u32>,
    /// Only rows decided at or after this time (UTC).
    pub since: Option<DateTime<Utc>>,
    /// Only rows decided before this time (UTC).
    pub until: Option<DateTime<Utc>>,
}

impl AuditQuery {
    /// Whether `since` and `until` make a range, naming `since` when not.
    pub fn check_range(&self) -> Result<(), ValidationError> {
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return Err(ValidationError::invalid(
                "since",
                format!("since ({since}) must be earlier than until ({until})"),
            ));
        }
        Ok(())
    }
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

/// `GET /readyz`: whether this console can serve, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    /// Every check passed.
    pub ready: bool,
    /// Each check, in the order run.
    pub checks: Vec<ReadyCheck>,
}

/// One readiness check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadyCheck {
    /// `store_writable`, `upstream_reachable` or `outbox_moving`.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in words (why not, when it failed).
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_names_round_trip() {
        for g in Guard::ALL {
            assert_eq!(Guard::parse(g.as_str()), Some(g));
            assert_eq!(
                serde_json::to_string(&g).unwrap(),
                format!("\"{}\"", g.as_str())
            );
        }
        assert_eq!(Guard::parse("nope"), None);
    }

    #[test]
    fn viewers_read_charts_and_nothing_else() {
        let v = Role::Viewer;
        assert!(role_allows(v, "GET", "/api/admin/kpi/rollups"));
        assert!(role_allows(v, "GET", "/api/v1/dashboard/metrics/coder-vp"));
        assert!(role_allows(v, "GET", "/api/console/kpi/alerts"));
        assert!(role_allows(v, "GET", "/api/console/session"));
        assert!(!role_allows(v, "POST", "/api/console/kpi/alerts/evaluate"));
        assert!(!role_allows(v, "POST", "/api/admin/control/run/start"));
        assert!(!role_allows(v, "GET", "/api/admin/status"));
        assert!(!role_allows(v, "GET", "/api/v1/ops/metrics/coder-vp"));
        assert!(!role_allows(v, "GET", "/api/console/audit"));
        assert!(role_allows(
            Role::Admin,
            "POST",
            "/api/admin/control/run/start"
        ));
    }
}
