//! **Runtime config**: change the budget, the stop thresholds and the run
//! switches while the platform runs. Blank fields keep their value; the
//! confirmation shows each change old → new, and the reason is required.

use leptos::prelude::*;
use opsdeck_api::admin::{AdminConfig, AdminStatus};
use opsdeck_api::runs::{OverridesRequest, keys};

use crate::api;
use crate::hooks::use_polled::Polled;
use crate::hooks::use_write::use_write;
use crate::ops::recovery::{self, OverridesForm};
use crate::ui::confirm_dialog::{ConfirmDialog, PendingWrite};
use crate::ui::write_button::{WriteBlocked, WriteButton};

/// One numeric field: its key, the form slot, and the current value shown
/// as its placeholder.
struct Field {
    key: &'static str,
    id: &'static str,
    value: RwSignal<String>,
    current: fn(&AdminConfig) -> String,
}

/// `#panel-overrides`.
#[component]
pub fn OverridesPanel(
    /// Config: the values in force.
    config: Polled<AdminConfig>,
    /// Status: the run switches.
    status: Polled<AdminStatus>,
) -> impl IntoView {
    let fields = [
        Field {
            key: keys::LLM_DAILY_BUDGET_USD_HARD,
            id: "override-budget",
            value: RwSignal::new(String::new()),
            current: |c| c.budgets.llm_daily_budget_usd_hard.to_string(),
        },
        Field {
            key: keys::STOP_PROVIDER_FAILURE_THRESHOLD,
            id: "override-failure-threshold",
            value: RwSignal::new(String::new()),
            current: |c| c.stop_conditions.provider_failure_threshold.to_string(),
        },
        Field {
            key: keys::STOP_PROVIDER_FAILURE_WINDOW_SECONDS,
            id: "override-failure-window",
            value: RwSignal::new(String::new()),
            current: |c| {
                c.stop_conditions
                    .provider_failure_window_seconds
                    .to_string()
            },
        },
        Field {
            key: keys::STOP_DB_POOL_UTILIZATION_THRESHOLD,
            id: "override-pool-threshold",
            value: RwSignal::new(String::new()),
            current: |c| c.stop_conditions.db_pool_utilization_threshold.to_string(),
        },
        Field {
            key: keys::STOP_DB_POOL_SUSTAINED_SECONDS,
            id: "override-pool-sustained",
            value: RwSignal::new(String::new()),
            current: |c| c.stop_conditions.db_pool_sustained_seconds.to_string(),
        },
    ];
    let values: [RwSignal<String>; 5] = std::array::from_fn(|i| fields[i].value);
    let active = RwSignal::new(String::new());
    let paused = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let form = Memo::new(move |_| {
        OverridesForm {
            reason: reason.get(),
            active: active.get(),
            paused: paused.get(),
            budget: values[0].get(),
            failure_threshold: values[1].get(),
            failure_window: values[2].get(),
            pool_threshold: values[3].get(),
            pool_sustained: values[4].get(),
        }
        .request()
    });

    let write = use_write(
        "change the runtime config",
        |creds, req: OverridesRequest| async move {
            Ok(api::set_overrides(&creds, &req).await?.message)
        },
        move |_, message: &String| {
            // Applied: start the next change from the values now in force.
            for v in values {
                v.set(String::new());
            }
            active.set(String::new());
            paused.set(String::new());
            reason.set(String::new());
            Some(message.clone())
        },
    );
    let blocked = write.blocked();
    let pending = RwSignal::new(None::<PendingWrite<OverridesRequest>>);
    let on_confirm = Callback::new(move |req: OverridesRequest| write.dispatch(req));
    let ask = move || {
        if let Ok(req) = form.get_untracked() {
            let confirmation =
                config.with(|c| status.with(|s| recovery::overrides_confirmation(&req, c, s)));
            pending.set(Some(PendingWrite {
                op: req,
                confirmation,
            }));
        }
    };
    // Only a field that was typed in can be at fault.
    let typed = move || {
        active.with(|a| !a.is_empty())
            || paused.with(|p| !p.is_empty())
            || values.iter().any(|v| v.with(|v| !v.trim().is_empty()))
    };

    let field_view = move |f: Field| {
        let current = f.current;
        let overridden =
            move || config.with(|c| c.is_some_and(|c| c.overridden.iter().any(|k| k == f.key)));
        view! {
            <div class="field">
                <label for=f.id>
                    <code>{f.key}</code>
                    {move || {
                        overridden().then_some(view! { <span class="tag">" overridden"</span> })
                    }}
                </label>
                <input
                    id=f.id
                    type="text"
                    inputmode="decimal"
                    autocomplete="off"
                    placeholder=move || config.with(|c| c.map(current).unwrap_or_default())
                    bind:value=f.value
                />
            </div>
        }
    };
    let switch = move |key: &'static str, id: &'static str, value: RwSignal<String>| {
        view! {
            <div class="field">
                <label for=id>
                    <code>{key}</code>
                </label>
                <select
                    id=id
                    on:change=move |ev| value.set(event_target_value(&ev))
                    prop:value=move || value.get()
                >
                    <option value="">"keep"</option>
                    <option value="true">"true"</option>
                    <option value="false">"false"</option>
                </select>
            </div>
        }
    };

    view! {
        <section id="panel-overrides" class="panel" aria-labelledby="panel-overrides-title">
            <h2 id="panel-overrides-title" class="panel-title">
                "Runtime config"
            </h2>
            <p class="panel-caption">
                "Change what the platform enforces without a restart. Blank keeps the value shown; every change is an event with its old and new value."
            </p>
            <form
                class="overrides-form"
                novalidate=true
                on:submit=move |ev| {
                    ev.prevent_default();
                    ask();
                }
            >
                {switch(keys::SIMULATION_ACTIVE, "override-active", active)}
                {switch(keys::SIMULATION_PAUSED, "override-paused", paused)}
                {fields.into_iter().map(field_view).collect::<Vec<_>>()}
                <div class="field">
                    <label for="override-reason">"Reason"</label>
                    <input
                        id="override-reason"
                        type="text"
                        autocomplete="off"
                        placeholder="required"
                        bind:value=reason
                    />
                </div>
                <p id="override-error" class="field-error" aria-live="polite">
                    {move || typed().then(|| form.get().err().map(|e| e.message)).flatten()}
                </p>
                <WriteBlocked id="overrides-blocked" blocked />
                <WriteButton
                    id="btn-overrides-apply"
                    label="Apply"
                    busy_label="Applying…"
                    hint="Apply, with confirmation"
                    blocked
                    pending=write.pending()
                    invalid=Signal::derive(move || form.with(Result::is_err))
                />
            </form>
            <ConfirmDialog pending on_confirm id="overrides-confirm" />
        </section>
    }
}
