//! `/ops`: the operator's console — status, run controls, run metrics and
//! guardrails and recovery from a stop, prod checks, baseline capture and
//! history, the weekly digest, config and runtime overrides, events, audit.

pub mod audit_panel;
pub mod baseline_compare;
pub mod baseline_history_panel;
pub mod baseline_panel;
pub mod config_panel;
pub mod controls;
pub mod controls_panel;
pub mod digest_panel;
pub mod events_panel;
pub mod guardrails;
pub mod guardrails_panel;
pub mod markdown;
pub mod metrics_panel;
pub mod overrides_panel;
pub mod page;
pub mod prodchecks_panel;
pub mod recovery;
pub mod recovery_panel;
pub mod reports;
pub mod status_panel;
