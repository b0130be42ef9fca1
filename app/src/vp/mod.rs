//! `/ops/vp`: one VP lane during a guarded rollout — health, charts, the
//! decision with its criteria and evidence row, recent failures, the lane's
//! switch — and `/ops/vp/evidence`, the lane's kept evidence log.

pub mod cadence_bar;
pub mod charts;
pub mod charts_panel;
pub mod decision_panel;
pub mod evidence_log_panel;
pub mod evidence_page;
pub mod failures_panel;
pub mod health_panel;
pub mod lane_picker;
pub mod log_model;
pub mod model;
pub mod page;
pub mod recovery_panel;
pub mod routing_panel;
pub mod session_model;
pub mod session_panel;
