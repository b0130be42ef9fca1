//! Any path without a screen.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// A short "nothing here" with the way back.
#[component]
pub fn NotFound() -> impl IntoView {
    let path = use_location().pathname;
    view! {
        <section class="not-found" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"Page not found"</h1>
            <p>"There is no screen at " <code>{move || path.get()}</code> "."</p>
            <p>
                <A href="/ops">"Go to the ops console"</A>
            </p>
        </section>
    }
}
