//! The top navigation, one link per page of the list.

use leptos::prelude::*;
use leptos_router::hooks::use_location;
use opsdeck_api::pages::PAGES;

use crate::shell::CurrentPage;

/// Brand and the list of pages, in the list's order. The page of this bundle
/// is a client-side link; one in another bundle is a full page load
/// (`rel="external"` keeps the router from handling it).
#[component]
pub fn NavBar() -> impl IntoView {
    let bundle = use_context::<CurrentPage>().map(|c| c.0.bundle);
    let location = use_location();
    let items = PAGES
        .iter()
        .map(|page| {
            let href = page.path;
            let current = move || location.pathname.with(|p| p == href).then_some("page");
            let external = (bundle != Some(page.bundle)).then_some("external");
            view! {
                <li>
                    <a href=href rel=external aria-current=current>
                        {page.nav}
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
