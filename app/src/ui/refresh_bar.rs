//! Refresh now, auto-refresh, and how fresh the data is.

use leptos::prelude::*;

use crate::state::clock::use_clock;
use crate::state::connection::use_connection;
use crate::state::refresh::{AUTO_REFRESH_EVERY, use_refresh};
use crate::ui::format;

/// `#btn-refresh`, `#auto-refresh` and "Last updated Ns ago".
#[component]
pub fn RefreshBar() -> impl IntoView {
    let refresh = use_refresh();
    let clock = use_clock();
    let conn = use_connection();
    let last_updated = move || match refresh.last_success_ms() {
        Some(at) => format!(
            "Last updated {}",
            format::ago(format::seconds_between(at, clock.now_ms()))
        ),
        None if conn.is_connected() => "Not updated yet".into(),
        None => "Not connected".into(),
    };
    let auto_label = format!("Auto-refresh every {} s", AUTO_REFRESH_EVERY.as_secs());
    view! {
        <div class="refresh-bar">
            <button
                id="btn-refresh"
                class="btn"
                type="button"
                disabled=move || !conn.is_connected()
                title=move || {
                    if conn.is_connected() { "Reload every panel now" } else { "Connect first" }
                }
                on:click=move |_| refresh.now()
            >
                "Refresh"
            </button>
            <label class="check">
                <input id="auto-refresh" type="checkbox" bind:checked=refresh.auto />
                {auto_label}
            </label>
            <span id="last-updated" class="last-updated">
                {last_updated}
            </span>
        </div>
    }
}
