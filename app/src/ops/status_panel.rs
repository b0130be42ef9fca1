//! **Status**: is a run active, which one, and the last guardrail stop.

use std::sync::atomic::{AtomicBool, Ordering};

use leptos::prelude::*;
use opsdeck_api::admin::AdminStatus;

use crate::hooks::use_polled::Polled;
use crate::state::clock::use_clock;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;

/// Name of the performance mark set when Status first shows data (a benchmark reads it).
pub const STATUS_DATA_MARK: &str = "opsdeck:status-data";

static STATUS_MARKED: AtomicBool = AtomicBool::new(false);

/// `performance.mark("opsdeck:status-data")`, once per page load.
fn mark_status_data() {
    if STATUS_MARKED.swap(true, Ordering::Relaxed) {
        return;
    }
    if let Some(perf) = web_sys::window().and_then(|w| w.performance()) {
        let _ = perf.mark(STATUS_DATA_MARK);
    }
}

/// `#panel-status`.
#[component]
pub fn StatusPanel(
    /// `GET /api/admin/status`, shared with the banner and the controls.
    status: Polled<AdminStatus>,
) -> impl IntoView {
    let clock = use_clock();
    let data = status.data();

    // Effects run after the DOM update, so the mark follows the first paint of data.
    Effect::new(move |_| {
        if data.with(Option::is_some) {
            mark_status_data();
        }
    });

    let text = move |f: fn(&AdminStatus) -> String| {
        Signal::derive(move || data.with(|s| s.as_ref().map(f).unwrap_or_default()))
    };
    let flag_tone = move |f: fn(&AdminStatus) -> bool, on: &'static str| {
        Signal::derive(move || {
            data.with(|s| match s.as_ref().map(f) {
                Some(true) => on.to_string(),
                _ => String::new(),
            })
        })
    };
    let started_at = Signal::derive(move || {
        data.with(
            |s| match s.as_ref().and_then(|s| s.run_started_at.as_ref()) {
                Some(at) => format::utc_with_age(at, clock.server_now_ms()),
                None => "—".into(),
            },
        )
    });
    let guardrail = Signal::derive(move || {
        data.with(
            |s| match s.as_ref().and_then(|s| s.last_guardrail_stop.as_ref()) {
                Some(stop) => {
                    let mut text = format!(
                        "{} — {}",
                        stop.reason,
                        format::utc_with_age(&stop.at, clock.server_now_ms())
                    );
                    if let Some(run) = &stop.run_id {
                        text.push_str(&format!(" — run {run}"));
                    }
                    if let Some(detail) = &stop.detail {
                        text.push_str(&format!(" — {detail}"));
                    }
                    text
                }
                None => "none".into(),
            },
        )
    });
    let guardrail_tone = Signal::derive(move || {
        data.with(|s| {
            if s.as_ref().is_some_and(|s| s.last_guardrail_stop.is_some()) {
                "tone-alert".to_string()
            } else {
                String::new()
            }
        })
    });

    view! {
        <Panel id="panel-status" title="Status" frame=status.frame()>
            <dl class="kv">
                <KvRow
                    label="Simulation active"
                    field="simulation_active"
                    value=text(|s| format::yes_no(s.simulation_active).into())
                    tone=flag_tone(|s| s.simulation_active, "tone-good")
                />
                <KvRow
                    label="Paused"
                    field="simulation_paused"
                    value=text(|s| format::yes_no(s.simulation_paused).into())
                    tone=flag_tone(|s| s.simulation_paused, "tone-warn")
                />
                <KvRow
                    label="Run ID"
                    field="run_id"
                    value=text(|s| format::or_dash(s.run_id.as_deref()))
                />
                <KvRow
                    label="Run reason"
                    field="run_reason"
                    value=text(|s| format::or_dash(s.run_reason.as_deref()))
                />
                <KvRow label="Started" field="run_started_at" value=started_at />
                <KvRow
                    label="Started by"
                    field="run_started_by"
                    value=text(|s| format::or_dash(s.run_started_by.as_deref()))
                />
                <KvRow
                    label="Last guardrail stop"
                    field="last_guardrail_stop"
                    value=guardrail
                    tone=guardrail_tone
                    stacked=true
                />
            </dl>
        </Panel>
    }
}
