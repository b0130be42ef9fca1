//! The runbook's "Prod Guardrail Checks", run by the console's server on a
//! schedule and on demand, and the pure rules that judge what it measured:
//!
//! 1. `/api/admin/status` returns `admin_write_enabled=false`;
//! 2. a write endpoint returns `403` (a harmless Pause while no run is active,
//!    sent by the server straight to the platform, so the console's own write
//!    guard cannot answer in the platform's place; only from a PRODUCTION
//!    console: in DEVELOPMENT the answer follows from the status);
//! 3. with `SIMULATION_ACTIVE=false` the platform is idle: no actions and no
//!    LLM calls between two readings.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::admin::{AdminStatus, Environment, RunMetrics};
use crate::other::OrOther;

/// Endpoints of the console's own API.
pub mod paths {
    /// GET [`super::ProdChecksView`]; query `limit` (1–500, default 20).
    pub const PROD_CHECKS: &str = "/api/console/prod-checks";
    /// POST (no body) → [`super::ProdCheckRun`]: run the three checks now.
    pub const PROD_CHECKS_RUN: &str = "/api/console/prod-checks/run";
}

/// Default time between scheduled runs (`PROD_CHECK_INTERVAL_SECONDS`).
pub const DEFAULT_INTERVAL_SECONDS: u64 = 15 * 60;
/// Shortest interval the server accepts.
pub const MIN_INTERVAL_SECONDS: u64 = 10;
/// Longest interval the server accepts (a day).
pub const MAX_INTERVAL_SECONDS: u64 = 24 * 3600;
/// Runs the console keeps; older ones are pruned.
pub const KEEP_RUNS: u32 = 1000;
/// The actor the server's own calls carry in `X-Actor`.
pub const CHECK_ACTOR: &str = "opsdeck prod check";
/// The reason the write probe carries, so the platform's log says what it was.
pub const PROBE_REASON: &str = "opsdeck prod check: write probe, expected to be refused";

/// One of the three checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// Status says `admin_write_enabled=false`.
    StatusWriteDisabled,
    /// The platform itself refuses a write with 403.
    WriteProbeRefused,
    /// No actions or LLM calls while `SIMULATION_ACTIVE=false`.
    IdleWhileInactive,
}

impl CheckName {
    /// The three, in the runbook's order.
    pub const ALL: [CheckName; 3] = [
        CheckName::StatusWriteDisabled,
        CheckName::WriteProbeRefused,
        CheckName::IdleWhileInactive,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::StatusWriteDisabled => "status_write_disabled",
            CheckName::WriteProbeRefused => "write_probe_refused",
            CheckName::IdleWhileInactive => "idle_while_inactive",
        }
    }

    /// The runbook's words for it.
    pub fn describe(self) -> &'static str {
        match self {
            CheckName::StatusWriteDisabled => "/api/admin/status returns admin_write_enabled=false",
            CheckName::WriteProbeRefused => "Write endpoints return 403",
            CheckName::IdleWhileInactive => {
                "Idle behaviour when SIMULATION_ACTIVE=false (no simulation loop traffic)"
            }
        }
    }
}

impl std::fmt::Display for CheckName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// What the runbook expects.
    Pass,
    /// Not what it expects, or it could not be measured.
    Fail,
    /// Not run: running it could have changed something (a run is active).
    Skipped,
}

impl CheckStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "pass",
            CheckStatus::Fail => "fail",
            CheckStatus::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's result, with what it saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// Which check.
    pub name: OrOther<CheckName>,
    /// How it came out.
    pub status: OrOther<CheckStatus>,
    /// What was measured, for people: the value, the answer, the readings.
    pub evidence: String,
}

impl CheckResult {
    fn of(name: CheckName, status: CheckStatus, evidence: String) -> Self {
        CheckResult {
            name: OrOther::Known(name),
            status: OrOther::Known(status),
            evidence,
        }
    }

    /// A check that could not be measured (the platform did not answer).
    pub fn unmeasured(name: CheckName, why: &str) -> Self {
        CheckResult::of(name, CheckStatus::Fail, format!("could not measure: {why}"))
    }
}

/// What started a run of the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The server's schedule.
    Schedule,
    /// Someone pressed "Run checks now".
    Demand,
}

/// The idle check's reading, kept with each run so the next can compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleReading {
    /// When it was read.
    pub at: DateTime<Utc>,
    /// `SIMULATION_ACTIVE` then.
    pub simulation_active: bool,
    /// Runtime, proposal, vote and forum actions, summed.
    pub actions: u64,
    /// LLM calls of `day`.
    pub llm_calls_today: u64,
    /// The UTC day the LLM count is of.
    pub day: NaiveDate,
}

impl IdleReading {
    /// The reading of `status` and `metrics` at `at`.
    pub fn of(status: &AdminStatus, metrics: &RunMetrics, at: DateTime<Utc>) -> Self {
        IdleReading {
            at,
            simulation_active: status.simulation_active,
            actions: metrics.runtime_actions
                + metrics.proposal_actions
                + metrics.vote_actions
                + metrics.forum_actions,
            llm_calls_today: metrics.llm_calls_today,
            day: at.date_naive(),
        }
    }
}

/// One run of the three checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdCheckRun {
    /// Monotonic id.
    pub id: i64,
    /// When it ran (UTC).
    pub at: DateTime<Utc>,
    /// Schedule or on demand.
    pub trigger: OrOther<Trigger>,
    /// Who asked, for an on-demand run.
    pub actor: Option<String>,
    /// Every check passed (skipped ones do not count as passes).
    pub passed: bool,
    /// The three results, in the runbook's order.
    pub results: Vec<CheckResult>,
    /// The idle check's reading, when the platform answered.
    pub reading: Option<IdleReading>,
}

/// `GET /api/console/prod-checks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProdChecksView {
    /// The console's environment; the checks are meant for PRODUCTION.
    pub environment: Environment,
    /// `PROD_CHECK_INTERVAL_SECONDS`.
    pub interval_seconds: u64,
    /// When the schedule runs them next, if it has started.
    pub next_at: Option<DateTime<Utc>>,
    /// Newest first.
    pub runs: Vec<ProdCheckRun>,
}

/// Check 1: `admin_write_enabled=false`.
pub fn judge_status(status: &AdminStatus) -> CheckResult {
    let env = match &status.environment {
        OrOther::Known(e) => e.as_str().to_owned(),
        OrOther::Other(s) => s.clone(),
    };
    CheckResult::of(
        CheckName::StatusWriteDisabled,
        if status.admin_write_enabled {
            CheckStatus::Fail
        } else {
            CheckStatus::Pass
        },
        format!(
            "admin_write_enabled={} (environment {env})",
            status.admin_write_enabled
        ),
    )
}

/// Whether the write probe may be sent: only while no run is active, where
/// a Pause the platform wrongly accepted still changes nothing.
pub fn probe_is_harmless(status: &AdminStatus) -> bool {
    !status.simulation_active
}

/// The probe not sent, because a run is active.
pub fn probe_skipped(status: &AdminStatus) -> CheckResult {
    CheckResult::of(
        CheckName::WriteProbeRefused,
        CheckStatus::Skipped,
        format!(
            "not sent: run {} is active, and a Pause the platform accepted would pause it",
            status.run_id.as_deref().unwrap_or("(unnamed)")
        ),
    )
}

/// The probe not sent, because the console is not a PRODUCTION one: in
/// DEVELOPMENT writes are meant to be on, and a write could change a run
/// someone is using. What it would find follows from the status.
pub fn probe_not_in_development(status: &AdminStatus) -> CheckResult {
    let (verdict, would) = if status.admin_write_enabled {
        (
            CheckStatus::Fail,
            "status says admin_write_enabled=true, so the platform would accept it",
        )
    } else {
        (
            CheckStatus::Skipped,
            "status says admin_write_enabled=false",
        )
    };
    CheckResult::of(
        CheckName::WriteProbeRefused,
        verdict,
        format!("not sent on a DEVELOPMENT console, where a write could change a run; {would}"),
    )
}

/// Check 2: the platform's answer to `POST path` (status code and its
/// `error`, if any). Only a 403 passes.
pub fn judge_probe(path: &str, code: u16, said: Option<&str>) -> CheckResult {
    let said = said.map(|s| format!(": {s}")).unwrap_or_default();
    CheckResult::of(
        CheckName::WriteProbeRefused,
        if code == 403 {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        format!("POST {path} sent to the platform answered {code}{said}"),
    )
}

/// Check 3: between `earlier` and `now`, with `SIMULATION_ACTIVE=false` at
/// both, no actions and no LLM calls happened.
pub fn judge_idle(earlier: &IdleReading, now: &IdleReading) -> CheckResult {
    let name = CheckName::IdleWhileInactive;
    if now.simulation_active || earlier.simulation_active {
        return CheckResult::of(
            name,
            CheckStatus::Skipped,
            "SIMULATION_ACTIVE=true during the interval: there is no idle to check".into(),
        );
    }
    let seconds = (now.at - earlier.at).num_seconds();
    let actions = now.actions.abs_diff(earlier.actions);
    // A new UTC day restarts the LLM count: only a same-day count compares.
    let calls =
        (now.day == earlier.day).then(|| now.llm_calls_today.abs_diff(earlier.llm_calls_today));
    let calls_text = calls.map_or_else(
        || "LLM calls not compared across a UTC day".to_owned(),
        |c| format!("{c} LLM calls"),
    );
    let idle = actions == 0 && calls.unwrap_or(0) == 0;
    CheckResult::of(
        name,
        if idle {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        format!(
            "SIMULATION_ACTIVE=false; {actions} actions and {calls_text} in the {seconds} s since {}",
            earlier.at.format("%H:%M:%S UTC")
        ),
    )
}

/// Whether a run passed: every check passed.
pub fn passed(results: &[CheckResult]) -> bool {
    !results.is_empty() && results.iter().all(|r| r.status.is(&CheckStatus::Pass))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(writes: bool, active: bool) -> AdminStatus {
        serde_json::from_value(serde_json::json!({
            "environment": "PRODUCTION",
            "admin_write_enabled": writes,
            "simulation_active": active,
            "simulation_paused": false,
            "run_id": active.then_some("prod-1"),
        }))
        .unwrap()
    }

    fn reading(at: &str, active: bool, actions: u64, calls: u64) -> IdleReading {
        let at: DateTime<Utc> = at.parse().unwrap();
        IdleReading {
            at,
            simulation_active: active,
            actions,
            llm_calls_today: calls,
            day: at.date_naive(),
        }
    }

    #[test]
    fn status_passes_only_when_writes_are_off() {
        let r = judge_status(&status(false, false));
        assert!(r.status.is(&CheckStatus::Pass));
        assert_eq!(
            r.evidence,
            "admin_write_enabled=false (environment PRODUCTION)"
        );
        assert!(
            judge_status(&status(true, false))
                .status
                .is(&CheckStatus::Fail)
        );
    }

    #[test]
    fn only_a_403_passes_the_probe_and_an_active_run_is_not_probed() {
        let p = "/api/admin/control/run/pause";
        assert!(
            judge_probe(p, 403, Some("Admin writes are disabled"))
                .status
                .is(&CheckStatus::Pass)
        );
        let r = judge_probe(p, 409, Some("No active run"));
        assert!(r.status.is(&CheckStatus::Fail));
        assert_eq!(
            r.evidence,
            format!("POST {p} sent to the platform answered 409: No active run")
        );
        assert!(judge_probe(p, 200, None).status.is(&CheckStatus::Fail));
        assert!(probe_is_harmless(&status(true, false)));
        assert!(!probe_is_harmless(&status(true, true)));
        assert!(
            probe_skipped(&status(true, true))
                .evidence
                .contains("prod-1")
        );
    }

    #[test]
    fn idle_means_no_actions_and_no_calls_between_readings() {
        let a = reading("2026-12-02T10:00:00Z", false, 100, 7);
        let r = judge_idle(&a, &reading("2026-12-02T10:15:00Z", false, 100, 7));
        assert!(r.status.is(&CheckStatus::Pass), "{}", r.evidence);
        assert_eq!(
            r.evidence,
            "SIMULATION_ACTIVE=false; 0 actions and 0 LLM calls in the 900 s since 10:00:00 UTC"
        );
        let busy = judge_idle(&a, &reading("2026-12-02T10:15:00Z", false, 130, 9));
        assert!(busy.status.is(&CheckStatus::Fail));
        assert!(
            busy.evidence.contains("30 actions and 2 LLM calls"),
            "{}",
            busy.evidence
        );
        let calls = judge_idle(&a, &reading("2026-12-02T10:15:00Z", false, 100, 8));
        assert!(calls.status.is(&CheckStatus::Fail));
        // Past midnight the LLM count restarts; actions still compare.
        let late = reading("2026-12-02T23:59:00Z", false, 100, 7);
        let r = judge_idle(&late, &reading("2026-12-03T00:01:00Z", false, 100, 0));
        assert!(r.status.is(&CheckStatus::Pass), "{}", r.evidence);
        let active = judge_idle(&a, &reading("2026-12-02T10:15:00Z", true, 130, 9));
        assert!(active.status.is(&CheckStatus::Skipped));
    }

    #[test]
    fn a_run_passes_when_every_check_does() {
        let pass = judge_status(&status(false, false));
        let skip = probe_skipped(&status(false, true));
        assert!(passed(&[pass.clone(), pass.clone()]));
        assert!(!passed(&[pass.clone(), skip]));
        assert!(!passed(&[pass, judge_status(&status(true, false))]));
        assert!(!passed(&[]));
        for n in CheckName::ALL {
            let json = serde_json::to_string(&n).unwrap();
            assert_eq!(json, format!("\"{}\"", n.as_str()));
        }
    }
}
