//! `#retention-day`: the sweep days on record, newest first. Choosing one puts
//! it in the URL (`?day=`), so a day is shareable and survives a reload.

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use opsdeck_api::retention::RetentionDays;

use crate::hooks::use_polled::Polled;

/// A `<select>` of the stored days; its value is the day shown.
#[component]
pub fn RetentionDayPicker(
    /// `GET /api/admin/retention/days`.
    days: Polled<RetentionDays>,
    /// The day of the report on the page (the latest when the URL names none).
    shown: Signal<Option<NaiveDate>>,
) -> impl IntoView {
    let navigate = use_navigate();
    let options = move || {
        // The platform lists them newest first.
        days.with(|d| d.map(|d| d.days.clone()).unwrap_or_default())
            .into_iter()
            .map(|day| {
                let value = day.to_string();
                let label = value.clone();
                view! {
                    <option value=value selected=move || shown.get() == Some(day)>
                        {label}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <label class="field-inline day-picker">
            "Sweep day "
            <select
                id="retention-day"
                aria-describedby="retention-day-hint"
                prop:value=move || shown.get().map(|d| d.to_string()).unwrap_or_default()
                on:change=move |ev| {
                    let day = event_target_value(&ev);
                    navigate(&format!("/ops/retention?day={day}"), Default::default());
                }
            >
                {options}
            </select>
        </label>
        <span id="retention-day-hint" class="visually-hidden">
            "Days with a stored sweep, newest first (UTC)"
        </span>
    }
}
