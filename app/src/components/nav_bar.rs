//! The top navigation.

use leptos::prelude::*;
use leptos_router::components::A;

/// Brand and the list of screens .
#[component]
pub fn NavBar() -> impl IntoView {
    view! {
        <nav class="nav" aria-label="Main">
            <span class="brand">"opsdeck"</span>
            <ul class="nav-links">
                <li>
                    <A href="/ops" exact=true>
                        "Ops"
                    </A>
                </li>
                <li>
                    <A href="/ops/kpi">"KPI"</A>
                </li>
            </ul>
        </nav>
    }
}
