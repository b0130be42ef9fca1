//! One file per route.

pub mod kpi;
pub mod not_found;
pub mod ops;
pub mod retention;
pub mod vp;
