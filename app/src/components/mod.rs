//! One component per file.

pub mod audit_panel;
pub mod chart_figure;
pub mod cohort_panel;
pub mod config_panel;
pub mod confirm_dialog;
pub mod connect_bar;
pub mod controls_panel;
pub mod env_banner;
pub mod error_banner;
pub mod error_card;
pub mod events_panel;
pub mod kpi_alerts_panel;
pub mod kpi_charts_panel;
pub mod kpi_range;
pub mod kpi_rollups_panel;
pub mod kpi_summary_panel;
pub mod kv_row;
pub mod metrics_panel;
pub mod nav_bar;
pub mod notice;
pub mod page_head;
pub mod panel;
pub mod refresh_bar;
pub mod status_panel;
pub mod text_field;
pub mod webhook_panel;
