//! `/ops/retention`: a day's retention sweep per tenant joined to geocoding
//! coverage, and the geocoding panel.

pub mod day_picker;
pub mod geocoding_panel;
pub mod model;
pub mod page;
pub mod sweep_panel;
