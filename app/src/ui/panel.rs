//! The frame every data panel shares: heading, `data-state`, the
//! "Connect to load" / loading states and the error card. A panel's contents
//! render only once it has data, and stay while later fetches fail.
//! `data-updated-at` is when the data shown arrived (ms since the epoch by
//! the browser's clock).

use leptos::prelude::*;

use crate::hooks::use_polled::{PanelFrame, Phase};
use crate::ui::error_card::ErrorCard;

/// A titled `<section>` showing one polled source.
#[component]
pub fn Panel(
    /// Element id of the `<section>` (`panel-status`, …).
    id: &'static str,
    /// Heading, as the runbook names the panel.
    title: &'static str,
    /// The source's state.
    frame: PanelFrame,
    /// Span the full width of the grid (tables).
    #[prop(optional)]
    wide: bool,
    /// The data view; rendered only while there is data.
    children: ChildrenFn,
) -> impl IntoView {
    let phase = frame.phase;
    let heading_id = format!("{id}-title");
    view! {
        <section
            id=id
            class=if wide { "panel panel-wide" } else { "panel" }
            data-state=move || phase.get().as_str()
            data-updated-at=move || frame.last_good_ms.get().map(|ms| ms.round() as i64)
            aria-labelledby=format!("{id}-title")
            aria-busy=move || (phase.get() == Phase::Loading).to_string()
        >
            <h2 id=heading_id class="panel-title">
                {title}
            </h2>
            {move || match phase.get() {
                Phase::Idle => {
                    Some(view! { <p class="panel-empty">"Connect to load"</p> }.into_any())
                }
                Phase::Loading => {
                    Some(view! { <p class="panel-loading">"Loading…"</p> }.into_any())
                }
                Phase::Ok | Phase::Error | Phase::Stale => None,
            }}
            {move || {
                frame
                    .error
                    .get()
                    .map(|error| {
                        view! {
                            <ErrorCard
                                error
                                last_good_ms=frame.last_good_ms
                                retry_at_ms=frame.retry_at_ms
                            />
                        }
                    })
            }}
            <Show when=move || matches!(phase.get(), Phase::Ok | Phase::Stale)>
                <div class="panel-body">{children()}</div>
            </Show>
        </section>
    }
}
