//! **Baseline snapshot**: capture budgets, stop thresholds, today's LLM
//! counters, the provider failure rate and the emergence windows, and show
//! the latest capture with its JSON download. Beside it, the history of
//! every capture and the comparison of two ([`BaselineHistoryPanel`]).

use leptos::prelude::*;
use opsdeck_api::baseline::{
    BASELINE_DEFAULT_WINDOW_MINUTES, BASELINE_DEFAULT_WINDOWS, BaselineCaptureRequest,
    BaselineSnapshot,
};

use crate::api::{self, ApiError, Credentials, Texted};
use crate::hooks::use_write::use_write;
use crate::ops::baseline_history_panel::BaselineHistoryPanel;
use crate::ops::reports;
use crate::state::connection::use_connection;
use crate::ui::action_panel::{ActionPanel, ActionTexts};
use crate::ui::format;
use crate::ui::kv_row::KvRow;

/// The stored baseline, `None` before the first capture (the platform's 404).
async fn latest(creds: Credentials) -> Result<Option<Texted<BaselineSnapshot>>, ApiError> {
    match api::baseline_latest().request().send(&creds).await {
        Ok(reply) => reply.decode_with_text().map(Some),
        Err(e) if e.status == 404 => Ok(None),
        Err(e) => Err(e),
    }
}

fn snapshot_view(snapshot: Texted<BaselineSnapshot>) -> impl IntoView {
    let Texted { value: s, text } = snapshot;
    let json = reports::indent_json(&text);
    let href = format::data_url("application/json", &json);
    let file = format!(
        "opsdeck-baseline-{}.json",
        s.captured_at.format("%Y%m%dT%H%M%SZ")
    );
    let m = &s.metrics;
    let usage = &m.llm_usage_today;
    let pf = &m.provider_failures;
    let actions: u64 = m.windows.iter().map(|w| w.runtime_actions).sum();
    view! {
        <div
            id="baseline-result"
            data-captured-at=s.captured_at.to_rfc3339()
            data-windows=m.windows.len()
        >
            <dl class="kv">
                <KvRow
                    label="Captured"
                    field="baseline-captured"
                    value=Signal::stored(
                        format!(
                            "{} by {}",
                            format::utc(&s.captured_at),
                            s.captured_by.clone().unwrap_or_else(|| "—".into()),
                        ),
                    )
                />
                <KvRow
                    label="Environment / run"
                    field="baseline-environment-run"
                    value=Signal::stored(
                        format!(
                            "{} · {}{}",
                            s.environment,
                            s.run_id.clone().unwrap_or_else(|| "no run".into()),
                            if s.simulation_active { " (active)" } else { "" },
                        ),
                    )
                />
                <KvRow
                    label="LLM spend today"
                    field="baseline-llm-spend-today"
                    value=Signal::stored(
                        format!(
                            "{} in {} calls",
                            format::spend_of_budget(usage.spend_usd, usage.budget_usd_hard),
                            format::count(usage.calls),
                        ),
                    )
                />
                <KvRow
                    label="Provider failures"
                    field="baseline-provider-failures"
                    value=Signal::stored(
                        format!(
                            "{} ({} of {} calls, last {} s)",
                            pf.rate.map_or_else(|| "n/a".into(), format::percent),
                            format::count(pf.failures),
                            format::count(pf.calls),
                            pf.window_seconds,
                        ),
                    )
                />
                <KvRow
                    label="Emergence windows"
                    field="baseline-emergence-windows"
                    value=Signal::stored(
                        format!(
                            "{} × {} min, {} agent actions",
                            m.windows.len(),
                            m.window_minutes,
                            format::count(actions),
                        ),
                    )
                />
            </dl>
            <div class="panel-toolbar">
                <a id="download-baseline" class="btn btn-quiet" href=href download=file>
                    "Download JSON"
                </a>
            </div>
            <pre id="baseline-json" class="json-preview" tabindex="0">
                {json}
            </pre>
        </div>
    }
}

/// `#panel-baseline`, then `#panel-baseline-history`.
#[component]
pub fn BaselinePanel() -> impl IntoView {
    let conn = use_connection();
    let windows = RwSignal::new(BASELINE_DEFAULT_WINDOWS.to_string());
    let minutes = RwSignal::new(BASELINE_DEFAULT_WINDOW_MINUTES.to_string());
    let reason = RwSignal::new(String::new());
    let form = Memo::new(move |_| {
        reports::baseline_request(&windows.get(), &minutes.get(), &reason.get())
    });

    let stored = LocalResource::new(move || {
        let creds = conn.creds();
        async move {
            match creds {
                Some(creds) => latest(creds).await,
                None => Ok(None),
            }
        }
    });
    let capture = use_write(
        "capture baselines",
        |creds, req: BaselineCaptureRequest| async move { api::capture_baseline(&creds, &req).await },
        |_, s: &Texted<BaselineSnapshot>| {
            Some(format!(
                "Baseline captured: {} windows of {} minutes",
                s.value.metrics.windows.len(),
                s.value.metrics.window_minutes
            ))
        },
    );
    // The newest capture of this page, else what the platform has stored.
    // (`ApiError` is large only on 64-bit hosts, as in `api::Reply::decode`.)
    #[allow(clippy::result_large_err)]
    let shown = move || match capture.outcome().get() {
        Some(Ok(s)) => Ok(Some(s)),
        _ => stored.get().unwrap_or(Ok(None)),
    };

    let texts = ActionTexts {
        name: "baseline",
        button_id: "btn-baseline-capture",
        title: "Baseline snapshot",
        caption: "What was in force and how the platform behaved, to compare against after tuning or a rollout: budgets and stop thresholds, today's LLM spend and calls, provider failure rate, rolling emergence windows.",
        label: "Capture baseline",
        busy_label: "Capturing…",
        hint: "Capture a baseline snapshot now",
    };
    let on_submit = Callback::new(move |()| {
        if let Ok(req) = form.get() {
            capture.dispatch(req);
        }
    });

    view! {
        <ActionPanel
            texts
            blocked=capture.blocked()
            invalid=Signal::derive(move || form.get().err())
            pending=capture.pending()
            on_submit
            fields=Box::new(move || {
                view! {
                    <label class="field-inline">
                        "Windows "
                        <input
                            id="baseline-windows"
                            type="number"
                            min="1"
                            inputmode="numeric"
                            bind:value=windows
                        />
                    </label>
                    <label class="field-inline">
                        "Window minutes "
                        <input
                            id="baseline-window-minutes"
                            type="number"
                            min="1"
                            inputmode="numeric"
                            bind:value=minutes
                        />
                    </label>
                    <label class="field-inline">
                        "Reason "
                        <input
                            id="baseline-reason"
                            type="text"
                            maxlength="280"
                            placeholder="before raising the budget"
                            bind:value=reason
                        />
                    </label>
                }
                    .into_any()
            })
        >
            {move || {
                capture
                    .outcome()
                    .get()
                    .and_then(Result::err)
                    .map(|e| {
                        view! {
                            <p id="baseline-error" class="error-inline" role="alert">
                                {format!("Capture failed: {e}")}
                            </p>
                        }
                    })
            }}
            {move || match shown() {
                Ok(Some(s)) => snapshot_view(s).into_any(),
                Ok(None) => {
                    view! { <p class="panel-empty">"No baseline captured yet"</p> }.into_any()
                }
                Err(e) => {
                    view! {
                        <p id="baseline-read-error" class="error-inline" role="alert">
                            {format!("Could not read the stored baseline: {e}")}
                        </p>
                    }
                        .into_any()
                }
            }}
        </ActionPanel>
        <BaselineHistoryPanel />
    }
}
