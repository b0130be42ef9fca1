//! One file per route.

pub mod not_found;
pub mod ops;
