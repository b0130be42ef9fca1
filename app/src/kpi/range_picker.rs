//! `#kpi-range`: the range picker, one link per range so each is shareable.

use leptos::prelude::*;

use crate::kpi::model::RANGES;

/// Links to `/ops/kpi?days=N`; the current one carries `aria-current`.
#[component]
pub fn KpiRange(
    /// The range in the URL.
    range: Memo<u32>,
) -> impl IntoView {
    view! {
        <nav id="kpi-range" class="range-picker" aria-label="Range">
            {RANGES
                .into_iter()
                .map(|days| {
                    // A plain link: the router handles it in the page, and the
                    // highlighted one follows the query, not only the path.
                    view! {
                        <a
                            href=format!("/ops/kpi?days={days}")
                            data-days=days
                            aria-current=move || (range.get() == days).then_some("true")
                        >
                            {format!("{days} d")}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
    }
}
