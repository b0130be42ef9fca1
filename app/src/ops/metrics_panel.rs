//! **Run Metrics**: counters of the current run, LLM spend, provider failures, DB pool.

use leptos::prelude::*;
use opsdeck_api::admin::RunMetrics;

use crate::hooks::use_polled::Polled;
use crate::ops::guardrails;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;

/// `#panel-metrics`.
#[component]
pub fn MetricsPanel(
    /// `GET /api/admin/metrics/run`.
    metrics: Polled<RunMetrics>,
) -> impl IntoView {
    let data = metrics.data();
    let text = move |f: fn(&RunMetrics) -> String| {
        Signal::derive(move || data.with(|m| m.as_ref().map(f).unwrap_or_default()))
    };
    let window_hint = text(|m| {
        format!(
            "Provider calls that failed in the trailing {} s",
            m.provider_window_seconds
        )
    });
    let spend_tone =
        text(|m| guardrails::tone(m.llm_spend_today_usd, m.llm_daily_budget_usd_hard).into());
    let run = text(|m| match &m.run_id {
        Some(id) => format!("Counting run {id}"),
        None => "No run yet".into(),
    });

    view! {
        <Panel id="panel-metrics" title="Run Metrics" frame=metrics.frame()>
            <p class="panel-caption">{run}</p>
            <dl class="kv">
                <KvRow
                    label="Runtime actions"
                    field="runtime_actions"
                    numeric=true
                    value=text(|m| format::count(m.runtime_actions))
                />
                <KvRow
                    label="Proposal actions"
                    field="proposal_actions"
                    numeric=true
                    value=text(|m| format::count(m.proposal_actions))
                />
                <KvRow
                    label="Vote actions"
                    field="vote_actions"
                    numeric=true
                    value=text(|m| format::count(m.vote_actions))
                />
                <KvRow
                    label="Forum actions"
                    field="forum_actions"
                    numeric=true
                    value=text(|m| format::count(m.forum_actions))
                />
                <KvRow
                    label="LLM calls today"
                    field="llm_calls_today"
                    numeric=true
                    value=text(|m| format::count(m.llm_calls_today))
                />
                <KvRow
                    label="LLM spend today"
                    field="llm_spend_today_usd"
                    numeric=true
                    value=text(|m| {
                        format::spend_of_budget(m.llm_spend_today_usd, m.llm_daily_budget_usd_hard)
                    })
                    tone=spend_tone
                    hint="Spend today (UTC) against LLM_DAILY_BUDGET_USD_HARD"
                />
                <KvRow
                    label="Provider failure rate"
                    field="provider_failure_rate"
                    numeric=true
                    value=text(|m| m.provider_failure_rate().describe())
                    hint=window_hint
                />
                <KvRow
                    label="DB pool in use"
                    field="db_pool"
                    numeric=true
                    value=text(|m| format::pool(m.db_pool_in_use, m.db_pool_size))
                />
            </dl>
        </Panel>
    }
}
