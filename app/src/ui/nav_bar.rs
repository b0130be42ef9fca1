//! The top navigation.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::LocalRoutes;

/// The screens, in order: path and name.
const SCREENS: [(&str, &str); 4] = [
    ("/ops", "Ops"),
    ("/ops/kpi", "KPI"),
    ("/ops/vp", "VP lanes"),
    ("/ops/retention", "Retention"),
];

/// Brand and the list of screens. A screen in this bundle is a client-side
/// link; one in another bundle is a full page load (`rel="external"` keeps
/// the router from handling it).
#[component]
pub fn NavBar() -> impl IntoView {
    let local = use_context::<LocalRoutes>().unwrap_or(LocalRoutes(&[]));
    let location = use_location();
    let items = SCREENS
        .into_iter()
        .map(|(href, name)| {
            let current = move || location.pathname.with(|p| p == href).then_some("page");
            let external = (!local.0.contains(&href)).then_some("external");
            view! {
                <li>
                    <a href=href rel=external aria-current=current>
                        {name}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="nav" aria-label="Main">
            <span class="brand">"opsdeck"</span>
            <ul class="nav-links">{items}</ul>
        </nav>
    }
}
