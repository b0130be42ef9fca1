//! The error card inside a panel whose last fetch failed.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::state::clock::use_clock;
use crate::ui::format;

/// `.panel-error`: what failed, and how old the data still shown is.
#[component]
pub fn ErrorCard(
    /// The failure of the newest fetch.
    error: ApiError,
    /// When the data still shown arrived, if any did.
    last_good_ms: Signal<Option<f64>>,
) -> impl IntoView {
    let clock = use_clock();
    let age = move || match last_good_ms.get() {
        Some(at) => format!(
            "last good data {}",
            format::ago(format::seconds_between(at, clock.now_ms()))
        ),
        None => "no data yet".to_string(),
    };
    view! {
        <div class="panel-error">
            <p class="panel-error-message">{error.to_string()}</p>
            <p class="panel-error-age">{age}</p>
        </div>
    }
}
