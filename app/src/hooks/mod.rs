//! Reusable reactive behaviour, `use_x()` style.

pub mod use_polled;
