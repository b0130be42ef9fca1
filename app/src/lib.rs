//! opsdeck's browser console: Leptos in client-side rendering, built to wasm by Trunk.
//!
//! One folder per feature (`ops`, `kpi`, `vp`, `retention`), each holding its
//! page, its panels, its plain rules (natively tested) and its charts; `ui`
//! holds the parts every page shares. `api` is the only module that talks
//! HTTP; `hooks` and `state` are the reactive plumbing.

pub mod api;
pub mod hooks;
pub mod kpi;
pub mod ops;
pub mod retention;
pub mod state;
pub mod ui;
pub mod vp;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::kpi::page::KpiPage;
use crate::ops::page::OpsPage;
use crate::retention::page::RetentionPage;
use crate::state::clock::provide_clock;
use crate::state::connection::provide_connection;
use crate::state::feedback::provide_feedback;
use crate::state::refresh::provide_refresh;
use crate::ui::connect_bar::ConnectBar;
use crate::ui::nav_bar::NavBar;
use crate::ui::not_found::NotFound;
use crate::vp::page::VpPage;

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
