//! **Guardrails**: the run's distance to each stop condition — LLM spend
//! against the hard budget with the burn rate and when the budget stop will
//! trip at that rate, provider failures and DB pool use against their
//! thresholds — and the history of guardrail stops with their reasons.

use leptos::prelude::*;
use opsdeck_api::admin::{AdminConfig, EventsPage, RunMetrics};

use crate::hooks::use_polled::Polled;
use crate::ops::guardrails::{self, SpendSample};
use crate::state::clock::{browser_now_ms, use_clock};
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;

/// `#panel-guardrails`.
#[component]
pub fn GuardrailsPanel(
    /// `GET /api/admin/metrics/run`, shared with Run Metrics.
    metrics: Polled<RunMetrics>,
    /// `GET /api/admin/config`, for the stop thresholds.
    config: Polled<AdminConfig>,
    /// `GET /api/admin/events?event_type=simulation_stopped_guardrail`.
    stops: Polled<EventsPage>,
) -> impl IntoView {
    let clock = use_clock();
    let data = metrics.data();
    // Every new spend reading, kept for two minutes, gives the burn rate.
    let samples = RwSignal::new(Vec::<SpendSample>::new());
    Effect::new(move |_| {
        if let Some(spend) = data.with(|m| m.as_ref().map(|m| m.llm_spend_today_usd)) {
            samples.update(|v| {
                guardrails::push_sample(
                    v,
                    SpendSample {
                        at_ms: browser_now_ms(),
                        spend_usd: spend,
                    },
                );
            });
        }
    });
    let rate = Memo::new(move |_| samples.with(|v| guardrails::burn_rate(v)));
    let forecast = Memo::new(move |_| {
        data.with(|m| {
            m.as_ref().map(|m| {
                guardrails::forecast(
                    m.llm_spend_today_usd,
                    m.llm_daily_budget_usd_hard,
                    rate.get(),
                )
            })
        })
    });
    let text = move |f: fn(&RunMetrics, Option<&AdminConfig>) -> String| {
        Signal::derive(move || {
            data.with(|m| {
                m.as_ref()
                    .map(|m| config.with(|c| f(m, c)))
                    .unwrap_or_default()
            })
        })
    };
    let spend_tone =
        text(|m, _| guardrails::tone(m.llm_spend_today_usd, m.llm_daily_budget_usd_hard).into());
    let provider_tone = text(|m, c| match c {
        Some(c) => guardrails::tone(
            m.provider_failures_window as f64,
            f64::from(c.stop_conditions.provider_failure_threshold),
        )
        .into(),
        None => String::new(),
    });
    let pool_tone = text(|m, c| match c {
        Some(c) => guardrails::tone(
            m.db_pool_utilization(),
            c.stop_conditions.db_pool_utilization_threshold,
        )
        .into(),
        None => String::new(),
    });
    let forecast_text = move || {
        forecast
            .get()
            .map(|f| guardrails::forecast_text(f, clock.server_now_ms()))
            .unwrap_or_default()
    };
    let forecast_kind = move || {
        forecast.get().map(|f| match f {
            guardrails::BudgetForecast::NoBudget => "no_budget",
            guardrails::BudgetForecast::Reached => "reached",
            guardrails::BudgetForecast::Measuring => "measuring",
            guardrails::BudgetForecast::Idle => "idle",
            guardrails::BudgetForecast::In(_) => "predicted",
        })
    };
    let history = move || stops.with(|p| p.map(|p| p.events.clone()).unwrap_or_default());
    view! {
        <Panel id="panel-guardrails" title="Guardrails" frame=metrics.frame()>
            <p id="budget-forecast" class="guardrail-forecast" data-forecast=forecast_kind>
                {forecast_text}
            </p>
            <dl class="kv">
                <KvRow
                    label="LLM spend today"
                    field="spend_vs_budget"
                    numeric=true
                    value=text(|m, _| format::spend_of_budget(
                        m.llm_spend_today_usd,
                        m.llm_daily_budget_usd_hard,
                    ))
                    tone=spend_tone
                    hint="Spend today (UTC) against LLM_DAILY_BUDGET_USD_HARD; reaching it stops the run (budget_exceeded)"
                />
                <KvRow
                    label="Burn rate"
                    field="burn_rate"
                    numeric=true
                    value=Signal::derive(move || guardrails::burn_text(rate.get()))
                    hint="LLM spend per hour over the last two minutes of readings"
                />
                <KvRow
                    label="Provider failures"
                    field="provider_failures_vs_threshold"
                    numeric=true
                    value=text(|m, c| match c {
                        Some(c) => {
                            format!(
                                "{} of {} in {} s",
                                format::count(m.provider_failures_window),
                                c.stop_conditions.provider_failure_threshold,
                                c.stop_conditions.provider_failure_window_seconds,
                            )
                        }
                        None => format::count(m.provider_failures_window),
                    })
                    tone=provider_tone
                    hint="STOP_PROVIDER_FAILURE_THRESHOLD failures in the trailing window stop the run (provider_failures_repeated)"
                />
                <KvRow
                    label="DB pool pressure"
                    field="db_pool_vs_threshold"
                    numeric=true
                    value=text(|m, c| match c {
                        Some(c) => {
                            format!(
                                "{} of {} for {} s",
                                format::percent(m.db_pool_utilization()),
                                format::percent(c.stop_conditions.db_pool_utilization_threshold),
                                c.stop_conditions.db_pool_sustained_seconds,
                            )
                        }
                        None => format::percent(m.db_pool_utilization()),
                    })
                    tone=pool_tone
                    hint="Pool use at or over STOP_DB_POOL_UTILIZATION_THRESHOLD for STOP_DB_POOL_SUSTAINED_SECONDS stops the run (db_pool_pressure)"
                />
            </dl>
            <h3 class="panel-subtitle">"Guardrail stops"</h3>
            {move || {
                let rows = history();
                if rows.is_empty() {
                    view! {
                        <p class="panel-empty" id="guardrail-history-empty">
                            "No guardrail stops recorded"
                        </p>
                    }
                        .into_any()
                } else {
                    view! {
                        <ul class="guardrail-history" id="guardrail-history">
                            {rows
                                .into_iter()
                                .map(|e| {
                                    view! {
                                        <li data-reason=e.reason.clone()>
                                            <time datetime=format::iso(
                                                &e.created_at,
                                            )>{format::utc(&e.created_at)}</time>
                                            " "
                                            <strong>{format::or_dash(e.reason.as_deref())}</strong>
                                            " "
                                            <span class="check-reason">
                                                {format!(
                                                    "run {} {}",
                                                    format::or_dash(e.run_id.as_deref()),
                                                    e.detail.unwrap_or_default(),
                                                )}
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </Panel>
    }
}
