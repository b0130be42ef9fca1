//! The parts every page shares: the panel frame, rows and tables, dialogs,
//! banners and the connect bar, the nav, charts' common ground, and how
//! numbers and times read. A feature folder (`ops/`, `kpi/`, …) builds its
//! page from these; nothing here knows one feature from another.

pub mod action_panel;
pub mod banner;
pub mod chart;
pub mod chart_figure;
pub mod chart_marks;
pub mod confirm_dialog;
pub mod connect_bar;
pub mod data_table;
pub mod env_banner;
pub mod error_banner;
pub mod error_card;
pub mod format;
pub mod kv_row;
pub mod line_chart;
pub mod nav_bar;
pub mod not_found;
pub mod notice;
pub mod page_head;
pub mod panel;
pub mod perf;
pub mod refresh_bar;
pub mod text_field;
pub mod write_button;
