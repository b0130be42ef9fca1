//! `/ops/alerts`: every alert of the model — firing, acknowledged, silenced,
//! inhibited and resolved, filtered in the URL — one alert's history with
//! its deliveries, the silences, the receivers with "Send test alert", and
//! the ops timeline.

pub mod history_panel;
pub mod list_panel;
pub mod model;
pub mod page;
pub mod receivers_panel;
pub mod silences_panel;
pub mod timeline_panel;
