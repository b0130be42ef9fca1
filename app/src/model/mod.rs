//! Plain functions behind the components: formatting, button rules, banner
//! wording. No signals and no browser APIs here, so all of it is tested natively.

pub mod banner;
pub mod connect;
pub mod controls;
pub mod format;
pub mod guardrails;
pub mod kpi;
pub mod markdown;
pub mod reports;
pub mod retention;
pub mod vp;
