//! The lanes the model runs, and the failures it writes into payloads: who
//! each lane is, how it behaves when nothing is forced, and why missions and
//! sessions fail.

use super::model::lognormal;
use crate::rng::Rng;

/// One lane of the model: who it is and how it behaves when nothing is forced.
#[derive(Debug)]
pub struct Lane {
    /// Lane id (`vp.coder.primary`).
    pub vp_id: &'static str,
    /// What people call it.
    pub display_name: &'static str,
    /// Share of `SIM_VP_MISSIONS_PER_HOUR` the lane runs.
    pub weight: f64,
    /// Typical chance a mission falls back, before drift and bad hours.
    pub(super) fallback_base: f64,
    /// Typical chance a mission fails outright (no fallback).
    pub(super) failed_base: f64,
    /// Median mission duration in seconds, before drift and load.
    pub(super) median_s: f64,
    /// Spread of the lognormal duration (p95 is `median · e^(1.645 σ)`).
    pub(super) sigma: f64,
    /// Session incidents (`vp.session.degraded`) an hour.
    pub(super) incidents_per_hour: f64,
    /// Chance a recovery resumes the session rather than orphaning it.
    pub(super) recovery_p: f64,
    pub(super) workspace_dir: &'static str,
    pub(super) objectives: &'static [&'static str],
    pub(super) progress_steps: &'static [&'static str],
}

/// How many lanes the model runs.
pub const LANE_COUNT: usize = 2;

/// The lanes this platform runs, in a fixed order (it is part of the seed).
pub static LANES: [Lane; LANE_COUNT] = [
    Lane {
        vp_id: "vp.coder.primary",
        display_name: "CODIE",
        weight: 1.0,
        fallback_base: 0.018,
        failed_base: 0.006,
        median_s: 13.0,
        sigma: 0.6,
        incidents_per_hour: 1.0 / 12.0,
        recovery_p: 0.97,
        workspace_dir: "/var/lib/ua/vp/vp_coder_primary",
        objectives: &[
            "Fix flaky test tests/gateway/test_resume.py::test_resume_after_restart",
            "Add exponential backoff with jitter to the webhook sender",
            "Refactor lease renewal in the VP session registry",
            "Bump tokio to 1.48 and fix the deprecation warnings",
            "Add an index on vp_events (vp_id, created_at) with a migration",
            "Port the CSV exporter to streaming writes",
            "Investigate the p95 regression on GET /api/v1/sessions",
            "Add type hints to universal_agent/durable/state.py",
        ],
        progress_steps: &["workspace ready", "running tests", "applying patch"],
    },
    Lane {
        vp_id: "vp.research.primary",
        display_name: "Research",
        weight: 0.4,
        fallback_base: 0.045,
        failed_base: 0.01,
        median_s: 19.0,
        sigma: 0.55,
        incidents_per_hour: 1.0 / 6.0,
        recovery_p: 0.85,
        workspace_dir: "/var/lib/ua/vp/vp_research_primary",
        objectives: &[
            "Summarise this week's papers on speculative decoding",
            "Compare managed vector databases for 10M embeddings",
            "Collect LLM provider pricing changes since January",
            "Survey retry strategies for long-running agent tool calls",
            "Draft a brief on EU AI Act duties for agent platforms",
        ],
        progress_steps: &["searching sources", "reading documents", "drafting summary"],
    },
];

/// The lane called `vp_id`, with its index in [`LANES`].
pub fn lane(vp_id: &str) -> Option<(usize, &'static Lane)> {
    LANES.iter().enumerate().find(|(_, l)| l.vp_id == vp_id)
}

/// `vp.coder.primary, vp.research.primary`: for error messages.
pub fn lane_list() -> String {
    LANES.iter().map(|l| l.vp_id).collect::<Vec<_>>().join(", ")
}

/// How long after a failure starts the lane gives up.
#[derive(Debug, Clone, Copy)]
pub(super) enum Timing {
    /// An error answered at once (a few seconds).
    Fast,
    /// Work that ran a while first (tens of seconds).
    Slow,
    /// A timeout: this many seconds.
    After(f64),
}

/// A failure the model writes into a payload: `reason`, `error`, and when it strikes.
#[derive(Debug)]
pub struct Failure {
    /// Payload `reason`.
    pub reason: &'static str,
    /// Payload `error`: operator-only text.
    pub error: &'static str,
    pub(super) timing: Timing,
    pub(super) weight: u64,
}

/// Why missions fall back to the primary path.
pub static FALLBACK_FAILURES: [Failure; 7] = [
    Failure {
        reason: "vp_execution_error",
        error: "anthropic: 529 overloaded_error: Overloaded",
        timing: Timing::Fast,
        weight: 5,
    },
    Failure {
        reason: "provider_timeout",
        error: "provider timeout: no first token from claude-sonnet-4 within 45s",
        timing: Timing::After(45.0),
        weight: 4,
    },
    Failure {
        reason: "vp_execution_error",
        error: "openai: 429 rate_limit_exceeded: Rate limit reached for gpt-4.1 (tokens per min)",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "vp_execution_error",
        error: "tool bash exited 137 (OOM killed) while running the test suite",
        timing: Timing::Slow,
        weight: 2,
    },
    Failure {
        reason: "context_overflow",
        error: "prompt is too long: 214882 tokens > 200000 maximum",
        timing: Timing::Fast,
        weight: 1,
    },
    Failure {
        reason: "vp_timeout",
        error: "mission exceeded its 120s wall-clock budget",
        timing: Timing::After(120.0),
        weight: 2,
    },
    Failure {
        reason: "adapter_error",
        error: "ProcessTurnAdapter: stream closed before the final message (ECONNRESET)",
        timing: Timing::Slow,
        weight: 2,
    },
];

/// Why missions dispatched while the lane's session is down fall back.
pub static SESSION_UNAVAILABLE: Failure = Failure {
    reason: "vp_session_unavailable",
    error: "no live VP session: lease expired, recovery in progress",
    timing: Timing::Fast,
    weight: 1,
};

/// Why missions fail outright.
pub static MISSION_FAILURES: [Failure; 3] = [
    Failure {
        reason: "workspace_error",
        error: "git clone failed: remote: Repository not found",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "budget_exceeded",
        error: "mission token budget exhausted (150000 tokens)",
        timing: Timing::Slow,
        weight: 2,
    },
    Failure {
        reason: "mission_rejected",
        error: "objective failed validation: path outside the workspace",
        timing: Timing::Fast,
        weight: 1,
    },
];

/// Why sessions degrade (also their `last_error`).
pub static SESSION_FAILURES: [Failure; 3] = [
    Failure {
        reason: "lease_heartbeat_failed",
        error: "heartbeat missed 3 times; last seen 95s ago",
        timing: Timing::Fast,
        weight: 3,
    },
    Failure {
        reason: "runtime_unreachable",
        error: "runtime unreachable: connect ECONNREFUSED 10.0.3.14:7443",
        timing: Timing::Fast,
        weight: 2,
    },
    Failure {
        reason: "worker_crashed",
        error: "worker process exited with signal SIGKILL",
        timing: Timing::Fast,
        weight: 1,
    },
];

/// Every free-text error the model writes into payloads and `last_error`:
/// what only operators may see.
pub fn payload_errors() -> impl Iterator<Item = &'static Failure> {
    FALLBACK_FAILURES
        .iter()
        .chain(std::iter::once(&SESSION_UNAVAILABLE))
        .chain(MISSION_FAILURES.iter())
        .chain(SESSION_FAILURES.iter())
}

pub(super) fn pick<'a>(rng: &mut Rng, failures: &'a [Failure]) -> &'a Failure {
    let total: u64 = failures.iter().map(|f| f.weight).sum();
    let mut roll = rng.below(total);
    for f in failures {
        if roll < f.weight {
            return f;
        }
        roll -= f.weight;
    }
    &failures[0]
}

pub(super) fn seconds_to(rng: &mut Rng, timing: Timing) -> f64 {
    match timing {
        Timing::Fast => lognormal(rng, 2.5, 0.6).clamp(0.2, 20.0),
        Timing::Slow => lognormal(rng, 25.0, 0.5).clamp(5.0, 300.0),
        Timing::After(s) => s + rng.range(0.05, 1.5),
    }
}
