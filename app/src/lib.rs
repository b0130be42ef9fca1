//! opsdeck's browser console: Leptos in client-side rendering, built to wasm by Trunk.
//!
//! One folder per feature (`ops`, `kpi`, `vp`, `retention`, `runs`), each holding its
//! page, its panels, its plain rules (natively tested) and its charts; `ui`
//! holds the parts every page shares, and `shell` the frame around a page.
//! `api` is the only module that talks HTTP; `hooks` and `state` are the
//! reactive plumbing. Each page of `opsdeck_api::pages::PAGES` is its own
//! wasm bundle, a bin in `src/bin/` named after it.

pub mod alerts;
pub mod api;
pub mod hooks;
pub mod kpi;
pub mod ops;
pub mod retention;
pub mod runs;
pub mod shell;
pub mod state;
pub mod ui;
pub mod vp;
