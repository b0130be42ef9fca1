//! opsdeck's browser console: Leptos in client-side rendering, built to wasm by Trunk.
//!
//! `App` provides the app-wide state (clock, refresh pulse, write feedback,
//! connection) and routes; `api` is the only module that talks HTTP; `model`
//! holds the plain, natively tested rules the components wire to signals.

pub mod api;
pub mod charts;
pub mod components;
pub mod hooks;
pub mod model;
pub mod pages;
pub mod state;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::connect_bar::ConnectBar;
use crate::components::nav_bar::NavBar;
use crate::pages::kpi::KpiPage;
use crate::pages::not_found::NotFound;
use crate::pages::ops::OpsPage;
use crate::state::clock::provide_clock;
use crate::state::connection::provide_connection;
use crate::state::feedback::provide_feedback;
use crate::state::refresh::provide_refresh;

/// The whole app: shared state, the header with the connect bar, and the routes.
#[component]
pub fn App() -> impl IntoView {
    let clock = provide_clock();
    let refresh = provide_refresh();
    let feedback = provide_feedback();
    provide_connection(clock, refresh, feedback);

    view! {
        <Router>
            <a class="skip-link" href="#main">
                "Skip to content"
            </a>
            <header class="app-header">
                <NavBar />
                <ConnectBar />
            </header>
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/ops") view=OpsPage />
                    <Route path=path!("/ops/kpi") view=KpiPage />
                </Routes>
            </main>
        </Router>
    }
}
