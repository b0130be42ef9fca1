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
pub mod perf;
pub mod state;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::connect_bar::ConnectBar;
use crate::components::nav_bar::NavBar;
use crate::pages::kpi::KpiPage;
use crate::pages::not_found::NotFound;
use crate::pages::ops::OpsPage;
use crate::pages::retention::RetentionPage;
use crate::pages::vp::VpPage;
use crate::state::clock::provide_clock;
use crate::state::connection::provide_connection;
use crate::state::feedback::provide_feedback;
use crate::state::refresh::provide_refresh;

/// Paths each wasm bundle routes itself. The console ships one bundle per
/// page (`index.html`: `/ops`; `kpi.html`: `/ops/kpi`; `vp.html`: `/ops/vp`;
/// `retention.html`: `/ops/retention`)
/// so no page downloads the others' code; links between bundles are full
/// page loads (credentials stay in the tab's session storage).
#[derive(Debug, Clone, Copy)]
pub struct LocalRoutes(pub &'static [&'static str]);

/// The app state every page shares, provided once per bundle.
fn provide_app_state(local: LocalRoutes) {
    let clock = provide_clock();
    let refresh = provide_refresh();
    let feedback = provide_feedback();
    provide_connection(clock, refresh, feedback);
    provide_context(local);
}

/// The skip link and the header with navigation and the connect bar.
#[component]
fn AppHeader() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="app-header">
            <NavBar />
            <ConnectBar />
        </header>
    }
}

/// The main bundle (`index.html`): `/ops`.
#[component]
pub fn App() -> impl IntoView {
    provide_app_state(LocalRoutes(&["/ops"]));
    view! {
        <Router>
            <AppHeader />
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/ops") view=OpsPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The KPI bundle (`kpi.html`): `/ops/kpi`.
#[component]
pub fn KpiApp() -> impl IntoView {
    provide_app_state(LocalRoutes(&["/ops/kpi"]));
    view! {
        <Router>
            <AppHeader />
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/ops/kpi") view=KpiPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The VP bundle (`vp.html`): `/ops/vp`.
#[component]
pub fn VpApp() -> impl IntoView {
    provide_app_state(LocalRoutes(&["/ops/vp"]));
    view! {
        <Router>
            <AppHeader />
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/ops/vp") view=VpPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The retention bundle (`retention.html`): `/ops/retention`.
#[component]
pub fn RetentionApp() -> impl IntoView {
    provide_app_state(LocalRoutes(&["/ops/retention"]));
    view! {
        <Router>
            <AppHeader />
            <main id="main" class="app-main">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/ops/retention") view=RetentionPage />
                </Routes>
            </main>
        </Router>
    }
}
