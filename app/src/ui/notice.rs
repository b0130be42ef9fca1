//! The success notice after a write.

use leptos::prelude::*;

use crate::state::feedback::use_feedback;

/// `#notice`: exactly the server's message (e.g. `Dev world reset + reseeded`),
/// with its dismiss button beside it rather than inside.
#[component]
pub fn Notice() -> impl IntoView {
    let feedback = use_feedback();
    view! {
        <Show when=move || feedback.notice.with(Option::is_some)>
            <div class="notice-bar">
                <p id="notice" class="notice" role="status">
                    {move || feedback.notice.get().unwrap_or_default()}
                </p>
                <button
                    id="notice-dismiss"
                    class="btn btn-quiet"
                    type="button"
                    on:click=move |_| feedback.notice.set(None)
                >
                    "Dismiss"
                </button>
            </div>
        </Show>
    }
}
