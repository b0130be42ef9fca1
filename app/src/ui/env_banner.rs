//! The environment banner: DEVELOPMENT and writable, or PRODUCTION and read-only,
//! plus anything the upstream platform says to the contrary.

use leptos::prelude::*;
use opsdeck_api::admin::AdminStatus;

use crate::hooks::use_polled::Polled;
use crate::state::connection::use_connection;
use crate::ui::banner;

/// `#env-banner`.
#[component]
pub fn EnvBanner(
    /// The upstream's status, to cross-check environment and write flag
    /// (pages a viewer opens go without: a viewer may not read it).
    #[prop(optional)]
    status: Option<Polled<AdminStatus>>,
) -> impl IntoView {
    let conn = use_connection();
    let model = Memo::new(move |_| {
        conn.with_session(|session| match status {
            Some(status) => status.with(|upstream| banner::banner(session, upstream)),
            None => banner::banner(session, None),
        })
    });
    // Rendered only when there are notes: the list is a full-width flex row.
    let notes = move || {
        model.with(|m| {
            (!m.notes.is_empty()).then(|| {
                let items = m.notes.iter().map(|note| view! { <li>{note.clone()}</li> });
                view! {
                    <ul class="env-notes" id="env-notes">
                        {items.collect_view()}
                    </ul>
                }
            })
        })
    };
    view! {
        <section
            id="env-banner"
            class=move || model.with(|m| m.class.clone())
            aria-label="Environment"
        >
            <strong class="env-name" id="env-name">
                {move || model.with(|m| m.environment.clone())}
            </strong>
            <span class="env-mode" id="env-mode">
                {move || model.with(|m| m.mode.clone())}
            </span>
            {notes}
        </section>
    }
}
