//! Run history and runtime overrides: `GET /api/admin/runs`, one run with its
//! events and counters over time, and `POST /api/admin/config/overrides`,
//! which changes budgets, stop thresholds and the run switches while the
//! platform runs.
//!
//! The rule of when a guardrail stop still holds lives here too, so the
//! recovery panel and the platform's refusal of an early resume agree.

use crate::admin::{AdminConfig, RunMetrics, RuntimeEvent, guardrail_reason};
use crate::other::OrOther;
use crate::validate::{self, ErrorKind, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Paths of run history and overrides.
pub mod paths {
    /// GET: [`super::RunsPage`]; query [`super::RunsQuery`].
    pub const RUNS: &str = "/api/admin/runs";
    /// GET: [`super::RunDetail`]. `{run_id}` is a [`crate::validate::run_id`].
    pub const RUN: &str = "/api/admin/runs/{run_id}";
    /// POST [`super::OverridesRequest`] → [`super::OverridesResponse`].
    pub const CONFIG_OVERRIDES: &str = "/api/admin/config/overrides";

    /// The path of one run's page of data.
    pub fn run(run_id: &str) -> String {
        RUN.replace("{run_id}", run_id)
    }
}

/// Event type of one runtime override change (`reason` is the operator's,
/// `detail` reads `KEY old → new`).
pub const CONFIG_OVERRIDE_EVENT: &str = "config_override";

/// How a run stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// Running now.
    Active,
    /// Paused by an operator; can be resumed.
    Paused,
    /// Stopped by an operator; `outcome_reason` is theirs.
    Stopped,
    /// Stopped by a guardrail; `outcome_reason` is one of
    /// [`guardrail_reason`] and `outcome_detail` what was measured.
    Guardrail,
}

impl RunOutcome {
    /// Every outcome, in the order filters list them.
    pub const ALL: [RunOutcome; 4] = [
        RunOutcome::Active,
        RunOutcome::Paused,
        RunOutcome::Stopped,
        RunOutcome::Guardrail,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Active => "active",
            RunOutcome::Paused => "paused",
            RunOutcome::Stopped => "stopped",
            RunOutcome::Guardrail => "guardrail",
        }
    }

    /// Parse the wire spelling, naming the allowed ones when it is not one.
    pub fn parse(s: &str) -> Result<RunOutcome, ValidationError> {
        RunOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| ValidationError {
                field: "outcome",
                message: format!("outcome {s:?} is not one of active, paused, stopped, guardrail"),
                kind: ErrorKind::Invalid,
            })
    }
}

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One run in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's id, unique on the platform.
    pub run_id: String,
    /// Why it was started.
    pub reason: Option<String>,
    /// When it started (UTC).
    pub started_at: DateTime<Utc>,
    /// Who started it.
    pub started_by: Option<String>,
    /// When it last stopped, by an operator or a guardrail; `None` while it
    /// is active or paused.
    pub ended_at: Option<DateTime<Utc>>,
    /// Who stopped it (`guardrail` for an automatic stop).
    pub ended_by: Option<String>,
    /// How it stands now.
    pub outcome: OrOther<RunOutcome>,
    /// The operator's stop reason, or the guardrail's reason.
    pub outcome_reason: Option<String>,
    /// For a guardrail stop: what was measured against which threshold.
    pub outcome_detail: Option<String>,
    /// Agent actions of any kind in this run.
    pub runtime_actions: u64,
    /// Proposals created.
    pub proposal_actions: u64,
    /// Votes cast.
    pub vote_actions: u64,
    /// Forum posts and replies.
    pub forum_actions: u64,
    /// LLM calls made by this run.
    pub llm_calls: u64,
    /// LLM spend of this run in USD.
    pub llm_spend_usd: f64,
    /// Seconds from its start to its end, or to now while it has not ended.
    pub duration_seconds: u64,
}

/// `GET /api/admin/runs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsPage {
    /// Newest start first.
    pub runs: Vec<RunSummary>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<DateTime<Utc>>,
}

/// Largest `limit` the runs list accepts.
pub const RUNS_MAX_LIMIT: u32 = 500;
/// Rows the runs list returns when the query gives no `limit`.
pub const RUNS_DEFAULT_LIMIT: u32 = 50;

/// Query of `GET /api/admin/runs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunsQuery {
    /// Most rows to return (1–[`RUNS_MAX_LIMIT`], default [`RUNS_DEFAULT_LIMIT`]).
    pub limit: Option<u32>,
    /// Only runs started before this time (the previous page's `next_before`).
    pub before: Option<DateTime<Utc>>,
    /// Only runs started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only runs with this outcome (`active`, `paused`, `stopped`, `guardrail`).
    pub outcome: Option<String>,
    /// Only runs this actor started or stopped.
    pub actor: Option<String>,
}

/// A [`RunsQuery`] checked: each value in the one form it is used in.
#[derive(Debug, Clone, PartialEq)]
pub struct RunsFilter {
    /// 1–[`RUNS_MAX_LIMIT`].
    pub limit: u32,
    /// Started before.
    pub before: Option<DateTime<Utc>>,
    /// Started at or after.
    pub since: Option<DateTime<Utc>>,
    /// Outcome.
    pub outcome: Option<RunOutcome>,
    /// Started or stopped by.
    pub actor: Option<String>,
}

impl RunsQuery {
    /// Check every field, naming the first that is wrong.
    pub fn check(&self) -> Result<RunsFilter, ValidationError> {
        let limit = validate::bounded("limit", self.limit, RUNS_DEFAULT_LIMIT, RUNS_MAX_LIMIT)?;
        let outcome = self.outcome.as_deref().map(RunOutcome::parse).transpose()?;
        let actor = match self.actor.as_deref() {
            Some(a) => {
                validate::actor(a)?;
                Some(a.to_owned())
            }
            None => None,
        };
        if let (Some(since), Some(before)) = (self.since, self.before)
            && since >= before
        {
            return Err(invalid(
                "since",
                format!("since ({since}) must be earlier than before ({before})"),
            ));
        }
        Ok(RunsFilter {
            limit,
            before: self.before,
            since: self.since,
            outcome,
            actor,
        })
    }
}

/// One minute of a run: its counters and spend so far (cumulative).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunPoint {
    /// The minute's end (UTC).
    pub at: DateTime<Utc>,
    /// Agent actions so far.
    pub runtime_actions: u64,
    /// Proposals so far.
    pub proposal_actions: u64,
    /// Votes so far.
    pub vote_actions: u64,
    /// Forum actions so far.
    pub forum_actions: u64,
    /// LLM calls so far.
    pub llm_calls: u64,
    /// LLM spend so far, USD.
    pub llm_spend_usd: f64,
}

/// Most points a run's series carries; longer runs are sampled into wider
/// buckets, each point still the cumulative value at its bucket's end.
pub const RUN_SERIES_MAX_POINTS: usize = 1440;
/// Most events a run's page carries (newest kept).
pub const RUN_EVENTS_MAX: u32 = 500;

/// `GET /api/admin/runs/{run_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    /// The run.
    pub run: RunSummary,
    /// Its events, oldest first: start, pauses, overrides, stops, resumes.
    pub events: Vec<RuntimeEvent>,
    /// Its counters over time, oldest first.
    pub series: Vec<RunPoint>,
}

/// Body of `POST /api/admin/config/overrides`. Each field left out keeps its
/// value; at least one must be given, and a reason always.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesRequest {
    /// Why, for the event log (required).
    #[serde(default)]
    pub reason: String,
    /// `SIMULATION_ACTIVE`: `true` re-enables the current run (refused while
    /// the stop that ended it still holds), `false` stops it.
    #[serde(default)]
    pub simulation_active: Option<bool>,
    /// `SIMULATION_PAUSED`: pause or unpause the active run.
    #[serde(default)]
    pub simulation_paused: Option<bool>,
    /// `LLM_DAILY_BUDGET_USD_HARD`.
    #[serde(default)]
    pub llm_daily_budget_usd_hard: Option<f64>,
    /// `STOP_PROVIDER_FAILURE_THRESHOLD`.
    #[serde(default)]
    pub stop_provider_failure_threshold: Option<u32>,
    /// `STOP_PROVIDER_FAILURE_WINDOW_SECONDS`.
    #[serde(default)]
    pub stop_provider_failure_window_seconds: Option<u32>,
    /// `STOP_DB_POOL_UTILIZATION_THRESHOLD` (0–1).
    #[serde(default)]
    pub stop_db_pool_utilization_threshold: Option<f64>,
    /// `STOP_DB_POOL_SUSTAINED_SECONDS`.
    #[serde(default)]
    pub stop_db_pool_sustained_seconds: Option<u32>,
}

/// Largest `LLM_DAILY_BUDGET_USD_HARD` an override may set.
pub const BUDGET_MAX_USD: f64 = 1_000_000.0;
/// Largest `STOP_PROVIDER_FAILURE_THRESHOLD` an override may set.
pub const FAILURE_THRESHOLD_MAX: u32 = 1_000_000;
/// Longest provider failure window an override may set: the platform keeps
/// six hours of provider readings.
pub const FAILURE_WINDOW_MAX_SECONDS: u32 = 6 * 3600;
/// Longest `STOP_DB_POOL_SUSTAINED_SECONDS` an override may set.
pub const POOL_SUSTAINED_MAX_SECONDS: u32 = 24 * 3600;

fn invalid(field: &'static str, message: String) -> ValidationError {
    ValidationError::invalid(field, message)
}

fn in_range_u32(
    field: &'static str,
    v: Option<u32>,
    min: u32,
    max: u32,
) -> Result<(), ValidationError> {
    match v {
        Some(v) if !(min..=max).contains(&v) => Err(invalid(
            field,
            format!("{field} must be between {min} and {max}, got {v}"),
        )),
        _ => Ok(()),
    }
}

impl OverridesRequest {
    /// Check every field, naming the first that is wrong.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.reason.trim().is_empty() {
            return Err(invalid(
                "reason",
                "reason is required: say why the runtime config changes".into(),
            ));
        }
        validate::reason(&self.reason)?;
        if self.changes_nothing() {
            return Err(invalid(
                "body",
                "give at least one override: simulation_active, simulation_paused, \
                 llm_daily_budget_usd_hard or a stop_* threshold"
                    .into(),
            ));
        }
        if let Some(b) = self.llm_daily_budget_usd_hard
            && !(b.is_finite() && b > 0.0 && b <= BUDGET_MAX_USD)
        {
            return Err(invalid(
                "llm_daily_budget_usd_hard",
                format!(
                    "llm_daily_budget_usd_hard must be a positive number of USD up to {BUDGET_MAX_USD}, got {b}"
                ),
            ));
        }
        in_range_u32(
            "stop_provider_failure_threshold",
            self.stop_provider_failure_threshold,
            1,
            FAILURE_THRESHOLD_MAX,
        )?;
        in_range_u32(
            "stop_provider_failure_window_seconds",
            self.stop_provider_failure_window_seconds,
            1,
            FAILURE_WINDOW_MAX_SECONDS,
        )?;
        if let Some(t) = self.stop_db_pool_utilization_threshold
            && !(t.is_finite() && t > 0.0 && t <= 1.0)
        {
            return Err(invalid(
                "stop_db_pool_utilization_threshold",
                format!(
                    "stop_db_pool_utilization_threshold must be above 0 and at most 1, got {t}"
                ),
            ));
        }
        in_range_u32(
            "stop_db_pool_sustained_seconds",
            self.stop_db_pool_sustained_seconds,
            1,
            POOL_SUSTAINED_MAX_SECONDS,
        )?;
        if self.simulation_active == Some(false) && self.simulation_paused == Some(false) {
            return Err(invalid(
                "simulation_paused",
                "a stopped run stays paused: SIMULATION_ACTIVE=false with SIMULATION_PAUSED=false is not a state".into(),
            ));
        }
        Ok(())
    }

    fn changes_nothing(&self) -> bool {
        self.simulation_active.is_none()
            && self.simulation_paused.is_none()
            && self.llm_daily_budget_usd_hard.is_none()
            && self.stop_provider_failure_threshold.is_none()
            && self.stop_provider_failure_window_seconds.is_none()
            && self.stop_db_pool_utilization_threshold.is_none()
            && self.stop_db_pool_sustained_seconds.is_none()
    }

    /// The thresholds this request sets, applied to `config`'s.
    pub fn apply_to(&self, config: &mut AdminConfig) {
        let (b, s) = (&mut config.budgets, &mut config.stop_conditions);
        if let Some(v) = self.llm_daily_budget_usd_hard {
            b.llm_daily_budget_usd_hard = v;
        }
        if let Some(v) = self.stop_provider_failure_threshold {
            s.provider_failure_threshold = v;
        }
        if let Some(v) = self.stop_provider_failure_window_seconds {
            s.provider_failure_window_seconds = v;
        }
        if let Some(v) = self.stop_db_pool_utilization_threshold {
            s.db_pool_utilization_threshold = v;
        }
        if let Some(v) = self.stop_db_pool_sustained_seconds {
            s.db_pool_sustained_seconds = v;
        }
    }

    /// Check a body of this type the way the console and platform both do.
    pub fn check_body(body: &[u8]) -> Result<OverridesRequest, ValidationError> {
        let req: OverridesRequest = crate::validate::json_object(body)?;
        req.validate()?;
        Ok(req)
    }
}

/// The names of the runtime config keys, as the runbook writes them.
pub mod keys {
    /// Run switch.
    pub const SIMULATION_ACTIVE: &str = "SIMULATION_ACTIVE";
    /// Pause switch.
    pub const SIMULATION_PAUSED: &str = "SIMULATION_PAUSED";
    /// Daily LLM budget.
    pub const LLM_DAILY_BUDGET_USD_HARD: &str = "LLM_DAILY_BUDGET_USD_HARD";
    /// Provider failures that stop a run.
    pub const STOP_PROVIDER_FAILURE_THRESHOLD: &str = "STOP_PROVIDER_FAILURE_THRESHOLD";
    /// The window those are counted in.
    pub const STOP_PROVIDER_FAILURE_WINDOW_SECONDS: &str = "STOP_PROVIDER_FAILURE_WINDOW_SECONDS";
    /// Pool use counted as pressure.
    pub const STOP_DB_POOL_UTILIZATION_THRESHOLD: &str = "STOP_DB_POOL_UTILIZATION_THRESHOLD";
    /// How long pressure must last.
    pub const STOP_DB_POOL_SUSTAINED_SECONDS: &str = "STOP_DB_POOL_SUSTAINED_SECONDS";
}

/// One value an override changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideChange {
    /// One of [`keys`].
    pub key: String,
    /// The value before, as text.
    pub old: String,
    /// The value after, as text.
    pub new: String,
}

impl fmt::Display for OverrideChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} → {}", self.key, self.old, self.new)
    }
}

/// The changes `req` makes to `config` (thresholds) and the run switches
/// `(active, paused)`, in [`keys`] order; values equal to the current ones are
/// left out.
pub fn override_changes(
    req: &OverridesRequest,
    config: &AdminConfig,
    active: bool,
    paused: bool,
) -> Vec<OverrideChange> {
    let mut out = Vec::new();
    let mut push = |key: &str, old: String, new: Option<String>| {
        if let Some(new) = new
            && new != old
        {
            out.push(OverrideChange {
                key: key.into(),
                old,
                new,
            });
        }
    };
    let (b, s) = (&config.budgets, &config.stop_conditions);
    push(
        keys::SIMULATION_ACTIVE,
        active.to_string(),
        req.simulation_active.map(|v| v.to_string()),
    );
    push(
        keys::SIMULATION_PAUSED,
        paused.to_string(),
        req.simulation_paused.map(|v| v.to_string()),
    );
    push(
        keys::LLM_DAILY_BUDGET_USD_HARD,
        b.llm_daily_budget_usd_hard.to_string(),
        req.llm_daily_budget_usd_hard.map(|v| v.to_string()),
    );
    push(
        keys::STOP_PROVIDER_FAILURE_THRESHOLD,
        s.provider_failure_threshold.to_string(),
        req.stop_provider_failure_threshold.map(|v| v.to_string()),
    );
    push(
        keys::STOP_PROVIDER_FAILURE_WINDOW_SECONDS,
        s.provider_failure_window_seconds.to_string(),
        req.stop_provider_failure_window_seconds
            .map(|v| v.to_string()),
    );
    push(
        keys::STOP_DB_POOL_UTILIZATION_THRESHOLD,
        s.db_pool_utilization_threshold.to_string(),
        req.stop_db_pool_utilization_threshold
            .map(|v| v.to_string()),
    );
    push(
        keys::STOP_DB_POOL_SUSTAINED_SECONDS,
        s.db_pool_sustained_seconds.to_string(),
        req.stop_db_pool_sustained_seconds.map(|v| v.to_string()),
    );
    out
}

/// Answer to `POST /api/admin/config/overrides`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverridesResponse {
    /// Always true on a 2xx.
    pub ok: bool,
    /// What happened, for people.
    pub message: String,
    /// What changed; empty when every value was already as asked.
    pub changes: Vec<OverrideChange>,
    /// The effective config afterwards.
    pub config: AdminConfig,
}

/// Whether the cause of a guardrail stop still holds, measured now.
#[derive(Debug, Clone, PartialEq)]
pub struct StopCheck {
    /// The guardrail reason checked.
    pub reason: &'static str,
    /// True while resuming would trip the same stop again.
    pub holding: bool,
    /// What was measured, for people (`LLM spend today $0.0612`).
    pub measured: String,
    /// The threshold it is held against (`LLM_DAILY_BUDGET_USD_HARD $0.05`).
    pub threshold: String,
}

impl fmt::Display for StopCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.holding {
            "still at or over"
        } else {
            "below"
        };
        write!(
            f,
            "{}: {} is {verb} {}",
            self.reason, self.measured, self.threshold
        )
    }
}

/// Judge whether the stop `reason` still holds on `metrics` under `config`,
/// with the same comparisons that tripped it. `None` for a reason this build
/// does not know.
pub fn stop_check(reason: &str, metrics: &RunMetrics, config: &AdminConfig) -> Option<StopCheck> {
    let s = &config.stop_conditions;
    let check = match reason {
        guardrail_reason::BUDGET_EXCEEDED => {
            let budget = config.budgets.llm_daily_budget_usd_hard;
            StopCheck {
                reason: guardrail_reason::BUDGET_EXCEEDED,
                holding: metrics.llm_spend_today_usd >= budget,
                measured: format!("LLM spend today ${:.4}", metrics.llm_spend_today_usd),
                threshold: format!("LLM_DAILY_BUDGET_USD_HARD ${budget:.2}"),
            }
        }
        guardrail_reason::PROVIDER_FAILURES_REPEATED => StopCheck {
            reason: guardrail_reason::PROVIDER_FAILURES_REPEATED,
            holding: metrics.provider_failures_window >= u64::from(s.provider_failure_threshold),
            measured: format!(
                "{} provider failures in the last {} s",
                metrics.provider_failures_window, metrics.provider_window_seconds
            ),
            threshold: format!(
                "STOP_PROVIDER_FAILURE_THRESHOLD {}",
                s.provider_failure_threshold
            ),
        },
        guardrail_reason::DB_POOL_PRESSURE => StopCheck {
            reason: guardrail_reason::DB_POOL_PRESSURE,
            holding: metrics.db_pool_utilization() >= s.db_pool_utilization_threshold,
            measured: format!(
                "DB pool at {:.0}% ({} of {})",
                metrics.db_pool_utilization() * 100.0,
                metrics.db_pool_in_use,
                metrics.db_pool_size
            ),
            threshold: format!(
                "STOP_DB_POOL_UTILIZATION_THRESHOLD {:.0}%",
                s.db_pool_utilization_threshold * 100.0
            ),
        },
        _ => return None,
    };
    Some(check)
}

/// The runbook's next steps after a guardrail stop with `reason`.
pub fn next_steps(reason: &str) -> &'static [&'static str] {
    match reason {
        guardrail_reason::BUDGET_EXCEEDED => &[
            "Raise LLM_DAILY_BUDGET_USD_HARD, or wait for the UTC day to roll over (spend is counted per UTC day).",
            "Check which agents drive the spend before raising the budget far.",
        ],
        guardrail_reason::PROVIDER_FAILURES_REPEATED => &[
            "Reduce LLM traffic or switch the provider route.",
            "Wait for the failures to age out of the STOP_PROVIDER_FAILURE_WINDOW_SECONDS window, then re-enable the run.",
        ],
        guardrail_reason::DB_POOL_PRESSURE => &[
            "Check DB pool saturation, the pool size and long-running queries.",
            "Re-enable the run once utilisation is back under STOP_DB_POOL_UTILIZATION_THRESHOLD.",
        ],
        _ => &[
            "This stop reason is new to this console: read the event detail and the platform's runbook.",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::{Budgets, Environment, RuntimeOverrides};

    fn config(budget: f64) -> AdminConfig {
        AdminConfig {
            environment: Environment::Development.into(),
            admin_write_enabled: true,
            budgets: Budgets {
                llm_daily_budget_usd_hard: budget,
            },
            stop_conditions: crate::testing::stop_conditions(),
            runtime_overrides: RuntimeOverrides {
                simulation_active: false,
                simulation_paused: true,
            },
            overridden: Vec::new(),
        }
    }

    fn metrics(spend: f64) -> RunMetrics {
        RunMetrics {
            generated_at: DateTime::<Utc>::UNIX_EPOCH,
            run_id: Some("r1".into()),
            runtime_actions: 10,
            proposal_actions: 1,
            vote_actions: 5,
            forum_actions: 4,
            llm_calls_today: 8,
            llm_spend_today_usd: spend,
            llm_daily_budget_usd_hard: 0.05,
            provider_calls_window: 8,
            provider_failures_window: 2,
            provider_window_seconds: 300,
            db_pool_in_use: 2,
            db_pool_size: 20,
        }
    }

    #[test]
    fn a_budget_stop_holds_until_the_budget_passes_the_spend() {
        let m = metrics(0.06);
        let held = stop_check(guardrail_reason::BUDGET_EXCEEDED, &m, &config(0.05)).unwrap();
        assert!(held.holding);
        assert_eq!(
            held.to_string(),
            "budget_exceeded: LLM spend today $0.0600 is still at or over LLM_DAILY_BUDGET_USD_HARD $0.05"
        );
        // at the budget exactly still holds: the stop tripped on >=
        assert!(
            stop_check(
                guardrail_reason::BUDGET_EXCEEDED,
                &metrics(0.05),
                &config(0.05)
            )
            .unwrap()
            .holding
        );
        assert!(
            !stop_check(guardrail_reason::BUDGET_EXCEEDED, &m, &config(50.0))
                .unwrap()
                .holding
        );
        assert!(stop_check("cosmic_rays", &m, &config(1.0)).is_none());
        assert_eq!(next_steps("cosmic_rays").len(), 1);
    }

    #[test]
    fn pool_and_provider_stops_compare_as_they_tripped() {
        let mut m = metrics(0.0);
        let c = config(1.0);
        assert!(
            !stop_check(guardrail_reason::DB_POOL_PRESSURE, &m, &c)
                .unwrap()
                .holding
        );
        m.db_pool_in_use = 18;
        assert!(
            stop_check(guardrail_reason::DB_POOL_PRESSURE, &m, &c)
                .unwrap()
                .holding
        );
        m.provider_failures_window = 25;
        let p = stop_check(guardrail_reason::PROVIDER_FAILURES_REPEATED, &m, &c).unwrap();
        assert!(p.holding, "{p}");
    }

    #[test]
    fn overrides_need_a_reason_a_change_and_sane_values() {
        let err = OverridesRequest::check_body(br#"{"llm_daily_budget_usd_hard":5}"#).unwrap_err();
        assert_eq!(err.field, "reason");
        let err = OverridesRequest::check_body(br#"{"reason":"x"}"#).unwrap_err();
        assert_eq!(err.field, "body");
        for (body, field) in [
            (
                r#"{"reason":"x","llm_daily_budget_usd_hard":0}"#,
                "llm_daily_budget_usd_hard",
            ),
            (
                r#"{"reason":"x","llm_daily_budget_usd_hard":-1}"#,
                "llm_daily_budget_usd_hard",
            ),
            (
                r#"{"reason":"x","stop_provider_failure_threshold":0}"#,
                "stop_provider_failure_threshold",
            ),
            (
                r#"{"reason":"x","stop_provider_failure_window_seconds":99999}"#,
                "stop_provider_failure_window_seconds",
            ),
            (
                r#"{"reason":"x","stop_db_pool_utilization_threshold":1.5}"#,
                "stop_db_pool_utilization_threshold",
            ),
            (
                r#"{"reason":"x","stop_db_pool_sustained_seconds":0}"#,
                "stop_db_pool_sustained_seconds",
            ),
            (
                r#"{"reason":"x","simulation_active":false,"simulation_paused":false}"#,
                "simulation_paused",
            ),
        ] {
            let err = OverridesRequest::check_body(body.as_bytes()).unwrap_err();
            assert_eq!(err.field, field, "{body}: {err}");
            assert_eq!(err.kind, ErrorKind::Invalid);
        }
        // wrong types and unknown keys are malformed, naming the field
        let err = OverridesRequest::check_body(
            br#"{"reason":"x","stop_provider_failure_threshold":"5"}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Malformed);
        let err = OverridesRequest::check_body(br#"{"reason":"x","LLM_BUDGET":5}"#).unwrap_err();
        assert!(err.message.contains("unknown field `LLM_BUDGET`"), "{err}");
        assert!(OverridesRequest::check_body(b"[]").is_err());
        OverridesRequest::check_body(
            br#"{"reason":"raise for the soak","llm_daily_budget_usd_hard":50}"#,
        )
        .unwrap();
    }

    #[test]
    fn changes_list_only_what_differs_old_to_new() {
        let req = OverridesRequest {
            reason: "x".into(),
            simulation_active: Some(true),
            simulation_paused: Some(true),
            llm_daily_budget_usd_hard: Some(50.0),
            stop_provider_failure_threshold: Some(25),
            ..OverridesRequest::default()
        };
        let changes = override_changes(&req, &config(0.05), false, true);
        let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "SIMULATION_ACTIVE false → true",
                "LLM_DAILY_BUDGET_USD_HARD 0.05 → 50"
            ]
        );
        let mut c = config(0.05);
        req.apply_to(&mut c);
        assert_eq!(c.budgets.llm_daily_budget_usd_hard, 50.0);
    }

    #[test]
    fn runs_query_checks_each_field() {
        let f = RunsQuery::default().check().unwrap();
        assert_eq!(f.limit, RUNS_DEFAULT_LIMIT);
        let err = RunsQuery {
            outcome: Some("crashed".into()),
            ..RunsQuery::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(err.field, "outcome");
        let err = RunsQuery {
            limit: Some(0),
            ..RunsQuery::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(err.field, "limit");
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let err = RunsQuery {
            since: Some(t),
            before: Some(t),
            ..RunsQuery::default()
        }
        .check()
        .unwrap_err();
        assert_eq!(err.field, "since");
        assert_eq!(
            RunOutcome::parse("guardrail").unwrap(),
            RunOutcome::Guardrail
        );
        assert_eq!(paths::run("r-1"), "/api/admin/runs/r-1");
    }
}
