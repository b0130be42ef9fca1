//! The error card inside a panel whose last fetch failed.

use leptos::prelude::*;

use crate::api::ApiError;
use crate::state::clock::use_clock;
use crate::state::refresh::use_refresh;
use crate::ui::format;

/// `.panel-error`: what failed, how old the data still shown is, and when
/// auto-refresh tries again (`.panel-error-retry`, whose `data-retry-at` is
/// that moment in ms since the epoch by the browser's clock).
#[component]
pub fn ErrorCard(
    /// The failure of the newest fetch.
    error: ApiError,
    /// When the data still shown arrived, if any did.
    last_good_ms: Signal<Option<f64>>,
    /// When auto-refresh tries the source again.
    retry_at_ms: Signal<Option<f64>>,
) -> impl IntoView {
    let clock = use_clock();
    let refresh = use_refresh();
    let age = move || match last_good_ms.get() {
        Some(at) => format!(
            "last good data {}",
            format::ago(format::seconds_between(at, clock.now_ms()))
        ),
        None => "no data yet".to_string(),
    };
    // With auto-refresh off nothing retries until someone presses Refresh.
    let retry = move || {
        retry_at_ms.get().filter(|_| refresh.auto.get()).map(|at| {
            view! {
                <p class="panel-error-retry" data-retry-at=at.round() as i64>
                    {move || format::retrying(at, clock.now_ms())}
                </p>
            }
        })
    };
    view! {
        <div class="panel-error">
            <p class="panel-error-message">{error.to_string()}</p>
            <p class="panel-error-age">{age}</p>
            {retry}
        </div>
    }
}
