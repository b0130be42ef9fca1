//! The platform's admin contract: what `/api/admin/*` accepts and returns.
//!
//! Response types tolerate fields they do not know (a newer platform may send
//! more); request types refuse unknown fields, so a typo in a control call is
//! an error rather than a silently ignored option.

use crate::other::OrOther;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Paths of the admin contract, relative to the platform's base URL.
pub mod paths {
    /// GET: [`super::AdminStatus`].
    pub const STATUS: &str = "/api/admin/status";
    /// GET: [`super::AdminConfig`].
    pub const CONFIG: &str = "/api/admin/config";
    /// GET: [`super::EventsPage`]; query [`super::EventsQuery`].
    pub const EVENTS: &str = "/api/admin/events";
    /// GET: [`super::RunMetrics`].
    pub const METRICS_RUN: &str = "/api/admin/metrics/run";
    /// POST [`super::StartRunRequest`] → [`super::ControlResponse`].
    pub const RUN_START: &str = "/api/admin/control/run/start";
    /// POST [`super::ControlRequest`] → [`super::ControlResponse`].
    pub const RUN_STOP: &str = "/api/admin/control/run/stop";
    /// POST [`super::ControlRequest`] → [`super::ControlResponse`].
    pub const RUN_PAUSE: &str = "/api/admin/control/run/pause";
    /// POST [`super::ControlRequest`] → [`super::ControlResponse`].
    pub const RUN_RESUME: &str = "/api/admin/control/run/resume";
    /// POST [`super::ControlRequest`] → [`super::WorldResetResponse`].
    pub const WORLD_RESET: &str = "/api/admin/control/world/reset";
}

/// Which platform environment the console or upstream runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Environment {
    /// Dev: run controls expected to be enabled.
    Development,
    /// Prod: expected read-only; writes return 403.
    Production,
}

impl Environment {
    /// The spelling users know from the runbook (`DEVELOPMENT`, `PRODUCTION`).
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "DEVELOPMENT",
            Environment::Production => "PRODUCTION",
        }
    }

    /// Whether admin writes are on when `ADMIN_WRITE_ENABLED` is not set:
    /// development writes, production is read-only.
    pub fn default_write_enabled(self) -> bool {
        matches!(self, Environment::Development)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Environment {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DEVELOPMENT" | "DEV" => Ok(Environment::Development),
            "PRODUCTION" | "PROD" => Ok(Environment::Production),
            other => Err(format!(
                "unknown environment {other:?}: expected DEVELOPMENT or PRODUCTION"
            )),
        }
    }
}

/// Event types the platform writes to its runtime event log.
pub mod event_type {
    /// A run began (`run_id`, `reason`, `actor`).
    pub const RUN_STARTED: &str = "run_started";
    /// A run was stopped by an operator.
    pub const RUN_STOPPED: &str = "run_stopped";
    /// A run was paused.
    pub const RUN_PAUSED: &str = "run_paused";
    /// A paused run was resumed.
    pub const RUN_RESUMED: &str = "run_resumed";
    /// The dev world was reset and reseeded.
    pub const WORLD_RESET: &str = "world_reset";
    /// A stop condition tripped; `reason` is one of [`super::guardrail_reason`].
    pub const SIMULATION_STOPPED_GUARDRAIL: &str = "simulation_stopped_guardrail";
}

/// Reasons a guardrail stops a run, as the runbook names them.
pub mod guardrail_reason {
    /// Daily LLM spend reached `LLM_DAILY_BUDGET_USD_HARD`.
    pub const BUDGET_EXCEEDED: &str = "budget_exceeded";
    /// Provider failures in the trailing window reached `STOP_PROVIDER_FAILURE_THRESHOLD`.
    pub const PROVIDER_FAILURES_REPEATED: &str = "provider_failures_repeated";
    /// DB pool utilisation stayed at or over `STOP_DB_POOL_UTILIZATION_THRESHOLD`.
    pub const DB_POOL_PRESSURE: &str = "db_pool_pressure";
    /// Every reason this build knows.
    pub const ALL: [&str; 3] = [
        BUDGET_EXCEEDED,
        PROVIDER_FAILURES_REPEATED,
        DB_POOL_PRESSURE,
    ];
}

/// The last time a guardrail stopped a run by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailStop {
    /// One of [`guardrail_reason`].
    pub reason: String,
    /// When it tripped (UTC).
    pub at: DateTime<Utc>,
    /// The run it stopped.
    pub run_id: Option<String>,
    /// Measured value against the threshold, for people.
    pub detail: Option<String>,
}

/// `GET /api/admin/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminStatus {
    /// The platform's environment (one this build does not know is kept as sent).
    pub environment: OrOther<Environment>,
    /// The platform's own `ADMIN_WRITE_ENABLED`.
    pub admin_write_enabled: bool,
    /// `SIMULATION_ACTIVE` runtime override.
    pub simulation_active: bool,
    /// `SIMULATION_PAUSED` runtime override.
    pub simulation_paused: bool,
    /// Id of the current or most recent run.
    pub run_id: Option<String>,
    /// Reason given when that run started.
    pub run_reason: Option<String>,
    /// When that run started (UTC).
    pub run_started_at: Option<DateTime<Utc>>,
    /// Who started it.
    #[serde(default)]
    pub run_started_by: Option<String>,
    /// The most recent guardrail stop, if any.
    pub last_guardrail_stop: Option<GuardrailStop>,
    /// How the current or most recent run stands (`guardrail` while it waits
    /// on that stop); absent from platforms without run history.
    #[serde(default)]
    pub run_outcome: Option<OrOther<crate::runs::RunOutcome>>,
}

/// Budgets in effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budgets {
    /// `LLM_DAILY_BUDGET_USD_HARD`: spend at which the run stops.
    pub llm_daily_budget_usd_hard: f64,
}

/// Stop-condition thresholds in effect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopConditions {
    /// `STOP_PROVIDER_FAILURE_THRESHOLD`: failures in the window that stop a run.
    pub provider_failure_threshold: u32,
    /// `STOP_PROVIDER_FAILURE_WINDOW_SECONDS`: the trailing window.
    pub provider_failure_window_seconds: u32,
    /// `STOP_DB_POOL_UTILIZATION_THRESHOLD`: pool use (0–1) counted as pressure.
    pub db_pool_utilization_threshold: f64,
    /// `STOP_DB_POOL_SUSTAINED_SECONDS`: how long pressure must last to stop a run.
    pub db_pool_sustained_seconds: u32,
}

/// Runtime overrides currently written by controls or guardrails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeOverrides {
    /// `SIMULATION_ACTIVE`.
    pub simulation_active: bool,
    /// `SIMULATION_PAUSED`.
    pub simulation_paused: bool,
}

/// `GET /api/admin/config`: effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminConfig {
    /// The platform's environment (one this build does not know is kept as sent).
    pub environment: OrOther<Environment>,
    /// The platform's own `ADMIN_WRITE_ENABLED`.
    pub admin_write_enabled: bool,
    /// Budgets.
    pub budgets: Budgets,
    /// Stop-condition thresholds.
    pub stop_conditions: StopConditions,
    /// Runtime overrides.
    pub runtime_overrides: RuntimeOverrides,
    /// The [`crate::runs::keys`] whose value was set at runtime by an override,
    /// rather than by the platform's own configuration.
    #[serde(default)]
    pub overridden: Vec<String>,
}

/// One row of the runtime event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuntimeEvent {
    /// Monotonic id; newer rows have larger ids.
    pub id: i64,
    /// When it happened (UTC).
    pub created_at: DateTime<Utc>,
    /// One of [`event_type`], or another type the platform writes.
    pub event_type: String,
    /// The run it concerns.
    pub run_id: Option<String>,
    /// Who caused it (`guardrail` for automatic stops).
    pub actor: Option<String>,
    /// Reason given, or the guardrail reason.
    pub reason: Option<String>,
    /// Extra detail for people.
    pub detail: Option<String>,
}

/// `GET /api/admin/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    /// Newest first.
    pub events: Vec<RuntimeEvent>,
}

/// Query of `GET /api/admin/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Most rows to return (1–[`EVENTS_MAX_LIMIT`], default [`EVENTS_DEFAULT_LIMIT`]).
    pub limit: Option<u32>,
    /// Only rows of this type.
    pub event_type: Option<String>,
}

/// Largest `limit` the events endpoint accepts.
pub const EVENTS_MAX_LIMIT: u32 = 500;
/// Rows the events endpoint returns when the query gives no `limit`.
pub const EVENTS_DEFAULT_LIMIT: u32 = 50;

/// `GET /api/admin/metrics/run`: counters of the current or most recent run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// When these were read (UTC).
    pub generated_at: DateTime<Utc>,
    /// The run they count; `None` before any run.
    pub run_id: Option<String>,
    /// Agent actions of any kind in this run.
    pub runtime_actions: u64,
    /// Proposals created in this run.
    pub proposal_actions: u64,
    /// Votes cast in this run.
    pub vote_actions: u64,
    /// Forum posts and replies in this run.
    pub forum_actions: u64,
    /// LLM calls today (UTC day), all runs.
    pub llm_calls_today: u64,
    /// LLM spend today in USD (UTC day), all runs.
    pub llm_spend_today_usd: f64,
    /// `LLM_DAILY_BUDGET_USD_HARD`, for context.
    pub llm_daily_budget_usd_hard: f64,
    /// Provider calls in the trailing failure window.
    pub provider_calls_window: u64,
    /// Provider failures in the trailing failure window.
    pub provider_failures_window: u64,
    /// Length of that window in seconds.
    pub provider_window_seconds: u32,
    /// DB connections in use now.
    pub db_pool_in_use: u32,
    /// DB pool size.
    pub db_pool_size: u32,
}

impl RunMetrics {
    /// Provider failure rate over the trailing window, with its sample size.
    pub fn provider_failure_rate(&self) -> crate::Rate {
        crate::Rate::new(self.provider_failures_window, self.provider_calls_window)
    }

    /// DB pool use as a fraction of its size (0 when the size is unknown).
    pub fn db_pool_utilization(&self) -> f64 {
        if self.db_pool_size == 0 {
            0.0
        } else {
            f64::from(self.db_pool_in_use) / f64::from(self.db_pool_size)
        }
    }
}

/// Body of `POST /api/admin/control/run/start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRunRequest {
    /// Run id to use; the platform makes one up when absent.
    #[serde(default)]
    pub run_id: Option<String>,
    /// Why this run is being started.
    #[serde(default)]
    pub reason: Option<String>,
    /// Reset and reseed the world before starting (clean test runs).
    #[serde(default)]
    pub reset_world: bool,
}

impl StartRunRequest {
    /// Check every field; see [`crate::validate`].
    pub fn validate(&self) -> Result<(), crate::validate::ValidationError> {
        if let Some(id) = &self.run_id {
            crate::validate::run_id(id)?;
        }
        if let Some(reason) = &self.reason {
            crate::validate::reason(reason)?;
        }
        Ok(())
    }
}

/// Body of stop, pause, resume and world reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlRequest {
    /// Why, for the event log.
    #[serde(default)]
    pub reason: Option<String>,
}

impl ControlRequest {
    /// Check every field; see [`crate::validate`].
    pub fn validate(&self) -> Result<(), crate::validate::ValidationError> {
        if let Some(reason) = &self.reason {
            crate::validate::reason(reason)?;
        }
        Ok(())
    }
}

/// Answer to start, stop, pause and resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResponse {
    /// Always true on a 2xx.
    pub ok: bool,
    /// What happened, for people.
    pub message: String,
    /// Status after the change.
    pub status: AdminStatus,
}

/// Answer to `POST /api/admin/control/world/reset`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorldResetResponse {
    /// Always true on a 2xx.
    pub ok: bool,
    /// `Dev world reset + reseeded`.
    pub message: String,
    /// Agents in the fresh world.
    pub agents: u32,
    /// Seed the world was generated from.
    pub seed: u64,
}

/// The notice users know from the runbook after a world reset.
pub const WORLD_RESET_MESSAGE: &str = "Dev world reset + reseeded";

/// Whether a path is a write of the admin contract the console knows the body of.
pub fn control_body_kind(path: &str) -> Option<ControlBody> {
    match path {
        paths::RUN_START => Some(ControlBody::Start),
        paths::RUN_STOP | paths::RUN_PAUSE | paths::RUN_RESUME | paths::WORLD_RESET => {
            Some(ControlBody::Control)
        }
        crate::runs::paths::CONFIG_OVERRIDES => Some(ControlBody::Overrides),
        other if crate::vp::routing_lane(other).is_some() => Some(ControlBody::Routing),
        _ => None,
    }
}

/// Which request type a control path takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlBody {
    /// [`StartRunRequest`].
    Start,
    /// [`ControlRequest`].
    Control,
    /// [`crate::runs::OverridesRequest`]; unlike the others it has a required field.
    Overrides,
    /// [`crate::vp::VpRoutingChange`]: both fields required.
    Routing,
}

impl ControlBody {
    /// Parse and validate a body of this kind. An empty body counts as `{}`.
    pub fn check(self, body: &[u8]) -> Result<(), crate::validate::ValidationError> {
        let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            body
        };
        use crate::validate::json_object;
        match self {
            ControlBody::Start => json_object::<StartRunRequest>(body).and_then(|r| r.validate()),
            ControlBody::Control => json_object::<ControlRequest>(body).and_then(|r| r.validate()),
            ControlBody::Overrides => crate::runs::OverridesRequest::check_body(body).map(drop),
            ControlBody::Routing => crate::vp::VpRoutingChange::check_body(body).map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_spells_as_the_runbook() {
        assert_eq!(
            serde_json::to_string(&Environment::Development).unwrap(),
            "\"DEVELOPMENT\""
        );
        assert_eq!(
            "prod".parse::<Environment>().unwrap(),
            Environment::Production
        );
        assert!("staging".parse::<Environment>().is_err());
        assert!(Environment::Development.default_write_enabled());
        assert!(!Environment::Production.default_write_enabled());
    }

    #[test]
    fn start_request_refuses_unknown_fields() {
        let err = ControlBody::Start
            .check(br#"{"run_id":"a","reset":true}"#)
            .unwrap_err();
        assert!(err.message.contains("unknown field `reset`"), "{err}");
        assert_eq!(err.kind, crate::validate::ErrorKind::Malformed);
    }

    #[test]
    fn start_request_refuses_malformed_json() {
        let err = ControlBody::Start.check(b"{\"run_id\":").unwrap_err();
        assert_eq!(err.kind, crate::validate::ErrorKind::Malformed);
        assert_eq!(err.field, "body");
    }

    #[test]
    fn start_request_checks_values() {
        let err = ControlBody::Start
            .check(br#"{"run_id":"bad id","reset_world":true}"#)
            .unwrap_err();
        assert_eq!(err.field, "run_id");
        assert_eq!(err.kind, crate::validate::ErrorKind::Invalid);
        ControlBody::Start
            .check(br#"{"run_id":"smoke-1","reason":"nightly check","reset_world":true}"#)
            .unwrap();
    }

    #[test]
    fn empty_control_body_is_an_empty_object() {
        ControlBody::Control.check(b"").unwrap();
        ControlBody::Control.check(b"  \n").unwrap();
        assert!(ControlBody::Control.check(b"[]").is_err());
    }

    #[test]
    fn only_known_control_paths_have_bodies() {
        assert_eq!(
            control_body_kind(paths::RUN_START),
            Some(ControlBody::Start)
        );
        assert_eq!(
            control_body_kind(paths::WORLD_RESET),
            Some(ControlBody::Control)
        );
        assert_eq!(control_body_kind(paths::STATUS), None);
    }

    #[test]
    fn metrics_rate_carries_its_sample() {
        let m = RunMetrics {
            generated_at: DateTime::<Utc>::UNIX_EPOCH,
            run_id: None,
            runtime_actions: 0,
            proposal_actions: 0,
            vote_actions: 0,
            forum_actions: 0,
            llm_calls_today: 0,
            llm_spend_today_usd: 0.0,
            llm_daily_budget_usd_hard: 1.0,
            provider_calls_window: 40,
            provider_failures_window: 10,
            provider_window_seconds: 300,
            db_pool_in_use: 5,
            db_pool_size: 20,
        };
        assert_eq!(m.provider_failure_rate().value(), Some(0.25));
        assert_eq!(m.provider_failure_rate().denominator, 40);
        assert_eq!(m.db_pool_utilization(), 0.25);
    }
}
