//! Wire types of every opsdeck endpoint and the pure rules both sides apply.
//!
//! This crate is the single definition of what crosses HTTP: the upstream
//! platform contract (`/api/admin/*`), the console's own API
//! (`/api/console/*`) and the error body every refusal uses. It does no I/O and
//! builds for wasm and native alike, so the browser app, the server and the
//! reference sim all agree by construction.

#![deny(missing_docs)]

pub mod admin;
pub mod alerts;
pub mod baseline;
pub mod console;
pub mod digest;
pub mod error;
pub mod geocoding;
pub mod kpi;
pub mod other;
pub mod pages;
pub mod prodchecks;
pub mod rate;
pub mod retention;
pub mod runs;
#[cfg(test)]
mod testing;
pub mod validate;
pub mod vp;

pub use error::ErrorBody;
pub use rate::Rate;

/// HTTP header naming the person acting, forwarded to the platform.
pub const ACTOR_HEADER: &str = "x-actor";
/// HTTP header carrying the request id the console assigns to every request.
pub const REQUEST_ID_HEADER: &str = "x-request-id";
