//! Rules of the recovery and runtime config panels: when a run waits on a
//! guardrail stop, whether its cause still holds, the override that would
//! clear it, and the runtime config form as typed.

use opsdeck_api::admin::{AdminConfig, AdminStatus, GuardrailStop, RunMetrics, guardrail_reason};
use opsdeck_api::runs::{
    OverridesRequest, RunOutcome, StopCheck, keys, next_steps, override_changes, stop_check,
};

use crate::ui::confirm_dialog::Confirmation;

/// A run a guardrail stopped, waiting to be brought back.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// The run.
    pub run_id: String,
    /// The stop.
    pub stop: GuardrailStop,
    /// The runbook's next steps for its reason.
    pub steps: &'static [&'static str],
    /// Whether this console knows the reason, and so can measure its cause.
    pub known: bool,
}

/// The stop the current run is waiting on, if the last thing that happened
/// to it was a guardrail stop. A platform that reports the run's outcome is
/// believed (a run an operator stopped after an earlier guardrail stop is
/// not waiting); one that does not is judged by the stop's run alone.
pub fn stopped(status: &AdminStatus) -> Option<Stopped> {
    let stop = status.last_guardrail_stop.as_ref()?;
    let run_id = status.run_id.as_ref()?;
    let waiting = status
        .run_outcome
        .as_ref()
        .is_none_or(|o| o.is(&RunOutcome::Guardrail));
    (waiting && !status.simulation_active && stop.run_id.as_ref() == Some(run_id)).then(|| {
        Stopped {
            run_id: run_id.clone(),
            stop: stop.clone(),
            steps: next_steps(&stop.reason),
            known: guardrail_reason::ALL.contains(&stop.reason.as_str()),
        }
    })
}

/// Whether the stop still holds, once metrics and config are loaded.
pub fn check(
    stopped: &Stopped,
    metrics: Option<&RunMetrics>,
    config: Option<&AdminConfig>,
) -> Option<StopCheck> {
    stop_check(&stopped.stop.reason, metrics?, config?)
}

/// How Resume renders on the recovery panel.
pub fn resume_state(check: Option<&StopCheck>, known_reason: bool) -> (bool, String) {
    match check {
        Some(c) if c.holding => (true, format!("{} still holds: clear it first", c.reason)),
        Some(_) => (
            false,
            "The stop's cause is clear: continue the same run".into(),
        ),
        None if known_reason => (true, "Waiting for metrics and config".into()),
        // A reason this console does not know: the platform judges it.
        None => (
            false,
            "The platform checks whether the cause is clear".into(),
        ),
    }
}

/// The one override the recovery panel offers for `reason`, and a value for
/// it that clears the stop as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    /// One of [`keys`].
    pub key: &'static str,
    /// A value that would clear the stop as measured, as text for the field.
    pub suggested: String,
}

/// The override that clears a stop with `reason`; `None` where raising a
/// threshold is not the fix (pool pressure eases once the run is stopped).
pub fn offer(reason: &str, metrics: &RunMetrics, config: &AdminConfig) -> Option<Offer> {
    match reason {
        guardrail_reason::BUDGET_EXCEEDED => {
            let spend = metrics.llm_spend_today_usd;
            let budget = config.budgets.llm_daily_budget_usd_hard;
            // Double whichever is larger, in whole cents, so the run has room.
            let value = (spend.max(budget) * 2.0 * 100.0).ceil() / 100.0;
            Some(Offer {
                key: keys::LLM_DAILY_BUDGET_USD_HARD,
                suggested: format!("{value:.2}"),
            })
        }
        guardrail_reason::PROVIDER_FAILURES_REPEATED => {
            let now = metrics.provider_failures_window;
            let threshold = u64::from(config.stop_conditions.provider_failure_threshold);
            Some(Offer {
                key: keys::STOP_PROVIDER_FAILURE_THRESHOLD,
                suggested: (now.max(threshold) * 2).max(1).to_string(),
            })
        }
        _ => None,
    }
}

/// The runtime config form as typed. A blank field keeps its value; the
/// switches are `""` (keep), `"true"` or `"false"`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OverridesForm {
    /// Why (required).
    pub reason: String,
    /// `SIMULATION_ACTIVE`.
    pub active: String,
    /// `SIMULATION_PAUSED`.
    pub paused: String,
    /// `LLM_DAILY_BUDGET_USD_HARD`, USD.
    pub budget: String,
    /// `STOP_PROVIDER_FAILURE_THRESHOLD`.
    pub failure_threshold: String,
    /// `STOP_PROVIDER_FAILURE_WINDOW_SECONDS`.
    pub failure_window: String,
    /// `STOP_DB_POOL_UTILIZATION_THRESHOLD`, 0–1.
    pub pool_threshold: String,
    /// `STOP_DB_POOL_SUSTAINED_SECONDS`.
    pub pool_sustained: String,
}

/// What is wrong with the form: which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    /// The request field at fault (`reason`, `llm_daily_budget_usd_hard`, `body`…).
    pub field: String,
    /// For people.
    pub message: String,
}

fn parsed<T: std::str::FromStr>(field: &str, text: &str) -> Result<Option<T>, FormError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| FormError {
        field: field.into(),
        message: format!("{field}: {text:?} is not a number of the right kind"),
    })
}

impl OverridesForm {
    /// The request, checked with the platform's own rules.
    pub fn request(&self) -> Result<OverridesRequest, FormError> {
        let switch = |field: &str, text: &str| match text {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            "" => Ok(None),
            other => Err(FormError {
                field: field.into(),
                message: format!("{field}: {other:?} is not true or false"),
            }),
        };
        let req = OverridesRequest {
            reason: self.reason.trim().to_owned(),
            simulation_active: switch("simulation_active", &self.active)?,
            simulation_paused: switch("simulation_paused", &self.paused)?,
            llm_daily_budget_usd_hard: parsed("llm_daily_budget_usd_hard", &self.budget)?,
            stop_provider_failure_threshold: parsed(
                "stop_provider_failure_threshold",
                &self.failure_threshold,
            )?,
            stop_provider_failure_window_seconds: parsed(
                "stop_provider_failure_window_seconds",
                &self.failure_window,
            )?,
            stop_db_pool_utilization_threshold: parsed(
                "stop_db_pool_utilization_threshold",
                &self.pool_threshold,
            )?,
            stop_db_pool_sustained_seconds: parsed(
                "stop_db_pool_sustained_seconds",
                &self.pool_sustained,
            )?,
        };
        req.validate().map_err(|e| FormError {
            field: e.field.into(),
            message: e.message,
        })?;
        Ok(req)
    }
}

/// What the confirmation of `req` says: each change old → new, from the
/// config and status the page last showed.
pub fn overrides_confirmation(
    req: &OverridesRequest,
    config: Option<&AdminConfig>,
    status: Option<&AdminStatus>,
) -> Confirmation {
    let changes = match (config, status) {
        (Some(c), Some(s)) => override_changes(req, c, s.simulation_active, s.simulation_paused)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let text = match changes.as_slice() {
        [] if config.is_none() || status.is_none() => {
            "Change the runtime config? (current values not loaded)".to_owned()
        }
        [] => "Nothing would change: every value is already as asked. Send anyway?".to_owned(),
        [one] => format!("Set {one}?"),
        many => format!("Set {}?", many.join("; ")),
    };
    Confirmation {
        text,
        detail: Some(format!("Reason: {}", req.reason)),
        ok_label: "Apply",
        destructive: req.simulation_active == Some(false),
        ask_reason: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use opsdeck_api::admin::{Budgets, Environment, RuntimeOverrides, StopConditions};

    fn status(active: bool, stop_run: Option<&str>) -> AdminStatus {
        AdminStatus {
            environment: Environment::Development.into(),
            admin_write_enabled: true,
            simulation_active: active,
            simulation_paused: !active,
            run_id: Some("soak-1".into()),
            run_reason: None,
            run_started_at: None,
            run_started_by: None,
            last_guardrail_stop: stop_run.map(|id| GuardrailStop {
                reason: guardrail_reason::BUDGET_EXCEEDED.into(),
                at: DateTime::<Utc>::UNIX_EPOCH,
                run_id: Some(id.into()),
                detail: Some("spend reached the budget".into()),
            }),
            run_outcome: None,
        }
    }

    fn config(budget: f64) -> AdminConfig {
        AdminConfig {
            environment: Environment::Development.into(),
            admin_write_enabled: true,
            budgets: Budgets {
                llm_daily_budget_usd_hard: budget,
            },
            stop_conditions: StopConditions {
                provider_failure_threshold: 25,
                provider_failure_window_seconds: 300,
                db_pool_utilization_threshold: 0.9,
                db_pool_sustained_seconds: 60,
            },
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
            run_id: Some("soak-1".into()),
            runtime_actions: 100,
            proposal_actions: 10,
            vote_actions: 50,
            forum_actions: 40,
            llm_calls_today: 80,
            llm_spend_today_usd: spend,
            llm_daily_budget_usd_hard: 0.05,
            provider_calls_window: 80,
            provider_failures_window: 3,
            provider_window_seconds: 300,
            db_pool_in_use: 2,
            db_pool_size: 20,
        }
    }

    #[test]
    fn only_a_run_its_guardrail_stopped_waits_for_recovery() {
        assert!(stopped(&status(false, Some("soak-1"))).is_some());
        assert!(stopped(&status(true, Some("soak-1"))).is_none(), "resumed");
        assert!(
            stopped(&status(false, Some("older-run"))).is_none(),
            "another run"
        );
        assert!(stopped(&status(false, None)).is_none());
        let mut later_stopped = status(false, Some("soak-1"));
        later_stopped.run_outcome = Some(RunOutcome::Stopped.into());
        assert!(
            stopped(&later_stopped).is_none(),
            "an operator stopped it after"
        );
        later_stopped.run_outcome = Some(RunOutcome::Guardrail.into());
        assert!(stopped(&later_stopped).is_some());
    }

    #[test]
    fn resume_waits_until_the_cause_is_clear() {
        let s = stopped(&status(false, Some("soak-1"))).unwrap();
        assert!(s.steps[0].contains("LLM_DAILY_BUDGET_USD_HARD"));
        let held = check(&s, Some(&metrics(0.07)), Some(&config(0.05)));
        let (disabled, why) = resume_state(held.as_ref(), true);
        assert!(disabled);
        assert_eq!(why, "budget_exceeded still holds: clear it first");
        let clear = check(&s, Some(&metrics(0.07)), Some(&config(0.2)));
        assert!(!resume_state(clear.as_ref(), true).0);
        assert!(resume_state(None, true).0, "not loaded yet");
        assert!(
            !resume_state(None, false).0,
            "unknown reason: the platform decides"
        );
        let o = offer(&s.stop.reason, &metrics(0.0712), &config(0.05)).unwrap();
        assert_eq!(
            o,
            Offer {
                key: keys::LLM_DAILY_BUDGET_USD_HARD,
                suggested: "0.15".into()
            }
        );
        assert!(
            offer(
                guardrail_reason::DB_POOL_PRESSURE,
                &metrics(0.0),
                &config(1.0)
            )
            .is_none()
        );
    }

    #[test]
    fn the_form_names_the_field_at_fault() {
        let form = OverridesForm {
            reason: "soak".into(),
            budget: "lots".into(),
            ..OverridesForm::default()
        };
        assert_eq!(
            form.request().unwrap_err().field,
            "llm_daily_budget_usd_hard"
        );
        let form = OverridesForm {
            budget: "5".into(),
            ..OverridesForm::default()
        };
        assert_eq!(form.request().unwrap_err().field, "reason");
        let form = OverridesForm {
            reason: "soak".into(),
            pool_threshold: "1.5".into(),
            ..OverridesForm::default()
        };
        assert_eq!(
            form.request().unwrap_err().field,
            "stop_db_pool_utilization_threshold"
        );
        let form = OverridesForm {
            reason: " soak ".into(),
            budget: " 5 ".into(),
            active: "true".into(),
            ..OverridesForm::default()
        };
        let req = form.request().unwrap();
        assert_eq!(req.reason, "soak");
        assert_eq!(req.llm_daily_budget_usd_hard, Some(5.0));
        let c = overrides_confirmation(&req, Some(&config(0.05)), Some(&status(false, None)));
        assert_eq!(
            c.text,
            "Set SIMULATION_ACTIVE false → true; LLM_DAILY_BUDGET_USD_HARD 0.05 → 5?"
        );
        assert_eq!(c.detail.as_deref(), Some("Reason: soak"));
    }
}
