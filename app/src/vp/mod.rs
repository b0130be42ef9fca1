//! `/ops/vp`: one VP lane during a guarded rollout — health, charts, the
//! decision with its criteria and evidence row, recent failures.

pub mod charts;
pub mod charts_panel;
pub mod decision_panel;
pub mod failures_panel;
pub mod health_panel;
pub mod lane_picker;
pub mod model;
pub mod page;
