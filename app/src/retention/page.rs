//! `/ops/retention`: a day's retention sweep per tenant (the latest, or the
//! day in `?day=`), joined to each tenant's geocoding coverage.
//!
//! Everything here is a GET a viewer token may make; `Run sweep now` is the
//! only write, disabled (and refused by the server) for viewers and on
//! read-only consoles.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;
use crate::hooks::use_polled::{use_polled, use_polled_by};
use crate::retention::day_picker::RetentionDayPicker;
use crate::retention::geocoding_panel::GeocodingPanel;
use crate::retention::model;
use crate::retention::sweep_panel::RetentionPanel;
use crate::state::clock::use_clock;
use crate::ui::env_banner::EnvBanner;
use crate::ui::page_head::PageHead;

/// The retention page.
#[component]
pub fn RetentionPage() -> impl IntoView {
    let query = use_query_map();
    let parsed = Memo::new(move |_| query.with(|q| model::parse_day(q.get_str("day"))));
    let day = Memo::new(move |_| parsed.get().ok().flatten());
    let days = use_polled(api::retention_days());
    let clock = use_clock();
    // The day decides whether the report is polled; the clock's every tick
    // need not re-run the request.
    let report =
        use_polled_by(move || model::report_read(day.get(), untrack(|| clock.server_now_ms())));
    let geocoding = use_polled(api::geocoding());
    let report_data = report.data();
    let shown = Signal::derive(move || {
        report_data
            .with(|r| r.as_ref().map(|r| r.day))
            .or(day.get())
    });
    view! {
        <EnvBanner />
        <PageHead title="Retention">
            <RetentionDayPicker days shown />
        </PageHead>
        {move || {
            parsed
                .get()
                .err()
                .map(|why| {
                    view! {
                        <p class="error-inline" role="alert" id="retention-day-error">
                            {why}
                        </p>
                    }
                })
        }}
        <div class="panels">
            <RetentionPanel report geocoding />
            <GeocodingPanel geocoding />
        </div>
    }
}
