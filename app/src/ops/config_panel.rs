//! **Config**: the budgets, stop conditions and runtime overrides in effect,
//! labelled with the environment variable names the runbook uses.

use leptos::prelude::*;
use opsdeck_api::admin::AdminConfig;

use crate::hooks::use_polled::Polled;
use crate::ui::format;
use crate::ui::kv_row::KvRow;
use crate::ui::panel::Panel;

/// `#panel-config`.
#[component]
pub fn ConfigPanel(
    /// `GET /api/admin/config`.
    config: Polled<AdminConfig>,
) -> impl IntoView {
    let data = config.data();
    let text = move |f: fn(&AdminConfig) -> String| {
        Signal::derive(move || data.with(|c| c.as_ref().map(f).unwrap_or_default()))
    };
    view! {
        <Panel id="panel-config" title="Config" frame=config.frame()>
            <h3 class="panel-subtitle">"Platform"</h3>
            <dl class="kv">
                <KvRow
                    label="Environment"
                    field="config_environment"
                    value=text(|c| c.environment.to_string())
                />
                <KvRow
                    label="ADMIN_WRITE_ENABLED"
                    code_label=true
                    field="admin_write_enabled"
                    value=text(|c| c.admin_write_enabled.to_string())
                />
            </dl>
            <h3 class="panel-subtitle">"Budgets"</h3>
            <dl class="kv">
                <KvRow
                    label="LLM_DAILY_BUDGET_USD_HARD"
                    code_label=true
                    field="llm_daily_budget_usd_hard"
                    numeric=true
                    value=text(|c| format::usd(c.budgets.llm_daily_budget_usd_hard))
                />
            </dl>
            <h3 class="panel-subtitle">"Stop conditions"</h3>
            <dl class="kv">
                <KvRow
                    label="STOP_PROVIDER_FAILURE_THRESHOLD"
                    code_label=true
                    field="provider_failure_threshold"
                    numeric=true
                    value=text(|c| {
                        format!(
                            "{} failures",
                            format::count(c.stop_conditions.provider_failure_threshold.into()),
                        )
                    })
                />
                <KvRow
                    label="STOP_PROVIDER_FAILURE_WINDOW_SECONDS"
                    code_label=true
                    field="provider_failure_window_seconds"
                    numeric=true
                    value=text(|c| {
                        format!(
                            "{} s",
                            format::count(c.stop_conditions.provider_failure_window_seconds.into()),
                        )
                    })
                />
                <KvRow
                    label="STOP_DB_POOL_UTILIZATION_THRESHOLD"
                    code_label=true
                    field="db_pool_utilization_threshold"
                    numeric=true
                    value=text(|c| format::percent(c.stop_conditions.db_pool_utilization_threshold))
                />
                <KvRow
                    label="STOP_DB_POOL_SUSTAINED_SECONDS"
                    code_label=true
                    field="db_pool_sustained_seconds"
                    numeric=true
                    value=text(|c| {
                        format!(
                            "{} s",
                            format::count(c.stop_conditions.db_pool_sustained_seconds.into()),
                        )
                    })
                />
            </dl>
            <h3 class="panel-subtitle">"Runtime overrides"</h3>
            <dl class="kv">
                <KvRow
                    label="SIMULATION_ACTIVE"
                    code_label=true
                    field="override_simulation_active"
                    value=text(|c| c.runtime_overrides.simulation_active.to_string())
                />
                <KvRow
                    label="SIMULATION_PAUSED"
                    code_label=true
                    field="override_simulation_paused"
                    value=text(|c| c.runtime_overrides.simulation_paused.to_string())
                />
            </dl>
        </Panel>
    }
}
