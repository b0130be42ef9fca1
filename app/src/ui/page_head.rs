//! The top of every page: its title, page-specific controls, Refresh and
//! auto-refresh, then the notice and error banner of the last write.

use leptos::prelude::*;

use crate::ui::error_banner::ErrorBanner;
use crate::ui::notice::Notice;
use crate::ui::refresh_bar::RefreshBar;

/// `<h1>`, any controls given as children, the refresh bar and the feedback area.
#[component]
pub fn PageHead(
    /// The page's `<h1>`.
    title: &'static str,
    /// Controls between the title and the refresh bar (a range picker).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="page-head">
            <h1 class="page-title">{title}</h1>
            {children.map(|c| c())}
            <RefreshBar />
        </div>
        <div class="feedback">
            <Notice />
            <ErrorBanner />
        </div>
    }
}
