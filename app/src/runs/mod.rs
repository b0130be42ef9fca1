//! `/ops/runs` and `/ops/runs/<run_id>`: the run history, filtered in the
//! URL, and one run's page (summary, charts with its stop and operator
//! actions marked, timeline, audit rows).

pub mod charts;
pub mod list_page;
pub mod model;
pub mod run_page;
