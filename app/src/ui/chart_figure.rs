//! One chart: its SVG inline, a caption, and an SVG download link.

use leptos::prelude::*;

use crate::ui::format;

/// A `<figure id=…>` with the chart's SVG and `#{id}-svg`, its download.
#[component]
pub fn ChartFigure(
    /// Element id (`chart-funnel`, `chart-d1`, …).
    id: String,
    /// Caption and accessible name.
    #[prop(into)]
    title: Signal<String>,
    /// The markup from [`crate::ui::chart::svg`]; `None` shows `empty`.
    svg: Memo<Option<String>>,
    /// Download file name.
    #[prop(into)]
    file: Signal<String>,
    /// What to say when there is nothing to draw.
    empty: &'static str,
) -> impl IntoView {
    let href = Memo::new(move |_| {
        svg.with(|s| s.as_deref().map(|s| format::data_url("image/svg+xml", s)))
    });
    let link_id = format!("{id}-svg");
    view! {
        <figure id=id class="chart">
            <figcaption class="chart-caption">
                <span class="chart-title">{title}</span>
                <a
                    id=link_id
                    class="chart-download"
                    download=file
                    href=move || href.get()
                    aria-disabled=move || href.with(Option::is_none).then_some("true")
                >
                    "SVG"
                </a>
            </figcaption>
            {move || match svg.get() {
                Some(markup) => {
                    view! {
                        <div class="chart-svg" role="img" aria-label=title inner_html=markup></div>
                    }
                        .into_any()
                }
                None => view! { <p class="panel-empty">{empty}</p> }.into_any(),
            }}
        </figure>
    }
}
