//! `/ops/kpi`: KPI alerts, funnel and trend charts, the rollup table, cohort
//! retention and the webhook log; and the KPI card the `/ops` page shows.

pub mod alerts_panel;
pub mod charts_panel;
pub mod cohort_panel;
pub mod funnel_chart;
pub mod model;
pub mod page;
pub mod range_picker;
pub mod rollups_panel;
pub mod summary_panel;
pub mod trend_chart;
pub mod webhook_panel;
